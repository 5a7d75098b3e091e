//! Where each young person's events outside their own stream are: the meetings that
//! tabled and decided their case (and were held, evaluated or cancelled), and staff
//! departures of their coordinator or coordinating caseworker.
//!
//! A young person's full timeline is their own stream plus these positions, read from the
//! log in position order (see `kui_engine`'s history).

use kui_domain::{Event, MeetingId, StaffId, YouthId};
use serde::{Deserialize, Serialize};

use crate::fact::{Fact, Stamp};
use crate::models::{FastMap, Projector};

/// Positions of related events, by young person.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Positions outside the young person's stream that concern them, ascending.
    pub related: FastMap<YouthId, Vec<u64>>,
    /// The young people on each meeting's agenda.
    pub agendas: FastMap<MeetingId, Vec<YouthId>>,
    /// Each young person's current coordinator and coordinating caseworker.
    pub owners: FastMap<YouthId, [Option<StaffId>; 2]>,
}

impl Projector for Timeline {
    const NAME: &'static str = "timeline";
    const VERSION: u32 = 1;

    fn apply(&mut self, stamp: Stamp, fact: &Fact) {
        let Fact::Event(event) = fact else { return };
        let position = stamp.position;
        match event {
            Event::CaseTabled(e) => {
                let agenda = self.agendas.entry(e.meeting_id).or_default();
                if !agenda.contains(&e.youth_id) {
                    agenda.push(e.youth_id);
                }
                self.relate(e.youth_id, position);
            }
            Event::DecisionRecorded(e) => self.relate(e.youth_id, position),
            Event::MeetingHeld(e) => self.relate_agenda(e.meeting_id, position),
            Event::MeetingEvaluated(e) => self.relate_agenda(e.meeting_id, position),
            Event::MeetingCancelled(e) => self.relate_agenda(e.meeting_id, position),
            Event::CoordinatorAssigned(e) => self.owners.entry(e.youth_id).or_default()[0] = Some(e.coordinator),
            Event::CoordinatorReleased(e) => self.owners.entry(e.youth_id).or_default()[0] = None,
            Event::CoordinatingCaseworkerAssigned(e) => {
                self.owners.entry(e.youth_id).or_default()[1] = Some(e.caseworker);
            }
            Event::StaffDeparted(e) => {
                let mut touched: Vec<YouthId> = self
                    .owners
                    .iter()
                    .filter(|(_, owners)| owners.contains(&Some(e.staff_id)))
                    .map(|(&youth, _)| youth)
                    .collect();
                touched.sort();
                for youth in touched {
                    self.relate(youth, position);
                }
            }
            _ => {}
        }
    }
}

impl Timeline {
    fn relate(&mut self, youth: YouthId, position: u64) {
        let positions = self.related.entry(youth).or_default();
        if positions.last() != Some(&position) {
            positions.push(position);
        }
    }

    fn relate_agenda(&mut self, meeting: MeetingId, position: u64) {
        let youth: Vec<YouthId> = self.agendas.get(&meeting).cloned().unwrap_or_default();
        for id in youth {
            self.relate(id, position);
        }
    }

    /// The positions outside `youth`'s own stream that concern them, ascending.
    pub fn related(&self, youth: YouthId) -> &[u64] {
        self.related.get(&youth).map_or(&[], Vec::as_slice)
    }
}
