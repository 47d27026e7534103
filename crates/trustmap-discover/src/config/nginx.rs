//! nginx: `server` blocks (in `http` and `stream`) and the certificate and key files their
//! `ssl_*`, `proxy_ssl_*` and `grpc_ssl_*` directives name, with the `http`/`stream`-level
//! directives a server inherits.

use super::{Consumer, MAX_DEPTH, Parsed, Ref, add_ref, clean};

/// Directives whose argument is a file of key material.
const DIRECTIVES: &[&str] = &[
    "ssl_certificate",
    "ssl_certificate_key",
    "ssl_trusted_certificate",
    "ssl_client_certificate",
    "proxy_ssl_certificate",
    "proxy_ssl_certificate_key",
    "proxy_ssl_trusted_certificate",
    "grpc_ssl_certificate",
    "grpc_ssl_certificate_key",
    "grpc_ssl_trusted_certificate",
];

pub(super) fn looks_like(text: &str) -> bool {
    text.contains('{') && DIRECTIVES.iter().any(|d| text.contains(d))
}

/// One directive, with its block when it has one.
#[derive(Debug)]
struct Directive {
    name: String,
    args: Vec<String>,
    offset: usize,
    block: Option<Vec<Directive>>,
}

pub(super) fn parse(text: &str) -> Parsed {
    let mut out = Parsed::default();
    let tree = match tree(text) {
        Ok(t) => t,
        Err((at, msg)) => {
            out.errors.push((at, format!("nginx configuration: {msg}")));
            return out;
        }
    };
    walk(&tree, &[], "", &mut out);
    out.finish()
}

/// Walks a block: `inherited` are the references of enclosing `http`/`stream` blocks.
fn walk(block: &[Directive], inherited: &[Ref], context: &str, out: &mut Parsed) {
    let mut here: Vec<Ref> = inherited.to_vec();
    for d in block {
        if d.block.is_none()
            && DIRECTIVES.contains(&d.name.as_str())
            && let Some(v) = d.args.first()
        {
            add_ref(
                &mut here,
                Ref {
                    directive: d.name.clone(),
                    value: v.clone(),
                    offset: d.offset,
                },
                &mut out.errors,
            );
        }
    }
    let mut servers = 0;
    for d in block {
        let Some(inner) = &d.block else { continue };
        match d.name.as_str() {
            "http" | "stream" => walk(inner, &here, &d.name, out),
            // A `server` at the top level is a sites-enabled file included inside `http`.
            "server" if matches!(context, "" | "http" | "stream") => {
                servers += 1;
                let mut refs = here.clone();
                let mut errors = Vec::new();
                collect(inner, &mut refs, &mut errors, 0);
                out.errors.extend(errors);
                let first = |name: &str| {
                    inner
                        .iter()
                        .find(|x| x.name == name)
                        .and_then(|x| x.args.first().cloned())
                };
                let mut name = format!(
                    "server {}",
                    first("server_name").unwrap_or_else(|| "_".into())
                );
                if let Some(l) = first("listen") {
                    name.push_str(&format!(" (listen {l})"));
                }
                out.push(Consumer {
                    software: "nginx",
                    name,
                    offset: d.offset,
                    references: clean(refs),
                    attributes: Vec::new(),
                });
            }
            _ => {}
        }
    }
    // Key material named outside any server (a file of `http`-level settings included by
    // the main configuration) is used by the servers that include it: one consumer for it.
    if servers == 0 && here.len() > inherited.len() && matches!(context, "" | "http" | "stream") {
        let offset = here[inherited.len()].offset;
        out.push(Consumer {
            software: "nginx",
            name: if context.is_empty() {
                "main".into()
            } else {
                context.into()
            },
            offset,
            references: clean(here),
            attributes: Vec::new(),
        });
    }
}

/// The references anywhere inside a server (its `location`s' `proxy_ssl_*` too).
fn collect(
    block: &[Directive],
    refs: &mut Vec<Ref>,
    errors: &mut Vec<(usize, String)>,
    depth: usize,
) {
    for d in block {
        match &d.block {
            Some(inner) if depth < MAX_DEPTH => collect(inner, refs, errors, depth + 1),
            Some(_) => {}
            None if DIRECTIVES.contains(&d.name.as_str()) => {
                if let Some(v) = d.args.first() {
                    add_ref(
                        refs,
                        Ref {
                            directive: d.name.clone(),
                            value: v.clone(),
                            offset: d.offset,
                        },
                        errors,
                    );
                }
            }
            None => {}
        }
    }
}

/// At most this many words in one directive.
const MAX_ARGS: usize = 1024;

/// The directive tree, or where and why the text is not a well-formed configuration.
fn tree(text: &str) -> Result<Vec<Directive>, (usize, String)> {
    let b = text.as_bytes();
    // Stack of open blocks: (directive that opened it, its children so far).
    let mut stack: Vec<(Option<Directive>, Vec<Directive>)> = vec![(None, Vec::new())];
    let mut words: Vec<String> = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b';' => {
                if let Some((name, args)) = words.split_first() {
                    let d = Directive {
                        name: name.clone(),
                        args: args.to_vec(),
                        offset: start,
                        block: None,
                    };
                    stack.last_mut().expect("root").1.push(d);
                }
                words.clear();
                i += 1;
            }
            b'{' => {
                if stack.len() > MAX_DEPTH {
                    return Err((i, format!("blocks nested more than {MAX_DEPTH} deep")));
                }
                let Some((name, args)) = words.split_first() else {
                    return Err((i, "a block with no directive before it".into()));
                };
                let d = Directive {
                    name: name.clone(),
                    args: args.to_vec(),
                    offset: start,
                    block: None,
                };
                stack.push((Some(d), Vec::new()));
                words.clear();
                i += 1;
            }
            b'}' => {
                if !words.is_empty() {
                    return Err((i, "a directive not ended by `;` before `}`".into()));
                }
                if stack.len() == 1 {
                    return Err((i, "`}` closes no block".into()));
                }
                let (d, children) = stack.pop().expect("checked");
                let mut d = d.expect("only the root has none");
                d.block = Some(children);
                stack.last_mut().expect("root").1.push(d);
                i += 1;
            }
            _ => {
                if words.is_empty() {
                    start = i;
                }
                if words.len() >= MAX_ARGS {
                    return Err((start, format!("a directive of more than {MAX_ARGS} words")));
                }
                let (w, next) = word(b, i)?;
                words.push(w);
                i = next;
            }
        }
    }
    if stack.len() > 1 {
        let at = stack
            .last()
            .and_then(|(d, _)| d.as_ref())
            .map_or(0, |d| d.offset);
        return Err((at, "a block is not closed (missing `}`)".into()));
    }
    if !words.is_empty() {
        return Err((start, "the last directive is not ended by `;`".into()));
    }
    Ok(stack.pop().expect("root").1)
}

/// One word at `i`: quoted (`"..."`, `'...'`, backslash escapes) or bare; returns it and the
/// offset after it.
fn word(b: &[u8], mut i: usize) -> Result<(String, usize), (usize, String)> {
    let mut out = Vec::new();
    if b[i] == b'"' || b[i] == b'\'' {
        let q = b[i];
        let open = i;
        i += 1;
        while i < b.len() && b[i] != q {
            if b[i] == b'\\' && i + 1 < b.len() {
                i += 1;
            }
            out.push(b[i]);
            i += 1;
        }
        if i >= b.len() {
            return Err((open, "a quoted string is not closed".into()));
        }
        i += 1;
    } else {
        while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\r' | b'\n' | b';' | b'{' | b'}') {
            if b[i] == b'\\' && i + 1 < b.len() {
                i += 1;
            }
            out.push(b[i]);
            i += 1;
        }
    }
    Ok((String::from_utf8_lossy(&out).into_owned(), i))
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
    fn servers_name_their_files_and_inherit_http_level_ones() {
        let text = r#"
events {}
http {
    ssl_trusted_certificate /etc/ssl/ca.pem;   # for every server
    server {
        listen 443 ssl;
        server_name api.example.com www.example.com;
        ssl_certificate     "/etc/nginx/ssl/api.crt";
        ssl_certificate_key /etc/nginx/ssl/api.key;
        location / { proxy_ssl_certificate /etc/nginx/upstream.crt; proxy_pass https://b; }
    }
    server { listen 80; server_name plain.example.com; }
    server { listen 8443 ssl; ssl_certificate $ssl_server_name.crt; }
}
"#;
        let p = parse(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.consumers.len(), 3);
        assert_eq!(p.consumers[0].name, "server api.example.com (listen 443)");
        assert_eq!(
            refs(&p, 0),
            [
                ("ssl_trusted_certificate", "/etc/ssl/ca.pem"),
                ("ssl_certificate", "/etc/nginx/ssl/api.crt"),
                ("ssl_certificate_key", "/etc/nginx/ssl/api.key"),
                ("proxy_ssl_certificate", "/etc/nginx/upstream.crt"),
            ]
        );
        // The plain server uses the inherited CA file only.
        assert_eq!(p.consumers[1].name, "server plain.example.com (listen 80)");
        assert_eq!(
            refs(&p, 1),
            [("ssl_trusted_certificate", "/etc/ssl/ca.pem")]
        );
        assert_eq!(refs(&p, 2)[1], ("ssl_certificate", "$ssl_server_name.crt"));
        assert_eq!(
            &text[p.consumers[0].references[1].offset..][..15],
            "ssl_certificate"
        );
    }

    #[test]
    fn an_include_loop_is_read_once_per_file_never_followed() {
        // Each file is parsed on its own (the scanner reads every file of the tree once), so
        // a configuration including itself, or two including each other, cannot loop.
        let own = "include /etc/nginx/nginx.conf;\nhttp {\n  include /etc/nginx/nginx.conf;\n  server {\n    ssl_certificate a.crt;\n  }\n}\n";
        let p = parse(own);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.consumers.len(), 1);
        assert_eq!(p.consumers[0].references[0].value, "a.crt");
    }

    #[test]
    fn broken_configurations_are_errors_not_guesses() {
        for (text, msg) in [
            ("http { server { ssl_certificate a.crt; }", "not closed"),
            ("http { ssl_certificate a.crt; } }", "closes no block"),
            (
                "http { ssl_certificate \"a.crt; }",
                "quoted string is not closed",
            ),
            ("http { ssl_certificate a.crt }", "not ended by `;`"),
        ] {
            let p = parse(text);
            assert!(p.consumers.is_empty(), "{text}");
            assert_eq!(p.errors.len(), 1, "{text}");
            assert!(p.errors[0].1.contains(msg), "{text}: {:?}", p.errors);
        }
        let deep = format!("{}ssl_certificate a;{}", "a {".repeat(100), "}".repeat(100));
        let p = parse(&deep);
        assert!(
            p.errors[0].1.contains("nested more than 64 deep"),
            "{:?}",
            p.errors
        );
        let wide = format!("ssl_certificate {};", "x ".repeat(2000));
        assert!(parse(&wide).errors[0].1.contains("more than 1024 words"));
    }

    #[test]
    fn references_and_consumers_are_bounded() {
        let many_refs = format!(
            "http {{ server {{ {} }} }}",
            "ssl_certificate a.crt; ".repeat(super::super::MAX_REFERENCES + 10)
        );
        let p = parse(&many_refs);
        assert_eq!(
            p.consumers[0].references.len(),
            super::super::MAX_REFERENCES
        );
        assert!(
            p.errors.iter().any(|e| e.1.contains("more than 256")),
            "{:?}",
            p.errors
        );
        let many_servers = format!(
            "http {{ {} }}",
            "server { ssl_certificate a.crt; } ".repeat(super::super::MAX_CONSUMERS + 5)
        );
        let p = parse(&many_servers);
        assert_eq!(p.consumers.len(), super::super::MAX_CONSUMERS);
        assert_eq!(p.errors.len(), 1, "one error for the rest");
    }
}
