//! `GET /api/v1/overview`: the tallies the web UI's overview and findings pages draw, over
//! the latest scan of every host and roots (what `trustmap report` reports): assets by
//! kind, open findings (neither waived nor baselined) by severity, rule and owner, the
//! certificates expiring in the next `days` days (at most [`MAX_EXPIRING`] listed, all
//! counted), and post-quantum readiness (classified by `trustmap_export::html::pq_class`,
//! as the HTML report classifies). The trend across scans is `GET /api/v1/scans`' counts.
//!
//! The tallies come from `Store::overview`, which reads indexed columns and the scans'
//! finding sets rather than rebuilding the merged report (seconds and gigabytes at a million
//! assets; BENCHMARKS.md has the figures).

use crate::api::{Q, blocking, instant};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use trustmap_store::Overview;

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
    let end = now
        .checked_add(time::Duration::days(days))
        .filter(|e| e.year() <= 9999)
        .ok_or_else(|| ApiError::bad_request("now + days is past the year 9999"))?;
    let o = blocking(&st, move |s| {
        s.overview(
            trustmap_core::Timestamp::new(now),
            trustmap_core::Timestamp::new(end),
            MAX_EXPIRING,
        )
        .map_err(ApiError::from)
    })
    .await?;
    Ok(axum::Json(render(&o, now, days)).into_response())
}

/// The response: the store's tallies, key algorithms classed for post-quantum readiness.
fn render(o: &Overview, now: time::OffsetDateTime, days: i64) -> serde_json::Value {
    let mut pq: BTreeMap<&str, u64> = BTreeMap::new();
    for (alg, n) in &o.by_algorithm {
        *pq.entry(trustmap_export::html::pq_class(alg)).or_default() += n;
    }
    let f = &o.findings;
    json!({
        "now": trustmap_core::rfc3339(now),
        "scans": o.scans,
        "assets": o.assets,
        "by_kind": o.by_kind,
        "findings": {
            "open": f.open,
            "waived": f.waived,
            "baselined": f.baselined,
            "by_severity": f.by_severity,
            "by_rule": f.by_rule,
            "by_owner": f.by_owner,
        },
        "expiry": {
            "days": days,
            "expired": o.expired,
            "within": o.within,
            "certificates": o.expiring.iter().map(|e| json!({
                "id": e.id,
                "label": e.label,
                "not_after": e.not_after,
                "owner": e.owner,
            })).collect::<Vec<_>>(),
            "truncated": o.within > o.expiring.len() as u64,
        },
        "pq": pq,
        "errors": o.errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_algorithms_are_classed_and_a_cut_list_says_so() {
        let o = Overview {
            scans: vec!["scan_1".into()],
            assets: 4,
            by_kind: BTreeMap::from([("certificate".into(), 3), ("private_key".into(), 1)]),
            by_algorithm: BTreeMap::from([
                ("RSA".into(), 2),
                ("ECDSA".into(), 1),
                ("ML-DSA-65".into(), 1),
            ]),
            findings: Default::default(),
            expired: 0,
            within: 3,
            expiring: vec![trustmap_store::Expiring {
                id: "crt_1".into(),
                label: "CN=<b>x</b>".into(),
                not_after: "2026-12-10T00:00:00Z".into(),
                owner: "unowned".into(),
            }],
            errors: 0,
        };
        let now = trustmap_core::Timestamp::parse("2026-12-03T00:00:00Z")
            .unwrap()
            .get();
        let v = render(&o, now, 90);
        assert_eq!(v["pq"]["quantum-vulnerable"], 3);
        assert_eq!(v["pq"]["post-quantum"], 1);
        assert_eq!(v["expiry"]["truncated"], true);
        assert_eq!(v["expiry"]["certificates"][0]["label"], "CN=<b>x</b>");
        assert_eq!(v["now"], "2026-12-03T00:00:00Z");
    }
}
