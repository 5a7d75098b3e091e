//! Queries answered from the aggregates and the logs (no read models needed).
//!
//! The root is a `MergedObject`: the read-model queries (young people with filters and
//! cursors, teams, meetings, caseload, alarms, statistics) live in `graphql/read_models.rs`
//! as one more member of [`QueryRoot`].

use std::sync::Arc;

use async_graphql::{Context, MergedObject, Object, ID};
use chrono::NaiveDate;
use kui_domain::{Cpr, Meeting, MeetingId, Staff, StaffId, YouthId};

use crate::access_log::Read;
use crate::need_to_know::{self, Class, Purpose, Sight};
use kui_engine::EngineError;
use kui_log::LogError;

use super::types::{AccessRecordView, HistoryView, LoggedEvent, MeetingView, StaffView, VerifyView, YouthCase};
use super::{caller, parse_id};
use crate::access::{authorize, Operation, Scope};
use crate::error::ApiError;
use crate::privacy::Disclosure;
use crate::state::blocking;

/// The root query.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    CaseQuery,
    MeetingQuery,
    StaffQuery,
    AuditQuery,
    super::read_models::ReadModelQuery,
);

/// Young people's cases.
#[derive(Default)]
pub struct CaseQuery;

#[Object]
impl CaseQuery {
    /// One young person's case as it stands now, by id or by CPR number (give exactly one).
    /// The read is recorded in the access log with its purpose (the role's default when
    /// none is given; `EMERGENCY` needs a `reason`) and the classes it showed; fields of a
    /// class the reader's need to know does not reach are null and the class is listed in
    /// `withheld`. Analysts get a pseudonymised record and may look up by id only.
    async fn youth(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        cpr: Option<String>,
        purpose: Option<Purpose>,
        reason: Option<String>,
    ) -> async_graphql::Result<YouthCase> {
        let (state, principal) = caller(ctx)?;
        let scope = authorize(principal, Operation::ReadCase)?;
        let youth_id = match (id, cpr) {
            (Some(id), None) => parse_id::<YouthId>(&id, "id")?,
            (None, Some(cpr)) => {
                if scope == Scope::Pseudonymised {
                    return Err(ApiError::forbidden("analysts look young people up by id only").into());
                }
                let cpr = Cpr::parse(&cpr).map_err(ApiError::from)?;
                // The keyed lookup: the id never follows from the number itself.
                state
                    .engine
                    .keys()
                    .lookup(&cpr)
                    .ok_or_else(|| ApiError::not_found("a young person with that CPR number"))?
            }
            _ => return Err(ApiError::invalid("id", "give exactly one of id and cpr").into()),
        };
        let engine = state.engine.clone();
        let loaded = blocking(move || Ok(engine.youth(youth_id)?)).await?;
        let Some((youth, version)) = loaded else {
            return Err(ApiError::not_found(format!("young person {youth_id}")).into());
        };
        if let Err(error) = scope.require(youth.municipality, || format!("young person {youth_id}")) {
            // Another municipality's young person does not exist for the caller; the
            // attempt is recorded for the auditors all the same.
            let attempted = attempted(principal, purpose, reason.as_deref());
            let error = state
                .access_log
                .refuse_async(principal, "youth", &attempted, youth_id, error)
                .await;
            return Err(error.into());
        }
        if scope == Scope::Pseudonymised && !analysts_see_records(state, youth.municipality) {
            return Err(ApiError::forbidden(
                "this municipality shows analysts statistics only, not records of single young people",
            )
            .into());
        }
        let stated = stated_or_logged(state, principal, "youth", purpose, reason.as_deref(), youth_id).await?;
        let sight = if scope == Scope::Pseudonymised {
            // Pseudonymised records hold no free text; the classes are counts and states.
            Sight::everything()
        } else {
            need_to_know::sight(principal, &stated, &youth)
        };
        let today = state.engine.now().date_naive();
        let case = YouthCase::of(
            youth_id,
            &youth,
            version,
            today,
            Disclosure::new(state, scope),
            &sight,
            stated.purpose,
        );
        // Answered only once the read is durably recorded.
        let read = Read::of("youth", &stated, &sight.shown, &sight.withheld);
        state.access_log.record_async(principal, &read, &[youth_id]).await?;
        Ok(case)
    }

    /// The auditor's replay: every event about one young person across streams (their own
    /// and the meetings that tabled or decided their case), in log order, up to and
    /// including `asOf` (business date) if given, with the case's state then.
    /// The read is recorded in the access log with its purpose. The history shows every
    /// class of the case: a reader whose need to know does not reach one (see `youth`'s
    /// `withheld`) is `FORBIDDEN`, naming it, unless the purpose is `EMERGENCY`.
    async fn history(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        as_of: Option<NaiveDate>,
        purpose: Option<Purpose>,
        reason: Option<String>,
    ) -> async_graphql::Result<HistoryView> {
        let (state, principal) = caller(ctx)?;
        let scope = authorize(principal, Operation::ReadHistory)?;
        let youth_id = parse_id::<YouthId>(&youth_id, "youthId")?;
        let stated = stated_or_logged(state, principal, "history", purpose, reason.as_deref(), youth_id).await?;
        let (state, principal) = (state.clone(), principal.clone());
        Ok(blocking(move || {
            let (youth, _) = state
                .engine
                .youth(youth_id)?
                .ok_or_else(|| ApiError::not_found(format!("young person {youth_id}")))?;
            if let Err(error) = scope.require(youth.municipality, || format!("young person {youth_id}")) {
                return Err(state.access_log.refuse(&principal, "history", &stated, youth_id, error));
            }
            let sight = need_to_know::sight(&principal, &stated, &youth);
            if !sight.withheld.is_empty() {
                let names: Vec<&str> = sight.withheld.iter().map(|c| c.as_str()).collect();
                let refused = Read::refused("history", &stated, &sight.withheld, crate::error::CODE_FORBIDDEN);
                state.access_log.record(&principal, &refused, &[youth_id])?;
                return Err(ApiError::forbidden(format!(
                    "the history shows the whole case, and your need to know does not reach its {} facts (read `youth`, or read with consent or for EMERGENCY)",
                    names.join(" and ")
                )));
            }
            let history = state.engine.history(youth_id, as_of)?;
            state
                .access_log
                .record(&principal, &Read::of("history", &stated, &sight.shown, &[]), &[youth_id])?;
            Ok(HistoryView {
                youth_id: ID(history.youth_id.to_string()),
                as_of: history.as_of,
                entries: history.entries.into_iter().map(Into::into).collect(),
                state: history.state.map(Into::into),
            })
        })
        .await?)
    }
}

/// Meetings.
#[derive(Default)]
pub struct MeetingQuery;

#[Object]
impl MeetingQuery {
    /// A meeting with its agenda (presenters and minutes), decisions and status.
    /// The agenda names young people: the read is recorded in the access log of each.
    /// Recorded with its purpose (the role's default when none is given); a meeting's
    /// participants see what it decided, every class.
    async fn meeting(
        &self,
        ctx: &Context<'_>,
        id: ID,
        purpose: Option<Purpose>,
        reason: Option<String>,
    ) -> async_graphql::Result<MeetingView> {
        let (state, principal) = caller(ctx)?;
        let scope = authorize(principal, Operation::ReadMeeting)?;
        let meeting_id = parse_id::<MeetingId>(&id, "id")?;
        let stated = need_to_know::purpose(principal, purpose, reason.as_deref())?;
        let (state, principal) = (state.clone(), principal.clone());
        Ok(blocking(move || {
            let view = load_meeting(&state.engine, meeting_id)?;
            let municipality = kui_domain::MunicipalityCode::new(view.municipality).ok();
            scope.require(municipality, || format!("meeting {meeting_id}"))?;
            let named: Vec<YouthId> = view
                .agenda
                .iter()
                .map(|item| &item.youth_id)
                .chain(view.decisions.iter().map(|d| &d.youth_id))
                .filter_map(|id| id.0.parse().ok())
                .collect();
            let read = Read::of("meeting", &stated, &Class::ALL, &[]);
            state.access_log.record(&principal, &read, &named)?;
            Ok(view)
        })
        .await?)
    }
}

/// A meeting's view, from the `Meeting` aggregate as the engine loads it (from its cache
/// when it was loaded before); `NOT_FOUND` when it was never scheduled.
pub(crate) fn load_meeting(engine: &kui_engine::Engine, meeting_id: MeetingId) -> Result<MeetingView, ApiError> {
    let (meeting, version) = engine.load::<Meeting>(&meeting_id.stream_name())?;
    MeetingView::of(&meeting, version).ok_or_else(|| ApiError::not_found(format!("meeting {meeting_id}")))
}

/// Staff.
#[derive(Default)]
pub struct StaffQuery;

#[Object]
impl StaffQuery {
    /// A staff member's record.
    async fn staff(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<StaffView> {
        let (state, principal) = caller(ctx)?;
        let scope = authorize(principal, Operation::ReadStaff)?;
        let staff_id = parse_id::<StaffId>(&id, "id")?;
        let state = state.clone();
        Ok(blocking(move || {
            let (staff, version) = state.engine.load::<Staff>(&staff_id.stream_name())?;
            if version == 0 {
                return Err(ApiError::not_found(format!("staff member {staff_id}")));
            }
            scope.require(staff.municipality, || format!("staff member {staff_id}"))?;
            StaffView::of(&staff, version)
        })
        .await?)
    }
}

/// Auditing: the log's integrity and who read what.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Checks the whole hash chain and every invariant of the history. A broken chain or
    /// invariant is a result (`ok: false` with the first bad position), not an error.
    async fn verify_log(&self, ctx: &Context<'_>) -> async_graphql::Result<VerifyView> {
        let (state, principal) = caller(ctx)?;
        authorize(principal, Operation::VerifyLog)?;
        // Waits while another caller's verification runs.
        let mut last = Arc::clone(&state.verifications.last).lock_owned().await;
        let head = state.engine.log().head_position().map_err(ApiError::from)?;
        if let Some((verified_at, view)) = &*last {
            if *verified_at == head {
                return Ok(view.clone());
            }
        }
        let state = state.clone();
        Ok(blocking(move || {
            // The lock goes with the work: the next caller waits for this verification
            // and takes its outcome, even if this caller has gone.
            state.verifications.started();
            let view = verify(&state.engine)?;
            *last = Some((head, view.clone()));
            Ok(view)
        })
        .await?)
    }

    /// The proof of a young person's erasure: the `PersonalDataErased` event, whether the
    /// key store still holds a key, and every event of theirs with its stored hash,
    /// recomputed from what is stored and linked to the event before it.
    async fn erasure_report(&self, ctx: &Context<'_>, youth_id: ID) -> async_graphql::Result<ErasureReportView> {
        let (state, principal) = caller(ctx)?;
        authorize(principal, Operation::ReadErasure)?;
        let youth: YouthId = parse_id(&youth_id, "youthId")?;
        let engine = state.engine.clone();
        let report = blocking(move || Ok(engine.erasure_report(youth)?)).await?;
        Ok(ErasureReportView {
            youth_id: ID(report.youth_id.to_string()),
            erased: report.erasure.is_some(),
            erasure: report.erasure.map(|e| ErasureRecordView {
                position: e.position,
                recorded_at: e.recorded_at,
                erased_by: e.erased_by,
                reason: e.reason,
                authority: e.authority,
                streams: e.streams,
            }),
            key: report.key,
            events: report
                .events
                .into_iter()
                .map(|e| ChainedEventView {
                    position: e.position,
                    stream_id: e.stream,
                    event_type: e.event_type,
                    hash: e.hash,
                    recomputes: e.recomputes,
                })
                .collect(),
            chain_verified: report.chain_verified,
            head_hash: report.head_hash,
        })
    }

    /// Every recorded read of one young person's case, oldest first.
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        purpose: Option<Purpose>,
    ) -> async_graphql::Result<Vec<AccessRecordView>> {
        let (state, principal) = caller(ctx)?;
        authorize(principal, Operation::ReadAccessLog)?;
        let youth_id = parse_id::<YouthId>(&youth_id, "youthId")?;
        let state = state.clone();
        Ok(blocking(move || {
            Ok(state
                .access_log
                .read(youth_id)?
                .into_iter()
                .filter(|record| purpose.is_none_or(|p| record.read.purpose == p.as_str()))
                .map(Into::into)
                .collect())
        })
        .await?)
    }

    /// Every emergency ("break the glass") read, by department and month, oldest month
    /// first, with each read; `municipality` narrows it to the readers of one.
    async fn emergency_reads(
        &self,
        ctx: &Context<'_>,
        municipality: Option<u16>,
    ) -> async_graphql::Result<Vec<EmergencyReadsView>> {
        let (state, principal) = caller(ctx)?;
        authorize(principal, Operation::ReadAccessLog)?;
        let state = state.clone();
        Ok(blocking(move || {
            let records = state.access_log.every(&mut |read| {
                read.purpose == Purpose::Emergency.as_str()
                    && read.refused.is_none()
                    && municipality.is_none_or(|code| read.municipality == Some(code))
            })?;
            let mut groups: std::collections::BTreeMap<(String, String), Vec<AccessRecordView>> =
                std::collections::BTreeMap::new();
            for record in records {
                let key = (
                    record.read.at.format("%Y-%m").to_string(),
                    record.read.department.clone(),
                );
                groups.entry(key).or_default().push(record.into());
            }
            Ok(groups
                .into_iter()
                .map(|((month, department), reads)| EmergencyReadsView {
                    month,
                    department,
                    count: u32::try_from(reads.len()).unwrap_or(u32::MAX),
                    reads,
                })
                .collect())
        })
        .await?)
    }

    /// What kui holds about one young person, to hand them when they ask (GDPR art. 15):
    /// the case with every class, every event about them with its personal fields, the plan
    /// history, the meetings' decisions, and every read of their case with its date,
    /// purpose and the reader's department (the reader's staff id only with
    /// `includeStaff`, for auditors and admins). The report is itself recorded as a read
    /// for `SUBJECT_ACCESS`.
    async fn subject_access_report(
        &self,
        ctx: &Context<'_>,
        youth_id: ID,
        #[graphql(default)] include_staff: bool,
    ) -> async_graphql::Result<SubjectAccessView> {
        let (state, principal) = caller(ctx)?;
        let scope = authorize(principal, Operation::SubjectAccess)?;
        if include_staff && !matches!(principal.role, kui_engine::Role::Auditor | kui_engine::Role::Admin) {
            return Err(ApiError::forbidden("only auditors and admins see who read").into());
        }
        let youth_id = parse_id::<YouthId>(&youth_id, "youthId")?;
        let stated = need_to_know::purpose(principal, Some(Purpose::SubjectAccess), None)?;
        let (state, principal) = (state.clone(), principal.clone());
        Ok(blocking(move || {
            let (youth, version) = state
                .engine
                .youth(youth_id)?
                .ok_or_else(|| ApiError::not_found(format!("young person {youth_id}")))?;
            if let Err(error) = scope.require(youth.municipality, || format!("young person {youth_id}")) {
                return Err(state
                    .access_log
                    .refuse(&principal, "subjectAccessReport", &stated, youth_id, error));
            }
            let history = state.engine.history(youth_id, None)?;
            let reads = state.access_log.read(youth_id)?;
            state.access_log.record(
                &principal,
                &Read::of("subjectAccessReport", &stated, &Class::ALL, &[]),
                &[youth_id],
            )?;
            let today = state.engine.now().date_naive();
            let case = YouthCase::of(
                youth_id,
                &youth,
                version,
                today,
                Disclosure::new(&state, Scope::Everywhere),
                &Sight::everything(),
                Purpose::SubjectAccess,
            );
            let events: Vec<LoggedEvent> = history.entries.into_iter().map(Into::into).collect();
            let of_type = |name: &str| {
                events
                    .iter()
                    .filter(|e| e.event_type == name)
                    .cloned()
                    .collect::<Vec<_>>()
            };
            Ok(SubjectAccessView {
                youth_id: ID(youth_id.to_string()),
                generated_at: state.engine.now(),
                case,
                plan_history: of_type("PlanUpdated"),
                decisions: of_type("DecisionRecorded"),
                reads: reads
                    .into_iter()
                    .filter(|record| record.read.refused.is_none())
                    .map(|record| SubjectReadView {
                        at: record.read.at,
                        purpose: record.read.purpose,
                        operation: record.read.operation,
                        department: record.read.department,
                        staff_id: include_staff.then_some(ID(record.read.staff_id)),
                    })
                    .collect(),
                events,
            })
        })
        .await?)
    }
}

/// The emergency reads of one department in one month.
#[derive(async_graphql::SimpleObject)]
pub struct EmergencyReadsView {
    /// `YYYY-MM`.
    pub month: String,
    /// The readers' department.
    pub department: String,
    /// How many.
    pub count: u32,
    /// The reads, with their reasons.
    pub reads: Vec<AccessRecordView>,
}

/// A subject access report.
#[derive(async_graphql::SimpleObject)]
pub struct SubjectAccessView {
    /// The young person.
    pub youth_id: ID,
    /// When the report was made.
    pub generated_at: chrono::DateTime<chrono::Utc>,
    /// The case now, every class.
    pub case: YouthCase,
    /// Every event about them, in log order, with its personal fields.
    pub events: Vec<LoggedEvent>,
    /// Every revision of their plan.
    pub plan_history: Vec<LoggedEvent>,
    /// The meetings' decisions about them.
    pub decisions: Vec<LoggedEvent>,
    /// Every read of their case.
    pub reads: Vec<SubjectReadView>,
}

/// One read of the case as the young person is told of it.
#[derive(async_graphql::SimpleObject)]
pub struct SubjectReadView {
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Why.
    pub purpose: String,
    /// Through which operation.
    pub operation: String,
    /// The reader's department.
    pub department: String,
    /// The reader (only with `includeStaff`).
    pub staff_id: Option<ID>,
}

/// Verifies the chain and the invariants; a broken one is an outcome, not an error.
fn verify(engine: &kui_engine::Engine) -> Result<VerifyView, ApiError> {
    let failed = |position: Option<u64>, reason: String| VerifyView {
        ok: false,
        events: 0,
        streams: 0,
        head_position: None,
        head_hash: None,
        youth: 0,
        meetings: 0,
        first_bad_position: position,
        problem: Some(reason),
    };
    match engine.verify(&mut |_, _| {}) {
        Ok(verified) => Ok(VerifyView {
            ok: true,
            events: verified.log.events,
            streams: verified.log.streams,
            head_position: verified.log.head.map(|(p, _)| p.0),
            head_hash: verified.log.head.map(|(_, h)| kui_engine::history::hex(&h)),
            youth: verified.youth,
            meetings: verified.meetings,
            first_bad_position: None,
            problem: None,
        }),
        Err(EngineError::Invariant { position, reason }) => Ok(failed(Some(position), reason)),
        Err(EngineError::Decode { position, source }) => Ok(failed(Some(position), source.to_string())),
        Err(EngineError::Log(LogError::Corrupt { position, reason })) => Ok(failed(position, reason)),
        Err(other) => Err(other.into()),
    }
}

/// The state of a young person folded from events (for scope checks of commands).
pub(crate) fn youth_municipality(
    engine: &kui_engine::Engine,
    youth_id: YouthId,
) -> Result<Option<kui_domain::MunicipalityCode>, ApiError> {
    let (youth, version) = engine.load::<kui_domain::Youth>(&youth_id.stream_name())?;
    if version == 0 {
        return Err(ApiError::not_found(format!("young person {youth_id}")));
    }
    Ok(youth.municipality)
}

/// The proof of an erasure.
#[derive(async_graphql::SimpleObject)]
pub struct ErasureReportView {
    /// The young person.
    pub youth_id: ID,
    /// Whether `PersonalDataErased` is recorded.
    pub erased: bool,
    /// The erasure, if recorded.
    pub erasure: Option<ErasureRecordView>,
    /// `present`, `erasing`, `erased` or `unknown`: what the key store holds of the person.
    pub key: String,
    /// Every event of the person's streams, with its stored hash.
    pub events: Vec<ChainedEventView>,
    /// True when every hash recomputes from what is stored and links to the one before.
    pub chain_verified: bool,
    /// The log's head hash.
    pub head_hash: Option<String>,
}

/// A recorded erasure.
#[derive(async_graphql::SimpleObject)]
pub struct ErasureRecordView {
    /// Its position in the log.
    pub position: u64,
    /// When it was recorded.
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    /// Who erased (a staff id, or `retention`).
    pub erased_by: String,
    /// Why.
    pub reason: String,
    /// Under which authority.
    pub authority: String,
    /// The streams it reached.
    pub streams: Vec<String>,
}

/// One event in the proof.
#[derive(async_graphql::SimpleObject)]
pub struct ChainedEventView {
    /// Position.
    pub position: u64,
    /// Stream.
    pub stream_id: String,
    /// Type.
    pub event_type: String,
    /// The stored hash, hex.
    pub hash: String,
    /// Whether the hash recomputes from the stored event and links to its predecessor.
    pub recomputes: bool,
}

/// The purpose of a read of `youth`'s case, checked; a refused purpose is recorded as a
/// refused read before the error is returned.
pub(crate) async fn stated_or_logged(
    state: &crate::state::ApiState,
    principal: &crate::auth::Principal,
    operation: &str,
    purpose: Option<Purpose>,
    reason: Option<&str>,
    youth: YouthId,
) -> Result<need_to_know::Stated, ApiError> {
    match need_to_know::purpose(principal, purpose, reason) {
        Ok(stated) => Ok(stated),
        Err(error) => {
            let attempted = attempted(principal, purpose, reason);
            Err(state
                .access_log
                .refuse_async(principal, operation, &attempted, youth, error)
                .await)
        }
    }
}

/// Whether a municipality lets analysts read pseudonymised records of single young people
/// (its privacy settings; yes when there are no read models to ask or no settings).
pub(crate) fn analysts_see_records(
    state: &crate::state::ApiState,
    municipality: Option<kui_domain::MunicipalityCode>,
) -> bool {
    match (state.engine.read_models(), municipality) {
        (Some(models), Some(code)) => models.read().directory.privacy(code).pseudonymised_records,
        _ => true,
    }
}

/// The purpose a read was attempted for, as given (or the role's default), unchecked: for
/// recording refused reads.
fn attempted(
    principal: &crate::auth::Principal,
    purpose: Option<Purpose>,
    reason: Option<&str>,
) -> need_to_know::Stated {
    need_to_know::Stated {
        purpose: purpose
            .or_else(|| need_to_know::Purpose::allowed(principal.role).first().copied())
            .unwrap_or(Purpose::Casework),
        reason: reason.map(str::to_owned),
    }
}
