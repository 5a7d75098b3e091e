//! The read-model queries and the alarm feed: read-your-writes, filters and cursors,
//! municipal scope, pseudonyms for analysts, alarms that open with time and close when
//! satisfied.

use chrono::Duration;
use kui_domain::testing::noon;
use serde_json::{json, Value};

use crate::helpers::{code, spawn_app, TestApp, CPR_2008, ESBJERG, SONDERBORG};

const REFER_AND_WAIT: &str = r#"
mutation($cpr: String!, $name: String!) {
  refer(input: {cpr: $cpr, name: $name, schoolStatus: IN_EDUCATION, indicators: [HIGH_ABSENCE], note: "absence"},
        waitForProjections: true) {
    aggregateId position projectionsCaughtUp
  }
}"#;

/// Refers as the Sønderborg caseworker and waits until the read models include it.
async fn refer_and_wait(app: &TestApp, cpr: &str, name: &str) -> String {
    let data = app
        .data(&app.caseworker(), REFER_AND_WAIT, json!({ "cpr": cpr, "name": name }))
        .await;
    assert_eq!(data["refer"]["projectionsCaughtUp"], true, "{data}");
    data["refer"]["aggregateId"].as_str().unwrap_or_default().to_owned()
}

const YOUNG_PEOPLE: &str = r#"
query($after: String) {
  youngPeople(team: TEAM_2, first: 2, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { person { id name pseudonym } age team openAlarms } }
  }
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_is_listed_at_once_with_wait_for_projections_and_pages_by_cursor() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for (cpr, name) in [
        (CPR_2008, "Emil Jensen"),
        ("020308-4322", "Anna Berg"),
        ("030308-4323", "Carl Dahl"),
    ] {
        ids.push(refer_and_wait(&app, cpr, name).await);
    }
    // No waiting needed: the models already hold all three.
    let first = app.data(&app.caseworker(), YOUNG_PEOPLE, json!({})).await;
    let page = &first["youngPeople"];
    assert_eq!(page["totalCount"], 3, "{first}");
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let names: Vec<&str> = page["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|edge| edge["node"]["person"]["name"].as_str())
        .collect();
    // Lists are in id order: the read models hold no names to order by.
    let mut in_id_order: Vec<(String, &str)> = ids
        .iter()
        .cloned()
        .zip(["Emil Jensen", "Anna Berg", "Carl Dahl"])
        .collect();
    in_id_order.sort();
    assert_eq!(names, [in_id_order[0].1, in_id_order[1].1]);
    let after = page["pageInfo"]["endCursor"].clone();
    let second = app
        .data(&app.caseworker(), YOUNG_PEOPLE, json!({ "after": after }))
        .await;
    let rest = &second["youngPeople"];
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
    assert_eq!(rest["edges"][0]["node"]["person"]["name"], in_id_order[2].1);
    let teams = [("Emil Jensen", "TEAM_2")];
    if let Some((_, team)) = teams.iter().find(|(name, _)| *name == in_id_order[2].1) {
        assert_eq!(rest["edges"][0]["node"]["team"], *team);
    }

    // The listing's reads are in the access log.
    let log = app
        .data(
            &app.auditor(),
            "query($y: ID!) { accessLog(youthId: $y) { operation } }",
            json!({ "y": ids[0] }),
        )
        .await;
    assert!(log["accessLog"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|record| record["operation"] == "youngPeople"));

    // A bad cursor is invalid input.
    let bad = app
        .gql(&app.caseworker(), YOUNG_PEOPLE, json!({ "after": "nonsense" }))
        .await;
    assert_eq!(code(&bad), "INVALID_INPUT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_open_with_time_name_the_person_and_respect_scope_and_pseudonyms() {
    let app = spawn_app().await;
    let id = refer_and_wait(&app, CPR_2008, "Emil Jensen").await;
    let query =
        "query { alarms(rule: REFERRAL_NOT_TABLED) { rule due openedOn actAs person { id name pseudonym } detail } }";
    // Referred on 15 January: nothing is due yet.
    let today = app.data(&app.caseworker(), query, json!({})).await;
    assert_eq!(today["alarms"], json!([]));
    // 31 days later the referral has not been tabled.
    app.clock.set(noon(2026, 1, 15) + Duration::days(31));
    let later = app.data(&app.caseworker(), query, json!({})).await;
    let alarm = &later["alarms"][0];
    assert_eq!(alarm["rule"], "REFERRAL_NOT_TABLED", "{later}");
    assert_eq!(alarm["person"]["id"], id.as_str());
    assert_eq!(alarm["person"]["name"], "Emil Jensen");
    assert_eq!(alarm["due"], "2026-02-14");
    assert_eq!(alarm["actAs"], "referrer");
    // The case itself shows its open alarms.
    let case = app
        .data(
            &app.caseworker(),
            "query($y: ID!) { youth(id: $y) { openAlarms { rule due } } }",
            json!({ "y": id }),
        )
        .await;
    let rules: Vec<&str> = case["youth"]["openAlarms"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["rule"].as_str())
        .collect();
    assert!(
        rules.contains(&"REFERRAL_NOT_TABLED") && rules.contains(&"EIGHTEEN_WITHOUT_ADULT_OWNER"),
        "{case}"
    );
    // The same question as of an earlier date folds the log up to it.
    let past = app
        .data(
            &app.caseworker(),
            "query { alarms(asOf: \"2026-01-20\") { rule } }",
            json!({}),
        )
        .await;
    // Then only the 18th birthday (1 March 2026) was near; the referral was not yet due.
    assert_eq!(past["alarms"], json!([{ "rule": "EIGHTEEN_WITHOUT_ADULT_OWNER" }]));

    // Analysts see the alarm, pseudonymised.
    let analyst = app.data(&app.analyst(), query, json!({})).await;
    let seen = &analyst["alarms"][0]["person"];
    assert_eq!(seen["id"], json!(null));
    assert_eq!(seen["name"], json!(null));
    assert!(seen["pseudonym"].as_str().is_some_and(|p| p.starts_with("p-")));
    assert!(!analyst.to_string().contains("Emil"));

    // A caseworker of another municipality sees none of it and may not ask for it.
    let esbjerg = app.token(kui_engine::Role::Caseworker, app.esbjerg_caseworker, Some(ESBJERG));
    let theirs = app.data(&esbjerg, query, json!({})).await;
    assert_eq!(theirs["alarms"], json!([]));
    let forbidden = app
        .gql(&esbjerg, "query { alarms(municipality: 540) { rule } }", json!({}))
        .await;
    assert_eq!(code(&forbidden), "FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_caseload_meetings_and_statistics_answer_from_the_models() {
    let app = spawn_app().await;
    let id = refer_and_wait(&app, CPR_2008, "Emil Jensen").await;
    // Asked twice before the assessment: the second answer comes from the report cache.
    for _ in 0..2 {
        let before = app
            .data(
                &app.caseworker(),
                "query { caseload { unassignedCNeed { person { name } scheme } } }",
                json!({}),
            )
            .await;
        assert_eq!(before["caseload"]["unassignedCNeed"], json!([]), "{before}");
    }
    app.data(
        &app.caseworker(),
        "mutation($y: ID!) { assessNeed(youthId: $y, level: C, waitForProjections: true) { position } }",
        json!({ "y": id }),
    )
    .await;
    let teams = app
        .data(
            &app.caseworker(),
            "query { teams(withinDays: 60) { teams { team memberCount cadenceDays } moving { person { name } on } } }",
            json!({}),
        )
        .await;
    assert_eq!(teams["teams"]["teams"][1]["team"], "TEAM_2");
    assert_eq!(teams["teams"]["teams"][1]["memberCount"], 1);
    assert_eq!(teams["teams"]["teams"][1]["cadenceDays"], 14);
    // Born 1 March 2008: turns 18 within 60 days of 15 January 2026.
    assert_eq!(teams["teams"]["moving"][0]["on"], "2026-03-01");

    let caseload = app
        .data(
            &app.caseworker(),
            "query { caseload { unassignedCNeed { person { name } scheme } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        caseload["caseload"]["unassignedCNeed"][0]["person"]["name"],
        "Emil Jensen"
    );
    assert_eq!(caseload["caseload"]["unassignedCNeed"][0]["scheme"], "NONE");

    let meetings = app
        .data(
            &app.team_lead(),
            "query { meetings { upcoming { forum } followUps { overdue } } }",
            json!({}),
        )
        .await;
    assert_eq!(meetings["meetings"]["upcoming"], json!([]));

    // Statistics are aggregates: analysts may read them.
    let stats = app
        .data(
            &app.analyst(),
            "query { statistics { viborg { referred total } months { month referrals } } }",
            json!({}),
        )
        .await;
    // One referral is a small cell: withheld from analysts, shown to others.
    assert_eq!(stats["statistics"]["viborg"]["referred"], Value::Null);
    assert_eq!(stats["statistics"]["months"][0]["month"], "2026-01");
    let exact = app
        .data(
            &app.auditor(),
            "query { statistics { viborg { referred } } }",
            json!({}),
        )
        .await;
    assert_eq!(exact["statistics"]["viborg"]["referred"], 1);
    // Meetings name young people: analysts may not list them.
    let denied = app
        .gql(&app.analyst(), "query { meetings { past { date } } }", json!({}))
        .await;
    assert_eq!(code(&denied), "FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alarm_feed_reports_open_alarms_then_closes_one_when_it_is_satisfied() {
    let app = spawn_app().await;
    let id = refer_and_wait(&app, CPR_2008, "Emil Jensen").await;
    app.clock.set(noon(2026, 1, 15) + Duration::days(31));
    let mut client = app
        .websocket(json!({ "Authorization": format!("Bearer {}", app.caseworker()) }))
        .await;
    assert_eq!(
        client.next().await.map(|m| m["type"].clone()),
        Some(json!("connection_ack"))
    );
    client
        .send(json!({
            "id": "alarms",
            "type": "subscribe",
            "payload": { "query": "subscription { alarms { change position alarm { rule person { id } } } }" }
        }))
        .await;
    let mut opened = Vec::new();
    loop {
        let message = client.next().await.expect("closed");
        let change = &message["payload"]["data"]["alarms"];
        assert_eq!(change["change"], "OPENED", "{message}");
        assert_eq!(change["position"], json!(null));
        opened.push(change["alarm"]["rule"].as_str().unwrap_or_default().to_owned());
        if change["alarm"]["rule"] == "REFERRAL_NOT_TABLED" {
            break;
        }
    }
    // Discussing the case at a held meeting satisfies the rule: the feed says so.
    let meeting = "0190f000-0000-7000-8000-0000000000aa";
    app.data(
        &app.team_lead(),
        r#"mutation($m: ID!) { scheduleMeeting(meetingId: $m, input: {forum: TEAM_2, date: "2026-02-15", slotMinutes: 90}) { version } }"#,
        json!({ "m": meeting }),
    )
    .await;
    app.data(
        &app.caseworker(),
        r#"mutation($m: ID!, $y: ID!) { tableCase(meetingId: $m, youthId: $y, complex: false) { version } }"#,
        json!({ "m": meeting, "y": id }),
    )
    .await;
    app.data(
        &app.team_lead(),
        r#"mutation($m: ID!, $a: ID!) { holdMeeting(meetingId: $m, attendees: [$a], waitForProjections: true) { version } }"#,
        json!({ "m": meeting, "a": app.lead.to_string() }),
    )
    .await;
    let closed = loop {
        let message = client.next().await.expect("closed");
        let change = message["payload"]["data"]["alarms"].clone();
        if change["change"] == "CLOSED" {
            break change;
        }
    };
    assert_eq!(closed["alarm"]["rule"], "REFERRAL_NOT_TABLED");
    assert_eq!(closed["alarm"]["person"]["id"], id.as_str());
    assert!(closed["position"].as_u64().is_some());
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_coordinators_load_counts_their_open_cases_within_scope() {
    let app = spawn_app().await;
    let id = refer_and_wait(&app, CPR_2008, "Emil Jensen").await;
    let query = "query($s: ID!) { coordinatorLoad(staff: $s) { staff name department active capacity overCapacity } }";
    let load = |staff: String| {
        let app = &app;
        async move { app.data(&app.caseworker(), query, json!({ "s": staff })).await }
    };
    let before = load(app.adviser.to_string()).await;
    assert_eq!(before["coordinatorLoad"]["active"], 0, "{before}");

    app.data(
        &app.caseworker(),
        "mutation($y: ID!) { offerCoordinator(youthId: $y) { version } }",
        json!({ "y": id }),
    )
    .await;
    app.data(
        &app.caseworker(),
        "mutation($y: ID!, $c: ID!) { assignCoordinator(youthId: $y, coordinator: $c, waitForProjections: true) { version } }",
        json!({ "y": id, "c": app.adviser.to_string() }),
    )
    .await;
    let after = load(app.adviser.to_string()).await;
    let row = &after["coordinatorLoad"];
    assert_eq!(row["staff"], app.adviser.to_string());
    assert_eq!(row["active"], 1, "{after}");
    assert_eq!(row["overCapacity"], false);
    assert!(row["capacity"].as_u64().is_some_and(|c| c > 0), "{after}");
    // The same figure as the adviser's row of the full report.
    let report = app
        .data(
            &app.caseworker(),
            "query { caseload { coordinators { staff name active capacity } } }",
            json!({}),
        )
        .await;
    let in_report = report["caseload"]["coordinators"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["staff"] == row["staff"])
        .cloned();
    assert_eq!(
        in_report,
        Some(json!({ "staff": row["staff"], "name": row["name"], "active": 1, "capacity": row["capacity"] }))
    );

    // Unknown staff, staff of another municipality and a malformed id.
    let unknown = app
        .gql(
            &app.caseworker(),
            query,
            json!({ "s": crate::helpers::staff(4242).to_string() }),
        )
        .await;
    assert_eq!(code(&unknown), "NOT_FOUND");
    let esbjerg = app.token(kui_engine::Role::Caseworker, app.esbjerg_caseworker, Some(ESBJERG));
    let other = app.gql(&esbjerg, query, json!({ "s": app.adviser.to_string() })).await;
    assert_eq!(code(&other), "NOT_FOUND");
    let malformed = app.gql(&app.caseworker(), query, json!({ "s": "adviser" })).await;
    assert_eq!(code(&malformed), "INVALID_INPUT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_queries_show_every_change_and_record_every_read() {
    let app = spawn_app().await;
    let id = refer_and_wait(&app, CPR_2008, "Emil Jensen").await;
    let query = "query { caseload { unassignedCNeed { person { name } } } }";
    let esbjerg = app.token(kui_engine::Role::Caseworker, app.esbjerg_caseworker, Some(ESBJERG));
    let first = app.data(&app.caseworker(), query, json!({})).await;
    assert_eq!(app.data(&app.caseworker(), query, json!({})).await, first);

    // The models move: the next answer shows the change.
    app.data(
        &app.caseworker(),
        "mutation($y: ID!) { assessNeed(youthId: $y, level: C, waitForProjections: true) { position } }",
        json!({ "y": id }),
    )
    .await;
    let after = app.data(&app.caseworker(), query, json!({})).await;
    assert_eq!(after["caseload"]["unassignedCNeed"][0]["person"]["name"], "Emil Jensen");
    assert_eq!(app.data(&app.caseworker(), query, json!({})).await, after);

    // Another municipality asking the same text gets its own answer.
    for _ in 0..2 {
        let theirs = app.data(&esbjerg, query, json!({})).await;
        assert_eq!(theirs["caseload"]["unassignedCNeed"], json!([]), "{theirs}");
    }

    // A case read beside a report is recorded for each caller, before each answer.
    let mixed = "query($y: ID!) { caseload { departments { department } } youth(id: $y) { name version } }";
    let reads = app.access_head();
    let first = app.data(&app.caseworker(), mixed, json!({ "y": id })).await;
    let adviser = app.token(kui_engine::Role::Caseworker, app.adviser, Some(SONDERBORG));
    let second = app.data(&adviser, mixed, json!({ "y": id })).await;
    assert_eq!(second, first);
    assert_eq!(app.access_head(), reads + 2, "both reads are recorded");
    let records = app
        .data(
            &app.auditor(),
            "query($y: ID!) { accessLog(youthId: $y) { staffId operation } }",
            json!({ "y": id }),
        )
        .await;
    let staff: Vec<_> = records["accessLog"]
        .as_array()
        .map(|records| records.iter().rev().take(2).map(|r| r["staffId"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(
        staff,
        vec![json!(app.adviser.to_string()), json!(app.counsellor.to_string())],
        "{records}"
    );

    // The case changes: the next answer shows it.
    app.data(
        &app.caseworker(),
        "mutation($y: ID!) { assessNeed(youthId: $y, level: B) { version } }",
        json!({ "y": id }),
    )
    .await;
    let changed = app.data(&app.caseworker(), mixed, json!({ "y": id })).await;
    assert_ne!(changed["youth"]["version"], first["youth"]["version"], "{changed}");

    // An analyst asking the same text gets the pseudonymised answer.
    let analyst = app.data(&app.analyst(), mixed, json!({ "y": id })).await;
    assert_eq!(analyst["youth"]["name"], json!(null), "{analyst}");

    // Every read of a history is recorded too.
    let history =
        "query($y: ID!) { caseload { departments { department } } history(youthId: $y) { entries { position } } }";
    let reads = app.access_head();
    for _ in 0..2 {
        app.data(&app.auditor(), history, json!({ "y": id })).await;
    }
    assert_eq!(app.access_head(), reads + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_past_day_asked_again_reads_only_what_was_written_since_and_takes_in_a_backdated_event() {
    let app = spawn_app().await;
    let caseworker = app.caseworker();
    const PAST: &str = r#"{ alarms(asOf: "2025-12-31") { rule person { name } due } }"#;
    let past_days = || {
        app.engine
            .read_models()
            .map(|models| models.past_stats())
            .unwrap_or_default()
    };
    let first = app.data(&caseworker, PAST, json!({})).await;
    let kept = past_days();
    assert_eq!(kept.from_scratch, 1);
    assert_eq!(kept.days.len(), 1);
    assert_eq!(kept.days[0].1, app.head(), "read up to the head");

    // Today's work (dated 2026-01-15) changes nothing about the end of 2025 and is only
    // read, not folded in.
    let head_before = app.head();
    app.refer(CPR_2008).await;
    let again = app.data(&caseworker, PAST, json!({})).await;
    assert_eq!(again, first);
    let after_today = past_days();
    assert_eq!(after_today.from_scratch, 1, "no fold of the whole log again");
    assert_eq!(after_today.events_read - kept.events_read, app.head() - head_before);
    assert_eq!(after_today.events_folded, kept.events_folded);

    // A referral dated back in 2025 (turning 18 on 2026-03-01, so warned about from
    // 2025-09-01) is on or before the day: it is folded into the kept day.
    let today = app.now();
    app.clock.set(noon(2025, 12, 1));
    app.data(
        &caseworker,
        REFER_AND_WAIT,
        json!({ "cpr": "010308-4320", "name": "Backdated Berg" }),
    )
    .await;
    app.clock.set(today);
    let backdated = app.data(&caseworker, PAST, json!({})).await;
    let names = |answer: &serde_json::Value| -> Vec<String> {
        answer["alarms"]
            .as_array()
            .map(|alarms| {
                alarms
                    .iter()
                    .filter_map(|alarm| alarm["person"]["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(!names(&first).contains(&"Backdated Berg".to_owned()), "{first}");
    assert!(names(&backdated).contains(&"Backdated Berg".to_owned()), "{backdated}");
    let after_backdated = past_days();
    assert_eq!(after_backdated.from_scratch, 1);
    assert!(after_backdated.events_folded > after_today.events_folded);

    // What the kept day answers is what a fold of the whole log answers.
    let projections = app.engine.read_models().cloned().expect("read models");
    let log = app.engine.log().clone();
    let fresh = tokio::task::spawn_blocking(move || {
        let day = kui_domain::testing::date(2025, 12, 31);
        let fresh =
            kui_engine::read_models::Projections::as_of(log.as_ref(), day, 1, &mut |_, _| {}).expect("a fresh fold");
        let kept = projections.past_day(day);
        let kept = projections
            .answer_as_of(
                &kept,
                1,
                &mut |_, _| {},
                &std::sync::atomic::AtomicBool::new(false),
                |models| models.clone(),
            )
            .expect("the kept fold");
        fresh == kept
    })
    .await
    .expect("joined");
    assert!(fresh, "the kept day and a fresh fold differ");
}
