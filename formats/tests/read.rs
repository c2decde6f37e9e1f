//! Reading valid files: values, tensors, getters, layout, alignment, and every prefix of a
//! valid file being rejected.

mod common;

use common::*;
use edge_formats::{
    Array, GgmlType, GgufError, GgufFile, GgufWriter, TensorSpec, Value, ValueType,
};

fn small() -> GgufFile {
    GgufFile::from_bytes(small_valid_file()).expect("the small valid file parses")
}

#[test]
fn reads_every_value_type() {
    let f = small();
    assert_eq!(f.version(), 3);
    assert_eq!(f.alignment(), 32);
    assert_eq!(f.metadata().len(), 16);
    assert_eq!(
        f.metadata()[0].0,
        "general.architecture",
        "file order is kept"
    );
    assert_eq!(f.get_str("general.architecture").ok(), Some("llama"));
    assert_eq!(f.get_u8("u8").ok(), Some(200));
    assert_eq!(f.get_i8("i8").ok(), Some(i8::MIN));
    assert_eq!(f.get_u16("u16").ok(), Some(0xBEEF));
    assert_eq!(f.get_i16("i16").ok(), Some(-2));
    assert_eq!(f.get_u32("u32").ok(), Some(123_456));
    assert_eq!(f.get_i32("i32").ok(), Some(-7));
    assert_eq!(f.get_f32("f32").ok(), Some(1.5));
    assert_eq!(f.get_bool("bool").ok(), Some(true));
    assert_eq!(f.get_u64("u64").ok(), Some(u64::MAX));
    assert_eq!(f.get_i64("i64").ok(), Some(i64::MIN));
    assert_eq!(f.get_f64("f64").ok(), Some(-0.25));
    assert_eq!(
        f.get_array("strings").ok(),
        Some(&Array::String(vec!["a".into(), "ß→".into()]))
    );
    assert_eq!(
        f.get_array("nested").ok(),
        Some(&Array::Array(vec![
            Array::U8(vec![7, 8]),
            Array::String(vec![])
        ]))
    );
    let empty = f.get_array("empty").expect("empty");
    assert!(empty.is_empty());
    assert_eq!(
        empty.element_type(),
        ValueType::F32,
        "an empty array keeps its type"
    );
    assert_eq!(
        f.get_array("bools").ok(),
        Some(&Array::Bool(vec![true, false, true]))
    );
}

#[test]
fn strict_getters_name_key_and_types() {
    let f = small();
    match f.get_u32("general.architecture") {
        Err(GgufError::WrongType {
            key,
            expected: ValueType::U32,
            found: ValueType::String,
        }) => {
            assert_eq!(key, "general.architecture")
        }
        other => panic!("{other:?}"),
    }
    match f.get_str("nope") {
        Err(e @ GgufError::MissingKey { .. }) => assert!(e.to_string().contains("'nope'")),
        other => panic!("{other:?}"),
    }
    let msg = f.get_u64("u32").expect_err("u32 is not u64").to_string();
    assert!(msg.contains("'u32' has type u32, expected u64"), "{msg}");
}

#[test]
fn get_usize_accepts_any_fitting_integer() {
    let f = small();
    assert_eq!(f.get_usize("u8").ok(), Some(200));
    assert_eq!(f.get_usize("u16").ok(), Some(0xBEEF));
    assert_eq!(f.get_usize("u32").ok(), Some(123_456));
    #[cfg(target_pointer_width = "64")]
    assert_eq!(f.get_usize("u64").ok(), Some(usize::MAX));
    assert!(matches!(
        f.get_usize("i32"),
        Err(GgufError::IntegerOutOfRange { value: -7, .. })
    ));
    assert!(matches!(
        f.get_usize("f32"),
        Err(GgufError::NotAnInteger {
            found: ValueType::F32,
            ..
        })
    ));
    assert!(matches!(
        f.get_usize("missing"),
        Err(GgufError::MissingKey { .. })
    ));
}

#[test]
fn value_accessors() {
    let f = small();
    let v = f.get("u32").expect("u32");
    assert_eq!(v.value_type(), ValueType::U32);
    assert_eq!(v.as_u32(), Some(123_456));
    assert_eq!(v.as_u64(), None, "accessors are strict");
    assert_eq!(
        f.get("general.architecture").and_then(Value::as_str),
        Some("llama")
    );
    assert_eq!(f.get("f32").and_then(Value::as_f32), Some(1.5));
    assert_eq!(
        f.get("strings").and_then(Value::as_array).map(Array::len),
        Some(2)
    );
}

#[test]
fn tensors_and_zero_copy_data() {
    let f = small();
    let bytes = small_valid_file();
    assert_eq!(f.file_size(), bytes.len() as u64);
    let names: Vec<&str> = f.tensors().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["q", "w"]);
    let q = f.tensor("q").expect("q");
    assert_eq!(
        (q.dims.as_slice(), q.ggml_type, q.offset),
        (&[64][..], GgmlType::Q8_0, 0)
    );
    assert_eq!((q.n_elements(), q.n_bytes()), (64, 68));
    let w = f.tensor("w").expect("w");
    assert_eq!(
        (w.dims.as_slice(), w.ggml_type, w.offset),
        (&[4, 2][..], GgmlType::F32, 96)
    );

    let start = f.data_offset() as usize;
    assert_eq!(start % 32, 0);
    assert_eq!(f.tensor_data(q), &bytes[start..start + 68]);
    assert_eq!(f.tensor_data(w), &bytes[start + 96..start + 128]);
    assert_eq!(f.tensor_data(w)[0], 100);
    // A zero-copy view: the slice points into the file's own bytes.
    let base = f.as_bytes().as_ptr() as usize;
    assert_eq!(f.tensor_data(w).as_ptr() as usize, base + start + 96);
    assert!(f.tensor("nope").is_none());
}

/// An open file can be shared between threads (e.g. behind an `Arc` by the runtime).
#[test]
fn gguf_file_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<GgufFile>();
    assert_send_sync::<GgufError>();
}

#[test]
fn foreign_tensor_info_gives_empty_slice() {
    let f = small();
    let mut info = f.tensor("w").expect("w").clone();
    info.offset = 1 << 40;
    assert!(f.tensor_data(&info).is_empty());
}

/// Every proper prefix of a valid file must be rejected, with an error and no panic.
#[test]
fn every_truncation_is_an_error() {
    let bytes = small_valid_file();
    assert!(GgufFile::from_bytes(bytes.clone()).is_ok());
    for len in 0..bytes.len() {
        let result = GgufFile::from_bytes(bytes[..len].to_vec());
        assert!(result.is_err(), "prefix of {len} bytes was accepted");
    }
}

#[test]
fn from_bytes_and_open_agree() {
    let bytes = small_valid_file();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("small.gguf");
    std::fs::write(&path, &bytes).expect("write");
    let a = GgufFile::from_bytes(bytes).expect("from_bytes");
    let b = GgufFile::open(&path).expect("open");
    assert_eq!(a.version(), b.version());
    assert_eq!(a.alignment(), b.alignment());
    assert_eq!(a.file_size(), b.file_size());
    assert_eq!(a.data_offset(), b.data_offset());
    assert_eq!(a.metadata(), b.metadata());
    assert_eq!(a.tensors(), b.tensors());
    for t in a.tensors() {
        assert_eq!(a.tensor_data(t), b.tensor_data(t));
    }
    assert_eq!(a.as_bytes(), b.as_bytes());
}

#[test]
fn open_reports_the_path() {
    let err = GgufFile::open("/nonexistent/dir/model.gguf").expect_err("missing file");
    assert!(matches!(err, GgufError::Io { .. }));
    assert!(
        err.to_string().contains("/nonexistent/dir/model.gguf"),
        "{err}"
    );
}

#[test]
fn empty_file_is_truncated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("empty.gguf");
    std::fs::write(&path, b"").expect("write");
    assert!(matches!(
        GgufFile::open(&path),
        Err(GgufError::Truncated {
            what: "magic",
            offset: 0,
            ..
        })
    ));
}

/// Tensor data is aligned in memory to the file's alignment, up to 64 bytes for buffers
/// and the page size for maps, whatever the alignment of the caller's Vec.
#[test]
fn tensor_data_is_aligned_in_memory() {
    for alignment in [1u32, 8, 32, 64] {
        let kvs = vec![kv("general.alignment", ty::U32, le_u32(alignment))];
        let a = alignment as u64;
        let second = 36u64.next_multiple_of(a);
        let tis = vec![
            ti("a", &[9], ggml::F32, 0),
            ti("b", &[4], ggml::F32, second),
        ];
        let bytes = file_aligned(
            alignment as usize,
            &kvs,
            &tis,
            &vec![1; second as usize + 16],
        );
        // A Vec starting one byte into a larger allocation, to defeat lucky alignment.
        let mut padded = vec![0u8; bytes.len() + 1];
        padded[1..].copy_from_slice(&bytes);
        let shifted = padded[1..].to_vec();
        let f = GgufFile::from_bytes(shifted).expect("valid");
        assert_eq!(f.alignment(), a);
        for t in f.tensors() {
            assert_eq!(
                f.tensor_data(t).as_ptr() as u64 % a,
                0,
                "alignment {alignment}, tensor {}",
                t.name
            );
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.gguf");
        std::fs::write(&path, &bytes).expect("write");
        let f = GgufFile::open(&path).expect("open");
        for t in f.tensors() {
            assert_eq!(f.tensor_data(t).as_ptr() as u64 % a, 0);
        }
    }
}

#[test]
fn version_2_is_accepted() {
    let mut bytes = small_valid_file();
    bytes[4..8].copy_from_slice(&2u32.to_le_bytes());
    assert_eq!(GgufFile::from_bytes(bytes).expect("v2").version(), 2);
}

/// llama.cpp pads the data section even without tensors, but does not require it.
#[test]
fn files_without_tensors_need_no_padding() {
    let kvs = vec![kv("general.name", ty::STRING, gstr(b"x"))];
    let mut bytes = header(3, 0, 1);
    encode_kvs(&mut bytes, &kvs);
    let unpadded_len = bytes.len() as u64;
    let f = GgufFile::from_bytes(bytes).expect("unpadded");
    assert_eq!(f.data_offset(), unpadded_len);
    assert!(f.tensors().is_empty());

    let padded = file(&kvs, &[], &[]);
    let f = GgufFile::from_bytes(padded.clone()).expect("padded");
    assert_eq!(f.data_offset(), padded.len() as u64);
    assert_eq!(f.data_offset() % 32, 0);
}

#[test]
fn tensors_may_be_stored_out_of_info_order() {
    let tis = vec![
        ti("late", &[8], ggml::F32, 32),
        ti("early", &[8], ggml::F32, 0),
    ];
    let f = GgufFile::from_bytes(file(&[], &tis, &[3; 64])).expect("valid");
    assert_eq!(f.tensors()[0].name, "late");
    assert_eq!(f.tensor("early").map(|t| t.offset), Some(0));
}

#[test]
fn scalar_tensor_without_dims() {
    let f = GgufFile::from_bytes(file(&[], &[ti("s", &[], ggml::F32, 0)], &[1, 2, 3, 4]))
        .expect("valid");
    let s = f.tensor("s").expect("s");
    assert_eq!((s.n_elements(), s.n_bytes()), (1, 4));
    assert_eq!(f.tensor_data(s), &[1, 2, 3, 4]);
}

/// The writer, given the same content, produces the hand-made file byte for byte (the
/// same layout as llama.cpp: infos in order, each tensor padded to the alignment).
#[test]
fn writer_matches_hand_made_bytes() {
    let expected = small_valid_file();
    let f = GgufFile::from_bytes(expected.clone()).expect("valid");
    let specs: Vec<TensorSpec> = f
        .tensors()
        .iter()
        .map(|t| TensorSpec::new(t.name.clone(), t.dims.clone(), t.ggml_type))
        .collect();
    let mut w = GgufWriter::new(Vec::new(), f.metadata(), &specs).expect("writer");
    for t in f.tensors() {
        w.write_tensor(&t.name, f.tensor_data(t)).expect("tensor");
    }
    let written = w.finish().expect("finish");
    assert_eq!(written, expected);
}

/// Valid files committed as fuzzing seeds (`tests/valid/`), regenerated like the hostile
/// corpus with `EDGE_REGEN_CORPUS=1`.
#[test]
fn committed_valid_seeds_match() {
    let mut all_types = {
        let metadata = vec![
            ("general.alignment".to_string(), Value::U32(64)),
            ("general.architecture".to_string(), Value::from("llama")),
            (
                "a".to_string(),
                Value::Array(Array::Array(vec![
                    Array::I16(vec![-1, 2]),
                    Array::Bool(vec![true]),
                ])),
            ),
        ];
        let specs = vec![
            TensorSpec::new("q4_k", [256], GgmlType::Q4_K),
            TensorSpec::new("f16", [3, 2], GgmlType::F16),
            TensorSpec::new("iq2_xxs", [256], GgmlType::IQ2_XXS),
        ];
        let mut w = GgufWriter::new(Vec::new(), &metadata, &specs).expect("writer");
        for s in &specs {
            let n = s
                .ggml_type
                .bytes_for(s.dims.iter().product())
                .expect("size") as usize;
            w.write_tensor(&s.name, &vec![0x5A; n]).expect("tensor");
        }
        w.finish().expect("finish")
    };
    // Without the trailing padding the file is still valid; keep the seed small.
    while all_types.last() == Some(&0) {
        all_types.pop();
    }
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/valid");
    for (name, bytes) in [
        ("small.gguf", small_valid_file()),
        ("writer.gguf", all_types),
    ] {
        assert!(
            GgufFile::from_bytes(bytes.clone()).is_ok(),
            "{name} is valid"
        );
        let path = dir.join(name);
        if std::env::var_os("EDGE_REGEN_CORPUS").is_some() {
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(&path, &bytes).expect("write");
        }
        let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            committed == bytes,
            "{} is stale; regenerate with EDGE_REGEN_CORPUS=1",
            path.display()
        );
        assert!(GgufFile::open(&path).is_ok());
    }
}
