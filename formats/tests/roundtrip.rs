//! Property test: whatever the writer accepts, the reader gives back exactly (floats
//! compared by bits, so NaN payloads and -0.0 must survive too).

use std::collections::HashSet;

use edge_formats::{Array, GgmlType, GgufFile, GgufWriter, TensorSpec, Value};
use proptest::collection::vec;
use proptest::prelude::*;

/// Unicode strings, including the empty string and multi-byte characters.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "\\PC{0,12}",
        "[a-z.]{1,8}",
        "[ß→日本語🦀\u{0}]{0,4}"
    ]
}

fn f32_any() -> impl Strategy<Value = f32> {
    any::<u32>().prop_map(f32::from_bits)
}

fn f64_any() -> impl Strategy<Value = f64> {
    any::<u64>().prop_map(f64::from_bits)
}

fn leaf_array() -> impl Strategy<Value = Array> {
    const N: usize = 6;
    prop_oneof![
        vec(any::<u8>(), 0..N).prop_map(Array::U8),
        vec(any::<i8>(), 0..N).prop_map(Array::I8),
        vec(any::<u16>(), 0..N).prop_map(Array::U16),
        vec(any::<i16>(), 0..N).prop_map(Array::I16),
        vec(any::<u32>(), 0..N).prop_map(Array::U32),
        vec(any::<i32>(), 0..N).prop_map(Array::I32),
        vec(f32_any(), 0..N).prop_map(Array::F32),
        vec(any::<bool>(), 0..N).prop_map(Array::Bool),
        vec(text(), 0..N).prop_map(Array::String),
        vec(any::<u64>(), 0..N).prop_map(Array::U64),
        vec(any::<i64>(), 0..N).prop_map(Array::I64),
        vec(f64_any(), 0..N).prop_map(Array::F64),
        Just(Array::Array(vec![])),
    ]
}

/// Arrays nested up to 4 deep, each inner array with its own element type.
fn array() -> impl Strategy<Value = Array> {
    leaf_array().prop_recursive(3, 24, 4, |inner| vec(inner, 0..4).prop_map(Array::Array))
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u8>().prop_map(Value::U8),
        any::<i8>().prop_map(Value::I8),
        any::<u16>().prop_map(Value::U16),
        any::<i16>().prop_map(Value::I16),
        any::<u32>().prop_map(Value::U32),
        any::<i32>().prop_map(Value::I32),
        f32_any().prop_map(Value::F32),
        any::<bool>().prop_map(Value::Bool),
        text().prop_map(Value::String),
        array().prop_map(Value::Array),
        any::<u64>().prop_map(Value::U64),
        any::<i64>().prop_map(Value::I64),
        f64_any().prop_map(Value::F64),
    ]
}

/// Metadata with unique keys (the writer rejects duplicates); never `general.alignment`,
/// which gets its own valid value below.
fn metadata() -> impl Strategy<Value = Vec<(String, Value)>> {
    (vec((text(), value()), 0..12), prop::option::of(0u32..8)).prop_map(|(entries, align_pow)| {
        let mut seen = HashSet::new();
        let mut out: Vec<(String, Value)> = entries
            .into_iter()
            .filter(|(k, _)| k != "general.alignment" && seen.insert(k.clone()))
            .collect();
        if let Some(p) = align_pow {
            out.push(("general.alignment".into(), Value::U32(1 << p)));
        }
        out
    })
}

/// Tensors of random types and valid shapes (row length a whole number of blocks), with
/// random data; names unique.
fn tensors() -> impl Strategy<Value = Vec<(TensorSpec, Vec<u8>)>> {
    let one = (
        0..GgmlType::ALL.len(),
        1u64..4,
        vec(1u64..4, 0..4),
        any::<u64>(),
    )
        .prop_map(|(type_index, blocks, rest, seed)| {
            let ggml_type = GgmlType::ALL[type_index];
            let mut dims = vec![blocks * ggml_type.block_size() as u64];
            dims.extend(rest.into_iter().take(3));
            (ggml_type, dims, seed)
        });
    vec(one, 0..6).prop_map(|items| {
        items
            .into_iter()
            .enumerate()
            .map(|(i, (ggml_type, dims, seed))| {
                let spec = TensorSpec::new(format!("blk.{i}.{ggml_type}"), dims, ggml_type);
                let n = ggml_type
                    .bytes_for(spec.dims.iter().product())
                    .expect("valid shape") as usize;
                // A cheap deterministic byte pattern from the seed.
                let data = (0..n)
                    .map(|j| (seed.rotate_left(j as u32 % 64) as u8) ^ j as u8)
                    .collect();
                (spec, data)
            })
            .collect()
    })
}

fn arrays_eq_bits(a: &Array, b: &Array) -> bool {
    match (a, b) {
        (Array::F32(x), Array::F32(y)) => x
            .iter()
            .map(|v| v.to_bits())
            .eq(y.iter().map(|v| v.to_bits())),
        (Array::F64(x), Array::F64(y)) => x
            .iter()
            .map(|v| v.to_bits())
            .eq(y.iter().map(|v| v.to_bits())),
        (Array::Array(x), Array::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| arrays_eq_bits(p, q))
        }
        _ => a == b,
    }
}

fn values_eq_bits(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::F32(x), Value::F32(y)) => x.to_bits() == y.to_bits(),
        (Value::F64(x), Value::F64(y)) => x.to_bits() == y.to_bits(),
        (Value::Array(x), Value::Array(y)) => arrays_eq_bits(x, y),
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn write_then_read_gives_back_everything(metadata in metadata(), tensors in tensors()) {
        let specs: Vec<TensorSpec> = tensors.iter().map(|(s, _)| s.clone()).collect();
        let mut w = GgufWriter::new(Vec::new(), &metadata, &specs).expect("writer accepts valid input");
        for (spec, data) in &tensors {
            w.write_tensor(&spec.name, data).expect("tensor");
        }
        let bytes = w.finish().expect("finish");

        let f = GgufFile::from_bytes(bytes).expect("reader accepts what the writer wrote");
        prop_assert_eq!(f.version(), 3);
        prop_assert_eq!(f.metadata().len(), metadata.len());
        for ((k1, v1), (k2, v2)) in f.metadata().iter().zip(&metadata) {
            prop_assert_eq!(k1, k2);
            prop_assert!(values_eq_bits(v1, v2), "{k1}: read {v1:?}, wrote {v2:?}");
            prop_assert!(f.get(k1).is_some_and(|v| values_eq_bits(v, v2)));
        }
        prop_assert_eq!(f.tensors().len(), tensors.len());
        for (info, (spec, data)) in f.tensors().iter().zip(&tensors) {
            prop_assert_eq!(&info.name, &spec.name);
            prop_assert_eq!(&info.dims, &spec.dims);
            prop_assert_eq!(info.ggml_type, spec.ggml_type);
            prop_assert_eq!(info.offset % f.alignment(), 0);
            prop_assert_eq!(f.tensor_data(info), &data[..]);
            prop_assert_eq!(f.tensor(&spec.name), Some(info));
        }
    }
}
