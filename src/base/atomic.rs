//! Atomic file writing: a reader (ParaView watching a folder, a script polling for results)
//! never sees a half-written file, and a failed write leaves any previous file intact.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Result, SimError};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The one-line IO error of `path`: `<path>: cannot <what>: <reason>`.
pub(crate) fn io_error(path: &Path, what: &str, e: &std::io::Error) -> SimError {
    SimError::Io {
        path: path.display().to_string(),
        message: format!("cannot {what}: {e}"),
    }
}

/// Writes a file through `fill`, first into a temporary file in the same directory
/// (`.<name>.<pid>.<n>.tmp`), then renames it over `path`. On any error the temporary
/// file is removed and `path` is left as it was.
pub fn write_atomic<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
{
    let name = path.file_name().ok_or_else(|| SimError::Io {
        path: path.display().to_string(),
        message: "not a file name; expected a path ending in a file name".to_string(),
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.{n}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);

    let file = File::create(&tmp).map_err(|e| io_error(path, "create a temporary file", &e))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let written = fill(&mut w)
        .and_then(|()| w.flush())
        .and_then(|()| w.get_ref().sync_all());
    drop(w);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_error(path, "write", &e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_error(path, "rename the temporary file onto it", &e)
    })
}
