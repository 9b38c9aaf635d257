//! The write path: one thread owns the index's [`Writer`]; upserts and
//! deletes queue to it, and each time it wakes it stages everything queued
//! and commits once (group commit), then answers every request of the
//! batch and swaps the readers' snapshot. A 2xx therefore means durable.
//! Compaction runs on the same thread when the queue is empty.

use crate::error::{ApiError, ServerError};
use crate::state::{AppState, Backend};
use bubble_index::{
    BuildOptions, BuildReport, Compaction, DocumentWriter, Embedder, Index, IndexError, Writer,
};
use serde::Serialize;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// Most changes staged into one commit.
const MAX_BATCH: usize = 512;
/// Appended store segments before a compaction. A server commits one
/// small segment per batch, and a compaction stalls writes for as long as
/// it takes (seconds at SciFact's size), so it waits for many more
/// segments than the CLI's 32; the tombstone share still triggers it.
const MAX_SEGMENTS: usize = 1024;

/// A change a client asked for.
pub(crate) enum Change {
    Upsert { id: String, bytes: Vec<u8> },
    Delete { id: String },
}

/// What a committed change did.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Written {
    pub id: String,
    /// False when the content was already the index's (nothing committed).
    pub changed: bool,
    /// The generation that holds the change.
    pub generation: u64,
    /// Problems found inside the document (it is indexed nonetheless).
    pub warnings: Vec<String>,
}

struct Job {
    change: Change,
    reply: oneshot::Sender<Result<Written, ApiError>>,
}

/// The queue to the writer thread.
pub(crate) struct Writes {
    state: Weak<AppState>,
    sender: Mutex<Option<Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Changes queued or being committed (for `/metrics`).
    pub(crate) queued: std::sync::atomic::AtomicUsize,
}

impl Writes {
    pub(crate) fn placeholder(state: Weak<AppState>) -> Writes {
        Writes {
            state,
            sender: Mutex::new(None),
            thread: Mutex::new(None),
            queued: Default::default(),
        }
    }

    /// Opens the writer on its thread; returns the current snapshot (an
    /// index folder's; a database's readers open their own).
    pub(crate) fn start(
        &self,
        backend: &Backend,
        embedder: Option<Arc<Embedder>>,
    ) -> Result<Option<Arc<Index>>, ServerError> {
        let (tx, rx) = channel::<Job>();
        let (ready_tx, ready_rx) = channel::<Result<Option<Arc<Index>>, IndexError>>();
        let target = match backend {
            Backend::Index(dir) => Target::Index(dir.clone()),
            Backend::Postgres(store) => Target::Postgres(store.clone()),
        };
        let state = self.state.clone();
        let thread = std::thread::Builder::new()
            .name("bubble-writer".into())
            .spawn(move || {
                let writer = StoreWriter::open(&target, embedder.as_deref());
                let mut writer = match writer {
                    Ok(w) => {
                        let _ = ready_tx.send(Ok(w.reader()));
                        w
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                run(&mut writer, &rx, &state);
            })?;
        let first = ready_rx
            .recv()
            .map_err(|_| ServerError::Config("the writer thread stopped while opening".into()))??;
        *self.sender.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
        *self.thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(thread);
        Ok(first)
    }

    /// Queues `change` and waits for its commit.
    pub(crate) async fn submit(&self, change: Change) -> Result<Written, ApiError> {
        let (reply, answer) = oneshot::channel();
        {
            let sender = self.sender.lock().unwrap_or_else(|p| p.into_inner());
            let Some(sender) = sender.as_ref() else {
                return Err(ApiError::unavailable("the server is shutting down"));
            };
            self.queued
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            sender
                .send(Job { change, reply })
                .map_err(|_| ApiError::unavailable("the writer has stopped"))?;
        }
        answer
            .await
            .map_err(|_| ApiError::internal("the writer stopped before committing"))?
    }

    /// Stops taking changes, commits what is queued, and waits for it.
    pub(crate) fn close(&self) {
        self.sender.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}

/// Where the writer thread writes.
enum Target {
    Index(std::path::PathBuf),
    Postgres(bubble_postgres::Store),
}

/// The writer the thread owns: an index folder's, or a database's.
enum StoreWriter<'e> {
    Index(Box<Writer<'e>>),
    Postgres(bubble_postgres::Writer<'e>),
}

impl<'e> StoreWriter<'e> {
    fn open(target: &Target, embedder: Option<&'e Embedder>) -> Result<Self, IndexError> {
        Ok(match target {
            Target::Index(dir) => {
                let opts = BuildOptions {
                    // Commits stay cheap; compaction runs when the queue is idle.
                    compaction: Compaction {
                        automatic: false,
                        max_segments: MAX_SEGMENTS,
                        ..Compaction::default()
                    },
                    ..BuildOptions::default()
                };
                StoreWriter::Index(Box::new(Writer::open(dir, &opts, embedder)?))
            }
            Target::Postgres(store) => StoreWriter::Postgres(bubble_postgres::Writer::open(
                store,
                &bubble_postgres::WriterOptions::default(),
                embedder,
            )?),
        })
    }

    fn documents(&mut self) -> &mut dyn DocumentWriter {
        match self {
            StoreWriter::Index(w) => w.as_mut(),
            StoreWriter::Postgres(w) => w,
        }
    }

    /// The generation readers answer from after a commit: an index
    /// folder's (a database's readers open their own snapshots).
    fn reader(&self) -> Option<Arc<Index>> {
        match self {
            StoreWriter::Index(w) => w.reader(),
            StoreWriter::Postgres(_) => None,
        }
    }

    /// Whether an index folder has passed its compaction thresholds (a
    /// database keeps no tombstones to compact).
    fn needs_compaction(&self) -> bool {
        match self {
            StoreWriter::Index(w) => w.needs_compaction(),
            StoreWriter::Postgres(_) => false,
        }
    }
}

/// The writer thread's loop: until every sender is gone, take what is
/// queued, stage it, commit once, answer, swap the snapshot.
fn run(writer: &mut StoreWriter<'_>, rx: &Receiver<Job>, state: &Weak<AppState>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let count = batch.len();
        let mut staged = Vec::with_capacity(count);
        for job in batch {
            match stage(writer.documents(), job.change) {
                Ok(w) => staged.push((job.reply, w)),
                Err(e) => {
                    let _ = job.reply.send(Err(e));
                }
            }
        }
        let started = std::time::Instant::now();
        let outcome = writer
            .documents()
            .commit(&mut BuildReport::default(), &mut |_| {});
        if let Ok(c) = &outcome {
            tracing::info!(
                changes = staged.len(),
                embedded = c.embedded,
                embed_s = c.embed_seconds,
                write_s = c.write_seconds,
                total_s = started.elapsed().as_secs_f64(),
                "commit"
            );
        }
        let Some(state) = state.upgrade() else { return };
        match outcome {
            Ok(c) => {
                let generation = c.manifest.as_ref().map_or(0, |m| m.generation);
                state.set_snapshot(writer.reader());
                for (reply, mut w) in staged {
                    w.generation = generation;
                    let _ = reply.send(Ok(w));
                }
            }
            Err(e) => {
                tracing::error!("commit failed: {e}");
                // Nothing was acknowledged: the client may retry. A database
                // that is away (or read-only) is a 503, not a server bug.
                let away = matches!(e, IndexError::Store(_));
                for (reply, _) in staged {
                    let message = format!("commit failed: {e}");
                    let _ = reply.send(Err(if away {
                        ApiError::unavailable(message)
                    } else {
                        ApiError::internal(message)
                    }));
                }
            }
        }
        let left = state
            .writes
            .queued
            .fetch_sub(count, std::sync::atomic::Ordering::Relaxed)
            - count;
        // Compaction waits for a moment with nothing queued.
        if left == 0 && writer.needs_compaction() {
            compact(writer, &state);
        }
    }
}

fn compact(writer: &mut StoreWriter<'_>, state: &AppState) {
    let StoreWriter::Index(w) = writer else {
        return;
    };
    let started = std::time::Instant::now();
    match w.compact(&mut BuildReport::default(), &mut |_| {}) {
        Ok(_) => {
            state.set_snapshot(writer.reader());
            tracing::info!("compacted in {:.1} s", started.elapsed().as_secs_f64());
        }
        Err(e) => tracing::error!("compaction failed: {e}"),
    }
}

/// Stages one change; a bad document is the client's error, not the batch's.
fn stage(writer: &mut dyn DocumentWriter, change: Change) -> Result<Written, ApiError> {
    match change {
        Change::Upsert { id, bytes } => {
            let before = writer.file_hash(&id);
            let warnings = writer.upsert(&id, &bytes).map_err(|e| match e {
                IndexError::BadPath(_) => ApiError::bad_request(format!("bad document id {id:?}")),
                other => ApiError::bad_request(format!("document {id:?}: {other}")),
            })?;
            let changed = writer.file_hash(&id) != before;
            Ok(Written {
                id,
                changed,
                generation: 0,
                warnings,
            })
        }
        Change::Delete { id } => {
            if !writer.delete(&id) {
                return Err(ApiError::not_found(format!("no document {id:?}")));
            }
            Ok(Written {
                id,
                changed: true,
                generation: 0,
                warnings: Vec::new(),
            })
        }
    }
}
