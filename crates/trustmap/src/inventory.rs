//! The inventory subcommands: recording scans, `scans`, `diff`, `assets`, `show`, `owner`
//! and `audit`. Argument parsing and printing only; the work is in `trustmap-store`.

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use trustmap_core::{AssetKind, Report, rfc3339};
use trustmap_store::{AssetQuery, OwnerTarget, ScanMeta, ScanRoot, Store};

/// Where the inventory lives.
#[derive(clap::Args, Clone, Debug)]
pub struct DbArg {
    /// Inventory database: a SQLite file path, or a postgres:// URL
    /// [default: $XDG_DATA_HOME/trustmap/inventory.db, i.e. ~/.local/share/trustmap/inventory.db]
    #[arg(long, env = "TRUSTMAP_DB", value_name = "PATH|URL")]
    pub db: Option<String>,
}

impl DbArg {
    pub fn target(&self) -> Result<String> {
        if let Some(t) = &self.db {
            return Ok(t.clone());
        }
        let dir = dirs::data_dir()
            .context("no data directory (set XDG_DATA_HOME or HOME, or pass --db)")?;
        Ok(dir
            .join("trustmap")
            .join("inventory.db")
            .to_string_lossy()
            .into_owned())
    }

    pub fn open(&self) -> Result<Store> {
        let target = self.target()?;
        Store::open(&target).with_context(|| format!("opening inventory {}", redact_url(&target)))
    }
}

/// When each asset already in the inventory was first seen: the key age behind
/// `key-rotation-overdue`. Empty when there is no readable inventory yet (a first scan has no
/// history; recording reports real database errors).
pub fn first_seen(
    db: &DbArg,
    ids: &[String],
) -> std::collections::HashMap<String, time::OffsetDateTime> {
    let Ok(store) = db.open() else {
        return Default::default();
    };
    let Ok(rows) = store.first_seen(ids) else {
        return Default::default();
    };
    rows.into_iter()
        .filter_map(|(id, at)| {
            let t =
                time::OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339)
                    .ok()?;
            Some((id, t))
        })
        .collect()
}

/// The scanned roots: as given (the form of the report's `scan.roots`) and made absolute.
fn scan_roots(roots: &[PathBuf]) -> Vec<ScanRoot> {
    roots
        .iter()
        .map(|p| ScanRoot {
            given: p.to_string_lossy().replace('\\', "/"),
            canonical: std::fs::canonicalize(p)
                .unwrap_or_else(|_| p.clone())
                .to_string_lossy()
                .replace('\\', "/"),
        })
        .collect()
}

/// Hides a password in a database URL for messages.
fn redact_url(target: &str) -> String {
    if !trustmap_store::is_postgres_url(target) {
        return target.to_string();
    }
    match (target.find("://"), target.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &target[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &target[..s + 3], &creds[..c], &target[at..]),
                None => target.to_string(),
            }
        }
        _ => target.to_string(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
    Csv,
}

#[derive(clap::Args)]
pub struct ScansArgs {
    #[command(flatten)]
    db: DbArg,
    #[arg(long, short, value_enum, default_value_t = TableFormat::Table)]
    format: TableFormat,
}

#[derive(clap::Args)]
pub struct DiffArgs {
    #[command(flatten)]
    db: DbArg,
    /// Older scan id (default: the scan before --to over the same roots).
    #[arg(long, value_name = "SCAN")]
    from: Option<String>,
    /// Newer scan id (default: the latest scan).
    #[arg(long, value_name = "SCAN")]
    to: Option<String>,
    /// Compare the latest two scans of these roots (as given to `scan`).
    #[arg(long, value_name = "PATH", num_args = 1.., conflicts_with_all = ["from", "to"])]
    roots: Vec<PathBuf>,
    #[arg(long, short, value_enum, default_value_t = TableFormat::Table)]
    format: TableFormat,
}

#[derive(clap::Args)]
pub struct AssetsArgs {
    #[command(flatten)]
    db: DbArg,
    /// certificate, private-key, public-key, keystore, secret or endpoint.
    #[arg(long, value_name = "KIND")]
    kind: Option<String>,
    /// Certificates that expire within this window: 30d, 12h, 2w.
    #[arg(long, value_name = "WINDOW")]
    expiring: Option<String>,
    /// Certificates that have expired.
    #[arg(long)]
    expired: bool,
    /// Owned by this team (explicit owner, else inferred).
    #[arg(long, value_name = "TEAM")]
    owner: Option<String>,
    /// No owner at all.
    #[arg(long, conflicts_with = "owner")]
    unowned: bool,
    /// Issuer contains this text (case-insensitive).
    #[arg(long, value_name = "TEXT")]
    issuer: Option<String>,
    /// Key algorithm: RSA, EC, Ed25519, ...
    #[arg(long, value_name = "ALG")]
    algorithm: Option<String>,
    /// Seen at a path matching this glob (`*` matches across `/`).
    #[arg(long, value_name = "GLOB")]
    path: Option<String>,
    /// Classical public-key algorithms (RSA, EC, DSA, Ed25519, ...) that a quantum computer breaks.
    #[arg(long)]
    quantum_vulnerable: bool,
    /// Also list assets the latest scan of their roots no longer saw (gone or rotated away).
    #[arg(long)]
    include_gone: bool,
    /// At most N assets (by kind, oldest first): a first page of a large inventory.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Print only how many assets match.
    #[arg(long, conflicts_with = "limit")]
    count: bool,
    #[arg(long, short, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
}

#[derive(clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    db: DbArg,
    /// Asset id, e.g. crt_0123456789abcdef.
    id: String,
    #[arg(long, short, value_enum, default_value_t = TableFormat::Table)]
    format: TableFormat,
}

#[derive(Subcommand)]
pub enum OwnerCommand {
    /// Set the explicit owner (and backup owner) of an asset or of every asset under a path.
    Set(OwnerSetArgs),
}

#[derive(clap::Args)]
pub struct OwnerSetArgs {
    #[command(flatten)]
    db: DbArg,
    /// Asset id.
    #[arg(required_unless_present = "path", conflicts_with = "path")]
    asset: Option<String>,
    /// Every asset seen at a path matching this glob.
    #[arg(long, value_name = "GLOB")]
    path: Option<String>,
    /// Owning team.
    #[arg(long, value_name = "TEAM", required_unless_present = "backup")]
    owner: Option<String>,
    /// Backup owning team.
    #[arg(long, value_name = "TEAM")]
    backup: Option<String>,
}

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

/// Records a finished scan. `roots` are the paths as given on the command line.
pub fn record(db: &DbArg, report: &Report, roots: &[PathBuf], quiet: bool) -> Result<()> {
    let target = db.target()?;
    let store = db.open()?;
    let meta = ScanMeta {
        host: hostname(),
        roots: scan_roots(roots),
        finished_at: rfc3339(time::OffsetDateTime::now_utc()),
    };
    let pending = store
        .begin_scan(report, &meta)
        .with_context(|| format!("recording the scan in {}", redact_url(&target)))?;
    // Test hook: die with the transaction open, as a killed scan would.
    if std::env::var_os("TRUSTMAP_TEST_ABORT_BEFORE_COMMIT").is_some() {
        std::process::abort();
    }
    let rec = pending
        .commit()
        .with_context(|| format!("committing the scan to {}", redact_url(&target)))?;
    if !quiet {
        let mut msg = format!(
            "recorded {} in {}: {} first seen",
            rec.id,
            redact_url(&target),
            rec.first_seen.len()
        );
        if let Some(d) = &rec.diff {
            msg.push_str(&format!(
                "; since {}: {} new, {} gone, {} rotated, {} moved",
                d.from_scan,
                d.new.len(),
                d.gone.len(),
                d.rotated.len(),
                d.moved.len()
            ));
        }
        eprintln!("{msg}");
    }
    Ok(())
}

pub(crate) fn hostname() -> String {
    for f in ["/proc/sys/kernel/hostname", "/etc/hostname"] {
        if let Ok(s) = std::fs::read_to_string(f) {
            let s = s.trim();
            if !s.is_empty() {
                return s.to_string();
            }
        }
    }
    std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

pub(crate) fn out(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// Left-aligned columns separated by two spaces.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut s = String::new();
    let line = |cells: Vec<String>, s: &mut String| {
        let n = cells.len();
        for (i, c) in cells.into_iter().enumerate() {
            s.push_str(&c);
            if i + 1 < n {
                s.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        s.push('\n');
    };
    line(header.iter().map(|h| h.to_string()).collect(), &mut s);
    for r in rows {
        line(r.clone(), &mut s);
    }
    s
}

pub fn scans(a: ScansArgs) -> Result<i32> {
    let store = a.db.open()?;
    let scans = store.scans()?;
    match a.format {
        TableFormat::Json => out(&(serde_json::to_string_pretty(&scans)? + "\n"))?,
        TableFormat::Table => {
            let rows: Vec<Vec<String>> = scans
                .iter()
                .map(|s| {
                    let c = &s.counts;
                    let counts = AssetKind::ALL
                        .iter()
                        .filter_map(|k| c[k.as_str()].as_u64().map(|n| format!("{n} {k}")))
                        .collect::<Vec<_>>()
                        .join(", ");
                    vec![
                        s.id.clone(),
                        s.started_at.clone(),
                        s.roots.join(" "),
                        s.host.clone(),
                        format!("{} assets", c["assets"].as_u64().unwrap_or(0)),
                        counts,
                    ]
                })
                .collect();
            out(&table(
                &["SCAN", "STARTED", "ROOTS", "HOST", "ASSETS", "BY KIND"],
                &rows,
            ))?;
        }
    }
    Ok(0)
}

pub fn diff(a: DiffArgs) -> Result<i32> {
    let store = a.db.open()?;
    let (from, to) = match (a.from, a.to) {
        (Some(f), Some(t)) => (f, t),
        (None, Some(t)) => match store.previous_scan(&t)? {
            Some(f) => (f, t),
            None => bail!("scan {t} is the first scan of its roots; pass --from"),
        },
        (None, None) if !a.roots.is_empty() => {
            let roots: Vec<String> = scan_roots(&a.roots)
                .into_iter()
                .map(|r| r.canonical)
                .collect();
            match store.last_two_scans_of(&hostname(), &roots)? {
                Some(pair) => pair,
                None => bail!(
                    "fewer than two scans of {} (see `trustmap scans`)",
                    roots.join(" ")
                ),
            }
        }
        (None, None) => match store.last_two_scans()? {
            Some(pair) => pair,
            None => bail!(
                "need two scans of the same roots to compare (see `trustmap scans`), or pass --from and --to"
            ),
        },
        (Some(_), None) => bail!("--from needs --to"),
    };
    let d = store.diff(&from, &to)?;
    match a.format {
        TableFormat::Json => out(&(serde_json::to_string_pretty(&d)? + "\n"))?,
        TableFormat::Table => {
            let mut s = format!(
                "{} -> {}: {} new, {} gone, {} rotated, {} moved\n",
                d.from_scan,
                d.to_scan,
                d.new.len(),
                d.gone.len(),
                d.rotated.len(),
                d.moved.len()
            );
            for id in &d.new {
                s.push_str(&format!("  new      {id}\n"));
            }
            for id in &d.gone {
                s.push_str(&format!("  gone     {id}\n"));
            }
            for r in &d.rotated {
                let place = if r.container.is_empty() {
                    r.place().to_string()
                } else {
                    format!("{} ({})", r.place(), r.container)
                };
                s.push_str(&format!(
                    "  rotated  {place}: {} replaced by {}\n",
                    r.from, r.to
                ));
            }
            for m in &d.moved {
                s.push_str(&format!(
                    "  moved    {}: {} -> {}\n",
                    m.id,
                    places(&m.from),
                    places(&m.to)
                ));
            }
            out(&s)?;
        }
    }
    Ok(0)
}

/// Places as `host:path, host:path`.
fn places(p: &[trustmap_store::PlaceRef]) -> String {
    p.iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `30d`, `12h`, `2w`, or a plain number of days.
fn parse_window(s: &str) -> Result<time::Duration> {
    let s = s.trim();
    let (num, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&s[..i], &s[i..]),
        None => (s, "d"),
    };
    let n: i64 = num
        .parse()
        .with_context(|| format!("bad window {s:?}: use e.g. 30d, 12h, 2w"))?;
    Ok(match unit {
        "d" => time::Duration::days(n),
        "h" => time::Duration::hours(n),
        "w" => time::Duration::weeks(n),
        _ => bail!("bad window {s:?}: use e.g. 30d, 12h, 2w"),
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn assets(a: AssetsArgs) -> Result<i32> {
    if let Some(k) = &a.kind
        && AssetKind::parse(k).is_none()
    {
        bail!(
            "unknown kind {k:?}: use {}",
            AssetKind::ALL.map(|k| k.as_str()).join(", ")
        );
    }
    let now = time::OffsetDateTime::now_utc();
    let q = AssetQuery {
        kind: a.kind.clone(),
        expiring_before: a
            .expiring
            .as_deref()
            .map(parse_window)
            .transpose()?
            .map(|w| rfc3339(now + w)),
        expired: a.expired,
        now: rfc3339(now),
        owner: a.owner.clone(),
        unowned: a.unowned,
        issuer: a.issuer.clone(),
        algorithm: a.algorithm.clone(),
        path_glob: a.path.clone(),
        host: None,
        quantum_vulnerable: a.quantum_vulnerable,
        include_gone: a.include_gone,
        limit: a.limit,
    };
    let store = a.db.open()?;
    if a.count {
        let n = store.count_assets(&q)?;
        match a.format {
            ListFormat::Json => out(&format!("{{\"count\": {n}}}\n"))?,
            _ => out(&format!("{n}\n"))?,
        }
        return Ok(0);
    }
    let rows = store.assets(&q)?;
    match a.format {
        ListFormat::Json => out(&(serde_json::to_string_pretty(&rows)? + "\n"))?,
        ListFormat::Csv => {
            let mut s = String::from(
                "id,kind,label,not_after,algorithm,issuer,owner,owner_source,backup,backup_source,paths,first_seen,last_seen,present\n",
            );
            for r in &rows {
                let cells = [
                    r.id.clone(),
                    r.kind.clone(),
                    r.label.clone(),
                    r.not_after.clone().unwrap_or_default(),
                    r.algorithm.clone().unwrap_or_default(),
                    r.issuer.clone().unwrap_or_default(),
                    r.owner.clone().unwrap_or_default(),
                    r.owner_source.clone().unwrap_or_default(),
                    r.backup.clone().unwrap_or_default(),
                    r.backup_source.clone().unwrap_or_default(),
                    r.paths.join(";"),
                    r.first_seen.clone(),
                    r.last_seen.clone(),
                    r.present.to_string(),
                ];
                s.push_str(
                    &cells
                        .iter()
                        .map(|c| csv_field(c))
                        .collect::<Vec<_>>()
                        .join(","),
                );
                s.push('\n');
            }
            out(&s)?;
        }
        ListFormat::Table => {
            let trows: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    let mut path = r.paths.first().cloned().unwrap_or_default();
                    if r.places.len() > 1 {
                        path.push_str(&format!(" (+{})", r.places.len() - 1));
                    }
                    vec![
                        r.id.clone(),
                        r.kind.clone(),
                        r.label.clone(),
                        r.not_after.clone().unwrap_or_else(|| "-".into()),
                        r.owner.clone().unwrap_or_else(|| "unowned".into()),
                        if r.present {
                            path
                        } else {
                            format!("{path} [gone]")
                        },
                    ]
                })
                .collect();
            out(&table(
                &["ID", "KIND", "LABEL", "NOT AFTER", "OWNER", "PATH"],
                &trows,
            ))?;
            if rows.is_empty() {
                eprintln!("no assets match");
            }
        }
    }
    Ok(0)
}

pub fn show(a: ShowArgs) -> Result<i32> {
    let store = a.db.open()?;
    let d = store.show(&a.id)?;
    if a.format == TableFormat::Json {
        out(&(serde_json::to_string_pretty(&d)? + "\n"))?;
        return Ok(0);
    }
    let r = &d.row;
    let mut s = format!("{}  {}  {}\n", r.id, r.kind, r.label);
    s.push_str(&format!("  fingerprint  {}\n", r.fingerprint));
    let who = |name: &Option<String>, src: &Option<String>| match (name, src) {
        (Some(n), Some(src)) => format!("{n} (from {src})"),
        _ => "none".to_string(),
    };
    s.push_str(&format!(
        "  owner        {}\n",
        who(&r.owner, &r.owner_source)
    ));
    s.push_str(&format!(
        "  backup       {}\n",
        who(&r.backup, &r.backup_source)
    ));
    s.push_str(&format!("  first seen   {}\n", r.first_seen));
    s.push_str(&format!(
        "  last seen    {}{}\n",
        r.last_seen,
        if r.present {
            ""
        } else {
            " (gone: the latest scan of its roots did not see it)"
        }
    ));
    s.push_str(&format!("  age since    {}\n", d.age_since));
    s.push_str("\nfacts\n");
    if let Some(obj) = d.facts.as_object() {
        for (section, v) in obj {
            s.push_str(&format!("  {section}\n"));
            if let Some(fields) = v.as_object() {
                for (k, v) in fields {
                    let text = match v {
                        serde_json::Value::String(t) => t.clone(),
                        other => other.to_string(),
                    };
                    s.push_str(&format!("    {k:<24} {text}\n"));
                }
            }
        }
    }
    s.push_str(&format!("\noccurrences ({})\n", d.occurrences.len()));
    for o in &d.occurrences {
        let mut place = if o.host.is_empty() {
            o.path.clone()
        } else {
            format!("{}:{}", o.host, o.path)
        };
        if let Some(l) = o.line {
            place.push_str(&format!(":{l}"));
        }
        if let Some(c) = &o.container {
            place.push_str(&format!(" ({c})"));
        }
        if !o.root.is_empty() {
            place.push_str(&format!(" under {}", o.root));
        }
        if !o.present {
            place.push_str(" [gone]");
        }
        s.push_str(&format!(
            "  {place}  first seen {}, last seen {} ({} scan{})\n",
            o.first_seen,
            o.last_seen,
            o.scans.len(),
            if o.scans.len() == 1 { "" } else { "s" }
        ));
    }
    s.push_str("\nrelations\n");
    if d.relations_out.is_empty() && d.relations_in.is_empty() {
        s.push_str("  none\n");
    }
    for x in &d.relations_out {
        s.push_str(&format!(
            "  {} {} {}\n",
            x.kind,
            x.asset,
            x.label.clone().unwrap_or_default()
        ));
    }
    for x in &d.relations_in {
        s.push_str(&format!(
            "  {} {} {} (this asset)\n",
            x.asset,
            x.label.clone().unwrap_or_default(),
            x.kind
        ));
    }
    s.push_str("\nowners\n");
    if d.owners.is_empty() {
        s.push_str("  none\n");
    }
    for o in &d.owners {
        s.push_str(&format!(
            "  {:<7} {}  from {}{}\n",
            o.role,
            o.name,
            o.source,
            if o.effective { "" } else { "  (overridden)" }
        ));
    }
    s.push_str(&format!("\nhistory: seen in {} scan(s)\n", d.scans.len()));
    for (id, at) in &d.scans {
        s.push_str(&format!("  {at}  {id}\n"));
    }
    out(&s)?;
    Ok(0)
}

pub fn owner(c: OwnerCommand) -> Result<i32> {
    match c {
        OwnerCommand::Set(a) => {
            let target = match (&a.asset, &a.path) {
                (Some(id), None) => OwnerTarget::Asset(id.clone()),
                (None, Some(g)) => OwnerTarget::PathGlob(g.clone()),
                _ => bail!("give an asset id or --path GLOB"),
            };
            let store = a.db.open()?;
            let changes = store.set_owner(&target, a.owner.as_deref(), a.backup.as_deref())?;
            if let OwnerTarget::PathGlob(g) = &target
                && changes.is_empty()
                && store
                    .assets(&AssetQuery {
                        path_glob: Some(g.clone()),
                        ..Default::default()
                    })?
                    .is_empty()
            {
                bail!("no asset is seen at a path matching {g:?}");
            }
            for ch in &changes {
                eprintln!(
                    "{}: {} {} -> {}",
                    ch.asset,
                    ch.role,
                    ch.from.as_deref().unwrap_or("none"),
                    ch.to
                );
            }
            if changes.is_empty() {
                eprintln!("no change");
            }
            Ok(0)
        }
    }
}

/// `2026-01-31` or RFC 3339, as the store's RFC 3339 UTC text.
fn parse_date(s: &str) -> Result<String> {
    let rfc = time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(s, &rfc) {
        return Ok(rfc3339(t));
    }
    let day = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s, &day)
        .with_context(|| format!("bad date {s:?}: use 2026-01-31 or 2026-01-31T12:00:00Z"))?;
    Ok(rfc3339(d.midnight().assume_utc()))
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
                    Some(seq) => {
                        println!("earlier head {head} is event {seq}: events 1-{seq} are unchanged")
                    }
                    None => {
                        println!(
                            "audit log BROKEN: no event has the earlier head hash {head}; events were removed from the end or the log was replaced ({} events now)",
                            v.events
                        );
                        return Ok(1);
                    }
                }
            }
            match &v.broken {
                None => {
                    println!(
                        "audit log intact: {} events, head {}",
                        v.events,
                        v.head.as_deref().unwrap_or("(empty)")
                    );
                    Ok(0)
                }
                Some(b) => {
                    println!(
                        "audit log BROKEN at event {} ({} {}): {}; {} events before it verify",
                        b.seq, b.kind, b.subject, b.reason, v.events
                    );
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
    fn windows_and_dates_parse() {
        assert_eq!(parse_window("30d").unwrap(), time::Duration::days(30));
        assert_eq!(parse_window("12h").unwrap(), time::Duration::hours(12));
        assert_eq!(parse_window("2w").unwrap(), time::Duration::days(14));
        assert_eq!(parse_window("7").unwrap(), time::Duration::days(7));
        assert!(parse_window("soon").is_err());
        assert_eq!(parse_date("2026-01-31").unwrap(), "2026-01-31T00:00:00Z");
        assert_eq!(
            parse_date("2026-01-31T12:00:00+02:00").unwrap(),
            "2026-01-31T10:00:00Z"
        );
    }

    #[test]
    fn passwords_are_hidden_in_urls() {
        assert_eq!(
            redact_url("postgres://u:secret@db/x"),
            "postgres://u:***@db/x"
        );
        assert_eq!(redact_url("/tmp/a.db"), "/tmp/a.db");
    }

    #[test]
    fn csv_quotes_when_needed() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
