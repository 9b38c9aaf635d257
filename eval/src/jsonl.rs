//! Reading JSONL question files, and writing converted datasets as
//! Bubble's JSONL input, atomically.

use crate::EvalError;
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Reads one `T` per non-empty line of a JSONL file; a bad line is an
/// error naming the file and line.
pub(crate) fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l).map_err(|e| EvalError::Format {
                what: format!("{} line {}", path.display(), n + 1),
                detail: e.to_string(),
            })
        })
        .collect()
}

/// One JSONL record as Bubble's ingester reads it.
#[derive(Serialize)]
pub(crate) struct Record<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub text: &'a str,
}

/// Writes one `{"id", "title", "text"}` line per record to `<path>.tmp`,
/// syncs it and renames it over `path` (creating the parent folder), so a
/// crash never leaves a truncated corpus a later run would take as complete.
pub(crate) fn write_records<'a>(
    path: &Path,
    records: impl Iterator<Item = Record<'a>>,
) -> Result<(), EvalError> {
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| EvalError::Io { path: p, source }
    };
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    let mut out = BufWriter::new(File::create(&tmp).map_err(io_err(&tmp))?);
    for r in records {
        let line = serde_json::to_string(&r).map_err(|source| EvalError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        out.write_all(line.as_bytes()).map_err(io_err(&tmp))?;
        out.write_all(b"\n").map_err(io_err(&tmp))?;
    }
    let file = out.into_inner().map_err(|e| io_err(&tmp)(e.into_error()))?;
    file.sync_all().map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
}
