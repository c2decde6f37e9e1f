//! Tokenizers built from the `tokenizer.*` metadata of a GGUF file, matching llama.cpp
//! token for token.
//!
//! Two families are supported:
//! - **byte-level BPE** (`tokenizer.ggml.model = "gpt2"`: SmolLM, Llama 3, Qwen 2, GPT-2…),
//!   with the pre-tokenizer named by `tokenizer.ggml.pre` ([`PreTokenizer`]);
//! - **SentencePiece BPE** (`"llama"`: Llama 2, Gemma…), with byte fallback.
//!
//! Special tokens (control and user-defined tokens) found in the text are cut out before
//! normal tokenization, longest first, as llama.cpp does.
//!
//! ```no_run
//! use edge_runtime::tokenizer::{DecodeOptions, Tokenizer};
//!
//! let tok = Tokenizer::open("model.gguf")?;
//! let ids = tok.encode("<|im_start|>user\nHi<|im_end|>", true, true);
//! assert_eq!(tok.decode(&ids, DecodeOptions::default()), "<|im_start|>user\nHi<|im_end|>");
//! # Ok::<(), edge_runtime::tokenizer::TokenizerError>(())
//! ```

mod bpe;
mod byte_level;
mod decode;
mod error;
mod metadata;
mod partition;
mod pretokenize;
mod special;
mod spm;
mod unicode;
mod vocab;

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use edge_formats::{GgufFile, Value};

pub use byte_level::{byte_to_char, char_to_byte};
pub use decode::{DecodeOptions, StreamDecoder};
pub use error::TokenizerError;
pub use pretokenize::PreTokenizer;
pub use special::SpecialTokens;
pub use vocab::TokenType;

use bpe::Bpe;
use metadata::{keys, Metadata};
use partition::{Fragment, SpecialMatcher};
use spm::{Spm, SPACE_MARKER};
use vocab::Vocab;

/// The tokenization algorithm of a model (`tokenizer.ggml.model`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenizerKind {
    /// Byte-level BPE with merge ranks (`gpt2`).
    BytePairGpt2,
    /// SentencePiece BPE with token scores and byte fallback (`llama`).
    SentencePiece,
}

#[derive(Debug)]
enum Model {
    Bpe(Bpe),
    Spm(Spm),
}

/// A tokenizer: text → token ids → text. Immutable once built, so it can be shared
/// between threads.
pub struct Tokenizer {
    vocab: Vocab,
    model: Model,
    special: SpecialTokens,
    eog: BTreeSet<u32>,
    matcher: SpecialMatcher,
    add_bos: bool,
    add_eos: bool,
    add_space_prefix: bool,
    clean_spaces: bool,
}

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the vocabulary: it can hold hundreds of thousands of tokens.
        f.debug_struct("Tokenizer")
            .field("kind", &self.kind())
            .field("pre_tokenizer", &self.pre_tokenizer())
            .field("n_vocab", &self.n_vocab())
            .field("special", &self.special)
            .field("eog", &self.eog)
            .field("add_bos", &self.add_bos)
            .field("add_eos", &self.add_eos)
            .field("add_space_prefix", &self.add_space_prefix)
            .finish_non_exhaustive()
    }
}

impl Tokenizer {
    /// Opens a GGUF file and builds its tokenizer.
    pub fn open(path: impl AsRef<Path>) -> Result<Tokenizer, TokenizerError> {
        Tokenizer::from_gguf(&GgufFile::open(path)?)
    }

    /// Builds the tokenizer described by the metadata of `file`.
    pub fn from_gguf(file: &GgufFile) -> Result<Tokenizer, TokenizerError> {
        Tokenizer::from_metadata(|key| file.get(key))
    }

    /// Builds a tokenizer from metadata given as a lookup `key → value` (the keys and
    /// values of a GGUF file).
    pub fn from_metadata<'a>(
        get: impl Fn(&str) -> Option<&'a Value>,
    ) -> Result<Tokenizer, TokenizerError> {
        let get: &dyn Fn(&str) -> Option<&'a Value> = &get;
        let meta = Metadata::new(get);

        let model_name = meta
            .str(keys::MODEL)?
            .ok_or(TokenizerError::MissingKey { key: keys::MODEL })?;
        let kind = match model_name {
            "gpt2" => TokenizerKind::BytePairGpt2,
            "llama" => TokenizerKind::SentencePiece,
            other => {
                return Err(TokenizerError::UnknownModel {
                    model: other.to_owned(),
                })
            }
        };
        let pre_settings = match kind {
            TokenizerKind::BytePairGpt2 => {
                // A BPE model without a name for its pre-tokenizer gets llama.cpp's default.
                let name = meta.str(keys::PRE)?.unwrap_or("default");
                Some(PreTokenizer::settings(name).ok_or_else(|| {
                    TokenizerError::UnknownPreTokenizer {
                        pre: name.to_owned(),
                    }
                })?)
            }
            TokenizerKind::SentencePiece => None,
        };

        let tokens = meta
            .strings(keys::TOKENS)?
            .ok_or(TokenizerError::MissingKey { key: keys::TOKENS })?;
        let n_tokens = tokens.len();
        let scores = meta.scores(keys::SCORES)?;
        if let Some(s) = &scores {
            check_len(keys::SCORES, s.len(), n_tokens)?;
        }
        let types = meta.i32s(keys::TOKEN_TYPE)?;
        if let Some(t) = types {
            check_len(keys::TOKEN_TYPE, t.len(), n_tokens)?;
        }
        let mut vocab = Vocab::new(tokens, scores, types)?;

        // The defaults of each family, then what the file says.
        let (defaults, mut add_bos, mut add_space_prefix, clean_spaces) = match pre_settings {
            Some(pre) => (
                SpecialTokens {
                    bos: Some(11),
                    eos: Some(11),
                    ..SpecialTokens::default()
                },
                pre.add_bos,
                false,
                pre.clean_spaces,
            ),
            None => (
                SpecialTokens {
                    bos: Some(1),
                    eos: Some(2),
                    unk: Some(0),
                    ..SpecialTokens::default()
                },
                true,
                true,
                false,
            ),
        };
        let mut special = special::read_ids(&meta, n_tokens, defaults)?;
        if let Some(v) = meta.bool(keys::ADD_BOS)? {
            add_bos = v;
        }
        let add_eos = meta.bool(keys::ADD_EOS)?.unwrap_or(false);
        if let Some(v) = meta.bool(keys::ADD_SPACE_PREFIX)? {
            add_space_prefix = v;
        }
        if add_bos && special.bos.is_none() {
            return Err(TokenizerError::MissingSpecialToken {
                key: keys::ADD_BOS,
                what: "BOS",
            });
        }
        if add_eos && special.eos.is_none() {
            return Err(TokenizerError::MissingSpecialToken {
                key: keys::ADD_EOS,
                what: "EOS",
            });
        }

        // Type fixes by text come before the special-token matcher is built: they decide
        // which tokens are special.
        let eog = special::detect(&mut special, &mut vocab);
        let matcher = SpecialMatcher::new(&vocab)?;

        let model = match pre_settings {
            Some(pre) => {
                let merges = meta
                    .strings(keys::MERGES)?
                    .ok_or(TokenizerError::MissingKey { key: keys::MERGES })?;
                Model::Bpe(Bpe::new(merges, pre)?)
            }
            None => Model::Spm(Spm::new(&vocab, special.unk)),
        };

        Ok(Tokenizer {
            vocab,
            model,
            special,
            eog,
            matcher,
            add_bos,
            add_eos,
            add_space_prefix,
            clean_spaces,
        })
    }

    /// The token ids of `text`.
    ///
    /// - `add_special`: add BOS (and EOS) where the model says to
    ///   (`tokenizer.ggml.add_bos_token`, `add_eos_token`).
    /// - `parse_special`: text of control tokens (`<|im_start|>`, `<start_of_turn>`) becomes
    ///   those tokens; when false it is tokenized as plain text. User-defined tokens are
    ///   recognised either way.
    pub fn encode(&self, text: &str, add_special: bool, parse_special: bool) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3 + 2);
        if add_special && self.add_bos {
            out.extend(self.special.bos);
        }
        let fragments = self.matcher.split(&self.vocab, text, parse_special);
        match &self.model {
            Model::Spm(spm) => {
                // SentencePiece puts a space before the text, and again after every
                // special token, when the model asks for it.
                let mut after_special = true;
                let mut escaped = String::new();
                for fragment in fragments {
                    match fragment {
                        Fragment::Text(t) => {
                            escaped.clear();
                            if self.add_space_prefix && after_special {
                                escaped.push(SPACE_MARKER);
                            }
                            escaped
                                .extend(t.chars().map(|c| if c == ' ' { SPACE_MARKER } else { c }));
                            spm.tokenize(&self.vocab, &escaped, &mut out);
                            after_special = false;
                        }
                        Fragment::Token(id) => {
                            out.push(id);
                            after_special = true;
                        }
                    }
                }
            }
            Model::Bpe(bpe) => {
                for fragment in fragments {
                    match fragment {
                        Fragment::Text(t) => bpe.tokenize(&self.vocab, t, &mut out),
                        Fragment::Token(id) => out.push(id),
                    }
                }
            }
        }
        if add_special && self.add_eos {
            out.extend(self.special.eos);
        }
        out
    }

    /// Whether generation stops at token `id`: EOS, EOT and the other end-of-turn tokens
    /// of the model's chat format (`<|im_end|>`, `<end_of_turn>`, …).
    pub fn is_eog(&self, id: u32) -> bool {
        self.eog.contains(&id)
    }

    /// All end-of-generation tokens, in id order.
    pub fn eog_tokens(&self) -> impl Iterator<Item = u32> + '_ {
        self.eog.iter().copied()
    }

    /// The special token ids.
    pub fn special_tokens(&self) -> &SpecialTokens {
        &self.special
    }

    /// The beginning-of-sequence token.
    pub fn bos(&self) -> Option<u32> {
        self.special.bos
    }

    /// The end-of-sequence token.
    pub fn eos(&self) -> Option<u32> {
        self.special.eos
    }

    /// Whether `encode(.., add_special = true, ..)` starts with BOS.
    pub fn add_bos(&self) -> bool {
        self.add_bos
    }

    /// Whether `encode(.., add_special = true, ..)` ends with EOS.
    pub fn add_eos(&self) -> bool {
        self.add_eos
    }

    /// Whether SentencePiece text gets a space in front (`tokenizer.ggml.add_space_prefix`).
    pub fn add_space_prefix(&self) -> bool {
        self.add_space_prefix
    }

    /// Number of tokens in the vocabulary.
    pub fn n_vocab(&self) -> usize {
        self.vocab.len()
    }

    /// The text of token `id` as stored in the vocabulary (byte-level or `▁`-escaped
    /// spelling, not decoded), `None` outside the vocabulary.
    pub fn token_text(&self, id: u32) -> Option<&str> {
        self.vocab.text(id)
    }

    /// The id of the token whose vocabulary text is exactly `text`.
    pub fn token_id(&self, text: &str) -> Option<u32> {
        self.vocab.id(text)
    }

    /// The type of token `id`, after the fixes applied at load time (see [`SpecialTokens`]).
    pub fn token_type(&self, id: u32) -> Option<TokenType> {
        self.vocab.token_type(id)
    }

    /// The algorithm.
    pub fn kind(&self) -> TokenizerKind {
        match self.model {
            Model::Bpe(_) => TokenizerKind::BytePairGpt2,
            Model::Spm(_) => TokenizerKind::SentencePiece,
        }
    }

    /// The pre-tokenizer of a byte-level BPE model; `None` for SentencePiece.
    pub fn pre_tokenizer(&self) -> Option<PreTokenizer> {
        match &self.model {
            Model::Bpe(bpe) => Some(bpe.pre_tokenizer()),
            Model::Spm(_) => None,
        }
    }
}

fn check_len(key: &'static str, len: usize, n_tokens: usize) -> Result<(), TokenizerError> {
    if len == n_tokens {
        Ok(())
    } else {
        Err(TokenizerError::LengthMismatch { key, len, n_tokens })
    }
}

#[cfg(test)]
mod tests;
