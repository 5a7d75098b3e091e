//! Mutations: one per engine command.
//!
//! Every mutation takes the same four options: `expectedVersion` (the version the caller
//! last read; a moved stream is a `VERSION_CONFLICT` instead of a silent retry),
//! `commandId` (idempotency: resending it returns the first result with
//! `replayed: true`), `correlationId` (ties the events to a piece of work in the caller's
//! system) and `waitForProjections` (read-your-writes once read models exist).
//! Staff fields such as `assessedBy` default to the caller; the events' actor is always
//! the caller (staff id, role and department from the token).

use async_graphql::{Context, InputObject, Object, ID};
use chrono::NaiveDate;
use kui_domain::event::{AlarmSettings, MunicipalityConfigured, TeamCadence};
use kui_domain::values::{AgeBand, DecisionAction, Plan, PlanAction};
use kui_domain::{
    CaseCommand, CoordinatorChoice, Cpr, Decision, Meeting, MeetingCommand, MeetingId, MunicipalityCode,
    MunicipalityCommand, Referral, Staff, StaffCommand, StaffId, YouthCommand, YouthId,
};
use kui_engine::{Command, CommandContext};
use uuid::Uuid;

use super::enums::{
    ActionStatus, CloseReason, ConsentGiver, Department, Destination, Forum, Indicator, NeedLevel, PlanKind,
    ReleaseReason, SchoolStatus, Team,
};
use super::query::youth_municipality;
use super::types::{CommandResult, StreamVersion};
use super::{caller, parse_id};
use crate::access::{authorize, Operation, Scope};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::{blocking, ApiState};

/// The root mutation.
#[derive(Default)]
pub struct MutationRoot;

/// The options every mutation takes.
struct Options {
    expected_version: Option<u64>,
    command_id: Option<ID>,
    correlation_id: Option<ID>,
    wait_for_projections: Option<bool>,
}

macro_rules! options {
    ($expected_version:ident, $command_id:ident, $correlation_id:ident, $wait:ident) => {
        Options {
            expected_version: $expected_version,
            command_id: $command_id,
            correlation_id: $correlation_id,
            wait_for_projections: $wait,
        }
    };
}

/// Builds a command from the caller and today's date.
type Build = Box<dyn FnOnce(&Principal, NaiveDate) -> Result<Command, ApiError> + Send>;

/// Authorizes, checks the municipality scope, runs the command on a blocking thread and
/// optionally waits for the read models.
async fn run(ctx: &Context<'_>, options: Options, build: Build) -> async_graphql::Result<CommandResult> {
    let (state, principal) = caller(ctx)?;
    let command_id = options
        .command_id
        .as_ref()
        .map(|id| parse_uuid(id, "commandId"))
        .transpose()?;
    let correlation_id = options
        .correlation_id
        .as_ref()
        .map(|id| parse_uuid(id, "correlationId"))
        .transpose()?;
    let wait = options.wait_for_projections.unwrap_or(false);
    let command = build(principal, state.engine.now().date_naive())?;
    let operation = match &command {
        Command::Youth(..) => Operation::WriteCase,
        Command::Meeting(..) => Operation::WriteMeeting,
        Command::Staff(..) => Operation::WriteStaff,
        Command::Municipality(..) => Operation::ConfigureMunicipality,
    };
    let scope = authorize(principal, operation)?;
    let target = command.stream_name();
    let context = CommandContext {
        actor: principal.actor(),
        command_id,
        correlation_id,
        expected_version: options.expected_version,
    };
    let executed = execute(state, scope, command, context).await?;
    let stream_id = if executed.streams.iter().any(|(s, _)| *s == target) {
        target
    } else {
        executed.streams.first().map(|(s, _)| s.clone()).unwrap_or(target)
    };
    let projections_caught_up = if wait {
        let (state, position) = (state.clone(), executed.position);
        Some(blocking(move || Ok(state.projections.wait(position, state.limits.projection_wait))).await?)
    } else {
        None
    };
    Ok(CommandResult {
        aggregate_id: ID(stream_id
            .split_once('-')
            .map_or(stream_id.as_str(), |(_, id)| id)
            .to_owned()),
        stream_id,
        version: executed.version,
        position: executed.position,
        first_position: executed.first_position,
        replayed: executed.replayed,
        streams: executed
            .streams
            .into_iter()
            .map(|(stream_id, version)| StreamVersion { stream_id, version })
            .collect(),
        projections_caught_up,
    })
}

/// Runs the command on one blocking thread: the engine's retry loop checks the caller's
/// scope, then decides and appends, and does both again after a lost race.
async fn execute(
    state: &ApiState,
    scope: Scope,
    command: Command,
    context: CommandContext,
) -> Result<kui_engine::Executed, ApiError> {
    let engine = state.engine.clone();
    blocking(move || engine.execute_checked(command, &context, |engine, command| check_scope(engine, scope, command)))
        .await
}

/// Records of another municipality do not exist for a scoped caller; creating one there
/// is forbidden.
fn check_scope(engine: &kui_engine::Engine, scope: Scope, command: &Command) -> Result<(), ApiError> {
    let create_in = |municipality: MunicipalityCode| {
        if scope.covers(Some(municipality)) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "you act for your own municipality only, not {municipality}"
            )))
        }
    };
    let youth_in_scope = |youth_id: YouthId| {
        let municipality = youth_municipality(engine, youth_id)?;
        scope.require(municipality, || format!("young person {youth_id}"))
    };
    match command {
        Command::Youth(_, YouthCommand::Refer(referral)) => create_in(referral.municipality),
        Command::Youth(youth_id, _) => youth_in_scope(*youth_id),
        Command::Meeting(_, MeetingCommand::Schedule { municipality, .. }) => create_in(*municipality),
        Command::Meeting(meeting_id, meeting_command) => {
            let (meeting, version) = engine.load::<Meeting>(&meeting_id.stream_name())?;
            if version == 0 {
                return Err(ApiError::not_found(format!("meeting {meeting_id}")));
            }
            scope.require(meeting.municipality, || format!("meeting {meeting_id}"))?;
            match meeting_command {
                MeetingCommand::TableCase { youth_id, .. } => youth_in_scope(*youth_id),
                MeetingCommand::RecordDecision(decision) => youth_in_scope(decision.youth_id),
                _ => Ok(()),
            }
        }
        Command::Staff(_, StaffCommand::Register { municipality, .. }) => create_in(*municipality),
        Command::Staff(staff_id, _) => {
            let (staff, version) = engine.load::<Staff>(&staff_id.stream_name())?;
            if version == 0 {
                return Err(ApiError::not_found(format!("staff member {staff_id}")));
            }
            scope.require(staff.municipality, || format!("staff member {staff_id}"))
        }
        Command::Municipality(code, _) => create_in(*code),
    }
}

fn parse_uuid(id: &ID, field: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id.0.trim()).map_err(|_| ApiError::invalid(field, format!("{:?} is not a uuid", id.0)))
}

/// The named staff member, or the caller.
fn staff_or_caller(id: Option<&ID>, principal: &Principal, field: &str) -> Result<StaffId, ApiError> {
    match id {
        Some(id) => parse_id(id, field),
        None => Ok(principal.staff),
    }
}

fn optional_staff(id: Option<&ID>, field: &str) -> Result<Option<StaffId>, ApiError> {
    id.map(|id| parse_id(id, field)).transpose()
}

fn own_municipality(given: Option<u16>, principal: &Principal) -> Result<MunicipalityCode, ApiError> {
    match (given, principal.municipality) {
        (Some(code), _) => Ok(MunicipalityCode::new(code)?),
        (None, Some(own)) => Ok(own),
        (None, None) => Err(ApiError::invalid(
            "municipality",
            "required: the token names no municipality",
        )),
    }
}

/// A referral.
#[derive(InputObject)]
pub struct ReferInput {
    /// CPR number, DDMMYY-SSSS or DDMMYYSSSS; the young person's id follows from it.
    pub cpr: String,
    /// Full name.
    pub name: String,
    /// Municipality code; defaults to the caller's.
    pub municipality: Option<u16>,
    /// The referrer; defaults to the caller.
    pub referred_by: Option<ID>,
    /// The referrer's department; defaults to the caller's.
    pub department: Option<Department>,
    /// The indicators behind the referral.
    #[graphql(default)]
    pub indicators: Vec<Indicator>,
    /// School status on the day of the referral.
    pub school_status: SchoolStatus,
    /// Why (free text).
    #[graphql(default)]
    pub note: String,
}

/// An education-readiness assessment.
#[derive(InputObject)]
pub struct AssessReadinessInput {
    /// Overall education-ready.
    pub education_ready: bool,
    /// Academically ready.
    pub academic: bool,
    /// Socially ready.
    pub social: bool,
    /// Personally ready.
    pub personal: bool,
    /// Grade (7-10).
    pub grade: u8,
    /// Who assessed; defaults to the caller.
    pub assessed_by: Option<ID>,
}

/// One action of a plan.
#[derive(InputObject)]
pub struct PlanActionInput {
    /// What is to be done.
    pub description: String,
    /// The department delivering it.
    pub department: Department,
    /// The responsible staff member.
    pub responsible: Option<ID>,
    /// Due date.
    pub due: Option<NaiveDate>,
    /// Status; defaults to PLANNED.
    pub status: Option<ActionStatus>,
}

/// The whole plan, replacing the current one.
#[derive(InputObject)]
pub struct UpdatePlanInput {
    /// The revision the caller edited; a newer plan rejects the update (`stale_plan`).
    pub based_on_revision: Option<u32>,
    /// Education plan (under 18) or job plan (18 and over).
    pub kind: PlanKind,
    /// Overall goals (at least one).
    pub goals: Vec<String>,
    /// Actions from the departments.
    #[graphql(default)]
    pub actions: Vec<PlanActionInput>,
    /// Who updated it; defaults to the caller.
    pub updated_by: Option<ID>,
}

/// Scheduling a meeting.
#[derive(InputObject)]
pub struct ScheduleMeetingInput {
    /// Municipality code; defaults to the caller's.
    pub municipality: Option<u16>,
    /// Forum.
    pub forum: Forum,
    /// The day.
    pub date: NaiveDate,
    /// Minutes available for cases (15-480).
    pub slot_minutes: u32,
    /// Who scheduled it; defaults to the caller.
    pub scheduled_by: Option<ID>,
}

/// One agreed action of a decision.
#[derive(InputObject)]
pub struct DecisionActionInput {
    /// What is to be done.
    pub what: String,
    /// The department doing it.
    pub department: Department,
    /// The named person.
    pub who: Option<ID>,
    /// By when.
    pub due: Option<NaiveDate>,
}

/// A meeting's decision on one tabled case.
#[derive(InputObject)]
pub struct MeetingDecisionInput {
    /// The young person (their case must be on the agenda).
    pub youth_id: ID,
    /// A coordinator to appoint: also records `CoordinatorAssigned` on the young person.
    pub coordinator: Option<ID>,
    /// A coordinating caseworker to appoint: also recorded on the young person.
    pub coordinating_caseworker: Option<ID>,
    /// The lead of the coordinating team.
    pub lead: Option<ID>,
    /// Who does what (at least one).
    pub actions: Vec<DecisionActionInput>,
    /// Documentation still needed.
    #[graphql(default)]
    pub documentation_needed: Vec<String>,
    /// When progress is checked (after the meeting).
    pub follow_up: Option<NaiveDate>,
    /// The coordinating team's first meeting.
    pub first_team_meeting: Option<NaiveDate>,
}

/// Registering a staff member.
#[derive(InputObject)]
pub struct RegisterStaffInput {
    /// Full name.
    pub name: String,
    /// Department.
    pub department: Department,
    /// Municipality code; defaults to the caller's.
    pub municipality: Option<u16>,
    /// How many young people they can coordinate (0-200).
    pub capacity: u16,
}

/// How often each team meets, in days.
#[derive(InputObject)]
pub struct TeamCadenceInput {
    /// Team 1.
    pub team_1_days: u16,
    /// Team 2.
    pub team_2_days: u16,
    /// Team 3.
    pub team_3_days: u16,
}

/// Thresholds for the transition alarms.
#[derive(InputObject)]
pub struct AlarmSettingsInput {
    /// Months before the 18th birthday to warn without an adult-side owner.
    pub eighteen_warning_months: u16,
    /// Days after which an untouched plan is stale.
    pub plan_stale_days: u16,
    /// Days after which an untabled referral alarms.
    pub referral_untabled_days: u16,
    /// Days to make contact after a dropout.
    pub dropout_contact_days: u16,
    /// Days to make an offer after a dropout.
    pub dropout_offer_days: u16,
}

/// A municipality's settings.
#[derive(InputObject)]
pub struct ConfigureMunicipalityInput {
    /// Its name.
    pub name: String,
    /// The lowest age covered.
    pub age_from: u8,
    /// The first age no longer covered.
    pub age_until: u8,
    /// Young people per coordinator by default.
    pub coordinator_capacity: u16,
    /// Team cadence; defaults to every 21/14/14 days.
    pub cadence: Option<TeamCadenceInput>,
    /// Alarm thresholds; defaults to the usual ones.
    pub alarms: Option<AlarmSettingsInput>,
}

#[Object]
impl MutationRoot {
    /// Refers (or re-refers) a young person; opens the case and places them in a team.
    #[allow(clippy::too_many_arguments)]
    async fn refer(
        &self,
        ctx: &Context<'_>,
        input: ReferInput,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |principal, _| {
                let cpr = Cpr::parse(&input.cpr)?;
                let youth_id = YouthId::for_cpr(&cpr);
                let referral = Referral {
                    youth_id,
                    cpr,
                    name: input.name,
                    municipality: own_municipality(input.municipality, principal)?,
                    referred_by: staff_or_caller(input.referred_by.as_ref(), principal, "referredBy")?,
                    department: input.department.map_or(principal.department, Into::into),
                    indicators: input.indicators.into_iter().map(Into::into).collect(),
                    school_status: input.school_status.into(),
                    note: input.note,
                };
                Ok(Command::Youth(youth_id, YouthCommand::Refer(referral)))
            }),
        )
        .await
    }

    /// Records the need level (A, B or C).
    #[allow(clippy::too_many_arguments)]
    async fn assess_need(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        level: NeedLevel,
        #[graphql(default)] note: String,
        assessed_by: Option<ID>,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |principal, _| {
                let command = YouthCommand::Case(CaseCommand::AssessNeed {
                    level: level.into(),
                    assessed_by: staff_or_caller(assessed_by.as_ref(), principal, "assessedBy")?,
                    note,
                });
                Ok(Command::Youth(parse_id(&youth_id, "youthId")?, command))
            }),
        )
        .await
    }

    /// Records an education-readiness assessment.
    #[allow(clippy::too_many_arguments)]
    async fn assess_readiness(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        input: AssessReadinessInput,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |principal, _| {
                let command = YouthCommand::Case(CaseCommand::AssessReadiness {
                    education_ready: input.education_ready,
                    academic: input.academic,
                    social: input.social,
                    personal: input.personal,
                    grade: input.grade,
                    assessed_by: staff_or_caller(input.assessed_by.as_ref(), principal, "assessedBy")?,
                });
                Ok(Command::Youth(parse_id(&youth_id, "youthId")?, command))
            }),
        )
        .await
    }

    /// Records a change of school status (on a day; defaults to today).
    #[allow(clippy::too_many_arguments)]
    async fn change_school_status(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        status: SchoolStatus,
        on: Option<NaiveDate>,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |_, today| {
                let command = YouthCommand::Case(CaseCommand::ChangeSchoolStatus {
                    status: status.into(),
                    on: on.unwrap_or(today),
                });
                Ok(Command::Youth(parse_id(&youth_id, "youthId")?, command))
            }),
        )
        .await
    }

    /// Records guidance contact (by the caller unless `by` is given; today unless `on` is).
    #[allow(clippy::too_many_arguments)]
    async fn record_contact(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        by: Option<ID>,
        on: Option<NaiveDate>,
        #[graphql(default)] offer_made: bool,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |principal, today| {
                let command = YouthCommand::Case(CaseCommand::RecordContact {
                    by: staff_or_caller(by.as_ref(), principal, "by")?,
                    on: on.unwrap_or(today),
                    offer_made,
                });
                Ok(Command::Youth(parse_id(&youth_id, "youthId")?, command))
            }),
        )
        .await
    }

    /// Records consent to share information between the departments named.
    #[allow(clippy::too_many_arguments)]
    async fn give_consent(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        given_by: ConsentGiver,
        departments: Vec<Department>,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |_, _| {
                let command = YouthCommand::Case(CaseCommand::GiveConsent {
                    given_by: given_by.into(),
                    departments: departments.into_iter().map(Into::into).collect(),
                });
                Ok(Command::Youth(parse_id(&youth_id, "youthId")?, command))
            }),
        )
        .await
    }

    /// Records that consent was withdrawn.
    #[allow(clippy::too_many_arguments)]
    async fn withdraw_consent(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        withdrawn_by: ConsentGiver,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |_, _| {
                let command = YouthCommand::Case(CaseCommand::WithdrawConsent {
                    withdrawn_by: withdrawn_by.into(),
                });
                Ok(Command::Youth(parse_id(&youth_id, "youthId")?, command))
            }),
        )
        .await
    }

    /// Offers the coordinator scheme.
    #[allow(clippy::too_many_arguments)]
    async fn offer_coordinator(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        offered_by: Option<ID>,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |principal, _| {
                let command = YouthCommand::Case(CaseCommand::OfferCoordinator {
                    offered_by: staff_or_caller(offered_by.as_ref(), principal, "offeredBy")?,
                });
                Ok(Command::Youth(parse_id(&youth_id, "youthId")?, command))
            }),
        )
        .await
    }

    /// Assigns a coordinator, chosen by a staff member (the caller unless `chosenBy` is given).
    /// An assigned coordinator is released (handed over) first.
    #[allow(clippy::too_many_arguments)]
    async fn assign_coordinator(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        coordinator: ID,
        chosen_by: Option<ID>,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |principal, _| {
                let command = YouthCommand::AssignCoordinator {
                    coordinator: parse_id(&coordinator, "coordinator")?,
                    chosen_by: CoordinatorChoice::Staff(staff_or_caller(chosen_by.as_ref(), principal, "chosenBy")?),
                };
                Ok(Command::Youth(parse_id(&youth_id, "youthId")?, command))
            }),
        )
        .await
    }

    /// Records that the young person declined the coordinator scheme.
    #[allow(clippy::too_many_arguments)]
    async fn decline_coordinator(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        declined_by: ConsentGiver,
        #[graphql(default)] note: String,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |_, _| {
                let command = YouthCommand::Case(CaseCommand::DeclineCoordinator {
                    declined_by: declined_by.into(),
                    note,
                });
                Ok(Command::Youth(parse_id(&youth_id, "youthId")?, command))
            }),
        )
        .await
    }

    /// Records that a team judged the coordinator scheme not relevant.
    #[allow(clippy::too_many_arguments)]
    async fn judge_coordinator_not_relevant(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        reason: String,
        judged_by: Option<ID>,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |principal, _| {
                let command = YouthCommand::Case(CaseCommand::JudgeCoordinatorNotRelevant {
                    judged_by: staff_or_caller(judged_by.as_ref(), principal, "judgedBy")?,
                    reason,
                });
                Ok(Command::Youth(parse_id(&youth_id, "youthId")?, command))
            }),
        )
        .await
    }

    /// Releases the assigned coordinator.
    #[allow(clippy::too_many_arguments)]
    async fn release_coordinator(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        reason: ReleaseReason,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |_, _| {
                let command = YouthCommand::Case(CaseCommand::ReleaseCoordinator { reason: reason.into() });
                Ok(Command::Youth(parse_id(&youth_id, "youthId")?, command))
            }),
        )
        .await
    }

    /// Appoints a coordinating caseworker (optionally naming the meeting that decided it).
    #[allow(clippy::too_many_arguments)]
    async fn assign_coordinating_caseworker(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        caseworker: ID,
        meeting_id: Option<ID>,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |_, _| {
                let command = YouthCommand::AssignCoordinatingCaseworker {
                    caseworker: parse_id(&caseworker, "caseworker")?,
                    meeting: meeting_id
                        .map(|id| parse_id::<MeetingId>(&id, "meetingId"))
                        .transpose()?,
                };
                Ok(Command::Youth(parse_id(&youth_id, "youthId")?, command))
            }),
        )
        .await
    }

    /// Places the young person in a team (hands over from the current one); without
    /// `team`, the team follows from age and school status.
    #[allow(clippy::too_many_arguments)]
    async fn assign_team(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        team: Option<Team>,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |_, _| {
                let command = YouthCommand::Case(CaseCommand::AssignTeam {
                    team: team.map(Into::into),
                });
                Ok(Command::Youth(parse_id(&youth_id, "youthId")?, command))
            }),
        )
        .await
    }

    /// Replaces the plan with a new revision (goals and actions).
    #[allow(clippy::too_many_arguments)]
    async fn update_plan(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        input: UpdatePlanInput,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |principal, _| {
                let actions = input
                    .actions
                    .into_iter()
                    .map(|action| {
                        Ok(PlanAction {
                            description: action.description,
                            department: action.department.into(),
                            responsible: optional_staff(action.responsible.as_ref(), "responsible")?,
                            due: action.due,
                            status: action.status.unwrap_or(ActionStatus::Planned).into(),
                        })
                    })
                    .collect::<Result<Vec<_>, ApiError>>()?;
                let command = YouthCommand::Case(CaseCommand::UpdatePlan {
                    based_on_revision: input.based_on_revision,
                    kind: input.kind.into(),
                    plan: Plan {
                        goals: input.goals,
                        actions,
                    },
                    updated_by: staff_or_caller(input.updated_by.as_ref(), principal, "updatedBy")?,
                });
                Ok(Command::Youth(parse_id(&youth_id, "youthId")?, command))
            }),
        )
        .await
    }

    /// Records the transition form (expected weekly hours of support after 18).
    #[allow(clippy::too_many_arguments)]
    async fn record_transition_form(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        expected_weekly_hours: u16,
        #[graphql(default)] note: String,
        recorded_by: Option<ID>,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |principal, _| {
                let command = YouthCommand::Case(CaseCommand::RecordTransitionForm {
                    expected_weekly_hours,
                    recorded_by: staff_or_caller(recorded_by.as_ref(), principal, "recordedBy")?,
                    note,
                });
                Ok(Command::Youth(parse_id(&youth_id, "youthId")?, command))
            }),
        )
        .await
    }

    /// Records where the young person ended up (on a day; defaults to today).
    #[allow(clippy::too_many_arguments)]
    async fn record_destination(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        destination: Destination,
        on: Option<NaiveDate>,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |_, today| {
                let command = YouthCommand::Case(CaseCommand::RecordDestination {
                    destination: destination.into(),
                    on: on.unwrap_or(today),
                });
                Ok(Command::Youth(parse_id(&youth_id, "youthId")?, command))
            }),
        )
        .await
    }

    /// Closes the case (releasing an assigned coordinator).
    #[allow(clippy::too_many_arguments)]
    async fn close_case(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        reason: CloseReason,
        #[graphql(default)] note: String,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |_, _| {
                let command = YouthCommand::Case(CaseCommand::Close {
                    reason: reason.into(),
                    note,
                });
                Ok(Command::Youth(parse_id(&youth_id, "youthId")?, command))
            }),
        )
        .await
    }

    /// Schedules a meeting; without `meetingId` a new id is drawn (read it from `aggregateId`).
    #[allow(clippy::too_many_arguments)]
    async fn schedule_meeting(
        &self,
        ctx: &Context<'_>,
        meeting_id: Option<ID>,
        input: ScheduleMeetingInput,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |principal, _| {
                let meeting_id = match meeting_id {
                    Some(id) => parse_id::<MeetingId>(&id, "meetingId")?,
                    None => MeetingId(Uuid::now_v7()),
                };
                let command = MeetingCommand::Schedule {
                    meeting_id,
                    municipality: own_municipality(input.municipality, principal)?,
                    forum: input.forum.into(),
                    date: input.date,
                    slot_minutes: input.slot_minutes,
                    scheduled_by: staff_or_caller(input.scheduled_by.as_ref(), principal, "scheduledBy")?,
                };
                Ok(Command::Meeting(meeting_id, command))
            }),
        )
        .await
    }

    /// Puts a case on a meeting's agenda (15 minutes, or 30 when complex).
    #[allow(clippy::too_many_arguments)]
    async fn table_case(
        &self,
        ctx: &Context<'_>,
        meeting_id: ID,
        youth_id: ID,
        presenter: Option<ID>,
        #[graphql(default)] complex: bool,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |principal, _| {
                let command = MeetingCommand::TableCase {
                    youth_id: parse_id(&youth_id, "youthId")?,
                    presenter: staff_or_caller(presenter.as_ref(), principal, "presenter")?,
                    complex,
                };
                Ok(Command::Meeting(parse_id(&meeting_id, "meetingId")?, command))
            }),
        )
        .await
    }

    /// Records a meeting's decision on a tabled case. Appointing a coordinator or a
    /// coordinating caseworker also records it on the young person, in the same atomic
    /// append (see `streams` in the result).
    #[allow(clippy::too_many_arguments)]
    async fn record_meeting_decision(
        &self,
        ctx: &Context<'_>,
        meeting_id: ID,
        input: MeetingDecisionInput,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |_, _| {
                let actions = input
                    .actions
                    .into_iter()
                    .map(|action| {
                        Ok(DecisionAction {
                            what: action.what,
                            department: action.department.into(),
                            who: optional_staff(action.who.as_ref(), "who")?,
                            due: action.due,
                        })
                    })
                    .collect::<Result<Vec<_>, ApiError>>()?;
                let decision = Decision {
                    youth_id: parse_id(&input.youth_id, "youthId")?,
                    coordinator: optional_staff(input.coordinator.as_ref(), "coordinator")?,
                    coordinating_caseworker: optional_staff(
                        input.coordinating_caseworker.as_ref(),
                        "coordinatingCaseworker",
                    )?,
                    lead: optional_staff(input.lead.as_ref(), "lead")?,
                    actions,
                    documentation_needed: input.documentation_needed,
                    follow_up: input.follow_up,
                    first_team_meeting: input.first_team_meeting,
                };
                Ok(Command::Meeting(
                    parse_id(&meeting_id, "meetingId")?,
                    MeetingCommand::RecordDecision(decision),
                ))
            }),
        )
        .await
    }

    /// Records that the meeting was held (on a day; defaults to today).
    #[allow(clippy::too_many_arguments)]
    async fn hold_meeting(
        &self,
        ctx: &Context<'_>,
        meeting_id: ID,
        attendees: Vec<ID>,
        held_on: Option<NaiveDate>,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |_, today| {
                let attendees = attendees
                    .iter()
                    .map(|id| parse_id(id, "attendees"))
                    .collect::<Result<Vec<StaffId>, ApiError>>()?;
                let command = MeetingCommand::Hold {
                    held_on: held_on.unwrap_or(today),
                    attendees,
                };
                Ok(Command::Meeting(parse_id(&meeting_id, "meetingId")?, command))
            }),
        )
        .await
    }

    /// Records the meeting's evaluation of itself (1-5).
    #[allow(clippy::too_many_arguments)]
    async fn evaluate_meeting(
        &self,
        ctx: &Context<'_>,
        meeting_id: ID,
        score: u8,
        #[graphql(default)] note: String,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |_, _| {
                let command = MeetingCommand::Evaluate { score, note };
                Ok(Command::Meeting(parse_id(&meeting_id, "meetingId")?, command))
            }),
        )
        .await
    }

    /// Cancels a meeting.
    #[allow(clippy::too_many_arguments)]
    async fn cancel_meeting(
        &self,
        ctx: &Context<'_>,
        meeting_id: ID,
        reason: String,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |_, _| {
                let command = MeetingCommand::Cancel { reason };
                Ok(Command::Meeting(parse_id(&meeting_id, "meetingId")?, command))
            }),
        )
        .await
    }

    /// Registers a staff member; without `staffId` a new id is drawn (read it from `aggregateId`).
    #[allow(clippy::too_many_arguments)]
    async fn register_staff(
        &self,
        ctx: &Context<'_>,
        staff_id: Option<ID>,
        input: RegisterStaffInput,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |principal, _| {
                let staff_id = match staff_id {
                    Some(id) => parse_id::<StaffId>(&id, "staffId")?,
                    None => StaffId(Uuid::now_v7()),
                };
                let command = StaffCommand::Register {
                    staff_id,
                    name: input.name,
                    department: input.department.into(),
                    municipality: own_municipality(input.municipality, principal)?,
                    capacity: input.capacity,
                };
                Ok(Command::Staff(staff_id, command))
            }),
        )
        .await
    }

    /// Changes how many young people a staff member can coordinate.
    #[allow(clippy::too_many_arguments)]
    async fn change_staff_capacity(
        &self,
        ctx: &Context<'_>,
        staff_id: ID,
        capacity: u16,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |_, _| {
                let command = StaffCommand::ChangeCapacity { capacity };
                Ok(Command::Staff(parse_id(&staff_id, "staffId")?, command))
            }),
        )
        .await
    }

    /// Records that a staff member left (last day; defaults to today).
    #[allow(clippy::too_many_arguments)]
    async fn record_staff_departed(
        &self,
        ctx: &Context<'_>,
        staff_id: ID,
        on: Option<NaiveDate>,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |_, today| {
                let command = StaffCommand::Depart {
                    on: on.unwrap_or(today),
                };
                Ok(Command::Staff(parse_id(&staff_id, "staffId")?, command))
            }),
        )
        .await
    }

    /// Configures (or re-configures) a municipality: age band, team cadence, capacity, alarms.
    #[allow(clippy::too_many_arguments)]
    async fn configure_municipality(
        &self,
        ctx: &Context<'_>,
        municipality: u16,
        input: ConfigureMunicipalityInput,
        expected_version: Option<u64>,
        command_id: Option<ID>,
        correlation_id: Option<ID>,
        wait_for_projections: Option<bool>,
    ) -> async_graphql::Result<CommandResult> {
        let options = options!(expected_version, command_id, correlation_id, wait_for_projections);
        run(
            ctx,
            options,
            Box::new(move |_, _| {
                let code = MunicipalityCode::new(municipality)?;
                let cadence = input.cadence.map_or(TeamCadence::USUAL, |c| TeamCadence {
                    team_1_days: c.team_1_days,
                    team_2_days: c.team_2_days,
                    team_3_days: c.team_3_days,
                });
                let alarms = input.alarms.map_or(AlarmSettings::USUAL, |a| AlarmSettings {
                    eighteen_warning_months: a.eighteen_warning_months,
                    plan_stale_days: a.plan_stale_days,
                    referral_untabled_days: a.referral_untabled_days,
                    dropout_contact_days: a.dropout_contact_days,
                    dropout_offer_days: a.dropout_offer_days,
                });
                let settings = MunicipalityConfigured {
                    municipality: code,
                    name: input.name,
                    age_band: AgeBand::new(input.age_from, input.age_until)?,
                    cadence,
                    coordinator_capacity: input.coordinator_capacity,
                    alarms,
                };
                Ok(Command::Municipality(code, MunicipalityCommand(settings)))
            }),
        )
        .await
    }
}
