//! A minimal DER TLV reader for sniffing and for the few structures no crate here parses
//! (PKCS#7 certificate sets, DSA parameters, container magic). Hand-written: it is 60 lines,
//! and pulling a full ASN.1 framework in for it would cost more than it gives.

/// One DER element: tag byte, contents, and the whole encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub raw: &'a [u8],
}

/// Reads one element from the start of `data`; returns it and the rest.
pub fn read(data: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let tag = *data.first()?;
    if tag & 0x1f == 0x1f {
        return None; // high tag numbers do not occur in what we read
    }
    let first = *data.get(1)?;
    let (len, hdr) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None; // indefinite length is BER, not DER
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *data.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    if end > data.len() {
        return None;
    }
    Some((
        Tlv {
            tag,
            content: &data[hdr..end],
            raw: &data[..end],
        },
        &data[end..],
    ))
}

/// Iterates over the elements of a constructed value's contents.
pub fn children(content: &[u8]) -> impl Iterator<Item = Tlv<'_>> + '_ {
    let mut rest = content;
    std::iter::from_fn(move || {
        let (t, r) = read(rest)?;
        rest = r;
        Some(t)
    })
}

/// Size in bits of an unsigned INTEGER's contents (leading zero octets ignored).
pub fn integer_bits(content: &[u8]) -> u32 {
    let s = match content.iter().position(|&b| b != 0) {
        Some(i) => &content[i..],
        None => return 0,
    };
    (s.len() as u32 - 1) * 8 + (8 - s[0].leading_zeros())
}

/// True when `data` is exactly one DER SEQUENCE (no trailing bytes other than padding).
pub fn is_single_sequence(data: &[u8]) -> bool {
    matches!(read(data), Some((t, rest)) if t.tag == 0x30 && rest.iter().all(|&b| b == 0 || b == b'\n' || b == b'\r'))
}

/// What a file that starts like a DER container but is not one whole SEQUENCE looks like:
/// "PKCS#12 keystore" (`SEQUENCE { INTEGER 3, SEQUENCE { OID pkcs7-data ...`) or "DER
/// certificate" (`SEQUENCE { SEQUENCE { [0] { INTEGER v } ...`: a v2/v3 certificate; CRLs
/// and requests start otherwise), judged from its first bytes only. `None` for anything
/// else (most files starting with `0`).
pub fn container_shape(data: &[u8]) -> Option<&'static str> {
    const OID_DATA: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
    ];
    let (hdr, _) = header(data)?;
    if data.first() != Some(&0x30) {
        return None;
    }
    let inner = &data[hdr..];
    if inner.starts_with(&[0x02, 0x01, 0x03]) {
        let (h2, _) = header(&inner[3..]).filter(|_| inner.get(3) == Some(&0x30))?;
        return inner[3 + h2..]
            .starts_with(OID_DATA)
            .then_some("PKCS#12 keystore");
    }
    if inner.first() == Some(&0x30) {
        let (h2, _) = header(inner)?;
        let tbs = &inner[h2..];
        if tbs.starts_with(&[0xa0, 0x03, 0x02, 0x01]) {
            return Some("DER certificate");
        }
    }
    None
}

/// The header length and declared content length of the element at the start of `data`,
/// whether or not the contents are all there.
pub fn header(data: &[u8]) -> Option<(usize, usize)> {
    let first = *data.get(1)?;
    if first < 0x80 {
        return Some((2, first as usize));
    }
    let n = (first & 0x7f) as usize;
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | *data.get(2 + i)? as usize;
    }
    Some((2 + n, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        let (t, rest) = read(&[0x02, 0x01, 0x05, 0xff]).unwrap();
        assert_eq!((t.tag, t.content, rest), (0x02, &[5u8][..], &[0xffu8][..]));
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7u8, 128));
        assert_eq!(read(&long).unwrap().0.content.len(), 128);
        assert!(read(&[0x30, 0x82, 0xff]).is_none());
        assert!(read(&[0x30, 0x05, 0x00]).is_none());
    }

    #[test]
    fn integer_bits_ignores_leading_zero() {
        assert_eq!(integer_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(integer_bits(&[0x01]), 1);
        assert_eq!(integer_bits(&[0x00]), 0);
    }
}
