//! Keeps parsed query documents, so a query text sent again is not parsed again.
//!
//! Integrations send the same few query texts over and over with different variables;
//! parsing one costs more than answering it from a read model. A document depends only
//! on its text (the depth and directive checks that run with the parse see only the
//! document), so a text that parsed once is served from here; validation, with the
//! request's variables, still runs on every request. Texts that fail to parse are not
//! kept, nor are very long ones.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerResult, Variables};

/// Distinct query texts kept; when full, the cache starts over.
const CAPACITY: usize = 1024;
/// Longer texts are parsed every time.
const MAX_QUERY_BYTES: usize = 16 * 1024;

/// The schema extension (one cache shared by every request of the schema).
#[derive(Clone, Default)]
pub struct ParseCache {
    documents: Arc<Mutex<HashMap<String, ExecutableDocument>>>,
}

impl ParseCache {
    fn get(&self, query: &str) -> Option<ExecutableDocument> {
        let documents = self.documents.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        documents.get(query).cloned()
    }

    fn put(&self, query: &str, document: &ExecutableDocument) {
        if query.len() > MAX_QUERY_BYTES {
            return;
        }
        let mut documents = self.documents.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if documents.len() >= CAPACITY {
            documents.clear();
        }
        documents.insert(query.to_owned(), document.clone());
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.documents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }
}

impl ExtensionFactory for ParseCache {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Extension for ParseCache {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if let Some(document) = self.get(query) {
            return Ok(document);
        }
        let document = next.run(ctx, query, variables).await?;
        self.put(query, &document);
        Ok(document)
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

    /// Counts the parses that reach it (it sits after the cache in the chain).
    #[derive(Clone, Default)]
    struct CountParses(Arc<AtomicUsize>);

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
}
