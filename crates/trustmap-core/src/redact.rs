//! Redaction of secret values: the only form in which a secret leaves the scanner.

/// A preview that identifies a secret to its owner without disclosing it: at most the first
/// four characters (fewer for short values, none under 12) and the length.
///
/// ```
/// assert_eq!(trustmap_core::redact::redact("ghp_abcdefghijklmnopqrstuvwxyz0123456789"), "ghp_…(40 chars)");
/// assert_eq!(trustmap_core::redact::redact("hunter2"), "…(7 chars)");
/// ```
pub fn redact(value: &str) -> String {
    let len = value.chars().count();
    let shown = match len {
        0..=11 => 0,
        12..=23 => 2,
        _ => 4,
    };
    let head: String = value.chars().take(shown).collect();
    format!("{head}…({len} chars)")
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn never_shows_more_than_a_sixth() {
        for len in 0..200 {
            let v: String = "x".repeat(len);
            let r = redact(&v);
            let shown = r.split('…').next().unwrap().len();
            assert!(shown * 6 <= len.max(1), "len {len}: {r}");
        }
    }
}
