//! Content hashes the service reports: quickXorHash (every drive), SHA-1
//! and SHA-256 (OneDrive Personal), computed while a file is read.

use ring::digest;

/// OneDrive's quickXorHash: a 160-bit XOR of the bytes, each byte shifted
/// 11 bits further than the one before (wrapping), then the length XORed
/// into the last 64 bits (little-endian), base64-encoded.
///
/// Since 160 × 11 is a multiple of 160, byte `i` and byte `i + 160` land at
/// the same bit position: the bytes are first XORed into 160 lanes (a
/// plain, vectorizable XOR), and spread to their bit positions only once,
/// in [`QuickXor::finish`].
#[derive(Clone)]
pub struct QuickXor {
    lanes: [u8; LANES],
    pos: usize,
    len: u64,
}

const WIDTH_BITS: usize = 160;
const SHIFT: usize = 11;
const LANES: usize = 160;

impl Default for QuickXor {
    fn default() -> Self {
        QuickXor {
            lanes: [0; LANES],
            pos: 0,
            len: 0,
        }
    }
}

impl QuickXor {
    pub fn new() -> QuickXor {
        QuickXor::default()
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.len = self.len.wrapping_add(data.len() as u64);
        // Up to the next lane boundary, byte by byte.
        while self.pos != 0 && !data.is_empty() {
            self.lanes[self.pos] ^= data[0];
            self.pos = (self.pos + 1) % LANES;
            data = &data[1..];
        }
        // Whole blocks of 160 bytes, XORed 8 bytes at a time, the 20 words
        // written out: this crate is built at opt-level "s" (Cargo.toml),
        // where the compiler keeps a loop a loop; the straight line runs at
        // 0.05 s per GiB, the byte loop at 0.8 and a word loop at 0.2
        // (measured here, cache-resident data).
        let mut blocks = data.chunks_exact(LANES);
        let mut words = [0u64; LANES / 8];
        for (w, c) in words.iter_mut().zip(self.lanes.chunks_exact(8)) {
            *w = u64::from_ne_bytes(c.try_into().expect("8 bytes"));
        }
        macro_rules! xor_words {
            ($block:ident: $($i:literal)*) => {
                $(words[$i] ^= u64::from_ne_bytes(
                    $block[$i * 8..$i * 8 + 8].try_into().expect("8 bytes"),
                );)*
            };
        }
        for block in &mut blocks {
            let block: &[u8; LANES] = block.try_into().expect("a whole block");
            xor_words!(block: 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19);
        }
        for (c, w) in self.lanes.chunks_exact_mut(8).zip(words) {
            c.copy_from_slice(&w.to_ne_bytes());
        }
        // The tail.
        for &b in blocks.remainder() {
            self.lanes[self.pos] ^= b;
            self.pos += 1;
        }
    }

    /// The 20 raw bytes of the hash.
    pub fn finish_bytes(&self) -> [u8; 20] {
        let mut cells = [0u64; 3]; // 160 bits in 64-bit cells; the last holds 32
        for (i, &b) in self.lanes.iter().enumerate() {
            let bit = (i * SHIFT) % WIDTH_BITS;
            let (cell, off) = (bit / 64, bit % 64);
            let cell_bits = if cell == 2 { 32 } else { 64 };
            cells[cell] ^= u64::from(b) << off;
            if off + 8 > cell_bits {
                // The byte spills into the next cell (wrapping to the first).
                let next = (cell + 1) % 3;
                cells[next] ^= u64::from(b) >> (cell_bits - off);
            }
        }
        cells[2] &= 0xFFFF_FFFF;
        let mut out = [0u8; 20];
        out[..8].copy_from_slice(&cells[0].to_le_bytes());
        out[8..16].copy_from_slice(&cells[1].to_le_bytes());
        out[16..].copy_from_slice(&cells[2].to_le_bytes()[..4]);
        for (o, l) in out[12..].iter_mut().zip(self.len.to_le_bytes()) {
            *o ^= l;
        }
        out
    }

    /// The hash as the service reports it (base64).
    pub fn finish(&self) -> String {
        base64(&self.finish_bytes())
    }
}

/// quickXorHash of a whole buffer.
pub fn quick_xor_hash(data: &[u8]) -> String {
    let mut h = QuickXor::new();
    h.update(data);
    h.finish()
}

/// Which hashes to compute while uploading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashSet {
    pub sha1: bool,
    pub sha256: bool,
}

/// The hashes of a stream, fed in order.
#[derive(Clone)]
pub struct Hashes {
    quick_xor: QuickXor,
    sha1: Option<digest::Context>,
    sha256: Option<digest::Context>,
}

/// The finished hashes, in the service's spelling (base64 for quickXorHash,
/// upper-case hex for the SHA digests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub quick_xor: String,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
}

impl Hashes {
    pub fn new(set: HashSet) -> Hashes {
        Hashes {
            quick_xor: QuickXor::new(),
            sha1: set
                .sha1
                .then(|| digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY)),
            sha256: set.sha256.then(|| digest::Context::new(&digest::SHA256)),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        self.quick_xor.update(data);
        if let Some(h) = &mut self.sha1 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha256 {
            h.update(data);
        }
    }

    pub fn finish(self) -> Digests {
        let hex = |c: digest::Context| {
            c.finish()
                .as_ref()
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<String>()
        };
        Digests {
            quick_xor: self.quick_xor.finish(),
            sha1: self.sha1.map(hex),
            sha256: self.sha256.map(hex),
        }
    }
}

pub(crate) fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode64(s: &str) -> Vec<u8> {
        let mut bits = 0u32;
        let mut n = 0;
        let mut out = Vec::new();
        for c in s.bytes().filter(|&c| c != b'=') {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                _ => panic!("bad base64"),
            };
            bits = (bits << 6) | u32::from(v);
            n += 6;
            if n >= 8 {
                n -= 8;
                out.push((bits >> n) as u8);
            }
        }
        out
    }

    /// The straightforward definition, bit by bit, to check the fast one.
    fn reference(data: &[u8]) -> [u8; 20] {
        let mut bits = [false; 160];
        for (i, &b) in data.iter().enumerate() {
            let start = (i * 11) % 160;
            for k in 0..8 {
                if b >> k & 1 == 1 {
                    let p = (start + k) % 160;
                    bits[p] = !bits[p];
                }
            }
        }
        let mut out = [0u8; 20];
        for (p, &set) in bits.iter().enumerate() {
            if set {
                out[p / 8] |= 1 << (p % 8);
            }
        }
        for (o, l) in out[12..].iter_mut().zip((data.len() as u64).to_le_bytes()) {
            *o ^= l;
        }
        out
    }

    #[test]
    fn published_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/quickxorhash_vectors.json"
        );
        let text = std::fs::read_to_string(path).expect("testdata/quickxorhash_vectors.json");
        let vectors: serde_json::Value = serde_json::from_str(&text).unwrap();
        let vectors = vectors.as_array().unwrap();
        assert!(vectors.len() >= 10);
        for v in vectors {
            let input = decode64(v["input_base64"].as_str().unwrap());
            assert_eq!(input.len() as u64, v["size"].as_u64().unwrap());
            let want = v["quickXorHash"].as_str().unwrap();
            assert_eq!(quick_xor_hash(&input), want, "size {}", input.len());
            // fed in odd pieces too
            let mut h = QuickXor::new();
            for piece in input.chunks(7) {
                h.update(piece);
            }
            assert_eq!(h.finish(), want);
        }
    }

    #[test]
    fn fast_equals_reference() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let data: Vec<u8> = (0..5000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for n in [
            0, 1, 2, 19, 20, 21, 159, 160, 161, 319, 320, 321, 1000, 5000,
        ] {
            let mut h = QuickXor::new();
            let (a, b) = data[..n].split_at(n / 3);
            h.update(a);
            h.update(b);
            assert_eq!(h.finish_bytes(), reference(&data[..n]), "n = {n}");
        }
    }

    #[test]
    fn sha_digests_in_the_services_spelling() {
        let mut h = Hashes::new(HashSet {
            sha1: true,
            sha256: true,
        });
        h.update(b"abc");
        let d = h.finish();
        assert_eq!(
            d.sha1.as_deref(),
            Some("A9993E364706816ABA3E25717850C26C9CD0D89D")
        );
        assert_eq!(
            d.sha256.as_deref(),
            Some("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")
        );
        let d = Hashes::new(HashSet {
            sha1: false,
            sha256: false,
        })
        .finish();
        assert_eq!((d.sha1, d.sha256), (None, None));
        assert_eq!(d.quick_xor, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    }

    #[test]
    fn base64_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
    }
}
