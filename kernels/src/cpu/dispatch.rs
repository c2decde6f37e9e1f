//! Run-time CPU dispatch: the [`Tier`] of SIMD support, detected once, and one
//! [`KernelTable`] of function pointers per tier, so hot loops call through a pointer
//! chosen once instead of testing features per call.

use super::activation::activation_type;
use super::rows::RowKernels;
use super::scalar;
use super::tile::Tiles;
use crate::ops::attention;
use crate::ops::attention_cached::{self, AttendParts};
use crate::ops::attention_tile;
use crate::KernelError;
use edge_formats::GgmlType;
use edge_quant::iq4::{BlockIQ4_NL, BlockIQ4_XS};
use edge_quant::k_quants::{BlockQ2K, BlockQ3K, BlockQ4K, BlockQ5K, BlockQ6K, BlockQ8K};
use edge_quant::legacy::{BlockQ4_0, BlockQ4_1, BlockQ5_0, BlockQ5_1, BlockQ8_0, BlockQ8_1};
use half::f16;
use std::fmt;
use std::sync::OnceLock;

/// The environment variable that forces a tier: `scalar`, `avx2`, `avx512`, `neon` or
/// `neon-dotprod`.
pub const TIER_ENV: &str = "EDGE_CPU_TIER";

/// A level of SIMD support, each with its own [`KernelTable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tier {
    /// Plain Rust; runs everywhere. The reference the other tiers are tested against.
    Scalar,
    /// x86-64 with AVX2, FMA and F16C.
    Avx2,
    /// x86-64 with AVX-512 F/BW/VL and VNNI (plus everything [`Tier::Avx2`] needs).
    Avx512,
    /// aarch64 Advanced SIMD (NEON), which every aarch64 CPU has.
    Neon,
    /// aarch64 NEON plus the dot-product extension (`sdot`, Armv8.2 `dotprod`).
    NeonDotprod,
}

impl Tier {
    /// Every tier, from the most portable to the most specific.
    pub const ALL: [Tier; 5] = [
        Tier::Scalar,
        Tier::Avx2,
        Tier::Avx512,
        Tier::Neon,
        Tier::NeonDotprod,
    ];

    /// The name used by [`TIER_ENV`].
    pub fn name(self) -> &'static str {
        match self {
            Tier::Scalar => "scalar",
            Tier::Avx2 => "avx2",
            Tier::Avx512 => "avx512",
            Tier::Neon => "neon",
            Tier::NeonDotprod => "neon-dotprod",
        }
    }

    /// `Ok` if this CPU can run the tier's kernels, else the reason it cannot.
    pub fn check_available(self) -> Result<(), KernelError> {
        let unavailable = |reason| Err(KernelError::TierUnavailable { tier: self, reason });
        match self {
            Tier::Scalar => Ok(()),
            #[cfg(target_arch = "x86_64")]
            Tier::Avx2 => {
                if !(std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                    && std::arch::is_x86_feature_detected!("f16c"))
                {
                    return unavailable("the CPU lacks one of avx2, fma, f16c");
                }
                Ok(())
            }
            #[cfg(target_arch = "x86_64")]
            Tier::Avx512 => {
                Tier::Avx2
                    .check_available()
                    .or(unavailable("the CPU lacks AVX2"))?;
                if !(std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx512vnni"))
                {
                    return unavailable(
                        "the CPU lacks one of avx512f, avx512bw, avx512vl, avx512vnni",
                    );
                }
                Ok(())
            }
            #[cfg(not(target_arch = "x86_64"))]
            Tier::Avx2 | Tier::Avx512 => unavailable("not an x86-64 build"),
            #[cfg(target_arch = "aarch64")]
            Tier::Neon => {
                if !std::arch::is_aarch64_feature_detected!("neon") {
                    return unavailable("the CPU lacks neon");
                }
                Ok(())
            }
            #[cfg(target_arch = "aarch64")]
            Tier::NeonDotprod => {
                Tier::Neon.check_available()?;
                if !std::arch::is_aarch64_feature_detected!("dotprod") {
                    return unavailable("the CPU lacks dotprod");
                }
                Ok(())
            }
            #[cfg(not(target_arch = "aarch64"))]
            Tier::Neon | Tier::NeonDotprod => unavailable("not an aarch64 build"),
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The most specific tier this CPU supports, detected once.
pub fn best_tier() -> Tier {
    static BEST: OnceLock<Tier> = OnceLock::new();
    *BEST.get_or_init(|| {
        [Tier::Avx512, Tier::Avx2, Tier::NeonDotprod, Tier::Neon]
            .into_iter()
            .find(|t| t.check_available().is_ok())
            .unwrap_or(Tier::Scalar)
    })
}

/// Parses a tier name (case-insensitive) and checks that this CPU can run it.
pub fn parse_tier(name: &str) -> Result<Tier, KernelError> {
    let name = name.trim();
    let tier = Tier::ALL
        .into_iter()
        .find(|t| t.name().eq_ignore_ascii_case(name))
        .ok_or_else(|| KernelError::UnknownTier(name.to_owned()))?;
    tier.check_available()?;
    Ok(tier)
}

/// The tier to use: the one named by [`TIER_ENV`] if it is set (an error if it is
/// unknown or this CPU lacks it — never a silent fallback), else [`best_tier`].
pub fn select_tier() -> Result<Tier, KernelError> {
    match std::env::var(TIER_ENV) {
        Ok(name) if !name.trim().is_empty() => parse_tier(&name),
        _ => Ok(best_tier()),
    }
}

pub(crate) type VecDot<W, A> = unsafe fn(&[W], &[A]) -> f32;

/// One tier's kernels. Obtained only through [`KernelTable::for_tier`] (or
/// [`KernelTable::best`], [`KernelTable::from_env`]), which check the CPU first; this is
/// what makes calling the `unsafe` SIMD functions through it sound.
///
/// The quantized dot products take a weight row and an activation row of the same number
/// of blocks, quantized to [`activation_type`] of the weight type. A tier without its own
/// version of a kernel holds the next less specific tier's (down to scalar), so every
/// table covers every type.
pub struct KernelTable {
    tier: Tier,
    pub(crate) vec_dot_q4_0_q8_0: VecDot<BlockQ4_0, BlockQ8_0>,
    pub(crate) vec_dot_q4_1_q8_1: VecDot<BlockQ4_1, BlockQ8_1>,
    pub(crate) vec_dot_q5_0_q8_0: VecDot<BlockQ5_0, BlockQ8_0>,
    pub(crate) vec_dot_q5_1_q8_1: VecDot<BlockQ5_1, BlockQ8_1>,
    pub(crate) vec_dot_q8_0_q8_0: VecDot<BlockQ8_0, BlockQ8_0>,
    pub(crate) vec_dot_q2_k_q8_k: VecDot<BlockQ2K, BlockQ8K>,
    pub(crate) vec_dot_q3_k_q8_k: VecDot<BlockQ3K, BlockQ8K>,
    pub(crate) vec_dot_q4_k_q8_k: VecDot<BlockQ4K, BlockQ8K>,
    pub(crate) vec_dot_q5_k_q8_k: VecDot<BlockQ5K, BlockQ8K>,
    pub(crate) vec_dot_q6_k_q8_k: VecDot<BlockQ6K, BlockQ8K>,
    pub(crate) vec_dot_iq4_nl_q8_0: VecDot<BlockIQ4_NL, BlockQ8_0>,
    pub(crate) vec_dot_iq4_xs_q8_k: VecDot<BlockIQ4_XS, BlockQ8K>,
    pub(crate) vec_dot_f16: VecDot<[u8; 2], [u8; 2]>,
    pub(crate) vec_dot_bf16: VecDot<[u8; 2], [u8; 2]>,
    pub(crate) vec_dot_f32: VecDot<f32, f32>,
    pub(crate) quantize_row_q8_0: unsafe fn(&[f32], &mut [BlockQ8_0]),
    pub(crate) quantize_row_q8_k: unsafe fn(&[f32], &mut [BlockQ8K]),
    pub(crate) attend: Attend,
    /// Tiled attention of a block of query rows (see [`crate::ops::attend_tile`]).
    pub(crate) attend_tile: AttendTile,
    /// The inner loops of attention over f16 or q8_0 caches (see
    /// [`crate::ops::attention_cached`]).
    pub(crate) attend_parts: AttendParts,
    /// Tile kernels for batches (see [`super::tile`]).
    pub(crate) tiles: Tiles,
    /// Row kernels for decoding (see [`super::rows`]).
    pub(crate) rows: RowKernels,
}

/// Single-query attention over an f16 KV cache, lengths already checked (see
/// [`crate::ops::attend`]).
pub(crate) type Attend = unsafe fn(&[f32], &[f16], &[f16], f32, &mut [f16], &mut [f32]);

/// Tiled attention of a block of query rows, arguments already checked (see
/// [`crate::ops::attend_tile`]).
pub(crate) type AttendTile =
    unsafe fn(&[f32], &[std::ops::Range<usize>], &[f16], &[f16], f32, &mut [f32], &mut [f32]);

static SCALAR: KernelTable = KernelTable {
    tier: Tier::Scalar,
    vec_dot_q4_0_q8_0: scalar::vec_dot_q4_0_q8_0,
    vec_dot_q4_1_q8_1: scalar::vec_dot_q4_1_q8_1,
    vec_dot_q5_0_q8_0: scalar::vec_dot_q5_0_q8_0,
    vec_dot_q5_1_q8_1: scalar::vec_dot_q5_1_q8_1,
    vec_dot_q8_0_q8_0: scalar::vec_dot_q8_0_q8_0,
    vec_dot_q2_k_q8_k: scalar::vec_dot_q2_k_q8_k,
    vec_dot_q3_k_q8_k: scalar::vec_dot_q3_k_q8_k,
    vec_dot_q4_k_q8_k: scalar::vec_dot_q4_k_q8_k,
    vec_dot_q5_k_q8_k: scalar::vec_dot_q5_k_q8_k,
    vec_dot_q6_k_q8_k: scalar::vec_dot_q6_k_q8_k,
    vec_dot_iq4_nl_q8_0: scalar::vec_dot_iq4_nl_q8_0,
    vec_dot_iq4_xs_q8_k: scalar::vec_dot_iq4_xs_q8_k,
    vec_dot_f16: scalar::vec_dot_f16,
    vec_dot_bf16: scalar::vec_dot_bf16,
    vec_dot_f32: scalar::vec_dot_f32,
    quantize_row_q8_0: scalar::quantize_row_q8_0,
    quantize_row_q8_k: scalar::quantize_row_q8_k,
    attend: attention::attend_unchecked,
    attend_tile: attention_tile::attend_tile_unchecked,
    attend_parts: attention_cached::SCALAR_PARTS,
    tiles: Tiles::NONE,
    rows: RowKernels::NONE,
};

#[cfg(target_arch = "x86_64")]
static AVX2: KernelTable = {
    use super::tile::TileKernel;
    use super::x86::avx2;
    KernelTable {
        tier: Tier::Avx2,
        vec_dot_q4_0_q8_0: avx2::vec_dot_q4_0_q8_0,
        vec_dot_q4_1_q8_1: avx2::vec_dot_q4_1_q8_1,
        vec_dot_q5_0_q8_0: avx2::vec_dot_q5_0_q8_0,
        vec_dot_q5_1_q8_1: avx2::vec_dot_q5_1_q8_1,
        vec_dot_q8_0_q8_0: avx2::vec_dot_q8_0_q8_0,
        vec_dot_q2_k_q8_k: avx2::vec_dot_q2_k_q8_k,
        vec_dot_q3_k_q8_k: avx2::vec_dot_q3_k_q8_k,
        vec_dot_q4_k_q8_k: avx2::vec_dot_q4_k_q8_k,
        vec_dot_q5_k_q8_k: avx2::vec_dot_q5_k_q8_k,
        vec_dot_q6_k_q8_k: avx2::vec_dot_q6_k_q8_k,
        vec_dot_iq4_nl_q8_0: avx2::vec_dot_iq4_nl_q8_0,
        vec_dot_iq4_xs_q8_k: avx2::vec_dot_iq4_xs_q8_k,
        vec_dot_f16: avx2::vec_dot_f16,
        vec_dot_bf16: avx2::vec_dot_bf16,
        vec_dot_f32: avx2::vec_dot_f32,
        quantize_row_q8_0: avx2::quantize_row_q8_0,
        quantize_row_q8_k: avx2::quantize_row_q8_k,
        attend: avx2::attend,
        attend_tile: avx2::attend_tile,
        attend_parts: avx2::attention_cached::PARTS,
        tiles: Tiles {
            q4_0: Some(TileKernel::Panels(avx2::tile::tile_q4_0)),
            q4_1: Some(TileKernel::Panels(avx2::tile::tile_q4_1)),
            q5_0: Some(TileKernel::Panels(avx2::tile::tile_q5_0)),
            q5_1: Some(TileKernel::Panels(avx2::tile::tile_q5_1)),
            q8_0: Some(TileKernel::Panels(avx2::tile::tile_q8_0)),
            q4_k: Some(TileKernel::Panels(avx2::tile::tile_q4_k)),
            q5_k: Some(TileKernel::Panels(avx2::tile::tile_q5_k)),
            q6_k: Some(TileKernel::Panels(avx2::tile::tile_q6_k)),
        },
        rows: RowKernels::NONE,
    }
};

#[cfg(target_arch = "x86_64")]
static AVX512: KernelTable = {
    use super::tile::TileKernel;
    use super::x86::{avx2, avx512};
    KernelTable {
        tier: Tier::Avx512,
        vec_dot_q4_0_q8_0: avx512::vec_dot_q4_0_q8_0,
        vec_dot_q4_1_q8_1: avx512::vec_dot_q4_1_q8_1,
        vec_dot_q5_0_q8_0: avx512::vec_dot_q5_0_q8_0,
        vec_dot_q5_1_q8_1: avx512::vec_dot_q5_1_q8_1,
        vec_dot_q8_0_q8_0: avx512::vec_dot_q8_0_q8_0,
        vec_dot_q2_k_q8_k: avx2::vec_dot_q2_k_q8_k,
        vec_dot_q3_k_q8_k: avx2::vec_dot_q3_k_q8_k,
        vec_dot_q4_k_q8_k: avx512::vec_dot_q4_k_q8_k,
        vec_dot_q5_k_q8_k: avx512::vec_dot_q5_k_q8_k,
        vec_dot_q6_k_q8_k: avx512::vec_dot_q6_k_q8_k,
        vec_dot_iq4_nl_q8_0: avx2::vec_dot_iq4_nl_q8_0,
        vec_dot_iq4_xs_q8_k: avx2::vec_dot_iq4_xs_q8_k,
        vec_dot_f16: avx2::vec_dot_f16,
        vec_dot_bf16: avx2::vec_dot_bf16,
        vec_dot_f32: avx512::vec_dot_f32,
        quantize_row_q8_0: avx2::quantize_row_q8_0,
        quantize_row_q8_k: avx2::quantize_row_q8_k,
        attend: avx512::attend,
        attend_tile: avx512::attend_tile,
        attend_parts: avx512::attention_cached::PARTS,
        tiles: Tiles {
            q4_0: Some(TileKernel::Strip {
                f: avx512::tile::strip_q4_0,
                align: avx512::tile::ROWS,
            }),
            q4_1: Some(TileKernel::Strip {
                f: avx512::tile::strip_q4_1,
                align: avx512::tile::ROWS,
            }),
            q5_0: Some(TileKernel::Strip {
                f: avx512::tile::strip_q5_0,
                align: avx512::tile::ROWS,
            }),
            q5_1: Some(TileKernel::Strip {
                f: avx512::tile::strip_q5_1,
                align: avx512::tile::ROWS,
            }),
            q8_0: Some(TileKernel::Strip {
                f: avx512::tile::strip_q8_0,
                align: avx512::tile::ROWS,
            }),
            q4_k: Some(TileKernel::Strip {
                f: avx512::tile::strip_q4_k,
                align: avx512::tile::ROWS,
            }),
            q5_k: Some(TileKernel::Strip {
                f: avx512::tile::strip_q5_k,
                align: avx512::tile::ROWS,
            }),
            q6_k: Some(TileKernel::Strip {
                f: avx512::tile::strip_q6_k,
                align: avx512::tile::ROWS,
            }),
        },
        rows: RowKernels {
            q4_0: Some(avx512::rows::rows_q4_0),
            q4_1: Some(avx512::rows::rows_q4_1),
            q5_0: Some(avx512::rows::rows_q5_0),
            q5_1: Some(avx512::rows::rows_q5_1),
            q8_0: Some(avx512::rows::rows_q8_0),
            q4_k: Some(avx512::rows::rows_q4_k),
            q5_k: Some(avx512::rows::rows_q5_k),
            q6_k: Some(avx512::rows::rows_q6_k),
        },
    }
};

/// The NEON kernels; [`NEON_DOTPROD`] replaces those that gain from `sdot`.
#[cfg(target_arch = "aarch64")]
const NEON_BASE: KernelTable = {
    use super::aarch64::neon;
    use super::tile::TileKernel;
    KernelTable {
        tier: Tier::Neon,
        vec_dot_q4_0_q8_0: neon::vec_dot_q4_0_q8_0,
        vec_dot_q4_1_q8_1: neon::vec_dot_q4_1_q8_1,
        vec_dot_q5_0_q8_0: neon::vec_dot_q5_0_q8_0,
        vec_dot_q5_1_q8_1: neon::vec_dot_q5_1_q8_1,
        vec_dot_q8_0_q8_0: neon::vec_dot_q8_0_q8_0,
        vec_dot_q2_k_q8_k: scalar::vec_dot_q2_k_q8_k,
        vec_dot_q3_k_q8_k: scalar::vec_dot_q3_k_q8_k,
        vec_dot_q4_k_q8_k: neon::vec_dot_q4_k_q8_k,
        vec_dot_q5_k_q8_k: neon::vec_dot_q5_k_q8_k,
        vec_dot_q6_k_q8_k: neon::vec_dot_q6_k_q8_k,
        vec_dot_iq4_nl_q8_0: scalar::vec_dot_iq4_nl_q8_0,
        vec_dot_iq4_xs_q8_k: scalar::vec_dot_iq4_xs_q8_k,
        vec_dot_f16: scalar::vec_dot_f16,
        vec_dot_bf16: scalar::vec_dot_bf16,
        vec_dot_f32: neon::vec_dot_f32,
        quantize_row_q8_0: scalar::quantize_row_q8_0,
        quantize_row_q8_k: neon::quantize_row_q8_k,
        attend: attention::attend_unchecked,
        attend_tile: neon::attend_tile,
        attend_parts: neon::attention_cached::PARTS,
        tiles: Tiles {
            q4_0: Some(TileKernel::Panels(neon::tile::tile_q4_0)),
            q4_1: Some(TileKernel::Panels(neon::tile::tile_q4_1)),
            q5_0: Some(TileKernel::Panels(neon::tile::tile_q5_0)),
            q5_1: Some(TileKernel::Panels(neon::tile::tile_q5_1)),
            q8_0: Some(TileKernel::Panels(neon::tile::tile_q8_0)),
            q4_k: Some(TileKernel::Panels(neon::tile::tile_q4_k)),
            q5_k: Some(TileKernel::Panels(neon::tile::tile_q5_k)),
            q6_k: Some(TileKernel::Panels(neon::tile::tile_q6_k)),
        },
        rows: RowKernels::NONE,
    }
};

#[cfg(target_arch = "aarch64")]
static NEON_DOTPROD: KernelTable = {
    use super::aarch64::neon_dotprod;
    use super::tile::TileKernel;
    KernelTable {
        tier: Tier::NeonDotprod,
        vec_dot_q4_0_q8_0: neon_dotprod::vec_dot_q4_0_q8_0,
        vec_dot_q4_1_q8_1: neon_dotprod::vec_dot_q4_1_q8_1,
        vec_dot_q5_0_q8_0: neon_dotprod::vec_dot_q5_0_q8_0,
        vec_dot_q5_1_q8_1: neon_dotprod::vec_dot_q5_1_q8_1,
        vec_dot_q8_0_q8_0: neon_dotprod::vec_dot_q8_0_q8_0,
        vec_dot_q4_k_q8_k: neon_dotprod::vec_dot_q4_k_q8_k,
        vec_dot_q5_k_q8_k: neon_dotprod::vec_dot_q5_k_q8_k,
        vec_dot_q6_k_q8_k: neon_dotprod::vec_dot_q6_k_q8_k,
        tiles: Tiles {
            q4_0: Some(TileKernel::Panels(neon_dotprod::tile::tile_q4_0)),
            q4_1: Some(TileKernel::Panels(neon_dotprod::tile::tile_q4_1)),
            q5_0: Some(TileKernel::Panels(neon_dotprod::tile::tile_q5_0)),
            q5_1: Some(TileKernel::Panels(neon_dotprod::tile::tile_q5_1)),
            q8_0: Some(TileKernel::Panels(neon_dotprod::tile::tile_q8_0)),
            q4_k: Some(TileKernel::Panels(neon_dotprod::tile::tile_q4_k)),
            q5_k: Some(TileKernel::Panels(neon_dotprod::tile::tile_q5_k)),
            q6_k: Some(TileKernel::Panels(neon_dotprod::tile::tile_q6_k)),
        },
        ..NEON_BASE
    }
};

#[cfg(target_arch = "aarch64")]
static NEON: KernelTable = NEON_BASE;

/// Checks that two rows hold the same number of blocks.
fn same_blocks(w: usize, a: usize) -> Result<(), KernelError> {
    if w != a {
        return Err(KernelError::BadLength {
            what: "activation row",
            expected: w,
            found: a,
            unit: "blocks",
        });
    }
    Ok(())
}

/// Reinterprets bytes as blocks, or says how many bytes were expected.
pub(crate) fn blocks<'a, T: bytemuck::Pod>(
    what: &'static str,
    bytes: &'a [u8],
    n_blocks: usize,
) -> Result<&'a [T], KernelError> {
    let expected = n_blocks.saturating_mul(size_of::<T>());
    if bytes.len() != expected {
        return Err(KernelError::BadLength {
            what,
            expected,
            found: bytes.len(),
            unit: "bytes",
        });
    }
    // All block types are align 1, so this cannot fail once the length is right.
    bytemuck::try_cast_slice(bytes).map_err(|_| KernelError::BadLength {
        what,
        expected,
        found: bytes.len(),
        unit: "bytes",
    })
}

macro_rules! checked_vec_dot {
    ($(#[$doc:meta])* $name:ident, $w:ty, $a:ty) => {
        $(#[$doc])*
        pub fn $name(&self, w: &[$w], a: &[$a]) -> Result<f32, KernelError> {
            same_blocks(w.len(), a.len())?;
            // SAFETY: `self` was built for a tier whose features this CPU has
            // (`for_tier` checked), and the kernels only read whole blocks of `w`, `a`.
            Ok(unsafe { (self.$name)(w, a) })
        }
    };
}

impl KernelTable {
    /// The table of `tier`, or an error if this CPU cannot run it.
    pub fn for_tier(tier: Tier) -> Result<&'static KernelTable, KernelError> {
        tier.check_available()?;
        match tier {
            Tier::Scalar => Ok(&SCALAR),
            #[cfg(target_arch = "x86_64")]
            Tier::Avx2 => Ok(&AVX2),
            #[cfg(target_arch = "x86_64")]
            Tier::Avx512 => Ok(&AVX512),
            #[cfg(target_arch = "aarch64")]
            Tier::Neon => Ok(&NEON),
            #[cfg(target_arch = "aarch64")]
            Tier::NeonDotprod => Ok(&NEON_DOTPROD),
            #[allow(unreachable_patterns)]
            _ => Err(KernelError::TierUnavailable {
                tier,
                reason: "no kernels for this tier in this build",
            }),
        }
    }

    /// The scalar reference table.
    pub fn scalar() -> &'static KernelTable {
        &SCALAR
    }

    /// The table of [`best_tier`].
    pub fn best() -> &'static KernelTable {
        Self::for_tier(best_tier()).unwrap_or(&SCALAR)
    }

    /// The table of [`select_tier`] (honours [`TIER_ENV`]).
    pub fn from_env() -> Result<&'static KernelTable, KernelError> {
        Self::for_tier(select_tier()?)
    }

    /// The tier these kernels belong to.
    pub fn tier(&self) -> Tier {
        self.tier
    }

    /// [`crate::ops::attend`] with this tier's kernels: one query head attending to the
    /// cached keys and values (same arguments, same checks). The value accumulation
    /// rounds to f16 exactly as the scalar version does; only the f32 summation order of
    /// the query·key products differs between tiers.
    pub fn attend(
        &self,
        q: &[f32],
        keys: &[f16],
        values: &[f16],
        scale: f32,
        acc: &mut [f16],
        out: &mut [f32],
    ) -> Result<(), KernelError> {
        attention::check_attend(q, keys, values, acc, out)?;
        // SAFETY: `self` was built for a tier whose features this CPU has (`for_tier`
        // checked), and the lengths were checked just above.
        unsafe { (self.attend)(q, keys, values, scale, acc, out) };
        Ok(())
    }

    /// [`crate::ops::attend_tile`] with this tier's kernels: a block of query rows that
    /// share one KV head, each attending to its own span of the cached positions (same
    /// arguments, same checks). Every tier computes each element with the same f32
    /// operations in the same order as the scalar version.
    #[allow(clippy::too_many_arguments)]
    pub fn attend_tile(
        &self,
        q: &[f32],
        spans: &[std::ops::Range<usize>],
        keys: &[f16],
        values: &[f16],
        scale: f32,
        scratch: &mut [f32],
        out: &mut [f32],
    ) -> Result<(), KernelError> {
        attention_tile::check_attend_tile(q, spans, keys, values, scratch, out)?;
        // SAFETY: `self` was built for a tier whose features this CPU has (`for_tier`
        // checked), and the arguments were checked just above.
        unsafe { (self.attend_tile)(q, spans, keys, values, scale, scratch, out) };
        Ok(())
    }

    checked_vec_dot!(
        /// Q4_0 weights · Q8_0 activations (see [`scalar::vec_dot_q4_0_q8_0`]).
        vec_dot_q4_0_q8_0, BlockQ4_0, BlockQ8_0
    );
    checked_vec_dot!(
        /// Q4_1 weights · Q8_1 activations (see [`scalar::vec_dot_q4_1_q8_1`]).
        vec_dot_q4_1_q8_1, BlockQ4_1, BlockQ8_1
    );
    checked_vec_dot!(
        /// Q5_0 weights · Q8_0 activations (see [`scalar::vec_dot_q5_0_q8_0`]).
        vec_dot_q5_0_q8_0, BlockQ5_0, BlockQ8_0
    );
    checked_vec_dot!(
        /// Q5_1 weights · Q8_1 activations (see [`scalar::vec_dot_q5_1_q8_1`]).
        vec_dot_q5_1_q8_1, BlockQ5_1, BlockQ8_1
    );
    checked_vec_dot!(
        /// Q2_K weights · Q8_K activations (see [`scalar::vec_dot_q2_k_q8_k`]).
        vec_dot_q2_k_q8_k, BlockQ2K, BlockQ8K
    );
    checked_vec_dot!(
        /// Q3_K weights · Q8_K activations (see [`scalar::vec_dot_q3_k_q8_k`]).
        vec_dot_q3_k_q8_k, BlockQ3K, BlockQ8K
    );
    checked_vec_dot!(
        /// Q5_K weights · Q8_K activations (see [`scalar::vec_dot_q5_k_q8_k`]).
        vec_dot_q5_k_q8_k, BlockQ5K, BlockQ8K
    );
    checked_vec_dot!(
        /// IQ4_NL weights · Q8_0 activations (see [`scalar::vec_dot_iq4_nl_q8_0`]).
        vec_dot_iq4_nl_q8_0, BlockIQ4_NL, BlockQ8_0
    );
    checked_vec_dot!(
        /// IQ4_XS weights · Q8_K activations (see [`scalar::vec_dot_iq4_xs_q8_k`]).
        vec_dot_iq4_xs_q8_k, BlockIQ4_XS, BlockQ8K
    );
    checked_vec_dot!(
        /// F16 weights · F16 activations, as little-endian bit pairs (see
        /// [`scalar::vec_dot_f16`]).
        vec_dot_f16, [u8; 2], [u8; 2]
    );
    checked_vec_dot!(
        /// BF16 weights · BF16 activations, as little-endian bit pairs (see
        /// [`scalar::vec_dot_bf16`]).
        vec_dot_bf16, [u8; 2], [u8; 2]
    );
    checked_vec_dot!(
        /// Q8_0 weights · Q8_0 activations (see [`scalar::vec_dot_q8_0_q8_0`]).
        vec_dot_q8_0_q8_0, BlockQ8_0, BlockQ8_0
    );
    checked_vec_dot!(
        /// Q4_K weights · Q8_K activations (see [`scalar::vec_dot_q4_k_q8_k`]).
        vec_dot_q4_k_q8_k, BlockQ4K, BlockQ8K
    );
    checked_vec_dot!(
        /// Q6_K weights · Q8_K activations (see [`scalar::vec_dot_q6_k_q8_k`]).
        vec_dot_q6_k_q8_k, BlockQ6K, BlockQ8K
    );
    checked_vec_dot!(
        /// f32 · f32 (see [`scalar::vec_dot_f32`]).
        vec_dot_f32, f32, f32
    );

    /// Quantizes `x` to Q8_0 blocks, bit-exact with `edge_quant`'s reference quantizer.
    pub fn quantize_row_q8_0(&self, x: &[f32], out: &mut [BlockQ8_0]) -> Result<(), KernelError> {
        let expected = out.len().saturating_mul(32);
        if x.len() != expected {
            return Err(KernelError::BadLength {
                what: "row to quantize to Q8_0",
                expected,
                found: x.len(),
                unit: "elements",
            });
        }
        // SAFETY: the table's tier was checked against this CPU; lengths match.
        unsafe { (self.quantize_row_q8_0)(x, out) };
        Ok(())
    }

    /// Quantizes `x` to Q8_K blocks, bit-exact with `edge_quant`'s reference quantizer.
    pub fn quantize_row_q8_k(&self, x: &[f32], out: &mut [BlockQ8K]) -> Result<(), KernelError> {
        let expected = out.len().saturating_mul(256);
        if x.len() != expected {
            return Err(KernelError::BadLength {
                what: "row to quantize to Q8_K",
                expected,
                found: x.len(),
                unit: "elements",
            });
        }
        // SAFETY: the table's tier was checked against this CPU; lengths match.
        unsafe { (self.quantize_row_q8_k)(x, out) };
        Ok(())
    }

    /// Quantizes whole blocks of `x` to Q8_1, bit-exact with edge-quant's reference: the
    /// quants and `d` of this tier's Q8_0 quantizer (the same as Q8_1's), and
    /// `s = f16(Σq · d)` with the unrounded `d = max|x| / 127` computed as the reference
    /// does.
    fn quantize_row_q8_1(&self, x: &[f32], out: &mut [BlockQ8_1]) {
        let mut q = [BlockQ8_0 {
            d: [0; 2],
            qs: [0; 32],
        }];
        for (xb, ob) in x.chunks_exact(32).zip(out) {
            // SAFETY: the table's tier was checked against this CPU; `xb` holds exactly
            // the 32 elements of the one block.
            unsafe { (self.quantize_row_q8_0)(xb, &mut q) };
            let amax = xb
                .iter()
                .fold(0.0f32, |m, v| if m > v.abs() { m } else { v.abs() });
            let d = amax / 127.0;
            let sum: i32 = q[0].qs.iter().map(|&v| i32::from(v)).sum();
            ob.d = q[0].d;
            ob.qs = q[0].qs;
            ob.set_s(sum as f32 * d);
        }
    }

    /// Quantizes the activation row `x` to [`activation_type`]`(weight)`, writing its raw
    /// blocks to `out`.
    pub fn quantize_activation(
        &self,
        weight: GgmlType,
        x: &[f32],
        out: &mut [u8],
    ) -> Result<(), KernelError> {
        let act = activation_type(weight).ok_or(KernelError::Unsupported {
            op: "activation quantization",
            ty: weight,
        })?;
        let n_blocks = row_blocks(act, x.len())?;
        let expected = n_blocks * act.type_size();
        if out.len() != expected {
            return Err(KernelError::BadLength {
                what: "quantized activation buffer",
                expected,
                found: out.len(),
                unit: "bytes",
            });
        }
        if act == GgmlType::Q8_0 {
            // All block types are align 1: this cast cannot fail with the length checked.
            let blocks: &mut [BlockQ8_0] =
                bytemuck::try_cast_slice_mut(out).map_err(|_| KernelError::BadLength {
                    what: "quantized activation buffer",
                    expected,
                    found: expected,
                    unit: "bytes",
                })?;
            return self.quantize_row_q8_0(x, blocks);
        }
        if act == GgmlType::Q8_1 {
            let blocks: &mut [BlockQ8_1] =
                bytemuck::try_cast_slice_mut(out).map_err(|_| KernelError::BadLength {
                    what: "quantized activation buffer",
                    expected,
                    found: expected,
                    unit: "bytes",
                })?;
            self.quantize_row_q8_1(x, blocks);
            return Ok(());
        }
        if act == GgmlType::Q8_K {
            let blocks: &mut [BlockQ8K] =
                bytemuck::try_cast_slice_mut(out).map_err(|_| KernelError::BadLength {
                    what: "quantized activation buffer",
                    expected,
                    found: expected,
                    unit: "bytes",
                })?;
            return self.quantize_row_q8_k(x, blocks);
        }
        edge_quant::quantize(act, x, out).map_err(|_| KernelError::Unsupported {
            op: "activation quantization",
            ty: act,
        })
    }

    /// `out[r] = w[r]·a` for the `out.len()` Q8_0 rows of `a.len()` blocks in `w`: the
    /// tier's row kernel where it has one, else its `vec_dot` per row (equal either way).
    ///
    /// # Safety
    /// `w` holds at least `out.len() · a.len()` blocks.
    pub(crate) unsafe fn dot_rows_q8_0(&self, w: &[BlockQ8_0], a: &[BlockQ8_0], out: &mut [f32]) {
        let nb = a.len();
        if let Some(f) = self.rows.q8_0 {
            // SAFETY: the tier was checked against this CPU; `w` holds `out.len()` rows of
            // `nb` blocks (the caller's promise) and `a` one.
            unsafe { f(bytemuck::cast_slice(w), nb, bytemuck::cast_slice(a), out) };
            return;
        }
        for (r, o) in out.iter_mut().enumerate() {
            // SAFETY: as above; row `r` is inside `w`.
            *o = unsafe { (self.vec_dot_q8_0_q8_0)(&w[r * nb..(r + 1) * nb], a) };
        }
    }

    /// Dot product of one raw weight row of type `weight` with one raw activation row
    /// already quantized to [`activation_type`]`(weight)`, holding the same number of
    /// blocks.
    pub fn vec_dot(&self, weight: GgmlType, w: &[u8], a: &[u8]) -> Result<f32, KernelError> {
        activation_type(weight).ok_or(KernelError::Unsupported {
            op: "vec_dot",
            ty: weight,
        })?;
        if !w.len().is_multiple_of(weight.type_size()) {
            return Err(KernelError::BadLength {
                what: "weight row",
                expected: w.len() / weight.type_size() * weight.type_size(),
                found: w.len(),
                unit: "bytes",
            });
        }
        let n = w.len() / weight.type_size();
        match weight {
            GgmlType::Q4_0 => call(self.vec_dot_q4_0_q8_0, w, a, n),
            GgmlType::Q4_1 => call(self.vec_dot_q4_1_q8_1, w, a, n),
            GgmlType::Q5_0 => call(self.vec_dot_q5_0_q8_0, w, a, n),
            GgmlType::Q5_1 => call(self.vec_dot_q5_1_q8_1, w, a, n),
            GgmlType::Q8_0 => call(self.vec_dot_q8_0_q8_0, w, a, n),
            GgmlType::Q2_K => call(self.vec_dot_q2_k_q8_k, w, a, n),
            GgmlType::Q3_K => call(self.vec_dot_q3_k_q8_k, w, a, n),
            GgmlType::Q4_K => call(self.vec_dot_q4_k_q8_k, w, a, n),
            GgmlType::Q5_K => call(self.vec_dot_q5_k_q8_k, w, a, n),
            GgmlType::Q6_K => call(self.vec_dot_q6_k_q8_k, w, a, n),
            GgmlType::IQ4_NL => call(self.vec_dot_iq4_nl_q8_0, w, a, n),
            GgmlType::IQ4_XS => call(self.vec_dot_iq4_xs_q8_k, w, a, n),
            GgmlType::F16 => call(self.vec_dot_f16, w, a, n),
            GgmlType::BF16 => call(self.vec_dot_bf16, w, a, n),
            GgmlType::F32 => call(self.vec_dot_f32, w, a, n),
            _ => Err(KernelError::Unsupported {
                op: "vec_dot",
                ty: weight,
            }),
        }
    }
}

/// Calls a table entry on raw rows after checking both hold exactly `n` blocks.
pub(crate) fn call<W: bytemuck::Pod, A: bytemuck::Pod>(
    f: VecDot<W, A>,
    w: &[u8],
    a: &[u8],
    n: usize,
) -> Result<f32, KernelError> {
    let (w, a) = (blocks("weight row", w, n)?, blocks("activation row", a, n)?);
    // SAFETY: `f` comes from a table whose tier was checked against this CPU (tables are
    // only handed out by `KernelTable::for_tier`); both rows hold whole blocks.
    Ok(unsafe { f(w, a) })
}

/// The number of `ty` blocks in a row of `n` elements, or an error if it is not whole.
pub(crate) fn row_blocks(ty: GgmlType, n: usize) -> Result<usize, KernelError> {
    let block = ty.block_size();
    if !n.is_multiple_of(block) {
        return Err(KernelError::NotBlockMultiple { ty, n, block });
    }
    Ok(n / block)
}

impl fmt::Debug for KernelTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KernelTable")
            .field("tier", &self.tier)
            .finish_non_exhaustive()
    }
}
