//! Configuration: built-in defaults, then a TOML file (`--config`, by
//! default `config/base.toml`), then environment variables
//! `IOC__SECTION__KEY`. Every problem is collected and reported at once;
//! relative reference-file paths are resolved against the config file's
//! directory.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ioc_core::{Granularity, Levels, LocalCalendar, Status, TimelinessRules};
use ioc_store::DatabaseUrl;
use toml::Value;

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
    /// Read side: campaigns, scoring, rankings, access.
    pub read: ReadSettings,
    /// Live updates over `/ws`.
    pub stream: StreamSettings,
    /// `/metrics`.
    pub metrics: MetricsSettings,
    /// Alerts.
    pub alerts: AlertSettings,
    /// Logging.
    pub log: LogSettings,
}

/// `[metrics]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    /// A bearer token `/metrics` accepts besides reading tokens; empty: none.
    pub token: String,
    /// `/metrics` needs no token at all.
    pub public: bool,
    /// The per-unit business gauges to export.
    pub units: crate::unit_metrics::UnitMetricsConfig,
}

/// `[alerts]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSettings {
    /// The rules file.
    pub file: PathBuf,
    /// How often unit thresholds are evaluated when no change arrives.
    pub evaluate_every: Duration,
    /// Active alerts listed in the `alerts` topic.
    pub topic_items: usize,
    /// Webhook delivery attempts per event.
    pub webhook_attempts: u32,
    /// Timeout of one webhook attempt.
    pub webhook_timeout: Duration,
    /// PEM certificates trusted for `https://` receivers besides the
    /// system's roots (a province's own CA).
    pub webhook_ca_file: Option<PathBuf>,
}

/// `[stream]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSettings {
    /// Least time between two deltas of a topic (changes in between coalesce).
    pub min_interval: Duration,
    /// Frames a session may have queued before it is owed snapshots instead.
    pub queue_frames: usize,
    /// How long a session may stay behind before it is closed.
    pub slow_client_limit: Duration,
    /// Sessions per node; more are closed with 1013 (try again later).
    pub max_sessions: usize,
    /// Topics per session.
    pub max_topics: usize,
    /// Largest message a client may send, in bytes (close 1009 above).
    pub max_message_bytes: usize,
    /// How often the server pings.
    pub ping_interval: Duration,
    /// A client silent this long (no message, no pong) is closed.
    pub client_timeout: Duration,
}

/// `[campaigns]`, `[scoring]`, `[rankings]` and `[auth]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadSettings {
    /// Campaign files.
    pub campaign_files: Vec<PathBuf>,
    /// The scoring model file.
    pub scoring_file: PathBuf,
    /// Rankings: the least denominator of a ranked unit.
    pub min_volume: i64,
    /// Read endpoints need no token.
    pub public_read: bool,
}

/// `[ingest]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestSettings {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Most records in one batch.
    pub max_batch_records: usize,
    /// Per source: its own status codes mapped to standard ones.
    pub status_map: HashMap<String, HashMap<String, Status>>,
    /// The times a record may carry.
    pub bounds: ioc_ingest::TimeBounds,
}

/// `[server]`
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Address to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// HTTP worker threads; 0 = one per core.
    pub workers: usize,
    /// Longest wait for a request's headers.
    pub header_read_timeout: Duration,
    /// Longest wait for a request's whole body.
    pub body_read_timeout: Duration,
    /// Peers whose `X-Forwarded-For` names the client (reverse proxies).
    pub trusted_proxies: Vec<IpAddr>,
}

/// `[database]`
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// Which database.
    pub url: DatabaseUrl,
    /// Pool size.
    pub max_connections: u32,
    /// How long a request waits for a pooled connection.
    pub acquire_timeout: Duration,
    /// How long the database may take for a request's work.
    pub request_timeout: Duration,
    /// Apply pending migrations when `serve` starts.
    pub migrate_on_start: bool,
}

/// `[units]`
#[derive(Debug, Clone)]
pub struct UnitSettings {
    /// Levels, top first.
    pub levels: Levels,
    /// Unit CSV files.
    pub files: Vec<PathBuf>,
    /// Former-name CSV files.
    pub former_names: Vec<PathBuf>,
    /// Alias CSV files.
    pub aliases: Vec<PathBuf>,
    /// Load the files into the store when `serve` starts.
    pub load_on_start: bool,
}

/// `[procedures]`
#[derive(Debug, Clone)]
pub struct ProcedureSettings {
    /// Catalog CSV files.
    pub files: Vec<PathBuf>,
    /// Load the files into the store when `serve` starts.
    pub load_on_start: bool,
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// Output format.
    pub format: LogFormat,
    /// Default filter (`RUST_LOG` overrides it).
    pub level: String,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
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
        let base_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
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
            Err(_) => "built-in defaults".to_owned(),
        };
        read_env(env, &mut values, &mut problems);
        let mut reader = Reader {
            values,
            problems,
            defaulted: Vec::new(),
        };
        let settings = reader.settings(origin, &base_dir);
        let Reader {
            values,
            mut problems,
            ..
        } = reader;
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
}

type Values = BTreeMap<String, (Value, String)>;

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

/// Takes keys out of the layered values, converting each and recording
/// problems instead of stopping at the first.
struct Reader {
    values: Values,
    problems: Vec<ConfigProblem>,
    defaulted: Vec<&'static str>,
}

impl Reader {
    fn settings(&mut self, origin: String, base_dir: &Path) -> Settings {
        let bind = self.parse("server.bind", "127.0.0.1:8080", |s| {
            s.parse::<SocketAddr>()
                .map_err(|_| format!("{s:?} is not an address IP:PORT such as 127.0.0.1:8080"))
        });
        let workers = self.integer("server.workers", 0, 0, 1024);
        let header_read_timeout = self.integer("server.header_read_timeout_secs", 5, 1, 600);
        let body_read_timeout = self.integer("server.body_read_timeout_secs", 30, 1, 3600);
        let trusted_proxies = self
            .list("server.trusted_proxies", &[])
            .into_iter()
            .filter_map(|raw| match raw.parse::<IpAddr>() {
                Ok(ip) => Some(ip),
                Err(_) => {
                    self.problem(
                        "server.trusted_proxies",
                        format!("{raw:?} is not an IP address"),
                    );
                    None
                }
            })
            .collect();
        let url = self.parse("database.url", "sqlite://data/ioc.sqlite3", |s| {
            DatabaseUrl::parse(s).map_err(|e| e.to_string())
        });
        let max_connections = self.integer("database.max_connections", 8, 1, 1000);
        let acquire_timeout = self.integer("database.acquire_timeout_secs", 5, 1, 3600);
        let request_timeout = self.integer("database.request_timeout_secs", 30, 1, 3600);
        let migrate_on_start = self.boolean("database.migrate_on_start", true);
        let calendar = self.parse("time.zone", "Asia/Ho_Chi_Minh", |s| {
            LocalCalendar::parse(s).map_err(|e| e.to_string())
        });
        let granularity = self.parse("timeliness.granularity", "day", |s| {
            s.parse::<Granularity>()
        });
        let levels = self.list(
            "units.levels",
            &["province", "department", "district", "commune"],
        );
        let levels = Levels::parse(&levels).unwrap_or_else(|e| {
            self.problem("units.levels", e);
            Levels::parse(&["province"]).expect("invariant: a one-level list is valid")
        });
        let unit_files = self.paths(
            "units.files",
            &["units/binh_phuoc.csv", "units/binh_phuoc_departments.csv"],
            base_dir,
        );
        let former_names = self.paths(
            "units.former_names",
            &["units/binh_phuoc_former_names.csv"],
            base_dir,
        );
        let aliases = self.paths("units.aliases", &["units/binh_phuoc_aliases.csv"], base_dir);
        let units_on_start = self.boolean("units.load_on_start", true);
        let procedure_files = self.paths(
            "procedures.files",
            &["procedures/sample_catalog.csv"],
            base_dir,
        );
        let procedures_on_start = self.boolean("procedures.load_on_start", true);
        let campaign_files = self.paths(
            "campaigns.files",
            &["campaigns/binh_phuoc_92_days_2022.toml"],
            base_dir,
        );
        let scoring_file = {
            let path = PathBuf::from(self.string("scoring.file", "scoring/partial_766.toml"));
            if path.is_absolute() {
                path
            } else {
                base_dir.join(path)
            }
        };
        let min_volume = self.integer("rankings.min_volume", 1, 1, 1_000_000);
        let public_read = self.boolean("auth.public_read", false);
        let max_body_bytes =
            self.integer("ingest.max_body_bytes", 16 * 1024 * 1024, 1024, u32::MAX);
        let max_batch_records = self.integer("ingest.max_batch_records", 10_000, 1, 1_000_000);
        let status_map = self.status_maps("ingest.status_map");
        let bounds = ioc_ingest::TimeBounds {
            earliest: self.parse("ingest.earliest_time", "2000-01-01T00:00:00+07:00", |s| {
                chrono::DateTime::parse_from_rfc3339(s)
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .map_err(|_| format!("{s:?} is not an RFC 3339 time with offset"))
            }),
            max_clock_skew: chrono::TimeDelta::seconds(
                self.integer("ingest.max_clock_skew_secs", 900, 0, 86_400)
                    .into(),
            ),
            max_due_ahead: chrono::TimeDelta::days(
                self.integer("ingest.max_due_days_ahead", 1826, 1, 36_500)
                    .into(),
            ),
        };
        let format = self.parse("log.format", "pretty", |s| match s {
            "pretty" => Ok(LogFormat::Pretty),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "unknown log format {other:?} (expected pretty or json)"
            )),
        });
        let level = self.string("log.level", "info");
        let stream = StreamSettings {
            min_interval: Duration::from_millis(
                self.integer("stream.min_interval_ms", 250, 0, 60_000)
                    .into(),
            ),
            queue_frames: self.integer("stream.queue_frames", 64, 1, 100_000) as usize,
            slow_client_limit: Duration::from_secs(
                self.integer("stream.slow_client_limit_secs", 30, 1, 3600)
                    .into(),
            ),
            max_sessions: self.integer("stream.max_sessions", 10_000, 1, 1_000_000) as usize,
            max_topics: self.integer("stream.max_topics", 100, 1, 10_000) as usize,
            max_message_bytes: self.integer("stream.max_message_bytes", 65_536, 256, 16_777_216)
                as usize,
            ping_interval: Duration::from_secs(
                self.integer("stream.ping_interval_secs", 15, 1, 3600)
                    .into(),
            ),
            client_timeout: Duration::from_secs(
                self.integer("stream.client_timeout_secs", 45, 1, 3600)
                    .into(),
            ),
        };
        let metrics = self.metrics_settings(&levels);
        let alerts = AlertSettings {
            file: {
                let path = PathBuf::from(self.string("alerts.file", "alerts.toml"));
                if path.is_absolute() {
                    path
                } else {
                    base_dir.join(path)
                }
            },
            evaluate_every: Duration::from_secs(
                self.integer("alerts.evaluate_every_secs", 30, 1, 3600)
                    .into(),
            ),
            topic_items: self.integer("alerts.topic_items", 100, 1, 10_000) as usize,
            webhook_attempts: self.integer("alerts.webhook_attempts", 6, 1, 100),
            webhook_timeout: Duration::from_secs(
                self.integer("alerts.webhook_timeout_secs", 10, 1, 600)
                    .into(),
            ),
            webhook_ca_file: {
                let raw = self.string("alerts.webhook_ca_file", "");
                let path = PathBuf::from(&raw);
                match raw.as_str() {
                    "" => None,
                    _ if path.is_absolute() => Some(path),
                    _ => Some(base_dir.join(path)),
                }
            },
        };
        if stream.client_timeout <= stream.ping_interval {
            self.problem(
                "stream.client_timeout_secs",
                "must be longer than stream.ping_interval_secs".to_owned(),
            );
        }
        Settings {
            origin,
            server: ServerSettings {
                bind,
                workers: workers as usize,
                header_read_timeout: Duration::from_secs(header_read_timeout.into()),
                body_read_timeout: Duration::from_secs(body_read_timeout.into()),
                trusted_proxies,
            },
            database: DatabaseSettings {
                url,
                max_connections,
                acquire_timeout: Duration::from_secs(acquire_timeout.into()),
                request_timeout: Duration::from_secs(request_timeout.into()),
                migrate_on_start,
            },
            timeliness: TimelinessRules {
                calendar,
                granularity,
            },
            units: UnitSettings {
                levels,
                files: unit_files,
                former_names,
                aliases,
                load_on_start: units_on_start,
            },
            procedures: ProcedureSettings {
                files: procedure_files,
                load_on_start: procedures_on_start,
            },
            read: ReadSettings {
                campaign_files,
                scoring_file,
                min_volume: i64::from(min_volume),
                public_read,
            },
            ingest: IngestSettings {
                max_body_bytes: max_body_bytes as usize,
                max_batch_records: max_batch_records as usize,
                status_map,
                bounds,
            },
            stream,
            metrics,
            alerts,
            log: LogSettings { format, level },
        }
    }

    /// `[metrics]`, with every list checked against what exists.
    fn metrics_settings(&mut self, levels: &Levels) -> MetricsSettings {
        let token = self.string("metrics.token", "");
        let public = self.boolean("metrics.public", false);
        let families = crate::unit_metrics::family_names();
        let chosen = self.list("metrics.families", &families);
        for unknown in chosen.iter().filter(|f| !families.contains(&f.as_str())) {
            self.problem(
                "metrics.families",
                format!(
                    "unknown family {unknown:?} (families: {})",
                    families.join(", ")
                ),
            );
        }
        let windows = self.list("metrics.windows", &["today", "month", "year", "campaign"]);
        for window in &windows {
            if window != "campaign" && ioc_aggregate::WindowSpec::parse(window).is_err() {
                self.problem(
                    "metrics.windows",
                    format!(
                        "unknown window {window:?} (windows: today, yesterday, 7d, month, quarter, year, campaign)"
                    ),
                );
            }
        }
        let all_levels: Vec<&str> = levels.names().iter().map(String::as_str).collect();
        let metric_levels = self.list("metrics.levels", &all_levels);
        for level in metric_levels
            .iter()
            .filter(|l| !all_levels.contains(&l.as_str()))
        {
            self.problem(
                "metrics.levels",
                format!(
                    "unknown level {level:?} (units.levels: {})",
                    all_levels.join(", ")
                ),
            );
        }
        MetricsSettings {
            token,
            public,
            units: crate::unit_metrics::UnitMetricsConfig {
                families: chosen,
                windows,
                levels: metric_levels,
            },
        }
    }

    /// `{ SOURCE = { "CODE" = STATUS, … }, … }`
    fn status_maps(&mut self, key: &'static str) -> HashMap<String, HashMap<String, Status>> {
        let mut maps = HashMap::new();
        let Some((value, origin)) = self.take(key) else {
            return maps;
        };
        let Value::Table(sources) = value else {
            self.type_problem(
                key,
                origin,
                "a table { SOURCE = { \"CODE\" = STATUS } }",
                &value,
            );
            return maps;
        };
        for (source, codes) in sources {
            let Value::Table(codes) = codes else {
                self.type_problem(
                    &format!("{key}.{source}"),
                    origin.clone(),
                    "a table { \"CODE\" = STATUS }",
                    &codes,
                );
                continue;
            };
            let mut map = HashMap::new();
            for (code, status) in codes {
                let parsed = status
                    .as_integer()
                    .ok_or_else(|| format!("expected a status number 1-10, found {status}"))
                    .and_then(|n| Status::from_code(n).map_err(|e| e.to_string()));
                match parsed {
                    Ok(status) => {
                        map.insert(code, status);
                    }
                    Err(message) => self.problems.push(ConfigProblem {
                        key: format!("{key}.{source}.{code}"),
                        origin: origin.clone(),
                        message,
                    }),
                }
            }
            maps.insert(source, map);
        }
        maps
    }

    fn problem(&mut self, key: &str, message: String) {
        let origin = self
            .values
            .get(key)
            .map_or_else(|| "built-in defaults".to_owned(), |(_, o)| o.clone());
        self.problems.push(ConfigProblem {
            key: key.to_owned(),
            origin,
            message,
        });
    }

    fn take(&mut self, key: &'static str) -> Option<(Value, String)> {
        let taken = self.values.remove(key);
        if taken.is_none() {
            self.defaulted.push(key);
        }
        taken
    }

    fn type_problem(&mut self, key: &str, origin: String, expected: &str, value: &Value) {
        self.problems.push(ConfigProblem {
            key: key.to_owned(),
            origin,
            message: format!("expected {expected}, found {} {value}", value.type_str()),
        });
    }

    fn string(&mut self, key: &'static str, default: &str) -> String {
        match self.take(key) {
            None => default.to_owned(),
            Some((Value::String(s), _)) => s,
            Some((other, origin)) => {
                self.type_problem(key, origin, "a string", &other);
                default.to_owned()
            }
        }
    }

    fn parse<T>(
        &mut self,
        key: &'static str,
        default: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> T {
        let origin = self.values.get(key).map(|(_, o)| o.clone());
        let raw = self.string(key, default);
        match parse(&raw) {
            Ok(value) => value,
            Err(message) => {
                self.problems.push(ConfigProblem {
                    key: key.to_owned(),
                    origin: origin.unwrap_or_else(|| "built-in defaults".to_owned()),
                    message,
                });
                parse(default)
                    .unwrap_or_else(|e| panic!("invariant: the default of {key} is valid: {e}"))
            }
        }
    }

    fn integer(&mut self, key: &'static str, default: u32, min: u32, max: u32) -> u32 {
        match self.take(key) {
            None => default,
            Some((Value::Integer(i), origin)) => match u32::try_from(i) {
                Ok(v) if (min..=max).contains(&v) => v,
                _ => {
                    self.problems.push(ConfigProblem {
                        key: key.to_owned(),
                        origin,
                        message: format!("{i} is out of range {min}..={max}"),
                    });
                    default
                }
            },
            Some((other, origin)) => {
                self.type_problem(key, origin, "a whole number", &other);
                default
            }
        }
    }

    fn boolean(&mut self, key: &'static str, default: bool) -> bool {
        match self.take(key) {
            None => default,
            Some((Value::Boolean(b), _)) => b,
            Some((other, origin)) => {
                self.type_problem(key, origin, "true or false", &other);
                default
            }
        }
    }

    fn list(&mut self, key: &'static str, default: &[&str]) -> Vec<String> {
        let fallback = || default.iter().map(|s| (*s).to_owned()).collect();
        match self.take(key) {
            None => fallback(),
            Some((Value::Array(items), origin)) => {
                let strings: Option<Vec<String>> = items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect();
                strings.unwrap_or_else(|| {
                    self.type_problem(key, origin, "a list of strings", &Value::Array(items));
                    fallback()
                })
            }
            Some((other, origin)) => {
                self.type_problem(key, origin, "a list of strings", &other);
                fallback()
            }
        }
    }

    fn paths(&mut self, key: &'static str, default: &[&str], base_dir: &Path) -> Vec<PathBuf> {
        self.list(key, default)
            .into_iter()
            .map(|p| {
                let path = PathBuf::from(p);
                if path.is_absolute() {
                    path
                } else {
                    base_dir.join(path)
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigErrors> {
        let dir = std::env::temp_dir().join(format!(
            "ioc-config-test-{}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("ioc.toml");
        std::fs::write(&path, text).expect("write config");
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        let result = Settings::load_from(Some(&path), env);
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    #[test]
    fn base_toml_documents_every_key_with_its_default() {
        let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/base.toml");
        let text = std::fs::read_to_string(&base).expect("config/base.toml");
        let mut values = BTreeMap::new();
        let mut problems = Vec::new();
        read_file("base.toml", &text, &mut values, &mut problems);
        let mut reader = Reader {
            values,
            problems,
            defaulted: Vec::new(),
        };
        let from_file = reader.settings("base.toml".to_owned(), Path::new("config"));
        assert_eq!(reader.problems, [], "base.toml must be valid");
        assert_eq!(
            reader.defaulted,
            Vec::<&str>::new(),
            "keys missing from base.toml"
        );
        assert!(
            reader.values.is_empty(),
            "unknown keys in base.toml: {:?}",
            reader.values.keys()
        );

        let mut defaults = Reader {
            values: BTreeMap::new(),
            problems: Vec::new(),
            defaulted: Vec::new(),
        };
        let built_in = defaults.settings("defaults".to_owned(), Path::new("config"));
        assert_eq!(
            format!("{:?}", from_file.server),
            format!("{:?}", built_in.server)
        );
        assert_eq!(
            format!("{:?}", from_file.database),
            format!("{:?}", built_in.database)
        );
        assert_eq!(from_file.timeliness, built_in.timeliness);
        assert_eq!(
            format!("{:?}", from_file.units),
            format!("{:?}", built_in.units)
        );
        assert_eq!(
            format!("{:?}", from_file.procedures),
            format!("{:?}", built_in.procedures)
        );
        assert_eq!(from_file.log, built_in.log);
        assert_eq!(from_file.ingest, built_in.ingest);
        assert_eq!(from_file.read, built_in.read);
        assert_eq!(from_file.stream, built_in.stream);
        assert_eq!(from_file.metrics, built_in.metrics);
    }

    #[test]
    fn environment_overrides_the_file() {
        let settings = load(
            "[server]\nbind = \"127.0.0.1:9000\"\n",
            &[
                ("IOC__SERVER__BIND", "127.0.0.1:0"),
                ("IOC__DATABASE__URL", "postgres://ioc@db/ioc"),
                ("IOC__DATABASE__MAX_CONNECTIONS", "3"),
                ("IOC__UNITS__LEVELS", "[\"province\", \"commune\"]"),
                ("IOC_TEST_PG_URL", "ignored: single underscore"),
            ],
        )
        .expect("valid");
        assert_eq!(settings.server.bind.port(), 0);
        assert_eq!(
            settings.database.url,
            DatabaseUrl::Postgres("postgres://ioc@db/ioc".to_owned())
        );
        assert_eq!(settings.database.max_connections, 3);
        assert_eq!(settings.units.levels.names(), ["province", "commune"]);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errors = load(
            "[server]\nbind = \"everywhere\"\nworkers = \"four\"\n\n[database]\nurl = \"mysql://x\"\n\n[time]\nzone = \"Asia/Hanoi\"\n\n[sever]\nport = 1\n",
            &[("IOC__LOG__FORMAT", "xml"), ("IOC__NOPE", "1")],
        )
        .unwrap_err()
        .0;
        let keys: Vec<&str> = errors.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "nope",
                "server.bind",
                "server.workers",
                "database.url",
                "time.zone",
                "log.format",
                "sever.port"
            ],
            "{errors:#?}"
        );
        let text = ConfigErrors(errors).to_string();
        assert!(
            text.starts_with("7 problems in the configuration"),
            "{text}"
        );
        assert!(
            text.contains("log.format (from IOC__LOG__FORMAT): unknown log format \"xml\""),
            "{text}"
        );
        assert!(text.contains("server.workers (from "), "{text}");
        assert!(
            text.contains("expected a whole number, found string \"four\""),
            "{text}"
        );
        assert!(
            text.contains("sever.port (from ") && text.contains("unknown key"),
            "{text}"
        );
    }

    #[test]
    fn status_maps_are_read_per_source() {
        let settings = load(
            "[ingest]\nstatus_map = { tinh = { \"11\" = 4, interoperating = 4 } }\n",
            &[],
        )
        .expect("valid");
        let tinh = &settings.ingest.status_map["tinh"];
        assert_eq!(tinh["11"], Status::Processing);
        assert_eq!(tinh["interoperating"], Status::Processing);
        let errors = load("[ingest]\nstatus_map = { tinh = { \"11\" = 12 } }\n", &[])
            .unwrap_err()
            .0;
        assert_eq!(errors[0].key, "ingest.status_map.tinh.11");
    }

    #[test]
    fn syntax_errors_name_the_file_and_line() {
        let errors = load("[server\nbind = 1\n", &[]).unwrap_err().0;
        assert_eq!(errors.len(), 1);
        assert!(errors[0].origin.ends_with("ioc.toml"), "{:?}", errors[0]);
        assert!(errors[0].message.contains("line 1"), "{:?}", errors[0]);
    }

    #[test]
    fn an_explicit_missing_file_is_an_error() {
        let errors = Settings::load_from(Some(Path::new("/nonexistent/ioc.toml")), [])
            .unwrap_err()
            .0;
        assert_eq!(errors[0].key, "--config");
    }

    #[test]
    fn relative_reference_paths_follow_the_config_file() {
        let dir = std::env::temp_dir().join(format!("ioc-config-paths-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("ioc.toml");
        std::fs::write(&path, "[procedures]\nfiles = [\"p.csv\", \"/abs/q.csv\"]\n")
            .expect("write");
        let settings = Settings::load_from(Some(&path), []).expect("valid");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            settings.procedures.files,
            [dir.join("p.csv"), PathBuf::from("/abs/q.csv")]
        );
    }
}
