//! The per-tensor type choice of llama.cpp's quantization mixes.
//!
//! The rules are llama.cpp's (`src/llama-quant.cpp`), restated for the file types edge can
//! produce and without importance-matrix variants (edge does not take an imatrix). They are
//! stateful: some depend on how many `attn_v` / `ffn_down` tensors came before, so a
//! [`Planner`] must see the tensors in llama.cpp's visiting order.

use super::category::{allows_quantization, layer_of, Category};
use super::{FileType, ModelFacts, QuantTarget, Reason, RecipeError, TensorDesc};
use edge_formats::GgmlType;

/// Chooses tensor types one tensor at a time, keeping the layer counters the rules need.
pub(crate) struct Planner<'a> {
    facts: &'a ModelFacts,
    target: QuantTarget,
    /// No `output.weight`: the token embeddings double as the output projection, so they
    /// get the output's type.
    tied_embeddings: bool,
    n_attn_v: i64,
    i_attn_v: i64,
    n_ffn_down: i64,
    i_ffn_down: i64,
}

/// A rule's verdict: the type, and a short description of the rule for the plan's reason.
type Choice = (GgmlType, &'static str);

/// llama.cpp's "use more bits" layer pattern: the first and last eighth of the layers, and
/// every third layer in between.
fn use_more_bits(i_layer: i64, n_layers: i64) -> bool {
    i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2
}

/// The type to use when `ty`'s blocks do not tile a row of `row_len` elements: a 32-element
/// block type of similar size, or f16 when even that does not fit. `None` if `ty` fits.
pub(crate) fn fallback(ty: GgmlType, row_len: u64) -> Option<GgmlType> {
    use GgmlType::*;
    if row_len % ty.block_size() as u64 == 0 {
        return None;
    }
    let smaller = match ty {
        IQ1_S | IQ1_M | IQ2_XXS | IQ2_XS | IQ2_S | IQ3_XXS | IQ3_S | IQ4_XS => IQ4_NL,
        Q2_K | Q3_K | TQ1_0 | TQ2_0 => Q4_0,
        Q4_K => Q5_0,
        Q5_K => Q5_1,
        Q6_K => Q8_0,
        // Other 256-blocks (only Q8_K, never a target) have no 32-block sibling; 32-blocks
        // have nothing smaller. Both end at f16 below.
        other => other,
    };
    if row_len % smaller.block_size() as u64 == 0 {
        Some(smaller)
    } else {
        Some(F16)
    }
}

impl<'a> Planner<'a> {
    /// A planner for a model with these tensor names (all of them, in any order).
    pub(crate) fn new(facts: &'a ModelFacts, target: QuantTarget, names: &[&str]) -> Self {
        let n_attn_v = names
            .iter()
            .filter(|n| Category::of(n) == Category::AttnV)
            .count();
        Planner {
            facts,
            target,
            tied_embeddings: !names.iter().any(|n| Category::of(n) == Category::Output),
            n_attn_v: n_attn_v as i64,
            i_attn_v: 0,
            n_ffn_down: i64::from(facts.n_layer),
            i_ffn_down: 0,
        }
    }

    /// The type for `t`, and why. Must be called in llama.cpp's visiting order.
    pub(crate) fn choose(&mut self, t: &TensorDesc<'_>) -> Result<(GgmlType, Reason), RecipeError> {
        if let Err(why) = allows_quantization(t.name, t.dims) {
            return Ok((t.ggml_type, Reason::Kept(why)));
        }
        let default = self.target.default_type();
        // Float targets convert every weight, with no per-tensor rules.
        if !default.is_quantized() {
            return Ok((default, Reason::Default));
        }
        let chosen = match self.target {
            QuantTarget::Single(_) => None,
            QuantTarget::Mix(ft) => self.mix_rule(ft, default, t)?,
        };
        let (ty, reason) = match chosen {
            Some((ty, why)) if ty != default => (ty, Reason::Rule(why)),
            _ => (default, Reason::Default),
        };
        let row_len = t.dims.first().copied().unwrap_or(1);
        Ok(match fallback(ty, row_len) {
            Some(smaller) => (smaller, Reason::Fallback { wanted: ty }),
            None => (ty, reason),
        })
    }

    /// The layer index and count a layer-dependent rule uses. In a mixture-of-experts model
    /// the expert tensors of a layer are not consecutive, so the layer comes from the name;
    /// otherwise it is the running count of tensors of that kind.
    fn layer_info(&self, counter: i64, name: &str) -> Result<(i64, i64), RecipeError> {
        let n_layer = i64::from(self.facts.n_layer);
        if self.facts.n_expert <= 1 {
            return Ok((counter, self.n_ffn_down));
        }
        let layer = layer_of(name).ok_or_else(|| RecipeError::NoLayer(name.to_string()))?;
        if !(0..n_layer).contains(&layer) {
            return Err(RecipeError::LayerOutOfRange {
                tensor: name.to_string(),
                layer,
                n_layer: self.facts.n_layer,
            });
        }
        Ok((layer, n_layer))
    }

    fn mix_rule(
        &mut self,
        ft: FileType,
        default: GgmlType,
        t: &TensorDesc<'_>,
    ) -> Result<Option<Choice>, RecipeError> {
        use FileType as F;
        use GgmlType as G;
        let facts = self.facts;
        let falcon = facts.arch == "falcon";
        let eight_experts = facts.n_expert == 8;
        let category = Category::of(t.name);

        let choice = match category {
            Category::Output | Category::TokenEmbd
                if category == Category::Output || self.tied_embeddings =>
            {
                let row_len = t.dims.first().copied().unwrap_or(1);
                if falcon || row_len % default.block_size() as u64 != 0 {
                    Some((G::Q8_0, "output projection: q8_0 (row length or falcon)"))
                } else if default != G::Q8_0 {
                    Some((G::Q6_K, "output projection: q6_K"))
                } else {
                    None
                }
            }
            Category::AttnV => {
                let (i, n) = (self.i_attn_v, self.n_attn_v);
                let gqa4 = facts.n_gqa() >= 4;
                let mut ty = match ft {
                    F::Q2_K if gqa4 => Some(G::Q4_K),
                    F::Q2_K => Some(G::Q3_K),
                    F::Q3_K_M if i < 2 => Some(G::Q5_K),
                    F::Q3_K_M => Some(G::Q4_K),
                    F::Q3_K_L => Some(G::Q5_K),
                    F::IQ4_NL | F::IQ4_XS if gqa4 => Some(G::Q5_K),
                    F::Q4_K_M | F::Q5_K_M if use_more_bits(i, n) => Some(G::Q6_K),
                    F::Q4_K_S if i < 4 => Some(G::Q5_K),
                    _ => None,
                };
                // In 70B models eight heads share each attn_v, which makes it small enough
                // to afford more bits.
                if facts.is_70b() && matches!(ty.unwrap_or(default), G::Q3_K | G::Q4_K) {
                    ty = Some(G::Q5_K);
                }
                if eight_experts {
                    ty = Some(G::Q8_0);
                }
                self.i_attn_v += 1;
                ty.map(|ty| (ty, "attn_v: more bits"))
            }
            Category::AttnK if eight_experts => Some((G::Q8_0, "attn_k of 8-expert model")),
            Category::FfnDown => {
                let (i, n) = self.layer_info(self.i_ffn_down, t.name)?;
                let ty = match ft {
                    F::Q2_K => Some(G::Q3_K),
                    F::Q3_K_M if i < n / 16 => Some(G::Q5_K),
                    F::Q3_K_M if !falcon || use_more_bits(i, n) => Some(G::Q4_K),
                    F::Q3_K_M => Some(G::Q3_K),
                    F::Q3_K_L if falcon => Some(G::Q4_K),
                    F::Q3_K_L => Some(G::Q5_K),
                    F::Q4_K_M if falcon && i < n / 16 => Some(G::Q6_K),
                    F::Q4_K_M if falcon && use_more_bits(i, n) => Some(G::Q5_K),
                    F::Q4_K_M if falcon => Some(G::Q4_K),
                    F::Q4_K_M if use_more_bits(i, n) => Some(G::Q6_K),
                    F::IQ4_NL | F::IQ4_XS if i < n / 8 => Some(G::Q5_K),
                    F::Q5_K_M if use_more_bits(i, n) => Some(G::Q6_K),
                    F::Q4_K_S if !falcon && i < n / 8 => Some(G::Q5_K),
                    _ => None,
                };
                self.i_ffn_down += 1;
                ty.map(|ty| (ty, "ffn_down: more bits"))
            }
            Category::AttnOutput if !falcon && eight_experts => match ft {
                F::Q2_K | F::Q3_K_S | F::Q3_K_M | F::IQ4_NL | F::Q4_K_S | F::Q4_K_M | F::IQ4_XS => {
                    Some((G::Q5_K, "attn_output of 8-expert model"))
                }
                _ => None,
            },
            Category::AttnOutput if !falcon => match ft {
                F::Q2_K => Some(G::Q3_K),
                F::Q3_K_M => Some(G::Q4_K),
                F::Q3_K_L => Some(G::Q5_K),
                _ => None,
            }
            .map(|ty| (ty, "attn_output: more bits")),
            Category::AttnOutput => match ft {
                F::Q3_K_L => Some((G::Q4_K, "attn_output: more bits")),
                _ => None,
            },
            _ => None,
        };
        Ok(choice)
    }
}
