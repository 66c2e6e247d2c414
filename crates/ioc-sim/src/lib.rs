//! A seeded generator of dossier traffic for a unit tree and a procedure
//! catalog: per-unit volumes by level (communes small, departments large),
//! receptions in working hours on weekdays (local time), a channel mix,
//! due dates from processing times in working days, a small share
//! finished late or left overdue, fees and online payment, e-results and
//! withdrawals. The same seed always gives the same dossiers.
//!
//! [`Live`] turns elapsed time into a running demo's traffic.
//!
//! It produces dossier versions only; they reach ioc through the real
//! ingest path (the HTTP API or `ioc import`).

mod live;

pub use live::Live;

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeDelta, Utc, Weekday};
use ioc_core::{
    Catalog, Channel, Dossier, DossierCode, LocalCalendar, Procedure, Status, UnitCode, UnitTree,
};

/// A small, fast, seedable PRNG (xorshift64*); not for secrets.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value, zero included).
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15 | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Seed of the generator.
    pub seed: u64,
    /// First local day of receptions.
    pub start: NaiveDate,
    /// Number of days receptions span.
    pub days: u32,
    /// Share of dossiers filed online at the start, rising linearly to
    /// `online_share_end` at the end (a campaign's effect).
    pub online_share_start: f64,
    /// Share of dossiers filed online at the end.
    pub online_share_end: f64,
    /// Share of finished dossiers that finish after their due day.
    pub late_share: f64,
    /// The time from which no dossier may be finished yet ("now").
    pub now: DateTime<Utc>,
}

/// Generates dossiers for the units of a tree that offer procedures.
pub struct Generator<'a> {
    scenario: Scenario,
    calendar: LocalCalendar,
    rng: Rng,
    /// (unit code, weight, procedures offered at its level)
    units: Vec<(UnitCode, u64, Vec<&'a Procedure>)>,
    total_weight: u64,
    next: u64,
}

/// Relative volume of a unit of `level`: departments handle the most,
/// communes the least (a commune desk sees a few dossiers a day).
fn weight(level: &str) -> u64 {
    match level {
        "department" => 40,
        "district" => 25,
        "province" => 10,
        _ => 4,
    }
}

impl<'a> Generator<'a> {
    /// A generator for `tree` and `catalog`; units whose level offers no
    /// procedure get no dossiers.
    pub fn new(
        scenario: Scenario,
        calendar: LocalCalendar,
        tree: &UnitTree,
        catalog: &'a Catalog,
    ) -> Self {
        let units: Vec<(UnitCode, u64, Vec<&Procedure>)> = tree
            .top_down()
            .into_iter()
            .filter_map(|unit| {
                let offered: Vec<&Procedure> = catalog
                    .iter()
                    .filter(|p| p.levels.contains(&unit.level))
                    .collect();
                (!offered.is_empty()).then(|| (unit.code.clone(), weight(&unit.level), offered))
            })
            .collect();
        let total_weight = units.iter().map(|u| u.1).sum();
        Generator {
            rng: Rng::new(scenario.seed),
            scenario,
            calendar,
            units,
            total_weight,
            next: 0,
        }
    }

    fn pick_unit(&mut self) -> usize {
        let mut ticket = self.rng.below(self.total_weight);
        for (i, unit) in self.units.iter().enumerate() {
            if ticket < unit.1 {
                return i;
            }
            ticket -= unit.1;
        }
        self.units.len() - 1
    }

    /// A working day in the scenario's span, and its position in it (0..1).
    fn reception_day(&mut self) -> (NaiveDate, f64) {
        loop {
            let offset = self.rng.below(u64::from(self.scenario.days.max(1)));
            let day = self.scenario.start + Days::new(offset);
            let working = !matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
            // A few desks open on Saturday mornings.
            if working || (day.weekday() == Weekday::Sat && self.rng.chance(0.1)) {
                return (day, offset as f64 / f64::from(self.scenario.days.max(1)));
            }
        }
    }

    /// `days` working days after `day`.
    fn add_working_days(day: NaiveDate, days: u64) -> NaiveDate {
        let mut d = day;
        let mut left = days;
        while left > 0 {
            d = d + Days::new(1);
            if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
                left -= 1;
            }
        }
        d
    }

    fn at(&self, day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
        self.calendar.start_of(day)
            + TimeDelta::hours(i64::from(hour))
            + TimeDelta::minutes(i64::from(minute))
    }

    /// A new dossier's unit, procedure, channel and fees, filed at
    /// `received_at` on local `day`, `progress` (0..1) into the scenario.
    fn filed(&mut self, day: NaiveDate, received_at: DateTime<Utc>, progress: f64) -> Dossier {
        let n = self.next;
        self.next += 1;
        let unit = self.pick_unit();
        let procedure = {
            let offered = &self.units[unit].2;
            offered[self.rng.below(offered.len() as u64) as usize]
        };
        let online_share = self.scenario.online_share_start
            + (self.scenario.online_share_end - self.scenario.online_share_start) * progress;
        let channel = if procedure.online_level.is_online() && self.rng.chance(online_share) {
            Channel::Online
        } else if self.rng.chance(0.05) {
            Channel::Postal
        } else {
            Channel::Direct
        };
        let processing_days = 1 + self.rng.below(15);
        let due_day = Self::add_working_days(day, processing_days);
        let fee_required = procedure.fee;
        Dossier {
            code: DossierCode::parse(&format!("SIM-{}-{n:08}", self.scenario.seed))
                .expect("a generated code is plain ASCII"),
            unit: self.units[unit].0.clone(),
            procedure: procedure.code.clone(),
            channel,
            status: Status::Received,
            received_at: Some(received_at),
            due_at: Some(self.at(due_day, 17, 0)),
            finished_at: None,
            fee_required,
            paid_online: fee_required && channel == Channel::Online && self.rng.chance(0.6),
            e_result: false,
            updated_at: received_at,
        }
    }

    /// The next dossier, in its latest state as of `scenario.now`.
    pub fn dossier(&mut self) -> Dossier {
        let (day, progress) = self.reception_day();
        let hour = 7 + self.rng.below(10) as u32; // 07:00-16:59
        let minute = self.rng.below(60) as u32;
        let received_at = self.at(day, hour, minute);
        let filed = self.filed(day, received_at, progress);
        let due_day = self.calendar.date_of(filed.due_at.unwrap_or(received_at));
        let processing_days = working_days_between(day, due_day);

        // How it ends: withdrawn, finished (early, on time, late), or still pending.
        let roll = self.rng.below(1000);
        let late = self.rng.chance(self.scenario.late_share);
        let finish_day = if late {
            Self::add_working_days(due_day, 1 + self.rng.below(5))
        } else {
            Self::add_working_days(day, self.rng.below(processing_days + 1))
        };
        let (finish_hour, finish_minute) =
            (8 + self.rng.below(9) as u32, self.rng.below(60) as u32);
        let finished_at = self
            .at(finish_day, finish_hour, finish_minute)
            .max(received_at + TimeDelta::minutes(30));
        if roll < 15 {
            let at = received_at + TimeDelta::hours(1 + self.rng.below(48) as i64);
            return self.withdrawn(&filed, at);
        }
        if finished_at <= self.scenario.now {
            return self.finished(&filed, finished_at);
        }
        let status = if self.rng.chance(0.1) {
            Status::AwaitingSupplement
        } else {
            Status::Processing
        };
        Dossier {
            status,
            updated_at: received_at.max(self.scenario.now.min(received_at + TimeDelta::hours(2))),
            ..filed
        }
    }

    /// A dossier filed at `at` (live traffic), as first reported: received.
    pub fn received(&mut self, at: DateTime<Utc>) -> Dossier {
        let day = self.calendar.date_of(at);
        let progress =
            (day - self.scenario.start).num_days() as f64 / f64::from(self.scenario.days.max(1));
        self.filed(day, at, progress.clamp(0.0, 1.0))
    }

    /// The version of `dossier` finished at `at` (delivered mostly, some
    /// processed and awaiting pickup), most with an electronic result.
    pub fn finished(&mut self, dossier: &Dossier, at: DateTime<Utc>) -> Dossier {
        let status = if self.rng.chance(0.8) {
            Status::Delivered
        } else {
            Status::Processed
        };
        Dossier {
            status,
            finished_at: Some(at),
            e_result: self.rng.chance(0.7),
            updated_at: at,
            ..dossier.clone()
        }
    }

    /// The version of `dossier` withdrawn by the applicant at `at`.
    pub fn withdrawn(&mut self, dossier: &Dossier, at: DateTime<Utc>) -> Dossier {
        Dossier {
            status: Status::Withdrawn,
            finished_at: None,
            updated_at: at,
            ..dossier.clone()
        }
    }

    /// The versions a sync client would have sent of `latest`: for some,
    /// the first (received) version as well, and now and then a version
    /// twice, in the order given; shuffle batches to send them out of order.
    pub fn history(&mut self, latest: Dossier) -> Vec<Dossier> {
        let mut versions = Vec::with_capacity(3);
        if latest.status != Status::Received && self.rng.chance(0.3) {
            versions.push(Dossier {
                status: Status::Received,
                finished_at: None,
                e_result: false,
                updated_at: latest.received_at.unwrap_or(latest.updated_at),
                ..latest.clone()
            });
        }
        if self.rng.chance(0.02) {
            versions.push(latest.clone());
        }
        versions.push(latest);
        versions
    }

    /// A shuffle of `items` driven by this generator's seed.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// The next random number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.rng.below(n)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.chance(p)
    }
}

/// Working days (Monday to Friday) after `from` up to and including `to`.
fn working_days_between(from: NaiveDate, to: NaiveDate) -> u64 {
    from.iter_days()
        .skip(1)
        .take_while(|d| *d <= to)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .count() as u64
}

impl Iterator for Generator<'_> {
    type Item = Dossier;

    fn next(&mut self) -> Option<Dossier> {
        Some(self.dossier())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ioc_core::{Levels, UnitTreeBuilder};

    pub(crate) fn world() -> (UnitTree, Catalog) {
        let levels = Levels::parse(&["province", "district", "commune"]).expect("levels");
        let mut builder = UnitTreeBuilder::new(levels.clone());
        builder.read_units(
            "u.csv",
            "code,name,level,parent_code\n70,T,province,\n697,H,district,70\n25432,X,commune,697\n"
                .as_bytes(),
        );
        let catalog = Catalog::read(
            &levels,
            vec![(
                "p.csv".to_owned(),
                "code,name,field,online_level,levels,fee\n1.1,A,F,full,commune,yes\n1.2,B,F,none,district,no\n"
                    .as_bytes(),
            )],
        )
        .expect("catalog");
        (builder.build().expect("tree"), catalog)
    }

    pub(crate) fn scenario(seed: u64) -> Scenario {
        Scenario {
            seed,
            start: NaiveDate::from_ymd_opt(2022, 6, 1).expect("date"),
            days: 92,
            online_share_start: 0.2,
            online_share_end: 0.6,
            late_share: 0.02,
            now: "2022-09-01T00:00:00Z".parse().expect("now"),
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_dossiers() {
        let (tree, catalog) = world();
        let a: Vec<Dossier> =
            Generator::new(scenario(7), LocalCalendar::default(), &tree, &catalog)
                .take(200)
                .collect();
        let b: Vec<Dossier> =
            Generator::new(scenario(7), LocalCalendar::default(), &tree, &catalog)
                .take(200)
                .collect();
        let c: Vec<Dossier> =
            Generator::new(scenario(8), LocalCalendar::default(), &tree, &catalog)
                .take(200)
                .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn dossiers_are_consistent_and_offered_where_they_are_filed() {
        let (tree, catalog) = world();
        let now: DateTime<Utc> = "2022-09-01T00:00:00Z".parse().expect("now");
        for d in Generator::new(scenario(1), LocalCalendar::default(), &tree, &catalog).take(2000) {
            let received = d.received_at.expect("received");
            assert!(d.due_at.is_some_and(|due| due >= received), "{d:?}");
            assert!(
                d.finished_at.is_none_or(|f| f >= received && f <= now),
                "{d:?}"
            );
            assert_eq!(d.status.is_finished(), d.finished_at.is_some(), "{d:?}");
            assert!(!d.paid_online || d.fee_required);
            let offered_online = d.procedure == "1.1";
            assert!(d.channel != Channel::Online || offered_online, "{d:?}");
            assert_eq!(
                d.unit == "25432",
                d.procedure == "1.1",
                "procedures follow the unit's level"
            );
        }
    }
}
