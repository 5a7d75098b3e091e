//! Running commands: load, decide, append with the expected version, retry on conflict.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use kui_domain::values::Department;
use kui_domain::youth::CaseStatus;
use kui_domain::{
    Aggregate, CoordinatorChoice, Event, InvalidInput, Meeting, MeetingCommand, MeetingId, Municipality,
    MunicipalityCode, MunicipalityCommand, Referral, Rejection, Staff, StaffCommand, StaffId, Youth, YouthCommand,
    YouthId, YouthInput,
};
use kui_keys::KeyStore;
use kui_log::{
    AppendOutcome, AppendRequest, Envelope, EventLog, ExpectedVersion, Metadata, NewEvent, StreamAppend, StreamId,
    Version,
};
use kui_projections::Projections;
use uuid::Uuid;

use crate::actor::Actor;
use crate::cache::{self, AggregateCache, Cached};
use crate::clock::{Clock, IdSource};
use crate::error::EngineError;

/// A command for one aggregate. Cross-aggregate effects (a meeting decision that assigns a
/// coordinator) are added by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Refer a young person, named by CPR number: the case of the one referred before
    /// (found through the key store's keyed lookup) or a new one with a random id.
    Refer(Referral),
    /// A young person's case.
    Youth(YouthId, YouthCommand),
    /// Record the erasure of a young person's personal data (see [`Engine::erase`], which
    /// also destroys the key).
    Erase(YouthId, Erasure),
    /// A meeting.
    Meeting(MeetingId, MeetingCommand),
    /// A staff member.
    Staff(StaffId, StaffCommand),
    /// A municipality's settings.
    Municipality(MunicipalityCode, MunicipalityCommand),
}

/// Why and under which authority personal data is erased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// Who: a staff id, or `retention` for the schedule.
    pub erased_by: String,
    /// Why (must not name the person).
    pub reason: String,
    /// Under which authority.
    pub authority: String,
    /// Every stream holding the young person's sealed data (the engine fills it in).
    pub streams: Vec<String>,
}

impl Command {
    /// The stream the command is addressed to; a referral's is known once the engine has
    /// looked the CPR number up.
    pub fn stream_name(&self) -> String {
        match self {
            Command::Refer(_) => String::new(),
            Command::Youth(id, _) | Command::Erase(id, _) => id.stream_name(),
            Command::Meeting(id, _) => id.stream_name(),
            Command::Staff(id, _) => id.stream_name(),
            Command::Municipality(code, _) => code.stream_name(),
        }
    }
}

/// Who sends a command and how it should be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandContext {
    /// Who.
    pub actor: Actor,
    /// Makes the command idempotent: resending it returns the first result.
    pub command_id: Option<Uuid>,
    /// Ties the events to a wider piece of work in the caller's system.
    pub correlation_id: Option<Uuid>,
    /// The version the caller last saw of the target stream (0 = must not exist).
    /// With it, a moved stream is a conflict instead of a retry.
    pub expected_version: Option<u64>,
}

impl CommandContext {
    /// A context with only an actor.
    pub fn by(actor: Actor) -> Self {
        Self {
            actor,
            command_id: None,
            correlation_id: None,
            expected_version: None,
        }
    }

    /// Sets the command id.
    pub fn with_command_id(mut self, command_id: Uuid) -> Self {
        self.command_id = Some(command_id);
        self
    }

    /// Sets the expected version.
    pub fn expecting(mut self, version: u64) -> Self {
        self.expected_version = Some(version);
        self
    }
}

/// What a command wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executed {
    /// The target stream's new version.
    pub version: u64,
    /// The global position of the first event written.
    pub first_position: u64,
    /// The global position of the last event written.
    pub position: u64,
    /// Every stream written, with its new version.
    pub streams: Vec<(String, u64)>,
    /// True when the command id was seen before and this is the first result again.
    pub replayed: bool,
}

impl Executed {
    /// The result of the append that recorded a command on `target`.
    pub fn of(target: &str, outcome: AppendOutcome) -> Self {
        let version = outcome
            .streams
            .iter()
            .find(|(stream, _)| stream.as_str() == target)
            .or(outcome.streams.first())
            .map(|(_, v)| v.0)
            .unwrap_or(0);
        Executed {
            version,
            first_position: outcome.first_position.0,
            position: outcome.last_position.0,
            streams: outcome.streams.iter().map(|(s, v)| (s.to_string(), v.0)).collect(),
            replayed: outcome.replayed,
        }
    }
}

/// The application service: everything user-facing writes through it.
#[derive(Clone)]
pub struct Engine {
    log: Arc<dyn EventLog>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    max_attempts: u32,
    pub(crate) related: Arc<std::sync::Mutex<crate::history::RelatedIndex>>,
    read_models: Option<Arc<Projections>>,
    aggregates: Arc<AggregateCache>,
    keys: Arc<KeyStore>,
}

/// Events decided for one stream, before they are stamped with metadata.
struct Decided {
    stream: String,
    expected: ExpectedVersion,
    events: Vec<Event>,
    /// Index into the plan of the event that caused these (cross-aggregate effects).
    caused_by: Option<(usize, usize)>,
}

impl Engine {
    /// An engine over a log and the key store its personal data is sealed under, with
    /// injected time and ids.
    pub fn new(log: Arc<dyn EventLog>, keys: Arc<KeyStore>, clock: Arc<dyn Clock>, ids: Arc<dyn IdSource>) -> Self {
        Self {
            log,
            keys,
            clock,
            ids,
            max_attempts: 5,
            related: Arc::default(),
            read_models: None,
            aggregates: Arc::new(AggregateCache::new(cache::DEFAULT_CAPACITY)),
        }
    }

    /// The same engine keeping at most `capacity` folded aggregates between loads
    /// (0: replay every stream from its first event on every load).
    pub fn with_aggregate_cache(mut self, capacity: usize) -> Self {
        self.aggregates = Arc::new(AggregateCache::new(capacity));
        self
    }

    /// The same engine with live read models attached, for read-your-writes waits.
    pub fn with_read_models(mut self, read_models: Arc<Projections>) -> Self {
        self.read_models = Some(read_models);
        self
    }

    /// The attached read models, if any.
    pub fn read_models(&self) -> Option<&Arc<Projections>> {
        self.read_models.as_ref()
    }

    /// Waits until the attached read models include `position` (read-your-writes).
    /// True when they do (or when none are attached), false when `timeout` passed first.
    pub fn wait_for_read_models(&self, position: u64, timeout: std::time::Duration) -> bool {
        self.read_models
            .as_ref()
            .is_none_or(|read_models| read_models.wait_for(position, timeout))
    }

    /// The log underneath.
    pub fn log(&self) -> &Arc<dyn EventLog> {
        &self.log
    }

    /// The key store.
    pub fn keys(&self) -> &Arc<KeyStore> {
        &self.keys
    }

    /// A fresh id from the engine's id source.
    pub(crate) fn next_id(&self) -> Uuid {
        self.ids.next_id()
    }

    pub(crate) fn forget_cached(&self, stream: &str) {
        self.aggregates.forget(stream);
    }

    /// The engine's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Refuses `as_of` after the clock's today: `doing` ("tick", "apply retention") is
    /// never run ahead of time.
    pub(crate) fn not_after_today(&self, as_of: chrono::NaiveDate, doing: &str) -> Result<(), EngineError> {
        let today = self.now().date_naive();
        if as_of > today {
            return Err(EngineError::Invalid(format!(
                "cannot {doing} into the future: {as_of} is after today ({today})"
            )));
        }
        Ok(())
    }

    /// Runs a command now.
    pub fn execute(&self, command: Command, context: &CommandContext) -> Result<Executed, EngineError> {
        self.execute_checked(command, context, |_, _| Ok(()))
    }

    /// Runs a command now if the caller's `check` lets it. The check runs on every
    /// attempt, before the command id is looked up and before the decision, so that it
    /// sees the records the decision will see (the API checks the caller's municipality
    /// there); its error is returned as it is and nothing is written.
    pub fn execute_checked<E>(
        &self,
        command: Command,
        context: &CommandContext,
        check: impl FnMut(&Engine, &Command) -> Result<(), E>,
    ) -> Result<Executed, E>
    where
        E: From<EngineError>,
    {
        self.run(&command, context, self.clock.now(), check)
    }

    /// Runs a command with `business_time` as the decision's "now" (the age-milestone
    /// scheduler uses the day the milestone fell due).
    pub(crate) fn execute_at(
        &self,
        command: Command,
        context: &CommandContext,
        business_time: DateTime<Utc>,
    ) -> Result<Executed, EngineError> {
        self.run(&command, context, business_time, |_, _| Ok(()))
    }

    /// The retry loop: check, decide and append; after a lost race (a conflict although
    /// the caller gave no expected version) check and decide again on the newer state,
    /// [`EngineError::Contention`] after the last of `max_attempts`.
    fn run<E>(
        &self,
        command: &Command,
        context: &CommandContext,
        business_time: DateTime<Utc>,
        mut check: impl FnMut(&Engine, &Command) -> Result<(), E>,
    ) -> Result<Executed, E>
    where
        E: From<EngineError>,
    {
        for _attempt in 0..self.max_attempts {
            check(self, command)?;
            match self.attempt(command, context, business_time) {
                Err(EngineError::Conflict { .. }) if context.expected_version.is_none() => continue,
                result => return result.map_err(E::from),
            }
        }
        Err(EngineError::Contention {
            attempts: self.max_attempts,
        }
        .into())
    }

    /// One attempt: the stored result of a command id seen before, or the command decided
    /// now, stamped and appended with the versions it was decided on.
    fn attempt(
        &self,
        command: &Command,
        context: &CommandContext,
        business_time: DateTime<Utc>,
    ) -> Result<Executed, EngineError> {
        if let Some(command_id) = context.command_id {
            if let Some(outcome) = self.log.command_outcome(command_id)? {
                return Ok(Executed {
                    replayed: true,
                    ..Executed::of(&command.stream_name(), outcome)
                });
            }
        }
        let decided = self.decide(command, context, business_time)?;
        let target = decided.first().map(|part| part.stream.clone()).unwrap_or_default();
        let request = self.stamp(decided, context, business_time)?;
        Ok(Executed::of(&target, self.log.append(request)?))
    }

    /// Visits every durable event from `from` on, in position order; an error from
    /// `visit` stops the scan and is returned as it is.
    pub(crate) fn scan_log(
        &self,
        from: u64,
        visit: &mut dyn FnMut(&Envelope) -> Result<(), EngineError>,
    ) -> Result<u64, EngineError> {
        kui_log::try_scan(
            self.log.as_ref(),
            kui_log::Position(from.max(1)),
            kui_log::Position(u64::MAX),
            visit,
        )
    }

    /// Loads an aggregate with its version (0 = empty stream): the state folded at an
    /// earlier load, with the events appended since folded onto it (see [`crate::cache`]).
    pub fn load<A>(&self, stream: &str) -> Result<(A, u64), EngineError>
    where
        A: Aggregate + Clone + Send + Sync + 'static,
    {
        let head = self.log.head_position()?;
        match self.aggregates.get::<A>(stream) {
            Some(cached) => self.bring_up_to_date(stream, cached, head),
            None => self.fold_newer(stream, A::default(), 0, head),
        }
    }

    /// A cached aggregate as it is at `head` (read before) or later.
    fn bring_up_to_date<A>(&self, stream: &str, cached: Cached<A>, head: u64) -> Result<(A, u64), EngineError>
    where
        A: Aggregate + Clone + Send + Sync + 'static,
    {
        if cached.checked_at >= head {
            // Nothing was appended since the state was known complete.
            return Ok((A::clone(&cached.state), cached.version));
        }
        self.fold_newer(stream, A::clone(&cached.state), cached.version, head)
    }

    /// Folds the events of `stream` after version `folded` onto `state`; `head` is the
    /// log's head read before, so the result is complete at least up to it.
    fn fold_newer<A>(&self, stream: &str, mut state: A, folded: u64, head: u64) -> Result<(A, u64), EngineError>
    where
        A: Aggregate + Clone + Send + Sync + 'static,
    {
        let stream_id = stream_id(stream)?;
        let envelopes = self.log.read_stream(&stream_id, Version(folded + 1))?;
        let Some(last) = envelopes.last() else {
            if folded > 0 {
                self.aggregates.checked(stream, folded, head);
            }
            return Ok((state, folded));
        };
        let version = last.version.0;
        for envelope in &envelopes {
            state.apply(&self.decode_personal(envelope)?);
        }
        self.aggregates.put(stream, version, head, Arc::new(state.clone()));
        Ok((state, version))
    }

    /// A young person's name, opened under their key (the erased placeholder once erased).
    /// Lists ask this for every row: a case known complete at the log's head is read in
    /// place, without copying the whole case.
    pub fn youth_name(&self, id: YouthId) -> Result<Option<String>, EngineError> {
        let stream = id.stream_name();
        if let Some(cached) = self.aggregates.get::<Youth>(&stream) {
            if cached.checked_at >= self.log.head_position()? {
                return Ok((cached.version > 0).then(|| cached.state.name.clone()));
            }
        }
        Ok(self.youth(id)?.map(|(youth, _)| youth.name))
    }

    /// A young person's case as it is now, if referred.
    pub fn youth(&self, id: YouthId) -> Result<Option<(Youth, u64)>, EngineError> {
        let (youth, version) = self.load::<Youth>(&id.stream_name())?;
        Ok((version > 0).then_some((youth, version)))
    }

    fn decide(
        &self,
        command: &Command,
        context: &CommandContext,
        now: DateTime<Utc>,
    ) -> Result<Vec<Decided>, EngineError> {
        let target = command.stream_name();
        let decided = match command {
            Command::Refer(referral) => self.decide_referral(referral, now)?,
            Command::Erase(id, erasure) => {
                let (youth, version) = self.load::<Youth>(&target)?;
                let events = youth.decide(
                    YouthInput::Erase {
                        erased_by: erasure.erased_by.clone(),
                        reason: erasure.reason.clone(),
                        authority: erasure.authority.clone(),
                        streams: erasure.streams.clone(),
                    },
                    now,
                )?;
                if youth.id != Some(*id) {
                    return Err(EngineError::NotFound {
                        what: format!("young person {id}"),
                    });
                }
                vec![Decided {
                    stream: target.clone(),
                    expected: expected(version),
                    events,
                    caused_by: None,
                }]
            }
            Command::Youth(_, youth_command) => {
                let (youth, version) = self.load::<Youth>(&target)?;
                let input = self.youth_input(youth_command.clone())?;
                let events = youth.decide(input, now)?;
                vec![Decided {
                    stream: target.clone(),
                    expected: expected(version),
                    events,
                    caused_by: None,
                }]
            }
            Command::Meeting(id, meeting_command) => self.decide_meeting(*id, meeting_command, context, now)?,
            Command::Staff(_, staff_command) => {
                if let StaffCommand::Register { municipality, .. } = staff_command {
                    self.require_municipality(*municipality)?;
                }
                let (staff, version) = self.load::<Staff>(&target)?;
                let events = staff.decide(staff_command.clone(), now)?;
                vec![Decided {
                    stream: target.clone(),
                    expected: expected(version),
                    events,
                    caused_by: None,
                }]
            }
            Command::Municipality(code, municipality_command) => {
                if municipality_command.0.municipality != *code {
                    return Err(InvalidInput::new("municipality", "the settings name another municipality").into());
                }
                let (municipality, version) = self.load::<Municipality>(&target)?;
                let events = municipality.decide(municipality_command.clone(), now)?;
                vec![Decided {
                    stream: target.clone(),
                    expected: expected(version),
                    events,
                    caused_by: None,
                }]
            }
        };
        if let Some(wanted) = context.expected_version {
            if let Some(first) = decided.first() {
                let actual = match first.expected {
                    ExpectedVersion::Exact(Version(version)) => Some(version),
                    ExpectedVersion::NoStream | ExpectedVersion::Any => None,
                };
                if wanted != actual.unwrap_or(0) {
                    return Err(EngineError::Conflict {
                        stream: first.stream.clone(),
                        expected: wanted,
                        actual,
                    });
                }
            }
        }
        Ok(decided)
    }

    /// The input a young person's command is decided on: the command with the facts
    /// other records hold (the municipality's age band, a staff member's department).
    fn youth_input(&self, command: YouthCommand) -> Result<YouthInput, EngineError> {
        Ok(match command {
            YouthCommand::AssignCoordinator { coordinator, chosen_by } => YouthInput::AssignCoordinator {
                coordinator,
                department: self.active_staff(coordinator)?,
                chosen_by,
            },
            YouthCommand::AssignCoordinatingCaseworker { caseworker, meeting } => {
                YouthInput::AssignCoordinatingCaseworker {
                    caseworker,
                    department: self.active_staff(caseworker)?,
                    meeting,
                }
            }
            YouthCommand::Case(command) => YouthInput::Case(command),
        })
    }

    /// A referral: the young person found by CPR number, or a new random id; the key store
    /// registers a new person (key and lookup, durably) only once the referral is decided.
    fn decide_referral(&self, referral: &Referral, now: DateTime<Utc>) -> Result<Vec<Decided>, EngineError> {
        let known = self.keys.lookup(&referral.cpr);
        let id = known.unwrap_or_else(|| YouthId(self.ids.next_id()));
        let stream = id.stream_name();
        let (youth, version) = self.load::<Youth>(&stream)?;
        let age_band = self.require_municipality(referral.municipality)?.age_band();
        self.active_staff(referral.referred_by)?;
        let events = youth.decide(
            YouthInput::Refer {
                youth_id: id,
                referral: referral.clone(),
                age_band,
            },
            now,
        )?;
        if known.is_none() {
            let (registered, _) = self.keys.register(&referral.cpr, || id).map_err(EngineError::Keys)?;
            if registered != id {
                // Another referral of the same person registered first: decide again.
                return Err(EngineError::Conflict {
                    stream,
                    expected: 0,
                    actual: None,
                });
            }
        }
        Ok(vec![Decided {
            stream,
            expected: expected(version),
            events,
            caused_by: None,
        }])
    }

    /// Decodes a stored event with its personal fields opened under the young person's
    /// key, or read as erased when the key is gone (or was never in this key store).
    pub fn decode_personal(&self, envelope: &Envelope) -> Result<Event, EngineError> {
        if !kui_keys::is_sealed(&envelope.payload) {
            return decode(envelope);
        }
        /// Whose key opens a sealed payload: every event with personal fields names them.
        #[derive(serde::Deserialize)]
        struct Subject {
            youth_id: Option<YouthId>,
        }
        let subject: Option<YouthId> = serde_json::from_slice::<Subject>(&envelope.payload)
            .ok()
            .and_then(|s| s.youth_id);
        let key = subject.and_then(|youth| self.keys.key(youth).ok());
        let opened = kui_keys::open(&envelope.payload, &envelope.event_type, envelope.event_id, key.as_ref()).map_err(
            |source| EngineError::Sealed {
                position: envelope.position.0,
                source,
            },
        )?;
        Event::decode(&envelope.event_type, envelope.schema_version, &opened).map_err(|source| EngineError::Decode {
            position: envelope.position.0,
            source,
        })
    }

    fn decide_meeting(
        &self,
        id: MeetingId,
        command: &MeetingCommand,
        context: &CommandContext,
        now: DateTime<Utc>,
    ) -> Result<Vec<Decided>, EngineError> {
        let stream = id.stream_name();
        let (meeting, version) = self.load::<Meeting>(&stream)?;
        match command {
            MeetingCommand::Schedule {
                meeting_id,
                municipality,
                ..
            } => {
                if *meeting_id != id {
                    return Err(InvalidInput::new("meeting id", "does not match the meeting addressed").into());
                }
                self.require_municipality(*municipality)?;
            }
            MeetingCommand::TableCase {
                youth_id, presenter, ..
            } => {
                self.open_youth(*youth_id)?;
                self.active_staff(*presenter)?;
            }
            _ => {}
        }
        let events = meeting.decide(command.clone(), now)?;
        let mut decided = vec![Decided {
            stream: stream.clone(),
            expected: expected(version),
            events,
            caused_by: None,
        }];
        if let MeetingCommand::RecordDecision(decision) = command {
            let (mut youth, youth_version) = self.open_youth(decision.youth_id)?;
            let decider =
                context.actor.staff.or(decision.lead).ok_or_else(|| {
                    EngineError::Invalid("a decision needs a staff member: the actor or the lead".into())
                })?;
            let mut youth_events = Vec::new();
            let mut follow_ups = Vec::new();
            if let Some(coordinator) = decision.coordinator {
                let department = self.active_staff(coordinator)?;
                follow_ups.push(YouthInput::AssignCoordinator {
                    coordinator,
                    department,
                    chosen_by: CoordinatorChoice::Meeting(id, decider),
                });
            }
            if let Some(caseworker) = decision.coordinating_caseworker {
                let department = self.active_staff(caseworker)?;
                follow_ups.push(YouthInput::AssignCoordinatingCaseworker {
                    caseworker,
                    department,
                    meeting: Some(id),
                });
            }
            for follow_up in follow_ups {
                match youth.decide(follow_up, now) {
                    Ok(events) => {
                        for event in &events {
                            youth.apply(event);
                        }
                        youth_events.extend(events);
                    }
                    // The decision confirms what is already so: nothing to add to the case.
                    Err(Rejection::SameCoordinator | Rejection::NoChange { .. }) => {}
                    Err(rejection) => return Err(rejection.into()),
                }
            }
            if !youth_events.is_empty() {
                decided.push(Decided {
                    stream: decision.youth_id.stream_name(),
                    expected: expected(youth_version),
                    events: youth_events,
                    caused_by: Some((0, 0)),
                });
            }
        }
        Ok(decided)
    }

    fn require_municipality(&self, code: MunicipalityCode) -> Result<Municipality, EngineError> {
        let (municipality, version) = self.load::<Municipality>(&code.stream_name())?;
        if version == 0 {
            return Err(EngineError::NotFound {
                what: format!("municipality {code} (configure it first)"),
            });
        }
        Ok(municipality)
    }

    fn active_staff(&self, id: StaffId) -> Result<Department, EngineError> {
        let (staff, _) = self.load::<Staff>(&id.stream_name())?;
        match (staff.is_active(), staff.department) {
            (true, Some(department)) => Ok(department),
            _ if staff.id.is_some() => Err(Rejection::StaffInactive { staff: id.to_string() }.into()),
            _ => Err(EngineError::NotFound {
                what: format!("staff member {id}"),
            }),
        }
    }

    fn open_youth(&self, id: YouthId) -> Result<(Youth, u64), EngineError> {
        let (youth, version) = self.load::<Youth>(&id.stream_name())?;
        match youth.status {
            CaseStatus::Open => Ok((youth, version)),
            CaseStatus::Closed => Err(Rejection::CaseClosed.into()),
            CaseStatus::Unknown => Err(EngineError::NotFound {
                what: format!("young person {id}"),
            }),
        }
    }

    /// Gives every decided event its id and metadata, with causation links.
    fn stamp(
        &self,
        decided: Vec<Decided>,
        context: &CommandContext,
        business_time: DateTime<Utc>,
    ) -> Result<AppendRequest, EngineError> {
        let recorded_at = self.clock.now();
        let actor = context.actor.to_log();
        let mut event_ids: Vec<Vec<Uuid>> = Vec::with_capacity(decided.len());
        let mut streams = Vec::with_capacity(decided.len());
        for part in decided {
            let causation_id = part
                .caused_by
                .and_then(|(stream_idx, event_idx)| {
                    event_ids.get(stream_idx).and_then(|ids| ids.get(event_idx)).copied()
                })
                .or(context.command_id);
            let ids: Vec<Uuid> = part.events.iter().map(|_| self.ids.next_id()).collect();
            let correlation_id = context.correlation_id.or(context.command_id).or(ids.first().copied());
            let events = part
                .events
                .iter()
                .zip(&ids)
                .map(|(event, event_id)| {
                    Ok(NewEvent {
                        event_id: *event_id,
                        event_type: event.event_type().to_owned(),
                        schema_version: event.schema_version(),
                        payload: self.sealed_payload(event, *event_id)?,
                        metadata: Metadata {
                            actor: actor.clone(),
                            command_id: context.command_id,
                            causation_id,
                            correlation_id,
                            occurred_at: business_time,
                            recorded_at,
                        },
                    })
                })
                .collect::<Result<_, EngineError>>()?;
            event_ids.push(ids);
            streams.push(StreamAppend {
                stream: stream_id(&part.stream)?,
                expected: part.expected,
                events,
            });
        }
        Ok(AppendRequest {
            command_id: context.command_id,
            streams,
        })
    }
}

impl Engine {
    /// The payload to store: with the personal fields sealed under the young person's key.
    pub(crate) fn sealed_payload(&self, event: &Event, event_id: Uuid) -> Result<Vec<u8>, EngineError> {
        let payload = event.to_payload();
        let Some(subject) = kui_domain::personal::subject(event) else {
            return Ok(payload);
        };
        let key = self.keys.key(subject).map_err(EngineError::Keys)?;
        kui_keys::seal(&payload, event.event_type(), event_id, &key)
            .map_err(|source| EngineError::Sealed { position: 0, source })
    }
}

fn expected(version: u64) -> ExpectedVersion {
    if version == 0 {
        ExpectedVersion::NoStream
    } else {
        ExpectedVersion::Exact(Version(version))
    }
}

/// Parses a stream name the engine built itself.
pub(crate) fn stream_id(name: &str) -> Result<StreamId, EngineError> {
    StreamId::new(name).map_err(EngineError::from)
}

/// Decodes a stored event into a domain event.
pub fn decode(envelope: &Envelope) -> Result<Event, EngineError> {
    Event::decode(&envelope.event_type, envelope.schema_version, &envelope.payload).map_err(|source| {
        EngineError::Decode {
            position: envelope.position.0,
            source,
        }
    })
}
