//! Reading the layered values: each key is taken out once, converted, and
//! every problem recorded instead of stopping at the first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::Value;

use super::ConfigProblem;

/// The layered values by key (`section.key`), each with where it came from.
pub(super) type Values = BTreeMap<String, (Value, String)>;

/// Takes keys out of the layered values, converting each and recording
/// problems instead of stopping at the first.
pub(super) struct Reader {
    /// The values not taken yet: what is left at the end is unknown.
    pub(super) values: Values,
    /// The problems found so far.
    pub(super) problems: Vec<ConfigProblem>,
    /// The keys read that had no value, so took their default.
    pub(super) defaulted: Vec<&'static str>,
    /// Every value read, with where it came from, in the order read.
    pub(super) shown: Vec<ConfigValue>,
}

/// One effective setting, as `ioc config show` prints it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigValue {
    /// `section.key`.
    pub key: &'static str,
    /// The value (a default when nothing set it).
    pub value: Value,
    /// The file or environment variable that set it, or `built-in`.
    pub origin: String,
}

impl Reader {
    /// Records a problem with `key`, naming where its value came from.
    pub(super) fn problem(&mut self, key: &str, message: String) {
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

    /// Takes `key` out of the values; notes it as defaulted when absent.
    pub(super) fn take(&mut self, key: &'static str) -> Option<(Value, String)> {
        let taken = self.values.remove(key);
        match &taken {
            None => self.defaulted.push(key),
            Some((value, origin)) => self.shown.push(ConfigValue {
                key,
                value: value.clone(),
                origin: origin.clone(),
            }),
        }
        taken
    }

    /// Notes the default that `key` took.
    pub(super) fn shown_default(&mut self, key: &'static str, value: Value) {
        self.shown.push(ConfigValue {
            key,
            value,
            origin: "built-in".to_owned(),
        });
    }

    /// Records that `key` holds a value of the wrong type.
    pub(super) fn type_problem(
        &mut self,
        key: &str,
        origin: String,
        expected: &str,
        value: &Value,
    ) {
        self.problems.push(ConfigProblem {
            key: key.to_owned(),
            origin,
            message: format!("expected {expected}, found {} {value}", value.type_str()),
        });
    }

    /// A string.
    pub(super) fn string(&mut self, key: &'static str, default: &str) -> String {
        match self.take(key) {
            None => {
                self.shown_default(key, Value::from(default));
                default.to_owned()
            }
            Some((Value::String(s), _)) => s,
            Some((other, origin)) => {
                self.type_problem(key, origin, "a string", &other);
                default.to_owned()
            }
        }
    }

    /// A string converted by `parse`; a bad value is a problem and gives
    /// the default.
    pub(super) fn parse<T>(
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

    /// A whole number in `min..=max`.
    pub(super) fn integer(&mut self, key: &'static str, default: u32, min: u32, max: u32) -> u32 {
        match self.take(key) {
            None => {
                self.shown_default(key, Value::from(i64::from(default)));
                default
            }
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

    /// `true` or `false`.
    pub(super) fn boolean(&mut self, key: &'static str, default: bool) -> bool {
        match self.take(key) {
            None => {
                self.shown_default(key, Value::from(default));
                default
            }
            Some((Value::Boolean(b), _)) => b,
            Some((other, origin)) => {
                self.type_problem(key, origin, "true or false", &other);
                default
            }
        }
    }

    /// A list of strings.
    pub(super) fn list(&mut self, key: &'static str, default: &[&str]) -> Vec<String> {
        let fallback = || default.iter().map(|s| (*s).to_owned()).collect();
        match self.take(key) {
            None => {
                let listed = default.iter().map(|s| Value::from(*s)).collect();
                self.shown_default(key, Value::Array(listed));
                fallback()
            }
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

    /// A list of paths, relative ones resolved against `base_dir`.
    pub(super) fn paths(
        &mut self,
        key: &'static str,
        default: &[&str],
        base_dir: &Path,
    ) -> Vec<PathBuf> {
        let given = self.values.contains_key(key);
        self.list(key, default)
            .into_iter()
            .map(|p| locate(base_dir, PathBuf::from(p), given))
            .collect()
    }

    /// A path, resolved against `base_dir` when relative.
    pub(super) fn path(&mut self, key: &'static str, default: &str, base_dir: &Path) -> PathBuf {
        let given = self.values.contains_key(key);
        locate(base_dir, PathBuf::from(self.string(key, default)), given)
    }
}

/// Where a configured path points. A default (a path not `given`) is the
/// built-in file, whatever the configuration file, so that a file that sets
/// only what it changes still runs on the shipped reference data. A path
/// given in the configuration file is joined to the file's directory when
/// relative; with the built-in configuration, a path given in the
/// environment is a file on disk, relative to the working directory.
pub(super) fn locate(base_dir: &Path, path: PathBuf, given: bool) -> PathBuf {
    let builtin = crate::builtin::base();
    match (given, base_dir == builtin) {
        (false, _) => resolve(builtin, path),
        (true, true) => path,
        (true, false) => resolve(base_dir, path),
    }
}

/// `path`, or `base_dir` joined with it when it is relative.
pub(super) fn resolve(base_dir: &Path, path: PathBuf) -> PathBuf {
    if path.is_absolute() {
        path
    } else {
        base_dir.join(path)
    }
}
