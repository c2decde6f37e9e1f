//! What every exported function does at the border with C: catch panics, keep the
//! thread-local last-error message, check the pointers and lengths it was given, and copy
//! results into the caller's buffers.

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::status::edge_status;

/// Why a call failed: its status and the message for `edge_last_error()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: edge_status,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: edge_status, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }

    /// `EDGE_ERR_INVALID_ARGUMENT` with `message`.
    pub(crate) fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(edge_status::EDGE_ERR_INVALID_ARGUMENT, message)
    }

    /// A NULL pointer where `what` was expected.
    pub(crate) fn null(what: &str) -> Failure {
        Failure::invalid(format!("{what} is NULL"))
    }

    /// Prefixes the message with `context` (e.g. the file name).
    pub(crate) fn context(mut self, context: &str) -> Failure {
        if !self.message.contains(context) {
            self.message = format!("{context}: {}", self.message);
        }
        self
    }
}

thread_local! {
    /// The message of the last failure on this thread, NUL-terminated; empty after a call
    /// that succeeded.
    static LAST_ERROR: RefCell<Vec<u8>> = RefCell::new(vec![0]);
}

fn set_last_error(message: &str) {
    // A message never holds NUL in practice; if one did, the C string would end there.
    let _ = LAST_ERROR.try_with(|e| {
        if let Ok(mut e) = e.try_borrow_mut() {
            e.clear();
            e.extend(message.bytes().filter(|&b| b != 0));
            e.push(0);
        }
    });
}

fn clear_last_error() {
    let _ = LAST_ERROR.try_with(|e| {
        if let Ok(mut e) = e.try_borrow_mut() {
            e.clear();
            e.push(0);
        }
    });
}

/// The message of the last failed call on this thread: what went wrong and where (the
/// file, tensor, metadata key or argument at fault).
///
/// Returns a NUL-terminated UTF-8 string owned by the library, never NULL: empty when the
/// last call on this thread succeeded (every function that can fail clears it when it
/// starts). The pointer is valid until the next `edge_*` call on this thread; copy the
/// text to keep it. Thread-safe: each thread has its own message.
#[no_mangle]
pub extern "C" fn edge_last_error() -> *const c_char {
    static EMPTY: &CStr = c"";
    LAST_ERROR
        .try_with(|e| match e.try_borrow() {
            Ok(e) => e.as_ptr().cast::<c_char>(),
            Err(_) => EMPTY.as_ptr(),
        })
        .unwrap_or(EMPTY.as_ptr())
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    format!("internal error in edge (please report it): {what}")
}

/// Runs the body of an entry point: clears the last error, catches a panic, records a
/// failure. Returns the body's value, or `on_error` after a failure.
pub(crate) fn call<T>(on_error: T, body: impl FnOnce() -> Result<T, Failure>) -> T {
    clear_last_error();
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => return value,
        Ok(Err(failure)) => failure,
        Err(payload) => Failure::new(edge_status::EDGE_ERR_INTERNAL, panic_message(&*payload)),
    };
    set_last_error(&failure.message);
    on_error
}

/// As [`call`], for a function that returns an [`edge_status`].
pub(crate) fn call_status(body: impl FnOnce() -> Result<(), Failure>) -> edge_status {
    clear_last_error();
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return edge_status::EDGE_OK,
        Ok(Err(failure)) => failure,
        Err(payload) => Failure::new(edge_status::EDGE_ERR_INTERNAL, panic_message(&*payload)),
    };
    set_last_error(&failure.message);
    failure.status
}

/// The NUL-terminated UTF-8 string at `p`, named `what` in errors.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn c_str<'a>(p: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: non-NULL, and NUL-terminated per this function's contract.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    utf8(bytes, what)
}

/// The raw bytes of the NUL-terminated string at `p` (e.g. a file name).
///
/// # Safety
/// As [`c_str`].
pub(crate) unsafe fn c_bytes<'a>(p: *const c_char, what: &str) -> Result<&'a [u8], Failure> {
    if p.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: non-NULL, and NUL-terminated per this function's contract.
    Ok(unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// `bytes` as UTF-8, or an error naming `what` and the first bad byte.
pub(crate) fn utf8<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str, Failure> {
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::invalid(format!(
            "{what} is not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })
}

/// A length from C as `usize`: negative lengths are refused.
pub(crate) fn length(len: i32, what: &str) -> Result<usize, Failure> {
    usize::try_from(len).map_err(|_| Failure::invalid(format!("{what} is negative ({len})")))
}

/// The `len` elements at `p`; `p` may be NULL when `len` is 0.
///
/// # Safety
/// Unless NULL, `p` points to `len` initialised elements that outlive `'a`.
pub(crate) unsafe fn slice<'a, T>(p: *const T, len: i32, what: &str) -> Result<&'a [T], Failure> {
    let n = length(len, &format!("the length of {what}"))?;
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: non-NULL, with `n` readable elements per this function's contract.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// A caller's output buffer: `len` elements at `ptr` (NULL allowed when `len` is 0).
#[derive(Debug)]
pub(crate) struct OutBuf<T> {
    ptr: *mut T,
    len: usize,
}

impl<T: Copy> OutBuf<T> {
    /// Checks the pointer and length of a buffer named `what`.
    pub(crate) fn new(ptr: *mut T, len: i32, what: &str) -> Result<OutBuf<T>, Failure> {
        let len = length(len, &format!("the size of {what}"))?;
        if len > 0 && ptr.is_null() {
            return Err(Failure::null(what));
        }
        Ok(OutBuf { ptr, len })
    }

    /// Room in the buffer.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Copies `data` to the start of the buffer.
    ///
    /// # Safety
    /// The buffer given to [`OutBuf::new`] is writable for its whole length, and
    /// `data.len() <= self.len()`.
    pub(crate) unsafe fn write(&self, data: &[T]) {
        debug_assert!(data.len() <= self.len);
        let n = data.len().min(self.len);
        if n > 0 {
            // SAFETY: `ptr` is non-NULL (len > 0) and writable for `n <= len` elements per
            // the caller's contract; `data` is our own memory, so the two cannot overlap
            // in any way Rust allows us to see.
            unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr, n) };
        }
    }
}

impl OutBuf<c_char> {
    /// Writes `text` as a NUL-terminated string, cut to the buffer (at a character
    /// boundary when `text` is UTF-8) when it does not fit; nothing when the buffer is
    /// empty. Returns the full length of `text` as `i32`.
    ///
    /// # Safety
    /// As [`OutBuf::write`]'s buffer contract.
    pub(crate) unsafe fn write_str(&self, text: &[u8]) -> Result<i32, Failure> {
        let full = i32::try_from(text.len()).map_err(|_| {
            Failure::invalid(format!("the text is too long ({} bytes)", text.len()))
        })?;
        if self.len == 0 {
            return Ok(full);
        }
        let mut n = text.len().min(self.len - 1);
        if n < text.len() {
            if let Ok(s) = std::str::from_utf8(text) {
                while !s.is_char_boundary(n) {
                    n -= 1;
                }
            }
        }
        // SAFETY: `n + 1 <= len` bytes, per the buffer contract.
        unsafe {
            self.as_bytes().write(&text[..n]);
            *self.ptr.add(n) = 0;
        }
        Ok(full)
    }

    fn as_bytes(&self) -> OutBuf<u8> {
        OutBuf {
            ptr: self.ptr.cast(),
            len: self.len,
        }
    }

    /// Writes raw `bytes` (no NUL) when they fit; returns their number, or `-(number)`
    /// when the buffer is too small (then nothing is written).
    ///
    /// # Safety
    /// As [`OutBuf::write`]'s buffer contract.
    pub(crate) unsafe fn write_bytes_or_needed(&self, bytes: &[u8]) -> Result<i32, Failure> {
        let n = i32::try_from(bytes.len()).map_err(|_| {
            Failure::invalid(format!("the text is too long ({} bytes)", bytes.len()))
        })?;
        if bytes.len() > self.len {
            return Ok(-n);
        }
        // SAFETY: `bytes.len() <= len`, per the buffer contract.
        unsafe { self.as_bytes().write(bytes) };
        Ok(n)
    }
}

/// Sets `*out` to `value` when `out` is not NULL.
///
/// # Safety
/// `out` is NULL or valid for a write of `T`.
pub(crate) unsafe fn store<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL and writable per this function's contract.
        unsafe { out.write(value) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> String {
        // SAFETY: edge_last_error always returns a valid NUL-terminated string.
        unsafe { CStr::from_ptr(edge_last_error()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_internal_with_its_message() {
        let st = call_status(|| panic!("boom at the border"));
        assert_eq!(st, edge_status::EDGE_ERR_INTERNAL);
        assert!(message().contains("boom at the border"), "{}", message());
        assert_eq!(call(7, || -> Result<i32, Failure> { panic!("again") }), 7);
        assert!(message().contains("again"));
        assert_eq!(call(7, || Ok(3)), 3);
        assert_eq!(message(), "");
    }

    #[test]
    fn failures_set_and_successes_clear_the_message() {
        assert_eq!(
            call_status(|| Err(Failure::invalid("bad \0 argument"))),
            edge_status::EDGE_ERR_INVALID_ARGUMENT
        );
        assert_eq!(message(), "bad  argument");
        assert_eq!(call_status(|| Ok(())), edge_status::EDGE_OK);
        assert_eq!(message(), "");
    }

    #[test]
    fn strings_are_truncated_on_character_boundaries() {
        let mut buf = [b'x' as c_char; 6];
        let out = OutBuf::new(buf.as_mut_ptr(), 6, "buf").unwrap();
        // SAFETY: `buf` is 6 writable bytes.
        let n = unsafe { out.write_str("abcdé".as_bytes()) }.unwrap();
        assert_eq!(n, 6);
        // "abcd" and a NUL: half of "é" is not written.
        assert_eq!(buf.map(|c| c as u8), *b"abcd\0x");
        assert!(OutBuf::<c_char>::new(std::ptr::null_mut(), 3, "buf").is_err());
        assert!(OutBuf::<c_char>::new(buf.as_mut_ptr(), -1, "buf").is_err());
    }
}
