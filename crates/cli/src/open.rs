//! Opening the data directory and building the engine: the one place that picks concrete implementations.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use kui_engine::keys::{KeyStore, MasterKey};
use kui_engine::{Clock, Engine, FixedClock, RandomIds, SystemClock};
use kui_log::LogError;
use kui_log_segment::{Acknowledge, Interrupted, LogOptions, OpenError, SegmentLog};
use kui_projections::{DirectoryStore, Opened, Options as ProjectionOptions, Projections};

/// Opens (or creates) the log in `data` and builds an engine over it.
pub fn engine(data: &Path, now: Option<&str>) -> Result<(Engine, Arc<SegmentLog>)> {
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

/// Opens (or creates) the log in `data` and builds an engine over it with `clock`, with
/// the key store of `data` (created beside a new, empty log; erasures an earlier run left
/// unfinished are finished or abandoned first).
pub fn engine_with(data: &Path, clock: Arc<dyn Clock>) -> Result<(Engine, Arc<SegmentLog>)> {
    let log = Arc::new(open_log(data, LogOptions::durable())?);
    let empty = kui_log::EventLog::head(log.as_ref())?.is_none();
    let (keys, pending) = key_store(data, empty)?;
    let engine = Engine::new(log.clone(), keys, clock, Arc::new(RandomIds));
    for finished in engine
        .finish_erasures(&pending)
        .context("finishing an erasure an earlier run began")?
    {
        eprintln!(
            "note: finished the erasure of young person {} that an earlier run had recorded but not completed",
            finished.youth_id
        );
    }
    Ok((engine, log))
}

/// The master key file given with `--master-key-file` / `KUI_MASTER_KEY_FILE`, if any.
static MASTER_KEY_FILE: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();

/// Records the master key file the command line named (once, at start).
pub fn set_master_key_file(path: Option<std::path::PathBuf>) {
    let _ = MASTER_KEY_FILE.set(path);
}

/// Where the master key of `data` is kept when none is named: beside the data directory,
/// not in it, so that a copy of the directory alone does not carry the key.
pub fn default_master_key_file(data: &Path) -> std::path::PathBuf {
    let absolute = std::path::absolute(data).unwrap_or_else(|_| data.to_owned());
    let name = absolute
        .file_name()
        .map_or_else(|| "kui".into(), |n| n.to_string_lossy().into_owned());
    absolute
        .parent()
        .unwrap_or(Path::new("."))
        .join(format!("{name}.master-key"))
}

/// Opens the key store of `data` under the master key; beside an empty log (`new`),
/// creates both when missing and says where. Returns the erasures left pending.
pub fn key_store(data: &Path, new: bool) -> Result<(Arc<KeyStore>, Vec<kui_domain::YouthId>)> {
    let store = KeyStore::path_in(data);
    let named = MASTER_KEY_FILE.get().cloned().flatten();
    let master_path = named.clone().unwrap_or_else(|| default_master_key_file(data));
    let hint = if store.exists() {
        "the key store is sealed under the master key it was created with; give its file with --master-key-file or KUI_MASTER_KEY_FILE"
    } else {
        "restore the key store from the backup taken with the log; a directory written by an earlier kui, before personal data was sealed, is copied into a new one with `kui --data NEW migrate --from <this directory>`"
    };
    if !store.exists() && !new {
        return Err(anyhow::Error::new(kui_engine::keys::KeyError::KeyStoreMissing { path: store }).context(hint));
    }
    if store.exists() {
        let master = MasterKey::read(&master_path).context(hint)?;
        let (keys, opened) = KeyStore::open(&store, &master).context(hint)?;
        if let Some((offset, aside)) = &opened.cut {
            eprintln!(
                "note: the key store's last record (at byte {offset}) was cut short by an interrupted write and was cut off; its bytes are kept in {}",
                aside.display()
            );
        }
        return Ok((Arc::new(keys), opened.pending));
    }
    let master = if master_path.exists() || named.is_some() {
        MasterKey::read(&master_path).context(hint)?
    } else {
        let master = MasterKey::create(&master_path)?;
        eprintln!(
            "note: created the master key {} (keep it apart from the data directory and back it up: without it no personal data can be read)",
            master_path.display()
        );
        master
    };
    let keys = KeyStore::create(&store, &master)?;
    Ok((Arc::new(keys), Vec::new()))
}

/// Opens (or creates) the log in `path` for writing; says what to do when it cannot, and
/// reports an interrupted write the open cut off.
pub fn open_log(path: &Path, options: LogOptions) -> Result<SegmentLog> {
    let log = SegmentLog::open(path, options).map_err(|error| explain(path, error))?;
    if let Some(found) = log.interrupted() {
        eprintln!("note: {}", describe_interrupted(path, found));
    }
    Ok(log)
}

/// What an interrupted write at the end of a log is, in a sentence.
pub fn describe_interrupted(path: &Path, found: &Interrupted) -> String {
    format!(
        "{}: the last write ({} bytes at segment byte {}, position {} on) was interrupted before it was acknowledged; {}",
        path.display(),
        found.bytes,
        found.offset,
        found.first_position,
        if found.cut {
            "it was cut off"
        } else {
            "the next command that writes cuts it off"
        }
    )
}

/// An open error with what the operator can do about it.
pub fn explain(path: &Path, error: OpenError) -> anyhow::Error {
    let hint = match &error {
        OpenError::EarlierFormat { .. } => {
            Some("run `kui upgrade` to convert it (every event and hash is kept; stop any server first)")
        }
        OpenError::Log(LogError::Corrupt { .. }) => {
            Some("nothing was changed; `kui verify` names the damage, `kui repair` shows what cutting it would lose")
        }
        OpenError::NotALog { .. } => Some("check --data (or KUI_DATA): it must name a kui data directory"),
        OpenError::Log(LogError::Backend(source)) if source.to_string().contains("lock") => {
            Some("the log is open in another process (a running `kui serve`?); read-only commands such as `kui verify` still work")
        }
        _ => None,
    };
    let context = match hint {
        Some(hint) => format!("cannot open the kui log in {} ({hint})", path.display()),
        None => format!("cannot open the kui log in {}", path.display()),
    };
    anyhow::Error::new(error).context(context)
}

/// The read models of the log in `data`: restored from `<data>/projections`, caught up
/// with the log (with a progress bar when there is much to fold) and saved.
pub fn read_models(data: &Path, log: Arc<SegmentLog>, workers: Option<usize>) -> Result<Arc<Projections>> {
    Ok(open_read_models(data, log, workers, &[], "catching up")?.0)
}

/// Opens the read models, dropping the `rebuild` ones first so they fold from position 1.
pub fn open_read_models(
    data: &Path,
    log: Arc<SegmentLog>,
    workers: Option<usize>,
    rebuild: &[&str],
    label: &str,
) -> Result<(Arc<Projections>, Opened)> {
    let store = DirectoryStore::open(&data.join("projections"))
        .with_context(|| format!("cannot open the read-model snapshots in {}", data.display()))?;
    let mut options = ProjectionOptions::default();
    if let Some(workers) = workers {
        options.workers = workers.max(1);
    }
    let mut bar: Option<indicatif::ProgressBar> = None;
    let (projections, opened) = Projections::open(log, Arc::new(store), options, rebuild, &mut |position, head| {
        let bar = bar.get_or_insert_with(|| crate::progress::events(head, label));
        bar.set_position(position);
    })
    .context("cannot bring the read models up to date")?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    for (model, reason) in &opened.discarded {
        eprintln!("note: rebuilt the {model} read model: {reason}");
    }
    Ok((projections, opened))
}

/// Opens (or creates) the access log, a second log under `<data>/access`, answering
/// appends as `acknowledge` says.
pub fn access_log(data: &Path, acknowledge: Acknowledge) -> Result<Arc<SegmentLog>> {
    let path = data.join("access");
    let options = LogOptions {
        acknowledge,
        ..LogOptions::durable()
    };
    Ok(Arc::new(open_log(&path, options)?))
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

/// The logs of a data directory: the event log, and the access log beside it (when there
/// is one).
pub fn logs(data: &Path) -> Vec<(&'static str, std::path::PathBuf)> {
    let mut logs = vec![("event log", data.to_path_buf())];
    let access = data.join("access");
    if access.exists() {
        logs.push(("access log", access));
    }
    logs
}

/// Whether the data directory holds no log yet.
pub fn is_fresh(data: &Path) -> bool {
    match std::fs::read_dir(data) {
        Ok(mut entries) => entries.next().is_none(),
        Err(_) => true,
    }
}
