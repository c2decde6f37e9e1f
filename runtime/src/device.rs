//! Where a model runs.
//!
//! Model code is written once against a small set of operations; the [`Device`] chosen at
//! load time decides which backend executes them. Only the CPU exists today; GPU backends
//! (Vulkan, CUDA) will be further variants, and a model whose operations a backend lacks
//! will fail to load rather than fall back to the CPU per token.

/// The compute device a model is loaded for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Device {
    /// The CPU, with the best SIMD kernels this machine supports (or the tier forced by
    /// `EDGE_CPU_TIER`).
    #[default]
    Cpu,
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
        }
    }
}
