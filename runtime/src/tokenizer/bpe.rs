//! Byte-level BPE (`tokenizer.ggml.model = "gpt2"`): text is cut into words by the
//! pre-tokenizer, each word is spelled in GPT-2's byte alphabet, and within each word the
//! adjacent pair with the best (lowest) merge rank is merged, again and again.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::byte_level;
use super::error::TokenizerError;
use super::pretokenize::{PreSettings, PreTokenizer};
use super::vocab::Vocab;

/// The merge rules and the pre-tokenizer of a byte-level BPE model.
#[derive(Debug)]
pub(crate) struct Bpe {
    pre: PreTokenizer,
    ignore_merges: bool,
    /// Every string that takes part in a merge, interned, so that pairs are looked up by
    /// two integers rather than by building a string per candidate pair.
    pieces: HashMap<String, u32>,
    /// (left piece, right piece) → the rule.
    merges: HashMap<(u32, u32), Merge>,
}

#[derive(Debug, Clone, Copy)]
struct Merge {
    /// Position of the rule in `tokenizer.ggml.merges`: lower merges first.
    rank: u32,
    /// The merged piece.
    result: u32,
}

/// A symbol of a word being merged: a byte range of the word, linked to its neighbours.
#[derive(Debug, Clone, Copy)]
struct Symbol {
    start: usize,
    /// Length in bytes; 0 once merged into its left neighbour.
    len: usize,
    prev: Option<usize>,
    next: Option<usize>,
    /// The interned piece, `None` if the text takes part in no merge.
    piece: Option<u32>,
}

/// A candidate merge in the queue: (rank, left symbol, right symbol, combined length).
/// Ordered by rank, then leftmost first, as llama.cpp's queue.
type Candidate = Reverse<(u32, usize, usize, usize)>;

/// Reusable buffers of one `tokenize` call.
#[derive(Default)]
struct Scratch {
    word: String,
    symbols: Vec<Symbol>,
    queue: BinaryHeap<Candidate>,
}

impl Bpe {
    /// Parses the merge rules (`"left right"`, in priority order).
    pub(crate) fn new(merges: &[String], settings: PreSettings) -> Result<Bpe, TokenizerError> {
        let mut pieces: HashMap<String, u32> = HashMap::with_capacity(merges.len() * 2);
        let mut rules = HashMap::with_capacity(merges.len());
        let mut intern = |s: &str| -> u32 {
            if let Some(&id) = pieces.get(s) {
                return id;
            }
            let id = pieces.len() as u32;
            pieces.insert(s.to_owned(), id);
            id
        };
        for (index, merge) in merges.iter().enumerate() {
            // The separator is the first space after the first byte, so that a left piece
            // may itself be a space.
            let split = merge
                .bytes()
                .skip(1)
                .position(|b| b == b' ')
                .map(|i| i + 1)
                .and_then(|i| Some((merge.get(..i)?, merge.get(i + 1..)?)));
            let Some((left, right)) = split.filter(|(l, r)| !l.is_empty() && !r.is_empty()) else {
                return Err(TokenizerError::BadMerge {
                    index,
                    merge: merge.clone(),
                });
            };
            let l = intern(left);
            let r = intern(right);
            let result = intern(&format!("{left}{right}"));
            // The first rule for a pair wins, as in llama.cpp; ranks fit in u32 as the
            // array length came from a u64 count capped by the file size.
            rules.entry((l, r)).or_insert(Merge {
                rank: index as u32,
                result,
            });
        }
        Ok(Bpe {
            pre: settings.pre,
            ignore_merges: settings.ignore_merges,
            pieces,
            merges: rules,
        })
    }

    /// The pre-tokenizer.
    pub(crate) fn pre_tokenizer(&self) -> PreTokenizer {
        self.pre
    }

    /// Appends the tokens of `text` (plain text, no special tokens) to `out`.
    pub(crate) fn tokenize(&self, vocab: &Vocab, text: &str, out: &mut Vec<u32>) {
        let mut scratch = Scratch::default();
        for range in self.pre.split(text) {
            let Some(word) = text.get(range) else {
                continue;
            };
            scratch.word.clear();
            byte_level::encode_into(word, &mut scratch.word);
            if self.ignore_merges {
                if let Some(id) = vocab.id(&scratch.word) {
                    out.push(id);
                    continue;
                }
            }
            self.merge_word(vocab, &mut scratch, out);
        }
    }

    fn merge_word(&self, vocab: &Vocab, s: &mut Scratch, out: &mut Vec<u32>) {
        let Scratch {
            word,
            symbols,
            queue,
        } = s;
        symbols.clear();
        queue.clear();
        let n_chars = word.chars().count();
        for (i, (start, c)) in word.char_indices().enumerate() {
            let len = c.len_utf8();
            symbols.push(Symbol {
                start,
                len,
                prev: i.checked_sub(1),
                next: (i + 1 < n_chars).then_some(i + 1),
                piece: word
                    .get(start..start + len)
                    .and_then(|t| self.pieces.get(t).copied()),
            });
        }
        for i in 1..symbols.len() {
            self.push_candidate(symbols, i - 1, i, queue);
        }

        while let Some(Reverse((_, left, right, size))) = queue.pop() {
            let (l, r) = (symbols[left], symbols[right]);
            // Skip candidates made stale by an earlier merge: a symbol only ever grows by
            // taking in its right neighbour, so unchanged lengths mean an unchanged pair.
            if l.len == 0 || r.len == 0 || l.len + r.len != size {
                continue;
            }
            let result = l
                .piece
                .zip(r.piece)
                .and_then(|pair| self.merges.get(&pair))
                .map(|m| m.result);
            symbols[left].len += r.len;
            symbols[left].piece = result;
            symbols[left].next = r.next;
            symbols[right].len = 0;
            if let Some(next) = r.next {
                symbols[next].prev = Some(left);
            }
            if let Some(prev) = l.prev {
                self.push_candidate(symbols, prev, left, queue);
            }
            if let Some(next) = r.next {
                self.push_candidate(symbols, left, next, queue);
            }
        }

        let mut at = (!symbols.is_empty()).then_some(0);
        while let Some(i) = at {
            let sym = symbols[i];
            at = sym.next;
            let Some(text) = word.get(sym.start..sym.start + sym.len) else {
                continue;
            };
            if let Some(id) = vocab.id(text) {
                out.push(id);
                continue;
            }
            // A piece the vocabulary lacks: fall back to one token per byte of its
            // spelling. Only ASCII bytes can be tokens on their own; llama.cpp drops the
            // others in the same way.
            for b in text.bytes().filter(u8::is_ascii) {
                if let Some(id) = vocab.id(char::from(b).encode_utf8(&mut [0; 4])) {
                    out.push(id);
                }
            }
        }
    }

    fn push_candidate(
        &self,
        symbols: &[Symbol],
        left: usize,
        right: usize,
        queue: &mut BinaryHeap<Candidate>,
    ) {
        let (l, r) = (symbols[left], symbols[right]);
        let Some(pair) = l.piece.zip(r.piece) else {
            return;
        };
        if let Some(m) = self.merges.get(&pair) {
            queue.push(Reverse((m.rank, left, right, l.len + r.len)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PreSettings {
        PreTokenizer::settings("gpt2").expect("gpt2 is supported")
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn merges_lowest_rank_first() {
        let vocab = Vocab::new(
            &strings(&["a", "b", "c", "ab", "bc", "abc", "Ġ", "Ġa"]),
            None,
            None,
        )
        .expect("vocab");
        // "b c" outranks "a b": "abc" must become a + bc, then abc.
        let bpe = Bpe::new(&strings(&["b c", "a b", "a bc", "Ġ a"]), settings()).expect("bpe");
        let mut out = Vec::new();
        bpe.tokenize(&vocab, "abc", &mut out);
        assert_eq!(out, [5]);
        out.clear();
        bpe.tokenize(&vocab, "ab a", &mut out);
        assert_eq!(out, [3, 7]);
    }

    #[test]
    fn rejects_a_merge_without_separator() {
        let err = Bpe::new(&strings(&["a b", "ab"]), settings()).unwrap_err();
        assert!(
            matches!(err, TokenizerError::BadMerge { index: 1, .. }),
            "{err}"
        );
    }
}
