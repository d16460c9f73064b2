//! Writing artifacts atomically: the new content is written to a file
//! beside the artifact, which is then put in its place, so a reader never
//! sees half a file and a reader that has the old file open keeps reading it
//! whole.
//!
//! The replaced file is kept as a spare (`.<name>.spare`) and the next write
//! fills it in place: for a 100 MB manifest, freeing the old file's pages
//! and allocating new ones cost as much as serializing it (about 45 ms
//! each here on ext4, where renaming over a file also forces its blocks to
//! be allocated). The spare is only reused when no other process has it
//! open (a reader that opened the artifact before the last write), which a
//! write lease tells, and by one writer at a time (`flock`); otherwise a
//! fresh file is written and the replaced one deleted.
//!
//! No fsync: the replacement is what readers need, durability across a power
//! cut is not (the next run writes the artifact again).

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufWriter, Seek, Write};
use std::path::Path;

use serde::Serialize;

/// Writes `value` as compact JSON to `path`, atomically (see the module
/// docs). The parent directory is created if missing.
///
/// Compact rather than pretty: dbt writes compact JSON too, and a manifest of
/// 10,000 models is tens of megabytes.
pub fn write_json<T: Serialize>(value: &T, path: &Path) -> io::Result<()> {
    write_with(path, |out| {
        serde_json::to_writer(&mut *out, value).map_err(io::Error::from)
    })
}

/// Writes a file atomically through `fill`, like [`write_json`].
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let spare = dir.join(hidden_name(path, "spare"));
    let result = fs::create_dir_all(dir).and_then(|()| match Spare::claim(&spare) {
        Some(file) => fill_spare(file, &spare, path, fill),
        None => fill_fresh(dir, &spare, path, fill),
    });
    result.map_err(|e| io::Error::new(e.kind(), format!("writing {}: {e}", path.display())))
}

fn hidden_name(path: &Path, suffix: &str) -> OsString {
    let mut name = OsString::from(".");
    name.push(path.file_name().unwrap_or("artifact".as_ref()));
    name.push(".");
    name.push(suffix);
    name
}

/// Writes through `fill` into `file` from its start and cuts it to length.
fn fill_file(
    file: &File,
    fill: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> io::Result<()> {
    // Smaller than the manifest's serialized node batches (about 600 KB),
    // which then go to the file as they are: a larger buffer copied all
    // 100 MB of them once more (4-6 % of a 10,000-model parse's CPU).
    let mut out = BufWriter::with_capacity(64 << 10, file);
    fill(&mut out)?;
    out.flush()?;
    drop(out);
    let mut file = file;
    let length = file.stream_position()?;
    file.set_len(length)
}

/// Fills the claimed spare and swaps it with `path`; the spare then holds
/// the replaced file. A failure leaves `path` as it was.
fn fill_spare(
    file: Spare,
    spare: &Path,
    path: &Path,
    fill: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> io::Result<()> {
    fill_file(&file.0, fill)?;
    put_in_place(spare, path)?;
    // Unlocks the spare only now that it is in place.
    drop(file);
    Ok(())
}

/// Moves `from` to `path`; `true` when the files were exchanged, so that
/// `from` now holds the replaced file (which the caller deletes or keeps).
fn put_in_place(from: &Path, path: &Path) -> io::Result<bool> {
    if is_regular_file(path) && rename_with(from, path, Rename::Exchange)? {
        return Ok(true);
    }
    fs::rename(from, path).map(|()| false)
}

/// Files smaller than this are deleted when replaced, not kept as spares:
/// there is nothing to gain for them.
const SPARE_MIN_BYTES: u64 = 1 << 20;

/// Fills a new temporary file and puts it in place of `path`; the replaced
/// file becomes the spare if it is large and there is none yet, and is
/// deleted otherwise.
fn fill_fresh(
    dir: &Path,
    spare: &Path,
    path: &Path,
    fill: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = dir.join(hidden_name(path, &format!("{}.tmp", std::process::id())));
    let result = File::create(&tmp).and_then(|file| fill_file(&file, fill));
    match result.and_then(|()| put_in_place(&tmp, path)) {
        // `tmp` holds the replaced file.
        Ok(true) => {
            let large = fs::symlink_metadata(&tmp).is_ok_and(|m| m.len() >= SPARE_MIN_BYTES);
            if !(large && rename_with(&tmp, spare, Rename::NoReplace).unwrap_or(false)) {
                // The artifact is written; a leftover old file is no reason
                // to report the write as failed.
                let _ = fs::remove_file(&tmp);
            }
            Ok(())
        }
        Ok(false) => Ok(()),
        Err(e) => {
            // Best effort: the original error is the one worth reporting.
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn is_regular_file(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
}

/// The spare file, open, locked and open nowhere else.
struct Spare(File);

impl Spare {
    #[cfg(target_os = "linux")]
    fn claim(path: &Path) -> Option<Spare> {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .ok()?;
        // Another hangar writing the same artifact holds it.
        file.try_lock().ok()?;
        // Still the file at `path` (not one another writer swapped away
        // while this one waited to open it), and a plain file.
        let (opened, named) = (file.metadata().ok()?, fs::symlink_metadata(path).ok()?);
        if !named.is_file() || (opened.dev(), opened.ino()) != (named.dev(), named.ino()) {
            return None;
        }
        // A write lease is granted only while no other process has the file
        // open or mapped: a reader of the replaced artifact would otherwise
        // see it overwritten. Released at once: the lease is only the test
        // (while held, a process opening this hidden file would make the
        // kernel signal hangar to give it up, for the microseconds between
        // the two calls).
        let fd = file.as_raw_fd();
        // SAFETY: `fd` is an open descriptor owned by `file`.
        if unsafe { libc::fcntl(fd, libc::F_SETLEASE, libc::F_WRLCK) } != 0 {
            return None;
        }
        // SAFETY: as above.
        unsafe { libc::fcntl(fd, libc::F_SETLEASE, libc::F_UNLCK) };
        Some(Spare(file))
    }

    #[cfg(not(target_os = "linux"))]
    fn claim(_path: &Path) -> Option<Spare> {
        None
    }
}

#[derive(Clone, Copy)]
enum Rename {
    /// Swap the two files atomically.
    Exchange,
    /// Rename unless the target exists.
    NoReplace,
}

/// `renameat2` with `how`; `false` where the platform or file system cannot
/// do it (or, for `NoReplace`, the target exists; for `Exchange`, it is
/// gone), so the caller does something else.
#[cfg(target_os = "linux")]
fn rename_with(from: &Path, to: &Path, how: Rename) -> io::Result<bool> {
    let (from, to) = (c_path(from)?, c_path(to)?);
    let flags = match how {
        Rename::Exchange => libc::RENAME_EXCHANGE,
        Rename::NoReplace => libc::RENAME_NOREPLACE,
    };
    // SAFETY: both are NUL-terminated paths that outlive the call.
    let status = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            flags,
        )
    };
    if status == 0 {
        return Ok(true);
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP | libc::ENOENT | libc::EEXIST) => {
            Ok(false)
        }
        _ => Err(error),
    }
}

#[cfg(not(target_os = "linux"))]
fn rename_with(_from: &Path, _to: &Path, _how: Rename) -> io::Result<bool> {
    Ok(false)
}

#[cfg(target_os = "linux")]
fn c_path(path: &Path) -> io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    use std::path::PathBuf;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn inode(path: &Path) -> u64 {
        fs::metadata(path).unwrap().ino()
    }

    /// Content large enough to be kept as a spare when replaced.
    fn large(byte: u8) -> Vec<u8> {
        vec![byte; SPARE_MIN_BYTES as usize + 10]
    }

    fn write_bytes(path: &Path, bytes: &[u8]) {
        write_with(path, |out| out.write_all(bytes)).unwrap();
    }

    fn manifest_in(dir: &tempfile::TempDir) -> (PathBuf, PathBuf) {
        let path = dir.path().join("target").join("manifest.json");
        let spare = dir.path().join("target").join(".manifest.json.spare");
        (path, spare)
    }

    #[test]
    fn small_files_are_replaced_and_leave_nothing_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("target").join("x.json");
        write_json(&serde_json::json!({"b": 1, "a": [true]}), &path).unwrap();
        write_json(&serde_json::json!({"c": null}), &path).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), r#"{"c":null}"#);
        assert_eq!(names(path.parent().unwrap()), ["x.json"]);
    }

    #[test]
    fn a_large_replaced_file_is_kept_and_filled_by_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let (path, spare) = manifest_in(&dir);
        write_bytes(&path, &large(b'a'));
        let first = inode(&path);
        write_bytes(&path, &large(b'b'));
        assert_eq!(inode(&spare), first, "the replaced file is the spare");
        // Shorter than the spare: cut to length.
        write_bytes(&path, b"short");
        assert_eq!(inode(&path), first, "the spare was filled and swapped in");
        assert_eq!(fs::read(&path).unwrap(), b"short");
        assert_eq!(fs::read(&spare).unwrap(), large(b'b'));
        assert_eq!(
            names(path.parent().unwrap()),
            [".manifest.json.spare", "manifest.json"]
        );
    }

    #[test]
    fn a_reader_of_a_replaced_file_keeps_reading_it_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (path, spare) = manifest_in(&dir);
        write_bytes(&path, &large(b'a'));
        let mut reader = File::open(&path).unwrap();
        let mut start = [0u8; 10];
        reader.read_exact(&mut start).unwrap();
        // The file being read becomes the spare, and is then open in this
        // process (as a reader would hold it): the next write must not fill it.
        write_bytes(&path, &large(b'b'));
        assert_eq!(inode(&spare), reader.metadata().unwrap().ino());
        write_bytes(&path, b"new");

        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert_eq!(rest.len() + start.len(), large(b'a').len());
        assert!(rest.iter().all(|&b| b == b'a'));
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(fs::read(&spare).unwrap(), large(b'a'), "spare left alone");
    }

    #[test]
    fn a_spare_locked_by_another_writer_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (path, spare) = manifest_in(&dir);
        write_bytes(&path, &large(b'a'));
        write_bytes(&path, &large(b'b'));
        let other_writer = File::open(&spare).unwrap();
        other_writer.lock().unwrap();
        write_bytes(&path, b"new");
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(fs::read(&spare).unwrap(), large(b'a'));
        assert_eq!(
            names(path.parent().unwrap()),
            [".manifest.json.spare", "manifest.json"]
        );
    }

    #[test]
    fn a_failed_fill_leaves_the_old_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = manifest_in(&dir);
        let failing = |out: &mut (dyn Write + Send)| {
            out.write_all(b"half")?;
            Err(io::Error::other("serializing failed"))
        };
        // Once through a fresh file, once through the spare.
        for old in [large(b'a'), large(b'b')] {
            write_bytes(&path, &old);
            let err = write_with(&path, failing).unwrap_err();
            assert!(err.to_string().contains("serializing failed"), "{err}");
            assert!(err.to_string().contains("manifest.json"), "{err}");
            assert_eq!(fs::read(&path).unwrap(), old);
            assert!(
                names(path.parent().unwrap())
                    .iter()
                    .all(|n| !n.ends_with(".tmp")),
                "temporary file left behind"
            );
        }
    }

    #[test]
    fn symlinks_are_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let (path, spare) = manifest_in(&dir);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let elsewhere = dir.path().join("elsewhere.json");
        fs::write(&elsewhere, "kept").unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &spare).unwrap();
        for _ in 0..2 {
            write_bytes(&path, &large(b'a'));
        }
        assert_eq!(fs::read(&path).unwrap(), large(b'a'));
        assert!(!fs::symlink_metadata(&path).unwrap().is_symlink());
        assert_eq!(fs::read_to_string(&elsewhere).unwrap(), "kept");
    }

    #[test]
    fn write_json_reports_path_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should go makes the rename fail.
        let path = dir.path().join("taken");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inner"), "x").unwrap();
        let err = write_json(&1, &path).unwrap_err();
        assert!(err.to_string().contains("taken"), "{err}");
        assert_eq!(fs::read_to_string(path.join("inner")).unwrap(), "x");
        assert_eq!(names(dir.path()), ["taken"]);
    }
}
