//! Reading the real test models made by llama.cpp, checked against facts read from the same
//! files by llama.cpp's own Python reader (`gguf` 0.19.0, `gguf.GGUFReader`), e.g. with
//! `python3 tests/refgen/read_gguf.py ~/.cache/edge/models/<file>` from the workspace root.
//!
//! The models live in `$EDGE_MODELS` or `~/.cache/edge/models` (fetched by
//! `scripts/`, never committed). A missing model skips the test, unless `EDGE_CI=1`.

use std::path::PathBuf;

use edge_formats::{GgmlType, GgufFile, ValueType};
use sha2::{Digest, Sha256};

fn model_dir() -> PathBuf {
    match std::env::var_os("EDGE_MODELS") {
        Some(dir) => PathBuf::from(dir),
        None => {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/edge/models")
        }
    }
}

fn model(name: &str) -> Option<GgufFile> {
    let path = model_dir().join(name);
    if !path.exists() {
        assert!(
            std::env::var("EDGE_CI").as_deref() != Ok("1"),
            "{} is missing and EDGE_CI=1",
            path.display()
        );
        eprintln!(
            "skipping: {} not found (set EDGE_MODELS or fetch the models)",
            path.display()
        );
        return None;
    }
    Some(GgufFile::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// (name, type, dims, offset, n_bytes, sha256 of the data) as GGUFReader reports them.
type TensorFact = (
    &'static str,
    GgmlType,
    &'static [u64],
    u64,
    u64,
    &'static str,
);

fn check_tensors(f: &GgufFile, facts: &[TensorFact]) {
    for &(name, ggml_type, dims, offset, n_bytes, sha) in facts {
        let t = f.tensor(name).unwrap_or_else(|| panic!("tensor {name}"));
        assert_eq!(
            (t.ggml_type, t.dims.as_slice(), t.offset, t.n_bytes()),
            (ggml_type, dims, offset, n_bytes),
            "{name}"
        );
        assert_eq!(sha256_hex(f.tensor_data(t)), sha, "{name}");
    }
    // Every tensor's view is exact and aligned in memory (the map is page-aligned).
    for t in f.tensors() {
        let data = f.tensor_data(t);
        assert_eq!(data.len() as u64, t.n_bytes(), "{}", t.name);
        assert_eq!(data.as_ptr() as u64 % f.alignment(), 0, "{}", t.name);
    }
}

#[test]
fn smollm2_q4_1() {
    let Some(f) = model("SmolLM2-135M-Instruct.Q4_1.gguf") else {
        return;
    };
    assert_eq!(f.version(), 3);
    assert_eq!(f.file_size(), 98_362_432);
    assert_eq!(f.alignment(), 32);
    assert_eq!(f.data_offset(), 1_785_664);
    assert_eq!(f.metadata().len(), 33);
    assert_eq!(f.tensors().len(), 272);
    assert_eq!(f.get_str("general.architecture").ok(), Some("llama"));
    assert_eq!(f.get_str("tokenizer.ggml.pre").ok(), Some("smollm"));
    assert_eq!(f.get_u32("llama.block_count").ok(), Some(30));
    assert_eq!(f.get_usize("llama.embedding_length").ok(), Some(576));
    assert_eq!(f.get_f32("llama.rope.freq_base").ok(), Some(100_000.0));
    assert_eq!(f.get_bool("tokenizer.ggml.add_bos_token").ok(), Some(false));
    let tokens = f.get_array("tokenizer.ggml.tokens").expect("tokens");
    assert_eq!(tokens.len(), 49_152);
    assert_eq!(
        tokens
            .as_strings()
            .and_then(|t| t.get(1))
            .map(String::as_str),
        Some("<|im_start|>")
    );
    let merges = f.get_array("tokenizer.ggml.merges").expect("merges");
    assert_eq!(
        (merges.element_type(), merges.len()),
        (ValueType::String, 48_900)
    );
    assert_eq!(
        f.get_array("tokenizer.ggml.token_type")
            .map(|a| a.element_type())
            .ok(),
        Some(ValueType::I32)
    );

    check_tensors(
        &f,
        &[
            (
                "blk.0.attn_q.weight",
                GgmlType::Q4_1,
                &[576, 576],
                32_020_992,
                207_360,
                "a8a1da23623a60216a214d68aca681284f4188cafcfe40664d8d025d3838038f",
            ),
            (
                "blk.0.ffn_down.weight",
                GgmlType::Q4_1,
                &[1536, 576],
                30_083_328,
                552_960,
                "e439c1c8c383c3aa7acf459d08c9116c2a7756dc2c1a27675d7411e8462b4e85",
            ),
            (
                "output_norm.weight",
                GgmlType::F32,
                &[576],
                96_574_464,
                2304,
                "3b87f8e27335e67fc08f159cabfd2d18f205d6c5b225a6f978153552bf01d559",
            ),
        ],
    );
    let embd = f.tensor("token_embd.weight").expect("token_embd");
    assert_eq!(
        (embd.ggml_type, embd.dims.as_slice(), embd.offset),
        (GgmlType::Q8_0, &[576u64, 49_152][..], 0)
    );
    assert_eq!(embd.n_bytes(), 30_081_024);
    assert_eq!(
        f.tensors()
            .iter()
            .filter(|t| t.ggml_type == GgmlType::Q4_1)
            .count(),
        210
    );
}

#[test]
fn gemma3_q4_k_m() {
    let Some(f) = model("gemma-3-270m-q4_k_m.gguf") else {
        return;
    };
    assert_eq!(f.version(), 3);
    assert_eq!(f.file_size(), 253_113_024);
    assert_eq!(f.data_offset(), 6_525_120);
    assert_eq!(f.metadata().len(), 33);
    assert_eq!(f.tensors().len(), 236);
    assert_eq!(f.get_str("general.architecture").ok(), Some("gemma3"));
    assert_eq!(f.get_u32("gemma3.attention.sliding_window").ok(), Some(512));
    assert_eq!(f.get_usize("gemma3.attention.key_length").ok(), Some(256));
    let tokens = f.get_array("tokenizer.ggml.tokens").expect("tokens");
    assert_eq!(
        tokens
            .as_strings()
            .and_then(|t| t.get(2))
            .map(String::as_str),
        Some("<bos>")
    );
    let scores = f.get_array("tokenizer.ggml.scores").expect("scores");
    assert_eq!(
        (scores.element_type(), scores.len()),
        (ValueType::F32, 262_144)
    );
    assert_eq!(
        f.tensors()[0].name,
        "output_norm.weight",
        "file order is kept"
    );

    check_tensors(
        &f,
        &[
            (
                "output_norm.weight",
                GgmlType::F32,
                &[640],
                0,
                2560,
                "7c6f10fe176e85ae705758390d5cbe15b79d090656ebbb4f9789c073041139d8",
            ),
            (
                "blk.0.attn_q.weight",
                GgmlType::Q5_0,
                &[640, 1024],
                178_745_344,
                450_560,
                "d964a6a0c705bbe881dfa5c756e71c914ea6e06dd58cd758e4319bf6aa6e9caa",
            ),
            (
                "blk.0.attn_output.weight",
                GgmlType::Q4_K,
                &[1024, 640],
                178_376_704,
                368_640,
                "6bd61ba5056e6e47e730d21529c83ed0109e390abc8fffd9f62c20db1111a4dd",
            ),
            (
                "blk.0.ffn_down.weight",
                GgmlType::Q6_K,
                &[2048, 640],
                179_371_008,
                1_075_200,
                "1dd73d2c85a1f70456658f4420ae67110e79398b1ac3eff3225a39a8218bb576",
            ),
            (
                "blk.0.attn_v.weight",
                GgmlType::Q8_0,
                &[640, 256],
                179_196_928,
                174_080,
                "60b7bf37a175f9cb92b86083f469cd6f1c4cd8308806deb193633a49c013ed53",
            ),
        ],
    );
}

/// Cutting a real file anywhere in its metadata or tensor infos (long string arrays,
/// hundreds of infos) is an error, never a panic.
#[test]
fn truncated_real_headers_are_rejected() {
    let Some(f) = model("SmolLM2-135M-Instruct.Q4_1.gguf") else {
        return;
    };
    let header = f
        .as_bytes()
        .get(..f.data_offset() as usize)
        .expect("header");
    let step = header.len() / 97;
    for len in (0..header.len()).step_by(step).chain([header.len() - 1]) {
        let result = GgufFile::from_bytes(header[..len].to_vec());
        assert!(result.is_err(), "prefix of {len} bytes accepted");
    }
    // The full header without data: the tensors point past the end.
    assert!(matches!(
        GgufFile::from_bytes(header.to_vec()),
        Err(edge_formats::GgufError::TensorOutOfBounds { .. })
    ));
}

/// A file read into memory (`GgufFile::read`, huge pages where offered) holds exactly the
/// bytes of the mapped file checked above, with every tensor as aligned.
#[test]
fn read_files_equal_mapped_ones() {
    for name in [
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "gemma-3-270m-q4_k_m.gguf",
    ] {
        let Some(mapped) = model(name) else { continue };
        let path = model_dir().join(name);
        let read = GgufFile::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(read.as_bytes() == mapped.as_bytes(), "{name}: bytes differ");
        let mut seen = Vec::new();
        let piecewise = GgufFile::read_with_progress(&path, 16 << 20, |done, total| {
            seen.push((done, total));
            true
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            piecewise.as_bytes() == mapped.as_bytes(),
            "{name}: bytes differ"
        );
        let size = mapped.as_bytes().len();
        assert_eq!(seen.last(), Some(&(size, size)), "{name}");
        assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "{name}: {seen:?}");
        let stopped = GgufFile::read_with_progress(&path, 16 << 20, |_, _| false);
        assert!(
            matches!(stopped, Err(edge_formats::GgufError::Cancelled)),
            "{name}: {stopped:?}"
        );
        assert_eq!(read.tensors().len(), mapped.tensors().len(), "{name}");
        for t in read.tensors() {
            assert_eq!(
                read.tensor_data(t).as_ptr() as u64 % read.alignment(),
                0,
                "{name}: {}",
                t.name
            );
        }
    }
}
