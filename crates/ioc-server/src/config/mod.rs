//! Configuration: built-in defaults, then a TOML file (`--config`, by
//! default `config/base.toml`), then environment variables
//! `IOC__SECTION__KEY`. Every problem is collected and reported at once;
//! relative reference-file paths are resolved against the config file's
//! directory.
//!
//! Each section of the file is read by its own module, taking the layered
//! values out key by key through a `Reader`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use ioc_core::TimelinessRules;
use toml::Value;

mod alerts;
mod auth;
mod calendar;
mod campaigns;
mod database;
mod ingest;
mod log;
mod metrics;
mod procedures;
mod rankings;
mod reader;
mod scoring;
mod server;
mod stream;
mod timeliness;
mod units;

pub use alerts::AlertSettings;
pub use auth::AuthSettings;
pub use calendar::CalendarSettings;
pub use campaigns::CampaignSettings;
pub use database::DatabaseSettings;
pub use ingest::IngestSettings;
pub use log::{LogFormat, LogSettings};
pub use metrics::MetricsSettings;
pub use procedures::ProcedureSettings;
pub use rankings::RankingSettings;
pub use scoring::ScoringSettings;
pub use server::ServerSettings;
pub use stream::StreamSettings;
pub use units::UnitSettings;

pub use reader::ConfigValue;
use reader::{Reader, Values};

/// The config file used when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "config/base.toml";
/// Prefix of environment overrides: `IOC__DATABASE__URL` sets `database.url`.
pub const ENV_PREFIX: &str = "IOC__";

/// Validated settings of one ioc process.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the settings came from, for messages.
    pub origin: String,
    /// HTTP server.
    pub server: ServerSettings,
    /// Database.
    pub database: DatabaseSettings,
    /// Calendar and timeliness rules.
    pub timeliness: TimelinessRules,
    /// Unit tree files.
    pub units: UnitSettings,
    /// Procedure catalog files.
    pub procedures: ProcedureSettings,
    /// Ingestion limits and source mappings.
    pub ingest: IngestSettings,
    /// Campaigns.
    pub campaigns: CampaignSettings,
    /// The scoring model.
    pub scoring: ScoringSettings,
    /// The working-day calendar.
    pub calendar: CalendarSettings,
    /// Rankings.
    pub rankings: RankingSettings,
    /// Who may read.
    pub auth: AuthSettings,
    /// Live updates over `/ws`.
    pub stream: StreamSettings,
    /// `/metrics`.
    pub metrics: MetricsSettings,
    /// Alerts.
    pub alerts: AlertSettings,
    /// Logging.
    pub log: LogSettings,
    /// Every setting read, with its origin, for `ioc config show`.
    pub effective: Vec<ConfigValue>,
}

/// One problem with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The key, e.g. `server.bind`, or the file for a syntax error.
    pub key: String,
    /// Where the value came from: the file, or the environment variable.
    pub origin: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {}): {}", self.key, self.origin, self.message)
    }
}

/// Every problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigProblem>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "{n} problem{} in the configuration",
            if n == 1 { "" } else { "s" }
        )?;
        for problem in &self.0 {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

impl Settings {
    /// Loads settings from `path` (or the default file, when it exists)
    /// and the process environment.
    pub fn load(path: Option<&Path>) -> Result<Settings, ConfigErrors> {
        Settings::load_from(path, std::env::vars())
    }

    /// Loads settings from `path` and the given environment variables.
    pub fn load_from(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigErrors> {
        let mut problems = Vec::new();
        let mut values = BTreeMap::new();
        let (file, explicit) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from(DEFAULT_CONFIG_PATH), false),
        };
        let mut base_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let origin = match std::fs::read_to_string(&file) {
            Ok(text) => {
                let name = file.display().to_string();
                read_file(&name, &text, &mut values, &mut problems);
                name
            }
            Err(e) if explicit || e.kind() != std::io::ErrorKind::NotFound => {
                problems.push(ConfigProblem {
                    key: "--config".to_owned(),
                    origin: file.display().to_string(),
                    message: format!("cannot read the file: {e}"),
                });
                file.display().to_string()
            }
            Err(_) => {
                // No file here: the reference files are the built-in ones.
                base_dir = crate::builtin::base().to_path_buf();
                "built-in defaults".to_owned()
            }
        };
        read_env(env, &mut values, &mut problems);
        let mut reader = Reader {
            values,
            problems,
            defaulted: Vec::new(),
            shown: Vec::new(),
        };
        let mut settings = Settings::read(&mut reader, origin, &base_dir);
        let Reader {
            values,
            mut problems,
            shown,
            ..
        } = reader;
        settings.effective = shown;
        for (key, (_, from)) in values {
            problems.push(ConfigProblem {
                key,
                origin: from,
                message: "unknown key".to_owned(),
            });
        }
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(ConfigErrors(problems))
        }
    }

    /// Reads every section, one after the other, then the checks across
    /// keys: problems are reported in this order.
    fn read(reader: &mut Reader, origin: String, base_dir: &Path) -> Settings {
        let server = ServerSettings::read(reader);
        let database = DatabaseSettings::read(reader);
        let timeliness = timeliness::read(reader);
        let units = UnitSettings::read(reader, base_dir);
        let procedures = ProcedureSettings::read(reader, base_dir);
        let campaigns = CampaignSettings::read(reader, base_dir);
        let scoring = ScoringSettings::read(reader, base_dir);
        let calendar = CalendarSettings::read(reader, base_dir);
        let rankings = RankingSettings::read(reader);
        let auth = AuthSettings::read(reader);
        let ingest = IngestSettings::read(reader);
        let log = LogSettings::read(reader);
        let stream = StreamSettings::read(reader);
        let metrics = MetricsSettings::read(reader, &units.levels);
        let alerts = AlertSettings::read(reader, base_dir);
        stream.check(reader);
        Settings {
            origin,
            server,
            database,
            timeliness,
            units,
            procedures,
            ingest,
            campaigns,
            scoring,
            calendar,
            rankings,
            auth,
            stream,
            metrics,
            alerts,
            log,
            effective: Vec::new(),
        }
    }

    /// Every setting as in effect, `section.key = value` with where it came
    /// from, in the order of the sections; secrets (tokens, passwords, the
    /// password in `database.url`) hidden.
    pub fn show(&self) -> String {
        let mut lines = Vec::with_capacity(self.effective.len());
        for setting in &self.effective {
            let value = if setting.key.contains("token") || setting.key.contains("password") {
                match &setting.value {
                    toml::Value::String(s) if s.is_empty() => "\"\"".to_owned(),
                    _ => "\"(hidden)\"".to_owned(),
                }
            } else if setting.key == "database.url" {
                toml::Value::from(self.database.url.redacted()).to_string()
            } else {
                setting.value.to_string()
            };
            lines.push(format!("{} = {value}  # {}", setting.key, setting.origin));
        }
        lines.join("\n")
    }
}

fn read_file(name: &str, text: &str, values: &mut Values, problems: &mut Vec<ConfigProblem>) {
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            problems.push(ConfigProblem {
                key: "(syntax)".to_owned(),
                origin: name.to_owned(),
                message: e.to_string().trim().replace('\n', " "),
            });
            return;
        }
    };
    for (section, content) in table {
        match content {
            Value::Table(keys) => {
                for (key, value) in keys {
                    values.insert(format!("{section}.{key}"), (value, name.to_owned()));
                }
            }
            _ => problems.push(ConfigProblem {
                key: section,
                origin: name.to_owned(),
                message: "unknown key (settings live in sections such as [server])".to_owned(),
            }),
        }
    }
}

fn read_env(
    env: impl IntoIterator<Item = (String, String)>,
    values: &mut Values,
    problems: &mut Vec<ConfigProblem>,
) {
    for (name, raw) in env {
        let Some(path) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let parts: Vec<String> = path.split("__").map(str::to_lowercase).collect();
        if parts.len() != 2 || parts.iter().any(String::is_empty) {
            problems.push(ConfigProblem {
                key: path.to_lowercase(),
                origin: name.clone(),
                message: "expected IOC__SECTION__KEY, e.g. IOC__DATABASE__URL".to_owned(),
            });
            continue;
        }
        // A value that reads as TOML (a number, a boolean, a list) is taken
        // as such; anything else is a string.
        let value = format!("v = {raw}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or(Value::String(raw));
        values.insert(parts.join("."), (value, name));
    }
}

#[cfg(test)]
mod tests;
