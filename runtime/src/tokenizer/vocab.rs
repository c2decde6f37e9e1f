//! The vocabulary: token texts, scores and types, and the text → id index.

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

use super::error::TokenizerError;

/// The type of a token, from `tokenizer.ggml.token_type` (the numbering is GGUF's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// 0, or a value this crate does not know: never produced by the tokenizer's own
    /// splitting, rendered as nothing.
    Undefined,
    /// 1: an ordinary piece of text.
    Normal,
    /// 2: the unknown-token marker (`<unk>`).
    Unknown,
    /// 3: a control token (`<bos>`, `<|im_end|>`, …): recognised in text only when asked to
    /// parse special tokens, hidden when decoding unless asked to render them.
    Control,
    /// 4: a user-defined token: always recognised in text as a whole, always rendered.
    UserDefined,
    /// 5: an unused slot.
    Unused,
    /// 6: a byte-fallback token (`<0x41>`), standing for one raw byte.
    Byte,
}

impl TokenType {
    /// The type stored as `id` in `tokenizer.ggml.token_type`.
    pub fn from_gguf(id: i32) -> TokenType {
        match id {
            1 => TokenType::Normal,
            2 => TokenType::Unknown,
            3 => TokenType::Control,
            4 => TokenType::UserDefined,
            5 => TokenType::Unused,
            6 => TokenType::Byte,
            _ => TokenType::Undefined,
        }
    }

    /// Whether the token is matched as a whole in text before normal tokenization
    /// (control, user-defined and unknown tokens).
    pub fn is_special(self) -> bool {
        matches!(
            self,
            TokenType::Control | TokenType::UserDefined | TokenType::Unknown
        )
    }
}

/// The vocabulary of a model.
///
/// The texts are kept in one string, and the text → id index holds only ids (hashed by
/// the text they point to): building it for a 262k-token vocabulary makes no allocation
/// per token.
pub(crate) struct Vocab {
    /// All token texts, one after the other.
    arena: String,
    /// Token `i` is `arena[starts[i]..starts[i + 1]]`.
    starts: Vec<usize>,
    scores: Vec<f32>,
    types: Vec<TokenType>,
    /// Ids, hashed by their text.
    index: HashTable<u32>,
    hasher: RandomState,
}

impl std::fmt::Debug for Vocab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vocab")
            .field("n_tokens", &self.len())
            .finish_non_exhaustive()
    }
}

/// Largest vocabulary: ids are non-negative `i32` in llama.cpp and in the C API.
pub(crate) const MAX_TOKENS: usize = i32::MAX as usize;

/// The text of token `id` in `arena`.
fn text_in<'a>(arena: &'a str, starts: &[usize], id: u32) -> Option<&'a str> {
    let i = id as usize;
    let (&a, &b) = (starts.get(i)?, starts.get(i + 1)?);
    arena.get(a..b)
}

impl Vocab {
    /// Builds the vocabulary. `scores` and `types`, when given, must have one entry per
    /// token (checked by the caller, which knows the key names).
    pub(crate) fn new(
        tokens: &[String],
        scores: Option<Vec<f32>>,
        types: Option<&[i32]>,
    ) -> Result<Vocab, TokenizerError> {
        let n = tokens.len();
        if n == 0 {
            return Err(TokenizerError::EmptyVocab);
        }
        if n > MAX_TOKENS {
            return Err(TokenizerError::TooManyTokens {
                n_tokens: n,
                max: MAX_TOKENS,
            });
        }
        let hasher = RandomState::new();
        let mut arena = String::with_capacity(tokens.iter().map(String::len).sum());
        let mut starts = Vec::with_capacity(n + 1);
        starts.push(0);
        let mut index: HashTable<u32> = HashTable::with_capacity(n);
        for (i, token) in tokens.iter().enumerate() {
            // n <= i32::MAX, so every index fits.
            let id = i as u32;
            // An empty token could never be matched and would make special-token search
            // match everywhere; llama.cpp gives it a placeholder text, and so do we.
            let placeholder;
            let text = if token.is_empty() {
                placeholder = format!("[EMPTY_{i}]");
                placeholder.as_str()
            } else {
                token.as_str()
            };
            let hash = hasher.hash_one(text);
            let same = |&other: &u32| text_in(&arena, &starts, other) == Some(text);
            if let Some(&first) = index.find(hash, same) {
                return Err(TokenizerError::DuplicateToken {
                    text: text.to_owned(),
                    first,
                    second: id,
                });
            }
            arena.push_str(text);
            starts.push(arena.len());
            index.insert_unique(hash, id, |&other| {
                hasher.hash_one(text_in(&arena, &starts, other).unwrap_or_default())
            });
        }
        let scores = scores.unwrap_or_else(|| vec![0.0; n]);
        let types = match types {
            Some(t) => t.iter().map(|&t| TokenType::from_gguf(t)).collect(),
            None => vec![TokenType::Normal; n],
        };
        Ok(Vocab {
            arena,
            starts,
            scores,
            types,
            index,
            hasher,
        })
    }

    /// Number of tokens.
    pub(crate) fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// The id of the token whose text is exactly `text`.
    pub(crate) fn id(&self, text: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(text);
        self.index
            .find(hash, |&id| self.text(id) == Some(text))
            .copied()
    }

    /// The text of token `id`.
    pub(crate) fn text(&self, id: u32) -> Option<&str> {
        text_in(&self.arena, &self.starts, id)
    }

    /// The score of token `id` (0 for ids out of range, which the callers never pass).
    pub(crate) fn score(&self, id: u32) -> f32 {
        self.scores.get(id as usize).copied().unwrap_or(0.0)
    }

    /// The type of token `id`.
    pub(crate) fn token_type(&self, id: u32) -> Option<TokenType> {
        self.types.get(id as usize).copied()
    }

    /// Changes the type of token `id` (the load-time fixes llama.cpp applies by text).
    pub(crate) fn set_type(&mut self, id: u32, t: TokenType) {
        if let Some(slot) = self.types.get_mut(id as usize) {
            *slot = t;
        }
    }

    /// All (id, text) pairs, in id order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &str)> {
        (0..self.len() as u32).filter_map(|id| Some((id, self.text(id)?)))
    }
}
