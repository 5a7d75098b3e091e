//! Keeps parsed query documents, so a query text sent again is not parsed again, and
//! the validation of texts sent without variables, so such a text is not validated again.
//!
//! Integrations send the same few query texts over and over; parsing and validating one
//! costs more than answering it from a read model. A document depends only on its text
//! (the depth and directive checks that run with the parse see only the document), so a
//! text that parsed once is served from here. Validation depends on the text, the
//! operation name and the variables (argument values, complexity), so only the outcome
//! of a request without variables is kept, under its text and operation name, and only
//! when it passed; a request with variables is validated every time. Texts that fail to
//! parse or validate are not kept, nor are very long ones.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, ServerError, ServerResult, ValidationResult, Variables};

/// Distinct query texts kept (and as many validations); when full, a cache starts over.
const CAPACITY: usize = 1024;
/// Longer texts are parsed every time.
const MAX_QUERY_BYTES: usize = 16 * 1024;

/// A query text and the operation to run from it.
type OperationKey = (String, Option<String>);

/// The schema extension (one cache shared by every request of the schema).
#[derive(Clone, Default)]
pub struct ParseCache {
    documents: Arc<Mutex<HashMap<String, ExecutableDocument>>>,
    validations: Arc<Mutex<HashMap<OperationKey, ValidationResult>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Inserts into a bounded map: a full map starts over.
fn keep<K: std::hash::Hash + Eq, V>(map: &Mutex<HashMap<K, V>>, key: K, value: V) {
    let mut map = lock(map);
    if map.len() >= CAPACITY {
        map.clear();
    }
    map.insert(key, value);
}

impl ParseCache {
    fn get(&self, query: &str) -> Option<ExecutableDocument> {
        lock(&self.documents).get(query).cloned()
    }

    fn put(&self, query: &str, document: &ExecutableDocument) {
        if query.len() <= MAX_QUERY_BYTES {
            keep(&self.documents, query.to_owned(), document.clone());
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.documents).len()
    }

    #[cfg(test)]
    pub(crate) fn validated(&self) -> usize {
        lock(&self.validations).len()
    }
}

impl ExtensionFactory for ParseCache {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ForRequest {
            cache: self.clone(),
            operation: Mutex::new(None),
        })
    }
}

/// The cache as one request sees it: which operation it runs, when its validation may
/// be reused (no variables, a text short enough to keep).
struct ForRequest {
    cache: ParseCache,
    operation: Mutex<Option<OperationKey>>,
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
        if request.variables.is_empty() && request.query.len() <= MAX_QUERY_BYTES {
            *lock(&self.operation) = Some((request.query.clone(), request.operation_name.clone()));
        }
        Ok(request)
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if let Some(document) = self.cache.get(query) {
            return Ok(document);
        }
        let document = next.run(ctx, query, variables).await?;
        self.cache.put(query, &document);
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let operation = lock(&self.operation).take();
        let Some(operation) = operation else {
            return next.run(ctx).await;
        };
        if let Some(validated) = lock(&self.cache.validations).get(&operation) {
            return Ok(*validated);
        }
        let validated = next.run(ctx).await?;
        keep(&self.cache.validations, operation, validated);
        Ok(validated)
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Request, Schema};

    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    struct Query;

    #[Object]
    impl Query {
        async fn echo(&self, text: String) -> String {
            text
        }
    }

    /// Counts the parses and validations that reach it (it sits after the cache in the
    /// chain).
    #[derive(Clone, Default)]
    struct CountParses(Arc<AtomicUsize>, Arc<AtomicUsize>);

    impl ExtensionFactory for CountParses {
        fn create(&self) -> Arc<dyn Extension> {
            Arc::new(self.clone())
        }
    }

    #[async_trait::async_trait]
    impl Extension for CountParses {
        async fn parse_query(
            &self,
            ctx: &ExtensionContext<'_>,
            query: &str,
            variables: &Variables,
            next: NextParseQuery<'_>,
        ) -> ServerResult<ExecutableDocument> {
            self.0.fetch_add(1, Ordering::SeqCst);
            next.run(ctx, query, variables).await
        }

        async fn validation(
            &self,
            ctx: &ExtensionContext<'_>,
            next: NextValidation<'_>,
        ) -> Result<ValidationResult, Vec<ServerError>> {
            self.1.fetch_add(1, Ordering::SeqCst);
            next.run(ctx).await
        }
    }

    fn schema(cache: &ParseCache, parses: &CountParses) -> Schema<Query, EmptyMutation, EmptySubscription> {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .extension(cache.clone())
            .extension(parses.clone())
            .limit_depth(3)
            .finish()
    }

    #[tokio::test]
    async fn a_text_is_parsed_once_and_answers_with_each_requests_variables() {
        let (cache, parses) = (ParseCache::default(), CountParses::default());
        let schema = schema(&cache, &parses);
        let query = "query Echo($text: String!) { echo(text: $text) }";
        for text in ["first", "second"] {
            let variables = Variables::from_json(serde_json::json!({ "text": text }));
            let response = schema.execute(Request::new(query).variables(variables)).await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            assert_eq!(
                response.data.into_json().ok(),
                Some(serde_json::json!({ "echo": text }))
            );
        }
        assert_eq!(
            parses.0.load(Ordering::SeqCst),
            1,
            "the second request is served from the cache"
        );
        assert_eq!(cache.len(), 1);
    }

    #[tokio::test]
    async fn a_cached_text_is_still_validated_and_bad_texts_are_not_kept() {
        let (cache, parses) = (ParseCache::default(), CountParses::default());
        let schema = schema(&cache, &parses);
        let query = "query Echo($text: String!) { echo(text: $text) }";
        let ok = schema
            .execute(Request::new(query).variables(Variables::from_json(serde_json::json!({ "text": "x" }))))
            .await;
        assert!(ok.errors.is_empty());
        // The same (cached) text without its required variable still fails validation.
        let missing = schema.execute(Request::new(query)).await;
        assert!(!missing.errors.is_empty());
        let broken = schema.execute(Request::new("{ echo(text: ")).await;
        assert!(!broken.errors.is_empty());
        assert_eq!(cache.len(), 1);
        assert_eq!(parses.0.load(Ordering::SeqCst), 2, "the bad text reached the parser");
    }

    #[tokio::test]
    async fn a_text_without_variables_is_validated_once_per_operation() {
        let (cache, counts) = (ParseCache::default(), CountParses::default());
        let schema = schema(&cache, &counts);
        let query = r#"query A { echo(text: "a") } query B { echo(text: "b") }"#;
        for (operation, expected) in [("A", "a"), ("B", "b"), ("A", "a"), ("B", "b")] {
            let response = schema.execute(Request::new(query).operation_name(operation)).await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            assert_eq!(
                response.data.into_json().ok(),
                Some(serde_json::json!({ "echo": expected }))
            );
        }
        assert_eq!(counts.1.load(Ordering::SeqCst), 2, "one validation per operation");
        assert_eq!(cache.validated(), 2);
    }

    #[tokio::test]
    async fn requests_with_variables_and_failed_validations_are_validated_every_time() {
        let (cache, counts) = (ParseCache::default(), CountParses::default());
        let schema = schema(&cache, &counts);
        let validations = || counts.1.load(Ordering::SeqCst);
        let query = "query Echo($text: String!) { echo(text: $text) }";
        for _ in 0..2 {
            let variables = Variables::from_json(serde_json::json!({ "text": "x" }));
            let response = schema.execute(Request::new(query).variables(variables)).await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
        }
        assert_eq!(validations(), 2, "with variables: validated each time");
        // Too deep for the schema's limit: refused by validation, every time.
        let deep = "{ __schema { types { fields { type { name } } } } }";
        for _ in 0..2 {
            let refused = schema.execute(Request::new(deep)).await;
            assert!(!refused.errors.is_empty(), "over the depth limit");
        }
        assert_eq!(validations(), 4, "a failed validation is not kept");
        assert_eq!(cache.validated(), 0);
        // Without its variable the text passes validation (values are the executor's
        // to check), which is kept; the executor still refuses it every time.
        for _ in 0..2 {
            let missing = schema.execute(Request::new(query)).await;
            assert!(!missing.errors.is_empty());
        }
        assert_eq!(validations(), 5);
        assert_eq!(cache.validated(), 1);
    }
}
