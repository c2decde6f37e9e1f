//! Weight rows unpacked into [`Panel`]s of [`R`] rows: quants as unsigned bytes in
//! element order, scales widened. Plain Rust: a panel is unpacked once and then
//! multiplied with every activation row of the batch.

use super::{Panel, R};
use edge_formats::GgmlType;
use edge_quant::k_quants::{BlockQ4K, BlockQ5K, BlockQ6K};
use edge_quant::legacy::{BlockQ4_0, BlockQ4_1, BlockQ5_0, BlockQ5_1, BlockQ8_0};
use half::f16;

/// How to unpack one weight type.
pub(crate) struct Unpack {
    /// Elements per block.
    pub block: usize,
    /// Whether the panel has K-quant parts (`sc`, `mins`, `dmin`).
    k_quant: bool,
    /// Unpacks `k <= R` raw rows of `nb` blocks into a panel (rows `k..R` become zeros).
    pub f: fn(&[u8], usize, usize, &mut PanelMut<'_>),
}

/// The unpacker for weights of type `ty`, if tiles exist for it.
pub(crate) fn unpacker(ty: GgmlType) -> Option<&'static Unpack> {
    const fn legacy(f: fn(&[u8], usize, usize, &mut PanelMut<'_>)) -> Unpack {
        Unpack {
            block: 32,
            k_quant: false,
            f,
        }
    }
    const fn kq(f: fn(&[u8], usize, usize, &mut PanelMut<'_>)) -> Unpack {
        Unpack {
            block: 256,
            k_quant: true,
            f,
        }
    }
    static Q4_0: Unpack = legacy(unpack_q4_0);
    static Q4_1: Unpack = legacy(unpack_q4_1);
    static Q5_0: Unpack = legacy(unpack_q5_0);
    static Q5_1: Unpack = legacy(unpack_q5_1);
    static Q8_0: Unpack = legacy(unpack_q8_0);
    static Q4_K: Unpack = kq(unpack_q4_k);
    static Q5_K: Unpack = kq(unpack_q5_k);
    static Q6_K: Unpack = kq(unpack_q6_k);
    match ty {
        GgmlType::Q4_0 => Some(&Q4_0),
        GgmlType::Q4_1 => Some(&Q4_1),
        GgmlType::Q5_0 => Some(&Q5_0),
        GgmlType::Q5_1 => Some(&Q5_1),
        GgmlType::Q8_0 => Some(&Q8_0),
        GgmlType::Q4_K => Some(&Q4_K),
        GgmlType::Q5_K => Some(&Q5_K),
        GgmlType::Q6_K => Some(&Q6_K),
        _ => None,
    }
}

/// Storage for a strip of panels, kept between calls.
#[derive(Default, Debug)]
pub(crate) struct PanelBuf {
    q: Vec<u8>,
    d: Vec<f32>,
    m: Vec<f32>,
    sc: Vec<i16>,
    mins: Vec<i16>,
    dmin: Vec<f32>,
    /// Per-panel lengths of the six parts.
    lens: [usize; 6],
}

/// One panel of a [`PanelBuf`], writable.
pub(crate) struct PanelMut<'a> {
    q: &'a mut [u8],
    d: &'a mut [f32],
    m: &'a mut [f32],
    sc: &'a mut [i16],
    mins: &'a mut [i16],
    dmin: &'a mut [f32],
}

impl PanelBuf {
    /// Makes room for `panels` panels of rows of `nb` blocks as `u` unpacks them.
    pub fn resize(&mut self, u: &Unpack, nb: usize, panels: usize) {
        let q = R * nb * u.block;
        self.lens = if u.k_quant {
            [q, R * nb, 0, R * nb * 128, R * nb * 8, R * nb]
        } else {
            [q, R * nb, R * nb, 0, 0, 0]
        };
        let l = self.lens.map(|l| l * panels);
        self.q.resize(l[0], 0);
        self.d.resize(l[1], 0.0);
        self.m.resize(l[2], 0.0);
        self.sc.resize(l[3], 0);
        self.mins.resize(l[4], 0);
        self.dmin.resize(l[5], 0.0);
    }

    /// Panel `p`.
    pub fn panel(&self, p: usize) -> Panel<'_> {
        let [q, d, m, sc, mins, dmin] = self.lens;
        Panel {
            q: &self.q[p * q..(p + 1) * q],
            d: &self.d[p * d..(p + 1) * d],
            m: &self.m[p * m..(p + 1) * m],
            sc: &self.sc[p * sc..(p + 1) * sc],
            mins: &self.mins[p * mins..(p + 1) * mins],
            dmin: &self.dmin[p * dmin..(p + 1) * dmin],
        }
    }

    /// Panel `p`, writable.
    pub fn panel_mut(&mut self, p: usize) -> PanelMut<'_> {
        let [q, d, m, sc, mins, dmin] = self.lens;
        PanelMut {
            q: &mut self.q[p * q..(p + 1) * q],
            d: &mut self.d[p * d..(p + 1) * d],
            m: &mut self.m[p * m..(p + 1) * m],
            sc: &mut self.sc[p * sc..(p + 1) * sc],
            mins: &mut self.mins[p * mins..(p + 1) * mins],
            dmin: &mut self.dmin[p * dmin..(p + 1) * dmin],
        }
    }
}

fn f16_bits(b: [u8; 2]) -> f32 {
    f16::from_le_bytes(b).to_f32()
}

/// The first `k` rows of `nb` blocks of `raw`.
fn rows<B: bytemuck::Pod>(raw: &[u8], k: usize, nb: usize) -> impl Iterator<Item = &[B]> {
    let blocks: &[B] = bytemuck::cast_slice(raw);
    blocks.chunks_exact(nb.max(1)).take(k)
}

/// Zeroes the rows `k..R` of a legacy panel.
fn zero_legacy(p: &mut PanelMut<'_>, k: usize, nb: usize) {
    p.q[k * nb * 32..].fill(0);
    p.d[k * nb..].fill(0.0);
    for b in 0..nb {
        p.m[b * R + k..b * R + R].fill(0.0);
    }
}

/// Zeroes the rows `k..R` of a K-quant panel.
fn zero_k(p: &mut PanelMut<'_>, k: usize, nb: usize) {
    p.q[k * nb * 256..].fill(0);
    p.d[k * nb..].fill(0.0);
    p.dmin[k * nb..].fill(0.0);
    p.sc[k * nb * 128..].fill(0);
    p.mins[k * nb * 8..].fill(0);
}

/// 16 packed bytes to 32 quants: low nibbles first, then high nibbles.
fn nibbles(qs: &[u8; 16], out: &mut [u8]) {
    for (j, &b) in qs.iter().enumerate() {
        out[j] = b & 15;
        out[j + 16] = b >> 4;
    }
}

fn unpack_q4_0(raw: &[u8], k: usize, nb: usize, p: &mut PanelMut<'_>) {
    for (r, row) in rows::<BlockQ4_0>(raw, k, nb).enumerate() {
        for (b, blk) in row.iter().enumerate() {
            nibbles(&blk.qs, &mut p.q[(r * nb + b) * 32..]);
            p.d[r * nb + b] = f16_bits(blk.d);
        }
    }
    zero_legacy(p, k, nb);
}

fn unpack_q4_1(raw: &[u8], k: usize, nb: usize, p: &mut PanelMut<'_>) {
    for (r, row) in rows::<BlockQ4_1>(raw, k, nb).enumerate() {
        for (b, blk) in row.iter().enumerate() {
            nibbles(&blk.qs, &mut p.q[(r * nb + b) * 32..]);
            p.d[r * nb + b] = f16_bits(blk.d);
            p.m[b * R + r] = f16_bits(blk.m);
        }
    }
    zero_legacy(p, k, nb);
}

fn unpack_q5_0(raw: &[u8], k: usize, nb: usize, p: &mut PanelMut<'_>) {
    for (r, row) in rows::<BlockQ5_0>(raw, k, nb).enumerate() {
        for (b, blk) in row.iter().enumerate() {
            fifth_bit_quants(&blk.qs, blk.qh, &mut p.q[(r * nb + b) * 32..]);
            p.d[r * nb + b] = f16_bits(blk.d);
        }
    }
    zero_legacy(p, k, nb);
}

fn unpack_q5_1(raw: &[u8], k: usize, nb: usize, p: &mut PanelMut<'_>) {
    for (r, row) in rows::<BlockQ5_1>(raw, k, nb).enumerate() {
        for (b, blk) in row.iter().enumerate() {
            fifth_bit_quants(&blk.qs, blk.qh, &mut p.q[(r * nb + b) * 32..]);
            p.d[r * nb + b] = f16_bits(blk.d);
            p.m[b * R + r] = f16_bits(blk.m);
        }
    }
    zero_legacy(p, k, nb);
}

/// The 32 unsigned 5-bit quants of a Q5_0/Q5_1 block: nibbles as [`nibbles`], bit `i`
/// of the little-endian `qh` word the fifth bit of element `i`.
fn fifth_bit_quants(qs: &[u8; 16], qh: [u8; 4], out: &mut [u8]) {
    let q = &mut out[..32];
    nibbles(qs, q);
    let qh = u32::from_le_bytes(qh);
    for (i, v) in q.iter_mut().enumerate() {
        *v |= (((qh >> i) & 1) << 4) as u8;
    }
}

fn unpack_q8_0(raw: &[u8], k: usize, nb: usize, p: &mut PanelMut<'_>) {
    for (r, row) in rows::<BlockQ8_0>(raw, k, nb).enumerate() {
        for (b, blk) in row.iter().enumerate() {
            let q = &mut p.q[(r * nb + b) * 32..(r * nb + b + 1) * 32];
            for (v, &x) in q.iter_mut().zip(&blk.qs) {
                *v = (x as u8) ^ 0x80;
            }
            p.d[r * nb + b] = f16_bits(blk.d);
        }
    }
    // A zero row must stay zero: its biased quants are 128, its scale 0.
    zero_legacy(p, k, nb);
    p.q[k * nb * 32..].fill(0x80);
}

/// The K-quant scale parts of row `r`, block `b`: `sc16[g]` is the scale of each i16
/// lane of 32-element group `g` (given per 16 elements), `mins` the 8 sub-block mins.
fn k_scales(
    p: &mut PanelMut<'_>,
    nb: usize,
    r: usize,
    b: usize,
    sc16: [[i16; 2]; 8],
    mins: [i16; 8],
) {
    let sc = &mut p.sc[(r * nb + b) * 128..(r * nb + b + 1) * 128];
    for (g, pair) in sc16.iter().enumerate() {
        sc[g * 16..g * 16 + 8].fill(pair[0]);
        sc[g * 16 + 8..g * 16 + 16].fill(pair[1]);
    }
    p.mins[(r * nb + b) * 8..(r * nb + b + 1) * 8].copy_from_slice(&mins);
}

fn unpack_q4_k(raw: &[u8], k: usize, nb: usize, p: &mut PanelMut<'_>) {
    for (r, row) in rows::<BlockQ4K>(raw, k, nb).enumerate() {
        for (b, blk) in row.iter().enumerate() {
            let q = &mut p.q[(r * nb + b) * 256..(r * nb + b + 1) * 256];
            for c in 0..4 {
                for l in 0..32 {
                    let v = blk.qs[32 * c + l];
                    q[64 * c + l] = v & 15;
                    q[64 * c + 32 + l] = v >> 4;
                }
            }
            let sm: [(u8, u8); 8] = std::array::from_fn(|j| blk.scale_min(j));
            let sc16 = sm.map(|(s, _)| [i16::from(s); 2]);
            k_scales(p, nb, r, b, sc16, sm.map(|(_, m)| i16::from(m)));
            p.d[r * nb + b] = f16_bits(blk.d);
            p.dmin[r * nb + b] = f16_bits(blk.dmin);
        }
    }
    zero_k(p, k, nb);
}

fn unpack_q5_k(raw: &[u8], k: usize, nb: usize, p: &mut PanelMut<'_>) {
    for (r, row) in rows::<BlockQ5K>(raw, k, nb).enumerate() {
        for (b, blk) in row.iter().enumerate() {
            let q = &mut p.q[(r * nb + b) * 256..(r * nb + b + 1) * 256];
            for j in 0..8 {
                let (c, shift) = (j / 2, 4 * (j % 2));
                for l in 0..32 {
                    let lo = (blk.qs[32 * c + l] >> shift) & 15;
                    q[32 * j + l] = lo | (((blk.qh[l] >> j) & 1) << 4);
                }
            }
            let sm: [(u8, u8); 8] = std::array::from_fn(|j| blk.scale_min(j));
            let sc16 = sm.map(|(s, _)| [i16::from(s); 2]);
            k_scales(p, nb, r, b, sc16, sm.map(|(_, m)| i16::from(m)));
            p.d[r * nb + b] = f16_bits(blk.d);
            p.dmin[r * nb + b] = f16_bits(blk.dmin);
        }
    }
    zero_k(p, k, nb);
}

fn unpack_q6_k(raw: &[u8], k: usize, nb: usize, p: &mut PanelMut<'_>) {
    for (r, row) in rows::<BlockQ6K>(raw, k, nb).enumerate() {
        for (b, blk) in row.iter().enumerate() {
            let q = &mut p.q[(r * nb + b) * 256..(r * nb + b + 1) * 256];
            for h in 0..2 {
                let ql = &blk.ql[64 * h..64 * h + 64];
                let qh = &blk.qh[32 * h..32 * h + 32];
                let out = &mut q[128 * h..128 * h + 128];
                for l in 0..32 {
                    let (lo0, lo1, hb) = (ql[l], ql[32 + l], qh[l]);
                    out[l] = (lo0 & 15) | ((hb & 3) << 4);
                    out[32 + l] = (lo1 & 15) | (((hb >> 2) & 3) << 4);
                    out[64 + l] = (lo0 >> 4) | (((hb >> 4) & 3) << 4);
                    out[96 + l] = (lo1 >> 4) | ((hb >> 6) << 4);
                }
            }
            let sc16: [[i16; 2]; 8] = std::array::from_fn(|g| {
                [i16::from(blk.scale(2 * g)), i16::from(blk.scale(2 * g + 1))]
            });
            k_scales(p, nb, r, b, sc16, [0; 8]);
            p.d[r * nb + b] = f16_bits(blk.d);
        }
    }
    zero_k(p, k, nb);
}
