//! CRC-32 (IEEE 802.3, the polynomial of zip and PNG), table-driven: the
//! check on every journal record, so a record cut short or half-written by
//! a power cut is told from a whole one.

const fn table() -> [u32; 256] {
    let mut t = [0u32; 256];
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
        t[i] = c;
        i += 1;
    }
    t
}

static TABLE: [u32; 256] = table();

/// The CRC-32 of `data`.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    crc32_parts(&[data])
}

/// The CRC-32 of `parts` one after the other (without joining them).
pub(crate) fn crc32_parts(parts: &[&[u8]]) -> u32 {
    let mut c = !0u32;
    for part in parts {
        for &b in *part {
            c = TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
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
