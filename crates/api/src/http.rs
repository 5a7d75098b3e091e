//! The axum wiring: routes, authentication of HTTP requests and WebSocket connections,
//! the body limit, GraphiQL, health and readiness.
//!
//! | route | what |
//! |---|---|
//! | `POST /graphql` | a GraphQL request (`{"query", "variables", "operationName"}`), bearer token required |
//! | `GET /graphql` | GraphiQL in the browser |
//! | `GET /graphql/ws` | subscriptions over WebSocket (graphql-transport-ws; the token goes in `connection_init`) |
//! | `GET /health` | 200 while the process runs |
//! | `GET /ready` | 200 when the readiness check passes, 503 with the reason otherwise |

use std::future::Future;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{Data, ServerError};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;

use crate::error::ApiError;
use crate::graphql::{build_schema, ApiSchema};
use crate::state::ApiState;

#[derive(Clone)]
struct AppState {
    api: ApiState,
    schema: ApiSchema,
}

/// The API's router over `state`; drive it with `tower::ServiceExt::oneshot` in tests or
/// hand it to [`serve`].
pub fn router(state: ApiState) -> Router {
    let body_limit = state.limits.max_body_bytes;
    let app = AppState {
        schema: build_schema(state.clone()),
        api: state,
    };
    Router::new()
        .route("/graphql", get(graphiql).post(graphql_post))
        .route("/graphql/ws", get(graphql_ws))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(app)
}

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in
/// flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}

async fn graphql_post(State(app): State<AppState>, request: Request) -> Response {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or("<not text>").to_owned());
    let principal = match app.api.auth.authenticate_header(header.as_deref()) {
        Ok(principal) => principal,
        Err(error) => return error_response(StatusCode::UNAUTHORIZED, &error),
    };
    let body = match Bytes::from_request(request, &()).await {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let error = ApiError::invalid(
                "body",
                format!(
                    "the request body is larger than {} bytes",
                    app.api.limits.max_body_bytes
                ),
            );
            return error_response(StatusCode::PAYLOAD_TOO_LARGE, &error);
        }
        Err(rejection) => {
            let error = ApiError::invalid("body", rejection.body_text());
            return error_response(StatusCode::BAD_REQUEST, &error);
        }
    };
    let graphql_request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            let error = ApiError::invalid(
                "body",
                format!("not a GraphQL request ({{\"query\": ..., \"variables\": ...}}): {error}"),
            );
            return error_response(StatusCode::BAD_REQUEST, &error);
        }
    };
    Json(app.schema.execute(graphql_request.data(principal)).await).into_response()
}

/// A GraphQL-shaped error body for failures before the schema runs.
fn error_response(status: StatusCode, error: &ApiError) -> Response {
    let graphql_error = error.to_graphql();
    let mut server_error = ServerError::new(graphql_error.message, None);
    server_error.extensions = graphql_error.extensions;
    let body = async_graphql::Response::from_errors(vec![server_error]);
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
    }
    response
}

async fn graphql_ws(State(app): State<AppState>, protocol: GraphQLProtocol, upgrade: WebSocketUpgrade) -> Response {
    let max = app.api.limits.max_body_bytes;
    let auth = app.api.auth.clone();
    let schema = app.schema.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| {
            GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let principal = auth.authenticate_init(&payload).map_err(|error| error.to_graphql())?;
                    let mut data = Data::default();
                    data.insert(principal);
                    Ok(data)
                })
                .serve()
        })
}

async fn health() -> &'static str {
    "ok"
}

async fn ready(State(app): State<AppState>) -> Response {
    let readiness = app.api.readiness.clone();
    match tokio::task::spawn_blocking(move || readiness.check()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(reason)) => (StatusCode::SERVICE_UNAVAILABLE, reason).into_response(),
        Err(error) => {
            let error = ApiError::internal(&error);
            (StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response()
        }
    }
}

async fn graphiql() -> Html<&'static str> {
    Html(GRAPHIQL)
}

/// GraphiQL from a CDN. The headers editor starts with an Authorization placeholder; the
/// same headers are sent in `connection_init` for subscriptions.
const GRAPHIQL: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>kui GraphQL</title>
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3/graphiql.min.css">
</head>
<body style="margin: 0">
  <div id="graphiql" style="height: 100vh"></div>
  <script crossorigin src="https://unpkg.com/react@18/umd/react.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/react-dom@18/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@3/graphiql.min.js"></script>
  <script>
    const url = new URL('/graphql', window.location.href).href;
    const subscriptionUrl = url.replace(/^http/, 'ws') + '/ws';
    const storedHeaders = () => {
      try { return JSON.parse(localStorage.getItem('graphiql:headers') || '{}'); } catch (e) { return {}; }
    };
    const fetcher = GraphiQL.createFetcher({ url, subscriptionUrl, wsConnectionParams: storedHeaders });
    const headers = JSON.stringify({ Authorization: 'Bearer <paste a token>' }, null, 2);
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, { fetcher, headers, shouldPersistHeaders: true, isHeadersEditorEnabled: true })
    );
  </script>
</body>
</html>
"#;
