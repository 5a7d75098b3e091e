//! `kui history`: the auditor's replay of one young person.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use kui_domain::{Cpr, YouthId};

use crate::cli::HistoryArgs;
use crate::open;

pub fn run(data: &Path, now: Option<&str>, args: HistoryArgs) -> Result<ExitCode> {
    if open::is_fresh(data) {
        anyhow::bail!(
            "{} holds no kui log: run `kui demo` or `kui init` first",
            data.display()
        );
    }
    let (engine, log) = open::engine(data, now)?;
    // The timeline read model knows where the young person's events in other streams are.
    let engine = engine.with_read_models(open::read_models(data, log, None)?);
    let youth = parse_youth(&engine, &args.youth)?;
    let history = engine.history(youth, args.as_of)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&history).context("cannot write JSON")?
        );
        return Ok(ExitCode::SUCCESS);
    }
    match args.as_of {
        Some(date) => println!("history of {youth} as of {date}: {} events", history.entries.len()),
        None => println!("history of {youth}: {} events", history.entries.len()),
    }
    println!();
    println!(
        "{:>9}  {:<16}  {:<16}  {:<36}  {:<30}  summary",
        "position", "occurred", "recorded", "actor", "type"
    );
    for entry in &history.entries {
        let actor = match (&entry.actor.staff_id, &entry.actor.department) {
            (Some(staff), Some(department)) => format!("{} {}/{}", short(staff), entry.actor.role, department),
            (Some(staff), None) => format!("{} {}", short(staff), entry.actor.role),
            _ => entry.actor.role.clone(),
        };
        println!(
            "{:>9}  {:<16}  {:<16}  {:<36}  {:<30}  {}",
            entry.position,
            entry.occurred_at.format("%Y-%m-%d %H:%M"),
            entry.recorded_at.format("%Y-%m-%d %H:%M"),
            actor,
            entry.event_type,
            entry.summary
        );
    }
    if let Some(state) = &history.state {
        println!();
        println!("state{}:", args.as_of.map(|d| format!(" on {d}")).unwrap_or_default());
        println!("  name:                    {}", state.name);
        if let Some(birth) = state.birth_date {
            println!("  born:                    {birth}");
        }
        println!("  case:                    {}", state.status);
        println!(
            "  need level:              {}",
            state.need_level.as_deref().unwrap_or("-")
        );
        println!("  team:                    {}", state.team.as_deref().unwrap_or("-"));
        println!(
            "  school status:           {}",
            state.school_status.as_deref().unwrap_or("-")
        );
        println!("  coordinator:             {}", state.coordinator);
        println!(
            "  coordinating caseworker: {}",
            state.coordinating_caseworker.as_deref().unwrap_or("-")
        );
        println!("  plan:                    {}", state.plan.as_deref().unwrap_or("-"));
        println!(
            "  consent:                 {}",
            if state.consent { "yes" } else { "no" }
        );
        println!(
            "  turned 18 recorded:      {}",
            if state.turned_eighteen { "yes" } else { "no" }
        );
        println!(
            "  destination:             {}",
            state.destination.as_deref().unwrap_or("-")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A youth id (uuid or `youth-uuid`) or a CPR number (found through the key store's
/// keyed lookup).
pub(crate) fn parse_youth(engine: &kui_engine::Engine, text: &str) -> Result<YouthId> {
    if let Ok(id) = text.parse::<YouthId>() {
        return Ok(id);
    }
    let cpr = Cpr::parse(text)
        .map_err(|cpr_error| anyhow::anyhow!("{text:?} is neither a youth id (uuid) nor a CPR number ({cpr_error})"))?;
    engine
        .keys()
        .lookup(&cpr)
        .ok_or_else(|| anyhow::anyhow!("no young person with that CPR number is known (or their data was erased)"))
}

/// The last 8 hex digits: UUIDv7 ids made at the same moment share their first ones.
fn short(id: &str) -> &str {
    id.get(id.len().saturating_sub(8)..).unwrap_or(id)
}
