//! edge's per-tensor type choice equals llama-quantize's, for every mix on both test models.
//!
//! The expected plans are the tensor types of files that llama-quantize wrote, read back with
//! gguf-py (`tests/refgen/llamacpp_quant_plans.sh` → `tests/golden/quant-plans/`); llama.cpp
//! is not needed at test time.

use edge_formats::GgufFile;
use edge_quant::recipe::{plan, QuantTarget};
use edge_tests::{golden_dir, model};
use std::collections::BTreeMap;

fn check(model_key: &str) {
    let Some(path) = model(model_key) else { return };
    let file = GgufFile::open(&path).unwrap();
    let dir = golden_dir().join("quant-plans");
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(mix) = name
            .strip_prefix(&format!("{model_key}-"))
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        let want: BTreeMap<String, String> =
            serde_json::from_slice(&std::fs::read(entry.path()).unwrap()).unwrap();
        let target = QuantTarget::parse(mix).unwrap();
        let got: BTreeMap<String, String> = plan(&file, target)
            .unwrap()
            .into_iter()
            .map(|p| (p.name, p.to.name().to_uppercase()))
            .collect();
        let diff: Vec<String> = want
            .iter()
            .filter(|(n, t)| got.get(*n) != Some(t))
            .map(|(n, t)| format!("{n}: llama.cpp {t}, edge {:?}", got.get(n)))
            .collect();
        assert!(diff.is_empty(), "{model_key} {mix}:\n{}", diff.join("\n"));
        assert_eq!(got.len(), want.len(), "{model_key} {mix}: tensor count");
        checked += 1;
    }
    // Every mix in the golden set (see the script): 18 mixes plus pure q4_k.
    assert_eq!(checked, 19, "{model_key}: golden plans found");
}

#[test]
fn plans_equal_llama_quantize_smollm2() {
    check("smollm2");
}

#[test]
fn plans_equal_llama_quantize_gemma3() {
    check("gemma3");
}
