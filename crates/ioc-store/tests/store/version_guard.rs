//! The version guard and the change log: outcomes per version, failed
//! batches, shuffled and concurrent histories.

use super::*;

both_backends!(
    dossiers_are_guarded_by_version_and_logged_in_order,
    |store| {
        let mut conn = store.get().expect("connection");
        let received = version("H-1", Status::Processing, "2022-09-15T09:12:00+07:00");
        let finished = version("H-1", Status::Delivered, "2022-09-19T15:30:00+07:00");
        let other = version("H-2", Status::Received, "2022-09-16T08:00:00+07:00");
        let at = t("2026-01-01T00:00:00Z");

        let outcomes = dossiers::apply(
            &mut conn,
            &Source::parse("one-stop").expect("source"),
            &[received.clone(), other.clone()],
            at,
        )
        .expect("apply");
        assert_eq!(outcomes, [Outcome::Inserted, Outcome::Inserted]);
        let outcomes = dossiers::apply(
            &mut conn,
            &Source::parse("one-stop").expect("source"),
            &[finished.clone(), received.clone(), finished.clone()],
            at,
        )
        .expect("apply");
        assert_eq!(
            outcomes,
            [Outcome::Updated, Outcome::Stale, Outcome::Duplicate]
        );

        let stored = dossiers::find(&mut conn, "one-stop", "H-1")
            .expect("find")
            .expect("stored");
        assert_eq!(
            stored.dossier, finished,
            "the newest version is kept, read back exactly"
        );
        assert_eq!(dossiers::count(&mut conn).expect("count"), 2);
        assert_eq!(
            dossiers::find(&mut conn, "other-source", "H-1").expect("find"),
            None,
            "the key includes the source"
        );

        let log = changes::after(&mut conn, 0, 100).expect("log");
        let seqs: Vec<i64> = log.iter().map(|c| c.seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        let summary: Vec<(&str, Option<Status>, Status)> = log
            .iter()
            .map(|c| {
                (
                    c.new.dossier.code.as_str(),
                    c.old.as_ref().map(|o| o.dossier.status),
                    c.new.dossier.status,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("H-1", None, Status::Processing),
                ("H-2", None, Status::Received),
                ("H-1", Some(Status::Processing), Status::Delivered),
            ]
        );
        assert_eq!(
            changes::after(&mut conn, seqs[1], 100).expect("tail").len(),
            1
        );
    }
);

both_backends!(a_failed_batch_writes_nothing, |store| {
    let mut conn = store.get().expect("connection");
    let next = version("H-9", Status::Processing, "2022-09-15T09:12:00+07:00");
    let good = version("H-8", Status::Processing, "2022-09-15T09:12:00+07:00");
    dossiers::apply(
        &mut conn,
        &Source::parse("s").expect("source"),
        std::slice::from_ref(&good),
        t("2026-01-01T00:00:00Z"),
    )
    .expect("apply");
    // Drop the change log: the next apply fails after writing its dossier row,
    // and the transaction must take that row back.
    use diesel::connection::SimpleConnection;
    conn.batch_execute("DROP TABLE dossier_changes")
        .expect("drop");
    assert!(
        dossiers::apply(
            &mut conn,
            &Source::parse("s").expect("source"),
            &[next],
            t("2026-01-01T00:00:00Z")
        )
        .is_err()
    );
    assert_eq!(dossiers::count(&mut conn).expect("count"), 1);
});

/// A deterministic shuffle (xorshift), so failures reproduce.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let j = usize::try_from(seed % (i as u64 + 1)).expect("index");
        items.swap(i, j);
    }
}

/// `dossiers` dossiers with four versions each, one hour apart: received,
/// processing, (withdrawn or) finished late, result delivered.
fn histories(dossiers: usize) -> Vec<Vec<Dossier>> {
    (0..dossiers)
        .map(|n| {
            let code = format!("H-{n:05}");
            let statuses = if n % 7 == 0 {
                [
                    Status::Received,
                    Status::Processing,
                    Status::AwaitingSupplement,
                    Status::Withdrawn,
                ]
            } else {
                [
                    Status::Received,
                    Status::Processing,
                    Status::Processed,
                    Status::Delivered,
                ]
            };
            statuses
                .iter()
                .enumerate()
                .map(|(step, status)| {
                    let at = t("2022-09-15T09:00:00+07:00") + chrono::Duration::hours(step as i64);
                    let mut v = version(&code, *status, &at.to_rfc3339());
                    v.unit = UnitCode::parse(if step >= 2 && n % 5 == 0 {
                        "25433"
                    } else {
                        "25432"
                    })
                    .expect("unit code");
                    v
                })
                .collect()
        })
        .collect()
}

both_backends!(
    versions_of_one_dossier_in_one_batch_apply_in_order,
    |store| {
        let mut conn = store.get().expect("connection");
        let history = histories(1).remove(0);
        let batch = [
            history[1].clone(),
            history[0].clone(),
            history[3].clone(),
            history[3].clone(),
        ];
        let outcomes = dossiers::apply(
            &mut conn,
            &Source::parse("s").expect("source"),
            &batch,
            t("2026-01-01T00:00:00Z"),
        )
        .expect("apply");
        assert_eq!(
            outcomes,
            [
                Outcome::Inserted,
                Outcome::Stale,
                Outcome::Updated,
                Outcome::Duplicate
            ]
        );
        let stored = dossiers::find(&mut conn, "s", history[0].code.as_str())
            .expect("find")
            .expect("stored");
        assert_eq!(stored.dossier, history[3]);
        assert_eq!(changes::count(&mut conn).expect("changes"), 2);
    }
);

both_backends!(shuffled_versions_end_in_the_newest_state, |store| {
    let mut conn = store.get().expect("connection");
    let histories = histories(300);
    let mut all: Vec<Dossier> = histories.iter().flatten().cloned().collect();
    shuffle(&mut all, 42);
    let mut accepted = 0;
    for batch in all.chunks(97) {
        let outcomes = dossiers::apply(
            &mut conn,
            &Source::parse("s").expect("source"),
            batch,
            t("2026-01-01T00:00:00Z"),
        )
        .expect("apply");
        accepted += outcomes.iter().filter(|o| o.is_accepted()).count();
    }
    assert_eq!(dossiers::count(&mut conn).expect("count"), 300);
    assert_eq!(
        changes::count(&mut conn).expect("changes"),
        i64::try_from(accepted).expect("count")
    );
    for history in &histories {
        let newest = history.last().expect("version");
        let stored = dossiers::find(&mut conn, "s", newest.code.as_str())
            .expect("find")
            .expect("stored");
        assert_eq!(&stored.dossier, newest);
    }
    // Replaying everything, in another order, changes nothing.
    shuffle(&mut all, 7);
    let outcomes = dossiers::apply(
        &mut conn,
        &Source::parse("s").expect("source"),
        &all,
        t("2026-01-02T00:00:00Z"),
    )
    .expect("replay");
    assert!(outcomes.iter().all(|o| !o.is_accepted()), "{outcomes:?}");
    assert_eq!(
        changes::count(&mut conn).expect("changes"),
        i64::try_from(accepted).expect("count")
    );
});

both_backends!(concurrent_batches_neither_lose_nor_double_count, |store| {
    let histories = histories(200);
    let all: Vec<Dossier> = histories.iter().flatten().cloned().collect();
    let workers: Vec<_> = (0..4u64)
        .map(|w| {
            let store = store.clone();
            let mut mine = all.clone();
            shuffle(&mut mine, 1000 + w);
            std::thread::spawn(move || {
                let mut conn = store.get().expect("connection");
                for batch in mine.chunks(50) {
                    dossiers::apply(
                        &mut conn,
                        &Source::parse("s").expect("source"),
                        batch,
                        t("2026-01-01T00:00:00Z"),
                    )
                    .expect("apply");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker");
    }
    let mut conn = store.get().expect("connection");
    assert_eq!(dossiers::count(&mut conn).expect("count"), 200);
    // Each dossier's changes form one unbroken chain ending in its newest version.
    let log = changes::after(&mut conn, 0, 100_000).expect("log");
    let mut last: std::collections::HashMap<DossierCode, ioc_core::DossierState> =
        Default::default();
    for change in log {
        let code = change.new.dossier.code.clone();
        assert_eq!(
            change.old.as_ref(),
            last.get(&code),
            "change {} of {code} breaks the chain",
            change.seq
        );
        last.insert(code, change.new);
    }
    for history in &histories {
        let newest = history.last().expect("version");
        assert_eq!(&last[&newest.code].dossier, newest);
        let stored = dossiers::find(&mut conn, "s", newest.code.as_str())
            .expect("find")
            .expect("stored");
        assert_eq!(&stored.dossier, newest);
    }
});
