//! A checkpoint as Rekor's Go `util.SignedCheckpoint.UnmarshalText` reads it (what Go cosign
//! prints from): laxer than `cosign_tlog::checkpoint::parse_note`, which verification uses
//! (any base64 root hash, text after a blank line ignored, signature lines scanned with
//! `fmt.Fscanf`), so both print the same for every checkpoint.

/// What `bundle inspect` prints of a checkpoint.
#[derive(Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub other: Vec<String>,
    /// Each signature's name and length (key hint excluded).
    pub signatures: Vec<(String, usize)>,
}

/// `bufio.Scanner`'s longest line.
const MAX_LINE: usize = 64 * 1024 - 1;

/// Parses a signed note holding a checkpoint; None where Go's parser fails.
pub fn parse(envelope: &str) -> Option<Checkpoint> {
    // The signatures follow the last blank line and end with a newline.
    let split = envelope.rfind("\n\n")?;
    let text = &envelope[..split + 1];
    let block = &envelope[split + 2..];
    if !block.ends_with('\n') {
        return None;
    }
    let mut signatures = Vec::new();
    for line in block[..block.len() - 1].split('\n') {
        // The scanner stops (without an error) at a line too long for it.
        if line.len() > MAX_LINE {
            break;
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        let (name, b64) = scan_signature_line(line)?;
        let sig = super::std_base64(b64)?;
        if sig.len() < 5 {
            return None;
        }
        signatures.push((name.to_owned(), sig.len() - 4));
    }
    if signatures.is_empty() {
        return None;
    }

    let lines: Vec<&str> = text.split('\n').collect();
    if lines.len() < 4 || lines[0].is_empty() {
        return None;
    }
    let size_line = lines[1];
    if size_line.is_empty() || !size_line.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let size = size_line.parse().ok()?;
    super::std_base64(lines[2])?;
    let other = lines[3..]
        .iter()
        .take_while(|l| !l.is_empty())
        .map(|l| (*l).to_owned())
        .collect();
    Some(Checkpoint {
        origin: lines[0].to_owned(),
        size,
        other,
        signatures,
    })
}

/// The spaces of Go's `fmt` scanning.
fn fmt_space(c: char) -> bool {
    matches!(
        c as u32,
        0x09..=0x0d
            | 0x20
            | 0x85
            | 0xa0
            | 0x1680
            | 0x2000..=0x200a
            | 0x2028
            | 0x2029
            | 0x202f
            | 0x205f
            | 0x3000
    )
}

/// `fmt.Fscanf(line, "\u2014 %s %s\n", &name, &signature)`: the em dash, one or more spaces,
/// a word, one or more spaces, a word, then only spaces.
fn scan_signature_line(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('\u{2014}')?;
    let word = |rest: &str| -> Option<(usize, usize)> {
        // At least one space before the word, then the word up to the next space.
        if !rest.starts_with(fmt_space) {
            return None;
        }
        let start = rest.len() - rest.trim_start_matches(fmt_space).len();
        let len = rest[start..].find(fmt_space).unwrap_or(rest.len() - start);
        (len > 0).then_some((start, start + len))
    };
    let (s, e) = word(rest)?;
    let name = &rest[s..e];
    let rest = &rest[e..];
    let (s, e) = word(rest)?;
    let sig = &rest[s..e];
    rest[e..]
        .trim_start_matches(fmt_space)
        .is_empty()
        .then_some((name, sig))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_as_rekor_reads_them() {
        let note =
            "log - 1\n42\nAAAA\nTimestamp: 1\n\n\u{2014} log AAAAAAA=\n\u{2014}  w\tAAAAAAAA \n";
        assert_eq!(
            parse(note),
            Some(Checkpoint {
                origin: "log - 1".into(),
                size: 42,
                other: vec!["Timestamp: 1".into()],
                signatures: vec![("log".into(), 1), ("w".into(), 2)],
            })
        );
        for bad in [
            "log\n42\nAAAA\n\n\u{2014}log AAAAAAA=\n",
            "log\n42\nAAAA\n\n\u{2014} log AAAAAAA= x\n",
            "log\n42\nAAAA\n\n\u{2014} log AAAA\n",
            "log\n+42\nAAAA\n\n\u{2014} log AAAAAAA=\n",
            "log\n42\nAAA\n\n\u{2014} log AAAAAAA=\n",
            "\n42\nAAAA\n\n\u{2014} log AAAAAAA=\n",
            "log\n42\nAAAA\n\n\u{2014} log AAAAAAA=",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        // Other lines stop at a blank line.
        let note = "log\n1\nAAAA\n\nmore\n\n\u{2014} log AAAAAAA=\n";
        assert_eq!(parse(note).map(|c| c.other.len()), Some(0));
    }
}
