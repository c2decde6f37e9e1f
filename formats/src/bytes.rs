//! A bounds-checked little-endian cursor over the bytes of a file. Every read checks the
//! remaining length first and reports a [`GgufError::Truncated`] with the byte offset, so
//! the parser above it never indexes or slices on its own.

use crate::error::GgufError;

pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Cursor { data, pos: 0 }
    }

    /// Current byte offset from the start of the file.
    pub(crate) fn pos(&self) -> u64 {
        self.pos as u64
    }

    /// Bytes left after the current position.
    pub(crate) fn remaining(&self) -> u64 {
        self.data.len().saturating_sub(self.pos) as u64
    }

    /// The next `n` bytes, advancing past them.
    pub(crate) fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], GgufError> {
        let truncated = || GgufError::Truncated {
            what,
            offset: self.pos(),
            needed: n,
            available: self.remaining(),
        };
        let n_usize = usize::try_from(n).map_err(|_| truncated())?;
        let end = self.pos.checked_add(n_usize).ok_or_else(truncated)?;
        let bytes = self.data.get(self.pos..end).ok_or_else(truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    /// The next `N` bytes as an array.
    pub(crate) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], GgufError> {
        let offset = self.pos();
        let available = self.remaining();
        let bytes = self.take(N as u64, what)?;
        bytes.try_into().map_err(|_| GgufError::Truncated {
            what,
            offset,
            needed: N as u64,
            available,
        })
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, GgufError> {
        Ok(u8::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// A GGUF string: u64 byte length, then that many bytes of UTF-8.
    pub(crate) fn string(&mut self, what: &'static str) -> Result<&'a str, GgufError> {
        let len_offset = self.pos();
        let len = self.u64(what)?;
        if len > self.remaining() {
            return Err(GgufError::StringBeyondEnd {
                what,
                offset: len_offset,
                len,
                available: self.remaining(),
            });
        }
        let offset = self.pos();
        let bytes = self.take(len, what)?;
        std::str::from_utf8(bytes).map_err(|_| GgufError::InvalidUtf8 { what, offset })
    }

    /// Checks that `count` items of at least `min_bytes_each` bytes can fit in the rest of
    /// the file. Called before any allocation sized by a count from the file, which bounds
    /// memory by the file size.
    pub(crate) fn check_count(
        &self,
        what: &'static str,
        count_offset: u64,
        count: u64,
        min_bytes_each: u64,
    ) -> Result<usize, GgufError> {
        let too_large = || GgufError::CountTooLarge {
            what,
            offset: count_offset,
            count,
            min_bytes_each,
            available: self.remaining(),
        };
        let needed = count.checked_mul(min_bytes_each).ok_or_else(too_large)?;
        if needed > self.remaining() {
            return Err(too_large());
        }
        usize::try_from(count).map_err(|_| too_large())
    }

    /// Moves to an absolute offset that is at most the end of the data.
    pub(crate) fn seek(&mut self, offset: u64, what: &'static str) -> Result<(), GgufError> {
        let truncated = || GgufError::Truncated {
            what,
            offset: self.pos(),
            needed: offset.saturating_sub(self.pos()),
            available: self.remaining(),
        };
        let offset = usize::try_from(offset).map_err(|_| truncated())?;
        if offset > self.data.len() {
            return Err(truncated());
        }
        self.pos = offset;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_reports_truncation() {
        let data = [1u8, 0, 0, 0, 2, 0];
        let mut c = Cursor::new(&data);
        assert_eq!(c.u32("a").ok(), Some(1));
        assert_eq!(c.pos(), 4);
        match c.u32("b") {
            Err(GgufError::Truncated {
                what: "b",
                offset: 4,
                needed: 4,
                available: 2,
            }) => {}
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(c.take(u64::MAX, "c").ok(), None);
        assert_eq!(c.pos(), 4, "a failed read does not advance");
    }

    #[test]
    fn string_length_is_checked_before_reading() {
        let mut data = 100u64.to_le_bytes().to_vec();
        data.extend_from_slice(b"abc");
        let mut c = Cursor::new(&data);
        assert!(matches!(
            c.string("key"),
            Err(GgufError::StringBeyondEnd {
                len: 100,
                available: 3,
                offset: 0,
                ..
            })
        ));
    }

    #[test]
    fn count_check_handles_overflow() {
        let data = [0u8; 16];
        let c = Cursor::new(&data);
        assert_eq!(c.check_count("n", 0, 16, 1).ok(), Some(16));
        assert!(c.check_count("n", 0, 17, 1).is_err());
        assert!(c.check_count("n", 0, u64::MAX, 2).is_err());
    }
}
