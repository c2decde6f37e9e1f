//! Quantization recipes: which type each tensor of a model gets.
//!
//! `edge-run quantize IN OUT q4_k_m` must choose, tensor by tensor, the same types as
//! `llama-quantize IN OUT Q4_K_M`, so that files and quality numbers are comparable across
//! the two. The choice is pure logic on tensor names, shapes and a few hyper-parameters;
//! it lives here, apart from the byte pushing in [`crate::model`].
//!
//! - [`QuantTarget`]: what the user asked for (a llama.cpp file type, or one tensor type).
//! - [`plan`] / [`plan_tensors`]: the [`TensorPlan`] of every tensor, in file order.

mod category;
mod facts;
mod ftype;
mod rules;
mod target;

pub use facts::ModelFacts;
pub use ftype::{file_type_name, FileType};
pub use target::QuantTarget;

use edge_formats::{GgmlType, GgufFile};
use std::fmt;

/// Why a target could not be parsed, or a plan not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecipeError {
    /// The name is no type or mix that edge knows.
    #[error("unknown quantization type '{0}'; valid types: {valid}", valid = QuantTarget::valid_names().join(", "))]
    UnknownTarget(String),
    /// q8_1 / q8_K only exist as the other operand of quantized dot products.
    #[error(
        "{0} is an intermediate type for dot products, not a type for stored weights; use q8_0"
    )]
    IntermediateType(GgmlType),
    /// A llama.cpp type or mix that edge cannot produce.
    #[error("quantizing to {0} is not supported by edge; valid types: {valid}", valid = QuantTarget::valid_names().join(", "))]
    UnsupportedTarget(String),
    /// A mixture-of-experts tensor whose layer the rules need has no `blk.N.` prefix.
    #[error("tensor {0}: cannot tell its layer (expected a name starting with blk.N.)")]
    NoLayer(String),
    /// A tensor names a layer beyond the model's `block_count`.
    #[error("tensor {tensor}: layer {layer} is outside the model's {n_layer} layers")]
    LayerOutOfRange {
        /// Tensor name.
        tensor: String,
        /// Layer read from the name.
        layer: i64,
        /// The model's layer count.
        n_layer: u32,
    },
}

/// A tensor as the recipe sees it.
#[derive(Debug, Clone, Copy)]
pub struct TensorDesc<'a> {
    /// Tensor name, e.g. `blk.0.attn_v.weight`.
    pub name: &'a str,
    /// Shape in ggml order: `dims[0]` is the row length.
    pub dims: &'a [u64],
    /// Current type.
    pub ggml_type: GgmlType,
}

/// Why a tensor gets its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The tensor is not quantized by any recipe (norm, 1-D, …) and keeps its type.
    Kept(&'static str),
    /// The target's default type.
    Default,
    /// A rule of the mix picked a different type.
    Rule(&'static str),
    /// The row length is not a multiple of `wanted`'s block size; a smaller-block type
    /// (or f16) stands in.
    Fallback {
        /// The type the rules chose before the fallback.
        wanted: GgmlType,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Kept(why) => write!(f, "kept ({why})"),
            Reason::Default => f.write_str("default type"),
            Reason::Rule(rule) => f.write_str(rule),
            Reason::Fallback { wanted } => {
                write!(
                    f,
                    "fallback: row length not a multiple of the {wanted} block"
                )
            }
        }
    }
}

/// The decision for one tensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorPlan {
    /// Tensor name.
    pub name: String,
    /// Type in the input.
    pub from: GgmlType,
    /// Type in the output.
    pub to: GgmlType,
    /// Why `to` was chosen.
    pub reason: Reason,
}

impl TensorPlan {
    /// Whether the tensor's bytes change (otherwise they are copied verbatim).
    pub fn converts(&self) -> bool {
        self.from != self.to
    }
}

/// Plans every tensor of `file` for `target`, in file order.
pub fn plan(file: &GgufFile, target: QuantTarget) -> Result<Vec<TensorPlan>, RecipeError> {
    let facts = ModelFacts::from_gguf(file);
    let descs: Vec<TensorDesc<'_>> = file
        .tensors()
        .iter()
        .map(|t| TensorDesc {
            name: &t.name,
            dims: &t.dims,
            ggml_type: t.ggml_type,
        })
        .collect();
    plan_tensors(&facts, &descs, target)
}

/// Plans `tensors` (all tensors of one model) for `target`; the result is in the order of
/// `tensors`.
pub fn plan_tensors(
    facts: &ModelFacts,
    tensors: &[TensorDesc<'_>],
    target: QuantTarget,
) -> Result<Vec<TensorPlan>, RecipeError> {
    let names: Vec<&str> = tensors.iter().map(|t| t.name).collect();
    let mut planner = rules::Planner::new(facts, target, &names);
    let mut plans: Vec<Option<TensorPlan>> = vec![None; tensors.len()];
    for i in category::llama_visit_order(&names) {
        let t = &tensors[i];
        let (to, reason) = planner.choose(t)?;
        plans[i] = Some(TensorPlan {
            name: t.name.to_string(),
            from: t.ggml_type,
            to,
            reason,
        });
    }
    Ok(plans.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests;
