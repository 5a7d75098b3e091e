//! A real server on port 0 over temporary logs, and a tiny HTTP/1.1 and WebSocket client.

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::Duration;
use futures_util::{SinkExt, StreamExt};
use kui_api::auth::sign_hs256;
use kui_api::{AccessLog, ApiState, Authenticator, Claims, Limits};
use kui_domain::event::{AlarmSettings, MunicipalityConfigured, TeamCadence};
use kui_domain::testing::noon;
use kui_domain::values::{AgeBand, Department};
use kui_domain::{MunicipalityCode, MunicipalityCommand, StaffCommand, StaffId};
use kui_engine::{Actor, Command, CommandContext, Engine, FixedClock, Role, SeededIds};
use kui_log::{EventLog, MemoryLog};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

pub const SECRET: &[u8] = b"integration-test-secret-of-32-bytes-or-more";
pub const SONDERBORG: u16 = 540;
pub const ESBJERG: u16 = 561;

pub fn staff(n: u128) -> StaffId {
    StaffId(Uuid::from_u128(0x5000 + n))
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub engine: Engine,
    pub clock: Arc<FixedClock>,
    pub log: Arc<MemoryLog>,
    pub access: Arc<MemoryLog>,
    /// Sønderborg: a UU counsellor (caseworker), a job adviser, a team lead.
    pub counsellor: StaffId,
    pub adviser: StaffId,
    pub lead: StaffId,
    /// Esbjerg: a caseworker.
    pub esbjerg_caseworker: StaffId,
    state: ApiState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

fn settings(code: u16, name: &str) -> MunicipalityConfigured {
    MunicipalityConfigured {
        municipality: MunicipalityCode::new(code).unwrap(),
        name: name.into(),
        age_band: AgeBand { from: 15, until: 30 },
        cadence: TeamCadence::USUAL,
        coordinator_capacity: 25,
        alarms: AlarmSettings::USUAL,
        retention: Default::default(),
        privacy: Default::default(),
        responsibility: Vec::new(),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_with(Limits::recommended()).await
}

pub async fn spawn_with(limits: Limits) -> TestApp {
    let log = Arc::new(MemoryLog::new());
    let access = Arc::new(MemoryLog::new());
    let clock = Arc::new(FixedClock::new(noon(2026, 1, 15)));
    let engine = Engine::new(
        log.clone(),
        Arc::new(kui_engine::keys::KeyStore::seeded(1)),
        clock.clone(),
        Arc::new(SeededIds::new(1)),
    );
    let system = CommandContext::by(Actor::system());
    for (code, name) in [(SONDERBORG, "Sønderborg"), (ESBJERG, "Esbjerg")] {
        let command = Command::Municipality(
            MunicipalityCode::new(code).unwrap(),
            MunicipalityCommand(settings(code, name)),
        );
        engine.execute(command, &system).expect("configure");
    }
    let people = [
        (staff(1), "Mette Holm", Department::Uu, SONDERBORG),
        (staff(2), "Jonas Krogh", Department::JobCentre, SONDERBORG),
        (staff(3), "Lise Dam", Department::ChildrenAndFamily, SONDERBORG),
        (staff(4), "Ole Bak", Department::Uu, ESBJERG),
    ];
    for (id, name, department, code) in people {
        let register = StaffCommand::Register {
            staff_id: id,
            name: name.into(),
            department,
            municipality: MunicipalityCode::new(code).unwrap(),
            capacity: 25,
        };
        engine.execute(Command::Staff(id, register), &system).expect("staff");
    }
    // The read models follow the log, as in `kui serve`.
    let options = kui_engine::read_models::Options {
        workers: 1,
        save_every: 1_000_000,
        save_after: std::time::Duration::from_secs(60),
        past_days: 8,
        past_bytes: 512 * 1024 * 1024,
    };
    let store = Arc::new(kui_engine::read_models::MemoryStore::default());
    let (read_models, _) = kui_engine::read_models::Projections::open(log.clone(), store, options, &[], &mut |_, _| {})
        .expect("read models");
    read_models.follow();
    let engine = engine.with_read_models(read_models);
    let auth = Authenticator::new(SECRET.to_vec(), clock.clone()).unwrap();
    let access_log = AccessLog::new(access.clone(), clock.clone());
    let state = ApiState::new(engine.clone(), access_log, auth, limits);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(kui_api::http::serve(
        listener,
        kui_api::http::router(state.clone()),
        async move {
            let _ = stopped.await;
        },
    ));
    TestApp {
        addr,
        engine,
        clock,
        log,
        access,
        counsellor: staff(1),
        adviser: staff(2),
        lead: staff(3),
        esbjerg_caseworker: staff(4),
        state,
        shutdown: Some(shutdown),
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// A plain HTTP response.
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl TestApp {
    /// A second router over the same state, for driving without a socket.
    pub fn router(&self) -> axum::Router {
        kui_api::http::router(self.state.clone())
    }

    /// A token for `staff` acting as `role` in `municipality`, valid for an hour.
    pub fn token(&self, role: Role, staff: StaffId, municipality: Option<u16>) -> String {
        self.token_expiring(role, staff, municipality, Duration::hours(1))
    }

    pub fn token_expiring(&self, role: Role, staff: StaffId, municipality: Option<u16>, valid: Duration) -> String {
        let mut claims = self.claims(role.as_str(), staff, municipality);
        claims.exp = Some((self.now() + valid).timestamp());
        self.sign(&claims)
    }

    /// The claims of [`TestApp::token`] with `role` as written, for tests that sign
    /// variations of them.
    pub fn claims(&self, role: &str, staff: StaffId, municipality: Option<u16>) -> Claims {
        Claims {
            sub: staff.to_string(),
            role: role.into(),
            department: "uu".into(),
            municipality,
            exp: Some((self.now() + Duration::hours(1)).timestamp()),
            nbf: None,
            iat: None,
            purposes: None,
        }
    }

    /// Signs `claims` with the server's secret.
    pub fn sign(&self, claims: &Claims) -> String {
        sign_hs256(claims, SECRET).unwrap()
    }

    /// The server's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        kui_engine::Clock::now(self.clock.as_ref())
    }

    /// The Sønderborg counsellor (a caseworker).
    pub fn caseworker(&self) -> String {
        self.token(Role::Caseworker, self.counsellor, Some(SONDERBORG))
    }

    /// The Sønderborg team lead.
    pub fn team_lead(&self) -> String {
        self.token(Role::TeamLead, self.lead, Some(SONDERBORG))
    }

    pub fn auditor(&self) -> String {
        self.token(Role::Auditor, staff(90), None)
    }

    pub fn admin(&self) -> String {
        self.token(Role::Admin, staff(91), None)
    }

    pub fn analyst(&self) -> String {
        self.token(Role::Analyst, staff(92), None)
    }

    /// Sends raw bytes as an HTTP/1.1 request and reads the whole response.
    pub async fn raw(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut stream = TcpStream::connect(self.addr).await.expect("connect");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        // The server may answer (413) and close before it read the whole body.
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(body).await;
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes).await;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {text:?}"));
        let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
        let body = if chunked { dechunk(body) } else { body.to_owned() };
        Reply { status, body }
    }

    /// POSTs a GraphQL request with a bearer token.
    pub async fn post(&self, token: &str, query: &str, variables: Value) -> Reply {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let authorization = format!("Bearer {token}");
        self.raw(
            "POST",
            "/graphql",
            &[("Authorization", &authorization), ("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .await
    }

    /// POSTs a GraphQL request and returns the response document (HTTP 200 expected).
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        let reply = self.post(token, query, variables).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    }

    /// Like `gql`, but fails the test on any error and returns `data`.
    pub async fn data(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = self.gql(token, query, variables).await;
        assert!(response.get("errors").is_none(), "errors: {response:#}");
        response["data"].clone()
    }

    /// Waits until the read models have applied everything written so far.
    pub async fn settle(&self) {
        let (engine, head) = (self.engine.clone(), self.head());
        let caught_up =
            tokio::task::spawn_blocking(move || engine.wait_for_read_models(head, std::time::Duration::from_secs(10)))
                .await
                .unwrap_or(false);
        assert!(caught_up, "the read models did not reach position {head}");
    }

    /// The case log's head position.
    pub fn head(&self) -> u64 {
        self.log.head().ok().flatten().map_or(0, |(p, _)| p.0)
    }

    /// How many times the server verified the log.
    pub fn verifications(&self) -> u64 {
        self.state.verifications.runs()
    }

    /// The access log's head position.
    pub fn access_head(&self) -> u64 {
        self.access.head().ok().flatten().map_or(0, |(p, _)| p.0)
    }

    /// Opens a graphql-transport-ws connection and sends `connection_init` with `payload`.
    pub async fn websocket(&self, payload: Value) -> WsClient {
        let mut request = format!("ws://{}/graphql/ws", self.addr).into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
        let (socket, _) = tokio_tungstenite::connect_async(request).await.expect("websocket");
        let mut client = WsClient { socket };
        client
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        client
    }
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

pub struct WsClient {
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }

    /// The next text message as JSON, or `None` when the server closed the connection
    /// (waits at most 10 s).
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(std::time::Duration::from_secs(10), self.socket.next())
                .await
                .expect("no message from the server within 10 s");
            match message {
                Some(Ok(Message::Text(text))) => return Some(serde_json::from_str(text.as_str()).unwrap()),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(other)) => panic!("unexpected message {other:?}"),
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// The `extensions.code` of the first error.
pub fn code(response: &Value) -> String {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {response:#}"))
        .to_owned()
}

/// A CPR number of someone born on 1 March 2008 (17 on the tests' 15 January 2026).
pub const CPR_2008: &str = "010308-4321";

pub const REFER: &str = r#"
mutation($cpr: String!, $commandId: ID) {
  refer(input: {cpr: $cpr, name: "Emil Jensen", schoolStatus: IN_EDUCATION, indicators: [HIGH_ABSENCE],
                note: "absence over 20 %"}, commandId: $commandId) {
    streamId aggregateId version position firstPosition replayed
  }
}"#;

impl TestApp {
    /// Refers a young person as the Sønderborg caseworker; returns the youth id.
    pub async fn refer(&self, cpr: &str) -> String {
        let data = self.data(&self.caseworker(), REFER, json!({ "cpr": cpr })).await;
        data["refer"]["aggregateId"]
            .as_str()
            .unwrap_or_else(|| panic!("{data}"))
            .to_owned()
    }
}
