//! Carrying files from one generation into the next by hard link. Every
//! file a generation holds is written once and never modified (tantivy's
//! segments, store segments, vector files), so the next generation can
//! share them: a commit writes only what changed, and removing an old
//! generation unlinks names without touching what a reader still has open.

use crate::error::{IndexError, IoContext};
use std::path::Path;

/// Hard-links every file of folder `from` whose name passes `keep` into
/// folder `to` (created if missing). Not recursive: generation folders are flat.
pub(crate) fn link_files(
    from: &Path,
    to: &Path,
    keep: impl Fn(&str) -> bool,
) -> Result<(), IndexError> {
    std::fs::create_dir_all(to).io("creating", to)?;
    for entry in std::fs::read_dir(from).io("listing", from)? {
        let entry = entry.io("listing", from)?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !entry.file_type().io("listing", from)?.is_file() || !keep(name) {
            continue;
        }
        link(&entry.path(), &to.join(name))?;
    }
    Ok(())
}

/// Hard-links one file.
pub(crate) fn link(from: &Path, to: &Path) -> Result<(), IndexError> {
    std::fs::hard_link(from, to).io("linking", to)
}
