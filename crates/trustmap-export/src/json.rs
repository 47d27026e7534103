//! JSON text for the JSON formats (CycloneDX, SARIF): pretty-printed, and safe to embed.
//!
//! serde_json already escapes `"`, `\` and the C0 control characters inside strings. On top
//! of that, [`to_text`] writes `<`, `>` and `&` as `\u003c`, `\u003e`, `\u0026`, and DEL, the
//! C1 controls, the bidirectional overrides and isolates (Trojan Source) and U+2028/U+2029
//! as `\uXXXX`, so a subject like `<script>` or a right-to-left override taken from a scanned
//! file never appears raw in the document (a viewer that pastes the JSON into HTML or a
//! terminal cannot be tricked by it). The parsed values are unchanged: this is JSON escaping,
//! not rewriting. None of these characters can occur outside a string in JSON, so replacing
//! them everywhere in the text only touches string contents.

use serde::Serialize;
use std::fmt::Write as _;

/// Whether `c` is written as a `\uXXXX` escape by [`to_text`].
pub(crate) fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '<' | '>'
            | '&'
            | '\u{7f}'..='\u{9f}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// `value` as pretty-printed JSON with a final newline, with the escapes described above.
pub(crate) fn to_text<T: Serialize>(value: &T) -> String {
    // Serialising our own structs (strings, numbers, maps with string keys) cannot fail.
    let raw = serde_json::to_string_pretty(value).expect("JSON formats serialise");
    let mut out = String::with_capacity(raw.len() + 1);
    for c in raw.chars() {
        if needs_escape(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out.push('\n');
    out
}

/// `s` cut to at most `max` characters, ending with `…` when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_invisible_controls_are_escaped_and_round_trip() {
        let s = "<script>&\u{202e}\u{85}\u{7}\u{2028}";
        let text = to_text(&serde_json::json!({ "s": s }));
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        assert!(text.contains(r"\u003cscript\u003e\u0026\u202e\u0085\u0007\u2028"));
        assert!(text.chars().all(|c| c == '\n' || !c.is_control()));
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["s"], s);
    }

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
        assert_eq!(truncate("ééééé", 4).chars().count(), 4);
    }
}
