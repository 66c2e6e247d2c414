//! Campaigns: a named window with targets per key and level, and the
//! progress of every unit and level against them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::keys::Ratio;
use crate::window::Window;

/// The level key `desks_with_online_payment`: units of the level with an
/// online payment / units of the level that received a fee dossier.
pub const DESKS_WITH_ONLINE_PAYMENT: &str = "desks_with_online_payment";

/// A campaign as configured in `config/campaigns/*.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// Identifier used in URLs and window names (`campaign:<id>`).
    pub id: String,
    /// Name shown to people.
    pub name: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub until: NaiveDate,
    /// Targets.
    #[serde(rename = "target")]
    pub targets: Vec<Target>,
}

/// How a value meets a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Comparison {
    /// At least.
    #[serde(rename = ">=")]
    AtLeast,
    /// Above.
    #[serde(rename = ">")]
    Above,
    /// At most.
    #[serde(rename = "<=")]
    AtMost,
    /// Below.
    #[serde(rename = "<")]
    Below,
}

impl Comparison {
    fn holds(self, value: f64, target: f64) -> bool {
        match self {
            Comparison::AtLeast => value >= target,
            Comparison::Above => value > target,
            Comparison::AtMost => value <= target,
            Comparison::Below => value < target,
        }
    }
}

/// A target that holds outside any campaign: the province's standing
/// goals for online public services (over 50% handled online, under 0.4%
/// late, 80% of online services generating dossiers).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StandingTarget {
    /// The key.
    pub key: ioc_core::Key,
    /// Comparison.
    pub op: Comparison,
    /// The target value, as a fraction.
    pub target: f64,
}

/// The standing targets, shown on the wall when no running campaign sets
/// the same key.
pub const STANDING_TARGETS: [StandingTarget; 3] = [
    StandingTarget {
        key: ioc_core::Key::OnlineShare,
        op: Comparison::AtLeast,
        target: 0.5,
    },
    StandingTarget {
        key: ioc_core::Key::LateRate,
        op: Comparison::Below,
        target: 0.004,
    },
    StandingTarget {
        key: ioc_core::Key::OnlineServicesUsedShare,
        op: Comparison::AtLeast,
        target: 0.8,
    },
];

/// One target: `key` `op` `value` for the units of `levels`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// A key of METRICS.md, or `desks_with_online_payment`.
    pub key: String,
    /// Comparison.
    pub op: Comparison,
    /// The target value (ratios as fractions: 0.8 for 80%).
    pub value: f64,
    /// Levels the target applies to.
    pub levels: Vec<String>,
}

impl Campaign {
    /// The campaign's window `[from, until + 1)`.
    pub fn window(&self) -> Window {
        Window {
            from: self.from,
            to: self.until.succ_opt().unwrap_or(self.until),
        }
    }

    /// Checks the campaign against the known keys and `levels`.
    pub fn check(&self, levels: &[String]) -> Result<(), String> {
        if self.until < self.from {
            return Err(format!(
                "campaign {}: until {} is before from {}",
                self.id, self.until, self.from
            ));
        }
        for target in &self.targets {
            if target.key.parse::<ioc_core::Key>().is_err()
                && target.key != DESKS_WITH_ONLINE_PAYMENT
            {
                return Err(format!(
                    "campaign {}: unknown key {:?}",
                    self.id, target.key
                ));
            }
            if let Some(level) = target.levels.iter().find(|l| !levels.contains(l)) {
                return Err(format!("campaign {}: unknown level {level:?}", self.id));
            }
        }
        Ok(())
    }
}

/// Progress against one target at one level.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetProgress {
    /// Key.
    pub key: String,
    /// Comparison.
    pub op: Comparison,
    /// Target.
    pub target: f64,
    /// Level.
    pub level: String,
    /// The level's value (all its units together); none (null) without data.
    pub value: Option<f64>,
    /// Whether the level meets the target; none (null) without data.
    pub met: Option<bool>,
    /// Units of the level meeting the target.
    pub units_met: usize,
    /// Each unit of the level.
    pub units: Vec<UnitProgress>,
}

/// One unit against one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitProgress {
    /// Unit code.
    pub unit: String,
    /// The unit's value.
    pub value: Option<f64>,
    /// Whether it meets the target.
    pub met: Option<bool>,
}

/// A campaign's progress.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignProgress {
    /// Identifier.
    pub id: String,
    /// Name shown to people.
    pub name: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub until: NaiveDate,
    /// Targets.
    #[serde(rename = "target")]
    pub targets: Vec<Target>,
    /// Its window.
    pub window: Window,
    /// Progress per target and level.
    pub progress: Vec<TargetProgress>,
}

fn met(op: Comparison, value: Option<f64>, target: f64) -> Option<bool> {
    value.map(|v| op.holds(v, target))
}

/// The progress of `campaign` at `now`.
pub fn progress(engine: &Engine, campaign: &Campaign, now: DateTime<Utc>) -> CampaignProgress {
    let window = campaign.window();
    let mut out = Vec::new();
    for target in &campaign.targets {
        for level in &target.levels {
            let units: Vec<&str> = engine
                .tree()
                .at_level(level)
                .map(|u| u.code.as_str())
                .collect();
            let per_unit: Vec<(String, crate::Keys)> = units
                .iter()
                .map(|u| ((*u).to_owned(), engine.keys([*u], window, now)))
                .collect();
            let (value, unit_values): (Option<f64>, Vec<(String, Option<f64>)>) = if target.key
                == DESKS_WITH_ONLINE_PAYMENT
            {
                let paying = per_unit.iter().filter(|(_, k)| k.paid_online > 0).count() as i64;
                let charging = per_unit.iter().filter(|(_, k)| k.fee_dossiers > 0).count() as i64;
                let level_value = Ratio {
                    numerator: paying,
                    denominator: charging,
                }
                .value();
                let units = per_unit
                    .iter()
                    .map(|(u, k)| {
                        (
                            u.clone(),
                            (k.fee_dossiers > 0).then_some(if k.paid_online > 0 {
                                1.0
                            } else {
                                0.0
                            }),
                        )
                    })
                    .collect();
                (level_value, units)
            } else {
                let level_value = engine
                    .keys(units.iter().copied(), window, now)
                    .get(&target.key)
                    .and_then(|r| r.value());
                let units = per_unit
                    .iter()
                    .map(|(u, k)| (u.clone(), k.get(&target.key).and_then(|r| r.value())))
                    .collect();
                (level_value, units)
            };
            let units: Vec<UnitProgress> = unit_values
                .into_iter()
                .map(|(unit, value)| UnitProgress {
                    met: met(target.op, value, target.value),
                    unit,
                    value,
                })
                .collect();
            out.push(TargetProgress {
                key: target.key.clone(),
                op: target.op,
                target: target.value,
                level: level.clone(),
                value,
                met: met(target.op, value, target.value),
                units_met: units.iter().filter(|u| u.met == Some(true)).count(),
                units,
            });
        }
    }
    CampaignProgress {
        id: campaign.id.clone(),
        name: campaign.name.clone(),
        from: campaign.from,
        until: campaign.until,
        targets: campaign.targets.clone(),
        window,
        progress: out,
    }
}
