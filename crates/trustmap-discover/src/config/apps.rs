//! Applications, data stores and orchestration that load key material by file name:
//! Spring Boot (`server.ssl.*`, `spring.ssl.bundle.*`; properties and YAML), Kafka
//! (`ssl.keystore.location`, `ssl.truststore.location`), Java system properties
//! (`-Djavax.net.ssl.keyStore` / `trustStore` in systemd units and shell scripts),
//! PostgreSQL (`ssl_cert_file`, `ssl_key_file`, `ssl_ca_file`), Redis (`tls-*-file`), MySQL
//! (`ssl-cert`, `ssl-key`, `ssl-ca` per option group), OpenVPN (`cert`, `key`, `ca`,
//! `tls-auth`, ...), HashiCorp Vault listeners (`tls_cert_file`, ...), Envoy
//! (`certificate_chain` / `private_key` / `trusted_ca` file names per listener and cluster,
//! SDS secret names as attributes), Traefik's file provider (`certFile`, `keyFile`,
//! `caFiles`), docker-compose (file `secrets:` a service lists and bind mounts of key
//! material) and systemd units (`LoadCredential=`, and `Environment=` paths to key material).
//!
//! Which format a file is comes from its name first (`postgresql.conf`, `*.properties`,
//! `application*.yml`, `*.service`, `compose.yaml`), then from what it holds. Structured
//! formats (YAML, JSON, TOML) are parsed by real parsers (serde_yaml_ng, toml) within the
//! same bounds as manifests; the line formats are read line by line. Every walk is bounded
//! by [`super::MAX_DEPTH`] and [`MAX_KEYS`], references by [`super::MAX_REFERENCES`].

use super::{Consumer, MAX_DEPTH, Parsed, Ref, add_ref, clean};

/// Keys read from one structured file (flattened); past it the rest are not read (an error).
pub const MAX_KEYS: usize = 65_536;

/// The consumers of `text`, a file named `name`, when it is one of the formats above.
pub(super) fn parse(name: &str, text: &str) -> Parsed {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    if lower.ends_with(".properties") {
        return properties(text);
    }
    if is_compose(&lower) {
        return compose(text);
    }
    if matches!(ext, "yml" | "yaml" | "json") {
        return yaml(&lower, text);
    }
    if ext == "toml" {
        return traefik_toml(text);
    }
    if matches!(
        ext,
        "service" | "socket" | "mount" | "timer" | "path" | "target"
    ) || (ext == "conf" && text.contains("[Service]"))
    {
        return systemd(&lower, text);
    }
    if ext == "hcl" || (text.contains("listener") && text.contains("tls_cert_file")) {
        return vault(text);
    }
    if lower.contains("postgresql") || has_key(text, "ssl_cert_file") {
        return line_kv(text, "postgresql", "postgresql", POSTGRES, '=');
    }
    if lower.contains("redis")
        || lower.contains("valkey")
        || lower.contains("sentinel")
        || has_key(text, "tls-cert-file")
    {
        return line_kv(text, "redis", "redis", REDIS, ' ');
    }
    if ext == "cnf" || (ext == "ini" && text.contains("[mysqld]")) {
        return mysql(text);
    }
    if ext == "ovpn"
        || text
            .lines()
            .any(|l| l.starts_with("dev tun") || l.starts_with("dev tap"))
    {
        return openvpn(&lower, text);
    }
    if text.contains("javax.net.ssl.") {
        return java_options(&lower, text);
    }
    Parsed::default()
}

/// A line of the file starts with `key` (after blanks).
fn has_key(text: &str, key: &str) -> bool {
    text.lines().any(|l| l.trim_start().starts_with(key))
}

/// A docker-compose file by its name (`path` in any case; no copy is made, since the
/// scanner asks this of every file).
pub(super) fn is_compose(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path).as_bytes();
    let starts = |p: &[u8]| base.len() >= p.len() && base[..p.len()].eq_ignore_ascii_case(p);
    let ends =
        |p: &[u8]| base.len() >= p.len() && base[base.len() - p.len()..].eq_ignore_ascii_case(p);
    (starts(b"docker-compose") || starts(b"compose")) && (ends(b".yml") || ends(b".yaml"))
}

fn file_stem(lower: &str) -> &str {
    let base = lower.rsplit('/').next().unwrap_or(lower);
    base.split('.').next().unwrap_or(base)
}

/// One consumer under construction.
struct Building {
    software: &'static str,
    name: String,
    offset: usize,
    refs: Vec<Ref>,
    attributes: Vec<(String, String)>,
}

impl Building {
    fn new(software: &'static str, name: impl Into<String>, offset: usize) -> Building {
        Building {
            software,
            name: name.into(),
            offset,
            refs: Vec::new(),
            attributes: Vec::new(),
        }
    }

    fn add(&mut self, directive: &str, value: &str, offset: usize, out: &mut Parsed) {
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        if value.is_empty() {
            return;
        }
        add_ref(
            &mut self.refs,
            Ref {
                directive: directive.to_string(),
                value: value.to_string(),
                offset,
            },
            &mut out.errors,
        );
    }

    fn done(self, out: &mut Parsed) {
        out.push(Consumer {
            software: self.software,
            name: self.name,
            offset: self.offset,
            references: clean(self.refs),
            attributes: self.attributes,
        });
    }
}

// ------------------------------------------------------------------ line formats

const POSTGRES: &[&str] = &[
    "ssl_cert_file",
    "ssl_key_file",
    "ssl_ca_file",
    "ssl_crl_file",
];
const REDIS: &[&str] = &[
    "tls-cert-file",
    "tls-key-file",
    "tls-client-cert-file",
    "tls-client-key-file",
    "tls-ca-cert-file",
    "tls-ca-cert-dir",
    "tls-dh-params-file",
];

/// Lines with their byte offsets, comments (`#`, `;`) dropped.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n').map(move |raw| {
        let at = offset;
        offset += raw.len();
        let body = raw.trim();
        let body = if body.starts_with('#') || body.starts_with(';') {
            ""
        } else {
            body
        };
        (at, body)
    })
}

/// `key = value` (or `key value`) lines: one consumer for the file.
fn line_kv(text: &str, software: &'static str, name: &str, keys: &[&str], sep: char) -> Parsed {
    let mut out = Parsed::default();
    let mut b = Building::new(software, name, 0);
    for (at, line) in lines(text) {
        let (k, v) = match line.split_once(sep) {
            Some(kv) => kv,
            None => continue,
        };
        let k = k.trim();
        if keys.contains(&k) {
            if b.refs.is_empty() {
                b.offset = at;
            }
            // PostgreSQL allows a trailing comment after the value.
            let v = v.split(" #").next().unwrap_or(v);
            b.add(k, v, at, &mut out);
        }
    }
    b.done(&mut out);
    out.finish()
}

/// MySQL / MariaDB option files: one consumer per option group (`[mysqld]`, `[client]`).
fn mysql(text: &str) -> Parsed {
    const KEYS: &[&str] = &["ssl-cert", "ssl-key", "ssl-ca", "ssl-capath", "ssl-crl"];
    let mut out = Parsed::default();
    let mut current: Option<Building> = None;
    for (at, line) in lines(text) {
        if let Some(group) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if let Some(b) = current.take() {
                b.done(&mut out);
            }
            current = Some(Building::new("mysql", format!("[{group}]"), at));
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        // `ssl_cert` and `ssl-cert` are the same option.
        let k = k.trim().replace('_', "-");
        if KEYS.contains(&k.as_str()) {
            let b = current.get_or_insert_with(|| Building::new("mysql", "options", at));
            b.add(&k, v, at, &mut out);
        }
    }
    if let Some(b) = current.take() {
        b.done(&mut out);
    }
    out.finish()
}

/// OpenVPN: `cert`, `key`, `ca`, `tls-auth` ... with a file argument (`[inline]` and inline
/// `<ca>` blocks hold the material in place: the scan finds it there).
fn openvpn(lower: &str, text: &str) -> Parsed {
    const KEYS: &[&str] = &[
        "ca",
        "cert",
        "key",
        "pkcs12",
        "tls-auth",
        "tls-crypt",
        "tls-crypt-v2",
        "secret",
        "dh",
        "crl-verify",
        "extra-certs",
    ];
    let mut out = Parsed::default();
    let role = if text.lines().any(|l| l.trim() == "client") {
        "client"
    } else {
        "server"
    };
    let mut b = Building::new("openvpn", format!("{role} {}", file_stem(lower)), 0);
    for (at, line) in lines(text) {
        let mut words = line.split_whitespace();
        let (Some(k), Some(v)) = (words.next(), words.next()) else {
            continue;
        };
        if KEYS.contains(&k) && v != "[inline]" && v != "none" {
            b.add(k, v, at, &mut out);
        }
    }
    b.done(&mut out);
    out.finish()
}

/// HashiCorp Vault (HCL): each `listener "tcp" { ... }` block's TLS files.
fn vault(text: &str) -> Parsed {
    const KEYS: &[&str] = &["tls_cert_file", "tls_key_file", "tls_client_ca_file"];
    let mut out = Parsed::default();
    let mut current: Option<Building> = None;
    let mut depth = 0usize;
    let mut n = 0;
    for (at, line) in lines(text) {
        if depth == 0
            && let Some(rest) = line.strip_prefix("listener")
        {
            n += 1;
            let kind = rest.split('"').nth(1).unwrap_or("tcp");
            current = Some(Building::new("vault", format!("listener {kind} #{n}"), at));
        }
        depth += line.matches('{').count();
        depth = depth.saturating_sub(line.matches('}').count());
        if depth > MAX_DEPTH {
            out.errors
                .push((at, format!("HCL blocks nested more than {MAX_DEPTH} deep")));
            return out;
        }
        if let Some(b) = &mut current
            && let Some((k, v)) = line.split_once('=')
            && KEYS.contains(&k.trim())
        {
            b.add(k.trim(), v, at, &mut out);
        }
        if depth == 0
            && let Some(b) = current.take()
        {
            b.done(&mut out);
        }
    }
    if let Some(b) = current.take() {
        out.errors
            .push((b.offset, "HCL: listener block is not closed".into()));
    }
    out.finish()
}

/// `-Djavax.net.ssl.keyStore=...` in a shell script or any other text (one consumer).
fn java_options(lower: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut b = Building::new("java", format!("JVM {}", file_stem(lower)), 0);
    java_in_line(&mut b, text, 0, &mut out);
    b.done(&mut out);
    out.finish()
}

/// The `javax.net.ssl` store properties set in `line` (at `at`).
fn java_in_line(b: &mut Building, line: &str, at: usize, out: &mut Parsed) {
    const PROPS: &[&str] = &["javax.net.ssl.keyStore=", "javax.net.ssl.trustStore="];
    for p in PROPS {
        let mut from = 0;
        while let Some(i) = line[from..].find(p) {
            let start = from + i + p.len();
            let rest = &line[start..];
            // A quoted value runs to its closing quote, a bare one to a blank or `;`.
            let (value, used) = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let inner = &rest[1..];
                    let end = inner.find(q).unwrap_or(inner.len());
                    (&inner[..end], (end + 2).min(rest.len()))
                }
                _ => {
                    let end = rest
                        .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ';')
                        .unwrap_or(rest.len());
                    (&rest[..end], end)
                }
            };
            let name = &p[..p.len() - 1];
            let offset = at + line[..start].rfind('\n').map_or(0, |n| n + 1);
            b.add(name, value, offset, out);
            from = start + used;
            if from >= line.len() {
                break;
            }
        }
    }
}

/// Extensions of files that hold key material (for `Environment=` values and bind mounts,
/// where a path is not otherwise known to be one).
fn looks_like_material(path: &str) -> bool {
    const EXT: &[&str] = &[
        ".pem",
        ".crt",
        ".cer",
        ".der",
        ".key",
        ".p12",
        ".pfx",
        ".jks",
        ".jceks",
        ".bcfks",
        ".keystore",
        ".truststore",
        ".p8",
        ".ca-bundle",
    ];
    let lower = path.to_ascii_lowercase();
    EXT.iter().any(|e| lower.ends_with(e))
}

/// systemd units: `LoadCredential=ID:PATH`, `Environment=` values that are paths to key
/// material, and JVM trust and key stores on `ExecStart=` / `Environment=` lines.
fn systemd(lower: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let base = lower.rsplit('/').next().unwrap_or(lower);
    let mut b = Building::new("systemd", base.to_string(), 0);
    for (at, line) in lines(text) {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let k = k.trim();
        match k {
            "LoadCredential" | "LoadCredentialEncrypted" => {
                if let Some((id, path)) = v.split_once(':') {
                    b.add(&format!("{k} {}", id.trim()), path, at, &mut out);
                }
            }
            "Environment" => {
                for assignment in shell_words(v) {
                    if let Some((var, path)) = assignment.split_once('=')
                        && path.starts_with('/')
                        && looks_like_material(path)
                    {
                        b.add(&format!("Environment {var}"), path, at, &mut out);
                    }
                }
            }
            _ => {}
        }
        if k.starts_with("Exec") || k == "Environment" {
            java_in_line(&mut b, line, at, &mut out);
        }
    }
    b.done(&mut out);
    out.finish()
}

/// Words of a systemd value, double and single quotes grouping.
fn shell_words(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in v.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

// ------------------------------------------------------------------ structured formats

/// Flattened `key.path[i]` -> string values of a YAML/JSON/TOML document, in order.
type Flat = Vec<(String, String)>;

/// Flattens a YAML value, at most [`MAX_DEPTH`] levels and [`MAX_KEYS`] values.
fn flatten_yaml(v: &serde_yaml_ng::Value, out: &mut Parsed) -> Flat {
    fn walk(
        v: &serde_yaml_ng::Value,
        path: &str,
        depth: usize,
        flat: &mut Flat,
        errors: &mut Vec<(usize, String)>,
    ) {
        use serde_yaml_ng::Value;
        if flat.len() >= MAX_KEYS {
            if flat.len() == MAX_KEYS && errors.is_empty() {
                errors.push((
                    0,
                    format!(
                        "more than {MAX_KEYS} values in one configuration: the rest are not read"
                    ),
                ));
            }
            return;
        }
        if depth > MAX_DEPTH {
            if errors.is_empty() {
                errors.push((
                    0,
                    format!("configuration nested more than {MAX_DEPTH} deep: not read past it"),
                ));
            }
            return;
        }
        match v {
            Value::Mapping(m) => {
                for (k, val) in m {
                    let k = match k {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => continue,
                    };
                    let p = if path.is_empty() {
                        k
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(val, &p, depth + 1, flat, errors);
                }
            }
            Value::Sequence(s) => {
                for (i, val) in s.iter().enumerate() {
                    walk(val, &format!("{path}[{i}]"), depth + 1, flat, errors);
                }
            }
            Value::String(s) => flat.push((path.to_string(), s.clone())),
            Value::Number(n) => flat.push((path.to_string(), n.to_string())),
            Value::Bool(b) => flat.push((path.to_string(), b.to_string())),
            Value::Tagged(t) => walk(&t.value, path, depth + 1, flat, errors),
            Value::Null => {}
        }
    }
    let mut flat = Vec::new();
    walk(v, "", 0, &mut flat, &mut out.errors);
    flat
}

/// Parses YAML (or JSON) within the manifest bounds; `None` with an error when it does not.
fn load_yaml(text: &str, out: &mut Parsed) -> Option<Vec<serde_yaml_ng::Value>> {
    // The same cheap depth bound as manifests: the parser never sees a deeper document.
    if crate::k8s::nesting(text) > crate::k8s::MAX_NESTING {
        out.errors.push((
            0,
            format!(
                "YAML nested more than {} levels deep: not read as a configuration",
                crate::k8s::MAX_NESTING
            ),
        ));
        return None;
    }
    let mut docs = Vec::new();
    for d in serde_yaml_ng::Deserializer::from_str(text) {
        match serde::Deserialize::deserialize(d) {
            Ok(v) => docs.push(v),
            Err(e) => {
                out.errors
                    .push((0, format!("YAML configuration does not parse: {e}")));
                return None;
            }
        }
        if docs.len() >= 1024 {
            break;
        }
    }
    Some(docs)
}

/// The offset of `value` in `text` at or after `*cursor` (then past it), else 0.
fn locate(text: &str, value: &str, cursor: &mut usize) -> usize {
    let from = (*cursor).min(text.len());
    match text.get(from..).and_then(|t| t.find(value)) {
        Some(i) => {
            *cursor = from + i + value.len();
            from + i
        }
        None => text.find(value).unwrap_or(0),
    }
}

/// Spring Boot and Kafka keys (flattened, lower case) naming a file, and the consumer they
/// belong to: (software, consumer name).
fn app_key(key: &str) -> Option<(&'static str, String)> {
    const SERVER: &[&str] = &[
        "server.ssl.key-store",
        "server.ssl.trust-store",
        "server.ssl.certificate",
        "server.ssl.certificate-private-key",
        "server.ssl.trust-certificate",
        "server.ssl.trust-certificate-private-key",
        "server.ssl.keystore",
        "server.ssl.truststore",
    ];
    let relaxed = key.replace(['_'], "-");
    if SERVER.contains(&relaxed.as_str()) {
        return Some(("spring", "server.ssl".into()));
    }
    if let Some(rest) = relaxed.strip_prefix("spring.ssl.bundle.") {
        // jks.<name>.keystore.location, pem.<name>.keystore.certificate / private-key,
        // pem.<name>.truststore.certificate
        let parts: Vec<&str> = rest.split('.').collect();
        if parts.len() >= 4
            && matches!(parts[0], "jks" | "pem")
            && matches!(parts[2], "keystore" | "truststore")
            && matches!(parts[3], "location" | "certificate" | "private-key")
        {
            return Some((
                "spring",
                format!("spring.ssl.bundle.{}.{}", parts[0], parts[1]),
            ));
        }
        return None;
    }
    // Kafka clients, brokers and streams: `ssl.keystore.location`, with any prefix
    // (`producer.`, `listener.name.internal.`).
    for suffix in ["ssl.keystore.location", "ssl.truststore.location"] {
        if let Some(prefix) = relaxed.strip_suffix(suffix) {
            let prefix = prefix.trim_end_matches('.');
            return Some((
                "kafka",
                if prefix.is_empty() {
                    "ssl".into()
                } else {
                    format!("{prefix} ssl")
                },
            ));
        }
    }
    None
}

/// Consumers of flattened `(key, value)` pairs by [`app_key`].
fn app_consumers(flat: &Flat, text: &str, out: &mut Parsed) {
    let mut by: Vec<Building> = Vec::new();
    let mut cursor = 0;
    for (k, v) in flat {
        let Some((software, name)) = app_key(&k.to_ascii_lowercase()) else {
            continue;
        };
        // `classpath:` names a resource inside the application, `file:` a file.
        let v = v.strip_prefix("file:").unwrap_or(v);
        if v.starts_with("classpath:") {
            continue;
        }
        let at = locate(text, v, &mut cursor);
        let i = match by
            .iter()
            .position(|b| b.software == software && b.name == name)
        {
            Some(i) => i,
            None => {
                by.push(Building::new(software, name, at));
                by.len() - 1
            }
        };
        by[i].add(k, v, at, out);
    }
    for b in by {
        b.done(out);
    }
}

/// Java `.properties` (Spring Boot, Kafka): `key=value`, `key: value` or `key value`.
fn properties(text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut flat: Flat = Vec::new();
    for (_, line) in lines(text) {
        if line.starts_with('!') {
            continue;
        }
        // The key ends at the first `=`, `:` or blank; one `=` or `:` may follow blanks.
        let Some(i) = line.find(|c: char| c == '=' || c == ':' || c.is_whitespace()) else {
            continue;
        };
        let rest = line[i..].trim_start();
        let value = rest.strip_prefix(['=', ':']).unwrap_or(rest).trim();
        if flat.len() >= MAX_KEYS {
            out.errors.push((
                0,
                format!("more than {MAX_KEYS} properties in one file: the rest are not read"),
            ));
            break;
        }
        flat.push((line[..i].to_string(), value.to_string()));
    }
    app_consumers(&flat, text, &mut out);
    out.finish()
}

/// YAML and JSON: Spring Boot application files, Envoy and Traefik configurations.
fn yaml(lower: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let spring = {
        let base = lower.rsplit('/').next().unwrap_or(lower);
        base.starts_with("application") || base.starts_with("bootstrap")
    };
    // Envoy names files (`filename:`) or SDS secrets; only files make references, and
    // istio's golden files hold thousands of SDS-only configurations.
    let envoy = (text.contains("tls_certificate") || text.contains("trusted_ca"))
        && text.contains("filename");
    let traefik = text.contains("certFile") || text.contains("keyFile") || text.contains("caFiles");
    if !(spring || envoy || traefik) {
        return out;
    }
    let Some(docs) = load_yaml(text, &mut out) else {
        return out;
    };
    for doc in &docs {
        let flat = flatten_yaml(doc, &mut out);
        if spring {
            app_consumers(&flat, text, &mut out);
        }
        if envoy {
            envoy_consumers(&flat, text, &mut out);
        }
        if traefik {
            traefik_consumers(&flat, text, &mut out);
        }
    }
    out.finish()
}

/// Envoy: per listener or cluster (`static_resources.listeners[0]`, named by its `name`),
/// the `filename` of every `certificate_chain`, `private_key`, `trusted_ca` and
/// `watched_directory`; SDS secret names are attributes (`sds`).
fn envoy_consumers(flat: &Flat, text: &str, out: &mut Parsed) {
    let mut by: Vec<(String, Building)> = Vec::new();
    let mut cursor = 0;
    for (k, v) in flat {
        let field = k
            .strip_suffix(".filename")
            .and_then(|p| p.rsplit('.').next())
            .filter(|f| {
                matches!(
                    *f,
                    "certificate_chain" | "private_key" | "trusted_ca" | "crl" | "pkcs12"
                )
            });
        let sds = k.contains("_sds_secret_config") && k.ends_with(".name");
        if field.is_none() && !sds {
            continue;
        }
        // The listener or cluster: the first two segments (`static_resources.listeners[0]`).
        let group = {
            let mut ends = k.match_indices('.').map(|(i, _)| i);
            let _ = ends.next();
            ends.next().map_or(k.as_str(), |i| &k[..i]).to_string()
        };
        let i = match by.iter().position(|(g, _)| *g == group) {
            Some(i) => i,
            None => {
                let name = flat
                    .iter()
                    .find(|(fk, _)| *fk == format!("{group}.name"))
                    .map(|(_, n)| n.clone());
                let what = if group.contains("listeners") {
                    "listener"
                } else if group.contains("clusters") {
                    "cluster"
                } else {
                    "tls context"
                };
                let label = match name {
                    Some(n) => format!("{what} {n}"),
                    None => format!("{what} {group}"),
                };
                by.push((group, Building::new("envoy", label, 0)));
                by.len() - 1
            }
        };
        let b = &mut by[i].1;
        if sds {
            let e = b.attributes.iter_mut().find(|(a, _)| a == "sds");
            match e {
                Some((_, names)) if names.split(',').count() < 64 => {
                    names.push(',');
                    names.push_str(v);
                }
                Some(_) => {}
                None => b.attributes.push(("sds".into(), v.clone())),
            }
            continue;
        }
        let at = locate(text, v, &mut cursor);
        if b.refs.is_empty() {
            b.offset = at;
        }
        b.add(field.unwrap_or("filename"), v, at, out);
    }
    for (_, b) in by {
        b.done(out);
    }
}

/// Traefik's file provider: `tls.certificates[i]`, the default certificate of a store and
/// the `caFiles` of TLS options; one consumer per file.
fn traefik_consumers(flat: &Flat, text: &str, out: &mut Parsed) {
    let mut b = Building::new("traefik", "file provider tls", 0);
    let mut cursor = 0;
    for (k, v) in flat {
        // Only Traefik's own sections: other YAML with a `certFile` key is not Traefik's.
        if !(k.starts_with("tls.") || k.starts_with("serversTransport")) {
            continue;
        }
        let last = k.rsplit('.').next().unwrap_or(k);
        let last = last.split('[').next().unwrap_or(last);
        if matches!(last, "certFile" | "keyFile" | "caFiles" | "rootCAs") {
            let at = locate(text, v, &mut cursor);
            if b.refs.is_empty() {
                b.offset = at;
            }
            b.add(k, v, at, out);
        }
    }
    b.done(out);
}

/// Traefik's file provider in TOML.
fn traefik_toml(text: &str) -> Parsed {
    let mut out = Parsed::default();
    if !(text.contains("certFile") || text.contains("keyFile") || text.contains("caFiles")) {
        return out;
    }
    if crate::k8s::nesting(text) > crate::k8s::MAX_NESTING {
        out.errors.push((
            0,
            "TOML nested too deep: not read as a configuration".into(),
        ));
        return out;
    }
    let v: toml::Value = match toml::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            out.errors.push((
                0,
                format!("TOML configuration does not parse: {}", e.message()),
            ));
            return out;
        }
    };
    // TOML and YAML values flatten alike: through serde's data model.
    let Ok(y) = serde_yaml_ng::to_value(&v) else {
        return out;
    };
    let flat = flatten_yaml(&y, &mut out);
    traefik_consumers(&flat, text, &mut out);
    out.finish()
}

/// docker-compose: each service, with the files of the file-based `secrets:` it lists and
/// its bind mounts of key material (a source path ending like a certificate, key or store).
fn compose(text: &str) -> Parsed {
    use serde_yaml_ng::Value;
    let mut out = Parsed::default();
    let Some(docs) = load_yaml(text, &mut out) else {
        return out;
    };
    let Some(doc) = docs.first() else { return out };
    let secret_file = |name: &str| -> Option<String> {
        doc.get("secrets")?
            .get(name)?
            .get("file")?
            .as_str()
            .map(str::to_string)
    };
    let Some(services) = doc.get("services").and_then(Value::as_mapping) else {
        return out;
    };
    let mut cursor = 0;
    for (i, (name, svc)) in services.iter().enumerate() {
        if i >= super::MAX_CONSUMERS {
            break;
        }
        let name = name.as_str().unwrap_or("");
        let at = text.find(&format!("{name}:")).unwrap_or(0);
        let mut b = Building::new("docker-compose", format!("service {name}"), at);
        for s in svc
            .get("secrets")
            .and_then(Value::as_sequence)
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            // `- name` or `- source: name`
            let secret = s
                .as_str()
                .or_else(|| s.get("source").and_then(Value::as_str));
            if let Some(secret) = secret
                && let Some(file) = secret_file(secret)
            {
                let at = locate(text, &file, &mut cursor);
                b.add(&format!("secrets {secret}"), &file, at, &mut out);
            }
        }
        for v in svc
            .get("volumes")
            .and_then(Value::as_sequence)
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let (source, target) = match v {
                Value::String(s) => {
                    let mut parts = s.splitn(3, ':');
                    (
                        parts.next().unwrap_or("").to_string(),
                        parts.next().unwrap_or("").to_string(),
                    )
                }
                Value::Mapping(_) if v.get("type").and_then(Value::as_str) == Some("bind") => (
                    v.get("source").and_then(Value::as_str).unwrap_or("").into(),
                    v.get("target").and_then(Value::as_str).unwrap_or("").into(),
                ),
                _ => continue,
            };
            let bind =
                source.starts_with('.') || source.starts_with('/') || source.starts_with('~');
            if bind && (looks_like_material(&source) || looks_like_material(&target)) {
                let at = locate(text, &source, &mut cursor);
                b.add(&format!("volumes {target}"), &source, at, &mut out);
            }
        }
        b.done(&mut out);
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(p: &Parsed, i: usize) -> Vec<(&str, &str)> {
        p.consumers[i]
            .references
            .iter()
            .map(|r| (r.directive.as_str(), r.value.as_str()))
            .collect()
    }

    #[test]
    fn spring_properties_and_yaml_name_their_stores_and_bundles() {
        let props = "server.port=8443\nserver.ssl.key-store=file:/etc/app/keystore.p12\nserver.ssl.key-store-password=changeit\nserver.ssl.trust-store = /etc/app/trust.jks\nspring.ssl.bundle.pem.client.keystore.certificate=/etc/app/client.crt\nspring.ssl.bundle.pem.client.keystore.private-key=/etc/app/client.key\nspring.ssl.bundle.jks.web.keystore.location=classpath:web.p12\n";
        let p = parse("config/application.properties", props);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.consumers.len(), 2, "{:?}", p.consumers);
        assert_eq!(p.consumers[0].name, "server.ssl");
        assert_eq!(
            refs(&p, 0),
            [
                ("server.ssl.key-store", "/etc/app/keystore.p12"),
                ("server.ssl.trust-store", "/etc/app/trust.jks")
            ]
        );
        assert_eq!(p.consumers[1].name, "spring.ssl.bundle.pem.client");
        assert_eq!(p.consumers[1].references.len(), 2);
        // Its offset is on its line (the fourth).
        let at = p.consumers[0].references[1].offset;
        assert_eq!(props[..at].matches('\n').count(), 3);

        let yml = "server:\n  ssl:\n    key-store: /etc/app/keystore.p12\n    key-store-type: PKCS12\nspring:\n  ssl:\n    bundle:\n      jks:\n        mtls:\n          truststore:\n            location: /etc/app/ca.jks\n";
        let p = parse("application-prod.yml", yml);
        assert_eq!(
            refs(&p, 0),
            [("server.ssl.key-store", "/etc/app/keystore.p12")]
        );
        assert_eq!(
            refs(&p, 1),
            [(
                "spring.ssl.bundle.jks.mtls.truststore.location",
                "/etc/app/ca.jks"
            )]
        );
    }

    #[test]
    fn kafka_postgres_redis_mysql_openvpn_and_vault() {
        let p = parse(
            "client.properties",
            "security.protocol=SSL\nssl.truststore.location=/var/private/ssl/kafka.client.truststore.jks\nlistener.name.internal.ssl.keystore.location=/var/private/ssl/broker.jks\n",
        );
        assert_eq!(p.consumers[0].software, "kafka");
        assert_eq!(p.consumers[0].name, "ssl");
        assert_eq!(p.consumers[1].name, "listener.name.internal ssl");

        let p = parse(
            "postgresql.conf",
            "ssl = on\nssl_cert_file = 'server.crt'  # in the data directory\nssl_key_file = '/etc/postgresql/server.key'\n#ssl_ca_file = ''\n",
        );
        assert_eq!(
            refs(&p, 0),
            [
                ("ssl_cert_file", "server.crt"),
                ("ssl_key_file", "/etc/postgresql/server.key")
            ]
        );

        let p = parse(
            "redis.conf",
            "port 0\ntls-port 6379\ntls-cert-file /etc/redis/redis.crt\ntls-key-file /etc/redis/redis.key\ntls-ca-cert-file \"/etc/redis/ca.crt\"\n",
        );
        assert_eq!(p.consumers[0].references.len(), 3);
        assert_eq!(p.consumers[0].references[2].value, "/etc/redis/ca.crt");

        let p = parse(
            "my.cnf",
            "[client]\nssl-ca=/etc/mysql/ca.pem\n[mysqld]\nssl_cert = /etc/mysql/server-cert.pem\nssl-key=/etc/mysql/server-key.pem\n",
        );
        assert_eq!(p.consumers.len(), 2);
        assert_eq!(p.consumers[0].name, "[client]");
        assert_eq!(
            refs(&p, 1),
            [
                ("ssl-cert", "/etc/mysql/server-cert.pem"),
                ("ssl-key", "/etc/mysql/server-key.pem")
            ]
        );

        let p = parse(
            "openvpn/server.conf",
            "port 1194\ndev tun\nca ca.crt\ncert server.crt\nkey server.key  # keep secret\ndh none\ntls-auth ta.key 0\n",
        );
        assert_eq!(p.consumers[0].name, "server server");
        assert_eq!(
            refs(&p, 0),
            [
                ("ca", "ca.crt"),
                ("cert", "server.crt"),
                ("key", "server.key"),
                ("tls-auth", "ta.key")
            ]
        );

        let p = parse(
            "vault.hcl",
            "storage \"raft\" {\n  path = \"/vault/data\"\n}\nlistener \"tcp\" {\n  address = \"0.0.0.0:8200\"\n  tls_cert_file = \"/etc/vault/tls.crt\"\n  tls_key_file  = \"/etc/vault/tls.key\"\n}\n",
        );
        assert_eq!(p.consumers[0].name, "listener tcp #1");
        assert_eq!(
            refs(&p, 0),
            [
                ("tls_cert_file", "/etc/vault/tls.crt"),
                ("tls_key_file", "/etc/vault/tls.key")
            ]
        );
        let p = parse("vault.hcl", "listener \"tcp\" {\n  tls_cert_file = \"a\"\n");
        assert!(p.consumers.is_empty());
        assert!(p.errors[0].1.contains("not closed"), "{:?}", p.errors);
    }

    #[test]
    fn envoy_traefik_compose_and_systemd() {
        let envoy = "static_resources:\n  listeners:\n  - name: https\n    filter_chains:\n    - transport_socket:\n        name: envoy.transport_sockets.tls\n        typed_config:\n          common_tls_context:\n            tls_certificates:\n            - certificate_chain: {filename: /etc/envoy/certs/server.crt}\n              private_key: {filename: /etc/envoy/certs/server.key}\n            tls_certificate_sds_secret_configs:\n            - name: spiffe-server\n  clusters:\n  - name: backend\n    transport_socket:\n      typed_config:\n        common_tls_context:\n          validation_context:\n            trusted_ca: {filename: /etc/envoy/certs/ca.crt}\n";
        let p = parse("envoy.yaml", envoy);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.consumers[0].name, "listener https");
        assert_eq!(
            refs(&p, 0),
            [
                ("certificate_chain", "/etc/envoy/certs/server.crt"),
                ("private_key", "/etc/envoy/certs/server.key")
            ]
        );
        assert_eq!(
            p.consumers[0].attributes,
            [("sds".to_string(), "spiffe-server".to_string())]
        );
        assert_eq!(p.consumers[1].name, "cluster backend");

        let traefik = "tls:\n  certificates:\n    - certFile: /certs/site.crt\n      keyFile: /certs/site.key\n  stores:\n    default:\n      defaultCertificate:\n        certFile: /certs/default.crt\n        keyFile: /certs/default.key\n";
        let p = parse("dynamic.yml", traefik);
        assert_eq!(p.consumers[0].software, "traefik");
        assert_eq!(p.consumers[0].references.len(), 4);
        // A `certFile` outside Traefik's sections (a Helm chart's values) is not Traefik's.
        assert!(
            parse("values.yaml", "ingress:\n  certFile: /x.crt\n")
                .consumers
                .is_empty()
        );
        let toml =
            "[[tls.certificates]]\n  certFile = \"/certs/a.crt\"\n  keyFile = \"/certs/a.key\"\n";
        let p = parse("dynamic.toml", toml);
        assert_eq!(
            refs(&p, 0),
            [
                ("tls.certificates[0].certFile", "/certs/a.crt"),
                ("tls.certificates[0].keyFile", "/certs/a.key")
            ]
        );

        let compose = "services:\n  web:\n    image: nginx\n    secrets:\n      - site_key\n      - source: unused_by_file\n    volumes:\n      - ./certs/site.crt:/etc/nginx/site.crt:ro\n      - ./html:/usr/share/nginx/html\n      - type: bind\n        source: ./tls\n        target: /etc/ssl/private/server.key\n  db:\n    image: postgres\nsecrets:\n  site_key:\n    file: ./secrets/site.key\n  unused_by_file:\n    external: true\n";
        let p = parse("docker-compose.yml", compose);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.consumers.len(), 1, "{:?}", p.consumers);
        assert_eq!(p.consumers[0].name, "service web");
        assert_eq!(
            refs(&p, 0),
            [
                ("secrets site_key", "./secrets/site.key"),
                ("volumes /etc/nginx/site.crt", "./certs/site.crt"),
                ("volumes /etc/ssl/private/server.key", "./tls"),
            ]
        );

        let unit = "[Unit]\nDescription=Ledger\n[Service]\nLoadCredential=tls.key:/etc/ledger/tls.key\nEnvironment=\"TLS_CERT=/etc/ledger/tls.crt\" LOG=/var/log/x\nExecStart=/usr/bin/java -Djavax.net.ssl.trustStore=/etc/ledger/trust.jks -Djavax.net.ssl.keyStore=/etc/ledger/ks.p12 -jar ledger.jar\n";
        let p = parse("ledger.service", unit);
        assert_eq!(p.consumers[0].name, "ledger.service");
        assert_eq!(
            refs(&p, 0),
            [
                ("LoadCredential tls.key", "/etc/ledger/tls.key"),
                ("Environment TLS_CERT", "/etc/ledger/tls.crt"),
                ("javax.net.ssl.keyStore", "/etc/ledger/ks.p12"),
                ("javax.net.ssl.trustStore", "/etc/ledger/trust.jks"),
            ]
        );
        let p = parse(
            "bin/start.sh",
            "#!/bin/sh\nexec java -Djavax.net.ssl.keyStore=\"$HOME/ks.jks\" -Djavax.net.ssl.trustStore=/opt/app/trust.jks -jar app.jar\n",
        );
        assert_eq!(p.consumers[0].software, "java");
        assert_eq!(p.consumers[0].references.len(), 2);
        assert_eq!(p.consumers[0].references[1].value, "/opt/app/trust.jks");
    }

    #[test]
    fn broken_and_hostile_structured_files_are_errors() {
        let p = parse("envoy.yaml", "tls_certificates: [filename\n");
        assert!(p.consumers.is_empty());
        assert!(p.errors[0].1.contains("does not parse"), "{:?}", p.errors);
        let deep = format!(
            "tls_certificates: {}filename{}\n",
            "[".repeat(100),
            "]".repeat(100)
        );
        let p = parse("envoy.yaml", &deep);
        assert!(p.errors[0].1.contains("nested more than"), "{:?}", p.errors);
        let p = parse("dynamic.toml", "certFile = \n");
        assert!(p.errors[0].1.contains("TOML"), "{:?}", p.errors);
        // Many keys: the walk stops at MAX_KEYS with one error.
        let mut many = String::from("tls:\n  certificates:\n");
        for i in 0..(MAX_KEYS + 10) {
            many.push_str(&format!("    - x{i}\n"));
        }
        let p = parse("dynamic.yml", &format!("{many}    - certFile: /a.crt\n"));
        assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
        assert!(p.errors[0].1.contains("more than 65536"));
        // References per consumer are bounded.
        let mut props = String::new();
        for i in 0..300 {
            props.push_str(&format!("p{i}.ssl.keystore.location=/k{i}.jks\n"));
        }
        let p = parse("big.properties", &props);
        assert_eq!(p.consumers.len(), 300);
        let mut unit = String::from("[Service]\n");
        for i in 0..300 {
            unit.push_str(&format!("LoadCredential=c{i}:/etc/c{i}.pem\n"));
        }
        let p = parse("x.service", &unit);
        assert_eq!(
            p.consumers[0].references.len(),
            super::super::MAX_REFERENCES
        );
        assert!(p.errors[0].1.contains("more than 256"), "{:?}", p.errors);
    }
}
