//! The event feed over WebSocket: catch-up, then live.

use serde_json::json;

use crate::helpers::{spawn_app, CPR_2008};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_catches_up_then_receives_live_events() {
    let app = spawn_app().await;
    let id = app.refer(CPR_2008).await;
    let mut client = app
        .websocket(json!({ "Authorization": format!("Bearer {}", app.auditor()) }))
        .await;
    assert_eq!(
        client.next().await.map(|m| m["type"].clone()),
        Some(json!("connection_ack"))
    );
    client
        .send(json!({
            "id": "feed",
            "type": "subscribe",
            "payload": {
                "query": "subscription { events(fromPosition: 1, streams: [\"youth-*\"]) { position stream type actor { role } payload } }"
            }
        }))
        .await;
    // Catch-up: the referral's two events (the setup's municipality and staff events are filtered out).
    let mut received = Vec::new();
    for _ in 0..2 {
        let message = client.next().await.expect("closed");
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(message["id"], "feed");
        received.push(message["payload"]["data"]["events"].clone());
    }
    assert_eq!(received[0]["type"], "YouthReferred");
    assert_eq!(received[0]["position"], 7);
    assert_eq!(received[0]["stream"], format!("youth-{id}"));
    assert_eq!(received[1]["type"], "TeamAssigned");

    // Live: a new event appears once it is durable.
    app.data(
        &app.caseworker(),
        "mutation($y: ID!) { assessNeed(youthId: $y, level: C) { position } }",
        json!({ "y": id }),
    )
    .await;
    let live = client.next().await.expect("closed");
    assert_eq!(live["payload"]["data"]["events"]["type"], "NeedAssessed");
    assert_eq!(live["payload"]["data"]["events"]["actor"]["role"], "caseworker");
    assert_eq!(live["payload"]["data"]["events"]["payload"]["level"], "C");
    client.send(json!({ "id": "feed", "type": "complete" })).await;
    client.close().await;

    // Following the feed read the young person's case: recorded once.
    let log = app
        .data(
            &app.auditor(),
            "query($y: ID!) { accessLog(youthId: $y) { operation role } }",
            json!({ "y": id }),
        )
        .await;
    assert_eq!(log["accessLog"], json!([{ "operation": "events", "role": "auditor" }]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_needs_a_token_and_the_right_role() {
    let app = spawn_app().await;
    let mut anonymous = app.websocket(json!({})).await;
    assert_eq!(
        anonymous.next().await,
        None,
        "the server closes a connection without a token"
    );

    let mut bad = app.websocket(json!({ "token": "forged" })).await;
    assert_eq!(bad.next().await, None);

    let mut caseworker = app.websocket(json!({ "token": app.caseworker() })).await;
    assert_eq!(
        caseworker.next().await.map(|m| m["type"].clone()),
        Some(json!("connection_ack"))
    );
    caseworker
        .send(json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { events { position } }" } }))
        .await;
    let refused = caseworker.next().await.expect("closed");
    assert_eq!(refused["type"], "next", "{refused}");
    assert!(refused["payload"]["data"].is_null());
    assert_eq!(refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN");
}
