//! Cutting text at special tokens before normal tokenization ("parse special").
//!
//! The rule is llama.cpp's: special tokens are taken longest first over the whole text
//! (not leftmost first), each one at every place it occurs, left to right, in the text no
//! longer-or-equal special token has taken. So with specials `ab` and `bcd`, `abcd`
//! becomes `a` + `bcd`. Control and unknown tokens are only recognised when the caller
//! asks to parse special tokens; user-defined tokens always are.
//!
//! Gemma has over 6000 special tokens, so they are not tried one by one: one multi-pattern
//! pass finds which of them occur at all, and only those are then looked for, in order.

use aho_corasick::{AhoCorasick, MatchKind};
use memchr::memmem;

use super::error::TokenizerError;
use super::vocab::{TokenType, Vocab};

/// A piece of the input: text still to tokenize, or a special token found in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fragment<'a> {
    Text(&'a str),
    Token(u32),
}

/// A special token, in the order they are tried.
#[derive(Debug)]
struct Special {
    id: u32,
    /// Recognised even when special tokens are not parsed (user-defined tokens).
    always: bool,
}

/// Finds the special tokens of a vocabulary in text.
#[derive(Debug)]
pub(crate) struct SpecialMatcher {
    /// `None` when the vocabulary has no special tokens.
    searcher: Option<AhoCorasick>,
    /// Pattern index of `searcher` → token, longest text first.
    specials: Vec<Special>,
}

/// A byte range of the input, still text or taken by a special token.
#[derive(Debug, Clone, Copy)]
enum Span {
    Text(usize, usize),
    Token(u32),
}

impl SpecialMatcher {
    pub(crate) fn new(vocab: &Vocab) -> Result<SpecialMatcher, TokenizerError> {
        let mut ids: Vec<(u32, &str, TokenType)> = vocab
            .iter()
            .filter_map(|(id, text)| {
                let t = vocab.token_type(id)?;
                t.is_special().then_some((id, text, t))
            })
            .collect();
        // Longest first; equal lengths by id, so the order is reproducible.
        ids.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        if ids.is_empty() {
            return Ok(SpecialMatcher {
                searcher: None,
                specials: Vec::new(),
            });
        }
        let searcher = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(ids.iter().map(|(_, text, _)| text))
            .map_err(|e| TokenizerError::SpecialTokens(e.to_string()))?;
        let specials = ids
            .iter()
            .map(|&(id, _, t)| Special {
                id,
                always: t == TokenType::UserDefined,
            })
            .collect();
        Ok(SpecialMatcher {
            searcher: Some(searcher),
            specials,
        })
    }

    /// Cuts `text` into text fragments and special tokens. `parse_special` = false
    /// recognises user-defined tokens only.
    pub(crate) fn split<'a>(
        &self,
        vocab: &Vocab,
        text: &'a str,
        parse_special: bool,
    ) -> Vec<Fragment<'a>> {
        if text.is_empty() {
            return Vec::new();
        }
        let Some(searcher) = &self.searcher else {
            return vec![Fragment::Text(text)];
        };
        let mut occurs = vec![false; self.specials.len()];
        for m in searcher.find_overlapping_iter(text) {
            if let Some(o) = occurs.get_mut(m.pattern().as_usize()) {
                *o = true;
            }
        }

        let bytes = text.as_bytes();
        let mut spans = vec![Span::Text(0, text.len())];
        let mut next = Vec::new();
        let candidates = self
            .specials
            .iter()
            .zip(&occurs)
            .filter(|(s, &occurs)| occurs && (parse_special || s.always));
        for (special, _) in candidates {
            let Some(needle) = vocab.text(special.id) else {
                continue;
            };
            let finder = memmem::Finder::new(needle);
            next.clear();
            for &span in &spans {
                let Span::Text(start, end) = span else {
                    next.push(span);
                    continue;
                };
                let mut at = start;
                for found in finder.find_iter(&bytes[start..end]) {
                    let s = start + found;
                    if s > at {
                        next.push(Span::Text(at, s));
                    }
                    next.push(Span::Token(special.id));
                    at = s + needle.len();
                }
                if end > at {
                    next.push(Span::Text(at, end));
                }
            }
            std::mem::swap(&mut spans, &mut next);
        }

        spans
            .into_iter()
            .filter_map(|span| match span {
                // Spans start and end at special-token boundaries, which are character
                // boundaries of valid UTF-8 text.
                Span::Text(start, end) => text.get(start..end).map(Fragment::Text),
                Span::Token(id) => Some(Fragment::Token(id)),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(tokens: &[(&str, i32)]) -> Vocab {
        let texts: Vec<String> = tokens.iter().map(|(t, _)| t.to_string()).collect();
        let types: Vec<i32> = tokens.iter().map(|(_, t)| *t).collect();
        Vocab::new(&texts, None, Some(&types)).expect("vocab")
    }

    #[test]
    fn longest_special_token_wins_over_the_leftmost() {
        let v = vocab(&[("x", 1), ("ab", 3), ("bcd", 3)]);
        let m = SpecialMatcher::new(&v).expect("matcher");
        assert_eq!(
            m.split(&v, "abcd ab", true),
            [
                Fragment::Text("a"),
                Fragment::Token(2),
                Fragment::Text(" "),
                Fragment::Token(1)
            ]
        );
    }

    #[test]
    fn control_tokens_only_when_parsing_special() {
        let v = vocab(&[("<s>", 3), ("\n", 4)]);
        let m = SpecialMatcher::new(&v).expect("matcher");
        assert_eq!(
            m.split(&v, "<s>a\n", false),
            [Fragment::Text("<s>a"), Fragment::Token(1)]
        );
        assert_eq!(
            m.split(&v, "<s>a\n", true),
            [Fragment::Token(0), Fragment::Text("a"), Fragment::Token(1)]
        );
    }

    /// The rule written the other way round: every occurrence of every special text, taken
    /// by priority (longest, then lowest id), then leftmost, when none of its bytes is
    /// taken yet.
    fn split_by_claiming(tokens: &[(&str, i32)], text: &str, parse_special: bool) -> Vec<String> {
        let mut order: Vec<usize> = (0..tokens.len())
            .filter(|&i| matches!(tokens[i].1, 3 | 4) && (parse_special || tokens[i].1 == 4))
            .collect();
        order.sort_by(|&a, &b| tokens[b].0.len().cmp(&tokens[a].0.len()).then(a.cmp(&b)));
        let mut owner: Vec<Option<usize>> = vec![None; text.len()];
        let mut starts = Vec::new();
        for i in order {
            let needle = tokens[i].0;
            for s in 0..=text.len().saturating_sub(needle.len()) {
                let e = s + needle.len();
                if text.get(s..e) == Some(needle) && owner[s..e].iter().all(Option::is_none) {
                    owner[s..e].fill(Some(i));
                    starts.push((s, i));
                }
            }
        }
        starts.sort();
        let mut out = Vec::new();
        let mut at = 0;
        for (s, i) in starts {
            if s > at {
                out.push(text[at..s].to_string());
            }
            out.push(format!("#{i}"));
            at = s + tokens[i].0.len();
        }
        if at < text.len() {
            out.push(text[at..].to_string());
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_claiming_by_priority(
            specials in proptest::collection::vec(("[ab\\n]{1,4}", 3..5i32), 1..6),
            text in "[ab\\nc]{0,30}",
            parse_special: bool,
        ) {
            // Distinct texts, after one ordinary token.
            let mut tokens: Vec<(String, i32)> = vec![("c".into(), 1)];
            for (t, ty) in specials {
                if tokens.iter().all(|(u, _)| *u != t) {
                    tokens.push((t, ty));
                }
            }
            let refs: Vec<(&str, i32)> = tokens.iter().map(|(t, ty)| (t.as_str(), *ty)).collect();
            let v = vocab(&refs);
            let m = SpecialMatcher::new(&v).expect("matcher");
            let ours: Vec<String> = m
                .split(&v, &text, parse_special)
                .into_iter()
                .map(|f| match f {
                    Fragment::Text(t) => t.to_string(),
                    Fragment::Token(id) => format!("#{id}"),
                })
                .collect();
            proptest::prop_assert_eq!(ours, split_by_claiming(&refs, &text, parse_special));
        }
    }

    #[test]
    fn repeated_and_overlapping_occurrences() {
        let v = vocab(&[("aa", 4)]);
        let m = SpecialMatcher::new(&v).expect("matcher");
        assert_eq!(
            m.split(&v, "aaaaa", true),
            [Fragment::Token(0), Fragment::Token(0), Fragment::Text("a")]
        );
    }
}
