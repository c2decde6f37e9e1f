//! Tiled products for batches of activation rows: each weight row is unpacked once to
//! bytes (quants in element order, scales as f32 or i16) and each activation row is
//! prepared once (quants contiguous, scales as f32); a tier's tile kernel then
//! multiplies [`R`] weight rows by [`T`] activation rows at a time, so an unpacked weight
//! block and a loaded activation block serve several dot products each.
//!
//! The AVX2 and NEON tiers (plain and `dotprod`) use these panels. A tier may instead
//! bring its own [`StripFn`], which unpacks weight rows into its own
//! layout and multiplies them (AVX-512: 16 weight rows per vector, see
//! `x86::avx512::tile`).
//!
//! The integer parts of every dot product are exact whichever way they are summed; the
//! f32 parts of a tile kernel are summed in an order of its own, so a tiled product may
//! differ from the tier's single-row `vec_dot` in the last bits (tests hold every output
//! within 1e-5 of Σ|terms| of the scalar reference). Each output is still computed by
//! the same operations whatever the batch size, the thread count or the output's place
//! in a tile, so results do not depend on how the work was split. Tiers without a tile
//! kernel for a type (and the scalar tier, whose twin is simply the scalar `vec_dot` per
//! pair) take the row-by-row path.

pub(crate) mod prepare;
mod unpack;

pub(crate) use prepare::{prepare_row, ActBuf, Acts, RowMut};
pub(crate) use unpack::{unpacker, PanelBuf, Unpack};

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
// Only the x86-64 and aarch64 tiers have tile kernels.
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
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

/// A tier's whole batched product over weight rows `r0..r1`: for every prepared
/// activation row `t`, `out[t·rows + r] = W[r]·A[t]`, where `W[r]` is the raw row
/// `w[r·row_bytes..(r + 1)·row_bytes]`.
///
/// # Safety
/// The CPU must have the tier's features; `w` must hold at least `r1` whole rows of
/// `acts.nb` blocks of the kernel's type, `acts` must be prepared from activations of
/// its activation type, `out` must be valid for writes of `acts.n × rows` f32 with
/// `r1 <= rows`, and no other thread may access the outputs of rows `r0..r1` meanwhile.
pub(crate) type StripFn = unsafe fn(&[u8], usize, usize, usize, &Acts<'_>, *mut f32, usize);

/// A tier's kernel for batches of one weight type.
#[derive(Clone, Copy)]
// Only AVX-512 brings its own strips.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) enum TileKernel {
    /// [`R`] × [`T`] tiles over panels unpacked by this module (see [`tiled_rows`]).
    Panels(TileFn),
    /// A tier's own unpacking and tiling, with weight rows taken `align` at a time.
    Strip { f: StripFn, align: usize },
}

/// A tier's tile kernels, one per weight type that has one (`NONE`: every product goes
/// row by row).
pub(crate) type Tiles = super::per_type::PerType<TileKernel>;

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
