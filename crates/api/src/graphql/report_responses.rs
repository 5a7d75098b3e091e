//! Answers repeated queries of reports and single cases from memory.
//!
//! A dashboard asks for the same report (caseload, one coordinator's load, teams,
//! meetings, statistics) over and over, and a case system shows the same young person's
//! case to several people in turn. Between two changes of the log and the read models
//! every answer to such a query is the same: it depends only on the log, the models, the
//! day, the arguments and the caller's role and municipality. A query whose root fields
//! are all reports or `youth` (fields only, no fragments at the root) is answered from
//! [`ResponseCache`] while the log's head, the models' position and the day are those it
//! was answered for. The key is the query text, the operation name, the variables and the
//! caller's role and municipality. Only answers without errors are kept.
//!
//! A kept answer that showed cases remembers whose (the resolvers note each recorded read
//! in the request's [`CaseReads`]), and answering from memory records the same reads for
//! the new caller in the access log first: every read is recorded, however it is answered.
//! Root fields that read cases in other ways (`youngPeople`, `meeting`, `history`,
//! `accessLog`) are never answered from here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection};
use async_graphql::{Pos, Request, Response, ServerResult, Value, Variables};
use axum::body::Bytes;
use chrono::NaiveDate;
use kui_domain::YouthId;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::ApiState;

/// The root fields whose answers may be kept: reports, which read no case.
const REPORTS: &[&str] = &[
    "caseload",
    "coordinatorLoad",
    "teams",
    "meetings",
    "statistics",
    "__typename",
];

/// The root fields that read cases and may still be kept: their resolvers note every
/// read they record in [`CaseReads`], so that an answer from memory records them again.
const CASE_READS: &[&str] = &["youth"];

/// Longer query texts are never kept.
const MAX_QUERY_BYTES: usize = 16 * 1024;

/// Kept answers, in [`ApiState::responses`], by query text and then by the rest of the
/// key (operation, variables, role, municipality), so that a text never kept costs one
/// lookup and no copy.
#[derive(Default)]
pub struct ResponseCache {
    answers: Mutex<Answers>,
    hits: AtomicU64,
}

#[derive(Default)]
struct Answers {
    by_text: HashMap<String, HashMap<String, Arc<Answer>>>,
    count: usize,
}

/// Where the log and the read models stood when an answer was computed, and the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Basis {
    head: u64,
    models: u64,
    day: NaiveDate,
}

struct Answer {
    basis: Basis,
    data: Value,
    reads: Vec<Read>,
    /// The HTTP body `{"data": ...}`, serialized on the first answer over HTTP.
    body: OnceLock<Result<Bytes, String>>,
}

impl Answer {
    /// Records, for `principal`, the reads of cases this answer showed: an answer from
    /// memory is given only once they are recorded.
    async fn record_reads(&self, state: &ApiState, principal: &Principal) -> Result<(), ApiError> {
        for read in &self.reads {
            state
                .access_log
                .record_async(principal, read.operation, &read.youth)
                .await?;
        }
        Ok(())
    }
}

/// One recorded read: the operation and the young people it showed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Read {
    operation: &'static str,
    youth: Vec<YouthId>,
}

/// The reads of cases one request recorded, in request data for its resolvers.
#[derive(Clone, Default)]
pub struct CaseReads(Arc<Mutex<Vec<Read>>>);

impl CaseReads {
    /// Notes a read the caller has just recorded in the access log.
    pub fn note(&self, operation: &'static str, youth: &[YouthId]) {
        lock(&self.0).push(Read {
            operation,
            youth: youth.to_vec(),
        });
    }

    fn take(&self) -> Vec<Read> {
        std::mem::take(&mut *lock(&self.0))
    }
}

impl ResponseCache {
    /// The most answers kept; when full, the cache starts over.
    pub const CAPACITY: usize = 1024;

    fn lock(&self) -> MutexGuard<'_, Answers> {
        lock(&self.answers)
    }

    /// How many queries were answered from the cache.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// The answer kept for `text` and the rest of the key on `basis`; the rest is only
    /// built when answers for `text` are kept.
    fn get(&self, text: &str, rest: impl FnOnce() -> String, basis: Basis) -> Option<Arc<Answer>> {
        let answers = self.lock();
        let answer = answers.by_text.get(text)?.get(&rest())?;
        if answer.basis != basis {
            return None;
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(Arc::clone(answer))
    }

    fn put(&self, text: &str, rest: String, basis: Basis, data: Value, reads: Vec<Read>) {
        let answer = Arc::new(Answer {
            basis,
            data,
            reads,
            body: OnceLock::new(),
        });
        let mut answers = self.lock();
        let known = answers
            .by_text
            .get(text)
            .is_some_and(|for_text| for_text.contains_key(&rest));
        if answers.count >= Self::CAPACITY && !known {
            *answers = Answers::default();
        }
        if !known {
            answers.count += 1;
        }
        answers.by_text.entry(text.to_owned()).or_default().insert(rest, answer);
    }
}

/// The part of the key after the query text: the operation, the variables and the
/// caller's role and municipality.
fn rest_of_key(operation: Option<&str>, variables: &Variables, principal: &Principal) -> String {
    format!(
        "{operation:?}\u{0}{variables}\u{0}{}\u{0}{:?}",
        principal.role.as_str(),
        principal.municipality.map(u16::from)
    )
}

/// Answers a request over HTTP from the cache, before the GraphQL engine sees it: the
/// kept answer's serialized body, once the reads it showed are recorded for `principal`.
/// None when nothing is kept for it (the engine then runs, and may keep its answer).
pub async fn answer_over_http(
    state: &ApiState,
    request: &Request,
    principal: &Principal,
) -> Option<Result<Bytes, ApiError>> {
    if request.query.len() > MAX_QUERY_BYTES {
        return None;
    }
    let basis = basis_now(state, state.engine.read_models()?)?;
    let rest = || rest_of_key(request.operation_name.as_deref(), &request.variables, principal);
    let answer = state.responses.get(&request.query, rest, basis)?;
    if let Err(error) = answer.record_reads(state, principal).await {
        return Some(Err(error));
    }
    let body = answer.body.get_or_init(|| {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            data: &'a Value,
        }
        serde_json::to_vec(&Body { data: &answer.data })
            .map(Bytes::from)
            .map_err(|error| error.to_string())
    });
    Some(
        body.clone()
            .map_err(|reason| ApiError::internal(&std::io::Error::other(reason))),
    )
}

/// The schema extension.
#[derive(Clone, Copy, Default)]
pub struct ReportResponses;

impl ExtensionFactory for ReportResponses {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ForRequest::default())
    }
}

/// What one request needs: the operation it runs, the reads of cases its resolvers
/// record, and, once its document shows that it asks only for what may be kept, the part
/// of its key that the request gives (text, operation, variables). Other requests build
/// no key at all.
#[derive(Default)]
struct ForRequest {
    operation_name: Mutex<Option<String>>,
    /// The query text and variables of a request that may be kept.
    key: Mutex<Option<(String, Variables)>>,
    reads: CaseReads,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether the operation `name` selects (the only one when `None`) is a query whose
/// root selections are all fields that may be kept.
fn keepable(document: &ExecutableDocument, name: Option<&str>) -> bool {
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => match operations.get(name) {
            Some(operation) => operation,
            None => return false,
        },
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => match operations.values().next() {
            Some(operation) => operation,
            None => return false,
        },
        (DocumentOperations::Multiple(_), None) => return false,
    };
    operation.node.ty == OperationType::Query
        && operation
            .node
            .selection_set
            .node
            .items
            .iter()
            .all(|selection| match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    REPORTS.contains(&name) || CASE_READS.contains(&name)
                }
                Selection::FragmentSpread(_) | Selection::InlineFragment(_) => false,
            })
}

#[async_trait::async_trait]
impl Extension for ForRequest {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let request = next.run(ctx, request).await?;
        lock(&self.operation_name).clone_from(&request.operation_name);
        Ok(request.data(self.reads.clone()))
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let name = lock(&self.operation_name).take();
        if query.len() <= MAX_QUERY_BYTES && keepable(&document, name.as_deref()) {
            *lock(&self.key) = Some((query.to_owned(), variables.clone()));
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let key = lock(&self.key).take();
        let (Some((text, variables)), Some(principal), Some(state)) =
            (key, ctx.data_opt::<Principal>(), ctx.data_opt::<ApiState>())
        else {
            return next.run(ctx, operation_name).await;
        };
        let Some(models) = state.engine.read_models() else {
            return next.run(ctx, operation_name).await;
        };
        let rest = rest_of_key(operation_name, &variables, principal);
        // Where things stand is read first: an answer computed while the log or the
        // models move on is not kept.
        let Some(basis) = basis_now(state, models) else {
            return next.run(ctx, operation_name).await;
        };
        if let Some(answer) = state.responses.get(&text, || rest.clone(), basis) {
            return match answer.record_reads(state, principal).await {
                Ok(()) => Response::new(answer.data.clone()),
                Err(error) => Response::from_errors(vec![error.to_graphql().into_server_error(Pos::default())]),
            };
        }
        let response = next.run(ctx, operation_name).await;
        if response.errors.is_empty() && basis_now(state, models) == Some(basis) {
            state
                .responses
                .put(&text, rest, basis, response.data.clone(), self.reads.take());
        }
        response
    }
}

/// Where the log and the models stand now, and the day (None if the log does not answer).
fn basis_now(state: &ApiState, models: &kui_engine::read_models::Projections) -> Option<Basis> {
    Some(Basis {
        head: state.engine.log().head_position().ok()?,
        models: models.position(),
        day: state.engine.now().date_naive(),
    })
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn only(query: &str, name: Option<&str>) -> bool {
        let document = parse_query(query).unwrap_or_else(|e| panic!("{e}"));
        keepable(&document, name)
    }

    #[test]
    fn only_queries_of_reports_and_single_cases_at_the_root_are_kept() {
        assert!(only("{ caseload { coordinators { name } } }", None));
        assert!(only(
            "query Q { a: teams { teams { team } } statistics { asOf } }",
            None
        ));
        assert!(only(
            "{ caseload { ...Load } } fragment Load on CaseloadView { coordinators { name } }",
            None
        ));
        assert!(only(
            r#"{ caseload { coordinators { name } } youth(id: "x") { name } }"#,
            None
        ));
        assert!(only(
            r#"{ a: youth(id: "x") { name } b: youth(cpr: "y") { name } }"#,
            None
        ));
        assert!(!only("{ youngPeople { totalCount } }", None));
        assert!(!only(
            r#"{ youth(id: "x") { name } history(youthId: "x") { events { type } } }"#,
            None
        ));
        assert!(!only(r#"{ meeting(id: "x") { agenda { name } } }"#, None));
        assert!(!only(
            "{ ...Root } fragment Root on QueryRoot { caseload { departments { department } } }",
            None
        ));
        assert!(!only("mutation { caseload }", None));
        assert!(!only("subscription { caseload }", None));
        let two = "query A { caseload { departments { department } } } query B { accessLog(youthId: \"x\") { at } }";
        assert!(only(two, Some("A")));
        assert!(!only(two, Some("B")));
        assert!(!only(two, None), "without a name the operation is ambiguous");
        assert!(!only(two, Some("C")));
    }

    #[test]
    fn an_answer_is_kept_for_its_basis_only_with_its_reads_and_the_cache_is_bounded() {
        let cache = ResponseCache::default();
        let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default();
        let basis = Basis {
            head: 9,
            models: 5,
            day,
        };
        let youth = YouthId(uuid::Uuid::from_u128(7));
        let read = Read {
            operation: "youth",
            youth: vec![youth],
        };
        cache.put("q", "v".into(), basis, Value::from(1), vec![read.clone()]);
        let get = |text: &str, rest: &str, basis| cache.get(text, || rest.to_owned(), basis);
        let answer = get("q", "v", basis).unwrap_or_else(|| panic!("kept"));
        assert_eq!(answer.data, Value::from(1));
        assert_eq!(
            answer.reads,
            vec![read],
            "the reads to record again come with the answer"
        );
        assert!(get("q", "v", Basis { head: 10, ..basis }).is_none(), "the log moved on");
        assert!(
            get("q", "v", Basis { models: 6, ..basis }).is_none(),
            "the models moved on"
        );
        let tomorrow = day.succ_opt().unwrap_or_default();
        assert!(get("q", "v", Basis { day: tomorrow, ..basis }).is_none(), "another day");
        assert!(get("q", "w", basis).is_none(), "other variables or another caller");
        assert!(get("r", "v", basis).is_none());
        let mut built = false;
        assert!(cache
            .get(
                "never kept",
                || {
                    built = true;
                    String::new()
                },
                basis
            )
            .is_none());
        assert!(!built, "a text never kept builds no key");
        assert_eq!(cache.hits(), 1);
        for n in 0..ResponseCache::CAPACITY + 5 {
            cache.put(&format!("k{n}"), "v".into(), basis, Value::from(1), Vec::new());
        }
        let answers = cache.lock();
        let held: usize = answers.by_text.values().map(HashMap::len).sum();
        assert_eq!(held, answers.count);
        assert!(held <= ResponseCache::CAPACITY);
    }

    #[test]
    fn a_request_hands_over_the_reads_it_noted_once() {
        let reads = CaseReads::default();
        let youth = YouthId(uuid::Uuid::from_u128(3));
        reads.clone().note("youth", &[youth]);
        assert_eq!(
            reads.take(),
            vec![Read {
                operation: "youth",
                youth: vec![youth]
            }]
        );
        assert!(reads.take().is_empty());
    }
}
