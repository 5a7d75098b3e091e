//! The `Staff` and `Municipality` aggregates.

use chrono::{DateTime, NaiveDate, Utc};

use crate::aggregate::Aggregate;
use crate::error::{InvalidInput, Rejection};
use crate::event::*;
use crate::ids::{MunicipalityCode, StaffId};
use crate::values::{AgeBand, Department};

/// What can be asked of a staff member's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffCommand {
    /// Register.
    Register {
        /// Id.
        staff_id: StaffId,
        /// Name.
        name: String,
        /// Department.
        department: Department,
        /// Municipality.
        municipality: MunicipalityCode,
        /// Coordinator capacity.
        capacity: u16,
    },
    /// Change capacity.
    ChangeCapacity {
        /// New capacity.
        capacity: u16,
    },
    /// Record that the staff member left.
    Depart {
        /// Last day.
        on: NaiveDate,
    },
}

/// A staff member, folded from the `staff-<id>` stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Staff {
    /// Id.
    pub id: Option<StaffId>,
    /// Name.
    pub name: String,
    /// Department.
    pub department: Option<Department>,
    /// Municipality.
    pub municipality: Option<MunicipalityCode>,
    /// Capacity.
    pub capacity: u16,
    /// Left.
    pub departed: bool,
}

impl Staff {
    /// Registered and still employed.
    pub fn is_active(&self) -> bool {
        self.id.is_some() && !self.departed
    }
}

const MAX_CAPACITY: u16 = 200;

impl Aggregate for Staff {
    type Command = StaffCommand;

    fn decide(&self, command: StaffCommand, _now: DateTime<Utc>) -> Result<Vec<Event>, Rejection> {
        let check_capacity = |capacity: u16| {
            if capacity > MAX_CAPACITY {
                Err(InvalidInput::new(
                    "capacity",
                    format!("at most {MAX_CAPACITY} young people per staff member"),
                ))
            } else {
                Ok(())
            }
        };
        match command {
            StaffCommand::Register {
                staff_id,
                name,
                department,
                municipality,
                capacity,
            } => {
                if self.id.is_some() {
                    return Err(Rejection::AlreadyExists {
                        what: format!("staff member {staff_id}"),
                    });
                }
                if name.trim().is_empty() {
                    return Err(InvalidInput::new("name", "cannot be empty").into());
                }
                check_capacity(capacity)?;
                Ok(vec![StaffRegistered {
                    staff_id,
                    name: name.trim().to_owned(),
                    department,
                    municipality,
                    capacity,
                }
                .into()])
            }
            StaffCommand::ChangeCapacity { capacity } => {
                let staff_id = self.active_id()?;
                check_capacity(capacity)?;
                if capacity == self.capacity {
                    return Err(Rejection::NoChange {
                        what: "the capacity is already that",
                    });
                }
                Ok(vec![StaffCapacityChanged { staff_id, capacity }.into()])
            }
            StaffCommand::Depart { on } => {
                let staff_id = self.active_id()?;
                Ok(vec![StaffDeparted { staff_id, on }.into()])
            }
        }
    }

    fn apply(&mut self, event: &Event) {
        match event {
            Event::StaffRegistered(e) => {
                self.id = Some(e.staff_id);
                self.name.clone_from(&e.name);
                self.department = Some(e.department);
                self.municipality = Some(e.municipality);
                self.capacity = e.capacity;
            }
            Event::StaffCapacityChanged(e) => self.capacity = e.capacity,
            Event::StaffDeparted(_) => self.departed = true,
            _ => {}
        }
    }
}

impl Staff {
    fn active_id(&self) -> Result<StaffId, Rejection> {
        match self.id {
            None => Err(Rejection::NotFound {
                what: "staff member".into(),
            }),
            Some(id) if self.departed => Err(Rejection::StaffInactive { staff: id.to_string() }),
            Some(id) => Ok(id),
        }
    }
}

/// Configure (or re-configure) a municipality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MunicipalityCommand(pub MunicipalityConfigured);

/// A municipality's settings, folded from the `municipality-<code>` stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Municipality {
    /// The current settings.
    pub settings: Option<MunicipalityConfigured>,
}

impl Municipality {
    /// The age band, or the law's default (15 to under 25) for an unconfigured municipality.
    pub fn age_band(&self) -> AgeBand {
        self.settings
            .as_ref()
            .map(|s| s.age_band)
            .unwrap_or(AgeBand { from: 15, until: 25 })
    }
}

impl Aggregate for Municipality {
    type Command = MunicipalityCommand;

    fn decide(&self, command: MunicipalityCommand, _now: DateTime<Utc>) -> Result<Vec<Event>, Rejection> {
        let MunicipalityCommand(settings) = command;
        AgeBand::new(settings.age_band.from, settings.age_band.until)?;
        if settings.name.trim().is_empty() {
            return Err(InvalidInput::new("name", "cannot be empty").into());
        }
        let cadence = settings.cadence;
        if [cadence.team_1_days, cadence.team_2_days, cadence.team_3_days]
            .iter()
            .any(|d| !(1..=90).contains(d))
        {
            return Err(InvalidInput::new("cadence", "teams meet every 1 to 90 days").into());
        }
        if settings.coordinator_capacity == 0 || settings.coordinator_capacity > MAX_CAPACITY {
            return Err(InvalidInput::new("coordinator_capacity", format!("from 1 to {MAX_CAPACITY}")).into());
        }
        if let Some(current) = &self.settings {
            if current.municipality != settings.municipality {
                return Err(InvalidInput::new("municipality", "a municipality's code cannot change").into());
            }
            if *current == settings {
                return Err(Rejection::NoChange {
                    what: "the settings are unchanged",
                });
            }
        }
        Ok(vec![settings.into()])
    }

    fn apply(&mut self, event: &Event) {
        if let Event::MunicipalityConfigured(e) = event {
            self.settings = Some(e.clone());
        }
    }
}
