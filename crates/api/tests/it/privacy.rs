//! Analysts see pseudonyms only, dates beside them by the month, and lists in pseudonym
//! order; every read of a case is recorded before it is answered.

use kui_domain::testing::noon;
use serde_json::{json, Value};

use crate::helpers::{code, spawn_app, TestApp, CPR_2008};

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
async fn a_young_person_has_one_pseudonym_in_lists_and_in_their_case() {
    let app = spawn_app().await;
    let id = app.refer(CPR_2008).await;
    app.settle().await;
    let analyst = app.analyst();
    let case = app
        .data(
            &analyst,
            "query($y: ID!) { youth(id: $y) { pseudonym } }",
            json!({ "y": id }),
        )
        .await;
    let listed = app
        .data(
            &analyst,
            "{ youngPeople { edges { node { person { pseudonym } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["youngPeople"]["edges"][0]["node"]["person"]["pseudonym"], case["youth"]["pseudonym"],
        "{listed}"
    );
}

/// Born 17 March 2008: 17 on 17 March 2025, 18 on 17 March 2026.
const CPR_IDA: &str = "170308-4562";
/// Born 17 February 2009: 17 on 17 February 2026.
const CPR_BO: &str = "170209-4563";

/// The birthdays of the fixture's young people, and the days derived from them that the
/// alarms carry: none of these may reach an analyst.
const BIRTHDAYS: [&str; 8] = [
    "2008-03-17", // Ida's birth date
    "2025-03-17", // her 17th birthday
    "2026-03-17", // her 18th birthday: the alarm's due date and her team move
    "2025-09-17", // six months before: the day her 18th-birthday alarm opened
    "2009-02-17", // Bo's birth date
    "2026-02-17", // his 17th birthday: the coordinating team's deadline
    "2026-02-18", // the day after: the day that alarm opened
    "2027-02-17", // his 18th birthday
];

/// Fields whose dates describe the report or a group, not a person.
const REPORT_DATES: [&str; 3] = ["asOf", "lastMeeting", "nextMeeting"];

struct People {
    ida: String,
    bo: String,
}

async fn refer_named(app: &TestApp, cpr: &str, name: &str) -> String {
    let data = app
        .data(
            &app.caseworker(),
            r#"mutation($cpr: String!, $name: String!) {
                 refer(input: {cpr: $cpr, name: $name, schoolStatus: IN_EDUCATION}) { aggregateId } }"#,
            json!({ "cpr": cpr, "name": name }),
        )
        .await;
    data["refer"]["aggregateId"].as_str().unwrap_or_default().to_owned()
}

/// Ida (18 on 17 March 2026, C need, a plan) and Bo (17 on 17 February 2026, a
/// coordinating team decided at a K-meeting without a first meeting, and a coordinator),
/// all written on 15 January 2026.
async fn people(app: &TestApp) -> People {
    let ida = refer_named(app, CPR_IDA, "Ida Holm").await;
    let bo = refer_named(app, CPR_BO, "Bo Lind").await;
    let caseworker = app.caseworker();
    app.data(
        &caseworker,
        "mutation($y: ID!) { assessNeed(youthId: $y, level: C) { version } }",
        json!({ "y": ida }),
    )
    .await;
    app.data(
        &caseworker,
        r#"mutation($y: ID!) { updatePlan(youthId: $y, input: {kind: EDUCATION_PLAN, goals: ["a trade"],
             actions: [{description: "visit the technical school", department: UU, due: "2026-06-17"}]}) { version } }"#,
        json!({ "y": ida }),
    )
    .await;
    compose_coordinating_team(app, &bo, "0190f000-0000-7000-8000-00000000d017").await;
    app.data(
        &caseworker,
        "mutation($y: ID!) { offerCoordinator(youthId: $y) { version } }",
        json!({ "y": bo }),
    )
    .await;
    app.data(
        &caseworker,
        "mutation($y: ID!, $c: ID!) { assignCoordinator(youthId: $y, coordinator: $c) { version } }",
        json!({ "y": bo, "c": app.adviser.to_string() }),
    )
    .await;
    app.settle().await;
    People { ida, bo }
}

/// Tables `youth` at a K-meeting and records a coordinating team with the counsellor as
/// lead and no first meeting: it must meet by the 17th birthday.
async fn compose_coordinating_team(app: &TestApp, youth: &str, meeting: &str) {
    app.data(
        &app.team_lead(),
        r#"mutation($m: ID!) { scheduleMeeting(meetingId: $m, input: {forum: K_MEETING, date: "2026-01-20", slotMinutes: 120}) { version } }"#,
        json!({ "m": meeting }),
    )
    .await;
    app.data(
        &app.caseworker(),
        "mutation($m: ID!, $y: ID!) { tableCase(meetingId: $m, youthId: $y) { version } }",
        json!({ "m": meeting, "y": youth }),
    )
    .await;
    app.data(
        &app.team_lead(),
        r#"mutation($m: ID!, $y: ID!, $lead: ID!) {
             recordMeetingDecision(meetingId: $m, input: {youthId: $y, lead: $lead,
               actions: [{what: "compose the coordinating team", department: UU, who: $lead}]}) { version } }"#,
        json!({ "m": meeting, "y": youth, "lead": app.counsellor.to_string() }),
    )
    .await;
}

const TEAMS: &str = "{ teams(withinDays: 120) { asOf teams { team memberCount lastMeeting nextMeeting
    members { person { id name pseudonym } age reason since } } moving { person { id name pseudonym } from to on } } }";
const ALARMS: &str = "query($asOf: NaiveDate) { alarms(asOf: $asOf) {
    rule person { id name pseudonym } municipality due openedOn act actAs detail } }";
const ALARM_FEED: &str = "subscription { alarms { change position
    alarm { rule person { id name pseudonym } municipality due openedOn act actAs detail } } }";
const CASELOAD: &str = "{ caseload { coordinators { staff name department active capacity overCapacity }
    departments { department coordinators coordinated caseworkerCases } unassignedCNeed { person { id name pseudonym } scheme } } }";
const YOUNG_PEOPLE: &str = "{ youngPeople { totalCount edges { cursor node { person { id name pseudonym } age
    municipality open team needLevel scheme coordinator coordinatorDepartment coordinatingCaseworker openAlarms } } } }";
const CASE: &str = "query($y: ID!) { youth(id: $y) { id pseudonym name birthDate age eighteenthBirthday firstReferredOn
    coordinator { status staffId } coordinatingCaseworker plan { actions { responsible due } }
    openAlarms { rule due openedOn act actAs } } }";

/// Every date in `answer` finer than a month outside [`REPORT_DATES`], with its path.
fn days_beside_people(answer: &Value) -> Vec<String> {
    fn walk(value: &Value, path: &str, found: &mut Vec<String>) {
        match value {
            Value::Object(fields) => {
                for (key, value) in fields {
                    if !REPORT_DATES.contains(&key.as_str()) {
                        walk(value, &format!("{path}.{key}"), found);
                    }
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}[{index}]"), found);
                }
            }
            Value::String(text) => {
                let bytes = text.as_bytes();
                let is_date = bytes.len() == 10
                    && bytes.iter().enumerate().all(|(i, b)| {
                        if i == 4 || i == 7 {
                            *b == b'-'
                        } else {
                            b.is_ascii_digit()
                        }
                    });
                if is_date && !text.ends_with("-01") {
                    found.push(format!("{path}: {text}"));
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(answer, "", &mut found);
    found
}

/// Fails unless `answer` holds no birthday, no day derived from one and no date finer
/// than a month beside a person.
fn assert_no_day_beside_a_pseudonym(what: &str, answer: &Value) {
    let text = answer.to_string();
    for day in BIRTHDAYS {
        assert!(!text.contains(day), "{what}: {day} reached an analyst: {answer:#}");
    }
    let days = days_beside_people(answer);
    assert!(days.is_empty(), "{what}: days beside a pseudonym {days:?}: {answer:#}");
    for name in ["Ida", "Holm", "Bo Lind"] {
        assert!(!text.contains(name), "{what}: {name} reached an analyst: {answer:#}");
    }
}

fn rules(alarms: &Value) -> Vec<String> {
    alarms
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|alarm| alarm["rule"].as_str().map(str::to_owned))
        .collect()
}

/// The first `count` changes of the alarm feed, as `token` sees them.
async fn alarm_feed(app: &TestApp, token: &str, count: usize) -> Value {
    let mut client = app
        .websocket(json!({ "Authorization": format!("Bearer {token}") }))
        .await;
    assert_eq!(
        client.next().await.map(|m| m["type"].clone()),
        Some(json!("connection_ack"))
    );
    client
        .send(json!({ "id": "feed", "type": "subscribe", "payload": { "query": ALARM_FEED } }))
        .await;
    let mut changes = Vec::new();
    while changes.len() < count {
        let message = client.next().await.expect("the feed closed");
        assert_eq!(message["type"], "next", "{message}");
        changes.push(message["payload"]["data"]["alarms"].clone());
    }
    client.close().await;
    Value::Array(changes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analysts_see_no_date_finer_than_a_month_beside_a_pseudonym() {
    let app = spawn_app().await;
    let people = people(&app).await;
    let analyst = app.analyst();

    // 15 January 2026.
    let teams = app.data(&analyst, TEAMS, json!({})).await;
    assert_no_day_beside_a_pseudonym("teams", &teams);
    assert_eq!(teams["teams"]["moving"][0]["on"], "2026-03-01", "{teams}");
    assert_eq!(
        teams["teams"]["asOf"], "2026-01-15",
        "the report's own date stays exact"
    );
    let today = app.data(&analyst, ALARMS, json!({})).await;
    assert_no_day_beside_a_pseudonym("alarms today", &today);
    assert!(
        rules(&today["alarms"]).contains(&"EIGHTEEN_WITHOUT_ADULT_OWNER".to_owned()),
        "{today}"
    );
    let ahead = app.data(&analyst, ALARMS, json!({ "asOf": "2026-03-01" })).await;
    assert_no_day_beside_a_pseudonym("alarms as of 1 March", &ahead);
    assert!(
        rules(&ahead["alarms"]).contains(&"COORDINATING_TEAM_NOT_MET".to_owned()),
        "{ahead}"
    );
    for query in [CASELOAD, YOUNG_PEOPLE] {
        let answer = app.data(&analyst, query, json!({})).await;
        assert_no_day_beside_a_pseudonym(query, &answer);
    }
    for youth in [&people.ida, &people.bo] {
        let case = app.data(&analyst, CASE, json!({ "y": youth })).await;
        assert_no_day_beside_a_pseudonym("youth", &case);
        assert_eq!(case["youth"]["firstReferredOn"], "2026-01-01", "{case}");
    }
    let count = today["alarms"].as_array().map_or(0, Vec::len);
    let feed = alarm_feed(&app, &analyst, count).await;
    assert_no_day_beside_a_pseudonym("the alarm feed", &feed);

    // 2 March 2026: Bo's coordinating team has not met by his 17th birthday.
    app.clock.set(noon(2026, 3, 2));
    let analyst = app.analyst();
    let today = app.data(&analyst, ALARMS, json!({})).await;
    assert_no_day_beside_a_pseudonym("alarms on 2 March", &today);
    assert!(
        rules(&today["alarms"]).contains(&"COORDINATING_TEAM_NOT_MET".to_owned()),
        "{today}"
    );
    let past = app.data(&analyst, ALARMS, json!({ "asOf": "2026-02-20" })).await;
    assert_no_day_beside_a_pseudonym("alarms as of February, folded from the log", &past);
    assert!(
        rules(&past["alarms"]).contains(&"COORDINATING_TEAM_NOT_MET".to_owned()),
        "{past}"
    );
    let teams = app.data(&analyst, TEAMS, json!({})).await;
    assert_no_day_beside_a_pseudonym("teams on 2 March", &teams);
    let count = today["alarms"].as_array().map_or(0, Vec::len);
    let feed = alarm_feed(&app, &analyst, count).await;
    assert_no_day_beside_a_pseudonym("the alarm feed on 2 March", &feed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_roles_still_see_exact_dates() {
    let app = spawn_app().await;
    let people = people(&app).await;
    for token in [app.caseworker(), app.auditor()] {
        let teams = app.data(&token, TEAMS, json!({})).await;
        let moving = &teams["teams"]["moving"][0];
        assert_eq!(moving["person"]["name"], "Ida Holm", "{teams}");
        assert_eq!(moving["on"], "2026-03-17");
        let since: Vec<&str> = teams["teams"]["teams"][1]["members"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["since"].as_str())
            .collect();
        assert_eq!(since, ["2026-01-15", "2026-01-15"], "{teams}");
        let alarms = app.data(&token, ALARMS, json!({})).await;
        let eighteen = alarms["alarms"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["rule"] == "EIGHTEEN_WITHOUT_ADULT_OWNER")
            .cloned()
            .unwrap_or_default();
        assert_eq!(eighteen["due"], "2026-03-17", "{alarms}");
        assert_eq!(eighteen["openedOn"], "2025-09-17");
        let ahead = app.data(&token, ALARMS, json!({ "asOf": "2026-03-01" })).await;
        let team = ahead["alarms"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["rule"] == "COORDINATING_TEAM_NOT_MET")
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            (&team["due"], &team["openedOn"]),
            (&json!("2026-02-17"), &json!("2026-02-18")),
            "{ahead}"
        );
        let case = app.data(&token, CASE, json!({ "y": people.ida })).await;
        assert_eq!(case["youth"]["birthDate"], "2008-03-17");
        assert_eq!(case["youth"]["firstReferredOn"], "2026-01-15");
        assert_eq!(case["youth"]["plan"]["actions"][0]["due"], "2026-06-17");
    }
    let count = app.data(&app.caseworker(), ALARMS, json!({})).await["alarms"]
        .as_array()
        .map_or(0, Vec::len);
    let feed = alarm_feed(&app, &app.caseworker(), count).await;
    assert!(feed.to_string().contains("2026-03-17"), "{feed}");
}

/// Seven young people referred in alphabetical order of name, all 16 on the tests' day.
const ALPHABET: [(&str, &str); 7] = [
    ("050509-4001", "Anna Berg"),
    ("060509-4002", "Bent Carlsen"),
    ("070509-4003", "Clara Dahl"),
    ("080509-4004", "Dennis Eriksen"),
    ("090509-4005", "Eva Friis"),
    ("100509-4006", "Frank Gregersen"),
    ("110509-4007", "Gitte Hansen"),
];

fn pseudonyms_of(people: &Value) -> Vec<String> {
    people
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| {
            row.pointer("/node/person/pseudonym")
                .or_else(|| row.pointer("/person/pseudonym"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect()
}

fn sorted(list: &[String]) -> Vec<String> {
    let mut sorted = list.to_vec();
    sorted.sort();
    sorted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analysts_list_people_in_pseudonym_order_with_working_cursors() {
    let app = spawn_app().await;
    for (cpr, name) in ALPHABET {
        let youth = refer_named(&app, cpr, name).await;
        app.data(
            &app.caseworker(),
            "mutation($y: ID!) { assessNeed(youthId: $y, level: C) { version } }",
            json!({ "y": youth }),
        )
        .await;
    }
    app.settle().await;
    let page = "query($after: String) { youngPeople(first: 3, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { person { id name pseudonym } } } } }";

    // Others page by id, each row with its name.
    let by_id = app.data(&app.caseworker(), page, json!({})).await;
    let ids: Vec<&str> = by_id["youngPeople"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|edge| edge["node"]["person"]["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(by_id["youngPeople"]["edges"][0]["node"]["person"]["name"].is_string());
    let everyone = app.data(&app.caseworker(), YOUNG_PEOPLE, json!({})).await;
    let in_id_order = pseudonyms_of(&everyone["youngPeople"]["edges"]);
    assert_eq!(in_id_order.len(), ALPHABET.len());
    assert_ne!(
        in_id_order,
        sorted(&in_id_order),
        "the fixture must tell the two orders apart"
    );

    // Analysts page by pseudonym, and the cursors walk the whole list once.
    let analyst = app.analyst();
    let mut seen = Vec::new();
    let mut after = Value::Null;
    for _ in 0..ALPHABET.len() {
        let answer = app.data(&analyst, page, json!({ "after": after })).await;
        let connection = &answer["youngPeople"];
        assert_eq!(connection["totalCount"], ALPHABET.len(), "{answer}");
        assert!(!answer.to_string().contains("Berg"), "{answer}");
        seen.extend(pseudonyms_of(&connection["edges"]));
        after = connection["pageInfo"]["endCursor"].clone();
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
    }
    assert_eq!(seen, sorted(&in_id_order));

    // The other lists of people an analyst reads are in pseudonym order too.
    let teams = app
        .data(
            &analyst,
            "{ teams(membersLimit: 4) { teams { memberCount members { person { pseudonym } } } } }",
            json!({}),
        )
        .await;
    let team_2 = &teams["teams"]["teams"][1];
    assert_eq!(team_2["memberCount"], ALPHABET.len(), "{teams}");
    assert_eq!(pseudonyms_of(&team_2["members"]), sorted(&in_id_order)[..4]);
    let caseload = app.data(&analyst, CASELOAD, json!({})).await;
    assert_eq!(
        pseudonyms_of(&caseload["caseload"]["unassignedCNeed"]),
        sorted(&in_id_order)
    );
    // Referred and assessed the same day, their alarms fall due the same day: by pseudonym.
    let alarms = app
        .data(
            &analyst,
            r#"{ alarms(rule: TRANSITION_FORM_MISSING, asOf: "2026-03-01") { person { pseudonym } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(pseudonyms_of(&alarms["alarms"]), sorted(&in_id_order), "{alarms}");
}

/// Fails if `answer` names a staff member or gives a staff id: analysts may not read staff.
fn assert_no_staff_beside_a_pseudonym(app: &TestApp, what: &str, answer: &Value) {
    let text = answer.to_string();
    for name in ["Mette Holm", "Jonas Krogh", "Lise Dam", "Ole Bak", "Mette", "Jonas"] {
        assert!(!text.contains(name), "{what}: {name} reached an analyst: {answer:#}");
    }
    for staff in [app.counsellor, app.adviser, app.lead, app.esbjerg_caseworker] {
        let id = staff.0.to_string();
        assert!(
            !text.contains(&id),
            "{what}: staff id {id} reached an analyst: {answer:#}"
        );
    }
}

const COORDINATOR_LOAD: &str =
    "query($s: ID!) { coordinatorLoad(staff: $s) { staff name department active capacity overCapacity } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analysts_see_staff_by_pseudonym_and_no_staff_name() {
    let app = spawn_app().await;
    let people = people(&app).await;
    let analyst = app.analyst();

    let caseload = app.data(&analyst, CASELOAD, json!({})).await;
    let coordinator = caseload["caseload"]["coordinators"][0].clone();
    assert_eq!(coordinator["name"], Value::Null, "{caseload}");
    assert_eq!(coordinator["active"], 1);
    assert_eq!(coordinator["department"], "JOB_CENTRE");
    let pseudonym = coordinator["staff"].as_str().unwrap_or_default().to_owned();
    assert!(pseudonym.starts_with("s-") && pseudonym.len() == 26, "{pseudonym}");

    // The pseudonym is the analyst's handle on the coordinator.
    let load = app.data(&analyst, COORDINATOR_LOAD, json!({ "s": pseudonym })).await;
    assert_eq!(load["coordinatorLoad"], coordinator, "{load}");
    let coordinated = app
        .data(
            &analyst,
            "query($c: ID!) { youngPeople(coordinator: $c) { totalCount edges { node { coordinator person { pseudonym } } } } }",
            json!({ "c": pseudonym }),
        )
        .await;
    assert_eq!(coordinated["youngPeople"]["totalCount"], 1, "{coordinated}");
    assert_eq!(
        coordinated["youngPeople"]["edges"][0]["node"]["coordinator"],
        pseudonym.as_str()
    );
    let bo = app.data(&analyst, CASE, json!({ "y": people.bo })).await;
    assert_eq!(bo["youth"]["coordinator"]["staffId"], pseudonym.as_str(), "{bo}");
    assert_eq!(
        coordinated["youngPeople"]["edges"][0]["node"]["person"]["pseudonym"],
        bo["youth"]["pseudonym"]
    );

    // Every answer an analyst gets: no staff name or id, no day beside a pseudonym.
    let answers = [
        ("caseload", caseload),
        ("coordinatorLoad", load),
        ("youngPeople by coordinator", coordinated),
        ("youth", bo),
        ("youth", app.data(&analyst, CASE, json!({ "y": people.ida })).await),
        ("youngPeople", app.data(&analyst, YOUNG_PEOPLE, json!({})).await),
        ("teams", app.data(&analyst, TEAMS, json!({})).await),
        ("alarms", app.data(&analyst, ALARMS, json!({})).await),
        (
            "alarms as of 1 March",
            app.data(&analyst, ALARMS, json!({ "asOf": "2026-03-01" })).await,
        ),
    ];
    for (what, answer) in &answers {
        assert_no_staff_beside_a_pseudonym(&app, what, answer);
        assert_no_day_beside_a_pseudonym(what, answer);
    }
    let acting = answers[7].1["alarms"][0]["act"].as_str().unwrap_or_default().to_owned();
    assert!(acting.starts_with("s-"), "{}", answers[7].1);
    let count = answers[7].1["alarms"].as_array().map_or(0, Vec::len);
    let feed = alarm_feed(&app, &analyst, count).await;
    assert_no_staff_beside_a_pseudonym(&app, "the alarm feed", &feed);

    // Analysts name staff by pseudonym only; one nobody has is not found.
    let by_id = app
        .gql(&analyst, COORDINATOR_LOAD, json!({ "s": app.adviser.to_string() }))
        .await;
    assert_eq!(code(&by_id), "INVALID_INPUT", "{by_id}");
    let unknown = app
        .gql(
            &analyst,
            COORDINATOR_LOAD,
            json!({ "s": format!("s-{}", "0".repeat(24)) }),
        )
        .await;
    assert_eq!(code(&unknown), "NOT_FOUND", "{unknown}");
    let nobody = app
        .data(
            &analyst,
            "query($c: ID!) { youngPeople(coordinator: $c) { totalCount } }",
            json!({ "c": format!("s-{}", "0".repeat(24)) }),
        )
        .await;
    assert_eq!(nobody["youngPeople"]["totalCount"], 0);

    // Other roles still see names and ids.
    let theirs = app.data(&app.caseworker(), CASELOAD, json!({})).await;
    assert_eq!(theirs["caseload"]["coordinators"][0]["name"], "Jonas Krogh", "{theirs}");
    assert_eq!(theirs["caseload"]["coordinators"][0]["staff"], app.adviser.to_string());
    let load = app
        .data(
            &app.caseworker(),
            COORDINATOR_LOAD,
            json!({ "s": app.adviser.to_string() }),
        )
        .await;
    assert_eq!(load["coordinatorLoad"]["name"], "Jonas Krogh");
    let case = app.data(&app.auditor(), CASE, json!({ "y": people.bo })).await;
    assert_eq!(case["youth"]["coordinator"]["staffId"], app.adviser.to_string());
}

/// Born 28 February 2009: 17 on the last day of February 2026.
const CPR_LIV: &str = "280209-4564";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analysts_cannot_find_a_day_by_stepping_dates_or_by_a_month_s_end() {
    let app = spawn_app().await;
    people(&app).await;
    let liv = refer_named(&app, CPR_LIV, "Liv Moe").await;
    compose_coordinating_team(&app, &liv, "0190f000-0000-7000-8000-00000000d028").await;
    app.settle().await;
    let (analyst, caseworker) = (app.analyst(), app.caseworker());
    let team_alarms = "query($asOf: NaiveDate) { alarms(rule: COORDINATING_TEAM_NOT_MET, asOf: $asOf) {
        person { pseudonym } due openedOn } }";

    // Bo's coordinating team is overdue from 18 February, the day after his 17th birthday:
    // a caseworker sees the day it opens, an analyst the same answer all month.
    let on = |token: &str, day: &str| {
        let app = &app;
        let (token, day) = (token.to_owned(), day.to_owned());
        async move { app.data(&token, team_alarms, json!({ "asOf": day })).await }
    };
    assert_ne!(on(&caseworker, "2026-02-17").await, on(&caseworker, "2026-02-18").await);
    let analyst_days = [
        on(&analyst, "2026-02-02").await,
        on(&analyst, "2026-02-17").await,
        on(&analyst, "2026-02-18").await,
        on(&analyst, "2026-02-28").await,
    ];
    assert!(
        analyst_days.iter().all(|answer| *answer == analyst_days[0]),
        "{analyst_days:?}"
    );

    // Ida turns 18 on 17 March, 61 days after 15 January: a caseworker sees her in the
    // move list from a window of 61 days, an analyst from any window ending in March.
    let moving = |token: &str, days: u32| {
        let app = &app;
        let token = token.to_owned();
        async move {
            let query = "query($d: Int!) { teams(withinDays: $d) { moving { person { pseudonym } on } } }";
            app.data(&token, query, json!({ "d": days })).await["teams"]["moving"]
                .as_array()
                .map_or(0, Vec::len)
        }
    };
    assert_eq!((moving(&caseworker, 60).await, moving(&caseworker, 61).await), (0, 1));
    assert_eq!(
        (
            moving(&analyst, 45).await,
            moving(&analyst, 60).await,
            moving(&analyst, 61).await
        ),
        (1, 1, 1)
    );
    assert_eq!(moving(&analyst, 30).await, 0, "a window ending in February");

    // Liv's team was due on 28 February, her 17th birthday, and the alarm opened on
    // 1 March: an analyst sees both in February, so the month's end does not show.
    let theirs = on(&caseworker, "2026-03-05").await;
    let days: Vec<(Value, Value)> = theirs["alarms"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| (a["due"].clone(), a["openedOn"].clone()))
        .collect();
    assert!(days.contains(&(json!("2026-02-28"), json!("2026-03-01"))), "{theirs}");
    let ours = on(&analyst, "2026-03-05").await;
    assert_no_day_beside_a_pseudonym("alarms as of 5 March", &ours);
    for alarm in ours["alarms"].as_array().into_iter().flatten() {
        assert_eq!(
            (&alarm["due"], &alarm["openedOn"]),
            (&json!("2026-02-01"), &json!("2026-02-01")),
            "{ours}"
        );
    }
    assert_eq!(
        ours["alarms"].as_array().map_or(0, Vec::len),
        2,
        "Bo's and Liv's: {ours}"
    );

    // Statistics are aggregates, but a count that moves on a given day would still date
    // whoever moved it: an analyst's asOf is the month's end.
    let statistics = |token: &str, day: &str| {
        let app = &app;
        let (token, day) = (token.to_owned(), day.to_owned());
        async move {
            let query =
                "query($d: NaiveDate) { statistics(asOf: $d) { asOf viborg { referred } eighteenthBirthdays } }";
            app.data(&token, query, json!({ "d": day })).await["statistics"].clone()
        }
    };
    let before = statistics(&caseworker, "2026-01-14").await;
    assert_eq!(before["viborg"]["referred"], 0, "{before}");
    assert_eq!(statistics(&caseworker, "2026-01-15").await["viborg"]["referred"], 3);
    for day in ["2026-01-02", "2026-01-14", "2026-01-15"] {
        let theirs = statistics(&analyst, day).await;
        assert_eq!(theirs["asOf"], "2026-01-31", "{theirs}");
        // Three referrals are a small cell: withheld from analysts whatever the day.
        assert_eq!(theirs["viborg"]["referred"], Value::Null, "{theirs}");
    }
}
