//! Mutations: one per engine command, declared once each in [`mutations!`].
//!
//! Every mutation takes the same four options: `expectedVersion` (the version the caller
//! last read; a moved stream is a `VERSION_CONFLICT` instead of a silent retry),
//! `commandId` (idempotency: resending it returns the first result with
//! `replayed: true`), `correlationId` (ties the events to a piece of work in the caller's
//! system) and `waitForProjections` (read-your-writes once read models exist).
//! Staff fields such as `assessedBy` default to the caller; the events' actor is always
//! the caller (staff id, role and department from the token).
//! A command runs on one path: authorization, then on one blocking thread the scope check
//! and the engine's decision and append (see [`execute`]).

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

/// The root mutation: the commands, and erasure.
#[derive(async_graphql::MergedObject, Default)]
pub struct MutationRoot(CommandMutation, ErasureMutation);

/// One mutation per engine command.
#[derive(Default)]
pub struct CommandMutation;

/// Erasing a young person's personal data (admins).
#[derive(Default)]
pub struct ErasureMutation;

/// What an erasure did.
#[derive(async_graphql::SimpleObject)]
pub struct ErasureResult {
    /// The young person.
    pub youth_id: ID,
    /// The position of the `PersonalDataErased` event.
    pub position: u64,
    /// The streams whose personal data can no longer be read.
    pub streams: Vec<String>,
    /// True when this completed an erasure begun earlier and interrupted.
    pub resumed: bool,
}

#[Object]
impl ErasureMutation {
    /// Erases a young person's personal data: destroys their key and their CPR lookup, and
    /// records `PersonalDataErased` (who, why, under which authority, which streams). From
    /// then on every personal field of their events reads as "(erased)"; the events and the
    /// hash chain stay. Refused under a legal hold, for an unknown or an erased person.
    /// Admins only. Sending it again after an interruption completes it.
    async fn erase_personal_data(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        reason: String,
        #[graphql(default)] authority: String,
    ) -> async_graphql::Result<ErasureResult> {
        let (state, principal) = caller(ctx)?;
        authorize(principal, Operation::ErasePersonalData)?;
        let youth: YouthId = super::parse_id(&youth_id, "youthId")?;
        let actor = principal.actor();
        let erasure = kui_engine::Erasure {
            erased_by: principal.staff.to_string(),
            reason,
            authority,
            streams: Vec::new(),
        };
        let engine = state.engine.clone();
        let erased = blocking(move || Ok(engine.erase(youth, erasure, &CommandContext::by(actor))?)).await?;
        state.forget_personal();
        Ok(ErasureResult {
            youth_id: ID(youth.to_string()),
            position: erased.position,
            streams: erased.streams,
            resumed: erased.resumed,
        })
    }
}

/// Writes the root mutation. Each entry is a mutation's doc comment (its description in
/// the schema), its own arguments, and the expression that builds its command from them,
/// the caller and today's date; the macro appends the four shared options to the
/// arguments and runs the command through [`run`]. Adding a command is adding an entry.
macro_rules! mutations {
    ($(
        $(#[doc = $doc:literal])+
        fn $name:ident($($(#[$arg_meta:meta])* $arg:ident: $arg_ty:ty),* $(,)?)
            |$principal:pat_param, $today:pat_param| $build:expr;
    )+) => {
        #[Object]
        impl CommandMutation {
            $(
                $(#[doc = $doc])+
                #[allow(clippy::too_many_arguments)]
                async fn $name(
                    &self,
                    ctx: &Context<'_>,
                    $($(#[$arg_meta])* $arg: $arg_ty,)*
                    expected_version: Option<u64>,
                    command_id: Option<ID>,
                    correlation_id: Option<ID>,
                    wait_for_projections: Option<bool>,
                ) -> async_graphql::Result<CommandResult> {
                    let options = (expected_version, command_id, correlation_id, wait_for_projections);
                    run(ctx, options, move |$principal: &Principal, $today: NaiveDate| $build).await
                }
            )+
        }
    };
}

mutations! {
    // A young person's case.
    /// Refers (or re-refers) a young person; opens the case and places them in a team.
    fn refer(input: ReferInput)
        |principal, _| {
            let referral = Referral {
                cpr: Cpr::parse(&input.cpr)?,
                name: input.name,
                municipality: own_municipality(input.municipality, principal)?,
                referred_by: staff_or_caller(input.referred_by.as_ref(), principal, "referredBy")?,
                department: input.department.map_or(principal.department, Into::into),
                indicators: input.indicators.into_iter().map(Into::into).collect(),
                school_status: input.school_status.into(),
                note: input.note,
            };
            Ok(Command::Refer(referral))
        };
    /// Places a legal hold on a case (a complaint, an audit, a court case): retention does
    /// not erase it until the hold is lifted. The reason must not name the person.
    fn place_legal_hold(youth_id: ID, reason: String)
        |principal, _| youth(&youth_id, CaseCommand::PlaceLegalHold {
            placed_by: staff_or_caller(None, principal, "placedBy")?,
            reason,
        });
    /// Lifts the legal hold on a case; retention applies again.
    fn lift_legal_hold(youth_id: ID, reason: String)
        |principal, _| youth(&youth_id, CaseCommand::LiftLegalHold {
            lifted_by: staff_or_caller(None, principal, "liftedBy")?,
            reason,
        });
    /// Decides aftercare (efterværn): the children's administration keeps the case after 18,
    /// until a day before the 23rd birthday.
    fn decide_aftercare(youth_id: ID, until: NaiveDate, decided_by: Option<ID>)
        |principal, _| youth(&youth_id, CaseCommand::DecideAftercare {
            until,
            decided_by: staff_or_caller(decided_by.as_ref(), principal, "decidedBy")?,
        });
    /// Ends aftercare before its date.
    fn end_aftercare(youth_id: ID, on: Option<NaiveDate>)
        |_, today| youth(&youth_id, CaseCommand::EndAftercare { on: on.unwrap_or(today) });
    /// Acknowledges an open alarm: whoever should act has seen it and handles it; it no
    /// longer escalates. `NOT_FOUND` unless the alarm is open now.
    fn acknowledge_alarm(youth_id: ID, rule: super::read_models::AlarmRule, due: NaiveDate)
        |principal, _| youth(&youth_id, alarm_answer(rule, due, kui_domain::event::AlarmAnswer::Acknowledged, principal));
    /// Assigns an open alarm to a staff member of the municipality, who acts on it from
    /// now on; it no longer escalates.
    fn assign_alarm(youth_id: ID, rule: super::read_models::AlarmRule, due: NaiveDate, to: ID)
        |principal, _| youth(&youth_id, alarm_answer(rule, due, kui_domain::event::AlarmAnswer::Assigned {
            to: parse_id(&to, "to")?,
        }, principal));
    /// Snoozes an open alarm until a later day, for a reason (it must not name the
    /// person); it escalates again from that day.
    fn snooze_alarm(youth_id: ID, rule: super::read_models::AlarmRule, due: NaiveDate, until: NaiveDate, reason: String)
        |principal, _| youth(&youth_id, alarm_answer(rule, due, kui_domain::event::AlarmAnswer::Snoozed { until, reason }, principal));
    /// Records the need level (A, B or C).
    fn assess_need(youth_id: ID, level: NeedLevel, #[graphql(default)] note: String, assessed_by: Option<ID>)
        |principal, _| youth(&youth_id, CaseCommand::AssessNeed {
            level: level.into(),
            assessed_by: staff_or_caller(assessed_by.as_ref(), principal, "assessedBy")?,
            note,
        });
    /// Records an education-readiness assessment.
    fn assess_readiness(youth_id: ID, input: AssessReadinessInput)
        |principal, _| youth(&youth_id, CaseCommand::AssessReadiness {
            education_ready: input.education_ready,
            academic: input.academic,
            social: input.social,
            personal: input.personal,
            grade: input.grade,
            assessed_by: staff_or_caller(input.assessed_by.as_ref(), principal, "assessedBy")?,
        });
    /// Records a change of school status (on a day; defaults to today).
    fn change_school_status(youth_id: ID, status: SchoolStatus, on: Option<NaiveDate>)
        |_, today| youth(&youth_id, CaseCommand::ChangeSchoolStatus { status: status.into(), on: on.unwrap_or(today) });
    /// Records guidance contact (by the caller unless `by` is given; today unless `on` is).
    fn record_contact(youth_id: ID, by: Option<ID>, on: Option<NaiveDate>, #[graphql(default)] offer_made: bool)
        |principal, today| youth(&youth_id, CaseCommand::RecordContact {
            by: staff_or_caller(by.as_ref(), principal, "by")?,
            on: on.unwrap_or(today),
            offer_made,
        });
    /// Records consent to share information between the departments named.
    fn give_consent(youth_id: ID, given_by: ConsentGiver, departments: Vec<Department>)
        |_, _| youth(&youth_id, CaseCommand::GiveConsent {
            given_by: given_by.into(),
            departments: departments.into_iter().map(Into::into).collect(),
        });
    /// Records that consent was withdrawn.
    fn withdraw_consent(youth_id: ID, withdrawn_by: ConsentGiver)
        |_, _| youth(&youth_id, CaseCommand::WithdrawConsent { withdrawn_by: withdrawn_by.into() });
    /// Offers the coordinator scheme.
    fn offer_coordinator(youth_id: ID, offered_by: Option<ID>)
        |principal, _| youth(&youth_id, CaseCommand::OfferCoordinator {
            offered_by: staff_or_caller(offered_by.as_ref(), principal, "offeredBy")?,
        });
    /// Assigns a coordinator, chosen by a staff member (the caller unless `chosenBy` is given).
    /// An assigned coordinator is released (handed over) first.
    fn assign_coordinator(youth_id: ID, coordinator: ID, chosen_by: Option<ID>)
        |principal, _| youth(&youth_id, YouthCommand::AssignCoordinator {
            coordinator: parse_id(&coordinator, "coordinator")?,
            chosen_by: CoordinatorChoice::Staff(staff_or_caller(chosen_by.as_ref(), principal, "chosenBy")?),
        });
    /// Records that the young person declined the coordinator scheme.
    fn decline_coordinator(youth_id: ID, declined_by: ConsentGiver, #[graphql(default)] note: String)
        |_, _| youth(&youth_id, CaseCommand::DeclineCoordinator { declined_by: declined_by.into(), note });
    /// Records that a team judged the coordinator scheme not relevant.
    fn judge_coordinator_not_relevant(youth_id: ID, reason: String, judged_by: Option<ID>)
        |principal, _| youth(&youth_id, CaseCommand::JudgeCoordinatorNotRelevant {
            judged_by: staff_or_caller(judged_by.as_ref(), principal, "judgedBy")?,
            reason,
        });
    /// Releases the assigned coordinator.
    fn release_coordinator(youth_id: ID, reason: ReleaseReason)
        |_, _| youth(&youth_id, CaseCommand::ReleaseCoordinator { reason: reason.into() });
    /// Appoints a coordinating caseworker (optionally naming the meeting that decided it).
    fn assign_coordinating_caseworker(youth_id: ID, caseworker: ID, meeting_id: Option<ID>)
        |_, _| youth(&youth_id, YouthCommand::AssignCoordinatingCaseworker {
            caseworker: parse_id(&caseworker, "caseworker")?,
            meeting: meeting_id.map(|id| parse_id::<MeetingId>(&id, "meetingId")).transpose()?,
        });
    /// Places the young person in a team (hands over from the current one); without
    /// `team`, the team follows from age and school status.
    fn assign_team(youth_id: ID, team: Option<Team>)
        |_, _| youth(&youth_id, CaseCommand::AssignTeam { team: team.map(Into::into) });
    /// Replaces the plan with a new revision (goals and actions).
    fn update_plan(youth_id: ID, input: UpdatePlanInput)
        |principal, _| {
            let actions = input.actions.into_iter().map(|action| Ok(PlanAction {
                description: action.description,
                department: action.department.into(),
                responsible: optional_staff(action.responsible.as_ref(), "responsible")?,
                due: action.due,
                status: action.status.unwrap_or(ActionStatus::Planned).into(),
            }));
            youth(&youth_id, CaseCommand::UpdatePlan {
                based_on_revision: input.based_on_revision,
                kind: input.kind.into(),
                plan: Plan { goals: input.goals, actions: actions.collect::<Result<_, ApiError>>()? },
                updated_by: staff_or_caller(input.updated_by.as_ref(), principal, "updatedBy")?,
            })
        };
    /// Records the transition form (expected weekly hours of support after 18).
    fn record_transition_form(
        youth_id: ID, expected_weekly_hours: u16, #[graphql(default)] note: String, recorded_by: Option<ID>,
    )
        |principal, _| youth(&youth_id, CaseCommand::RecordTransitionForm {
            expected_weekly_hours,
            recorded_by: staff_or_caller(recorded_by.as_ref(), principal, "recordedBy")?,
            note,
        });
    /// Records where the young person ended up (on a day; defaults to today).
    fn record_destination(youth_id: ID, destination: Destination, on: Option<NaiveDate>)
        |_, today| youth(&youth_id, CaseCommand::RecordDestination {
            destination: destination.into(),
            on: on.unwrap_or(today),
        });
    /// Closes the case (releasing an assigned coordinator).
    fn close_case(youth_id: ID, reason: CloseReason, #[graphql(default)] note: String)
        |_, _| youth(&youth_id, CaseCommand::Close { reason: reason.into(), note });

    // Meetings.
    /// Schedules a meeting; without `meetingId` a new id is drawn (read it from `aggregateId`).
    fn schedule_meeting(meeting_id: Option<ID>, input: ScheduleMeetingInput)
        |principal, _| {
            let meeting_id =
                meeting_id.map_or_else(|| Ok(MeetingId(Uuid::now_v7())), |id| parse_id(&id, "meetingId"))?;
            let command = MeetingCommand::Schedule {
                meeting_id,
                municipality: own_municipality(input.municipality, principal)?,
                forum: input.forum.into(),
                date: input.date,
                slot_minutes: input.slot_minutes,
                scheduled_by: staff_or_caller(input.scheduled_by.as_ref(), principal, "scheduledBy")?,
            };
            Ok(Command::Meeting(meeting_id, command))
        };
    /// Puts a case on a meeting's agenda (15 minutes, or 30 when complex).
    fn table_case(meeting_id: ID, youth_id: ID, presenter: Option<ID>, #[graphql(default)] complex: bool)
        |principal, _| meeting(&meeting_id, MeetingCommand::TableCase {
            youth_id: parse_id(&youth_id, "youthId")?,
            presenter: staff_or_caller(presenter.as_ref(), principal, "presenter")?,
            complex,
        });
    /// Records a meeting's decision on a tabled case. Appointing a coordinator or a
    /// coordinating caseworker also records it on the young person, in the same atomic
    /// append (see `streams` in the result).
    fn record_meeting_decision(meeting_id: ID, input: MeetingDecisionInput)
        |_, _| {
            let actions = input.actions.into_iter().map(|action| Ok(DecisionAction {
                what: action.what,
                department: action.department.into(),
                who: optional_staff(action.who.as_ref(), "who")?,
                due: action.due,
            }));
            let actions = actions.collect::<Result<_, ApiError>>()?;
            meeting(&meeting_id, MeetingCommand::RecordDecision(Decision {
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
            }))
        };
    /// Records that the meeting was held (on a day; defaults to today).
    fn hold_meeting(meeting_id: ID, attendees: Vec<ID>, held_on: Option<NaiveDate>)
        |_, today| meeting(&meeting_id, MeetingCommand::Hold {
            held_on: held_on.unwrap_or(today),
            attendees: attendees.iter().map(|id| parse_id(id, "attendees")).collect::<Result<_, ApiError>>()?,
        });
    /// Records the meeting's evaluation of itself (1-5).
    fn evaluate_meeting(meeting_id: ID, score: u8, #[graphql(default)] note: String)
        |_, _| meeting(&meeting_id, MeetingCommand::Evaluate { score, note });
    /// Cancels a meeting.
    fn cancel_meeting(meeting_id: ID, reason: String)
        |_, _| meeting(&meeting_id, MeetingCommand::Cancel { reason });

    // Staff.
    /// Registers a staff member; without `staffId` a new id is drawn (read it from `aggregateId`).
    fn register_staff(staff_id: Option<ID>, input: RegisterStaffInput)
        |principal, _| {
            let staff_id = staff_id.map_or_else(|| Ok(StaffId(Uuid::now_v7())), |id| parse_id(&id, "staffId"))?;
            let command = StaffCommand::Register {
                staff_id,
                name: input.name,
                department: input.department.into(),
                municipality: own_municipality(input.municipality, principal)?,
                capacity: input.capacity,
            };
            Ok(Command::Staff(staff_id, command))
        };
    /// Changes how many young people a staff member can coordinate.
    fn change_staff_capacity(staff_id: ID, capacity: u16)
        |_, _| staff(&staff_id, StaffCommand::ChangeCapacity { capacity });
    /// Records that a staff member left (last day; defaults to today).
    fn record_staff_departed(staff_id: ID, on: Option<NaiveDate>)
        |_, today| staff(&staff_id, StaffCommand::Depart { on: on.unwrap_or(today) });

    // Municipalities.
    /// Configures (or re-configures) a municipality: age band, team cadence, capacity, alarms.
    fn configure_municipality(municipality: u16, input: ConfigureMunicipalityInput)
        |_, _| {
            let code = MunicipalityCode::new(municipality)?;
            let cadence = input.cadence.map_or(TeamCadence::USUAL, |c| {
                TeamCadence { team_1_days: c.team_1_days, team_2_days: c.team_2_days, team_3_days: c.team_3_days }
            });
            let alarms = input.alarms.map_or(AlarmSettings::USUAL, |a| AlarmSettings {
                eighteen_warning_months: a.eighteen_warning_months,
                plan_stale_days: a.plan_stale_days,
                referral_untabled_days: a.referral_untabled_days,
                dropout_contact_days: a.dropout_contact_days,
                dropout_offer_days: a.dropout_offer_days,
                departed_grace_days: a.departed_grace_days,
                follow_up_grace_days: a.follow_up_grace_days,
                escalate_after_days: a.escalate_after_days,
                aftercare_warning_days: a.aftercare_warning_days,
            });
            let settings = MunicipalityConfigured {
                municipality: code,
                name: input.name,
                age_band: AgeBand::new(input.age_from, input.age_until)?,
                cadence,
                coordinator_capacity: input.coordinator_capacity,
                alarms,
                retention: input.retention.map_or_else(Default::default, Into::into),
                responsibility: input
                    .responsibility
                    .into_iter()
                    .map(|rule| kui_domain::event::ResponsibilityRule {
                        from_age: rule.from_age,
                        until_age: rule.until_age,
                        need: rule.need.map(Into::into),
                        administration: rule.administration,
                    })
                    .collect(),
                privacy: input.privacy.map_or_else(Default::default, |p| kui_domain::event::PrivacySettings {
                    min_cell: p.min_cell,
                    pseudonymised_records: p.pseudonymised_records,
                }),
            };
            Ok(Command::Municipality(code, MunicipalityCommand(settings)))
        };
}

/// The options every mutation takes: `expectedVersion`, `commandId`, `correlationId` and
/// `waitForProjections`.
type Options = (Option<u64>, Option<ID>, Option<ID>, Option<bool>);

/// Authorizes, builds the command, runs it (see [`execute`]) and optionally waits for the
/// read models.
async fn run(
    ctx: &Context<'_>,
    (expected_version, command_id, correlation_id, wait): Options,
    build: impl FnOnce(&Principal, NaiveDate) -> Result<Command, ApiError>,
) -> async_graphql::Result<CommandResult> {
    let (state, principal) = caller(ctx)?;
    let command_id = command_id.map(|id| parse_uuid(&id, "commandId")).transpose()?;
    let correlation_id = correlation_id.map(|id| parse_uuid(&id, "correlationId")).transpose()?;
    let command = build(principal, state.engine.now().date_naive())?;
    let operation = match &command {
        Command::Youth(
            _,
            YouthCommand::Case(CaseCommand::PlaceLegalHold { .. } | CaseCommand::LiftLegalHold { .. }),
        ) => Operation::HoldCase,
        Command::Refer(..) | Command::Youth(..) => Operation::WriteCase,
        Command::Erase(..) => Operation::ErasePersonalData,
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
        expected_version,
    };
    let executed = execute(state, scope, command, context).await?;
    let stream_id = if executed.streams.iter().any(|(s, _)| *s == target) {
        target
    } else {
        executed.streams.first().map(|(s, _)| s.clone()).unwrap_or(target)
    };
    let projections_caught_up = if wait.unwrap_or(false) {
        let (state, position) = (state.clone(), executed.position);
        Some(blocking(move || Ok(state.projections.wait(position, state.limits.projection_wait))).await?)
    } else {
        None
    };
    Ok(CommandResult {
        aggregate_id: ID(stream_id.split_once('-').map_or(&*stream_id, |(_, id)| id).to_owned()),
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

/// An answer is only for an alarm open now, and an alarm is only assigned to someone
/// active in the caller's scope.
fn alarm_is_open(
    engine: &kui_engine::Engine,
    scope: Scope,
    youth: YouthId,
    rule: &str,
    due: NaiveDate,
    answer: &kui_domain::event::AlarmAnswer,
) -> Result<(), ApiError> {
    let today = engine.now().date_naive();
    let open = engine.read_models().is_some_and(|models| {
        models
            .read()
            .alarms
            .alarms_of(youth, today)
            .iter()
            .any(|alarm| alarm.rule.as_str() == rule && alarm.due == due)
    });
    if !open {
        return Err(ApiError::not_found(format!(
            "an open {rule} alarm due {due} for young person {youth}"
        )));
    }
    if let kui_domain::event::AlarmAnswer::Assigned { to } = answer {
        let (staff, version) = engine.load::<Staff>(&to.stream_name())?;
        if version == 0 || !staff.is_active() {
            return Err(ApiError::invalid("to", format!("staff member {to} is not active")));
        }
        scope.require(staff.municipality, || format!("staff member {to}"))?;
    }
    Ok(())
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
        Command::Refer(referral) => create_in(referral.municipality),
        Command::Youth(youth_id, YouthCommand::Case(CaseCommand::AnswerAlarm { rule, due, answer, .. })) => {
            youth_in_scope(*youth_id)?;
            alarm_is_open(engine, scope, *youth_id, rule, *due, answer)
        }
        Command::Youth(youth_id, _) | Command::Erase(youth_id, _) => youth_in_scope(*youth_id),
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
fn alarm_answer(
    rule: super::read_models::AlarmRule,
    due: NaiveDate,
    answer: kui_domain::event::AlarmAnswer,
    principal: &Principal,
) -> CaseCommand {
    let rule: kui_engine::read_models::models::alarms::Rule = rule.into();
    CaseCommand::AnswerAlarm {
        rule: rule.as_str().to_owned(),
        due,
        answer,
        by: principal.staff,
    }
}

fn staff_or_caller(id: Option<&ID>, principal: &Principal, field: &str) -> Result<StaffId, ApiError> {
    id.map_or(Ok(principal.staff), |id| parse_id(id, field))
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

/// A command on the young person `youth_id` names.
fn youth(youth_id: &ID, command: impl Into<YouthCommand>) -> Result<Command, ApiError> {
    Ok(Command::Youth(parse_id(youth_id, "youthId")?, command.into()))
}

/// A command on the meeting `meeting_id` names.
fn meeting(meeting_id: &ID, command: MeetingCommand) -> Result<Command, ApiError> {
    Ok(Command::Meeting(parse_id(meeting_id, "meetingId")?, command))
}

/// A command on the staff member `staff_id` names.
fn staff(staff_id: &ID, command: StaffCommand) -> Result<Command, ApiError> {
    Ok(Command::Staff(parse_id(staff_id, "staffId")?, command))
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
    /// Days after someone the case depends on left before `OWNER_DEPARTED` opens.
    #[graphql(default)]
    pub departed_grace_days: u16,
    /// Days after a decision's follow-up date before `FOLLOW_UP_OVERDUE` opens.
    #[graphql(default)]
    pub follow_up_grace_days: u16,
    /// Days an alarm may stay unanswered before it escalates (to the team lead, and as
    /// many again to the youth coordinator).
    #[graphql(default = 7)]
    pub escalate_after_days: u16,
    /// Days before aftercare ends to warn when nobody on the adult side owns the case.
    #[graphql(default = 60)]
    pub aftercare_warning_days: u16,
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
    /// How long closed cases are kept before retention erases their personal data;
    /// defaults to 5 years after closure for every close reason.
    pub retention: Option<RetentionInput>,
    /// What analysts are shown; defaults to no count below 5 and pseudonymised records
    /// allowed.
    pub privacy: Option<PrivacyInput>,
    /// Which administration is responsible for a case by age and need, first match wins;
    /// empty: Hjørring's practice (`docs/read-models.md`).
    #[graphql(default)]
    pub responsibility: Vec<ResponsibilityInput>,
}

/// One rule of who is responsible for a case.
#[derive(InputObject)]
pub struct ResponsibilityInput {
    /// From this age.
    pub from_age: u8,
    /// Until (not including) this age.
    pub until_age: u8,
    /// Only for cases with this need level.
    pub need: Option<NeedLevel>,
    /// The administration.
    pub administration: String,
}

/// What analysts are shown.
#[derive(InputObject)]
pub struct PrivacyInput {
    /// The smallest non-zero count statistics show analysts (0: every count).
    pub min_cell: u16,
    /// Whether analysts may read pseudonymised records of single young people.
    pub pseudonymised_records: bool,
}

/// Years a closed case is kept, from the day it closed.
#[derive(InputObject)]
pub struct RetentionInput {
    /// Years for every case without a rule of its own.
    pub years: u16,
    /// Years by the reason the case was closed.
    #[graphql(default)]
    pub by_close_reason: Vec<RetentionRuleInput>,
}

/// Years for cases closed for one reason.
#[derive(InputObject)]
pub struct RetentionRuleInput {
    /// The close reason.
    pub reason: CloseReason,
    /// Years after closure.
    pub years: u16,
}

impl From<RetentionInput> for kui_domain::event::RetentionSettings {
    fn from(input: RetentionInput) -> Self {
        kui_domain::event::RetentionSettings {
            years: input.years,
            by_close_reason: input
                .by_close_reason
                .into_iter()
                .map(|rule| kui_domain::event::RetentionRule {
                    reason: rule.reason.into(),
                    years: rule.years,
                })
                .collect(),
        }
    }
}
