//! The LLM forward pass on files of the other quant types, against llama.cpp on the same
//! files.
//!
//! Each golden `tests/golden/quant-parity/<model>-<type>.json` was made by
//! `tests/refgen/llamacpp_quant_refs.sh`: llama.cpp's `llama-quantize --allow-requantize`
//! turned a test model (SmolLM2 Q4_1, Gemma3 Q4_K_M) into `<type>`, and libllama ran it
//! (`tests/refgen/llamacpp_reference.c`: CPU, 2 threads, f16 KV cache) on the inputs of
//! `shared/reference/inputs`. Here edge's own quantizer makes the file from the same model
//! with the same target (what `edge-run quantize --allow-requantize MODEL OUT <type>` does), and
//! the test checks:
//!
//! - the file is llama-quantize's: its sha256 equals the golden's (same metadata, tensor
//!   order, types and bytes);
//! - perplexity of the first 512 tokens of the text, in one window, within 1% of llama.cpp's
//!   on that file — with either of llama.cpp's CPU attention paths: its default (flash
//!   attention, as for shared/reference) or `--flash-attn off` (`perplexity_flash_attn_off`).
//!   On these requantized files the two paths themselves land up to 1.1% apart (smollm2-q4_k),
//!   so llama.cpp's own rounding spans about the whole 1%;
//! - top-1 token at the prompt positions equal to llama.cpp's on at least 90% of them;
//! - greedy continuations equal to llama.cpp's for 16 tokens, or up to the first step where
//!   llama.cpp's own margin between its two best logits is below 0.5 (a near-tie);
//! - against transformers-f32 (`shared/reference/transformers-f32/<model>.json`, the float32
//!   forward pass of the *original* weights): top-1 agreement at least 90% and mean |ΔNLL| at
//!   most 0.1 where llama.cpp itself meets them on that file. A requantized file (a second
//!   rounding, 3-bit blocks) is legitimately further from f32 than the original, so the bounds
//!   come from llama.cpp's golden on the same file, with the headroom the criterion leaves on
//!   the original files: agreement at least min(90%, llama.cpp's − 5 points) (on the original
//!   SmolLM2 file llama.cpp agrees on 94.4%, Gemma3 97.1%), mean |ΔNLL| at most
//!   max(0.1, 1.2 × llama.cpp's) (0.1 is 1.21× llama.cpp's 0.083 on the original SmolLM2
//!   prompts, 1.16× Gemma3's 0.086) — on the prompts, and for |ΔNLL| on the text too.
//!
//! The token ids come from the golden (llama.cpp's tokenizer; edge's is checked to be
//! identical in `llm_reference.rs`). A missing model or reference is a skip, or a failure
//! under `EDGE_CI=1`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use edge_formats::GgufFile;
use edge_quant::{quantize_model, QuantTarget, QuantizeOptions};
use edge_runtime::llm::{LoadParams, Model};
use edge_tests::reference::{argmax, f64s, greedy_steps, ids, mean_abs_diff, nll, read_json};
use serde_json::Value as Json;

/// One test per golden, and `FILES`, the list of them (`every_golden_has_a_test` keeps it
/// complete).
macro_rules! parity_tests {
    ($($(#[$attr:meta])* $test:ident => $file:literal,)*) => {
        const FILES: &[&str] = &[$($file),*];
        $(
            #[test]
            $(#[$attr])*
            fn $test() {
                check_file($file);
            }
        )*
    };
}

// Run by default: a subset that covers both architectures and every weight type the files
// hold (Q4_0, Q5_0, Q5_1, Q8_0, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS), in about two minutes
// on two cores.
// The others: `cargo test -p edge-tests --test quant_parity -- --include-ignored`.

parity_tests! {
    #[ignore = "slow; its weight types are covered by the default subset"]
    smollm2_q4_0 => "smollm2-q4_0",
    smollm2_q5_0 => "smollm2-q5_0",
    #[ignore = "slow; its weight types are covered by the default subset"]
    smollm2_q5_1 => "smollm2-q5_1",
    #[ignore = "slow; its weight types are covered by the default subset"]
    smollm2_q8_0 => "smollm2-q8_0",
    smollm2_q2_k => "smollm2-q2_k",
    #[ignore = "slow; its weight types are covered by the default subset"]
    smollm2_q3_k => "smollm2-q3_k",
    smollm2_q4_k => "smollm2-q4_k",
    smollm2_q5_k => "smollm2-q5_k",
    smollm2_q6_k => "smollm2-q6_k",
    #[ignore = "slow; its weight types are covered by the default subset"]
    smollm2_iq4_nl => "smollm2-iq4_nl",
    smollm2_iq4_xs => "smollm2-iq4_xs",
    #[ignore = "slow; its weight types are covered by the default subset"]
    gemma3_q8_0 => "gemma3-q8_0",
    #[ignore = "slow; its weight types are covered by the default subset"]
    gemma3_q4_0 => "gemma3-q4_0",
    gemma3_q6_k => "gemma3-q6_k",
    #[ignore = "slow; its weight types are covered by the default subset"]
    gemma3_q5_k => "gemma3-q5_k",
}

#[test]
fn every_golden_has_a_test() {
    let found = edge_tests::golden_names("quant-parity");
    let mut listed: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        found, listed,
        "goldens in tests/golden/quant-parity vs FILES"
    );
}

// ---------------------------------------------------------------------------------------
// Reading the references.

/// `shared/reference/transformers-f32/<key>.json`, or `None` (after a message) when the
/// reference directory is absent and we are not strict.
fn f32_reference(key: &str) -> Option<Json> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference");
    if dir.is_dir() {
        return Some(read_json(&dir.join(format!("transformers-f32/{key}.json"))));
    }
    assert!(
        !edge_tests::strict(),
        "reference directory {} missing (EDGE_CI=1)",
        dir.display()
    );
    eprintln!(
        "{key}: no {}: skipping the checks against transformers-f32",
        dir.display()
    );
    None
}

fn top1(position: &Json) -> u64 {
    position["top"][0][0].as_u64().expect("a top-1 token id")
}

// ---------------------------------------------------------------------------------------
// Making the file and checking it is llama-quantize's.

/// Quantizes test model `key` to `target` as `edge-run quantize --allow-requantize` does,
/// into `dir`, and checks the file against the golden's sha256.
fn make_file(key: &str, source: &Path, golden: &Json, dir: &Path) -> GgufFile {
    let ty = golden["type"].as_str().expect("type");
    let target = QuantTarget::parse(ty).unwrap_or_else(|e| panic!("{ty}: {e}"));
    let input = GgufFile::open(source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
    let path: PathBuf = dir.join(format!("{key}-{ty}.gguf"));
    let opts = QuantizeOptions {
        threads: 0,
        allow_requantize: true,
    };
    quantize_model(&input, &path, target, opts, |_, _| {})
        .unwrap_or_else(|e| panic!("quantizing {} to {ty}: {e}", source.display()));
    drop(input);

    let file = GgufFile::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let expected = golden["sha256"].as_str().expect("sha256");
    assert_eq!(
        edge_tests::sha256_bytes(file.as_bytes()),
        expected,
        "{key}-{ty}: edge's quantized file is not byte-identical to llama-quantize's ({})",
        golden["llama_quantize"]
    );
    file
}

// ---------------------------------------------------------------------------------------
// The checks.

/// What one file gave, for the summary line.
#[derive(Default)]
struct Summary {
    ppl: f64,
    ppl_lcpp: f64,
    agree_lcpp: usize,
    agree_f32: Option<usize>,
    positions: usize,
    greedy: Vec<usize>,
    /// The checks that failed: all are run before the test fails, so that its output shows
    /// every number.
    failures: Vec<String>,
}

impl Summary {
    fn check(&mut self, ok: bool, failure: impl FnOnce() -> String) {
        if !ok {
            self.failures.push(failure());
        }
    }
}

fn check_file(name: &str) {
    let golden = edge_tests::golden_json(&format!("quant-parity/{name}.json"));
    let key = name.split('-').next().unwrap();
    let Some(source) = edge_tests::model(key) else {
        return;
    };
    let f32ref = f32_reference(key);
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let file = make_file(key, &source, &golden, dir.path());
    let model = Model::from_file(file, &LoadParams::default())
        .unwrap_or_else(|e| panic!("{name}: loading: {e}"));
    let made = start.elapsed();

    let mut s = Summary::default();
    perplexity(name, &model, &golden, f32ref.as_ref(), &mut s);
    let ppl_done = start.elapsed();
    prompts(name, &model, &golden, f32ref.as_ref(), &mut s);
    eprintln!(
        "{name} time: quantize and load {:.1?}, perplexity {:.1?}, prompts and greedy {:.1?}",
        made,
        ppl_done - made,
        start.elapsed() - ppl_done
    );
    eprintln!(
        "| {name} | {:.4} | {:.4} | {:+.3}% | {}/{} | {} | {:?} |",
        s.ppl,
        s.ppl_lcpp,
        (s.ppl / s.ppl_lcpp - 1.0) * 100.0,
        s.agree_lcpp,
        s.positions,
        s.agree_f32
            .map_or("-".to_string(), |a| format!("{a}/{}", s.positions)),
        s.greedy,
    );
    assert!(s.failures.is_empty(), "{name}: {}", s.failures.join("; "));
}

/// Headroom of the transformers-f32 criteria: how much worse than llama.cpp on the same file
/// edge may be (see the module documentation).
const TOP1_SLACK: f64 = 0.05;
const DNLL_RATIO: f64 = 1.2;

/// The bound on edge's mean |ΔNLL| against transformers-f32, given llama.cpp's own.
fn dnll_bound(lcpp: f64) -> f64 {
    f64::max(0.1, DNLL_RATIO * lcpp)
}

/// The least top-1 agreement with transformers-f32 asked of edge over `n` positions, given
/// llama.cpp's own count.
fn top1_bound(lcpp: usize, n: usize) -> f64 {
    f64::min(0.9, lcpp as f64 / n as f64 - TOP1_SLACK) * n as f64
}

fn perplexity(name: &str, model: &Model, golden: &Json, f32ref: Option<&Json>, s: &mut Summary) {
    let reference = &golden["perplexity"][0];
    let tokens = ids(&reference["tokens"]);
    assert_eq!(tokens.len(), 512);
    let n_vocab = model.n_vocab();
    let mut session = model.session(tokens.len()).unwrap();
    let logits = session.eval_all(&tokens).unwrap();
    let nlls: Vec<f64> = (0..tokens.len() - 1)
        .map(|i| nll(&logits[i * n_vocab..(i + 1) * n_vocab], tokens[i + 1]))
        .collect();
    drop(logits);
    let ppl = (nlls.iter().sum::<f64>() / nlls.len() as f64).exp();
    let ppl_lcpp = reference["perplexity"].as_f64().unwrap();
    let ppl_lcpp_off = golden["perplexity_flash_attn_off"].as_f64().expect(
        "golden lacks perplexity_flash_attn_off: rerun tests/refgen/llamacpp_quant_refs.sh",
    );
    let lcpp_nll = f64s(&reference["next_nll"]);
    let rel = |p: f64| (ppl / p - 1.0) * 100.0;
    eprintln!(
        "{name} perplexity: ours {ppl:.4}, llama.cpp {ppl_lcpp:.4} ({:+.3}%), without flash \
         attention {ppl_lcpp_off:.4} ({:+.3}%); mean |dNLL| vs llama.cpp {:.4}",
        rel(ppl_lcpp),
        rel(ppl_lcpp_off),
        mean_abs_diff(&nlls, &lcpp_nll)
    );
    s.check(
        rel(ppl_lcpp).abs() <= 1.0 || rel(ppl_lcpp_off).abs() <= 1.0,
        || {
            format!(
                "perplexity {ppl:.4} vs llama.cpp's {ppl_lcpp:.4} (without flash attention \
             {ppl_lcpp_off:.4}): more than 1% from both"
            )
        },
    );
    (s.ppl, s.ppl_lcpp) = (ppl, ppl_lcpp);

    if let Some(f32ref) = f32ref {
        let f32_ppl = &f32ref["perplexity"][0];
        assert_eq!(f32_ppl["n_tokens"].as_u64(), Some(tokens.len() as u64));
        let f32_nll = f64s(&f32_ppl["next_nll"]);
        let d_lcpp = mean_abs_diff(&lcpp_nll, &f32_nll);
        let d_ours = mean_abs_diff(&nlls, &f32_nll);
        let bound = dnll_bound(d_lcpp);
        eprintln!(
            "{name} text vs transformers-f32: mean |dNLL| ours {d_ours:.4}, llama.cpp \
             {d_lcpp:.4} (bound {bound:.4})"
        );
        s.check(d_ours <= bound, || {
            format!(
                "mean |dNLL| against transformers-f32 on the text: {d_ours:.4} > {bound:.4} \
                 (llama.cpp: {d_lcpp:.4})"
            )
        });
    }
}

fn prompts(name: &str, model: &Model, golden: &Json, f32ref: Option<&Json>, s: &mut Summary) {
    let n_vocab = model.n_vocab();
    let lcpp_prompts = golden["prompts"].as_array().unwrap();
    let f32_prompts = f32ref.map(|r| r["prompts"].as_array().unwrap());
    if let Some(f) = f32_prompts {
        assert_eq!(
            f.len(),
            lcpp_prompts.len(),
            "{name}: prompts in transformers-f32"
        );
    }
    let (mut n, mut agree_lcpp) = (0usize, 0usize);
    // Against transformers-f32: edge's and llama.cpp's agreement and |dNLL| sums.
    let (mut agree_f32, mut lcpp_agree_f32) = (0usize, 0usize);
    let (mut dnll, mut lcpp_dnll, mut n_nll) = (0.0f64, 0.0f64, 0usize);
    for (k, p) in lcpp_prompts.iter().enumerate() {
        let tokens = ids(&p["tokens"]);
        let expected = ids(&p["greedy"]);
        let steps = greedy_steps(p);
        let mut session = model.session(tokens.len() + steps).unwrap();
        let logits = session.eval_all(&tokens).unwrap();
        let positions = p["positions"].as_array().unwrap();
        assert_eq!(positions.len(), tokens.len());
        let fp = f32_prompts.map(|f| &f[k]);
        if let Some(fp) = fp {
            assert_eq!(
                ids(&fp["tokens"]),
                tokens,
                "{name}: f32 tokens of {}",
                p["id"]
            );
        }
        for (i, pos) in positions.iter().enumerate() {
            let row = &logits[i * n_vocab..(i + 1) * n_vocab];
            let top = u64::from(argmax(row));
            n += 1;
            agree_lcpp += usize::from(top == top1(pos));
            let Some(fpos) = fp.map(|fp| &fp["positions"][i]) else {
                continue;
            };
            agree_f32 += usize::from(top == top1(fpos));
            lcpp_agree_f32 += usize::from(top1(pos) == top1(fpos));
            if let (Some(next), Some(f32_nll)) = (fpos["next"].as_u64(), fpos["next_nll"].as_f64())
            {
                assert_eq!(pos["next"].as_u64(), Some(next));
                dnll += (nll(row, next as u32) - f32_nll).abs();
                lcpp_dnll += (pos["next_nll"].as_f64().unwrap() - f32_nll).abs();
                n_nll += 1;
            }
        }

        // The greedy continuation, from the same session.
        let mut ours = Vec::new();
        let mut last = logits[(tokens.len() - 1) * n_vocab..].to_vec();
        for (step, &want) in expected[..steps].iter().enumerate() {
            let next = argmax(&last);
            ours.push(next);
            if next != want || step + 1 == steps {
                break;
            }
            last = session.eval(&[next]).unwrap().to_vec();
        }
        s.check(ours == expected[..steps], || {
            format!(
                "greedy continuation of {}: {ours:?}, llama.cpp {:?}",
                p["id"],
                &expected[..steps]
            )
        });
        s.greedy.push(steps);
    }
    eprintln!(
        "{name} prompts: top-1 agreement with llama.cpp {agree_lcpp}/{n}; greedy equal for \
         {:?} steps (<= 16, up to llama.cpp's first margin < 0.5)",
        s.greedy
    );
    s.check(agree_lcpp * 10 >= n * 9, || {
        format!("top-1 vs llama.cpp: {agree_lcpp}/{n}")
    });
    (s.agree_lcpp, s.positions) = (agree_lcpp, n);
    if f32_prompts.is_none() {
        return;
    }
    let (mean, lcpp_mean) = (dnll / n_nll as f64, lcpp_dnll / n_nll as f64);
    let (top_bound, d_bound) = (top1_bound(lcpp_agree_f32, n), dnll_bound(lcpp_mean));
    eprintln!(
        "{name} prompts vs transformers-f32: top-1 ours {agree_f32}/{n}, llama.cpp \
         {lcpp_agree_f32}/{n} (bound {top_bound:.1}); mean |dNLL| ours {mean:.4}, llama.cpp \
         {lcpp_mean:.4} (bound {d_bound:.4})"
    );
    s.check(agree_f32 as f64 >= top_bound, || {
        format!(
            "top-1 vs transformers-f32: {agree_f32}/{n} < {top_bound:.1} (llama.cpp: \
             {lcpp_agree_f32}/{n})"
        )
    });
    s.check(mean <= d_bound, || {
        format!(
            "mean |dNLL| vs transformers-f32 on the prompts: {mean:.4} > {d_bound:.4} \
             (llama.cpp: {lcpp_mean:.4})"
        )
    });
    s.agree_f32 = Some(agree_f32);
}
