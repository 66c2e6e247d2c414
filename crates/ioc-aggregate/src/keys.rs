//! Every key of METRICS.md for one unit (or scope, or level) and window.

use ioc_core::Key;
use serde::{Serialize, Serializer};

use crate::counters::{Counter, Counts};

/// A ratio kept with its parts; *none* when the denominator is zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ratio {
    /// Numerator.
    pub numerator: i64,
    /// Denominator.
    pub denominator: i64,
}

impl Ratio {
    fn new(numerator: i64, denominator: i64) -> Ratio {
        Ratio {
            numerator,
            denominator,
        }
    }

    /// The value, or `None` when the denominator is zero.
    pub fn value(&self) -> Option<f64> {
        (self.denominator != 0).then(|| self.numerator as f64 / self.denominator as f64)
    }
}

impl Serialize for Ratio {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(s)
    }
}

/// In OpenAPI, a ratio is its value: a number, or null without a denominator.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Ratio {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{ObjectBuilder, Type, schema::SchemaType};
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Number, Type::Null]))
            .description(Some(
                "numerator / denominator, from 0 to 1; null when the denominator is zero",
            ))
            .minimum(Some(0.0))
            .maximum(Some(1.0))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Ratio {}

/// The keys of METRICS.md "Per unit U and window W", under their own names.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Keys {
    /// Dossiers received in the window.
    pub received: i64,
    /// Of those, online.
    pub received_online: i64,
    /// Of those, in person.
    pub received_direct: i64,
    /// Of those, by post.
    pub received_postal: i64,
    /// Online share over procedures the unit offers online.
    pub online_share: Ratio,
    /// Online share over all dossiers.
    pub online_share_all: Ratio,
    /// Dossiers finished in the window.
    pub finished: i64,
    /// Of those, before the due day.
    pub finished_early: i64,
    /// Of those, on the due day or without a due time.
    pub finished_on_time: i64,
    /// Of those, after the due day.
    pub finished_late: i64,
    /// (early + on time) / finished.
    pub on_time_rate: Ratio,
    /// late / finished.
    pub late_rate: Ratio,
    /// Dossiers that entered status 7 or 8 in the window.
    pub withdrawn: i64,
    /// Pending at the cut-off.
    pub pending: i64,
    /// Of those, overdue.
    pub pending_overdue: i64,
    /// Pending, not overdue, due by the day after the cut-off.
    pub due_soon: i64,
    /// 766 indicator 2.1.
    pub progress_rate: Ratio,
    /// Procedures the unit offers online.
    pub online_services: i64,
    /// Of those, with at least one online dossier received in the window.
    pub online_services_used: i64,
    /// online_services_used / online_services.
    pub online_services_used_share: Ratio,
    /// Dossiers received in the window with a fee.
    pub fee_dossiers: i64,
    /// Of those, paid online.
    pub paid_online: i64,
    /// paid_online / fee_dossiers.
    pub paid_online_share: Ratio,
    /// Finished dossiers with an electronic result / finished.
    pub e_result_share: Ratio,
    /// 766 online provision: received online / received, over procedures
    /// offered fully online.
    pub full_online_share: Ratio,
}

/// The pending set at a cut-off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) pending: i64,
    pub(crate) overdue: i64,
    pub(crate) due_soon: i64,
}

impl Keys {
    /// The keys from a window's summed counters, the pending set at its
    /// cut-off, and the (offered, used) online services.
    pub(crate) fn new(c: &Counts, p: Pending, services: (i64, i64)) -> Keys {
        let finished =
            c[Counter::FinishedEarly] + c[Counter::FinishedOnTime] + c[Counter::FinishedLate];
        let in_time = c[Counter::FinishedEarly] + c[Counter::FinishedOnTime];
        Keys {
            received: c[Counter::Received],
            received_online: c[Counter::ReceivedOnline],
            received_direct: c[Counter::ReceivedDirect],
            received_postal: c[Counter::ReceivedPostal],
            online_share: Ratio::new(
                c[Counter::ReceivedOnlineOffered],
                c[Counter::ReceivedOffered],
            ),
            online_share_all: Ratio::new(c[Counter::ReceivedOnline], c[Counter::Received]),
            finished,
            finished_early: c[Counter::FinishedEarly],
            finished_on_time: c[Counter::FinishedOnTime],
            finished_late: c[Counter::FinishedLate],
            on_time_rate: Ratio::new(in_time, finished),
            late_rate: Ratio::new(c[Counter::FinishedLate], finished),
            withdrawn: c[Counter::Withdrawn],
            pending: p.pending,
            pending_overdue: p.overdue,
            due_soon: p.due_soon,
            progress_rate: Ratio::new(in_time + p.pending - p.overdue, finished + p.pending),
            online_services: services.0,
            online_services_used: services.1,
            online_services_used_share: Ratio::new(services.1, services.0),
            fee_dossiers: c[Counter::FeeDossiers],
            paid_online: c[Counter::PaidOnline],
            paid_online_share: Ratio::new(c[Counter::PaidOnline], c[Counter::FeeDossiers]),
            e_result_share: Ratio::new(c[Counter::FinishedEResult], finished),
            full_online_share: Ratio::new(c[Counter::ReceivedOnlineFull], c[Counter::ReceivedFull]),
        }
    }

    /// The value of `key` as a ratio (a count `n` is `n / 1`).
    pub fn value(&self, key: Key) -> Ratio {
        let count = |n: i64| Ratio::new(n, 1);
        match key {
            Key::Received => count(self.received),
            Key::ReceivedOnline => count(self.received_online),
            Key::ReceivedDirect => count(self.received_direct),
            Key::ReceivedPostal => count(self.received_postal),
            Key::OnlineShare => self.online_share,
            Key::OnlineShareAll => self.online_share_all,
            Key::Finished => count(self.finished),
            Key::FinishedEarly => count(self.finished_early),
            Key::FinishedOnTime => count(self.finished_on_time),
            Key::FinishedLate => count(self.finished_late),
            Key::OnTimeRate => self.on_time_rate,
            Key::LateRate => self.late_rate,
            Key::Withdrawn => count(self.withdrawn),
            Key::Pending => count(self.pending),
            Key::PendingOverdue => count(self.pending_overdue),
            Key::DueSoon => count(self.due_soon),
            Key::ProgressRate => self.progress_rate,
            Key::OnlineServices => count(self.online_services),
            Key::OnlineServicesUsed => count(self.online_services_used),
            Key::OnlineServicesUsedShare => self.online_services_used_share,
            Key::FeeDossiers => count(self.fee_dossiers),
            Key::PaidOnline => count(self.paid_online),
            Key::PaidOnlineShare => self.paid_online_share,
            Key::EResultShare => self.e_result_share,
            Key::FullOnlineShare => self.full_online_share,
        }
    }

    /// The value of the key named `name` (as a campaign target or a score
    /// part names it), or `None` for a name that is no key.
    pub fn get(&self, name: &str) -> Option<Ratio> {
        name.parse::<Key>().ok().map(|key| self.value(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_key_has_a_value() {
        let keys = Keys::default();
        for name in Key::ALL.iter().map(|k| k.as_str()) {
            assert!(keys.get(name).is_some(), "{name}");
        }
        assert!(keys.get("nope").is_none());
    }

    #[test]
    fn a_zero_denominator_is_none_not_zero() {
        assert_eq!(Ratio::new(0, 0).value(), None);
        assert_eq!(Ratio::new(1, 4).value(), Some(0.25));
    }
}
