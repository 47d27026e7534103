//! `trustmap audit`: verify and export the tamper-evident audit log.

use crate::db::DbArg;
use crate::table::out;
use anyhow::{Context, Result};
use clap::Subcommand;
use std::path::PathBuf;
use trustmap_core::rfc3339;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain: exit 0 when intact, 1 naming the first broken event.
    Verify(AuditVerifyArgs),
    /// Write audit events as JSON lines.
    Export(AuditExportArgs),
}

#[derive(clap::Args)]
pub struct AuditVerifyArgs {
    #[command(flatten)]
    db: DbArg,
    /// A head hash printed by an earlier `audit verify` and kept elsewhere: fail unless that
    /// event is still in the chain (catches events removed from the end of the log).
    #[arg(long, value_name = "HASH")]
    head: Option<String>,
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
        AuditCommand::Verify(a) => {
            let store = a.db.open()?;
            let v = store.verify_audit()?;
            if v.broken.is_none()
                && let Some(head) = &a.head
            {
                match store.audit_event_with_hash(head)? {
                    Some(seq) => crate::outln!(
                        "earlier head {head} is event {seq}: events 1-{seq} are unchanged"
                    )?,
                    None => {
                        crate::outln!(
                            "audit log BROKEN: no event has the earlier head hash {head}; events were removed from the end or the log was replaced ({} events now)",
                            v.events
                        )?;
                        return Ok(1);
                    }
                }
            }
            match &v.broken {
                None => {
                    crate::outln!(
                        "audit log intact: {} events, head {}",
                        v.events,
                        v.head.as_deref().unwrap_or("(empty)")
                    )?;
                    Ok(0)
                }
                Some(b) => {
                    crate::outln!(
                        "audit log BROKEN at event {} ({} {}): {}; {} events before it verify",
                        b.seq,
                        b.kind,
                        b.subject,
                        b.reason,
                        v.events
                    )?;
                    Ok(1)
                }
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse() {
        assert_eq!(parse_date("2026-01-31").unwrap(), "2026-01-31T00:00:00Z");
        assert_eq!(
            parse_date("2026-01-31T12:00:00+02:00").unwrap(),
            "2026-01-31T10:00:00Z"
        );
    }
}
