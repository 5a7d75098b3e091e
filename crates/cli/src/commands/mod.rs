//! One module per subcommand; each parses nothing and prints its result.

mod demo;
mod demo_tokens;
mod erasure;
mod history;
mod init;
mod maintenance;
mod report;
mod serve;
mod transfer;
mod verify;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command};

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let now = cli.now.as_deref();
    crate::open::set_master_key_file(cli.master_key_file.clone());
    match cli.command {
        Command::Init(args) => init::run(&cli.data, now, args),
        Command::Demo(args) => demo::demo(&cli.data, now, &args),
        Command::Generate(args) => demo::generate(&cli.data, now, &args.preset),
        Command::Summary => demo::summary(&cli.data, now),
        Command::History(args) => history::run(&cli.data, now, args),
        Command::Verify => verify::verify(&cli.data, now),
        Command::Repair(args) => maintenance::repair(&cli.data, &args),
        Command::Reindex => maintenance::reindex(&cli.data),
        Command::Upgrade => maintenance::upgrade(&cli.data),
        Command::Tick(args) => verify::tick(&cli.data, now, args),
        Command::Erase(args) => erasure::erase(&cli.data, now, args),
        Command::ErasureReport(args) => erasure::report(&cli.data, now, args),
        Command::LegalHold(args) => erasure::legal_hold(&cli.data, now, args),
        Command::Archive(args) => erasure::archive(&cli.data, now, args),
        Command::Migrate(args) => erasure::migrate(&cli.data, now, args),
        Command::SubjectAccess(args) => erasure::subject_access(&cli.data, now, args),
        Command::Export(args) => transfer::export(&cli.data, now, args),
        Command::Import(args) => transfer::import(&cli.data, now, args),
        Command::Rebuild(args) => report::rebuild(&cli.data, now, args),
        Command::Report(args) => report::report(&cli.data, now, args),
        Command::Serve(args) => serve::serve(&cli.data, now, args),
        Command::Schema => {
            print!("{}", kui_api::graphql::sdl());
            Ok(ExitCode::SUCCESS)
        }
    }
}
