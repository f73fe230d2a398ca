//! Content hashes reported in `file.hashes`: quickXorHash (OneDrive's own), SHA-1 and SHA-256.

use base64::Engine as _;
use sha1::Digest as _;

/// Streaming quickXorHash: a 160-bit value where byte number `k` of the input is
/// XORed in at bit offset `(k * 11) mod 160` (wrapping), and the total length is
/// XORed, little-endian, into the last 8 bytes.
#[derive(Clone)]
pub struct QuickXorHash {
    /// XOR of the input bytes per position modulo 160: every 160 bytes the shift pattern repeats.
    lanes: [u8; 160],
    length: u64,
}

impl Default for QuickXorHash {
    fn default() -> Self {
        Self::new()
    }
}

impl QuickXorHash {
    const WIDTH_BITS: usize = 160;
    const SHIFT: usize = 11;

    pub fn new() -> Self {
        QuickXorHash {
            lanes: [0; 160],
            length: 0,
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        let lane = (self.length % 160) as usize;
        self.length += data.len() as u64;
        // Up to the next 160-byte boundary byte by byte, then whole blocks a word at a
        // time (the lanes of a block line up with the block), then the tail.
        let head = ((160 - lane) % 160).min(data.len());
        let (first, rest) = data.split_at(head);
        for (l, &b) in self.lanes[lane..].iter_mut().zip(first) {
            *l ^= b;
        }
        let mut blocks = rest.chunks_exact(160);
        let mut words = [0u64; 20];
        for block in &mut blocks {
            for (w, c) in words.iter_mut().zip(block.chunks_exact(8)) {
                *w ^= u64::from_ne_bytes(c.try_into().expect("8 bytes"));
            }
        }
        for (w, lanes) in words.iter().zip(self.lanes.chunks_exact_mut(8)) {
            for (l, b) in lanes.iter_mut().zip(w.to_ne_bytes()) {
                *l ^= b;
            }
        }
        for (l, &b) in self.lanes.iter_mut().zip(blocks.remainder()) {
            *l ^= b;
        }
    }

    /// The 20 raw bytes of the hash.
    pub fn finalize(&self) -> [u8; 20] {
        let mut out = [0u8; 20];
        for (i, &v) in self.lanes.iter().enumerate() {
            if v == 0 {
                continue;
            }
            let pos = (i * Self::SHIFT) % Self::WIDTH_BITS;
            for bit in 0..8 {
                if (v >> bit) & 1 == 1 {
                    let n = (pos + bit) % Self::WIDTH_BITS;
                    out[n / 8] ^= 1 << (n % 8);
                }
            }
        }
        for (i, b) in self.length.to_le_bytes().iter().enumerate() {
            out[12 + i] ^= b;
        }
        out
    }

    /// The hash as OneDrive reports it: standard base64.
    pub fn finalize_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.finalize())
    }
}

/// quickXorHash of `data`, base64-encoded as in `file.hashes.quickXorHash`.
pub fn quick_xor_hash(data: &[u8]) -> String {
    let mut h = QuickXorHash::new();
    h.update(data);
    h.finalize_base64()
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Hashes {
    pub quick_xor: String,
    pub sha1: String,
    pub sha256: String,
}

pub(crate) fn compute(data: &[u8]) -> Hashes {
    let mut h = Hasher::default();
    h.update(data);
    h.finish()
}

/// The three hashes of `file.hashes`, fed piece by piece (an upload session's fragments).
#[derive(Clone, Default)]
pub(crate) struct Hasher {
    quick_xor: QuickXorHash,
    sha1: sha1::Sha1,
    sha256: sha2::Sha256,
}

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        self.quick_xor.update(data);
        self.sha1.update(data);
        self.sha256.update(data);
    }

    pub fn finish(self) -> Hashes {
        Hashes {
            quick_xor: self.quick_xor.finalize_base64(),
            sha1: upper_hex(&self.sha1.finalize()),
            sha256: upper_hex(&self.sha256.finalize()),
        }
    }
}

fn upper_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02X}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/quickxorhash_vectors.json"
        );
        let text = std::fs::read_to_string(path).expect("read quickxorhash_vectors.json");
        let vectors: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        assert!(!vectors.is_empty());
        for v in &vectors {
            let input = base64::engine::general_purpose::STANDARD
                .decode(v["input_base64"].as_str().unwrap())
                .unwrap();
            assert_eq!(input.len() as u64, v["size"].as_u64().unwrap());
            let want = v["quickXorHash"].as_str().unwrap();
            assert_eq!(quick_xor_hash(&input), want, "size {}", input.len());
            // Streaming in odd pieces gives the same answer.
            let mut h = QuickXorHash::new();
            for chunk in input.chunks(7) {
                h.update(chunk);
            }
            assert_eq!(h.finalize_base64(), want);
        }
    }

    /// The word-at-a-time path agrees with the definition (byte k at lane k mod 160) for
    /// every split point and length around the block size.
    #[test]
    fn blocks_match_bytes() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let reference = |d: &[u8]| {
            let mut lanes = [0u8; 160];
            for (k, &b) in d.iter().enumerate() {
                lanes[k % 160] ^= b;
            }
            QuickXorHash {
                lanes,
                length: d.len() as u64,
            }
            .finalize()
        };
        for len in [0, 1, 159, 160, 161, 320, 479, 1000] {
            for split in [0, 1, 7, 160, 161, 333] {
                let d = &data[..len];
                let split = split.min(len);
                let mut h = QuickXorHash::new();
                h.update(&d[..split]);
                h.update(&d[split..]);
                assert_eq!(h.finalize(), reference(d), "len {len} split {split}");
            }
        }
    }
}
