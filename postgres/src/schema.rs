//! The tables, created and checked by Bubble.
//!
//! Written to be distributed on Citus by file path (a file's documents,
//! spans and unit vectors live together, and every primary key leads with
//! `path`), with no foreign keys between tables, so no constraint crosses
//! shards: `bubble_files`, `bubble_documents`, `bubble_spans`,
//! `bubble_units` and `bubble_postings` are distributed by `path`;
//! `bubble_terms` (BM25 document frequencies), `bubble_meta` and
//! `bubble_state` are small reference tables.

use crate::Store;
use bubble_index::IndexError;

/// Bumped whenever the tables change; a store of another version is refused.
pub const SCHEMA_VERSION: u32 = 2;

/// What a store was created with; a writer must match it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Tokenizer that counted every span's tokens.
    pub tokenizer: String,
    /// Embedding model id, `None` for a BM25-only store.
    pub model: Option<String>,
    /// Vector dimension (0 without a model).
    pub dim: usize,
    /// How block vectors were pooled.
    pub pooling: String,
    /// The folder file paths are recorded relative to.
    pub root: String,
}

fn ddl(dim: usize) -> String {
    let vector = if dim > 0 {
        format!("vector({dim})")
    } else {
        "vector".to_string()
    };
    let half = if dim > 0 {
        format!("halfvec({dim})")
    } else {
        "halfvec".to_string()
    };
    let mut sql = format!(
        "
        CREATE TABLE bubble_state (
            one boolean PRIMARY KEY DEFAULT true CHECK (one),
            generation bigint NOT NULL DEFAULT 0,
            next_ord bigint NOT NULL DEFAULT 0,
            next_doc bigint NOT NULL DEFAULT 0,
            files bigint NOT NULL DEFAULT 0,
            documents bigint NOT NULL DEFAULT 0,
            spans bigint NOT NULL DEFAULT 0,
            retrievable bigint NOT NULL DEFAULT 0,
            vectors bigint NOT NULL DEFAULT 0,
            unit_vectors bigint NOT NULL DEFAULT 0,
            tokens bigint NOT NULL DEFAULT 0,
            length_sum bigint NOT NULL DEFAULT 0
        );
        INSERT INTO bubble_state DEFAULT VALUES;
        CREATE TABLE bubble_files (
            path text PRIMARY KEY,
            content_hash text NOT NULL,
            doc_lo bigint NOT NULL,
            doc_hi bigint NOT NULL
        );
        CREATE TABLE bubble_documents (
            path text NOT NULL,
            doc_no bigint NOT NULL,
            doc_id text NOT NULL,
            source text NOT NULL,
            title text NOT NULL,
            content_hash text NOT NULL,
            metadata jsonb NOT NULL,
            ord_lo bigint NOT NULL,
            ord_hi bigint NOT NULL,
            PRIMARY KEY (path, doc_no)
        );
        CREATE INDEX bubble_documents_doc_no ON bubble_documents (doc_no);
        CREATE TABLE bubble_spans (
            path text NOT NULL,
            ord bigint NOT NULL,
            doc_no bigint NOT NULL,
            doc_id text NOT NULL,
            span_id text NOT NULL,
            kind smallint NOT NULL,
            parent_id text,
            heading_path text[] NOT NULL,
            byte_lo bigint NOT NULL,
            byte_hi bigint NOT NULL,
            line_lo integer NOT NULL,
            line_hi integer NOT NULL,
            tokens integer NOT NULL,
            body text NOT NULL,
            terms_len integer,
            embedding {vector},
            PRIMARY KEY (path, ord)
        );
        -- A search scores its hits from their rows: keep the vector in the
        -- row (a long body is moved out instead), so no hit is a TOAST
        -- fetch.
        ALTER TABLE bubble_spans ALTER COLUMN embedding SET STORAGE MAIN;
        CREATE INDEX bubble_spans_ord ON bubble_spans (ord);
        CREATE INDEX bubble_spans_doc ON bubble_spans (doc_no);
        CREATE INDEX bubble_spans_id ON bubble_spans (span_id);
        CREATE TABLE bubble_units (
            path text NOT NULL,
            ord bigint NOT NULL,
            doc_no bigint NOT NULL,
            embedding {half} NOT NULL,
            PRIMARY KEY (path, ord)
        );
        CREATE INDEX bubble_units_ord ON bubble_units (ord);
        CREATE INDEX bubble_units_doc ON bubble_units (doc_no);
        CREATE TABLE bubble_terms (
            term text PRIMARY KEY,
            df bigint NOT NULL
        );
        CREATE TABLE bubble_postings (
            path text NOT NULL,
            term text NOT NULL,
            ord bigint NOT NULL,
            tf integer NOT NULL,
            len integer NOT NULL,
            kind smallint NOT NULL,
            impact real NOT NULL,
            PRIMARY KEY (path, term, ord)
        );
        CREATE INDEX bubble_postings_term ON bubble_postings (term, impact DESC)
            INCLUDE (ord, tf, len, kind, path);
        "
    );
    if dim > 0 {
        // Inner product on unit vectors is the cosine; the graph's
        // parameters are the embedded index's.
        sql.push_str(
            "CREATE INDEX bubble_spans_embedding ON bubble_spans \
             USING hnsw (embedding vector_ip_ops) WITH (m = 16, ef_construction = 200);",
        );
    }
    sql
}

/// The settings a store was created with, or `None` when the database
/// holds no Bubble store; a store of another schema is an error.
pub(crate) fn read(store: &Store) -> Result<Option<Settings>, IndexError> {
    store.run(|client| async move {
        let exists = client
            .query_one("SELECT to_regclass('bubble_meta') IS NOT NULL", &[])
            .await?
            .get::<_, bool>(0);
        if !exists {
            return Ok(None);
        }
        let rows = client
            .query("SELECT key, value FROM bubble_meta", &[])
            .await?;
        let get = |k: &str| {
            rows.iter()
                .find(|r| r.get::<_, &str>(0) == k)
                .map(|r| r.get::<_, String>(1))
                .unwrap_or_default()
        };
        let found: u32 = get("schema_version").parse().unwrap_or(0);
        if found != SCHEMA_VERSION {
            return Err(crate::Failure::Index(IndexError::Store(format!(
                "the database holds a Bubble store of schema {found}; this build reads {SCHEMA_VERSION} \
                 (use a new database, or drop the bubble_* tables)"
            ))));
        }
        let model = get("model");
        Ok(Some(Settings {
            tokenizer: get("tokenizer"),
            model: (!model.is_empty()).then_some(model),
            dim: get("dim").parse().unwrap_or(0),
            pooling: get("pooling"),
            root: get("root"),
        }))
    })
}

/// Creates the tables for a store of `settings`, unless another writer
/// got there first (an advisory lock orders them); returns what the
/// store holds then.
pub(crate) fn create(store: &Store, settings: &Settings) -> Result<Settings, IndexError> {
    let settings = settings.clone();
    let created = store.run(|mut client| async move {
        let tx = client.transaction().await?;
        // One creator at a time: two replicas starting together.
        tx.execute("SELECT pg_advisory_xact_lock(4242424242)", &[])
            .await?;
        tx.batch_execute("CREATE EXTENSION IF NOT EXISTS vector")
            .await?;
        let exists = tx
            .query_one("SELECT to_regclass('bubble_meta') IS NOT NULL", &[])
            .await?
            .get::<_, bool>(0);
        if !exists {
            tx.batch_execute(
                "CREATE TABLE bubble_meta (key text PRIMARY KEY, value text NOT NULL);",
            )
            .await?;
            tx.batch_execute(&ddl(settings.dim)).await?;
            let dim = settings.dim.to_string();
            let pairs = [
                ("schema_version", SCHEMA_VERSION.to_string()),
                ("tokenizer", settings.tokenizer.clone()),
                ("model", settings.model.clone().unwrap_or_default()),
                ("dim", dim),
                ("pooling", settings.pooling.clone()),
                ("root", settings.root.clone()),
            ];
            for (k, v) in pairs {
                tx.execute(
                    "INSERT INTO bubble_meta (key, value) VALUES ($1, $2)",
                    &[&k, &v],
                )
                .await?;
            }
            // Who this store is: a process reading it tells a store dropped
            // and created again under it from the one it cached.
            tx.batch_execute(
                "INSERT INTO bubble_meta (key, value) VALUES ('born', gen_random_uuid()::text)",
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    });
    created?;
    read(store)?.ok_or_else(|| IndexError::Store("the store's tables vanished".into()))
}
