//! Kubernetes manifests: `Secret` data (base64, decoded here so the material inside is
//! parsed), `stringData` and `ConfigMap` data (scanned in place), and owners from the
//! `team` / `owner` labels and annotations of each object.
//!
//! Values come from a real YAML parser (serde_yaml_ng); only the line of each data key is
//! found by a line scan, because YAML parsers do not report positions.

use base64::Engine as _;
use serde_yaml_ng::Value;
use std::collections::HashMap;
use trustmap_core::Owner;

/// One Kubernetes object in a manifest file.
#[derive(Debug, Clone, Default)]
pub struct Object {
    pub kind: String,
    pub name: String,
    /// `metadata.namespace`, `default` when unset.
    pub namespace: String,
    /// Byte range of the YAML document in the file.
    pub range: std::ops::Range<usize>,
    pub owners: Vec<Owner>,
    pub entries: Vec<Entry>,
    /// The Secrets it uses (`crate::config::kubernetes`).
    pub consumers: crate::config::Parsed,
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
        && (memchr::memmem::find(head, b"kind:").is_some()
            // `kubectl get -o json`
            || memchr::memmem::find(head, b"\"kind\"").is_some())
}

/// The largest YAML document handed to the YAML parser; larger documents are not parsed
/// as manifests (an error says so; their text is still scanned like any file's).
pub const MAX_DOCUMENT: usize = 4 << 20;
/// The deepest nesting of flow or block collections in a document handed to the parser.
pub const MAX_NESTING: usize = 64;

/// Parses every object of a (multi-document) YAML manifest. Documents that are not valid
/// YAML (Helm templates, say) are skipped: the generic scan still reads their text.
pub fn objects(data: &[u8]) -> Vec<Object> {
    objects_bounded(data).0
}

/// [`objects`], and the documents the bounds kept from the parser ([`MAX_DOCUMENT`],
/// [`MAX_NESTING`]) as (byte offset, reason).
pub fn objects_bounded(data: &[u8]) -> (Vec<Object>, Vec<(usize, String)>) {
    let m = manifest(data, false);
    (m.objects, m.skipped)
}

/// A manifest file's objects, with its plain ConfigMaps left for later ([`manifest`]).
#[derive(Default)]
pub struct Manifest {
    /// Parsed objects, in file order.
    pub objects: Vec<Object>,
    /// Documents the bounds kept from the parser, as (byte offset, reason).
    pub skipped: Vec<(usize, String)>,
    /// Documents not parsed yet: ConfigMaps without `binaryData` (within the bounds). Such
    /// an object only labels what is found inside it (its entry's route, its owners): its
    /// values are scanned in place, it uses no Secret, it decodes nothing. So it is parsed
    /// ([`objects_of`]) only when the file's scan finds something in its range. On the
    /// generated 1 GiB tree (BENCHMARKS.md) ConfigMaps with `data:` were most of 60,000
    /// documents parsed, a third of the scan.
    pub deferred: Vec<std::ops::Range<usize>>,
}

/// Parses the documents of a (multi-document) YAML manifest worth parsing; `defer`: leave
/// plain ConfigMaps in [`Manifest::deferred`] instead. Documents that are not valid YAML
/// (Helm templates, say) are skipped: the generic scan still reads their text.
pub fn manifest(data: &[u8], defer: bool) -> Manifest {
    let mut out = Manifest::default();
    // Most manifests have nothing to yield: say so before anything else reads the file.
    let wanted = relevant_offsets(data);
    if wanted.is_empty() {
        return out;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return out;
    };
    let mut lines = crate::scan::LineIndex::new(data);
    for range in documents(text) {
        // Only documents that can yield something are parsed (most manifests hold no
        // data field and no owner label: parsing them all was a third of a scan's time).
        if !wanted.wants(&range) {
            continue;
        }
        let doc = &text[range.clone()];
        if doc.len() > MAX_DOCUMENT {
            out.skipped.push((
                range.start,
                format!(
                    "YAML document of {} bytes, over the {MAX_DOCUMENT}-byte limit: not parsed as a Kubernetes manifest",
                    doc.len()
                ),
            ));
            continue;
        }
        if nesting(doc) > MAX_NESTING {
            out.skipped.push((
                range.start,
                format!(
                    "YAML document nested more than {MAX_NESTING} levels deep: not parsed as a Kubernetes manifest"
                ),
            ));
            continue;
        }
        if defer && plain_config_map(doc) {
            out.deferred.push(range);
            continue;
        }
        parse_document(text, range, &mut lines, &mut out.objects);
    }
    out
}

/// The objects of the documents at `ranges` of `data` (ranges from [`Manifest::deferred`]:
/// within the bounds already).
pub fn objects_of(data: &[u8], ranges: &[std::ops::Range<usize>]) -> Vec<Object> {
    let mut out = Vec::new();
    if ranges.is_empty() {
        return out;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return out;
    };
    let mut lines = crate::scan::LineIndex::new(data);
    for range in ranges {
        parse_document(text, range.clone(), &mut lines, &mut out);
    }
    out
}

/// A ConfigMap document (block style, `kind: ConfigMap` on a line of its own at the top
/// level) without `binaryData` and without a List's `items`: see [`Manifest::deferred`].
/// Anything else, JSON included, is parsed at once.
fn plain_config_map(doc: &str) -> bool {
    doc.lines().any(|l| l.trim_end() == "kind: ConfigMap")
        && !doc.contains("binaryData")
        && !doc.contains("items")
}

/// Parses one document within the bounds and adds its objects to `out`.
fn parse_document(
    text: &str,
    range: std::ops::Range<usize>,
    lines: &mut crate::scan::LineIndex<'_>,
    out: &mut Vec<Object>,
) {
    let doc = &text[range.clone()];
    crate::timing::count(crate::timing::Count::YamlDocuments, 1);
    let Ok(value) = serde_yaml_ng::from_str::<Value>(doc) else {
        return;
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
                    lines,
                )),
                None => out.push(object(item, text, range.clone(), 0, lines)),
            }
        }
    } else if value.get("kind").is_some() {
        out.push(object(&value, text, range, 0, lines));
    }
}

/// What makes a document worth parsing, alone:
/// - a `data` / `stringData` / `binaryData` key (entries; a Secret's feed the consumers'
///   resolution index);
/// - a top-level `items:` or a JSON `"items"` (a List);
/// - an owner label or annotation key (`team`, `owner`, `owned-by`, `owner-team`, with any
///   prefix);
/// - a ServiceAccount, or a Secret of its token type.
///
/// Keys followed by `:` or, quoted, by `"`. Case-sensitive, as YAML keys are.
const ALWAYS: [&str; 16] = [
    "data:",
    "data\"",
    "Data:",
    "Data\"",
    "\nitems:",
    "\"items\"",
    "team:",
    "team\"",
    "owner:",
    "owner\"",
    "owned-by:",
    "owned-by\"",
    "owner-team",
    "kind: ServiceAccount",
    "\"kind\": \"ServiceAccount\"",
    "service-account-token",
];

/// The fields through which an object uses a Secret ([`crate::config::kubernetes`]: Ingress
/// and cert-manager `secretName`, Gateway API `certificateRefs`, Istio `credentialName`,
/// workloads' `secretKeyRef` / `secretRef` / `imagePullSecrets` / projected volumes): they
/// make a document worth parsing only in an object of one of [`CONSUMER_KINDS`] (a CRD's
/// schema names the same fields by the hundred).
const FIELDS: [&str; 7] = [
    "secretName",
    "certificateRefs",
    "credentialName",
    "secretKeyRef",
    "secretRef",
    "imagePullSecrets",
    "projected",
];

/// The kinds [`crate::config::kubernetes`] reads consumers from (a prefix: `kind: Pod` also
/// passes `PodTemplate`, which the parser then ignores).
const CONSUMER_KINDS: [&str; 13] = [
    "Ingress",
    "Gateway",
    "ListenerSet",
    "Certificate",
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "XListenerSet",
];

/// Where a document worth parsing was seen ([`relevant_offsets`]): offsets of the
/// [`ALWAYS`] keys, of the [`FIELDS`] and of the [`CONSUMER_KINDS`] lines, each sorted.
#[derive(Default)]
struct Relevant {
    always: Vec<usize>,
    fields: Vec<usize>,
    kinds: Vec<usize>,
}

impl Relevant {
    fn is_empty(&self) -> bool {
        self.always.is_empty() && (self.fields.is_empty() || self.kinds.is_empty())
    }

    /// Whether the document at `range` is worth parsing.
    fn wants(&self, range: &std::ops::Range<usize>) -> bool {
        let within = |v: &[usize]| {
            let i = v.partition_point(|&at| at < range.start);
            v.get(i).is_some_and(|&at| at < range.end)
        };
        within(&self.always) || (within(&self.fields) && within(&self.kinds))
    }
}

static RELEVANT_AT: std::sync::LazyLock<crate::literal::Literals> =
    std::sync::LazyLock::new(|| {
        let mut words: Vec<String> = ALWAYS
            .iter()
            .chain(&FIELDS)
            .map(|w| w.to_string())
            .collect();
        for k in CONSUMER_KINDS {
            words.push(format!("kind: {k}"));
            words.push(format!("\"kind\": \"{k}"));
        }
        crate::literal::Literals::new(&words)
    });

/// Where the [`ALWAYS`] keys, [`FIELDS`] and [`CONSUMER_KINDS`] are in `data`; `data` only
/// as a key of its own (not the tail of `metadata`). One pass over the file.
fn relevant_offsets(data: &[u8]) -> Relevant {
    let mut out = Relevant::default();
    if data.starts_with(b"items:") {
        out.always.push(0);
    }
    for m in RELEVANT_AT.find_iter(data) {
        let at = m.start();
        let p = m.pattern().as_usize();
        let keep = match p {
            // YAML keys: an object's own field, not one nested in it.
            0 => top_level_key(data, at, true),
            2 => top_level_key(data, at, false),
            // Quoted keys (JSON dumps, at any depth): `"data"`, `"stringData"`...
            1 => at > 0 && data[at - 1] == b'"',
            3 => [b"\"string".as_slice(), b"\"binary"]
                .iter()
                .any(|p| data[..at].ends_with(p)),
            _ => true,
        };
        if !keep {
            continue;
        }
        if p < ALWAYS.len() {
            out.always.push(at);
        } else if p < ALWAYS.len() + FIELDS.len() {
            out.fields.push(at);
        } else {
            out.kinds.push(at);
        }
    }
    out
}

/// True when the key at `at` is a field of an object itself, not of something nested in it:
/// on its own line, indented at most 4 spaces (a document's keys, or a List item's after its
/// `- `), or any key of a flow mapping. `whole`: the key is `data` itself (so not the tail
/// of `metadata`); otherwise `Data` must end `stringData` or `binaryData`.
fn top_level_key(data: &[u8], at: usize, whole: bool) -> bool {
    let line_start = memchr::memrchr(b'\n', &data[..at]).map_or(0, |i| i + 1);
    let mut lead = &data[line_start..at];
    if !whole {
        let Some(rest) = lead
            .strip_suffix(b"string")
            .or_else(|| lead.strip_suffix(b"binary"))
        else {
            return false;
        };
        lead = rest;
    }
    let lead = lead.strip_suffix(b"\"").unwrap_or(lead);
    // Flow style (`{kind: Secret, data: {...}}`, JSON): any key after `{` or `,` counts.
    let flow = lead
        .trim_ascii_end()
        .last()
        .is_some_and(|b| matches!(b, b'{' | b','));
    flow || (lead.len() <= 4 && lead.iter().all(|&b| b == b' ' || b == b'-'))
}

/// An upper bound of the nesting depth of a YAML document: flow brackets open at once, or
/// block indentation levels, whichever is deeper (cheap, one pass; the parser is not run on
/// documents deeper than [`MAX_NESTING`]).
pub(crate) fn nesting(doc: &str) -> usize {
    let mut flow = 0usize;
    let mut max_flow = 0usize;
    let mut indents: Vec<usize> = Vec::new();
    let mut max_block = 0usize;
    for line in doc.lines() {
        let t = line.trim_end();
        let body = t.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        if flow == 0 {
            let ind = indent_of(t);
            while indents.last().is_some_and(|&i| i >= ind) {
                indents.pop();
            }
            indents.push(ind);
            max_block = max_block.max(indents.len());
        }
        for b in body.bytes() {
            match b {
                b'[' | b'{' => {
                    flow += 1;
                    max_flow = max_flow.max(flow);
                }
                b']' | b'}' => flow = flow.saturating_sub(1),
                _ => {}
            }
        }
    }
    max_flow.max(max_block)
}

/// `range`: the object's bytes in `text`; `base`: the indentation of its top-level keys
/// (0 for a document, more for an item of a List).
fn object(
    v: &Value,
    text: &str,
    range: std::ops::Range<usize>,
    base: usize,
    lines: &mut crate::scan::LineIndex<'_>,
) -> Object {
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
    // One pass over the object's lines finds every entry's key line; the object's first
    // line comes from the file's line index.
    let located = locate_all(doc, base);
    let first_line = lines.line(range.start);
    for field in ["data", "stringData", "binaryData"] {
        let Some(map) = v.get(field).and_then(Value::as_mapping) else {
            continue;
        };
        let base64 = field == "binaryData" || (field == "data" && kind == "Secret");
        for (k, val) in map {
            let (Some(k), Some(val)) = (k.as_str(), val.as_str()) else {
                continue;
            };
            let (line, erange) = located
                .get(&(field, k))
                .map(|(l, r)| {
                    (
                        Some(l + first_line - 1),
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
    let namespace = meta
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .unwrap_or("default")
        .to_string();
    let consumers = crate::config::kubernetes::consumers(v, text, range.clone());
    Object {
        kind,
        name,
        namespace,
        range,
        owners,
        entries,
        consumers,
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

/// Every `key:` directly under the top-level `data:`, `stringData:` and `binaryData:` of an
/// object (top-level keys at indentation `base`), in one pass over `doc`: for each (field,
/// key), its 1-based line within `doc` and the byte range of the entry (the key line and any
/// more-indented lines after it). The first of duplicate keys wins.
fn locate_all(
    doc: &str,
    base: usize,
) -> HashMap<(&'static str, &str), (u64, std::ops::Range<usize>)> {
    const FIELDS: [&str; 3] = ["data", "stringData", "binaryData"];
    let mut out: HashMap<(&'static str, &str), (u64, std::ops::Range<usize>)> = HashMap::new();
    let mut field: Option<&'static str> = None;
    let mut child_indent: Option<usize> = None;
    // The entry whose range is still growing: its key and its indentation.
    let mut open: Option<((&'static str, &str), usize)> = None;
    let mut pos = 0;
    for (i, line) in doc.split_inclusive('\n').enumerate() {
        let start = pos;
        pos += line.len();
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            continue;
        }
        let spaces = trimmed.len() - trimmed.trim_start().len();
        if let Some((key, ci)) = open
            && spaces <= ci
        {
            if let Some(e) = out.get_mut(&key) {
                e.1.end = start;
            }
            open = None;
        }
        if let Some((key, _)) = open
            && let Some(e) = out.get_mut(&key)
        {
            e.1.end = pos;
        }
        let indent = indent_of(trimmed);
        if indent <= base {
            let t = &trimmed[indent.min(trimmed.len())..];
            field = FIELDS.into_iter().find(|f| {
                indent == base
                    && (t.strip_suffix(':') == Some(*f)
                        || t.strip_prefix(*f).is_some_and(|r| r.starts_with(':')))
            });
            child_indent = None;
            continue;
        }
        let Some(f) = field else { continue };
        let ci = *child_indent.get_or_insert(indent);
        if indent != ci {
            continue;
        }
        let body = trimmed.trim_start();
        let Some(k) = body
            .split_once(':')
            .map(|(k, _)| k.trim().trim_matches(|c| c == '"' || c == '\''))
        else {
            continue;
        };
        if let std::collections::hash_map::Entry::Vacant(e) = out.entry((f, k)) {
            e.insert((i as u64 + 1, start..pos));
            open = Some(((f, k), ci));
        }
    }
    if let Some((key, _)) = open
        && let Some(e) = out.get_mut(&key)
    {
        e.1.end = doc.len();
    }
    out
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
    fn only_documents_with_data_items_or_owner_labels_are_parsed() {
        // `metadata:` is not a data field: a Deployment without data or owner labels is
        // never handed to the parser.
        let plain =
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n";
        assert!(relevant_offsets(plain.as_bytes()).is_empty());
        assert!(objects(plain.as_bytes()).is_empty());
        let labelled = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    example.com/owned-by: web-team\n";
        let objs = objects(labelled.as_bytes());
        assert_eq!(objs.len(), 1);
        assert_eq!(objs[0].owners[0].name, "web-team");
        for (doc, want) in [
            ("kind: Secret\ndata:\n  a: eA==\n", true),
            ("kind: Secret\nstringData:\n  a: x\n", true),
            ("kind: ConfigMap\nbinaryData:\n  a: eA==\n", true),
            ("{\"kind\": \"Secret\", \"data\": {\"a\": \"eA==\"}}", true),
            (
                "{\n    \"items\": [\n        {\n            \"data\": {}\n",
                true,
            ),
            (
                "{\n    \"metadata\": {\n        \"name\": \"x\"\n    }\n}",
                false,
            ),
            (
                "kind: Ingress\nspec:\n  tls:\n  - secretName: web-tls\n",
                true,
            ),
            (
                "kind: CustomResourceDefinition\nspec:\n  versions:\n  - schema:\n      properties:\n        secretName:\n          type: string\n",
                false,
            ),
            ("kind: ServiceAccount\nsecrets:\n- name: x\n", true),
            (
                "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - env:\n        - valueFrom:\n            secretKeyRef: {name: db}\n",
                true,
            ),
            ("kind: List\nitems: []\n", true),
            ("kind: Pod\nmetadata:\n  name: x\n", false),
            ("kind: Pod\nspec:\n  userdata: x\n", false),
            (
                "kind: Deployment\nspec:\n  template:\n    spec:\n      data: x\n",
                false,
            ),
            ("kind: X\nspec:\n  mystringData: x\n", false),
            (
                "kind: List\nitems:\n- kind: Secret\n  data:\n    a: eA==\n",
                true,
            ),
            (
                "kind: List\nitems:\n  - kind: Secret\n    stringData:\n      a: x\n",
                true,
            ),
        ] {
            assert_eq!(!relevant_offsets(doc.as_bytes()).is_empty(), want, "{doc}");
        }
        // In a stream, the irrelevant documents are skipped and the relevant one keeps its
        // place and lines.
        let stream = format!("{plain}---\n{MANIFEST}");
        let objs = objects(stream.as_bytes());
        assert_eq!(
            objs.len(),
            2,
            "the ConfigMap and the Secret, not the Deployment"
        );
        assert_eq!(objs[0].kind, "ConfigMap");
        assert_eq!(objs[0].entries[0].line, Some(13));
    }

    #[test]
    fn plain_config_maps_are_left_for_later_and_parse_the_same_then() {
        let m = manifest(MANIFEST.as_bytes(), true);
        assert_eq!(m.objects.len(), 1, "the Secret is parsed at once");
        assert_eq!(m.objects[0].kind, "Secret");
        assert_eq!(m.deferred.len(), 1, "the ConfigMap is left for later");
        let later = objects_of(MANIFEST.as_bytes(), &m.deferred);
        let now = objects(MANIFEST.as_bytes());
        assert_eq!(later.len(), 1);
        assert_eq!(format!("{:?}", later[0]), format!("{:?}", now[0]));
        // Parsed at once: binaryData (decoded here), Lists, JSON, and everything else.
        for doc in [
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\nbinaryData:\n  a: eA==\n",
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n  data:\n    a: b\n",
            "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"j\"}, \"data\": {\"a\": \"b\"}}\n",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  a: eA==\n",
        ] {
            let m = manifest(doc.as_bytes(), true);
            assert!(m.deferred.is_empty(), "{doc}");
            assert_eq!(m.objects.len(), 1, "{doc}");
        }
        // The bounds apply before: a ConfigMap over them is an error, not left for later.
        let deep = format!(
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: {}x{}\n",
            "[".repeat(MAX_NESTING + 1),
            "]".repeat(MAX_NESTING + 1)
        );
        let m = manifest(deep.as_bytes(), true);
        assert!(m.deferred.is_empty() && m.objects.is_empty());
        assert_eq!(m.skipped.len(), 1);
    }

    #[test]
    fn invalid_yaml_is_skipped() {
        assert!(objects(b"apiVersion: v1\nkind: Secret\ndata: {{ .Values.x }\n").is_empty());
    }
}
