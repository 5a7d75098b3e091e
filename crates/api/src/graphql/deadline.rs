//! Gives every query and mutation a deadline.
//!
//! Past it the request is answered with `DEADLINE_EXCEEDED` and its execution is dropped,
//! as it is when the client leaves: awaited appends and blocking calls are no longer
//! waited for, and a fold of the whole log notices through its stop flag and gives up
//! (`read_models`). Blocking work already running otherwise finishes on its thread (a
//! stream replay, a `verifyLog`, which runs once for every caller at a time); it is not
//! interrupted. Subscriptions run until their client leaves and have no deadline.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};
use async_graphql::{Pos, Response};

use crate::error::ApiError;

/// The schema extension.
pub struct Deadline(pub Duration);

impl ExtensionFactory for Deadline {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Deadline(self.0))
    }
}

#[async_trait::async_trait]
impl Extension for Deadline {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        match tokio::time::timeout(self.0, next.run(ctx, operation_name)).await {
            Ok(response) => response,
            Err(_) => {
                let error = ApiError::DeadlineExceeded { deadline: self.0 };
                Response::from_errors(vec![error.to_graphql().into_server_error(Pos::default())])
            }
        }
    }
}
