//! Atomic file replacement, so a web server or feed reader that reads an
//! output file while yaowen rewrites it sees either the old file or the new
//! one, never half of either.

use super::PublishError;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes temp files of concurrent writers in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Prefix of the temp files, so leftovers of a crash are recognisable.
pub(crate) const TEMP_PREFIX: &str = ".yaowen-tmp-";

/// Write `bytes` to `path`: create the parent directories, write a temp file
/// in the same directory (a rename is only atomic within one file system),
/// fsync it, then rename it over the target.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PublishError> {
    let io_error = |source| PublishError::Io {
        path: path.to_path_buf(),
        source,
    };
    let parent = parent_dir(path);
    fs::create_dir_all(&parent).map_err(io_error)?;
    let (temp_path, file) = create_temp(&parent, path).map_err(io_error)?;
    let result = fill_and_sync(file, bytes).and_then(|()| fs::rename(&temp_path, path));
    if let Err(source) = result {
        // Best effort: the temp file is garbage now; the error that matters is `source`.
        let _ = fs::remove_file(&temp_path);
        return Err(io_error(source));
    }
    Ok(())
}

/// Like [`write_atomic`], but leaves the file alone (no rename, no new
/// mtime, no ETag change) when it already holds exactly `bytes`. Returns
/// whether the file was written.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool, PublishError> {
    if same_content(path, bytes).map_err(|source| PublishError::Io {
        path: path.to_path_buf(),
        source,
    })? {
        return Ok(false);
    }
    write_atomic(path, bytes).map(|()| true)
}

/// Whether `path` exists and holds exactly `bytes` (the size is checked
/// first so a changed file is usually not read at all).
fn same_content(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    match fs::metadata(path) {
        Ok(meta) if meta.is_file() && meta.len() == bytes.len() as u64 => {
            Ok(fs::read(path)? == bytes)
        }
        Ok(_) => Ok(false),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

/// The directory `path` lives in (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Create a fresh temp file next to `target`; `create_new` so an existing
/// file (another writer's temp file) is never truncated.
fn create_temp(dir: &Path, target: &Path) -> std::io::Result<(PathBuf, File)> {
    let stem = target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    loop {
        let serial = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("{TEMP_PREFIX}{}-{serial}-{stem}", std::process::id());
        let temp_path = dir.join(name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp_path)
        {
            Ok(file) => return Ok((temp_path, file)),
            Err(error) if error.kind() == ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(error),
        }
    }
}

/// Write everything and flush it to disk before the rename, so a crash
/// cannot leave an empty file under the real name.
fn fill_and_sync(mut file: File, bytes: &[u8]) -> std::io::Result<()> {
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_parent_directories_and_replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/page.html");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("page.html")]);
    }

    #[test]
    fn unchanged_content_is_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed.xml");
        assert!(write_if_changed(&path, b"x").unwrap());
        assert!(!write_if_changed(&path, b"x").unwrap());
        assert!(write_if_changed(&path, b"y").unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"y");
    }

    #[test]
    fn error_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, b"not a directory").unwrap();
        let path = blocker.join("inside.html");
        let message = write_atomic(&path, b"x").unwrap_err().to_string();
        assert!(message.contains("inside.html"), "{message}");
    }
}
