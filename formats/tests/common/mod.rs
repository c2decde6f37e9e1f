//! Hand-made GGUF bytes for the tests: a tiny encoder written independently of the
//! crate's writer, so that reader tests do not trust the writer (and vice versa).
#![allow(dead_code)]

/// Value type ids of the GGUF specification.
pub mod ty {
    pub const U8: u32 = 0;
    pub const I8: u32 = 1;
    pub const U16: u32 = 2;
    pub const I16: u32 = 3;
    pub const U32: u32 = 4;
    pub const I32: u32 = 5;
    pub const F32: u32 = 6;
    pub const BOOL: u32 = 7;
    pub const STRING: u32 = 8;
    pub const ARRAY: u32 = 9;
    pub const U64: u32 = 10;
    pub const I64: u32 = 11;
    pub const F64: u32 = 12;
}

/// ggml type ids used in the tests.
pub mod ggml {
    pub const F32: u32 = 0;
    pub const F16: u32 = 1;
    pub const Q4_0: u32 = 2;
    pub const Q8_0: u32 = 8;
    pub const Q4_K: u32 = 12;
}

/// One metadata entry as raw parts: key bytes, value type id, encoded value.
pub struct Kv {
    pub key: Vec<u8>,
    pub type_id: u32,
    pub value: Vec<u8>,
}

/// One tensor info as raw parts.
pub struct Ti {
    pub name: Vec<u8>,
    pub dims: Vec<u64>,
    pub type_id: u32,
    pub offset: u64,
}

pub fn kv(key: &str, type_id: u32, value: Vec<u8>) -> Kv {
    Kv {
        key: key.as_bytes().to_vec(),
        type_id,
        value,
    }
}

pub fn ti(name: &str, dims: &[u64], type_id: u32, offset: u64) -> Ti {
    Ti {
        name: name.as_bytes().to_vec(),
        dims: dims.to_vec(),
        type_id,
        offset,
    }
}

pub fn le_u32(v: u32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

pub fn le_u64(v: u64) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

/// A GGUF string: u64 length then the bytes.
pub fn gstr(s: &[u8]) -> Vec<u8> {
    let mut v = le_u64(s.len() as u64);
    v.extend_from_slice(s);
    v
}

/// An encoded array value: element type, count, then the already-encoded elements.
pub fn garr(element_type: u32, count: u64, elements: &[u8]) -> Vec<u8> {
    let mut v = le_u32(element_type);
    v.extend(le_u64(count));
    v.extend_from_slice(elements);
    v
}

/// Header (magic, version, counts) with explicit counts.
pub fn header(version: u32, n_tensors: u64, n_kv: u64) -> Vec<u8> {
    let mut v = b"GGUF".to_vec();
    v.extend(le_u32(version));
    v.extend(le_u64(n_tensors));
    v.extend(le_u64(n_kv));
    v
}

pub fn encode_kvs(out: &mut Vec<u8>, kvs: &[Kv]) {
    for kv in kvs {
        out.extend(gstr(&kv.key));
        out.extend(le_u32(kv.type_id));
        out.extend_from_slice(&kv.value);
    }
}

pub fn encode_tis(out: &mut Vec<u8>, tis: &[Ti]) {
    for t in tis {
        out.extend(gstr(&t.name));
        out.extend(le_u32(t.dims.len() as u32));
        for &d in &t.dims {
            out.extend(le_u64(d));
        }
        out.extend(le_u32(t.type_id));
        out.extend(le_u64(t.offset));
    }
}

/// A complete v3 file: header, entries, infos, zero padding to `alignment`, then `data`.
pub fn file_aligned(alignment: usize, kvs: &[Kv], tis: &[Ti], data: &[u8]) -> Vec<u8> {
    let mut out = header(3, tis.len() as u64, kvs.len() as u64);
    encode_kvs(&mut out, kvs);
    encode_tis(&mut out, tis);
    while out.len() % alignment != 0 {
        out.push(0);
    }
    out.extend_from_slice(data);
    out
}

/// [`file_aligned`] with the default alignment of 32.
pub fn file(kvs: &[Kv], tis: &[Ti], data: &[u8]) -> Vec<u8> {
    file_aligned(32, kvs, tis, data)
}

/// A small valid file with every value type (nested and empty arrays included) and two
/// tensors whose data are patterns; the last tensor ends exactly at the end of the file,
/// so every proper prefix of it is invalid.
pub fn small_valid_file() -> Vec<u8> {
    let strs: Vec<u8> = [gstr("a".as_bytes()), gstr("ß→".as_bytes())].concat();
    let nested: Vec<u8> = [garr(ty::U8, 2, &[7, 8]), garr(ty::STRING, 0, &[])].concat();
    let kvs = vec![
        kv("general.architecture", ty::STRING, gstr(b"llama")),
        kv("u8", ty::U8, vec![200]),
        kv("i8", ty::I8, vec![0x80]),
        kv("u16", ty::U16, 0xBEEFu16.to_le_bytes().to_vec()),
        kv("i16", ty::I16, (-2i16).to_le_bytes().to_vec()),
        kv("u32", ty::U32, le_u32(123_456)),
        kv("i32", ty::I32, (-7i32).to_le_bytes().to_vec()),
        kv("f32", ty::F32, 1.5f32.to_le_bytes().to_vec()),
        kv("bool", ty::BOOL, vec![1]),
        kv("u64", ty::U64, le_u64(u64::MAX)),
        kv("i64", ty::I64, i64::MIN.to_le_bytes().to_vec()),
        kv("f64", ty::F64, (-0.25f64).to_le_bytes().to_vec()),
        kv("strings", ty::ARRAY, garr(ty::STRING, 2, &strs)),
        kv("nested", ty::ARRAY, garr(ty::ARRAY, 2, &nested)),
        kv("empty", ty::ARRAY, garr(ty::F32, 0, &[])),
        kv("bools", ty::ARRAY, garr(ty::BOOL, 3, &[1, 0, 1])),
    ];
    // q: 64 Q8_0 elements = 2 blocks = 68 bytes, padded to 96; w: 8 f32 = 32 bytes.
    let tis = vec![
        ti("q", &[64], ggml::Q8_0, 0),
        ti("w", &[4, 2], ggml::F32, 96),
    ];
    let mut data: Vec<u8> = (0..68u32).map(|i| i as u8).collect();
    data.resize(96, 0);
    data.extend((0..32u32).map(|i| 100 + i as u8));
    file(&kvs, &tis, &data)
}
