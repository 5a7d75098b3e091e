//! Optimistic concurrency and idempotent retries over HTTP.

use serde_json::json;

use crate::helpers::{code, spawn_app, CPR_2008, REFER};

const ASSESS: &str = r#"mutation($id: ID!, $v: Int, $c: ID) {
  assessNeed(youthId: $id, level: B, expectedVersion: $v, commandId: $c) { version position firstPosition replayed }
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_expected_version_is_a_conflict_with_expected_and_actual() {
    let app = spawn_app().await;
    let id = app.refer(CPR_2008).await;
    let token = app.caseworker();
    let first = app.data(&token, ASSESS, json!({ "id": id, "v": 2 })).await;
    assert_eq!(first["assessNeed"]["version"], 3);
    let head = app.head();

    let stale = app.gql(&token, ASSESS, json!({ "id": id, "v": 2 })).await;
    assert_eq!(code(&stale), "VERSION_CONFLICT");
    let extensions = &stale["errors"][0]["extensions"];
    assert_eq!(extensions["expected"], 2);
    assert_eq!(extensions["actual"], 3);
    assert_eq!(extensions["stream"], format!("youth-{id}"));
    assert!(stale["data"].is_null(), "{stale}");
    assert_eq!(app.head(), head, "a conflict writes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_on_the_same_version_one_wins_the_rest_conflict() {
    let app = std::sync::Arc::new(spawn_app().await);
    let id = app.refer(CPR_2008).await;
    let head = app.head();
    let mut writers = Vec::new();
    for _ in 0..6 {
        let app = app.clone();
        let id = id.clone();
        writers.push(tokio::spawn(async move {
            let token = app.caseworker();
            app.gql(&token, ASSESS, json!({ "id": id, "v": 2 })).await
        }));
    }
    let mut won = 0;
    let mut conflicts = 0;
    for writer in writers {
        let response = writer.await.unwrap();
        if response.get("errors").is_none() {
            won += 1;
            assert_eq!(response["data"]["assessNeed"]["version"], 3);
        } else {
            assert_eq!(code(&response), "VERSION_CONFLICT", "{response}");
            assert_eq!(response["errors"][0]["extensions"]["expected"], 2);
            assert_eq!(response["errors"][0]["extensions"]["actual"], 3);
            conflicts += 1;
        }
    }
    assert_eq!((won, conflicts), (1, 5));
    assert_eq!(app.head(), head + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_command_id_returns_the_first_result_and_writes_nothing() {
    let app = spawn_app().await;
    let token = app.caseworker();
    let command_id = "0190f000-0000-7000-8000-0000000000aa";
    let first = app
        .data(&token, REFER, json!({ "cpr": CPR_2008, "commandId": command_id }))
        .await;
    let head = app.head();
    let again = app
        .data(&token, REFER, json!({ "cpr": CPR_2008, "commandId": command_id }))
        .await;
    assert_eq!(first["refer"]["replayed"], false);
    assert_eq!(again["refer"]["replayed"], true);
    for field in ["streamId", "version", "position", "firstPosition"] {
        assert_eq!(first["refer"][field], again["refer"][field], "{field}");
    }
    assert_eq!(app.head(), head, "a retry writes nothing");

    // Without the command id the same referral is a business rejection.
    let twice = app.gql(&token, REFER, json!({ "cpr": CPR_2008 })).await;
    assert_eq!(code(&twice), "REJECTED");
    assert_eq!(twice["errors"][0]["extensions"]["rule"], "case_already_open");

    // Retrying an update with its command id, even with a now-stale expected version,
    // returns the first result.
    let id = first["refer"]["aggregateId"].as_str().unwrap_or_default().to_owned();
    let assess_id = "0190f000-0000-7000-8000-0000000000bb";
    let one = app
        .data(&token, ASSESS, json!({ "id": id, "v": 2, "c": assess_id }))
        .await;
    let two = app
        .data(&token, ASSESS, json!({ "id": id, "v": 2, "c": assess_id }))
        .await;
    assert_eq!(one["assessNeed"]["position"], two["assessNeed"]["position"]);
    assert_eq!(two["assessNeed"]["replayed"], true);
}
