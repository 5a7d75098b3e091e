//! Shared helpers for kui's benchmarks: opening logs, loading presets, the baseline
//! workload format, folding the log, percentiles.

use kui_engine::keys::{KeyStore, MasterKey};
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use kui_domain::{Aggregate, Event, Youth, YouthId};
use kui_engine::{Engine, FixedClock, SeededIds};
use kui_fixtures::Preset;
use kui_log::{
    Actor, AppendRequest, EventLog, ExpectedVersion, LogError, Metadata, NewEvent, Position, StreamAppend, StreamId,
};
use kui_log_segment::{LogOptions, OpenError, SegmentLog};
use uuid::Uuid;

/// Opens a log (fsync on) at `dir`.
pub fn open_log(dir: &Path) -> Result<Arc<SegmentLog>, OpenError> {
    SegmentLog::open(dir, LogOptions::durable()).map(Arc::new)
}

/// The key store of the bench log in `dir` (opened, or created beside a new log), sealed
/// under a fixed bench master key: the same work per event as a real key store.
pub fn keys(dir: &Path) -> Result<Arc<KeyStore>, String> {
    let master = MasterKey::from_bytes([0x6b; 32]);
    let path = KeyStore::path_in(dir);
    let store = if path.exists() {
        KeyStore::open(&path, &master).map(|(store, _)| store)
    } else {
        KeyStore::create(&path, &master)
    };
    store.map(Arc::new).map_err(|e| e.to_string())
}

/// An engine over `log` and its key store with a fixed clock at the presets' end date.
pub fn engine(log: Arc<SegmentLog>, keys: Arc<KeyStore>) -> Engine {
    let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 1)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .map(|t| t.and_utc())
        .unwrap_or_default();
    Engine::new(log, keys, Arc::new(FixedClock::new(now)), Arc::new(SeededIds::new(7)))
}

/// Loads `preset` into the (empty) log at `dir` unless it holds events already; returns
/// the number of events and whether it was loaded now.
pub fn ensure_preset(dir: &Path, preset: &Preset) -> Result<(Arc<SegmentLog>, u64, bool), String> {
    let log = open_log(dir).map_err(|e| e.to_string())?;
    if let Some((head, _)) = log.head().map_err(|e| e.to_string())? {
        return Ok((log, head.0, false));
    }
    let stats = kui_fixtures::load(log.as_ref(), &keys(dir)?, preset, &mut |_| {}).map_err(|e| e.to_string())?;
    Ok((log, stats.events, true))
}

/// One event of the baseline workload (`shared/baselines/gen_workload.py`): stream, version, type, payload.
pub struct WorkloadEvent {
    /// Stream name.
    pub stream: String,
    /// Version in its stream.
    pub version: u64,
    /// Event type.
    pub event_type: String,
    /// JSON payload.
    pub payload: Vec<u8>,
}

/// Reads the first `limit` events of a baseline workload TSV file.
pub fn read_workload(path: &Path, limit: usize) -> Result<Vec<WorkloadEvent>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::with_capacity(limit.min(1 << 22));
    for (n, line) in std::io::BufReader::new(file).lines().take(limit).enumerate() {
        let line = line.map_err(|e| e.to_string())?;
        let mut fields = line.splitn(4, '\t');
        let (Some(stream), Some(version), Some(event_type), Some(payload)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(format!("line {}: expected 4 tab-separated fields", n + 1));
        };
        out.push(WorkloadEvent {
            stream: format!("w-{stream}"),
            version: version.parse().map_err(|_| format!("line {}: bad version", n + 1))?,
            event_type: event_type.to_owned(),
            payload: payload.as_bytes().to_vec(),
        });
    }
    Ok(out)
}

/// A synthetic workload like the baseline's: `n_streams` streams, `n` events, ~300-byte payloads.
pub fn synthetic_workload(n: usize, n_streams: usize) -> Vec<WorkloadEvent> {
    let mut versions = vec![0u64; n_streams.max(1)];
    (0..n)
        .map(|i| {
            let stream_idx = (i.wrapping_mul(2_654_435_761)) % versions.len();
            versions[stream_idx] += 1;
            let payload = format!(
                r#"{{"type":"PlanUpdated","youth_id":"{stream_idx:08}","goal":"start at FGU after the summer holiday","actions":["visit FGU","meeting with UU counsellor","PPR assessment"],"at":"2026-03-01T10:00:00Z","actor":"staff-{}","note":"plan revision {i} agreed at the team meeting with the young person and a parent present"}}"#,
                i % 97
            );
            WorkloadEvent {
                stream: format!("w-{stream_idx:08}"),
                version: versions[stream_idx],
                event_type: "PlanUpdated".into(),
                payload: payload.into_bytes(),
            }
        })
        .collect()
}

/// An append request for one workload event, checked against its expected version.
pub fn request(event: &WorkloadEvent, event_id: u128) -> Result<AppendRequest, LogError> {
    let expected = if event.version <= 1 {
        ExpectedVersion::NoStream
    } else {
        ExpectedVersion::Exact(kui_log::Version(event.version - 1))
    };
    let now = chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default();
    Ok(AppendRequest {
        command_id: None,
        streams: vec![StreamAppend {
            stream: StreamId::new(event.stream.clone())?,
            expected,
            events: vec![NewEvent {
                event_id: Uuid::from_u128(event_id),
                event_type: event.event_type.clone(),
                schema_version: 1,
                payload: event.payload.clone(),
                metadata: Metadata {
                    actor: Actor {
                        staff_id: None,
                        role: "system".into(),
                        department: None,
                    },
                    command_id: None,
                    causation_id: None,
                    correlation_id: None,
                    occurred_at: now,
                    recorded_at: now,
                },
            }],
        }],
    })
}

/// What a full replay folded.
#[derive(Debug, Default)]
pub struct Folded {
    /// Events visited.
    pub events: u64,
    /// Young people folded.
    pub youth: usize,
    /// Events per type.
    pub by_type: HashMap<&'static str, u64>,
}

/// Events handed to a fold worker at a time.
const FOLD_BATCH: usize = 2_048;

/// One stored event as a fold worker needs it.
struct Raw {
    youth: Option<YouthId>,
    event_type: String,
    schema_version: u16,
    payload: Vec<u8>,
    position: u64,
}

/// Replays the whole log: decodes every payload into its domain event (upcasting as
/// needed) and folds each young person's events into a `Youth` aggregate.
///
/// The scan runs on the calling thread; decoding and folding run on `workers` threads,
/// each owning the young people whose id hashes to it, so every stream is still folded
/// in order.
pub fn fold_all(log: &dyn EventLog, workers: usize) -> Result<Folded, String> {
    let workers = workers.max(1);
    let mut senders = Vec::with_capacity(workers);
    let mut handles = Vec::with_capacity(workers);
    for _ in 0..workers {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<Raw>>(4);
        senders.push(sender);
        handles.push(std::thread::spawn(move || -> Result<Folded, String> {
            let mut youth: HashMap<YouthId, Youth> = HashMap::new();
            let mut folded = Folded::default();
            for batch in receiver {
                for raw in batch {
                    let event = Event::decode(&raw.event_type, raw.schema_version, &raw.payload)
                        .map_err(|error| format!("position {}: {error}", raw.position))?;
                    *folded.by_type.entry(event.event_type()).or_default() += 1;
                    if let Some(id) = raw.youth {
                        youth.entry(id).or_default().apply(&event);
                    }
                    folded.events += 1;
                }
            }
            folded.youth = youth.len();
            Ok(folded)
        }));
    }
    let mut batches: Vec<Vec<Raw>> = (0..workers).map(|_| Vec::with_capacity(FOLD_BATCH)).collect();
    let scanned = kui_log::try_scan(log, Position(1), Position(u64::MAX), |envelope| {
        let youth = YouthId::from_stream_name(envelope.stream.as_str());
        let lane = youth.map(|id| (id.0.as_u128() % workers as u128) as usize).unwrap_or(0);
        batches[lane].push(Raw {
            youth,
            event_type: envelope.event_type.clone(),
            schema_version: envelope.schema_version,
            payload: envelope.payload.clone(),
            position: envelope.position.0,
        });
        if batches[lane].len() >= FOLD_BATCH {
            let batch = std::mem::replace(&mut batches[lane], Vec::with_capacity(FOLD_BATCH));
            senders[lane].send(batch).map_err(|_| LogError::Closed)?;
        }
        Ok::<(), LogError>(())
    });
    for (lane, batch) in batches.into_iter().enumerate() {
        if !batch.is_empty() {
            // A worker that stopped early reports its own error below.
            let _ = senders[lane].send(batch);
        }
    }
    drop(senders);
    let mut total = Folded::default();
    for handle in handles {
        let folded = handle.join().map_err(|_| "fold worker panicked".to_string())??;
        total.events += folded.events;
        total.youth += folded.youth;
        for (event_type, count) in folded.by_type {
            *total.by_type.entry(event_type).or_default() += count;
        }
    }
    scanned.map_err(|e| e.to_string())?;
    Ok(total)
}

/// The q-quantile of sorted samples.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}
