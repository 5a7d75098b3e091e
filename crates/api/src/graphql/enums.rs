//! GraphQL enums mirroring the domain's value types (converted both ways with `From`).

macro_rules! mirror {
    ($(#[$doc:meta])* $name:ident => $remote:literal { $($(#[$vdoc:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
        #[graphql(remote = $remote)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }
    };
}

mirror!(
    /// How much help a young person needs: A none, B single-discipline, C multi-discipline.
    NeedLevel => "kui_domain::values::NeedLevel" {
        /// No need beyond ordinary guidance.
        A,
        /// One UU counsellor or one job adviser.
        B,
        /// Several departments: the teams' target group.
        C,
    }
);

mirror!(
    /// A municipal department taking part in the youth effort.
    Department => "kui_domain::values::Department" {
        /// Youth education guidance.
        Uu,
        /// The job centre.
        JobCentre,
        /// Children and family services.
        ChildrenAndFamily,
        /// Adult disability and psychiatry.
        AdultDisability,
        /// Educational psychology (PPR).
        Ppr,
        /// Health, school nurse.
        Health,
        /// Substance abuse treatment.
        SubstanceAbuse,
        /// The youth school.
        YouthSchool,
        /// Any other unit.
        Other,
    }
);

mirror!(
    /// The plan's name by age: education plan under 18, job plan from 18.
    PlanKind => "kui_domain::values::PlanKind" {
        /// The education plan (uddannelsesplan), under 18.
        EducationPlan,
        /// The job centre's plan (Min Plan), 18 and over.
        JobPlan,
    }
);

mirror!(
    /// Where a young person is in the education system.
    SchoolStatus => "kui_domain::values::SchoolStatus" {
        /// In primary school.
        PrimarySchool,
        /// Enrolled in a youth education.
        InEducation,
        /// At risk of dropping out.
        AtRisk,
        /// Dropped out.
        DroppedOut,
        /// Completed a youth education.
        Completed,
        /// Working at least 18 hours a week.
        Working,
        /// Neither in education nor working.
        Inactive,
    }
);

mirror!(
    /// The three teams.
    Team => "kui_domain::values::Team" {
        /// Pupils in primary school.
        Team1,
        /// Out of primary school and under 18.
        Team2,
        /// 18 and over.
        Team3,
    }
);

mirror!(
    /// The forums that coordinate cases.
    Forum => "kui_domain::values::Forum" {
        /// Team 1 meeting.
        Team1,
        /// Team 2 meeting.
        Team2,
        /// Team 3 meeting.
        Team3,
        /// The K-meeting.
        KMeeting,
        /// The youth coordination meeting.
        YouthCoordination,
    }
);

mirror!(
    /// Where a young person ended up.
    Destination => "kui_domain::values::Destination" {
        /// A youth education.
        Education,
        /// Ordinary work.
        Work,
        /// Work combined with education.
        WorkAndEducation,
        /// Preparatory basic education (FGU).
        Preparatory,
        /// Special-needs youth education (STU).
        SpecialNeedsEducation,
        /// Moved out of the municipality.
        MovedAway,
        /// No positive destination.
        None,
    }
);

mirror!(
    /// Why a case was closed.
    CloseReason => "kui_domain::values::CloseReason" {
        /// Reached a positive destination.
        PositiveDestination,
        /// No longer needs the effort.
        NoLongerNeeded,
        /// Moved out of the municipality.
        MovedAway,
        /// Passed the municipality's age band.
        AgedOut,
        /// Declined every effort.
        Declined,
        /// Other reason, see the note.
        Other,
    }
);

mirror!(
    /// Why a coordinator stopped.
    ReleaseReason => "kui_domain::values::ReleaseReason" {
        /// The course was completed.
        Completed,
        /// Handed over to another coordinator.
        HandedOver,
        /// The young person withdrew.
        Withdrawn,
        /// The case was closed.
        CaseClosed,
    }
);

mirror!(
    /// Indicators behind a referral.
    Indicator => "kui_domain::values::Indicator" {
        /// School absence over 20 %.
        HighAbsence,
        /// Worrying absence.
        WorryingAbsence,
        /// Assessed not education-ready.
        NotEducationReady,
        /// Has a case in family services.
        FamilyServicesCase,
        /// Neither in nor finished with a youth education.
        OutsideEducation,
        /// In education but needing support.
        NeedsSupportInEducation,
        /// Dropped out of a youth education.
        DroppedOut,
    }
);

mirror!(
    /// The state of one plan action.
    ActionStatus => "kui_domain::values::ActionStatus" {
        /// Agreed, not started.
        Planned,
        /// Under way.
        Active,
        /// Done.
        Done,
        /// Stopped before it was done.
        Cancelled,
    }
);

mirror!(
    /// Who gave, withdrew or declined.
    ConsentGiver => "kui_domain::values::ConsentGiver" {
        /// The young person.
        Youth,
        /// A parent or guardian (under 18 only).
        Guardian,
    }
);

/// Where a case stands.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseStatus {
    /// Open.
    Open,
    /// Closed; a new referral re-opens it.
    Closed,
}

/// Where the coordinator scheme stands for a young person.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoordinatorStatus {
    /// Nothing offered or decided.
    None,
    /// Offered, awaiting the young person's answer.
    Offered,
    /// A coordinator is assigned.
    Assigned,
    /// Declined by the young person.
    Declined,
    /// Judged not relevant.
    NotRelevant,
    /// Released.
    Released,
}

/// Where a meeting stands.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeetingStatus {
    /// Scheduled, not yet held.
    Scheduled,
    /// Held.
    Held,
    /// Cancelled.
    Cancelled,
}
