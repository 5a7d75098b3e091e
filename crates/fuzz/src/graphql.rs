//! GraphQL requests to the real router, over logs with a few municipalities, staff and
//! cases, built once per process.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::{TimeZone, Utc};
use kui_api::auth::sign_hs256;
use kui_api::error::{CODE_DEADLINE_EXCEEDED, CODE_INTERNAL};
use kui_api::{AccessLog, ApiState, Authenticator, Claims, Limits};
use kui_engine::{Clock, Engine, FixedClock, SeededIds};
use kui_log::EventLog;
use kui_log_segment::SegmentLog;
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

use crate::files;
use crate::seeds;

/// How long the server lets a request run ([`Limits::deadline`], shortened so that the
/// bound below is tight).
const DEADLINE: Duration = Duration::from_secs(1);
/// Every request must be answered within this: the deadline and a margin for the work
/// before and after it (parsing, measuring, writing the answer) in a debug build.
pub const ANSWER_BOUND: Duration = Duration::from_secs(3);
/// Response bodies larger than this fail the target (an answer the limits should have
/// prevented).
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// The resident memory is measured every this many requests, against the first
/// measurement; growth beyond [`MAX_RSS_GROWTH`] fails the target.
const RSS_EVERY: u64 = 500;
/// How much the process may grow over many requests (caches are bounded in bytes and
/// fill up; the logs grow by what the accepted mutations and reads record).
const MAX_RSS_GROWTH: u64 = 512 * 1024 * 1024;

/// What the requests run against.
struct Server {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    log: Arc<SegmentLog>,
    access: Arc<SegmentLog>,
    /// The bearer tokens an input can choose from (`None`: no header).
    tokens: Vec<Option<String>>,
    requests: AtomicU64,
    one_at_a_time: Mutex<()>,
    baseline_rss: OnceLock<u64>,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

/// Fuzz target: the first byte chooses the bearer token (none, malformed, expired, or a
/// valid one of several roles), the second what the rest is:
///
/// - 0: the query text, sent as `{"query": ...}`;
/// - 1: the query text, a zero byte, then the variables as raw JSON text;
/// - 2 and 3: the whole request body.
///
/// Properties:
///
/// - no panic, no 5xx and no `INTERNAL` error: malformed input is the client's problem;
/// - every request answered within [`ANSWER_BOUND`], with a body of bounded size;
/// - a refused request (a 4xx, or errors before execution: parse, validation, limits,
///   authentication) writes nothing to the event log or the access log;
/// - the process's resident memory grows by less than 512 MiB over any number of
///   requests.
pub fn graphql(data: &[u8]) {
    let [token_choice, mode, rest @ ..] = data else {
        return;
    };
    let server = server();
    // One request at a time: the check that a refused request wrote nothing reads the
    // logs' heads before and after it (the smoke run's tests call this from two threads).
    let _alone = server
        .one_at_a_time
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let token = &server.tokens[usize::from(*token_choice) % server.tokens.len()];
    let body: Vec<u8> = match mode % 4 {
        0 => json!({ "query": String::from_utf8_lossy(rest) })
            .to_string()
            .into_bytes(),
        1 => {
            let (query, variables) = match rest.iter().position(|&byte| byte == 0) {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, &b"{}"[..]),
            };
            let mut body = br#"{"query":"#.to_vec();
            body.extend(json!(String::from_utf8_lossy(query)).to_string().into_bytes());
            body.extend_from_slice(br#","variables":"#);
            body.extend_from_slice(variables);
            body.push(b'}');
            body
        }
        _ => rest.to_vec(),
    };
    let heads_before = heads(server);
    let started = Instant::now();
    let (status, response) = server.runtime.block_on(async {
        let request = post(token.as_deref(), body);
        let answer = tokio::time::timeout(ANSWER_BOUND, server.router.clone().oneshot(request))
            .await
            .unwrap_or_else(|_| panic!("no answer within {ANSWER_BOUND:?}"))
            .unwrap_or_else(|never| match never {});
        let status = answer.status();
        let bytes = axum::body::to_bytes(answer.into_body(), MAX_RESPONSE_BYTES)
            .await
            .unwrap_or_else(|error| panic!("reading the response body: {error}"));
        (status, bytes)
    });
    let spent = started.elapsed();
    assert!(spent < ANSWER_BOUND, "answered after {spent:?}");
    assert!(
        !status.is_server_error(),
        "a request was answered {status}: {}",
        String::from_utf8_lossy(&response)
    );
    let document: Option<Value> = serde_json::from_slice(&response).ok();
    if let Some(errors) = document.as_ref().and_then(|document| document["errors"].as_array()) {
        for error in errors {
            assert!(
                error["extensions"]["code"] != CODE_INTERNAL,
                "an internal error: {error}"
            );
        }
    }
    if refused(status, document.as_ref()) {
        assert_eq!(
            heads(server),
            heads_before,
            "a refused request ({status}) wrote to a log: {}",
            String::from_utf8_lossy(&response)
        );
    }
    check_memory(server);
}

/// Whether the request was refused before anything ran: a 4xx, or only errors without a
/// path (a field's error has one) and no data. A request past its deadline is not: its
/// work may have started, and may still finish.
fn refused(status: StatusCode, document: Option<&Value>) -> bool {
    if status.is_client_error() {
        return true;
    }
    let Some(document) = document else {
        return false;
    };
    let Some(errors) = document["errors"].as_array() else {
        return false;
    };
    !errors.is_empty()
        && document["data"].is_null()
        && errors
            .iter()
            .all(|error| error.get("path").is_none() && error["extensions"]["code"] != CODE_DEADLINE_EXCEEDED)
}

fn heads(server: &Server) -> (u64, u64) {
    (
        server.log.head_position().expect("the event log answers"),
        server.access.head_position().expect("the access log answers"),
    )
}

fn post(token: Option<&str>, body: Vec<u8>) -> Request<Body> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/graphql")
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request
        .body(Body::from(body))
        .expect("a request from a valid method, path and headers")
}

fn check_memory(server: &Server) {
    let count = server.requests.fetch_add(1, Ordering::Relaxed) + 1;
    if !count.is_multiple_of(RSS_EVERY) {
        return;
    }
    let Some(rss) = resident_bytes() else {
        return;
    };
    let baseline = *server.baseline_rss.get_or_init(|| rss);
    assert!(
        rss <= baseline + MAX_RSS_GROWTH,
        "resident memory grew from {baseline} to {rss} bytes over {count} requests"
    );
}

/// The process's resident set, from `/proc/self/statm` (Linux; `None` elsewhere).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

const SECRET: &[u8] = b"fuzzing-secret-of-at-least-thirty-two-bytes";

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(build_server)
}

fn build_server() -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let log_dir = files::process_dir("graphql");
    let access_dir = files::process_dir("graphql");
    // The seed log's commands (two municipalities, staff) in a log of the server's own.
    let log = Arc::new(SegmentLog::open(log_dir.path(), seeds::fuzz_log_options()).expect("a new log opens"));
    kui_log::ndjson::import_ndjson(
        log.as_ref(),
        &mut std::io::Cursor::new(&seeds::seeds().export),
        &mut |_| {},
    )
    .expect("the seed export imports");
    let access = Arc::new(SegmentLog::open(access_dir.path(), seeds::fuzz_log_options()).expect("a new log opens"));
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0)
            .single()
            .expect("a valid date"),
    ));
    let engine = Engine::new(
        log.clone(),
        Arc::new(kui_engine::keys::KeyStore::seeded(3)),
        clock.clone(),
        Arc::new(SeededIds::new(2)),
    );
    let options = kui_engine::read_models::Options {
        workers: 1,
        save_every: 1_000_000,
        save_after: Duration::from_secs(3600),
        ..kui_engine::read_models::Options::default()
    };
    let store = Arc::new(kui_engine::read_models::MemoryStore::default());
    let (read_models, _) = kui_engine::read_models::Projections::open(log.clone(), store, options, &[], &mut |_, _| {})
        .expect("the read models open");
    read_models.follow();
    let engine = engine.with_read_models(read_models);
    let auth = Authenticator::new(SECRET.to_vec(), clock.clone()).expect("a long enough secret");
    let access_log = AccessLog::new(access.clone(), clock.clone());
    let limits = Limits {
        deadline: DEADLINE,
        ..Limits::recommended()
    };
    let state = ApiState::new(engine, access_log, auth, limits);
    let router = kui_api::http::router(state);
    let now = clock.now();
    let sign = |role: &str, staff: u128, municipality: Option<u16>, expires: chrono::Duration| {
        let claims = Claims {
            sub: Uuid::from_u128(0x5000 + staff).to_string(),
            role: role.into(),
            department: "uu".into(),
            municipality,
            exp: Some((now + expires).timestamp()),
            nbf: None,
            iat: None,
            purposes: None,
        };
        Some(sign_hs256(&claims, SECRET).expect("claims sign"))
    };
    let hour = chrono::Duration::hours(1);
    let tokens = vec![
        None,
        Some("not-a-token".to_owned()),
        sign("caseworker", 1, Some(540), -hour),
        sign("caseworker", 1, Some(540), hour),
        sign("team_lead", 2, Some(540), hour),
        sign("auditor", 90, None, hour),
        sign("admin", 91, None, hour),
        sign("analyst", 92, None, hour),
        sign("caseworker", 3, Some(561), hour),
    ];
    let server = Server {
        runtime,
        router,
        log,
        access,
        tokens,
        requests: AtomicU64::new(0),
        one_at_a_time: Mutex::new(()),
        baseline_rss: OnceLock::new(),
        _dirs: (log_dir, access_dir),
    };
    refer_cases(&server);
    server
}

/// Two young people referred in Sønderborg, so that case reads find something.
fn refer_cases(server: &Server) {
    const REFER: &str = r#"mutation($cpr: String!) {
      refer(input: {cpr: $cpr, name: "Emil Jensen", schoolStatus: IN_EDUCATION, indicators: [HIGH_ABSENCE],
                    note: "absence over 20 %"}) { aggregateId }
    }"#;
    let token = server.tokens[3].clone();
    for cpr in ["010308-4321", "170308-4562"] {
        let body = json!({ "query": REFER, "variables": { "cpr": cpr } }).to_string();
        let (status, bytes) = server.runtime.block_on(async {
            let answer = server
                .router
                .clone()
                .oneshot(post(token.as_deref(), body.into_bytes()))
                .await
                .unwrap_or_else(|never| match never {});
            let status = answer.status();
            let bytes = axum::body::to_bytes(answer.into_body(), MAX_RESPONSE_BYTES)
                .await
                .expect("a referral's answer is small");
            (status, bytes)
        });
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            status == StatusCode::OK && !text.contains("\"errors\""),
            "referring a seed case failed: {text}"
        );
    }
}
