//! `kui init`: an empty log with a configured municipality.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use kui_domain::event::{AlarmSettings, MunicipalityConfigured, TeamCadence};
use kui_domain::values::AgeBand;
use kui_domain::{MunicipalityCode, MunicipalityCommand};
use kui_engine::{Actor, Command, CommandContext};

use crate::cli::InitArgs;
use crate::open;

pub fn run(data: &Path, now: Option<&str>, args: InitArgs) -> Result<ExitCode> {
    let municipality = MunicipalityCode::new(args.municipality)?;
    let band = parse_band(&args.band)?;
    let (engine, _log) = open::engine(data, now)?;
    let settings = MunicipalityConfigured {
        municipality,
        name: args.name,
        age_band: band,
        cadence: TeamCadence::USUAL,
        coordinator_capacity: args.capacity,
        alarms: AlarmSettings::USUAL,
        retention: Default::default(),
        privacy: Default::default(),
        responsibility: Vec::new(),
    };
    let command = Command::Municipality(municipality, MunicipalityCommand(settings));
    let executed = engine
        .execute(command, &CommandContext::by(Actor::system()))
        .context("cannot configure the municipality")?;
    println!(
        "initialised {} for municipality {municipality} (ages {}-{}), log position {}",
        data.display(),
        band.from,
        band.until,
        executed.position
    );
    Ok(ExitCode::SUCCESS)
}

fn parse_band(text: &str) -> Result<AgeBand> {
    let Some((from, until)) = text.split_once('-') else {
        bail!("--band {text:?} must look like 15-25");
    };
    let from: u8 = from
        .trim()
        .parse()
        .with_context(|| format!("--band {text:?}: {from:?} is not an age"))?;
    let until: u8 = until
        .trim()
        .parse()
        .with_context(|| format!("--band {text:?}: {until:?} is not an age"))?;
    Ok(AgeBand::new(from, until)?)
}
