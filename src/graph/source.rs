//! Where an upload's bytes come from: a buffer, a file, a stream.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::error::{Error, ErrorKind, Result};

/// Where an upload's bytes come from: its size is known up front, it is
/// read in order, and it may be able to go back (a file can, a stream
/// cannot).
pub trait UploadSource {
    fn size(&self) -> u64;
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize>;
    /// Goes back to `pos`; `Ok(false)` when the source cannot.
    fn rewind(&mut self, pos: u64) -> std::io::Result<bool>;
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
}

/// A local file (its size taken when opened).
pub struct FileSource {
    file: File,
    size: u64,
}

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
        })
    }
}

impl UploadSource for FileSource {
    fn size(&self) -> u64 {
        self.size
    }
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.file.read(buf)
    }
    fn rewind(&mut self, pos: u64) -> std::io::Result<bool> {
        self.file.seek(SeekFrom::Start(pos))?;
        Ok(true)
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
pub(crate) fn check_exhausted(source: &mut dyn UploadSource) -> Result<()> {
    let mut one = [0u8; 1];
    if source.read(&mut one)? != 0 {
        return Err(Error::new(
            ErrorKind::Io,
            "the source is longer than its announced size",
        ));
    }
    Ok(())
}

/// Reads the whole of a source of `size` bytes into memory.
pub(crate) fn read_all(source: &mut dyn UploadSource, size: u64) -> Result<Vec<u8>> {
    let mut out =
        vec![0u8; usize::try_from(size).map_err(|_| Error::invalid("too large for memory"))?];
    let mut have = 0;
    while have < out.len() {
        let n = source.read(&mut out[have..])?;
        if n == 0 {
            return Err(Error::new(
                ErrorKind::Io,
                format!("the source ended at byte {have} of {size}"),
            ));
        }
        have += n;
    }
    check_exhausted(source)?;
    Ok(out)
}
