//! The age-milestone scheduler: `TurnedEighteen` and ageing out of the band.
//!
//! `tick(as_of)` finds every open case whose 18th birthday or band end has passed by
//! `as_of` and records it, dated on the birthday itself. Each milestone has a command id
//! derived from the young person's id, so a tick that runs twice, or two ticks that run
//! at once, record it once. A restart after downtime catches up on its first tick.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use kui_domain::values::{birthday_at, AgeBand};
use kui_domain::{CaseCommand, Event, MunicipalityCode, Rejection, YouthId};
use uuid::Uuid;

use crate::actor::Actor;
use crate::engine::{decode, Command, CommandContext, Engine};
use crate::error::EngineError;

const MILESTONE_NAMESPACE: Uuid = Uuid::from_u128(0x6b75_692d_6d69_6c65_7374_6f6e_6573_0001);

/// What a tick recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TickReport {
    /// `TurnedEighteen` recorded now.
    pub turned_eighteen: u32,
    /// `AgedOut` recorded now.
    pub aged_out: u32,
    /// Milestones that were due but already recorded (an earlier or concurrent tick).
    pub already_recorded: u32,
    /// Open cases looked at.
    pub open_cases: u32,
}

#[derive(Debug, Clone, Copy)]
struct Milestones {
    birth: NaiveDate,
    municipality: MunicipalityCode,
    first_referred: NaiveDate,
    open: bool,
    eighteen_recorded: bool,
}

/// The command id of a milestone: the same young person and milestone always give the same id.
pub fn milestone_command_id(youth: YouthId, milestone: &str) -> Uuid {
    Uuid::new_v5(&MILESTONE_NAMESPACE, format!("{milestone}:{youth}").as_bytes())
}

impl Engine {
    /// Records every age milestone due by `as_of`. `as_of` may not lie after the clock's today.
    pub fn tick(&self, as_of: NaiveDate, progress: &mut dyn FnMut(u64)) -> Result<TickReport, EngineError> {
        self.not_after_today(as_of, "tick")?;
        let (cases, bands) = self.milestone_index(progress)?;
        let mut report = TickReport::default();
        let mut due: Vec<(NaiveDate, YouthId, &'static str, CaseCommand)> = Vec::new();
        for (id, case) in &cases {
            if !case.open {
                continue;
            }
            report.open_cases += 1;
            let eighteen = birthday_at(case.birth, 18);
            if !case.eighteen_recorded && eighteen <= as_of && case.first_referred <= eighteen {
                due.push((eighteen, *id, "turned-eighteen", CaseCommand::MarkEighteen));
            }
            let band = bands
                .get(&case.municipality)
                .copied()
                .unwrap_or(AgeBand { from: 15, until: 25 });
            let band_end = birthday_at(case.birth, u32::from(band.until));
            if band_end <= as_of {
                due.push((band_end, *id, "aged-out", CaseCommand::MarkAgedOut { band }));
            }
        }
        // Oldest first, so a long outage is caught up in the order things happened.
        due.sort_by_key(|(day, id, milestone, _)| (*day, *milestone != "turned-eighteen", *id));
        let context = CommandContext::by(Actor::system());
        for (day, id, milestone, command) in due {
            let context = context.clone().with_command_id(milestone_command_id(id, milestone));
            let business_time = milestone_time(day);
            match self.execute_at(Command::Youth(id, command.into()), &context, business_time) {
                Ok(executed) if executed.replayed => report.already_recorded += 1,
                Ok(_) if milestone == "turned-eighteen" => report.turned_eighteen += 1,
                Ok(_) => report.aged_out += 1,
                Err(EngineError::Rejected(
                    Rejection::AlreadyEighteen | Rejection::CaseClosed | Rejection::NoChange { .. },
                )) => report.already_recorded += 1,
                Err(error) => return Err(error),
            }
        }
        Ok(report)
    }

    /// One pass over the log collecting birth dates, open cases and age bands.
    #[allow(clippy::type_complexity)]
    fn milestone_index(
        &self,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(HashMap<YouthId, Milestones>, HashMap<MunicipalityCode, AgeBand>), EngineError> {
        let mut cases: HashMap<YouthId, Milestones> = HashMap::new();
        let mut bands: HashMap<MunicipalityCode, AgeBand> = HashMap::new();
        let mut visited = 0u64;
        self.scan_log(1, &mut |envelope| {
            visited += 1;
            if visited.is_multiple_of(16_384) {
                progress(envelope.position.0);
            }
            if !matches!(
                envelope.event_type.as_str(),
                "YouthReferred" | "TurnedEighteen" | "CaseClosed" | "MunicipalityConfigured"
            ) {
                return Ok(());
            }
            match decode(envelope)? {
                Event::YouthReferred(e) => {
                    let entry = cases.entry(e.youth_id).or_insert(Milestones {
                        birth: e.birth_date,
                        municipality: e.municipality,
                        first_referred: e.referred_on,
                        open: true,
                        eighteen_recorded: false,
                    });
                    entry.open = true;
                    entry.municipality = e.municipality;
                }
                Event::TurnedEighteen(e) => {
                    if let Some(entry) = cases.get_mut(&e.youth_id) {
                        entry.eighteen_recorded = true;
                    }
                }
                Event::CaseClosed(e) => {
                    if let Some(entry) = cases.get_mut(&e.youth_id) {
                        entry.open = false;
                    }
                }
                Event::MunicipalityConfigured(e) => {
                    bands.insert(e.municipality, e.age_band);
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok((cases, bands))
    }
}

/// Milestones are dated early on the day they fall due.
fn milestone_time(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or_default()
}
