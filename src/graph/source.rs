//! Where an upload's bytes come from: a buffer, a file, a stream.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::error::{Error, ErrorKind, Result};
use super::hash::{HashSet, Hashes};
use super::http::BodySource;

/// Where an upload's bytes come from: its size is known up front, it is
/// read in order, and it may be able to go back (a file can, a stream
/// cannot).
pub trait UploadSource {
    fn size(&self) -> u64;
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize>;
    /// Goes back to `pos`; `Ok(false)` when the source cannot.
    fn rewind(&mut self, pos: u64) -> std::io::Result<bool>;
    /// True when [`rewind`](Self::rewind) always works (a file, a buffer):
    /// an upload then reads each chunk straight into the request instead of
    /// keeping a copy to send again. The default, false, is always safe.
    fn can_rewind(&self) -> bool {
        false
    }
}

/// A buffer in memory.
pub struct BytesSource<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> BytesSource<'a> {
    pub fn new(data: &'a [u8]) -> BytesSource<'a> {
        BytesSource { data, pos: 0 }
    }
}

impl UploadSource for BytesSource<'_> {
    fn size(&self) -> u64 {
        self.data.len() as u64
    }
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
    fn rewind(&mut self, pos: u64) -> std::io::Result<bool> {
        self.pos = usize::try_from(pos).map_or(self.data.len(), |p| p.min(self.data.len()));
        Ok(true)
    }
    fn can_rewind(&self) -> bool {
        true
    }
}

/// A local file (its size taken when opened).
pub struct FileSource {
    file: File,
    size: u64,
    /// The file's read position.
    pos: u64,
}

/// How far (mod 4096) a read's destination may lie ahead of the file
/// position before the kernel's copy slows down (`FileSource::read`).
const ALIAS_NEAR: usize = 64;

impl FileSource {
    pub fn open(path: &Path) -> Result<FileSource> {
        let file = File::open(path).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot open {}: {e}", path.display()),
            )
        })?;
        let meta = file.metadata().map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot stat {}: {e}", path.display()),
            )
        })?;
        if !meta.is_file() {
            return Err(Error::new(
                ErrorKind::Io,
                format!("{} is not a file", path.display()),
            ));
        }
        Ok(FileSource {
            file,
            size: meta.len(),
            pos: 0,
        })
    }
}

impl UploadSource for FileSource {
    fn size(&self) -> u64 {
        self.size
    }
    /// The kernel copies from the page cache with `rep movsb`, which stalls
    /// when the destination lies a few bytes ahead of the source within a
    /// 4 KiB page (the stores alias the loads): 16 bytes ahead, where an
    /// allocator puts a large buffer (ureq's among them) and a chunk starts
    /// on a page, a read took 3.5 times as long (0.50 against 0.14 s per
    /// GiB, AMD EPYC; 32 bytes or more ahead, or none, is fast). Then the
    /// read goes 64 bytes further into `buf` and the bytes are moved back:
    /// a copy in the cache, a small part of what it saves.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let ahead = buf.as_ptr().addr().wrapping_sub(self.pos as usize) % 4096;
        let n = if (1..ALIAS_NEAR).contains(&ahead) && buf.len() > 2 * ALIAS_NEAR {
            let n = self.file.read(&mut buf[ALIAS_NEAR..])?;
            buf.copy_within(ALIAS_NEAR..ALIAS_NEAR + n, 0);
            n
        } else {
            self.file.read(buf)?
        };
        self.pos += n as u64;
        Ok(n)
    }
    fn rewind(&mut self, pos: u64) -> std::io::Result<bool> {
        self.pos = self.file.seek(SeekFrom::Start(pos))?;
        Ok(true)
    }
    fn can_rewind(&self) -> bool {
        true
    }
}

/// Any reader of a known size that cannot go back (a stream).
pub struct ReaderSource<R> {
    reader: R,
    size: u64,
}

impl<R: Read> ReaderSource<R> {
    pub fn new(reader: R, size: u64) -> ReaderSource<R> {
        ReaderSource { reader, size }
    }
}

impl<R: Read> UploadSource for ReaderSource<R> {
    fn size(&self) -> u64 {
        self.size
    }
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reader.read(buf)
    }
    fn rewind(&mut self, _pos: u64) -> std::io::Result<bool> {
        Ok(false)
    }
}

/// Checks that `source` has nothing left once its announced size was read:
/// a source longer than announced would leave a truncated file behind.
fn check_exhausted(source: &mut dyn UploadSource) -> Result<()> {
    let mut one = [0u8; 1];
    if source.read(&mut one)? != 0 {
        return Err(Error::new(
            ErrorKind::Io,
            "the source is longer than its announced size",
        ));
    }
    Ok(())
}

/// A whole source as a request body (a simple upload): streamed, never
/// held in memory. It goes back to its start for another attempt if the
/// source can; a stream that cannot is sent once.
pub(crate) struct SourceBody<'s> {
    source: &'s mut dyn UploadSource,
    pos: u64,
    set: HashSet,
    /// The hashes of what was read since the last rewind: once the body has
    /// gone out whole, those of the file sent.
    pub(crate) hashes: Hashes,
}

impl<'s> SourceBody<'s> {
    pub(crate) fn new(source: &'s mut dyn UploadSource, set: HashSet) -> SourceBody<'s> {
        SourceBody {
            source,
            pos: 0,
            set,
            hashes: Hashes::new(set),
        }
    }
}

impl BodySource for SourceBody<'_> {
    fn len(&self) -> u64 {
        self.source.size()
    }
    fn rewind(&mut self) -> Result<()> {
        if self.pos > 0 && !self.source.rewind(0)? {
            return Err(Error::new(
                ErrorKind::Io,
                "the upload must be sent again, and its source cannot go back",
            ));
        }
        self.pos = 0;
        self.hashes = Hashes::new(self.set);
        Ok(())
    }
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let size = self.source.size();
        let want = usize::try_from(size - self.pos)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        if want == 0 {
            return Ok(0);
        }
        let n = read_at(self.source, self.pos, &mut buf[..want])?;
        self.hashes.update(&buf[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

/// One read of `source`, whose read position is `at`: an end before its
/// announced size is an error, and reaching that size checks that nothing
/// follows (before the last bytes go out).
pub(crate) fn read_at(source: &mut dyn UploadSource, at: u64, buf: &mut [u8]) -> Result<usize> {
    let n = source.read(buf).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("reading the source at byte {at}: {e}"),
        )
    })?;
    if n == 0 {
        return Err(Error::new(
            ErrorKind::Io,
            format!("the source ended at byte {at} of {}", source.size()),
        ));
    }
    if at + n as u64 == source.size() {
        check_exhausted(source)?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_reads_the_same_into_buffers_at_any_alignment() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 253) as u8).collect();
        let path = std::env::temp_dir().join(format!("od-source-{}.bin", std::process::id()));
        std::fs::write(&path, &data).unwrap();
        let mut buf = vec![0u8; 70_000];
        for skew in [0, 1, 8, 16, 31, 63, 64, 100, 4080] {
            let mut src = FileSource::open(&path).unwrap();
            let mut got = Vec::new();
            loop {
                let n = src.read(&mut buf[skew..]).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[skew..skew + n]);
            }
            assert_eq!(got, data, "buffer at offset {skew}");
        }
        // A large buffer at each distance ahead of the file position that
        // takes the detour (the read lands further in, moved back).
        let mut big = vec![0u8; 80_000];
        let base = big.as_ptr().addr();
        for ahead in [1, 16, ALIAS_NEAR - 1] {
            let at = (4096 - base % 4096 + ahead) % 4096;
            let mut src = FileSource::open(&path).unwrap();
            let n = src.read(&mut big[at..at + 65_536]).unwrap();
            assert!(n > ALIAS_NEAR, "{n}");
            assert_eq!(&big[at..at + n], &data[..n], "{ahead} bytes ahead, 64 KiB");
        }
        // A buffer too small for the detour, at each distance ahead of the
        // file position that takes it for large ones.
        let mut page = vec![0u8; 3 * 4096];
        let base = page.as_ptr().addr();
        for ahead in [1, 16, ALIAS_NEAR - 1] {
            let at = (4096 - base % 4096 + ahead) % 4096;
            let mut src = FileSource::open(&path).unwrap();
            let n = src.read(&mut page[at..at + 10]).unwrap();
            assert_eq!(&page[at..at + n], &data[..n], "{ahead} bytes ahead");
        }
        std::fs::remove_file(path).unwrap();
    }
}
