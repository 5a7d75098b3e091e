//! `kui serve`: the GraphQL API over the data directory, until Ctrl-C.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use kui_api::{AccessLog, ApiState, Authenticator, Limits};

use crate::cli::ServeArgs;
use crate::open;

/// How to serve.
pub struct ServeConfig {
    /// Where to listen.
    pub addr: SocketAddr,
    /// The server secret.
    pub secret: Vec<u8>,
    /// Opaque tokens and their claims.
    pub token_file: Option<PathBuf>,
    /// Answer schema introspection.
    pub introspection: bool,
    /// When a read is answered relative to its access record.
    pub access_ack: kui_log_segment::Acknowledge,
}

pub fn serve(data: &Path, now: Option<&str>, args: ServeArgs) -> Result<ExitCode> {
    if open::is_fresh(data) {
        bail!(
            "{} holds no kui log: run `kui demo` or `kui init` first",
            data.display()
        );
    }
    let config = ServeConfig {
        addr: args.addr,
        secret: args.jwt_secret.into_bytes(),
        token_file: args.token_file,
        introspection: !args.no_introspection,
        access_ack: args.access_ack.into(),
    };
    run(data, now, config, |addr| {
        println!("kui API on http://{addr}/graphql (GraphiQL in a browser), subscriptions on ws://{addr}/graphql/ws");
        println!("Ctrl-C stops the server.");
    })
}

/// Opens both logs, serves until Ctrl-C, then closes them.
pub fn run(data: &Path, now: Option<&str>, config: ServeConfig, announce: impl FnOnce(SocketAddr)) -> Result<ExitCode> {
    // A second subscriber (e.g. in tests) is not an error: logging stays with the first.
    let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).try_init();
    let clock = open::clock(now)?;
    let (engine, log) = open::engine_with(data, clock.clone())?;
    let read_models = open::read_models(data, log, None)?;
    read_models.follow();
    let engine = engine.with_read_models(read_models.clone());
    let access = open::access_log(data, config.access_ack)?;
    let mut auth = Authenticator::new(config.secret, clock.clone()).context("cannot use the server secret")?;
    if let Some(file) = &config.token_file {
        let json = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        auth = auth
            .with_token_file(&json)
            .with_context(|| format!("cannot use the token file {}", file.display()))?;
    }
    let limits = Limits {
        introspection: config.introspection,
        ..Limits::recommended()
    };
    let state = ApiState::new(engine, AccessLog::new(access, clock), auth, limits);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        announce(listener.local_addr().unwrap_or(config.addr));
        let shutdown = async {
            // If the signal handler cannot be installed the server runs until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        kui_api::http::serve(listener, kui_api::http::router(state), shutdown)
            .await
            .context("the server failed")
    })?;
    read_models
        .shutdown()
        .context("cannot save the read models (they rebuild on the next start)")?;
    println!("stopped; the read models are saved and the logs closed");
    Ok(ExitCode::SUCCESS)
}
