//! The append-only entry log file: framing, scanning, recovery and durable group appends.
//!
//! Layout: an 8-byte magic, `TLOGWAL2` (or `TLOGWAL1` for files from before signed entry
//! timestamps were stored; such a file is relabelled on first open and its old frames stay
//! readable), then one frame per entry:
//!
//! ```text
//! word (u32 LE) | CRC-32 of the rest (u32 LE) | integrated time (i64 LE) | [SET] | body
//! word = body length | 0x8000_0000 if a SET is present
//! SET  = SET length (u16 LE) | the entry's signed entry timestamp (base64 text)
//! ```
//!
//! Frames are only ever appended. A batch is written with one `write` and made durable with one
//! `fdatasync`; nothing in it is acknowledged before that returns and the stored tree head
//! (see `head`) covers it. Opening takes the offset up to which the log is acknowledged: damage
//! after it can only be the torn tail of the last group commit and is cut off; damage before it
//! is not something a crash can cause, and the file is left untouched and refused.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The first eight bytes of a file written by this version.
pub const MAGIC: &[u8; 8] = b"TLOGWAL2";
/// The first eight bytes of a file from before SETs were stored.
pub const MAGIC_V1: &[u8; 8] = b"TLOGWAL1";
/// The size of a frame header: length word, CRC and integrated time.
pub const FRAME_HEADER: u64 = 16;
/// The largest body a frame may hold; larger lengths are treated as corruption.
pub const MAX_BODY: usize = 4 << 20;
/// The flag in the length word saying a SET follows the header.
const HAS_SET: u32 = 0x8000_0000;
/// The largest SET a frame may hold.
pub const MAX_SET: usize = 1024;

/// Where a body (and the SET stored just before it) lives in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyLocation {
    /// Offset of the first body byte.
    pub offset: u64,
    /// Body length in bytes.
    pub len: u32,
    /// Length of the stored SET right before the body; 0 if the frame has none.
    pub set_len: u16,
}

/// One frame seen while scanning the file.
#[derive(Debug)]
pub struct StoredRecord<'a> {
    /// Where the body is.
    pub location: BodyLocation,
    /// The entry's integrated time (Unix seconds).
    pub integrated_time: i64,
    /// The stored SET (base64 text), if the frame has one.
    pub set: Option<&'a [u8]>,
    /// The canonical entry body.
    pub body: &'a [u8],
    /// The file offset just past this frame.
    pub end: u64,
}

/// The first damaged frame of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// File offset of the damaged frame (= end of the intact part).
    pub offset: u64,
    /// What is wrong there.
    pub reason: String,
}

/// What a scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Intact frames before the first damage.
    pub records: u64,
    /// End of the last intact frame.
    pub intact_len: u64,
    /// The file length.
    pub file_len: u64,
    /// The first damage, if any (`offset == intact_len`).
    pub damage: Option<Damage>,
    /// Whether the file still has the `TLOGWAL1` label.
    pub v1: bool,
}

/// What opening the file found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recovery {
    /// Intact frames.
    pub records: u64,
    /// Bytes cut off the end (the torn tail of an unacknowledged group commit).
    pub truncated_bytes: u64,
}

/// Why the file could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// Reading or writing failed.
    Io(io::Error),
    /// Not an entry log.
    Foreign,
    /// Damage inside the acknowledged part of the log.
    Damaged(Damage),
    /// The file ends (intact) before the acknowledged end: truncated or rolled back.
    Short {
        /// The file's intact length.
        len: u64,
    },
}

impl From<io::Error> for OpenError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Foreign => write!(f, "not a tlog-server entry log"),
            Self::Damaged(d) => write!(
                f,
                "damaged record at byte offset {}: {}",
                d.offset, d.reason
            ),
            Self::Short { len } => write!(f, "the file ends at byte offset {len}"),
        }
    }
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

fn crc(time: i64, set: Option<&[u8]>, body: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&time.to_le_bytes());
    if let Some(set) = set {
        h.update(&u16::try_from(set.len()).unwrap_or(u16::MAX).to_le_bytes());
        h.update(set);
    }
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
pub fn encode_frame(
    out: &mut Vec<u8>,
    integrated_time: i64,
    set: Option<&[u8]>,
    body: &[u8],
) -> io::Result<u64> {
    let too_large = |what| io::Error::new(io::ErrorKind::InvalidInput, what);
    if body.len() > MAX_BODY {
        return Err(too_large("entry body too large"));
    }
    if set.is_some_and(|s| s.len() > MAX_SET) {
        return Err(too_large("signed entry timestamp too large"));
    }
    let mut word = u32::try_from(body.len()).map_err(|_| too_large("entry body too large"))?;
    if set.is_some() {
        word |= HAS_SET;
    }
    out.extend_from_slice(&word.to_le_bytes());
    out.extend_from_slice(&crc(integrated_time, set, body).to_le_bytes());
    out.extend_from_slice(&integrated_time.to_le_bytes());
    if let Some(set) = set {
        out.extend_from_slice(&u16::try_from(set.len()).unwrap_or(0).to_le_bytes());
        out.extend_from_slice(set);
    }
    let at = out.len() as u64;
    out.extend_from_slice(body);
    Ok(at)
}

/// Syncs a directory so a file created or renamed in it survives a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Reads every frame of `file` in order without changing anything, calling `on_record` for
/// each intact one, and reports where the intact part ends and why. `Err(Foreign)` if the file
/// does not start with a known magic (a file shorter than the magic is reported as damage at
/// offset 0 if it is a prefix of it).
pub fn scan(file: &File, mut on_record: impl FnMut(StoredRecord<'_>)) -> Result<Scan, OpenError> {
    let file_len = file.metadata()?.len();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut magic = [0u8; 8];
    let n = read_full(&mut reader, &mut magic)?;
    if n < magic.len() {
        if MAGIC.starts_with(&magic[..n]) || MAGIC_V1.starts_with(&magic[..n]) {
            return Ok(Scan {
                records: 0,
                intact_len: 0,
                file_len,
                damage: (n > 0).then(|| Damage {
                    offset: 0,
                    reason: "torn file header".to_owned(),
                }),
                v1: false,
            });
        }
        return Err(OpenError::Foreign);
    }
    let v1 = &magic == MAGIC_V1;
    if !v1 && &magic != MAGIC {
        return Err(OpenError::Foreign);
    }
    let mut pos = MAGIC.len() as u64;
    let mut records = 0u64;
    let mut header = [0u8; FRAME_HEADER as usize];
    let mut set = Vec::new();
    let mut body = Vec::new();
    let damage = loop {
        let damaged = |reason: &str| {
            Some(Damage {
                offset: pos,
                reason: reason.to_owned(),
            })
        };
        let n = read_full(&mut reader, &mut header)?;
        if n == 0 {
            break None;
        }
        if n < header.len() {
            break damaged("torn frame header");
        }
        let word = u32_at(&header, 0);
        let len = (word & !HAS_SET) as usize;
        let want_crc = u32_at(&header, 4);
        let time = i64_at(&header, 8);
        if len > MAX_BODY {
            break damaged("impossible body length");
        }
        let has_set = word & HAS_SET != 0;
        let mut set_bytes = 0u64;
        if has_set {
            let mut l = [0u8; 2];
            if read_full(&mut reader, &mut l)? < 2 {
                break damaged("torn frame");
            }
            let set_len = usize::from(u16::from_le_bytes(l));
            if set_len == 0 || set_len > MAX_SET {
                break damaged("impossible SET length");
            }
            set.resize(set_len, 0);
            if read_full(&mut reader, &mut set)? < set_len {
                break damaged("torn frame");
            }
            set_bytes = 2 + set_len as u64;
        }
        body.resize(len, 0);
        if read_full(&mut reader, &mut body)? < len {
            break damaged("torn frame");
        }
        let set_ref = has_set.then_some(set.as_slice());
        if crc(time, set_ref, &body) != want_crc {
            break damaged("checksum mismatch");
        }
        let end = pos + FRAME_HEADER + set_bytes + len as u64;
        on_record(StoredRecord {
            location: BodyLocation {
                offset: pos + FRAME_HEADER + set_bytes,
                len: len as u32,
                set_len: if has_set { set.len() as u16 } else { 0 },
            },
            integrated_time: time,
            set: set_ref,
            body: &body,
            end,
        });
        records += 1;
        pos = end;
    };
    Ok(Scan {
        records,
        intact_len: pos,
        file_len,
        damage,
        v1,
    })
}

impl EntryLog {
    /// Opens (creating if needed) the log at `path` for appending, calling `on_record` for every
    /// intact frame in order. `acknowledged_end` is the offset up to which the log has been
    /// acknowledged (the stored tree head's): damage after it is the torn tail of the last
    /// group commit and is cut off; damage before it, or an intact file shorter than it, is
    /// refused with the file left untouched.
    pub fn open(
        path: &Path,
        acknowledged_end: u64,
        on_record: impl FnMut(StoredRecord<'_>),
    ) -> Result<(Self, Recovery), OpenError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let scan = scan(&file, on_record)?;
        if scan.intact_len < MAGIC.len() as u64 {
            // New, or torn while writing the magic.
            if acknowledged_end > MAGIC.len() as u64 {
                return Err(OpenError::Short { len: 0 });
            }
            file.set_len(0)?;
            file.write_all_at(MAGIC, 0)?;
            file.sync_all()?;
            if let Some(dir) = path.parent() {
                sync_dir(dir)?;
            }
            file.seek(SeekFrom::End(0))?;
            let len = MAGIC.len() as u64;
            return Ok((Self { file, len }, Recovery::default()));
        }
        if let Some(damage) = scan.damage
            && damage.offset < acknowledged_end
        {
            return Err(OpenError::Damaged(damage));
        }
        if scan.intact_len < acknowledged_end {
            return Err(OpenError::Short {
                len: scan.intact_len,
            });
        }
        let truncated_bytes = scan.file_len - scan.intact_len;
        if truncated_bytes > 0 {
            file.set_len(scan.intact_len)?;
            file.sync_all()?;
        }
        if scan.v1 {
            // Frames with SETs follow; an older server must refuse the file, not cut them.
            file.write_all_at(MAGIC, 0)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::Start(scan.intact_len))?;
        Ok((
            Self {
                file,
                len: scan.intact_len,
            },
            Recovery {
                records: scan.records,
                truncated_bytes,
            },
        ))
    }

    /// The file length (end of the last intact frame).
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
    #[cfg(test)]
    pub fn read_body(&self, loc: BodyLocation) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; loc.len as usize];
        self.file.read_exact_at(&mut buf, loc.offset)?;
        Ok(buf)
    }

    /// Reads the stored SET and the body at `loc` with one read; the SET is `None` for frames
    /// written before SETs were stored.
    pub fn read_set_and_body(&self, loc: BodyLocation) -> io::Result<(Option<String>, Vec<u8>)> {
        let set_len = u64::from(loc.set_len);
        let mut buf = vec![0u8; loc.len as usize + usize::from(loc.set_len)];
        self.file.read_exact_at(&mut buf, loc.offset - set_len)?;
        let body = buf.split_off(usize::from(loc.set_len));
        let set = if set_len == 0 {
            None
        } else {
            Some(String::from_utf8(buf).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, "stored SET is not text")
            })?)
        };
        Ok((set, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Seen = Vec<(i64, Vec<u8>, BodyLocation)>;

    fn collect(path: &Path, ack: u64) -> Result<(Seen, Recovery, EntryLog), OpenError> {
        let mut seen = Vec::new();
        let (log, rec) = EntryLog::open(path, ack, |r| {
            seen.push((r.integrated_time, r.body.to_vec(), r.location))
        })?;
        Ok((seen, rec, log))
    }

    fn frames(items: &[(i64, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (t, b) in items {
            let set = format!("set-{t}");
            encode_frame(&mut out, *t, Some(set.as_bytes()), b).unwrap();
        }
        out
    }

    #[test]
    fn append_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entries.log");
        let (seen, rec, mut log) = collect(&path, 0).unwrap();
        assert!(seen.is_empty());
        assert_eq!(rec, Recovery::default());
        log.append(&frames(&[(1, b"one"), (2, b"two")])).unwrap();
        log.append(&frames(&[(3, b"three")])).unwrap();
        let end = log.len();
        drop(log);
        let (seen, rec, log) = collect(&path, end).unwrap();
        assert_eq!(rec.records, 3);
        assert_eq!(rec.truncated_bytes, 0);
        assert_eq!(seen[2].0, 3);
        assert_eq!(seen[2].1, b"three");
        let reader = log.reader(&path).unwrap();
        assert_eq!(reader.read_body(seen[1].2).unwrap(), b"two");
        let (set, body) = reader.read_set_and_body(seen[1].2).unwrap();
        assert_eq!(set.as_deref(), Some("set-2"));
        assert_eq!(body, b"two");
    }

    #[test]
    fn v1_files_are_read_and_relabelled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entries.log");
        let mut bytes = MAGIC_V1.to_vec();
        encode_frame(&mut bytes, 7, None, b"old").unwrap();
        std::fs::write(&path, &bytes).unwrap();
        let (seen, _, log) = collect(&path, bytes.len() as u64).unwrap();
        assert_eq!(seen.len(), 1);
        let (set, body) = log
            .reader(&path)
            .unwrap()
            .read_set_and_body(seen[0].2)
            .unwrap();
        assert_eq!((set, body.as_slice()), (None, &b"old"[..]));
        assert_eq!(&std::fs::read(&path).unwrap()[..8], MAGIC);
    }

    #[test]
    fn damage_after_the_acknowledged_end_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entries.log");
        let (_, _, mut log) = collect(&path, 0).unwrap();
        log.append(&frames(&[(1, b"one"), (2, b"two")])).unwrap();
        let good = log.len();
        drop(log);
        // A torn frame: header promises more than there is.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        let partial = frames(&[(3, b"three-three-three")]);
        f.write_all(&partial[..partial.len() - 4]).unwrap();
        drop(f);
        let (seen, rec, log) = collect(&path, good).unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(rec.truncated_bytes, partial.len() as u64 - 4);
        assert_eq!(log.len(), good);
        drop(log);
        // A corrupt frame (bad CRC) followed by intact-looking frames: same group commit.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        let mut bad = frames(&[(3, b"three"), (4, b"four")]);
        bad[20] ^= 0xff;
        f.write_all(&bad).unwrap();
        drop(f);
        let (seen, rec, _) = collect(&path, good).unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(rec.truncated_bytes, bad.len() as u64);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good);
    }

    #[test]
    fn damage_before_the_acknowledged_end_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entries.log");
        let (_, _, mut log) = collect(&path, 0).unwrap();
        log.append(&frames(&[(1, b"one"), (2, b"two"), (3, b"three")]))
            .unwrap();
        let end = log.len();
        drop(log);
        let mut bytes = std::fs::read(&path).unwrap();
        let first_end = 8 + 16 + 2 + 5 + 3;
        bytes[first_end + 20] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        match collect(&path, end) {
            Err(OpenError::Damaged(d)) => assert_eq!(d.offset, first_end as u64),
            other => panic!("{:?}", other.map(|x| x.1)),
        }
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        // An intact file shorter than the acknowledged end (rolled back).
        std::fs::write(&path, &bytes[..first_end]).unwrap();
        assert!(matches!(collect(&path, end), Err(OpenError::Short { .. })));
        assert_eq!(std::fs::read(&path).unwrap(), &bytes[..first_end]);
    }

    #[test]
    fn torn_magic_is_rewritten_and_foreign_files_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entries.log");
        std::fs::write(&path, &MAGIC[..3]).unwrap();
        let (seen, _, _) = collect(&path, 0).unwrap();
        assert!(seen.is_empty());
        assert_eq!(std::fs::read(&path).unwrap(), MAGIC);
        let other = dir.path().join("other");
        std::fs::write(&other, b"not a log at all").unwrap();
        assert!(matches!(collect(&other, 0), Err(OpenError::Foreign)));
    }

    #[test]
    fn oversized_length_is_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entries.log");
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&0x7fff_ffffu32.to_le_bytes());
        bytes.extend_from_slice(&[0u8; 12]);
        std::fs::write(&path, &bytes).unwrap();
        let file = File::open(&path).unwrap();
        let s = scan(&file, |_| {}).unwrap();
        assert_eq!(s.damage.unwrap().offset, 8);
        let (seen, rec, _) = collect(&path, 8).unwrap();
        assert!(seen.is_empty());
        assert_eq!(rec.truncated_bytes, 16);
    }
}
