//! Tiled products for batches of activation rows: each weight row is unpacked once to
//! bytes (quants in element order, scales as f32 or i16) and each activation row is
//! prepared once (quants contiguous, scales as f32); a tier's tile kernel then
//! multiplies [`R`] weight rows by [`T`] activation rows at a time, so an unpacked weight
//! block and a loaded activation block serve several dot products each.
//!
//! A tile kernel computes every (row, activation) pair with exactly the f32 operations,
//! in the same order, as its tier's single-row `vec_dot` does (the integer parts are
//! exact whichever way they are summed), so a tiled product equals the row-by-row one bit
//! for bit. Tiers without a tile kernel for a type (and the scalar tier, whose twin is
//! simply the scalar `vec_dot` per pair) take the row-by-row path.

pub(crate) mod prepare;
mod unpack;

pub(crate) use prepare::{prepare_row, ActBuf, Acts};
pub(crate) use unpack::{unpacker, PanelBuf, Unpack};

use edge_formats::GgmlType;

/// Weight rows per tile (and per unpacked panel).
pub(crate) const R: usize = 4;
/// Activation rows per tile.
pub(crate) const T: usize = 4;

/// One unpacked panel of [`R`] weight rows of `nb` blocks (rows past the matrix's end
/// are zeros). Legacy types (32-element blocks): `q` holds `R × nb·32` unsigned quants
/// (Q8_0 biased by 128), `d` the `R × nb` scales, `m` the `nb × R` mins (Q4_1/Q5_1, block
/// major). K-quants (256-element blocks): `q` holds `R × nb·256` unsigned quants, `sc`
/// `R × nb·8·16` i16 scales (one per i16 lane of each 32-element group), `mins`
/// `R × nb·8` i16 sub-block mins, `d` and `dmin` `R × nb` super-block scales.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Panel<'a> {
    pub q: &'a [u8],
    pub d: &'a [f32],
    pub m: &'a [f32],
    pub sc: &'a [i16],
    pub mins: &'a [i16],
    pub dmin: &'a [f32],
}

/// A tier's tile kernel: `out[i][r] = vec_dot(panel row r, activation row t[i])`.
///
/// # Safety
/// The CPU must have the tier's features; `panel` and `acts` must hold whole rows of the
/// same number of blocks `acts.nb`, and every `t[i] < acts.n`.
pub(crate) type TileFn = unsafe fn(&Panel<'_>, &Acts<'_>, [usize; T], &mut [[f32; R]; T]);

/// A tier's tile kernels, one per weight type that has one.
#[derive(Clone, Copy)]
pub(crate) struct Tiles {
    pub q4_0: Option<TileFn>,
    pub q4_1: Option<TileFn>,
    pub q5_0: Option<TileFn>,
    pub q8_0: Option<TileFn>,
    pub q4_k: Option<TileFn>,
    pub q5_k: Option<TileFn>,
    pub q6_k: Option<TileFn>,
}

impl Tiles {
    /// No tile kernels: every product goes row by row.
    pub const NONE: Tiles = Tiles {
        q4_0: None,
        q4_1: None,
        q5_0: None,
        q8_0: None,
        q4_k: None,
        q5_k: None,
        q6_k: None,
    };

    /// The kernel for weights of type `ty`, if this tier has one.
    pub fn get(&self, ty: GgmlType) -> Option<TileFn> {
        match ty {
            GgmlType::Q4_0 => self.q4_0,
            GgmlType::Q4_1 => self.q4_1,
            GgmlType::Q5_0 => self.q5_0,
            GgmlType::Q8_0 => self.q8_0,
            GgmlType::Q4_K => self.q4_k,
            GgmlType::Q5_K => self.q5_k,
            GgmlType::Q6_K => self.q6_k,
            _ => None,
        }
    }
}

/// Unpacked bytes per weight row that a strip of panels should stay within, so that the
/// strip stays in the L1/L2 cache while every activation row passes over it.
const STRIP_BYTES: usize = 48 << 10;

/// Rows per strip for rows of `cols` elements: a multiple of [`R`], at least one panel.
pub(crate) fn strip_rows(cols: usize) -> usize {
    // About 1.25 bytes of unpacked panel per element (quants plus scales).
    let per_row = cols + cols / 4 + 1;
    (STRIP_BYTES / per_row).max(R) / R * R
}

/// Computes `write(t, r, W[r]·A[t])` for weight rows `r0..r1` of `w` (raw blocks,
/// `row_bytes` per row) and every prepared activation row, through `tile`.
///
/// # Safety
/// `tile` must be a kernel of a tier this CPU supports, for the type `unpack` unpacks,
/// and `acts` prepared from activations of that type with the weights' block count.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn tiled_rows(
    tile: TileFn,
    unpack: &Unpack,
    w: &[u8],
    row_bytes: usize,
    r0: usize,
    r1: usize,
    acts: &Acts<'_>,
    buf: &mut PanelBuf,
    mut write: impl FnMut(usize, usize, f32),
) {
    let n = acts.n;
    if n == 0 || r0 >= r1 {
        return;
    }
    let strip = strip_rows(acts.nb * unpack.block);
    let mut s0 = r0;
    while s0 < r1 {
        let s1 = (s0 + strip).min(r1);
        let panels = (s1 - s0).div_ceil(R);
        buf.resize(unpack, acts.nb, panels);
        for p in 0..panels {
            let p0 = s0 + p * R;
            let k = (s1 - p0).min(R);
            (unpack.f)(
                &w[p0 * row_bytes..(p0 + k) * row_bytes],
                k,
                acts.nb,
                &mut buf.panel_mut(p),
            );
        }
        let mut out = [[0f32; R]; T];
        for t0 in (0..n).step_by(T) {
            let ts: [usize; T] = std::array::from_fn(|i| (t0 + i).min(n - 1));
            let tn = (n - t0).min(T);
            for p in 0..panels {
                let p0 = s0 + p * R;
                let k = (s1 - p0).min(R);
                // SAFETY: the caller's promises on `tile` and `acts`; the panel was just
                // unpacked with `acts.nb` blocks per row, and every `ts[i] < n`.
                unsafe { tile(&buf.panel(p), acts, ts, &mut out) };
                for (i, o) in out.iter().enumerate().take(tn) {
                    for (j, &v) in o.iter().enumerate().take(k) {
                        write(t0 + i, p0 + j, v);
                    }
                }
            }
        }
        s0 = s1;
    }
}
