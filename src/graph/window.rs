//! The sliding window over an upload's source, and one chunk of it as a
//! request body: memory stays at about one chunk, each byte is hashed once.

use super::control::Control;
use super::error::{Error, ErrorKind, Result};
use super::hash::{HashSet, Hashes};
use super::http::BodySource;
use super::source::{UploadSource, read_at};

/// The sliding window over the source: holds `[start, start + len)` in
/// `buf[..len]` (`buf` is allocated and zeroed once, then reused),
/// the bytes of the chunk being sent (so a chunk can be sent again, even
/// from a stream that cannot go back), and hashes each byte of the file
/// once, the first time it is read.
///
/// A source that can always go back (a file, a buffer: `direct`) is not
/// kept: each piece goes from the source straight into the request's
/// buffer, and a chunk sent again is read again. That saves one copy of
/// every byte, what curl does not spend either.
pub(crate) struct Window<'s> {
    source: &'s mut dyn UploadSource,
    direct: bool,
    buf: Vec<u8>,
    len: usize,
    start: u64,
    pub(crate) hashes: Hashes,
    /// Bytes hashed so far (a prefix of the file).
    pub(crate) hashed: u64,
    /// Where the source's read position is (always the window's end).
    read_pos: u64,
}

impl<'s> Window<'s> {
    pub(crate) fn new(source: &'s mut dyn UploadSource, hashes: HashSet) -> Window<'s> {
        Window {
            direct: source.can_rewind(),
            source,
            buf: Vec::new(),
            len: 0,
            start: 0,
            hashes: Hashes::new(hashes),
            hashed: 0,
            read_pos: 0,
        }
    }

    /// Makes the window start at `from`: drops what lies before it, or goes
    /// back in the source, or reads ahead (hashing) to it.
    pub(crate) fn seek(&mut self, from: u64, ctl: &Control<'_>) -> Result<()> {
        if self.direct {
            // Bytes up to `hashed` are read again when sent (`read_direct`
            // goes back); beyond it, they must be read and hashed in order.
            if from > self.hashed {
                self.reposition(self.hashed)?;
                self.skip_to(from, ctl)?;
            }
            return Ok(());
        }
        let end = self.start + self.len as u64;
        if (self.start..=end).contains(&from) {
            let drop = (from - self.start) as usize;
            self.buf.copy_within(drop..self.len, 0);
            self.len -= drop;
            self.start = from;
            return Ok(());
        }
        if from < self.read_pos {
            self.reposition(from)?;
        }
        if from > self.read_pos {
            self.skip_to(from, ctl)?;
        }
        self.read_pos = from;
        self.len = 0;
        self.start = from;
        Ok(())
    }

    /// Moves the source's read position to `to`.
    fn reposition(&mut self, to: u64) -> Result<()> {
        if to != self.read_pos {
            if !self.source.rewind(to)? {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!(
                        "the service wants bytes from {to} again, and the source cannot go back"
                    ),
                ));
            }
            self.read_pos = to;
        }
        Ok(())
    }

    /// Reads file offset `pos` (below `to`) from the source straight into
    /// `buf`, going back first when the bytes are sent again.
    fn read_direct(&mut self, pos: u64, to: u64, buf: &mut [u8]) -> Result<usize> {
        if pos >= to {
            return Ok(0);
        }
        self.reposition(pos)?;
        let want = usize::try_from(to - pos)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = read_at(self.source, pos, &mut buf[..want])?;
        hash_fresh(&mut self.hashes, &mut self.hashed, pos, &buf[..n]);
        self.read_pos += n as u64;
        Ok(n)
    }

    /// Copies bytes from file offset `pos` (below `to`) into `buf`, reading
    /// more of the source into the window when `pos` is at its end.
    fn read_chunk(&mut self, pos: u64, to: u64, buf: &mut [u8]) -> Result<usize> {
        if self.direct {
            return self.read_direct(pos, to, buf);
        }
        let end = self.start + self.len as u64;
        if pos >= end && pos < to {
            let have = self.len;
            let want = usize::try_from(to - pos)
                .unwrap_or(usize::MAX)
                .min(buf.len())
                .min(1 << 20);
            if self.buf.len() < have + want {
                self.buf.resize(have + want, 0);
            }
            let n = read_at(self.source, self.read_pos, &mut self.buf[have..have + want])?;
            self.len = have + n;
            let fresh = &self.buf[have..have + n];
            hash_fresh(&mut self.hashes, &mut self.hashed, self.read_pos, fresh);
            self.read_pos += n as u64;
        }
        let off = (pos - self.start) as usize;
        let n = buf
            .len()
            .min(self.len.saturating_sub(off))
            .min(usize::try_from(to.saturating_sub(pos)).unwrap_or(usize::MAX));
        buf[..n].copy_from_slice(&self.buf[off..off + n]);
        Ok(n)
    }

    /// Reads (and hashes) the source up to `pos` without keeping it: a
    /// resumed session still needs the hash of what the service has.
    fn skip_to(&mut self, pos: u64, ctl: &Control<'_>) -> Result<()> {
        let mut buf = vec![0u8; 1 << 20];
        while self.read_pos < pos {
            ctl.check()?;
            let step = ((pos - self.read_pos) as usize).min(buf.len());
            let n = read_at(self.source, self.read_pos, &mut buf[..step])?;
            hash_fresh(&mut self.hashes, &mut self.hashed, self.read_pos, &buf[..n]);
            self.read_pos += n as u64;
        }
        Ok(())
    }
}

/// Hashes `bytes`, read from the source at file offset `pos`, where they
/// extend the prefix hashed so far (`*hashed` bytes): each byte once.
fn hash_fresh(hashes: &mut Hashes, hashed: &mut u64, pos: u64, bytes: &[u8]) {
    let end = pos + bytes.len() as u64;
    if pos <= *hashed && end > *hashed {
        hashes.update(&bytes[(*hashed - pos) as usize..]);
        *hashed = end;
    }
}

/// One chunk `[from, to)` as a request body: read from the window, which
/// reads the source as the bytes go out, so reading, hashing and sending
/// overlap with the service's receiving.
pub(crate) struct ChunkBody<'w, 's> {
    window: &'w mut Window<'s>,
    from: u64,
    to: u64,
    pos: u64,
}

impl<'w, 's> ChunkBody<'w, 's> {
    pub(crate) fn new(window: &'w mut Window<'s>, from: u64, to: u64) -> ChunkBody<'w, 's> {
        ChunkBody {
            window,
            from,
            to,
            pos: from,
        }
    }
}

impl BodySource for ChunkBody<'_, '_> {
    fn len(&self) -> u64 {
        self.to - self.from
    }
    fn rewind(&mut self) -> Result<()> {
        self.pos = self.from;
        Ok(())
    }
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let n = self.window.read_chunk(self.pos, self.to, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::hash::quick_xor_hash;
    use crate::graph::source::BytesSource;

    struct Stream(Vec<u8>, usize);
    impl UploadSource for Stream {
        fn size(&self) -> u64 {
            self.0.len() as u64
        }
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0.len() - self.1).min(1000); // short reads
            buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
        fn rewind(&mut self, _pos: u64) -> std::io::Result<bool> {
            Ok(false)
        }
    }

    /// Positions the window at `from` and reads `[from, to)` through it,
    /// as a chunk upload does.
    fn chunk(w: &mut Window<'_>, from: u64, to: u64) -> Result<Vec<u8>> {
        w.seek(from, &Control::none())?;
        let mut body = ChunkBody {
            window: w,
            from,
            to,
            pos: from,
        };
        let mut out = Vec::new();
        let mut buf = [0u8; 7000];
        loop {
            let n = body.read(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    const NO_SHA: HashSet = HashSet {
        sha1: false,
        sha256: false,
    };

    fn window(source: &mut dyn UploadSource, hashes: HashSet) -> Window<'_> {
        Window::new(source, hashes)
    }

    #[test]
    fn the_window_hashes_each_byte_once() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 256) as u8).collect();
        // a stream: forward only, with a step back inside the window
        let mut src = Stream(data.clone(), 0);
        let mut w = window(&mut src, NO_SHA);
        assert_eq!(chunk(&mut w, 0, 30_000).unwrap(), data[..30_000]);
        assert_eq!(chunk(&mut w, 10_000, 40_000).unwrap(), data[10_000..40_000]); // resume inside
        assert_eq!(chunk(&mut w, 40_000, 100_000).unwrap(), data[40_000..]);
        assert!(chunk(&mut w, 0, 10).is_err()); // cannot go back
        assert_eq!(w.hashes.finish().quick_xor, quick_xor_hash(&data));
        // nor go back to bytes before the window that the stream has passed, while
        // it still has bytes to give (they would be the wrong ones)
        let mut src = Stream(data.clone(), 0);
        let mut w = window(&mut src, NO_SHA);
        assert_eq!(chunk(&mut w, 0, 30_000).unwrap(), data[..30_000]);
        assert_eq!(chunk(&mut w, 40_000, 50_000).unwrap(), data[40_000..50_000]);
        let e = chunk(&mut w, 35_000, 36_000).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Io, "{e}");
        // a file-like source: resumed at an offset (the prefix only hashed), then a rewind
        let mut src = BytesSource::new(&data);
        let mut w = window(
            &mut src,
            HashSet {
                sha1: true,
                sha256: false,
            },
        );
        assert_eq!(chunk(&mut w, 50_000, 60_000).unwrap(), data[50_000..60_000]);
        assert_eq!(chunk(&mut w, 20_000, 30_000).unwrap(), data[20_000..30_000]);
        assert_eq!(chunk(&mut w, 30_000, 100_000).unwrap(), data[30_000..]);
        assert_eq!(w.hashes.finish().quick_xor, quick_xor_hash(&data));
        // the same chunk sent twice (a retry) reads the source once
        let mut src = Stream(data.clone(), 0);
        let mut w = window(&mut src, NO_SHA);
        let mut body = ChunkBody {
            window: &mut w,
            from: 0,
            to: 50_000,
            pos: 0,
        };
        let mut buf = vec![0u8; 50_000];
        let mut got = 0;
        while got < 20_000 {
            got += body.read(&mut buf[got..20_000]).unwrap();
        }
        body.rewind().unwrap();
        let mut again = Vec::new();
        loop {
            let n = body.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            again.extend_from_slice(&buf[..n]);
        }
        assert_eq!(again, data[..50_000]);
        // a source longer than announced is caught before its end is sent
        let mut long = Stream(data.clone(), 0);
        struct Liar<'a>(&'a mut Stream);
        impl UploadSource for Liar<'_> {
            fn size(&self) -> u64 {
                50_000
            }
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.0.read(buf)
            }
            fn rewind(&mut self, _: u64) -> std::io::Result<bool> {
                Ok(false)
            }
        }
        let mut liar = Liar(&mut long);
        let mut w = window(&mut liar, NO_SHA);
        assert_eq!(chunk(&mut w, 0, 50_000).unwrap_err().kind, ErrorKind::Io);
    }

    #[test]
    fn a_source_that_can_go_back_is_read_again_not_kept() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 13 % 251) as u8).collect();
        let mut src = BytesSource::new(&data);
        let both = HashSet {
            sha1: true,
            sha256: true,
        };
        let mut w = window(&mut src, both);
        assert!(w.direct);
        // part of a chunk, then the chunk again from its start (a retry)
        let mut body = ChunkBody::new(&mut w, 0, 40_000);
        let mut buf = [0u8; 15_000];
        assert_eq!(body.read(&mut buf).unwrap(), 15_000);
        body.rewind().unwrap();
        let mut again = Vec::new();
        while let n @ 1.. = body.read(&mut buf).unwrap() {
            again.extend_from_slice(&buf[..n]);
        }
        assert_eq!(again, data[..40_000]);
        // the service has less than was sent: resume inside the last chunk
        assert_eq!(chunk(&mut w, 32_768, 70_000).unwrap(), data[32_768..70_000]);
        // the service has more than was read: skip ahead, hashing
        assert_eq!(chunk(&mut w, 90_000, 100_000).unwrap(), data[90_000..]);
        assert!(w.buf.is_empty(), "nothing kept");
        let mut whole = Hashes::new(both);
        whole.update(&data);
        assert_eq!(w.hashes.finish(), whole.finish());
        // the same rules as a kept window: a longer source is caught
        let longer = [data.as_slice(), b"x"].concat();
        struct Short<'a>(BytesSource<'a>);
        impl UploadSource for Short<'_> {
            fn size(&self) -> u64 {
                100_000
            }
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.0.read(buf)
            }
            fn rewind(&mut self, pos: u64) -> std::io::Result<bool> {
                self.0.rewind(pos)
            }
            fn can_rewind(&self) -> bool {
                true
            }
        }
        let mut short = Short(BytesSource::new(&longer));
        let mut w = window(&mut short, both);
        assert_eq!(chunk(&mut w, 0, 100_000).unwrap_err().kind, ErrorKind::Io);
    }
}
