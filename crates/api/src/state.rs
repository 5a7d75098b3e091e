//! What the API runs on: the engine (with its read models), the access log,
//! authentication, limits, readiness, read-your-writes waits and the report cache.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kui_engine::Engine;

use crate::access_log::AccessLog;
use crate::auth::Authenticator;
use crate::error::ApiError;

/// Request limits. Built explicitly by the binary; [`Limits::recommended`] gives the
/// values the CLI uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of fields accepted, introspection (`__schema`, `__type`) not
    /// counted.
    pub max_depth: u64,
    /// Most fields a document may expand to, every operation and fragment definition
    /// counted with its spreads expanded (validation walks them all that way): checked on
    /// the parsed document before anything else, in time linear in the text.
    pub max_fields: u64,
    /// Most fields at the root of an operation, once fragments are expanded.
    pub max_root_fields: u64,
    /// Most aliased fields in an operation, once fragments are expanded.
    pub max_aliases: u64,
    /// Most root fields of one request that read and record one case (`youth`,
    /// `history`, `meeting`): each appends to the access log before it answers.
    pub max_case_reads: u64,
    /// Most `verifyLog` fields of one request: each re-reads the whole log.
    pub max_verifications: u64,
    /// Highest weighted cost of an operation (`graphql/cost.rs` has the weights).
    pub max_cost: u64,
    /// Most directives on one field.
    pub max_directives: usize,
    /// Largest request body, in bytes (also the largest WebSocket message).
    pub max_body_bytes: usize,
    /// Whether schema introspection is answered.
    pub introspection: bool,
    /// How long a mutation with `waitForProjections` waits at most.
    pub projection_wait: Duration,
    /// How long a query or mutation may run; past it the request is answered with
    /// `DEADLINE_EXCEEDED` and its work is dropped (folds stop, see [`FoldGate`]).
    pub deadline: Duration,
    /// Folds of the whole log (reports as of a past date) that may run at once.
    pub max_folds: usize,
    /// Requests that may wait for a fold to start; beyond them a request is `BUSY`.
    pub max_waiting_folds: usize,
    /// Events a report as of a past date may read without a turn at the fold gate: the
    /// read models keep folds of recent past days and bring them up to date, which for a
    /// few thousand new events takes milliseconds, while a day not kept folds the whole
    /// log and waits its turn.
    pub fold_in_place: u64,
}

impl Limits {
    /// Depth 12, 2,000 expanded fields, 100 root fields, 100 aliases, 50 case reads, one
    /// `verifyLog`, cost 5,000, 8 directives per field, 256 KiB bodies, introspection on,
    /// 5 s projection waits, a 30 s deadline, 2 folds at once and 8 waiting, 65,536 events
    /// read in place.
    pub fn recommended() -> Limits {
        Limits {
            max_depth: 12,
            max_fields: 2_000,
            max_root_fields: 100,
            max_aliases: 100,
            max_case_reads: 50,
            max_verifications: 1,
            max_cost: 5_000,
            max_directives: 8,
            max_body_bytes: 256 * 1024,
            introspection: true,
            projection_wait: Duration::from_secs(5),
            deadline: Duration::from_secs(30),
            max_folds: 2,
            max_waiting_folds: 8,
            fold_in_place: 65_536,
        }
    }
}

/// Whether the server should receive traffic. `GET /ready` answers 200 only when the
/// check passes (by default: the logs answer and the read models have caught up).
pub trait Readiness: Send + Sync {
    /// `Ok` when ready, otherwise why not. Called on a blocking thread.
    fn check(&self) -> Result<(), String>;
}

impl<F> Readiness for F
where
    F: Fn() -> Result<(), String> + Send + Sync,
{
    fn check(&self) -> Result<(), String> {
        self()
    }
}

/// Waits until the read models have applied a log position (read-your-writes for
/// mutations sent with `waitForProjections: true`).
///
/// [`ApiState::new`] uses the engine's read models when they are attached, and
/// [`NoReadModels`] (which returns at once) otherwise.
pub trait ProjectionWaiter: Send + Sync {
    /// Blocks until every read model has applied `position` (true) or `timeout` passed
    /// (false). Called on a blocking thread.
    fn wait(&self, position: u64, timeout: Duration) -> bool;
}

impl ProjectionWaiter for kui_engine::read_models::Projections {
    fn wait(&self, position: u64, timeout: Duration) -> bool {
        self.wait_for(position, timeout)
    }
}

/// The waiter while there are no read models: everything is caught up at once.
#[derive(Debug, Clone, Copy)]
pub struct NoReadModels;

impl ProjectionWaiter for NoReadModels {
    fn wait(&self, _position: u64, _timeout: Duration) -> bool {
        true
    }
}

/// Everything a request needs; cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    /// The engine over the case log.
    pub engine: Engine,
    /// The access log (a second event log).
    pub access_log: AccessLog,
    /// Token verification.
    pub auth: Authenticator,
    /// Request limits.
    pub limits: Limits,
    /// `GET /ready`.
    pub readiness: Arc<dyn Readiness>,
    /// Read-your-writes waits.
    pub projections: Arc<dyn ProjectionWaiter>,
    /// Read-model reports computed at a log position, reused until the models move on.
    pub reports: Arc<ReportCache>,
    /// Admits folds of the whole log, a few at a time.
    pub folds: Arc<FoldGate>,
    /// The log's verification, one at a time for every caller.
    pub verifications: Arc<Verifications>,
    /// Parsed query texts (which may hold a CPR number or a name as a literal): emptied
    /// by every erasure.
    pub(crate) parse_cache: crate::graphql::ParseCache,
}

/// `verifyLog` re-reads and re-hashes the whole log: it runs once at a time for every
/// caller. A caller waits for the verification running (and then takes its outcome if
/// the log has not moved since), and an outcome is reused while the log's head stays
/// where it was verified. The verification runs to its end even if every caller leaves,
/// so its outcome serves the next one.
#[derive(Default)]
pub struct Verifications {
    /// The last outcome with the head it was computed at; locked while one runs.
    pub(crate) last: Arc<tokio::sync::Mutex<Option<(u64, crate::graphql::types::VerifyView)>>>,
    runs: std::sync::atomic::AtomicU64,
}

impl Verifications {
    /// How many verifications ran.
    pub fn runs(&self) -> u64 {
        self.runs.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Counts one run.
    pub(crate) fn started(&self) {
        self.runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Admits the folds of the whole log that requests start (a report as of a past date
/// that the read models do not keep folds every event again, seconds of a core on a
/// large log): at most `running` at once and `waiting` more in line; a request beyond
/// them is refused with `BUSY` rather than queued without bound. A request that is
/// dropped while in line leaves it.
pub struct FoldGate {
    permits: Arc<tokio::sync::Semaphore>,
    waiting: std::sync::atomic::AtomicUsize,
    max_waiting: usize,
}

/// Leaves the line of a [`FoldGate`] when dropped, whether the request got its turn or
/// was dropped while waiting.
struct InLine<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for InLine<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl FoldGate {
    /// A gate for `running` folds at once and `waiting` more in line.
    pub fn new(running: usize, waiting: usize) -> FoldGate {
        FoldGate {
            permits: Arc::new(tokio::sync::Semaphore::new(running)),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            max_waiting: waiting,
        }
    }

    /// A permit to fold, once one is free: hold it until the fold has ended (move it to
    /// the blocking thread that folds). `BUSY` when the line is full.
    pub async fn enter(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
            return Ok(permit);
        }
        let ahead = self.waiting.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _in_line = InLine(&self.waiting);
        if ahead >= self.max_waiting {
            return Err(ApiError::Busy {
                what: "reports as of a past date",
            });
        }
        Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|closed| ApiError::internal(&closed))
    }
}

/// Reports (teams, caseload, alarms, ...) computed from the read models, each kept with
/// the models' position and the date it was computed for: a report is reused until the
/// models apply another event or the day changes, so a busy dashboard costs one
/// computation per change instead of one per request. Callers that miss the same report
/// at once compute it once: the others wait for it. Keys and sizes come from request
/// arguments (a page length, a number of days), so the cache is bounded in bytes: each
/// report is charged its [`HeapSize`], one larger than [`ReportCache::BUDGET`] is not
/// kept, and the cache starts over when the next report would not fit.
#[derive(Default)]
pub struct ReportCache {
    entries: std::sync::Mutex<Reports>,
    /// One gate per report being computed.
    computing: std::sync::Mutex<HashMap<String, Arc<std::sync::Mutex<()>>>>,
}

#[derive(Default)]
struct Reports {
    by_key: HashMap<String, CachedReport>,
    /// What the reports kept are charged, together.
    bytes: usize,
}

/// One cached report: the position and day it describes, the value and its charge.
struct CachedReport {
    position: u64,
    day: chrono::NaiveDate,
    value: Arc<dyn Any + Send + Sync>,
    bytes: usize,
}

/// The heap a value holds below itself, estimated from its strings and vectors (their
/// capacity), so that caches of values can be bounded in bytes.
pub trait HeapSize {
    /// Bytes allocated below the value (its own size is its container's business).
    fn heap_size(&self) -> usize;
}

impl HeapSize for String {
    fn heap_size(&self) -> usize {
        self.capacity()
    }
}

impl HeapSize for async_graphql::ID {
    fn heap_size(&self) -> usize {
        self.0.capacity()
    }
}

impl<T: HeapSize> HeapSize for Option<T> {
    fn heap_size(&self) -> usize {
        self.as_ref().map_or(0, HeapSize::heap_size)
    }
}

impl<T: HeapSize> HeapSize for Vec<T> {
    fn heap_size(&self) -> usize {
        self.capacity() * std::mem::size_of::<T>() + self.iter().map(HeapSize::heap_size).sum::<usize>()
    }
}

impl<T: HeapSize> HeapSize for Arc<T> {
    fn heap_size(&self) -> usize {
        std::mem::size_of::<T>() + (**self).heap_size()
    }
}

impl<A: HeapSize, B: HeapSize> HeapSize for (A, B) {
    fn heap_size(&self) -> usize {
        self.0.heap_size() + self.1.heap_size()
    }
}

/// Values that hold nothing below themselves.
macro_rules! no_heap {
    ($($ty:ty),* $(,)?) => {
        $(impl HeapSize for $ty {
            fn heap_size(&self) -> usize {
                0
            }
        })*
    };
}

no_heap!(
    u8,
    u16,
    u32,
    u64,
    usize,
    i32,
    bool,
    chrono::NaiveDate,
    kui_domain::MunicipalityCode
);

impl ReportCache {
    /// The most bytes the kept reports may be charged.
    pub const BUDGET: usize = 64 * 1024 * 1024;

    /// Forgets every kept report.
    pub fn clear(&self) {
        let mut reports = self.lock();
        reports.by_key.clear();
        reports.bytes = 0;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Reports> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn gates(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<std::sync::Mutex<()>>>> {
        self.computing.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The report under `key` if it describes the models at `position` on `day`.
    pub fn get<T: Clone + Send + Sync + 'static>(&self, key: &str, position: u64, day: chrono::NaiveDate) -> Option<T> {
        match self.lock().by_key.get(key) {
            Some(report) if report.position == position && report.day == day => {
                report.value.downcast_ref::<T>().cloned()
            }
            _ => None,
        }
    }

    /// The report under `key` for models at `position` on `day`: the cached one when it
    /// describes exactly that, else `make()` (cached for the next caller).
    pub fn get_or<T: Clone + HeapSize + Send + Sync + 'static>(
        &self,
        key: String,
        position: u64,
        day: chrono::NaiveDate,
        make: impl FnOnce() -> T,
    ) -> T {
        if let Some(value) = self.get(&key, position, day) {
            return value;
        }
        let gate = Arc::clone(self.gates().entry(key.clone()).or_default());
        let value = {
            let _only_one = gate.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            // Another caller may have computed it while this one waited.
            match self.get(&key, position, day) {
                Some(value) => value,
                None => {
                    let value = make();
                    self.keep(&key, position, day, &value);
                    value
                }
            }
        };
        let mut gates = self.gates();
        // The map's handle and this one: nobody else is waiting.
        if Arc::strong_count(&gate) <= 2 {
            gates.remove(&key);
        }
        value
    }

    fn keep<T: Clone + HeapSize + Send + Sync + 'static>(
        &self,
        key: &str,
        position: u64,
        day: chrono::NaiveDate,
        value: &T,
    ) {
        let bytes = key.len() + std::mem::size_of::<(String, CachedReport, T)>() + value.heap_size();
        let mut reports = self.lock();
        if let Some(replaced) = reports.by_key.remove(key) {
            reports.bytes -= replaced.bytes;
        }
        if bytes > Self::BUDGET {
            return;
        }
        if reports.bytes + bytes > Self::BUDGET {
            *reports = Reports::default();
        }
        let report = CachedReport {
            position,
            day,
            value: Arc::new(value.clone()),
            bytes,
        };
        reports.by_key.insert(key.to_owned(), report);
        reports.bytes += bytes;
    }
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl ApiState {
    /// A state whose readiness is "both logs answer, and the engine's read models (if
    /// attached) have caught up and are following", and whose projection waiter waits for
    /// those read models (or returns at once without them).
    pub fn new(engine: Engine, access_log: AccessLog, auth: Authenticator, limits: Limits) -> ApiState {
        let case_log = engine.log().clone();
        let reads = access_log.log().clone();
        let read_models = engine.read_models().cloned();
        let projections: Arc<dyn ProjectionWaiter> = match &read_models {
            Some(read_models) => read_models.clone(),
            None => Arc::new(NoReadModels),
        };
        let readiness = move || -> Result<(), String> {
            case_log
                .head()
                .map_err(|e| format!("the case log does not answer: {e}"))?;
            reads
                .head()
                .map_err(|e| format!("the access log does not answer: {e}"))?;
            if let Some(read_models) = &read_models {
                if let Some(failure) = read_models.failure() {
                    return Err(format!("the read models stopped: {failure}"));
                }
                match read_models.is_caught_up() {
                    Ok(true) => {}
                    Ok(false) => return Err("the read models are catching up".into()),
                    Err(e) => return Err(format!("the read models cannot read the log: {e}")),
                }
            }
            Ok(())
        };
        ApiState {
            engine,
            access_log,
            auth,
            folds: Arc::new(FoldGate::new(limits.max_folds, limits.max_waiting_folds)),
            verifications: Arc::default(),
            limits,
            readiness: Arc::new(readiness),
            projections,
            reports: Arc::default(),
            parse_cache: crate::graphql::ParseCache::default(),
        }
    }

    /// Drops every cached copy of request texts and answers that could hold personal
    /// values (after an erasure): the parse cache and the report cache.
    pub fn forget_personal(&self) {
        self.parse_cache.clear();
        self.reports.clear();
    }

    /// Replaces the readiness check.
    pub fn with_readiness(mut self, readiness: Arc<dyn Readiness>) -> ApiState {
        self.readiness = readiness;
        self
    }

    /// Replaces the projection waiter.
    pub fn with_projection_waiter(mut self, waiter: Arc<dyn ProjectionWaiter>) -> ApiState {
        self.projections = waiter;
        self
    }
}

/// Runs blocking work (the engine, the logs) off the async executor, inside the caller's
/// tracing span.
pub async fn blocking<T, F>(work: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
        .await
        .map_err(|error| ApiError::internal(&error))?
}

/// Appends through [`kui_log::EventLog::append_then`] and awaits the answer: the task waits for the
/// sync, no thread does.
pub async fn append(
    log: &dyn kui_log::EventLog,
    request: kui_log::AppendRequest,
) -> Result<kui_log::AppendOutcome, kui_log::LogError> {
    let (sender, answer) = tokio::sync::oneshot::channel();
    log.append_then(
        request,
        Box::new(move |result| {
            // A request that was dropped meanwhile no longer waits for the answer.
            drop(sender.send(result));
        }),
    );
    answer.await.map_err(|_| kui_log::LogError::Closed)?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default()
    }

    #[test]
    fn a_report_is_reused_until_the_models_move_on_or_the_day_changes() {
        let cache = ReportCache::default();
        let mut made = 0;
        let mut get = |position: u64, on: chrono::NaiveDate| {
            cache.get_or("caseload".into(), position, on, || {
                made += 1;
                made
            })
        };
        assert_eq!(get(7, day()), 1);
        assert_eq!(get(7, day()), 1, "same position and day: reused");
        assert_eq!(get(8, day()), 2, "the models moved on");
        assert_eq!(get(8, day().succ_opt().unwrap_or_default()), 3, "another day");
    }

    #[test]
    fn callers_missing_the_same_report_at_once_compute_it_once() {
        let cache = Arc::new(ReportCache::default());
        let made = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let callers: Vec<_> = (0..8)
            .map(|_| {
                let (cache, made) = (Arc::clone(&cache), Arc::clone(&made));
                std::thread::spawn(move || {
                    cache.get_or("caseload".into(), 3, day(), || {
                        made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(50));
                        42_u32
                    })
                })
            })
            .collect();
        for caller in callers {
            assert_eq!(caller.join().ok(), Some(42));
        }
        assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 1);
        let gates = cache.computing.lock().map(|gates| gates.len()).unwrap_or(usize::MAX);
        assert_eq!(gates, 0, "no gate is left behind");
    }

    #[tokio::test]
    async fn the_fold_gate_admits_some_lines_up_some_and_refuses_the_rest() {
        let gate = Arc::new(FoldGate::new(1, 1));
        let running = gate.enter().await.map_err(|e| e.to_string());
        assert!(running.is_ok(), "the first is admitted");
        // The second waits in line; while it does, a third is refused.
        let waiting = {
            let gate = Arc::clone(&gate);
            tokio::spawn(async move { gate.enter().await.map(|_| ()).map_err(|e| e.to_string()) })
        };
        while gate.waiting.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(gate.enter().await, Err(ApiError::Busy { .. })));
        // The one in line gets its turn when the running fold ends.
        drop(running);
        assert_eq!(waiting.await.ok(), Some(Ok(())));
        assert_eq!(gate.waiting.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_request_dropped_while_in_line_leaves_it() {
        let gate = FoldGate::new(0, 1);
        let waited = tokio::time::timeout(Duration::from_millis(20), gate.enter()).await;
        assert!(waited.is_err(), "nothing runs, so it waits");
        assert_eq!(gate.waiting.load(std::sync::atomic::Ordering::SeqCst), 0);
        let again = tokio::time::timeout(Duration::from_millis(20), gate.enter()).await;
        assert!(again.is_err(), "waits again rather than being refused");
    }

    #[test]
    fn the_cache_is_bounded_in_bytes() {
        let cache = ReportCache::default();
        let report = "x".repeat(ReportCache::BUDGET / 10);
        for n in 0..25 {
            cache.get_or(format!("teams:{n}"), 1, day(), || report.clone());
        }
        let (held, bytes) = {
            let reports = cache.lock();
            (reports.by_key.len(), reports.bytes)
        };
        assert!(bytes <= ReportCache::BUDGET, "{bytes} bytes held");
        assert!((1..10).contains(&held), "{held} reports held");
        assert!(
            cache.get::<String>("teams:24", 1, day()).is_some(),
            "the latest is kept"
        );
        // One report larger than the whole budget is answered, not kept.
        let huge = "x".repeat(ReportCache::BUDGET + 1);
        assert_eq!(cache.get_or("huge".into(), 1, day(), || huge.clone()).len(), huge.len());
        assert!(cache.get::<String>("huge", 1, day()).is_none());
        // A report computed again replaces its old charge.
        let before = cache.lock().bytes;
        cache.get_or("teams:24".into(), 2, day(), || report.clone());
        assert_eq!(cache.lock().bytes, before);
    }
}
