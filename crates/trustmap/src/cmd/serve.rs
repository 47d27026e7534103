//! `trustmap serve`: the API over the inventory (see `trustmap_server`), and
//! `trustmap token`: the API's tokens.

use crate::db::DbArg;
use crate::table::{TableFormat, out, table};
use anyhow::{Context, Result};
use clap::Subcommand;
use std::net::SocketAddr;
use std::path::PathBuf;
use trustmap_store::TokenRole;

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    db: DbArg,
    /// Address to listen on: 127.0.0.1:8443, [::]:8443, 0.0.0.0:8080 (port 0: any free
    /// port, printed on stderr).
    #[arg(long, value_name = "ADDR")]
    listen: SocketAddr,
    /// PEM certificate chain to serve HTTPS with (with --tls-key); without, plain HTTP for
    /// a proxy that terminates TLS.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Largest pushed scan accepted, in MiB as sent (compressed); inflated it may be 4 times
    /// that.
    #[arg(long, value_name = "MIB", default_value_t = 256,
          value_parser = clap::value_parser!(u64).range(1..=65_536))]
    max_push_mib: u64,
    /// Requests per second each token may make (bursts up to 4 times as many).
    #[arg(long, value_name = "N", default_value_t = 50,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    rate: u64,
    /// Pushed scans read and recorded at once; more wait with only their compressed body
    /// in memory.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u64).range(1..=64))]
    pushes_at_once: u64,
    /// Seconds requests in flight may take to finish after SIGTERM or Ctrl-C.
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    grace: u64,
    /// The server's configuration: scans it runs on a schedule and the webhooks its alerts
    /// go to (see the README's "Scheduled scans and alerts").
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Check --config, print what it schedules and alerts on, and exit.
    #[arg(long, requires = "config")]
    check_config: bool,
}

pub fn serve(a: ServeArgs) -> Result<i32> {
    let background = match &a.config {
        Some(f) => trustmap_server::config::load(f).map_err(anyhow::Error::msg)?,
        None => trustmap_server::config::ServerConfig::default(),
    };
    if a.check_config {
        print!("{}", describe(&background));
        return Ok(0);
    }
    // `serve`, like `scan`, creates the inventory when there is none.
    let store = a.db.open_or_create()?;
    let push = (a.max_push_mib as usize) << 20;
    let config = trustmap_server::ServeConfig {
        listen: a.listen,
        tls: a.tls_cert.zip(a.tls_key),
        limits: trustmap_server::Limits {
            push,
            push_inflated: push.saturating_mul(4),
            pushes_at_once: a.pushes_at_once as usize,
            rate: trustmap_server::RateLimit {
                per_second: a.rate as f64,
                burst: (a.rate * 4) as f64,
            },
            ..Default::default()
        },
        grace: std::time::Duration::from_secs(a.grace),
        background,
    };
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let shown = a.db.shown();
    trustmap_server::serve(store, config, move |addr| {
        errln!("trustmap serve: listening on {scheme}://{addr} (inventory {shown})");
    })
    .context("serving")?;
    Ok(0)
}

/// What a server configuration makes the server do, for `--check-config` (webhook URLs
/// are not shown: they may be credentials).
fn describe(c: &trustmap_server::config::ServerConfig) -> String {
    let mut s = format!("tick: every {} s\n", c.tick.as_secs());
    if let Some(u) = &c.url {
        s.push_str(&format!("links: {u}\n"));
    }
    for j in &c.schedule {
        s.push_str(&format!(
            "job {}: every {} s: {}\n",
            j.name,
            j.every.as_secs(),
            j.paths.join(" ")
        ));
    }
    match &c.alerts {
        None => s.push_str("alerts: off\n"),
        Some(a) => {
            let events: Vec<&str> = a.events.iter().map(|e| e.as_str()).collect();
            let days: Vec<String> = a.expiry_days.iter().map(u32::to_string).collect();
            s.push_str(&format!(
                "alerts: {} (findings at or above {}; expiry windows {} days)\n",
                events.join(", "),
                a.severity.as_str(),
                days.join(", ")
            ));
            for h in &a.webhooks {
                s.push_str(&format!(
                    "webhook {} ({:?}): {}\n",
                    h.name,
                    h.format,
                    if h.owners.is_empty() {
                        "default".to_string()
                    } else {
                        format!("owners {}", h.owners.join(", "))
                    }
                ));
            }
        }
    }
    s
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token; it is printed once, on stdout, and only its hash is kept.
    Create(TokenCreateArgs),
    /// List tokens (never the tokens themselves).
    List(TokenListArgs),
    /// Revoke a token by name; requests with it are refused from then on.
    Revoke(TokenRevokeArgs),
}

#[derive(clap::Args)]
pub struct TokenCreateArgs {
    #[command(flatten)]
    db: DbArg,
    /// reader (every read), scanner (push scans only) or admin (reads, owners, waivers).
    #[arg(long, value_parser = parse_role)]
    role: TokenRole,
    /// A name for the token, unique: the audit log records API writes under it.
    #[arg(long, value_name = "NAME")]
    name: String,
}

#[derive(clap::Args)]
pub struct TokenListArgs {
    #[command(flatten)]
    db: DbArg,
    #[arg(long, short, value_enum, default_value_t = TableFormat::Table)]
    format: TableFormat,
}

#[derive(clap::Args)]
pub struct TokenRevokeArgs {
    #[command(flatten)]
    db: DbArg,
    /// The token's name.
    name: String,
}

fn parse_role(s: &str) -> Result<TokenRole, String> {
    TokenRole::parse(s).ok_or_else(|| format!("role {s:?}: reader, scanner or admin"))
}

/// Who ran the command, for the audit log: `cli:$USER`.
fn who() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    format!("cli:{user}")
}

pub fn token(c: TokenCommand) -> Result<i32> {
    match c {
        TokenCommand::Create(a) => {
            let (row, token) = a.db.open()?.create_token(&a.name, a.role, &who())?;
            out(&format!("{token}\n"))?;
            errln!(
                "token {:?} ({}) created; it is shown only this once",
                row.name,
                row.role
            );
        }
        TokenCommand::List(a) => {
            let rows = a.db.open()?.tokens()?;
            match a.format {
                TableFormat::Json => out(&(serde_json::to_string_pretty(&rows)? + "\n"))?,
                TableFormat::Table => {
                    let t: Vec<Vec<String>> = rows
                        .iter()
                        .map(|r| {
                            vec![
                                r.name.clone(),
                                r.role.to_string(),
                                r.created_at.clone(),
                                r.created_by.clone(),
                                r.revoked_at.clone().unwrap_or_else(|| "-".into()),
                            ]
                        })
                        .collect();
                    out(&table(&["NAME", "ROLE", "CREATED", "BY", "REVOKED"], &t))?;
                }
            }
        }
        TokenCommand::Revoke(a) => {
            let row = a.db.open()?.revoke_token(&a.name, &who())?;
            errln!("token {:?} revoked", row.name);
        }
    }
    Ok(0)
}
