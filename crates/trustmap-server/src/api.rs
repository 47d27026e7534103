//! API v1: the routes ([`ROUTES`], from which [`router`] is built and against which the
//! OpenAPI document is tested) and their handlers. Every handler answers what the CLI's
//! command of the same name prints with `--format json`, through the same store and engine
//! functions.

use crate::auth::{Caller, Need, authorize};
use crate::error::ApiError;
use crate::{AppState, body};
use axum::Router;
use axum::extract::{Extension, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post, put};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};
use trustmap_core::{AssetKind, Severity};
use trustmap_engine::query::{self, FindingFilter, Waived};
use trustmap_store::{AssetCursor, AssetQuery, NewWaiver, OwnerTarget, Store};

/// One route: method, path (axum's syntax, which is OpenAPI's: `{id}`), who may call it.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub need: Need,
}

const fn r(method: &'static str, path: &'static str, need: Need) -> Route {
    Route { method, path, need }
}

/// Every route the server has.
pub const ROUTES: &[Route] = &[
    r("GET", "/api/v1/openapi.json", Need::Nothing),
    r("GET", "/api/v1/scans", Need::Read),
    r("POST", "/api/v1/scans", Need::Push),
    r("GET", "/api/v1/scans/diff", Need::Read),
    r("GET", "/api/v1/scans/{id}", Need::Read),
    r("GET", "/api/v1/assets", Need::Read),
    r("GET", "/api/v1/assets/{id}", Need::Read),
    r("PUT", "/api/v1/assets/{id}/owners", Need::Admin),
    r("GET", "/api/v1/owner-rules", Need::Read),
    r("POST", "/api/v1/owner-rules", Need::Admin),
    r("DELETE", "/api/v1/owner-rules/{id}", Need::Admin),
    r("GET", "/api/v1/findings", Need::Read),
    r("GET", "/api/v1/waivers", Need::Admin),
    r("POST", "/api/v1/waivers", Need::Admin),
    r("DELETE", "/api/v1/waivers/{id}", Need::Admin),
    r("GET", "/api/v1/audit", Need::Read),
    r("GET", "/api/v1/audit/verify", Need::Read),
    r("GET", "/api/v1/reports", Need::Read),
    r("GET", "/api/v1/metrics", Need::Read),
    r("GET", "/api/v1/me", Need::Read),
    r("GET", "/api/v1/overview", Need::Read),
    r("GET", "/api/v1/jobs", Need::Read),
    r("GET", "/api/v1/alerts", Need::Read),
];

/// The OpenAPI 3 document (hand-written; `openapi_lists_every_route` checks it against
/// [`ROUTES`]).
pub const OPENAPI: &str = include_str!("openapi.json");

fn handler(route: &Route) -> MethodRouter<AppState> {
    match (route.method, route.path) {
        ("GET", "/api/v1/openapi.json") => get(openapi),
        ("GET", "/api/v1/scans") => get(list_scans),
        ("POST", "/api/v1/scans") => post(crate::push::receive),
        ("GET", "/api/v1/scans/diff") => get(diff),
        ("GET", "/api/v1/scans/{id}") => get(one_scan),
        ("GET", "/api/v1/assets") => get(assets),
        ("GET", "/api/v1/assets/{id}") => get(asset),
        ("PUT", "/api/v1/assets/{id}/owners") => put(set_owners),
        ("GET", "/api/v1/owner-rules") => get(owner_rules),
        ("POST", "/api/v1/owner-rules") => post(set_owner_rule),
        ("DELETE", "/api/v1/owner-rules/{id}") => delete(remove_owner_rule),
        ("GET", "/api/v1/findings") => get(findings),
        ("GET", "/api/v1/waivers") => get(waivers),
        ("POST", "/api/v1/waivers") => post(grant_waiver),
        ("DELETE", "/api/v1/waivers/{id}") => delete(revoke_waiver),
        ("GET", "/api/v1/audit") => get(audit),
        ("GET", "/api/v1/audit/verify") => get(audit_verify),
        ("GET", "/api/v1/reports") => get(reports),
        ("GET", "/api/v1/metrics") => get(metrics),
        ("GET", "/api/v1/me") => get(me),
        ("GET", "/api/v1/overview") => get(crate::overview::overview),
        ("GET", "/api/v1/jobs") => get(jobs),
        ("GET", "/api/v1/alerts") => get(alerts),
        (m, p) => panic!("route {m} {p} has no handler"),
    }
}

/// The router: every route of [`ROUTES`] behind its authorization, the web UI's files
/// ([`crate::ui`]); anything else is a JSON 404 (405 for a known path with another method).
/// Every response carries [`crate::ui::security_headers`].
pub fn router(state: AppState) -> Router {
    let mut app = Router::new();
    for route in ROUTES {
        let layer = axum::middleware::from_fn_with_state((state.clone(), route.need), authorize);
        app = app.route(route.path, handler(route).route_layer(layer));
    }
    app.merge(crate::ui::router())
        .fallback(|| async { ApiError::not_found("no such route (see /api/v1/openapi.json)") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "method not allowed on this route",
            )
        })
        .layer(axum::middleware::map_response(crate::ui::security_headers))
        .with_state(state)
}

/// Runs `f` with the store on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    st: &AppState,
    f: impl FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let store = st.store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(ApiError::internal)?
}

/// Query strings that do not parse are 400s with the reason, in the API's error shape.
pub(crate) struct Q<T>(pub(crate) T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> axum::extract::FromRequestParts<S>
    for Q<T>
{
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Q(v))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn list_scans(State(st): State<AppState>) -> Result<Response, ApiError> {
    let scans = blocking(&st, |s| Ok(s.scans()?)).await?;
    Ok(axum::Json(json!({ "scans": scans })).into_response())
}

async fn one_scan(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let scan = blocking(&st, move |s| Ok(s.scan(&id)?)).await?;
    Ok(axum::Json(scan).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DiffParams {
    from: Option<String>,
    to: Option<String>,
}

async fn diff(State(st): State<AppState>, Q(p): Q<DiffParams>) -> Result<Response, ApiError> {
    let d = blocking(&st, move |s| {
        let (from, to) = query::diff_pair(s, p.from.as_deref(), p.to.as_deref())?;
        Ok(s.diff(&from, &to)?)
    })
    .await?;
    Ok(axum::Json(d).into_response())
}

/// Most assets a page holds, and how many when `limit` is not given.
pub const MAX_PAGE: usize = 1000;
pub const DEFAULT_PAGE: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssetsParams {
    kind: Option<String>,
    expiring: Option<String>,
    #[serde(default)]
    expired: bool,
    owner: Option<String>,
    #[serde(default)]
    unowned: bool,
    issuer: Option<String>,
    algorithm: Option<String>,
    path: Option<String>,
    host: Option<String>,
    #[serde(default)]
    quantum_vulnerable: bool,
    #[serde(default)]
    include_gone: bool,
    limit: Option<usize>,
    cursor: Option<String>,
    now: Option<String>,
    #[serde(default)]
    count: bool,
}

/// A cursor as clients see it: base64url of `kind:rid`.
fn encode_cursor(c: &AssetCursor) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}:{}", c.kind, c.rid))
}

fn decode_cursor(s: &str) -> Result<AssetCursor, ApiError> {
    let bad = || {
        ApiError::bad_request("cursor: not one this server gave (pass next_cursor back as it is)")
    };
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (kind, rid) = text.rsplit_once(':').ok_or_else(bad)?;
    let kind = parse_kind(kind).map_err(|_| bad())?;
    Ok(AssetCursor {
        kind: kind.as_str().to_string(),
        rid: rid.parse().map_err(|_| bad())?,
    })
}

fn parse_kind(s: &str) -> Result<AssetKind, ApiError> {
    AssetKind::ALL
        .iter()
        .copied()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "kind {s:?}: one of {}",
                AssetKind::ALL.map(|k| k.as_str()).join(", ")
            ))
        })
}

/// `now` as given (`2026-12-31` or RFC 3339), else the system clock.
pub(crate) fn instant(now: Option<&str>) -> Result<time::OffsetDateTime, ApiError> {
    match now {
        Some(s) => trustmap_engine::clock::parse_instant(s)
            .map_err(|e| ApiError::bad_request(format!("now: {e}"))),
        None => Ok(trustmap_engine::Clock::start(None).now),
    }
}

async fn assets(State(st): State<AppState>, Q(p): Q<AssetsParams>) -> Result<Response, ApiError> {
    let now = instant(p.now.as_deref())?;
    if p.owner.is_some() && p.unowned {
        return Err(ApiError::bad_request(
            "owner and unowned exclude each other",
        ));
    }
    let limit = p.limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::bad_request(format!(
            "limit: from 1 to {MAX_PAGE}"
        )));
    }
    let q = AssetQuery {
        kind: p.kind.as_deref().map(parse_kind).transpose()?,
        expiring_before: p
            .expiring
            .as_deref()
            .map(|w| {
                let w = query::parse_window(w).map_err(ApiError::bad_request)?;
                Ok::<_, ApiError>(query::expiring_before(now, w)?)
            })
            .transpose()?,
        expired: p.expired,
        now: now.into(),
        owner: p.owner,
        unowned: p.unowned,
        issuer: p.issuer,
        algorithm: p.algorithm,
        path_glob: p.path,
        host: p.host,
        quantum_vulnerable: p.quantum_vulnerable,
        include_gone: p.include_gone,
        limit: Some(limit),
    };
    if p.count {
        let n = blocking(&st, move |s| Ok(s.count_assets(&q)?)).await?;
        return Ok(axum::Json(json!({ "count": n })).into_response());
    }
    let after = p.cursor.as_deref().map(decode_cursor).transpose()?;
    let page = blocking(&st, move |s| Ok(s.assets_page(&q, after.as_ref())?)).await?;
    Ok(axum::Json(json!({
        "assets": page.rows,
        "next_cursor": page.next.as_ref().map(encode_cursor),
    }))
    .into_response())
}

/// How many assets an asset's impact lists (the counts cover all).
const IMPACT_LISTED: usize = 50;

async fn asset(State(st): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let v = blocking(&st, move |s| {
        let detail = s.show(&id)?;
        let impact = s.impact(&id, IMPACT_LISTED, false)?;
        let findings = s.asset_findings(&id)?;
        Ok(json!({ "asset": detail, "impact": impact, "findings": findings }))
    })
    .await?;
    Ok(axum::Json(v).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnersBody {
    owner: Option<String>,
    backup: Option<String>,
}

/// A team name as the API accepts it: 1-256 characters, no control characters.
fn team(field: &str, v: Option<String>) -> Result<Option<String>, ApiError> {
    match v {
        Some(t) if t.trim().is_empty() || t.len() > 256 || t.chars().any(char::is_control) => {
            Err(ApiError::bad_request(format!(
                "{field}: 1 to 256 characters, no control characters"
            )))
        }
        v => Ok(v),
    }
}

async fn set_owners(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, b) = req.into_parts();
    let b: OwnersBody = body::json(&body::read(&parts.headers, b, st.limits.body).await?)?;
    let (owner, backup) = (team("owner", b.owner)?, team("backup", b.backup)?);
    if owner.is_none() && backup.is_none() {
        return Err(ApiError::bad_request("give owner, backup or both"));
    }
    let changes = blocking(&st, move |s| {
        Ok(s.set_owner_by(
            &OwnerTarget::Asset(id),
            owner.as_deref(),
            backup.as_deref(),
            &caller.by(),
        )?)
    })
    .await?;
    Ok(axum::Json(json!({ "changes": changes })).into_response())
}

async fn owner_rules(State(st): State<AppState>) -> Result<Response, ApiError> {
    let rules = blocking(&st, |s| Ok(s.owner_rules()?)).await?;
    Ok(axum::Json(json!({ "rules": rules })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleBody {
    path: String,
    host: Option<String>,
    owner: Option<String>,
    backup: Option<String>,
}

async fn set_owner_rule(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, b) = req.into_parts();
    let b: RuleBody = body::json(&body::read(&parts.headers, b, st.limits.body).await?)?;
    let (owner, backup) = (team("owner", b.owner)?, team("backup", b.backup)?);
    let (rule, changes) = blocking(&st, move |s| {
        Ok(s.set_owner_rule(
            &b.path,
            b.host.as_deref(),
            owner.as_deref(),
            backup.as_deref(),
            &caller.by(),
        )?)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "rule": rule, "changes": changes })),
    )
        .into_response())
}

async fn remove_owner_rule(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request("an owner rule id is a number"))?;
    let (rule, changes) =
        blocking(&st, move |s| Ok(s.remove_owner_rule(id, &caller.by())?)).await?;
    Ok(axum::Json(json!({ "rule": rule, "changes": changes })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FindingsParams {
    as_of: Option<String>,
    host: Option<String>,
    severity: Option<String>,
    /// Comma-separated rule ids.
    rule: Option<String>,
    owner: Option<String>,
    #[serde(default)]
    unowned: bool,
    path: Option<String>,
    new_since: Option<String>,
    waived: Option<String>,
    /// At most this many listed (1 to [`MAX_FINDINGS_LISTED`]); `matched` counts all.
    limit: Option<usize>,
}

/// The most findings one `/findings` answer lists.
pub const MAX_FINDINGS_LISTED: usize = 100_000;

async fn findings(
    State(st): State<AppState>,
    Q(p): Q<FindingsParams>,
) -> Result<Response, ApiError> {
    if p.owner.is_some() && p.unowned {
        return Err(ApiError::bad_request(
            "owner and unowned exclude each other",
        ));
    }
    let sel = query::selection(p.as_of.as_deref(), p.host.as_deref(), "as_of")?;
    let filter = FindingFilter {
        severity: p
            .severity
            .as_deref()
            .map(|s| {
                Severity::parse(s).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "severity {s:?}: info, low, medium, high or critical"
                    ))
                })
            })
            .transpose()?,
        rules: p
            .rule
            .map(|r| r.split(',').map(|x| x.trim().to_string()).collect())
            .unwrap_or_default(),
        owner: p.owner,
        unowned: p.unowned,
        path: p.path,
        new_since: p.new_since,
        baseline: None,
        waived: match p.waived.as_deref() {
            None => None,
            Some("yes") => Some(Waived::Yes),
            Some("no") => Some(Waived::No),
            Some(w) => return Err(ApiError::bad_request(format!("waived {w:?}: yes or no"))),
        },
    };
    let limit = p.limit.unwrap_or(MAX_FINDINGS_LISTED);
    if !(1..=MAX_FINDINGS_LISTED).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit: from 1 to {MAX_FINDINGS_LISTED}"
        )));
    }
    let current = p.as_of.is_none() && p.host.is_none() && filter.new_since.is_none();
    let v = blocking(&st, move |s| {
        if current {
            // From the findings' columns: only the page's JSON is read.
            let (scans, total, matched, listed) =
                query::select_current_findings(s, &filter, limit)?;
            return Ok(json!({
                "scans": scans,
                "total": total,
                "matched": matched,
                "findings": listed.iter().map(|l| l.to_json()).collect::<Vec<Value>>(),
            }));
        }
        // Findings and owners only: no facts, places or relations are read.
        let stored = s.stored_findings(&sel)?;
        let listed = query::select_findings(s, &stored, &filter)?;
        Ok(json!({
            "scans": stored.scans.iter().map(|x| &x.id).collect::<Vec<_>>(),
            "total": stored.report.findings.len(),
            "matched": listed.len(),
            "findings": listed.iter().take(limit).map(|l| l.to_json()).collect::<Vec<Value>>(),
        }))
    })
    .await?;
    Ok(axum::Json(v).into_response())
}

async fn waivers(State(st): State<AppState>) -> Result<Response, ApiError> {
    let now = trustmap_engine::Clock::start(None).now;
    let rows = blocking(&st, |s| Ok(s.waivers()?)).await?;
    let v: Vec<Value> = rows
        .iter()
        .map(|w| {
            let mut v = serde_json::to_value(w).unwrap_or_default();
            v["status"] = trustmap_engine::waivers::status(w, now).as_str().into();
            v
        })
        .collect();
    Ok(axum::Json(json!({ "waivers": v })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiverBody {
    rule: String,
    asset: String,
    reason: String,
    until: String,
}

async fn grant_waiver(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, b) = req.into_parts();
    let b: WaiverBody = body::json(&body::read(&parts.headers, b, st.limits.body).await?)?;
    if b.reason.trim().is_empty() {
        return Err(ApiError::bad_request("reason must not be empty"));
    }
    trustmap_engine::waivers::check_rule(&b.rule, &[])?;
    let until = trustmap_engine::clock::parse_until(&b.until)?;
    let now = trustmap_engine::Clock::start(None).now;
    if until <= trustmap_core::rfc3339(now) {
        return Err(ApiError::bad_request(format!(
            "until {until} is not in the future"
        )));
    }
    let w = NewWaiver {
        rule: b.rule,
        asset: b.asset,
        reason: b.reason,
        until,
        by: caller.by(),
    };
    let (row, _) = blocking(&st, move |s| {
        Ok(trustmap_engine::waivers::grant(s, &w, &[])?)
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(row)).into_response())
}

async fn revoke_waiver(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request("a waiver id is a number"))?;
    let row = blocking(&st, move |s| Ok(s.revoke_waiver(id, &caller.by())?)).await?;
    Ok(axum::Json(row).into_response())
}

/// Most audit events one answer holds.
pub const MAX_AUDIT_EVENTS: usize = 10_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditParams {
    since: Option<String>,
    limit: Option<usize>,
}

async fn audit(State(st): State<AppState>, Q(p): Q<AuditParams>) -> Result<Response, ApiError> {
    let limit = p.limit.unwrap_or(1000).min(MAX_AUDIT_EVENTS);
    let since = p
        .since
        .as_deref()
        .map(|s| {
            trustmap_core::Timestamp::parse(s)
                .map(|t| t.to_string())
                .ok_or_else(|| ApiError::bad_request(format!("since {s:?}: an RFC 3339 instant")))
        })
        .transpose()?;
    let mut events = blocking(&st, move |s| Ok(s.audit_events(since.as_deref())?)).await?;
    let more = events.len() > limit;
    events.truncate(limit);
    Ok(axum::Json(json!({ "events": events, "truncated": more })).into_response())
}

/// The scheduled jobs (`serve --config`) as the replicas left them.
async fn jobs(State(st): State<AppState>) -> Result<Response, ApiError> {
    let jobs = blocking(&st, |s| Ok(s.jobs()?)).await?;
    Ok(axum::Json(json!({ "jobs": jobs })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertsParams {
    limit: Option<usize>,
}

/// The newest alerts first, with their delivery state (never a webhook's URL or the body).
async fn alerts(State(st): State<AppState>, Q(p): Q<AlertsParams>) -> Result<Response, ApiError> {
    let limit = p.limit.unwrap_or(100);
    if !(1..=trustmap_store::MAX_LISTED_ALERTS).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit {limit}: from 1 to {}",
            trustmap_store::MAX_LISTED_ALERTS
        )));
    }
    let alerts = blocking(&st, move |s| Ok(s.alerts(limit)?)).await?;
    Ok(axum::Json(json!({ "alerts": alerts })).into_response())
}

async fn audit_verify(State(st): State<AppState>) -> Result<Response, ApiError> {
    let v = blocking(&st, |s| {
        let problems = s.integrity_problems(true)?;
        let verdict = s.verify_audit()?;
        Ok(json!({
            "intact": verdict.intact() && problems.is_empty(),
            "verdict": verdict,
            "integrity_problems": problems,
        }))
    })
    .await?;
    Ok(axum::Json(v).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportParams {
    format: Option<String>,
    as_of: Option<String>,
    host: Option<String>,
}

/// `trustmap report --format F` as an HTTP answer: the body and its media type.
async fn reports(State(st): State<AppState>, Q(p): Q<ReportParams>) -> Result<Response, ApiError> {
    use trustmap_export::Format as E;
    let format = match p.format.as_deref().unwrap_or("json") {
        "json" => None,
        "cyclonedx" => Some(E::CycloneDx),
        "sarif" => Some(E::Sarif),
        "csv" => Some(E::Csv),
        "html" => Some(E::Html),
        "prometheus" => Some(E::Prometheus),
        f => {
            return Err(ApiError::bad_request(format!(
                "format {f:?}: json, cyclonedx, sarif, csv, html or prometheus"
            )));
        }
    };
    let sel = query::selection(p.as_of.as_deref(), p.host.as_deref(), "as_of")?;
    let (text, media) = blocking(&st, move |s| {
        let stored = s.stored_report(&sel)?;
        let r = &stored.report;
        Ok(match format {
            None => (
                serde_json::to_string_pretty(r).map_err(ApiError::internal)? + "\n",
                "application/json",
            ),
            Some(f) => (
                trustmap_export::export(r, f, &export_context(r.scan.started_at.get())),
                media_type(f),
            ),
        })
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, media)], text).into_response())
}

fn media_type(f: trustmap_export::Format) -> &'static str {
    use trustmap_export::Format as E;
    match f {
        E::CycloneDx => "application/vnd.cyclonedx+json",
        E::Sarif => "application/sarif+json",
        E::Csv => "text/csv; charset=utf-8",
        E::Html => "text/html; charset=utf-8",
        E::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
    }
}

fn export_context(now: time::OffsetDateTime) -> trustmap_export::Context {
    trustmap_export::Context {
        now,
        version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// `trustmap metrics`: the latest scans as Prometheus metrics, expiry counted from now (none
/// before the first scan), then the server's own push gauges.
async fn metrics(State(st): State<AppState>) -> Result<Response, ApiError> {
    let mut text = blocking(&st, |s| match s.stored_report(&Default::default()) {
        Ok(stored) => Ok(trustmap_export::export(
            &stored.report,
            trustmap_export::Format::Prometheus,
            &export_context(trustmap_engine::Clock::start(None).now),
        )),
        Err(trustmap_store::Error::NoScan(_)) => Ok(String::new()),
        Err(e) => Err(e.into()),
    })
    .await?;
    text.push_str(&st.pushes.prometheus());
    Ok((
        [(
            header::CONTENT_TYPE,
            media_type(trustmap_export::Format::Prometheus),
        )],
        text,
    )
        .into_response())
}

/// Who the token is: its name and role (the web UI shows admin controls to admins only;
/// the routes still check the role).
async fn me(Extension(caller): Extension<Caller>) -> Response {
    axum::Json(json!({ "name": caller.token.name, "role": caller.token.role.to_string() }))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_lists_every_route() {
        let doc: Value = serde_json::from_str(OPENAPI).expect("the OpenAPI document is JSON");
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let paths = doc["paths"].as_object().unwrap();
        for r in ROUTES {
            let op = &paths
                .get(r.path)
                .unwrap_or_else(|| panic!("{} is not in openapi.json", r.path))
                [r.method.to_ascii_lowercase()];
            assert!(
                op.is_object(),
                "{} {} is not in openapi.json",
                r.method,
                r.path
            );
            // The roles the document states are those the router enforces.
            let roles: Vec<&str> = op["x-roles"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            assert_eq!(roles, r.need.roles(), "{} {}", r.method, r.path);
        }
        let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(
            documented,
            ROUTES.len(),
            "openapi.json documents a route the server lacks"
        );
    }

    #[test]
    fn cursors_round_trip_and_refuse_forgeries() {
        let c = AssetCursor {
            kind: "certificate".into(),
            rid: 42,
        };
        assert_eq!(decode_cursor(&encode_cursor(&c)).unwrap(), c);
        for bad in ["", "!!", "Y2VydGlmaWNhdGU", "bm9wZTox"] {
            assert_eq!(
                decode_cursor(bad).unwrap_err().status,
                StatusCode::BAD_REQUEST,
                "{bad}"
            );
        }
    }
}
