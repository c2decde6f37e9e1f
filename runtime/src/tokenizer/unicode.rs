//! The Unicode character classes the BPE pre-tokenizers split on: `\p{L}`, `\p{N}`, `\p{P}`
//! and `\s`, for every code point, not just ASCII.

use unicode_general_category::{get_general_category, GeneralCategory as Gc};

/// The classes of one character, as bit flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct CharClass(u8);

impl CharClass {
    const LETTER: u8 = 1;
    const NUMBER: u8 = 2;
    const WHITESPACE: u8 = 4;
    const PUNCTUATION: u8 = 8;
    /// Set for every character of the text; clear for the "no character" used past the
    /// end of a piece, so that look-ahead off the end matches nothing.
    const PRESENT: u8 = 16;

    /// The class of "no character" (past the end of the piece being split).
    pub(crate) const NONE: CharClass = CharClass(0);

    /// The classes of `c`.
    pub(crate) fn of(c: char) -> CharClass {
        if c.is_ascii() {
            return ASCII[c as usize];
        }
        CharClass(Self::PRESENT | category_bits(c) | whitespace_bit(c))
    }

    /// `\p{L}`: any letter (Lu, Ll, Lt, Lm, Lo).
    pub(crate) fn is_letter(self) -> bool {
        self.0 & Self::LETTER != 0
    }

    /// `\p{N}`: any number (Nd, Nl, No).
    pub(crate) fn is_number(self) -> bool {
        self.0 & Self::NUMBER != 0
    }

    /// `\s`: the Unicode `White_Space` property.
    pub(crate) fn is_whitespace(self) -> bool {
        self.0 & Self::WHITESPACE != 0
    }

    /// `\p{P}`: any punctuation (Pc, Pd, Ps, Pe, Pi, Pf, Po).
    pub(crate) fn is_punctuation(self) -> bool {
        self.0 & Self::PUNCTUATION != 0
    }

    /// `[^\s\p{L}\p{N}]`: a character that is neither space, letter nor number. False past
    /// the end of the piece.
    pub(crate) fn is_other(self) -> bool {
        self.0 & Self::PRESENT != 0
            && self.0 & (Self::LETTER | Self::NUMBER | Self::WHITESPACE) == 0
    }
}

fn category_bits(c: char) -> u8 {
    match get_general_category(c) {
        Gc::UppercaseLetter
        | Gc::LowercaseLetter
        | Gc::TitlecaseLetter
        | Gc::ModifierLetter
        | Gc::OtherLetter => CharClass::LETTER,
        Gc::DecimalNumber | Gc::LetterNumber | Gc::OtherNumber => CharClass::NUMBER,
        Gc::ConnectorPunctuation
        | Gc::DashPunctuation
        | Gc::OpenPunctuation
        | Gc::ClosePunctuation
        | Gc::InitialPunctuation
        | Gc::FinalPunctuation
        | Gc::OtherPunctuation => CharClass::PUNCTUATION,
        _ => 0,
    }
}

fn whitespace_bit(c: char) -> u8 {
    // `char::is_whitespace` is exactly the White_Space property, which is what llama.cpp's
    // tables (and `\s` in the tokenizers' original regexes) use.
    if c.is_whitespace() {
        CharClass::WHITESPACE
    } else {
        0
    }
}

/// The classes of the 128 ASCII characters, computed once at compile time: the hot path
/// of English text and code never reaches the category tables.
static ASCII: [CharClass; 128] = {
    let mut table = [CharClass(0); 128];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        let bits = if b.is_ascii_alphabetic() {
            CharClass::LETTER
        } else if b.is_ascii_digit() {
            CharClass::NUMBER
        } else if matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ') {
            CharClass::WHITESPACE
        } else if matches!(
            b,
            b'!' | b'"'
                | b'#'
                | b'%'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b','
                | b'-'
                | b'.'
                | b'/'
                | b':'
                | b';'
                | b'?'
                | b'@'
                | b'['
                | b'\\'
                | b']'
                | b'_'
                | b'{'
                | b'}'
        ) {
            // ASCII punctuation (P*); `$ + < = > ^ ` | ~` are symbols (S*).
            CharClass::PUNCTUATION
        } else {
            0
        };
        table[i] = CharClass(CharClass::PRESENT | bits);
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_table_agrees_with_the_category_tables() {
        for b in 0u8..128 {
            let c = b as char;
            let slow = CharClass(CharClass::PRESENT | category_bits(c) | whitespace_bit(c));
            assert_eq!(CharClass::of(c), slow, "{c:?}");
        }
    }

    #[test]
    fn non_ascii_classes() {
        assert!(CharClass::of('é').is_letter());
        assert!(CharClass::of('中').is_letter());
        assert!(CharClass::of('ж').is_letter());
        assert!(CharClass::of('٣').is_number()); // Arabic-Indic digit three
        assert!(CharClass::of('½').is_number());
        assert!(CharClass::of('\u{a0}').is_whitespace());
        assert!(CharClass::of('\u{3000}').is_whitespace());
        assert!(CharClass::of('\u{85}').is_whitespace());
        assert!(!CharClass::of('\u{200b}').is_whitespace()); // zero-width space is Cf
        assert!(CharClass::of('\u{200b}').is_other());
        assert!(CharClass::of('—').is_punctuation());
        assert!(CharClass::of('🙂').is_other());
        assert!(!CharClass::NONE.is_other());
    }
}
