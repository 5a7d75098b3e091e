//! Need to know over HTTP: department and consent decide what a case shows, every read is
//! logged with its purpose and classes, the young person's subject access report lists
//! those reads, and analysts get no small cells.

use serde_json::{json, Value};

use crate::helpers::{code, spawn_app, TestApp, CPR_2008, SONDERBORG};

const CASE: &str = "query($y: ID!, $p: Purpose, $r: String) { youth(id: $y, purpose: $p, reason: $r) {
    name team needLevel needNote referralNote indicators shown withheld purpose } }";

fn job_centre_caseworker(app: &TestApp) -> String {
    let mut claims = app.claims("caseworker", app.adviser, Some(SONDERBORG));
    claims.department = "job_centre".into();
    app.sign(&claims)
}

async fn referred_with_a_social_note(app: &TestApp) -> String {
    let youth = app.refer(CPR_2008).await;
    app.data(
        &app.caseworker(),
        r#"mutation($y: ID!) { assessNeed(youthId: $y, level: C, note: "lives with his grandmother") { version } }"#,
        json!({ "y": youth }),
    )
    .await;
    youth
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_opens_and_closes_the_social_facts_for_another_department() {
    let app = spawn_app().await;
    let youth = referred_with_a_social_note(&app).await;
    let reader = job_centre_caseworker(&app);

    let before = app.data(&reader, CASE, json!({ "y": youth })).await;
    let case = &before["youth"];
    assert_eq!(case["name"], "Emil Jensen", "coordination facts are shown: {case}");
    assert_eq!(case["needLevel"], Value::Null, "{case}");
    assert_eq!(case["needNote"], Value::Null, "{case}");
    assert_eq!(case["withheld"], json!(["SOCIAL"]));
    assert_eq!(case["purpose"], "CASEWORK");

    let consent =
        r#"mutation($y: ID!) { giveConsent(youthId: $y, givenBy: GUARDIAN, departments: [JOB_CENTRE]) { version } }"#;
    app.data(&app.caseworker(), consent, json!({ "y": youth })).await;
    let with = app.data(&reader, CASE, json!({ "y": youth })).await;
    assert_eq!(with["youth"]["needNote"], "lives with his grandmother");
    assert_eq!(with["youth"]["withheld"], json!([]));

    let withdraw = r#"mutation($y: ID!) { withdrawConsent(youthId: $y, withdrawnBy: GUARDIAN) { version } }"#;
    app.data(&app.caseworker(), withdraw, json!({ "y": youth })).await;
    let after = app.data(&reader, CASE, json!({ "y": youth })).await;
    assert_eq!(
        after["youth"]["needNote"],
        Value::Null,
        "withdrawn consent covers nothing"
    );

    // The history shows every class: refused without the social class, logged as refused.
    let history = app
        .gql(
            &reader,
            "query($y: ID!) { history(youthId: $y) { entries { type } } }",
            json!({ "y": youth }),
        )
        .await;
    assert_eq!(code(&history), "FORBIDDEN", "{history}");

    // An emergency read with a reason sees everything; without a reason it is refused.
    let glass = app
        .data(
            &reader,
            CASE,
            json!({ "y": youth, "p": "EMERGENCY", "r": "risk of harm reported" }),
        )
        .await;
    assert_eq!(glass["youth"]["needNote"], "lives with his grandmother");
    let no_reason = app.gql(&reader, CASE, json!({ "y": youth, "p": "EMERGENCY" })).await;
    assert_eq!(code(&no_reason), "INVALID_INPUT", "{no_reason}");
    let wrong = app.gql(&reader, CASE, json!({ "y": youth, "p": "AUDIT" })).await;
    assert_eq!(code(&wrong), "FORBIDDEN", "{wrong}");

    // The UU counsellor's own department owns nothing social either, but the auditor sees all.
    let audited = app.data(&app.auditor(), CASE, json!({ "y": youth })).await;
    assert_eq!(audited["youth"]["withheld"], json!([]));

    // The access log: purpose and classes per read, refusals included.
    let log = app
        .data(
            &app.auditor(),
            "query($y: ID!) { accessLog(youthId: $y) { operation purpose reason shown withheld refused department } }",
            json!({ "y": youth }),
        )
        .await;
    let rows = log["accessLog"].as_array().unwrap();
    let job_centre: Vec<&Value> = rows.iter().filter(|r| r["department"] == "job_centre").collect();
    assert_eq!(job_centre[0]["purpose"], "casework");
    assert_eq!(job_centre[0]["withheld"], json!(["social"]));
    assert_eq!(job_centre[1]["withheld"], json!([]));
    assert!(job_centre
        .iter()
        .any(|r| r["operation"] == "history" && r["refused"] == "FORBIDDEN"));
    assert!(job_centre
        .iter()
        .any(|r| r["purpose"] == "emergency" && r["reason"] == "risk of harm reported" && r["refused"].is_null()));
    assert!(job_centre.iter().any(|r| r["refused"] == "INVALID_INPUT"));

    let emergencies = app
        .data(
            &app.auditor(),
            "{ emergencyReads { month department count } }",
            json!({}),
        )
        .await;
    assert_eq!(
        emergencies["emergencyReads"],
        json!([{ "month": "2026-01", "department": "job_centre", "count": 1 }])
    );

    // The subject access report: every read with date and purpose, no staff ids.
    let report = app
        .data(
            &app.auditor(),
            "query($y: ID!) { subjectAccessReport(youthId: $y) { case { needNote withheld } events { type } reads { at purpose operation department staffId } } }",
            json!({ "y": youth }),
        )
        .await;
    let report = &report["subjectAccessReport"];
    assert_eq!(report["case"]["needNote"], "lives with his grandmother");
    let reads = report["reads"].as_array().unwrap();
    assert!(reads.len() >= 5, "{report}");
    assert!(reads
        .iter()
        .all(|r| r["staffId"].is_null() && r["purpose"].is_string() && r["at"].is_string()));
    assert!(!report.to_string().contains(&app.adviser.to_string()));
    let staff_named = app
        .gql(
            &app.caseworker(),
            "query($y: ID!) { subjectAccessReport(youthId: $y) { youthId } }",
            json!({ "y": youth }),
        )
        .await;
    assert_eq!(code(&staff_named), "FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_coordinator_sees_every_class_whatever_their_department() {
    let app = spawn_app().await;
    let youth = referred_with_a_social_note(&app).await;
    for mutation in [
        "mutation($y: ID!) { offerCoordinator(youthId: $y) { version } }",
        "mutation($y: ID!, $c: ID!) { assignCoordinator(youthId: $y, coordinator: $c) { version } }",
    ] {
        app.data(
            &app.caseworker(),
            mutation,
            json!({ "y": youth, "c": app.adviser.to_string() }),
        )
        .await;
    }
    let mut claims = app.claims("coordinator", app.adviser, Some(SONDERBORG));
    claims.department = "job_centre".into();
    let coordinator = app.sign(&claims);
    let case = app.data(&coordinator, CASE, json!({ "y": youth })).await;
    assert_eq!(case["youth"]["needNote"], "lives with his grandmother");
    assert_eq!(case["youth"]["purpose"], "COORDINATION");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analysts_get_no_cell_below_five() {
    let app = spawn_app().await;
    // Three referrals: every count of them is a small cell.
    for cpr in [CPR_2008, "020308-4322", "030308-4323"] {
        app.refer(cpr).await;
    }
    app.settle().await;
    let query = "{ statistics { eighteenthBirthdays handedOverOnTime shareOnTime viborg { referred total } months { month referrals } } }";
    let analyst = app.data(&app.analyst(), query, json!({})).await;
    let months = analyst["statistics"]["months"].as_array().unwrap();
    assert!(!months.is_empty());
    for month in months {
        let referrals = &month["referrals"];
        assert!(
            referrals.is_null() || referrals.as_u64().is_some_and(|n| n == 0 || n >= 5),
            "{month}"
        );
    }
    assert_eq!(analyst["statistics"]["viborg"]["referred"], Value::Null);
    let auditor = app.data(&app.auditor(), query, json!({})).await;
    assert_eq!(auditor["statistics"]["viborg"]["referred"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_municipality_sets_its_smallest_cell_and_may_show_analysts_no_records() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for cpr in [CPR_2008, "020308-4322", "030308-4323"] {
        ids.push(app.refer(cpr).await);
    }
    let configure = r#"mutation { configureMunicipality(municipality: 540, input: {name: "Sønderborg", ageFrom: 15,
        ageUntil: 30, coordinatorCapacity: 25, privacy: {minCell: 3, pseudonymisedRecords: false}}) { version } }"#;
    app.data(&app.admin(), configure, json!({})).await;
    app.settle().await;
    let stats = app
        .data(
            &app.analyst(),
            "{ statistics(municipality: 540) { viborg { referred } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        stats["statistics"]["viborg"]["referred"], 3,
        "3 is not below this municipality's 3"
    );
    let record = app
        .gql(
            &app.analyst(),
            "query($y: ID!) { youth(id: $y) { pseudonym } }",
            json!({ "y": ids[0] }),
        )
        .await;
    assert_eq!(code(&record), "FORBIDDEN", "{record}");
    let listed = app
        .data(&app.analyst(), "{ youngPeople(first: 10) { totalCount } }", json!({}))
        .await;
    assert_eq!(listed["youngPeople"]["totalCount"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_narrows_the_purposes_of_its_role() {
    let app = spawn_app().await;
    let youth = app.refer(CPR_2008).await;
    let mut claims = app.claims("caseworker", app.counsellor, Some(SONDERBORG));
    claims.purposes = Some(vec!["meeting_preparation".into()]);
    let narrowed = app.sign(&claims);
    let read = app.data(&narrowed, CASE, json!({ "y": youth })).await;
    assert_eq!(read["youth"]["purpose"], "MEETING_PREPARATION");
    let casework = app.gql(&narrowed, CASE, json!({ "y": youth, "p": "CASEWORK" })).await;
    assert_eq!(code(&casework), "FORBIDDEN", "{casework}");
    claims.purposes = Some(vec!["audit".into()]);
    let not_the_roles = app.post(&app.sign(&claims), CASE, json!({ "y": youth })).await;
    assert_eq!(not_the_roles.status, 401, "{}", not_the_roles.body);
    assert!(not_the_roles.body.contains("not a purpose of the caseworker role"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_are_answered_escalate_when_not_and_reach_whoever_must_act() {
    use chrono::Duration;
    let app = spawn_app().await;
    let youth = app.refer(CPR_2008).await;
    // 31 days later the referral has not been discussed: the alarm is open.
    app.clock
        .set(kui_domain::testing::noon(2026, 1, 15) + Duration::days(31));
    app.settle().await;
    let alarms = "query($m: Boolean, $e: Int) { alarms(mine: $m, minEscalation: $e) { rule due escalation acknowledged act actAs person { id } } }";
    let open = app.data(&app.caseworker(), alarms, json!({})).await;
    let alarm = open["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["rule"] == "REFERRAL_NOT_TABLED")
        .cloned()
        .expect("open");
    let due = alarm["due"].as_str().unwrap().to_owned();
    // The referrer (the counsellor) is asked to act: it is theirs.
    let mine = app.data(&app.caseworker(), alarms, json!({ "m": true })).await;
    assert!(mine["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["rule"] == "REFERRAL_NOT_TABLED"));

    // Unanswered for 8 days: with the team lead.
    app.clock
        .set(kui_domain::testing::noon(2026, 1, 15) + Duration::days(39));
    let escalated = app.data(&app.team_lead(), alarms, json!({ "e": 1 })).await;
    assert_eq!(escalated["alarms"][0]["escalation"], 1, "{escalated}");
    let leads = app.data(&app.team_lead(), alarms, json!({ "m": true })).await;
    assert!(!leads["alarms"].as_array().unwrap().is_empty());

    // Bad answers: an alarm that is not open, a snooze into the past, an unknown assignee.
    let ack = "mutation($y: ID!, $r: AlarmRule!, $d: NaiveDate!) { acknowledgeAlarm(youthId: $y, rule: $r, due: $d) { version } }";
    let wrong = app
        .gql(
            &app.caseworker(),
            ack,
            json!({ "y": youth, "r": "PLAN_STALE", "d": due }),
        )
        .await;
    assert_eq!(code(&wrong), "NOT_FOUND", "{wrong}");
    let snooze = "mutation($y: ID!, $r: AlarmRule!, $d: NaiveDate!, $u: NaiveDate!) { snoozeAlarm(youthId: $y, rule: $r, due: $d, until: $u, reason: \"meeting booked\") { version } }";
    let past = app
        .gql(
            &app.caseworker(),
            snooze,
            json!({ "y": youth, "r": "REFERRAL_NOT_TABLED", "d": due, "u": "2026-01-01" }),
        )
        .await;
    assert_eq!(code(&past), "INVALID_INPUT", "{past}");
    let assign = "mutation($y: ID!, $r: AlarmRule!, $d: NaiveDate!, $t: ID!) { assignAlarm(youthId: $y, rule: $r, due: $d, to: $t) { version } }";
    let nobody = app
        .gql(
            &app.caseworker(),
            assign,
            json!({ "y": youth, "r": "REFERRAL_NOT_TABLED", "d": due, "t": "0190f000-0000-7000-8000-0000000000ff" }),
        )
        .await;
    assert_eq!(code(&nobody), "INVALID_INPUT", "{nobody}");

    // Assigned to the job-centre adviser: theirs now, and it no longer escalates.
    app.data(
        &app.caseworker(),
        assign,
        json!({ "y": youth, "r": "REFERRAL_NOT_TABLED", "d": due, "t": app.adviser.to_string() }),
    )
    .await;
    app.settle().await;
    let after = app.data(&app.caseworker(), alarms, json!({})).await;
    let answered = after["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["rule"] == "REFERRAL_NOT_TABLED")
        .cloned()
        .expect("still open");
    assert_eq!(answered["escalation"], 0);
    assert_eq!(answered["actAs"], "assigned");
    assert_eq!(answered["act"], app.adviser.to_string());
    // The answer is in the case's history.
    let history = app
        .data(
            &app.auditor(),
            "query($y: ID!) { history(youthId: $y) { entries { type } } }",
            json!({ "y": youth }),
        )
        .await;
    assert!(history.to_string().contains("AlarmAnswered"));
    // Acknowledging it once more is fine; the case of another municipality is not found.
    app.data(
        &app.caseworker(),
        ack,
        json!({ "y": youth, "r": "REFERRAL_NOT_TABLED", "d": due }),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_responsible_administration_follows_age_need_and_aftercare() {
    let app = spawn_app().await;
    // Born 1 March 2008: 18 on 1 March 2026.
    let youth = app.refer(CPR_2008).await;
    let query =
        "query($y: ID!, $d: NaiveDate) { youth(id: $y) { aftercareUntil responsibleAdministration(asOf: $d) } }";
    let at = |day: &'static str| json!({ "y": youth, "d": day });
    let before = app.data(&app.auditor(), query, at("2026-02-01")).await;
    assert_eq!(before["youth"]["responsibleAdministration"], "children");
    let after = app.data(&app.auditor(), query, at("2026-04-01")).await;
    assert_eq!(after["youth"]["responsibleAdministration"], "labour_market");
    app.data(
        &app.caseworker(),
        r#"mutation($y: ID!) { assessNeed(youthId: $y, level: C) { version } }"#,
        json!({ "y": youth }),
    )
    .await;
    let c_need = app.data(&app.auditor(), query, at("2026-04-01")).await;
    assert_eq!(c_need["youth"]["responsibleAdministration"], "health_and_disability");
    let decide = r#"mutation($y: ID!) { decideAftercare(youthId: $y, until: "2028-06-30") { version } }"#;
    app.data(&app.caseworker(), decide, json!({ "y": youth })).await;
    let aftercare = app.data(&app.auditor(), query, at("2027-01-01")).await;
    assert_eq!(aftercare["youth"]["responsibleAdministration"], "children");
    assert_eq!(aftercare["youth"]["aftercareUntil"], "2028-06-30");
    let ended = app.data(&app.auditor(), query, at("2028-07-01")).await;
    assert_eq!(ended["youth"]["responsibleAdministration"], "health_and_disability");
    // Past the 23rd birthday is refused.
    let too_late = app
        .gql(
            &app.caseworker(),
            r#"mutation($y: ID!) { decideAftercare(youthId: $y, until: "2031-03-01") { version } }"#,
            json!({ "y": youth }),
        )
        .await;
    assert_eq!(code(&too_late), "INVALID_INPUT", "{too_late}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_of_another_municipalitys_young_person_is_not_found_and_recorded_as_refused() {
    let app = spawn_app().await;
    let youth = app.refer(CPR_2008).await;
    let esbjerg = app.token(
        kui_engine::Role::Caseworker,
        crate::helpers::staff(4),
        Some(crate::helpers::ESBJERG),
    );
    let probe = app.gql(&esbjerg, CASE, json!({ "y": youth })).await;
    assert_eq!(code(&probe), "NOT_FOUND", "{probe}");
    let log = app
        .data(
            &app.auditor(),
            "query($y: ID!) { accessLog(youthId: $y) { municipality operation refused shown } }",
            json!({ "y": youth }),
        )
        .await;
    let refused: Vec<&Value> = log["accessLog"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["municipality"] == 561)
        .collect();
    assert_eq!(refused.len(), 1, "{log}");
    assert_eq!(refused[0]["refused"], "NOT_FOUND");
    assert_eq!(refused[0]["shown"], json!([]));
}
