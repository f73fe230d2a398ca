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
        let mut lane = (self.length % 160) as usize;
        for &b in data {
            self.lanes[lane] ^= b;
            lane += 1;
            if lane == 160 {
                lane = 0;
            }
        }
        self.length += data.len() as u64;
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
    Hashes {
        quick_xor: quick_xor_hash(data),
        sha1: upper_hex(&sha1::Sha1::digest(data)),
        sha256: upper_hex(&sha2::Sha256::digest(data)),
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
}
