//! kui's GraphQL API: what municipal case systems use to write commands, read cases,
//! replay histories and follow the event log.
//!
//! GraphQL over HTTP at `POST /graphql` (GraphiQL on `GET /graphql`), subscriptions over
//! WebSocket (graphql-transport-ws) at `/graphql/ws`, `GET /health` and `GET /ready`.
//! Every request carries a bearer token (HS256 JWT or an entry of a token file) that
//! names the staff member, role, department and municipality; one permission matrix
//! (`access`) decides what each role may read and write, analysts see pseudonyms only,
//! and every read of a young person's case is recorded durably in a separate access log
//! before the data is returned.
//!
//! The engine is synchronous: every call into it runs on a blocking thread. No sled type
//! appears here; the API receives an `Engine` and an `Arc<dyn EventLog>`.
//!
//! Layout:
//! - `graphql`: the schema (queries, mutations, subscription, output types), no HTTP.
//! - `http`: the axum router (`router`), GraphiQL, WebSocket, health and readiness, `serve`.
//! - `auth`: bearer tokens to a `Principal`; HS256 by hand.
//! - `access`: the permission matrix and municipality scoping.
//! - `privacy`: what a pseudonymised reader (an analyst) sees of records about people:
//!   the one place that hides, pseudonymises and orders them.
//! - `access_log`: `CaseRead` records in the second log.
//! - `state`: `ApiState`, `Limits`, the `Readiness` and `ProjectionWaiter` seams, the
//!   report cache, the fold gate, the shared verification, the blocking helper.
//! - `error`: `ApiError` and the stable error codes.
#![warn(missing_docs)]

pub mod access;
pub mod access_log;
pub mod auth;
pub mod error;
pub mod graphql;
pub mod http;
pub mod need_to_know;
mod privacy;
pub mod state;

pub use access_log::AccessLog;
pub use auth::{Authenticator, Claims, Principal};
pub use error::ApiError;
pub use state::{ApiState, Limits, NoReadModels, ProjectionWaiter, Readiness};
