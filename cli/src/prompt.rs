//! The text to work on: `-p TEXT` or `-f FILE`, optionally with backslash escapes.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::ffi::OsString;
use std::path::PathBuf;

/// Where the prompt comes from.
#[derive(Debug, Args, Clone, Default)]
pub struct PromptArgs {
    /// The prompt text.
    #[arg(short = 'p', long, value_name = "TEXT", conflicts_with = "file")]
    pub prompt: Option<OsString>,
    /// Read the prompt from FILE (UTF-8).
    #[arg(short = 'f', long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Turn `\n`, `\r`, `\t`, `\'`, `\"`, `\\` and `\xHH` in the prompt into the characters
    /// they stand for, as llama.cpp's tools do by default (here it is off by default:
    /// the text is taken as it is).
    #[arg(short = 'e', long)]
    pub escape: bool,
}

impl PromptArgs {
    /// The prompt, or `None` when neither `-p` nor `-f` was given.
    pub fn read(&self) -> Result<Option<String>> {
        let text = if let Some(p) = &self.prompt {
            match p.to_str() {
                Some(s) => s.to_owned(),
                None => bail!("the prompt is not valid UTF-8"),
            }
        } else if let Some(path) = &self.file {
            let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
            match String::from_utf8(bytes) {
                Ok(s) => s,
                Err(e) => bail!(
                    "{}: not valid UTF-8 text (byte {})",
                    path.display(),
                    e.utf8_error().valid_up_to()
                ),
            }
        } else {
            return Ok(None);
        };
        Ok(Some(if self.escape { unescape(&text) } else { text }))
    }
}

/// Replaces the backslash escapes listed on [`PromptArgs::escape`]; any other backslash is
/// kept as it is. A `\xHH` that would make invalid UTF-8 is kept as text.
pub fn unescape(text: &str) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 == b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let replaced = match b[i + 1] {
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'\'' => Some(b'\''),
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            _ => None,
        };
        if let Some(c) = replaced {
            out.push(c);
            i += 2;
            continue;
        }
        if b[i + 1] == b'x' {
            let hex = b
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                if v.is_ascii() {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(b'\\');
        i += 1;
    }
    // Only ASCII bytes were substituted for ASCII sequences, so the text stays UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::unescape;

    #[test]
    fn escapes() {
        assert_eq!(unescape(r#"a\nb\tc\\d\'\"\x41"#), "a\nb\tc\\d'\"A");
        assert_eq!(unescape(r"C:\Users\name"), "C:\\Users\name");
        assert_eq!(unescape(r"\q\x4\xzz é\"), r"\q\x4\xzz é\");
    }
}
