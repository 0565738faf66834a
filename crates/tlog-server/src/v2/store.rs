//! Storage of the Rekor v2 log in `DATA/v2/`:
//!
//! ```text
//! DATA/v2/signing-key.pem   the checkpoint key (PKCS#8 PEM, Ed25519 unless replaced before
//!                           the first start by an ECDSA one)
//! DATA/v2/entries.log       the entries, append-only: per entry a little-endian u32 length,
//!                           u32 CRC-32 of the bytes, then the bytes; one write and one
//!                           fdatasync per group commit (the acknowledgement point)
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
}

impl EntryFile {
    /// Opens (creating) `path`. A torn or corrupt *last* frame (an interrupted group commit)
    /// is cut off; damage anywhere before it refuses to start.
    pub fn open(path: &Path) -> Result<(Self, Opened)> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        let mut opened = Opened::default();
        let mut pos = 0usize;
        while pos < data.len() {
            let frame = data.get(pos..pos + 8).map(|h| {
                let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
                let crc = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
                (len, crc)
            });
            let good = frame.and_then(|(len, crc)| {
                let body = data.get(pos + 8..pos + 8 + len)?;
                (len <= MAX_ENTRY && crc32fast::hash(body) == crc).then_some(body)
            });
            match good {
                Some(body) => {
                    opened.entries.push(body.to_vec());
                    pos += 8 + body.len();
                }
                None => {
                    // Only a torn tail can be repaired: the frame must reach the end of file.
                    let reaches_end = frame.is_none_or(|(len, _)| pos + 8 + len >= data.len());
                    if !reaches_end || data.len() - pos > 8 + MAX_ENTRY {
                        bail!(
                            "{} is damaged at byte offset {pos} (entry {}), before its end: \
                             refusing to start; restore it from a backup (the file is untouched)",
                            path.display(),
                            opened.entries.len()
                        );
                    }
                    opened.truncated = (data.len() - pos) as u64;
                    file.set_len(pos as u64)?;
                    file.sync_all()?;
                    break;
                }
            }
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

    #[test]
    fn torn_tail_is_cut_and_damage_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entries.log");
        let (mut f, o) = EntryFile::open(&path).unwrap();
        assert!(o.entries.is_empty());
        f.append(&[b"one", b"two"]).unwrap();
        f.append(&[b"three"]).unwrap();
        drop(f);
        let full = std::fs::read(&path).unwrap();
        // Torn tail.
        std::fs::write(&path, &full[..full.len() - 2]).unwrap();
        let (_, o) = EntryFile::open(&path).unwrap();
        assert_eq!(o.entries, vec![b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(o.truncated, 11);
        // Damage in the middle.
        let mut bad = full.clone();
        bad[9] ^= 1;
        std::fs::write(&path, &bad).unwrap();
        let e = EntryFile::open(&path).unwrap_err().to_string();
        assert!(e.contains("offset 0"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), bad);
    }
}
