//! The deterministic fixture generator: a municipality's youth effort from the reform
//! (1 August 2019) to an end date, told as the commands its staff would have issued.
//!
//! Every command goes through the domain's own aggregates (`decide` with the simulated
//! time, then `apply`), so each generated event obeys the same rules as in the real engine.
//! The output is a stream of [`Planned`] commands handed to a sink one at a time, in
//! business-time order; nothing is kept, so millions of events never sit in memory.
//! A preset and its seed determine the output bit for bit, uuids included: they are
//! version-7 uuids whose timestamp is the business time and whose random part comes from
//! the generator's PRNG (see `rng`). Neither the system clock nor IO is used.
//!
//! Layout:
//! - `rng`: xoshiro256** with helpers (below, chance, pick, weighted, normal-ish).
//! - `text`: Danish-looking names, plan goals and actions, notes.
//! - `sim`: the day-by-day loop, the clock, staff, emitting and the aggregate wrappers.
//! - `youth`: one young person's case from referral to closure.
//! - `meetings`: team meetings, K-meetings and youth coordination meetings.
//!
//! # Model and assumptions
//!
//! Figures are taken from `DOMAIN.md` ("Figures for realistic fixtures") where it has them;
//! the rest are plausible guesses, listed here so nobody mistakes them for data.
//!
//! - **Time.** One simulated day at a time, from `start` up to but not including `end`.
//!   Age milestones (`MarkEighteen`, `MarkAgedOut`) run every day from 00:00 UTC with role
//!   `system`, like the engine's daily tick. Staff work on weekdays only, spread evenly over
//!   07:00-15:00 UTC (08:00-16:00 Copenhagen winter time; summer time is ignored). Every
//!   command gets its own millisecond, so `at` strictly increases. Danish public holidays are
//!   ignored, except that few meetings are planned in July and over Christmas.
//! - **Referrals.** `n_youth` distinct young people are referred on weekdays between `start`
//!   and `end`, three times as often in the first two months (cases taken over at the reform),
//!   with fewer referrals in July and late December and more in January (readiness
//!   assessments) and August-September (school start). Ages at referral are mostly 15-24
//!   (weights peak at 16), always inside the municipality's band. About 12 % of closed cases
//!   are referred again 2-18 months later (same young person, same CPR number).
//! - **CPR numbers** have real birth dates, a 7th digit that gives the right century under
//!   the CPR rules (0-3 for the 1900s, 4-9 for 2000-2036) and a last digit whose parity gives
//!   the sex (odd for men), matching the first name. They are unique within a run.
//! - **School.** Danish children start grade 0 in the year they turn 6; 15 % are a year
//!   behind. A referred pupil in grade 8-10 is in primary school (45 % of those in grade 10
//!   stay for it), gets readiness assessments in January (education-ready 80 % / 45 % / 15 %
//!   for need A / B / C) and leaves in August, mostly into a youth education. Others move
//!   between in education, at risk, dropped out, inactive, working and completed every few
//!   months. After a dropout, guidance contact follows within 5 days in 85 % of cases and an
//!   offer within 30 days in 85 %; the rest are late, which feeds the alarms.
//! - **Need.** About 45 % A, a third B and just under a quarter C, shifted towards C by more
//!   indicators and by referrals from family services, adult disability, PPR or substance
//!   abuse. B and C get consent (guardians for 60 % of under-18s), a plan revised every 3-11
//!   weeks (C) or 1-4 months (B), with 15 % of cases neglected for more than 90 days at a
//!   time, and guidance contact every few weeks. A cases close within months.
//! - **Teams and meetings.** Team 1 meets every 21 days, teams 2 and 3, K-meetings and youth
//!   coordination meetings every 14 days, each with 120-180 minutes for cases (15 minutes a
//!   case, 30 when complex). Larger presets run parallel meeting series per forum so the
//!   agendas do not overflow. A busy series (six or more cases over its last three meetings)
//!   is scheduled five weeks ahead; a quiet one, as in the small preset, gets a meeting on its
//!   next date at least a week ahead when a case needs one, plus the odd fixed date. Meetings
//!   are cancelled when the agenda is empty and otherwise 3 % of the time (70 % in the
//!   holidays); their cases go to the next meeting. All C cases
//!   and 8 % of B cases are tabled, most within 30 days of the referral; 65 % get a follow-up.
//!   Under-18 C cases are tabled for the hand-over to the adult side six months before the
//!   18th birthday (late for a quarter of them). Under-17s with an expected transition form
//!   go to the youth coordination meeting, complex 18+ cases to the K-meeting.
//! - **Coordinators** (Viborg's 92 assigned, 28 declined, 69 not relevant of 198): for C cases
//!   the first meeting judges a coordinator not relevant in 35 % of cases, appoints one at the
//!   meeting after an offer made while preparing the case in 30 % (15 % decline there), and
//!   asks for an offer afterwards in 35 % (30 % decline, the rest are assigned by a team lead);
//!   a quarter of those who decline get a second offer later. Coordinators are UU counsellors
//!   under 18 and job advisers from 18, chosen below their capacity (about 25, spread 15-35);
//!   45 % of under-18 coordinators hand over to the adult side after the 18th birthday; 5 %
//!   of young people withdraw; 60 % of courses end as completed before a positive closure.
//!   Coordinating caseworkers are appointed at 80 % of first K-meetings, 50 % of youth
//!   coordination meetings, 20 % of team meetings and 85 % of hand-over discussions.
//! - **Transition forms** for 40 % of C cases under 17 involving family services or adult
//!   disability (5 % of B): 11-37 hours a week, updated in January and June until 18 and when
//!   the case goes to the youth coordination meeting; 8 % of updates drop to 10 hours or less.
//! - **Staff.** `n_staff` people: one municipal youth coordinator, about 6 % team leads, the
//!   rest caseworkers (UU and job centre 28 % each, family services 16 %, adult disability 9 %,
//!   PPR 6 %, health 5 %, substance abuse 4 %, youth school 3 %, other 1 %). 8 % leave each
//!   year; a replacement is hired 1-4 weeks before, and the leaver's coordinator and
//!   coordinating-caseworker roles are handed over on the last day. Nobody who left is ever
//!   assigned, named or used as an actor again. 10 % a year change capacity.
//! - **Outcomes.** Cases last 1-5 months (A), 4-24 months (B) or 8-48 months (C). A case whose
//!   young person is in education or work then closes with a positive destination; otherwise
//!   B and C cases are extended up to twice, then close as no longer needed, declined, moved
//!   away or other. 5 % move away during the case. Open cases age out at the band's end.

mod meetings;
mod rng;
mod sim;
mod text;
mod youth;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use kui_domain::values::{AgeBand, Department};
use kui_domain::{Event, MunicipalityCode, StaffId};

/// Events per young person the national preset produces, measured (band 15-25, mixed
/// case load, meetings included); `Preset::national` divides its target by this.
const NATIONAL_EVENTS_PER_YOUTH: f64 = 27.4;

/// What to generate: a municipality, its size, the period and the seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    /// The preset's name: `small`, `sonderborg` or `national`.
    pub name: &'static str,
    /// The seed: the same preset and seed give the same output, bit for bit.
    pub seed: u64,
    /// The municipality's code.
    pub municipality: MunicipalityCode,
    /// The municipality's name.
    pub municipality_name: &'static str,
    /// The ages the municipality covers.
    pub age_band: AgeBand,
    /// Distinct young people referred over the period.
    pub n_youth: u32,
    /// Staff headcount (kept constant: every leaver is replaced).
    pub n_staff: u32,
    /// The first simulated day (the reform: 2019-08-01).
    pub start: NaiveDate,
    /// The day after the last simulated day.
    pub end: NaiveDate,
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("preset dates are real dates")
}

fn code(code: u16) -> MunicipalityCode {
    MunicipalityCode::new(code).expect("preset municipality codes lie in 101-860")
}

impl Preset {
    /// About 500 young people and 25 staff in a Sønderborg-like municipality (ages 15-30);
    /// some 20,000 events, for tests and demos.
    pub fn small() -> Preset {
        Preset {
            name: "small",
            seed: 0x6b75_6900_0000_0540,
            municipality: code(540),
            municipality_name: "Sønderborg",
            age_band: AgeBand { from: 15, until: 30 },
            n_youth: 500,
            n_staff: 25,
            start: date(2019, 8, 1),
            end: date(2026, 11, 1),
        }
    }

    /// Sønderborg at full size: about 13,000 young people known to the municipality over the
    /// years (9,151 aged 15-25 and 3,694 aged 25-30 in April 2019) and 150 staff.
    pub fn sonderborg() -> Preset {
        Preset {
            name: "sonderborg",
            seed: 0x6b75_6900_0001_0540,
            n_youth: 13_000,
            n_staff: 150,
            ..Preset::small()
        }
    }

    /// A synthetic municipality at national scale (ages 15-25, the law's band), sized so the
    /// output has about `n_events_target` events.
    pub fn national(n_events_target: u64) -> Preset {
        let n_youth = ((n_events_target as f64 / NATIONAL_EVENTS_PER_YOUTH).round() as u64).clamp(20, 50_000_000);
        let n_youth = u32::try_from(n_youth).unwrap_or(u32::MAX);
        Preset {
            name: "national",
            seed: 0x6b75_6900_0002_0101,
            municipality: code(101),
            municipality_name: "Hele landet (syntetisk)",
            age_band: AgeBand { from: 15, until: 25 },
            n_youth,
            n_staff: (n_youth / 75).max(25),
            start: date(2019, 8, 1),
            end: date(2026, 11, 1),
        }
    }

    /// `small`, `sonderborg`, `national` (5,000,000 events) or `national:N` (about N events).
    pub fn by_name(name: &str) -> Option<Preset> {
        let name = name.trim();
        match name {
            "small" => Some(Preset::small()),
            "sonderborg" => Some(Preset::sonderborg()),
            "national" => Some(Preset::national(5_000_000)),
            _ => {
                let target = name.strip_prefix("national:")?;
                let target: u64 = target.replace('_', "").parse().ok()?;
                (target > 0).then(|| Preset::national(target))
            }
        }
    }
}

/// One command's worth of events, as the engine would append them atomically.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The business time of the command (occurred-at); strictly increasing across the output.
    pub at: DateTime<Utc>,
    /// Who issued it.
    pub actor: PlannedActor,
    /// One append per stream touched: usually one; a meeting decision that appoints a
    /// coordinator touches the meeting's stream and the young person's.
    pub appends: Vec<PlannedAppend>,
}

/// Who issued a planned command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedActor {
    /// The staff member; `None` for the engine itself (`system`) and the administrator.
    pub staff: Option<StaffId>,
    /// `caseworker`, `coordinator`, `team_lead`, `youth_coordinator`, `admin` or `system`.
    pub role: &'static str,
    /// The staff member's department.
    pub department: Option<Department>,
}

/// The events for one stream within a planned command.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedAppend {
    /// The stream, e.g. `youth-<uuid>`, `meeting-<uuid>`, `staff-<uuid>`, `municipality-540`.
    pub stream: String,
    /// The stream's version before this append: the number of events already in it (0 for a new stream).
    pub expected_version: u64,
    /// The events, in order.
    pub events: Vec<Event>,
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GenerateStats {
    /// Planned commands handed to the sink.
    pub commands: u64,
    /// Events in them.
    pub events: u64,
    /// Distinct young people referred.
    pub youth: u32,
    /// Staff members registered (replacements included).
    pub staff: u32,
    /// Meetings scheduled.
    pub meetings: u32,
    /// Events per stored type name.
    pub by_type: BTreeMap<&'static str, u64>,
}

/// Runs the simulation for `preset`, handing every planned command to `sink` in order.
pub fn generate(preset: &Preset, sink: &mut dyn FnMut(Planned)) -> GenerateStats {
    generate_with_rejections(preset, sink).0
}

/// Like [`generate`], and also the commands the aggregates refused, counted by command and
/// rule. A refusal means the generator asked for something the domain forbids: a bug in the
/// generator, which tests require to be absent.
pub(crate) fn generate_with_rejections(
    preset: &Preset,
    sink: &mut dyn FnMut(Planned),
) -> (GenerateStats, BTreeMap<String, u64>) {
    sim::Sim::new(preset, sink).run()
}
