//! CRC-32 (IEEE 802.3, the polynomial of zip and PNG), table-driven: the
//! check on every journal record, so a record cut short or half-written by
//! a power cut is told from a whole one.

/// Four tables (slicing by 4: four bytes a step, a quarter of the steps of
/// the byte-at-a-time loop): `T[0]` is the classic table, `T[k][i]` the CRC
/// of byte `i` followed by `k` zero bytes. 4 KiB, computed at compile time.
const fn tables() -> [[u32; 256]; 4] {
    let mut t = [[0u32; 256]; 4];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut i = 0;
    while i < 256 {
        let mut k = 1;
        while k < 4 {
            let prev = t[k - 1][i];
            t[k][i] = t[0][(prev & 0xFF) as usize] ^ (prev >> 8);
            k += 1;
        }
        i += 1;
    }
    t
}

static T: [[u32; 256]; 4] = tables();

/// The CRC-32 of `data`.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    crc32_parts(&[data])
}

/// The CRC-32 of `parts` one after the other (without joining them).
pub(crate) fn crc32_parts(parts: &[&[u8]]) -> u32 {
    let mut c = !0u32;
    for part in parts {
        let mut words = part.chunks_exact(4);
        for w in &mut words {
            let x = c ^ u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
            c = T[3][(x & 0xFF) as usize]
                ^ T[2][((x >> 8) & 0xFF) as usize]
                ^ T[1][((x >> 16) & 0xFF) as usize]
                ^ T[0][(x >> 24) as usize];
        }
        for &b in words.remainder() {
            c = T[0][((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
        }
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::{crc32, crc32_parts};

    #[test]
    fn parts_are_the_crc_of_their_concatenation() {
        let text = b"The quick brown fox jumps over the lazy dog";
        for cut in [0, 1, 17, text.len()] {
            let (a, b) = text.split_at(cut);
            assert_eq!(crc32_parts(&[a, b]), 0x414F_A339, "cut at {cut}");
        }
        assert_eq!(crc32_parts(&[]), 0);
    }

    /// The bitwise definition, for lengths around every multiple of 4.
    #[test]
    fn slicing_agrees_with_the_bitwise_crc() {
        fn bitwise(data: &[u8]) -> u32 {
            let mut c = !0u32;
            for &b in data {
                c ^= u32::from(b);
                for _ in 0..8 {
                    c = if c & 1 != 0 {
                        0xEDB8_8320 ^ (c >> 1)
                    } else {
                        c >> 1
                    };
                }
            }
            !c
        }
        let data: Vec<u8> = (0..300u32).map(|i| (i * 167 + 13) as u8).collect();
        for len in 0..data.len() {
            assert_eq!(crc32(&data[..len]), bitwise(&data[..len]), "length {len}");
            let (a, b) = data[..len].split_at(len / 3);
            assert_eq!(crc32_parts(&[a, b]), bitwise(&data[..len]), "split {len}");
        }
    }

    #[test]
    fn known_vectors() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"a"), 0xE8B7_BE43);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
        assert_eq!(crc32(&[0u8; 32]), 0x190A_55AD);
        assert_eq!(crc32(&[0xFFu8; 32]), 0xFF6C_AB0B);
    }
}
