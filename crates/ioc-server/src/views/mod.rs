//! The read model's JSON views (overview, unit, ranking), shared by the
//! REST handlers and the live topics of `/ws`, so that a screen fed by
//! either shows the same numbers.

use std::sync::Arc;

use chrono::NaiveDate;
use ioc_aggregate::campaign;
use ioc_aggregate::ranking::{RankedUnit, RankingQuery, Scope, ranking};
use ioc_aggregate::{Engine, Window, WindowSpec};
use ioc_core::{Key, LocalCalendar, UnitCode, UnitTree};
use ioc_stream::protocol::ErrorCode as FrameCode;
use ioc_stream::{RenderError, Source, Topic};
use serde::Serialize;
use serde_json::Value;

use crate::aggregates::Aggregates;
use crate::alerting::Alerting;
use crate::error::{ApiError, ErrorCode};

mod bodies;

pub use bodies::{
    ChildRow, KeyInfo, Meta, Overview, Ranking, RunningTarget, Trend, TrendDay, UnitInfo, UnitName,
    UnitView, WindowView,
};

/// Renders views from the live aggregates.
pub struct Views {
    /// The live aggregates.
    pub aggregates: Arc<Aggregates>,
    /// The alerts.
    pub alerting: Arc<Alerting>,
    /// The unit tree.
    pub tree: Arc<UnitTree>,
    /// The calendar of local dates.
    pub calendar: LocalCalendar,
}

/// An invalid parameter.
pub fn bad(parameter: &str, message: String) -> ApiError {
    ApiError::BadRequest {
        code: ErrorCode::InvalidParameter,
        message: format!("{parameter}: {message}"),
    }
}

impl Views {
    /// The window named `name` (default `today`), or the range `from`..`to`,
    /// and its previous period.
    pub fn window(
        &self,
        name: Option<&str>,
        range: Option<(&str, &str)>,
    ) -> Result<(Window, Window), ApiError> {
        let today = self.calendar.date_of(self.aggregates.now());
        if let Some((from, to)) = range {
            let day = |name: &str, raw: &str| {
                raw.parse::<NaiveDate>()
                    .map_err(|_| bad(name, format!("{raw:?} is not a date YYYY-MM-DD")))
            };
            let spec = WindowSpec::range(day("from", from)?, day("to", to)?)
                .map_err(|e| bad("window", e.to_string()))?;
            return Ok((spec.resolve(today), spec.previous(today)));
        }
        let name = name.unwrap_or("today");
        if let Some(id) = name.strip_prefix("campaign:") {
            let campaign = self.aggregates.campaign(id).ok_or_else(|| {
                let known: Vec<&str> = self
                    .aggregates
                    .campaigns
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect();
                bad(
                    "window",
                    format!("unknown campaign {id:?} (campaigns: {})", known.join(", ")),
                )
            })?;
            let w = campaign.window();
            return Ok((w, w.shifted_back()));
        }
        let spec = WindowSpec::parse(name).map_err(|e| bad("window", e.to_string()))?;
        Ok((spec.resolve(today), spec.previous(today)))
    }

    /// The window as answered, with its cut-off day.
    pub fn window_view(&self, window: Window) -> WindowView {
        let cut = window.cutoff(self.aggregates.now(), &self.calendar);
        WindowView {
            from: window.from,
            to: window.to,
            cutoff_date: cut.today,
        }
    }

    /// A unit code of the tree.
    pub fn unit_code(&self, raw: &str) -> Result<UnitCode, ApiError> {
        UnitCode::parse(raw)
            .ok()
            .filter(|c| self.tree.get(c).is_some())
            .ok_or_else(|| ApiError::NotFound(format!("unit {raw:?} is not in the unit tree")))
    }

    /// Checks a level name.
    pub fn level<'a>(&self, level: Option<&'a str>) -> Result<&'a str, ApiError> {
        let levels = self.tree.levels().names();
        let level = level.ok_or_else(|| {
            bad(
                "level",
                format!("is required (levels: {})", levels.join(", ")),
            )
        })?;
        if !levels.iter().any(|l| l == level) {
            return Err(bad(
                "level",
                format!("unknown level {level:?} (levels: {})", levels.join(", ")),
            ));
        }
        Ok(level)
    }

    /// Parses a key name.
    pub fn key(&self, key: Option<&str>) -> Result<Key, ApiError> {
        let key = key.ok_or_else(|| bad("key", format!("is required (keys: {})", Key::names())))?;
        key.parse()
            .map_err(|e: ioc_core::UnknownKey| bad("key", e.to_string()))
    }

    /// What a page needs to lay itself out: the tree's levels top first,
    /// every key with its kind and direction, and the standing targets.
    pub fn meta(&self) -> Meta {
        let keys = Key::ALL
            .iter()
            .map(|&key| KeyInfo {
                key,
                ratio: key.kind() == ioc_core::KeyKind::Ratio,
                lower_is_better: key.better() == ioc_core::Better::Lower,
            })
            .collect();
        Meta {
            levels: self.tree.levels().names().to_vec(),
            keys,
            targets: campaign::STANDING_TARGETS.to_vec(),
        }
    }

    /// The province (every root unit's tree), each level's aggregate, and
    /// the targets of campaigns running today.
    pub fn overview(&self, window: Window) -> Overview {
        let engine = self.aggregates.snapshot();
        let now = self.aggregates.now();
        let tree = engine.tree();
        let roots: Vec<&ioc_core::Unit> = tree
            .top_down()
            .into_iter()
            .filter(|u| u.parent.is_none())
            .collect();
        let all: Vec<&str> = roots
            .iter()
            .flat_map(|r| tree.subtree(&r.code))
            .map(UnitCode::as_str)
            .collect();
        let province = engine.keys(all.iter().copied(), window, now);
        let levels = tree
            .levels()
            .names()
            .iter()
            .map(|level| {
                let keys = engine.keys(tree.at_level(level).map(|u| u.code.as_str()), window, now);
                (level.clone(), keys)
            })
            .collect();
        let today = self.calendar.date_of(now);
        let targets = self
            .aggregates
            .campaigns
            .iter()
            .filter(|c| (c.from..=c.until).contains(&today))
            .flat_map(|c| {
                let progress = campaign::progress(&engine, c, now);
                progress.progress.into_iter().map(move |p| RunningTarget {
                    campaign: c.id.clone(),
                    key: p.key,
                    level: p.level,
                    op: p.op,
                    target: p.target,
                    value: p.value,
                    met: p.met,
                    units_met: p.units_met,
                    units: p.units.len(),
                })
            })
            .collect();
        Overview {
            window: self.window_view(window),
            units: roots
                .iter()
                .map(|r| UnitName {
                    code: r.code.clone(),
                    name: r.name.clone(),
                })
                .collect(),
            province,
            score: self.aggregates.score.score(&province),
            levels,
            targets,
        }
    }

    /// Each child of `code`, with keys over its subtree.
    pub fn children(&self, engine: &Engine, code: &UnitCode, window: Window) -> Vec<ChildRow> {
        let now = self.aggregates.now();
        let last_day = window.to.pred_opt().unwrap_or(window.to);
        self.tree
            .children(code)
            .iter()
            .filter_map(|c| self.tree.get(c))
            .map(|child| ChildRow {
                unit: child.code.as_str().to_owned(),
                name: child.name_on(last_day).to_owned(),
                level: child.level.clone(),
                keys: engine.keys(codes(engine, &child.code, Scope::Tree), window, now),
            })
            .collect()
    }

    /// Every key of a unit, its partial 766 score, and its children.
    pub fn unit(
        &self,
        code: &UnitCode,
        window: Window,
        scope: Scope,
    ) -> Result<UnitView, ApiError> {
        let engine = self.aggregates.snapshot();
        let now = self.aggregates.now();
        let unit = self
            .tree
            .get(code)
            .ok_or_else(|| ApiError::NotFound(format!("unit {code}")))?;
        let last_day = window.to.pred_opt().unwrap_or(window.to);
        let keys = engine.keys(codes(&engine, code, scope), window, now);
        Ok(UnitView {
            unit: UnitInfo {
                code: unit.code.clone(),
                name: unit.name_on(last_day).to_owned(),
                level: unit.level.clone(),
                parent: unit.parent.clone(),
            },
            window: self.window_view(window),
            scope,
            keys,
            score: self.aggregates.score.score(&keys),
            children: self.children(&engine, code, window),
        })
    }

    /// The unit's daily numbers over the last `days` local days, today last.
    pub fn trend(&self, code: &UnitCode, days: u32, scope: Scope) -> Trend {
        let engine = self.aggregates.snapshot();
        let now = self.aggregates.now();
        let today = self.calendar.date_of(now);
        let codes = codes(&engine, code, scope);
        let days = (0..days)
            .rev()
            .filter_map(|back| today.checked_sub_days(chrono::Days::new(u64::from(back))))
            .map(|day| {
                let window = Window {
                    from: day,
                    to: day.succ_opt().unwrap_or(day),
                };
                let k = engine.keys(codes.iter().copied(), window, now);
                TrendDay {
                    date: day,
                    received: k.received,
                    received_online: k.received_online,
                    online_share: k.online_share,
                    finished: k.finished,
                    on_time_rate: k.on_time_rate,
                    late_rate: k.late_rate,
                    pending: k.pending,
                    pending_overdue: k.pending_overdue,
                }
            })
            .collect();
        Trend {
            unit: code.clone(),
            scope,
            days,
        }
    }

    /// The ranked units of a level by a key, with movement against the
    /// previous period.
    pub fn ranked(
        &self,
        level: &str,
        key: Key,
        scope: Scope,
        window: Window,
        previous: Window,
    ) -> Vec<RankedUnit> {
        let engine = self.aggregates.snapshot();
        let q = RankingQuery {
            level,
            key,
            scope,
            min_volume: self.aggregates.min_volume,
        };
        ranking(&engine, &q, window, previous, self.aggregates.now())
    }

    /// [`ranked`](Self::ranked) as the JSON body.
    pub fn ranking(
        &self,
        level: &str,
        key: Key,
        scope: Scope,
        window: Window,
        previous: Window,
    ) -> Ranking {
        Ranking {
            level: level.to_owned(),
            key,
            scope,
            window: self.window_view(window),
            previous_window: previous,
            items: self.ranked(level, key, scope, window, previous),
        }
    }
}

/// The codes a unit stands for in `scope`.
pub fn codes<'a>(engine: &'a Engine, unit: &'a UnitCode, scope: Scope) -> Vec<&'a str> {
    match scope {
        Scope::Own => vec![unit.as_str()],
        Scope::Tree => engine
            .tree()
            .subtree(unit)
            .into_iter()
            .map(UnitCode::as_str)
            .collect(),
    }
}

fn scope_of(tree: bool) -> Scope {
    if tree { Scope::Tree } else { Scope::Own }
}

/// A body as the JSON a topic sends.
fn topic_value(body: impl Serialize) -> Result<Value, RenderError> {
    serde_json::to_value(body).map_err(|e| {
        tracing::error!(message = "Cannot encode a topic.", error = %e);
        RenderError {
            code: FrameCode::Internal,
            message: "internal error; see the server log".to_owned(),
        }
    })
}

impl Source for Views {
    fn render(&self, topic: &Topic) -> Result<Value, RenderError> {
        let failed = |e: ApiError| RenderError {
            code: match e {
                ApiError::NotFound(_) => FrameCode::UnknownTopic,
                _ => FrameCode::InvalidTopic,
            },
            message: e.public_message(),
        };
        match topic {
            Topic::Overview { window } => {
                let (window, _) = self.window(Some(window), None).map_err(failed)?;
                topic_value(self.overview(window))
            }
            Topic::Unit { code, window, tree } => {
                let code = self.unit_code(code).map_err(failed)?;
                let (window, _) = self.window(Some(window), None).map_err(failed)?;
                topic_value(self.unit(&code, window, scope_of(*tree)).map_err(failed)?)
            }
            Topic::Ranking {
                level,
                key,
                window,
                tree,
            } => {
                let level = self.level(Some(level)).map_err(failed)?;
                let key = self.key(Some(key)).map_err(failed)?;
                let (window, previous) = self.window(Some(window), None).map_err(failed)?;
                topic_value(self.ranking(level, key, scope_of(*tree), window, previous))
            }
            Topic::Alerts => Ok(self.alerting.topic(self.aggregates.now())),
        }
    }
}
