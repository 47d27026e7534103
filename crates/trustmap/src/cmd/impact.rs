//! `trustmap impact ID`: everything that breaks if an asset expires, is revoked or is
//! compromised (the store's walk of the relations), with the owners to notify.

use crate::db::DbArg;
use crate::table::{out, table, terminal_safe};
use anyhow::Result;
use clap::ValueEnum;
use trustmap_store::Impact;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImpactFormat {
    Table,
    Json,
    /// Graphviz: `trustmap impact ID -f dot | dot -Tsvg > impact.svg`.
    Dot,
    /// A Mermaid flowchart (renders in GitHub Markdown).
    Mermaid,
}

#[derive(clap::Args)]
pub struct ImpactArgs {
    #[command(flatten)]
    db: DbArg,
    /// Asset id (`trustmap assets`).
    id: String,
    /// List at most N assets, nearest first (the counts and owners cover all of them).
    #[arg(long, value_name = "N", default_value_t = 200,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    limit: usize,
    /// Also walk assets the latest scans no longer see.
    #[arg(long)]
    include_gone: bool,
    #[arg(long, short, value_enum, default_value_t = ImpactFormat::Table)]
    format: ImpactFormat,
}

pub fn impact(a: ImpactArgs) -> Result<i32> {
    let store = a.db.open()?;
    let i = store.impact(&a.id, a.limit, a.include_gone)?;
    let text = match a.format {
        ImpactFormat::Json => serde_json::to_string_pretty(&i)? + "\n",
        ImpactFormat::Table => render_table(&i),
        ImpactFormat::Dot => dot(&i),
        ImpactFormat::Mermaid => mermaid(&i),
    };
    out(&text)?;
    Ok(0)
}

fn render_table(i: &Impact) -> String {
    let mut s = format!(
        "If {} ({} {}) fails, {} break{}",
        i.id,
        i.kind,
        terminal_safe(&i.label),
        plural(i.total, "asset", "assets"),
        if i.total == 1 { "s" } else { "" }
    );
    if !i.by_kind.is_empty() {
        let kinds: Vec<String> = i.by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
        s.push_str(&format!(": {}", kinds.join(", ")));
    }
    s.push('\n');
    if i.cut_short {
        s.push_str("(the walk was cut short at its bound: there may be more)\n");
    }
    if !i.owners.is_empty() {
        let owners: Vec<String> = i
            .owners
            .iter()
            .map(|(o, n)| format!("{} ({n})", terminal_safe(o)))
            .collect();
        s.push_str(&format!("owners to notify: {}\n", owners.join(", ")));
    }
    if i.nodes.is_empty() {
        s.push_str("nothing known depends on it (no certificate it issued, keystore, consumer or endpoint)\n");
        return s;
    }
    s.push('\n');
    let rows: Vec<Vec<String>> = i
        .nodes
        .iter()
        .map(|n| {
            vec![
                n.depth.to_string(),
                n.kind.clone(),
                n.id.clone(),
                terminal_safe(&n.label).into_owned(),
                format!("{} {}", n.relation, n.via),
                terminal_safe(n.owner.as_deref().unwrap_or("unowned")).into_owned(),
            ]
        })
        .collect();
    s.push_str(&table(
        &["DEPTH", "KIND", "ID", "LABEL", "VIA", "OWNER"],
        &rows,
    ));
    if i.nodes.len() < i.total {
        s.push_str(&format!(
            "... and {} more (--limit N, or --format json)\n",
            i.total - i.nodes.len()
        ));
    }
    s
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A label safe inside a double-quoted DOT or Mermaid string.
fn quoted(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' => "'".to_string(),
            '\\' => "/".to_string(),
            '<' | '>' | '{' | '}' | '|' | '[' | ']' | '`' => " ".to_string(),
            c if c.is_control() => " ".to_string(),
            c => c.to_string(),
        })
        .collect()
}

fn dot(i: &Impact) -> String {
    let mut s = String::from("digraph impact {\n  rankdir=LR;\n");
    s.push_str(&format!(
        "  \"{}\" [label=\"{}\\n{}\", style=bold];\n",
        i.id,
        i.kind,
        quoted(&i.label)
    ));
    for n in &i.nodes {
        s.push_str(&format!(
            "  \"{}\" [label=\"{}\\n{}\"];\n  \"{}\" -> \"{}\" [label=\"{}\"];\n",
            n.id,
            n.kind,
            quoted(&n.label),
            n.via,
            n.id,
            n.relation
        ));
    }
    s.push_str("}\n");
    s
}

fn mermaid(i: &Impact) -> String {
    let mut s = String::from("flowchart LR\n");
    s.push_str(&format!(
        "  {}[\"{}: {}\"]\n",
        i.id,
        i.kind,
        quoted(&i.label)
    ));
    for n in &i.nodes {
        s.push_str(&format!(
            "  {}[\"{}: {}\"]\n",
            n.id,
            n.kind,
            quoted(&n.label)
        ));
        s.push_str(&format!("  {} -->|{}| {}\n", n.via, n.relation, n.id));
    }
    s
}
