//! A municipality, staff and young people over a temporary log, with a fixed clock.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use kui_domain::event::{AlarmSettings, MunicipalityConfigured, TeamCadence};
use kui_domain::testing::noon;
use kui_domain::values::{AgeBand, Department, Forum, Indicator, SchoolStatus};
use kui_domain::{
    Cpr, MeetingCommand, MeetingId, MunicipalityCode, MunicipalityCommand, Referral, StaffCommand, StaffId, YouthId,
};
use kui_engine::{Actor, Command, CommandContext, Engine, FixedClock, Role, SeededIds};
use kui_log::MemoryLog;
use uuid::Uuid;

pub struct World {
    pub engine: Engine,
    pub clock: Arc<FixedClock>,
    pub log: Arc<MemoryLog>,
    pub municipality: MunicipalityCode,
    pub counsellor: StaffId,
    pub adviser: StaffId,
    pub lead: StaffId,
}

pub fn municipality() -> MunicipalityCode {
    MunicipalityCode::new(540).unwrap()
}

pub fn settings() -> MunicipalityConfigured {
    MunicipalityConfigured {
        municipality: municipality(),
        name: "Sønderborg".into(),
        age_band: AgeBand { from: 15, until: 30 },
        cadence: TeamCadence::USUAL,
        coordinator_capacity: 25,
        alarms: AlarmSettings::USUAL,
        retention: Default::default(),
        privacy: Default::default(),
        responsibility: Vec::new(),
    }
}

pub fn staff(n: u128) -> StaffId {
    StaffId(Uuid::from_u128(0x5000 + n))
}

pub fn open_world(now: DateTime<Utc>) -> World {
    let log = Arc::new(MemoryLog::new());
    let clock = Arc::new(FixedClock::new(now));
    let engine = Engine::new(
        log.clone(),
        Arc::new(kui_engine::keys::KeyStore::seeded(1)),
        clock.clone(),
        Arc::new(SeededIds::new(1)),
    );
    let world = World {
        engine,
        clock,
        log,
        municipality: municipality(),
        counsellor: staff(1),
        adviser: staff(2),
        lead: staff(3),
    };
    let admin = CommandContext::by(Actor::system());
    world
        .engine
        .execute(
            Command::Municipality(world.municipality, MunicipalityCommand(settings())),
            &admin,
        )
        .expect("configure");
    for (id, name, department) in [
        (world.counsellor, "Mette Holm", Department::Uu),
        (world.adviser, "Jonas Krogh", Department::JobCentre),
        (world.lead, "Lise Dam", Department::ChildrenAndFamily),
    ] {
        let register = StaffCommand::Register {
            staff_id: id,
            name: name.into(),
            department,
            municipality: world.municipality,
            capacity: 25,
        };
        world
            .engine
            .execute(Command::Staff(id, register), &admin)
            .expect("staff");
    }
    world
}

pub fn world() -> World {
    open_world(noon(2026, 1, 15))
}

impl World {
    pub fn as_counsellor(&self) -> CommandContext {
        CommandContext::by(Actor::staff(self.counsellor, Role::Caseworker, Department::Uu))
    }

    pub fn as_lead(&self) -> CommandContext {
        CommandContext::by(Actor::staff(self.lead, Role::TeamLead, Department::ChildrenAndFamily))
    }

    /// Refers the young person with this CPR number; returns the id.
    pub fn refer(&self, cpr: &str) -> YouthId {
        let cpr = Cpr::parse(cpr).unwrap();
        let executed = self
            .engine
            .execute(self.referral(&cpr), &self.as_counsellor())
            .expect("refer");
        YouthId::from_stream_name(&executed.streams[0].0).expect("a youth stream")
    }

    pub fn referral(&self, cpr: &Cpr) -> Command {
        Command::Refer(Referral {
            cpr: cpr.clone(),
            name: "Emil Jensen".into(),
            municipality: self.municipality,
            referred_by: self.counsellor,
            department: Department::Uu,
            indicators: vec![Indicator::HighAbsence],
            school_status: SchoolStatus::InEducation,
            note: "absence over 20 %".into(),
        })
    }

    /// Schedules a meeting of `forum` on `day` with `slot_minutes`, decided by the team lead.
    pub fn schedule(&self, meeting: MeetingId, forum: Forum, day: NaiveDate, slot_minutes: u32) {
        let command = MeetingCommand::Schedule {
            meeting_id: meeting,
            municipality: self.municipality,
            forum,
            date: day,
            slot_minutes,
            scheduled_by: self.lead,
        };
        self.engine
            .execute(Command::Meeting(meeting, command), &self.as_lead())
            .expect("schedule");
    }

    pub fn event_count(&self) -> u64 {
        kui_log::EventLog::head(self.log.as_ref())
            .ok()
            .flatten()
            .map(|(p, _)| p.0)
            .unwrap_or(0)
    }
}
