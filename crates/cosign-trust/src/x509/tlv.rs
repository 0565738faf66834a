//! A minimal DER tag-length-value splitter, for reaching the exact bytes a signature covers
//! (a certificate's TBS, CMS signed attributes, a TSTInfo) without re-encoding them.

/// One DER element.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    /// The identifier octet (single-byte tags only).
    pub tag: u8,
    /// The contents.
    pub value: &'a [u8],
    /// Header and contents.
    pub raw: &'a [u8],
}

/// Reads one element at the start of `input`; returns it and the rest.
pub(crate) fn next(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), String> {
    let (&tag, rest) = input.split_first().ok_or("truncated DER (no tag)")?;
    if tag & 0x1f == 0x1f {
        return Err("multi-byte DER tags are not supported".into());
    }
    let (&first, mut rest) = rest.split_first().ok_or("truncated DER (no length)")?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err("unsupported DER length".into());
        }
        if rest.len() < n {
            return Err("truncated DER length".into());
        }
        let (bytes, after) = rest.split_at(n);
        rest = after;
        let len = bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        if len < 0x80 || bytes.first() == Some(&0) {
            return Err("non-minimal DER length".into());
        }
        len
    };
    if rest.len() < len {
        return Err("truncated DER value".into());
    }
    let header = input.len() - rest.len();
    let (value, after) = rest.split_at(len);
    let raw = input.get(..header + len).ok_or("truncated DER")?;
    Ok((Tlv { tag, value, raw }, after))
}

/// Reads exactly one element (no trailing bytes).
pub(crate) fn single(input: &[u8]) -> Result<Tlv<'_>, String> {
    let (tlv, rest) = next(input)?;
    if !rest.is_empty() {
        return Err("trailing data after DER element".into());
    }
    Ok(tlv)
}

/// Splits the contents of a constructed element into its elements.
pub(crate) fn elements(mut input: &[u8]) -> Result<Vec<Tlv<'_>>, String> {
    let mut out = Vec::new();
    while !input.is_empty() {
        if out.len() >= 4096 {
            return Err("too many DER elements".into());
        }
        let (tlv, rest) = next(input)?;
        out.push(tlv);
        input = rest;
    }
    Ok(out)
}

/// Encodes a header for `tag` and `len` bytes of contents.
pub(crate) fn header(tag: u8, len: usize) -> Vec<u8> {
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = &bytes[skip..];
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_rejects() {
        let data = [0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xaa];
        let outer = single(&data).unwrap_or_else(|e| unreachable!("{e}"));
        let parts = elements(outer.value).unwrap_or_default();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].value, [0xaa]);
        assert!(single(&[0x30, 0x05, 0x00]).is_err());
        assert!(single(&[0x30, 0x81, 0x05, 0, 0, 0, 0, 0]).is_err());
        assert!(single(&[0x30, 0x00, 0x00]).is_err());
        assert_eq!(header(0x31, 300), [0x31, 0x82, 0x01, 0x2c]);
        assert_eq!(header(0x31, 5), [0x31, 0x05]);
    }
}
