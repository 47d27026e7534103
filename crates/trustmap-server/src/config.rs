//! The server's own configuration file (`trustmap serve --config FILE`): the scans it
//! runs on a schedule and where its alerts go. It is the operator's file, not a scanned
//! one, but a mistake in it should still be named by line and field, and nothing in it is
//! echoed back where it could leak: a webhook URL (a Slack URL is itself a credential) is
//! never printed, logged, stored or answered; the webhook's name stands for it.
//!
//! ```toml
//! [server]
//! url = "https://trustmap.example.org"   # links in alerts point here
//! tick = "10s"                            # how often each replica looks for due work
//!
//! [[schedule]]
//! name = "edge"
//! paths = ["/etc/ssl", "tls://10.0.0.5:443"]
//! every = "1h"
//!
//! [alerts]
//! severity = "high"
//! expiry_days = [30, 7]
//!
//! [[alerts.webhook]]
//! name = "payments"
//! url_env = "PAYMENTS_SLACK_URL"
//! format = "slack"
//! owners = ["payments"]
//! ```

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;
use trustmap_core::Severity;

/// At most this many scheduled jobs and webhooks (each is a row the replicas poll).
pub const MAX_JOBS: usize = 256;
pub const MAX_WEBHOOKS: usize = 256;
/// The configuration file is read up to this size.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The parsed, checked configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The UI's base URL, for links in alerts (no trailing slash).
    pub url: Option<String>,
    /// How often each replica looks for due jobs and alerts.
    pub tick: Duration,
    pub schedule: Vec<Job>,
    pub alerts: Option<Alerts>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            url: None,
            tick: Duration::from_secs(10),
            schedule: Vec::new(),
            alerts: None,
        }
    }
}

/// A scan the server runs on an interval.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    /// Paths on the server's machine and `tls://` endpoints, as `trustmap scan` takes them.
    pub paths: Vec<String>,
    pub every: Duration,
    /// How long a run may hold its claim; a replica that dies mid-run is taken over after it.
    pub timeout: Duration,
    /// A policy file; none: the one discovered for the roots.
    pub policy: Option<PathBuf>,
    /// Gitignore-style globs not to walk.
    pub exclude: Vec<String>,
}

/// What is worth an alert and where it goes.
#[derive(Debug, Clone)]
pub struct Alerts {
    /// A new finding at or above this severity.
    pub severity: Severity,
    /// Certificate expiry windows in days, ascending; an alert when a certificate enters
    /// each (and when it has expired).
    pub expiry_days: Vec<u32>,
    pub events: Vec<Event>,
    pub webhooks: Vec<Webhook>,
    /// Delay before the first retry of a failed delivery (doubling after).
    pub retry: Duration,
    /// Deliveries tried at most this many times.
    pub max_attempts: u32,
}

/// Kinds of alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    /// A finding the scan raised that the previous scan of its roots did not.
    Finding,
    /// A certificate entering an expiry window.
    Expiry,
    /// A place now holds a different asset of the same kind.
    Rotation,
    /// An asset the previous scan saw and this one did not.
    Gone,
}

impl Event {
    pub const ALL: [Event; 4] = [Event::Finding, Event::Expiry, Event::Rotation, Event::Gone];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Finding => "finding",
            Event::Expiry => "expiry",
            Event::Rotation => "rotation",
            Event::Gone => "gone",
        }
    }
}

/// Body formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A Slack-compatible incoming-webhook message (`text`, Slack's escaping).
    Slack,
    /// The alert as JSON (`event`, `asset`, `owners`, `link`...; also a `text`).
    Json,
}

/// One webhook.
#[derive(Clone)]
pub struct Webhook {
    pub name: String,
    /// Never shown (see the module docs).
    pub url: String,
    pub format: Format,
    /// The owners whose alerts it gets; empty: a default route, for alerts no owner's
    /// webhook takes.
    pub owners: Vec<String>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("name", &self.name)
            .field("url", &"<hidden>")
            .field("format", &self.format)
            .field("owners", &self.owners)
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    schedule: Vec<RawJob>,
    alerts: Option<RawAlerts>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    url: Option<String>,
    tick: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJob {
    name: Spanned<String>,
    paths: Spanned<Vec<String>>,
    every: Spanned<String>,
    timeout: Option<Spanned<String>>,
    policy: Option<PathBuf>,
    #[serde(default)]
    exclude: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlerts {
    severity: Option<Spanned<String>>,
    expiry_days: Option<Spanned<Vec<u32>>>,
    events: Option<Vec<Event>>,
    #[serde(default)]
    webhook: Vec<RawWebhook>,
    retry: Option<Spanned<String>>,
    max_attempts: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    name: Spanned<String>,
    url: Option<Spanned<String>>,
    url_env: Option<Spanned<String>>,
    format: Option<Format>,
    #[serde(default)]
    owners: Vec<String>,
}

/// Reads and checks the configuration file; errors name the file, the line and the field.
pub fn load(path: &Path) -> Result<ServerConfig, String> {
    use std::io::Read;
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("{shown}: {e}"))?;
    let mut text = String::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("{shown}: {e}"))?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(format!("{shown}: larger than {MAX_CONFIG_BYTES} bytes"));
    }
    parse(&text, &|name| std::env::var(name).ok()).map_err(|e| format!("{shown}:{e}"))
}

/// [`load`] of text already read; `env` looks up `url_env`. Errors start with the line:
/// `12: schedule[1].every: ...`.
pub fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<ServerConfig, String> {
    // The line of a byte offset: every error names where its value is written.
    let line = |at: usize| {
        let before = &text.as_bytes()[..at.min(text.len())];
        before.iter().filter(|b| **b == b'\n').count() + 1
    };
    let raw: Raw = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        format!("{}: {}", line(at), e.message().trim())
    })?;
    let at = |span: std::ops::Range<usize>, field: &str, e: String| {
        format!("{}: {field}: {e}", line(span.start))
    };
    // A count over the limit: the first table of its kind.
    let first = |header: &str| text.find(header).map_or(1, line);
    let mut cfg = ServerConfig {
        url: raw.server.url.map(|u| u.trim_end_matches('/').to_string()),
        ..Default::default()
    };
    if let Some(t) = &raw.server.tick {
        cfg.tick = duration(t.get_ref()).map_err(|e| at(t.span(), "server.tick", e))?;
    }
    if raw.schedule.len() > MAX_JOBS {
        return Err(format!(
            "{}: schedule: {} jobs; at most {MAX_JOBS}",
            first("[[schedule]]"),
            raw.schedule.len()
        ));
    }
    let mut names = std::collections::HashSet::new();
    for (i, j) in raw.schedule.into_iter().enumerate() {
        let field = |f: &str| format!("schedule[{i}].{f}");
        let name = j.name.get_ref();
        if name.trim().is_empty() || name.len() > 128 {
            return Err(at(
                j.name.span(),
                &field("name"),
                "1 to 128 characters".into(),
            ));
        }
        if !names.insert(name.clone()) {
            return Err(at(
                j.name.span(),
                &field("name"),
                format!("{name:?} is used twice"),
            ));
        }
        if j.paths.get_ref().is_empty() {
            return Err(at(
                j.paths.span(),
                &field("paths"),
                "nothing to scan".into(),
            ));
        }
        for p in j.paths.get_ref() {
            if trustmap_discover::tls::is_url(p) {
                trustmap_discover::tls::parse_url(p)
                    .map_err(|e| at(j.paths.span(), &field("paths"), e))?;
            }
        }
        let every =
            duration(j.every.get_ref()).map_err(|e| at(j.every.span(), &field("every"), e))?;
        let timeout = match &j.timeout {
            Some(t) => duration(t.get_ref()).map_err(|e| at(t.span(), &field("timeout"), e))?,
            None => every.max(Duration::from_secs(3600)),
        };
        cfg.schedule.push(Job {
            name: j.name.into_inner(),
            paths: j.paths.into_inner(),
            every,
            timeout,
            policy: j.policy,
            exclude: j.exclude,
        });
    }
    if let Some(a) = raw.alerts {
        let severity = match &a.severity {
            Some(s) => Severity::parse(s.get_ref()).ok_or_else(|| {
                at(
                    s.span(),
                    "alerts.severity",
                    format!(
                        "{:?} is not one of info, low, medium, high, critical",
                        s.get_ref()
                    ),
                )
            })?,
            None => Severity::High,
        };
        let mut expiry_days = match &a.expiry_days {
            Some(d) => {
                if d.get_ref().len() > 16 || d.get_ref().iter().any(|d| *d > 3650) {
                    return Err(at(
                        d.span(),
                        "alerts.expiry_days",
                        "at most 16 windows of at most 3650 days".into(),
                    ));
                }
                d.get_ref().clone()
            }
            None => vec![30, 7],
        };
        expiry_days.sort_unstable();
        expiry_days.dedup();
        let mut events = a.events.unwrap_or_else(|| Event::ALL.to_vec());
        events.sort_unstable();
        events.dedup();
        if a.webhook.len() > MAX_WEBHOOKS {
            return Err(format!(
                "{}: alerts.webhook: {} webhooks; at most {MAX_WEBHOOKS}",
                first("[[alerts.webhook]]"),
                a.webhook.len()
            ));
        }
        let mut webhooks = Vec::new();
        let mut hook_names = std::collections::HashSet::new();
        for (i, w) in a.webhook.into_iter().enumerate() {
            let field = |f: &str| format!("alerts.webhook[{i}].{f}");
            let name = w.name.get_ref();
            if name.trim().is_empty() || name.len() > 128 {
                return Err(at(
                    w.name.span(),
                    &field("name"),
                    "1 to 128 characters".into(),
                ));
            }
            if !hook_names.insert(name.clone()) {
                return Err(at(
                    w.name.span(),
                    &field("name"),
                    format!("{name:?} is used twice"),
                ));
            }
            let url = match (&w.url, &w.url_env) {
                (Some(u), None) => {
                    // The URL itself is not shown: it may be a credential.
                    if !(u.get_ref().starts_with("http://") || u.get_ref().starts_with("https://"))
                    {
                        return Err(at(
                            u.span(),
                            &field("url"),
                            "must be an http:// or https:// URL".into(),
                        ));
                    }
                    u.get_ref().clone()
                }
                (None, Some(var)) => {
                    let v = env(var.get_ref())
                        .filter(|u| !u.is_empty())
                        .ok_or_else(|| {
                            at(
                                var.span(),
                                &field("url_env"),
                                format!("the environment variable {} is not set", var.get_ref()),
                            )
                        })?;
                    if !(v.starts_with("http://") || v.starts_with("https://")) {
                        return Err(at(
                            var.span(),
                            &field("url_env"),
                            format!("{} must hold an http:// or https:// URL", var.get_ref()),
                        ));
                    }
                    v
                }
                _ => {
                    return Err(at(
                        w.name.span(),
                        &field("url"),
                        "give url or url_env, one of them".into(),
                    ));
                }
            };
            webhooks.push(Webhook {
                name: w.name.into_inner(),
                url,
                format: w.format.unwrap_or(Format::Json),
                owners: w.owners,
            });
        }
        let retry = match &a.retry {
            Some(r) => duration(r.get_ref()).map_err(|e| at(r.span(), "alerts.retry", e))?,
            None => Duration::from_secs(30),
        };
        let max_attempts = match &a.max_attempts {
            Some(m) if !(1..=100).contains(m.get_ref()) => {
                return Err(at(m.span(), "alerts.max_attempts", "1 to 100".into()));
            }
            Some(m) => *m.get_ref(),
            None => 8,
        };
        cfg.alerts = Some(Alerts {
            severity,
            expiry_days,
            events,
            webhooks,
            retry,
            max_attempts,
        });
    }
    Ok(cfg)
}

/// `90s`, `15m`, `1h`, `1d`: a whole number and a unit, from 1 second to 366 days.
pub fn duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{s:?}: a whole number and a unit (90s, 15m, 1h, 1d)"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(format!("{s:?}: the unit is s, m, h or d")),
    };
    if !(1..=366 * 86_400).contains(&secs) {
        return Err(format!("{s:?}: from 1s to 366d"));
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "HOOK").then(|| "https://hooks.example/T000/SECRET".to_string())
    }

    #[test]
    fn a_configuration_past_its_bounds_is_refused() {
        let dir = std::env::temp_dir().join(format!("tm-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big.toml");
        std::fs::write(
            &big,
            format!("# {}\n", "x".repeat(MAX_CONFIG_BYTES as usize)),
        )
        .unwrap();
        assert!(
            load(&big)
                .unwrap_err()
                .ends_with(&format!("larger than {MAX_CONFIG_BYTES} bytes"))
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let mut hooks = String::from("[alerts]\n");
        for i in 0..=MAX_WEBHOOKS {
            hooks.push_str(&format!(
                "[[alerts.webhook]]\nname = \"h{i}\"\nurl = \"http://127.0.0.1:9/\"\n"
            ));
        }
        let e = parse(&hooks, &env).unwrap_err();
        assert!(
            e.starts_with("2: alerts.webhook: 257 webhooks; at most 256"),
            "{e}"
        );
        let windows =
            "[alerts]\nexpiry_days = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]\n";
        assert!(
            parse(windows, &env)
                .unwrap_err()
                .starts_with("2: alerts.expiry_days: at most 16")
        );
    }

    #[test]
    fn a_full_configuration_parses() {
        let c = parse(
            r#"
[server]
url = "https://tm.example/"
tick = "5s"

[[schedule]]
name = "edge"
paths = ["/etc/ssl", "tls://127.0.0.1:8443"]
every = "15m"

[alerts]
severity = "medium"
expiry_days = [7, 30, 7]
events = ["expiry", "finding"]

[[alerts.webhook]]
name = "payments"
url_env = "HOOK"
format = "slack"
owners = ["payments"]

[[alerts.webhook]]
name = "all"
url = "http://127.0.0.1:9/hook"
"#,
            &env,
        )
        .unwrap();
        assert_eq!(c.url.as_deref(), Some("https://tm.example"));
        assert_eq!(c.tick, Duration::from_secs(5));
        assert_eq!(c.schedule[0].every, Duration::from_secs(900));
        assert_eq!(c.schedule[0].timeout, Duration::from_secs(3600));
        let a = c.alerts.unwrap();
        assert_eq!(a.severity, Severity::Medium);
        assert_eq!(a.expiry_days, vec![7, 30]);
        assert_eq!(a.events, vec![Event::Finding, Event::Expiry]);
        assert_eq!(a.webhooks[0].url, "https://hooks.example/T000/SECRET");
        assert_eq!(
            (a.webhooks[1].format, a.webhooks[1].owners.len()),
            (Format::Json, 0)
        );
        assert!(!format!("{:?}", a.webhooks).contains("SECRET"));
    }

    #[test]
    fn mistakes_are_named_by_line_and_field_without_showing_a_url() {
        let cases = [
            (
                "[[schedule]]\nname = \"a\"\npaths = [\"/x\"]\nevery = \"5 minutes\"\n",
                "4: schedule[0].every",
            ),
            (
                "[[schedule]]\nname = \"a\"\npaths = [\"/x\"]\nevery = \"0s\"\n",
                "4: schedule[0].every: \"0s\": from 1s",
            ),
            (
                "[[schedule]]\nname = \"a\"\npaths = [\"/x\"]\nevry = \"1h\"\n",
                "4: unknown field `evry`",
            ),
            (
                "[[schedule]]\nname = \"a\"\npaths = []\nevery = \"1h\"\n",
                "3: schedule[0].paths: nothing to scan",
            ),
            (
                "[[schedule]]\nname = \"a\"\npaths = [\"tls://\"]\nevery = \"1h\"\n",
                "3: schedule[0].paths",
            ),
            (
                "[alerts]\nseverity = \"urgent\"\n",
                "2: alerts.severity: \"urgent\"",
            ),
            (
                "[alerts]\n[[alerts.webhook]]\nname = \"x\"\nurl = \"ftp://secret-host/T1\"\n",
                "4: alerts.webhook[0].url: must be",
            ),
            (
                "[alerts]\n[[alerts.webhook]]\nname = \"x\"\nurl_env = \"NOPE\"\n",
                "4: alerts.webhook[0].url_env: the environment variable NOPE",
            ),
        ];
        for (text, want) in cases {
            let e = parse(text, &env).unwrap_err();
            assert!(e.starts_with(want), "{text:?}: {e}");
            assert!(!e.contains("secret-host"), "{e}");
        }
        // The line is where the value is written, in whichever job.
        let two = "[[schedule]]\nname = \"a\"\npaths = [\"/x\"]\nevery = \"1h\"\n\n[[schedule]]\nname = \"b\"\npaths = [\"/y\"]\nevery = \"soon\"\n";
        assert!(
            parse(two, &env)
                .unwrap_err()
                .starts_with("9: schedule[1].every: \"soon\""),
            "{}",
            parse(two, &env).unwrap_err()
        );
        let many = "[[schedule]]\nname = \"a\"\npaths = [\"/x\"]\nevery = \"1h\"\n".repeat(2);
        assert!(
            parse(&many, &env)
                .unwrap_err()
                .contains("\"a\" is used twice")
        );
        let mut over = String::new();
        for i in 0..=MAX_JOBS {
            over.push_str(&format!(
                "[[schedule]]\nname = \"j{i}\"\npaths = [\"/x\"]\nevery = \"1h\"\n"
            ));
        }
        assert!(
            parse(&over, &env)
                .unwrap_err()
                .contains(&format!("{} jobs; at most {MAX_JOBS}", MAX_JOBS + 1))
        );
    }
}
