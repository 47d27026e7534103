//! API tokens of the server (migration 12): a name, a role, and the SHA-256 of the token.
//! The token itself is shown once, when created, and never stored: a token is 32 random
//! bytes, so its plain SHA-256 is as strong a verifier as a slow password hash and lets a
//! request be authenticated by one indexed lookup. Creating and revoking a token are audit
//! events (`token-created`, `token-revoked`), which `audit verify` replays against the table:
//! a role raised or a revocation undone by hand shows as unvouched.

use crate::db::{Db, Row, Val};
use crate::error::{Entity, Error};
use crate::{Store, audit, now_rfc3339};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenRole {
    /// Every read (secrets only as their redacted preview).
    Reader,
    /// Push scans, nothing else.
    Scanner,
    /// Reads, owners, waivers.
    Admin,
}

impl TokenRole {
    pub const ALL: [TokenRole; 3] = [TokenRole::Reader, TokenRole::Scanner, TokenRole::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenRole::Reader => "reader",
            TokenRole::Scanner => "scanner",
            TokenRole::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<TokenRole> {
        TokenRole::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for TokenRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored token (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: TokenRole,
    pub created_at: String,
    pub created_by: String,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
}

/// The prefix of every token (so a leaked one is recognisable by secret scanners).
pub const TOKEN_PREFIX: &str = "tmk_";

/// Longest token name.
pub const MAX_TOKEN_NAME: usize = 128;

const SELECT: &str =
    "SELECT id, name, role, created_at, created_by, revoked_at, revoked_by, hash FROM api_tokens";

fn token_row(r: &Row) -> Result<TokenRow, Error> {
    let role = r.text(2);
    Ok(TokenRow {
        id: r.int(0),
        name: r.text(1),
        role: TokenRole::parse(&role)
            .ok_or_else(|| Error::corrupt(format!("token {:?} has role {role:?}", r.text(1))))?,
        created_at: r.text(3),
        created_by: r.text(4),
        revoked_at: r.opt_text(5),
        revoked_by: r.opt_text(6),
    })
}

/// The stored form of a token: hex of its SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Every token row with its hash, oldest first (for `audit verify`).
pub(crate) fn stored_tokens(db: &mut Db) -> Result<Vec<(TokenRow, String)>, Error> {
    db.query(&format!("{SELECT} ORDER BY id"), &[])?
        .iter()
        .map(|r| Ok((token_row(r)?, r.text(7))))
        .collect()
}

impl Store {
    /// Creates a token named `name` (unique among all tokens ever made, revoked ones too, so
    /// the audit log's names stay unambiguous) and records a `token-created` event. Returns
    /// the row and the token, which is shown once and not kept.
    pub fn create_token(
        &self,
        name: &str,
        role: TokenRole,
        by: &str,
    ) -> Result<(TokenRow, String), Error> {
        let name = name.trim();
        if name.is_empty() || name.len() > MAX_TOKEN_NAME || name.chars().any(|c| c.is_control()) {
            return Err(Error::InvalidInput(format!(
                "a token name is 1 to {MAX_TOKEN_NAME} characters, no control characters"
            )));
        }
        let token = format!(
            "{TOKEN_PREFIX}{}",
            hex::encode(crate::secret_key::random()?)
        );
        let hash = token_hash(&token);
        let row = self.conn()?.transaction(|db| {
            if db
                .query_one("SELECT id FROM api_tokens WHERE name = ?", &[name.into()])?
                .is_some()
            {
                return Err(Error::Conflict(format!(
                    "a token named {name:?} exists already (names are never reused)"
                )));
            }
            let now = now_rfc3339();
            let id = db
                .query_one(
                    "INSERT INTO api_tokens (name, role, hash, created_at, created_by)
                     VALUES (?, ?, ?, ?, ?) RETURNING id",
                    &[
                        name.into(),
                        role.as_str().into(),
                        hash.as_str().into(),
                        now.as_str().into(),
                        by.into(),
                    ],
                )?
                .map(|r| r.int(0))
                .ok_or_else(|| Error::other("inserting the token returned no id"))?;
            let mut audit = audit::AuditWriter::load(db)?;
            audit.append(
                &now,
                "token-created",
                name,
                serde_json::json!({"token": id, "role": role.as_str(), "hash": hash, "by": by}),
            );
            audit.flush(db)?;
            Ok(TokenRow {
                id,
                name: name.to_string(),
                role,
                created_at: now,
                created_by: by.to_string(),
                revoked_at: None,
                revoked_by: None,
            })
        })?;
        Ok((row, token))
    }

    /// Every token, revoked ones too, oldest first.
    pub fn tokens(&self) -> Result<Vec<TokenRow>, Error> {
        Ok(stored_tokens(&mut *self.conn()?)?
            .into_iter()
            .map(|(t, _)| t)
            .collect())
    }

    /// Revokes the token named `name` (a `token-revoked` event). Revoking twice is a
    /// [`Error::Conflict`].
    pub fn revoke_token(&self, name: &str, by: &str) -> Result<TokenRow, Error> {
        self.conn()?.transaction(|db| {
            let Some(mut t) = db
                .query_one(&format!("{SELECT} WHERE name = ?"), &[name.into()])?
                .map(|r| token_row(&r))
                .transpose()?
            else {
                return Err(Error::not_found(Entity::Token, name));
            };
            if t.revoked_at.is_some() {
                return Err(Error::Conflict(format!(
                    "token {name:?} is already revoked"
                )));
            }
            let now = now_rfc3339();
            db.exec(
                "UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ?",
                &[now.as_str().into(), by.into(), Val::Int(t.id)],
            )?;
            let mut audit = audit::AuditWriter::load(db)?;
            audit.append(
                &now,
                "token-revoked",
                name,
                serde_json::json!({"token": t.id, "by": by}),
            );
            audit.flush(db)?;
            t.revoked_at = Some(now);
            t.revoked_by = Some(by.to_string());
            Ok(t)
        })
    }

    /// The token `token` stands for, if it exists and is not revoked (one indexed lookup
    /// by hash).
    pub fn authenticate_token(&self, token: &str) -> Result<Option<TokenRow>, Error> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 256 {
            return Ok(None);
        }
        let hash = token_hash(token);
        let row = self
            .conn()?
            .query_one(
                &format!("{SELECT} WHERE hash = ? AND revoked_at IS NULL"),
                &[hash.as_str().into()],
            )?
            .map(|r| token_row(&r))
            .transpose()?;
        Ok(row)
    }
}

/// The token state the `token-created` / `token-revoked` events say: id -> (name, role,
/// hash, revoked).
#[derive(Default)]
pub(crate) struct TokenReplay {
    tokens: std::collections::BTreeMap<i64, (String, String, String, bool)>,
}

impl TokenReplay {
    pub(crate) fn add(&mut self, e: &crate::AuditEvent) {
        let Some(id) = e.data["token"].as_i64() else {
            return;
        };
        match e.kind.as_str() {
            "token-created" => {
                let text = |k: &str| e.data[k].as_str().unwrap_or_default().to_string();
                self.tokens
                    .insert(id, (e.subject.clone(), text("role"), text("hash"), false));
            }
            "token-revoked" => {
                if let Some(t) = self.tokens.get_mut(&id) {
                    t.3 = true;
                }
            }
            _ => {}
        }
    }

    /// What the `api_tokens` table holds that the events do not vouch for.
    pub(crate) fn compare(mut self, db: &mut Db, out: &mut Vec<String>) -> Result<(), Error> {
        if !has_tokens_table(db)? {
            return Ok(());
        }
        for (row, hash) in stored_tokens(db)? {
            match self.tokens.remove(&row.id) {
                None => out.push(format!(
                    "token {} ({:?}) has no token-created event",
                    row.id, row.name
                )),
                Some((name, role, h, revoked)) => {
                    if name != row.name || role != row.role.as_str() || h != hash {
                        out.push(format!(
                            "token {} ({:?}, {}) differs from its token-created event",
                            row.id, row.name, row.role
                        ));
                    }
                    if revoked != row.revoked_at.is_some() {
                        out.push(format!(
                            "token {} ({:?}) is {} but its events say {}",
                            row.id,
                            row.name,
                            if row.revoked_at.is_some() {
                                "revoked"
                            } else {
                                "in force"
                            },
                            if revoked { "revoked" } else { "in force" }
                        ));
                    }
                }
            }
        }
        for (id, (name, ..)) in self.tokens {
            out.push(format!(
                "token {id} ({name:?}) has a token-created event but no row"
            ));
        }
        Ok(())
    }
}

/// Whether migration 12 has run (verify may run on an older database being migrated).
fn has_tokens_table(db: &mut Db) -> Result<bool, Error> {
    Ok(db
        .query_one(
            "SELECT version FROM schema_migrations WHERE version = 12",
            &[],
        )?
        .is_some())
}
