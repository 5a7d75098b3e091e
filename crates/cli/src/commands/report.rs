//! `kui rebuild` and `kui report`: the read models from the command line.

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use kui_domain::values::Forum;
use kui_domain::MunicipalityCode;
use kui_projections::models::alarms::Rule;
use kui_projections::{model_names, ReadModels};
use serde::Serialize;

use crate::cli::{RebuildArgs, ReportArgs, ReportKind};
use crate::open;

fn require_log(data: &Path) -> Result<()> {
    if open::is_fresh(data) {
        anyhow::bail!(
            "{} holds no kui log: run `kui demo` or `kui init` first",
            data.display()
        );
    }
    Ok(())
}

/// Peak resident memory of this process, in MiB (Linux; None elsewhere).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

pub fn rebuild(data: &Path, now: Option<&str>, args: RebuildArgs) -> Result<ExitCode> {
    require_log(data)?;
    let names = model_names(&args.models)?;
    let (_engine, log) = open::engine(data, now)?;
    let (projections, opened) = open::open_read_models(data, log, args.workers, &names, "rebuilding")?;
    println!(
        "rebuilt {} from the log: {}",
        if args.models.is_empty() { "every read model" } else { "" },
        names.join(", ")
    );
    println!(
        "  {} events in {:.2} s: {:.0} events/s (all models together), up to position {}",
        opened.caught_up,
        opened.fold_seconds,
        opened.events_per_second(),
        projections.position()
    );
    if let Some(peak) = peak_rss_mib() {
        println!("  peak memory {peak:.0} MiB");
    }
    println!("  open, fold and save: {:.2} s", opened.seconds);
    Ok(ExitCode::SUCCESS)
}

fn print_json<T: Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value).context("cannot write JSON")?);
    Ok(())
}

fn more(shown: usize, total: usize) {
    if total > shown {
        println!("  ... and {} more (--limit, or --json for everything)", total - shown);
    }
}

fn short(id: impl std::fmt::Display) -> String {
    // Ids are uuids; the last 8 hex digits are the distinctive ones for generated data.
    let text = id.to_string();
    text[text.len().saturating_sub(8)..].to_owned()
}

pub fn report(data: &Path, now: Option<&str>, args: ReportArgs) -> Result<ExitCode> {
    require_log(data)?;
    let (engine, log) = open::engine(data, now)?;
    let today = args.as_of.unwrap_or_else(|| engine.now().date_naive());
    let municipality = args
        .municipality
        .map(MunicipalityCode::new)
        .transpose()
        .context("--municipality")?;
    let forum: Option<Forum> = args.forum.as_deref().map(str::parse).transpose().context("--forum")?;
    let rule: Option<Rule> = args
        .rule
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|reason: String| anyhow::anyhow!("--rule: {reason}"))?;

    let projections = open::read_models(data, log, None)?;
    let print = |models: &ReadModels| match args.kind {
        ReportKind::Teams => teams(models, municipality, today, &args),
        ReportKind::Meetings => meetings(models, municipality, forum, today, &args),
        ReportKind::Caseload => caseload(models, municipality, &args),
        ReportKind::Alarms => alarms(models, municipality, rule, today, &args),
        ReportKind::Stats => stats(models, municipality, today, &args),
    };
    // Past dates need the models as they stood then (the same fold the server keeps per
    // day); statistics keep their own history.
    match args.as_of {
        Some(date) if args.kind != ReportKind::Stats && date < engine.now().date_naive() => {
            let bar = crate::progress::events(projections.position(), "as of");
            let past = projections.past_day(date);
            let printed = projections
                .answer_as_of(
                    &past,
                    2,
                    &mut |position, _| bar.set_position(position),
                    &AtomicBool::new(false),
                    |models| {
                        bar.finish_and_clear();
                        print(models)
                    },
                )
                .context("cannot fold the log up to the date")?;
            printed?;
        }
        _ => print(&projections.read())?,
    }
    Ok(ExitCode::SUCCESS)
}

fn teams(
    models: &ReadModels,
    municipality: Option<MunicipalityCode>,
    today: NaiveDate,
    args: &ReportArgs,
) -> Result<()> {
    let report = models
        .teams
        .report(&models.directory, &models.meetings, municipality, today, args.within);
    if args.json {
        return print_json(&report);
    }
    println!("teams as of {today}");
    for team in &report.teams {
        println!();
        println!(
            "{}: {} members, meets every {} days, last meeting {}, next {}",
            team.team,
            team.count,
            team.cadence_days,
            team.last_meeting.map_or("-".into(), |d| d.to_string()),
            team.next_meeting.map_or("none scheduled".into(), |d| d.to_string()),
        );
        println!(
            "  {:<36} {:>3}  {:<14} {:<10}  school status",
            "young person", "age", "reason", "since"
        );
        for member in team.members.iter().take(args.limit) {
            println!(
                "  {:<36} {:>3}  {:<14} {:<10}  {}",
                member.youth_id.to_string(),
                member.age,
                member.reason.map_or("-".into(), |r| r.to_string()),
                member.since.map_or("-".into(), |d| d.to_string()),
                member.school_status
            );
        }
        more(args.limit.min(team.members.len()), team.members.len());
    }
    println!();
    println!(
        "moving team within {} days: {}",
        report.within_days,
        report.moving.len()
    );
    for change in report.moving.iter().take(args.limit) {
        println!(
            "  {}  {:<36} {} -> {}",
            change.on,
            change.youth_id.to_string(),
            change.from,
            change.to
        );
    }
    more(args.limit.min(report.moving.len()), report.moving.len());
    Ok(())
}

fn meetings(
    models: &ReadModels,
    municipality: Option<MunicipalityCode>,
    forum: Option<Forum>,
    today: NaiveDate,
    args: &ReportArgs,
) -> Result<()> {
    let report = models.meetings.report(municipality, forum, today, args.limit);
    if args.json {
        return print_json(&report);
    }
    let table = |title: &str, rows: &[kui_projections::models::meetings::MeetingSummary]| {
        println!("{title}: {}", rows.len());
        println!(
            "  {:<10}  {:<18}  {:<9}  {:>5}  {:>15}  {:>9}  meeting",
            "date", "forum", "status", "cases", "booked/slot min", "decisions"
        );
        for row in rows.iter().take(args.limit) {
            println!(
                "  {:<10}  {:<18}  {:<9}  {:>5}  {:>15}  {:>9}  {}",
                row.date,
                row.forum,
                format!("{:?}", row.status).to_lowercase(),
                row.cases,
                format!(
                    "{}/{}{}",
                    row.booked_minutes,
                    row.slot_minutes,
                    if row.over_slot { " OVER" } else { "" }
                ),
                row.decisions,
                short(row.meeting_id)
            );
        }
        more(args.limit.min(rows.len()), rows.len());
    };
    println!("meetings as of {today}");
    println!();
    table("upcoming", &report.upcoming);
    println!();
    table("most recent", &report.past);
    println!();
    println!("follow-ups due within 14 days or overdue: {}", report.follow_ups.len());
    for follow_up in report.follow_ups.iter().take(args.limit) {
        println!(
            "  {}  {:<8} young person {} (decided at the {} of {})",
            follow_up.follow_up,
            format!("{:?}", follow_up.state).to_lowercase(),
            short(follow_up.youth_id),
            follow_up.forum,
            follow_up.decided_at
        );
    }
    more(args.limit.min(report.follow_ups.len()), report.follow_ups.len());
    Ok(())
}

fn caseload(models: &ReadModels, municipality: Option<MunicipalityCode>, args: &ReportArgs) -> Result<()> {
    let report = models.caseload.report(&models.directory, municipality);
    if args.json {
        return print_json(&report);
    }
    println!("coordinators: {}", report.coordinators.len());
    println!(
        "  {:<30} {:<20} {:>6} {:>8}",
        "coordinator", "department", "active", "capacity"
    );
    for load in report.coordinators.iter().take(args.limit) {
        println!(
            "  {:<30} {:<20} {:>6} {:>8}{}",
            load.name,
            load.department.map_or("-".into(), |d| d.to_string()),
            load.active,
            load.capacity,
            if load.over_capacity { "  OVER CAPACITY" } else { "" }
        );
    }
    more(args.limit.min(report.coordinators.len()), report.coordinators.len());
    println!();
    println!(
        "  {:<20} {:>12} {:>12} {:>16}",
        "department", "coordinators", "coordinated", "caseworker cases"
    );
    for department in &report.departments {
        println!(
            "  {:<20} {:>12} {:>12} {:>16}",
            department.department.to_string(),
            department.coordinators,
            department.coordinated,
            department.caseworker_cases
        );
    }
    println!();
    println!(
        "C-need young people without a coordinator: {}",
        report.unassigned_c_need.len()
    );
    for youth in report.unassigned_c_need.iter().take(args.limit) {
        println!("  {:<36} {:?}", youth.youth_id.to_string(), youth.scheme);
    }
    more(
        args.limit.min(report.unassigned_c_need.len()),
        report.unassigned_c_need.len(),
    );
    Ok(())
}

fn alarms(
    models: &ReadModels,
    municipality: Option<MunicipalityCode>,
    rule: Option<Rule>,
    today: NaiveDate,
    args: &ReportArgs,
) -> Result<()> {
    let report = models.alarms.report(municipality, rule, today);
    if args.json {
        return print_json(&report);
    }
    println!("open alarms as of {today}: {}", report.alarms.len());
    for (rule, count) in &report.counts {
        println!("  {:<30} {count}", rule.as_str());
    }
    println!();
    println!(
        "  {:<10}  {:<30}  {:<36}  {:<32}  detail",
        "due", "rule", "young person", "who acts"
    );
    for alarm in report.alarms.iter().take(args.limit) {
        let who = match alarm.act {
            Some(staff) => format!("{} ({})", models.directory.staff_name(staff), alarm.act_as),
            None => alarm.act_as.to_owned(),
        };
        println!(
            "  {:<10}  {:<30}  {:<36}  {:<32}  {}",
            alarm.due,
            alarm.rule.as_str(),
            alarm.youth_id.to_string(),
            who,
            alarm.detail
        );
    }
    more(args.limit.min(report.alarms.len()), report.alarms.len());
    Ok(())
}

fn stats(
    models: &ReadModels,
    municipality: Option<MunicipalityCode>,
    today: NaiveDate,
    args: &ReportArgs,
) -> Result<()> {
    let report = models.statistics.report(municipality, today);
    if args.json {
        return print_json(&report);
    }
    let v = &report.viborg;
    println!("coordinator scheme as of {today} (the Viborg table)");
    println!("  assigned a coordinator          {:>7}", v.assigned);
    println!("  declined a coordinator          {:>7}", v.declined);
    println!("  coordinator judged not relevant {:>7}", v.not_relevant);
    println!("  coordinator course completed    {:>7}", v.completed);
    println!("  young people in total           {:>7}", v.total);
    println!("  coordinators in total           {:>7}", v.coordinators);
    println!("  (referred by then               {:>7})", v.referred);
    println!();
    println!(
        "hand-over at 18: {} of {} birthdays had the adult side in place beforehand ({:.1} %)",
        report.handover.on_time,
        report.handover.birthdays,
        report.handover.share_on_time * 100.0
    );
    println!();
    println!(
        "  {:<7} {:>9} {:>8} {:>12} {:>8} {:>7} {:>9} {:>8} {:>9}",
        "month", "referrals", "meetings", "destinations", "positive", "closed", "18th bdays", "on time", "assigned"
    );
    let skip = report.months.len().saturating_sub(args.limit);
    for month in report.months.iter().skip(skip) {
        let assigned = report
            .viborg_by_month
            .iter()
            .find(|t| t.as_of.is_some_and(|d| d.format("%Y-%m").to_string() == month.month))
            .map_or(0, |t| t.assigned);
        println!(
            "  {:<7} {:>9} {:>8} {:>12} {:>8} {:>7} {:>9} {:>8} {:>9}",
            month.month,
            month.referrals,
            month.meetings_held,
            month.destinations.values().sum::<usize>(),
            month.positive_destinations,
            month.closed,
            month.eighteenth_birthdays,
            month.handed_over_on_time,
            assigned
        );
    }
    if skip > 0 {
        println!("  (the {skip} earlier months: --limit, or --json)");
    }
    Ok(())
}
