//! Who is calling: `Authorization: Bearer TOKEN`, looked up by hash in the store, checked
//! against the role a route needs, and held to a per-token rate. Runs before the handler
//! reads the body, so an unauthenticated or forbidden request is refused before anything
//! of it is parsed.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use trustmap_store::{TokenRole, TokenRow};

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// No token (the OpenAPI document).
    Nothing,
    /// `reader` or `admin`.
    Read,
    /// `scanner` only: a scanner token can push and nothing else.
    Push,
    /// `admin`.
    Admin,
}

impl Need {
    fn allows(self, role: TokenRole) -> bool {
        match self {
            Need::Nothing => true,
            Need::Read => matches!(role, TokenRole::Reader | TokenRole::Admin),
            Need::Push => role == TokenRole::Scanner,
            Need::Admin => role == TokenRole::Admin,
        }
    }

    /// The roles that may call, for the OpenAPI document and messages.
    pub fn roles(self) -> &'static [&'static str] {
        match self {
            Need::Nothing => &[],
            Need::Read => &["reader", "admin"],
            Need::Push => &["scanner"],
            Need::Admin => &["admin"],
        }
    }
}

/// The authenticated caller, in the request's extensions.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: TokenRow,
}

impl Caller {
    /// The name API writes are recorded under in the audit log: `token:NAME`.
    pub fn by(&self) -> String {
        format!("token:{}", self.token.name)
    }
}

/// Requests per second and burst each token is allowed.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            per_second: 50.0,
            burst: 200.0,
        }
    }
}

/// Token buckets, one per token id. Hand-written (a dozen lines) rather than a rate-limiting
/// crate: one bucket per token, no other policy is needed. At most `MAX_BUCKETS` are kept;
/// past it the full (idle) buckets are dropped, which forgets nothing that limits anyone.
pub struct Buckets {
    limit: RateLimit,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

const MAX_BUCKETS: usize = 100_000;

impl Buckets {
    pub fn new(limit: RateLimit) -> Buckets {
        Buckets {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the token's bucket; false when it is empty.
    fn take(&self, token: i64) -> bool {
        let now = Instant::now();
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if b.len() >= MAX_BUCKETS {
            let (rate, burst) = (self.limit.per_second, self.limit.burst);
            b.retain(|_, (level, at)| {
                *level + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (level, at) = b.entry(token).or_insert((self.limit.burst, now));
        *level = (*level + now.duration_since(*at).as_secs_f64() * self.limit.per_second)
            .min(self.limit.burst);
        *at = now;
        if *level >= 1.0 {
            *level -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The middleware of every route: authenticates, checks the role, takes from the rate.
pub async fn authorize(
    State((app, need)): State<(AppState, Need)>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if need == Need::Nothing {
        return Ok(next.run(req).await);
    }
    let header = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("send a token: Authorization: Bearer TOKEN"))?;
    let token = header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("the Authorization header is not Bearer TOKEN"))?
        .to_string();
    let store = app.store.clone();
    let row = tokio::task::spawn_blocking(move || store.authenticate_token(&token))
        .await
        .map_err(ApiError::internal)??
        .ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))?;
    if !need.allows(row.role) {
        return Err(ApiError::forbidden(format!(
            "token {:?} has role {}; this needs {}",
            row.name,
            row.role,
            need.roles().join(" or ")
        )));
    }
    if !app.buckets.take(row.id) {
        return Err(ApiError::rate_limited());
    }
    req.extensions_mut().insert(Caller { token: row });
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refuses() {
        let b = Buckets::new(RateLimit {
            per_second: 0.001,
            burst: 3.0,
        });
        assert!((0..3).all(|_| b.take(1)));
        assert!(!b.take(1), "the fourth request in a burst of three");
        assert!(b.take(2), "another token has its own bucket");
    }

    #[test]
    fn roles() {
        assert!(Need::Read.allows(TokenRole::Reader));
        assert!(Need::Read.allows(TokenRole::Admin));
        assert!(!Need::Read.allows(TokenRole::Scanner));
        assert!(Need::Push.allows(TokenRole::Scanner));
        assert!(!Need::Push.allows(TokenRole::Admin));
        assert!(!Need::Admin.allows(TokenRole::Reader));
    }
}
