//! `trustmap audit`: verify and export the tamper-evident audit log.

use crate::db::DbArg;
use crate::table::out;
use anyhow::{Context, Result};
use clap::Subcommand;
use std::path::PathBuf;
use trustmap_core::rfc3339;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the database file, the hash chain, and that the chain vouches for every
    /// waiver, explicit owner and scan: exit 0 when intact, 1 naming what is not.
    Verify(AuditVerifyArgs),
    /// Write audit events as JSON lines.
    Export(AuditExportArgs),
}

#[derive(clap::Args)]
pub struct AuditVerifyArgs {
    #[command(flatten)]
    db: DbArg,
    /// A head printed (or written with --write-head) by an earlier `audit verify` and kept
    /// outside the database, as `COUNT:HASH` or a file holding it: fail unless event COUNT
    /// still has that hash (catches events removed from the end, and a log rewritten and
    /// re-hashed). A bare HASH is looked up anywhere in the log.
    #[arg(long, value_name = "HEAD|FILE")]
    head: Option<String>,
    /// After a successful check, write the head (`COUNT:HASH`) to FILE, for a later --head.
    #[arg(long, value_name = "FILE")]
    write_head: Option<PathBuf>,
}

/// A head kept from an earlier verify: the event count then, when given, and its hash.
#[derive(Debug, PartialEq)]
struct Head {
    seq: Option<i64>,
    hash: String,
}

/// `COUNT:HASH` or `HASH`, or a file holding one of them.
fn parse_head(arg: &str) -> Result<Head> {
    let text = match std::fs::metadata(arg) {
        Ok(m) if m.is_file() => {
            std::fs::read_to_string(arg).with_context(|| format!("reading the head from {arg}"))?
        }
        _ => arg.to_string(),
    };
    let text = text.trim();
    let (seq, hash) = match text.split_once(':') {
        Some((n, h)) => (
            Some(
                n.trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .with_context(|| format!("--head {text:?}: COUNT must be a positive number"))?,
            ),
            h.trim(),
        ),
        None => (None, text),
    };
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        anyhow::bail!("--head {text:?}: expected COUNT:HASH (a SHA-256 hash, 64 hex digits)");
    }
    Ok(Head {
        seq,
        hash: hash.to_ascii_lowercase(),
    })
}

#[derive(clap::Args)]
pub struct AuditExportArgs {
    #[command(flatten)]
    db: DbArg,
    /// Only events at or after this date (2026-01-31 or RFC 3339).
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Write to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// `2026-01-31` or RFC 3339, as the store's RFC 3339 UTC text.
fn parse_date(s: &str) -> Result<String> {
    Ok(rfc3339(trustmap_engine::clock::parse_instant(s)?))
}

pub fn audit(c: AuditCommand) -> Result<i32> {
    match c {
        AuditCommand::Verify(a) => verify(a),
        AuditCommand::Export(a) => {
            let since = a.since.as_deref().map(parse_date).transpose()?;
            let store = a.db.open()?;
            let events = store.audit_events(since.as_deref())?;
            let mut s = String::new();
            for e in &events {
                s.push_str(&serde_json::to_string(e)?);
                s.push('\n');
            }
            match &a.output {
                Some(p) => {
                    std::fs::write(p, s).with_context(|| format!("writing {}", p.display()))?
                }
                None => out(&s)?,
            }
            Ok(0)
        }
    }
}

fn verify(a: AuditVerifyArgs) -> Result<i32> {
    // Checked before anything else is read, so a damaged file fails here by name.
    let head = a.head.as_deref().map(parse_head).transpose()?;
    let store = a.db.open()?;
    let problems = store
        .integrity_problems(true)
        .context("checking the database file")?;
    if !problems.is_empty() {
        crate::outln!(
            "audit log BROKEN: the database file is corrupt (SQLite integrity_check): {}",
            problems.join("; ")
        )?;
        return Ok(1);
    }
    let v = store.verify_audit()?;
    if let Some(b) = &v.broken {
        crate::outln!(
            "audit log BROKEN at event {} ({} {}): {}; {} events before it verify",
            b.seq,
            b.kind,
            b.subject,
            b.reason,
            v.events
        )?;
        return Ok(1);
    }
    if !v.unvouched.is_empty() {
        crate::outln!(
            "audit log BROKEN: the chain of {} events holds, but it does not vouch for what is stored:",
            v.events
        )?;
        for line in &v.unvouched {
            crate::outln!("  {line}")?;
        }
        return Ok(1);
    }
    if let Some(head) = &head {
        let found = match head.seq {
            Some(seq) => store
                .audit_event_hash(seq)?
                .filter(|h| h.eq_ignore_ascii_case(&head.hash))
                .map(|_| seq),
            None => store.audit_event_with_hash(&head.hash)?,
        };
        match found {
            Some(seq) => crate::outln!(
                "earlier head {seq}:{} is still event {seq}: events 1-{seq} are unchanged",
                head.hash
            )?,
            None => {
                let at = head.seq.map_or(String::new(), |n| format!(" at event {n}"));
                crate::outln!(
                    "audit log BROKEN: the earlier head {}{at} is not in the log; events were removed from the end, or the log was rewritten ({} events now)",
                    head.hash,
                    v.events
                )?;
                return Ok(1);
            }
        }
    }
    let now = match &v.head {
        Some(h) => format!("{}:{h}", v.events),
        None => "(empty)".to_string(),
    };
    crate::outln!("audit log intact: {} events, head {now}", v.events)?;
    if let Some(path) = &a.write_head {
        std::fs::write(path, format!("{now}\n"))
            .with_context(|| format!("writing the head to {}", path.display()))?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_with_or_without_a_count() {
        let h = "ab".repeat(32);
        assert_eq!(
            parse_head(&format!("42:{h}")).unwrap(),
            Head {
                seq: Some(42),
                hash: h.clone()
            }
        );
        assert_eq!(
            parse_head(&h.to_ascii_uppercase()).unwrap(),
            Head {
                seq: None,
                hash: h.clone()
            }
        );
        assert!(parse_head(&format!("0:{h}")).is_err());
        assert!(parse_head("42:abc").is_err());
    }

    #[test]
    fn dates_parse() {
        assert_eq!(parse_date("2026-01-31").unwrap(), "2026-01-31T00:00:00Z");
        assert_eq!(
            parse_date("2026-01-31T12:00:00+02:00").unwrap(),
            "2026-01-31T10:00:00Z"
        );
    }
}
