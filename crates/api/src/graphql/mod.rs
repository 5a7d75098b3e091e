//! The GraphQL schema: queries, mutations and the event and alarm subscriptions, without HTTP.
//!
//! Layout:
//! - `query`: `youth`, `history`, `meeting`, `staff`, `verifyLog`, `accessLog`, merged
//!   into [`QueryRoot`] with the read-model queries.
//! - `mutation`: one mutation per engine command.
//! - `subscription`: the `events` feed.
//! - `read_models`: young people with filters and cursors, teams, meetings, caseload,
//!   alarms, statistics, and the `alarms` feed, from the read models.
//! - `types`, `enums`: output types and enums.
//! - `codes`: the extension that gives engine-raised errors a code.
//! - `parse_cache`: the extension that parses each distinct query text once.
//! - `query_limits`: the extension that refuses over-limit queries before they are
//!   validated (fragments expanded, depth, root fields, aliases, weighted cost).
//! - `cost`: the weights of fields and the schema's shape they are read against.
//! - `deadline`: the extension that gives every query and mutation a deadline.
//!
//! Every resolver finds the [`ApiState`] in the schema's data and the caller's
//! [`Principal`] in the request's data (put there by `api::http` after authentication).

mod codes;
pub mod cost;
mod deadline;
pub mod enums;
mod mutation;
mod parse_cache;
pub(crate) use parse_cache::ParseCache;
mod query;
pub mod query_limits;
pub mod read_models;
mod subscription;
pub mod types;

use std::str::FromStr;

use async_graphql::{Context, Schema, ID};

pub use mutation::MutationRoot;
pub use query::QueryRoot;
/// The root subscription: the event feed and the alarm feed.
#[derive(async_graphql::MergedSubscription, Default)]
pub struct SubscriptionRoot(subscription::EventSubscription, read_models::AlarmSubscription);

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::ApiState;

/// The kui schema.
pub type ApiSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The schema over `state`, with its limits (query size and cost, depth, directives,
/// introspection) applied.
pub fn build_schema(state: ApiState) -> ApiSchema {
    let limits = state.limits.clone();
    let shape = cost::Shape::of(&sdl()).expect("async-graphql's SDL of this schema parses (a test checks it)");
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .extension(codes::ErrorCodes)
    .extension(deadline::Deadline(limits.deadline))
    // The parse cache hands kept documents to the query limits, which come after it.
    .extension(state.parse_cache.clone())
    .extension(query_limits::QueryLimits::new(&limits, shape))
    .limit_directives(limits.max_directives)
    .data(state);
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

/// The schema in SDL (what `kui schema` prints and `schemas/schema.graphql` holds).
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .finish()
    .sdl()
}

/// The state and the authenticated caller of a request.
pub(crate) fn caller<'a>(ctx: &'a Context<'_>) -> Result<(&'a ApiState, &'a Principal), ApiError> {
    let principal = ctx.data_opt::<Principal>().ok_or_else(|| ApiError::Unauthenticated {
        reason: "no bearer token".into(),
    })?;
    let state = ctx
        .data_opt::<ApiState>()
        .ok_or_else(|| ApiError::internal(&MissingState))?;
    Ok((state, principal))
}

/// The schema was built without `build_schema`.
#[derive(Debug, thiserror::Error)]
#[error("the schema has no ApiState in its data")]
struct MissingState;

/// Parses an id argument (a bare uuid or a stream name such as `youth-<uuid>`).
pub(crate) fn parse_id<T: FromStr>(id: &ID, field: &str) -> Result<T, ApiError> {
    id.0.parse()
        .map_err(|_| ApiError::invalid(field, format!("{:?} is not a valid id", id.0)))
}
