//! Requests refused before anything runs: tokens, malformed and over-limit queries,
//! oversized bodies; none of them writes or reads anything. And the limits on what runs:
//! the deadline, folds of the whole log, one verification at a time.

use chrono::Duration;
use kui_api::Limits;
use kui_engine::Role;
use serde_json::json;

use crate::helpers::{code, spawn_app, spawn_with, TestApp, CPR_2008, REFER, SONDERBORG};

fn error_code(body: &serde_json::Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("<none>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_bad_and_expired_tokens_are_unauthenticated() {
    let app = spawn_app().await;
    let body = json!({ "query": REFER, "variables": { "cpr": CPR_2008 } }).to_string();
    let expired = app.token_expiring(
        Role::Caseworker,
        app.counsellor,
        Some(SONDERBORG),
        Duration::seconds(-1),
    );
    let foreign = kui_api::auth::sign_hs256(
        &kui_api::Claims {
            sub: app.counsellor.to_string(),
            role: "admin".into(),
            department: "uu".into(),
            municipality: None,
            exp: Some(4_000_000_000),
            nbf: None,
            iat: None,
            purposes: None,
        },
        b"a different secret, long enough to be accepted",
    )
    .unwrap_or_default();
    let unscoped = app.token(Role::Caseworker, app.counsellor, None);
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("no header", vec![]),
        (
            "not bearer",
            vec![("Authorization", "Basic a2V5OnNlY3JldA==".to_owned())],
        ),
        ("not a token", vec![("Authorization", "Bearer nonsense".to_owned())]),
        ("expired", vec![("Authorization", format!("Bearer {expired}"))]),
        ("signed elsewhere", vec![("Authorization", format!("Bearer {foreign}"))]),
        (
            "caseworker without municipality",
            vec![("Authorization", format!("Bearer {unscoped}"))],
        ),
    ];
    for (case, headers) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let reply = app.raw("POST", "/graphql", &headers, body.as_bytes()).await;
        assert_eq!(reply.status, 401, "{case}: {}", reply.body);
        assert_eq!(error_code(&reply.json()), "UNAUTHENTICATED", "{case}");
    }
    assert_eq!(app.head(), 6, "only the setup's events");
    assert_eq!(app.access_head(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_deep_and_oversized_requests_are_invalid_input() {
    let app = spawn_app().await;
    let id = app.refer(CPR_2008).await;
    let (head, reads) = (app.head(), app.access_head());
    let token = app.caseworker();

    let malformed = app.gql(&token, "query { youth(id: ", json!({})).await;
    assert_eq!(code(&malformed), "INVALID_INPUT");
    assert_eq!(malformed["errors"][0]["extensions"]["field"], "query");

    let unknown_field = app.gql(&token, "{ youth(id: \"x\") { shoeSize } }", json!({})).await;
    assert_eq!(code(&unknown_field), "INVALID_INPUT");

    let bad_id = app
        .gql(&token, "{ youth(id: \"not-a-uuid\") { name } }", json!({}))
        .await;
    assert_eq!(code(&bad_id), "INVALID_INPUT");
    assert_eq!(bad_id["errors"][0]["extensions"]["field"], "id");

    let bad_cpr = app.gql(&token, "{ youth(cpr: \"31029\") { name } }", json!({})).await;
    assert_eq!(code(&bad_cpr), "INVALID_INPUT");
    assert_eq!(bad_cpr["errors"][0]["extensions"]["field"], "cpr");

    let not_graphql = app
        .raw(
            "POST",
            "/graphql",
            &[("Authorization", &format!("Bearer {token}"))],
            b"not json",
        )
        .await;
    assert_eq!(not_graphql.status, 400);
    assert_eq!(error_code(&not_graphql.json()), "INVALID_INPUT");

    let padding = "x".repeat(300 * 1024);
    let huge = json!({ "query": format!("{{ youth(id: \"{id}\") {{ name }} }} # {padding}") }).to_string();
    let oversized = app
        .raw(
            "POST",
            "/graphql",
            &[("Authorization", &format!("Bearer {token}"))],
            huge.as_bytes(),
        )
        .await;
    assert_eq!(oversized.status, 413, "{}", oversized.body);
    let body = oversized.json();
    assert_eq!(error_code(&body), "INVALID_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "body");

    assert_eq!(
        (app.head(), app.access_head()),
        (head, reads),
        "nothing written, nothing read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_can_be_switched_off_and_health_and_ready_answer() {
    let app = spawn_with(Limits {
        introspection: false,
        ..Limits::recommended()
    })
    .await;
    let response = app
        .gql(&app.admin(), "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert!(response["data"]["__schema"].is_null(), "{response}");

    let open = spawn_app().await;
    let response = open
        .data(&open.admin(), "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(response["__schema"]["queryType"]["name"], "QueryRoot");

    let health = app.raw("GET", "/health", &[], b"").await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    let ready = app.raw("GET", "/ready", &[], b"").await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    let graphiql = app.raw("GET", "/graphql", &[], b"").await;
    assert_eq!(graphiql.status, 200);
    assert!(graphiql.body.contains("graphiql"), "{}", graphiql.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_answers_without_a_socket() {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    let app = spawn_app().await;
    let router = app.router();
    let health = router
        .clone()
        .oneshot(Request::get("/health").body(Body::empty()).unwrap_or_default())
        .await
        .unwrap_or_else(|e| match e {});
    assert_eq!(health.status(), StatusCode::OK);

    let request = Request::post("/graphql")
        .header("Authorization", format!("Bearer {}", app.admin()))
        .header("Content-Type", "application/json")
        .body(Body::from(json!({ "query": "{ verifyLog { ok } }" }).to_string()))
        .unwrap_or_default();
    let response = router.oneshot(request).await.unwrap_or_else(|e| match e {});
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    assert_eq!(body["data"]["verifyLog"]["ok"], true, "{body}");
}

/// `depth` fragments on the root, each spreading the one before twice: the document is a
/// few lines and expands to 2^depth copies of `leaf`.
fn fragment_bomb(depth: usize, leaf: &str) -> String {
    let mut query = format!("query($y: ID!) {{ ...F{depth} }}\nfragment F0 on QueryRoot {{ {leaf} }}\n");
    for level in 1..=depth {
        query.push_str(&format!(
            "fragment F{level} on QueryRoot {{ ...F{below} ...F{below} }}\n",
            below = level - 1
        ));
    }
    query
}

/// `count` root fields `field`, each under its own alias.
fn aliased(count: usize, field: &str) -> String {
    let fields: Vec<String> = (0..count).map(|n| format!("a{n}: {field}")).collect();
    format!("{{ {} }}", fields.join(" "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fragment_bombs_are_refused_before_they_expand() {
    let app = spawn_app().await;
    let id = app.refer(CPR_2008).await;
    let (head, reads) = (app.head(), app.access_head());
    // A case read at the bottom: had any of it run, the read would be in the access log.
    for depth in [22, 40] {
        let query = fragment_bomb(depth, "__typename youth(id: $y) { name }");
        let started = std::time::Instant::now();
        let refused = app.gql(&app.caseworker(), &query, json!({ "y": id })).await;
        let elapsed = started.elapsed();
        assert_eq!(code(&refused), "QUERY_TOO_LARGE", "{refused}");
        assert_eq!(refused["errors"][0]["extensions"]["limit"], 2_000);
        assert!(refused["data"].is_null(), "{refused}");
        assert!(
            elapsed < std::time::Duration::from_secs(2),
            "depth {depth}: {elapsed:?}"
        );
    }
    // Spreading itself, a fragment would expand for ever.
    let cycle = "query($y: ID!) { ...A } fragment A on QueryRoot { youth(id: $y) { name } ...B } \
                 fragment B on QueryRoot { ...A }";
    let refused = app.gql(&app.caseworker(), cycle, json!({ "y": id })).await;
    assert_eq!(code(&refused), "INVALID_INPUT", "{refused}");
    assert_eq!(
        (app.head(), app.access_head()),
        (head, reads),
        "nothing written, nothing read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_aliases_of_one_field_are_refused_and_nothing_is_read() {
    let app = spawn_app().await;
    let id = app.refer(CPR_2008).await;
    let (head, reads) = (app.head(), app.access_head());

    // A thousand case reads in one 40 KB request would write a thousand access records.
    let youth = aliased(1_000, &format!("youth(id: \"{id}\") {{ name }}"));
    let refused = app.gql(&app.caseworker(), &youth, json!({})).await;
    assert_eq!(code(&refused), "TOO_MANY_ROOT_FIELDS", "{refused}");
    assert_eq!(refused["errors"][0]["extensions"]["actual"], 1_000);

    let alarms = aliased(500, "alarms(asOf: \"2025-06-30\") { due }");
    let refused = app.gql(&app.caseworker(), &alarms, json!({})).await;
    assert_eq!(code(&refused), "TOO_MANY_ROOT_FIELDS", "{refused}");

    let verifications = aliased(1_000, "verifyLog { ok }");
    let refused = app.gql(&app.auditor(), &verifications, json!({})).await;
    assert_eq!(code(&refused), "TOO_MANY_ROOT_FIELDS", "{refused}");

    // Aliases below the root count too.
    let names: Vec<String> = (0..101).map(|n| format!("n{n}: name")).collect();
    let nested = format!("{{ youth(id: \"{id}\") {{ {} }} }}", names.join(" "));
    let refused = app.gql(&app.caseworker(), &nested, json!({})).await;
    assert_eq!(code(&refused), "TOO_MANY_ALIASES", "{refused}");

    assert_eq!(
        (app.head(), app.access_head()),
        (head, reads),
        "no access record written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expensive_fields_are_weighed_and_capped_per_request() {
    let app = spawn_app().await;
    let id = app.refer(CPR_2008).await;
    let (head, reads) = (app.head(), app.access_head());
    let what = |response: &serde_json::Value| response["errors"][0]["extensions"]["what"].clone();

    let youth = aliased(51, &format!("youth(id: \"{id}\") {{ name }}"));
    let refused = app.gql(&app.caseworker(), &youth, json!({})).await;
    assert_eq!(code(&refused), "QUERY_TOO_COMPLEX", "{refused}");
    assert_eq!(
        (what(&refused), refused["errors"][0]["extensions"]["limit"].clone()),
        (json!("caseReads"), json!(50))
    );

    let verifications = aliased(2, "verifyLog { ok }");
    let refused = app.gql(&app.auditor(), &verifications, json!({})).await;
    assert_eq!(code(&refused), "QUERY_TOO_COMPLEX", "{refused}");
    assert_eq!(what(&refused), json!("verifyLog"));

    // Each report as of a past date folds the whole log again.
    let refolds = aliased(5, "alarms(asOf: \"2025-06-30\") { due }");
    let refused = app.gql(&app.caseworker(), &refolds, json!({})).await;
    assert_eq!(code(&refused), "QUERY_TOO_COMPLEX", "{refused}");
    assert_eq!(what(&refused), json!("cost"));

    // A list costs its page: the most `alarms` may ask for is bounded by the budget.
    let long = app
        .gql(&app.caseworker(), "{ alarms(limit: 100000) { due rule } }", json!({}))
        .await;
    assert_eq!(code(&long), "QUERY_TOO_COMPLEX", "{long}");

    assert_eq!(
        (app.head(), app.access_head()),
        (head, reads),
        "nothing written, nothing read"
    );

    // At the cap, every read is answered and recorded.
    let fifty = aliased(50, &format!("youth(id: \"{id}\") {{ name }}"));
    let answered = app.data(&app.caseworker(), &fifty, json!({})).await;
    assert_eq!(answered["a49"]["name"], "Emil Jensen", "{answered}");
    assert_eq!(app.access_head(), reads + 50);
}

/// Every query the guide, the demo and the load scripts show, with the ids of a case,
/// its staff and a meeting filled in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_queries_are_answered_within_the_limits() {
    let app = spawn_app().await;
    let id = app.refer(CPR_2008).await;
    let meeting = app
        .data(
            &app.team_lead(),
            r#"mutation { scheduleMeeting(input: {forum: K_MEETING, date: "2026-01-20", slotMinutes: 120}) { aggregateId } }"#,
            json!({}),
        )
        .await["scheduleMeeting"]["aggregateId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (staff, adviser) = (app.counsellor.to_string(), app.adviser.to_string());
    let queries: Vec<(String, String)> = vec![
        // docs/api.md, Reading.
        (app.caseworker(), format!(r#"{{ youth(id: "{id}") {{ name age team needLevel consent coordinator {{ status staffId }}
            plan {{ revision kind goals actions {{ description department due status }} }} version }} }}"#)),
        (app.caseworker(), format!(r#"{{ youth(cpr: "{CPR_2008}") {{ id status }} }}"#)),
        (app.caseworker(), format!(r#"{{ meeting(id: "{meeting}") {{ forum date slotMinutes agendaMinutes status
            agenda {{ youthId presenter minutes complex decided }} decisions {{ youthId coordinator actions {{ what }} }} }} }}"#)),
        (app.caseworker(), format!(r#"{{ staff(id: "{staff}") {{ name department municipality capacity active }} }}"#)),
        // docs/api.md, the read models.
        // Filtering by need level needs the social class: the auditor's need to know reaches it.
        (app.auditor(), "{ youngPeople(team: TEAM_2, needLevel: C, hasAlarm: true, minAge: 15, maxAge: 17, first: 50) {
            totalCount pageInfo { hasNextPage endCursor }
            edges { cursor node { person { id name } age team needLevel scheme coordinator openAlarms } } } }".into()),
        (app.caseworker(), "{ teams(withinDays: 90) { teams { team memberCount cadenceDays lastMeeting nextMeeting }
            moving { person { name } from to on } } }".into()),
        (app.caseworker(), "{ meetings(forum: K_MEETING) { upcoming { id date cases bookedMinutes slotMinutes overSlot }
            followUps { person { name } followUp overdue } } }".into()),
        (app.caseworker(), "{ caseload { coordinators { name active capacity overCapacity } departments { department coordinated }
            unassignedCNeed { person { name } scheme } } }".into()),
        (app.caseworker(), format!(r#"{{ coordinatorLoad(staff: "{adviser}") {{ name department active capacity overCapacity }} }}"#)),
        (app.caseworker(), r#"{ alarms(rule: EIGHTEEN_WITHOUT_ADULT_OWNER, asOf: "2026-06-30") { person { name } due openedOn act actAs detail } }"#.into()),
        (app.analyst(), r#"{ statistics(asOf: "2026-10-31") {
            viborg { assigned declined notRelevant completed total coordinators referred }
            eighteenthBirthdays handedOverOnTime shareOnTime
            months { month referrals meetingsHeld destinations positiveDestinations viborg { assigned total } } } }"#.into()),
        // docs/api.md, the auditor's replay (also the demo's second and third queries).
        (app.auditor(), format!(r#"{{
            history(youthId: "{id}", asOf: "2026-02-28") {{
              entries {{ position stream version type occurredAt recordedAt
                        actor {{ staffId role department }} commandId causationId correlationId
                        summary payload hash }}
              state {{ status team coordinator plan turnedEighteen }}
            }}
            accessLog(youthId: "{id}") {{ at staffId role department municipality operation }}
            verifyLog {{ ok events headPosition headHash firstBadPosition problem }} }}"#)),
        // The demo's first query and the load scripts.
        (app.caseworker(), format!(r#"{{ youth(id: "{id}") {{ name age team needLevel coordinator {{ status staffId }} plan {{ revision kind goals }} version }} }}"#)),
        (app.caseworker(), format!(r#"{{ youth(id: "{id}") {{ name team needLevel coordinator {{ status }} version }} }}"#)),
        (app.caseworker(), "{ caseload { coordinators { name active capacity overCapacity } departments { department coordinated } } }".into()),
        // A full page of young people with every column, beside the reports.
        (app.caseworker(), "{ youngPeople(first: 200) { totalCount pageInfo { hasNextPage endCursor }
            edges { cursor node { person { id pseudonym name } age municipality open team needLevel scheme
              coordinator coordinatorDepartment coordinatingCaseworker openAlarms } } }
            teams { teams { team memberCount members { person { name } age reason since } } }
            caseload { departments { department coordinated } } }".into()),
    ];
    for (token, query) in &queries {
        let response = app.gql(token, query, json!({})).await;
        assert!(response.get("errors").is_none(), "{query}\n{response:#}");
    }
    let refer = "mutation Refer($input: ReferInput!) { refer(input: $input) { position } }";
    let input = json!({ "input": { "cpr": "020308-4322", "name": "Anna Berg", "schoolStatus": "IN_EDUCATION" } });
    app.data(&app.caseworker(), refer, input).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_is_answered_at_the_deadline() {
    // No fold may run and one request may wait for one: it waits for ever, so only its
    // deadline answers it. It then leaves the line, so the next request waits too
    // instead of being refused.
    let deadline = std::time::Duration::from_millis(300);
    let app = spawn_with(Limits {
        max_folds: 0,
        max_waiting_folds: 1,
        fold_in_place: 0,
        deadline,
        ..Limits::recommended()
    })
    .await;
    let past = r#"{ alarms(asOf: "2025-06-30") { due } }"#;
    for _ in 0..2 {
        let started = std::time::Instant::now();
        let late = app.gql(&app.caseworker(), past, json!({})).await;
        let elapsed = started.elapsed();
        assert_eq!(code(&late), "DEADLINE_EXCEEDED", "{late}");
        assert_eq!(late["errors"][0]["extensions"]["deadlineMs"], 300);
        assert!(late["data"].is_null(), "{late}");
        assert!(elapsed >= deadline && elapsed < deadline * 5, "{elapsed:?}");
    }
    // What finishes in time is answered as usual.
    app.data(&app.caseworker(), "{ alarms { due } }", json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folds_of_the_whole_log_beyond_the_line_are_busy() {
    let past = r#"{ alarms(asOf: "2025-06-30") { due } }"#;
    // No fold may run and nobody may wait: refused at once.
    let full = spawn_with(Limits {
        max_folds: 0,
        max_waiting_folds: 0,
        fold_in_place: 0,
        ..Limits::recommended()
    })
    .await;
    let busy = full.gql(&full.caseworker(), past, json!({})).await;
    assert_eq!(code(&busy), "BUSY", "{busy}");
    // Today's report needs no fold.
    full.data(&full.caseworker(), "{ alarms { due } }", json!({})).await;

    // With the recommended limits a report as of a past date is answered.
    let open = spawn_app().await;
    open.data(&open.caseworker(), past, json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_verifications_share_one_run_while_the_log_stays_put() {
    let app = spawn_app().await;
    app.refer(CPR_2008).await;
    let query = "{ verifyLog { ok events headPosition } }";
    let (token, other) = (app.auditor(), app.admin());
    let (first, second) = tokio::join!(app.data(&token, query, json!({})), app.data(&other, query, json!({})));
    assert_eq!(first, second);
    assert_eq!(first["verifyLog"]["ok"], true, "{first}");
    assert_eq!(first["verifyLog"]["headPosition"], app.head());
    assert_eq!(app.verifications(), 1, "one verification for both callers");
    app.data(&token, query, json!({})).await;
    assert_eq!(app.verifications(), 1, "the log has not moved: the outcome is reused");

    // Once the log moves, the next caller verifies again, up to the new head.
    app.refer("020308-4322").await;
    let after = app.data(&token, query, json!({})).await;
    assert_eq!(after["verifyLog"]["headPosition"], app.head());
    assert_eq!(app.verifications(), 2);
}

/// The introspection query graphql-js's `getIntrospectionQuery()` builds, as GraphiQL and
/// code generators send it: version 15 nests `ofType` seven levels deep, version 16 nine.
const STANDARD_INTROSPECTION: [(&str, &str); 2] = [
    (
        "graphql-js 15.11.0",
        include_str!("../fixtures/introspection-graphql-js-15.graphql"),
    ),
    (
        "graphql-js 16.15.0",
        include_str!("../fixtures/introspection-graphql-js-16.graphql"),
    ),
];

/// Sends `query` as GraphiQL does, with its operation name.
async fn introspect(app: &TestApp, query: &str) -> serde_json::Value {
    let body = json!({ "query": query, "operationName": "IntrospectionQuery" }).to_string();
    let authorization = format!("Bearer {}", app.caseworker());
    let reply = app
        .raw(
            "POST",
            "/graphql",
            &[("Authorization", &authorization), ("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standard_introspection_query_is_answered() {
    let app = spawn_app().await;
    for (version, query) in STANDARD_INTROSPECTION {
        let response = introspect(&app, query).await;
        assert!(response.get("errors").is_none(), "{version}: {response:#}");
        let types = response["data"]["__schema"]["types"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            types.iter().any(|ty| ty["name"] == "QueryRoot"),
            "{version}: {response}"
        );
        assert_eq!(response["data"]["__schema"]["queryType"]["name"], "QueryRoot");
    }
    // Switched off, it is answered with nothing.
    let closed = spawn_with(Limits {
        introspection: false,
        ..Limits::recommended()
    })
    .await;
    for (version, query) in STANDARD_INTROSPECTION {
        let response = introspect(&closed, query).await;
        assert!(response["data"]["__schema"].is_null(), "{version}: {response}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depth_is_limited_except_for_introspection() {
    let app = spawn_with(Limits {
        max_depth: 3,
        ..Limits::recommended()
    })
    .await;
    let deep = "{ youngPeople { edges { node { person { name } } } } }";
    let refused = app.gql(&app.caseworker(), deep, json!({})).await;
    assert_eq!(code(&refused), "QUERY_TOO_DEEP", "{refused}");
    assert_eq!(
        (
            refused["errors"][0]["extensions"]["actual"].clone(),
            refused["errors"][0]["extensions"]["limit"].clone()
        ),
        (json!(5), json!(3))
    );
    app.data(&app.caseworker(), "{ youngPeople { totalCount } }", json!({}))
        .await;
    // Far deeper than 3, and answered.
    for (version, query) in STANDARD_INTROSPECTION {
        let response = introspect(&app, query).await;
        assert!(response.get("errors").is_none(), "{version}: {response:#}");
    }
    // Expanded, introspection still counts: a bomb of `__schema` is refused.
    let mut bomb = String::from("{ ...F20 } fragment F0 on QueryRoot { __schema { queryType { name } } }");
    for level in 1..=20 {
        bomb.push_str(&format!(
            " fragment F{level} on QueryRoot {{ ...F{below} ...F{below} }}",
            below = level - 1
        ));
    }
    let refused = app.gql(&app.caseworker(), &bomb, json!({})).await;
    assert_eq!(code(&refused), "QUERY_TOO_LARGE", "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_past_day_takes_a_turn_at_the_fold_gate_only_when_it_has_much_to_read() {
    // No fold may take a turn, and a fold with anything to read needs one.
    let app = spawn_with(Limits {
        max_folds: 0,
        max_waiting_folds: 0,
        fold_in_place: 0,
        ..Limits::recommended()
    })
    .await;
    let past = r#"{ alarms(asOf: "2025-06-30") { due } }"#;
    let busy = app.gql(&app.caseworker(), past, json!({})).await;
    assert_eq!(code(&busy), "BUSY", "{busy}");

    // Once the day is kept and up to date, it is answered without a turn...
    let projections = app.engine.read_models().cloned().expect("read models");
    tokio::task::spawn_blocking(move || {
        let day = projections.past_day(kui_domain::testing::date(2025, 6, 30));
        projections
            .answer_as_of(
                &day,
                1,
                &mut |_, _| {},
                &std::sync::atomic::AtomicBool::new(false),
                |_| (),
            )
            .expect("folded")
    })
    .await
    .expect("joined");
    app.data(&app.caseworker(), past, json!({})).await;

    // ...until something is written that it has yet to read.
    app.refer(CPR_2008).await;
    let busy = app.gql(&app.caseworker(), past, json!({})).await;
    assert_eq!(code(&busy), "BUSY", "{busy}");
}
