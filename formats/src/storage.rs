//! The bytes of an open GGUF file: a read-only memory map, or memory owned by us and
//! aligned so that tensor data views are as aligned as they are in a mapped file.

use std::fs::File;

use bytemuck::{Pod, Zeroable};
use memmap2::Mmap;

/// Alignment in memory of the start of a file read with
/// [`GgufFile::from_bytes`](crate::GgufFile::from_bytes). A tensor whose file offset is a
/// multiple of `a ≤ MEMORY_ALIGNMENT` therefore starts at an address that is a multiple of
/// `a`, so kernels may read it with aligned SIMD loads. (Mapped files start on a page.)
pub const MEMORY_ALIGNMENT: usize = 64;

/// One cache line; a `Vec` of these is a 64-byte-aligned byte buffer without any `unsafe`.
#[derive(Clone, Copy, Zeroable, Pod)]
#[repr(C, align(64))]
pub(crate) struct Line([u8; MEMORY_ALIGNMENT]);

pub(crate) enum Storage {
    /// A mapped file; the map starts on a page boundary.
    Mmap(Mmap),
    /// A whole file read into anonymous memory: bytes `start..start + len` of `map`, with
    /// `start` on a huge-page boundary (see [`Storage::read`]).
    Resident { map: Mmap, start: usize, len: usize },
    /// A caller's buffer that happened to be aligned already.
    Vec(Vec<u8>),
    /// A copy of a caller's buffer into aligned memory; `len` bytes are used.
    Aligned { lines: Vec<Line>, len: usize },
}

impl Storage {
    /// Maps `file` read-only.
    pub(crate) fn map(file: &File) -> std::io::Result<Storage> {
        // mmap(2) rejects empty mappings; an empty file is simply zero bytes.
        if file.metadata()?.len() == 0 {
            return Ok(Storage::Vec(Vec::new()));
        }
        // SAFETY: the map is read-only and lives as long as `Storage`, so every slice handed
        // out borrows it. The remaining hazard of any file mapping is another process
        // truncating or rewriting the file while it is mapped (a SIGBUS or changing bytes);
        // that is outside this process's control and is documented on `GgufFile::open`.
        let map = unsafe { Mmap::map(file)? };
        Ok(Storage::Mmap(map))
    }

    /// Reads all of `file` into anonymous memory that starts on a 2 MiB boundary and, on
    /// Linux, asks for transparent huge pages. Products that stream every weight per token
    /// then take one TLB entry per 2 MiB instead of per 4 KiB (decoding Gemma 3 270M got
    /// about 35% faster here than from the mapped file). The memory is private to this
    /// process: unlike a mapped file's pages, the kernel cannot drop it under pressure.
    pub(crate) fn read(file: &File) -> std::io::Result<Storage> {
        let read = Storage::read_with(file, |buf| read_into(file, buf).map(|()| true))?;
        read.ok_or_else(|| std::io::Error::other("reading stopped"))
    }

    /// As [`read`](Self::read), one piece of at most `piece` bytes at a time on this
    /// thread, calling `progress(done, total)` after each; `None` when it returns false.
    pub(crate) fn read_in_pieces(
        file: &File,
        piece: usize,
        mut progress: impl FnMut(usize, usize) -> bool,
    ) -> std::io::Result<Option<Storage>> {
        use std::io::Read;
        Storage::read_with(file, |buf| {
            let (total, mut done, mut reader) = (buf.len(), 0, file);
            for chunk in buf.chunks_mut(piece.max(1)) {
                reader.read_exact(chunk)?;
                done += chunk.len();
                if !progress(done, total) {
                    return Ok(false);
                }
            }
            Ok(true)
        })
    }

    /// Maps anonymous memory for all of `file` (see [`read`](Self::read)) and has `fill`
    /// read the file into it; `None` when `fill` says to stop.
    fn read_with(
        file: &File,
        fill: impl FnOnce(&mut [u8]) -> std::io::Result<bool>,
    ) -> std::io::Result<Option<Storage>> {
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| std::io::Error::other("the file is larger than the address space"))?;
        if len == 0 {
            return Ok(Some(Storage::Vec(Vec::new())));
        }
        let total = len
            .checked_add(HUGE_PAGE)
            .ok_or_else(|| std::io::Error::other("the file is larger than the address space"))?;
        let mut map = memmap2::MmapOptions::new().len(total).map_anon()?;
        let start = (map.as_ptr() as usize).next_multiple_of(HUGE_PAGE) - map.as_ptr() as usize;
        #[cfg(target_os = "linux")]
        // A hint only: without transparent huge pages the memory works the same.
        let _ = map.advise(memmap2::Advice::HugePage);
        if !fill(&mut map[start..start + len])? {
            return Ok(None);
        }
        Ok(Some(Storage::Resident {
            map: map.make_read_only()?,
            start,
            len,
        }))
    }

    /// Takes `bytes`, copying them into aligned memory unless they already are aligned.
    pub(crate) fn from_vec(bytes: Vec<u8>) -> Storage {
        if (bytes.as_ptr() as usize) % MEMORY_ALIGNMENT == 0 {
            return Storage::Vec(bytes);
        }
        let len = bytes.len();
        let mut lines = vec![Line([0; MEMORY_ALIGNMENT]); len.div_ceil(MEMORY_ALIGNMENT)];
        let dst: &mut [u8] = bytemuck::cast_slice_mut(&mut lines);
        if let Some(dst) = dst.get_mut(..len) {
            dst.copy_from_slice(&bytes);
        }
        Storage::Aligned { lines, len }
    }

    /// Tells the kernel that bytes `start..end` of a mapped file will not be read again soon,
    /// so their pages may leave this process's resident set. Only whole pages inside the range
    /// are released; for memory we own (a file read whole included: dropping those pages
    /// would lose them) this does nothing. Errors are ignored: it is a hint.
    #[cfg(unix)]
    pub(crate) fn release(&self, start: usize, end: usize) {
        let Storage::Mmap(map) = self else { return };
        let page = page_size();
        let (first, last) = (start.div_ceil(page) * page, end / page * page);
        if first >= last || last > map.len() {
            return;
        }
        // SAFETY: the map is read-only and file-backed, so MADV_DONTNEED only drops clean
        // page-cache pages from our page tables; the next read faults them in again from the
        // file with the same contents. Slices borrowed from the map stay valid.
        let _ = unsafe {
            map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, first, last - first)
        };
    }

    /// See the unix version; other platforms keep the pages.
    #[cfg(not(unix))]
    pub(crate) fn release(&self, _start: usize, _end: usize) {}

    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Storage::Mmap(map) => map,
            Storage::Resident { map, start, len } => &map[*start..*start + *len],
            Storage::Vec(v) => v,
            Storage::Aligned { lines, len } => {
                let all: &[u8] = bytemuck::cast_slice(lines);
                all.get(..*len).unwrap_or(all)
            }
        }
    }
}

/// Fills `buf` from the start of `file`. Most of the time goes to faulting in and zeroing
/// the fresh pages, so on Unix up to four threads read a quarter each (positioned reads
/// do not share a file offset).
#[cfg(unix)]
fn read_into(file: &File, buf: &mut [u8]) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    // Whole huge pages per part, so that no page is faulted in by two threads.
    let part = buf.len().div_ceil(threads).next_multiple_of(HUGE_PAGE);
    std::thread::scope(|s| {
        let parts: Vec<_> = buf
            .chunks_mut(part)
            .enumerate()
            .map(|(i, chunk)| s.spawn(move || file.read_exact_at(chunk, (i * part) as u64)))
            .collect();
        parts.into_iter().try_for_each(|p| {
            p.join()
                .unwrap_or_else(|_| Err(std::io::Error::other("a reading thread panicked")))
        })
    })
}

/// Fills `buf` from the start of `file`.
#[cfg(not(unix))]
fn read_into(mut file: &File, buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read;
    file.read_exact(buf)
}

/// The size of a transparent huge page on x86-64 and of the common aarch64 one.
const HUGE_PAGE: usize = 2 << 20;

/// The page size used to round release ranges; 64 KiB covers every page size in use
/// (4, 16 and 64 KiB), at the cost of releasing slightly less.
#[cfg(unix)]
fn page_size() -> usize {
    64 * 1024
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_aligned_and_exact() {
        // A one-byte offset into a larger allocation is never 64-byte aligned.
        for len in [0, 1, 63, 64, 65, 1000] {
            let src: Vec<u8> = (0..len as u32 + 1).map(|i| i as u8).collect();
            let unaligned = src[1..].to_vec();
            let s = Storage::from_vec(unaligned.clone());
            assert_eq!(s.bytes(), &unaligned[..]);
            if len > 0 {
                assert_eq!(s.bytes().as_ptr() as usize % MEMORY_ALIGNMENT, 0);
            }
        }
    }
}
