//! Gives every error a stable `extensions.code`.
//!
//! Resolvers and the query limits set their codes through `ApiError`. Errors raised by
//! the GraphQL engine itself (a query that does not parse, fails validation, has too many
//! directives or an argument of the wrong type) carry none; they are all problems with
//! the request, so they get `INVALID_INPUT` with `field: "query"`.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe};
use async_graphql::futures_util::stream::BoxStream;
use async_graphql::{Response, ServerError};
use futures_util::StreamExt;

use crate::error::CODE_INVALID_INPUT;

/// The schema extension that fills in missing codes.
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        with_codes(next.run(ctx).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream).map(with_codes).boxed()
    }
}

fn with_codes(mut response: Response) -> Response {
    for error in &mut response.errors {
        add_code(error);
    }
    response
}

/// Sets `INVALID_INPUT` on an error that has no code.
pub fn add_code(error: &mut ServerError) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", CODE_INVALID_INPUT);
        extensions.set("field", "query");
        extensions.set("reason", error.message.clone());
    }
}
