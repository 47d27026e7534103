//! `GET /api/v1/overview`: the tallies the web UI's overview and findings pages draw, over
//! the latest scan of every host and roots (what `trustmap report` reports): assets by
//! kind, open findings (neither waived nor baselined) by severity, rule and owner, the
//! certificates expiring in the next `days` days (at most [`MAX_EXPIRING`] listed, all
//! counted), and post-quantum readiness (classified by `trustmap_export::html::pq_class`,
//! as the HTML report classifies). The trend across scans is `GET /api/v1/scans`' counts.

use crate::api::{Q, blocking, instant};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use trustmap_core::Report;

/// Most certificates the expiry list holds (the count covers all).
pub const MAX_EXPIRING: usize = 1000;
/// The longest expiry window, in days.
pub const MAX_DAYS: i64 = 3660;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OverviewParams {
    now: Option<String>,
    days: Option<i64>,
}

pub(crate) async fn overview(
    State(st): State<AppState>,
    Q(p): Q<OverviewParams>,
) -> Result<Response, ApiError> {
    let now = instant(p.now.as_deref())?;
    let days = p.days.unwrap_or(90);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::bad_request(format!("days: from 1 to {MAX_DAYS}")));
    }
    let v = blocking(&st, move |s| {
        let stored = s.stored_report(&Default::default())?;
        let mut v = tally(&stored.report, now, days, MAX_EXPIRING);
        v["scans"] = json!(stored.scans.iter().map(|x| &x.id).collect::<Vec<_>>());
        Ok(v)
    })
    .await?;
    Ok(axum::Json(v).into_response())
}

fn bump(m: &mut BTreeMap<String, usize>, k: &str) {
    *m.entry(k.to_string()).or_default() += 1;
}

/// The overview of `r` judged at `now`, listing at most `max_listed` expiring certificates.
fn tally(r: &Report, now: time::OffsetDateTime, days: i64, max_listed: usize) -> serde_json::Value {
    let owner_of: BTreeMap<&str, &str> = r
        .assets
        .iter()
        .map(|a| {
            let o = a.owners.first().map_or("unowned", |o| o.name.as_str());
            (a.id.as_str(), o)
        })
        .collect();
    let mut by_kind = BTreeMap::new();
    let mut pq = BTreeMap::new();
    for a in &r.assets {
        bump(&mut by_kind, a.kind.as_str());
        let key = a
            .key
            .as_ref()
            .or(a.certificate.as_ref().map(|c| &c.public_key));
        if let Some(k) = key {
            bump(&mut pq, trustmap_export::html::pq_class(&k.algorithm));
        }
    }
    let (mut by_severity, mut by_rule, mut by_owner) =
        (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let (mut open, mut waived, mut baselined) = (0, 0, 0);
    for f in &r.findings {
        if f.waiver.is_some() {
            waived += 1;
            continue;
        }
        if f.baselined {
            baselined += 1;
            continue;
        }
        open += 1;
        bump(&mut by_severity, f.severity.as_str());
        bump(&mut by_rule, &f.rule);
        bump(
            &mut by_owner,
            owner_of.get(f.asset.as_str()).copied().unwrap_or("unowned"),
        );
    }
    let end = now + time::Duration::days(days);
    let mut expired = 0;
    let mut expiring: Vec<(&str, &trustmap_core::Asset)> = Vec::new();
    for a in &r.assets {
        let Some(c) = &a.certificate else { continue };
        let t = c.not_after.get();
        if t < now {
            expired += 1;
        } else if t < end {
            expiring.push((owner_of.get(a.id.as_str()).copied().unwrap_or("unowned"), a));
        }
    }
    expiring.sort_by(|x, y| {
        let t = |a: &trustmap_core::Asset| a.certificate.as_ref().map(|c| c.not_after.get());
        t(x.1).cmp(&t(y.1)).then(x.1.id.cmp(&y.1.id))
    });
    let within = expiring.len();
    let listed: Vec<_> = expiring
        .iter()
        .take(max_listed)
        .map(|(owner, a)| {
            json!({
                "id": a.id,
                "label": a.label(),
                "not_after": a.certificate.as_ref().map(|c| c.not_after),
                "owner": owner,
            })
        })
        .collect();
    json!({
        "now": trustmap_core::rfc3339(now),
        "assets": r.assets.len(),
        "by_kind": by_kind,
        "findings": {
            "open": open,
            "waived": waived,
            "baselined": baselined,
            "by_severity": by_severity,
            "by_rule": by_rule,
            "by_owner": by_owner,
        },
        "expiry": {
            "days": days,
            "expired": expired,
            "within": within,
            "certificates": listed,
            "truncated": within > listed.len(),
        },
        "pq": pq,
        "errors": r.errors.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expiry_list_is_bounded_and_counts_all() {
        let cert = |id: &str, not_after: &str| {
            json!({"id": id, "kind": "certificate", "fingerprint": format!("sha256:{id}"),
                "occurrences": [], "owners": [],
                "certificate": {"subject": "CN=x", "issuer": "CN=x", "serial": "01",
                    "not_before": "2026-01-01T00:00:00Z", "not_after": not_after, "sans": [],
                    "is_ca": false, "self_signed": true, "signature_algorithm": "ecdsa-with-SHA256",
                    "signature_algorithm_oid": "1.2.840.10045.4.3.2", "version": 3,
                    "public_key": {"algorithm": "ECDSA", "bits": 256, "curve": "P-256"}}})
        };
        let report: Report = serde_json::from_value(json!({
            "tool": {"name": "trustmap", "version": "0"},
            "scan": {"id": "scan_1", "started_at": "2026-12-01T00:00:00Z", "roots": ["/r"],
                     "host": "h", "files_scanned": 0, "bytes_scanned": 0, "duration_ms": 0},
            "assets": [cert("c3", "2027-01-20T00:00:00Z"), cert("c1", "2026-12-10T00:00:00Z"),
                       cert("c2", "2026-12-20T00:00:00Z"), cert("old", "2026-11-01T00:00:00Z"),
                       cert("far", "2028-01-01T00:00:00Z")],
            "relations": [], "findings": [], "errors": []
        }))
        .unwrap();
        let now = trustmap_core::Timestamp::parse("2026-12-03T00:00:00Z")
            .unwrap()
            .get();
        let v = tally(&report, now, 90, 2);
        assert_eq!(v["expiry"]["expired"], 1);
        assert_eq!(v["expiry"]["within"], 3);
        assert_eq!(v["expiry"]["truncated"], true);
        let ids: Vec<&str> = v["expiry"]["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["c1", "c2"], "soonest first, at most two");
        assert_eq!(v["by_kind"]["certificate"], 5);
        assert_eq!(v["pq"]["quantum-vulnerable"], 5);
    }
}
