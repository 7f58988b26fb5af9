//! Small file-system helpers: private permissions, directory fsync, error mapping.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use crate::Error;

/// Maps an I/O failure to the crate error, naming the file and what was being done.
pub(super) fn io_error(path: &Path, doing: &str, err: &io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        kind: err.kind(),
        message: format!("{doing}: {err}"),
    }
}

/// Creates the journal directory if missing (owner-only, because it holds personal data).
pub(super) fn create_dir(dir: &Path) -> crate::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| io_error(dir, "could not create the journal directory", &e))
}

/// Options for a new file readable and writable by the owner only (mode 0600 on Unix).
fn private(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Writes `parts` to `dir/name.tmp`, fsyncs it, renames it to `dir/name` and fsyncs the
/// directory: afterwards the file exists with all its bytes, or (after a crash) not at
/// all, except for a `.tmp` leftover that opening the journal removes.
pub(super) fn write_atomically(dir: &Path, name: &str, parts: &[&[u8]]) -> crate::Result<()> {
    let tmp = dir.join(format!("{name}{}", super::format::TEMP_SUFFIX));
    let path = dir.join(name);
    let mut file = private(OpenOptions::new().write(true).create(true).truncate(true))
        .open(&tmp)
        .map_err(|e| io_error(&tmp, "could not create", &e))?;
    for part in parts {
        file.write_all(part)
            .map_err(|e| io_error(&tmp, "could not write", &e))?;
    }
    file.sync_all()
        .map_err(|e| io_error(&tmp, "could not fsync", &e))?;
    drop(file);
    fs::rename(&tmp, &path)
        .map_err(|e| io_error(&path, "could not rename the temporary file", &e))?;
    sync_dir(dir)
}

/// Opens a segment for appending.
pub(super) fn open_append(path: &Path) -> crate::Result<File> {
    OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| io_error(path, "could not open for appending", &e))
}

pub(super) fn open_read(path: &Path) -> crate::Result<File> {
    File::open(path).map_err(|e| io_error(path, "could not open for reading", &e))
}

pub(super) fn remove(path: &Path) -> crate::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        // Already gone is what we wanted.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(path, "could not delete", &e)),
    }
}

/// Makes creations, renames and deletions in `dir` durable.
pub(super) fn sync_dir(dir: &Path) -> crate::Result<()> {
    // Only Unix can open a directory to fsync it; elsewhere the rename is as durable
    // as the platform makes it.
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error(dir, "could not fsync the directory", &e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
