//! Arguments shared by several commands: what to scan (`scan`, `baseline`, `pqc`), `--now`,
//! severities.

use crate::db::DbArg;
use std::path::PathBuf;
use time::OffsetDateTime;
use trustmap_core::Severity;
use trustmap_engine::{ScanOptions, ScanRequest};

/// What to scan and how: the options `baseline` and `pqc` share with `scan`.
#[derive(clap::Args)]
pub struct ScanInput {
    /// Files or directories to scan, and TLS endpoints as tls://HOST[:PORT][?sni=NAME]
    /// (port 443 by default); smtp://, imap://, pop3://, ldap:// and postgres:// for
    /// STARTTLS (ports 25, 143, 110, 389 and 5432 by default).
    #[arg(
        required_unless_present = "targets",
        value_name = "PATH|tls://HOST:PORT"
    )]
    pub paths: Vec<PathBuf>,
    /// TLS endpoints to scan, one a line: HOST, HOST:PORT, [IPv6]:PORT or a CIDR block with
    /// ports (10.0.0.0/24:443,8443), optionally prefixed by smtp://, imap://, pop3://,
    /// ldap:// or postgres:// (STARTTLS) and followed by an SNI name; `#` comments.
    #[arg(long, value_name = "FILE")]
    pub targets: Vec<PathBuf>,
    /// TLS handshakes in flight at once.
    #[arg(long, value_name = "N", default_value_t = trustmap_discover::tls::DEFAULT_CONCURRENCY,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    pub tls_concurrency: usize,
    /// Seconds to look up and connect to a TLS endpoint, and again to complete its
    /// handshake (a STARTTLS preamble included).
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_secs)]
    pub tls_timeout: f64,
    /// At most N new connections a second to one IP address (handshakes and probes alike;
    /// default: no limit).
    #[arg(long, value_name = "N", default_value_t = 0.0, value_parser = parse_rate)]
    pub tls_rate_per_host: f64,
    /// Also enumerate each TLS endpoint's cipher suites per version and its server
    /// preference by raw ClientHello probes (a connection per suite accepted; the default
    /// scan probes versions and groups only).
    #[arg(long)]
    pub tls_enumerate: bool,
    /// Do not record this scan in the inventory store.
    #[arg(long)]
    pub no_store: bool,
    #[command(flatten)]
    pub db: DbArg,
    /// Skip files excluded by .gitignore/.ignore (default: scan everything but .git/).
    #[arg(long)]
    pub respect_gitignore: bool,
    /// Follow symbolic links (loops are reported, not followed forever).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Skip paths matching GLOB (gitignore syntax, relative to each scanned root; repeatable;
    /// added to the policy's `exclude`). The summary and JSON count what was excluded.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Extra secret rules: a gitleaks-format TOML file (repeatable).
    #[arg(long, value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Worker threads (default: one per core; at most 1024).
    #[arg(long, short = 'j', default_value_t = 0,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=1024))]
    pub threads: usize,
    /// Policy file (default: the nearest trustmap.toml in or above the scanned directory,
    /// up to the repository root).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Custom rules in Rego: a `.rego` file, or a directory searched for them (repeatable).
    /// Package `trustmap.custom` defines `findings`; see the README.
    #[arg(long, value_name = "FILE|DIR")]
    pub rego: Vec<PathBuf>,
    /// Seconds each Rego file may run for over the whole scan; past it the scan stops with
    /// an error naming the file.
    #[arg(long, value_name = "SECS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub rego_timeout: u64,
    /// Memory (MiB) each Rego file's evaluation may hold.
    #[arg(long, value_name = "MIB", default_value_t = 2048,
          value_parser = clap::value_parser!(u64).range(16..=1_048_576))]
    pub rego_memory: u64,
    /// Findings each Rego file may produce over the whole scan.
    #[arg(long, value_name = "N", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub rego_max_findings: u64,
    /// A keystore password to try after the well-known defaults (repeatable); never printed
    /// or stored. Prefer --keystore-password-file: a command line is visible to other users.
    #[arg(long, value_name = "PASS")]
    pub keystore_password: Vec<String>,
    /// A file of keystore passwords to try, one a line (repeatable).
    #[arg(long, value_name = "FILE")]
    pub keystore_password_file: Vec<PathBuf>,
    /// Host name to record the scan under (default: this machine's host name).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    #[command(flatten)]
    pub now: NowArg,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

impl ScanInput {
    /// The engine request these arguments describe: paths, and one TLS source for every
    /// `tls://` argument and `--targets` file.
    pub fn request(&self) -> anyhow::Result<ScanRequest> {
        use anyhow::Context;
        use trustmap_discover::tls;
        let mut paths = Vec::new();
        let mut targets = Vec::new();
        for p in &self.paths {
            match p.to_str().filter(|s| tls::is_url(s)) {
                Some(url) => targets.push(tls::parse_url(url).map_err(anyhow::Error::msg)?),
                None => paths.push(p.clone()),
            }
        }
        for file in &self.targets {
            let text =
                read_targets(file).with_context(|| format!("targets file {}", file.display()))?;
            targets.extend(
                tls::parse_targets(&text, &file.display().to_string())
                    .map_err(anyhow::Error::msg)?,
            );
        }
        if targets.len() > tls::MAX_TARGETS {
            anyhow::bail!(
                "{} TLS endpoints named; at most {} a scan",
                targets.len(),
                tls::MAX_TARGETS
            );
        }
        let mut sources: Vec<Box<dyn trustmap_discover::source::Source>> = Vec::new();
        if !targets.is_empty() {
            let timeout = std::time::Duration::from_secs_f64(self.tls_timeout);
            let options = tls::TlsOptions {
                concurrency: self.tls_concurrency,
                connect_timeout: timeout,
                handshake_timeout: timeout,
                enumerate: self.tls_enumerate,
                rate_per_host: self.tls_rate_per_host,
                ..Default::default()
            };
            sources.push(Box::new(
                tls::TlsSource::new(targets, options).at(self.now.now),
            ));
        }
        if paths.is_empty() && sources.is_empty() {
            anyhow::bail!("nothing to scan: give paths, tls:// targets or --targets");
        }
        Ok(ScanRequest {
            paths,
            sources,
            options: ScanOptions {
                respect_gitignore: self.respect_gitignore,
                follow_symlinks: self.follow_symlinks,
                threads: self.threads,
                secret_rules: self.rules.clone(),
                policy: self.policy.clone(),
                rego: self.rego.clone(),
                rego_limits: trustmap_engine::rego::Limits {
                    time: std::time::Duration::from_secs(self.rego_timeout),
                    memory_bytes: self.rego_memory << 20,
                    findings: self.rego_max_findings as usize,
                    exe: None,
                },
                baseline: None,
                host: self.host.clone(),
                now: self.now.now,
                writes: Vec::new(),
                exclude: self.exclude.clone(),
                keystore_passwords: trustmap_engine::KeystorePasswords(
                    self.keystore_password.clone(),
                ),
                keystore_password_files: self.keystore_password_file.clone(),
            },
        })
    }
}

/// A targets file, read up to [`trustmap_discover::tls::target::MAX_FILE_BYTES`].
fn read_targets(file: &std::path::Path) -> anyhow::Result<String> {
    use std::io::Read;
    let limit = trustmap_discover::tls::target::MAX_FILE_BYTES;
    // Checked before opening: opening a FIFO would block.
    if !std::fs::metadata(file)?.is_file() {
        anyhow::bail!("not a regular file");
    }
    let f = std::fs::File::open(file)?;
    let mut text = String::new();
    f.take(limit + 1).read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        anyhow::bail!("larger than {limit} bytes");
    }
    Ok(text)
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(n) if (0.0..=1_000_000.0).contains(&n) => Ok(n),
        _ => Err(format!(
            "{s:?} is not a rate (connections a second, 0 to 1000000; 0: no limit)"
        )),
    }
}

fn parse_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.1..=600.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?}: seconds from 0.1 to 600")),
    }
}

/// `--now`: judge as if it were another instant.
#[derive(clap::Args, Clone, Copy, Debug)]
pub struct NowArg {
    /// Judge as if it were this instant: 2026-12-31 (the start of that day, UTC) or RFC 3339.
    /// What will have expired or be expiring then, whether waivers are still active then
    /// (default: now).
    #[arg(long, value_name = "DATE|RFC3339", value_parser = parse_now)]
    pub now: Option<OffsetDateTime>,
}

impl NowArg {
    /// The instant to judge at: `--now`, else the system clock, read once.
    pub fn instant(self) -> OffsetDateTime {
        trustmap_engine::Clock::start(self.now).now
    }
}

fn parse_now(s: &str) -> Result<OffsetDateTime, String> {
    trustmap_engine::clock::parse_instant(s).map_err(|e| e.to_string())
}

pub fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("unknown severity {s:?}: use info, low, medium, high or critical"))
}
