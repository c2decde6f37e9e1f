//! Fuzzes the GGUF reader: any bytes must give `Ok` or `Err`, never a panic, and an `Ok`
//! file must be fully readable (every value, every tensor's data).
#![no_main]

use edge_formats::{Array, GgufFile, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(file) = GgufFile::from_bytes(data.to_vec()) else {
        return;
    };
    let mut sink = 0u64;
    for (key, value) in file.metadata() {
        sink = sink.wrapping_add(key.len() as u64);
        sink = sink.wrapping_add(touch_value(value));
        assert!(file.get(key).is_some(), "every key is found by get");
        let _ = file.get_usize(key);
    }
    for info in file.tensors() {
        let bytes = file.tensor_data(info);
        assert_eq!(bytes.len() as u64, info.n_bytes(), "tensor data is exact");
        assert!(file.tensor(&info.name).is_some());
        sink = sink.wrapping_add(bytes.iter().map(|&b| u64::from(b)).sum::<u64>());
    }
    std::hint::black_box(sink);
});

fn touch_value(value: &Value) -> u64 {
    match value {
        Value::String(s) => s.len() as u64,
        Value::Array(a) => touch_array(a),
        other => other.as_integer().map_or(1, |i| i as u64),
    }
}

fn touch_array(array: &Array) -> u64 {
    match array {
        Array::String(v) => v.iter().map(|s| s.len() as u64).sum(),
        Array::Array(v) => v.iter().map(touch_array).sum(),
        other => other.len() as u64,
    }
}
