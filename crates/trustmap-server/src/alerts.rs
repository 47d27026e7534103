//! Alerts: what a recorded scan brought that matters, routed to the owners' webhooks.
//!
//! Each scan is looked at once ([`Store::queue_alerts`] claims it), against the previous
//! scan of the same host and roots: a new finding at or above the configured severity, a
//! certificate entering an expiry window, a rotation, an asset gone. An alert has a key
//! (`expiry:<asset>:<days>` or `finding:<scan>:<rule>:<asset>:<path>`...) and is queued at
//! most once per key and webhook, ever, so a certificate already announced as inside 30 days
//! is not announced again by every later scan. Alerts go to the webhooks of the asset's
//! owners (`owners` in the webhook's configuration, matched as `--owner` matches); when no
//! owner's webhook takes an alert, to the default webhooks (those without `owners`).
//! Delivery is an outbox: queued in the scan's evaluation transaction, claimed, posted,
//! marked; failures retried with doubling delays, then given up. Bodies carry ids, labels,
//! owners, rules and messages: never a secret's value (the report holds none).

use crate::config::{Alerts, Event, Format, Webhook};
use std::collections::{HashMap, HashSet};
use trustmap_core::{Asset, Report, Severity, rfc3339};
use trustmap_store::{Diff, NewAlert, ScanSelection, Store, owner_matches};

/// At most this many alerts from one scan; past it, one `overflow` alert says how many
/// more there were (a first scan of a large tree must not post ten thousand messages).
pub const MAX_ALERTS_PER_SCAN: usize = 200;

/// The link to an asset in the web UI.
pub fn asset_link(base: &str, asset: &str) -> String {
    format!("{base}/#/asset/{asset}")
}

/// One thing worth telling someone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub key: String,
    pub event: &'static str,
    pub scan: String,
    pub host: String,
    pub asset: String,
    pub kind: String,
    pub label: String,
    /// The asset's owners (role `owner`), which route the alert.
    pub owners: Vec<String>,
    pub severity: Option<Severity>,
    pub rule: Option<String>,
    pub message: String,
    /// `host:path` of one place of the asset.
    pub place: Option<String>,
}

fn owners_of(a: &Asset) -> Vec<String> {
    a.owners
        .iter()
        .filter(|o| o.role == "owner")
        .map(|o| o.name.clone())
        .collect()
}

fn place_of(a: &Asset, host: &str) -> Option<String> {
    a.occurrences.first().map(|o| format!("{host}:{}", o.path))
}

/// The alerts `current` brings over `previous` (the scan before it of the same roots, and
/// the diff between them) at `now`, under `cfg`, at most [`MAX_ALERTS_PER_SCAN`] plus an
/// overflow alert.
pub fn alerts_for(
    current: &Report,
    previous: Option<(&Report, &Diff)>,
    cfg: &Alerts,
    now: time::OffsetDateTime,
) -> Vec<Alert> {
    let scan = &current.scan.id;
    let host = &current.scan.host;
    let assets: HashMap<&str, &Asset> = current.assets.iter().map(|a| (a.id.as_str(), a)).collect();
    let alert = |event: &'static str, key: String, a: Option<&Asset>, id: &str| Alert {
        key,
        event,
        scan: scan.clone(),
        host: host.clone(),
        asset: id.to_string(),
        kind: a.map(|a| a.kind.to_string()).unwrap_or_default(),
        label: a.map(Asset::label).unwrap_or_default(),
        owners: a.map(owners_of).unwrap_or_default(),
        severity: None,
        rule: None,
        message: String::new(),
        place: a.and_then(|a| place_of(a, host)),
    };
    let mut out = Vec::new();
    if cfg.events.contains(&Event::Finding) {
        let before: HashSet<String> = previous
            .map(|(p, _)| {
                p.findings
                    .iter()
                    .map(trustmap_engine::baseline::key)
                    .collect()
            })
            .unwrap_or_default();
        let mut new: Vec<_> = current
            .findings
            .iter()
            .filter(|f| f.severity >= cfg.severity && f.waiver.is_none() && !f.baselined)
            .filter(|f| !before.contains(&trustmap_engine::baseline::key(f)))
            .collect();
        new.sort_by_key(|f| std::cmp::Reverse(f.severity));
        for f in new {
            let a = assets.get(f.asset.as_str()).copied();
            let mut x = alert(
                "finding",
                format!("finding:{scan}:{}", trustmap_engine::baseline::key(f)),
                a,
                &f.asset,
            );
            x.severity = Some(f.severity);
            x.rule = Some(f.rule.clone());
            x.message = f.message.clone();
            if let Some(p) = &f.path {
                x.place = Some(format!("{host}:{p}"));
            }
            out.push(x);
        }
    }
    if cfg.events.contains(&Event::Expiry) {
        for a in &current.assets {
            let Some(c) = &a.certificate else { continue };
            let left = c.not_after.get() - now;
            let window = if left.is_negative() {
                Some(0)
            } else {
                let days = left.whole_days();
                cfg.expiry_days
                    .iter()
                    .copied()
                    .find(|d| days < i64::from(*d))
            };
            let Some(w) = window else { continue };
            let mut x = alert("expiry", format!("expiry:{}:{w}", a.id), Some(a), &a.id);
            x.message = if w == 0 {
                format!("expired at {}", rfc3339(c.not_after.get()))
            } else {
                format!(
                    "expires at {} ({} days left; inside the {w}-day window)",
                    rfc3339(c.not_after.get()),
                    left.whole_days()
                )
            };
            out.push(x);
        }
    }
    if let Some((prev, diff)) = previous {
        let before: HashMap<&str, &Asset> =
            prev.assets.iter().map(|a| (a.id.as_str(), a)).collect();
        if cfg.events.contains(&Event::Rotation) {
            for r in &diff.rotated {
                let a = assets.get(r.to.as_str()).copied();
                let mut x = alert(
                    "rotation",
                    format!("rotation:{scan}:{}:{}:{}", r.host, r.path, r.container),
                    a,
                    &r.to,
                );
                x.message = format!("{} at {}:{} replaced {}", r.kind, r.host, r.path, r.from);
                x.place = Some(format!("{}:{}", r.host, r.path));
                out.push(x);
            }
        }
        if cfg.events.contains(&Event::Gone) {
            for id in &diff.gone {
                let a = before.get(id.as_str()).copied();
                let mut x = alert("gone", format!("gone:{scan}:{id}"), a, id);
                x.place = a.and_then(|a| place_of(a, &prev.scan.host));
                x.message = "no longer found where the previous scan saw it".into();
                out.push(x);
            }
        }
    }
    if out.len() > MAX_ALERTS_PER_SCAN {
        let more = out.len() - MAX_ALERTS_PER_SCAN;
        out.truncate(MAX_ALERTS_PER_SCAN);
        let mut x = alert("overflow", format!("overflow:{scan}"), None, "");
        x.message = format!(
            "{more} more alerts from this scan were not sent (at most {MAX_ALERTS_PER_SCAN} a scan)"
        );
        out.push(x);
    }
    out
}

/// The webhooks an alert goes to: those of its owners, else the default ones.
pub fn route<'a>(alert: &Alert, hooks: &'a [Webhook]) -> Vec<&'a Webhook> {
    let owned: Vec<&Webhook> = hooks
        .iter()
        .filter(|h| {
            h.owners
                .iter()
                .any(|team| alert.owners.iter().any(|o| owner_matches(team, o)))
        })
        .collect();
    if !owned.is_empty() {
        return owned;
    }
    hooks.iter().filter(|h| h.owners.is_empty()).collect()
}

/// Slack's escaping of message text: `&`, `<` and `>` (so a subject cannot make a link or
/// a mention).
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One line saying what happened.
fn summary(a: &Alert) -> String {
    let mut s = match (a.event, a.severity, &a.rule) {
        ("finding", Some(sev), Some(rule)) => format!("[{}] {rule}: {}", sev.as_str(), a.message),
        ("expiry", ..) => format!("Certificate {}: {}", a.label, a.message),
        ("rotation", ..) => format!("Rotated: {}", a.message),
        ("gone", ..) => format!("Gone: {} {} {}", a.kind, a.label, a.message),
        _ => a.message.clone(),
    };
    if !a.asset.is_empty() {
        s.push_str(&format!(" (asset {}", a.asset));
        if let Some(p) = &a.place {
            s.push_str(&format!(" at {p}"));
        }
        s.push(')');
    }
    s.push_str(&format!(
        "; owners: {}",
        if a.owners.is_empty() {
            "none".to_string()
        } else {
            a.owners.join(", ")
        }
    ));
    s
}

/// The body `hook` receives for `a`; `base` is the UI's URL, for the link.
pub fn body(a: &Alert, hook: &Webhook, base: Option<&str>) -> String {
    let link = base
        .filter(|_| !a.asset.is_empty())
        .map(|b| asset_link(b, &a.asset));
    match hook.format {
        Format::Slack => {
            let mut text = format!("trustmap: {}", slack_escape(&summary(a)));
            if let Some(l) = &link {
                text.push_str(&format!(" <{}|open in trustmap>", slack_escape(l)));
            }
            serde_json::json!({"text": text, "unfurl_links": false}).to_string()
        }
        Format::Json => serde_json::json!({
            "key": a.key,
            "event": a.event,
            "scan": a.scan,
            "host": a.host,
            "asset": {"id": a.asset, "kind": a.kind, "label": a.label},
            "owners": a.owners,
            "severity": a.severity,
            "rule": a.rule,
            "message": a.message,
            "place": a.place,
            "link": link,
            "text": summary(a),
        })
        .to_string(),
    }
}

/// Looks at one recorded scan: its alerts, routed and rendered, ready to queue.
pub fn evaluate(
    store: &Store,
    scan: &str,
    cfg: &Alerts,
    base: Option<&str>,
    now: time::OffsetDateTime,
) -> Result<Vec<NewAlert>, trustmap_store::Error> {
    let read = |id: &str| {
        store.stored_report(&ScanSelection {
            scan: Some(id.to_string()),
            ..Default::default()
        })
    };
    let current = read(scan)?.report;
    let previous = match store.previous_scan(scan)? {
        Some(p) => {
            let diff = store.diff(&p, scan)?;
            Some((read(&p)?.report, diff))
        }
        None => None,
    };
    let alerts = alerts_for(&current, previous.as_ref().map(|(r, d)| (r, d)), cfg, now);
    Ok(alerts
        .iter()
        .flat_map(|a| {
            route(a, &cfg.webhooks).into_iter().map(move |h| NewAlert {
                key: a.key.clone(),
                webhook: h.name.clone(),
                event: a.event.to_string(),
                asset: a.asset.clone(),
                body: body(a, h, base),
            })
        })
        .collect())
}

/// Posts `body` to `hook`: `Ok` on a 2xx answer. The error never holds the URL.
pub fn deliver(hook: &Webhook, body: &str, timeout: std::time::Duration) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .build()
        .into();
    match agent
        .post(&hook.url)
        .header("Content-Type", "application/json")
        .header(
            "User-Agent",
            concat!("trustmap/", env!("CARGO_PKG_VERSION")),
        )
        .send(body)
    {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
        Err(e) => Err(without_urls(&e.to_string())),
    }
}

/// An error message with every URL in it replaced: a client error may name the webhook's
/// URL, or a form of it (normalised, or only its host and path), and the message is stored
/// and answered by `/api/v1/alerts`.
fn without_urls(message: &str) -> String {
    message
        .split_inclusive(char::is_whitespace)
        .map(|word| {
            if word.contains("://") {
                let end = &word[word.trim_end().len()..];
                format!("<URL>{end}")
            } else {
                word.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Alerts, Event, Format, Webhook};

    fn hook(name: &str, owners: &[&str], format: Format) -> Webhook {
        Webhook {
            name: name.into(),
            url: "http://127.0.0.1:9/x".into(),
            format,
            owners: owners.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn alert(owners: &[&str]) -> Alert {
        Alert {
            key: "finding:scan_1:r:a:p".into(),
            event: "finding",
            scan: "scan_1".into(),
            host: "h".into(),
            asset: "cert_1".into(),
            kind: "certificate".into(),
            label: "<script>alert(1)</script>".into(),
            owners: owners.iter().map(|s| s.to_string()).collect(),
            severity: Some(Severity::High),
            rule: Some("cert-expired".into()),
            message: "subject <@U123> & <!channel>".into(),
            place: Some("h:a.crt".into()),
        }
    }

    #[test]
    fn a_delivery_error_names_no_url() {
        assert_eq!(
            without_urls("io: Connection refused: http://127.0.0.1:9/T000/SECRET (os error 111)"),
            "io: Connection refused: <URL> (os error 111)"
        );
        let hook = hook("h", &[], Format::Json);
        let hook = Webhook {
            url: "http://127.0.0.1:9/T000/SECRET".into(),
            ..hook
        };
        let e = deliver(&hook, "{}", std::time::Duration::from_secs(5)).unwrap_err();
        assert!(!e.contains("SECRET"), "{e}");
    }

    #[test]
    fn alerts_go_to_their_owners_webhooks_else_to_the_default_ones() {
        let hooks = [
            hook("payments", &["payments"], Format::Slack),
            hook("edge", &["@org/edge"], Format::Json),
            hook("default", &[], Format::Json),
        ];
        let names = |a: &Alert| {
            route(a, &hooks)
                .iter()
                .map(|h| h.name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&alert(&["payments"])), ["payments"]);
        assert_eq!(
            names(&alert(&["@org/edge", "payments"])),
            ["payments", "edge"]
        );
        assert_eq!(names(&alert(&["search"])), ["default"]);
        assert_eq!(names(&alert(&[])), ["default"]);
    }

    #[test]
    fn a_slack_body_escapes_what_came_from_scanned_files() {
        let a = alert(&["payments"]);
        let b: serde_json::Value = serde_json::from_str(&body(
            &a,
            &hook("p", &[], Format::Slack),
            Some("https://tm.example"),
        ))
        .unwrap();
        let text = b["text"].as_str().unwrap();
        assert!(
            text.contains("subject &lt;@U123&gt; &amp; &lt;!channel&gt;"),
            "{text}"
        );
        assert!(
            !text.contains("<@U123>") && !text.contains("<!channel>"),
            "{text}"
        );
        assert!(
            text.ends_with(" <https://tm.example/#/asset/cert_1|open in trustmap>"),
            "{text}"
        );
        let j: serde_json::Value =
            serde_json::from_str(&body(&a, &hook("p", &[], Format::Json), None)).unwrap();
        assert_eq!(j["message"], "subject <@U123> & <!channel>");
        assert_eq!(j["owners"], serde_json::json!(["payments"]));
        assert_eq!(j["link"], serde_json::Value::Null);
    }

    #[test]
    fn a_scan_brings_at_most_the_bound_plus_one_overflow_alert() {
        let mut r: Report = serde_json::from_str(
            r#"{"tool":{"name":"trustmap","version":"0"},"scan":{"id":"scan_1","started_at":"2026-12-03T00:00:00Z","roots":[],"host":"h","files_scanned":1,"bytes_scanned":1,"duration_ms":1,"version":"0"},"assets":[],"relations":[],"findings":[],"errors":[]}"#,
        )
        .unwrap();
        for i in 0..MAX_ALERTS_PER_SCAN + 50 {
            r.findings.push(trustmap_core::Finding {
                rule: "secret-exposed".into(),
                severity: if i == MAX_ALERTS_PER_SCAN + 49 {
                    Severity::Critical
                } else {
                    Severity::High
                },
                asset: format!("sec_{i}"),
                path: Some(format!("f{i}")),
                line: None,
                message: "m".into(),
                frameworks: vec![],
                evidence: Default::default(),
                waiver: None,
                baselined: false,
            });
        }
        let cfg = Alerts {
            severity: Severity::High,
            expiry_days: vec![30],
            events: Event::ALL.to_vec(),
            webhooks: vec![],
            retry: std::time::Duration::from_secs(1),
            max_attempts: 3,
        };
        let now = time::macros::datetime!(2026-12-03 00:00 UTC);
        let out = alerts_for(&r, None, &cfg, now);
        assert_eq!(out.len(), MAX_ALERTS_PER_SCAN + 1);
        // The most severe is kept first; the last says how many were left out.
        assert_eq!(out[0].asset, format!("sec_{}", MAX_ALERTS_PER_SCAN + 49));
        assert_eq!(out.last().unwrap().event, "overflow");
        assert!(out.last().unwrap().message.starts_with("50 more alerts"));
        // A previous scan that raised the same findings: nothing new.
        let diff = Diff::default();
        assert!(alerts_for(&r, Some((&r, &diff)), &cfg, now).is_empty());
    }
}
