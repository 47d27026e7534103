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
            // A List: entries' lines cannot be told apart reliably; owners still apply.
            for item in items {
                out.push(object(item, text, range.clone()));
            }
        } else if value.get("kind").is_some() {
            out.push(object(&value, text, range));
        }
    }
    out
}

fn object(v: &Value, text: &str, range: std::ops::Range<usize>) -> Object {
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
            let (line, erange) = locate(doc, field, k)
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

/// Finds `key:` under the top-level `field:` of a document: its 1-based line within the
/// document and the byte range of the entry (the key line and any more-indented lines).
fn locate(doc: &str, field: &str, key: &str) -> Option<(u64, std::ops::Range<usize>)> {
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
        let indent = trimmed.len() - trimmed.trim_start().len();
        if indent == 0 {
            in_field = trimmed.strip_suffix(':').is_some_and(|f| f == field)
                || trimmed.starts_with(&format!("{field}:"));
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
    fn invalid_yaml_is_skipped() {
        assert!(objects(b"apiVersion: v1\nkind: Secret\ndata: {{ .Values.x }\n").is_empty());
    }
}
