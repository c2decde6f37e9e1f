//! Element-wise and small per-row operations that model graphs run between the quantized
//! matrix products: RMS normalisation, rotary position embedding, softmax, the gated
//! activations, and single-query attention over an f16 KV cache.
//!
//! These are the scalar references. They work on plain `f32` slices (and `f16` for cached
//! keys and values), check their lengths once and return a [`KernelError`] on a mismatch,
//! so a caller's bug shows up as an error rather than silently truncated output.

pub(crate) mod attention;
pub(crate) mod attention_cached;
pub(crate) mod attention_tile;
mod glu;
mod norm;
mod rope;
mod softmax;

pub use attention::attend;
pub use attention_cached::{AttendScratch, CachedKeys, CachedValues};
pub use attention_tile::{attend_tile, attend_tile_scratch_len, TILE_KV, TILE_ROWS};
pub use glu::{gelu_tanh, gelu_tanh_mul, silu, silu_mul};
pub use norm::{rms_norm, rms_norm_mul};
pub use rope::{rope_angles, rope_angles_scaled, rope_neox, rope_norm};
pub use softmax::softmax;

use crate::KernelError;

/// `Err(BadLength)` unless `found == expected`.
fn check_len(what: &'static str, expected: usize, found: usize) -> Result<(), KernelError> {
    if expected == found {
        Ok(())
    } else {
        Err(KernelError::BadLength {
            what,
            expected,
            found,
            unit: "elements",
        })
    }
}
