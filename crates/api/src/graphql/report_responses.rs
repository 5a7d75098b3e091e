//! Answers repeated report queries from memory.
//!
//! A dashboard asks for the same report (caseload, one coordinator's load, teams,
//! meetings, statistics) over and over, and between two changes of the read models every
//! answer to it is the same: these reports depend only on the models, the day, the
//! arguments and the caller's role and municipality. A query whose root fields are all
//! such reports (fields only, no fragments at the root) is answered from
//! [`ResponseCache`] while the models stay at the position, and the day, it was answered
//! for. The key is the query text, the operation name, the variables and the caller's
//! role and municipality. Only answers without errors are kept. Nothing that reads a case
//! (and so is recorded in the access log) is ever answered from here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection};
use async_graphql::{Request, Response, ServerResult, Value, Variables};
use chrono::NaiveDate;

use crate::auth::Principal;
use crate::state::ApiState;

/// The root fields whose answers may be kept.
const REPORTS: &[&str] = &[
    "caseload",
    "coordinatorLoad",
    "teams",
    "meetings",
    "statistics",
    "__typename",
];

/// Longer query texts are never kept.
const MAX_QUERY_BYTES: usize = 16 * 1024;

/// Kept answers, in [`ApiState::responses`].
#[derive(Default)]
pub struct ResponseCache {
    answers: Mutex<HashMap<String, Answer>>,
    hits: AtomicU64,
}

struct Answer {
    position: u64,
    day: NaiveDate,
    data: Value,
}

impl ResponseCache {
    /// The most answers kept; when full, the cache starts over.
    pub const CAPACITY: usize = 256;

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Answer>> {
        lock(&self.answers)
    }

    /// How many queries were answered from the cache.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    fn get(&self, key: &str, position: u64, day: NaiveDate) -> Option<Value> {
        let answers = self.lock();
        let answer = answers.get(key)?;
        if answer.position != position || answer.day != day {
            return None;
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(answer.data.clone())
    }

    fn put(&self, key: String, position: u64, day: NaiveDate, data: Value) {
        let mut answers = self.lock();
        if answers.len() >= Self::CAPACITY && !answers.contains_key(&key) {
            answers.clear();
        }
        answers.insert(key, Answer { position, day, data });
    }
}

/// The schema extension.
#[derive(Clone, Copy, Default)]
pub struct ReportResponses;

impl ExtensionFactory for ReportResponses {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ForRequest::default())
    }
}

/// What one request needs: the operation it runs, and, once its document shows that it
/// asks for reports only, the part of its key that the request gives (text, operation,
/// variables). Other requests build no key at all.
#[derive(Default)]
struct ForRequest {
    operation_name: Mutex<Option<String>>,
    key: Mutex<Option<String>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether the operation `name` selects (the only one when `None`) is a query whose
/// root selections are all report fields.
fn reports_only(document: &ExecutableDocument, name: Option<&str>) -> bool {
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
                Selection::Field(field) => REPORTS.contains(&field.node.name.node.as_str()),
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
        Ok(request)
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
        if query.len() <= MAX_QUERY_BYTES && reports_only(&document, name.as_deref()) {
            *lock(&self.key) = Some(format!("{query}\u{0}{name:?}\u{0}{variables}"));
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
        let (Some(key), Some(principal), Some(state)) = (key, ctx.data_opt::<Principal>(), ctx.data_opt::<ApiState>())
        else {
            return next.run(ctx, operation_name).await;
        };
        let Some(models) = state.engine.read_models() else {
            return next.run(ctx, operation_name).await;
        };
        let key = format!(
            "{key}\u{0}{}\u{0}{:?}",
            principal.role.as_str(),
            principal.municipality.map(u16::from)
        );
        // The position is read first: an answer computed while the models move on is
        // not kept.
        let position = models.position();
        let day = state.engine.now().date_naive();
        if let Some(data) = state.responses.get(&key, position, day) {
            return Response::new(data);
        }
        let response = next.run(ctx, operation_name).await;
        if response.errors.is_empty() && models.position() == position {
            state.responses.put(key, position, day, response.data.clone());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn only(query: &str, name: Option<&str>) -> bool {
        let document = parse_query(query).unwrap_or_else(|e| panic!("{e}"));
        reports_only(&document, name)
    }

    #[test]
    fn only_queries_of_report_fields_at_the_root_are_kept() {
        assert!(only("{ caseload { coordinators { name } } }", None));
        assert!(only(
            "query Q { a: teams { teams { team } } statistics { asOf } }",
            None
        ));
        assert!(only(
            "{ caseload { ...Load } } fragment Load on CaseloadView { coordinators { name } }",
            None
        ));
        assert!(!only(
            r#"{ caseload { coordinators { name } } youth(id: "x") { name } }"#,
            None
        ));
        assert!(!only("{ youngPeople { totalCount } }", None));
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
    fn an_answer_is_kept_for_its_position_and_day_only_and_the_cache_is_bounded() {
        let cache = ResponseCache::default();
        let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default();
        cache.put("q".into(), 5, day, Value::from(1));
        assert_eq!(cache.get("q", 5, day), Some(Value::from(1)));
        assert_eq!(cache.get("q", 6, day), None, "the models moved on");
        assert_eq!(
            cache.get("q", 5, day.succ_opt().unwrap_or_default()),
            None,
            "another day"
        );
        assert_eq!(cache.get("r", 5, day), None);
        assert_eq!(cache.hits(), 1);
        for n in 0..ResponseCache::CAPACITY + 5 {
            cache.put(format!("k{n}"), 1, day, Value::from(1));
        }
        assert!(cache.lock().len() <= ResponseCache::CAPACITY);
    }
}
