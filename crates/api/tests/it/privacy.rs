//! Analysts see pseudonyms only; every read of a case is recorded before it is answered.

use serde_json::json;

use crate::helpers::{code, spawn_app, CPR_2008};

const FULL_YOUTH: &str = r#"query($y: ID!) {
  youth(id: $y) {
    id pseudonym name cpr birthDate age eighteenthBirthday municipality status needLevel schoolStatus team
    consent turnedEighteen destination referrals firstReferredOn version
    coordinator { status staffId releaseReason }
    plan { revision kind goals goalCount actions { description department responsible due status } }
  }
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analysts_get_pseudonymised_records_without_name_cpr_or_free_text() {
    let app = spawn_app().await;
    let id = app.refer(CPR_2008).await;
    app.data(
        &app.caseworker(),
        r#"mutation($y: ID!) { updatePlan(youthId: $y, input: {kind: EDUCATION_PLAN, goals: ["wants to become a carpenter"],
             actions: [{description: "talk to the carpentry school", department: UU}]}) { version } }"#,
        json!({ "y": id }),
    )
    .await;
    let analyst = app.analyst();
    let reply = app.post(&analyst, FULL_YOUTH, json!({ "y": id })).await;
    assert_eq!(reply.status, 200);
    for secret in [
        "Emil",
        "Jensen",
        "010308",
        "4321",
        "2008-03-01",
        &id,
        "carpenter",
        "carpentry",
    ] {
        assert!(
            !reply.body.contains(secret),
            "{secret:?} leaked to an analyst: {}",
            reply.body
        );
    }
    let youth = reply.json()["data"]["youth"].clone();
    assert!(youth["name"].is_null() && youth["cpr"].is_null() && youth["id"].is_null());
    assert_eq!(youth["age"], 17);
    assert_eq!(youth["plan"]["goalCount"], 1);
    assert_eq!(youth["plan"]["actions"][0]["department"], "UU");
    let pseudonym = youth["pseudonym"].as_str().unwrap_or_default().to_owned();
    assert!(pseudonym.starts_with("p-"), "{pseudonym}");

    // Stable: the same young person, the same pseudonym, also for other roles.
    let again = app.data(&analyst, FULL_YOUTH, json!({ "y": id })).await;
    assert_eq!(again["youth"]["pseudonym"], pseudonym.as_str());
    let caseworker_view = app.data(&app.caseworker(), FULL_YOUTH, json!({ "y": id })).await;
    assert_eq!(caseworker_view["youth"]["pseudonym"], pseudonym.as_str());
    assert_eq!(caseworker_view["youth"]["name"], "Emil Jensen");

    // Looking someone up by CPR would link the number to the pseudonym.
    let by_cpr = app
        .gql(
            &analyst,
            r#"query { youth(cpr: "010308-4321") { pseudonym } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&by_cpr), "FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_of_a_case_is_in_the_access_log() {
    let app = spawn_app().await;
    let id = app.refer(CPR_2008).await;
    let other = app.refer("150609-4000").await;
    let meeting = "0190f000-0000-7000-8000-00000000beef";
    app.data(
        &app.team_lead(),
        r#"mutation($m: ID!) { scheduleMeeting(meetingId: $m, input: {forum: TEAM_2, date: "2026-01-22", slotMinutes: 60}) { version } }"#,
        json!({ "m": meeting }),
    )
    .await;
    for youth in [&id, &other] {
        app.data(
            &app.caseworker(),
            r#"mutation($m: ID!, $y: ID!) { tableCase(meetingId: $m, youthId: $y) { version } }"#,
            json!({ "m": meeting, "y": youth }),
        )
        .await;
    }
    assert_eq!(app.access_head(), 0, "writing is not reading");

    app.data(
        &app.caseworker(),
        "query($y: ID!) { youth(id: $y) { name } }",
        json!({ "y": id }),
    )
    .await;
    app.data(
        &app.analyst(),
        "query($y: ID!) { youth(id: $y) { pseudonym } }",
        json!({ "y": id }),
    )
    .await;
    app.data(
        &app.auditor(),
        "query($y: ID!) { history(youthId: $y) { entries { type } } }",
        json!({ "y": id }),
    )
    .await;
    app.data(
        &app.team_lead(),
        "query($m: ID!) { meeting(id: $m) { agenda { youthId } } }",
        json!({ "m": meeting }),
    )
    .await;

    let log = app
        .data(
            &app.auditor(),
            "query($y: ID!) { accessLog(youthId: $y) { position youthId staffId role department municipality operation at } }",
            json!({ "y": id }),
        )
        .await["accessLog"]
        .clone();
    let seen: Vec<(String, String, String)> = log
        .as_array()
        .map(|records| {
            records
                .iter()
                .map(|r| {
                    (
                        r["staffId"].as_str().unwrap_or_default().to_owned(),
                        r["role"].as_str().unwrap_or_default().to_owned(),
                        r["operation"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let staff = |n: u128| crate::helpers::staff(n).to_string();
    assert_eq!(
        seen,
        [
            (app.counsellor.to_string(), "caseworker".into(), "youth".into()),
            (staff(92), "analyst".into(), "youth".into()),
            (staff(90), "auditor".into(), "history".into()),
            (app.lead.to_string(), "team_lead".into(), "meeting".into()),
        ]
    );
    assert_eq!(log[0]["youthId"], id.as_str());
    assert_eq!(log[0]["municipality"], 540);
    assert_eq!(log[0]["at"], "2026-01-15T12:00:00+00:00");

    // The meeting's agenda named the other young person too.
    let other_log = app
        .data(
            &app.admin(),
            "query($y: ID!) { accessLog(youthId: $y) { operation } }",
            json!({ "y": other }),
        )
        .await;
    assert_eq!(other_log["accessLog"], json!([{ "operation": "meeting" }]));

    // Reading the access log is not a read of the case, and a refused read is not recorded.
    let reads = app.access_head();
    let refused = app
        .gql(
            &app.analyst(),
            "query($y: ID!) { history(youthId: $y) { entries { type } } }",
            json!({ "y": id }),
        )
        .await;
    assert_eq!(code(&refused), "FORBIDDEN");
    assert_eq!(app.access_head(), reads);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_written_acknowledgements_reads_are_recorded_once_the_access_log_syncs() {
    let app = crate::helpers::spawn_app_acknowledging(kui_log::Acknowledge::Written).await;
    let id = app.refer(CPR_2008).await;
    for _ in 0..3 {
        let read = app
            .data(
                &app.caseworker(),
                "query($y: ID!) { youth(id: $y) { name } }",
                json!({ "y": id }),
            )
            .await;
        assert_eq!(read["youth"]["name"], "Emil Jensen", "{read}");
    }
    // The records were written before the answers; the auditor sees them once synced.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let log = app
            .data(
                &app.auditor(),
                "query($y: ID!) { accessLog(youthId: $y) { operation role } }",
                json!({ "y": id }),
            )
            .await;
        let records = log["accessLog"].as_array().cloned().unwrap_or_default();
        if records.len() == 3 {
            assert!(records
                .iter()
                .all(|r| r["operation"] == "youth" && r["role"] == "caseworker"));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "records never appeared: {log}");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_young_person_has_one_pseudonym_in_lists_and_in_their_case() {
    let app = spawn_app().await;
    let id = app.refer(CPR_2008).await;
    app.settle().await;
    let analyst = app.analyst();
    let case = app
        .data(&analyst, "query($y: ID!) { youth(id: $y) { pseudonym } }", json!({ "y": id }))
        .await;
    let listed = app
        .data(&analyst, "{ youngPeople { edges { node { person { pseudonym } } } } }", json!({}))
        .await;
    assert_eq!(
        listed["youngPeople"]["edges"][0]["node"]["person"]["pseudonym"],
        case["youth"]["pseudonym"],
        "{listed}"
    );
}
