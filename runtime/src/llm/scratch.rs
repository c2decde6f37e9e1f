//! [`Scratch`]: the working memory of the forward pass of a batch of tokens, kept by a
//! session and bounded in size.

use super::hparams::Hparams;

/// The widths of one row of each buffer of [`Scratch`].
#[derive(Clone, Copy, Debug)]
struct Widths {
    n_embd: usize,
    q_dim: usize,
    kv_dim: usize,
    n_ff: usize,
    /// RoPE table length (`rope_dims / 2`), and that of the sliding-window layers' table.
    half: usize,
    half_swa: usize,
}

impl Widths {
    fn of(hp: &Hparams) -> Widths {
        // `Hparams::from_gguf` checked these products fit.
        let half = hp.rope_dims / 2;
        Widths {
            n_embd: hp.n_embd,
            q_dim: hp.q_dim().unwrap_or(0),
            kv_dim: hp.kv_dim().unwrap_or(0),
            n_ff: hp.n_ff,
            half,
            half_swa: if hp.swa.is_some() { half } else { 0 },
        }
    }

    /// f32 values of scratch per row.
    fn per_row(self) -> usize {
        2 * (self.n_embd + self.q_dim + self.kv_dim + self.n_ff + self.half + self.half_swa)
    }
}

/// Most tokens evaluated together: llama.cpp's default micro-batch.
const MAX_BATCH: usize = 512;
/// Most bytes of f32 scratch a batch may take (fewer rows for very wide models).
const MAX_SCRATCH_BYTES: usize = 64 << 20;

/// Working memory of the forward pass of a batch of rows, kept by the session and grown
/// on demand up to [`Scratch::max_rows`] rows.
#[derive(Debug)]
pub(crate) struct Scratch {
    widths: Widths,
    rows: usize,
    x: Vec<f32>,
    xb: Vec<f32>,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    att: Vec<f32>,
    gate: Vec<f32>,
    up: Vec<f32>,
    cos: Vec<f32>,
    sin: Vec<f32>,
    cos_swa: Vec<f32>,
    sin_swa: Vec<f32>,
}

/// The scratch of a batch of `n` rows, every buffer exactly `n` rows long (row-major).
pub(crate) struct Rows<'s> {
    /// The residual stream.
    pub x: &'s mut [f32],
    /// Normalised input of a sub-block, and the output of its last projection.
    pub xb: &'s mut [f32],
    pub q: &'s mut [f32],
    pub k: &'s mut [f32],
    pub v: &'s mut [f32],
    /// Attention output, all heads.
    pub att: &'s mut [f32],
    /// Feed-forward gate and up projections.
    pub gate: &'s mut [f32],
    pub up: &'s mut [f32],
    /// RoPE rotation of each row's position (full-attention layers).
    pub cos: &'s mut [f32],
    pub sin: &'s mut [f32],
    /// The same for sliding-window layers, whose base differs (empty when the model has
    /// none).
    pub cos_swa: &'s mut [f32],
    pub sin_swa: &'s mut [f32],
}

impl Scratch {
    /// Scratch for one row (decoding); [`rows`](Self::rows) grows it for a batch.
    pub(crate) fn new(hp: &Hparams) -> Scratch {
        let mut s = Scratch {
            widths: Widths::of(hp),
            rows: 0,
            x: Vec::new(),
            xb: Vec::new(),
            q: Vec::new(),
            k: Vec::new(),
            v: Vec::new(),
            att: Vec::new(),
            gate: Vec::new(),
            up: Vec::new(),
            cos: Vec::new(),
            sin: Vec::new(),
            cos_swa: Vec::new(),
            sin_swa: Vec::new(),
        };
        s.grow(1);
        s
    }

    /// The most rows one batch may hold: [`MAX_BATCH`], fewer when that would take more
    /// than [`MAX_SCRATCH_BYTES`].
    pub(crate) fn max_rows(&self) -> usize {
        let row_bytes = self
            .widths
            .per_row()
            .saturating_mul(size_of::<f32>())
            .max(1);
        (MAX_SCRATCH_BYTES / row_bytes).clamp(1, MAX_BATCH)
    }

    fn grow(&mut self, rows: usize) {
        let w = self.widths;
        for (buf, width) in [
            (&mut self.x, w.n_embd),
            (&mut self.xb, w.n_embd),
            (&mut self.q, w.q_dim),
            (&mut self.k, w.kv_dim),
            (&mut self.v, w.kv_dim),
            (&mut self.att, w.q_dim),
            (&mut self.gate, w.n_ff),
            (&mut self.up, w.n_ff),
            (&mut self.cos, w.half),
            (&mut self.sin, w.half),
            (&mut self.cos_swa, w.half_swa),
            (&mut self.sin_swa, w.half_swa),
        ] {
            buf.resize(rows * width, 0.0);
        }
        self.rows = rows;
    }

    /// Views of the first `n` rows (`1 ≤ n ≤ max_rows()`), growing the buffers if needed.
    pub(crate) fn rows(&mut self, n: usize) -> Rows<'_> {
        if n > self.rows {
            self.grow(n);
        }
        let w = self.widths;
        Rows {
            x: &mut self.x[..n * w.n_embd],
            xb: &mut self.xb[..n * w.n_embd],
            q: &mut self.q[..n * w.q_dim],
            k: &mut self.k[..n * w.kv_dim],
            v: &mut self.v[..n * w.kv_dim],
            att: &mut self.att[..n * w.q_dim],
            gate: &mut self.gate[..n * w.n_ff],
            up: &mut self.up[..n * w.n_ff],
            cos: &mut self.cos[..n * w.half],
            sin: &mut self.sin[..n * w.half],
            cos_swa: &mut self.cos_swa[..n * w.half_swa],
            sin_swa: &mut self.sin_swa[..n * w.half_swa],
        }
    }
}
