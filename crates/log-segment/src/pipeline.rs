//! Starting the write pipeline: the writer, flusher, acker, persister and extender
//! threads and what connects them.

use std::collections::HashMap;
use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::codec::{self};
use crate::extender::{Extender, Extent};
use crate::flusher::{FlushQueue, Flusher};
use crate::persister::Persister;
use crate::records::WatermarkWriter;
use crate::segment_log::{Acknowledge, Shared};
use crate::writer::{Completion, Writer, WriterMsg};

/// How the flusher makes groups durable and where the writer writes.
pub(crate) struct FlushSettings {
    pub(crate) fsync: bool,
    /// When the writer answers appends.
    pub(crate) acknowledge: Acknowledge,
    /// The segment file, for the writer's positional writes.
    pub(crate) segment: File,
    /// The segment file again, for the flusher's `sync_data`.
    pub(crate) sync_handle: File,
    /// Writes the acknowledgement watermark, after each sync and before its answers.
    pub(crate) watermark: WatermarkWriter,
    /// Segment offset the next record goes to (the end of the last good record).
    pub(crate) end_offset: u64,
    /// Write the derived index data to sled after this many new events.
    pub(crate) persist_every: usize,
    /// The persisted chunk directory covers chunks up to this first position.
    pub(crate) persisted_chunks: u64,
}

/// The pipeline threads.
pub(crate) struct Threads {
    pub(crate) writer: JoinHandle<()>,
    pub(crate) flusher: JoinHandle<()>,
    pub(crate) acker: JoinHandle<()>,
    pub(crate) persister: JoinHandle<()>,
    pub(crate) extender: JoinHandle<()>,
}

/// Starts the writer and flusher threads; `head` is the recovered head of the log.
pub(crate) fn spawn(
    shared: Arc<Shared>,
    receiver: Receiver<WriterMsg>,
    head: Option<(u64, [u8; 32])>,
    settings: FlushSettings,
) -> std::io::Result<Threads> {
    let queue = Arc::new(FlushQueue::default());
    let (acks, pending_acks) = mpsc::channel::<Vec<Completion>>();
    // Waking dozens of requesters one by one takes a while; a separate thread does it so
    // the flusher can start the next sync right away.
    let acker = std::thread::Builder::new()
        .name("kui-log-acker".into())
        .spawn(move || {
            while let Ok(completions) = pending_acks.recv() {
                for completion in completions {
                    completion.send();
                }
            }
        })?;
    let FlushSettings {
        fsync,
        acknowledge,
        segment,
        sync_handle,
        watermark,
        end_offset,
        persisted_chunks,
        persist_every,
    } = settings;

    let (persist_jobs, jobs) = mpsc::channel();
    let persist_in_flight = Arc::new(AtomicBool::new(false));
    let persister = Persister {
        shared: Arc::clone(&shared),
        segment: segment.try_clone()?,
        fsync,
        persisted_chunks,
        jobs,
        in_flight: Arc::clone(&persist_in_flight),
    };
    let persister = std::thread::Builder::new()
        .name("kui-log-persister".into())
        .spawn(move || persister.run())?;
    let extent = Arc::new(Extent {
        zeros_to: Mutex::new(end_offset),
        known: AtomicU64::new(end_offset),
        written_to: AtomicU64::new(end_offset),
        in_flight: AtomicBool::new(false),
    });
    let (extend_requests, requests) = mpsc::channel();
    let extender = Extender {
        shared: Arc::clone(&shared),
        segment: segment.try_clone()?,
        fsync,
        extent: Arc::clone(&extent),
        requests,
    };
    let extender = std::thread::Builder::new()
        .name("kui-log-extend".into())
        .spawn(move || extender.run())?;
    let flusher = Flusher {
        shared: Arc::clone(&shared),
        queue: Arc::clone(&queue),
        fsync,
        segment: sync_handle,
        acks,
        watermark,
    };
    let flusher = std::thread::Builder::new()
        .name("kui-log-flusher".into())
        .spawn(move || flusher.run())?;
    let writer = Writer {
        shared,
        receiver,
        queue,
        heads: HashMap::new(),
        next_position: head.map_or(1, |(position, _)| position + 1),
        last_hash: head.map_or(codec::ZERO_HASH, |(_, hash)| hash),
        segment,
        end_offset,
        extent,
        extend_requests: Some(extend_requests),
        persist_jobs: Some(persist_jobs),
        persist_in_flight,
        persist_every,
        acknowledge,
    };
    let writer = std::thread::Builder::new()
        .name("kui-log-writer".into())
        .spawn(move || writer.run())?;
    Ok(Threads {
        writer,
        flusher,
        acker,
        persister,
        extender,
    })
}

pub(crate) fn elapsed_micros(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// An error's message followed by its sources.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
