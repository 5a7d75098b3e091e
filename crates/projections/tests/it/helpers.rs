//! Shared fixtures: the committed small municipality in a temporary log, and compact
//! event builders for alarm scenarios.

use std::io::BufReader;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use kui_domain::event::*;
use kui_domain::values::{Department, Indicator, NeedLevel, SchoolStatus};
use kui_domain::{Cpr, Event, MeetingId, MunicipalityCode, StaffId, YouthId};
use kui_log::{Actor, AppendRequest, EventLog, ExpectedVersion, MemoryLog, Metadata, NewEvent, StreamAppend, StreamId};
use kui_projections::models::alarms::Rule;
use kui_projections::models::{Alarms, Projector};
use kui_projections::{Fact, Stamp};
use uuid::Uuid;

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The committed small fixture imported into a fresh log.
pub fn fixture_log() -> Arc<dyn EventLog> {
    let log = MemoryLog::new();
    let file = std::fs::File::open(workspace_root().join("fixtures/small.ndjson")).expect("fixture");
    kui_log::ndjson::import_ndjson(&log, &mut BufReader::new(file), &mut |_| {}).expect("import fixture");
    Arc::new(log)
}

pub fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid date")
}

pub fn staff(n: u128) -> StaffId {
    StaffId(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n))
}

pub fn youth(n: u128) -> YouthId {
    YouthId(Uuid::from_u128(0x0190_0000_0000_7000_9000_0000_0000_0000 | n))
}

pub fn meeting(n: u128) -> MeetingId {
    MeetingId(Uuid::from_u128(0x0190_0000_0000_7000_a000_0000_0000_0000 | n))
}

pub fn municipality() -> MunicipalityCode {
    MunicipalityCode::new(540).expect("code")
}

/// An alarm scenario: facts folded into the alarms model on business dates.
pub struct Scenario {
    pub model: Alarms,
    position: u64,
}

impl Scenario {
    pub fn new() -> Scenario {
        let mut scenario = Scenario {
            model: Alarms::default(),
            position: 0,
        };
        scenario.on(date(2019, 8, 1), configured());
        scenario
    }

    /// Folds `event` as happening on `on`, through the stored form (encode, then decode).
    pub fn on(&mut self, on: NaiveDate, event: Event) -> &mut Scenario {
        self.position += 1;
        let fact = Fact::decode(event.event_type(), event.schema_version(), &event.to_payload()).expect("decodes");
        self.model.apply(
            Stamp {
                position: self.position,
                on,
            },
            &fact,
        );
        self
    }

    /// The rules open for `youth` on `today`.
    pub fn open(&self, youth: YouthId, today: NaiveDate) -> Vec<Rule> {
        self.model
            .alarms_of(youth, today)
            .into_iter()
            .map(|alarm| alarm.rule)
            .collect()
    }

    /// Whether `rule` is open for `youth` on `today`.
    pub fn fires(&self, youth: YouthId, rule: Rule, today: NaiveDate) -> bool {
        self.open(youth, today).contains(&rule)
    }

    /// The day before which `rule` is closed and on which it is open, checked around `day`.
    pub fn assert_opens_on(&self, youth: YouthId, rule: Rule, day: NaiveDate) {
        let before = day.pred_opt().expect("date");
        assert!(!self.fires(youth, rule, before), "{rule} already open on {before}");
        assert!(
            self.fires(youth, rule, day),
            "{rule} not open on {day}: {:?}",
            self.open(youth, day)
        );
    }
}

pub fn configured() -> Event {
    MunicipalityConfigured {
        municipality: municipality(),
        name: "Sønderborg".into(),
        age_band: kui_domain::values::AgeBand::new(15, 30).expect("band"),
        cadence: TeamCadence::USUAL,
        coordinator_capacity: 25,
        alarms: AlarmSettings::USUAL,
        retention: Default::default(),
        privacy: Default::default(),
        responsibility: Vec::new(),
    }
    .into()
}

/// A CPR number for someone born on `birth` (born 2000 or later: 7th digit 4).
pub fn cpr_born(birth: NaiveDate) -> Cpr {
    use chrono::Datelike;
    Cpr::parse(&format!(
        "{:02}{:02}{:02}-4001",
        birth.day(),
        birth.month(),
        birth.year() % 100
    ))
    .expect("cpr")
}

pub fn referred(id: YouthId, birth: NaiveDate, on: NaiveDate, status: SchoolStatus) -> Event {
    YouthReferred {
        youth_id: id,
        cpr: None,
        birth_date: cpr_born(birth).birth_date(),
        name: format!("Young person {}", id.0.as_u128() & 0xffff),
        municipality: municipality(),
        referred_on: on,
        referred_by: staff(1),
        department: Department::ChildrenAndFamily,
        indicators: vec![Indicator::FamilyServicesCase],
        school_status: status,
        note: String::new(),
    }
    .into()
}

pub fn need(id: YouthId, level: NeedLevel) -> Event {
    NeedAssessed {
        youth_id: id,
        level,
        assessed_by: staff(1),
        note: String::new(),
    }
    .into()
}

pub fn assigned(id: YouthId, coordinator: StaffId, department: Department) -> Event {
    CoordinatorAssigned {
        youth_id: id,
        coordinator,
        department,
        assigned_by: staff(9),
        meeting: None,
    }
    .into()
}

pub fn caseworker(id: YouthId, caseworker: StaffId, department: Department) -> Event {
    CoordinatingCaseworkerAssigned {
        youth_id: id,
        caseworker,
        department,
        meeting: None,
    }
    .into()
}

pub fn scheduled(m: MeetingId, on: NaiveDate) -> Event {
    MeetingScheduled {
        meeting_id: m,
        municipality: municipality(),
        forum: kui_domain::values::Forum::YouthCoordination,
        date: on,
        slot_minutes: 120,
        scheduled_by: staff(9),
    }
    .into()
}

pub fn tabled(m: MeetingId, id: YouthId) -> Event {
    CaseTabled {
        meeting_id: m,
        youth_id: id,
        presenter: staff(1),
        minutes: 15,
        complex: false,
    }
    .into()
}

pub fn held(m: MeetingId, on: NaiveDate) -> Event {
    MeetingHeld {
        meeting_id: m,
        held_on: on,
        attendees: vec![staff(1), staff(9)],
    }
    .into()
}

pub fn cancelled(m: MeetingId) -> Event {
    kui_domain::event::MeetingCancelled {
        meeting_id: m,
        reason: "no quorum".into(),
    }
    .into()
}

pub fn answered(id: YouthId, rule: &str, due: NaiveDate, answer: kui_domain::event::AlarmAnswer) -> Event {
    kui_domain::event::AlarmAnswered {
        youth_id: id,
        rule: rule.into(),
        due,
        answer,
        by: staff(1),
    }
    .into()
}

pub fn registered(id: StaffId, department: Department) -> Event {
    kui_domain::event::StaffRegistered {
        staff_id: id,
        name: "Staff".into(),
        department,
        municipality: municipality(),
        capacity: 25,
    }
    .into()
}

pub fn departed(id: StaffId, on: NaiveDate) -> Event {
    kui_domain::event::StaffDeparted { staff_id: id, on }.into()
}

pub fn follow_up_decision(m: MeetingId, id: YouthId, lead: StaffId, follow_up: NaiveDate) -> Event {
    decision(m, id, lead, Some(follow_up), None)
}

pub fn team_decision(m: MeetingId, id: YouthId, lead: StaffId, first_meeting: Option<NaiveDate>) -> Event {
    decision(m, id, lead, None, first_meeting)
}

fn decision(
    m: MeetingId,
    id: YouthId,
    lead: StaffId,
    follow_up: Option<NaiveDate>,
    first_team_meeting: Option<NaiveDate>,
) -> Event {
    DecisionRecorded {
        meeting_id: m,
        youth_id: id,
        coordinator: None,
        coordinating_caseworker: None,
        lead: Some(lead),
        actions: Vec::new(),
        documentation_needed: Vec::new(),
        follow_up,
        first_team_meeting,
    }
    .into()
}

pub fn form(id: YouthId, hours: u16) -> Event {
    TransitionFormRecorded {
        youth_id: id,
        expected_weekly_hours: hours,
        recorded_by: staff(3),
        note: String::new(),
    }
    .into()
}

pub fn plan_updated(id: YouthId, revision: u32) -> Event {
    PlanUpdated {
        youth_id: id,
        revision,
        kind: kui_domain::values::PlanKind::EducationPlan,
        plan: kui_domain::values::Plan {
            goals: vec!["Start an upper secondary education".into()],
            actions: Vec::new(),
        },
        updated_by: staff(4),
    }
    .into()
}

pub fn school(id: YouthId, status: SchoolStatus, on: NaiveDate) -> Event {
    SchoolStatusChanged {
        youth_id: id,
        status,
        on,
    }
    .into()
}

pub fn contact(id: YouthId, on: NaiveDate, offer_made: bool) -> Event {
    ContactRecorded {
        youth_id: id,
        by: staff(5),
        on,
        offer_made,
    }
    .into()
}

pub fn closed(id: YouthId) -> Event {
    CaseClosed {
        youth_id: id,
        reason: kui_domain::values::CloseReason::NoLongerNeeded,
        note: String::new(),
    }
    .into()
}

pub fn handed_over(id: YouthId) -> Event {
    TeamHandedOver {
        youth_id: id,
        from: kui_domain::values::Team::Team2,
        to: kui_domain::values::Team::Team3,
    }
    .into()
}

/// Appends `event` to its young person's stream as having happened on `on` (at 09:00);
/// returns its position.
pub fn append_on(log: &dyn EventLog, event: Event, on: NaiveDate) -> u64 {
    let stream = event.youth_id().expect("a youth event").stream_name();
    let at = on.and_hms_opt(9, 0, 0).expect("a real time").and_utc();
    let request = AppendRequest {
        command_id: None,
        streams: vec![StreamAppend {
            stream: StreamId::new(stream).expect("stream"),
            expected: ExpectedVersion::Any,
            events: vec![NewEvent {
                event_id: Uuid::now_v7(),
                event_type: event.event_type().to_owned(),
                schema_version: event.schema_version(),
                payload: event.to_payload(),
                metadata: Metadata {
                    actor: Actor {
                        staff_id: None,
                        role: "system".into(),
                        department: None,
                    },
                    command_id: None,
                    causation_id: None,
                    correlation_id: None,
                    occurred_at: at,
                    recorded_at: at,
                },
            }],
        }],
    };
    log.append(request).expect("append").last_position.0
}
