//! Kubernetes manifests: `Secret` data (base64, decoded here so the material inside is
//! parsed), `stringData` and `ConfigMap` data (scanned in place), and owners from the
//! `team` / `owner` labels and annotations of each object.
//!
//! Values come from a real YAML parser (serde_yaml_ng); only the line of each data key is
//! found by a line scan, because YAML parsers do not report positions.

use base64::Engine as _;
use serde_yaml_ng::Value;
use trustmap_core::Owner;

/// One Kubernetes object in a manifest file.
#[derive(Debug, Clone, Default)]
pub struct Object {
    pub kind: String,
    pub name: String,
    /// Byte range of the YAML document in the file.
    pub range: std::ops::Range<usize>,
    pub owners: Vec<Owner>,
    pub entries: Vec<Entry>,
}

/// One `data` / `stringData` entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Route inside the object: `data.tls.crt`.
    pub route: String,
    /// 1-based line of the key in the file, when found.
    pub line: Option<u64>,
    /// Byte range of the entry (key line through its last value line) in the file.
    pub range: std::ops::Range<usize>,
    /// Decoded bytes of a `Secret.data` value; `None` when the value is plain text in place.
    pub decoded: Option<Vec<u8>>,
}

/// True when the bytes look like a Kubernetes manifest worth parsing: `apiVersion` and
/// `kind:` near the start (only the head is looked at, so other files cost nothing).
pub fn looks_like_manifest(data: &[u8]) -> bool {
    let head = &data[..data.len().min(8192)];
    memchr::memmem::find(head, b"apiVersion").is_some()
        && memchr::memmem::find(head, b"kind:").is_some()
}

/// Parses every object of a (multi-document) YAML manifest. Documents that are not valid
/// YAML (Helm templates, say) are skipped: the generic scan still reads their text.
pub fn objects(data: &[u8]) -> Vec<Object> {
    let Ok(text) = std::str::from_utf8(data) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for range in documents(text) {
        let doc = &text[range.clone()];
        let Ok(value) = serde_yaml_ng::from_str::<Value>(doc) else {
            continue;
        };
        if let Some(items) = value.get("items").and_then(Value::as_sequence) {
            // A List: each item is located in its own `- ` block of `items:`, so its entries
            // get their own lines; when the blocks cannot be told apart, the document's.
            let blocks = list_items(doc);
            for (i, item) in items.iter().enumerate() {
                match blocks.get(i).filter(|_| blocks.len() == items.len()) {
                    Some((r, base)) => out.push(object(
                        item,
                        text,
                        range.start + r.start..range.start + r.end,
                        *base,
                    )),
                    None => out.push(object(item, text, range.clone(), 0)),
                }
            }
        } else if value.get("kind").is_some() {
            out.push(object(&value, text, range, 0));
        }
    }
    out
}

/// `range`: the object's bytes in `text`; `base`: the indentation of its top-level keys
/// (0 for a document, more for an item of a List).
fn object(v: &Value, text: &str, range: std::ops::Range<usize>, base: usize) -> Object {
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let meta = v.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut owners = Vec::new();
    for section in ["labels", "annotations"] {
        let Some(map) = meta
            .and_then(|m| m.get(section))
            .and_then(Value::as_mapping)
        else {
            continue;
        };
        for (k, val) in map {
            let (Some(k), Some(val)) = (k.as_str(), val.as_str()) else {
                continue;
            };
            let short = k.rsplit('/').next().unwrap_or(k);
            if matches!(short, "team" | "owner" | "owned-by" | "owner-team") && !val.is_empty() {
                let o = Owner {
                    name: val.to_string(),
                    role: "owner".into(),
                    source: format!("kubernetes {} {k}", &section[..section.len() - 1]),
                };
                if !owners.iter().any(|e: &Owner| e.name == o.name) {
                    owners.push(o);
                }
            }
        }
    }
    let mut entries = Vec::new();
    let doc = &text[range.clone()];
    for field in ["data", "stringData", "binaryData"] {
        let Some(map) = v.get(field).and_then(Value::as_mapping) else {
            continue;
        };
        let base64 = field == "binaryData" || (field == "data" && kind == "Secret");
        for (k, val) in map {
            let (Some(k), Some(val)) = (k.as_str(), val.as_str()) else {
                continue;
            };
            let (line, erange) = locate(doc, base, field, k)
                .map(|(l, r)| {
                    (
                        Some(l + line_of(text, range.start) - 1),
                        r.start + range.start..r.end + range.start,
                    )
                })
                .unwrap_or((None, range.clone()));
            let decoded = if base64 {
                let compact: String = val.split_whitespace().collect();
                match base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) {
                    Ok(b) => Some(b),
                    Err(_) => continue,
                }
            } else {
                None
            };
            entries.push(Entry {
                route: format!("{field}.{k}"),
                line,
                range: erange,
                decoded,
            });
        }
    }
    Object {
        kind,
        name,
        range,
        owners,
        entries,
    }
}

/// Byte ranges of the `---`-separated documents of a YAML stream.
fn documents(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("---") && line[3..].trim().is_empty() {
            if pos > start {
                out.push(start..pos);
            }
            start = pos + line.len();
        }
        pos += line.len();
    }
    if pos > start {
        out.push(start..pos);
    }
    out
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> u64 {
    memchr::memchr_iter(b'\n', &text.as_bytes()[..offset]).count() as u64 + 1
}

/// Indentation of a line, the `- ` of a sequence item counted as indentation (the first
/// key of a List item sits on its `- ` line).
fn indent_of(line: &str) -> usize {
    let spaces = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[spaces..];
    match rest.strip_prefix("- ") {
        Some(after) => spaces + 2 + (after.len() - after.trim_start_matches(' ').len()),
        None => spaces,
    }
}

/// The `- ` blocks of the top-level `items:` sequence of a List document: byte range in
/// the document and the indentation of each item's keys.
fn list_items(doc: &str) -> Vec<(std::ops::Range<usize>, usize)> {
    let mut out: Vec<(std::ops::Range<usize>, usize)> = Vec::new();
    let mut in_items = false;
    let mut dash: Option<usize> = None;
    let mut pos = 0;
    for line in doc.split_inclusive('\n') {
        let start = pos;
        pos += line.len();
        let t = line.trim_end();
        if t.is_empty() || t.trim_start().starts_with('#') {
            continue;
        }
        let spaces = t.len() - t.trim_start().len();
        if spaces == 0 && !t.starts_with('-') {
            in_items = t == "items:";
            continue;
        }
        if !in_items {
            continue;
        }
        let is_dash = t[spaces..].starts_with("- ") || &t[spaces..] == "-";
        if is_dash && dash.is_none_or(|d| d == spaces) {
            dash = Some(spaces);
            out.push((start..pos, indent_of(t)));
        } else if let Some(last) = out.last_mut() {
            last.0.end = pos;
        }
    }
    out
}

/// Finds `key:` under the top-level `field:` of an object (top-level keys at indentation
/// `base`): its 1-based line within `doc` and the byte range of the entry (the key line and
/// any more-indented lines).
fn locate(doc: &str, base: usize, field: &str, key: &str) -> Option<(u64, std::ops::Range<usize>)> {
    let mut in_field = false;
    let mut child_indent: Option<usize> = None;
    let mut pos = 0;
    let lines: Vec<&str> = doc.split_inclusive('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let start = pos;
        pos += line.len();
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            continue;
        }
        let indent = indent_of(trimmed);
        if indent <= base {
            let trimmed = &trimmed[indent.min(trimmed.len())..];
            in_field = indent == base
                && (trimmed.strip_suffix(':').is_some_and(|f| f == field)
                    || trimmed.starts_with(&format!("{field}:")));
            child_indent = None;
            continue;
        }
        if !in_field {
            continue;
        }
        let ci = *child_indent.get_or_insert(indent);
        if indent != ci {
            continue;
        }
        let body = trimmed.trim_start();
        let k = body
            .split_once(':')
            .map(|(k, _)| k.trim().trim_matches(|c| c == '"' || c == '\''));
        if k == Some(key) {
            let mut end = pos;
            for next in &lines[i + 1..] {
                let t = next.trim_end();
                if !t.is_empty() && t.len() - t.trim_start().len() <= ci {
                    break;
                }
                end += next.len();
            }
            return Some((i as u64 + 1, start..end));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ca\ndata:\n  ca.crt: |\n    -----BEGIN CERTIFICATE-----\n    AAAA\n    -----END CERTIFICATE-----\n  other: x\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: payments-tls\n  labels:\n    team: payments\n    owner: alice\ntype: kubernetes.io/tls\ndata:\n  tls.crt: aGVsbG8=\n  tls.key: d29ybGQ=\n";

    #[test]
    fn secrets_are_decoded_with_routes_lines_and_owners() {
        let objs = objects(MANIFEST.as_bytes());
        assert_eq!(objs.len(), 2);
        let cm = &objs[0];
        assert_eq!(cm.kind, "ConfigMap");
        assert_eq!(cm.entries[0].route, "data.ca.crt");
        assert_eq!(cm.entries[0].line, Some(6));
        assert!(cm.entries[0].decoded.is_none());
        let entry_text = &MANIFEST[cm.entries[0].range.clone()];
        assert!(entry_text.contains("END CERTIFICATE") && !entry_text.contains("other"));

        let s = &objs[1];
        assert_eq!(
            (s.kind.as_str(), s.name.as_str()),
            ("Secret", "payments-tls")
        );
        let names: Vec<_> = s.owners.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["payments", "alice"]);
        assert_eq!(s.owners[0].source, "kubernetes label team");
        assert_eq!(s.entries[0].route, "data.tls.crt");
        assert_eq!(s.entries[0].line, Some(21));
        assert_eq!(s.entries[0].decoded.as_deref(), Some(&b"hello"[..]));
        assert_eq!(s.entries[1].decoded.as_deref(), Some(&b"world"[..]));
    }

    #[test]
    fn list_items_have_their_own_lines_and_owners() {
        let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: a\n    labels:\n      team: alpha\n  data:\n    tls.crt: aGVsbG8=\n-   apiVersion: v1\n    kind: Secret\n    metadata:\n      name: b\n    data:\n      other: eA==\n      tls.crt: d29ybGQ=\n";
        let objs = objects(list.as_bytes());
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[0].entries[0].route, "data.tls.crt");
        assert_eq!(objs[0].entries[0].line, Some(11));
        assert_eq!(objs[1].entries[1].route, "data.tls.crt");
        assert_eq!(objs[1].entries[1].line, Some(18));
        assert_eq!(objs[1].entries[1].decoded.as_deref(), Some(&b"world"[..]));
        // Owners of the first item do not reach the second.
        assert_eq!(objs[0].owners.len(), 1);
        assert!(objs[1].owners.is_empty());
        assert!(!objs[0].range.contains(&objs[1].entries[1].range.start));
        // Indented sequences too.
        let indented: String = list
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i >= 3 {
                    format!("  {l}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        let objs = objects(indented.as_bytes());
        assert_eq!(objs[0].entries[0].line, Some(11), "{indented}");
    }

    #[test]
    fn invalid_yaml_is_skipped() {
        assert!(objects(b"apiVersion: v1\nkind: Secret\ndata: {{ .Values.x }\n").is_empty());
    }
}
