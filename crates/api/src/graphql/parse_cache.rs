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
//! parse or validate are not kept, nor are long ones.
//!
//! Both stores are bounded in bytes, not entries: a parsed document takes from about 15
//! times its text (ordinary queries) to over 100 times (a text of one-letter fields), so
//! each document is charged its text plus an estimate of its nodes ([`footprint`]), and
//! a store that would pass its budget starts over.

use std::collections::HashMap;
use std::hash::Hash;
use std::mem::size_of;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextValidation,
};
use async_graphql::parser::types::{
    BaseType, Directive, ExecutableDocument, FragmentDefinition, OperationDefinition, Selection, SelectionSet, Type,
    VariableDefinition,
};
use async_graphql::{Name, Positioned, Request, ServerError, ServerResult, ValidationResult, Variables};
use async_graphql_value::{ConstValue, Value};

/// Longer texts are parsed (and validated) every time.
const MAX_QUERY_BYTES: usize = 16 * 1024;
/// Bytes the kept documents may take, with their texts.
const DOCUMENT_BUDGET: usize = 8 * 1024 * 1024;
/// Bytes the kept validations may take (their keys: text and operation name).
const VALIDATION_BUDGET: usize = 1024 * 1024;

/// A query text and the operation to run from it.
type OperationKey = (String, Option<String>);

/// The schema extension (one cache shared by every request of the schema).
#[derive(Clone)]
pub struct ParseCache {
    documents: Arc<Mutex<Kept<String, ExecutableDocument>>>,
    validations: Arc<Mutex<Kept<OperationKey, ValidationResult>>>,
    /// Requests handed a kept document.
    hits: Arc<AtomicU64>,
}

impl ParseCache {
    /// Forgets every kept document and validation.
    pub(crate) fn clear(&self) {
        lock(&self.documents).clear();
        lock(&self.validations).clear();
    }
}

impl Default for ParseCache {
    fn default() -> Self {
        ParseCache {
            documents: Arc::new(Mutex::new(Kept::new(DOCUMENT_BUDGET))),
            validations: Arc::new(Mutex::new(Kept::new(VALIDATION_BUDGET))),
            hits: Arc::default(),
        }
    }
}

/// A map bounded by the bytes its entries are charged: one that would pass its budget
/// starts over (the texts that matter are sent again and come back at once).
struct Kept<K, V> {
    entries: HashMap<K, V>,
    bytes: usize,
    budget: usize,
}

impl<K: Hash + Eq, V> Kept<K, V> {
    fn new(budget: usize) -> Self {
        Kept {
            entries: HashMap::new(),
            bytes: 0,
            budget,
        }
    }

    fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
    {
        self.entries.get(key)
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    /// Keeps `value` under `key`, charged `bytes`; an entry larger than the whole budget
    /// is not kept.
    fn insert(&mut self, key: K, value: V, bytes: usize) {
        if bytes > self.budget || self.entries.contains_key(&key) {
            return;
        }
        if self.bytes + bytes > self.budget {
            self.entries.clear();
            self.bytes = 0;
        }
        self.entries.insert(key, value);
        self.bytes += bytes;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ParseCache {
    fn get(&self, query: &str) -> Option<ExecutableDocument> {
        lock(&self.documents).get(query).cloned()
    }

    fn contains(&self, query: &str) -> bool {
        lock(&self.documents).get(query).is_some()
    }

    fn put(&self, query: &str, document: &ExecutableDocument) {
        if query.len() <= MAX_QUERY_BYTES {
            let bytes = size_of::<(String, ExecutableDocument)>() + query.len() + footprint(document);
            lock(&self.documents).insert(query.to_owned(), document.clone(), bytes);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.documents).entries.len()
    }

    #[cfg(test)]
    fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    pub(crate) fn validated(&self) -> usize {
        lock(&self.validations).entries.len()
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        lock(&self.documents).bytes
    }
}

/// Roughly the heap a parsed document takes: its nodes (as allocated, spare capacity
/// included), names and values; map overhead is estimated. Within a few percent of what
/// the allocator hands out for ordinary queries, the introspection query and texts of
/// one-letter fields alike.
pub(crate) fn footprint(document: &ExecutableDocument) -> usize {
    let operations: usize = document
        .operations
        .iter()
        .map(|(name, operation)| {
            let operation = &operation.node;
            size_of::<(Name, Positioned<OperationDefinition>)>()
                + MAP_ENTRY
                + name.map_or(0, name_bytes)
                + vec_bytes(&operation.variable_definitions, variable_bytes)
                + directives_bytes(&operation.directives)
                + selection_set_bytes(&operation.selection_set.node)
        })
        .sum();
    let fragments: usize = document
        .fragments
        .iter()
        .map(|(name, fragment)| {
            size_of::<(Name, Positioned<FragmentDefinition>)>()
                + MAP_ENTRY
                + name_bytes(name)
                + name_bytes(&fragment.node.type_condition.node.on.node)
                + directives_bytes(&fragment.node.directives)
                + selection_set_bytes(&fragment.node.selection_set.node)
        })
        .sum();
    operations + fragments
}

/// What a hash map adds per entry (control bytes, spare capacity), roughly.
const MAP_ENTRY: usize = 16;

/// A vector's allocation and what its items hold below them.
fn vec_bytes<T>(items: &Vec<T>, below: impl Fn(&T) -> usize) -> usize {
    items.capacity() * size_of::<T>() + items.iter().map(below).sum::<usize>()
}

fn name_bytes(name: &Name) -> usize {
    // A name is an `Arc<str>`: two counters and the text.
    2 * size_of::<usize>() + name.len()
}

fn selection_set_bytes(set: &SelectionSet) -> usize {
    vec_bytes(&set.items, |item| match &item.node {
        Selection::Field(field) => {
            let field = &field.node;
            field.alias.as_ref().map_or(0, |alias| name_bytes(&alias.node))
                + name_bytes(&field.name.node)
                + arguments_bytes(&field.arguments)
                + directives_bytes(&field.directives)
                + selection_set_bytes(&field.selection_set.node)
        }
        Selection::FragmentSpread(spread) => {
            name_bytes(&spread.node.fragment_name.node) + directives_bytes(&spread.node.directives)
        }
        Selection::InlineFragment(inline) => {
            inline
                .node
                .type_condition
                .as_ref()
                .map_or(0, |condition| name_bytes(&condition.node.on.node))
                + directives_bytes(&inline.node.directives)
                + selection_set_bytes(&inline.node.selection_set.node)
        }
    })
}

fn arguments_bytes(arguments: &Vec<(Positioned<Name>, Positioned<Value>)>) -> usize {
    vec_bytes(arguments, |(name, value)| {
        name_bytes(&name.node) + value_bytes(&value.node)
    })
}

fn directives_bytes(directives: &Vec<Positioned<Directive>>) -> usize {
    vec_bytes(directives, |directive| {
        name_bytes(&directive.node.name.node) + arguments_bytes(&directive.node.arguments)
    })
}

fn variable_bytes(variable: &Positioned<VariableDefinition>) -> usize {
    let variable = &variable.node;
    name_bytes(&variable.name.node)
        + type_bytes(&variable.var_type.node)
        + directives_bytes(&variable.directives)
        + variable
            .default_value
            .as_ref()
            .map_or(0, |value| const_value_bytes(&value.node))
}

fn type_bytes(ty: &Type) -> usize {
    match &ty.base {
        BaseType::Named(name) => name_bytes(name),
        BaseType::List(inner) => size_of::<Type>() + type_bytes(inner),
    }
}

/// The heap below a value (the value itself is counted where it is stored).
fn value_bytes(value: &Value) -> usize {
    match value {
        Value::Variable(name) | Value::Enum(name) => name_bytes(name),
        Value::String(text) => text.capacity(),
        Value::Binary(bytes) => bytes.len(),
        Value::List(items) => vec_bytes(items, value_bytes),
        Value::Object(fields) => fields
            .iter()
            .map(|(name, item)| size_of::<(Name, Value)>() + MAP_ENTRY + name_bytes(name) + value_bytes(item))
            .sum(),
        Value::Null | Value::Number(_) | Value::Boolean(_) => 0,
    }
}

/// [`value_bytes`] for constants (default values of variables).
fn const_value_bytes(value: &ConstValue) -> usize {
    match value {
        ConstValue::Enum(name) => name_bytes(name),
        ConstValue::String(text) => text.capacity(),
        ConstValue::Binary(bytes) => bytes.len(),
        ConstValue::List(items) => vec_bytes(items, const_value_bytes),
        ConstValue::Object(fields) => fields
            .iter()
            .map(|(name, item)| {
                size_of::<(Name, ConstValue)>() + MAP_ENTRY + name_bytes(name) + const_value_bytes(item)
            })
            .sum(),
        ConstValue::Null | ConstValue::Number(_) | ConstValue::Boolean(_) => 0,
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
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        // Handed over in the request, so that the extensions after this one (the query
        // limits) see the document and the parse step takes it instead of parsing.
        if let Some(document) = self.cache.get(&request.query) {
            self.cache.hits.fetch_add(1, Ordering::Relaxed);
            request.set_parsed_query(document);
        }
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
        // A kept document comes in the request (see `prepare_request`); the parse step's
        // checks (recursion depth, directives) run on it again, in time linear in it.
        let document = next.run(ctx, query, variables).await?;
        if !self.cache.contains(query) {
            self.cache.put(query, &document);
        }
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
        let bytes = size_of::<(OperationKey, ValidationResult)>()
            + operation.0.len()
            + operation.1.as_ref().map_or(0, String::len);
        lock(&self.cache.validations).insert(operation, validated, bytes);
        Ok(validated)
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Request, Schema};

    use std::sync::atomic::AtomicUsize;

    use super::*;

    struct Query;

    #[Object]
    impl Query {
        async fn echo(&self, text: String) -> String {
            text
        }
    }

    /// Counts the validations that reach it (it sits after the cache in the chain).
    #[derive(Clone, Default)]
    struct CountValidations(Arc<AtomicUsize>);

    impl ExtensionFactory for CountValidations {
        fn create(&self) -> Arc<dyn Extension> {
            Arc::new(self.clone())
        }
    }

    #[async_trait::async_trait]
    impl Extension for CountValidations {
        async fn validation(
            &self,
            ctx: &ExtensionContext<'_>,
            next: NextValidation<'_>,
        ) -> Result<ValidationResult, Vec<ServerError>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            next.run(ctx).await
        }
    }

    fn schema(cache: &ParseCache, counts: &CountValidations) -> Schema<Query, EmptyMutation, EmptySubscription> {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .extension(cache.clone())
            .extension(counts.clone())
            .limit_depth(3)
            .finish()
    }

    #[tokio::test]
    async fn a_text_is_parsed_once_and_answers_with_each_requests_variables() {
        let (cache, counts) = (ParseCache::default(), CountValidations::default());
        let schema = schema(&cache, &counts);
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
        assert_eq!(cache.hits(), 1, "the second request is handed the kept document");
        assert_eq!(cache.len(), 1);
    }

    #[tokio::test]
    async fn a_cached_text_is_still_validated_and_bad_texts_are_not_kept() {
        let (cache, counts) = (ParseCache::default(), CountValidations::default());
        let schema = schema(&cache, &counts);
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
        assert_eq!(cache.hits(), 1, "only the known text is handed over");
    }

    #[tokio::test]
    async fn a_text_without_variables_is_validated_once_per_operation() {
        let (cache, counts) = (ParseCache::default(), CountValidations::default());
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
        assert_eq!(counts.0.load(Ordering::SeqCst), 2, "one validation per operation");
        assert_eq!(cache.validated(), 2);
    }

    #[tokio::test]
    async fn requests_with_variables_and_failed_validations_are_validated_every_time() {
        let (cache, counts) = (ParseCache::default(), CountValidations::default());
        let schema = schema(&cache, &counts);
        let validations = || counts.0.load(Ordering::SeqCst);
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

    #[test]
    fn a_document_is_charged_for_its_nodes_not_only_its_text() {
        let parse = |text: &str| async_graphql::parser::parse_query(text).unwrap_or_else(|e| panic!("{e}"));
        let one_letter_fields = format!("{{{}}}", " a".repeat(8_000));
        let charged = footprint(&parse(&one_letter_fields));
        assert!(
            charged > 50 * one_letter_fields.len(),
            "{charged} bytes for a text of {}",
            one_letter_fields.len()
        );
        let ordinary = "query($y: ID!) { youth(id: $y) { name team coordinator { status staffId } version } }";
        let charged = footprint(&parse(ordinary));
        assert!(
            charged > 5 * ordinary.len() && charged < 100 * ordinary.len(),
            "{charged}"
        );
    }

    #[tokio::test]
    async fn the_documents_kept_stay_within_their_budget_in_bytes() {
        let (cache, counts) = (ParseCache::default(), CountValidations::default());
        let schema = schema(&cache, &counts);
        // Each text is as long as may be kept and parses into a large document.
        let fields = " a".repeat(MAX_QUERY_BYTES / 2 - 64);
        for n in 0..12 {
            let query = format!("query Q{n} {{ echo(text: \"{n}\") }} fragment F{n} on Query {{{fields}}}");
            assert!(query.len() <= MAX_QUERY_BYTES);
            let _ = schema.execute(Request::new(query)).await;
        }
        assert!(cache.len() >= 1, "the latest texts are kept");
        assert!(cache.len() < 12, "the earlier ones were let go");
        assert!(cache.bytes() <= DOCUMENT_BUDGET, "{} bytes kept", cache.bytes());
        let too_long = format!("{{ echo(text: \"x\") }} #{}", "x".repeat(MAX_QUERY_BYTES));
        let kept = cache.len();
        let _ = schema.execute(Request::new(too_long.clone())).await;
        assert!(cache.get(&too_long).is_none(), "a long text is not kept");
        assert!(cache.len() <= kept);
    }
}
