//! The command line: every subcommand and flag, with help text.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

/// kui: an event-sourced coordination engine for the municipal youth effort (KUI).
///
/// Every referral, decision, plan change, coordinator assignment and transition is an
/// immutable event in a hash-chained log. These commands create, inspect, verify and
/// move that log.
#[derive(Debug, Parser)]
#[command(name = "kui", version, propagate_version = true)]
pub struct Cli {
    /// The data directory holding the event log.
    #[arg(long, global = true, env = "KUI_DATA", default_value = "data")]
    pub data: PathBuf,

    /// Run as if the time were this (RFC 3339 or YYYY-MM-DD); for replays and tests.
    #[arg(long, global = true, env = "KUI_NOW", value_name = "TIME")]
    pub now: Option<String>,

    /// The file holding the master key the key store is sealed under (never the key
    /// itself on the command line). Default: `<data>.master-key` beside the data
    /// directory, created with a new data directory.
    #[arg(long, global = true, env = "KUI_MASTER_KEY_FILE", value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an empty log and configure the municipality.
    Init(InitArgs),
    /// Generate a realistic municipality into the data directory (or reuse it), show what is in it and serve the API.
    Demo(DemoArgs),
    /// Generate a preset municipality into an empty data directory.
    Generate(GenerateArgs),
    /// Replay one young person's full history across streams (the auditor's view).
    History(HistoryArgs),
    /// Check every stored byte, the hash chain and every invariant, writing nothing (also
    /// beside a running server); exits 1 naming the first bad position.
    Verify,
    /// Show what cutting a damaged log would lose and, confirmed, cut it (a copy is kept).
    Repair(RepairArgs),
    /// Drop the derived index data of the logs; the next command rebuilds it from the events.
    Reindex,
    /// Convert a data directory written by an earlier kui to the current format.
    Upgrade,
    /// Record every age milestone (18th birthday, end of the age band) due by a date, and
    /// erase the personal data of closed cases whose retention period has ended.
    Tick(TickArgs),
    /// Erase a young person's personal data: destroy their key and CPR lookup and record
    /// `PersonalDataErased`; the log and its hash chain stay.
    Erase(EraseArgs),
    /// Show the proof of an erasure: the event, the key's absence, the hashes that chain.
    ErasureReport(YouthArg),
    /// Place or lift a legal hold: retention does not erase a held case.
    LegalHold(LegalHoldArgs),
    /// Copy a data directory written before personal data was sealed into this (new) one:
    /// random ids, keys, every personal field sealed; a new hash chain.
    Migrate(MigrateArgs),
    /// Write everything kui holds about one young person, and every read of their case
    /// with date, purpose and department, to hand them (GDPR art. 15).
    SubjectAccess(SubjectAccessArgs),
    /// Write the archive's copy of one case (NDJSON with personal fields, and a manifest
    /// with hashes) to a directory, before it is erased.
    Archive(ArchiveArgs),
    /// Write the whole log as NDJSON, one event per line.
    Export(ExportArgs),
    /// Append an NDJSON export to the log, checking every hash.
    Import(ImportArgs),
    /// Count what is in the log.
    Summary,
    /// Drop read models and fold them again from the whole log (all models by default).
    Rebuild(RebuildArgs),
    /// Print a read model: teams, meetings, caseload, alarms or stats.
    Report(ReportArgs),
    /// Serve the GraphQL API (GraphiQL on GET /graphql) until Ctrl-C.
    Serve(ServeArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
}

/// `kui repair`.
#[derive(Debug, Args)]
pub struct RepairArgs {
    /// Cut without asking (otherwise the cut is shown and confirmed on the terminal).
    #[arg(long)]
    pub yes: bool,
}

/// `kui rebuild`.
#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// The models to rebuild: directory, teams, meetings, caseload, alarms, statistics,
    /// timeline. All when none are named.
    pub models: Vec<String>,
    /// Threads decoding events (default: one per core, plus one).
    #[arg(long)]
    pub workers: Option<usize>,
}

/// Which report `kui report` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportKind {
    /// Members of teams 1, 2 and 3, and who moves team soon.
    Teams,
    /// Upcoming and past meetings, agendas against their slot, follow-ups due.
    Meetings,
    /// Coordinators' caseload against capacity, per department, C-need young people without a coordinator.
    Caseload,
    /// Open transition alarms: who is about to fall between two chairs.
    Alarms,
    /// The Viborg table, hand-over timeliness and flows per month.
    Stats,
}

/// `kui report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The report.
    #[arg(value_enum)]
    pub kind: ReportKind,
    /// Report as things stood at the end of this business day (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<NaiveDate>,
    /// Print JSON for programs (complete, no row limits) instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Only this municipality (code, e.g. 540).
    #[arg(long)]
    pub municipality: Option<u16>,
    /// Teams: list who changes team within this many days.
    #[arg(long, default_value_t = 90)]
    pub within: u32,
    /// Meetings: only this forum (team_1, team_2, team_3, k_meeting, youth_coordination).
    #[arg(long)]
    pub forum: Option<String>,
    /// Alarms: only this rule (e.g. eighteen_without_adult_owner).
    #[arg(long)]
    pub rule: Option<String>,
    /// Rows per table (JSON is never cut).
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
}

/// `kui serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// The server secret (at least 32 bytes): verifies HS256 tokens and keys the analysts' pseudonyms.
    #[arg(long, env = "KUI_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: String,
    /// A JSON file mapping opaque tokens to claims (sub, role, department, municipality, exp).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Do not answer schema introspection.
    #[arg(long)]
    pub no_introspection: bool,
    /// When a read of a case is answered.
    #[arg(long, value_enum, default_value_t = AccessAck::Synced)]
    pub access_ack: AccessAck,
}

/// When a read of a case is answered, relative to its access record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AccessAck {
    /// Once the access record is synced to disk.
    Synced,
    /// Once the access record is written to the access log; the sync follows within
    /// milliseconds. Survives a crash of kui; a power loss can lose the last records.
    Written,
}

impl From<AccessAck> for kui_log_segment::Acknowledge {
    fn from(ack: AccessAck) -> Self {
        match ack {
            AccessAck::Synced => kui_log_segment::Acknowledge::Synced,
            AccessAck::Written => kui_log_segment::Acknowledge::Written,
        }
    }
}

/// `kui init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The municipality code (101-860), e.g. 540 for Sønderborg.
    #[arg(long)]
    pub municipality: u16,
    /// The municipality's name.
    #[arg(long)]
    pub name: String,
    /// The age band, FROM-UNTIL: ages covered from FROM up to but not including UNTIL.
    #[arg(long, default_value = "15-25")]
    pub band: String,
    /// Young people per coordinator.
    #[arg(long, default_value_t = 25)]
    pub capacity: u16,
}

/// `kui demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Which municipality to generate: small, sonderborg, national or national:N.
    #[arg(long, default_value = "sonderborg")]
    pub preset: String,
    /// The address the API listens on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// Only generate (or reuse) and summarise; do not start the API.
    #[arg(long)]
    pub no_serve: bool,
    /// When a read of a case is answered.
    #[arg(long, value_enum, default_value_t = AccessAck::Synced)]
    pub access_ack: AccessAck,
}

/// `kui generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// small (about 500 young people), sonderborg (about 13,000), national (5,000,000 events) or national:N.
    #[arg(long)]
    pub preset: String,
}

/// `kui history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The young person: a youth id (uuid or youth-uuid) or a CPR number (DDMMYY-SSSS).
    pub youth: String,
    /// Show the history and the state of the case as they stood on this date.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<NaiveDate>,
    /// Print JSON for programs instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `kui tick`.
#[derive(Debug, Args)]
pub struct TickArgs {
    /// Record milestones and apply retention due by this date (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<NaiveDate>,
    /// Before erasing a case that retention makes due, write its archive copy here.
    #[arg(long, value_name = "DIR")]
    pub archive_dir: Option<PathBuf>,
    /// Record age milestones only; erase nothing.
    #[arg(long)]
    pub no_retention: bool,
}

/// `kui erase`.
#[derive(Debug, Args)]
pub struct EraseArgs {
    /// The young person's id.
    pub youth: String,
    /// Why (recorded in the log; must not name the person).
    #[arg(long)]
    pub reason: String,
    /// Under which authority (a decision, a rule of the archive).
    #[arg(long, default_value = "")]
    pub authority: String,
    /// The staff id of whoever asked for the erasure.
    #[arg(long, value_name = "STAFF_ID")]
    pub by: Option<String>,
}

/// A young person, by id.
#[derive(Debug, Args)]
pub struct YouthArg {
    /// The young person's id.
    pub youth: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `kui legal-hold`.
#[derive(Debug, Args)]
pub struct LegalHoldArgs {
    /// The young person's id.
    pub youth: String,
    /// `place` or `lift`.
    #[arg(value_parser = ["place", "lift"])]
    pub action: String,
    /// Why (must not name the person).
    #[arg(long)]
    pub reason: String,
    /// The staff id of whoever places or lifts it.
    #[arg(long, value_name = "STAFF_ID")]
    pub by: String,
}

/// `kui migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The data directory an earlier kui wrote (read only; run `kui upgrade` on it first
    /// if it asks for that).
    #[arg(long)]
    pub from: PathBuf,
}

/// `kui subject-access`.
#[derive(Debug, Args)]
pub struct SubjectAccessArgs {
    /// The young person: a youth id or a CPR number.
    pub youth: String,
    /// The file to write: JSON, or readable text when its name ends in `.txt`.
    #[arg(long, short)]
    pub out: PathBuf,
    /// The staff id of whoever answers the request (the report is recorded as a read).
    #[arg(long, value_name = "STAFF_ID")]
    pub by: String,
    /// Name the staff member behind each read (for auditors; the young person is normally
    /// told the department only).
    #[arg(long)]
    pub include_staff: bool,
}

/// `kui archive`.
#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// The young person's id.
    pub youth: String,
    /// The directory to write `<youth id>/events.ndjson` and `manifest.json` in.
    #[arg(long)]
    pub out: PathBuf,
}

/// `kui export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The file to write; standard output if omitted.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

/// `kui import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The NDJSON file written by `kui export`.
    pub file: PathBuf,
}
