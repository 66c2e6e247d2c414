//! Property tests over random histories: the incremental engine equals a
//! full recomputation, and its keys equal METRICS.md's definitions applied
//! literally to the final dossiers.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use ioc_aggregate::{Engine, Keys, Window};
use ioc_core::{
    Catalog, Channel, Dossier, DossierCode, DossierState, Levels, LocalCalendar, ProcedureCode,
    Source, Status, Timeliness, TimelinessRules, UnitCode, UnitTree, UnitTreeBuilder, VersionOrder,
};
use ioc_sim::Rng;

const UNITS: &str = "code,name,level,parent_code\n\
    70,Tỉnh,province,\n\
    70.STP,Sở Tư pháp,department,70\n\
    697,Huyện A,district,70\n\
    698,Huyện B,district,70\n\
    25432,Xã A1,commune,697\n\
    25433,Xã A2,commune,697\n\
    25434,Xã B1,commune,698\n";
const CATALOG: &str = "code,name,field,online_level,levels,fee\n\
    P1,Full everywhere,F,full,department;district;commune,yes\n\
    P2,Partial communes,F,partial,commune,no\n\
    P3,Not online,F,none,commune;district,yes\n\
    P4,Full districts,F,full,district,no\n";
const UNIT_CODES: [&str; 7] = ["70", "70.STP", "697", "698", "25432", "25433", "25434"];
const PROCEDURES: [&str; 4] = ["P1", "P2", "P3", "P4"];

fn world() -> (Arc<UnitTree>, Catalog) {
    let levels = Levels::parse(&["province", "department", "district", "commune"]).expect("levels");
    let mut builder = UnitTreeBuilder::new(levels.clone());
    builder.read_units("units", UNITS.as_bytes());
    let catalog =
        Catalog::read(&levels, vec![("catalog".to_owned(), CATALOG.as_bytes())]).expect("catalog");
    (Arc::new(builder.build().expect("tree")), catalog)
}

fn rules() -> TimelinessRules {
    TimelinessRules::default()
}

fn start() -> DateTime<Utc> {
    "2022-05-31T17:00:00Z".parse().expect("start") // 2022-06-01 00:00 local
}

/// A random instant in the 40 days from `start()`, never on a minute 0 so
/// that nothing falls exactly on a local midnight.
fn instant(rng: &mut Rng, after: DateTime<Utc>, max_hours: u64) -> DateTime<Utc> {
    after + TimeDelta::minutes(1 + rng.below(max_hours * 60) as i64) + TimeDelta::seconds(1)
}

/// The versions of one dossier, in the order the source produced them.
fn history(rng: &mut Rng, n: usize) -> Vec<Dossier> {
    let received_at = instant(rng, start(), 30 * 24);
    let base = Dossier {
        code: DossierCode::parse(&format!("D{n}")).expect("dossier code"),
        unit: UnitCode::parse(UNIT_CODES[rng.below(UNIT_CODES.len() as u64) as usize])
            .expect("unit code"),
        procedure: ProcedureCode::parse(PROCEDURES[rng.below(4) as usize]).expect("procedure code"),
        channel: [Channel::Direct, Channel::Online, Channel::Postal][rng.below(3) as usize],
        status: Status::Received,
        received_at: Some(received_at),
        due_at: (!rng.chance(0.1))
            .then(|| received_at + TimeDelta::hours(rng.below(10 * 24) as i64)),
        finished_at: None,
        fee_required: false,
        paid_online: false,
        e_result: false,
        updated_at: received_at,
    };
    let mut base = base;
    base.fee_required = rng.chance(0.5);
    base.paid_online = base.fee_required && rng.chance(0.5);
    let mut versions = vec![base.clone()];
    if rng.chance(0.1) {
        // Submitted online first, not yet received.
        let mut submitted = base.clone();
        submitted.status = Status::Submitted;
        submitted.received_at = None;
        submitted.updated_at = received_at - TimeDelta::minutes(30);
        versions.insert(0, submitted);
    }
    let mut current = base;
    for _ in 0..rng.below(4) {
        let mut next = current.clone();
        next.updated_at = instant(rng, current.updated_at, 5 * 24);
        match rng.below(6) {
            0 => {
                next.unit = UnitCode::parse(UNIT_CODES[rng.below(UNIT_CODES.len() as u64) as usize])
                    .expect("unit code")
            }
            1 => {
                next.channel =
                    [Channel::Direct, Channel::Online, Channel::Postal][rng.below(3) as usize]
            }
            2 => {
                next.status = [Status::Withdrawn, Status::Stopped][rng.below(2) as usize];
                next.finished_at = None;
            }
            3 | 4 => {
                next.status = [Status::Processed, Status::Delivered][rng.below(2) as usize];
                next.finished_at = Some(next.finished_at.unwrap_or(next.updated_at));
                next.e_result = rng.chance(0.5);
            }
            _ => {
                next.status = Status::Processing;
                next.finished_at = None;
            }
        }
        versions.push(next.clone());
        current = next;
    }
    versions
}

/// Applies versions as the store does (version guard), feeding the engine
/// each accepted change; returns the final states.
fn replay(engine: &mut Engine, versions: &[Dossier]) -> HashMap<DossierCode, DossierState> {
    let mut stored: HashMap<DossierCode, DossierState> = HashMap::new();
    for version in versions {
        let old = stored.get(&version.code).cloned();
        if let Some(old) = &old
            && version.order_against(&old.dossier) != VersionOrder::Newer
        {
            continue;
        }
        let new = DossierState::next(
            old.as_ref(),
            &Source::parse("s").expect("source"),
            version.clone(),
        );
        engine.apply(old.as_ref(), &new);
        stored.insert(version.code.clone(), new);
    }
    stored
}

fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i as u64 + 1) as usize);
    }
}

/// The keys, computed literally from METRICS.md over `states`.
fn oracle(
    states: &[&DossierState],
    units: &BTreeSet<&str>,
    window: Window,
    now: DateTime<Utc>,
    tree: &UnitTree,
    catalog: &Catalog,
) -> Keys {
    let cal = LocalCalendar::default();
    let rules = rules();
    let in_window = |t: Option<DateTime<Utc>>| {
        t.is_some_and(|t| (window.from..window.to).contains(&cal.date_of(t)))
    };
    let cutoff = now.min(cal.start_of(window.to));
    let level_of = |unit: &str| {
        tree.get(&ioc_core::UnitCode::parse(unit).expect("code"))
            .expect("unit")
            .level
            .clone()
    };
    let offered = |unit: &str, procedure: &str| {
        catalog
            .iter()
            .find(|p| p.code.as_str() == procedure)
            .filter(|p| p.online_level.is_online() && p.levels.contains(&level_of(unit)))
            .map(|p| p.online_level)
    };
    let mut k = Keys::default();
    let (
        mut offered_received,
        mut offered_online,
        mut full_received,
        mut full_online,
        mut e_results,
    ) = (0, 0, 0, 0, 0);
    let mut used = BTreeSet::new();
    for s in states
        .iter()
        .filter(|s| units.contains(s.dossier.unit.as_str()))
    {
        let d = &s.dossier;
        if in_window(d.received_at) {
            k.received += 1;
            match d.channel {
                Channel::Direct => k.received_direct += 1,
                Channel::Online => k.received_online += 1,
                Channel::Postal => k.received_postal += 1,
            }
            if let Some(level) = offered(d.unit.as_str(), d.procedure.as_str()) {
                offered_received += 1;
                if d.channel == Channel::Online {
                    offered_online += 1;
                    used.insert((d.unit.clone(), d.procedure.clone()));
                }
                if level == ioc_core::OnlineLevel::Full {
                    full_received += 1;
                    if d.channel == Channel::Online {
                        full_online += 1;
                    }
                }
            }
            if d.fee_required {
                k.fee_dossiers += 1;
                if d.paid_online {
                    k.paid_online += 1;
                }
            }
        }
        if d.is_finished() && in_window(d.finished_at) {
            k.finished += 1;
            match rules.classify(d.finished_at.expect("finished"), d.due_at) {
                Timeliness::Early => k.finished_early += 1,
                Timeliness::OnTime => k.finished_on_time += 1,
                Timeliness::Late => k.finished_late += 1,
            }
            if d.e_result {
                e_results += 1;
            }
        }
        if d.is_stopped() && in_window(s.stopped_at) {
            k.withdrawn += 1;
        }
        if d.is_pending_at(cutoff) {
            k.pending += 1;
            if rules.is_overdue(cutoff, d.due_at) {
                k.pending_overdue += 1;
            } else if rules.is_due_soon(cutoff, d.due_at) {
                k.due_soon += 1;
            }
        }
    }
    let services: i64 = units
        .iter()
        .map(|u| {
            let level = level_of(u);
            catalog
                .iter()
                .filter(|p| p.online_level.is_online() && p.levels.contains(&level))
                .count() as i64
        })
        .sum();
    let ratio = |n: i64, d: i64| ioc_aggregate::Ratio {
        numerator: n,
        denominator: d,
    };
    let in_time = k.finished_early + k.finished_on_time;
    k.online_share = ratio(offered_online, offered_received);
    k.online_share_all = ratio(k.received_online, k.received);
    k.on_time_rate = ratio(in_time, k.finished);
    k.late_rate = ratio(k.finished_late, k.finished);
    k.progress_rate = ratio(
        in_time + k.pending - k.pending_overdue,
        k.finished + k.pending,
    );
    k.online_services = services;
    k.online_services_used = used.len() as i64;
    k.online_services_used_share = ratio(k.online_services_used, services);
    k.paid_online_share = ratio(k.paid_online, k.fee_dossiers);
    k.e_result_share = ratio(e_results, k.finished);
    k.full_online_share = ratio(full_online, full_received);
    k
}

fn random_window(rng: &mut Rng) -> Window {
    let first: NaiveDate = "2022-05-25".parse().expect("date");
    let from = first + Days::new(rng.below(50));
    let to = from + Days::new(1 + rng.below(20));
    Window { from, to }
}

#[test]
fn incremental_equals_rebuild_and_keys_equal_their_definitions() {
    let (tree, catalog) = world();
    let cases: u64 = std::env::var("IOC_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    for case in 0..cases {
        let mut rng = Rng::new(case);
        let mut versions: Vec<Dossier> = (0..1 + rng.below(60) as usize)
            .flat_map(|n| history(&mut rng, n))
            .collect();
        // Sources resend versions and send them out of order.
        let resent: Vec<Dossier> = versions
            .iter()
            .filter(|_| rng.chance(0.2))
            .cloned()
            .collect();
        versions.extend(resent);
        shuffle(&mut rng, &mut versions);

        let mut incremental = Engine::new(tree.clone(), &catalog, rules()).expect("engine");
        let finals = replay(&mut incremental, &versions);
        let mut rebuilt = Engine::new(tree.clone(), &catalog, rules()).expect("engine");
        for state in finals.values() {
            rebuilt.add(state);
        }
        assert!(
            incremental == rebuilt,
            "case {case}: incremental state differs from a full recomputation"
        );

        let states: Vec<&DossierState> = finals.values().collect();
        let latest = states
            .iter()
            .map(|s| s.dossier.updated_at)
            .max()
            .unwrap_or_else(start);
        for _ in 0..5 {
            let window = random_window(&mut rng);
            let now = latest + TimeDelta::minutes(rng.below(60 * 24 * 15) as i64);
            let scopes: Vec<BTreeSet<&str>> = vec![
                UNIT_CODES
                    .iter()
                    .copied()
                    .filter(|_| rng.chance(0.5))
                    .collect(),
                [UNIT_CODES[rng.below(7) as usize]].into_iter().collect(),
                UNIT_CODES.iter().copied().collect(),
            ];
            for units in scopes {
                let expected = oracle(&states, &units, window, now, &tree, &catalog);
                let got = incremental.keys(units.iter().copied(), window, now);
                assert_eq!(
                    got, expected,
                    "case {case}, window {window:?}, now {now}, units {units:?}"
                );
            }
        }
    }
}

#[test]
fn a_checkpoint_restores_the_same_engine() {
    let (tree, catalog) = world();
    let mut rng = Rng::new(99);
    let versions: Vec<Dossier> = (0..200).flat_map(|n| history(&mut rng, n)).collect();
    let mut engine = Engine::new(tree.clone(), &catalog, rules()).expect("engine");
    replay(&mut engine, &versions);
    let saved = engine.export_state().expect("export");
    let mut restored = Engine::new(tree.clone(), &catalog, rules()).expect("engine");
    assert_eq!(restored.fingerprint(), engine.fingerprint());
    restored.import_state(&saved).expect("import");
    assert!(restored == engine);
    let window = Window {
        from: "2022-06-01".parse().expect("date"),
        to: "2022-07-15".parse().expect("date"),
    };
    let now = start() + TimeDelta::days(45);
    assert_eq!(
        restored.keys(UNIT_CODES, window, now),
        engine.keys(UNIT_CODES, window, now)
    );

    // Another catalog counts differently: its fingerprint differs.
    let levels = Levels::parse(&["province", "department", "district", "commune"]).expect("levels");
    let other = Catalog::read(
        &levels,
        vec![(
            "c".to_owned(),
            "code,name,field,online_level,levels,fee\nP1,X,F,partial,commune,no\n".as_bytes(),
        )],
    )
    .expect("catalog");
    let different = Engine::new(tree, &other, rules()).expect("engine");
    assert_ne!(different.fingerprint(), engine.fingerprint());
}
