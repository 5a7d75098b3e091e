//! The small valid log and export that the targets mutate, built once per process.
//!
//! Built through the public APIs (the engine's commands, the log's appends and export),
//! deterministically: a fixed clock and seeded ids give the same bytes on every run, so a
//! failing input found by one run fails the same way in the next.

use std::fs;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use chrono::{TimeZone, Utc};
use kui_domain::event::{AlarmSettings, MunicipalityConfigured, TeamCadence};
use kui_domain::values::{AgeBand, Department};
use kui_domain::{MunicipalityCode, MunicipalityCommand, StaffCommand, StaffId};
use kui_engine::{Actor, Command, CommandContext, Engine, FixedClock, SeededIds};
use kui_log::{
    AppendRequest, Envelope, EventLog, ExpectedVersion, Metadata, NewEvent, Position, StreamAppend, StreamId,
};
use kui_log_segment::{Acknowledge, LogOptions, SegmentLog};
use uuid::Uuid;

use crate::files;

/// The file name of a log's segment (documented in `kui_log::sled_log`).
pub const SEGMENT_FILE: &str = "events.seg";

/// Where the acknowledged records of a seed segment end, as its watermark says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acknowledged {
    /// The segment offset after the last acknowledged record.
    pub offset: u64,
    /// The last acknowledged position.
    pub position: u64,
}

/// A valid segment and what it holds.
#[derive(Debug, Clone)]
pub struct SeedSegment {
    /// The segment file's bytes (its records, then a few zeros as a log keeps ahead of
    /// its writer).
    pub bytes: Vec<u8>,
    /// What its watermark vouches for.
    pub acknowledged: Acknowledged,
}

/// Everything the targets start from.
#[derive(Debug)]
pub struct Seeds {
    /// A log whose watermark covers every record (as after a clean close).
    pub closed: SeedSegment,
    /// The same records under the header block of an earlier state: the last records lie
    /// after the watermark, as after a crash before they were acknowledged.
    pub lagging: SeedSegment,
    /// A segment holding only the header block of a new log.
    pub empty: Vec<u8>,
    /// Every event of the seed log, in position order.
    pub events: Vec<Envelope>,
    /// The NDJSON export of the seed log's domain events (the engine's commands).
    pub export: Vec<u8>,
}

/// Options for the logs the targets open: no sync (the targets test decisions on bytes,
/// not the disk), a small sled cache.
pub fn fuzz_log_options() -> LogOptions {
    LogOptions {
        fsync: false,
        cache_capacity_bytes: 1024 * 1024,
        persist_every_events: 131_072,
        acknowledge: Acknowledge::Synced,
    }
}

/// The seeds, built on first use.
pub fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(build)
}

/// Zeros after the records of a seed segment.
const ZEROS_AHEAD: usize = 512;

fn build() -> Seeds {
    let dir = files::temp_dir();
    let path = dir.path().join("log");
    let log = Arc::new(SegmentLog::open(&path, fuzz_log_options()).expect("a new log opens in a fresh directory"));
    let engine = Engine::new(
        log.clone(),
        Arc::new(kui_engine::keys::KeyStore::seeded(3)),
        Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0)
                .single()
                .expect("a valid date"),
        )),
        Arc::new(SeededIds::new(1)),
    );
    let system = CommandContext::by(Actor::system());
    for (code, name) in [(540, "Sønderborg"), (561, "Esbjerg")] {
        let municipality = MunicipalityCode::new(code).expect("a valid municipality code");
        let settings = MunicipalityConfigured {
            municipality,
            name: name.into(),
            age_band: AgeBand { from: 15, until: 30 },
            cadence: TeamCadence::USUAL,
            coordinator_capacity: 25,
            alarms: AlarmSettings::USUAL,
            retention: Default::default(),
            privacy: Default::default(),
            responsibility: Vec::new(),
        };
        engine
            .execute(
                Command::Municipality(municipality, MunicipalityCommand(settings)),
                &system,
            )
            .expect("configuring a municipality succeeds");
    }
    let people = [
        (1, "Mette Holm", Department::Uu, 540),
        (2, "Jonas Krogh", Department::JobCentre, 540),
        (3, "Ole Bak", Department::Uu, 561),
    ];
    for (n, name, department, code) in people {
        let staff_id = StaffId(Uuid::from_u128(0x5000 + n));
        let register = StaffCommand::Register {
            staff_id,
            name: name.into(),
            department,
            municipality: MunicipalityCode::new(code).expect("a valid municipality code"),
            capacity: 25,
        };
        engine
            .execute(Command::Staff(staff_id, register), &system)
            .expect("registering staff succeeds");
    }
    let mut export = Vec::new();
    kui_engine::Engine::export_ndjson(&engine, &mut export, &mut |_| {}).expect("the seed log exports");
    let acknowledged_early = state_of(&path, log.as_ref());
    // A request to two streams at once with a command id, and payloads that are not JSON:
    // records the engine does not write but the log must keep.
    log.append(raw_request()).expect("a raw append succeeds");
    drop(engine);
    let events = read_all(log.as_ref());
    let closed_acknowledged = state_of(&path, log.as_ref());
    drop(log);
    let segment = fs::read(path.join(SEGMENT_FILE)).expect("the seed segment is readable");
    let records = files::trim_zeros(&segment);
    let mut closed = records.to_vec();
    closed.resize(records.len() + ZEROS_AHEAD, 0);
    let header_len = usize::try_from(HEADER_BLOCK).expect("the header block fits in memory");
    let mut lagging = acknowledged_early.1[..header_len].to_vec();
    lagging.extend_from_slice(&closed[header_len..]);
    Seeds {
        closed: SeedSegment {
            bytes: closed,
            acknowledged: closed_acknowledged.0,
        },
        lagging: SeedSegment {
            bytes: lagging,
            acknowledged: acknowledged_early.0,
        },
        empty: empty_segment(),
        events,
        export,
    }
}

/// The segment's header block is this long (ADR 0002); records follow it.
pub const HEADER_BLOCK: u64 = 4096;

/// What the watermark of the log in `path` vouches for now, and the segment's bytes: the
/// last answered append is acknowledged, and the records end where the file's non-zero
/// bytes end (every record ends in a hash or an outcome).
fn state_of(path: &Path, log: &dyn EventLog) -> (Acknowledged, Vec<u8>) {
    let bytes = fs::read(path.join(SEGMENT_FILE)).expect("the seed segment is readable");
    let offset = files::trim_zeros(&bytes).len() as u64;
    let position = log.head_position().expect("the seed log answers");
    (Acknowledged { offset, position }, bytes)
}

/// The header block of a new, empty log, read from one.
fn empty_segment() -> Vec<u8> {
    let dir = files::temp_dir();
    let path = dir.path().join("log");
    drop(SegmentLog::open(&path, fuzz_log_options()).expect("a new log opens in a fresh directory"));
    let bytes = fs::read(path.join(SEGMENT_FILE)).expect("the new segment is readable");
    let header_len = usize::try_from(HEADER_BLOCK).expect("the header block fits in memory");
    bytes[..header_len.min(bytes.len())].to_vec()
}

fn raw_request() -> AppendRequest {
    let metadata = Metadata {
        actor: kui_log::Actor {
            staff_id: None,
            role: "system".into(),
            department: None,
        },
        command_id: Some(Uuid::from_u128(0xc0de)),
        causation_id: None,
        correlation_id: None,
        occurred_at: Utc.timestamp_opt(1_768_478_400, 0).single().expect("a valid time"),
        recorded_at: Utc.timestamp_opt(1_768_478_400, 0).single().expect("a valid time"),
    };
    let event = |n: u128, payload: &[u8]| NewEvent {
        event_id: Uuid::from_u128(0xe000 + n),
        event_type: "Opaque".into(),
        schema_version: 1,
        payload: payload.to_vec(),
        metadata: metadata.clone(),
    };
    AppendRequest {
        command_id: Some(Uuid::from_u128(0xc0de)),
        streams: vec![
            StreamAppend {
                stream: StreamId::new("raw-1").expect("a valid stream id"),
                expected: ExpectedVersion::NoStream,
                events: vec![event(1, b"not json"), event(2, &[0, 0xff, 0x10])],
            },
            StreamAppend {
                stream: StreamId::new("raw-2").expect("a valid stream id"),
                expected: ExpectedVersion::NoStream,
                events: vec![event(3, br#"{"a":[1,2,{"b":null}]}"#)],
            },
        ],
    }
}

/// Every event of `log`, in position order (small logs only).
pub(crate) fn read_all(log: &dyn EventLog) -> Vec<Envelope> {
    let mut events = Vec::new();
    log.scan(Position(1), Position(u64::MAX), &mut |envelope| {
        events.push(envelope.clone());
        std::ops::ControlFlow::Continue(())
    })
    .expect("a log that opened can be scanned");
    events
}

/// The targets, by the names of their functions (and of their corpus directories).
pub const TARGETS: [&str; 3] = ["segment", "ndjson", "graphql"];

/// The seed inputs of `target` (committed under `crates/fuzz/corpus/<target>/` as
/// `seed-<name>`, where the fuzzers start from): the valid seeds themselves and a few
/// meaningful variations of them. Empty for an unknown target.
pub fn corpus(target: &str) -> Vec<(&'static str, Vec<u8>)> {
    use crate::mutate::{encode, Op};
    let seeds = seeds();
    let with = |mode: u8, rest: &[u8]| {
        let mut input = vec![mode];
        input.extend_from_slice(rest);
        input
    };
    match target {
        "segment" => {
            let records_end = (seeds.closed.bytes.len() - ZEROS_AHEAD) as u32;
            let header = HEADER_BLOCK as usize;
            vec![
                ("closed-log", vec![2]),
                ("lagging-log", vec![3]),
                ("whole-file", with(0, &seeds.closed.bytes)),
                ("records-only", with(1, &seeds.closed.bytes[header..])),
                // The last record cut short after the watermark: an interrupted write.
                (
                    "lagging-zeroed-tail",
                    with(3, &encode(Op::Zero, records_end - 40, 39, 0)),
                ),
                // The same before the watermark: damage.
                (
                    "closed-zeroed-tail",
                    with(2, &encode(Op::Zero, records_end - 40, 39, 0)),
                ),
                (
                    "closed-truncated",
                    with(2, &encode(Op::Truncate, records_end - 100, 0, 0)),
                ),
                (
                    "lagging-flipped-byte",
                    with(3, &encode(Op::Flip, records_end - 300, 1, 0)),
                ),
            ]
        }
        "ndjson" => vec![("export", with(0, &seeds.export)), ("mutated-export", vec![1])],
        "graphql" => {
            // [token, mode, query]: token 3 is a Sønderborg caseworker, 5 an auditor, 7 an
            // analyst (see the target's token list).
            let query = |token: u8, text: &str| {
                let mut input = vec![token, 0];
                input.extend_from_slice(text.as_bytes());
                input
            };
            vec![
                ("youth-by-cpr", query(3, r#"{ youth(cpr: "010308-4321") { id name age team status version } }"#)),
                (
                    "young-people",
                    query(3, "{ youngPeople(first: 10) { totalCount edges { node { name team } } } }"),
                ),
                ("caseload", query(3, "{ caseload { coordinators { name active capacity overCapacity } } }")),
                ("alarms", query(3, r#"{ alarms(asOf: "2026-06-30") { due rule person { name } } }"#)),
                ("statistics", query(7, r#"{ statistics(asOf: "2026-10-31") { __typename } }"#)),
                ("verify-log", query(5, "{ verifyLog { ok events headPosition problem } }")),
                (
                    "fragments",
                    query(
                        3,
                        "query { ...A } fragment A on QueryRoot { youth(cpr: \"170308-4562\") { name } ...B } fragment B on QueryRoot { caseload { __typename } }",
                    ),
                ),
                ("introspection", query(6, "{ __schema { queryType { name } types { name } } }")),
                ("with-variables", {
                    let mut input = vec![3, 1];
                    input.extend_from_slice(b"query($c: String!) { youth(cpr: $c) { name } }\0{\"c\":\"010308-4321\"}");
                    input
                }),
                ("raw-body", {
                    let mut input = vec![3, 2];
                    input.extend_from_slice(br#"{"query":"{ teams(withinDays: 90) { teams { team } } }"}"#);
                    input
                }),
                ("no-token", query(0, "{ verifyLog { ok } }")),
                (
                    "refer",
                    query(
                        3,
                        r#"mutation { refer(input: {cpr: "170209-4563", name: "Bo Holm", schoolStatus: IN_EDUCATION, indicators: [], note: ""}) { aggregateId version } }"#,
                    ),
                ),
            ]
        }
        _ => Vec::new(),
    }
}
