//! Tokens back to text: the bytes of one token, a whole sequence, and a streaming decoder
//! that never emits half a UTF-8 character.

use super::byte_level;
use super::spm::SPACE_MARKER;
use super::vocab::TokenType;
use super::{Model, Tokenizer};

/// How [`Tokenizer::decode`] treats special tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Drop the BOS at the start and the EOS at the end, where the model adds them.
    pub remove_special: bool,
    /// Write control tokens as their text (`<|im_end|>`); when false they are dropped.
    /// User-defined tokens are always written.
    pub render_special: bool,
}

impl Default for DecodeOptions {
    /// Keep every token and render special tokens: the text that went in comes out.
    fn default() -> Self {
        DecodeOptions {
            remove_special: false,
            render_special: true,
        }
    }
}

impl Tokenizer {
    /// The bytes token `id` stands for, special tokens rendered as their text. Empty for
    /// an id outside the vocabulary.
    ///
    /// A piece may be part of a UTF-8 character (byte tokens); use [`StreamDecoder`] to
    /// print tokens as they come.
    pub fn token_to_piece(&self, id: u32) -> Vec<u8> {
        let mut out = Vec::new();
        self.append_piece(id, true, &mut out);
        out
    }

    /// Appends the bytes of token `id` to `out`. Control and unknown tokens are written
    /// as their text when `render_special`, else not at all.
    pub fn append_piece(&self, id: u32, render_special: bool, out: &mut Vec<u8>) {
        let (Some(t), Some(text)) = (self.vocab.token_type(id), self.vocab.text(id)) else {
            return;
        };
        match t {
            TokenType::Control | TokenType::Unknown => {
                if render_special {
                    out.extend_from_slice(text.as_bytes());
                }
            }
            TokenType::UserDefined => out.extend_from_slice(text.as_bytes()),
            TokenType::Normal => match self.model {
                Model::Spm(_) => {
                    for c in text.chars() {
                        let c = if c == SPACE_MARKER { ' ' } else { c };
                        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    }
                }
                Model::Bpe(_) => decode_byte_level(text, out),
            },
            TokenType::Byte => match byte_token_value(text) {
                Some(b) => out.push(b),
                // Not of the form <0xXX>: the best we can show is the text itself.
                None => out.extend_from_slice(text.as_bytes()),
            },
            TokenType::Unused | TokenType::Undefined => {}
        }
    }

    /// The text of a sequence of tokens, as llama.cpp's detokenizer writes it: the space
    /// a SentencePiece model puts in front of the text is removed, and for pre-tokenizers
    /// that ask for it, spaces before `. , ! ?` and some contractions are tidied. Bytes
    /// that are not valid UTF-8 become U+FFFD.
    pub fn decode(&self, ids: &[u32], options: DecodeOptions) -> String {
        String::from_utf8_lossy(&self.decode_bytes(ids, options)).into_owned()
    }

    /// As [`Tokenizer::decode`], but the raw bytes.
    pub fn decode_bytes(&self, ids: &[u32], options: DecodeOptions) -> Vec<u8> {
        let mut ids = ids;
        let mut strip_space = self.add_space_prefix;
        if options.remove_special && self.add_bos {
            if let Some((&first, rest)) = ids.split_first() {
                if Some(first) == self.special.bos {
                    // Text after a BOS had no space put in front of it.
                    strip_space = false;
                    ids = rest;
                }
            }
        }
        if options.remove_special && self.add_eos {
            if let Some((&last, rest)) = ids.split_last() {
                if Some(last) == self.special.eos {
                    ids = rest;
                }
            }
        }
        let mut out = Vec::new();
        for (i, &id) in ids.iter().enumerate() {
            let start = out.len();
            self.append_piece(id, options.render_special, &mut out);
            if i == 0 && strip_space && out.get(start) == Some(&b' ') {
                out.remove(start);
            }
        }
        if self.clean_spaces {
            out = clean_spaces(&out);
        }
        out
    }

    /// A decoder that turns tokens into text as they are generated.
    pub fn stream_decoder(&self) -> StreamDecoder<'_> {
        StreamDecoder::new(self, true)
    }
}

/// GPT-2 byte-level token text → its bytes.
fn decode_byte_level(text: &str, out: &mut Vec<u8>) {
    for c in text.chars() {
        match byte_level::char_to_byte(c) {
            Some(b) => out.push(b),
            None => {
                // A character outside the byte alphabet (a broken vocabulary): say so in
                // the output, as llama.cpp does, rather than dropping it silently.
                out.extend_from_slice(b"[UNK_BYTE_0x");
                for b in c.encode_utf8(&mut [0; 4]).bytes() {
                    out.extend_from_slice(format!("{b:02x}").as_bytes());
                }
                out.extend_from_slice(text.as_bytes());
                out.push(b']');
            }
        }
    }
}

/// The byte of a byte token `<0xXX>`.
pub(crate) fn byte_token_value(text: &str) -> Option<u8> {
    let hex = text.strip_prefix("<0x")?.strip_suffix('>')?;
    if hex.len() != 2 {
        return None;
    }
    u8::from_str_radix(hex, 16).ok()
}

/// Hugging Face's `clean_up_tokenization_spaces`, as llama.cpp applies it: drops the
/// space before `?`, `!`, `.` and `,`; turns ` ' ` into `'`; and drops the space before
/// `'s`, `'m`, `'re` and `'ve`.
fn clean_spaces(text: &[u8]) -> Vec<u8> {
    // Pass 1: " ?" " !" " ." " ," lose their space.
    let mut pass1 = Vec::with_capacity(text.len());
    for (i, &b) in text.iter().enumerate() {
        let next = text.get(i + 1).copied();
        if b == b' ' && matches!(next, Some(b'?' | b'!' | b'.' | b',')) {
            continue;
        }
        pass1.push(b);
    }

    // Pass 2: an apostrophe between two spaces loses both. The space after it is used up
    // and cannot be the space before a following apostrophe.
    let mut pass2 = Vec::with_capacity(pass1.len());
    let mut i = 0;
    let mut used_space = None;
    while i < pass1.len() {
        let b = pass1[i];
        let space_before = i > 0 && pass1[i - 1] == b' ' && used_space != Some(i - 1);
        if b == b'\'' && space_before && pass1.get(i + 1) == Some(&b' ') {
            pass2.pop();
            pass2.push(b);
            used_space = Some(i + 1);
            i += 2;
            continue;
        }
        pass2.push(b);
        i += 1;
    }

    // Pass 3: " 's" " 'm" " 're" " 've" lose their space (" 't" " 'd" " 'll" keep it).
    let mut pass3 = Vec::with_capacity(pass2.len());
    for (i, &b) in pass2.iter().enumerate() {
        if b == b'\'' && i > 0 && pass2[i - 1] == b' ' {
            let x1 = pass2.get(i + 1).copied();
            let x2 = pass2.get(i + 2).copied();
            let contraction = matches!(x1, Some(b's' | b'm'))
                || matches!((x1, x2), (Some(b'r' | b'v'), Some(b'e')));
            if contraction {
                pass3.pop();
            }
        }
        pass3.push(b);
    }
    pass3
}

/// Turns tokens into text one at a time, holding back the bytes of a UTF-8 character
/// until all of them have arrived, so that a character split across tokens (emoji, CJK
/// with byte fallback) is never printed in halves.
///
/// ```no_run
/// # fn f(tok: &edge_runtime::tokenizer::Tokenizer, ids: &[u32]) {
/// let mut stream = tok.stream_decoder();
/// for &id in ids {
///     print!("{}", stream.push(id));
/// }
/// print!("{}", stream.finish());
/// # }
/// ```
#[derive(Debug)]
pub struct StreamDecoder<'t> {
    tokenizer: &'t Tokenizer,
    render_special: bool,
    pending: Vec<u8>,
}

impl<'t> StreamDecoder<'t> {
    /// A decoder for `tokenizer`; control tokens are written as their text when
    /// `render_special`, else dropped.
    pub fn new(tokenizer: &'t Tokenizer, render_special: bool) -> Self {
        StreamDecoder {
            tokenizer,
            render_special,
            pending: Vec::new(),
        }
    }

    /// Adds token `id` and returns the text it completes: possibly empty, never part of
    /// a character. Bytes that can never form a character come out as U+FFFD.
    pub fn push(&mut self, id: u32) -> String {
        self.tokenizer
            .append_piece(id, self.render_special, &mut self.pending);
        self.take_complete()
    }

    /// Returns what is still held back (an unfinished character, as U+FFFD) and empties
    /// the decoder.
    pub fn finish(&mut self) -> String {
        let mut out = self.take_complete();
        if !self.pending.is_empty() {
            out.push_str(&String::from_utf8_lossy(&self.pending));
            self.pending.clear();
        }
        out
    }

    /// Bytes held back, waiting for the rest of a character.
    pub fn pending(&self) -> &[u8] {
        &self.pending
    }

    fn take_complete(&mut self) -> String {
        let mut out = String::new();
        let mut consumed = 0;
        loop {
            let rest = &self.pending[consumed..];
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    out.push_str(s);
                    consumed = self.pending.len();
                    break;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    out.push_str(&String::from_utf8_lossy(&rest[..valid]));
                    match e.error_len() {
                        // Bytes that no continuation can repair.
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            consumed += valid + bad;
                        }
                        // A character cut short: wait for its other bytes.
                        None => {
                            consumed += valid;
                            break;
                        }
                    }
                }
            }
        }
        self.pending.drain(..consumed);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_tokens() {
        assert_eq!(byte_token_value("<0x0A>"), Some(10));
        assert_eq!(byte_token_value("<0xfF>"), Some(255));
        assert_eq!(byte_token_value("<0x1>"), None);
        assert_eq!(byte_token_value("<0xZZ>"), None);
        assert_eq!(byte_token_value("0x41"), None);
    }

    #[test]
    fn clean_spaces_rules() {
        let clean = |s: &str| String::from_utf8(clean_spaces(s.as_bytes())).expect("utf8");
        assert_eq!(clean("Hello , world !"), "Hello, world!");
        assert_eq!(
            clean("it 's ok , I 'm sure they 're"),
            "it's ok, I'm sure they're"
        );
        assert_eq!(clean("don 't we 'll"), "don 't we 'll");
        assert_eq!(clean("a ' b"), "a'b");
        assert_eq!(clean(" ."), ".");
    }
}
