//! The partial 766 score (METRICS.md "766 score"): the dossier-based
//! indicators ioc can see, each `min(max, ratio / target × max)`.

use serde::{Deserialize, Serialize};

use crate::keys::Keys;

/// A scoring model as configured in `config/scoring/*.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreModel {
    /// Label shown with the score, e.g. "partial 766".
    pub label: String,
    /// Parts.
    #[serde(rename = "part")]
    pub parts: Vec<ScorePart>,
}

/// One indicator of the model.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScorePart {
    /// Indicator number, e.g. "2.1".
    pub id: String,
    /// Name.
    pub name: String,
    /// The ratio key it scores.
    pub key: String,
    /// Points at or above the target.
    pub max_points: f64,
    /// The ratio that earns full points (1.0 = 100%).
    pub target: f64,
}

/// A score with its parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Score {
    /// Label, e.g. "partial 766".
    pub label: String,
    /// Points earned.
    pub points: f64,
    /// Sum of the maxima of the parts that have a value.
    pub max_points: f64,
    /// Each part.
    pub parts: Vec<PartScore>,
}

/// One part of a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartScore {
    /// Indicator number.
    pub id: String,
    /// Name.
    pub name: String,
    /// Key.
    pub key: String,
    /// The ratio; none (null) without data.
    pub value: Option<f64>,
    /// Target ratio.
    pub target: f64,
    /// Points earned; none (null) without data.
    pub points: Option<f64>,
    /// Maximum points.
    pub max_points: f64,
}

impl ScoreModel {
    /// Checks the parts' keys and numbers.
    pub fn check(&self) -> Result<(), String> {
        for part in &self.parts {
            if part.key.parse::<ioc_core::Key>().is_err() {
                return Err(format!(
                    "scoring part {}: unknown key {:?}",
                    part.id, part.key
                ));
            }
            if part.max_points <= 0.0 || part.target <= 0.0 {
                return Err(format!(
                    "scoring part {}: max_points and target must be positive",
                    part.id
                ));
            }
        }
        Ok(())
    }

    /// Scores `keys`. A part without data is left out of the maximum.
    pub fn score(&self, keys: &Keys) -> Score {
        let parts: Vec<PartScore> = self
            .parts
            .iter()
            .map(|part| {
                let value = keys.get(&part.key).and_then(|r| r.value());
                PartScore {
                    id: part.id.clone(),
                    name: part.name.clone(),
                    key: part.key.clone(),
                    value,
                    target: part.target,
                    points: value.map(|v| (v / part.target * part.max_points).min(part.max_points)),
                    max_points: part.max_points,
                }
            })
            .collect();
        Score {
            label: self.label.clone(),
            // A fold from +0.0: an empty f64 sum is -0.0, shown as "-0".
            points: parts
                .iter()
                .filter_map(|p| p.points)
                .fold(0.0, |a, b| a + b),
            max_points: parts
                .iter()
                .filter(|p| p.points.is_some())
                .map(|p| p.max_points)
                .fold(0.0, |a, b| a + b),
            parts,
        }
    }
}
