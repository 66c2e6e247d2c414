//! `ioc config check` (the configuration and the reference files it names)
//! and `ioc config show` (the effective configuration).

use std::path::Path;

use clap::Subcommand;
use ioc_core::WorkingCalendar;

use crate::config::Settings;
use crate::reference::{read_catalog, read_unit_history, read_unit_tree, read_working_calendar};

/// `ioc config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check the configuration and the reference files it names; report
    /// every problem and exit non-zero if there is one.
    Check,
    /// Print the effective configuration, each value with where it came
    /// from (built-in, the file, or an environment variable); secrets hidden.
    Show,
}

impl ConfigCommand {
    /// Prints a summary, or fails with every problem found; or prints the
    /// effective configuration.
    pub fn run(self, settings: &Settings) -> anyhow::Result<()> {
        match self {
            ConfigCommand::Show => {
                println!("# {}\n{}", settings.origin, settings.show());
                Ok(())
            }
            ConfigCommand::Check => match check_config(settings) {
                Ok(summary) => {
                    println!("{summary}");
                    Ok(())
                }
                Err(problems) => anyhow::bail!(
                    "{} problem{} in the reference data:\n  {}",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" },
                    problems.join("\n  ")
                ),
            },
        }
    }
}

/// Checks the configuration and the reference files it names; returns a
/// summary, or every problem found.
pub fn check_config(settings: &Settings) -> Result<String, Vec<String>> {
    let tree = read_unit_tree(&settings.units);
    let history = read_unit_history(&settings.units);
    let calendar = read_working_calendar(&settings.calendar.file);
    let catalog = read_catalog(&settings.units.levels, &settings.procedures);
    let campaigns =
        crate::reference::read_campaigns(&settings.campaigns.files, &settings.units.levels);
    let score = crate::reference::read_score_model(&settings.scoring.file);
    let alerts = crate::reference::read_alert_rules(&settings.alerts.file, &settings.units.levels);
    let tls = crate::webhook::tls_config(settings.alerts.webhook_ca_file.as_deref());
    match (
        tree, history, calendar, catalog, campaigns, score, alerts, tls,
    ) {
        (
            Ok(tree),
            Ok(history),
            Ok(calendar),
            Ok(catalog),
            Ok(campaigns),
            Ok(_),
            Ok(alerts),
            Ok(_),
        ) => Ok(format!(
            "configuration OK ({}): {} units{}, {} procedures, {} campaign(s), {} threshold rule(s), working days of {}, {}{}",
            settings.origin,
            tree.len(),
            history.map_or_else(String::new, |h| format!(
                " ({} versions through reforms, {} edges)",
                h.versions().len(),
                h.edges().len()
            )),
            catalog.len(),
            campaigns.len(),
            alerts.thresholds.len(),
            years(&calendar),
            settings.database.url,
            uncovered(&calendar, &settings.calendar.file, today(settings)),
        )),
        (tree, history, calendar, catalog, campaigns, score, alerts, tls) => {
            let mut problems = Vec::new();
            for errors in [tree.err(), history.err(), calendar.err(), catalog.err()]
                .into_iter()
                .flatten()
            {
                problems.extend(errors.0.iter().map(ToString::to_string));
            }
            problems.extend(campaigns.err().unwrap_or_default());
            problems.extend(score.err());
            problems.extend(alerts.err().unwrap_or_default());
            problems.extend(tls.err().map(|e| e.to_string()));
            Err(problems)
        }
    }
}

/// The years a calendar covers, e.g. `2022–2026`.
fn years(calendar: &WorkingCalendar) -> String {
    let years: Vec<i32> = calendar.years().collect();
    match (years.first(), years.last()) {
        (Some(first), Some(last)) if first != last => format!("{first}–{last}"),
        (Some(only), _) => only.to_string(),
        _ => "no year".to_owned(),
    }
}

/// The local date now, in `time.zone`.
fn today(settings: &Settings) -> chrono::NaiveDate {
    settings.timeliness.calendar.date_of(chrono::Utc::now())
}

/// A warning when the calendar has no table for `today`'s year: working
/// days then count Monday to Friday, without that year's holidays.
fn uncovered(calendar: &WorkingCalendar, file: &Path, today: chrono::NaiveDate) -> String {
    if calendar.covers(today) {
        String::new()
    } else {
        format!(
            "\nwarning: {} has no table for {}: working days count Monday to Friday without \
             its holidays; add the year when it is announced (docs/OPERATIONS.md, \"Working days\")",
            file.display(),
            today.format("%Y")
        )
    }
}
