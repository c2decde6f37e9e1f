//! One body per integer kernel, as a macro that a tier module instantiates with its
//! target features; the body calls the tier's own `dot(acc, a, b)` (resolved where the
//! macro is used), so each tier gets a fully inlined copy.
//!
//! Each block's integer sum is exact and reduced with `vaddvq_s32`, then scaled in f32
//! exactly as the scalar reference does, block by block.

#[macro_use]
mod legacy;
#[macro_use]
mod k_quants;
#[macro_use]
mod tile;
