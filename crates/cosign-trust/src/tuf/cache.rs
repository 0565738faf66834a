//! The on-disk TUF cache, laid out as sigstore-go (and so Go cosign 3) lays it out:
//!
//! ```text
//! <cache dir>/                      $TUF_ROOT, default ~/.sigstore/root (chosen by the caller)
//!   remote.json                     {"mirror":"<url>"}, written by `cosign initialize`
//!   <mirror as a name>.json         {"lastTimestamp":"<RFC 3339>"}: the last full refresh
//!   <mirror as a name>/             e.g. tuf-repo-cdn.sigstore.dev
//!     root.json timestamp.json snapshot.json targets.json
//!     targets/trusted_root.json     target files, named as Go's url.QueryEscape(name)
//!     .lock                         ours: the flock taken around every update
//! ```
//!
//! Concurrency: an exclusive advisory lock (`flock`, through `fs4`) on `.lock` is held while
//! the cache is read, refreshed and written, so many processes starting at once take turns
//! instead of tearing each other's files; a lock dies with its process, so there is no stale
//! lock to clean up. Every file is written to a temporary file in the same directory, synced,
//! then renamed over the old one, so a reader without the lock sees either the old or the new
//! file, never half of one.
//!
//! A cache that cannot be written (read-only home, full disk) is not an error: the client then
//! verifies in memory and says so in its report.

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::TrustError;

/// The name sigstore-go gives a mirror's cache directory: the URL without `https://` or
/// `http://`, with `/` and `:` replaced by `-`, lower-cased.
pub fn mirror_dir_name(mirror: &str) -> String {
    let rest = mirror
        .strip_prefix("https://")
        .or_else(|| mirror.strip_prefix("http://"))
        .unwrap_or(mirror);
    rest.replace(['/', ':'], "-").to_lowercase()
}

/// Go's `url.QueryEscape`: how go-tuf names a target file in the local targets directory.
pub fn query_escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for &b in name.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[derive(Serialize, Deserialize)]
struct Remote {
    mirror: String,
}

/// Writes `<cache_dir>/remote.json` (`{"mirror":"<url>"}`) as `cosign initialize` does.
pub fn write_remote_hint(cache_dir: &Path, mirror: &str) -> Result<(), TrustError> {
    fs::create_dir_all(cache_dir)
        .map_err(|e| TrustError::io("creating the TUF cache directory", cache_dir, e))?;
    let body = serde_json::to_vec(&Remote {
        mirror: mirror.to_owned(),
    })
    .map_err(|e| TrustError::malformed("remote.json", e))?;
    write_atomic(&cache_dir.join("remote.json"), &body)
}

/// The mirror recorded by `cosign initialize` in `<cache_dir>/remote.json`, if any.
pub fn read_remote_hint(cache_dir: &Path) -> Result<Option<String>, TrustError> {
    let path = cache_dir.join("remote.json");
    let Some(body) = read_capped(&path, 64 * 1024)? else {
        return Ok(None);
    };
    let remote: Remote = serde_json::from_slice(&body)
        .map_err(|e| TrustError::malformed(path.display().to_string(), e))?;
    Ok(Some(remote.mirror))
}

/// Reads at most `limit` bytes of `path`; `None` if it does not exist (or a parent is not a
/// directory). A longer file is an error.
pub(crate) fn read_capped(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, TrustError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(TrustError::io("reading TUF cache file", path, e)),
    };
    let mut body = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut body)
        .map_err(|e| TrustError::io("reading TUF cache file", path, e))?;
    if u64::try_from(body.len()).unwrap_or(u64::MAX) > limit {
        return Err(TrustError::TooLarge {
            url: path.display().to_string(),
            limit,
        });
    }
    Ok(Some(body))
}

/// Writes `body` to `path` through a synced temporary file renamed into place.
pub(crate) fn write_atomic(path: &Path, body: &[u8]) -> Result<(), TrustError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| TrustError::io("creating a temporary file in", dir, e))?;
    tmp.write_all(body)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| TrustError::io("writing", tmp.path().to_path_buf(), e))?;
    tmp.persist(path)
        .map_err(|e| TrustError::io("renaming a temporary file to", path, e.error))?;
    // Make the rename itself durable where the platform allows opening a directory.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// One mirror's part of the cache.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    mirror_dir: PathBuf,
    targets_dir: PathBuf,
    config_path: PathBuf,
}

/// The exclusive cache lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub(crate) struct CacheLock {
    _file: File,
}

#[derive(Serialize, Deserialize)]
struct Config {
    #[serde(rename = "lastTimestamp")]
    last_timestamp: String,
}

impl Cache {
    pub(crate) fn new(cache_dir: &Path, mirror: &str) -> Self {
        let name = mirror_dir_name(mirror);
        let mirror_dir = cache_dir.join(&name);
        Self {
            targets_dir: mirror_dir.join("targets"),
            config_path: cache_dir.join(format!("{name}.json")),
            mirror_dir,
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.mirror_dir
    }

    /// Creates the directories; an error means the cache cannot be written.
    pub(crate) fn create_dirs(&self) -> Result<(), TrustError> {
        fs::create_dir_all(&self.targets_dir)
            .map_err(|e| TrustError::io("creating the TUF cache directory", &self.targets_dir, e))
    }

    /// Takes the exclusive lock, waiting up to `timeout`. `None` when the lock file cannot be
    /// opened at all (read-only cache that was never written) or the wait timed out: the
    /// caller then must not write.
    pub(crate) fn lock(&self, timeout: Duration) -> Option<CacheLock> {
        let path = self.mirror_dir.join(".lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .or_else(|_| File::open(&path))
            .ok()?;
        let start = Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => return Some(CacheLock { _file: file }),
                Err(fs4::TryLockError::WouldBlock) if start.elapsed() < timeout => {
                    thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                Err(_) => return None,
            }
        }
    }

    pub(crate) fn read_metadata(&self, name: &str, limit: u64) -> Option<Vec<u8>> {
        // An unreadable or oversized cache file is treated as absent: it is re-fetched.
        read_capped(&self.mirror_dir.join(name), limit)
            .ok()
            .flatten()
    }

    pub(crate) fn write_metadata(&self, name: &str, body: &[u8]) -> Result<(), TrustError> {
        write_atomic(&self.mirror_dir.join(name), body)
    }

    pub(crate) fn remove_metadata(&self, name: &str) -> Result<(), TrustError> {
        let path = self.mirror_dir.join(name);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(TrustError::io("removing TUF cache file", path, e)),
        }
    }

    pub(crate) fn target_path(&self, name: &str) -> PathBuf {
        self.targets_dir.join(query_escape(name))
    }

    pub(crate) fn read_target(&self, name: &str, limit: u64) -> Option<Vec<u8>> {
        read_capped(&self.target_path(name), limit).ok().flatten()
    }

    pub(crate) fn write_target(&self, name: &str, body: &[u8]) -> Result<(), TrustError> {
        write_atomic(&self.target_path(name), body)
    }

    /// When the last full refresh finished (Unix seconds), from sigstore-go's config file.
    pub(crate) fn last_refresh(&self) -> Option<i64> {
        let body = read_capped(&self.config_path, 64 * 1024).ok()??;
        let config: Config = serde_json::from_slice(&body).ok()?;
        cosign_types::time::parse_rfc3339(&config.last_timestamp)
    }

    pub(crate) fn record_refresh(&self, now: i64) -> Result<(), TrustError> {
        let body = serde_json::to_vec(&Config {
            last_timestamp: cosign_types::time::rfc3339(now),
        })
        .map_err(|e| TrustError::malformed("cache config", e))?;
        write_atomic(&self.config_path, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_names_match_sigstore_go() {
        assert_eq!(
            mirror_dir_name("https://tuf-repo-cdn.sigstore.dev"),
            "tuf-repo-cdn.sigstore.dev"
        );
        assert_eq!(
            mirror_dir_name("http://127.0.0.1:8080/Repo/"),
            "127.0.0.1-8080-repo-"
        );
        assert_eq!(mirror_dir_name("file:///srv/tuf"), "file----srv-tuf");
    }

    #[test]
    fn target_names_are_query_escaped() {
        assert_eq!(query_escape("trusted_root.json"), "trusted_root.json");
        assert_eq!(query_escape("a/b c.json"), "a%2Fb+c.json");
    }

    #[test]
    fn remote_hint_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_remote_hint(dir.path()).unwrap(), None);
        write_remote_hint(dir.path(), "https://example.test/tuf").unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("remote.json")).unwrap(),
            r#"{"mirror":"https://example.test/tuf"}"#
        );
        assert_eq!(
            read_remote_hint(dir.path()).unwrap().as_deref(),
            Some("https://example.test/tuf")
        );
    }

    #[test]
    fn refresh_time_round_trips_and_reads_go_format() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path(), "https://example.test");
        assert_eq!(cache.last_refresh(), None);
        cache.record_refresh(1_700_000_000).unwrap();
        assert_eq!(cache.last_refresh(), Some(1_700_000_000));
        fs::write(
            dir.path().join("example.test.json"),
            r#"{"lastTimestamp":"2024-05-01T12:00:00.123456789+02:00"}"#,
        )
        .unwrap();
        assert_eq!(cache.last_refresh(), Some(1_714_557_600));
    }
}
