//! The normalised dossier of `METRICS.md`: one application for an
//! administrative procedure, as ioc stores and counts it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Channel, ProcedureCode, Status, UnitCode};

/// Longest dossier code accepted.
pub const MAX_DOSSIER_CODE_LEN: usize = 100;

/// A source system's code of a dossier (`MaHoSo`), unique within the
/// source: 1 to 100 characters of plain text, as the source keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct DossierCode(String);

impl DossierCode {
    /// Parses a code: not empty, at most 100 characters, no control or
    /// bidirectional control characters. (A wire format may ask more: the
    /// native schema refuses surrounding whitespace.)
    pub fn parse(raw: &str) -> Result<DossierCode, String> {
        Self::try_from(raw.to_owned())
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DossierCode {
    type Error = String;

    /// Takes `raw` when it is valid, without copying it.
    fn try_from(raw: String) -> Result<DossierCode, String> {
        if raw.is_empty() {
            return Err("is empty".to_owned());
        }
        // Counting characters only when the bytes could be too many.
        if raw.len() > MAX_DOSSIER_CODE_LEN && raw.chars().count() > MAX_DOSSIER_CODE_LEN {
            return Err(format!("is longer than {MAX_DOSSIER_CODE_LEN} characters"));
        }
        crate::text::check_plain(&raw)?;
        Ok(DossierCode(raw))
    }
}

impl PartialEq<&str> for DossierCode {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<str> for DossierCode {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl std::fmt::Display for DossierCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DossierCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<DossierCode, D::Error> {
        let raw = String::deserialize(d)?;
        DossierCode::try_from(raw).map_err(serde::de::Error::custom)
    }
}

/// The name of a source system that sends dossiers (an ingest token's
/// source): 1 to 64 characters of letters, digits, `-`, `_` and `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Source(String);

impl Source {
    /// Parses a source name.
    pub fn parse(raw: &str) -> Result<Source, String> {
        Self::try_from(raw.to_owned())
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Source {
    type Error = String;

    /// Takes `raw` when it is valid, without copying it.
    fn try_from(raw: String) -> Result<Source, String> {
        let valid = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if valid {
            Ok(Source(raw))
        } else {
            Err(format!(
                "source {raw:?} must be 1-64 characters of letters, digits, '-', '_' and '.'"
            ))
        }
    }
}

impl PartialEq<&str> for Source {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<str> for Source {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Source, D::Error> {
        let raw = String::deserialize(d)?;
        Source::try_from(raw).map_err(serde::de::Error::custom)
    }
}

/// One version of a dossier, as a source reports it.
///
/// The derived order (field by field) breaks ties between two different
/// versions with the same `updated_at`, so that the state a dossier ends in
/// does not depend on the order in which its versions arrive.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dossier {
    /// The source's dossier code (`MaHoSo`), unique within the source.
    pub code: DossierCode,
    /// Code of the unit that received and handles it.
    pub unit: UnitCode,
    /// Procedure (TTHC) code.
    pub procedure: ProcedureCode,
    /// How it was submitted.
    pub channel: Channel,
    /// Processing status.
    pub status: Status,
    /// Reception time; none while status is 1 or 3.
    pub received_at: Option<DateTime<Utc>>,
    /// Promised return time.
    pub due_at: Option<DateTime<Utc>>,
    /// End of processing: time of the first of status 9 or 10.
    pub finished_at: Option<DateTime<Utc>>,
    /// The dossier has a fee item with an amount above zero.
    pub fee_required: bool,
    /// The fee was paid online.
    pub paid_online: bool,
    /// An electronic result document exists.
    pub e_result: bool,
    /// The source's time of this version; orders versions of one dossier.
    pub updated_at: DateTime<Utc>,
}

impl Dossier {
    /// Received: it has a reception time.
    pub fn is_received(&self) -> bool {
        self.received_at.is_some()
    }

    /// Finished: status 9 or 10 with an end-of-processing time.
    pub fn is_finished(&self) -> bool {
        self.status.is_finished() && self.finished_at.is_some()
    }

    /// Withdrawn or stopped (status 7 or 8).
    pub fn is_stopped(&self) -> bool {
        self.status.is_stopped()
    }

    /// Pending at `t`: received at or before `t`, not finished at or before
    /// `t`, and not refused, withdrawn or stopped.
    pub fn is_pending_at(&self, t: DateTime<Utc>) -> bool {
        let received = self.received_at.is_some_and(|r| r <= t);
        let finished = self.is_finished() && self.finished_at.is_some_and(|f| f <= t);
        received && !finished && self.status.can_be_pending()
    }
}

/// How an incoming version relates to the stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionOrder {
    /// It replaces the stored version.
    Newer,
    /// It is the stored version, sent again.
    Duplicate,
    /// It is older than the stored version and changes nothing.
    Stale,
}

impl Dossier {
    /// Compares this incoming version with the `stored` one: a later
    /// `updated_at` wins; at the same `updated_at`, the greater version in
    /// the derived order wins.
    pub fn order_against(&self, stored: &Dossier) -> VersionOrder {
        use std::cmp::Ordering;
        match self
            .updated_at
            .cmp(&stored.updated_at)
            .then_with(|| self.cmp(stored))
        {
            Ordering::Greater => VersionOrder::Newer,
            Ordering::Equal => VersionOrder::Duplicate,
            Ordering::Less => VersionOrder::Stale,
        }
    }
}

/// A dossier as ioc keeps it: the source's newest version plus what ioc
/// derives from the sequence of versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DossierState {
    /// The source system that sent it.
    pub source: Source,
    /// The newest version.
    #[serde(flatten)]
    pub dossier: Dossier,
    /// When it entered status 7 or 8 (the `updated_at` of the first version
    /// in that status); none unless it is withdrawn or stopped now.
    pub stopped_at: Option<DateTime<Utc>>,
}

impl DossierState {
    /// The state after accepting `version` on top of `previous`.
    pub fn next(
        previous: Option<&DossierState>,
        source: &Source,
        version: Dossier,
    ) -> DossierState {
        let stopped_at = if version.is_stopped() {
            previous
                .filter(|p| p.dossier.is_stopped())
                .and_then(|p| p.stopped_at)
                .or(Some(version.updated_at))
        } else {
            None
        };
        DossierState {
            source: source.clone(),
            dossier: version,
            stopped_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("instant")
            .with_timezone(&Utc)
    }

    fn source() -> Source {
        Source::parse("s").expect("source")
    }

    fn dossier(status: Status) -> Dossier {
        Dossier {
            code: DossierCode::parse("H-1").expect("dossier code"),
            unit: UnitCode::parse("25432").expect("unit code"),
            procedure: ProcedureCode::parse("2.000815").expect("procedure code"),
            channel: Channel::Online,
            status,
            received_at: Some(t("2022-09-15T09:12:00+07:00")),
            due_at: Some(t("2022-09-20T17:00:00+07:00")),
            finished_at: None,
            fee_required: false,
            paid_online: false,
            e_result: false,
            updated_at: t("2022-09-15T09:12:00+07:00"),
        }
    }

    #[test]
    fn codes_and_sources_are_parsed_once() {
        assert_eq!(DossierCode::parse("H-1").expect("code"), "H-1");
        assert_eq!(DossierCode::parse(""), Err("is empty".to_owned()));
        assert!(DossierCode::parse(&"x".repeat(101)).is_err());
        assert!(DossierCode::parse("a\u{0}b").is_err());
        assert_eq!(source(), "s");
        assert!(Source::parse("one stop").is_err());
        assert!(Source::parse(&"s".repeat(65)).is_err());
    }

    #[test]
    fn pending_follows_metrics_md() {
        let before = t("2022-09-15T09:00:00+07:00");
        let after = t("2022-09-16T09:00:00+07:00");
        let processing = dossier(Status::Processing);
        assert!(!processing.is_pending_at(before));
        assert!(processing.is_pending_at(after));
        for status in [Status::Refused, Status::Withdrawn, Status::Stopped] {
            assert!(!dossier(status).is_pending_at(after), "{status:?}");
        }
        let mut finished = dossier(Status::Delivered);
        finished.finished_at = Some(t("2022-09-16T08:00:00+07:00"));
        assert!(finished.is_finished());
        assert!(finished.is_pending_at(t("2022-09-16T07:59:00+07:00")));
        assert!(!finished.is_pending_at(after));
    }

    #[test]
    fn versions_order_by_update_time_then_content() {
        let stored = dossier(Status::Processing);
        let mut newer = stored.clone();
        newer.updated_at = t("2022-09-16T09:00:00+07:00");
        let mut older = stored.clone();
        older.updated_at = t("2022-09-14T09:00:00+07:00");
        older.status = Status::Delivered;
        assert_eq!(newer.order_against(&stored), VersionOrder::Newer);
        assert_eq!(
            stored.clone().order_against(&stored),
            VersionOrder::Duplicate
        );
        assert_eq!(older.order_against(&stored), VersionOrder::Stale);
        // Same time, different content: exactly one of the two wins, either way round.
        let tie = dossier(Status::Delivered);
        assert_eq!(tie.order_against(&stored), VersionOrder::Newer);
        assert_eq!(stored.order_against(&tie), VersionOrder::Stale);
    }

    #[test]
    fn stopped_at_is_when_it_first_entered_a_stop_status() {
        let received = DossierState::next(None, &source(), dossier(Status::Processing));
        assert_eq!(received.stopped_at, None);
        let mut withdrawn = dossier(Status::Withdrawn);
        withdrawn.updated_at = t("2022-09-17T10:00:00+07:00");
        let withdrawn = DossierState::next(Some(&received), &source(), withdrawn);
        assert_eq!(withdrawn.stopped_at, Some(t("2022-09-17T10:00:00+07:00")));
        let mut stopped = dossier(Status::Stopped);
        stopped.updated_at = t("2022-09-18T10:00:00+07:00");
        let stopped = DossierState::next(Some(&withdrawn), &source(), stopped);
        assert_eq!(stopped.stopped_at, Some(t("2022-09-17T10:00:00+07:00")));
    }
}
