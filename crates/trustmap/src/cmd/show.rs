//! `trustmap show ID`: everything known about one asset.

use crate::db::DbArg;
use crate::table::{TableFormat, out};
use anyhow::Result;

#[derive(clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    db: DbArg,
    /// Asset id, e.g. crt_0123456789abcdef.
    id: String,
    #[arg(long, short, value_enum, default_value_t = TableFormat::Table)]
    format: TableFormat,
}

pub fn show(a: ShowArgs) -> Result<i32> {
    let store = a.db.open()?;
    let d = store.show(&a.id)?;
    if a.format == TableFormat::Json {
        out(&(serde_json::to_string_pretty(&d)? + "\n"))?;
        return Ok(0);
    }
    let r = &d.row;
    let safe = |t: &str| crate::table::terminal_safe(t).into_owned();
    let mut s = format!("{}  {}  {}\n", r.id, r.kind, safe(&r.label));
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
                    s.push_str(&format!("    {k:<24} {}\n", safe(&text)));
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
        let place = safe(&place);
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
            safe(&x.label.clone().unwrap_or_default())
        ));
    }
    for x in &d.relations_in {
        s.push_str(&format!(
            "  {} {} {} (this asset)\n",
            x.asset,
            safe(&x.label.clone().unwrap_or_default()),
            x.kind
        ));
    }
    if d.row.kind != "consumer" {
        s.push_str("\nused by\n");
        let users: Vec<_> = d
            .relations_in
            .iter()
            .filter(|x| x.kind == "uses" || x.kind == "serves")
            .collect();
        if users.is_empty() {
            s.push_str(
                "  no consumer or endpoint known (none of the scanned configurations names it)\n",
            );
        }
        for x in users {
            s.push_str(&format!(
                "  {} {} ({})\n",
                x.asset,
                safe(&x.label.clone().unwrap_or_default()),
                x.kind
            ));
        }
    }
    s.push_str("\nowners\n");
    if d.owners.is_empty() {
        s.push_str("  none\n");
    }
    for o in &d.owners {
        s.push_str(&format!(
            "  {:<7} {}  from {}{}\n",
            o.role,
            safe(&o.name),
            safe(&o.source),
            if o.effective { "" } else { "  (overridden)" }
        ));
    }
    s.push_str(&format!("\nhistory: seen in {} scan(s)\n", d.scans.len()));
    for (id, at) in &d.scans {
        s.push_str(&format!("  {at}  {id}\n"));
    }
    // Labels, facts, paths and owners come from scanned files: escape control characters
    // per value (a line break inside one), then whatever else made it into the text.
    out(&crate::table::terminal_safe_lines(&s))?;
    Ok(0)
}
