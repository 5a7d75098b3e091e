//! The pure domain of kui, the coordination engine for the municipal youth effort (KUI).
//!
//! Synchronous, no IO: ids and value types, the event catalogue, commands, and the
//! aggregates that decide on commands and fold events. Everything here can be tested
//! with plain values and an injected time.
//!
//! Layout:
//! - `ids`: `YouthId`, `MeetingId`, `StaffId`, `MunicipalityCode` and their stream names.
//! - `cpr`: the CPR number and the birth date it encodes.
//! - `values`: need levels, departments, teams, plans, forums, ages and birthdays.
//! - `event`: the event catalogue with stored names, schema versions and decoding.
//! - `upcast`: old schema versions to current ones, at read time.
//! - `aggregate`: the `Aggregate` contract (`decide`, `apply`).
//! - `youth`, `meeting`, `staff`: the aggregates `Youth`, `Meeting`, `Staff`, `Municipality`.
//! - `error`: `InvalidInput`, `Rejection` (business rules) and `DecodeError`.
//! - `testing` (feature `testing`): given/when/then scenarios for aggregates.
#![warn(missing_docs)]

pub mod aggregate;
pub mod cpr;
pub mod error;
pub mod event;
pub mod ids;
pub mod meeting;
pub mod personal;
pub mod staff;
pub mod upcast;
pub mod values;
pub mod youth;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use aggregate::Aggregate;
pub use cpr::Cpr;
pub use error::{DecodeError, InvalidInput, Rejection};
pub use event::Event;
pub use ids::{MeetingId, MunicipalityCode, StaffId, YouthId};
pub use meeting::{Decision, Meeting, MeetingCommand};
pub use staff::{Municipality, MunicipalityCommand, Staff, StaffCommand};
pub use youth::{CaseCommand, CoordinatorChoice, Referral, Youth, YouthCommand, YouthInput};
