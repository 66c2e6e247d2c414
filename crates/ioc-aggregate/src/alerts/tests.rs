use chrono::{DateTime, Utc};
use ioc_core::{
    Channel, Dossier, DossierCode, DossierState, Granularity, LocalCalendar, ProcedureCode, Source,
    Status, TimelinessRules, UnitCode,
};

use super::*;
use crate::keys::Ratio;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test instant")
        .with_timezone(&Utc)
}

const DAY: TimelinessRules = TimelinessRules {
    calendar: LocalCalendar::DEFAULT,
    granularity: Granularity::Day,
};

fn rules() -> AlertRules {
    toml::from_str(
        r#"
        [dossier_overdue]
        steps = [{ days = 1, severity = "warning" }, { days = 3, severity = "critical" }]
        [dossier_due_soon]
        lead_days = 1
        severity = "info"
        [[threshold]]
        id = "late_rate_high"
        key = "late_rate"
        window = "month"
        levels = ["commune"]
        above = 0.004
        hysteresis = 0.001
        severity = "warning"
        [source_silent]
        minutes = 30
        day_starts = "07:30:00"
        day_ends = "17:00:00"
        working_days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
        severity = "warning"
        "#,
    )
    .expect("rules")
}

fn pending(code: &str, due: &str) -> DossierState {
    DossierState {
        source: Source::parse("s").expect("source"),
        dossier: Dossier {
            code: DossierCode::parse(code).expect("dossier code"),
            unit: UnitCode::parse("25210").expect("unit code"),
            procedure: ProcedureCode::parse("1.001").expect("procedure code"),
            channel: Channel::Online,
            status: Status::from_code(4).expect("status"),
            received_at: Some(t("2026-11-20T08:00:00+07:00")),
            due_at: Some(t(due)),
            finished_at: None,
            fee_required: false,
            paid_online: false,
            e_result: false,
            updated_at: t("2026-11-20T08:00:00+07:00"),
        },
        stopped_at: None,
    }
}

fn severity_of(wants: &DossierWants, rule: &str) -> Option<Severity> {
    wants
        .iter()
        .find(|(r, _)| *r == rule)
        .and_then(|(_, w)| match w {
            Some((_, Wanted::Active { severity, .. })) => Some(*severity),
            _ => None,
        })
}

#[test]
fn the_shipped_example_parses_and_checks() {
    let levels: Vec<String> = ["province", "department", "district", "commune"]
        .map(str::to_owned)
        .to_vec();
    assert_eq!(rules().check(&levels), Vec::<String>::new());
}

#[test]
fn a_pending_dossier_is_due_soon_then_overdue_then_more_severe() {
    let rules = rules();
    let mut index = DueIndex::new(DAY, &rules);
    let id = DossierId {
        source: "s".to_owned(),
        code: "A".to_owned(),
    };
    let start = t("2026-11-26T10:00:00+07:00");
    index.apply(&pending("A", "2026-11-28T17:00:00+07:00"), start);
    assert_eq!(index.len(), 1);
    assert_eq!(
        severity_of(&index.wants(&id, start), DOSSIER_DUE_SOON),
        None
    );
    // The sweep wakes exactly at the start of the day before the due day.
    assert_eq!(index.next_due(), Some(t("2026-11-27T00:00:00+07:00")));
    assert!(index.take_due(t("2026-11-26T23:59:59+07:00")).is_empty());
    let now = t("2026-11-27T00:00:00+07:00");
    assert_eq!(index.take_due(now), vec![id.clone()]);
    assert_eq!(
        severity_of(&index.wants(&id, now), DOSSIER_DUE_SOON),
        Some(Severity::Info)
    );
    // Overdue from the first local day after the due day.
    let now = t("2026-11-29T00:00:00+07:00");
    assert_eq!(index.take_due(now), vec![id.clone()]);
    let wants = index.wants(&id, now);
    assert_eq!(
        severity_of(&wants, DOSSIER_OVERDUE),
        Some(Severity::Warning)
    );
    assert_eq!(severity_of(&wants, DOSSIER_DUE_SOON), None);
    // Three days overdue: critical; after the last step nothing is queued.
    let now = t("2026-12-01T09:00:00+07:00");
    assert_eq!(index.take_due(now), vec![id.clone()]);
    assert_eq!(
        severity_of(&index.wants(&id, now), DOSSIER_OVERDUE),
        Some(Severity::Critical)
    );
    assert_eq!(index.next_due(), None);
    // Finishing removes it: nothing is wanted any more.
    let mut done = pending("A", "2026-11-28T17:00:00+07:00");
    done.dossier.status = Status::from_code(10).expect("status");
    done.dossier.finished_at = Some(now);
    index.apply(&done, now);
    assert!(index.is_empty());
    assert_eq!(severity_of(&index.wants(&id, now), DOSSIER_OVERDUE), None);
}

#[test]
fn thresholds_raise_above_the_limit_and_clear_below_it_minus_the_hysteresis() {
    let rules = rules();
    let rule = &rules.thresholds[0];
    let r = |n, d| Ratio {
        numerator: n,
        denominator: d,
    };
    let raised = |w: Option<Wanted>| matches!(w, Some(Wanted::Active { .. }));
    // 5 of 1000 = 0.5% > 0.4%: raise.
    assert!(raised(judge(rule, r(5, 1000), 0.004, false)));
    // 0.4% exactly is not above: nothing to raise.
    assert_eq!(judge(rule, r(4, 1000), 0.004, false), None);
    // Active, 0.35%: inside the band, it stays (with fresh details).
    assert!(raised(judge(rule, r(35, 10_000), 0.004, true)));
    // Active, 0.29% < 0.3%: clears.
    assert_eq!(
        judge(rule, r(29, 10_000), 0.004, true),
        Some(Wanted::Cleared)
    );
    // No finished dossier: nothing to judge; an active alert clears.
    assert_eq!(judge(rule, r(0, 0), 0.004, false), None);
    assert_eq!(judge(rule, r(0, 0), 0.004, true), Some(Wanted::Cleared));
}

#[test]
fn silence_counts_working_minutes_only() {
    let rule = rules().source_silent.expect("rule");
    let cal = LocalCalendar::DEFAULT;
    // Friday 16:50 to Monday 07:45: 10 + 15 working minutes.
    assert_eq!(
        rule.working_minutes(
            cal,
            t("2026-11-27T16:50:00+07:00"),
            t("2026-11-30T07:45:00+07:00")
        ),
        25
    );
    assert_eq!(
        rule.judge(
            cal,
            t("2026-11-27T16:50:00+07:00"),
            t("2026-11-30T07:45:00+07:00")
        ),
        Wanted::Cleared
    );
    assert!(matches!(
        rule.judge(
            cal,
            t("2026-11-27T16:50:00+07:00"),
            t("2026-11-30T08:00:00+07:00")
        ),
        Wanted::Active { .. }
    ));
}

#[test]
fn mistakes_in_the_rules_are_each_named() {
    let rules: AlertRules = toml::from_str(
        r#"
        [dossier_overdue]
        steps = [{ days = 3, severity = "critical" }, { days = 1, severity = "warning" }]
        [[threshold]]
        id = "x"
        key = "late_ratio"
        window = "fortnight"
        levels = ["hamlet"]
        above = 0.1
        below = 0.2
        hysteresis = -1
        severity = "warning"
        webhook = "ftp://example"
        "#,
    )
    .expect("rules");
    let problems = rules
        .check(&["province".to_owned(), "commune".to_owned()])
        .join("\n");
    for expected in [
        "days must grow",
        "unknown key \"late_ratio\"",
        "window:",
        "unknown level \"hamlet\"",
        "exactly one of above and below",
        "hysteresis",
        "not an http(s) URL",
    ] {
        assert!(problems.contains(expected), "{expected} in {problems}");
    }
}
