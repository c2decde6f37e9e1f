//! SentencePiece BPE (`tokenizer.ggml.model = "llama"`, e.g. Llama 2, Gemma): spaces are
//! written `▁`, the text starts as one symbol per character, and the adjacent pair whose
//! concatenation is the token with the highest score is merged, again and again. Pieces
//! that end up outside the vocabulary fall back to byte tokens `<0xXX>`.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::vocab::Vocab;

/// The space marker of SentencePiece vocabularies (U+2581).
pub(crate) const SPACE_MARKER: char = '▁';

/// A SentencePiece tokenizer's byte fallback.
#[derive(Debug)]
pub(crate) struct Spm {
    /// The token for each byte: `<0xXX>`, else the byte's own one-character token.
    byte_tokens: Vec<Option<u32>>,
    /// Used for a byte that has no token at all (llama.cpp throws there).
    unknown: Option<u32>,
}

/// A symbol: a byte range of the text, linked to its neighbours.
#[derive(Debug, Clone, Copy)]
struct Symbol {
    start: usize,
    /// Length in bytes; 0 once merged into its left neighbour.
    len: usize,
    prev: Option<usize>,
    next: Option<usize>,
}

/// A candidate merge: the pair (left, right) would make a token of this score.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    score: f32,
    left: usize,
    right: usize,
    size: usize,
}

impl Ord for Candidate {
    /// Highest score first; on a tie, the leftmost pair first.
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.left.cmp(&self.left))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

impl Spm {
    pub(crate) fn new(vocab: &Vocab, unknown: Option<u32>) -> Spm {
        let byte_tokens = (0..=255u8)
            .map(|b| {
                vocab.id(&format!("<0x{b:02X}>")).or_else(|| {
                    // Only ASCII bytes are a string on their own.
                    b.is_ascii()
                        .then(|| vocab.id(char::from(b).encode_utf8(&mut [0; 4])))
                        .flatten()
                })
            })
            .collect();
        Spm {
            byte_tokens,
            unknown,
        }
    }

    /// The token standing for byte `b`.
    pub(crate) fn byte_token(&self, b: u8) -> Option<u32> {
        self.byte_tokens.get(usize::from(b)).copied().flatten()
    }

    /// Appends the tokens of `text` (spaces already written `▁`) to `out`.
    pub(crate) fn tokenize(&self, vocab: &Vocab, text: &str, out: &mut Vec<u32>) {
        let n_chars = text.chars().count();
        let mut symbols: Vec<Symbol> = text
            .char_indices()
            .enumerate()
            .map(|(i, (start, c))| Symbol {
                start,
                len: c.len_utf8(),
                prev: i.checked_sub(1),
                next: (i + 1 < n_chars).then_some(i + 1),
            })
            .collect();
        let mut queue = BinaryHeap::with_capacity(symbols.len());
        for i in 1..symbols.len() {
            push_candidate(vocab, text, &symbols, i - 1, i, &mut queue);
        }

        while let Some(c) = queue.pop() {
            let (l, r) = (symbols[c.left], symbols[c.right]);
            // Stale: one side has been merged since (symbols only grow rightwards).
            if l.len == 0 || r.len == 0 || l.len + r.len != c.size {
                continue;
            }
            symbols[c.left].len += r.len;
            symbols[c.left].next = r.next;
            symbols[c.right].len = 0;
            if let Some(next) = r.next {
                symbols[next].prev = Some(c.left);
            }
            if let Some(prev) = l.prev {
                push_candidate(vocab, text, &symbols, prev, c.left, &mut queue);
            }
            if let Some(next) = r.next {
                push_candidate(vocab, text, &symbols, c.left, next, &mut queue);
            }
        }

        let mut at = (!symbols.is_empty()).then_some(0);
        while let Some(i) = at {
            let sym = symbols[i];
            at = sym.next;
            let Some(piece) = text.get(sym.start..sym.start + sym.len) else {
                continue;
            };
            // Every merged symbol is a token; a single character may not be, and is
            // then spelled as its UTF-8 bytes.
            match vocab.id(piece) {
                Some(id) => out.push(id),
                None => out.extend(
                    piece
                        .bytes()
                        .filter_map(|b| self.byte_token(b).or(self.unknown)),
                ),
            }
        }
    }
}

fn push_candidate(
    vocab: &Vocab,
    text: &str,
    symbols: &[Symbol],
    left: usize,
    right: usize,
    queue: &mut BinaryHeap<Candidate>,
) {
    let (l, r) = (symbols[left], symbols[right]);
    // Adjacent symbols are adjacent in the text, so the pair is one slice: no string is
    // built per candidate.
    let size = l.len + r.len;
    let Some(id) = text.get(l.start..l.start + size).and_then(|t| vocab.id(t)) else {
        return;
    };
    queue.push(Candidate {
        score: vocab.score(id),
        left,
        right,
        size,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(tokens: &[(&str, f32)]) -> Vocab {
        let texts: Vec<String> = tokens.iter().map(|(t, _)| t.to_string()).collect();
        let scores = tokens.iter().map(|(_, s)| *s).collect();
        Vocab::new(&texts, Some(scores), None).expect("vocab")
    }

    #[test]
    fn merges_by_score() {
        // "ab" scores higher than "bc", so "abc" → ab + c.
        let v = vocab(&[
            ("a", 0.0),
            ("b", 0.0),
            ("c", 0.0),
            ("ab", -1.0),
            ("bc", -2.0),
        ]);
        let spm = Spm::new(&v, None);
        let mut out = Vec::new();
        spm.tokenize(&v, "abc", &mut out);
        assert_eq!(out, [3, 2]);
    }

    #[test]
    fn unknown_characters_fall_back_to_bytes() {
        let mut tokens: Vec<(String, f32)> = vec![("<unk>".into(), 0.0), ("▁".into(), -1.0)];
        for b in 0..=255u8 {
            tokens.push((format!("<0x{b:02X}>"), 0.0));
        }
        let refs: Vec<(&str, f32)> = tokens.iter().map(|(t, s)| (t.as_str(), *s)).collect();
        let v = vocab(&refs);
        let spm = Spm::new(&v, Some(0));
        let mut out = Vec::new();
        // é is C3 A9: bytes 0xC3 and 0xA9 are tokens 2 + 0xC3 and 2 + 0xA9.
        spm.tokenize(&v, "▁é", &mut out);
        assert_eq!(out, [1, 2 + 0xC3, 2 + 0xA9]);
    }

    #[test]
    fn byte_without_token_becomes_unknown() {
        let v = vocab(&[("<unk>", 0.0), ("a", 0.0)]);
        let spm = Spm::new(&v, Some(0));
        let mut out = Vec::new();
        spm.tokenize(&v, "aé", &mut out);
        assert_eq!(out, [1, 0, 0]);
    }
}
