//! The input and output buffers of a client's TLS connections, kept for
//! the next connection when one closes instead of freed (issue 25 item 8).
//!
//! ureq gives every connection its own 128 KiB input and output buffers.
//! A connection lives as long as the service keeps it: under faults, or
//! behind a proxy or load balancer that closes connections often, a client
//! opens many, each allocating and freeing 256 KiB. glibc keeps the memory
//! of such freed blocks in the arena of the thread that freed them (its
//! mmap threshold rises to the largest block freed), so with many threads
//! calling one client the process's RSS grew for as long as it ran,
//! although its live heap did not. A client's pool hands the buffers of a
//! closed connection to the next one: the allocations stop once the pool
//! has served the most connections open at once.

use std::sync::{Arc, Mutex, PoisonError};

use ureq::unversioned::transport::Buffers;

/// Room the body reader needs at least when ureq asks for a scratch buffer
/// (`tmp_and_output`) while unread input fills the input buffer.
const MIN_TMP: usize = 10 * 1024;

/// A client's idle connection buffers.
#[derive(Debug)]
pub(crate) struct BufferPool {
    input_size: usize,
    output_size: usize,
    /// At most this many buffers of each kind are kept idle (the memory a
    /// client holds beyond its open connections' own).
    keep: usize,
    free: Mutex<Free>,
}

#[derive(Debug, Default)]
struct Free {
    input: Vec<Vec<u8>>,
    output: Vec<Vec<u8>>,
}

impl BufferPool {
    pub(crate) fn new(input_size: usize, output_size: usize, keep: usize) -> Arc<BufferPool> {
        Arc::new(BufferPool {
            input_size: input_size.max(1),
            output_size: output_size.max(1),
            keep,
            free: Mutex::new(Free::default()),
        })
    }

    /// Buffers for a new connection: nothing is taken until it is used.
    pub(crate) fn buffers(self: &Arc<Self>) -> PooledBuffers {
        PooledBuffers {
            pool: Arc::clone(self),
            input: Vec::new(),
            consumed: 0,
            filled: 0,
            output: Vec::new(),
            progress: false,
        }
    }

    fn free(&self) -> std::sync::MutexGuard<'_, Free> {
        // A panic while the lock was held leaves nothing half-done here.
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take(&self, output: bool) -> Vec<u8> {
        let (size, got) = if output {
            (self.output_size, self.free().output.pop())
        } else {
            (self.input_size, self.free().input.pop())
        };
        // A kept buffer has exactly its size; its old bytes are never read
        // (input is read only up to what was appended, output only up to
        // what was written).
        got.unwrap_or_else(|| vec![0; size])
    }

    fn give_back(&self, buf: Vec<u8>, output: bool) {
        let size = if output {
            self.output_size
        } else {
            self.input_size
        };
        if buf.len() != size {
            return;
        }
        let mut free = self.free();
        let list = if output {
            &mut free.output
        } else {
            &mut free.input
        };
        if list.len() < self.keep {
            list.push(buf);
        }
    }

    #[cfg(test)]
    fn idle(&self) -> (usize, usize) {
        let free = self.free();
        (free.input.len(), free.output.len())
    }
}

/// One connection's buffers, taken from its client's pool when first used
/// and given back when the connection is dropped. The input buffer holds
/// `[consumed, filled)` unread; reading appends at `filled`.
#[derive(Debug)]
pub(crate) struct PooledBuffers {
    pool: Arc<BufferPool>,
    input: Vec<u8>,
    consumed: usize,
    filled: usize,
    output: Vec<u8>,
    /// Whether the last consume took something (ureq's rule for using
    /// input already there before reading more).
    progress: bool,
}

impl PooledBuffers {
    fn ensure(&mut self) {
        if self.output.is_empty() {
            self.output = self.pool.take(true);
        }
        if self.input.is_empty() {
            self.input = self.pool.take(false);
        }
    }

    /// Moves the unread input to the front, so that the free room is all
    /// at the end.
    fn compact(&mut self) {
        if self.consumed > 0 {
            self.input.copy_within(self.consumed..self.filled, 0);
            self.filled -= self.consumed;
            self.consumed = 0;
        }
    }
}

impl Buffers for PooledBuffers {
    fn output(&mut self) -> &mut [u8] {
        self.ensure();
        &mut self.output
    }

    fn input(&self) -> &[u8] {
        &self.input[self.consumed..self.filled]
    }

    fn input_append_buf(&mut self) -> &mut [u8] {
        self.ensure();
        self.compact();
        &mut self.input[self.filled..]
    }

    fn input_appended(&mut self, amount: usize) {
        self.filled = (self.filled + amount).min(self.input.len());
    }

    fn input_consume(&mut self, amount: usize) {
        self.progress = amount > 0;
        self.consumed = (self.consumed + amount).min(self.filled);
        if self.consumed == self.filled {
            self.consumed = 0;
            self.filled = 0;
        }
    }

    fn tmp_and_output(&mut self) -> (&mut [u8], &mut [u8]) {
        self.ensure();
        self.compact();
        if self.input.len() - self.filled < MIN_TMP {
            // Unread input fills the buffer (a peer that answered before
            // the body was sent): this connection's buffer grows, and is
            // not kept afterwards (it is no longer the pool's size).
            self.input.resize(self.filled + MIN_TMP, 0);
        }
        (&mut self.input[self.filled..], &mut self.output)
    }

    fn can_use_input(&self) -> bool {
        self.filled > self.consumed && self.progress
    }
}

impl Drop for PooledBuffers {
    fn drop(&mut self) {
        let input = std::mem::take(&mut self.input);
        let output = std::mem::take(&mut self.output);
        if !input.is_empty() {
            self.pool.give_back(input, false);
        }
        if !output.is_empty() {
            self.pool.give_back(output, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_appended_consumed_and_compacted() {
        const IN: usize = MIN_TMP + 16;
        let pool = BufferPool::new(IN, 8, 4);
        let mut b = pool.buffers();
        assert!(b.input().is_empty());
        assert!(!b.can_use_input());
        let room = b.input_append_buf();
        assert_eq!(room.len(), IN);
        room[..5].copy_from_slice(b"hello");
        b.input_appended(5);
        assert_eq!(b.input(), b"hello");
        // nothing consumed yet: ureq reads more before parsing again
        assert!(!b.can_use_input());
        b.input_consume(2);
        assert_eq!(b.input(), b"llo");
        assert!(b.can_use_input());
        // appending moves the unread bytes to the front first
        let room = b.input_append_buf();
        assert_eq!(room.len(), IN - 3);
        room[..3].copy_from_slice(b"!!!");
        b.input_appended(3);
        assert_eq!(b.input(), b"llo!!!");
        b.input_consume(6);
        assert!(b.input().is_empty());
        assert!(!b.can_use_input());
        assert_eq!(b.input_append_buf().len(), IN);
        b.input_consume(0);
        assert!(!b.can_use_input());
        // the output buffer: its full size, written from 0
        assert_eq!(b.output().len(), 8);
        // scratch room: the input's free end, grown when unread input
        // leaves less than MIN_TMP of it
        let (tmp, out) = b.tmp_and_output();
        assert_eq!((tmp.len(), out.len()), (IN, 8));
        b.input_append_buf()[..20].copy_from_slice(&[7u8; 20]);
        b.input_appended(20);
        let (tmp, _) = b.tmp_and_output();
        assert_eq!(tmp.len(), MIN_TMP);
        assert_eq!(b.input(), &[7u8; 20]);
    }

    #[test]
    fn a_closed_connections_buffers_serve_the_next_one() {
        let pool = BufferPool::new(64, 32, 2);
        let (input, output) = {
            let mut b = pool.buffers();
            let output = b.output().as_ptr();
            let input = b.input_append_buf().as_ptr();
            (input, output)
        };
        assert_eq!(pool.idle(), (1, 1));
        let mut b = pool.buffers();
        assert_eq!(b.output().as_ptr(), output, "the same output buffer");
        assert_eq!(
            b.input_append_buf().as_ptr(),
            input,
            "the same input buffer"
        );
        assert_eq!(pool.idle(), (0, 0));
        // old bytes are never shown as input
        assert!(b.input().is_empty());
        drop(b);
        // unused buffers take nothing from the pool and give nothing back
        drop(pool.buffers());
        assert_eq!(pool.idle(), (1, 1));
        // at most `keep` of each are kept
        let mut open: Vec<PooledBuffers> = (0..4).map(|_| pool.buffers()).collect();
        for b in &mut open {
            b.output();
        }
        drop(open);
        assert_eq!(pool.idle(), (2, 2));
        // a buffer grown beyond the pool's size is not kept
        let mut b = pool.buffers();
        b.input_append_buf().copy_from_slice(&[1u8; 64]);
        b.input_appended(64);
        let _ = b.tmp_and_output();
        drop(b);
        assert_eq!(pool.idle(), (1, 2));
    }
}
