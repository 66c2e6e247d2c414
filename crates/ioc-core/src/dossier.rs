//! The normalised dossier of `METRICS.md`: one application for an
//! administrative procedure, as ioc stores and counts it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Channel, Status};

/// The current state of one dossier, as the source last reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dossier {
    /// The source's dossier code (`MaHoSo`), unique within the source.
    pub code: String,
    /// Code of the unit that received and handles it.
    pub unit: String,
    /// Procedure (TTHC) code.
    pub procedure: String,
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
        let excluded = matches!(self.status, Status::Refused | Status::Withdrawn | Status::Stopped);
        received && !finished && !excluded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("instant").with_timezone(&Utc)
    }

    fn dossier(status: Status) -> Dossier {
        Dossier {
            code: "H-1".to_owned(),
            unit: "25432".to_owned(),
            procedure: "2.000815".to_owned(),
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
}
