//! The hostile-file corpus: one hand-made file per validation rule, each asserting its own
//! error variant and that the message says where the problem is.
//!
//! Each file is also committed under `tests/hostile/<rule>.gguf` (seeds for the fuzzer,
//! samples for other readers). The test fails if the committed file differs from the one
//! built here; regenerate with `EDGE_REGEN_CORPUS=1 cargo test -p edge-formats --test hostile`.

mod common;

use std::path::PathBuf;

use common::*;
use edge_formats::{GgufError, TypeIdError, ValueType};

fn corpus_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/hostile")
        .join(format!("{name}.gguf"))
}

/// Reads `bytes` from memory and from the committed file; both must fail with an error
/// accepted by `expected` whose message contains `fragment`.
fn check(name: &str, bytes: Vec<u8>, expected: impl Fn(&GgufError) -> bool, fragment: &str) {
    let err = edge_formats::GgufFile::from_bytes(bytes.clone()).expect_err(name);
    assert!(expected(&err), "{name}: unexpected error {err:?}");
    let message = err.to_string();
    assert!(
        message.contains(fragment),
        "{name}: message {message:?} lacks {fragment:?}"
    );

    let path = corpus_path(name);
    if std::env::var_os("EDGE_REGEN_CORPUS").is_some() {
        std::fs::write(&path, &bytes).expect("writing the corpus");
    }
    let committed = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; regenerate with EDGE_REGEN_CORPUS=1",
            path.display()
        )
    });
    assert!(
        committed == bytes,
        "{} is stale; regenerate with EDGE_REGEN_CORPUS=1",
        path.display()
    );
    let err = edge_formats::GgufFile::open(&path).expect_err(name);
    assert!(expected(&err), "{name} (open): unexpected error {err:?}");
    let err = edge_formats::GgufFile::read(&path).expect_err(name);
    assert!(expected(&err), "{name} (read): unexpected error {err:?}");
}

macro_rules! hostile {
    ($(#[$doc:meta])* $name:ident, $bytes:expr, $pattern:pat, $fragment:expr) => {
        $(#[$doc])*
        #[test]
        fn $name() {
            check(stringify!($name), $bytes, |e| matches!(e, $pattern), $fragment);
        }
    };
}

/// A file with one tensor `t` of `dims` and type `type_id` at offset 0, with enough data.
fn one_tensor(dims: &[u64], type_id: u32) -> Vec<u8> {
    file(&[], &[ti("t", dims, type_id, 0)], &[0; 64])
}

// --- Header -------------------------------------------------------------------------

hostile!(
    bad_magic,
    {
        let mut f = file(&[], &[], &[]);
        f[..4].copy_from_slice(b"GGML");
        f
    },
    GgufError::BadMagic {
        found: [b'G', b'G', b'M', b'L']
    },
    "not a GGUF file"
);

hostile!(
    /// Version 1 used 32-bit counts; the message says so.
    version_1,
    [header(1, 0, 0), vec![0; 8]].concat(),
    GgufError::UnsupportedVersion { version: 1 },
    "32-bit counts"
);

hostile!(
    version_4,
    header(4, 0, 0),
    GgufError::UnsupportedVersion { version: 4 },
    "versions 2 and 3"
);

hostile!(
    /// A big-endian v3 file reads as version 0x03000000.
    big_endian,
    {
        let mut f = b"GGUF".to_vec();
        f.extend(3u32.to_be_bytes());
        f.extend(0u64.to_be_bytes());
        f.extend(0u64.to_be_bytes());
        f
    },
    GgufError::UnsupportedVersion { version: 0x0300_0000 },
    "big-endian"
);

hostile!(
    truncated_header,
    header(3, 0, 0)[..20].to_vec(),
    GgufError::Truncated {
        what: "metadata entry count",
        offset: 16,
        needed: 8,
        available: 4
    },
    "at byte 16"
);

// --- Counts and lengths ---------------------------------------------------------------

hostile!(
    absurd_tensor_count,
    header(3, u64::MAX / 2, 0),
    GgufError::CountTooLarge {
        what: "tensor count",
        offset: 8,
        ..
    },
    "tensor count at byte 8"
);

hostile!(
    absurd_kv_count,
    [header(3, 0, 1_000_000), vec![0; 100]].concat(),
    GgufError::CountTooLarge {
        what: "metadata entry count",
        offset: 16,
        count: 1_000_000,
        ..
    },
    "at byte 16"
);

hostile!(
    /// 1000 u32 elements claimed, 8 bytes present.
    absurd_array_count,
    file(&[kv("a", ty::ARRAY, garr(ty::U32, 1000, &[0; 8]))], &[], &[]),
    GgufError::CountTooLarge { what: "array length", count: 1000, min_bytes_each: 4, .. },
    "array length"
);

hostile!(
    /// count × element size overflows u64.
    array_count_overflow,
    file(&[kv("a", ty::ARRAY, garr(ty::U64, u64::MAX / 4, &[0; 8]))], &[], &[]),
    GgufError::CountTooLarge { what: "array length", .. },
    "array length"
);

hostile!(
    /// An array of arrays needs at least 12 bytes per element (type + count).
    absurd_nested_array_count,
    file(&[kv("a", ty::ARRAY, garr(ty::ARRAY, 10, &[0; 100]))], &[], &[]),
    GgufError::CountTooLarge { what: "array length", count: 10, min_bytes_each: 12, .. },
    "array length"
);

hostile!(
    key_beyond_end,
    [header(3, 0, 1), le_u64(1 << 40), b"general.name".to_vec()].concat(),
    GgufError::StringBeyondEnd {
        what: "metadata key",
        offset: 24,
        len: 1_099_511_627_776,
        ..
    },
    "metadata key at byte 24"
);

hostile!(
    string_value_beyond_end,
    {
        let mut value = le_u64(u64::MAX);
        value.extend_from_slice(b"short");
        file(&[kv("general.name", ty::STRING, value)], &[], &[])
    },
    GgufError::StringBeyondEnd {
        what: "string value",
        len: u64::MAX,
        ..
    },
    "string value"
);

hostile!(
    tensor_name_beyond_end,
    {
        let mut f = header(3, 1, 0);
        f.extend(le_u64(500));
        f.extend_from_slice(b"token_embd.weight and then some padding bytes");
        f
    },
    GgufError::StringBeyondEnd {
        what: "tensor name",
        offset: 24,
        len: 500,
        ..
    },
    "tensor name at byte 24"
);

hostile!(
    truncated_in_tensor_info,
    {
        let f = one_tensor(&[4, 2, 2, 2], ggml::F32);
        // Header (24) + name (8 + 1) + n_dims (4) + two dimensions (16) + 4 bytes of the third.
        f[..57].to_vec()
    },
    GgufError::Truncated {
        what: "tensor dimension",
        offset: 53,
        needed: 8,
        available: 4
    },
    "tensor dimension at byte 53"
);

hostile!(
    /// Tensors exist but the file stops before the padded start of the data section.
    data_section_truncated,
    {
        let mut f = header(3, 1, 0);
        encode_tis(&mut f, &[ti("t", &[4], ggml::F32, 0)]);
        f.push(0);
        f
    },
    GgufError::Truncated { what: "padding before the tensor data", .. },
    "padding before the tensor data"
);

// --- Metadata values ----------------------------------------------------------------

hostile!(
    nesting_too_deep,
    {
        // Nine arrays, each holding one array, around an empty u8 array.
        let mut value = garr(ty::U8, 0, &[]);
        for _ in 0..8 {
            value = garr(ty::ARRAY, 1, &value);
        }
        file(&[kv("deep", ty::ARRAY, value)], &[], &[])
    },
    GgufError::NestingTooDeep {
        depth: 9,
        max: 8,
        ..
    },
    "nested 9 deep"
);

hostile!(
    invalid_value_type,
    file(&[kv("x", 13, vec![0; 8])], &[], &[]),
    GgufError::InvalidValueType { id: 13, offset: 33 },
    "id 13 at byte 33"
);

hostile!(
    invalid_array_element_type,
    file(&[kv("x", ty::ARRAY, garr(0xFFFF_FFFF, 0, &[]))], &[], &[]),
    GgufError::InvalidValueType {
        id: u32::MAX,
        offset: 37
    },
    "at byte 37"
);

hostile!(
    invalid_bool,
    file(&[kv("flag", ty::BOOL, vec![2])], &[], &[]),
    GgufError::InvalidBool {
        byte: 2,
        offset: 40
    },
    "at byte 40"
);

hostile!(
    invalid_bool_in_array,
    file(
        &[kv("flags", ty::ARRAY, garr(ty::BOOL, 3, &[1, 0, 0xFF]))],
        &[],
        &[]
    ),
    GgufError::InvalidBool { byte: 0xFF, .. },
    "invalid bool byte 0xff"
);

hostile!(
    invalid_utf8_key,
    file(
        &[Kv {
            key: b"bad\xFFkey".to_vec(),
            type_id: ty::U8,
            value: vec![0]
        }],
        &[],
        &[]
    ),
    GgufError::InvalidUtf8 {
        what: "metadata key",
        offset: 32
    },
    "metadata key at byte 32"
);

hostile!(
    invalid_utf8_value,
    file(
        &[kv("general.name", ty::STRING, gstr(b"\xC3\x28"))],
        &[],
        &[]
    ),
    GgufError::InvalidUtf8 {
        what: "string value",
        ..
    },
    "string value"
);

hostile!(
    invalid_utf8_in_string_array,
    {
        let items = [gstr(b"ok"), gstr(b"\xED\xA0\x80")].concat(); // an encoded surrogate
        file(
            &[kv("tokens", ty::ARRAY, garr(ty::STRING, 2, &items))],
            &[],
            &[],
        )
    },
    GgufError::InvalidUtf8 {
        what: "string value",
        ..
    },
    "not valid UTF-8"
);

hostile!(
    invalid_utf8_tensor_name,
    file(
        &[],
        &[Ti {
            name: b"w\xFF".to_vec(),
            dims: vec![4],
            type_id: ggml::F32,
            offset: 0
        }],
        &[0; 16]
    ),
    GgufError::InvalidUtf8 {
        what: "tensor name",
        ..
    },
    "tensor name"
);

hostile!(
    duplicate_key,
    file(
        &[
            kv("general.name", ty::STRING, gstr(b"a")),
            kv("general.name", ty::STRING, gstr(b"b"))
        ],
        &[],
        &[]
    ),
    GgufError::DuplicateKey { .. },
    "duplicate metadata key 'general.name' at byte 57"
);

// --- Alignment ----------------------------------------------------------------------

hostile!(
    alignment_zero,
    file(&[kv("general.alignment", ty::U32, le_u32(0))], &[], &[]),
    GgufError::InvalidAlignment { alignment: 0 },
    "power of two"
);

hostile!(
    alignment_not_power_of_two,
    file(&[kv("general.alignment", ty::U32, le_u32(48))], &[], &[]),
    GgufError::InvalidAlignment { alignment: 48 },
    "general.alignment is 48"
);

hostile!(
    alignment_not_u32,
    file(&[kv("general.alignment", ty::U64, le_u64(32))], &[], &[]),
    GgufError::AlignmentType {
        found: ValueType::U64
    },
    "must be a u32, found u64"
);

// --- Tensor infos -------------------------------------------------------------------

hostile!(
    too_many_dims,
    one_tensor(&[1, 1, 1, 1, 1], ggml::F32),
    GgufError::TooManyDims {
        n_dims: 5,
        max: 4,
        ..
    },
    "tensor 't' has 5 dimensions"
);

hostile!(
    /// A huge dimension count must be rejected before the dimensions are read.
    huge_dim_count,
    {
        let mut f = header(3, 1, 0);
        f.extend(gstr(b"t"));
        f.extend(le_u32(u32::MAX));
        f.extend(vec![0; 64]);
        f
    },
    GgufError::TooManyDims { n_dims: u32::MAX, .. },
    "tensor 't'"
);

hostile!(
    zero_dim,
    one_tensor(&[4, 0], ggml::F32),
    GgufError::ZeroDim { .. },
    "tensor 't' has a zero dimension"
);

hostile!(
    dim_product_overflow,
    one_tensor(&[1 << 32, 1 << 32, 2], ggml::F32),
    GgufError::ShapeOverflow { .. },
    "tensor 't'"
);

hostile!(
    /// The element count fits in u64 but the byte count does not.
    byte_size_overflow,
    one_tensor(&[1 << 31, 1 << 31, 2], ggml::F32),
    GgufError::ShapeOverflow { .. },
    "overflows 64 bits"
);

hostile!(
    removed_ggml_type,
    one_tensor(&[32], 4),
    GgufError::TensorType {
        source: TypeIdError::Removed(4),
        ..
    },
    "was removed"
);

hostile!(
    unknown_ggml_type,
    one_tensor(&[32], 1000),
    GgufError::TensorType {
        source: TypeIdError::Unknown(1000),
        ..
    },
    "unknown ggml type id 1000"
);

hostile!(
    row_not_block_multiple,
    one_tensor(&[48, 2], ggml::Q4_0),
    GgufError::RowNotBlockMultiple {
        row_len: 48,
        block_size: 32,
        ..
    },
    "tensor 't' of type q4_0"
);

hostile!(
    /// Rows of 128 are not whole Q4_K super-blocks of 256 even though the element count
    /// (256) is.
    row_not_block_multiple_k_quant,
    file(&[], &[ti("t", &[128, 2], ggml::Q4_K, 0)], &[0; 160]),
    GgufError::RowNotBlockMultiple { row_len: 128, block_size: 256, .. },
    "row length 128"
);

hostile!(
    duplicate_tensor,
    file(
        &[],
        &[ti("w", &[8], ggml::F32, 0), ti("w", &[8], ggml::F32, 32)],
        &[0; 64]
    ),
    GgufError::DuplicateTensor { .. },
    "duplicate tensor name 'w'"
);

// --- Tensor data layout -------------------------------------------------------------

hostile!(
    misaligned_tensor_offset,
    file(
        &[],
        &[ti("a", &[8], ggml::F32, 0), ti("b", &[8], ggml::F32, 40)],
        &[0; 96]
    ),
    GgufError::MisalignedTensor {
        offset: 40,
        alignment: 32,
        ..
    },
    "tensor 'b': data offset 40"
);

hostile!(
    tensor_out_of_bounds,
    file(&[], &[ti("a", &[16], ggml::F32, 0)], &[0; 63]),
    GgufError::TensorOutOfBounds {
        offset: 0,
        n_bytes: 64,
        data_size: 63,
        ..
    },
    "tensor 'a'"
);

hostile!(
    /// offset + size overflows u64.
    tensor_offset_overflow,
    file(&[], &[ti("a", &[16], ggml::F32, u64::MAX - 31)], &[0; 64]),
    GgufError::TensorOutOfBounds { .. },
    "tensor 'a'"
);

hostile!(
    tensor_overlap,
    file(
        &[],
        &[ti("a", &[16], ggml::F32, 0), ti("b", &[8], ggml::F32, 32)],
        &[0; 96]
    ),
    GgufError::TensorOverlap { .. },
    "tensor 'b' (data 32..64) overlaps tensor 'a'"
);

hostile!(
    /// Same start offset, stored out of order.
    tensor_overlap_same_offset,
    file(&[], &[ti("a", &[8], ggml::F32, 32), ti("b", &[8], ggml::F32, 0), ti("c", &[8], ggml::F32, 32)], &[0; 64]),
    GgufError::TensorOverlap { .. },
    "overlaps"
);

/// Every committed corpus file belongs to a test above.
#[test]
fn corpus_has_no_orphans() {
    let source = include_str!("hostile.rs");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    for entry in std::fs::read_dir(dir).expect("tests/hostile") {
        let path = entry.expect("entry").path();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        assert!(
            source.contains(&format!("    {stem},"))
                || source.contains(&format!("hostile!({stem},")),
            "{} has no test",
            path.display()
        );
    }
}
