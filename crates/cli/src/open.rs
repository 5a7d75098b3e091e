//! Opening the data directory and building the engine: the one place that picks concrete implementations.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use kui_engine::{Clock, Engine, FixedClock, RandomIds, SystemClock};
use kui_log::{LogOptions, SledLog};

/// Opens (or creates) the log in `data` and builds an engine over it.
pub fn engine(data: &Path, now: Option<&str>) -> Result<(Engine, Arc<SledLog>)> {
    let clock = clock(now)?;
    engine_with(data, clock)
}

/// The clock: fixed by `--now`, otherwise the system's.
pub fn clock(now: Option<&str>) -> Result<Arc<dyn Clock>> {
    Ok(match now {
        Some(text) => Arc::new(FixedClock::new(parse_now(text)?)),
        None => Arc::new(SystemClock),
    })
}

/// Opens (or creates) the log in `data` and builds an engine over it with `clock`.
pub fn engine_with(data: &Path, clock: Arc<dyn Clock>) -> Result<(Engine, Arc<SledLog>)> {
    let log = Arc::new(
        SledLog::open(data, LogOptions::durable())
            .with_context(|| format!("cannot open the kui log in {}", data.display()))?,
    );
    let engine = Engine::new(log.clone(), clock, Arc::new(RandomIds));
    Ok((engine, log))
}

/// Opens (or creates) the access log, a second log under `<data>/access`.
pub fn access_log(data: &Path) -> Result<Arc<SledLog>> {
    let path = data.join("access");
    Ok(Arc::new(SledLog::open(&path, LogOptions::durable()).with_context(
        || format!("cannot open the access log in {}", path.display()),
    )?))
}

/// Parses `--now`: RFC 3339, or a date meaning noon UTC that day.
pub fn parse_now(text: &str) -> Result<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .with_context(|| format!("--now {text:?} is neither RFC 3339 nor YYYY-MM-DD"))?;
    date.and_hms_opt(12, 0, 0)
        .map(|t| t.and_utc())
        .context("--now is out of range")
}

/// Whether the data directory holds no log yet.
pub fn is_fresh(data: &Path) -> bool {
    match std::fs::read_dir(data) {
        Ok(mut entries) => entries.next().is_none(),
        Err(_) => true,
    }
}
