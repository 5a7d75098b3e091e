//! Staff and municipal settings: the reference data the other read models join at query time.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kui_domain::event::{AlarmSettings, MunicipalityConfigured, TeamCadence};
use kui_domain::values::{AgeBand, Department};
use kui_domain::{Event, MunicipalityCode, StaffId};
use serde::{Deserialize, Serialize};

use crate::fact::{Fact, Stamp};
use crate::models::{FastMap, Projector};

/// Coordinator capacity when neither the staff member nor the municipality set one
/// (Aalborg's estimate of about 25 young people per contact person).
pub const DEFAULT_CAPACITY: u16 = 25;

/// One staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffRow {
    /// Full name.
    pub name: String,
    /// Department.
    pub department: Department,
    /// Municipality.
    pub municipality: MunicipalityCode,
    /// How many young people they can coordinate.
    pub capacity: u16,
    /// Their last day, once they left.
    pub departed_on: Option<NaiveDate>,
}

/// Staff members and municipal settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Directory {
    /// Every staff member ever registered.
    pub staff: FastMap<StaffId, StaffRow>,
    /// Each municipality's latest settings, by code.
    pub municipalities: BTreeMap<u16, MunicipalityConfigured>,
}

impl Projector for Directory {
    const NAME: &'static str = "directory";
    const VERSION: u32 = 2;

    fn apply(&mut self, _stamp: Stamp, fact: &Fact) {
        let Fact::Event(event) = fact else { return };
        match event {
            Event::StaffRegistered(e) => {
                self.staff.insert(
                    e.staff_id,
                    StaffRow {
                        name: e.name.clone(),
                        department: e.department,
                        municipality: e.municipality,
                        capacity: e.capacity,
                        departed_on: None,
                    },
                );
            }
            Event::StaffCapacityChanged(e) => {
                if let Some(row) = self.staff.get_mut(&e.staff_id) {
                    row.capacity = e.capacity;
                }
            }
            Event::StaffDeparted(e) => {
                if let Some(row) = self.staff.get_mut(&e.staff_id) {
                    row.departed_on = Some(e.on);
                }
            }
            Event::MunicipalityConfigured(e) => {
                self.municipalities.insert(e.municipality.get(), e.clone());
            }
            _ => {}
        }
    }
}

impl Directory {
    /// A staff member's name, or the short id when unknown.
    pub fn staff_name(&self, staff: StaffId) -> String {
        self.staff
            .get(&staff)
            .map_or_else(|| staff.to_string(), |row| row.name.clone())
    }

    /// A staff member's department, when registered.
    pub fn department_of(&self, staff: StaffId) -> Option<Department> {
        self.staff.get(&staff).map(|row| row.department)
    }

    /// A municipality's settings.
    pub fn municipality(&self, code: MunicipalityCode) -> Option<&MunicipalityConfigured> {
        self.municipalities.get(&code.get())
    }

    /// What a municipality shows analysts (the defaults when it is not configured).
    pub fn privacy(&self, code: MunicipalityCode) -> kui_domain::event::PrivacySettings {
        self.municipality(code).map(|m| m.privacy).unwrap_or_default()
    }

    /// The smallest cell shown to analysts across `code`, or across every municipality
    /// (the largest of their settings) when `code` is `None`.
    pub fn min_cell(&self, code: Option<MunicipalityCode>) -> u16 {
        match code {
            Some(code) => self.privacy(code).min_cell,
            None => self
                .municipalities
                .values()
                .map(|m| m.privacy.min_cell)
                .max()
                .unwrap_or(kui_domain::event::PrivacySettings::default().min_cell),
        }
    }

    /// Alarm thresholds of a municipality (the usual ones when it is not configured).
    pub fn alarm_settings(&self, code: MunicipalityCode) -> AlarmSettings {
        self.municipality(code).map_or(AlarmSettings::USUAL, |m| m.alarms)
    }

    /// Team cadence of a municipality (the usual one when it is not configured).
    pub fn cadence(&self, code: MunicipalityCode) -> TeamCadence {
        self.municipality(code).map_or(TeamCadence::USUAL, |m| m.cadence)
    }

    /// The age band of a municipality, when configured.
    pub fn age_band(&self, code: MunicipalityCode) -> Option<AgeBand> {
        self.municipality(code).map(|m| m.age_band)
    }

    /// How many young people `staff` can coordinate: their own setting, else their
    /// municipality's default, else [`DEFAULT_CAPACITY`].
    pub fn capacity_of(&self, staff: StaffId) -> u16 {
        match self.staff.get(&staff) {
            Some(row) if row.capacity > 0 => row.capacity,
            Some(row) => self
                .municipality(row.municipality)
                .map_or(DEFAULT_CAPACITY, |m| m.coordinator_capacity),
            None => DEFAULT_CAPACITY,
        }
    }
}
