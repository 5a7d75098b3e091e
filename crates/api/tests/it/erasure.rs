//! Erasure over the API: admins erase, auditors read the proof, every answer afterwards
//! shows the erased placeholder, and nobody else may erase.

use serde_json::{json, Value};

use crate::helpers::{code, spawn_app, CPR_2008};

const ERASE: &str = "mutation($y: ID!) { erasePersonalData(youthId: $y, reason: \"asked\", authority: \"GDPR art. 17\") { youthId position streams resumed } }";
const CASE: &str = "query($y: ID!) { youth(id: $y) { name cpr pseudonym } }";
const LIST: &str = "{ youngPeople(first: 50) { edges { node { person { id name pseudonym } } } } }";
const REPORT: &str = "query($y: ID!) { erasureReport(youthId: $y) { erased key chainVerified erasure { erasedBy reason authority streams } events { eventType recomputes } } }";

fn names(list: &Value) -> Vec<String> {
    list["youngPeople"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|edge| edge["node"]["person"]["name"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_erases_and_every_answer_afterwards_shows_the_placeholder() {
    let app = spawn_app().await;
    let youth = app.refer(CPR_2008).await;
    let other = app
        .data(
            &app.caseworker(),
            r#"mutation { refer(input: {cpr: "020308-4322", name: "Anna Berg", schoolStatus: IN_EDUCATION}) { aggregateId } }"#,
            json!({}),
        )
        .await["refer"]["aggregateId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.settle().await;
    let before = app.data(&app.caseworker(), CASE, json!({ "y": youth })).await;
    let name = before["youth"]["name"].as_str().unwrap().to_owned();
    assert_eq!(before["youth"]["cpr"], CPR_2008);
    // The lookup by CPR number, cached as a parsed query text, must not outlive the erasure.
    let by_cpr = format!("{{ youth(cpr: \"{CPR_2008}\") {{ id }} }}");
    app.data(&app.caseworker(), &by_cpr, json!({})).await;

    for token in [app.caseworker(), app.team_lead(), app.auditor(), app.analyst()] {
        let refused = app.gql(&token, ERASE, json!({ "y": youth })).await;
        assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    }
    let erased = app.data(&app.admin(), ERASE, json!({ "y": youth })).await;
    assert_eq!(
        erased["erasePersonalData"]["streams"],
        json!([format!("youth-{youth}")])
    );
    assert_eq!(erased["erasePersonalData"]["resumed"], false);
    app.settle().await;

    let after = app.data(&app.caseworker(), CASE, json!({ "y": youth })).await;
    assert_eq!(after["youth"]["name"], "(erased)");
    assert_eq!(after["youth"]["cpr"], Value::Null);
    let list = app.data(&app.caseworker(), LIST, json!({})).await;
    assert!(names(&list).contains(&"(erased)".to_owned()), "{list}");
    assert!(!list.to_string().contains(&name), "{list}");
    assert!(!list.to_string().contains(CPR_2008));
    let analyst = app.data(&app.analyst(), LIST, json!({})).await;
    assert!(analyst.to_string().contains("p-erased"), "{analyst}");
    let missing = app.gql(&app.caseworker(), &by_cpr, json!({})).await;
    assert_eq!(code(&missing), "NOT_FOUND", "{missing}");
    let history = app
        .data(
            &app.auditor(),
            "query($y: ID!) { history(youthId: $y) { entries { type payload } } }",
            json!({ "y": youth }),
        )
        .await;
    assert!(!history.to_string().contains(&name), "{history}");
    assert!(!history.to_string().contains(CPR_2008), "{history}");
    // The other young person is untouched.
    let kept = app.data(&app.caseworker(), CASE, json!({ "y": other })).await;
    assert_ne!(kept["youth"]["name"], "(erased)");

    // The proof, for auditors.
    let report = app.data(&app.auditor(), REPORT, json!({ "y": youth })).await;
    let report = &report["erasureReport"];
    assert_eq!(report["erased"], true);
    assert_eq!(report["key"], "erased");
    assert_eq!(report["chainVerified"], true);
    assert_eq!(report["erasure"]["authority"], "GDPR art. 17");
    assert!(report["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["recomputes"] == true));
    let refused = app.gql(&app.caseworker(), REPORT, json!({ "y": youth })).await;
    assert_eq!(code(&refused), "FORBIDDEN");

    // Erasing twice is refused; the verification still passes.
    let again = app.gql(&app.admin(), ERASE, json!({ "y": youth })).await;
    assert_eq!(code(&again), "REJECTED", "{again}");
    let verified = app.data(&app.auditor(), "{ verifyLog { ok } }", json!({})).await;
    assert_eq!(verified["verifyLog"]["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legal_hold_stops_an_erasure_until_it_is_lifted() {
    let app = spawn_app().await;
    let youth = app.refer(CPR_2008).await;
    let place = "mutation($y: ID!) { placeLegalHold(youthId: $y, reason: \"complaint pending\") { position } }";
    let lift = "mutation($y: ID!) { liftLegalHold(youthId: $y, reason: \"complaint decided\") { position } }";
    let refused = app.gql(&app.caseworker(), place, json!({ "y": youth })).await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    app.data(&app.admin(), place, json!({ "y": youth })).await;
    let held = app.gql(&app.admin(), ERASE, json!({ "y": youth })).await;
    assert_eq!(code(&held), "REJECTED", "{held}");
    assert!(held.to_string().contains("legal hold"), "{held}");
    app.data(&app.admin(), lift, json!({ "y": youth })).await;
    app.data(&app.admin(), ERASE, json!({ "y": youth })).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_receives_the_erasure_live() {
    let app = spawn_app().await;
    let youth = app.refer(CPR_2008).await;
    let mut client = app
        .websocket(json!({ "Authorization": format!("Bearer {}", app.auditor()) }))
        .await;
    assert_eq!(
        client.next().await.map(|m| m["type"].clone()),
        Some(json!("connection_ack"))
    );
    let from = app.head() + 1;
    client
        .send(json!({
            "id": "feed",
            "type": "subscribe",
            "payload": {
                "query": format!("subscription {{ events(fromPosition: {from}, streams: [\"youth-*\"]) {{ type payload }} }}")
            }
        }))
        .await;
    app.data(&app.admin(), ERASE, json!({ "y": youth })).await;
    let live = client.next().await.expect("closed");
    assert_eq!(
        live["payload"]["data"]["events"]["type"], "PersonalDataErased",
        "{live}"
    );
    assert_eq!(live["payload"]["data"]["events"]["payload"]["youth_id"], youth);
    client.close().await;
}
