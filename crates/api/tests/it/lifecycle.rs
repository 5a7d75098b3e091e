//! The life of a young person, from referral to a closed case, through the API.

use chrono::Duration;
use kui_domain::testing::{date, noon};
use serde_json::json;

use crate::helpers::{spawn_app, CPR_2008};

const YOUTH: &str = r#"
query($id: ID!) {
  youth(id: $id) {
    id name cpr birthDate age status needLevel schoolStatus team consent turnedEighteen destination version
    coordinator { status staffId }
    coordinatingCaseworker
    plan { revision kind goals actions { description department responsible due status } }
  }
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_young_person_from_referral_to_a_closed_case() {
    let app = spawn_app().await;
    let caseworker = app.caseworker();
    let lead = app.team_lead();

    // Referral: the case opens in team 2 (17 years old, in education).
    let youth_id = app.refer(CPR_2008).await;
    let youth = app.data(&caseworker, YOUTH, json!({ "id": youth_id })).await["youth"].clone();
    assert_eq!(youth["name"], "Emil Jensen");
    assert_eq!(youth["cpr"], "010308-4321");
    assert_eq!(youth["birthDate"], "2008-03-01");
    assert_eq!(youth["age"], 17);
    assert_eq!(youth["status"], "OPEN");
    assert_eq!(youth["team"], "TEAM_2");
    assert_eq!(youth["version"], 2);

    // Need assessed as C, consent given, both on the version just read.
    let assessed = app
        .data(
            &caseworker,
            r#"mutation($id: ID!) { assessNeed(youthId: $id, level: C, note: "several departments", expectedVersion: 2) { version position } }"#,
            json!({ "id": youth_id }),
        )
        .await;
    assert_eq!(assessed["assessNeed"]["version"], 3);
    app.data(
        &caseworker,
        r#"mutation($id: ID!) { giveConsent(youthId: $id, givenBy: YOUTH, departments: [UU, JOB_CENTRE], expectedVersion: 3) { version } }"#,
        json!({ "id": youth_id }),
    )
    .await;

    // A K-meeting is scheduled, the case tabled (30 minutes: complex) and decided: the
    // adviser becomes coordinator, in the same append as the decision.
    let meeting_id = "0190f000-0000-7000-8000-000000000001";
    app.data(
        &lead,
        r#"mutation($m: ID!) { scheduleMeeting(meetingId: $m, input: {forum: K_MEETING, date: "2026-01-20", slotMinutes: 120}) { streamId version } }"#,
        json!({ "m": meeting_id }),
    )
    .await;
    app.data(
        &caseworker,
        r#"mutation($m: ID!, $y: ID!) { tableCase(meetingId: $m, youthId: $y, complex: true) { version } }"#,
        json!({ "m": meeting_id, "y": youth_id }),
    )
    .await;
    let decided = app
        .data(
            &lead,
            r#"mutation($m: ID!, $y: ID!, $c: ID!) {
                 recordMeetingDecision(meetingId: $m, input: {
                   youthId: $y, coordinator: $c, lead: $c,
                   actions: [{what: "find an internship", department: JOB_CENTRE, who: $c, due: "2026-02-15"}],
                   documentationNeeded: ["school report"], followUp: "2026-02-20"
                 }) { streamId version streams { streamId version } }
               }"#,
            json!({ "m": meeting_id, "y": youth_id, "c": app.adviser.to_string() }),
        )
        .await;
    let streams = decided["recordMeetingDecision"]["streams"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        streams.len(),
        2,
        "the decision also writes the young person's stream: {decided}"
    );
    assert_eq!(streams[1]["streamId"], format!("youth-{youth_id}"));

    let meeting = app
        .data(
            &lead,
            r#"query($m: ID!) { meeting(id: $m) { forum date slotMinutes agendaMinutes status
                 agenda { youthId presenter minutes complex decided }
                 decisions { youthId coordinator actions { what department } followUp } } }"#,
            json!({ "m": meeting_id }),
        )
        .await["meeting"]
        .clone();
    assert_eq!(meeting["forum"], "K_MEETING");
    assert_eq!(meeting["agendaMinutes"], 30);
    assert_eq!(meeting["agenda"][0]["presenter"], app.counsellor.to_string());
    assert_eq!(meeting["agenda"][0]["decided"], true);
    assert_eq!(meeting["decisions"][0]["actions"][0]["what"], "find an internship");

    // Two plan revisions; the second is based on the first.
    for (revision, goal) in [(0, "complete grade 10"), (1, "start vocational school")] {
        let updated = app
            .data(
                &caseworker,
                r#"mutation($id: ID!, $rev: Int!, $goal: String!) {
                     updatePlan(youthId: $id, input: {basedOnRevision: $rev, kind: EDUCATION_PLAN, goals: [$goal],
                       actions: [{description: "weekly mentoring", department: UU, due: "2026-06-01"}]}) { version } }"#,
                json!({ "id": youth_id, "rev": revision, "goal": goal }),
            )
            .await;
        assert!(updated["updatePlan"]["version"].as_u64().is_some());
    }
    let youth = app.data(&caseworker, YOUTH, json!({ "id": youth_id })).await["youth"].clone();
    assert_eq!(youth["needLevel"], "C");
    assert_eq!(youth["consent"], true);
    assert_eq!(youth["coordinator"]["status"], "ASSIGNED");
    assert_eq!(youth["coordinator"]["staffId"], app.adviser.to_string());
    assert_eq!(youth["plan"]["revision"], 2);
    assert_eq!(youth["plan"]["goals"], json!(["start vocational school"]));
    assert_eq!(youth["plan"]["actions"][0]["status"], "PLANNED");

    // The 18th birthday (1 March 2026) is recorded by the engine's scheduler and moves
    // the young person to team 3.
    app.clock.set(noon(2026, 3, 2));
    let report = app.engine.tick(date(2026, 3, 2), &mut |_| {}).expect("tick");
    assert_eq!(report.turned_eighteen, 1);
    // Tokens are checked against the same clock: issue fresh ones.
    let (caseworker, lead) = (app.caseworker(), app.team_lead());
    let youth = app.data(&caseworker, YOUTH, json!({ "id": youth_id })).await["youth"].clone();
    assert_eq!(youth["turnedEighteen"], true);
    assert_eq!(youth["age"], 18);
    assert_eq!(youth["team"], "TEAM_3");

    // From 18 the plan is the job centre's plan; a coordinating caseworker on the adult side.
    app.data(
        &caseworker,
        r#"mutation($id: ID!) { updatePlan(youthId: $id, input: {basedOnRevision: 2, kind: JOB_PLAN, goals: ["vocational school with internship"]}) { version } }"#,
        json!({ "id": youth_id }),
    )
    .await;
    app.data(
        &lead,
        r#"mutation($id: ID!, $cw: ID!) { assignCoordinatingCaseworker(youthId: $id, caseworker: $cw) { version } }"#,
        json!({ "id": youth_id, "cw": app.adviser.to_string() }),
    )
    .await;

    // The hand-over already happened: asking for team 3 again changes nothing.
    let same_team = app
        .gql(
            &lead,
            r#"mutation($id: ID!) { assignTeam(youthId: $id, team: TEAM_3) { version } }"#,
            json!({ "id": youth_id }),
        )
        .await;
    assert_eq!(same_team["errors"][0]["extensions"]["code"], "REJECTED");
    assert_eq!(same_team["errors"][0]["extensions"]["rule"], "no_change");

    // Destination reached, case closed; the coordinator is released with the closure.
    app.clock.advance(Duration::days(30));
    let caseworker = app.caseworker();
    app.data(
        &caseworker,
        r#"mutation($id: ID!) { recordDestination(youthId: $id, destination: EDUCATION, on: "2026-03-20") { version } }"#,
        json!({ "id": youth_id }),
    )
    .await;
    let closed = app
        .data(
            &caseworker,
            r#"mutation($id: ID!) { closeCase(youthId: $id, reason: POSITIVE_DESTINATION, note: "started school") { version position firstPosition } }"#,
            json!({ "id": youth_id }),
        )
        .await;
    let first = closed["closeCase"]["firstPosition"].as_u64().unwrap_or_default();
    let last = closed["closeCase"]["position"].as_u64().unwrap_or_default();
    assert_eq!(last - first, 1, "CoordinatorReleased and CaseClosed: {closed}");
    let youth = app.data(&caseworker, YOUTH, json!({ "id": youth_id })).await["youth"].clone();
    assert_eq!(youth["status"], "CLOSED");
    assert_eq!(youth["destination"], "EDUCATION");
    assert_eq!(youth["coordinator"]["status"], "RELEASED");
    assert_eq!(youth["coordinatingCaseworker"], app.adviser.to_string());

    // The auditor's replay shows the whole life across streams, with actors.
    let history = app
        .data(
            &app.auditor(),
            r#"query($id: ID!) { history(youthId: $id) { entries { position stream type actor { staffId role } summary payload hash }
                 state { status destination turnedEighteen } } }"#,
            json!({ "id": youth_id }),
        )
        .await["history"]
        .clone();
    let types: Vec<&str> = history["entries"]
        .as_array()
        .map(|entries| entries.iter().filter_map(|e| e["type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        types,
        [
            "YouthReferred",
            "TeamAssigned",
            "NeedAssessed",
            "ConsentGiven",
            "CaseTabled",
            "DecisionRecorded",
            "CoordinatorAssigned",
            "PlanUpdated",
            "PlanUpdated",
            "TurnedEighteen",
            "TeamHandedOver",
            "PlanUpdated",
            "CoordinatingCaseworkerAssigned",
            "DestinationReached",
            "CoordinatorReleased",
            "CaseClosed",
        ]
    );
    let entries = history["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries[0]["actor"]["staffId"], app.counsellor.to_string());
    assert_eq!(entries[0]["actor"]["role"], "caseworker");
    assert_eq!(entries[5]["stream"], format!("meeting-{meeting_id}"));
    assert_eq!(entries[5]["actor"]["role"], "team_lead");
    assert_eq!(entries[9]["actor"]["role"], "system");
    assert_eq!(entries[0]["payload"]["cpr"], "010308-4321");
    assert_eq!(entries[0]["hash"].as_str().map(str::len), Some(64));
    assert_eq!(history["state"]["status"], "closed");
    assert_eq!(history["state"]["turnedEighteen"], true);

    // The same history as it stood before the birthday.
    let before = app
        .data(
            &app.auditor(),
            r#"query($id: ID!) { history(youthId: $id, asOf: "2026-02-28") { entries { type } state { turnedEighteen } } }"#,
            json!({ "id": youth_id }),
        )
        .await["history"]
        .clone();
    assert_eq!(before["entries"].as_array().map(Vec::len), Some(9));
    assert_eq!(before["state"]["turnedEighteen"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_and_municipality_commands_and_reads() {
    let app = spawn_app().await;
    let admin = app.admin();
    let registered = app
        .data(
            &app.team_lead(),
            r#"mutation { registerStaff(input: {name: "Anne Vestergaard", department: PPR, capacity: 12}) { aggregateId version } }"#,
            json!({}),
        )
        .await;
    let staff_id = registered["registerStaff"]["aggregateId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    app.data(
        &app.team_lead(),
        r#"mutation($s: ID!) { changeStaffCapacity(staffId: $s, capacity: 20, expectedVersion: 1) { version } }"#,
        json!({ "s": staff_id }),
    )
    .await;
    let staff = app
        .data(
            &app.caseworker(),
            r#"query($s: ID!) { staff(id: $s) { name department municipality capacity active version } }"#,
            json!({ "s": staff_id }),
        )
        .await["staff"]
        .clone();
    assert_eq!(staff["name"], "Anne Vestergaard");
    assert_eq!(staff["department"], "PPR");
    assert_eq!(staff["municipality"], 540);
    assert_eq!(staff["capacity"], 20);
    app.data(
        &admin,
        r#"mutation($s: ID!) { recordStaffDeparted(staffId: $s, on: "2026-01-31") { version } }"#,
        json!({ "s": staff_id }),
    )
    .await;
    let staff = app
        .data(
            &admin,
            r#"query($s: ID!) { staff(id: $s) { active version } }"#,
            json!({ "s": staff_id }),
        )
        .await["staff"]
        .clone();
    assert_eq!(staff["active"], false);
    assert_eq!(staff["version"], 3);

    let configured = app
        .data(
            &admin,
            r#"mutation { configureMunicipality(municipality: 851, input: {name: "Aalborg", ageFrom: 13, ageUntil: 30, coordinatorCapacity: 20}) { streamId aggregateId version } }"#,
            json!({}),
        )
        .await;
    assert_eq!(configured["configureMunicipality"]["streamId"], "municipality-851");
    assert_eq!(configured["configureMunicipality"]["aggregateId"], "851");

    let verified = app
        .data(
            &app.auditor(),
            "{ verifyLog { ok events headPosition headHash problem } }",
            json!({}),
        )
        .await["verifyLog"]
        .clone();
    assert_eq!(verified["ok"], true);
    assert_eq!(verified["events"].as_u64(), Some(app.head()));
    assert!(verified["problem"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_reads_as_the_meeting_aggregate_holds_it() {
    let app = spawn_app().await;
    let caseworker = app.caseworker();
    let lead = app.team_lead();
    let youth_id = app.refer(CPR_2008).await;
    let (held, cancelled) = (
        "0190f000-0000-7000-8000-000000000002",
        "0190f000-0000-7000-8000-000000000003",
    );
    for meeting_id in [held, cancelled] {
        app.data(
            &lead,
            r#"mutation($m: ID!) { scheduleMeeting(meetingId: $m, input: {forum: TEAM_2, date: "2026-01-22", slotMinutes: 60}) { version } }"#,
            json!({ "m": meeting_id }),
        )
        .await;
    }
    app.data(
        &caseworker,
        r#"mutation($m: ID!, $y: ID!) { tableCase(meetingId: $m, youthId: $y) { version } }"#,
        json!({ "m": held, "y": youth_id }),
    )
    .await;
    app.data(
        &lead,
        r#"mutation($m: ID!, $a: ID!) { holdMeeting(meetingId: $m, attendees: [$a], heldOn: "2026-01-22") { version } }"#,
        json!({ "m": held, "a": app.lead.to_string() }),
    )
    .await;
    app.data(
        &lead,
        r#"mutation($m: ID!) { evaluateMeeting(meetingId: $m, score: 4, note: "well prepared") { version } }"#,
        json!({ "m": held }),
    )
    .await;
    app.data(
        &lead,
        r#"mutation($m: ID!) { cancelMeeting(meetingId: $m, reason: "too few cases") { version } }"#,
        json!({ "m": cancelled }),
    )
    .await;
    const MEETING: &str = r#"query($m: ID!) { meeting(id: $m) { status scheduledBy agendaMinutes
        agenda { presenter minutes complex decided } heldOn attendees evaluationScore evaluationNote
        cancelReason version } }"#;
    let lead_id = app.lead.to_string();
    assert_eq!(
        app.data(&lead, MEETING, json!({ "m": held })).await["meeting"],
        json!({
            "status": "HELD", "scheduledBy": lead_id, "agendaMinutes": 15,
            "agenda": [{ "presenter": app.counsellor.to_string(), "minutes": 15, "complex": false, "decided": false }],
            "heldOn": "2026-01-22", "attendees": [lead_id], "evaluationScore": 4,
            "evaluationNote": "well prepared", "cancelReason": null, "version": 4
        })
    );
    let cancelled = app.data(&lead, MEETING, json!({ "m": cancelled })).await["meeting"].clone();
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["cancelReason"], "too few cases");
    assert_eq!(cancelled["version"], 2);
}
