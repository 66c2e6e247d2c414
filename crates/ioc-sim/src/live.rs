//! Live traffic for a running demo: new receptions at a steady rate and
//! dossiers in process moving on (finished, some late; a few withdrawn),
//! sent as a sync client sends them: now and then a version twice, or an
//! older version after a newer one.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use ioc_core::Dossier;

use crate::Generator;

/// Most dossiers kept in process; older ones are finished first.
const MAX_IN_PROCESS: usize = 5_000;

/// Turns elapsed time into dossier versions.
pub struct Live<'a> {
    generator: Generator<'a>,
    in_process: Vec<Dossier>,
    per_second: f64,
    owed: f64,
}

impl<'a> Live<'a> {
    /// About `per_second` receptions a second, and as many dossiers moving on.
    pub fn new(generator: Generator<'a>, per_second: f64) -> Live<'a> {
        Live {
            generator,
            in_process: Vec::new(),
            per_second,
            owed: 0.0,
        }
    }

    /// Dossiers already in process (from an earlier run) that live traffic
    /// may finish.
    pub fn adopt(&mut self, in_process: impl IntoIterator<Item = Dossier>) {
        self.in_process.extend(in_process);
    }

    /// Dossiers in process now.
    pub fn in_process(&self) -> usize {
        self.in_process.len()
    }

    /// The versions sent over `elapsed` up to `now`.
    pub fn step(&mut self, now: DateTime<Utc>, elapsed: Duration) -> Vec<Dossier> {
        self.owed += self.per_second * elapsed.as_secs_f64();
        let count = self.owed.floor() as usize;
        self.owed -= count as f64;
        let mut out = Vec::with_capacity(count * 2 + 2);
        for _ in 0..count {
            let offset = TimeDelta::milliseconds(self.generator.below(1_000) as i64);
            let dossier = self.generator.received(now - offset);
            self.in_process.push(dossier.clone());
            out.push(dossier);
        }
        let moving = count + usize::from(self.in_process.len() > MAX_IN_PROCESS) * count;
        for _ in 0..moving.min(self.in_process.len()) {
            // Older dossiers are likelier to move on.
            let pick = self.generator.below(self.in_process.len() as u64 / 2 + 1) as usize;
            let before = self.in_process.swap_remove(pick);
            let after = if self.generator.chance(0.02) {
                self.generator.withdrawn(&before, now)
            } else {
                self.generator.finished(&before, now.max(before.updated_at))
            };
            if self.generator.chance(0.05) {
                // A late retry of the older version: stale on arrival.
                out.push(after.clone());
                out.push(before);
            } else {
                out.push(after);
            }
        }
        if !out.is_empty() && self.generator.chance(0.05) {
            let again = out[self.generator.below(out.len() as u64) as usize].clone();
            out.push(again);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use ioc_core::{LocalCalendar, Status};

    use super::*;
    use crate::tests::{scenario, world};

    #[test]
    fn traffic_arrives_at_the_rate_and_dossiers_move_on() {
        let (tree, catalog) = world();
        let now: DateTime<Utc> = "2022-09-01T03:00:00Z".parse().unwrap();
        let generator = Generator::new(scenario(3), LocalCalendar::default(), &tree, &catalog);
        let mut live = Live::new(generator, 5.0);
        let mut received = 0;
        let mut finished = 0;
        for second in 0..60 {
            for d in live.step(now + TimeDelta::seconds(second), Duration::from_secs(1)) {
                match d.status {
                    Status::Received => received += 1,
                    s if s.is_finished() => finished += 1,
                    _ => {}
                }
            }
        }
        assert!((300..=340).contains(&received), "{received}");
        assert!(finished > 200, "{finished}");
    }

    #[test]
    fn the_same_seed_and_clock_give_the_same_traffic() {
        let (tree, catalog) = world();
        let now: DateTime<Utc> = "2022-09-01T03:00:00Z".parse().unwrap();
        let run = || {
            let generator = Generator::new(scenario(4), LocalCalendar::default(), &tree, &catalog);
            let mut live = Live::new(generator, 3.0);
            (0..20)
                .flat_map(|s| live.step(now + TimeDelta::seconds(s), Duration::from_secs(1)))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }
}
