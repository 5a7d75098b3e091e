//! Every role against every class of operation, allowed and forbidden, and the
//! municipality scope of the municipal roles.

use kui_engine::Role;
use serde_json::{json, Value};

use crate::helpers::{code, spawn_app, staff, TestApp, CPR_2008, ESBJERG, SONDERBORG};

const ROLES: [Role; 7] = [
    Role::Caseworker,
    Role::Coordinator,
    Role::TeamLead,
    Role::YouthCoordinator,
    Role::Auditor,
    Role::Analyst,
    Role::Admin,
];

/// What each role may do, written out independently of the server's matrix.
/// Columns: caseworker, coordinator, team lead, youth coordinator, auditor, analyst, admin.
const EXPECTED: &[(&str, [bool; 7])] = &[
    ("read case", [true, true, true, true, true, true, true]),
    ("read history", [true, true, true, true, true, false, true]),
    ("read meeting", [true, true, true, true, true, false, true]),
    ("read staff", [true, true, true, true, true, false, true]),
    ("read access log", [false, false, false, false, true, false, true]),
    ("verify log", [false, false, false, false, true, false, true]),
    ("write case", [true, true, true, true, false, false, true]),
    ("write meeting", [true, true, true, true, false, false, true]),
    ("write staff", [false, false, true, true, false, false, true]),
    (
        "configure municipality",
        [false, false, false, true, false, false, true],
    ),
];

struct Fixture {
    youth: String,
    meeting: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let youth = app.refer(CPR_2008).await;
    // Consent covering UU (the department of every token here), so that the municipal
    // roles' need to know reaches every class of the case and the matrix alone decides.
    app.data(
        &app.caseworker(),
        r#"mutation($y: ID!) { giveConsent(youthId: $y, givenBy: GUARDIAN, departments: [UU]) { version } }"#,
        json!({ "y": youth }),
    )
    .await;
    let meeting = "0190f000-0000-7000-8000-00000000cafe".to_owned();
    app.data(
        &app.team_lead(),
        r#"mutation($m: ID!) { scheduleMeeting(meetingId: $m, input: {forum: TEAM_2, date: "2026-01-22", slotMinutes: 60}) { version } }"#,
        json!({ "m": meeting }),
    )
    .await;
    Fixture { youth, meeting }
}

/// The request for an operation class; `n` makes writes distinct.
fn request(operation: &str, fixture: &Fixture, app: &TestApp, n: usize) -> (String, Value) {
    let (query, variables) = match operation {
        "read case" => (
            "query($y: ID!) { youth(id: $y) { pseudonym status } }",
            json!({ "y": fixture.youth }),
        ),
        "read history" => (
            "query($y: ID!) { history(youthId: $y) { entries { type } } }",
            json!({ "y": fixture.youth }),
        ),
        "read meeting" => (
            "query($m: ID!) { meeting(id: $m) { status } }",
            json!({ "m": fixture.meeting }),
        ),
        "read staff" => (
            "query($s: ID!) { staff(id: $s) { capacity } }",
            json!({ "s": app.adviser.to_string() }),
        ),
        "read access log" => (
            "query($y: ID!) { accessLog(youthId: $y) { operation } }",
            json!({ "y": fixture.youth }),
        ),
        "verify log" => ("{ verifyLog { ok } }", json!({})),
        "write case" => (
            "mutation($y: ID!) { assessNeed(youthId: $y, level: B) { version } }",
            json!({ "y": fixture.youth }),
        ),
        "write meeting" => (
            r#"mutation { scheduleMeeting(input: {municipality: 540, forum: TEAM_3, date: "2026-02-01", slotMinutes: 30}) { version } }"#,
            json!({}),
        ),
        "write staff" => (
            "mutation($s: ID!, $c: Int!) { changeStaffCapacity(staffId: $s, capacity: $c) { version } }",
            json!({ "s": app.adviser.to_string(), "c": 100 + n }),
        ),
        "configure municipality" => (
            r#"mutation($name: String!) { configureMunicipality(municipality: 540, input: {name: $name, ageFrom: 15, ageUntil: 30, coordinatorCapacity: 25}) { version } }"#,
            json!({ "name": format!("Sønderborg {n}") }),
        ),
        other => panic!("no request for {other}"),
    };
    (query.to_owned(), variables)
}

fn token(app: &TestApp, role: Role) -> String {
    match role {
        Role::Auditor | Role::Analyst | Role::Admin => app.token(role, staff(90), None),
        _ => app.token(role, app.counsellor, Some(SONDERBORG)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_against_every_operation_class() {
    let app = spawn_app().await;
    let fixture = fixture(&app).await;
    let mut n = 0;
    for (operation, allowed) in EXPECTED {
        for (role, allowed) in ROLES.iter().zip(allowed) {
            n += 1;
            let (query, variables) = request(operation, &fixture, &app, n);
            let (head, reads) = (app.head(), app.access_head());
            let response = app.gql(&token(&app, *role), &query, variables).await;
            if *allowed {
                assert!(
                    response.get("errors").is_none(),
                    "{role} should be allowed to {operation}: {response}"
                );
            } else {
                assert_eq!(
                    code(&response),
                    "FORBIDDEN",
                    "{role} should not {operation}: {response}"
                );
                assert_eq!(
                    app.head(),
                    head,
                    "{role} {operation}: a forbidden request writes nothing"
                );
                assert_eq!(app.access_head(), reads, "{role} {operation}: nothing was read");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_municipality_s_cases_do_not_exist_for_a_caseworker() {
    let app = spawn_app().await;
    let fixture = fixture(&app).await;
    let esbjerg = app.token(Role::Caseworker, app.esbjerg_caseworker, Some(ESBJERG));
    let (head, reads) = (app.head(), app.access_head());
    let requests = [
        (
            "query($y: ID!) { youth(id: $y) { name } }",
            json!({ "y": fixture.youth }),
        ),
        (r#"query { youth(cpr: "010308-4321") { name } }"#, json!({})),
        (
            "query($y: ID!) { history(youthId: $y) { entries { type } } }",
            json!({ "y": fixture.youth }),
        ),
        (
            "query($m: ID!) { meeting(id: $m) { status } }",
            json!({ "m": fixture.meeting }),
        ),
        (
            "query($s: ID!) { staff(id: $s) { name } }",
            json!({ "s": app.adviser.to_string() }),
        ),
        (
            "mutation($y: ID!) { assessNeed(youthId: $y, level: C) { version } }",
            json!({ "y": fixture.youth }),
        ),
        (
            "mutation($m: ID!, $y: ID!) { tableCase(meetingId: $m, youthId: $y) { version } }",
            json!({ "m": fixture.meeting, "y": fixture.youth }),
        ),
    ];
    for (query, variables) in requests {
        let response = app.gql(&esbjerg, query, variables).await;
        assert_eq!(code(&response), "NOT_FOUND", "{query}: {response}");
    }
    let refer_elsewhere = app
        .gql(
            &esbjerg,
            r#"mutation { refer(input: {cpr: "020508-4111", name: "Sara Lund", municipality: 540, schoolStatus: INACTIVE}) { version } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&refer_elsewhere), "FORBIDDEN");
    // Nothing written, nothing shown; the three attempts to read the case (by id, by CPR
    // number, its history) are in its access log as refused, for the auditors.
    assert_eq!(
        (app.head(), app.access_head()),
        (head, reads + 3),
        "nothing written, only the refusals recorded"
    );
    let log = app
        .data(
            &app.auditor(),
            "query($y: ID!) { accessLog(youthId: $y) { municipality refused shown } }",
            json!({ "y": fixture.youth }),
        )
        .await;
    let refused: Vec<&Value> = log["accessLog"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["municipality"] == ESBJERG)
        .collect();
    assert_eq!(refused.len(), 3, "{log}");
    assert!(refused
        .iter()
        .all(|r| r["refused"] == "NOT_FOUND" && r["shown"] == json!([])));

    // In their own municipality the same caseworker works normally.
    let own = app
        .gql(
            &esbjerg,
            r#"mutation { refer(input: {cpr: "020508-4111", name: "Sara Lund", schoolStatus: INACTIVE}) { streamId } }"#,
            json!({}),
        )
        .await;
    assert!(own.get("errors").is_none(), "{own}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_of_another_municipality_takes_no_command_from_a_caseworker() {
    let app = spawn_app().await;
    let fixture = fixture(&app).await;
    let esbjerg = app.token(Role::Caseworker, app.esbjerg_caseworker, Some(ESBJERG));
    let head = app.head();
    // A command on the meeting itself: the scope check loads the meeting and finds it
    // outside the caller's municipality, which to the caller does not exist.
    let cancel = app
        .gql(
            &esbjerg,
            r#"mutation($m: ID!) { cancelMeeting(meetingId: $m, reason: "moved") { version } }"#,
            json!({ "m": fixture.meeting }),
        )
        .await;
    assert_eq!(code(&cancel), "NOT_FOUND", "{cancel}");
    // Scheduling one there is forbidden.
    let schedule_elsewhere = app
        .gql(
            &esbjerg,
            r#"mutation { scheduleMeeting(input: {municipality: 540, forum: TEAM_1, date: "2026-01-22", slotMinutes: 60}) { version } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&schedule_elsewhere), "FORBIDDEN", "{schedule_elsewhere}");
    assert_eq!(app.head(), head, "nothing written");

    // The meeting's own municipality cancels it.
    let own = app
        .gql(
            &app.caseworker(),
            r#"mutation($m: ID!) { cancelMeeting(meetingId: $m, reason: "moved") { version } }"#,
            json!({ "m": fixture.meeting }),
        )
        .await;
    assert_eq!(own["data"]["cancelMeeting"]["version"], 2, "{own}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_claim_must_name_a_role_exactly() {
    let app = spawn_app().await;
    let query = "{ statistics { viborg { total } } }";
    for role in [" admin ", "Admin", "admin\n", "ADMIN", "admin "] {
        let token = app.sign(&app.claims(role, staff(91), None));
        let reply = app.post(&token, query, json!({})).await;
        assert_eq!(reply.status, 401, "{role:?}: {}", reply.body);
        assert_eq!(code(&reply.json()), "UNAUTHENTICATED", "{role:?}");
    }
    let exact = app.sign(&app.claims("admin", staff(91), None));
    let reply = app.post(&exact, query, json!({})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.json().get("errors").is_none(), "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_before_and_issued_at_are_checked_against_the_server_clock() {
    let app = spawn_app().await;
    let query = "{ statistics { viborg { total } } }";
    let now = app.now().timestamp();
    let skew = kui_api::auth::CLOCK_SKEW_SECONDS;
    let cases = [
        ("nbf in an hour", Some(now + 3_600), None, 401),
        ("nbf just beyond the skew", Some(now + skew + 1), None, 401),
        ("nbf within the skew", Some(now + skew - 1), None, 200),
        ("nbf passed", Some(now - 600), None, 200),
        ("iat beyond the skew", None, Some(now + skew + 1), 401),
        ("iat within the skew", None, Some(now + 30), 200),
        ("iat passed", None, Some(now - 600), 200),
    ];
    for (case, nbf, iat, status) in cases {
        let mut claims = app.claims("admin", staff(91), None);
        claims.nbf = nbf;
        claims.iat = iat;
        let reply = app.post(&app.sign(&claims), query, json!({})).await;
        assert_eq!(reply.status, status, "{case}: {}", reply.body);
        if status == 401 {
            assert_eq!(code(&reply.json()), "UNAUTHENTICATED", "{case}");
        }
    }
    // The same token becomes valid once the server's clock reaches its nbf.
    let mut later = app.claims("admin", staff(91), None);
    later.nbf = Some(now + 600);
    later.exp = Some(now + 7_200);
    let token = app.sign(&later);
    assert_eq!(app.post(&token, query, json!({})).await.status, 401);
    app.clock.set(app.now() + chrono::Duration::seconds(600));
    assert_eq!(app.post(&token, query, json!({})).await.status, 200);
}
