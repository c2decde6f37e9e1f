//! Interop with llama.cpp's Python reader: a GGUF written by edge (every metadata type,
//! nested and empty arrays, unicode, several tensor types, a non-default alignment) must
//! read back in `gguf.GGUFReader` exactly as written.
//!
//! Runs `python3 tests/refgen/read_gguf.py FILE`. Without python3 or the `gguf` package the
//! test is skipped with a message, unless `EDGE_CI=1`, where that is a failure.

use std::path::Path;
use std::process::Command;

use edge_formats::{Array, GgmlType, GgufFile, GgufFileWriter, TensorSpec, Value};
use serde_json::{json, Value as Json};

/// Whether `python3 -c "import gguf"` works; panics under `EDGE_CI=1` when it does not.
fn python_gguf_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import gguf"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !edge_tests::strict(),
            "python3 with the `gguf` package is required when EDGE_CI=1"
        );
        eprintln!("skipping: python3 with the `gguf` package (pip install gguf) not available");
    }
    ok
}

/// The gguf package's name for each value type.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::U8(_) => "UINT8",
        Value::I8(_) => "INT8",
        Value::U16(_) => "UINT16",
        Value::I16(_) => "INT16",
        Value::U32(_) => "UINT32",
        Value::I32(_) => "INT32",
        Value::F32(_) => "FLOAT32",
        Value::Bool(_) => "BOOL",
        Value::String(_) => "STRING",
        Value::Array(_) => "ARRAY",
        Value::U64(_) => "UINT64",
        Value::I64(_) => "INT64",
        Value::F64(_) => "FLOAT64",
    }
}

/// What read_gguf.py prints for a value (floats as bit patterns).
fn value_json(v: &Value) -> Json {
    match v {
        Value::U8(x) => json!(x),
        Value::I8(x) => json!(x),
        Value::U16(x) => json!(x),
        Value::I16(x) => json!(x),
        Value::U32(x) => json!(x),
        Value::I32(x) => json!(x),
        Value::F32(x) => json!(x.to_bits()),
        Value::Bool(x) => json!(x),
        Value::String(x) => json!(x),
        Value::Array(a) => array_json(a),
        Value::U64(x) => json!(x),
        Value::I64(x) => json!(x),
        Value::F64(x) => json!(x.to_bits()),
    }
}

fn array_json(a: &Array) -> Json {
    let (element_type, values): (&str, Vec<Json>) = match a {
        Array::U8(v) => ("UINT8", v.iter().map(|x| json!(x)).collect()),
        Array::I8(v) => ("INT8", v.iter().map(|x| json!(x)).collect()),
        Array::U16(v) => ("UINT16", v.iter().map(|x| json!(x)).collect()),
        Array::I16(v) => ("INT16", v.iter().map(|x| json!(x)).collect()),
        Array::U32(v) => ("UINT32", v.iter().map(|x| json!(x)).collect()),
        Array::I32(v) => ("INT32", v.iter().map(|x| json!(x)).collect()),
        Array::F32(v) => ("FLOAT32", v.iter().map(|x| json!(x.to_bits())).collect()),
        Array::Bool(v) => ("BOOL", v.iter().map(|x| json!(x)).collect()),
        Array::String(v) => ("STRING", v.iter().map(|x| json!(x)).collect()),
        Array::Array(v) => ("ARRAY", v.iter().map(array_json).collect()),
        Array::U64(v) => ("UINT64", v.iter().map(|x| json!(x)).collect()),
        Array::I64(v) => ("INT64", v.iter().map(|x| json!(x)).collect()),
        Array::F64(v) => ("FLOAT64", v.iter().map(|x| json!(x.to_bits())).collect()),
    };
    json!({ "element_type": element_type, "values": values })
}

fn metadata() -> Vec<(String, Value)> {
    let kv = |k: &str, v: Value| (k.to_string(), v);
    vec![
        kv("general.architecture", Value::from("llama")),
        kv("general.alignment", Value::U32(64)),
        kv(
            "general.name",
            Value::from("édge ✓ 日本語 🦀 e\u{301} \u{0} end"),
        ),
        kv("t.u8", Value::U8(255)),
        kv("t.i8", Value::I8(-128)),
        kv("t.u16", Value::U16(65_535)),
        kv("t.i16", Value::I16(-32_768)),
        kv("t.u32", Value::U32(u32::MAX)),
        kv("t.i32", Value::I32(i32::MIN)),
        kv("t.f32", Value::F32(-0.0)),
        kv("t.f32_nan", Value::F32(f32::from_bits(0x7FC0_1234))),
        kv("t.bool_true", Value::Bool(true)),
        kv("t.bool_false", Value::Bool(false)),
        kv("t.string_empty", Value::from("")),
        kv("t.u64", Value::U64(u64::MAX)),
        kv("t.i64", Value::I64(i64::MIN)),
        kv("t.f64", Value::F64(std::f64::consts::PI)),
        kv("t.ключ", Value::from("unicode key")),
        kv("a.u8", Value::Array(Array::U8(vec![0, 1, 127, 128, 255]))),
        kv("a.i8", Value::Array(Array::I8(vec![-128, 0, 127]))),
        kv("a.u16", Value::Array(Array::U16(vec![1, 65_535]))),
        kv("a.i16", Value::Array(Array::I16(vec![-1, 300]))),
        kv("a.u32", Value::Array(Array::U32(vec![7, u32::MAX]))),
        kv("a.i32", Value::Array(Array::I32(vec![-5, 5]))),
        kv(
            "a.f32",
            Value::Array(Array::F32(vec![1.5, f32::INFINITY, f32::MIN_POSITIVE])),
        ),
        kv("a.bool", Value::Array(Array::Bool(vec![true, false, true]))),
        kv(
            "a.string",
            Value::Array(Array::String(vec!["a".into(), "".into(), "ß→🦀".into()])),
        ),
        kv("a.u64", Value::Array(Array::U64(vec![0, u64::MAX]))),
        kv("a.i64", Value::Array(Array::I64(vec![i64::MIN, i64::MAX]))),
        kv("a.f64", Value::Array(Array::F64(vec![-1e300, 2.5]))),
        kv("a.empty_f32", Value::Array(Array::F32(vec![]))),
        kv("a.empty_string", Value::Array(Array::String(vec![]))),
        kv(
            "a.nested",
            Value::Array(Array::Array(vec![
                Array::U8(vec![1, 2, 3]),
                Array::String(vec!["x".into(), "ÿ".into()]),
                Array::Array(vec![Array::I64(vec![-9]), Array::Bool(vec![])]),
                Array::F32(vec![0.25]),
            ])),
        ),
        kv("a.nested_empty", Value::Array(Array::Array(vec![]))),
    ]
}

fn tensors() -> Vec<TensorSpec> {
    vec![
        TensorSpec::new("f32.1d", [7], GgmlType::F32),
        TensorSpec::new("f16.2d", [8, 3], GgmlType::F16),
        TensorSpec::new("bf16", [16], GgmlType::BF16),
        TensorSpec::new("q4_0", [64, 2], GgmlType::Q4_0),
        TensorSpec::new("q8_0.3d", [32, 2, 2], GgmlType::Q8_0),
        TensorSpec::new("q4_k", [256, 2], GgmlType::Q4_K),
        TensorSpec::new("q6_k.4d", [256, 1, 2, 1], GgmlType::Q6_K),
        TensorSpec::new("iq4_nl", [32], GgmlType::IQ4_NL),
        TensorSpec::new("i32", [5], GgmlType::I32),
    ]
}

fn tensor_bytes(spec: &TensorSpec, index: usize) -> Vec<u8> {
    let n = spec
        .ggml_type
        .bytes_for(spec.dims.iter().product())
        .expect("valid shape");
    (0..n)
        .map(|i| (i as usize * 31 + index * 7 + 3) as u8)
        .collect()
}

fn describe_with_python(path: &Path) -> Json {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("refgen/read_gguf.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(path)
        .output()
        .expect("running python3");
    assert!(
        out.status.success(),
        "read_gguf.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("read_gguf.py prints JSON")
}

#[test]
fn python_gguf_reads_what_edge_writes() {
    if !python_gguf_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("all-types.gguf");
    let metadata = metadata();
    let specs = tensors();
    let mut writer = GgufFileWriter::new(&path, &metadata, &specs).expect("writer");
    let data: Vec<Vec<u8>> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| tensor_bytes(s, i))
        .collect();
    for (spec, bytes) in specs.iter().zip(&data) {
        writer.write_tensor(&spec.name, bytes).expect("tensor");
    }
    writer.commit().expect("commit");

    let py = describe_with_python(&path);
    let ours = GgufFile::open(&path).expect("edge reads its own file");

    assert_eq!(py["version"], 3);
    assert_eq!(py["alignment"], 64);
    assert_eq!(py["kv_count"], metadata.len());
    assert_eq!(py["tensor_count"], specs.len());
    assert_eq!(py["data_offset"], ours.data_offset());

    let expected_metadata: Vec<Json> = metadata
        .iter()
        .map(|(k, v)| json!({ "key": k, "type": type_name(v), "value": value_json(v) }))
        .collect();
    let py_metadata = py["metadata"].as_array().expect("metadata list");
    assert_eq!(py_metadata.len(), expected_metadata.len());
    for (got, want) in py_metadata.iter().zip(&expected_metadata) {
        assert_eq!(got, want);
    }

    let mut offset = 0u64;
    let expected_tensors: Vec<Json> = specs
        .iter()
        .zip(&data)
        .map(|(spec, bytes)| {
            let this = offset;
            offset = (this + bytes.len() as u64).next_multiple_of(64);
            json!({
                "name": spec.name,
                "ggml_type": spec.ggml_type.id(),
                "ggml_type_name": spec.ggml_type.name().to_uppercase(),
                "shape": spec.dims,
                "offset": this,
                "n_bytes": bytes.len(),
                "sha256": edge_tests::sha256_bytes(bytes),
            })
        })
        .collect();
    assert_eq!(
        py["tensors"].as_array().expect("tensor list"),
        &expected_tensors
    );
}
