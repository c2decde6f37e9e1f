//! Quantization quality against llama.cpp's own quantizer: on gaussian rows and on slices of
//! real weights, edge's RMSE must be no worse than llama.cpp's for every type. The numbers
//! come from `tests/refgen/llamacpp_rmse.py` (llama.cpp quantizes, gguf-py dequantizes).
//!
//! `cargo test -p edge-tests --test quant_rmse -- --nocapture` prints the comparison table.

use edge_formats::{GgmlType, GgufFile};
use edge_tests::{f32s, golden_json, model, read_golden, sha256_bytes};

/// Relative slack for summation-order differences in computing the RMSE itself.
const SLACK: f64 = 1e-6;

fn rmse_of(ty: GgmlType, x: &[f32]) -> (f64, String) {
    let mut q = vec![0u8; x.len() / ty.block_size() * ty.type_size()];
    edge_quant::quantize(ty, x, &mut q).unwrap_or_else(|e| panic!("{ty}: {e}"));
    let mut y = vec![0f32; x.len()];
    edge_quant::dequantize(ty, &q, &mut y).unwrap_or_else(|e| panic!("{ty}: {e}"));
    let se: f64 = x
        .iter()
        .zip(&y)
        .map(|(a, b)| (*a as f64 - *b as f64).powi(2))
        .sum();
    ((se / x.len() as f64).sqrt(), sha256_bytes(&q))
}

fn dataset(name: &str, slice: usize) -> Option<Vec<f32>> {
    if name == "gaussian" {
        return Some(f32s(&read_golden("quant-rmse/gaussian.f32.bin")));
    }
    let (key, tensor) = name.split_once('/').expect("model/tensor");
    let path = model(key)?;
    let file = GgufFile::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let info = file
        .tensor(tensor)
        .unwrap_or_else(|| panic!("{key}: no {tensor}"));
    let mut x = vec![0f32; info.n_elements() as usize];
    edge_quant::dequantize(info.ggml_type, file.tensor_data(info), &mut x).expect("dequantize");
    x.truncate(slice);
    Some(x)
}

#[test]
fn quantization_error_no_worse_than_llama_cpp() {
    let golden = golden_json("quant-rmse/rmse.json");
    let slice = golden["slice"].as_u64().expect("slice") as usize;
    let mut worse = Vec::new();
    eprintln!(
        "{:<34} {:<7} {:>12} {:>12} {:>7} identical",
        "dataset", "type", "edge", "llama.cpp", "ratio"
    );
    for (ds, per_type) in golden["rmse"].as_object().expect("rmse") {
        let Some(x) = dataset(ds, slice) else {
            continue;
        };
        for (ty_name, entry) in per_type.as_object().expect("types") {
            let ty = GgmlType::from_name(ty_name).expect("type");
            let theirs = entry["rmse"].as_f64().expect("rmse");
            let (ours, sha) = rmse_of(ty, &x);
            let same = sha == entry["sha256"].as_str().expect("sha");
            let ratio = if theirs > 0.0 {
                ours / theirs
            } else {
                1.0 + ours
            };
            eprintln!("{ds:<34} {ty_name:<7} {ours:>12.6e} {theirs:>12.6e} {ratio:>7.4} {same}");
            if ours > theirs * (1.0 + SLACK) + 1e-12 {
                worse.push(format!(
                    "{ds} {ty_name}: edge {ours:e} > llama.cpp {theirs:e}"
                ));
            }
        }
    }
    assert!(
        worse.is_empty(),
        "quantization worse than llama.cpp:\n{}",
        worse.join("\n")
    );
}
