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

/// An opened store, read as the storage seam.
pub enum Opened {
    /// An index folder's committed generation.
    Embedded(Box<Index>),
    /// A snapshot of a database (the store kept for its pool).
    Postgres(Box<bubble_postgres::Reader>),
}

impl Opened {
    /// Opens what `args` names for reading.
    pub fn open(args: &StoreArgs) -> Result<Opened> {
        match (&args.index, &args.store) {
            (_, Some(url)) => {
                let store = bubble_postgres::Store::connect(url, 4)?;
                Ok(Opened::Postgres(Box::new(store.reader()?)))
            }
            (Some(dir), None) => Ok(Opened::Embedded(Box::new(
                Index::open(dir).with_context(|| format!("opening {}", dir.display()))?,
            ))),
            (None, None) => anyhow::bail!("give --index DIR or --store URL"),
        }
    }

    /// The store behind the seam.
    pub fn corpus(&self) -> &dyn Corpus {
        match self {
            Opened::Embedded(i) => i.as_ref(),
            Opened::Postgres(r) => r.as_ref(),
        }
    }
}
