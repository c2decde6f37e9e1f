//! The streaming writer and the atomic file writer: ordering, sizes, validation, padding,
//! and nothing partial ever appearing at the destination path.

use edge_formats::{
    Array, GgmlType, GgufError, GgufFile, GgufFileWriter, GgufWriter, TensorSpec, Value, ValueType,
};

fn specs() -> Vec<TensorSpec> {
    vec![
        TensorSpec::new("a", [32, 2], GgmlType::Q4_0), // 2 blocks × 18 = 36 bytes
        TensorSpec::new("b", [3], GgmlType::F32),      // 12 bytes
    ]
}

fn meta() -> Vec<(String, Value)> {
    vec![("general.architecture".to_string(), Value::from("test"))]
}

#[test]
fn pads_with_zeros_and_round_trips() {
    let mut w = GgufWriter::new(Vec::new(), &meta(), &specs()).expect("new");
    assert_eq!(w.alignment(), 32);
    w.write_tensor("a", &[0xAA; 36]).expect("a");
    w.write_tensor("b", &[0xBB; 12]).expect("b");
    let bytes = w.finish().expect("finish");
    assert_eq!(
        bytes.len() % 32,
        0,
        "the file ends padded, as llama.cpp writes it"
    );

    let f = GgufFile::from_bytes(bytes.clone()).expect("read back");
    let data = f.data_offset() as usize;
    assert_eq!(f.tensor("b").map(|t| t.offset), Some(64));
    assert!(
        bytes[data + 36..data + 64].iter().all(|&b| b == 0),
        "padding between tensors is zero"
    );
    assert!(
        bytes[data + 76..].iter().all(|&b| b == 0),
        "padding after the last tensor is zero"
    );
    assert_eq!(f.tensor_data(f.tensor("a").expect("a")), &[0xAA; 36]);
}

#[test]
fn custom_alignment_is_used() {
    let metadata = vec![("general.alignment".to_string(), Value::U32(128))];
    let mut w = GgufWriter::new(Vec::new(), &metadata, &specs()).expect("new");
    assert_eq!(w.alignment(), 128);
    w.write_tensor("a", &[1; 36]).expect("a");
    w.write_tensor("b", &[2; 12]).expect("b");
    let f = GgufFile::from_bytes(w.finish().expect("finish")).expect("read");
    assert_eq!(f.alignment(), 128);
    assert_eq!(f.data_offset() % 128, 0);
    assert_eq!(f.tensor("b").map(|t| t.offset), Some(128));
}

#[test]
fn tensors_must_come_in_order_with_exact_sizes() {
    let mut w = GgufWriter::new(Vec::new(), &[], &specs()).expect("new");
    match w.write_tensor("b", &[0; 12]) {
        Err(GgufError::TensorOrder {
            expected: Some(e),
            got,
        }) => assert_eq!((e.as_str(), got.as_str()), ("a", "b")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        w.write_tensor("a", &[0; 35]),
        Err(GgufError::TensorSizeMismatch {
            expected: 36,
            got: 35,
            ..
        })
    ));
    w.write_tensor("a", &[0; 36]).expect("a");
    w.write_tensor("b", &[0; 12]).expect("b");
    assert!(matches!(
        w.write_tensor("c", &[]),
        Err(GgufError::TensorOrder { expected: None, .. })
    ));
}

#[test]
fn finish_requires_every_tensor() {
    let mut w = GgufWriter::new(Vec::new(), &[], &specs()).expect("new");
    w.write_tensor("a", &[0; 36]).expect("a");
    match w.finish() {
        Err(GgufError::MissingTensorData { tensor }) => assert_eq!(tensor, "b"),
        other => panic!("{other:?}"),
    }
}

/// The writer refuses what the reader would refuse.
#[test]
fn writer_validates_like_the_reader() {
    let new = |metadata: &[(String, Value)], tensors: &[TensorSpec]| {
        GgufWriter::new(Vec::new(), metadata, tensors).err()
    };
    let kv = |k: &str, v: Value| (k.to_string(), v);

    let dup = [kv("k", Value::U8(1)), kv("k", Value::U8(2))];
    assert!(matches!(
        new(&dup, &[]),
        Some(GgufError::DuplicateKey { .. })
    ));
    assert!(matches!(
        new(&[kv("general.alignment", Value::U32(24))], &[]),
        Some(GgufError::InvalidAlignment { alignment: 24 })
    ));
    assert!(matches!(
        new(&[kv("general.alignment", Value::U32(0))], &[]),
        Some(GgufError::InvalidAlignment { alignment: 0 })
    ));
    assert!(matches!(
        new(&[kv("general.alignment", Value::I32(32))], &[]),
        Some(GgufError::AlignmentType {
            found: ValueType::I32
        })
    ));
    let mut deep = Array::U8(vec![]);
    for _ in 0..8 {
        deep = Array::Array(vec![deep]);
    }
    assert!(matches!(
        new(&[kv("deep", Value::Array(deep.clone()))], &[]),
        Some(GgufError::NestingTooDeep { depth: 9, .. })
    ));
    if let Array::Array(mut inner) = deep {
        // Eight levels are fine.
        let eight = inner.pop().expect("inner");
        assert!(new(&[kv("deep", Value::Array(eight))], &[]).is_none());
    }

    let t = |dims: &[u64], ty| TensorSpec::new("t", dims.to_vec(), ty);
    assert!(matches!(
        new(&[], &[t(&[1, 1, 1, 1, 1], GgmlType::F32)]),
        Some(GgufError::TooManyDims { .. })
    ));
    assert!(matches!(
        new(&[], &[t(&[0], GgmlType::F32)]),
        Some(GgufError::ZeroDim { .. })
    ));
    assert!(matches!(
        new(&[], &[t(&[16], GgmlType::Q4_0)]),
        Some(GgufError::RowNotBlockMultiple { .. })
    ));
    assert!(matches!(
        new(&[], &[t(&[1 << 40, 1 << 40], GgmlType::F32)]),
        Some(GgufError::ShapeOverflow { .. })
    ));
    assert!(matches!(
        new(&[], &[t(&[4], GgmlType::F32), t(&[4], GgmlType::F32)]),
        Some(GgufError::DuplicateTensor { .. })
    ));
}

fn dir_entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn file_writer_commits_atomically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("model.gguf");
    let mut w = GgufFileWriter::new(&path, &meta(), &specs()).expect("new");
    w.write_tensor("a", &[7; 36]).expect("a");
    assert!(!path.exists(), "nothing at the path before commit");
    w.write_tensor("b", &[8; 12]).expect("b");
    w.commit().expect("commit");
    assert_eq!(
        dir_entries(dir.path()),
        ["model.gguf"],
        "no temporary file left behind"
    );
    let f = GgufFile::open(&path).expect("open");
    assert_eq!(f.get_str("general.architecture").ok(), Some("test"));
    assert_eq!(f.tensor_data(f.tensor("b").expect("b")), &[8; 12]);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_ne!(
            mode & 0o044,
            0,
            "the model is readable by others as with File::create (mode {mode:o})"
        );
    }
}

#[test]
fn dropped_file_writer_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("model.gguf");
    std::fs::write(&path, b"old").expect("old file");
    {
        let mut w = GgufFileWriter::new(&path, &meta(), &specs()).expect("new");
        w.write_tensor("a", &[7; 36]).expect("a");
        // Dropped without commit.
    }
    assert_eq!(dir_entries(dir.path()), ["model.gguf"]);
    assert_eq!(
        std::fs::read(&path).expect("read"),
        b"old",
        "the old file is untouched"
    );

    // A commit that fails (missing tensor) also leaves the old file alone.
    let w = GgufFileWriter::new(&path, &meta(), &specs()).expect("new");
    assert!(matches!(
        w.commit(),
        Err(GgufError::MissingTensorData { .. })
    ));
    assert_eq!(dir_entries(dir.path()), ["model.gguf"]);
    assert_eq!(std::fs::read(&path).expect("read"), b"old");

    // Invalid specs fail and leave nothing behind.
    let bad = [TensorSpec::new("z", [0], GgmlType::F32)];
    assert!(GgufFileWriter::new(&path, &[], &bad).is_err());
    assert_eq!(dir_entries(dir.path()), ["model.gguf"]);
}

#[test]
fn file_writer_replaces_an_existing_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("m.gguf");
    std::fs::write(&path, b"old").expect("old file");
    let mut w = GgufFileWriter::new(&path, &meta(), &specs()).expect("new");
    w.write_tensor("a", &[1; 36]).expect("a");
    w.write_tensor("b", &[2; 12]).expect("b");
    w.commit().expect("commit");
    assert!(GgufFile::open(&path).is_ok());
}

#[test]
fn file_writer_reports_a_missing_directory() {
    let err = GgufFileWriter::new("/nonexistent/dir/m.gguf", &[], &[]).expect_err("no dir");
    assert!(matches!(err, GgufError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/dir/m.gguf"), "{err}");
}
