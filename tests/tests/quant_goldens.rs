//! edge-quant against the `gguf` Python package (llama.cpp's gguf-py): type table, dequantize
//! bit-exact on random blocks and on every tensor of both test models, quantize bit-exact for
//! the types gguf-py implements. Golden files: `tests/refgen/gguf_goldens.py`.

use edge_formats::{GgmlType, GgufFile};
use edge_tests::{f32s, golden_json, model, read_golden, sha256_bytes, sha256_f32};

/// gguf-py's table (and the file type ids it knows) against ours.
#[test]
fn type_table_matches_gguf_py() {
    let golden = golden_json("ggml-types.json");
    let types = golden["types"].as_object().expect("types object");
    for (id, entry) in types {
        let id: u32 = id.parse().expect("numeric id");
        let name = entry["name"].as_str().expect("name");
        let ty = GgmlType::from_id(id).unwrap_or_else(|e| panic!("gguf-py type {name}: {e}"));
        assert!(
            ty.name().eq_ignore_ascii_case(name),
            "id {id}: {ty} vs gguf-py {name}"
        );
        assert_eq!(
            ty.block_size() as u64,
            entry["block_size"].as_u64().unwrap(),
            "{name}"
        );
        if ty == GgmlType::Q8_1 {
            // gguf-py still lists the old 40-byte Q8_1 (f32 d and s); ggml's block_q8_1 has
            // two f16 and is 36 bytes (static_assert in ggml-common.h).
            assert_eq!(ty.type_size(), 36);
            continue;
        }
        assert_eq!(
            ty.type_size() as u64,
            entry["type_size"].as_u64().unwrap(),
            "{name}"
        );
    }
}

fn dequantize_all(ty: GgmlType, raw: &[u8]) -> Vec<f32> {
    let n = raw.len() / ty.type_size() * ty.block_size();
    let mut out = vec![0f32; n];
    edge_quant::dequantize(ty, raw, &mut out).unwrap_or_else(|e| panic!("{ty}: {e}"));
    out
}

fn first_mismatch(ours: &[f32], theirs: &[f32]) -> Option<(usize, f32, f32)> {
    ours.iter()
        .zip(theirs)
        .enumerate()
        .find(|(_, (a, b))| a.to_bits() != b.to_bits())
        .map(|(i, (a, b))| (i, *a, *b))
}

#[test]
fn dequantize_random_blocks_bit_exact() {
    let dir = edge_tests::golden_dir().join("random-blocks");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("random-blocks dir") {
        let path = entry.expect("dir entry").path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(name) = file.strip_suffix(".in.bin") else {
            continue;
        };
        let ty = GgmlType::from_name(name).unwrap_or_else(|| panic!("type {name}"));
        let raw = read_golden(&format!("random-blocks/{file}"));
        let expected = f32s(&read_golden(&format!("random-blocks/{name}.out.bin")));
        let ours = dequantize_all(ty, &raw);
        assert_eq!(ours.len(), expected.len(), "{ty}");
        if let Some((i, a, b)) = first_mismatch(&ours, &expected) {
            panic!(
                "{ty}: element {i} (block {}): ours {a:e}, gguf-py {b:e}",
                i / ty.block_size()
            );
        }
        checked += 1;
    }
    // F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K..Q8_K IQ4_NL IQ4_XS (Q8_1: gguf-py has no decoder).
    assert_eq!(checked, 16, "expected a golden file per dequantizable type");
}

const QUANTIZE_TYPES: [GgmlType; 7] = [
    GgmlType::F16,
    GgmlType::BF16,
    GgmlType::Q4_0,
    GgmlType::Q4_1,
    GgmlType::Q5_0,
    GgmlType::Q5_1,
    GgmlType::Q8_0,
];

fn quantize_all(ty: GgmlType, x: &[f32]) -> Vec<u8> {
    let mut out = vec![0u8; x.len() / ty.block_size() * ty.type_size()];
    edge_quant::quantize(ty, x, &mut out).unwrap_or_else(|e| panic!("{ty}: {e}"));
    out
}

#[test]
fn quantize_bit_exact_on_gaussian_and_edge_rows() {
    let x = f32s(&read_golden("quantize/input.f32.bin"));
    for ty in QUANTIZE_TYPES {
        let expected = read_golden(&format!("quantize/{}.bin", ty.name().to_uppercase()));
        let ours = quantize_all(ty, &x);
        assert_eq!(ours.len(), expected.len(), "{ty}");
        if let Some(i) = ours.iter().zip(&expected).position(|(a, b)| a != b) {
            let block = i / ty.type_size();
            let row = block * ty.block_size() / 1024;
            panic!("{ty}: first differing byte {i} (block {block}, input row {row})");
        }
    }
}

/// Loads the test model `key`, or skips (see `edge_tests::model`).
fn open(key: &str) -> Option<GgufFile> {
    let path = model(key)?;
    Some(GgufFile::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

#[test]
fn quantize_bit_exact_on_real_weights() {
    let golden = golden_json("quantize/model-rows.json");
    for (key, expected) in golden.as_object().expect("object") {
        let mut parts = key.splitn(3, '/');
        let (model_key, tensor, ty) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let Some(file) = open(model_key) else { return };
        let info = file
            .tensor(tensor)
            .unwrap_or_else(|| panic!("{model_key}: no {tensor}"));
        let x = dequantize_all(info.ggml_type, file.tensor_data(info));
        let ty = GgmlType::from_name(ty).expect("type");
        let ours = quantize_all(ty, &x);
        assert_eq!(sha256_bytes(&ours), expected.as_str().unwrap(), "{key}");
    }
}

#[test]
fn dequantize_every_tensor_of_both_models_bit_exact() {
    let golden = golden_json("dequant-models.json");
    for (key, entry) in golden.as_object().expect("object") {
        let Some(file) = open(key) else { return };
        let tensors = entry["tensors"].as_object().expect("tensors");
        assert_eq!(file.tensors().len(), tensors.len(), "{key}: tensor count");
        for info in file.tensors() {
            let expected = &tensors[&info.name];
            assert_eq!(
                info.ggml_type.name().to_uppercase(),
                expected["type"].as_str().unwrap().to_uppercase()
            );
            let ours = dequantize_all(info.ggml_type, file.tensor_data(info));
            assert_eq!(
                sha256_f32(&ours),
                expected["sha256"].as_str().unwrap(),
                "{key}/{}: dequantized values differ from gguf-py",
                info.name
            );
        }
    }
}
