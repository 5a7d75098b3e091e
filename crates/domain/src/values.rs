//! Value types of the youth effort: need levels, departments, teams, plans, forums.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;
use crate::ids::StaffId;

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and printed name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = InvalidInput;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(wanted))
                    .ok_or_else(|| {
                        let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                        InvalidInput::new($field, format!("{s:?} is not one of {}", names.join(", ")))
                    })
            }
        }
    };
}

string_enum!(
    /// How much help a young person needs.
    NeedLevel, "need level" {
        /// No need beyond ordinary guidance.
        A = "A",
        /// Single-discipline effort: one UU counsellor or one job adviser.
        B = "B",
        /// Multi-discipline effort: the teams' target group.
        C = "C",
    }
);

string_enum!(
    /// The municipal departments that take part in the youth effort.
    Department, "department" {
        /// Youth education guidance (Ungdommens Uddannelsesvejledning).
        Uu = "uu",
        /// The job centre.
        JobCentre = "job_centre",
        /// Children and family services.
        ChildrenAndFamily = "children_and_family",
        /// Adult disability and psychiatry.
        AdultDisability = "adult_disability",
        /// Educational psychology (PPR).
        Ppr = "ppr",
        /// Health, school nurse.
        Health = "health",
        /// Substance abuse treatment.
        SubstanceAbuse = "substance_abuse",
        /// The youth school.
        YouthSchool = "youth_school",
        /// Any other unit.
        Other = "other",
    }
);

impl Department {
    /// Departments that own a case on the adult side (after 18).
    pub fn is_adult_side(self) -> bool {
        matches!(self, Department::JobCentre | Department::AdultDisability)
    }
}

string_enum!(
    /// The plan every young person in the effort has: one plan, two names by age.
    PlanKind, "plan kind" {
        /// The education plan (uddannelsesplan), under 18.
        EducationPlan = "education_plan",
        /// The job centre's plan (Min Plan), 18 and over, with the education plan inside.
        JobPlan = "job_plan",
    }
);

string_enum!(
    /// Where a young person is in the education system.
    SchoolStatus, "school status" {
        /// In primary school (up to grade 9 or 10).
        PrimarySchool = "primary_school",
        /// Enrolled in a youth education (upper secondary, vocational, FGU, STU).
        InEducation = "in_education",
        /// At risk of dropping out, as reported by the institution.
        AtRisk = "at_risk",
        /// Dropped out of education.
        DroppedOut = "dropped_out",
        /// Completed a youth education.
        Completed = "completed",
        /// Working at least 18 hours a week.
        Working = "working",
        /// Neither in education nor working.
        Inactive = "inactive",
    }
);

string_enum!(
    /// The three Sønderborg teams.
    Team, "team" {
        /// Pupils in primary school.
        Team1 = "team_1",
        /// Out of primary school and under 18.
        Team2 = "team_2",
        /// 18 and over.
        Team3 = "team_3",
    }
);

impl Team {
    /// The team that fits a young person of this age and school status.
    pub fn for_youth(age: u32, school: SchoolStatus) -> Team {
        if age >= 18 {
            Team::Team3
        } else if school == SchoolStatus::PrimarySchool {
            Team::Team1
        } else {
            Team::Team2
        }
    }
}

string_enum!(
    /// Why a young person is in a team.
    TeamReason, "team reason" {
        /// Follows from age.
        Age = "age",
        /// Follows from school status.
        SchoolStatus = "school_status",
        /// Decided explicitly by a team or meeting.
        Explicit = "explicit",
    }
);

string_enum!(
    /// The forums that coordinate cases.
    Forum, "forum" {
        /// Team 1 meeting.
        Team1 = "team_1",
        /// Team 2 meeting.
        Team2 = "team_2",
        /// Team 3 meeting.
        Team3 = "team_3",
        /// Viborg's K-meeting.
        KMeeting = "k_meeting",
        /// Hjørring's youth coordination meeting.
        YouthCoordination = "youth_coordination",
    }
);

string_enum!(
    /// Where a young person ended up.
    Destination, "destination" {
        /// Enrolled in a youth education.
        Education = "education",
        /// In ordinary work.
        Work = "work",
        /// Work combined with education (EGU, apprenticeship).
        WorkAndEducation = "work_and_education",
        /// Preparatory basic education (FGU).
        Preparatory = "preparatory",
        /// Special-needs youth education (STU).
        SpecialNeedsEducation = "special_needs_education",
        /// Moved out of the municipality.
        MovedAway = "moved_away",
        /// No positive destination.
        None = "none",
    }
);

impl Destination {
    /// A positive destination: in education or work.
    pub fn is_positive(self) -> bool {
        !matches!(self, Destination::MovedAway | Destination::None)
    }
}

string_enum!(
    /// Why a case was closed.
    CloseReason, "close reason" {
        /// Reached a positive destination.
        PositiveDestination = "positive_destination",
        /// No longer needs the effort.
        NoLongerNeeded = "no_longer_needed",
        /// Moved out of the municipality.
        MovedAway = "moved_away",
        /// Passed the municipality's age band.
        AgedOut = "aged_out",
        /// Declined every effort.
        Declined = "declined",
        /// Other reason, see note.
        Other = "other",
    }
);

string_enum!(
    /// Why a coordinator stopped.
    ReleaseReason, "release reason" {
        /// The coordinator course was completed.
        Completed = "completed",
        /// Handed over to another coordinator (e.g. at 18).
        HandedOver = "handed_over",
        /// The young person withdrew from the scheme.
        Withdrawn = "withdrawn",
        /// The case was closed.
        CaseClosed = "case_closed",
    }
);

string_enum!(
    /// Indicators used to find the target group (Aalborg's list).
    Indicator, "indicator" {
        /// School absence over 20 % in a school year.
        HighAbsence = "high_absence",
        /// Worrying absence: 5 days in a row, 7 of 20 or 15 of 60 school days.
        WorryingAbsence = "worrying_absence",
        /// Assessed not education-ready in grades 8-10.
        NotEducationReady = "not_education_ready",
        /// Has a case in family services.
        FamilyServicesCase = "family_services_case",
        /// Neither in nor finished with a youth education.
        OutsideEducation = "outside_education",
        /// In education but needing support.
        NeedsSupportInEducation = "needs_support_in_education",
        /// Dropped out of a youth education.
        DroppedOut = "dropped_out",
    }
);

string_enum!(
    /// The state of one action in the plan.
    ActionStatus, "action status" {
        /// Agreed, not started.
        Planned = "planned",
        /// Under way.
        Active = "active",
        /// Done.
        Done = "done",
        /// Stopped before it was done.
        Cancelled = "cancelled",
    }
);

string_enum!(
    /// Who gave or withdrew consent.
    ConsentGiver, "consent giver" {
        /// The young person.
        Youth = "youth",
        /// A parent or guardian (under 18).
        Guardian = "guardian",
    }
);

/// The age band a municipality covers: ages `from` up to but not including `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AgeBand {
    /// Lowest age covered (13 in Aalborg, 15 in most places).
    pub from: u8,
    /// First age no longer covered (25 by law, 30 in many municipalities).
    pub until: u8,
}

impl AgeBand {
    /// Validates a band: 10 <= from < until <= 35.
    pub fn new(from: u8, until: u8) -> Result<Self, InvalidInput> {
        if from < 10 || until > 35 || from >= until {
            return Err(InvalidInput::new(
                "age band",
                format!("{from}-{until} must satisfy 10 <= from < until <= 35"),
            ));
        }
        Ok(Self { from, until })
    }

    /// Whether a young person of this age is covered.
    pub fn covers(self, age: u32) -> bool {
        age >= u32::from(self.from) && age < u32::from(self.until)
    }
}

/// One action of the plan: what, which department, who, by when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanAction {
    /// What is to be done.
    #[serde(default)]
    pub description: String,
    /// The department that delivers it.
    pub department: Department,
    /// The staff member responsible, if one is named.
    pub responsible: Option<StaffId>,
    /// When it should be done.
    pub due: Option<NaiveDate>,
    /// Where it stands.
    pub status: ActionStatus,
}

/// The whole plan: overall goals and the actions from each department.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    /// Overall goals for education or work.
    #[serde(default)]
    pub goals: Vec<String>,
    /// Sub-actions from the departments.
    pub actions: Vec<PlanAction>,
}

impl Plan {
    /// Checks that the plan says something and that every line is filled in.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        if self.goals.is_empty() {
            return Err(InvalidInput::new("plan", "a plan needs at least one goal"));
        }
        if self.goals.iter().any(|g| g.trim().is_empty()) {
            return Err(InvalidInput::new("plan", "a goal cannot be empty"));
        }
        if self.actions.iter().any(|a| a.description.trim().is_empty()) {
            return Err(InvalidInput::new("plan", "an action needs a description"));
        }
        Ok(())
    }
}

/// Who does what, as agreed at a meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DecisionAction {
    /// What is to be done.
    #[serde(default)]
    pub what: String,
    /// The department that does it.
    pub department: Department,
    /// The named person, if any.
    pub who: Option<StaffId>,
    /// By when.
    pub due: Option<NaiveDate>,
}

/// The age in whole years on `on` of a person born on `birth`.
///
/// A person born on 29 February has their birthday on 1 March in common years, the
/// rule Danish law applies to reaching an age.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    use chrono::Datelike;
    if on < birth {
        return 0;
    }
    let mut years = on.year() - birth.year();
    if birthday_in_year(birth, on.year()) > on {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

/// The day a person born on `birth` reaches `age`.
pub fn birthday_at(birth: NaiveDate, age: u32) -> NaiveDate {
    use chrono::Datelike;
    let year = birth.year().saturating_add(i32::try_from(age).unwrap_or(i32::MAX / 2));
    birthday_in_year(birth, year)
}

fn birthday_in_year(birth: NaiveDate, year: i32) -> NaiveDate {
    use chrono::Datelike;
    NaiveDate::from_ymd_opt(year, birth.month(), birth.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
        .unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn age_counts_whole_years() {
        let birth = date(2008, 6, 15);
        assert_eq!(age_on(birth, date(2026, 6, 14)), 17);
        assert_eq!(age_on(birth, date(2026, 6, 15)), 18);
        assert_eq!(birthday_at(birth, 18), date(2026, 6, 15));
    }

    #[test]
    fn leap_day_birthday_falls_on_first_of_march() {
        let birth = date(2008, 2, 29);
        assert_eq!(birthday_at(birth, 18), date(2026, 3, 1));
        assert_eq!(age_on(birth, date(2026, 2, 28)), 17);
        assert_eq!(age_on(birth, date(2026, 3, 1)), 18);
        assert_eq!(birthday_at(birth, 16), date(2024, 2, 29));
    }

    #[test]
    fn team_follows_age_and_school() {
        assert_eq!(Team::for_youth(15, SchoolStatus::PrimarySchool), Team::Team1);
        assert_eq!(Team::for_youth(16, SchoolStatus::InEducation), Team::Team2);
        assert_eq!(Team::for_youth(18, SchoolStatus::PrimarySchool), Team::Team3);
    }

    #[test]
    fn enums_parse_case_insensitively_and_list_choices() {
        assert_eq!("JOB_CENTRE".parse::<Department>(), Ok(Department::JobCentre));
        let err = "jobcentre"
            .parse::<Department>()
            .err()
            .map(|e| e.reason)
            .unwrap_or_default();
        assert!(err.contains("job_centre"), "{err}");
    }

    #[test]
    fn age_band_is_validated() {
        assert!(AgeBand::new(15, 25).is_ok_and(|b| b.covers(24) && !b.covers(25)));
        assert!(AgeBand::new(25, 15).is_err());
    }
}
