//! Storage of the Rekor v2 log in `DATA/v2/`:
//!
//! ```text
//! DATA/v2/signing-key.pem   the checkpoint key (PKCS#8 PEM, Ed25519 unless replaced before
//!                           the first start by an ECDSA one)
//! DATA/v2/entries.log       the entries, append-only: per entry a little-endian u32 length,
//!                           u32 CRC-32 of the bytes, then the bytes; one write and one
//!                           fdatasync per group commit
//! DATA/v2/tree-head.slots   the newest signed checkpoint with its size, root and entry log
//!                           offset (see `crate::head`), stored after each group commit's
//!                           fdatasync and before any of it is acknowledged; entries.log up to
//!                           that offset is acknowledged (damage there refuses to start), and
//!                           the log must hold its tree (no rollback, no fork)
//! DATA/v2/tiles/            the C2SP tlog-tiles read API as static files: checkpoint,
//!                           tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>]
//! ```
//!
//! Tiles and the checkpoint are written with a temporary file and a rename, so a reader never
//! sees half a file; they are derived from `entries.log`, and at start every tile is checked
//! against it and rewritten if missing or different (after a crash), then synced.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Largest entry stored (an entry bundle holds uint16 lengths).
pub const MAX_ENTRY: usize = u16::MAX as usize;

/// The append-only entry file.
#[derive(Debug)]
pub struct EntryFile {
    file: File,
    len: u64,
}

/// What opening the entry file found.
#[derive(Debug, Default)]
pub struct Opened {
    /// Every stored entry, in order.
    pub entries: Vec<Vec<u8>>,
    /// Bytes of a torn last frame that were cut off (never acknowledged).
    pub truncated: u64,
    /// How many entries end exactly at the acknowledged offset (`None` if no frame ends
    /// there: the file does not belong to the stored tree head).
    pub size_at_ack: Option<u64>,
}

/// The acknowledged part of the entry file, as the stored tree head states it.
#[derive(Debug, Clone, Copy)]
pub struct Acked<'a> {
    /// Where the acknowledged frames end (the stored head's `logOffset`; 0 for none).
    pub end: u64,
    /// What covers them, for messages: "the stored signed tree head X covers N entries, up
    /// to byte offset M".
    pub covered_by: &'a str,
}

/// What [`scan`] found in an entry file's bytes.
#[derive(Debug, Default)]
pub struct Scan<'a> {
    /// Every intact entry, in order.
    pub entries: Vec<&'a [u8]>,
    /// Where the intact frames end.
    pub intact_len: usize,
    /// How many entries end exactly at the acknowledged offset (see [`Opened::size_at_ack`]).
    pub size_at_ack: Option<u64>,
}

/// Why an entry file cannot be opened as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// Shorter than the acknowledged part: truncated or rolled back.
    Short {
        /// The file's length.
        len: usize,
    },
    /// A damaged frame inside the acknowledged part.
    Acknowledged {
        /// Where the frame starts.
        offset: usize,
        /// Its entry index.
        entry: usize,
    },
    /// A damaged frame after the acknowledged part that is not the last one.
    Middle {
        /// Where the frame starts.
        offset: usize,
        /// Its entry index.
        entry: usize,
    },
}

impl Damage {
    /// The refusal message for the file at `path`.
    pub fn message(&self, path: &Path, acked: Acked<'_>) -> String {
        let p = path.display();
        match self {
            Self::Short { len } => format!(
                "{p} ends at byte offset {len}, but {}: it was truncated or rolled back to an \
                 older copy. Refusing to serve or sign a smaller tree; the file was left \
                 untouched. Restore the newest {p} from a backup (tiles are rebuilt from it); \
                 `tlog-server check` verifies the result",
                acked.covered_by
            ),
            Self::Acknowledged { offset, entry } => format!(
                "{p} is damaged at byte offset {offset} (entry {entry}) inside the \
                 acknowledged log ({}). A crash cannot cause this, so nothing was repaired and \
                 the file was left untouched; refusing to start. Restore it from a backup; \
                 `tlog-server check` verifies the result",
                acked.covered_by
            ),
            Self::Middle { offset, entry } => format!(
                "{p} is damaged at byte offset {offset} (entry {entry}), before its end: \
                 refusing to start; the file was left untouched. Restore it from a backup; \
                 `tlog-server check` verifies the result"
            ),
        }
    }
}

/// Reads the frames of an entry file's bytes, changing nothing. Every frame up to `ack_end`
/// must be intact and one must end there; after it, only a torn or corrupt *last* frame
/// (the group commit a crash interrupted) may follow the intact frames
/// ([`Scan::intact_len`] `< data.len()`).
pub fn scan(data: &[u8], ack_end: usize) -> Result<Scan<'_>, Damage> {
    if data.len() < ack_end {
        return Err(Damage::Short { len: data.len() });
    }
    let mut scan = Scan {
        size_at_ack: (ack_end == 0).then_some(0),
        ..Scan::default()
    };
    let mut pos = 0usize;
    while pos < data.len() {
        let frame = data.get(pos..pos + 8).map(|h| {
            let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
            let crc = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
            (len, crc)
        });
        let good = frame.and_then(|(len, crc)| {
            let body = data.get(pos + 8..pos + 8 + len)?;
            // No entry is empty: a zeroed header (crc32 of nothing is 0) is damage.
            (len > 0 && len <= MAX_ENTRY && crc32fast::hash(body) == crc).then_some(body)
        });
        let Some(body) = good else {
            let entry = scan.entries.len();
            if pos < ack_end {
                return Err(Damage::Acknowledged { offset: pos, entry });
            }
            // Only a torn tail can be repaired: the frame must reach the end of file.
            let reaches_end = frame.is_none_or(|(len, _)| pos + 8 + len >= data.len());
            if !reaches_end || data.len() - pos > 8 + MAX_ENTRY {
                return Err(Damage::Middle { offset: pos, entry });
            }
            break;
        };
        scan.entries.push(body);
        pos += 8 + body.len();
        if pos == ack_end {
            scan.size_at_ack = Some(scan.entries.len() as u64);
        }
    }
    scan.intact_len = pos;
    Ok(scan)
}

impl EntryFile {
    /// Opens (creating) `path`. Every frame up to `acked.end` must be intact and present;
    /// after it, a torn or corrupt *last* frame (an interrupted group commit, never
    /// acknowledged) is cut off. Damage anywhere else, or a file shorter than `acked.end` (a
    /// rollback), refuses to start and leaves the file untouched.
    pub fn open(path: &Path, acked: Acked<'_>) -> Result<(Self, Opened)> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        let ack_end = usize::try_from(acked.end)?;
        let found = match scan(&data, ack_end) {
            Ok(s) => s,
            Err(d) => bail!("{}", d.message(path, acked)),
        };
        let pos = found.intact_len;
        let opened = Opened {
            entries: found.entries.iter().map(|e| e.to_vec()).collect(),
            truncated: (data.len() - pos) as u64,
            size_at_ack: found.size_at_ack,
        };
        if pos < data.len() {
            file.set_len(pos as u64)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::End(0))?;
        Ok((
            Self {
                file,
                len: pos as u64,
            },
            opened,
        ))
    }

    /// The file's length (where the next frame goes).
    pub fn end(&self) -> u64 {
        self.len
    }

    /// Appends `entries` with one write and one `fdatasync`.
    #[cfg(test)]
    pub fn append(&mut self, entries: &[&[u8]]) -> std::io::Result<()> {
        self.write(entries)?;
        self.file.sync_data()
    }

    /// Appends `entries` with one write, not yet synced (see [`EntryFile::sync`]); on error
    /// the file is cut back so no partial batch stays behind.
    pub fn write(&mut self, entries: &[&[u8]]) -> std::io::Result<()> {
        let mut buf = Vec::with_capacity(entries.iter().map(|e| e.len() + 8).sum());
        for e in entries {
            buf.extend_from_slice(&(e.len() as u32).to_le_bytes());
            buf.extend_from_slice(&crc32fast::hash(e).to_le_bytes());
            buf.extend_from_slice(e);
        }
        if let Err(e) = self.file.write_all(&buf) {
            let _ = self.file.set_len(self.len);
            return Err(e);
        }
        self.len += buf.len() as u64;
        Ok(())
    }

    /// `fdatasync`s what was written.
    pub fn sync(&self) -> std::io::Result<()> {
        self.file.sync_data()
    }
}

/// Writes tile files atomically under the tile directory.
#[derive(Debug)]
pub struct TileDir {
    root: PathBuf,
    made: HashSet<PathBuf>,
    seq: u64,
}

impl TileDir {
    /// The tile directory `root` (created).
    pub fn new(root: PathBuf) -> Result<Self> {
        std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
        Ok(Self {
            root,
            made: HashSet::new(),
            seq: 0,
        })
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes `rel` (a tile path or `checkpoint`) with a temporary file and a rename;
    /// `sync` also fsyncs the file and its directory.
    pub fn write(&mut self, rel: &str, data: &[u8], sync: bool) -> std::io::Result<()> {
        let path = self.root.join(rel);
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        if !self.made.contains(&dir) {
            std::fs::create_dir_all(&dir)?;
            self.made.insert(dir.clone());
        }
        self.seq += 1;
        let tmp = dir.join(format!(".tmp-{}", self.seq));
        let mut f = File::create(&tmp)?;
        f.write_all(data)?;
        if sync {
            f.sync_data()?;
        }
        drop(f);
        std::fs::rename(&tmp, &path)?;
        if sync {
            File::open(&dir)?.sync_all()?;
        }
        Ok(())
    }

    /// Writes `rel` unless it already holds exactly `data`; returns whether it wrote.
    pub fn ensure(&mut self, rel: &str, data: &[u8]) -> std::io::Result<bool> {
        match std::fs::read(self.root.join(rel)) {
            Ok(existing) if existing == data => Ok(false),
            _ => self.write(rel, data, true).map(|()| true),
        }
    }

    /// Removes the partial tiles of a tile now full (`rel` is the full tile's path).
    pub fn drop_partials(&mut self, rel: &str) {
        let dir = self.root.join(format!("{rel}.p"));
        self.made.remove(&dir);
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: Acked<'static> = Acked {
        end: 0,
        covered_by: "",
    };

    #[test]
    fn torn_tail_is_cut_and_damage_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entries.log");
        let (mut f, o) = EntryFile::open(&path, NONE).unwrap();
        assert!(o.entries.is_empty());
        f.append(&[b"one", b"two"]).unwrap();
        f.append(&[b"three"]).unwrap();
        assert_eq!(f.end(), 35);
        drop(f);
        let full = std::fs::read(&path).unwrap();
        // Torn tail.
        std::fs::write(&path, &full[..full.len() - 2]).unwrap();
        let (_, o) = EntryFile::open(&path, NONE).unwrap();
        assert_eq!(o.entries, vec![b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(o.truncated, 11);
        // Damage in the middle.
        let mut bad = full.clone();
        bad[9] ^= 1;
        std::fs::write(&path, &bad).unwrap();
        let e = EntryFile::open(&path, NONE).unwrap_err().to_string();
        assert!(e.contains("offset 0"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), bad);
    }

    #[test]
    fn the_acknowledged_part_must_be_whole_and_end_on_a_frame() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entries.log");
        let (mut f, _) = EntryFile::open(&path, NONE).unwrap();
        f.append(&[b"one", b"two"]).unwrap();
        f.append(&[b"three"]).unwrap();
        drop(f);
        let full = std::fs::read(&path).unwrap();
        let acked = |end| Acked {
            end,
            covered_by: "the head covers it",
        };
        let (_, o) = EntryFile::open(&path, acked(22)).unwrap();
        assert_eq!((o.entries.len(), o.size_at_ack), (3, Some(2)));
        let (_, o) = EntryFile::open(&path, acked(20)).unwrap();
        assert_eq!(o.size_at_ack, None);
        // A damaged last frame inside the acknowledged part is refused, not cut as a torn
        // tail; after it, it is cut.
        let mut bad = full.clone();
        bad[33] ^= 1;
        std::fs::write(&path, &bad).unwrap();
        let e = format!("{:#}", EntryFile::open(&path, acked(35)).unwrap_err());
        assert!(
            e.contains("offset 22") && e.contains("inside the acknowledged"),
            "{e}"
        );
        assert!(e.contains("the head covers it"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), bad);
        let (_, o) = EntryFile::open(&path, acked(22)).unwrap();
        assert_eq!((o.entries.len(), o.truncated), (2, 13));
        // A shorter file: a rollback, refused, the file untouched.
        std::fs::write(&path, &full[..22]).unwrap();
        let e = format!("{:#}", EntryFile::open(&path, acked(35)).unwrap_err());
        assert!(e.contains("rolled back") && e.contains("offset 22"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), &full[..22]);
    }
}
