//! Loading an aggregate folds only the events appended since the engine last loaded it,
//! and the result equals a replay from the first event.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use kui_domain::values::NeedLevel;
use kui_domain::{CaseCommand, Youth, YouthCommand};
use kui_engine::{Command, Engine, SeededIds};
use kui_log::{
    AppendOutcome, AppendRequest, Envelope, EventLog, EventRef, LogError, MemoryLog, Position, StreamId, Subscription,
    VerifyReport, Version,
};
use uuid::Uuid;

use crate::helpers::world;

/// A log that counts stream reads and the events they return.
struct CountingLog {
    inner: Arc<MemoryLog>,
    read: AtomicUsize,
    lookups: AtomicUsize,
}

impl CountingLog {
    fn over(inner: Arc<MemoryLog>) -> Arc<CountingLog> {
        Arc::new(CountingLog {
            inner,
            read: AtomicUsize::new(0),
            lookups: AtomicUsize::new(0),
        })
    }

    /// Events read since the last call.
    fn take(&self) -> usize {
        self.read.swap(0, Ordering::SeqCst)
    }

    /// Stream reads since the last call.
    fn take_lookups(&self) -> usize {
        self.lookups.swap(0, Ordering::SeqCst)
    }
}

impl EventLog for CountingLog {
    fn append(&self, request: AppendRequest) -> Result<AppendOutcome, LogError> {
        self.inner.append(request)
    }
    fn command_outcome(&self, command_id: Uuid) -> Result<Option<AppendOutcome>, LogError> {
        self.inner.command_outcome(command_id)
    }
    fn read_stream(&self, stream: &StreamId, from: Version) -> Result<Vec<Envelope>, LogError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        let envelopes = self.inner.read_stream(stream, from)?;
        self.read.fetch_add(envelopes.len(), Ordering::SeqCst);
        Ok(envelopes)
    }
    fn stream_version(&self, stream: &StreamId) -> Result<Option<Version>, LogError> {
        self.inner.stream_version(stream)
    }
    fn scan(
        &self,
        from: Position,
        to: Position,
        visit: &mut dyn FnMut(&Envelope) -> std::ops::ControlFlow<()>,
    ) -> Result<u64, LogError> {
        self.inner.scan(from, to, visit)
    }
    fn scan_events(
        &self,
        from: Position,
        to: Position,
        visit: &mut dyn FnMut(EventRef<'_>) -> std::ops::ControlFlow<()>,
    ) -> Result<u64, LogError> {
        self.inner.scan_events(from, to, visit)
    }
    fn head(&self) -> Result<Option<(Position, [u8; 32])>, LogError> {
        self.inner.head()
    }
    fn head_position(&self) -> Result<u64, LogError> {
        self.inner.head_position()
    }
    fn subscribe(&self, from: Position) -> Subscription {
        self.inner.subscribe(from)
    }
    fn import(&self, envelopes: &[Envelope]) -> Result<(), LogError> {
        self.inner.import(envelopes)
    }
    fn verify(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, LogError> {
        self.inner.verify(progress)
    }
}

#[test]
fn a_second_load_reads_only_what_was_appended_in_between() {
    let world = world();
    let youth = world.refer("010108-4321");
    let counting = CountingLog::over(world.log.clone());
    let engine = Engine::new(
        counting.clone(),
        world.engine.keys().clone(),
        world.clock.clone(),
        Arc::new(SeededIds::new(2)),
    );
    let replay = |engine: &Engine| engine.load::<Youth>(&youth.stream_name()).unwrap();

    let first = replay(&engine);
    assert_eq!(
        counting.take() as u64,
        first.1,
        "the first load replays the whole stream"
    );
    counting.take_lookups();
    assert_eq!(replay(&engine), first);
    assert_eq!(counting.take(), 0, "nothing new: nothing read");
    assert_eq!(counting.take_lookups(), 0, "nothing appended: not even a lookup");

    // Another engine over the same log appends; this engine's copy is older now.
    let assess = YouthCommand::Case(CaseCommand::AssessNeed {
        level: NeedLevel::C,
        assessed_by: world.counsellor,
        note: "several departments involved".into(),
    });
    world
        .engine
        .execute(Command::Youth(youth, assess), &world.as_counsellor())
        .expect("assess");
    let after = replay(&engine);
    assert_eq!(
        counting.take() as u64,
        after.1 - first.1,
        "only the new events are read"
    );
    let uncached = Engine::new(
        world.log.clone(),
        world.engine.keys().clone(),
        world.clock.clone(),
        Arc::new(SeededIds::new(3)),
    )
    .with_aggregate_cache(0);
    assert_eq!(after, replay(&uncached), "equal to a replay from the first event");
    assert_eq!(after.0.need_level, Some(NeedLevel::C));
    assert_eq!(replay(&engine), after);
    assert_eq!(counting.take(), 0, "the newer state is the one kept");
}

#[test]
fn commands_decide_on_the_cached_state_and_conflicts_still_hold() {
    let world = world();
    let youth = world.refer("010108-4321");
    let (_, version) = world.engine.youth(youth).ok().flatten().expect("referred");
    let assess = |level| {
        YouthCommand::Case(CaseCommand::AssessNeed {
            level,
            assessed_by: world.counsellor,
            note: String::new(),
        })
    };
    world
        .engine
        .execute(Command::Youth(youth, assess(NeedLevel::B)), &world.as_counsellor())
        .expect("assess");
    // Expecting the version the cache held before the assessment is a conflict.
    let stale = world.engine.execute(
        Command::Youth(youth, assess(NeedLevel::C)),
        &world.as_counsellor().expecting(version),
    );
    assert!(
        matches!(stale, Err(kui_engine::EngineError::Conflict { .. })),
        "{stale:?}"
    );
}

#[test]
fn an_append_elsewhere_costs_one_lookup_then_none() {
    let world = world();
    let youth = world.refer("010108-4321");
    let counting = CountingLog::over(world.log.clone());
    let engine = Engine::new(
        counting.clone(),
        world.engine.keys().clone(),
        world.clock.clone(),
        Arc::new(SeededIds::new(2)),
    );
    let load = || engine.load::<Youth>(&youth.stream_name()).unwrap();
    let first = load();
    counting.take();
    counting.take_lookups();

    // Another young person is referred: the log's head moves, this stream does not.
    world.refer("020208-4322");
    assert_eq!(load(), first);
    assert_eq!(
        (counting.take_lookups(), counting.take()),
        (1, 0),
        "one lookup, no events"
    );
    assert_eq!(load(), first);
    assert_eq!(counting.take_lookups(), 0, "checked at the new head: no lookup");
}
