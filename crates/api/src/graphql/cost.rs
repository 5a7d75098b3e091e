//! The cost model: what each field of a query costs the server, counted before it runs.
//!
//! Counting fields says little about cost: `verifyLog` re-reads and re-hashes the whole
//! log, `alarms` as of a past date folds the log again, `youth` appends an access record,
//! and a list costs its length times its items. So each field is weighed:
//!
//! - a plain field costs 1;
//! - a root field costs its weight from [`ROOT_WEIGHTS`] (a query field not named there
//!   costs 1, a mutation [`MUTATION_WEIGHT`], a subscription [`SUBSCRIPTION_WEIGHT`]) plus
//!   its selection; `alarms` with an `asOf` costs [`REFOLD_WEIGHT`] more;
//! - the items of a list whose length a root field's argument sets ([`PAGES`]: `first`,
//!   `limit`, `membersLimit`, `pastLimit`) count that many times (the schema's default
//!   when the argument is not given);
//! - introspection (`__schema`, `__type`) costs nothing: its answer is small and fixed.
//!
//! Every other list (a plan's actions, a report's rows) is bounded by the data, not by
//! the caller, and counts once. The weights are relative: a `youth` read is ten plain
//! fields, a refold or a verification a thousand, which with a budget of 5,000 admits
//! every query in `docs/api.md` and a full page of 200 young people, and refuses a
//! request that asks for several refolds at once.
//!
//! [`Shape`] is what the model needs of the schema (the type each field returns and the
//! defaults of its arguments), read from the schema's own SDL, so the weights follow
//! the fields through fragments and nesting without a second description of the schema.

use std::collections::HashMap;

use async_graphql::parser::types::{BaseType, OperationType, TypeKind, TypeSystemDefinition};
use async_graphql::Variables;
use async_graphql_value::{ConstValue, Value};

/// Root query fields that cost more than a plain field, with why.
pub(crate) const ROOT_WEIGHTS: &[(&str, u64)] = &[
    // Loads one case (a stream replay the first time) and appends an access record.
    ("youth", 10),
    // Reads the case's stream and the meetings about it; appends an access record.
    ("history", 50),
    // Folds a meeting's stream; appends access records for its agenda.
    ("meeting", 10),
    ("staff", 5),
    // Reads one young person's stream of the access log.
    ("accessLog", 20),
    // Re-reads and re-hashes the whole log and replays every aggregate.
    ("verifyLog", 1_000),
    // Filters every young person in the read models.
    ("youngPeople", 50),
    // Reports: computed once per change of the read models, then shared.
    ("teams", 20),
    ("meetings", 20),
    ("caseload", 20),
    ("coordinatorLoad", 5),
    ("alarms", 20),
    ("statistics", 20),
];

/// What a `alarms` with an `asOf` adds: a past date folds the whole log again.
pub(crate) const REFOLD_WEIGHT: u64 = 1_000;
/// What each mutation costs: a decision and a durable append.
pub(crate) const MUTATION_WEIGHT: u64 = 20;
/// What a subscription costs: a thread that follows the log for as long as it runs.
pub(crate) const SUBSCRIPTION_WEIGHT: u64 = 100;

/// A list whose length an argument of the root field above it sets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    /// The root query field.
    pub root: &'static str,
    /// Its argument that sets the length.
    pub argument: &'static str,
    /// The list (type and field) below it, or `None` when the root field is the list.
    pub list: Option<(&'static str, &'static str)>,
}

/// The lists the caller sizes.
pub(crate) const PAGES: &[Page] = &[
    Page {
        root: "youngPeople",
        argument: "first",
        list: Some(("YouthConnection", "edges")),
    },
    Page {
        root: "alarms",
        argument: "limit",
        list: None,
    },
    Page {
        root: "teams",
        argument: "membersLimit",
        list: Some(("TeamView", "members")),
    },
    Page {
        root: "meetings",
        argument: "pastLimit",
        list: Some(("MeetingsView", "past")),
    },
];

/// Root query fields that read one young person's case and record it in the access log.
pub(crate) const CASE_READS: &[&str] = &["youth", "history", "meeting"];

/// Introspection fields: free of depth and cost, still counted when expanded.
pub(crate) const INTROSPECTION: &[&str] = &["__schema", "__type"];

/// The schema as the cost model sees it.
#[derive(Debug, Default)]
pub struct Shape {
    query: String,
    mutation: Option<String>,
    subscription: Option<String>,
    /// Per object type, per field: the named type it returns and its integer defaults.
    types: HashMap<String, HashMap<String, FieldShape>>,
}

#[derive(Debug, Default)]
struct FieldShape {
    returns: String,
    defaults: HashMap<String, u64>,
}

/// The schema's SDL does not parse (async-graphql printed something its parser refuses).
#[derive(Debug, thiserror::Error)]
#[error("the schema's SDL does not parse: {0}")]
pub struct ShapeError(#[from] async_graphql::parser::Error);

impl Shape {
    /// The shape of the schema printed as `sdl`.
    pub fn of(sdl: &str) -> Result<Shape, ShapeError> {
        let document = async_graphql::parser::parse_schema(sdl)?;
        let mut shape = Shape {
            query: "Query".into(),
            mutation: None,
            subscription: None,
            types: HashMap::new(),
        };
        let (mut mutation, mut subscription) = (Some("Mutation".to_owned()), Some("Subscription".to_owned()));
        for definition in &document.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    let schema = &schema.node;
                    if let Some(query) = &schema.query {
                        shape.query = query.node.to_string();
                    }
                    mutation = schema.mutation.as_ref().map(|name| name.node.to_string());
                    subscription = schema.subscription.as_ref().map(|name| name.node.to_string());
                }
                TypeSystemDefinition::Type(ty) => {
                    let fields = match &ty.node.kind {
                        TypeKind::Object(object) => &object.fields,
                        TypeKind::Interface(interface) => &interface.fields,
                        _ => continue,
                    };
                    let fields = fields
                        .iter()
                        .map(|field| {
                            let field = &field.node;
                            let defaults = field
                                .arguments
                                .iter()
                                .filter_map(|argument| {
                                    let default = argument.node.default_value.as_ref()?;
                                    Some((argument.node.name.node.to_string(), const_count(&default.node)?))
                                })
                                .collect();
                            let shape = FieldShape {
                                returns: named(&field.ty.node.base).to_owned(),
                                defaults,
                            };
                            (field.name.node.to_string(), shape)
                        })
                        .collect();
                    shape.types.insert(ty.node.name.node.to_string(), fields);
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        // A root named in the schema block, or by convention when it has such a type.
        shape.mutation = mutation.filter(|name| shape.types.contains_key(name));
        shape.subscription = subscription.filter(|name| shape.types.contains_key(name));
        Ok(shape)
    }

    /// The root type of operations of `ty`.
    pub(crate) fn root(&self, ty: OperationType) -> Option<&str> {
        match ty {
            OperationType::Query => Some(&self.query),
            OperationType::Mutation => self.mutation.as_deref(),
            OperationType::Subscription => self.subscription.as_deref(),
        }
    }

    /// Which root `ty` is, if it is one.
    pub(crate) fn root_kind(&self, ty: &str) -> Option<OperationType> {
        [
            OperationType::Query,
            OperationType::Mutation,
            OperationType::Subscription,
        ]
        .into_iter()
        .find(|kind| self.root(*kind) == Some(ty))
    }

    /// The named type `field` of `ty` returns.
    pub(crate) fn returns(&self, ty: &str, field: &str) -> Option<&str> {
        Some(self.types.get(ty)?.get(field)?.returns.as_str())
    }

    /// The default of an integer argument.
    fn default_of(&self, ty: &str, field: &str, argument: &str) -> Option<u64> {
        self.types.get(ty)?.get(field)?.defaults.get(argument).copied()
    }

    /// Whether `field` of `ty` is a list a root field's argument sizes.
    pub(crate) fn is_paged_list(ty: &str, field: &str) -> bool {
        PAGES.iter().any(|page| page.list == Some((ty, field)))
    }

    /// What root `field` of a `kind` operation costs itself (its selection aside).
    pub(crate) fn root_weight(kind: OperationType, field: &str, arguments: &Arguments<'_>) -> u64 {
        match kind {
            OperationType::Mutation => MUTATION_WEIGHT,
            OperationType::Subscription => SUBSCRIPTION_WEIGHT,
            OperationType::Query => {
                let weight = ROOT_WEIGHTS
                    .iter()
                    .find(|(name, _)| *name == field)
                    .map_or(1, |(_, weight)| *weight);
                let refold = field == "alarms" && arguments.is_given("asOf");
                weight + if refold { REFOLD_WEIGHT } else { 0 }
            }
        }
    }

    /// The page a root query `field` sets by its arguments, if it sets one.
    pub(crate) fn page(&self, root: &str, field: &str, arguments: &Arguments<'_>) -> Option<Paged> {
        let page = PAGES.iter().find(|page| page.root == field)?;
        let length = arguments
            .count(page.argument)
            .or_else(|| self.default_of(root, field, page.argument))
            .unwrap_or(1);
        Some(Paged {
            length,
            whole: page.list.is_none(),
        })
    }
}

/// The page a root field asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Paged {
    /// How many items.
    pub length: u64,
    /// Whether the root field's whole selection is the item (the field is the list).
    pub whole: bool,
}

/// A field's arguments, with the request's variables to resolve them.
pub(crate) struct Arguments<'a> {
    pub given: &'a [(
        async_graphql::Positioned<async_graphql::Name>,
        async_graphql::Positioned<Value>,
    )],
    pub variables: &'a Variables,
}

impl Arguments<'_> {
    fn value(&self, name: &str) -> Option<ConstValue> {
        let (_, value) = self.given.iter().find(|(given, _)| given.node.as_str() == name)?;
        match &value.node {
            Value::Variable(variable) => self.variables.get(variable).cloned(),
            other => other.clone().into_const(),
        }
    }

    /// Whether the argument is given and not null.
    fn is_given(&self, name: &str) -> bool {
        !matches!(self.value(name), None | Some(ConstValue::Null))
    }

    /// The argument as a count (`None` when absent, null or not a count: the field's
    /// own check refuses what is not).
    fn count(&self, name: &str) -> Option<u64> {
        const_count(&self.value(name)?)
    }
}

fn const_count(value: &ConstValue) -> Option<u64> {
    match value {
        ConstValue::Number(number) => number.as_u64(),
        _ => None,
    }
}

fn named(base: &BaseType) -> &str {
    match base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(&inner.base),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> Shape {
        Shape::of(&crate::graphql::sdl()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_shape_is_read_from_the_schemas_own_sdl() {
        let shape = shape();
        assert_eq!(shape.root(OperationType::Query), Some("QueryRoot"));
        assert_eq!(shape.root(OperationType::Mutation), Some("MutationRoot"));
        assert_eq!(shape.root(OperationType::Subscription), Some("SubscriptionRoot"));
        assert_eq!(shape.returns("QueryRoot", "youngPeople"), Some("YouthConnection"));
        assert_eq!(shape.returns("YouthConnection", "edges"), Some("YouthEdge"));
        assert_eq!(shape.default_of("QueryRoot", "youngPeople", "first"), Some(50));
        assert_eq!(shape.default_of("QueryRoot", "alarms", "limit"), Some(100));
    }

    #[test]
    fn every_weighed_field_and_page_exists_in_the_schema() {
        let shape = shape();
        for (field, _) in ROOT_WEIGHTS {
            assert!(shape.returns("QueryRoot", field).is_some(), "{field}");
        }
        for field in CASE_READS {
            assert!(shape.returns("QueryRoot", field).is_some(), "{field}");
        }
        for page in PAGES {
            assert!(
                shape.default_of("QueryRoot", page.root, page.argument).is_some(),
                "{}({}) has a default",
                page.root,
                page.argument
            );
            if let Some((ty, field)) = page.list {
                assert!(shape.returns(ty, field).is_some(), "{ty}.{field}");
            }
        }
    }
}
