//! The server replicas' shared state (migration 14): job runs, scans looked at for
//! alerts and alert deliveries are each claimed by exactly one of several stores open on
//! one database, leases run out, and an alert is queued once per key and webhook.

use crate::common::{cert, meta, report, targets};
use std::sync::{Arc, Barrier};
use time::{Duration, OffsetDateTime, macros::datetime};
use trustmap_store::{NewAlert, Store};

const T0: OffsetDateTime = datetime!(2026-12-03 12:00:00 UTC);

fn alert(key: &str, webhook: &str) -> NewAlert {
    NewAlert {
        key: key.into(),
        webhook: webhook.into(),
        event: "finding".into(),
        asset: "cert_1".into(),
        body: format!("{{\"key\":\"{key}\"}}"),
    }
}

/// `n` threads, each with its own store on `url`, race `f` at once; the results in order.
fn race<T: Send + 'static>(
    url: &str,
    n: usize,
    f: impl Fn(&Store, usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(n));
    let f = Arc::new(f);
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (url, barrier, f) = (url.to_string(), barrier.clone(), f.clone());
            std::thread::spawn(move || {
                let store = Store::open(&url).unwrap();
                barrier.wait();
                f(&store, i)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn a_job_run_is_claimed_by_one_replica_and_taken_over_when_its_lease_runs_out() {
    for t in targets("jobs", "claim") {
        Store::open(&t.url).unwrap();
        let won = race(&t.url, 6, |s, i| {
            s.claim_job("etc-ssl", &format!("r{i}"), T0, Duration::minutes(10))
                .unwrap()
        });
        assert_eq!(
            won.iter().filter(|w| **w).count(),
            1,
            "[{}] {won:?}",
            t.name
        );
        let holder = format!("r{}", won.iter().position(|w| *w).unwrap());
        let s = Store::open(&t.url).unwrap();
        // Held: nobody else gets it, even once it would be due.
        assert!(
            !s.claim_job(
                "etc-ssl",
                "other",
                T0 + Duration::minutes(5),
                Duration::minutes(10)
            )
            .unwrap()
        );
        // A replica whose lease was taken over cannot finish the run.
        assert!(
            !s.finish_job(
                "etc-ssl",
                "other",
                T0,
                T0 + Duration::hours(1),
                Ok("scan_x")
            )
            .unwrap()
        );
        assert!(
            s.finish_job(
                "etc-ssl",
                &holder,
                T0 + Duration::minutes(1),
                T0 + Duration::hours(1),
                Ok("scan_1")
            )
            .unwrap()
        );
        let job = &s.jobs().unwrap()[0];
        assert_eq!(
            (
                job.runs,
                job.lease_owner.as_deref(),
                job.last_scan.as_deref(),
                job.next_at.as_str()
            ),
            (1, None, Some("scan_1"), "2026-12-03T13:00:00Z"),
            "[{}]",
            t.name
        );
        // Not due before next_at; due at it.
        assert!(
            !s.claim_job(
                "etc-ssl",
                "r9",
                T0 + Duration::minutes(59),
                Duration::minutes(10)
            )
            .unwrap()
        );
        assert!(
            s.claim_job(
                "etc-ssl",
                "r9",
                T0 + Duration::hours(1),
                Duration::minutes(10)
            )
            .unwrap()
        );
        // r9 is killed mid-run: once its lease has run out, another replica takes over.
        assert!(
            !s.claim_job(
                "etc-ssl",
                "r8",
                T0 + Duration::minutes(69),
                Duration::minutes(10)
            )
            .unwrap()
        );
        assert!(
            s.claim_job(
                "etc-ssl",
                "r8",
                T0 + Duration::minutes(71),
                Duration::minutes(10)
            )
            .unwrap()
        );
        assert!(
            s.finish_job(
                "etc-ssl",
                "r8",
                T0 + Duration::minutes(72),
                T0 + Duration::hours(2),
                Err("walk failed")
            )
            .unwrap()
        );
        let job = &s.jobs().unwrap()[0];
        assert_eq!(
            (
                job.runs,
                job.last_scan.as_deref(),
                job.last_error.as_deref()
            ),
            (2, Some("scan_1"), Some("walk failed")),
            "[{}]",
            t.name
        );
    }
}

#[test]
fn a_scan_is_looked_at_once_and_each_alert_is_queued_and_delivered_once() {
    for t in targets("jobs", "alerts") {
        let s = Store::open(&t.url).unwrap();
        s.record_scan(
            &report("scan_old", &["/srv"], vec![cert("a", "a.crt")]),
            &meta("h1", &[("/srv", "/srv")], "2026-12-01T00:00:00Z"),
        )
        .unwrap();
        // Turning alerts on does not replay history; twice is harmless.
        assert_eq!(s.start_alerts("r0", T0).unwrap(), 1, "[{}]", t.name);
        assert_eq!(s.start_alerts("r1", T0).unwrap(), 0, "[{}]", t.name);
        assert!(s.scans_to_alert(10).unwrap().is_empty());
        s.record_scan(
            &report("scan_new", &["/srv"], vec![cert("b", "b.crt")]),
            &meta("h1", &[("/srv", "/srv")], "2026-12-03T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(s.scans_to_alert(10).unwrap(), vec!["scan_new".to_string()]);

        // Four replicas evaluate the scan at once: one queues its alerts.
        let queued = race(&t.url, 4, |s, i| {
            s.queue_alerts(
                "scan_new",
                &format!("r{i}"),
                T0,
                &[
                    alert("finding:1", "payments"),
                    alert("finding:1", "default"),
                    alert("expiry:b:30", "payments"),
                ],
            )
            .unwrap()
        });
        assert_eq!(
            queued.iter().flatten().collect::<Vec<_>>(),
            vec![&3],
            "[{}] {queued:?}",
            t.name
        );
        assert!(s.scans_to_alert(10).unwrap().is_empty());
        // A later scan raising the same expiry alert queues nothing new for it.
        s.record_scan(
            &report("scan_newer", &["/srv"], vec![cert("b", "b.crt")]),
            &meta("h1", &[("/srv", "/srv")], "2026-12-03T06:00:00Z"),
        )
        .unwrap();
        assert_eq!(
            s.queue_alerts(
                "scan_newer",
                "r0",
                T0,
                &[
                    alert("expiry:b:30", "payments"),
                    alert("finding:2", "payments")
                ]
            )
            .unwrap(),
            Some(1)
        );

        // Deliveries: claimed by one replica each.
        let claimed = race(&t.url, 3, |s, i| {
            s.claim_alerts(&format!("r{i}"), T0, Duration::minutes(1), 100)
                .unwrap()
                .into_iter()
                .map(|a| (a.id, i))
                .collect::<Vec<_>>()
        });
        let mut ids: Vec<i64> = claimed.iter().flatten().map(|(id, _)| *id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 4, "[{}] {claimed:?}", t.name);
        assert_eq!(
            claimed.iter().map(Vec::len).sum::<usize>(),
            4,
            "[{}] {claimed:?}",
            t.name
        );
        let owner = |id: i64| {
            format!(
                "r{}",
                claimed.iter().flatten().find(|(a, _)| *a == id).unwrap().1
            )
        };
        // One delivered, one failed and retried later, one given up; the fourth's replica died.
        assert!(
            s.alert_attempted(ids[0], &owner(ids[0]), T0, Ok(()))
                .unwrap()
        );
        assert!(
            !s.alert_attempted(ids[0], &owner(ids[0]), T0, Ok(()))
                .unwrap(),
            "sent twice"
        );
        assert!(
            s.alert_attempted(
                ids[1],
                &owner(ids[1]),
                T0,
                Err(("HTTP 500", Some(T0 + Duration::seconds(30))))
            )
            .unwrap()
        );
        assert!(
            s.alert_attempted(ids[2], &owner(ids[2]), T0, Err(("HTTP 404", None)))
                .unwrap()
        );
        assert!(
            s.claim_alerts("r9", T0 + Duration::seconds(29), Duration::minutes(1), 100)
                .unwrap()
                .is_empty()
        );
        let again: Vec<i64> = s
            .claim_alerts("r9", T0 + Duration::seconds(61), Duration::minutes(1), 100)
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(again, vec![ids[1], ids[3]], "[{}]", t.name);
        let listed = s.alerts(10).unwrap();
        let state = |id: i64| {
            let a = listed.iter().find(|a| a.id == id).unwrap();
            (a.state.clone(), a.attempts)
        };
        assert_eq!(state(ids[0]), ("sent".into(), 1));
        assert_eq!(state(ids[1]), ("pending".into(), 1));
        assert_eq!(state(ids[2]), ("failed".into(), 1));
        assert!(s.verify_audit().unwrap().intact(), "[{}]", t.name);
    }
}
