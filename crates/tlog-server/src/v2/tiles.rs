//! C2SP tlog-tiles layout (c2sp.org/tlog-tiles): tile paths, entry bundles, and the hashes a
//! tile holds, computed from an in-memory tree of every complete subtree.
//!
//! ```text
//! checkpoint                         the newest signed checkpoint (a C2SP signed note)
//! tile/<L>/<N>[.p/<W>]               hash tile: W (256 when full) node hashes of height 8*L
//! tile/entries/<N>[.p/<W>]           entry bundle: W entries, each a big-endian uint16
//!                                    length then the entry bytes
//! ```
//!
//! `N` is written in groups of three digits, all but the last prefixed with `x`:
//! 1234067 is `x001/x234/067`.

use crate::tlog::Hash;
use cosign_tlog::merkle::MerkleTree;

/// Hashes (or entries) per full tile.
pub const TILE_WIDTH: u64 = 256;
/// Tree levels per tile level.
pub const TILE_HEIGHT: usize = 8;

/// The path element of tile index `n`: `x001/x234/067`.
pub fn path_element(n: u64) -> String {
    let digits = format!("{n}");
    let pad = (3 - digits.len() % 3) % 3;
    let padded = format!("{}{digits}", "0".repeat(pad));
    let groups: Vec<&str> = padded
        .as_bytes()
        .chunks(3)
        .map(|c| std::str::from_utf8(c).unwrap_or("000"))
        .collect();
    let last = groups.len() - 1;
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            if i == last {
                (*g).to_owned()
            } else {
                format!("x{g}")
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn with_width(mut path: String, width: u64) -> String {
    if width < TILE_WIDTH {
        path.push_str(&format!(".p/{width}"));
    }
    path
}

/// The path of the hash tile `(level, index)` holding `width` hashes.
pub fn hash_tile_path(level: usize, index: u64, width: u64) -> String {
    with_width(format!("tile/{level}/{}", path_element(index)), width)
}

/// The path of entry bundle `index` holding `width` entries.
pub fn entry_bundle_path(index: u64, width: u64) -> String {
    with_width(format!("tile/entries/{}", path_element(index)), width)
}

/// Whether `path` (relative, no leading `/`) is a well-formed tile or entry bundle path; the
/// server serves nothing else from the tile directory but `checkpoint`.
pub fn is_tile_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("tile/") else {
        return false;
    };
    let Some((level, rest)) = rest.split_once('/') else {
        return false;
    };
    let level_ok = level == "entries"
        || (!level.is_empty() && level.len() <= 2 && level.bytes().all(|b| b.is_ascii_digit()));
    if !level_ok {
        return false;
    }
    let (index, width) = match rest.split_once(".p/") {
        Some((i, w)) => (i, Some(w)),
        None => (rest, None),
    };
    if let Some(w) = width {
        match w.parse::<u64>() {
            Ok(n) if (1..TILE_WIDTH).contains(&n) && n.to_string() == w => {}
            _ => return false,
        }
    }
    let parts: Vec<&str> = index.split('/').collect();
    let last = parts.len() - 1;
    parts.iter().enumerate().all(|(i, p)| {
        let digits = if i == last {
            Some(*p)
        } else {
            p.strip_prefix('x')
        };
        digits.is_some_and(|d| d.len() == 3 && d.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// An entry bundle: each entry as a big-endian uint16 length then its bytes.
pub fn entry_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let len = u16::try_from(e.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&e[..usize::from(len)]);
    }
    out
}

#[cfg(test)]
/// Splits an entry bundle into its entries.
pub fn parse_entry_bundle(mut data: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if data.len() < 2 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([data[0], data[1]]));
        let entry = data.get(2..2 + len)?;
        out.push(entry);
        data = &data[2 + len..];
    }
    Some(out)
}

/// Every complete, aligned subtree of the log (kept by the tile publisher, behind the log's own
/// tree): level `8 * L` is what the hash tiles of level `L` hold.
#[derive(Debug, Default)]
pub struct Subtrees {
    tree: MerkleTree,
}

impl Subtrees {
    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        self.tree.push(leaf);
    }

    /// The complete nodes of height `8 * tile_level`.
    pub fn tile_level(&self, tile_level: usize) -> &[Hash] {
        self.tree.level(tile_level * TILE_HEIGHT)
    }

    /// The bytes of hash tile `(level, index)` with `width` hashes.
    pub fn hash_tile(&self, level: usize, index: u64, width: u64) -> Vec<u8> {
        let nodes = self.tile_level(level);
        let start = usize::try_from(index * TILE_WIDTH).unwrap_or(usize::MAX);
        let end = start.saturating_add(usize::try_from(width).unwrap_or(0));
        nodes
            .get(start..end)
            .unwrap_or(&[])
            .iter()
            .flat_map(|h| h.iter().copied())
            .collect()
    }
}

/// The tiles (level, index, width) a tree of `new` leaves has that one of `old` leaves did not
/// (the tiles that grew), lowest level first.
pub fn grown_hash_tiles(old: u64, new: u64) -> Vec<(usize, u64, u64)> {
    let mut out = Vec::new();
    let mut level = 0;
    loop {
        let shift = TILE_HEIGHT * level;
        if shift >= 64 {
            break;
        }
        let (c0, c1) = (old >> shift, new >> shift);
        if c1 == 0 {
            break;
        }
        if c1 > c0 {
            for t in c0 / TILE_WIDTH..=(c1 - 1) / TILE_WIDTH {
                out.push((level, t, (c1 - t * TILE_WIDTH).min(TILE_WIDTH)));
            }
        }
        level += 1;
    }
    out
}

/// The entry bundles (index, width) that grew between sizes `old` and `new`.
pub fn grown_entry_bundles(old: u64, new: u64) -> Vec<(u64, u64)> {
    if new <= old {
        return Vec::new();
    }
    (old / TILE_WIDTH..=(new - 1) / TILE_WIDTH)
        .map(|b| (b, (new - b * TILE_WIDTH).min(TILE_WIDTH)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_elements() {
        assert_eq!(path_element(0), "000");
        assert_eq!(path_element(67), "067");
        assert_eq!(path_element(1000), "x001/000");
        assert_eq!(path_element(1_234_067), "x001/x234/067");
        assert_eq!(hash_tile_path(1, 1_234_067, 8), "tile/1/x001/x234/067.p/8");
        assert_eq!(entry_bundle_path(2, 256), "tile/entries/002");
        for p in [
            "tile/0/000",
            "tile/1/x001/x234/067.p/8",
            "tile/entries/002.p/255",
        ] {
            assert!(is_tile_path(p), "{p}");
        }
        for p in [
            "tile/0/00",
            "tile/0/../key",
            "tile/0/000.p/256",
            "tile/0/000.p/0",
            "tile/0/000.p/08",
            "tile/x/000",
            "tile/0/001/002",
            "checkpoint",
        ] {
            assert!(!is_tile_path(p), "{p}");
        }
    }

    #[test]
    fn bundles_round_trip() {
        let entries: Vec<&[u8]> = vec![b"a", b"", b"hello"];
        let b = entry_bundle(entries.iter().copied());
        assert_eq!(&b[..3], &[0, 1, b'a']);
        assert_eq!(parse_entry_bundle(&b).unwrap(), entries);
        assert!(parse_entry_bundle(&[0, 5, 1]).is_none());
    }

    #[test]
    fn grown_tiles() {
        assert_eq!(grown_hash_tiles(0, 1), vec![(0, 0, 1)]);
        assert_eq!(
            grown_hash_tiles(250, 260),
            vec![(0, 0, 256), (0, 1, 4), (1, 0, 1)]
        );
        assert_eq!(grown_hash_tiles(256, 257), vec![(0, 1, 1)]);
        assert_eq!(grown_entry_bundles(250, 260), vec![(0, 256), (1, 4)]);
        assert!(grown_entry_bundles(5, 5).is_empty());
    }

    #[test]
    fn tile_hashes_are_subtree_roots() {
        let mut s = Subtrees::default();
        let mut t = cosign_tlog::merkle::MerkleTree::new();
        for i in 0u32..600 {
            let leaf = cosign_tlog::merkle::leaf_hash(&i.to_be_bytes());
            s.push(leaf);
            t.push(leaf);
        }
        assert_eq!(s.tile_level(0).len(), 600);
        assert_eq!(s.tile_level(1).len(), 2);
        assert_eq!(s.tile_level(1)[0], t.root_at(256).unwrap());
        assert_eq!(s.hash_tile(0, 2, 88).len(), 88 * 32);
    }
}
