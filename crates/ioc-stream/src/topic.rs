//! Topic names: `overview:<window>`, `unit:<code>:<window>`,
//! `ranking:<level>:<key>:<window>` and `alerts`. A window may itself
//! contain a colon (`campaign:<id>`), so it is always the last part. Unit
//! and ranking topics take `?scope=tree` at the end for localities (a unit
//! with its whole subtree) instead of the units themselves.

use std::fmt;

/// A parsed topic. Whether its unit, level, key or window exists is for
/// the [`Source`](crate::Source) to say when it renders it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// The province overview over a window.
    Overview {
        /// Window name, as the REST API takes it.
        window: String,
    },
    /// One unit's keys and its children's.
    Unit {
        /// Unit code.
        code: String,
        /// Window name.
        window: String,
        /// Whole subtrees instead of the units themselves.
        tree: bool,
    },
    /// A ranking of the units of a level by a key.
    Ranking {
        /// Level name.
        level: String,
        /// Key name.
        key: String,
        /// Window name.
        window: String,
        /// Whole subtrees instead of the units themselves.
        tree: bool,
    },
    /// Operator alerts.
    Alerts,
}

/// Why a topic name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("topic {topic:?}: {reason}")]
pub struct TopicError {
    /// The name as sent.
    pub topic: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Longest topic name accepted.
const MAX_LEN: usize = 200;

impl Topic {
    /// Parses a topic name.
    pub fn parse(raw: &str) -> Result<Topic, TopicError> {
        let fail = |reason| TopicError {
            topic: raw.chars().take(MAX_LEN).collect(),
            reason,
        };
        if raw.len() > MAX_LEN {
            return Err(fail("longer than 200 bytes"));
        }
        let (name, tree) = match raw.split_once('?') {
            None | Some((_, "scope=self")) => (raw.split('?').next().unwrap_or(raw), false),
            Some((name, "scope=tree")) => (name, true),
            Some(_) => return Err(fail("the only option is ?scope=tree (or ?scope=self)")),
        };
        let (kind, rest) = name.split_once(':').unwrap_or((name, ""));
        let part = |p: &str| -> Result<String, TopicError> {
            if p.is_empty() || p.chars().any(char::is_whitespace) {
                Err(fail("has an empty part or whitespace"))
            } else {
                Ok(p.to_owned())
            }
        };
        match kind {
            "overview" | "alerts" if tree => Err(fail("only unit and ranking topics take a scope")),
            "overview" => Ok(Topic::Overview {
                window: part(rest)?,
            }),
            "unit" => {
                let (code, window) = rest
                    .split_once(':')
                    .ok_or_else(|| fail("expected unit:<code>:<window>"))?;
                Ok(Topic::Unit {
                    code: part(code)?,
                    window: part(window)?,
                    tree,
                })
            }
            "ranking" => {
                let mut parts = rest.splitn(3, ':');
                let (Some(level), Some(key), Some(window)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(fail("expected ranking:<level>:<key>:<window>"));
                };
                Ok(Topic::Ranking {
                    level: part(level)?,
                    key: part(key)?,
                    window: part(window)?,
                    tree,
                })
            }
            "alerts" if rest.is_empty() => Ok(Topic::Alerts),
            _ => Err(fail(
                "unknown kind (expected overview:, unit:, ranking: or alerts)",
            )),
        }
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topic::Overview { window } => write!(f, "overview:{window}")?,
            Topic::Unit { code, window, .. } => write!(f, "unit:{code}:{window}")?,
            Topic::Ranking {
                level, key, window, ..
            } => write!(f, "ranking:{level}:{key}:{window}")?,
            Topic::Alerts => f.write_str("alerts")?,
        }
        match self {
            Topic::Unit { tree: true, .. } | Topic::Ranking { tree: true, .. } => {
                f.write_str("?scope=tree")
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in [
            "overview:today",
            "overview:campaign:bp-92-ngay-2022",
            "unit:70.001:month",
            "ranking:commune:online_share:year",
            "ranking:district:late_rate:campaign:x",
            "ranking:district:online_share:month?scope=tree",
            "unit:697:today?scope=tree",
            "alerts",
        ] {
            assert_eq!(Topic::parse(name).unwrap().to_string(), name);
        }
        assert_eq!(
            Topic::parse("unit:697:today?scope=self")
                .unwrap()
                .to_string(),
            "unit:697:today"
        );
    }

    #[test]
    fn malformed_names_say_why() {
        for (name, reason) in [
            ("weather:today", "unknown kind"),
            ("overview:", "empty part"),
            ("unit:70", "expected unit:<code>:<window>"),
            ("ranking:commune:today", "expected ranking:"),
            ("alerts:x", "unknown kind"),
            ("overview:to day", "whitespace"),
            ("unit:697:today?scope=everything", "the only option"),
            ("overview:today?scope=tree", "only unit and ranking"),
        ] {
            let e = Topic::parse(name).unwrap_err();
            assert!(e.reason.contains(reason), "{name}: {e}");
            assert_eq!(e.topic, name);
        }
        assert!(Topic::parse(&"x".repeat(300)).is_err());
    }
}
