//! GPT-2's byte-level alphabet: every byte is written as one printable character, so that
//! a byte-level BPE vocabulary is a list of ordinary strings.
//!
//! Bytes that are printable Latin-1 (`!`..=`~`, `¡`..=`¬`, `®`..=`ÿ`) stand for themselves;
//! the other 68 (controls, space, DEL, NBSP, soft hyphen, …) are given the code points from
//! U+0100 on, in byte order. So a space is `Ġ` (U+0120) and a newline `Ċ` (U+010A).

/// Whether byte `b` is printable Latin-1 and so written as itself.
const fn stands_for_itself(b: u8) -> bool {
    matches!(b, b'!'..=b'~' | 0xa1..=0xac | 0xae..=0xff)
}

/// Byte → its character.
static BYTE_TO_CHAR: [char; 256] = {
    let mut table = ['\0'; 256];
    let mut next_extra = 0u32;
    let mut b = 0usize;
    while b < 256 {
        let cp = if stands_for_itself(b as u8) {
            b as u32
        } else {
            let cp = 256 + next_extra;
            next_extra += 1;
            cp
        };
        // Every value is below U+0144, a valid scalar value.
        table[b] = match char::from_u32(cp) {
            Some(c) => c,
            None => '\0',
        };
        b += 1;
    }
    table
};

/// Character (as a code point below U+0144) → its byte, `None` for code points outside
/// the alphabet.
static CHAR_TO_BYTE: [Option<u8>; 0x144] = {
    let mut table = [None; 0x144];
    let mut b = 0usize;
    while b < 256 {
        table[BYTE_TO_CHAR[b] as usize] = Some(b as u8);
        b += 1;
    }
    table
};

/// The character that stands for byte `b`.
pub fn byte_to_char(b: u8) -> char {
    BYTE_TO_CHAR[b as usize]
}

/// The byte that character `c` stands for, `None` if `c` is not in the alphabet.
pub fn char_to_byte(c: char) -> Option<u8> {
    CHAR_TO_BYTE.get(c as usize).copied().flatten()
}

/// Appends the byte-level spelling of `text` to `out`.
pub(crate) fn encode_into(text: &str, out: &mut String) {
    out.extend(text.bytes().map(byte_to_char));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_characters() {
        // The characters every GPT-2-style vocabulary is full of.
        assert_eq!(byte_to_char(b' '), 'Ġ');
        assert_eq!(byte_to_char(b'\n'), 'Ċ');
        assert_eq!(byte_to_char(b'\t'), 'ĉ');
        assert_eq!(byte_to_char(b'\r'), 'č');
        assert_eq!(byte_to_char(0), 'Ā');
        assert_eq!(byte_to_char(0x7f), 'ġ');
        assert_eq!(byte_to_char(0xa0), 'ł');
        assert_eq!(byte_to_char(0xad), 'Ń');
        assert_eq!(byte_to_char(b'a'), 'a');
        assert_eq!(byte_to_char(0xe9), 'é');
    }

    #[test]
    fn table_is_a_bijection_onto_printable_characters() {
        let mut seen = std::collections::HashSet::new();
        for b in 0..=255u8 {
            let c = byte_to_char(b);
            assert!(!c.is_control() && !c.is_whitespace(), "{b:#x} -> {c:?}");
            assert!(seen.insert(c), "{c:?} used twice");
            assert_eq!(char_to_byte(c), Some(b));
        }
        assert_eq!(seen.len(), 256);
        // The 68 remapped bytes take exactly U+0100..=U+0143.
        let extra = (0..=255u8)
            .filter(|&b| byte_to_char(b) as u32 >= 256)
            .count();
        assert_eq!(extra, 68);
        assert_eq!(char_to_byte('\u{144}'), None);
        assert_eq!(char_to_byte(' '), None);
        assert_eq!(char_to_byte('中'), None);
    }

    #[test]
    fn encodes_utf8_bytes() {
        let mut s = String::new();
        encode_into("a é\n", &mut s);
        assert_eq!(s, "aĠÃ©Ċ");
    }
}
