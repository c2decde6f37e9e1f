//! AVX-512 VNNI row kernels of the 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1,
//! Q8_0) and of Q4_K, Q5_K, Q6_K: many weight rows times one activation row, as
//! decoding runs them.
//!
//! The activation row is first laid out once per call in the order the weights unpack
//! into (see [`prepare`]), with its scales widened to f32 and, for the types whose quants
//! carry an offset (Q4_0: 8, Q5_0: 16, Q8_0 biased to unsigned: 128), the offset times
//! the activation sums already in every i32 lane. Each weight row then costs, per four
//! blocks, one or two `vpdpbusd` chains that start from those lane sums, one f16→f32
//! conversion of the four weight scales and one FMA per vector: no per-row work on the
//! activation, and an exact integer dot product per lane.
//!
//! The K-quants' Q8_K row is laid out per 256-element block ([`prepare_k`]): quants in
//! the order the weight block unpacks into, the stored 16-element sums arranged for
//! the mins (Q4_K, Q5_K), or `-32 ·` the lane sums (Q6_K's offset). Each weight block
//! then costs its unpacking, four `vpdpbusd`, two lossless packs to i16, two `vpdpwssd`
//! with its sub-block scales and one f32 FMA (see [`k_quants`]).
//!
//! The f32 parts are summed per lane across the row, then across lanes; every row is
//! computed by the same operations whichever rows it is called with, so [`matvec`]
//! (prepare once, all rows) and the tier's `vec_dot` (prepare, one row) agree bit for
//! bit. The order differs from the scalar reference's, within rounding.
//!
//! [`matvec`]: crate::matvec

mod bytes;
mod k_quants;
mod nibble;
mod prepare;
mod prepare_k;

use edge_quant::k_quants::{BlockQ4K, BlockQ5K, BlockQ6K, BlockQ8K};
use edge_quant::legacy::{BlockQ4_0, BlockQ4_1, BlockQ5_0, BlockQ5_1, BlockQ8_0, BlockQ8_1};
use prepare::{ByteGroup, NibbleGroup, PREP_BYTES, PREP_NIBBLE};
use prepare_k::{K6Block, KMinBlock, PREP_K6, PREP_K_MIN};

/// Block layout of a 4-bit (or 5-bit) weight type.
pub(super) trait Layout {
    /// Bytes per block.
    const BYTES: usize;
    /// Where the 16 bytes of packed nibbles start.
    const QS: usize;
    /// Where the 32 fifth bits start (a little-endian u32); `None` for 4-bit types.
    const QH: Option<usize>;
    /// The offset taken off every quant (`q - off`); 0 for types with a min.
    const OFF: i32;
    /// Whether the block stores a min after `d` (Q4_1, Q5_1), met by the activation's `s`.
    const MIN: bool;
}

macro_rules! layouts {
    ($($name:ident: $bytes:expr, $qs:expr, $qh:expr, $off:expr, $min:expr;)*) => {$(
        pub(super) struct $name;
        impl Layout for $name {
            const BYTES: usize = $bytes;
            const QS: usize = $qs;
            const QH: Option<usize> = $qh;
            const OFF: i32 = $off;
            const MIN: bool = $min;
        }
    )*};
}

layouts! {
    Q4_0: 18, 2, None, 8, false;
    Q4_1: 20, 4, None, 0, true;
    Q5_0: 22, 6, Some(2), 16, false;
    Q5_1: 24, 8, Some(4), 0, true;
}

/// `w·a` through the row kernel `rows` on one row: the tier's `vec_dot` for that type,
/// over the blocks the two rows have in common.
///
/// # Safety
/// `rows` may be called on this CPU.
unsafe fn one_row<W: bytemuck::Pod, A: bytemuck::Pod>(
    rows: unsafe fn(&[u8], usize, &[u8], &mut [f32]),
    w: &[W],
    a: &[A],
) -> f32 {
    let n = w.len().min(a.len());
    let mut out = [0f32];
    // SAFETY: the caller's promise; both rows hold `n` blocks.
    unsafe {
        rows(
            bytemuck::cast_slice(&w[..n]),
            n,
            bytemuck::cast_slice(&a[..n]),
            &mut out,
        )
    };
    out[0]
}

/// Runs `body` with the calling thread's prepared-activation buffer of `T`, taken out of
/// its thread-local (a nested call would find it empty and allocate its own).
fn with_buffer<T: Default + Clone, R>(
    key: &'static std::thread::LocalKey<std::cell::Cell<Vec<T>>>,
    len: usize,
    body: impl FnOnce(&mut [T]) -> R,
) -> R {
    let mut buf = key.take();
    if buf.len() < len {
        buf.resize(len, T::default());
    }
    let r = body(&mut buf[..len]);
    key.set(buf);
    r
}

macro_rules! nibble_kernels {
    ($(
        $(#[$doc:meta])*
        $rows:ident, $dot:ident, $w:ty, $a:ty, $layout:ty, $prep:ident;
    )*) => {$(
        $(#[$doc])*
        ///
        /// `w` holds `out.len()` rows of `nb` blocks, `act` one row of `nb` blocks.
        ///
        /// # Safety
        /// The CPU must support AVX-512 F/BW/VL/VNNI, AVX2, FMA and F16C; `w` and `act`
        /// must hold at least that many blocks.
        pub unsafe fn $rows(w: &[u8], nb: usize, act: &[u8], out: &mut [f32]) {
            let act: &[$a] = bytemuck::cast_slice(&act[..nb * size_of::<$a>()]);
            with_buffer(&PREP_NIBBLE, nb.div_ceil(4), |groups: &mut [NibbleGroup]| {
                prepare::$prep(act, <$layout>::OFF, groups);
                // SAFETY: the caller's promises; `groups` covers `nb` blocks.
                unsafe { nibble::rows::<$layout>(w, nb, groups, out) }
            })
        }

        /// The single-row form of the row kernel of the same type, for the kernel table.
        ///
        /// # Safety
        /// As the row kernel.
        pub unsafe fn $dot(w: &[$w], a: &[$a]) -> f32 {
            // SAFETY: the caller's promises.
            unsafe { one_row($rows, w, a) }
        }
    )*};
}

nibble_kernels! {
    /// Q4_0 rows · one Q8_0 row.
    rows_q4_0, vec_dot_q4_0_q8_0, BlockQ4_0, BlockQ8_0, Q4_0, nibble_q8_0;
    /// Q4_1 rows · one Q8_1 row.
    rows_q4_1, vec_dot_q4_1_q8_1, BlockQ4_1, BlockQ8_1, Q4_1, nibble_q8_1;
    /// Q5_0 rows · one Q8_0 row.
    rows_q5_0, vec_dot_q5_0_q8_0, BlockQ5_0, BlockQ8_0, Q5_0, nibble_q8_0;
    /// Q5_1 rows · one Q8_1 row.
    rows_q5_1, vec_dot_q5_1_q8_1, BlockQ5_1, BlockQ8_1, Q5_1, nibble_q8_1;
}

/// Q8_0 rows · one Q8_0 row.
///
/// `w` holds `out.len()` rows of `nb` blocks, `act` one row of `nb` blocks.
///
/// # Safety
/// The CPU must support AVX-512 F/BW/VL/VNNI, AVX2, FMA and F16C; `w` and `act` must
/// hold at least that many blocks.
pub unsafe fn rows_q8_0(w: &[u8], nb: usize, act: &[u8], out: &mut [f32]) {
    let act: &[BlockQ8_0] = bytemuck::cast_slice(&act[..nb * size_of::<BlockQ8_0>()]);
    with_buffer(&PREP_BYTES, nb.div_ceil(4), |groups: &mut [ByteGroup]| {
        prepare::bytes_q8_0(act, groups);
        // SAFETY: the caller's promises; `groups` covers `nb` blocks.
        unsafe { bytes::rows(w, nb, groups, out) }
    })
}

/// The single-row form of [`rows_q8_0`], for the kernel table.
///
/// # Safety
/// As [`rows_q8_0`].
pub unsafe fn vec_dot_q8_0_q8_0(w: &[BlockQ8_0], a: &[BlockQ8_0]) -> f32 {
    // SAFETY: the caller's promises.
    unsafe { one_row(rows_q8_0, w, a) }
}

macro_rules! k_kernels {
    ($(
        $(#[$doc:meta])*
        $rows:ident, $dot:ident, $w:ty, $prep_ty:ty, $key:ident, $prep:ident, $kernel:expr;
    )*) => {$(
        $(#[$doc])*
        ///
        /// `w` holds `out.len()` rows of `nb` blocks, `act` one row of `nb` Q8_K blocks.
        ///
        /// # Safety
        /// The CPU must support AVX-512 F/BW/VL/VNNI, AVX2, FMA and F16C; `w` and `act`
        /// must hold at least that many blocks.
        pub unsafe fn $rows(w: &[u8], nb: usize, act: &[u8], out: &mut [f32]) {
            let act: &[BlockQ8K] = bytemuck::cast_slice(&act[..nb * size_of::<BlockQ8K>()]);
            with_buffer(&$key, nb, |prep: &mut [$prep_ty]| {
                prepare_k::$prep(act, prep);
                // SAFETY: the caller's promises; `prep` covers `nb` blocks.
                unsafe { $kernel(w, nb, prep, out) }
            })
        }

        /// The single-row form of the row kernel of the same type, for the kernel table.
        ///
        /// # Safety
        /// As the row kernel.
        pub unsafe fn $dot(w: &[$w], a: &[BlockQ8K]) -> f32 {
            // SAFETY: the caller's promises.
            unsafe { one_row($rows, w, a) }
        }
    )*};
}

k_kernels! {
    /// Q4_K rows · one Q8_K row.
    rows_q4_k, vec_dot_q4_k_q8_k, BlockQ4K, KMinBlock, PREP_K_MIN, k_min,
        k_quants::rows_min::<BlockQ4K>;
    /// Q5_K rows · one Q8_K row.
    rows_q5_k, vec_dot_q5_k_q8_k, BlockQ5K, KMinBlock, PREP_K_MIN, k_min,
        k_quants::rows_min::<BlockQ5K>;
    /// Q6_K rows · one Q8_K row.
    rows_q6_k, vec_dot_q6_k_q8_k, BlockQ6K, K6Block, PREP_K6, k6, k_quants::rows_q6_k;
}
