//! Which store a command reads or writes: an index folder (`--index`) or a
//! PostgreSQL database (`--store postgres://…`).

use anyhow::{Context, Result};
use bubble_index::{Corpus, Index};
use std::path::PathBuf;

/// `--index DIR` or `--store URL`: exactly one.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// Index folder.
    #[arg(long, required_unless_present = "store", conflicts_with = "store")]
    pub index: Option<PathBuf>,
    /// A PostgreSQL database (with pgvector) holding the corpus instead of
    /// an index folder: `postgres://user@host:port/db`.
    #[arg(long)]
    pub store: Option<String>,
}

/// Opens what `args` names for reading, as the storage seam: an index
/// folder's committed generation, or a snapshot of a database.
pub fn open(args: &StoreArgs) -> Result<Box<dyn Corpus>> {
    match (&args.index, &args.store) {
        (_, Some(url)) => {
            let store = bubble_postgres::Store::connect(url, 4)?;
            Ok(Box::new(store.reader()?))
        }
        (Some(dir), None) => Ok(Box::new(
            Index::open(dir).with_context(|| format!("opening {}", dir.display()))?,
        )),
        (None, None) => anyhow::bail!("give --index DIR or --store URL"),
    }
}
