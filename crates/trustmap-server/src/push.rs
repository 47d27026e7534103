//! Remote scanners: `trustmap scan PATH... --push URL` sends its scan to the server
//! (`POST /api/v1/scans`, role `scanner`), which records it as the engine would have.
//!
//! What a push carries ([`Push`]): the JSON contract's report, the roots as given and as
//! made canonical on the scanning host (the scans a diff compares, a place's identity), and
//! when the scan finished. The report's host (`scan.host`) is the scanning machine's name,
//! and the scan is recorded under it.
//!
//! What the scanner cannot know, the server supplies, as the engine does for a local scan:
//! - secret fingerprints: the inventory's HMAC key never leaves the server. The scanner
//!   fingerprints a secret by its value's SHA-256 alone (`Scan::with_secret_digests`), the
//!   request travels over the server's TLS, and the server keys each digest with the
//!   inventory's key ([`rekey_secrets`]) before anything is written; the plain digest is
//!   never stored, logged or answered. No plaintext is ever sent.
//! - explicit owners (per asset and owner rules): recorded owners stay the store's; an
//!   `asset-unowned` finding on an asset the store gives an owner is dropped, as the engine
//!   would not have raised it;
//! - waivers: the store's waivers are applied to the pushed findings at the scan's start.
//!
//! Not supplied: key age from the inventory's history (`key-rotation-overdue` on a pushed
//! key counts from its certificate's notBefore only) and custom Rego rules on the server.
//!
//! A push is idempotent by scan id (a repeat answers 200 with the scan already recorded) and
//! recorded in one transaction (a failure leaves nothing).

use crate::api::blocking;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::{AppState, body};
use axum::extract::{Extension, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use trustmap_core::{AssetKind, Report};
use trustmap_store::{ScanMeta, Store};

/// The payload's version.
pub const PUSH_VERSION: u32 = 1;

/// How the report's secrets are fingerprinted: the value's SHA-256, keyed by the server.
pub const SECRET_DIGESTS: &str = "sha256-digest";

/// What `scan --push` sends. Its `Debug` shows the scan, not the report: the report's
/// secrets carry unkeyed SHA-256 digests of their values (a verifier for a guessed password)
/// until the server keys them.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Push {
    pub version: u32,
    pub report: Report,
    pub roots: Vec<PushRoot>,
    /// RFC 3339 UTC.
    pub finished_at: String,
    /// [`SECRET_DIGESTS`].
    pub secrets: String,
}

impl std::fmt::Debug for Push {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Push")
            .field("scan", &self.report.scan.id)
            .field("assets", &self.report.assets.len())
            .field("secrets", &self.secrets)
            .finish_non_exhaustive()
    }
}

/// One root: as given to the scan and canonical on the scanning host.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRoot {
    pub given: String,
    pub canonical: String,
}

/// Most roots a pushed scan may have, and the longest root or host name.
const MAX_ROOTS: usize = 1024;
const MAX_NAME: usize = 4096;

fn check(p: &Push) -> Result<(), ApiError> {
    let bad = |m: String| Err(ApiError::bad_request(m));
    if p.version != PUSH_VERSION {
        return bad(format!(
            "push version {}; this server reads version {PUSH_VERSION}",
            p.version
        ));
    }
    if p.secrets != SECRET_DIGESTS {
        return bad(format!(
            "secrets {:?}: only {SECRET_DIGESTS:?} (the server keys secret fingerprints)",
            p.secrets
        ));
    }
    let id = &p.report.scan.id;
    if !(id.len() == 21
        && id.starts_with("scan_")
        && id[5..].bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return bad(format!("scan id {id:?} is not a trustmap scan id"));
    }
    let host = &p.report.scan.host;
    if host.is_empty() || host.len() > 255 || host.chars().any(char::is_control) {
        return bad("scan.host: the scanning host's name, 1 to 255 characters".into());
    }
    if p.roots.is_empty() || p.roots.len() > MAX_ROOTS {
        return bad(format!("roots: 1 to {MAX_ROOTS}"));
    }
    let given: Vec<&str> = p.roots.iter().map(|r| r.given.as_str()).collect();
    if given != p.report.scan.roots {
        return bad("roots: not the report's scan.roots".into());
    }
    if p.roots
        .iter()
        .any(|r| r.canonical.is_empty() || r.canonical.len() > MAX_NAME || r.given.len() > MAX_NAME)
    {
        return bad(format!("roots: 1 to {MAX_NAME} characters each"));
    }
    if trustmap_core::Timestamp::parse(&p.finished_at).is_none() {
        return bad(format!("finished_at {:?}: RFC 3339", p.finished_at));
    }
    Ok(())
}

/// Replaces each secret's digest fingerprint (and the id made from it) with the
/// inventory's keyed fingerprint, wherever the report names it: assets, relations,
/// findings and their evidence. Ids are replaced by scanning each string once for the
/// `sec_` and `sha256:` forms, so the cost is linear in the report.
pub fn rekey_secrets(store: &Store, report: &mut Report) -> Result<(), ApiError> {
    let mut digests = Vec::new();
    for a in report.assets.iter().filter(|a| a.kind == AssetKind::Secret) {
        let d = a
            .fingerprint
            .strip_prefix("sha256:")
            .filter(|h| h.len() == 64)
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| {
                ApiError::bad_request(format!("secret {}: fingerprint is not a SHA-256", a.id))
            })?;
        digests.push(d);
    }
    if digests.is_empty() {
        return Ok(());
    }
    let keyed = store.keyed_secret_fingerprints(&digests)?;
    let mut hexes: HashMap<String, String> = HashMap::new();
    let mut ids: HashMap<String, String> = HashMap::new();
    for (d, k) in digests.iter().zip(&keyed) {
        let (old, new) = (hex::encode(d), k["sha256:".len()..].to_string());
        ids.insert(
            trustmap_core::model::asset_id(AssetKind::Secret, &old),
            trustmap_core::model::asset_id(AssetKind::Secret, &new),
        );
        hexes.insert(old, new);
    }
    let mut v = serde_json::to_value(&*report).map_err(ApiError::internal)?;
    rewrite(&mut v, &ids, &hexes);
    *report = serde_json::from_value(v).map_err(ApiError::internal)?;
    Ok(())
}

fn rewrite(
    v: &mut serde_json::Value,
    ids: &HashMap<String, String>,
    hexes: &HashMap<String, String>,
) {
    match v {
        serde_json::Value::String(s) if s.contains("sec_") || s.contains("sha256:") => {
            *s = replace_ids(s, ids, hexes);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| rewrite(x, ids, hexes)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|x| rewrite(x, ids, hexes)),
        _ => {}
    }
}

/// `s` with every `sec_<16 hex>` in `ids` and `sha256:<64 hex>` in `hexes` replaced.
fn replace_ids(s: &str, ids: &HashMap<String, String>, hexes: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let next = [rest.find("sec_"), rest.find("sha256:")]
            .into_iter()
            .flatten()
            .min();
        let Some(at) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let (len, map, prefix) = if rest.starts_with("sec_") {
            (4 + 16, ids, "")
        } else {
            (7 + 64, hexes, "sha256:")
        };
        match rest.get(..len) {
            Some(tok) => {
                let key = if prefix.is_empty() { tok } else { &tok[7..] };
                match map.get(key) {
                    Some(new) => {
                        out.push_str(prefix);
                        out.push_str(new);
                        rest = &rest[len..];
                    }
                    None => {
                        out.push_str(&rest[..1]);
                        rest = &rest[1..];
                    }
                }
            }
            None => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

/// Pushes being inflated and recorded, and pushes waiting for one of the
/// `Limits::pushes_at_once` slots, each with its high-water mark since the server started:
/// `/api/v1/metrics` reports them, so an operator sees pushes queue before raising the limit.
#[derive(Debug, Default)]
pub struct Gauges {
    pub in_progress: AtomicUsize,
    pub in_progress_max: AtomicUsize,
    pub waiting: AtomicUsize,
    pub waiting_max: AtomicUsize,
}

/// One count in a gauge, taken back when dropped (a push that fails or whose client goes
/// away included).
pub(crate) struct Entered<'a>(&'a AtomicUsize);

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Gauges {
    pub(crate) fn enter<'a>(gauge: &'a AtomicUsize, max: &AtomicUsize) -> Entered<'a> {
        let now = gauge.fetch_add(1, Ordering::SeqCst) + 1;
        max.fetch_max(now, Ordering::SeqCst);
        Entered(gauge)
    }

    /// The gauges in Prometheus's text format.
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        for (name, help, v) in [
            (
                "trustmap_server_pushes_in_progress",
                "Pushed scans being inflated and recorded now.",
                &self.in_progress,
            ),
            (
                "trustmap_server_pushes_in_progress_max",
                "The most pushed scans inflated and recorded at once since the server started (at most --pushes-at-once).",
                &self.in_progress_max,
            ),
            (
                "trustmap_server_pushes_waiting",
                "Pushed scans received and waiting for a slot (--pushes-at-once).",
                &self.waiting,
            ),
            (
                "trustmap_server_pushes_waiting_max",
                "The most pushed scans waiting at once since the server started.",
                &self.waiting_max,
            ),
        ] {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}\n",
                v.load(Ordering::SeqCst)
            ));
        }
        out
    }
}

/// What a push answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pushed {
    /// False when the scan was recorded before (a repeated push).
    pub recorded: bool,
    pub scan: trustmap_store::ScanRow,
}

/// `POST /api/v1/scans`.
pub async fn receive(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, b) = req.into_parts();
    let raw = body::read(&parts.headers, b, st.limits.push).await?;
    // Held until the push is recorded (see `Limits::pushes_at_once`).
    let waiting = Gauges::enter(&st.pushes.waiting, &st.pushes.waiting_max);
    let _slot = st
        .push_slots
        .clone()
        .acquire_owned()
        .await
        .map_err(ApiError::internal)?;
    drop(waiting);
    let _busy = Gauges::enter(&st.pushes.in_progress, &st.pushes.in_progress_max);
    let inflated = st.limits.push_inflated;
    let push: Push = tokio::task::spawn_blocking(move || {
        body::json(&body::decode(&parts.headers, raw, inflated)?)
    })
    .await
    .map_err(ApiError::internal)??;
    check(&push)?;
    let by = caller.by();
    let (status, pushed) = blocking(&st, move |s| record(s, push, &by)).await?;
    Ok((status, axum::Json(pushed)).into_response())
}

/// Records a pushed scan (see the module docs); 201, or 200 when it was recorded before.
fn record(store: &Store, mut push: Push, by: &str) -> Result<(StatusCode, Pushed), ApiError> {
    let id = push.report.scan.id.clone();
    let existing = |store: &Store| -> Result<Option<Pushed>, ApiError> {
        match store.scan(&id) {
            Ok(scan) => Ok(Some(Pushed {
                recorded: false,
                scan,
            })),
            Err(e) if e.kind() == trustmap_store::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    };
    if let Some(p) = existing(store)? {
        return Ok((StatusCode::OK, p));
    }
    let report = &mut push.report;
    rekey_secrets(store, report)?;
    let host = report.scan.host.clone();
    // Owners the store gives (explicit, owner rules): the engine judges with them.
    let explicit = store.scan_owners(&report.assets, &host)?;
    let owned = |asset: &str| {
        explicit
            .get(asset)
            .is_some_and(|o| o.iter().any(|o| o.role == "owner"))
    };
    report
        .findings
        .retain(|f| !(f.rule == trustmap_core::RuleId::AssetUnowned.as_str() && owned(&f.asset)));
    let waivers = store.waivers()?;
    trustmap_engine::waivers::apply(&mut report.findings, &waivers, report.scan.started_at.get());
    let meta = ScanMeta {
        host,
        roots: push
            .roots
            .iter()
            .map(|r| trustmap_store::ScanRoot {
                given: r.given.clone(),
                canonical: r.canonical.clone(),
            })
            .collect(),
        finished_at: push.finished_at.clone(),
    };
    match store
        .begin_scan_as(&push.report, &meta, Some(by))
        .and_then(|p| p.commit())
    {
        Ok(_) => Ok((
            StatusCode::CREATED,
            Pushed {
                recorded: true,
                scan: store.scan(&id)?,
            },
        )),
        // Pushed twice at once: the other push recorded it.
        Err(e) if e.kind() == trustmap_store::ErrorKind::Conflict => match existing(store)? {
            Some(p) => Ok((StatusCode::OK, p)),
            None => Err(e.into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// Why a push failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The server refused it (4xx other than 429): retrying would not help.
    #[error("the server refused the scan: HTTP {status}: {message}")]
    Refused { status: u16, message: String },
    /// Every attempt failed (connection, 5xx, 429).
    #[error("pushing the scan failed after {attempts} attempts: {last}")]
    GaveUp { attempts: u32, last: String },
    #[error("{0}")]
    Local(String),
}

/// How a client retries.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    pub first_delay: std::time::Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            first_delay: std::time::Duration::from_secs(1),
        }
    }
}

/// The roots a client trusts the server's certificate through: a PEM bundle (a private
/// CA: `scan --push --ca-file`), or `None` for the web PKI roots (Mozilla's, built in).
pub fn roots_from_pem(pem: Option<&[u8]>) -> Result<ureq::tls::RootCerts, PushError> {
    let Some(pem) = pem else {
        return Ok(ureq::tls::RootCerts::WebPki);
    };
    let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
            Ok(_) => None,
            Err(e) => Some(Err(PushError::Local(format!("the CA file: {e}")))),
        })
        .collect::<Result<_, _>>()?;
    if certs.is_empty() {
        return Err(PushError::Local(
            "the CA file holds no CERTIFICATE block".into(),
        ));
    }
    Ok(ureq::tls::RootCerts::new_with_certs(&certs))
}

/// Sends `push` to the server at `base` (`https://host:8443`), gzip-compressed, with the
/// token, trusting the server's certificate through `roots`; retries connection failures,
/// 5xx and 429 with exponential backoff (doubling, capped at 60 s). Idempotent by scan id,
/// so a retry after a lost answer is harmless. The report is serialised straight into the
/// compressor: the uncompressed JSON is never held whole.
pub fn send(
    base: &str,
    token: &str,
    push: &Push,
    retry: Retry,
    roots: ureq::tls::RootCerts,
) -> Result<Pushed, PushError> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    serde_json::to_writer(&mut gz, push).map_err(|e| PushError::Local(e.to_string()))?;
    let body = gz.finish().map_err(|e| PushError::Local(e.to_string()))?;
    let url = format!("{}/api/v1/scans", base.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(600)))
        .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
        .build()
        .into();
    let mut delay = retry.first_delay;
    let mut last = String::new();
    for attempt in 1..=retry.attempts.max(1) {
        if attempt > 1 {
            std::thread::sleep(delay);
            delay = (delay * 2).min(std::time::Duration::from_secs(60));
        }
        let sent = agent
            .post(&url)
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .header("Content-Encoding", "gzip")
            .send(&body[..]);
        let mut resp = match sent {
            Ok(r) => r,
            Err(e) => {
                last = e.to_string();
                continue;
            }
        };
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| format!("(unreadable answer: {e})"));
        if (200..300).contains(&status) {
            return serde_json::from_str(&text)
                .map_err(|e| PushError::Local(format!("the server's answer: {e}")));
        }
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or(text);
        if status == 429 || status >= 500 {
            last = format!("HTTP {status}: {message}");
            continue;
        }
        return Err(PushError::Refused { status, message });
    }
    Err(PushError::GaveUp {
        attempts: retry.attempts.max(1),
        last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_secret_digest() {
        let report: Report = serde_json::from_str(
            r#"{"tool":{"name":"trustmap","version":"0"},"scan":{"id":"scan_1","started_at":"2026-12-03T00:00:00Z","roots":[],"host":"h","files_scanned":1,"bytes_scanned":1,"duration_ms":1,"version":"0"},"assets":[],"relations":[],"findings":[],"errors":[]}"#,
        )
        .unwrap();
        let p = Push {
            version: 1,
            report,
            roots: Vec::new(),
            finished_at: String::new(),
            secrets: SECRET_DIGESTS.into(),
        };
        assert_eq!(
            format!("{p:?}"),
            r#"Push { scan: "scan_1", assets: 0, secrets: "sha256-digest", .. }"#
        );
    }

    #[test]
    fn ids_and_fingerprints_are_replaced_where_they_appear() {
        let old = "ab".repeat(32);
        let new = "cd".repeat(32);
        let ids = HashMap::from([(format!("sec_{}", &old[..16]), format!("sec_{}", &new[..16]))]);
        let hexes = HashMap::from([(old.clone(), new.clone())]);
        let s = format!(
            "secret sec_{} (sha256:{old}) near sec_{}",
            &old[..16],
            "0".repeat(16)
        );
        assert_eq!(
            replace_ids(&s, &ids, &hexes),
            format!(
                "secret sec_{} (sha256:{new}) near sec_{}",
                &new[..16],
                "0".repeat(16)
            )
        );
        assert_eq!(
            replace_ids("sec_ab", &ids, &hexes),
            "sec_ab",
            "too short to be an id"
        );
        assert_eq!(replace_ids("sha256:", &ids, &hexes), "sha256:");
    }
}
