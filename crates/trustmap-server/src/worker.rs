//! The server's background work, on every replica: scheduled scans and alerts. Each
//! replica wakes every `tick`, and claims through the store (see `trustmap_store` `jobs`)
//! what is due: a job's run, a recorded scan to look at for alerts, alerts to deliver. The
//! claims, not the replicas, make sure nothing runs or is sent twice, so replicas need no
//! knowledge of each other and keep no state of their own.

use crate::alerts;
use crate::config::{Alerts, Job, ServerConfig};
use std::sync::Arc;
use std::time::Duration;
use trustmap_store::Store;

/// How long one delivery may take.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Alerts claimed (and delivered one after the other) per tick.
pub const DELIVERIES_PER_TICK: usize = 20;
/// Recorded scans looked at per tick.
pub const SCANS_PER_TICK: usize = 20;

/// This process among the replicas: host, process id and a random part (a restarted
/// process with a recycled pid is another replica).
pub fn replica_id() -> String {
    let host = trustmap_engine::local_host_name();
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{host}:{}:{nonce:08x}", std::process::id())
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

fn lease(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::hours(1))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

/// Starts the background tasks `cfg` asks for; they run until the runtime stops.
pub fn start(store: Arc<Store>, cfg: Arc<ServerConfig>) -> Vec<tokio::task::JoinHandle<()>> {
    let replica = Arc::new(replica_id());
    let mut tasks = Vec::new();
    if !cfg.schedule.is_empty() {
        tasks.push(tokio::spawn(schedule(
            store.clone(),
            cfg.clone(),
            replica.clone(),
        )));
    }
    if cfg.alerts.is_some() {
        tasks.push(tokio::spawn(alerting(store, cfg, replica)));
    }
    tasks
}

async fn schedule(store: Arc<Store>, cfg: Arc<ServerConfig>, replica: Arc<String>) {
    let mut tick = tokio::time::interval(cfg.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for (i, job) in cfg.schedule.iter().enumerate() {
            let (s, r, cfg2) = (store.clone(), replica.clone(), cfg.clone());
            let claimed = blocking(move || {
                let job = &cfg2.schedule[i];
                s.claim_job(&job.name, &r, now(), lease(job.timeout))
            })
            .await;
            match claimed {
                Some(Ok(true)) => {}
                Some(Ok(false)) | None => continue,
                Some(Err(e)) => {
                    eprintln!("trustmap serve: job {}: claiming: {e}", job.name);
                    continue;
                }
            }
            // The run and its end are one blocking call: a shutdown that aborts this task
            // still lets a run finish and say so (the runtime's grace), so the job's count
            // of runs is always the scans it recorded.
            let (s, r, cfg2) = (store.clone(), replica.clone(), cfg.clone());
            let _ = blocking(move || {
                let job = &cfg2.schedule[i];
                let started = now();
                let outcome = run_job(&s, job);
                match &outcome {
                    Ok(id) => eprintln!("trustmap serve: job {}: recorded {id}", job.name),
                    Err(e) => eprintln!("trustmap serve: job {}: failed: {e}", job.name),
                }
                // Due again `every` after this run started (or now, when it ran longer).
                let next = (started + lease(job.every)).max(now());
                let ended = s.finish_job(
                    &job.name,
                    &r,
                    now(),
                    next,
                    outcome.as_deref().map_err(String::as_str),
                );
                if let Err(e) = ended {
                    eprintln!("trustmap serve: job {}: {e}", job.name);
                }
            })
            .await;
        }
    }
}

/// One run of a scheduled scan, recorded: its scan id.
fn run_job(store: &Store, job: &Job) -> Result<String, String> {
    use trustmap_discover::tls;
    let mut paths = Vec::new();
    let mut targets = Vec::new();
    for p in &job.paths {
        if tls::is_url(p) {
            targets.push(tls::parse_url(p)?);
        } else {
            paths.push(std::path::PathBuf::from(p));
        }
    }
    let mut req = trustmap_engine::ScanRequest::new(paths);
    if !targets.is_empty() {
        req = req.source(tls::TlsSource::new(targets, tls::TlsOptions::default()));
    }
    req.options.policy = job.policy.clone();
    req.options.exclude = job.exclude.clone();
    let prepared = trustmap_engine::Scan::prepare(req).map_err(|e| e.to_string())?;
    let mut outcome = prepared
        .run(Some(store), &trustmap_engine::Progress::default())
        .map_err(|e| e.to_string())?;
    let rec = outcome.record(store).map_err(|e| e.to_string())?;
    Ok(rec.id.clone())
}

async fn alerting(store: Arc<Store>, cfg: Arc<ServerConfig>, replica: Arc<String>) {
    let Some(alerts_cfg) = cfg.alerts.clone() else {
        return;
    };
    let alerts_cfg = Arc::new(alerts_cfg);
    {
        let (s, r) = (store.clone(), replica.clone());
        match blocking(move || s.start_alerts(&r, now())).await {
            Some(Ok(n)) if n > 0 => eprintln!(
                "trustmap serve: alerts on; the {n} scans recorded before are not alerted on"
            ),
            Some(Err(e)) => eprintln!("trustmap serve: alerts: {e}"),
            _ => {}
        }
    }
    let mut tick = tokio::time::interval(cfg.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (s, r, c, base) = (
            store.clone(),
            replica.clone(),
            alerts_cfg.clone(),
            cfg.url.clone(),
        );
        let _ = blocking(move || look_at_scans(&s, &r, &c, base.as_deref())).await;
        let (s, r, c) = (store.clone(), replica.clone(), alerts_cfg.clone());
        let _ = blocking(move || deliver_due(&s, &r, &c)).await;
    }
}

/// Queues the alerts of every scan nobody has looked at yet (at most [`SCANS_PER_TICK`]).
fn look_at_scans(store: &Store, replica: &str, cfg: &Alerts, base: Option<&str>) {
    let scans = match store.scans_to_alert(SCANS_PER_TICK) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("trustmap serve: alerts: {e}");
            return;
        }
    };
    for scan in scans {
        let t = now();
        // A scan that cannot be read is looked at with no alerts rather than retried
        // forever; the error is said.
        let alerts = alerts::evaluate(store, &scan, cfg, base, t).unwrap_or_else(|e| {
            eprintln!("trustmap serve: alerts: scan {scan}: {e}");
            Vec::new()
        });
        match store.queue_alerts(&scan, replica, t, &alerts) {
            Ok(Some(n)) if n > 0 => eprintln!("trustmap serve: scan {scan}: {n} alerts queued"),
            Ok(_) => {}
            Err(e) => eprintln!("trustmap serve: alerts: scan {scan}: {e}"),
        }
    }
}

/// Delivers the alerts due now (at most [`DELIVERIES_PER_TICK`]).
fn deliver_due(store: &Store, replica: &str, cfg: &Alerts) {
    let hold = DELIVERY_TIMEOUT * (DELIVERIES_PER_TICK as u32 + 6);
    let due = match store.claim_alerts(replica, now(), lease(hold), DELIVERIES_PER_TICK) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("trustmap serve: alerts: {e}");
            return;
        }
    };
    for a in due {
        let outcome = match cfg.webhooks.iter().find(|h| h.name == a.webhook) {
            Some(hook) => alerts::deliver(hook, &a.body, DELIVERY_TIMEOUT),
            None => Err(format!("webhook {} is no longer configured", a.webhook)),
        };
        let t = now();
        let result = match &outcome {
            Ok(()) => Ok(()),
            Err(why) => {
                let tried = a.attempts + 1;
                let retry_at = (tried < i64::from(cfg.max_attempts)).then(|| {
                    let factor = 1u32 << tried.clamp(0, 16) as u32;
                    t + lease(
                        cfg.retry
                            .saturating_mul(factor / 2)
                            .min(Duration::from_secs(6 * 3600)),
                    )
                });
                if retry_at.is_none() {
                    eprintln!(
                        "trustmap serve: alert {} to {}: giving up after {tried} attempts: {why}",
                        a.id, a.webhook
                    );
                }
                Err((why.as_str(), retry_at))
            }
        };
        if let Err(e) = store.alert_attempted(a.id, replica, t, result) {
            eprintln!("trustmap serve: alert {}: {e}", a.id);
        }
    }
}
