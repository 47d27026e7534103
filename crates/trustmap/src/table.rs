//! Output helpers: stdout, aligned tables, CSV fields.

use anyhow::{Context, Result};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once stdout's reader has gone (`| head`): later output is dropped.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout and flushes: every command's stdout goes through here. A reader
/// that closed the pipe (`trustmap scan --format json | head -c100`) ends the output
/// quietly: the rest is dropped and the command finishes as it would (a scan is still
/// recorded, its exit code unchanged).
pub fn out(text: &str) -> Result<()> {
    if CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        r => r.context("writing to stdout"),
    }
}

/// `eprintln!` that ignores a closed stderr: messages around a report are informational,
/// and `trustmap ... 2>&1 | head` closes the stream before they are written (`eprintln!`
/// would panic, exit 101).
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `println!` through [`out`]: `outln!("{x}")?`.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::table::out(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// Left-aligned columns separated by two spaces.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    // Cells hold text from scanned files: escaped before they are measured.
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| terminal_safe(c).into_owned()).collect())
        .collect();
    let rows = &rows;
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

/// One CSV field: quoted when it must be, control characters escaped, a leading `=`, `+`,
/// `-` or `@` neutralised (the export crate's cell, so every CSV trustmap writes is guarded
/// against formula injection).
pub fn csv_field(s: &str) -> String {
    trustmap_export::csv::cell(s)
}

/// `text` from a scanned file made safe for a terminal: every control character (C0, DEL,
/// C1, including line breaks) and every bidirectional override is written as an escape
/// (`\x1b`, `\n`, `\u{202e}`), so a subject or a path cannot move the cursor, recolour or
/// clear the screen, or fake a line of output. JSON keeps exact values (its own escaping
/// covers them); this is for human-readable output only.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    escape(text, false)
}

/// [`terminal_safe`] for a whole rendered text: its own line breaks are kept.
pub fn terminal_safe_lines(text: &str) -> std::borrow::Cow<'_, str> {
    escape(text, true)
}

fn escape(text: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && !(keep_newlines && c == '\n'))
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !unsafe_char(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    out.into()
}

/// `--format` of the inventory listings.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    Table,
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_for_terminals() {
        let subject = "CN=evil\x1b[2J\x1b]0;owned\x07\r\nfake line\u{202e}txt.exe\u{9b}";
        assert_eq!(
            terminal_safe(subject),
            "CN=evil\\x1b[2J\\x1b]0;owned\\x07\\r\\nfake line\\u{202e}txt.exe\\x9b"
        );
        assert_eq!(terminal_safe_lines("a\x1bb\nc"), "a\\x1bb\nc");
        assert!(matches!(
            terminal_safe("plain, ok"),
            std::borrow::Cow::Borrowed(_)
        ));
        let t = table(&["SUBJECT"], &[vec!["x\x1b[31my".into()]]);
        assert_eq!(t, "SUBJECT\nx\\x1b[31my\n");
    }

    #[test]
    fn csv_quotes_when_needed() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
