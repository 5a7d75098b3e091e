//! `kui`: the command-line tool of the coordination engine for the municipal youth effort.

mod cli;
mod commands;
mod open;
mod progress;

use std::process::ExitCode;

use clap::Parser;

/// The write path and the API allocate and free many small buffers per request, from
/// many threads; mimalloc does that with less contention than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match commands::run(args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}
