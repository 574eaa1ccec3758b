//! Atomic file writes: the bytes go to a temporary file beside the target, which is synced and
//! then renamed over it, so a reader (or a crash) never sees a half-written file.

use std::io::{Error, Write};
use std::path::Path;

/// Writes `bytes` to `path` atomically: a temporary file `.NAME.XXXXXX.tmp` in the same
/// folder, synced, given the permissions of the file it replaces (or 0644 for a new one),
/// then renamed over `path`; the folder is synced after the rename. On error the temporary
/// file is removed and `path` is untouched. Each error says which step failed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    persist(write_temp(path, bytes)?, path)
}

/// `bytes` written and synced to a temporary file beside `path` (removed if dropped), for a
/// caller that writes several files in full before renaming any.
pub(crate) fn write_temp(path: &Path, bytes: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| {
            Error::new(
                e.kind(),
                format!("cannot create a temporary file in {}: {e}", dir.display()),
            )
        })?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .and_then(|_| {
            // A temporary file is private (0600); give the result the target's permissions,
            // or the usual ones of a new file.
            match std::fs::metadata(path) {
                Ok(m) => tmp.as_file().set_permissions(m.permissions()),
                Err(_) => set_new_file_permissions(tmp.as_file()),
            }
        })
        .map_err(|e| Error::new(e.kind(), format!("cannot write: {e}")))?;
    Ok(tmp)
}

/// Renames the finished temporary file over `path` (the atomic step) and syncs the folder.
pub(crate) fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> std::io::Result<()> {
    tmp.persist(path).map_err(|e| {
        Error::new(
            e.error.kind(),
            format!("cannot replace the file: {}", e.error),
        )
    })?;
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Makes the rename itself durable; a failure here loses nothing already written.
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

#[cfg(unix)]
fn set_new_file_permissions(f: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_new_file_permissions(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}
