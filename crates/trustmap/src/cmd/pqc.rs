//! `trustmap pqc`: post-quantum readiness, rendered. The tally and the migration plan are
//! data from `trustmap_engine::pqc`; this module prints them.

use crate::args::ScanInput;
use anyhow::Result;
use clap::ValueEnum;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use trustmap_core::Report;
use trustmap_engine::pqc::{DEPRECATED_AFTER, DISALLOWED_AFTER, owner, plan, tally, to_json};

/// Rows of the migration list shown in the table before "... and N more".
const SHOWN: usize = 25;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PqcFormat {
    Table,
    Json,
}

#[derive(clap::Args)]
pub struct PqcArgs {
    #[command(flatten)]
    pub input: ScanInput,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = PqcFormat::Table)]
    pub format: PqcFormat,
}

/// The one-line summary for `trustmap scan`, when there are certificates or keys.
pub fn summary_line(r: &Report) -> Option<String> {
    let t = tally(r);
    (t.all.total > 0).then(|| {
        format!(
            "{} of {} certificates and keys quantum-vulnerable{}; IR 8547 (draft): deprecated after {DEPRECATED_AFTER}, disallowed after {DISALLOWED_AFTER} — trustmap pqc for the plan",
            t.all.vulnerable,
            t.all.total,
            unknown_note(t.all.unknown)
        )
    })
}

/// ", N unknown" when some algorithms are unknown (encrypted keys nothing tells about).
fn unknown_note(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", {n} unknown")
    }
}

pub fn render(r: &Report, first_seen: &BTreeMap<String, String>) -> String {
    let t = tally(r);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Post-quantum readiness: {} of {} certificates and keys quantum-vulnerable ({:.0}%){}",
        t.all.vulnerable,
        t.all.total,
        t.all.percent(),
        if t.all.unknown == 0 {
            String::new()
        } else {
            format!(
                "; {} unknown (encrypted, nothing tells the algorithm: not counted as safe)",
                t.all.unknown
            )
        }
    );
    let _ = writeln!(
        s,
        "NIST IR 8547 (initial public draft): 112-bit strength deprecated after {DEPRECATED_AFTER} ({} here), all disallowed after {DISALLOWED_AFTER}",
        t.deprecated_2030
    );
    if t.all.total == 0 {
        return s;
    }
    let _ = writeln!(s, "\nBy kind");
    for (k, sh) in &t.by_kind {
        let _ = writeln!(
            s,
            "  {:<24} {:>5} of {:<5} {:>4.0}%{}",
            k.as_str(),
            sh.vulnerable,
            sh.total,
            sh.percent(),
            unknown_note(sh.unknown)
        );
    }
    let _ = writeln!(s, "\nBy owner");
    let mut owners: Vec<_> = t.by_owner.iter().collect();
    owners.sort_by(|a, b| b.1.vulnerable.cmp(&a.1.vulnerable).then(a.0.cmp(b.0)));
    for (o, sh) in owners {
        let _ = writeln!(
            s,
            "  {:<24} {:>5} of {:<5} {:>4.0}%{}",
            crate::table::terminal_safe(o),
            sh.vulnerable,
            sh.total,
            sh.percent(),
            unknown_note(sh.unknown)
        );
    }
    let plan = plan(r, first_seen);
    if plan.is_empty() {
        let _ = writeln!(s, "\nNothing to migrate.");
        return s;
    }
    let _ = writeln!(
        s,
        "\nMigrate first (CA keys and certificates, then the longest-lived)"
    );
    for (i, it) in plan.iter().take(SHOWN).enumerate() {
        let a = it.asset;
        let path = a.occurrences.first().map_or("", |o| o.path.as_str());
        let _ = writeln!(
            s,
            "  {:>3}. {}  {}  {}  [{}]",
            i + 1,
            a.id,
            crate::table::terminal_safe(&a.label()),
            crate::table::terminal_safe(path),
            crate::table::terminal_safe(&owner(a))
        );
        let _ = writeln!(s, "       {}", it.why);
    }
    if plan.len() > SHOWN {
        let _ = writeln!(
            s,
            "  ... and {} more (--format json for all)",
            plan.len() - SHOWN
        );
    }
    s
}

/// `trustmap pqc`. Key age comes from the inventory once the scan is recorded (empty with
/// `--no-store`: there is no history to read).
pub fn pqc(args: PqcArgs) -> Result<i32> {
    let outcome = crate::cmd::scan::run_and_record(&args.input)?;
    let (report, seen) = (&outcome.report, &outcome.first_seen);
    let text = match args.format {
        PqcFormat::Json => serde_json::to_string_pretty(&to_json(report, seen))? + "\n",
        PqcFormat::Table => crate::table::terminal_safe_lines(&render(report, seen)).into_owned(),
    };
    crate::table::out(&text)?;
    Ok(0)
}
