//! Rankings of the units of one level by one key (METRICS.md "Rankings").

use chrono::{DateTime, Utc};
use ioc_core::{Better, Key};
use serde::Serialize;

use crate::engine::Engine;
use crate::keys::Keys;
use crate::window::Window;

/// Whether units are compared on their own dossiers or their whole subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The unit's own dossiers.
    #[serde(rename = "self")]
    Own,
    /// The unit and all its descendants.
    Tree,
}

impl Scope {
    /// Parses `self` or `tree`.
    pub fn parse(raw: &str) -> Result<Scope, String> {
        match raw {
            "self" => Ok(Scope::Own),
            "tree" => Ok(Scope::Tree),
            other => Err(format!("unknown scope {other:?} (scopes: self, tree)")),
        }
    }

    /// The name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Own => "self",
            Scope::Tree => "tree",
        }
    }
}

/// One line of a ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RankedUnit {
    /// Rank; ties share it (1, 2, 2, 4). None (null) when unranked.
    pub rank: Option<usize>,
    /// Unit code.
    pub unit: String,
    /// Unit name.
    pub name: String,
    /// The key's value; none (null) when its denominator is zero.
    pub value: Option<f64>,
    /// Numerator of the value (the value itself for counts).
    pub numerator: i64,
    /// Denominator of the value (1 for counts).
    pub denominator: i64,
    /// Rank in the previous period, computed the same way.
    pub previous_rank: Option<usize>,
    /// `previous_rank − rank`: positive when the unit moved up.
    pub movement: Option<i64>,
}

/// What to rank.
#[derive(Debug, Clone, Copy)]
pub struct RankingQuery<'a> {
    /// Level of the units ranked.
    pub level: &'a str,
    /// Key ranked by.
    pub key: Key,
    /// Scope.
    pub scope: Scope,
    /// Units whose key denominator is below this are listed unranked.
    pub min_volume: i64,
}

/// Ranks for one period: (unit, keys) sorted, with ranks.
fn rank_period(
    engine: &Engine,
    q: &RankingQuery<'_>,
    window: Window,
    now: DateTime<Utc>,
) -> Vec<(String, Keys, Option<usize>)> {
    let tree = engine.tree();
    let mut rows: Vec<(String, Keys)> = tree
        .at_level(q.level)
        .map(|unit| {
            let codes: Vec<&str> = match q.scope {
                Scope::Own => vec![unit.code.as_str()],
                Scope::Tree => tree
                    .subtree(&unit.code)
                    .into_iter()
                    .map(|c| c.as_str())
                    .collect(),
            };
            (
                unit.code.as_str().to_owned(),
                engine.keys(codes, window, now),
            )
        })
        .collect();
    let lower_first = q.key.better() == Better::Lower;
    let ranked = |k: &Keys| {
        let r = k.value(q.key);
        r.denominator >= q.min_volume && r.value().is_some()
    };
    rows.sort_by(|(code_a, a), (code_b, b)| {
        let (ra, rb) = (ranked(a), ranked(b));
        rb.cmp(&ra).then_with(|| {
            let va = a.value(q.key).value().unwrap_or(0.0);
            let vb = b.value(q.key).value().unwrap_or(0.0);
            let by_value = if lower_first {
                va.total_cmp(&vb)
            } else {
                vb.total_cmp(&va)
            };
            if ra && rb {
                by_value
            } else {
                std::cmp::Ordering::Equal
            }
            .then_with(|| code_a.cmp(code_b))
        })
    });
    let mut out = Vec::with_capacity(rows.len());
    let mut previous_value: Option<f64> = None;
    let mut rank = 0;
    for (position, (code, keys)) in rows.into_iter().enumerate() {
        let value = keys.value(q.key).value();
        let this_rank = if ranked(&keys) {
            if value != previous_value {
                rank = position + 1;
                previous_value = value;
            }
            Some(rank)
        } else {
            None
        };
        out.push((code, keys, this_rank));
    }
    out
}

/// The ranking for `window`, with movement against `previous`.
pub fn ranking(
    engine: &Engine,
    q: &RankingQuery<'_>,
    window: Window,
    previous: Window,
    now: DateTime<Utc>,
) -> Vec<RankedUnit> {
    let before: std::collections::HashMap<String, Option<usize>> =
        rank_period(engine, q, previous, now)
            .into_iter()
            .map(|(code, _, rank)| (code, rank))
            .collect();
    rank_period(engine, q, window, now)
        .into_iter()
        .map(|(code, keys, rank)| {
            let ratio = keys.value(q.key);
            let previous_rank = before.get(&code).copied().flatten();
            let name = ioc_core::UnitCode::parse(&code)
                .ok()
                .and_then(|c| {
                    engine.tree().get(&c).map(|u| {
                        u.name_on(window.to.pred_opt().unwrap_or(window.to))
                            .to_owned()
                    })
                })
                .unwrap_or_default();
            RankedUnit {
                movement: match (previous_rank, rank) {
                    (Some(p), Some(r)) => Some(p as i64 - r as i64),
                    _ => None,
                },
                rank,
                unit: code,
                name,
                value: ratio.value(),
                numerator: ratio.numerator,
                denominator: ratio.denominator,
                previous_rank,
            }
        })
        .collect()
}
