//! The `Youth` aggregate: one young person's case.

use chrono::{DateTime, NaiveDate, Utc};

use crate::aggregate::Aggregate;
use crate::cpr::Cpr;
use crate::error::{InvalidInput, Rejection};
use crate::event::*;
use crate::ids::{MeetingId, MunicipalityCode, StaffId, YouthId};
use crate::values::{
    age_on, birthday_at, AgeBand, CloseReason, ConsentGiver, Department, Destination, Indicator, NeedLevel, Plan,
    PlanKind, ReleaseReason, SchoolStatus, Team, TeamReason,
};

/// Where the case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaseStatus {
    /// Never referred.
    #[default]
    Unknown,
    /// Open.
    Open,
    /// Closed; a new referral re-opens it.
    Closed,
}

/// Where the coordinator scheme stands for this young person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CoordinatorState {
    /// Nothing offered or decided.
    #[default]
    None,
    /// Offered, awaiting the young person's answer.
    Offered,
    /// Assigned to this staff member.
    Assigned(StaffId),
    /// Declined by the young person; a new offer is needed before an assignment.
    Declined,
    /// Judged not relevant by a team.
    NotRelevant,
    /// Released (course completed, handed over, withdrawn).
    Released(ReleaseReason),
}

/// Who chose the coordinator. The young person may decline the scheme but never choose the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoordinatorChoice {
    /// A staff member decided (team lead, municipal youth coordinator).
    Staff(StaffId),
    /// A meeting decided.
    Meeting(MeetingId, StaffId),
    /// The young person named someone: always rejected.
    YoungPerson,
}

/// The facts of a referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    /// CPR number. The young person's id is not derived from it: the engine finds the id
    /// of a young person referred before through a keyed lookup, or gives a new one.
    pub cpr: Cpr,
    /// Full name.
    pub name: String,
    /// The municipality; its age band decides whether the young person can be referred.
    pub municipality: MunicipalityCode,
    /// Who referred.
    pub referred_by: StaffId,
    /// Referrer's department.
    pub department: Department,
    /// Indicators.
    pub indicators: Vec<Indicator>,
    /// School status.
    pub school_status: SchoolStatus,
    /// Free text.
    pub note: String,
}

/// What a caller asks of a young person's case.
///
/// Two commands need a fact that another record holds: the appointments need the
/// department of the staff member appointed. The caller names that record; the engine
/// looks the fact up and hands the command to [`Youth`] as a [`YouthInput`]. Every other
/// command is a [`CaseCommand`] and is decided as it is. A referral is addressed by CPR
/// number, not by id, and is the engine's own command (it finds or gives the id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YouthCommand {
    /// Assign a coordinator.
    AssignCoordinator {
        /// The coordinator; the assignment records their department.
        coordinator: StaffId,
        /// Who chose.
        chosen_by: CoordinatorChoice,
    },
    /// Appoint a coordinating caseworker.
    AssignCoordinatingCaseworker {
        /// The caseworker; the appointment records their department.
        caseworker: StaffId,
        /// The meeting deciding it, if any.
        meeting: Option<MeetingId>,
    },
    /// A command that needs nothing from another record.
    Case(CaseCommand),
}

/// What [`Youth`] decides on: a command together with every fact from another record it
/// needs, so that no command can be decided with a fact missing or made up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YouthInput {
    /// A referral, with the young person's id and the age band of its municipality.
    Refer {
        /// The young person's id: the one they had, or a new one.
        youth_id: YouthId,
        /// The referral.
        referral: Referral,
        /// The municipality's age band, checked against the age on the referral day.
        age_band: AgeBand,
    },
    /// A coordinator's assignment, with their department.
    AssignCoordinator {
        /// The coordinator.
        coordinator: StaffId,
        /// The coordinator's department, as registered.
        department: Department,
        /// Who chose.
        chosen_by: CoordinatorChoice,
    },
    /// A coordinating caseworker's appointment, with their department.
    AssignCoordinatingCaseworker {
        /// The caseworker.
        caseworker: StaffId,
        /// The caseworker's department, as registered.
        department: Department,
        /// The meeting deciding it, if any.
        meeting: Option<MeetingId>,
    },
    /// A command that needs nothing from another record.
    Case(CaseCommand),
    /// Record the erasure of the young person's personal data; the engine destroys the key
    /// once this is in the log. `retention` erasures are refused under a legal hold.
    Erase {
        /// Who: a staff id, or `retention`.
        erased_by: String,
        /// Why.
        reason: String,
        /// Under which authority.
        authority: String,
        /// Every stream holding the young person's sealed data.
        streams: Vec<String>,
    },
}

impl From<CaseCommand> for YouthCommand {
    fn from(command: CaseCommand) -> Self {
        YouthCommand::Case(command)
    }
}

impl From<CaseCommand> for YouthInput {
    fn from(command: CaseCommand) -> Self {
        YouthInput::Case(command)
    }
}

/// A command on a young person's case that [`Youth`] decides from its own history alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseCommand {
    /// Assess the need level.
    AssessNeed {
        /// Level.
        level: NeedLevel,
        /// By.
        assessed_by: StaffId,
        /// Why.
        note: String,
    },
    /// Record an education-readiness assessment.
    AssessReadiness {
        /// Overall.
        education_ready: bool,
        /// Academic.
        academic: bool,
        /// Social.
        social: bool,
        /// Personal.
        personal: bool,
        /// Grade.
        grade: u8,
        /// By.
        assessed_by: StaffId,
    },
    /// Record a change of education status.
    ChangeSchoolStatus {
        /// New status.
        status: SchoolStatus,
        /// When.
        on: NaiveDate,
    },
    /// Record guidance contact.
    RecordContact {
        /// By.
        by: StaffId,
        /// When.
        on: NaiveDate,
        /// Whether an offer was made.
        offer_made: bool,
    },
    /// Record consent.
    GiveConsent {
        /// By.
        given_by: ConsentGiver,
        /// Departments covered.
        departments: Vec<Department>,
    },
    /// Withdraw consent.
    WithdrawConsent {
        /// By.
        withdrawn_by: ConsentGiver,
    },
    /// Offer the coordinator scheme.
    OfferCoordinator {
        /// By.
        offered_by: StaffId,
    },
    /// The young person declines the scheme.
    DeclineCoordinator {
        /// By.
        declined_by: ConsentGiver,
        /// Note.
        note: String,
    },
    /// A team judges the coordinator scheme not relevant.
    JudgeCoordinatorNotRelevant {
        /// By.
        judged_by: StaffId,
        /// Why.
        reason: String,
    },
    /// Release the coordinator.
    ReleaseCoordinator {
        /// Why.
        reason: ReleaseReason,
    },
    /// Place in a team; `None` derives the team from age and school status.
    AssignTeam {
        /// Explicit team.
        team: Option<Team>,
    },
    /// Replace the plan.
    UpdatePlan {
        /// The revision the caller edited; a newer plan rejects the update.
        based_on_revision: Option<u32>,
        /// Kind.
        kind: PlanKind,
        /// The whole plan.
        plan: Plan,
        /// By.
        updated_by: StaffId,
    },
    /// Record the transition form.
    RecordTransitionForm {
        /// Expected weekly hours of support after 18.
        expected_weekly_hours: u16,
        /// By.
        recorded_by: StaffId,
        /// Note.
        note: String,
    },
    /// Record the 18th birthday (the engine's scheduler sends this).
    MarkEighteen,
    /// Record passing the municipality's band (the engine's scheduler sends this).
    MarkAgedOut {
        /// The band.
        band: AgeBand,
    },
    /// Record a destination.
    RecordDestination {
        /// Where.
        destination: Destination,
        /// When.
        on: NaiveDate,
    },
    /// Close the case.
    Close {
        /// Why.
        reason: CloseReason,
        /// Note.
        note: String,
    },
    /// Stop retention erasing the case.
    PlaceLegalHold {
        /// By.
        placed_by: StaffId,
        /// Why (must not name the person).
        reason: String,
    },
    /// Let retention apply again.
    LiftLegalHold {
        /// By.
        lifted_by: StaffId,
        /// Why.
        reason: String,
    },
    /// Decide aftercare (efterværn) until a date between the 18th and the 23rd birthday.
    DecideAftercare {
        /// The last day.
        until: NaiveDate,
        /// Who decides.
        decided_by: StaffId,
    },
    /// End aftercare before its date.
    EndAftercare {
        /// The day it ends.
        on: NaiveDate,
    },
    /// Answer an open alarm (the caller checks that it is open).
    AnswerAlarm {
        /// The alarm's rule.
        rule: String,
        /// The alarm's due date.
        due: NaiveDate,
        /// The answer.
        answer: AlarmAnswer,
        /// Who answers.
        by: StaffId,
    },
}

/// One young person's case, folded from the `youth-<id>` stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Youth {
    /// Id, once referred.
    pub id: Option<YouthId>,
    /// Case status.
    pub status: CaseStatus,
    /// CPR number, when known to whoever folded the case (it is sealed under the young
    /// person's key: a fold without the key, or after erasure, has `None`).
    pub cpr: Option<Cpr>,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// Name (empty where sealed).
    pub name: String,
    /// Municipality.
    pub municipality: Option<MunicipalityCode>,
    /// Need level.
    pub need_level: Option<NeedLevel>,
    /// School status.
    pub school_status: Option<SchoolStatus>,
    /// Team.
    pub team: Option<Team>,
    /// Consent on record.
    pub consent: bool,
    /// The departments the current consent covers (empty without consent).
    pub consent_departments: Vec<Department>,
    /// The indicators of the last referral.
    pub indicators: Vec<Indicator>,
    /// The last referral's note (empty where sealed; "(erased)" once erased).
    pub referral_note: String,
    /// The last need assessment's note.
    pub need_note: String,
    /// Coordinator scheme.
    pub coordinator: CoordinatorState,
    /// Coordinating caseworker.
    pub coordinating_caseworker: Option<StaffId>,
    /// Current plan revision (0 = none).
    pub plan_revision: u32,
    /// Current plan.
    pub plan: Option<(PlanKind, Plan)>,
    /// `TurnedEighteen` recorded.
    pub turned_eighteen: bool,
    /// Destination.
    pub destination: Option<Destination>,
    /// Number of referrals (re-openings included).
    pub referrals: u32,
    /// The day of the first referral.
    pub first_referred_on: Option<NaiveDate>,
    /// Why the case was last closed.
    pub close_reason: Option<CloseReason>,
    /// The reason of the legal hold in force, if any.
    pub legal_hold: Option<String>,
    /// `PersonalDataErased` recorded.
    pub erased: bool,
    /// The last day of the aftercare decided, while it runs.
    pub aftercare_until: Option<NaiveDate>,
}

impl Youth {
    /// Birth date, as recorded at the referral.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        self.birth_date
    }

    /// The assigned coordinator, if any.
    pub fn coordinator(&self) -> Option<StaffId> {
        match self.coordinator {
            CoordinatorState::Assigned(staff) => Some(staff),
            _ => None,
        }
    }

    fn open_case(&self) -> Result<(YouthId, NaiveDate), Rejection> {
        if self.erased {
            return Err(Rejection::Erased);
        }
        match (self.status, self.id, self.birth_date()) {
            (CaseStatus::Open, Some(id), Some(birth)) => Ok((id, birth)),
            (CaseStatus::Closed, _, _) => Err(Rejection::CaseClosed),
            _ => Err(Rejection::NotFound {
                what: "youth case".into(),
            }),
        }
    }

    fn release_if_assigned(&self, id: YouthId, reason: ReleaseReason) -> Option<Event> {
        self.coordinator().map(|coordinator| {
            CoordinatorReleased {
                youth_id: id,
                coordinator,
                reason,
            }
            .into()
        })
    }
}

impl Aggregate for Youth {
    type Command = YouthInput;

    fn decide(&self, input: YouthInput, now: DateTime<Utc>) -> Result<Vec<Event>, Rejection> {
        let today = now.date_naive();
        let command = match input {
            YouthInput::Refer {
                youth_id,
                referral,
                age_band,
            } => return self.refer(youth_id, referral, age_band, today),
            YouthInput::AssignCoordinator {
                coordinator,
                department,
                chosen_by,
            } => return self.assign_coordinator(coordinator, department, chosen_by),
            YouthInput::AssignCoordinatingCaseworker {
                caseworker,
                department,
                meeting,
            } => return self.assign_coordinating_caseworker(caseworker, department, meeting),
            YouthInput::Erase {
                erased_by,
                reason,
                authority,
                streams,
            } => return self.erase(erased_by, reason, authority, streams),
            YouthInput::Case(CaseCommand::PlaceLegalHold { placed_by, reason }) => {
                return self.hold(Some((placed_by, reason)), None)
            }
            YouthInput::Case(CaseCommand::LiftLegalHold { lifted_by, reason }) => {
                return self.hold(None, Some((lifted_by, reason)))
            }
            YouthInput::Case(command) => command,
        };
        let (id, birth) = self.open_case()?;
        let events: Vec<Event> = match command {
            CaseCommand::AssessNeed {
                level,
                assessed_by,
                note,
            } => {
                vec![NeedAssessed {
                    youth_id: id,
                    level,
                    assessed_by,
                    note,
                }
                .into()]
            }
            CaseCommand::AssessReadiness {
                education_ready,
                academic,
                social,
                personal,
                grade,
                assessed_by,
            } => {
                if !(7..=10).contains(&grade) {
                    return Err(InvalidInput::new(
                        "grade",
                        format!("readiness is assessed in grades 7-10, not {grade}"),
                    )
                    .into());
                }
                vec![ReadinessAssessed {
                    youth_id: id,
                    education_ready,
                    academic,
                    social,
                    personal,
                    grade,
                    assessed_by,
                }
                .into()]
            }
            CaseCommand::ChangeSchoolStatus { status, on } => {
                if self.school_status == Some(status) {
                    return Err(Rejection::NoChange {
                        what: "the school status is already that",
                    });
                }
                vec![SchoolStatusChanged {
                    youth_id: id,
                    status,
                    on,
                }
                .into()]
            }
            CaseCommand::RecordContact { by, on, offer_made } => {
                if on > today {
                    return Err(InvalidInput::new("on", "contact cannot be recorded in the future").into());
                }
                vec![ContactRecorded {
                    youth_id: id,
                    by,
                    on,
                    offer_made,
                }
                .into()]
            }
            CaseCommand::GiveConsent { given_by, departments } => {
                if departments.is_empty() {
                    return Err(InvalidInput::new("departments", "consent must name at least one department").into());
                }
                if given_by == ConsentGiver::Guardian && age_on(birth, today) >= 18 {
                    return Err(InvalidInput::new("given_by", "after 18 only the young person can consent").into());
                }
                vec![ConsentGiven {
                    youth_id: id,
                    given_by,
                    departments,
                }
                .into()]
            }
            CaseCommand::WithdrawConsent { withdrawn_by } => {
                if !self.consent {
                    return Err(Rejection::NoConsent);
                }
                if withdrawn_by == ConsentGiver::Guardian && age_on(birth, today) >= 18 {
                    return Err(InvalidInput::new("withdrawn_by", "after 18 only the young person decides").into());
                }
                vec![ConsentWithdrawn {
                    youth_id: id,
                    withdrawn_by,
                }
                .into()]
            }
            CaseCommand::OfferCoordinator { offered_by } => match self.coordinator {
                CoordinatorState::Assigned(_) => {
                    return Err(Rejection::NoChange {
                        what: "a coordinator is assigned",
                    })
                }
                CoordinatorState::Offered => {
                    return Err(Rejection::NoChange {
                        what: "an offer is pending",
                    })
                }
                _ => vec![CoordinatorOffered {
                    youth_id: id,
                    offered_by,
                }
                .into()],
            },
            CaseCommand::DeclineCoordinator { declined_by, note } => {
                if self.coordinator != CoordinatorState::Offered {
                    return Err(Rejection::NoPendingOffer);
                }
                if declined_by == ConsentGiver::Guardian && age_on(birth, today) >= 18 {
                    return Err(InvalidInput::new("declined_by", "after 18 only the young person decides").into());
                }
                vec![CoordinatorDeclined {
                    youth_id: id,
                    declined_by,
                    note,
                }
                .into()]
            }
            CaseCommand::JudgeCoordinatorNotRelevant { judged_by, reason } => {
                if self.coordinator().is_some() {
                    return Err(Rejection::NoChange {
                        what: "a coordinator is assigned; release them first",
                    });
                }
                vec![CoordinatorJudgedNotRelevant {
                    youth_id: id,
                    judged_by,
                    reason,
                }
                .into()]
            }
            CaseCommand::ReleaseCoordinator { reason } => {
                let release = self.release_if_assigned(id, reason).ok_or(Rejection::NoCoordinator)?;
                vec![release]
            }
            CaseCommand::AssignTeam { team } => {
                let (team, reason) = match team {
                    Some(team) => (team, TeamReason::Explicit),
                    None => {
                        let age = age_on(birth, today);
                        let school = self.school_status.unwrap_or(SchoolStatus::Inactive);
                        let reason = if age >= 18 {
                            TeamReason::Age
                        } else {
                            TeamReason::SchoolStatus
                        };
                        (Team::for_youth(age, school), reason)
                    }
                };
                if self.team == Some(team) {
                    return Err(Rejection::NoChange {
                        what: "the young person is in that team",
                    });
                }
                match self.team {
                    Some(from) => vec![TeamHandedOver {
                        youth_id: id,
                        from,
                        to: team,
                    }
                    .into()],
                    None => vec![TeamAssigned {
                        youth_id: id,
                        team,
                        reason,
                    }
                    .into()],
                }
            }
            CaseCommand::UpdatePlan {
                based_on_revision,
                kind,
                plan,
                updated_by,
            } => {
                plan.validate()?;
                if let Some(based_on) = based_on_revision {
                    if based_on != self.plan_revision {
                        return Err(Rejection::StalePlan {
                            based_on,
                            actual: self.plan_revision,
                        });
                    }
                }
                let age = age_on(birth, today);
                if kind == PlanKind::JobPlan && age < 18 {
                    return Err(Rejection::WrongPlanKind {
                        kind: kind.as_str(),
                        age,
                    });
                }
                if self.plan.as_ref() == Some(&(kind, plan.clone())) {
                    return Err(Rejection::NoChange {
                        what: "the plan is unchanged",
                    });
                }
                vec![PlanUpdated {
                    youth_id: id,
                    revision: self.plan_revision + 1,
                    kind,
                    plan,
                    updated_by,
                }
                .into()]
            }
            CaseCommand::RecordTransitionForm {
                expected_weekly_hours,
                recorded_by,
                note,
            } => {
                if expected_weekly_hours > 168 {
                    return Err(InvalidInput::new("expected_weekly_hours", "a week has 168 hours").into());
                }
                vec![TransitionFormRecorded {
                    youth_id: id,
                    expected_weekly_hours,
                    recorded_by,
                    note,
                }
                .into()]
            }
            CaseCommand::MarkEighteen => {
                if self.turned_eighteen {
                    return Err(Rejection::AlreadyEighteen);
                }
                let birthday = birthday_at(birth, 18);
                if today < birthday {
                    return Err(Rejection::NotYetEighteen { birthday });
                }
                if self.first_referred_on.is_some_and(|first| first > birthday) {
                    return Err(Rejection::NoChange {
                        what: "the young person was already 18 when first referred",
                    });
                }
                let mut events: Vec<Event> = vec![TurnedEighteen { youth_id: id, birthday }.into()];
                if let Some(from) = self.team.filter(|t| *t != Team::Team3) {
                    events.push(
                        TeamHandedOver {
                            youth_id: id,
                            from,
                            to: Team::Team3,
                        }
                        .into(),
                    );
                }
                events
            }
            CaseCommand::MarkAgedOut { band } => {
                let date = birthday_at(birth, u32::from(band.until));
                if today < date {
                    return Err(Rejection::NotYetAgedOut { date });
                }
                let mut events: Vec<Event> = Vec::with_capacity(3);
                events.push(
                    AgedOut {
                        youth_id: id,
                        on: date,
                        band_until: band.until,
                    }
                    .into(),
                );
                events.extend(self.release_if_assigned(id, ReleaseReason::CaseClosed));
                events.push(
                    CaseClosed {
                        youth_id: id,
                        reason: CloseReason::AgedOut,
                        note: String::new(),
                    }
                    .into(),
                );
                events
            }
            CaseCommand::RecordDestination { destination, on } => {
                if on > today {
                    return Err(InvalidInput::new("on", "a destination cannot be recorded in the future").into());
                }
                vec![DestinationReached {
                    youth_id: id,
                    destination,
                    on,
                }
                .into()]
            }
            CaseCommand::PlaceLegalHold { .. } | CaseCommand::LiftLegalHold { .. } => Vec::new(),
            CaseCommand::DecideAftercare { until, decided_by } => {
                let (eighteen, twenty_three) = (birthday_at(birth, 18), birthday_at(birth, 23));
                if until < eighteen || until >= twenty_three || until < today {
                    return Err(InvalidInput::new(
                        "until",
                        format!("aftercare runs from the 18th birthday ({eighteen}) to before the 23rd ({twenty_three}), and not into the past"),
                    )
                    .into());
                }
                vec![AftercareDecided {
                    youth_id: id,
                    until,
                    decided_by,
                }
                .into()]
            }
            CaseCommand::EndAftercare { on } => {
                if self.aftercare_until.is_none() {
                    return Err(Rejection::NoChange {
                        what: "no aftercare runs",
                    });
                }
                if on > today {
                    return Err(InvalidInput::new("on", "aftercare cannot end in the future").into());
                }
                vec![AftercareEnded { youth_id: id, on }.into()]
            }
            CaseCommand::AnswerAlarm { rule, due, answer, by } => {
                if let AlarmAnswer::Snoozed { until, reason } = &answer {
                    if *until <= today {
                        return Err(InvalidInput::new("until", "a snooze must end after today").into());
                    }
                    if reason.trim().is_empty() {
                        return Err(InvalidInput::new("reason", "a snooze needs a reason").into());
                    }
                }
                vec![AlarmAnswered {
                    youth_id: id,
                    rule,
                    due,
                    answer,
                    by,
                }
                .into()]
            }
            CaseCommand::Close { reason, note } => {
                let mut events: Vec<Event> = Vec::with_capacity(2);
                events.extend(self.release_if_assigned(id, ReleaseReason::CaseClosed));
                events.push(
                    CaseClosed {
                        youth_id: id,
                        reason,
                        note,
                    }
                    .into(),
                );
                events
            }
        };
        Ok(events)
    }

    fn apply(&mut self, event: &Event) {
        match event {
            Event::YouthReferred(e) => {
                self.id = Some(e.youth_id);
                self.status = CaseStatus::Open;
                if e.cpr.is_some() {
                    self.cpr.clone_from(&e.cpr);
                }
                self.birth_date = Some(e.birth_date);
                self.name.clone_from(&e.name);
                self.indicators.clone_from(&e.indicators);
                self.referral_note.clone_from(&e.note);
                self.municipality = Some(e.municipality);
                self.school_status = Some(e.school_status);
                self.coordinator = CoordinatorState::None;
                self.team = None;
                self.destination = None;
                self.referrals += 1;
                self.first_referred_on.get_or_insert(e.referred_on);
            }
            Event::NeedAssessed(e) => {
                self.need_level = Some(e.level);
                self.need_note.clone_from(&e.note);
            }
            Event::SchoolStatusChanged(e) => self.school_status = Some(e.status),
            Event::ConsentGiven(e) => {
                self.consent = true;
                self.consent_departments.clone_from(&e.departments);
            }
            Event::ConsentWithdrawn(_) => {
                self.consent = false;
                self.consent_departments.clear();
            }
            Event::CoordinatorOffered(_) => self.coordinator = CoordinatorState::Offered,
            Event::CoordinatorAssigned(e) => self.coordinator = CoordinatorState::Assigned(e.coordinator),
            Event::CoordinatorDeclined(_) => self.coordinator = CoordinatorState::Declined,
            Event::CoordinatorJudgedNotRelevant(_) => self.coordinator = CoordinatorState::NotRelevant,
            Event::CoordinatorReleased(e) => self.coordinator = CoordinatorState::Released(e.reason),
            Event::CoordinatingCaseworkerAssigned(e) => self.coordinating_caseworker = Some(e.caseworker),
            Event::TeamAssigned(e) => self.team = Some(e.team),
            Event::TeamHandedOver(e) => self.team = Some(e.to),
            Event::PlanUpdated(e) => {
                self.plan_revision = e.revision;
                self.plan = Some((e.kind, e.plan.clone()));
            }
            Event::TurnedEighteen(_) => self.turned_eighteen = true,
            Event::DestinationReached(e) => self.destination = Some(e.destination),
            Event::CaseClosed(e) => {
                self.status = CaseStatus::Closed;
                self.close_reason = Some(e.reason);
            }
            Event::AftercareDecided(e) => self.aftercare_until = Some(e.until),
            Event::AftercareEnded(_) => self.aftercare_until = None,
            Event::LegalHoldPlaced(e) => self.legal_hold = Some(e.reason.clone()),
            Event::LegalHoldLifted(_) => self.legal_hold = None,
            Event::PersonalDataErased(_) => {
                self.erased = true;
                self.cpr = None;
                self.name = crate::personal::ERASED.to_owned();
                self.referral_note = crate::personal::ERASED.to_owned();
                self.need_note = crate::personal::ERASED.to_owned();
                if let Some((_, plan)) = &mut self.plan {
                    plan.goals = vec![crate::personal::ERASED.to_owned()];
                    for action in &mut plan.actions {
                        action.description = crate::personal::ERASED.to_owned();
                    }
                }
            }
            _ => {}
        }
    }
}

impl Youth {
    fn erase(
        &self,
        erased_by: String,
        reason: String,
        authority: String,
        streams: Vec<String>,
    ) -> Result<Vec<Event>, Rejection> {
        let Some(id) = self.id else {
            return Err(Rejection::NotFound {
                what: "youth case".into(),
            });
        };
        if self.erased {
            return Err(Rejection::Erased);
        }
        if reason.trim().is_empty() {
            return Err(InvalidInput::new("reason", "an erasure needs a reason").into());
        }
        if let Some(hold) = &self.legal_hold {
            return Err(Rejection::LegalHold { reason: hold.clone() });
        }
        Ok(vec![PersonalDataErased {
            youth_id: id,
            erased_by,
            reason,
            authority,
            streams,
        }
        .into()])
    }

    fn hold(&self, place: Option<(StaffId, String)>, lift: Option<(StaffId, String)>) -> Result<Vec<Event>, Rejection> {
        let Some(id) = self.id else {
            return Err(Rejection::NotFound {
                what: "youth case".into(),
            });
        };
        if self.erased {
            return Err(Rejection::Erased);
        }
        match (place, lift) {
            (Some((placed_by, reason)), _) => {
                if reason.trim().is_empty() {
                    return Err(InvalidInput::new("reason", "a legal hold needs a reason").into());
                }
                if self.legal_hold.is_some() {
                    return Err(Rejection::NoChange {
                        what: "a legal hold is in force",
                    });
                }
                Ok(vec![LegalHoldPlaced {
                    youth_id: id,
                    placed_by,
                    reason,
                }
                .into()])
            }
            (None, Some((lifted_by, reason))) => {
                if self.legal_hold.is_none() {
                    return Err(Rejection::NoChange {
                        what: "no legal hold is in force",
                    });
                }
                Ok(vec![LegalHoldLifted {
                    youth_id: id,
                    lifted_by,
                    reason,
                }
                .into()])
            }
            (None, None) => Ok(Vec::new()),
        }
    }

    fn assign_coordinator(
        &self,
        coordinator: StaffId,
        department: Department,
        chosen_by: CoordinatorChoice,
    ) -> Result<Vec<Event>, Rejection> {
        let (id, _) = self.open_case()?;
        let (assigned_by, meeting) = match chosen_by {
            CoordinatorChoice::YoungPerson => return Err(Rejection::YouthCannotChooseCoordinator),
            CoordinatorChoice::Staff(staff) => (staff, None),
            CoordinatorChoice::Meeting(meeting, staff) => (staff, Some(meeting)),
        };
        let assigned = CoordinatorAssigned {
            youth_id: id,
            coordinator,
            department,
            assigned_by,
            meeting,
        }
        .into();
        match self.coordinator {
            CoordinatorState::Declined => Err(Rejection::CoordinatorDeclined),
            CoordinatorState::Assigned(current) if current == coordinator => Err(Rejection::SameCoordinator),
            CoordinatorState::Assigned(current) => Ok(vec![
                CoordinatorReleased {
                    youth_id: id,
                    coordinator: current,
                    reason: ReleaseReason::HandedOver,
                }
                .into(),
                assigned,
            ]),
            _ => Ok(vec![assigned]),
        }
    }

    fn assign_coordinating_caseworker(
        &self,
        caseworker: StaffId,
        department: Department,
        meeting: Option<MeetingId>,
    ) -> Result<Vec<Event>, Rejection> {
        let (id, _) = self.open_case()?;
        if self.coordinating_caseworker == Some(caseworker) {
            return Err(Rejection::NoChange {
                what: "that caseworker already coordinates the case",
            });
        }
        Ok(vec![CoordinatingCaseworkerAssigned {
            youth_id: id,
            caseworker,
            department,
            meeting,
        }
        .into()])
    }

    fn refer(
        &self,
        youth_id: YouthId,
        referral: Referral,
        age_band: AgeBand,
        today: NaiveDate,
    ) -> Result<Vec<Event>, Rejection> {
        if self.id.is_some_and(|known| known != youth_id) {
            return Err(InvalidInput::new("youth id", "does not match the case referred").into());
        }
        if self.erased {
            return Err(Rejection::Erased);
        }
        if self.status == CaseStatus::Open {
            return Err(Rejection::CaseAlreadyOpen);
        }
        if let Some(known) = &self.cpr {
            if *known != referral.cpr {
                return Err(
                    InvalidInput::new("cpr", "does not match the CPR number on record for this young person").into(),
                );
            }
        }
        if referral.name.trim().is_empty() {
            return Err(InvalidInput::new("name", "cannot be empty").into());
        }
        let birth = referral.cpr.birth_date();
        let age = age_on(birth, today);
        if birth > today || !age_band.covers(age) {
            return Err(Rejection::OutsideAgeBand {
                age,
                from: age_band.from,
                until: age_band.until,
            });
        }
        let team = Team::for_youth(age, referral.school_status);
        let reason = if age >= 18 {
            TeamReason::Age
        } else {
            TeamReason::SchoolStatus
        };
        Ok(vec![
            YouthReferred {
                youth_id,
                cpr: Some(referral.cpr),
                birth_date: birth,
                name: referral.name.trim().to_owned(),
                municipality: referral.municipality,
                referred_on: today,
                referred_by: referral.referred_by,
                department: referral.department,
                indicators: referral.indicators,
                school_status: referral.school_status,
                note: referral.note,
            }
            .into(),
            TeamAssigned { youth_id, team, reason }.into(),
        ])
    }
}
