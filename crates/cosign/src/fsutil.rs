//! File helpers: checked reads and atomic, all-or-nothing writes.
//!
//! Every output file is written to a temporary file in the same directory and renamed into place,
//! so a failure never leaves half a file (or half a key pair) behind.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::Error;

/// Reads a whole small file (key, signature, bundle), refusing directories and empty files.
/// `what` names the file's role for messages, e.g. `"key file"`.
pub fn read_small_file(path: &Path, what: &'static str, limit: u64) -> Result<Vec<u8>, Error> {
    check_regular_or_stream(path, "reading")?;
    let file = fs::File::open(path).map_err(|e| Error::io("reading", path, e))?;
    let mut data = Vec::new();
    use std::io::Read;
    file.take(limit + 1)
        .read_to_end(&mut data)
        .map_err(|e| Error::io("reading", path, e))?;
    if data.len() as u64 > limit {
        return Err(Error::TooLarge {
            what,
            path: path.to_owned(),
            limit,
        });
    }
    if data.is_empty() {
        return Err(Error::EmptyFile {
            what,
            path: path.to_owned(),
        });
    }
    Ok(data)
}

/// Reads a user-given input of at most `limit` bytes: `-` is standard input, anything else a
/// file (a pipe such as `/dev/fd/63` too). `what` names its role (`predicate`, `bundle` ...).
/// Empty inputs are returned as they are: callers say whether that is an error.
pub fn read_input(arg: &Path, what: &'static str, limit: u64) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let mut data = Vec::new();
    let stdin = arg == Path::new("-");
    let shown: PathBuf = if stdin {
        PathBuf::from("standard input")
    } else {
        arg.to_owned()
    };
    let read = if stdin {
        std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut data)
    } else {
        check_regular_or_stream(arg, "reading")?;
        fs::File::open(arg).and_then(|f| f.take(limit + 1).read_to_end(&mut data))
    };
    read.map_err(|e| Error::io("reading", &shown, e))?;
    if data.len() as u64 > limit {
        return Err(Error::TooLarge {
            what,
            path: shown,
            limit,
        });
    }
    Ok(data)
}

/// Fails with a clear error for a missing path or a directory. Pipes and devices are allowed
/// (`<(...)` process substitution gives `/dev/fd/N`).
pub fn check_regular_or_stream(path: &Path, action: &'static str) -> Result<(), Error> {
    let meta = fs::metadata(path).map_err(|e| Error::io(action, path, e))?;
    if meta.is_dir() {
        return Err(Error::IsDirectory {
            action,
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// A file staged next to its destination, made visible only by [`StagedFile::commit`].
pub struct StagedFile {
    temp: tempfile::NamedTempFile,
    dest: PathBuf,
}

impl StagedFile {
    /// Writes `data` with permission `mode` to a temporary file beside `dest`.
    pub fn stage(dest: &Path, data: &[u8], mode: u32) -> Result<Self, Error> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        if dest.is_dir() {
            return Err(Error::IsDirectory {
                action: "writing",
                path: dest.to_owned(),
            });
        }
        let mut temp = tempfile::Builder::new()
            .prefix(".cosign-tmp-")
            .tempfile_in(&dir)
            .map_err(|e| Error::io("writing", dest, e))?;
        temp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io("writing", dest, e))?;
        temp.write_all(data)
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|e| Error::io("writing", dest, e))?;
        Ok(Self {
            temp,
            dest: dest.to_owned(),
        })
    }

    /// Renames the staged file onto its destination.
    pub fn commit(self) -> Result<(), Error> {
        let dest = self.dest;
        self.temp
            .persist(&dest)
            .map_err(|e| Error::io("writing", dest, e.error))?;
        Ok(())
    }
}

/// Atomically writes one file with the given permission bits.
pub fn write_atomic(dest: &Path, data: &[u8], mode: u32) -> Result<(), Error> {
    StagedFile::stage(dest, data, mode)?.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_sets_mode_and_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.key");
        write_atomic(&p, b"abc", 0o600).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"abc");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // Nothing else left in the directory.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn staged_file_vanishes_without_commit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.key");
        drop(StagedFile::stage(&p, b"abc", 0o600).unwrap());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn reads_refuse_dirs_empty_and_missing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_small_file(dir.path(), "key file", 10),
            Err(Error::IsDirectory { .. })
        ));
        let empty = dir.path().join("e");
        fs::write(&empty, b"").unwrap();
        assert!(matches!(
            read_small_file(&empty, "key file", 10),
            Err(Error::EmptyFile { .. })
        ));
        assert!(matches!(
            read_small_file(&dir.path().join("missing"), "key file", 10),
            Err(Error::Io { .. })
        ));
        let big = dir.path().join("big");
        fs::write(&big, [0u8; 11]).unwrap();
        assert!(read_small_file(&big, "key file", 10).is_err());
    }
}
