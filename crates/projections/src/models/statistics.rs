//! Statistics for analysts: the Viborg table as of any date and per month, hand-over
//! timeliness, and referrals, meetings and destinations per month.
//!
//! Every figure is computed from dated facts the model keeps (each young person's
//! coordinator-scheme history, each 18th birthday with whether the adult side was in place,
//! each flow event's date), so any date can be asked for without another pass over the log.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use kui_domain::values::{Destination, Team};
use kui_domain::{Event, MunicipalityCode, StaffId, YouthId};
use serde::{Deserialize, Serialize};

use crate::fact::{Fact, Stamp};
use crate::models::caseload::Scheme;
use crate::models::{FastMap, Projector};

/// One change of a young person's coordinator-scheme state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemeMark {
    /// The business date.
    pub on: NaiveDate,
    /// The new state.
    pub scheme: Scheme,
    /// The coordinator, when assigned.
    pub coordinator: Option<StaffId>,
}

/// What the statistics keep per young person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YouthStats {
    /// Municipality.
    pub municipality: MunicipalityCode,
    /// The first referral.
    pub first_referred_on: NaiveDate,
    /// The scheme's history, in log order.
    pub marks: Vec<SchemeMark>,
    /// Adult-side owners in place now: coordinator, caseworker, team 3.
    pub adult: [bool; 3],
    /// Since when the adult side has been in place without a break.
    pub adult_since: Option<NaiveDate>,
}

/// A flow counted per month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// A referral (re-referrals included).
    Referral,
    /// A meeting held.
    MeetingHeld,
    /// A destination reached.
    Destination(Destination),
    /// A case closed.
    Closed,
}

/// One 18th birthday and whether the adult side was in place before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handover {
    /// The young person.
    pub youth_id: YouthId,
    /// Municipality.
    pub municipality: MunicipalityCode,
    /// The birthday.
    pub birthday: NaiveDate,
    /// The adult side was in place before the birthday.
    pub on_time: bool,
}

/// The statistics' facts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Statistics {
    /// By young person.
    pub youth: FastMap<YouthId, YouthStats>,
    /// Every 18th birthday recorded.
    pub handovers: Vec<Handover>,
    /// Every flow event: date, municipality, kind.
    pub flows: Vec<(NaiveDate, MunicipalityCode, Flow)>,
    /// The municipality of each meeting.
    pub meeting_municipality: FastMap<kui_domain::MeetingId, MunicipalityCode>,
}

impl Projector for Statistics {
    const NAME: &'static str = "statistics";
    const VERSION: u32 = 1;

    fn apply(&mut self, stamp: Stamp, fact: &Fact) {
        let Fact::Event(event) = fact else { return };
        match event {
            Event::YouthReferred(e) => {
                let row = self.youth.entry(e.youth_id).or_insert_with(|| YouthStats {
                    municipality: e.municipality,
                    first_referred_on: e.referred_on,
                    marks: Vec::new(),
                    adult: [false; 3],
                    adult_since: None,
                });
                row.municipality = e.municipality;
                row.adult = [false; 3];
                row.adult_since = None;
                self.flows.push((e.referred_on, e.municipality, Flow::Referral));
            }
            Event::MeetingScheduled(e) => {
                self.meeting_municipality.insert(e.meeting_id, e.municipality);
                return;
            }
            Event::MeetingHeld(e) => {
                if let Some(&municipality) = self.meeting_municipality.get(&e.meeting_id) {
                    self.flows.push((e.held_on, municipality, Flow::MeetingHeld));
                }
                return;
            }
            _ => {}
        }
        let Some(youth_id) = event.youth_id() else { return };
        let Some(row) = self.youth.get_mut(&youth_id) else {
            return;
        };
        if let Some(scheme) = Scheme::after(event) {
            let coordinator = match event {
                Event::CoordinatorAssigned(e) => Some(e.coordinator),
                _ => None,
            };
            row.marks.push(SchemeMark {
                on: stamp.on,
                scheme,
                coordinator,
            });
        }
        let adult_before = row.adult.iter().any(|&a| a);
        match event {
            Event::CoordinatorAssigned(e) => row.adult[0] = e.department.is_adult_side(),
            Event::CoordinatorReleased(_) => row.adult[0] = false,
            Event::CoordinatingCaseworkerAssigned(e) => row.adult[1] = e.department.is_adult_side(),
            Event::TeamAssigned(e) => row.adult[2] = e.team == Team::Team3,
            Event::TeamHandedOver(e) => row.adult[2] = e.to == Team::Team3,
            Event::TurnedEighteen(e) => self.handovers.push(Handover {
                youth_id,
                municipality: row.municipality,
                birthday: e.birthday,
                on_time: row.adult_since.is_some_and(|since| since < e.birthday),
            }),
            Event::DestinationReached(e) => {
                self.flows
                    .push((e.on, row.municipality, Flow::Destination(e.destination)));
            }
            Event::CaseClosed(_) => self.flows.push((stamp.on, row.municipality, Flow::Closed)),
            _ => {}
        }
        let adult_after = row.adult.iter().any(|&a| a);
        if adult_after && !adult_before {
            row.adult_since = Some(stamp.on);
        } else if !adult_after {
            row.adult_since = None;
        }
    }
}

/// The Viborg table: each young person with a coordinator decision in exactly one row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ViborgTable {
    /// The date the table describes.
    pub as_of: Option<NaiveDate>,
    /// Young people with an assigned coordinator.
    pub assigned: usize,
    /// Declined a coordinator.
    pub declined: usize,
    /// A coordinator judged not relevant.
    pub not_relevant: usize,
    /// Coordinator course completed.
    pub completed: usize,
    /// Young people in total (the four rows above).
    pub total: usize,
    /// Distinct coordinators with at least one young person.
    pub coordinators: usize,
    /// Young people referred by then, for comparison (with or without a decision).
    pub referred: usize,
}

/// Hand-over timeliness over the 18th birthdays up to a date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct HandoverTimeliness {
    /// 18th birthdays recorded.
    pub birthdays: usize,
    /// With the adult side in place before the birthday.
    pub on_time: usize,
    /// `on_time / birthdays`, 0 when there were none.
    pub share_on_time: f64,
}

/// One month's flows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MonthFlows {
    /// `YYYY-MM`.
    pub month: String,
    /// Referrals.
    pub referrals: usize,
    /// Meetings held.
    pub meetings_held: usize,
    /// Destinations reached, by kind.
    pub destinations: BTreeMap<Destination, usize>,
    /// Of those, positive destinations (education or work).
    pub positive_destinations: usize,
    /// Cases closed.
    pub closed: usize,
    /// 18th birthdays.
    pub eighteenth_birthdays: usize,
    /// Of those, with the adult side in place beforehand.
    pub handed_over_on_time: usize,
}

/// The statistics report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatisticsReport {
    /// The report date.
    pub as_of: NaiveDate,
    /// The municipality reported on (all when none).
    pub municipality: Option<MunicipalityCode>,
    /// The Viborg table on the report date.
    pub viborg: ViborgTable,
    /// Hand-over timeliness up to the report date.
    pub handover: HandoverTimeliness,
    /// The Viborg table at the end of each month (the last one on the report date).
    pub viborg_by_month: Vec<ViborgTable>,
    /// Flows per month up to the report date: every month from the first referral on,
    /// months without any flow included.
    pub months: Vec<MonthFlows>,
}

fn month_key(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

/// The last day of the month of `date`.
fn month_end(date: NaiveDate) -> NaiveDate {
    let (year, month) = if date.month() == 12 {
        (date.year() + 1, 1)
    } else {
        (date.year(), date.month() + 1)
    };
    NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|first| first.pred_opt())
        .unwrap_or(date)
}

impl Statistics {
    /// The Viborg table as it stood at the end of `as_of`.
    pub fn viborg(&self, municipality: Option<MunicipalityCode>, as_of: NaiveDate) -> ViborgTable {
        let mut table = ViborgTable {
            as_of: Some(as_of),
            ..ViborgTable::default()
        };
        let mut coordinators = BTreeSet::new();
        for row in self.youth.values() {
            if row.first_referred_on > as_of || municipality.is_some_and(|m| m != row.municipality) {
                continue;
            }
            table.referred += 1;
            let Some(mark) = row.marks.iter().rev().find(|mark| mark.on <= as_of) else {
                continue;
            };
            match mark.scheme {
                Scheme::Assigned => {
                    table.assigned += 1;
                    coordinators.extend(mark.coordinator);
                }
                Scheme::Declined => table.declined += 1,
                Scheme::NotRelevant => table.not_relevant += 1,
                Scheme::Completed => table.completed += 1,
                Scheme::None | Scheme::Offered | Scheme::Released => {}
            }
        }
        table.total = table.assigned + table.declined + table.not_relevant + table.completed;
        table.coordinators = coordinators.len();
        table
    }

    /// Hand-over timeliness over the 18th birthdays on or before `as_of`.
    pub fn handover(&self, municipality: Option<MunicipalityCode>, as_of: NaiveDate) -> HandoverTimeliness {
        let mut result = HandoverTimeliness::default();
        for handover in &self.handovers {
            if handover.birthday <= as_of && municipality.is_none_or(|m| m == handover.municipality) {
                result.birthdays += 1;
                result.on_time += usize::from(handover.on_time);
            }
        }
        if result.birthdays > 0 {
            result.share_on_time = result.on_time as f64 / result.birthdays as f64;
        }
        result
    }

    /// Everything up to `as_of`: the Viborg table then and per month, hand-overs, flows.
    pub fn report(&self, municipality: Option<MunicipalityCode>, as_of: NaiveDate) -> StatisticsReport {
        let mine = |m: MunicipalityCode| municipality.is_none_or(|wanted| wanted == m);
        let mut rows: BTreeMap<String, MonthFlows> = BTreeMap::new();
        fn row_for(rows: &mut BTreeMap<String, MonthFlows>, date: NaiveDate) -> &mut MonthFlows {
            let key = month_key(date);
            rows.entry(key.clone()).or_insert_with(|| MonthFlows {
                month: key,
                ..MonthFlows::default()
            })
        }
        for &(date, m, flow) in &self.flows {
            if date > as_of || !mine(m) {
                continue;
            }
            let row = row_for(&mut rows, date);
            match flow {
                Flow::Referral => row.referrals += 1,
                Flow::MeetingHeld => row.meetings_held += 1,
                Flow::Destination(destination) => {
                    *row.destinations.entry(destination).or_insert(0) += 1;
                    row.positive_destinations += usize::from(destination.is_positive());
                }
                Flow::Closed => row.closed += 1,
            }
        }
        for handover in &self.handovers {
            if handover.birthday > as_of || !mine(handover.municipality) {
                continue;
            }
            let row = row_for(&mut rows, handover.birthday);
            row.eighteenth_birthdays += 1;
            row.handed_over_on_time += usize::from(handover.on_time);
        }
        let first_month = self
            .youth
            .values()
            .filter(|row| mine(row.municipality))
            .map(|row| row.first_referred_on)
            .min();
        let mut viborg_by_month = Vec::new();
        if let Some(first) = first_month {
            let mut end = month_end(first);
            while end < as_of {
                viborg_by_month.push(self.viborg(municipality, end));
                end = month_end(end.succ_opt().unwrap_or(end));
                if end == NaiveDate::MAX {
                    break;
                }
            }
            viborg_by_month.push(self.viborg(municipality, as_of));
        }
        // Every month has its row, a quiet one too: its table and its zeros are facts.
        for table in &viborg_by_month {
            if let Some(end) = table.as_of {
                row_for(&mut rows, end);
            }
        }
        StatisticsReport {
            as_of,
            municipality,
            viborg: self.viborg(municipality, as_of),
            handover: self.handover(municipality, as_of),
            viborg_by_month,
            months: rows.into_values().collect(),
        }
    }
}
