//! Refuses a query whose size or cost is over a limit before anything expands its
//! fragments.
//!
//! async-graphql expands fragment spreads wherever it walks a document: the recursion
//! check that runs with the parse, the validation rules that count depth and complexity,
//! and the executor. A document of a few dozen fragments, each spreading the one before
//! twice, expands to millions of fields, and those walks take seconds and gigabytes
//! before any limit of theirs is checked. This extension measures the parsed document
//! in `prepare_request`, before the parse step's own checks and before validation, with
//! each fragment definition walked once and its totals reused at every spread: time and
//! memory are linear in the text whatever it expands to.
//!
//! It refuses, in this order:
//! - a fragment that spreads itself, directly or through others (`INVALID_INPUT`): every
//!   expanding walk would recurse for ever;
//! - a document that expands to more than `max_fields` fields (`QUERY_TOO_LARGE`), every
//!   operation and fragment definition counted (validation walks each of them);
//! - an operation nested deeper than `max_depth` (`QUERY_TOO_DEEP`), not counting
//!   introspection (`__schema`, `__type`): the query graphql-js builds for GraphiQL and
//!   code generators nests `ofType` nine levels deep, and its answer is small and fixed;
//! - an operation with more than `max_root_fields` root fields (`TOO_MANY_ROOT_FIELDS`) or
//!   more than `max_aliases` aliases (`TOO_MANY_ALIASES`), fragments expanded: aliases
//!   are how one request asks for the same expensive field many times;
//! - more than `max_case_reads` root fields that read and record one case, or more than
//!   `max_verifications` `verifyLog`, or a weighted cost over `max_cost` (all
//!   `QUERY_TOO_COMPLEX`; the weights are in `graphql/cost.rs`).
//!
//! The parse cache, before this extension in the chain, hands over a kept document, so
//! a text sent again is measured without being parsed again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::{Pos, Request, ServerResult, Variables};

use super::cost::{Arguments, Paged, Shape, CASE_READS, INTROSPECTION};
use crate::error::{ApiError, QueryLimit};
use crate::state::Limits;

/// The schema extension.
pub struct QueryLimits {
    limits: Arc<Limits>,
    shape: Arc<Shape>,
}

impl QueryLimits {
    /// The extension enforcing `limits`, weighing fields by the schema's `shape`.
    pub fn new(limits: &Limits, shape: Shape) -> Self {
        QueryLimits {
            limits: Arc::new(limits.clone()),
            shape: Arc::new(shape),
        }
    }
}

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ForRequest {
            limits: Arc::clone(&self.limits),
            shape: Arc::clone(&self.shape),
        })
    }
}

struct ForRequest {
    limits: Arc<Limits>,
    shape: Arc<Shape>,
}

#[async_trait::async_trait]
impl Extension for ForRequest {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let operation_name = request.operation_name.clone();
        let variables = std::mem::take(&mut request.variables);
        // Parsed here unless the parse cache handed over a kept document; the document
        // stays in the request, so it is not parsed again.
        let checked = request.parsed_query().and_then(|document| {
            check(
                &self.shape,
                document,
                operation_name.as_deref(),
                &variables,
                &self.limits,
            )
            .map_err(|error| error.to_graphql().into_server_error(Pos::default()))
        });
        request.variables = variables;
        checked?;
        next.run(ctx, request).await
    }
}

/// Measures `document` and checks it against `limits`.
pub(crate) fn check(
    shape: &Shape,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    limits: &Limits,
) -> Result<(), ApiError> {
    let measure = measure(shape, document, operation_name, variables)?;
    let over = |limit: QueryLimit, actual: u64, max: u64| {
        if actual > max {
            Err(ApiError::OverLimit { limit, actual, max })
        } else {
            Ok(())
        }
    };
    over(QueryLimit::ExpandedFields, measure.expanded_fields, limits.max_fields)?;
    over(QueryLimit::Depth, measure.depth, limits.max_depth)?;
    over(QueryLimit::RootFields, measure.root_fields, limits.max_root_fields)?;
    over(QueryLimit::Aliases, measure.aliases, limits.max_aliases)?;
    over(QueryLimit::CaseReads, measure.case_reads, limits.max_case_reads)?;
    over(
        QueryLimit::Verifications,
        measure.verifications,
        limits.max_verifications,
    )?;
    over(QueryLimit::Cost, measure.cost, limits.max_cost)?;
    Ok(())
}

/// What a document expands to and costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Measure {
    /// Fields of every operation and fragment definition, spreads expanded.
    pub expanded_fields: u64,
    /// Deepest nesting of fields in the operation to run (the largest, when the name does
    /// not pick one; likewise below), introspection not counted.
    pub depth: u64,
    /// Root fields of the operation to run.
    pub root_fields: u64,
    /// Aliased fields of the operation to run.
    pub aliases: u64,
    /// Its root fields that read and record one case.
    pub case_reads: u64,
    /// Its `verifyLog` fields.
    pub verifications: u64,
    /// Its weighted cost.
    pub cost: u64,
}

/// What one selection set expands to. Counts saturate: a small document can expand to
/// more fields than a `u64` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Tally {
    /// Fields, spreads expanded.
    fields: u64,
    /// Fields with an alias.
    aliases: u64,
    /// Fields at the top of the set (root fields, for an operation's set).
    top: u64,
    /// Deepest nesting of fields, introspection not counted.
    depth: u64,
    /// Root fields that read one case.
    case_reads: u64,
    /// Root `verifyLog` fields.
    verifications: u64,
    /// Weighted cost, outside the lists a root field's argument sizes.
    cost: u64,
    /// Weighted cost of one item of those lists, for the root field to multiply.
    per_item: u64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.top = self.top.saturating_add(other.top);
        self.depth = self.depth.max(other.depth);
        self.case_reads = self.case_reads.saturating_add(other.case_reads);
        self.verifications = self.verifications.saturating_add(other.verifications);
        self.cost = self.cost.saturating_add(other.cost);
        self.per_item = self.per_item.saturating_add(other.per_item);
    }
}

/// Measures `document`, refusing fragment cycles.
pub(crate) fn measure(
    shape: &Shape,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Result<Measure, ApiError> {
    let selected = selected(document, operation_name);
    // A variable not sent takes its default, as the executor gives it: `first: $n` with
    // `$n: Int = 200` asks for 200.
    let operations = document.operations.iter().map(|(_, operation)| &operation.node);
    let defaults: Vec<_> = selected
        .into_iter()
        .chain(operations)
        .flat_map(|operation| &operation.variable_definitions)
        .filter_map(|definition| {
            Some((
                &definition.node.name.node,
                &definition.node.default_value.as_ref()?.node,
            ))
        })
        .filter(|(name, _)| !variables.contains_key(*name))
        .collect();
    let with_defaults;
    let variables = if defaults.is_empty() {
        variables
    } else {
        let mut all = variables.clone();
        for (name, default) in defaults {
            // The selected operation's default comes first and stays.
            all.entry(name.clone()).or_insert_with(|| default.clone());
        }
        with_defaults = all;
        &with_defaults
    };
    let mut walker = Walker {
        shape,
        variables,
        fragments: HashMap::with_capacity(document.fragments.len()),
    };
    for name in fragment_order(document)? {
        if let Some(fragment) = document.fragments.get(name) {
            let on = fragment.node.type_condition.node.on.node.as_str();
            let tally = walker.walk(&fragment.node.selection_set.node, Some(on));
            walker.fragments.insert(name, tally);
        }
    }
    let mut expanded_fields = walker
        .fragments
        .values()
        .fold(0_u64, |total, tally| total.saturating_add(tally.fields));
    let mut chosen = Measure::default();
    for (_, operation) in document.operations.iter() {
        let root = shape.root(operation.node.ty);
        let tally = walker.walk(&operation.node.selection_set.node, root);
        expanded_fields = expanded_fields.saturating_add(tally.fields);
        // Without an operation by that name (the executor refuses it), every one counts.
        if selected.is_none_or(|selected| std::ptr::eq(selected, &operation.node)) {
            chosen.depth = chosen.depth.max(tally.depth);
            chosen.root_fields = chosen.root_fields.max(tally.top);
            chosen.aliases = chosen.aliases.max(tally.aliases);
            chosen.case_reads = chosen.case_reads.max(tally.case_reads);
            chosen.verifications = chosen.verifications.max(tally.verifications);
            chosen.cost = chosen.cost.max(tally.cost.saturating_add(tally.per_item));
        }
    }
    Ok(Measure {
        expanded_fields,
        ..chosen
    })
}

/// Walks selection sets knowing their types, with the tallies of the fragments walked
/// so far.
struct Walker<'a> {
    shape: &'a Shape,
    variables: &'a Variables,
    fragments: HashMap<&'a str, Tally>,
}

impl Walker<'_> {
    /// The tally of `set`, of type `ty` (`None` when unknown: an introspection type or a
    /// field the schema lacks, which validation refuses), with the tallies of the
    /// fragments it spreads taken from those walked before (a spread of a fragment not
    /// there counts nothing: validation refuses an unknown fragment). Recurses only into
    /// nested fields, whose depth the parser bounds.
    fn walk(&self, set: &SelectionSet, ty: Option<&str>) -> Tally {
        let mut tally = Tally::default();
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => tally.add(self.field(&field.node, ty)),
                Selection::FragmentSpread(spread) => {
                    if let Some(spread) = self.fragments.get(spread.node.fragment_name.node.as_str()) {
                        tally.add(*spread);
                    }
                }
                Selection::InlineFragment(inline) => {
                    let on = inline.node.type_condition.as_ref().map(|on| on.node.on.node.as_str());
                    tally.add(self.walk(&inline.node.selection_set.node, on.or(ty)));
                }
            }
        }
        tally
    }

    /// The tally of one field of `ty`.
    fn field(&self, field: &Field, ty: Option<&str>) -> Tally {
        let name = field.name.node.as_str();
        let returns = ty.and_then(|ty| self.shape.returns(ty, name));
        let below = self.walk(&field.selection_set.node, returns);
        let mut tally = Tally {
            fields: below.fields.saturating_add(1),
            aliases: below.aliases.saturating_add(u64::from(field.alias.is_some())),
            top: 1,
            ..Tally::default()
        };
        if INTROSPECTION.contains(&name) {
            return tally;
        }
        tally.depth = below.depth.saturating_add(1);
        let root = ty.and_then(|ty| Some((ty, self.shape.root_kind(ty)?)));
        match root {
            Some((ty, kind)) => {
                let arguments = Arguments {
                    given: &field.arguments,
                    variables: self.variables,
                };
                let page = match kind {
                    OperationType::Query => self.shape.page(ty, name, &arguments),
                    _ => None,
                };
                let selection = match page {
                    Some(Paged { length, whole: true }) => {
                        length.saturating_mul(below.cost.saturating_add(below.per_item))
                    }
                    Some(Paged { length, whole: false }) => {
                        below.cost.saturating_add(length.saturating_mul(below.per_item))
                    }
                    None => below.cost.saturating_add(below.per_item),
                };
                tally.cost = Shape::root_weight(kind, name, &arguments).saturating_add(selection);
                let query = kind == OperationType::Query;
                tally.case_reads = u64::from(query && CASE_READS.contains(&name));
                tally.verifications = u64::from(query && name == "verifyLog");
            }
            None if ty.is_some_and(|ty| Shape::is_paged_list(ty, name)) => {
                tally.cost = 1;
                tally.per_item = below.cost.saturating_add(below.per_item);
            }
            None => {
                tally.cost = below.cost.saturating_add(1);
                tally.per_item = below.per_item;
            }
        }
        tally
    }
}

/// The operation a request with `operation_name` runs, as the executor picks it.
fn selected<'a>(document: &'a ExecutableDocument, operation_name: Option<&str>) -> Option<&'a OperationDefinition> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), None) => Some(&operation.node),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name).map(|operation| &operation.node),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next().map(|operation| &operation.node)
        }
        _ => None,
    }
}

/// The fragment definitions in an order where each comes after every fragment it
/// spreads, or the first fragment found to spread itself. Iterative, so a long chain of
/// fragments cannot exhaust the stack.
fn fragment_order(document: &ExecutableDocument) -> Result<Vec<&str>, ApiError> {
    let spreads: HashMap<&str, Vec<&str>> = document
        .fragments
        .iter()
        .map(|(name, fragment)| {
            let mut names = Vec::new();
            spreads_in(&fragment.node.selection_set.node, &mut names, &mut HashSet::new());
            (name.as_str(), names)
        })
        .collect();
    #[derive(PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    let mut marks: HashMap<&str, Mark> = HashMap::with_capacity(spreads.len());
    let mut order = Vec::with_capacity(spreads.len());
    for start in spreads.keys() {
        if marks.contains_key(start) {
            continue;
        }
        marks.insert(start, Mark::Open);
        // Each entry: a fragment and how many of its spreads were followed.
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        while let Some(&(name, followed)) = stack.last() {
            let next = spreads.get(name).and_then(|names| names.get(followed)).copied();
            let Some(next) = next else {
                marks.insert(name, Mark::Done);
                order.push(name);
                stack.pop();
                continue;
            };
            if let Some(top) = stack.last_mut() {
                top.1 += 1;
            }
            if !spreads.contains_key(next) {
                continue;
            }
            match marks.get(next) {
                Some(Mark::Open) => {
                    return Err(ApiError::invalid("query", format!("fragment {next} spreads itself")));
                }
                Some(Mark::Done) => {}
                None => {
                    marks.insert(next, Mark::Open);
                    stack.push((next, 0));
                }
            }
        }
    }
    Ok(order)
}

/// The fragments `set` spreads, each once, in order.
fn spreads_in<'a>(set: &'a SelectionSet, names: &mut Vec<&'a str>, seen: &mut HashSet<&'a str>) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => spreads_in(&field.node.selection_set.node, names, seen),
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if seen.insert(name) {
                    names.push(name);
                }
            }
            Selection::InlineFragment(inline) => spreads_in(&inline.node.selection_set.node, names, seen),
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn shape() -> Shape {
        Shape::of(&crate::graphql::sdl()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn measured_with(query: &str, operation: Option<&str>, variables: serde_json::Value) -> Result<Measure, ApiError> {
        let document = parse_query(query).unwrap_or_else(|e| panic!("{e}"));
        measure(&shape(), &document, operation, &Variables::from_json(variables))
    }

    fn measured(query: &str, operation: Option<&str>) -> Result<Measure, ApiError> {
        measured_with(query, operation, serde_json::json!({}))
    }

    fn cost(query: &str, variables: serde_json::Value) -> u64 {
        measured_with(query, None, variables)
            .unwrap_or_else(|e| panic!("{e}"))
            .cost
    }

    fn fields(query: &str) -> u64 {
        measured(query, None).unwrap_or_else(|e| panic!("{e}")).expanded_fields
    }

    /// `depth` fragments, each spreading the one before `width` times.
    fn bomb(depth: usize, width: usize) -> String {
        let mut query = format!("{{ ...F{depth} }}\nfragment F0 on QueryRoot {{ __typename }}\n");
        for level in 1..=depth {
            let spreads = vec![format!("...F{}", level - 1); width].join(" ");
            query.push_str(&format!("fragment F{level} on QueryRoot {{ {spreads} }}\n"));
        }
        query
    }

    #[test]
    fn plain_fields_are_counted_once_each() {
        let measure = measured("{ a b: c { d e { f } } g }", None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (measure.expanded_fields, measure.root_fields, measure.aliases),
            (6, 3, 1)
        );
    }

    #[test]
    fn a_fragment_counts_at_every_spread_and_once_as_a_definition() {
        // The operation: x, y and F (a, b) twice under x and y; the definition: a, b.
        let query = "{ x { ...F } y { ...F } } fragment F on T { a b }";
        assert_eq!(fields(query), 2 + 2 * 2 + 2);
        // Spread at the root, its fields are root fields.
        let root = measured("{ ...R z } fragment R on QueryRoot { p: a q: b }", None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((root.root_fields, root.aliases), (3, 2));
    }

    #[test]
    fn diamonds_are_counted_as_expanded_and_walked_once() {
        // D spreads B and C, each of which spreads A: A's three fields appear twice in D.
        let query = "{ ...D } fragment A on Q { a b c } fragment B on Q { ...A } fragment C on Q { ...A x } \
                     fragment D on Q { ...B ...C }";
        // Operation 7, D 7, C 4, B 3, A 3.
        assert_eq!(fields(query), 7 + 7 + 4 + 3 + 3);
    }

    #[test]
    fn doubling_fragments_are_counted_exactly_without_expanding_them() {
        // F_k expands to 2^k fields; the document is F_0 .. F_n plus the operation.
        let total = |n: u32| (0..=n).map(|k| 1_u64 << k).sum::<u64>() + (1 << n);
        assert_eq!(fields(&bomb(22, 2)), total(22));
        let started = std::time::Instant::now();
        assert_eq!(fields(&bomb(40, 2)), total(40));
        assert_eq!(fields(&bomb(200, 3)), u64::MAX, "saturates");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn fragments_spreading_themselves_are_refused() {
        for query in [
            "{ ...A } fragment A on Q { a ...A }",
            "{ ...A } fragment A on Q { b { ...B } } fragment B on Q { ...C } fragment C on Q { c ...A }",
            // Unused fragments are walked by validation too.
            "{ a } fragment A on Q { ...B } fragment B on Q { ... on Q { ...A } }",
        ] {
            let refused = measured(query, None);
            assert!(
                matches!(&refused, Err(ApiError::InvalidInput { reason, .. }) if reason.contains("spreads itself")),
                "{query}: {refused:?}"
            );
        }
        // A diamond is no cycle, nor is a spread of a fragment that does not exist.
        assert!(measured(
            "{ ...B ...C } fragment B on Q { ...A } fragment C on Q { ...A } fragment A on Q { a }",
            None
        )
        .is_ok());
        assert!(measured("{ ...Missing }", None).is_ok());
    }

    #[test]
    fn a_long_chain_of_fragments_does_not_exhaust_the_stack() {
        let mut query = String::from("{ ...F5000 } fragment F0 on Q { a }\n");
        for level in 1..=5_000 {
            query.push_str(&format!("fragment F{level} on Q {{ ...F{} }}\n", level - 1));
        }
        assert_eq!(fields(&query), 5_002);
    }

    #[test]
    fn only_the_operation_to_run_counts_for_root_fields_and_aliases() {
        let query = "query A { a b c } query B { x: a }";
        let a = measured(query, Some("A")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((a.root_fields, a.aliases, a.expanded_fields), (3, 0, 4));
        let b = measured(query, Some("B")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((b.root_fields, b.aliases), (1, 1));
        let unknown = measured(query, Some("C")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((unknown.root_fields, unknown.aliases), (3, 1), "the most of any");
    }

    #[test]
    fn root_fields_cost_their_weight_and_their_selection() {
        let none = serde_json::json!({});
        assert_eq!(cost(r#"{ youth(id: "x") { name team } }"#, none.clone()), 10 + 2);
        assert_eq!(cost("{ verifyLog { ok } }", none.clone()), 1_000 + 1);
        assert_eq!(
            cost("{ __typename caseload { departments { department } } }", none.clone()),
            1 + 20 + 2
        );
        let refer = r#"mutation { refer(input: {cpr: "x", name: "y", schoolStatus: IN_EDUCATION}) { position } }"#;
        assert_eq!(cost(refer, none.clone()), 20 + 1);
        assert_eq!(cost("subscription { events { position } }", none), 100 + 1);
    }

    #[test]
    fn a_list_sized_by_its_argument_counts_its_items_that_many_times() {
        let none = serde_json::json!({});
        // `first` sizes `edges`: each edge costs `edges`' selection; `totalCount` once.
        let page = "{ youngPeople(first: 200) { totalCount edges { node { age team } } } }";
        assert_eq!(cost(page, none.clone()), 50 + 1 + 1 + 200 * 3);
        // The schema's default (50) when not given; the same through a fragment.
        let fragment = "{ youngPeople { ...Page } } fragment Page on YouthConnection { edges { node { age team } } }";
        assert_eq!(cost(fragment, none.clone()), 50 + 1 + 50 * 3);
        // From a variable, or its default when it is not sent.
        let variable = "query($n: Int = 200) { youngPeople(first: $n) { edges { cursor } } }";
        assert_eq!(cost(variable, serde_json::json!({ "n": 10 })), 50 + 1 + 10);
        assert_eq!(cost(variable, serde_json::json!({})), 50 + 1 + 200);
        let refold = r#"query($d: NaiveDate = "2025-06-30") { alarms(asOf: $d, limit: 1) { due } }"#;
        assert_eq!(cost(refold, serde_json::json!({})), 20 + 1_000 + 1);
        // `alarms` is the list itself: `limit` (default 100) times its selection.
        assert_eq!(cost("{ alarms { due rule } }", none.clone()), 20 + 100 * 2);
        assert_eq!(cost("{ alarms(limit: 5) { due rule } }", none.clone()), 20 + 5 * 2);
        // `membersLimit` sizes each team's `members`, not the report around them.
        let teams = "{ teams(membersLimit: 10) { asOf teams { team members { age } } } }";
        assert_eq!(cost(teams, none), 20 + 1 + (1 + 1 + 1) + 10);
    }

    #[test]
    fn a_report_as_of_a_date_costs_a_refold() {
        let query = "query($d: NaiveDate) { alarms(asOf: $d, limit: 1) { due } }";
        assert_eq!(cost(query, serde_json::json!({ "d": "2025-06-30" })), 20 + 1_000 + 1);
        assert_eq!(cost(query, serde_json::json!({ "d": null })), 20 + 1);
        assert_eq!(cost(query, serde_json::json!({})), 20 + 1);
        assert_eq!(
            cost(
                r#"{ alarms(asOf: "2025-06-30", limit: 1) { due } }"#,
                serde_json::json!({})
            ),
            1_021
        );
    }

    #[test]
    fn introspection_is_free_of_depth_and_cost_but_its_fields_are_counted() {
        let measure =
            measured("{ __schema { types { name fields { name } } } }", None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((measure.cost, measure.depth, measure.expanded_fields), (0, 0, 5));
        let beside = r#"{ __type(name: "QueryRoot") { name } caseload { departments { department } } }"#;
        let beside = measured(beside, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((beside.depth, beside.root_fields), (3, 2));
    }

    #[test]
    fn depth_counts_nesting_through_fragments() {
        let query = "{ a { ...F } b } fragment F on T { c { d { e } } }";
        let measure = measured(query, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(measure.depth, 4);
    }

    #[test]
    fn case_reads_and_verifications_are_counted_through_fragments() {
        let query = r#"{ a: youth(id: "x") { name } ...R verifyLog { ok } }
                       fragment R on QueryRoot { b: history(youthId: "x") { youthId } c: meeting(id: "m") { id } }"#;
        let measure = measured(query, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((measure.case_reads, measure.verifications), (3, 1));
    }

    #[test]
    fn limits_are_checked_in_order_with_their_values() {
        let limits = Limits {
            max_fields: 10,
            max_depth: 3,
            max_root_fields: 3,
            max_aliases: 1,
            max_case_reads: 1,
            max_verifications: 1,
            max_cost: 1_500,
            ..Limits::recommended()
        };
        let shape = shape();
        let check = |query: &str| {
            let document = parse_query(query).unwrap_or_else(|e| panic!("{e}"));
            check(&shape, &document, None, &Variables::default(), &limits)
        };
        assert!(check("{ a b { c } }").is_ok());
        let refused = |query: &str| match check(query) {
            Err(ApiError::OverLimit { limit, actual, max }) => Some((limit, actual, max)),
            _ => None,
        };
        assert_eq!(refused(&bomb(4, 2)), Some((QueryLimit::ExpandedFields, 47, 10)));
        assert_eq!(refused("{ a { b { c { d } } } }"), Some((QueryLimit::Depth, 4, 3)));
        assert_eq!(refused("{ a b c d }"), Some((QueryLimit::RootFields, 4, 3)));
        assert_eq!(refused("{ x: a y: b }"), Some((QueryLimit::Aliases, 2, 1)));
        assert_eq!(
            refused(r#"{ youth(id: "x") { name } history(youthId: "x") { youthId } }"#),
            Some((QueryLimit::CaseReads, 2, 1))
        );
        assert_eq!(
            refused("{ verifyLog { ok } v: verifyLog { ok } }"),
            Some((QueryLimit::Verifications, 2, 1))
        );
        assert_eq!(
            refused(r#"{ verifyLog { ok } alarms(asOf: "2025-01-01", limit: 1) { due } }"#),
            Some((QueryLimit::Cost, 1_001 + 1_021, 1_500))
        );
    }
}
