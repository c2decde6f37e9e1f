//! BPE pre-tokenizers: how text is cut into words before merges run inside each word.
//!
//! Each pre-tokenizer is a list of stages, as in llama.cpp: every stage cuts each piece
//! left by the previous stage further, and both the matches of its pattern and the text
//! between matches become pieces. The stages are written by hand rather than as regular
//! expressions: they are linear, need no look-ahead engine, and reproduce exactly the
//! splitting of llama.cpp, whose reference outputs the tests compare against (the
//! original patterns are quoted on each stage and checked against a regex engine in the
//! tests).

use std::ops::Range;

use super::unicode::CharClass;

/// How a byte-level BPE model cuts text into words (`tokenizer.ggml.pre`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PreTokenizer {
    /// llama.cpp's fallback when a BPE model names none (`default`): runs of punctuation,
    /// then GPT-2's pattern, then runs of digits, then groups of three ASCII digits.
    Default,
    /// GPT-2's pattern (`gpt-2`, `phi-2`, `mpt`, `olmo`, …):
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    Gpt2,
    /// Every digit on its own, then GPT-2's pattern (`smollm`, `starcoder`, `refact`, …).
    Smollm,
    /// Llama 3's pattern (`llama3`, `llama-bpe`, …): case-insensitive contractions, an
    /// optional non-letter before a run of letters, numbers in groups of up to three, and
    /// newlines kept with the punctuation or spaces before them.
    Llama3,
    /// Qwen 2's pattern (`qwen2`, …): Llama 3's, with every digit on its own.
    Qwen2,
}

/// Settings that come with a pre-tokenizer name in llama.cpp.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PreSettings {
    pub(crate) pre: PreTokenizer,
    /// A word that is already a token is emitted whole, without running merges.
    pub(crate) ignore_merges: bool,
    /// Whether BOS is added when the file does not say (`tokenizer.ggml.add_bos_token`).
    pub(crate) add_bos: bool,
    /// Whether decoding tidies spaces before punctuation (Hugging Face's
    /// `clean_up_tokenization_spaces`).
    pub(crate) clean_spaces: bool,
}

const fn settings(
    pre: PreTokenizer,
    ignore_merges: bool,
    add_bos: bool,
    clean: bool,
) -> PreSettings {
    PreSettings {
        pre,
        ignore_merges,
        add_bos,
        clean_spaces: clean,
    }
}

use PreTokenizer as P;

/// The `tokenizer.ggml.pre` names understood, with llama.cpp's settings for each.
const NAMES: &[(&str, PreSettings)] = &[
    ("default", settings(P::Default, false, false, true)),
    ("gpt-2", settings(P::Gpt2, false, false, true)),
    ("gpt2", settings(P::Gpt2, false, false, true)),
    ("phi-2", settings(P::Gpt2, false, false, true)),
    ("mpt", settings(P::Gpt2, false, false, true)),
    ("olmo", settings(P::Gpt2, false, false, true)),
    ("jais", settings(P::Gpt2, false, false, true)),
    ("exaone4", settings(P::Gpt2, false, false, true)),
    ("gigachat", settings(P::Gpt2, false, false, true)),
    ("a.x-4.0", settings(P::Gpt2, false, false, true)),
    ("mellum", settings(P::Gpt2, false, false, true)),
    ("trillion", settings(P::Gpt2, false, false, false)),
    ("granite-docling", settings(P::Gpt2, false, false, false)),
    ("smollm", settings(P::Smollm, false, false, false)),
    ("starcoder", settings(P::Smollm, false, false, true)),
    ("refact", settings(P::Smollm, false, false, true)),
    ("command-r", settings(P::Smollm, false, false, false)),
    ("codeshell", settings(P::Smollm, false, false, true)),
    ("exaone", settings(P::Smollm, false, false, true)),
    ("minerva-7b", settings(P::Smollm, false, false, true)),
    ("mellum2", settings(P::Smollm, false, false, true)),
    ("llama3", settings(P::Llama3, true, true, true)),
    ("llama-v3", settings(P::Llama3, true, true, true)),
    ("llama-bpe", settings(P::Llama3, true, true, true)),
    ("falcon3", settings(P::Llama3, true, true, true)),
    ("falcon-h1", settings(P::Llama3, true, true, true)),
    ("pixtral", settings(P::Llama3, true, true, true)),
    ("midm-2.0", settings(P::Llama3, true, true, true)),
    ("lfm2", settings(P::Llama3, true, true, true)),
    ("dbrx", settings(P::Llama3, false, false, true)),
    ("smaug-bpe", settings(P::Llama3, false, false, true)),
    ("qwen2", settings(P::Qwen2, false, false, false)),
    ("deepseek-r1-qwen", settings(P::Qwen2, false, false, false)),
    ("kormo", settings(P::Qwen2, false, false, false)),
    ("megrez", settings(P::Qwen2, false, false, true)),
    ("stablelm2", settings(P::Qwen2, false, false, true)),
    ("hunyuan", settings(P::Qwen2, false, false, false)),
];

impl PreTokenizer {
    /// The `tokenizer.ggml.pre` values this crate understands.
    pub const SUPPORTED_NAMES: &'static [&'static str] = &{
        let mut names = [""; NAMES.len()];
        let mut i = 0;
        while i < NAMES.len() {
            names[i] = NAMES[i].0;
            i += 1;
        }
        names
    };

    /// The pre-tokenizer and its settings for a `tokenizer.ggml.pre` value.
    pub(crate) fn settings(name: &str) -> Option<PreSettings> {
        NAMES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }

    /// The pre-tokenizer called `name` in `tokenizer.ggml.pre`, if supported.
    pub fn from_name(name: &str) -> Option<PreTokenizer> {
        Self::settings(name).map(|s| s.pre)
    }

    fn stages(self) -> &'static [Stage] {
        match self {
            P::Default => &[
                Stage::PunctuationRuns,
                Stage::Gpt2,
                Stage::NumberRuns,
                Stage::AsciiDigitTriples,
            ],
            P::Gpt2 => &[Stage::Gpt2],
            P::Smollm => &[Stage::EachNumber, Stage::Gpt2],
            P::Llama3 => &[Stage::Llama3 { max_digits: 3 }],
            P::Qwen2 => &[Stage::Llama3 { max_digits: 1 }],
        }
    }

    /// Cuts `text` into words, returned as byte ranges of `text`, in order and covering
    /// all of it.
    pub fn split(self, text: &str) -> Vec<Range<usize>> {
        let mut chars = Vec::with_capacity(text.len());
        let mut starts = Vec::with_capacity(text.len() + 1);
        for (i, c) in text.char_indices() {
            chars.push(c);
            starts.push(i);
        }
        starts.push(text.len());
        let classes: Vec<CharClass> = chars.iter().map(|&c| CharClass::of(c)).collect();

        // Piece ends, in characters; one piece covering the text to start with.
        let mut ends = vec![chars.len()];
        let mut next = Vec::with_capacity(chars.len() / 2 + 1);
        for stage in self.stages() {
            next.clear();
            let mut lo = 0;
            for &hi in &ends {
                let piece = Piece {
                    chars: &chars,
                    classes: &classes,
                    lo,
                    hi,
                };
                stage.split(&piece, &mut next);
                lo = hi;
            }
            std::mem::swap(&mut ends, &mut next);
        }

        let mut words = Vec::with_capacity(ends.len());
        let mut lo = 0;
        for hi in ends {
            if hi > lo {
                words.push(starts[lo]..starts[hi]);
            }
            lo = hi;
        }
        words
    }
}

/// The characters `lo..hi` of the text: the piece a stage cuts. Looking at a position
/// outside it sees "no character", so that patterns never look past the piece.
struct Piece<'a> {
    chars: &'a [char],
    classes: &'a [CharClass],
    lo: usize,
    hi: usize,
}

impl Piece<'_> {
    fn char_at(&self, i: usize) -> Option<char> {
        if (self.lo..self.hi).contains(&i) {
            self.chars.get(i).copied()
        } else {
            None
        }
    }

    fn class(&self, i: usize) -> CharClass {
        if (self.lo..self.hi).contains(&i) {
            self.classes.get(i).copied().unwrap_or(CharClass::NONE)
        } else {
            CharClass::NONE
        }
    }

    /// Length of the English contraction (`'s 't 'm 'd 're 've 'll`) starting at `pos`,
    /// which holds an apostrophe.
    fn contraction(&self, pos: usize, ignore_case: bool) -> Option<usize> {
        let fold = |c: char| {
            if ignore_case {
                c.to_ascii_lowercase()
            } else {
                c
            }
        };
        let first = fold(self.char_at(pos + 1)?);
        if matches!(first, 's' | 't' | 'm' | 'd') {
            return Some(2);
        }
        let second = fold(self.char_at(pos + 2)?);
        matches!((first, second), ('r', 'e') | ('v', 'e') | ('l', 'l')).then_some(3)
    }

    /// Number of whitespace characters from `pos` on.
    fn whitespace_run(&self, pos: usize) -> usize {
        (pos..self.hi)
            .take_while(|&i| self.class(i).is_whitespace())
            .count()
    }
}

/// One splitting pass.
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// `\p{N}`: every number character alone.
    EachNumber,
    /// `\p{N}+`: runs of number characters.
    NumberRuns,
    /// `[\p{P}\$\+<=>\^~\|]+`: runs of punctuation and of these ASCII symbols.
    PunctuationRuns,
    /// `[0-9][0-9][0-9]`: groups of three ASCII digits, from the left.
    AsciiDigitTriples,
    /// GPT-2's pattern.
    Gpt2,
    /// Llama 3's pattern, with numbers cut into groups of at most `max_digits` (3 for
    /// Llama 3, 1 for Qwen 2).
    Llama3 { max_digits: usize },
}

impl Stage {
    /// Appends the ends of the sub-pieces of `p` to `out`.
    fn split(self, p: &Piece, out: &mut Vec<usize>) {
        match self {
            Stage::EachNumber => {
                split_matches(p, out, |p, pos| p.class(pos).is_number().then_some(pos + 1))
            }
            Stage::NumberRuns => {
                split_matches(p, out, |p, pos| run_end(p, pos, |i| p.class(i).is_number()))
            }
            Stage::PunctuationRuns => split_matches(p, out, |p, pos| {
                run_end(p, pos, |i| {
                    p.class(i).is_punctuation()
                        || matches!(
                            p.char_at(i),
                            Some('$' | '+' | '<' | '=' | '>' | '^' | '~' | '|')
                        )
                })
            }),
            Stage::AsciiDigitTriples => split_matches(p, out, |p, pos| {
                (pos..pos + 3)
                    .all(|i| p.char_at(i).is_some_and(|c| c.is_ascii_digit()))
                    .then_some(pos + 3)
            }),
            Stage::Gpt2 => split_gpt2(p, out),
            Stage::Llama3 { max_digits } => split_llama3(p, out, max_digits),
        }
    }
}

/// The end of the run of characters satisfying `in_run` that starts at `pos`, if any.
fn run_end(p: &Piece, pos: usize, in_run: impl Fn(usize) -> bool) -> Option<usize> {
    let end = (pos..p.hi).take_while(|&i| in_run(i)).last()? + 1;
    Some(end)
}

/// Cuts `p` as a regex iterator would with a pattern whose leftmost match at a position
/// is given by `match_at` (its end, or `None`): matches and the gaps between them each
/// become a piece.
fn split_matches(
    p: &Piece,
    out: &mut Vec<usize>,
    match_at: impl Fn(&Piece, usize) -> Option<usize>,
) {
    let mut gap_start = p.lo;
    let mut pos = p.lo;
    while pos < p.hi {
        match match_at(p, pos) {
            Some(end) if end > pos => {
                if pos > gap_start {
                    out.push(pos);
                }
                out.push(end);
                pos = end;
                gap_start = end;
            }
            _ => pos += 1,
        }
    }
    if p.hi > gap_start {
        out.push(p.hi);
    }
}

/// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
fn split_gpt2(p: &Piece, out: &mut Vec<usize>) {
    let mut pos = p.lo;
    while pos < p.hi {
        let c = p.chars[pos];
        let class = p.classes[pos];
        if c == '\'' {
            if let Some(len) = p.contraction(pos, false) {
                pos += len;
                out.push(pos);
                continue;
            }
        }
        // ` ?X+`: a space may lead a run of letters, of numbers or of other characters.
        let lead = usize::from(c == ' ');
        let head = if c == ' ' { p.class(pos + 1) } else { class };
        let in_run: Option<fn(CharClass) -> bool> = if head.is_letter() {
            Some(CharClass::is_letter)
        } else if head.is_number() {
            Some(CharClass::is_number)
        } else if head.is_other() {
            Some(CharClass::is_other)
        } else {
            None
        };
        if let Some(in_run) = in_run {
            pos += lead;
            while in_run(p.class(pos)) {
                pos += 1;
            }
            out.push(pos);
            continue;
        }
        pos += whitespace_match(p, pos);
        out.push(pos);
    }
}

/// `\s+(?!\S)|\s+` at `pos`, or a lone character when there is no whitespace there:
/// the length to take. A run of spaces followed by a non-space leaves its last space to
/// lead the next word.
fn whitespace_match(p: &Piece, pos: usize) -> usize {
    let n = p.whitespace_run(pos);
    if n > 1 && pos + n < p.hi {
        n - 1
    } else {
        n.max(1)
    }
}

/// Llama 3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
/// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`, with `\p{N}{1,max_digits}`.
fn split_llama3(p: &Piece, out: &mut Vec<usize>, max_digits: usize) {
    let is_newline = |c: Option<char>| matches!(c, Some('\r' | '\n'));
    let mut pos = p.lo;
    while pos < p.hi {
        let c = p.chars[pos];
        let class = p.classes[pos];
        if c == '\'' {
            if let Some(len) = p.contraction(pos, true) {
                pos += len;
                out.push(pos);
                continue;
            }
        }
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        if !(c == '\r' || c == '\n' || class.is_number())
            && (class.is_letter() || p.class(pos + 1).is_letter())
        {
            pos += 1;
            while p.class(pos).is_letter() {
                pos += 1;
            }
            out.push(pos);
            continue;
        }
        // `\p{N}{1,max_digits}`, repeatedly.
        if class.is_number() {
            let mut start = pos;
            while p.class(pos).is_number() {
                pos += 1;
                if pos - start >= max_digits {
                    out.push(pos);
                    start = pos;
                }
            }
            if pos > start {
                out.push(pos);
            }
            continue;
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`. As in llama.cpp, a space at the very end of the
        // piece is taken here too (it matches `\s+` the same way).
        let head = if c == ' ' { p.class(pos + 1) } else { class };
        if !(head.is_whitespace() || head.is_letter() || head.is_number()) {
            pos += usize::from(c == ' ');
            while p.class(pos).is_other() {
                pos += 1;
            }
            while is_newline(p.char_at(pos)) {
                pos += 1;
            }
            out.push(pos);
            continue;
        }
        // `\s*[\r\n]+`: whitespace up to and including its last newline.
        let n = p.whitespace_run(pos);
        if let Some(last_newline) = (pos..pos + n).rev().find(|&i| is_newline(p.char_at(i))) {
            pos = last_newline + 1;
        } else {
            pos += whitespace_match(p, pos);
        }
        out.push(pos);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(pre: PreTokenizer, text: &str) -> Vec<&str> {
        pre.split(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn gpt2_examples() {
        assert_eq!(
            words(P::Gpt2, "Hello world, it's 2024!  ok\n\n"),
            ["Hello", " world", ",", " it", "'s", " 2024", "!", " ", " ok", "\n\n"]
        );
        assert_eq!(words(P::Gpt2, "Привет мир"), ["Привет", " мир"]);
        assert_eq!(words(P::Gpt2, "a  \tb"), ["a", "  ", "\t", "b"]);
    }

    #[test]
    fn smollm_isolates_digits() {
        assert_eq!(
            words(P::Smollm, "a 123 b٣"),
            ["a", " ", "1", "2", "3", " b", "٣"]
        );
    }

    #[test]
    fn llama3_examples() {
        assert_eq!(
            words(P::Llama3, "I'M 12345 ok.\n\nYes"),
            ["I", "'M", " ", "123", "45", " ok", ".\n\n", "Yes"]
        );
        assert_eq!(words(P::Qwen2, "x 123"), ["x", " ", "1", "2", "3"]);
    }

    #[test]
    fn default_cuts_punctuation_then_digit_triples() {
        assert_eq!(
            words(P::Default, "a+b 12345..."),
            ["a", "+", "b", " ", "123", "45", "..."]
        );
    }

    /// The original patterns of each pre-tokenizer, as llama.cpp lists them (contractions
    /// spelled case by case rather than with `(?i)`, whose Unicode case folding would also
    /// match `ſ` and `K`).
    fn patterns(pre: PreTokenizer) -> &'static [&'static str] {
        const GPT2: &str =
            r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
        match pre {
            P::Gpt2 => &[GPT2],
            P::Smollm => &[r"\p{N}", GPT2],
            P::Default => &[r"[\p{P}\$\+<=>\^~\|]+", GPT2, r"\p{N}+", r"[0-9][0-9][0-9]"],
            P::Llama3 => &[
                r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
            ],
            P::Qwen2 => &[
                r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
            ],
        }
    }

    /// Splits as llama.cpp's generic path does, with a regex engine: each pattern cuts
    /// every piece left by the previous one into its matches and the gaps between them.
    fn split_with_regex(pre: PreTokenizer, text: &str) -> Vec<String> {
        let mut pieces = vec![text.to_string()];
        for pattern in patterns(pre) {
            let re = fancy_regex::Regex::new(pattern).expect("pattern compiles");
            let mut next = Vec::new();
            for piece in &pieces {
                let mut at = 0;
                for m in re.find_iter(piece) {
                    let m = m.expect("regex runs");
                    if m.start() > at {
                        next.push(piece[at..m.start()].to_string());
                    }
                    next.push(m.as_str().to_string());
                    at = m.end();
                }
                if at < piece.len() {
                    next.push(piece[at..].to_string());
                }
            }
            pieces = next;
        }
        pieces
    }

    /// Characters of every class the splitters tell apart, non-ASCII ones included.
    const ALPHABET: &[char] = &[
        'a', 'Z', 's', 't', 'r', 'e', 'v', 'l', 'd', 'm', 'S', 'T', 'L', 'é', 'ж', '中', 'ひ', '1',
        '7', '٣', '½', 'Ⅻ', ' ', ' ', ' ', '\t', '\n', '\r', '\u{a0}', '\u{3000}', '\u{2009}',
        '\'', '.', ',', '!', '?', '-', '_', '$', '+', '<', '=', '|', '~', '^', '`', '(', '"', '🙂',
        '\u{200b}', '\u{301}', '—', '«',
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

        #[test]
        fn splitters_agree_with_the_original_patterns(
            chars in proptest::collection::vec(proptest::sample::select(ALPHABET), 0..40)
        ) {
            let text: String = chars.into_iter().collect();
            for pre in [P::Gpt2, P::Smollm, P::Default, P::Llama3, P::Qwen2] {
                let ours = words(pre, &text);
                let reference = split_with_regex(pre, &text);
                proptest::prop_assert_eq!(&ours, &reference, "{:?} on {:?}", pre, text);
            }
        }
    }

    #[test]
    fn every_supported_name_resolves() {
        for name in PreTokenizer::SUPPORTED_NAMES {
            assert!(PreTokenizer::from_name(name).is_some(), "{name}");
        }
        assert_eq!(PreTokenizer::from_name("smollm"), Some(P::Smollm));
        assert_eq!(PreTokenizer::from_name("nope"), None);
    }
}
