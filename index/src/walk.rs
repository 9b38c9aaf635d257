//! Finding the files to index: directory walks that honour `.gitignore`,
//! hidden files, and include/exclude globs.

use crate::error::IndexError;
use bubble_ingest::detect_format;
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};

/// Which files a walk takes.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// If non-empty, only files matching one of these globs (on the path
    /// relative to the root given) are indexed.
    pub include: Vec<String>,
    /// Files matching one of these globs are skipped.
    pub exclude: Vec<String>,
}

/// A file found by a walk.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FoundFile {
    /// The path as it will be recorded: the root as given joined with the relative path.
    pub name: String,
    /// Where to read it.
    pub path: PathBuf,
}

/// What a walk found: files to parse, and entries it could not read or does not parse.
#[derive(Debug, Default)]
pub struct WalkResult {
    /// Files to parse, sorted by name.
    pub files: Vec<FoundFile>,
    /// `(path, reason)` of files that could not be read.
    pub skipped: Vec<(String, String)>,
    /// Files of types Bubble does not parse (images, archives...): not an
    /// error, since documentation folders are full of them.
    pub ignored: Vec<String>,
}

fn globset(globs: &[String]) -> Result<Option<GlobSet>, IndexError> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(Glob::new(g).map_err(|e| IndexError::Glob {
            glob: g.clone(),
            detail: e.to_string(),
        })?);
    }
    b.build().map(Some).map_err(|e| IndexError::Glob {
        glob: globs.join(","),
        detail: e.to_string(),
    })
}

/// Walks every root (a file or a folder) and returns the files to index.
pub fn walk(roots: &[PathBuf], opts: &WalkOptions) -> Result<WalkResult, IndexError> {
    let include = globset(&opts.include)?;
    let exclude = globset(&opts.exclude)?;
    let mut out = WalkResult::default();
    for root in roots {
        if !root.exists() {
            out.skipped.push((
                root.display().to_string(),
                "path does not exist".to_string(),
            ));
            continue;
        }
        let walker = ignore::WalkBuilder::new(root)
            .hidden(true)
            .git_ignore(true)
            .git_global(false)
            .git_exclude(true)
            .require_git(false)
            .follow_links(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    out.skipped
                        .push((root.display().to_string(), e.to_string()));
                    continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap_or(path);
            let matches = |set: &Option<GlobSet>| set.as_ref().map(|s| s.is_match(rel));
            if matches(&include) == Some(false) || matches(&exclude) == Some(true) {
                continue;
            }
            let name = display_name(path);
            if detect_format(path).is_none() {
                out.ignored.push(name);
                continue;
            }
            out.files.push(FoundFile {
                name,
                path: path.to_path_buf(),
            });
        }
    }
    out.files.sort();
    out.files.dedup();
    Ok(out)
}

/// The name a file is recorded under: its path with `/` separators, no `./`.
pub fn display_name(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").unwrap_or(&s).to_string()
}
