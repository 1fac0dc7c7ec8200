//! Hex encoding of digests, key material and signatures, in one place for
//! every TUF module (metadata writes lower case; comparisons accept either).

use std::fmt::Write as _;

/// Lower-case hex of `bytes`.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Lower- or upper-case hex to bytes; `None` for odd length or a non-hex
/// character.
pub(crate) fn decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    s.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let hi = char::from(*pair.first()?).to_digit(16)?;
            let lo = char::from(*pair.get(1)?).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

/// Whether `bytes` written in hex is `want` (either case).
pub(crate) fn eq(bytes: &[u8], want: &str) -> bool {
    want.len() == bytes.len().saturating_mul(2) && encode(bytes).eq_ignore_ascii_case(want)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_case() {
        assert_eq!(encode(&[0, 255, 160]), "00ffa0");
        assert_eq!(decode("00ffA0"), Some(vec![0, 255, 160]));
        assert_eq!(decode("0"), None);
        assert_eq!(decode("+1"), None);
        assert_eq!(decode("éé"), None);
        assert!(eq(&[0xab, 0x01], "ab01"));
        assert!(eq(&[0xab, 0x01], "AB01"));
        assert!(!eq(&[0xab, 0x01], "ab02"));
        assert!(!eq(&[0xab, 0x01], "ab0"));
        assert!(!eq(&[0xab], "zz"));
    }
}
