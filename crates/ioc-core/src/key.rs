//! The keys of `METRICS.md` "Per unit U and window W": what a ranking, an
//! alert rule, a campaign target or a score part may name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How a key's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A count of dossiers or services.
    Count,
    /// A share or rate: a numerator over a denominator.
    Ratio,
}

/// Which way a key improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// More is better (ranked highest first).
    Higher,
    /// Less is better (ranked lowest first).
    Lower,
}

macro_rules! keys {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $kind:ident, $better:ident;)*) => {
        /// A key of `METRICS.md`, under its API name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Key {
            $($(#[$doc])* $variant,)*
        }

        impl Key {
            /// Every key, in the order of `METRICS.md`.
            pub const ALL: &'static [Key] = &[$(Key::$variant,)*];

            /// The name used in the API, configuration and metrics.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Key::$variant => $name,)*
                }
            }

            /// Whether the key is a count or a ratio.
            pub fn kind(self) -> KeyKind {
                match self {
                    $(Key::$variant => KeyKind::$kind,)*
                }
            }

            /// Which way the key improves.
            pub fn better(self) -> Better {
                match self {
                    $(Key::$variant => Better::$better,)*
                }
            }
        }

        impl FromStr for Key {
            type Err = UnknownKey;

            fn from_str(name: &str) -> Result<Key, UnknownKey> {
                match name {
                    $($name => Ok(Key::$variant),)*
                    _ => Err(UnknownKey(name.to_owned())),
                }
            }
        }
    };
}

keys! {
    /// Dossiers received in the window.
    Received = "received", Count, Higher;
    /// Of those, online.
    ReceivedOnline = "received_online", Count, Higher;
    /// Of those, in person.
    ReceivedDirect = "received_direct", Count, Higher;
    /// Of those, by post.
    ReceivedPostal = "received_postal", Count, Higher;
    /// Online share over procedures the unit offers online.
    OnlineShare = "online_share", Ratio, Higher;
    /// Online share over all dossiers.
    OnlineShareAll = "online_share_all", Ratio, Higher;
    /// Dossiers finished in the window.
    Finished = "finished", Count, Higher;
    /// Of those, before the due day.
    FinishedEarly = "finished_early", Count, Higher;
    /// Of those, on the due day or without a due time.
    FinishedOnTime = "finished_on_time", Count, Higher;
    /// Of those, after the due day.
    FinishedLate = "finished_late", Count, Lower;
    /// (early + on time) / finished.
    OnTimeRate = "on_time_rate", Ratio, Higher;
    /// late / finished.
    LateRate = "late_rate", Ratio, Lower;
    /// Dossiers that entered status 7 or 8 in the window.
    Withdrawn = "withdrawn", Count, Lower;
    /// Pending at the cut-off.
    Pending = "pending", Count, Lower;
    /// Of those, overdue.
    PendingOverdue = "pending_overdue", Count, Lower;
    /// Pending, not overdue, due by the day after the cut-off.
    DueSoon = "due_soon", Count, Lower;
    /// 766 indicator 2.1.
    ProgressRate = "progress_rate", Ratio, Higher;
    /// Procedures the unit offers online.
    OnlineServices = "online_services", Count, Higher;
    /// Of those, with at least one online dossier received in the window.
    OnlineServicesUsed = "online_services_used", Count, Higher;
    /// online_services_used / online_services.
    OnlineServicesUsedShare = "online_services_used_share", Ratio, Higher;
    /// Dossiers received in the window with a fee.
    FeeDossiers = "fee_dossiers", Count, Higher;
    /// Of those, paid online.
    PaidOnline = "paid_online", Count, Higher;
    /// paid_online / fee_dossiers.
    PaidOnlineShare = "paid_online_share", Ratio, Higher;
    /// Finished dossiers with an electronic result / finished.
    EResultShare = "e_result_share", Ratio, Higher;
    /// 766 online provision over procedures offered fully online.
    FullOnlineShare = "full_online_share", Ratio, Higher;
}

impl Key {
    /// The names of every key, joined by ", " (for error messages).
    pub fn names() -> String {
        Key::ALL
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// In OpenAPI, a key is one of the names of [`Key::ALL`].
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Key {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .description(Some("A key of METRICS.md, under its API name."))
            .enum_values(Some(Key::ALL.iter().map(|k| k.as_str())))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Key {}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// A name that is no key of `METRICS.md`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown key {0:?} (keys: {keys})", keys = Key::names())]
pub struct UnknownKey(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_reads_back_from_its_name() {
        for key in Key::ALL {
            assert_eq!(key.as_str().parse::<Key>(), Ok(*key));
        }
        assert_eq!(Key::ALL.len(), 25);
        assert!(
            "nope"
                .parse::<Key>()
                .unwrap_err()
                .to_string()
                .contains("late_rate")
        );
    }

    #[test]
    fn lower_is_better_for_lateness_and_backlog() {
        let lower: Vec<&str> = Key::ALL
            .iter()
            .filter(|k| k.better() == Better::Lower)
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            lower,
            [
                "finished_late",
                "late_rate",
                "withdrawn",
                "pending",
                "pending_overdue",
                "due_soon"
            ]
        );
    }
}
