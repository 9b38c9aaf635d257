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
    /// The path as it is recorded ([`recorded_name`]): the same file has
    /// the same name however its root was spelled.
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

/// Walks every root (a file or a folder) and returns the files to index,
/// named relative to `base` (the index's root, an absolute canonical path).
pub fn walk(roots: &[PathBuf], opts: &WalkOptions, base: &Path) -> Result<WalkResult, IndexError> {
    let include = globset(&opts.include)?;
    let exclude = globset(&opts.exclude)?;
    let mut out = WalkResult::default();
    for root in roots {
        let canonical_root = match root.canonicalize() {
            Ok(c) => c,
            Err(e) => {
                let why = if root.exists() {
                    e.to_string()
                } else {
                    "path does not exist".to_string()
                };
                out.skipped.push((root.display().to_string(), why));
                continue;
            }
        };
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
            let name = recorded_name(&canonical_root.join(rel), base);
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
    // `docs` and `/abs/docs` given together are one set of files.
    out.files.sort();
    out.files.dedup_by(|a, b| a.name == b.name);
    Ok(out)
}

/// The name `path` (absolute, canonical) is recorded under: its path
/// relative to `base`, `/`-separated, with `..` steps when it lies outside
/// `base`, and `.` for `base` itself. Relative names keep citations short
/// and an index readable when its whole tree moves.
pub fn recorded_name(path: &Path, base: &Path) -> String {
    use std::path::Component;
    let path: Vec<Component<'_>> = path.components().collect();
    let base: Vec<Component<'_>> = base.components().collect();
    let shared = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); base.len() - shared];
    parts.extend(
        path[shared..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::recorded_name;
    use std::path::Path;

    #[test]
    fn names_are_relative_to_the_base() {
        let base = Path::new("/work/main");
        let name = |p: &str| recorded_name(Path::new(p), base);
        assert_eq!(name("/work/main/docs/a.md"), "docs/a.md");
        assert_eq!(name("/work/main"), ".");
        assert_eq!(name("/work/shared/data/c.jsonl"), "../shared/data/c.jsonl");
        assert_eq!(name("/etc/x.md"), "../../etc/x.md");
    }
}
