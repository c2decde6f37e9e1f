//! Tests of building tokenizers from small hand-made metadata: errors on broken metadata,
//! special tokens, byte fallback, decoding.

use std::collections::HashMap;

use edge_formats::{Array, Value};

use super::*;

/// Metadata under construction.
#[derive(Clone, Default)]
struct Meta(HashMap<String, Value>);

impl Meta {
    fn set(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.insert(key.to_string(), value.into());
        self
    }

    fn strings(self, key: &str, v: &[&str]) -> Self {
        let v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        self.set(key, Array::from(v))
    }

    fn remove(mut self, key: &str) -> Self {
        self.0.remove(key);
        self
    }

    fn build(&self) -> Result<Tokenizer, TokenizerError> {
        Tokenizer::from_metadata(|k| self.0.get(k))
    }
}

/// A tiny SentencePiece vocabulary with byte fallback.
fn spm_meta() -> Meta {
    let mut tokens: Vec<String> = [
        "<unk>", "<s>", "</s>", "▁", "h", "i", "▁h", "▁hi", "<start>",
    ]
    .map(String::from)
    .to_vec();
    let mut types = vec![2, 3, 3, 1, 1, 1, 1, 1, 3];
    let mut scores: Vec<f32> = vec![0.0, 0.0, 0.0, -1.0, -2.0, -2.0, -1.5, -0.5, 0.0];
    for b in 0..=255u8 {
        tokens.push(format!("<0x{b:02X}>"));
        types.push(6);
        scores.push(0.0);
    }
    Meta::default()
        .set(keys::MODEL, "llama")
        .set(keys::TOKENS, Array::from(tokens))
        .set(keys::SCORES, Array::from(scores))
        .set(keys::TOKEN_TYPE, Array::from(types))
        .set(keys::BOS_ID, 1u32)
        .set(keys::EOS_ID, 2u32)
        .set(keys::UNK_ID, 0u32)
}

/// A tiny byte-level BPE vocabulary: every byte, plus a few merges.
fn bpe_meta() -> Meta {
    let mut tokens: Vec<String> = (0..=255u8).map(|b| byte_to_char(b).to_string()).collect();
    tokens.extend(["Ġh", "Ġhi", "<|im_end|>", "<|endoftext|>"].map(String::from));
    let mut types = vec![1; 256];
    types.extend([1, 1, 3, 3]);
    Meta::default()
        .set(keys::MODEL, "gpt2")
        .set(keys::PRE, "smollm")
        .set(keys::TOKENS, Array::from(tokens))
        .set(keys::TOKEN_TYPE, Array::from(types))
        .strings(keys::MERGES, &["Ġ h", "Ġh i"])
        .set(keys::BOS_ID, 259u32)
        .set(keys::EOS_ID, 259u32)
        .set(keys::ADD_BOS, false)
}

#[test]
fn missing_tokens_is_reported_by_key() {
    let err = spm_meta().remove(keys::TOKENS).build().unwrap_err();
    assert!(
        matches!(err, TokenizerError::MissingKey { key } if key == keys::TOKENS),
        "{err}"
    );
    let err = Meta::default().build().unwrap_err();
    assert!(matches!(err, TokenizerError::MissingKey { key } if key == keys::MODEL));
}

#[test]
fn scores_of_the_wrong_length() {
    let err = spm_meta()
        .set(keys::SCORES, Array::from(vec![0.0f32; 3]))
        .build()
        .unwrap_err();
    match err {
        TokenizerError::LengthMismatch { key, len, n_tokens } => {
            assert_eq!((key, len, n_tokens), (keys::SCORES, 3, 265));
        }
        other => panic!("{other}"),
    }
    let err = spm_meta()
        .set(keys::TOKEN_TYPE, Array::from(vec![1i32; 300]))
        .build()
        .unwrap_err();
    assert!(matches!(err, TokenizerError::LengthMismatch { key, .. } if key == keys::TOKEN_TYPE));
}

#[test]
fn special_id_out_of_range() {
    let err = spm_meta()
        .set(keys::BOS_ID, 100_000u32)
        .build()
        .unwrap_err();
    assert!(
        matches!(err, TokenizerError::TokenIdOutOfRange { key, id: 100_000, n_tokens: 265 } if key == keys::BOS_ID),
        "{err}"
    );
    assert!(err.to_string().contains("tokenizer.ggml.bos_token_id"));
    let err = spm_meta().set(keys::EOT_ID, -1i32).build().unwrap_err();
    assert!(matches!(err, TokenizerError::TokenIdOutOfRange { key, .. } if key == keys::EOT_ID));
}

#[test]
fn unknown_model_and_pre_tokenizer() {
    let err = spm_meta().set(keys::MODEL, "t5").build().unwrap_err();
    assert!(matches!(&err, TokenizerError::UnknownModel { model } if model == "t5"));
    assert!(err.to_string().contains("tokenizer.ggml.model"));
    let err = bpe_meta().set(keys::PRE, "nonesuch").build().unwrap_err();
    assert!(matches!(&err, TokenizerError::UnknownPreTokenizer { pre } if pre == "nonesuch"));
}

#[test]
fn wrong_types_name_key_and_types() {
    let err = spm_meta().set(keys::TOKENS, 3u32).build().unwrap_err();
    assert!(matches!(err, TokenizerError::WrongType { key, .. } if key == keys::TOKENS));
    let err = spm_meta()
        .set(keys::TOKEN_TYPE, Array::from(vec![1.0f32; 265]))
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "tokenizer metadata `tokenizer.ggml.token_type` is an array of f32, expected an array of i32"
    );
    let err = spm_meta().set(keys::ADD_BOS, 1u8).build().unwrap_err();
    assert!(matches!(err, TokenizerError::WrongType { key, .. } if key == keys::ADD_BOS));
}

#[test]
fn empty_and_duplicate_vocabularies() {
    let err = spm_meta()
        .strings(keys::TOKENS, &[])
        .remove(keys::SCORES)
        .remove(keys::TOKEN_TYPE)
        .build()
        .unwrap_err();
    assert!(matches!(err, TokenizerError::EmptyVocab));
    let err = bpe_meta()
        .strings(keys::TOKENS, &["a", "b", "a"])
        .remove(keys::TOKEN_TYPE)
        .remove(keys::BOS_ID)
        .remove(keys::EOS_ID)
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, TokenizerError::DuplicateToken { text, first: 0, second: 2 } if text == "a"),
        "{err}"
    );
}

#[test]
fn bpe_needs_merges() {
    let err = bpe_meta().remove(keys::MERGES).build().unwrap_err();
    assert!(matches!(err, TokenizerError::MissingKey { key } if key == keys::MERGES));
    let err = bpe_meta()
        .strings(keys::MERGES, &["Ġ h", "Ġhi"])
        .build()
        .unwrap_err();
    assert!(matches!(err, TokenizerError::BadMerge { index: 1, .. }));
}

#[test]
fn asked_to_add_a_token_the_model_lacks() {
    // A 2-token vocabulary: the BPE default BOS/EOS (id 11) is out of range, so there is
    // neither, yet the file asks for them.
    let tiny = bpe_meta()
        .remove(keys::BOS_ID)
        .remove(keys::EOS_ID)
        .strings(keys::TOKENS, &["a", "b"])
        .remove(keys::TOKEN_TYPE);
    assert!(tiny.build().is_ok());
    let err = tiny.clone().set(keys::ADD_EOS, true).build().unwrap_err();
    assert!(
        matches!(err, TokenizerError::MissingSpecialToken { what: "EOS", .. }),
        "{err}"
    );
    let err = tiny.set(keys::ADD_BOS, true).build().unwrap_err();
    assert!(
        matches!(err, TokenizerError::MissingSpecialToken { what: "BOS", .. }),
        "{err}"
    );
}

#[test]
fn spm_encodes_with_space_prefix_and_byte_fallback() {
    let tok = spm_meta().build().expect("tokenizer");
    assert_eq!(tok.kind(), TokenizerKind::SentencePiece);
    assert!(tok.add_bos() && tok.add_space_prefix());
    // "hi" → "▁hi"; "é" is not in the vocabulary: <0xC3> <0xA9>.
    let byte = |b: u8| 9 + u32::from(b);
    assert_eq!(tok.encode("hi", true, false), [1, 7]);
    assert_eq!(tok.encode("hié", false, false), [7, byte(0xC3), byte(0xA9)]);
    // After a special token the space prefix comes again.
    assert_eq!(tok.encode("hi<start>hi", false, true), [7, 8, 7]);
    // Not parsed: "<start>" is plain text, spelled in bytes.
    let plain = tok.encode("<start>", false, false);
    assert_eq!(plain[0], 3); // ▁
    assert_eq!(plain[1], byte(b'<'));

    let opts = DecodeOptions::default();
    assert_eq!(
        tok.decode(&tok.encode("hi hié", false, false), opts),
        "hi hié"
    );
    let with_bos = tok.encode("hi", true, false);
    let shown = tok.decode(&with_bos, opts);
    assert_eq!(shown, "<s> hi");
    let clean = tok.decode(
        &with_bos,
        DecodeOptions {
            remove_special: true,
            render_special: false,
        },
    );
    // As in llama.cpp, the space put in front of the text stays when the BOS before it
    // is removed; it goes when there was no BOS.
    assert_eq!(clean, " hi");
    assert_eq!(tok.decode(&tok.encode("hi", false, false), opts), "hi");
    assert_eq!(tok.token_to_piece(byte(0xC3)), [0xC3]);
    assert_eq!(tok.token_to_piece(7), b" hi");
    assert!(tok.token_to_piece(100_000).is_empty());
}

#[test]
fn bpe_encodes_special_tokens_and_decodes_bytes() {
    let tok = bpe_meta().build().expect("tokenizer");
    assert_eq!(tok.kind(), TokenizerKind::BytePairGpt2);
    assert_eq!(tok.pre_tokenizer(), Some(PreTokenizer::Smollm));
    let ids = tok.encode("a hi<|im_end|>", true, true);
    assert_eq!(ids, [u32::from(b'a'), 257, 258]);
    let ids = tok.encode("a hi<|im_end|>", true, false);
    assert_eq!(ids.len(), 2 + "<|im_end|>".len());
    let text = "naïve 🙂 x";
    assert_eq!(
        tok.decode(&tok.encode(text, false, false), DecodeOptions::default()),
        text
    );
}

#[test]
fn end_of_generation_tokens() {
    let tok = bpe_meta().build().expect("tokenizer");
    // EOS (259) by id, <|im_end|> (258) by its text.
    assert!(tok.is_eog(259));
    assert!(tok.is_eog(258));
    assert!(!tok.is_eog(257));
    assert_eq!(tok.eog_tokens().collect::<Vec<_>>(), [258, 259]);
    assert_eq!(tok.special_tokens().eot, Some(258));
}

#[test]
fn eot_text_marked_control() {
    // <|im_end|> typed as normal in the file is still a control token.
    let mut types = vec![1; 260];
    types[259] = 3;
    let tok = bpe_meta()
        .set(keys::TOKEN_TYPE, Array::from(types))
        .build()
        .expect("tokenizer");
    assert_eq!(tok.token_type(258), Some(TokenType::Control));
    assert_eq!(tok.encode("<|im_end|>", false, true), [258]);
}

#[test]
fn stream_decoder_holds_back_partial_characters() {
    let tok = spm_meta().build().expect("tokenizer");
    let ids = tok.encode("é🙂", false, false);
    let mut stream = tok.stream_decoder();
    let mut pieces = Vec::new();
    for id in ids {
        let piece = stream.push(id);
        assert!(!piece.contains('\u{FFFD}'));
        pieces.push(piece);
    }
    pieces.push(stream.finish());
    assert_eq!(pieces.concat(), " é🙂");
    // Output appears only when a character is whole: "▁", then é after its 2nd byte, then
    // 🙂 after its 4th.
    assert_eq!(pieces.iter().filter(|p| !p.is_empty()).count(), 3);

    // A stray continuation byte cannot become a character: it is replaced, not held.
    let mut stream = tok.stream_decoder();
    assert_eq!(stream.push(9 + 0xA9), "\u{FFFD}");
    assert_eq!(stream.push(9 + 0xF0), "");
    assert_eq!(stream.pending(), [0xF0]);
    assert_eq!(stream.finish(), "\u{FFFD}");
}

#[test]
fn tokenizer_is_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Tokenizer>();
}
