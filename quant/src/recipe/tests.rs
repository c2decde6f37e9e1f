//! The mix rules on synthetic models. Every expectation is written from llama.cpp's rules
//! (`llama_tensor_get_type_impl` and `tensor_type_fallback` in `src/llama-quant.cpp`), one
//! rule per test; the end-to-end comparison with real `llama-quantize` output is in
//! `cli/tests/`.

use super::*;
use GgmlType as G;

/// A synthetic dense transformer: `n_layer` layers of llama-style tensors with rows of
/// `embd` elements, `ffn` hidden, plus embeddings, final norm and (unless `tied`) output.
struct Model {
    tensors: Vec<(String, Vec<u64>, GgmlType)>,
}

impl Model {
    fn dense(n_layer: u32, embd: u64, ffn: u64, tied: bool) -> Model {
        let mut tensors = vec![("token_embd.weight".to_string(), vec![embd, 32000], G::F16)];
        for i in 0..n_layer {
            let b = format!("blk.{i}.");
            for (n, dims) in [
                ("attn_norm.weight", vec![embd]),
                ("attn_q.weight", vec![embd, embd]),
                ("attn_k.weight", vec![embd, embd / 4]),
                ("attn_v.weight", vec![embd, embd / 4]),
                ("attn_output.weight", vec![embd, embd]),
                ("ffn_norm.weight", vec![embd]),
                ("ffn_gate.weight", vec![embd, ffn]),
                ("ffn_up.weight", vec![embd, ffn]),
                ("ffn_down.weight", vec![ffn, embd]),
            ] {
                let ty = if dims.len() == 1 { G::F32 } else { G::F16 };
                tensors.push((format!("{b}{n}"), dims, ty));
            }
        }
        tensors.push(("output_norm.weight".into(), vec![embd], G::F32));
        if !tied {
            tensors.push(("output.weight".into(), vec![embd, 32000], G::F16));
        }
        Model { tensors }
    }

    fn descs(&self) -> Vec<TensorDesc<'_>> {
        self.tensors
            .iter()
            .map(|(n, d, t)| TensorDesc {
                name: n,
                dims: d,
                ggml_type: *t,
            })
            .collect()
    }

    fn plan(&self, facts: &ModelFacts, target: &str) -> Vec<TensorPlan> {
        let target = QuantTarget::parse(target).unwrap();
        plan_tensors(facts, &self.descs(), target).unwrap()
    }
}

fn llama(n_layer: u32, n_head: u32, n_head_kv: u32) -> ModelFacts {
    ModelFacts {
        arch: "llama".into(),
        n_layer,
        n_head,
        n_head_kv,
        n_expert: 0,
    }
}

fn type_of(plans: &[TensorPlan], name: &str) -> GgmlType {
    plans
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no tensor {name}"))
        .to
}

/// The types of `blk.{i}.{suffix}` for every layer.
fn per_layer(plans: &[TensorPlan], n_layer: u32, suffix: &str) -> Vec<GgmlType> {
    (0..n_layer)
        .map(|i| type_of(plans, &format!("blk.{i}.{suffix}")))
        .collect()
}

/// Layers in which llama.cpp's `use_more_bits` holds for a 32-layer model:
/// i < 4, i >= 28, or (i - 4) % 3 == 2.
const MORE_BITS_32: [u32; 16] = [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31];

fn pattern(n_layer: u32, hit: &[u32], yes: GgmlType, no: GgmlType) -> Vec<GgmlType> {
    (0..n_layer)
        .map(|i| if hit.contains(&i) { yes } else { no })
        .collect()
}

#[test]
fn norms_and_1d_tensors_keep_their_type() {
    let m = Model::dense(2, 4096, 11008, false);
    let p = m.plan(&llama(2, 32, 8), "q4_k_m");
    assert_eq!(type_of(&p, "blk.0.attn_norm.weight"), G::F32);
    assert_eq!(type_of(&p, "output_norm.weight"), G::F32);
    let norm = p.iter().find(|t| t.name == "output_norm.weight").unwrap();
    assert!(matches!(norm.reason, Reason::Kept(_)));
    assert!(!norm.converts());
}

#[test]
fn q4_k_m_gives_q6_k_to_attn_v_and_ffn_down_in_more_bits_layers() {
    let m = Model::dense(32, 4096, 11008, false);
    let p = m.plan(&llama(32, 32, 8), "q4_k_m");
    let expected = pattern(32, &MORE_BITS_32, G::Q6_K, G::Q4_K);
    assert_eq!(per_layer(&p, 32, "attn_v.weight"), expected);
    assert_eq!(per_layer(&p, 32, "ffn_down.weight"), expected);
    assert_eq!(per_layer(&p, 32, "attn_q.weight"), vec![G::Q4_K; 32]);
    assert_eq!(per_layer(&p, 32, "attn_output.weight"), vec![G::Q4_K; 32]);
    assert_eq!(type_of(&p, "output.weight"), G::Q6_K);
    // Untied token embeddings take the default type.
    assert_eq!(type_of(&p, "token_embd.weight"), G::Q4_K);
}

#[test]
fn q5_k_m_uses_the_same_layer_pattern() {
    let m = Model::dense(32, 4096, 11008, false);
    let p = m.plan(&llama(32, 32, 8), "q5_k_m");
    let expected = pattern(32, &MORE_BITS_32, G::Q6_K, G::Q5_K);
    assert_eq!(per_layer(&p, 32, "attn_v.weight"), expected);
    assert_eq!(per_layer(&p, 32, "ffn_down.weight"), expected);
    assert_eq!(type_of(&p, "output.weight"), G::Q6_K);
}

#[test]
fn q4_k_s_bumps_first_four_attn_v_and_first_eighth_ffn_down() {
    let m = Model::dense(32, 4096, 11008, false);
    let p = m.plan(&llama(32, 32, 8), "q4_k_s");
    assert_eq!(
        per_layer(&p, 32, "attn_v.weight"),
        pattern(32, &[0, 1, 2, 3], G::Q5_K, G::Q4_K)
    );
    assert_eq!(
        per_layer(&p, 32, "ffn_down.weight"),
        pattern(32, &[0, 1, 2, 3], G::Q5_K, G::Q4_K)
    );
}

#[test]
fn q3_k_m_rules() {
    let m = Model::dense(32, 4096, 11008, false);
    let p = m.plan(&llama(32, 32, 8), "q3_k_m");
    // attn_v: the first two get q5_K, the rest q4_K.
    assert_eq!(
        per_layer(&p, 32, "attn_v.weight"),
        pattern(32, &[0, 1], G::Q5_K, G::Q4_K)
    );
    // ffn_down: q5_K for i < n/16, else q4_K (not falcon).
    assert_eq!(
        per_layer(&p, 32, "ffn_down.weight"),
        pattern(32, &[0, 1], G::Q5_K, G::Q4_K)
    );
    assert_eq!(per_layer(&p, 32, "attn_output.weight"), vec![G::Q4_K; 32]);
    assert_eq!(per_layer(&p, 32, "ffn_up.weight"), vec![G::Q3_K; 32]);
    assert_eq!(type_of(&p, "output.weight"), G::Q6_K);
}

#[test]
fn q3_k_s_and_l() {
    let m = Model::dense(8, 4096, 11008, false);
    let s = m.plan(&llama(8, 32, 8), "q3_k_s");
    assert_eq!(per_layer(&s, 8, "attn_v.weight"), vec![G::Q3_K; 8]);
    assert_eq!(per_layer(&s, 8, "ffn_down.weight"), vec![G::Q3_K; 8]);
    assert_eq!(type_of(&s, "output.weight"), G::Q6_K);
    let l = m.plan(&llama(8, 32, 8), "q3_k_l");
    assert_eq!(per_layer(&l, 8, "attn_v.weight"), vec![G::Q5_K; 8]);
    assert_eq!(per_layer(&l, 8, "ffn_down.weight"), vec![G::Q5_K; 8]);
    assert_eq!(per_layer(&l, 8, "attn_output.weight"), vec![G::Q5_K; 8]);
    assert_eq!(per_layer(&l, 8, "attn_k.weight"), vec![G::Q3_K; 8]);
}

#[test]
fn q2_k_attn_v_depends_on_gqa() {
    let m = Model::dense(4, 4096, 11008, false);
    let gqa4 = m.plan(&llama(4, 32, 8), "q2_k");
    assert_eq!(per_layer(&gqa4, 4, "attn_v.weight"), vec![G::Q4_K; 4]);
    let gqa3 = m.plan(&llama(4, 9, 3), "q2_k");
    assert_eq!(per_layer(&gqa3, 4, "attn_v.weight"), vec![G::Q3_K; 4]);
    for p in [&gqa4, &gqa3] {
        assert_eq!(per_layer(p, 4, "ffn_down.weight"), vec![G::Q3_K; 4]);
        assert_eq!(per_layer(p, 4, "attn_output.weight"), vec![G::Q3_K; 4]);
        assert_eq!(per_layer(p, 4, "attn_q.weight"), vec![G::Q2_K; 4]);
        assert_eq!(type_of(p, "output.weight"), G::Q6_K);
    }
}

#[test]
fn q6_k_and_legacy_types_put_output_in_q6_k_but_q8_0_keeps_q8_0() {
    let m = Model::dense(2, 4096, 11008, false);
    for (target, default) in [
        ("q6_k", G::Q6_K),
        ("q4_0", G::Q4_0),
        ("q4_1", G::Q4_1),
        ("q5_0", G::Q5_0),
        ("q5_1", G::Q5_1),
    ] {
        let p = m.plan(&llama(2, 32, 8), target);
        assert_eq!(type_of(&p, "output.weight"), G::Q6_K, "{target}");
        assert_eq!(type_of(&p, "token_embd.weight"), default, "{target}");
        assert_eq!(type_of(&p, "blk.1.attn_v.weight"), default, "{target}");
        assert_eq!(type_of(&p, "blk.0.ffn_down.weight"), default, "{target}");
    }
    let p = m.plan(&llama(2, 32, 8), "q8_0");
    assert_eq!(type_of(&p, "output.weight"), G::Q8_0);
}

#[test]
fn tied_embeddings_get_the_output_type() {
    let m = Model::dense(2, 4096, 11008, true);
    let p = m.plan(&llama(2, 32, 8), "q4_0");
    assert_eq!(type_of(&p, "token_embd.weight"), G::Q6_K);
    let p = m.plan(&llama(2, 32, 8), "q8_0");
    assert_eq!(type_of(&p, "token_embd.weight"), G::Q8_0);
}

#[test]
fn output_row_not_multiple_of_default_block_is_q8_0() {
    // 576 % 256 != 0: the output rule picks q8_0 directly (no q6_K attempt).
    let m = Model::dense(2, 576, 1536, false);
    let p = m.plan(&llama(2, 9, 3), "q4_k_m");
    assert_eq!(type_of(&p, "output.weight"), G::Q8_0);
    assert_eq!(
        p.iter().find(|t| t.name == "output.weight").unwrap().reason,
        Reason::Rule("output projection: q8_0 (row length or falcon)")
    );
}

#[test]
fn fallbacks_for_rows_not_multiple_of_256() {
    // Rows of 576 = 18 × 32 but not a multiple of 256; ffn_down rows are 1536 = 6 × 256.
    let m = Model::dense(8, 576, 1536, true);
    let f = llama(8, 9, 3);
    let p = m.plan(&f, "q4_k_m");
    assert_eq!(type_of(&p, "blk.1.attn_q.weight"), G::Q5_0); // q4_K -> q5_0
                                                             // 8 layers: use_more_bits holds for layers 0, 3, 6 and 7.
    assert_eq!(type_of(&p, "blk.0.attn_v.weight"), G::Q8_0); // q6_K -> q8_0
    assert_eq!(type_of(&p, "blk.1.attn_v.weight"), G::Q5_0); // q4_K -> q5_0
    assert_eq!(type_of(&p, "blk.3.attn_v.weight"), G::Q8_0);
    assert_eq!(type_of(&p, "blk.0.ffn_down.weight"), G::Q6_K); // fits, no fallback
    assert_eq!(type_of(&p, "blk.1.ffn_down.weight"), G::Q4_K);
    assert_eq!(
        p.iter()
            .find(|t| t.name == "blk.1.attn_q.weight")
            .unwrap()
            .reason,
        Reason::Fallback { wanted: G::Q4_K }
    );
    let p = m.plan(&f, "q5_k_s");
    assert_eq!(type_of(&p, "blk.1.attn_q.weight"), G::Q5_1); // q5_K -> q5_1
    let p = m.plan(&f, "q2_k");
    assert_eq!(type_of(&p, "blk.1.attn_q.weight"), G::Q4_0); // q2_K -> q4_0
    assert_eq!(type_of(&p, "blk.1.attn_v.weight"), G::Q4_0); // q3_K -> q4_0
    let p = m.plan(&f, "iq4_xs");
    assert_eq!(type_of(&p, "blk.1.attn_q.weight"), G::IQ4_NL); // iq4_xs -> iq4_nl
}

#[test]
fn rows_not_multiple_of_32_fall_back_to_f16() {
    let m = Model::dense(2, 40, 64, false);
    for target in ["q4_0", "q8_0", "q4_k_m", "iq4_nl"] {
        let p = m.plan(&llama(2, 4, 1), target);
        assert_eq!(type_of(&p, "blk.0.attn_q.weight"), G::F16, "{target}");
        // The output rule picks q8_0 (40 % block != 0), which then falls back to f16.
        assert_eq!(type_of(&p, "output.weight"), G::F16, "{target}");
    }
    // ffn_down rows are 64 elements: 32-block types fit.
    let p = m.plan(&llama(2, 4, 1), "q4_0");
    assert_eq!(type_of(&p, "blk.0.ffn_down.weight"), G::Q4_0);
}

#[test]
fn iq4_mixes() {
    let m = Model::dense(16, 4096, 11008, false);
    let p = m.plan(&llama(16, 32, 8), "iq4_nl");
    assert_eq!(per_layer(&p, 16, "attn_v.weight"), vec![G::Q5_K; 16]);
    assert_eq!(
        per_layer(&p, 16, "ffn_down.weight"),
        pattern(16, &[0, 1], G::Q5_K, G::IQ4_NL)
    );
    assert_eq!(type_of(&p, "output.weight"), G::Q6_K);
    // Without GQA >= 4, attn_v keeps the default.
    let p = m.plan(&llama(16, 32, 32), "iq4_xs");
    assert_eq!(per_layer(&p, 16, "attn_v.weight"), vec![G::IQ4_XS; 16]);
}

#[test]
fn float_targets_convert_every_weight_without_rules() {
    let m = Model::dense(2, 576, 1536, true);
    for (target, ty) in [("f16", G::F16), ("bf16", G::BF16), ("f32", G::F32)] {
        let p = m.plan(&llama(2, 9, 3), target);
        for t in &p {
            if t.name.contains("norm") {
                assert_eq!(t.to, G::F32);
            } else {
                assert_eq!(t.to, ty, "{} for {target}", t.name);
            }
        }
    }
}

#[test]
fn single_type_applies_everywhere_with_fallbacks() {
    let m = Model::dense(8, 4096, 11008, false);
    let p = m.plan(&llama(8, 32, 8), "q4_k");
    for t in p.iter().filter(|t| !t.name.contains("norm")) {
        assert_eq!(t.to, G::Q4_K, "{}", t.name);
    }
    let m = Model::dense(2, 576, 1536, true);
    let p = m.plan(&llama(2, 9, 3), "q5_k");
    assert_eq!(type_of(&p, "token_embd.weight"), G::Q5_1);
    assert_eq!(type_of(&p, "blk.0.ffn_down.weight"), G::Q5_K);
}

#[test]
fn seventy_b_attn_v_gets_q5_k() {
    let m = Model::dense(80, 256, 512, false);
    let f = llama(80, 64, 8);
    assert!(f.is_70b());
    let p = m.plan(&f, "q3_k_s");
    assert_eq!(per_layer(&p, 80, "attn_v.weight"), vec![G::Q5_K; 80]);
    // q4_K_M: q6_K in the more-bits layers stays, q4_K elsewhere becomes q5_K.
    let p = m.plan(&f, "q4_k_m");
    assert_eq!(type_of(&p, "blk.0.attn_v.weight"), G::Q6_K);
    assert_eq!(type_of(&p, "blk.10.attn_v.weight"), G::Q5_K);
}

#[test]
fn falcon_rules() {
    let m = Model::dense(32, 4096, 11008, false);
    let f = ModelFacts {
        arch: "falcon".into(),
        ..llama(32, 32, 8)
    };
    let p = m.plan(&f, "q4_k_m");
    assert_eq!(type_of(&p, "output.weight"), G::Q8_0);
    // ffn_down: q6_K for i < n/16, q5_K where use_more_bits, else q4_K.
    let expected: Vec<GgmlType> = (0..32)
        .map(|i| {
            if i < 2 {
                G::Q6_K
            } else if MORE_BITS_32.contains(&i) {
                G::Q5_K
            } else {
                G::Q4_K
            }
        })
        .collect();
    assert_eq!(per_layer(&p, 32, "ffn_down.weight"), expected);
    let p = m.plan(&f, "q3_k_l");
    assert_eq!(per_layer(&p, 32, "ffn_down.weight"), vec![G::Q4_K; 32]);
    assert_eq!(per_layer(&p, 32, "attn_output.weight"), vec![G::Q4_K; 32]);
}

#[test]
fn eight_expert_models() {
    let mut tensors = vec![];
    for i in [1u32, 0] {
        for n in ["attn_v", "attn_k", "attn_output", "attn_q"] {
            tensors.push((format!("blk.{i}.{n}.weight"), vec![4096u64, 1024], G::F16));
        }
        tensors.push((
            format!("blk.{i}.ffn_down_exps.weight"),
            vec![14336, 4096, 8],
            G::F16,
        ));
    }
    tensors.push(("output.weight".into(), vec![4096, 32000], G::F16));
    let m = Model { tensors };
    let f = ModelFacts {
        n_expert: 8,
        ..llama(16, 32, 8)
    };
    let p = m.plan(&f, "q4_k_m");
    assert_eq!(type_of(&p, "blk.0.attn_v.weight"), G::Q8_0);
    assert_eq!(type_of(&p, "blk.0.attn_k.weight"), G::Q8_0);
    assert_eq!(type_of(&p, "blk.0.attn_output.weight"), G::Q5_K);
    assert_eq!(type_of(&p, "blk.0.attn_q.weight"), G::Q4_K);
    // Expert ffn_down: the layer comes from the name. 16 layers: use_more_bits(0) and
    // (1) hold (i < 2).
    assert_eq!(type_of(&p, "blk.1.ffn_down_exps.weight"), G::Q6_K);
}

#[test]
fn moe_tensor_without_layer_is_an_error() {
    let m = Model {
        tensors: vec![("ffn_down_exps.weight".into(), vec![256, 256, 4], G::F16)],
    };
    let f = ModelFacts {
        n_expert: 4,
        ..llama(2, 4, 1)
    };
    let descs = m.descs();
    let target = QuantTarget::parse("q4_k_m").unwrap();
    assert_eq!(
        plan_tensors(&f, &descs, target),
        Err(RecipeError::NoLayer("ffn_down_exps.weight".into()))
    );
    let m = Model {
        tensors: vec![(
            "blk.7.ffn_down_exps.weight".into(),
            vec![256, 256, 4],
            G::F16,
        )],
    };
    assert!(matches!(
        plan_tensors(&f, &m.descs(), target),
        Err(RecipeError::LayerOutOfRange { layer: 7, .. })
    ));
}

#[test]
fn file_order_does_not_change_the_plan() {
    let m = Model::dense(12, 4096, 11008, false);
    let f = llama(12, 32, 8);
    let straight = m.plan(&f, "q3_k_m");
    let mut rev = Model {
        tensors: m.tensors.clone(),
    };
    rev.tensors.reverse();
    let mut reversed = rev.plan(&f, "q3_k_m");
    // Plans come back in input order.
    assert_eq!(reversed[0].name, "output.weight");
    reversed.reverse();
    assert_eq!(straight, reversed);
}
