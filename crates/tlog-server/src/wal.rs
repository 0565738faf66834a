//! The append-only entry log file: framing, recovery and durable group appends.
//!
//! Layout: the 8-byte magic `TLOGWAL1`, then one frame per entry:
//!
//! ```text
//! body length (u32 LE) | CRC-32 of the rest (u32 LE) | integrated time (i64 LE) | body
//! ```
//!
//! Frames are only ever appended. A batch is written with one `write` and made durable with one
//! `fdatasync`; nothing in it is acknowledged before that returns. On open, frames are read and
//! checked in order; the first torn or corrupt frame and everything after it is cut off (only
//! an unacknowledged batch can be torn, since a batch is written only after the previous one
//! was synced).

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The file's first eight bytes.
pub const MAGIC: &[u8; 8] = b"TLOGWAL1";
/// The size of a frame header: length, CRC and integrated time.
pub const FRAME_HEADER: u64 = 16;
/// The largest body a frame may hold; larger lengths are treated as corruption.
pub const MAX_BODY: usize = 4 << 20;

/// Where a body lives in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyLocation {
    /// Offset of the first body byte.
    pub offset: u64,
    /// Body length in bytes.
    pub len: u32,
}

/// One frame seen while opening the file.
#[derive(Debug)]
pub struct StoredRecord<'a> {
    /// Where the body is.
    pub location: BodyLocation,
    /// The entry's integrated time (Unix seconds).
    pub integrated_time: i64,
    /// The canonical entry body.
    pub body: &'a [u8],
}

/// What opening the file found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recovery {
    /// Intact frames.
    pub records: u64,
    /// Bytes cut off the end (a torn or corrupt tail).
    pub truncated_bytes: u64,
}

/// An append failure. `fatal` means the file's state is unknown (the sync failed, or undoing a
/// partial write failed): the writer must stop.
#[derive(Debug)]
pub struct AppendError {
    /// The underlying I/O error.
    pub error: io::Error,
    /// Whether the log may no longer be appended to.
    pub fatal: bool,
}

/// The entry log, opened for appending.
#[derive(Debug)]
pub struct EntryLog {
    file: File,
    len: u64,
}

fn crc(time: i64, body: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&time.to_le_bytes());
    h.update(body);
    h.finalize()
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    if let Some(s) = buf.get(at..at + 4) {
        b.copy_from_slice(s);
    }
    u32::from_le_bytes(b)
}

fn i64_at(buf: &[u8], at: usize) -> i64 {
    let mut b = [0u8; 8];
    if let Some(s) = buf.get(at..at + 8) {
        b.copy_from_slice(s);
    }
    i64::from_le_bytes(b)
}

/// Reads until `buf` is full or EOF; returns the number of bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Encodes one frame onto `out`; returns the body's offset relative to the start of `out`.
pub fn encode_frame(out: &mut Vec<u8>, integrated_time: i64, body: &[u8]) -> io::Result<u64> {
    if body.len() > MAX_BODY {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "entry body too large",
        ));
    }
    let len = u32::try_from(body.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "entry body too large"))?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc(integrated_time, body).to_le_bytes());
    out.extend_from_slice(&integrated_time.to_le_bytes());
    let at = out.len() as u64;
    out.extend_from_slice(body);
    Ok(at)
}

/// Syncs a directory so a file created or renamed in it survives a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl EntryLog {
    /// Opens (creating if needed) the log at `path`, calling `on_record` for every intact frame
    /// in order, and cuts off a torn or corrupt tail.
    pub fn open(
        path: &Path,
        mut on_record: impl FnMut(StoredRecord<'_>),
    ) -> io::Result<(Self, Recovery)> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let file_len = file.metadata()?.len();
        if file_len < MAGIC.len() as u64 {
            // New, or torn while writing the magic: (re)write it.
            let mut head = vec![0u8; file_len as usize];
            file.read_exact_at(&mut head, 0)?;
            if !MAGIC.starts_with(&head) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} is not a tlog-server entry log", path.display()),
                ));
            }
            file.set_len(0)?;
            file.write_all_at(MAGIC, 0)?;
            file.sync_all()?;
            if let Some(dir) = path.parent() {
                sync_dir(dir)?;
            }
            file.seek(SeekFrom::End(0))?;
            return Ok((
                Self {
                    file,
                    len: MAGIC.len() as u64,
                },
                Recovery::default(),
            ));
        }

        let mut reader = BufReader::with_capacity(1 << 20, &file);
        let mut magic = [0u8; 8];
        reader.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not a tlog-server entry log", path.display()),
            ));
        }
        let mut pos = MAGIC.len() as u64;
        let mut records = 0u64;
        let mut header = [0u8; FRAME_HEADER as usize];
        let mut body = Vec::new();
        loop {
            let n = read_full(&mut reader, &mut header)?;
            if n < header.len() {
                break; // clean end (n == 0) or torn header
            }
            let len = u32_at(&header, 0) as usize;
            let want_crc = u32_at(&header, 4);
            let time = i64_at(&header, 8);
            if len > MAX_BODY {
                break;
            }
            body.resize(len, 0);
            if read_full(&mut reader, &mut body)? < len {
                break;
            }
            if crc(time, &body) != want_crc {
                break;
            }
            let location = BodyLocation {
                offset: pos + FRAME_HEADER,
                len: len as u32,
            };
            on_record(StoredRecord {
                location,
                integrated_time: time,
                body: &body,
            });
            records += 1;
            pos += FRAME_HEADER + len as u64;
        }
        drop(reader);
        let truncated_bytes = file_len - pos;
        if truncated_bytes > 0 {
            file.set_len(pos)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::Start(pos))?;
        Ok((
            Self { file, len: pos },
            Recovery {
                records,
                truncated_bytes,
            },
        ))
    }

    /// The file length (end of the last intact frame).
    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Appends pre-encoded frames (see [`encode_frame`]) with one write and one `fdatasync`.
    /// Returns the file offset the buffer was written at. On a write error the partial write
    /// is cut off again; only a failed cut or a failed sync is fatal.
    pub fn append(&mut self, frames: &[u8]) -> Result<u64, AppendError> {
        let start = self.len;
        if let Err(error) = self.file.write_all(frames) {
            let undo = self
                .file
                .set_len(start)
                .and_then(|()| self.file.seek(SeekFrom::Start(start)).map(drop));
            return Err(AppendError {
                error,
                fatal: undo.is_err(),
            });
        }
        if let Err(error) = self.file.sync_data() {
            return Err(AppendError { error, fatal: true });
        }
        self.len = start + frames.len() as u64;
        Ok(start)
    }

    /// A read-only handle for reading bodies by location.
    pub fn reader(&self, path: &Path) -> io::Result<LogReader> {
        Ok(LogReader {
            file: File::open(path)?,
        })
    }
}

/// Reads bodies of durable entries; shareable between threads.
#[derive(Debug)]
pub struct LogReader {
    file: File,
}

impl LogReader {
    /// Reads the body at `loc`.
    pub fn read_body(&self, loc: BodyLocation) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; loc.len as usize];
        self.file.read_exact_at(&mut buf, loc.offset)?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Seen = Vec<(i64, Vec<u8>, BodyLocation)>;

    fn collect(path: &Path) -> (Seen, Recovery, EntryLog) {
        let mut seen = Vec::new();
        let (log, rec) = EntryLog::open(path, |r| {
            seen.push((r.integrated_time, r.body.to_vec(), r.location))
        })
        .unwrap();
        (seen, rec, log)
    }

    fn frames(items: &[(i64, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (t, b) in items {
            encode_frame(&mut out, *t, b).unwrap();
        }
        out
    }

    #[test]
    fn append_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entries.log");
        let (seen, rec, mut log) = collect(&path);
        assert!(seen.is_empty());
        assert_eq!(rec, Recovery::default());
        log.append(&frames(&[(1, b"one"), (2, b"two")])).unwrap();
        log.append(&frames(&[(3, b"three")])).unwrap();
        drop(log);
        let (seen, rec, log) = collect(&path);
        assert_eq!(rec.records, 3);
        assert_eq!(rec.truncated_bytes, 0);
        assert_eq!(seen[2].0, 3);
        assert_eq!(seen[2].1, b"three");
        let reader = log.reader(&path).unwrap();
        assert_eq!(reader.read_body(seen[1].2).unwrap(), b"two");
    }

    #[test]
    fn torn_and_corrupt_tails_are_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entries.log");
        let (_, _, mut log) = collect(&path);
        log.append(&frames(&[(1, b"one"), (2, b"two")])).unwrap();
        let good = log.len();
        drop(log);
        // A torn frame: header promises more than there is.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        let partial = frames(&[(3, b"three-three-three")]);
        f.write_all(&partial[..partial.len() - 4]).unwrap();
        drop(f);
        let (seen, rec, log) = collect(&path);
        assert_eq!(seen.len(), 2);
        assert_eq!(rec.truncated_bytes, partial.len() as u64 - 4);
        assert_eq!(log.len(), good);
        drop(log);
        // A corrupt frame (bad CRC) followed by garbage.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        let mut bad = frames(&[(3, b"three")]);
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        f.write_all(&bad).unwrap();
        f.write_all(b"garbage garbage garbage").unwrap();
        drop(f);
        let (seen, rec, _) = collect(&path);
        assert_eq!(seen.len(), 2);
        assert_eq!(rec.truncated_bytes, bad.len() as u64 + 23);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good);
    }

    #[test]
    fn torn_magic_is_rewritten_and_foreign_files_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entries.log");
        std::fs::write(&path, &MAGIC[..3]).unwrap();
        let (seen, _, _) = collect(&path);
        assert!(seen.is_empty());
        assert_eq!(std::fs::read(&path).unwrap(), MAGIC);
        let other = dir.path().join("other");
        std::fs::write(&other, b"not a log at all").unwrap();
        assert!(EntryLog::open(&other, |_| {}).is_err());
    }

    #[test]
    fn oversized_length_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entries.log");
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&[0u8; 12]);
        std::fs::write(&path, &bytes).unwrap();
        let (seen, rec, _) = collect(&path);
        assert!(seen.is_empty());
        assert_eq!(rec.truncated_bytes, 16);
    }
}
