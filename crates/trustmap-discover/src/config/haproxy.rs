//! HAProxy: `frontend`, `backend` and `listen` sections and the files their `bind` and
//! `server` lines name with `crt`, `ca-file`, `crl-file` and `crt-list`.

use super::{Consumer, Parsed, Ref, add_ref, clean};

/// Keywords of `bind` and `server` lines followed by a file of key material.
const KEYWORDS: &[&str] = &["crt", "ca-file", "crt-list", "ca-verify-file"];
const SECTIONS: &[&str] = &[
    "frontend",
    "backend",
    "listen",
    "defaults",
    "global",
    "peers",
    "resolvers",
    "userlist",
    "program",
    "cache",
    "ring",
    "http-errors",
    "mailers",
];

pub(super) fn looks_like(name: &str, text: &str) -> bool {
    (name.contains("haproxy") || name.ends_with(".cfg"))
        && (text.contains("frontend") || text.contains("listen") || text.contains("backend"))
        && KEYWORDS.iter().any(|k| text.contains(&format!(" {k} ")))
}

pub(super) fn parse(text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut current: Option<(String, usize, Vec<Ref>)> = None;
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let at = offset;
        offset += raw.len();
        let line = raw.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        let starts_section = !raw.starts_with([' ', '\t']) && SECTIONS.contains(&first);
        if starts_section {
            if let Some((name, o, refs)) = current.take() {
                out.push(consumer(name, o, refs));
            }
            if matches!(first, "frontend" | "backend" | "listen") {
                let name = words.next().unwrap_or("").to_string();
                current = Some((format!("{first} {name}"), at, Vec::new()));
            }
            continue;
        }
        if !matches!(first, "bind" | "server" | "default-server") {
            continue;
        }
        let Some((_, _, refs)) = &mut current else {
            continue;
        };
        let rest: Vec<&str> = words.collect();
        for pair in rest.windows(2) {
            if KEYWORDS.contains(&pair[0]) {
                add_ref(
                    refs,
                    Ref {
                        directive: format!("{first} {}", pair[0]),
                        value: pair[1].trim_matches('"').to_string(),
                        offset: at,
                    },
                    &mut out.errors,
                );
            }
        }
    }
    if let Some((name, o, refs)) = current.take() {
        out.push(consumer(name, o, refs));
    }
    out.finish()
}

fn consumer(name: String, offset: usize, refs: Vec<Ref>) -> Consumer {
    Consumer {
        software: "haproxy",
        name,
        offset,
        references: clean(refs),
        attributes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_name_the_files_of_their_bind_and_server_lines() {
        let text = "global\n    maxconn 100\n\
frontend fe_https\n    bind :443 ssl crt /etc/haproxy/certs/site.pem ca-file /etc/haproxy/ca.pem verify optional\n    default_backend be\n\
backend be\n    server s1 10.0.0.1:8443 ssl crt /etc/haproxy/client.pem ca-file /etc/haproxy/ca.pem # mTLS\n\
backend plain\n    server s2 10.0.0.2:80\n";
        assert!(looks_like("haproxy.cfg", text));
        let p = parse(text);
        assert_eq!(p.consumers.len(), 2, "{:?}", p.consumers);
        assert_eq!(p.consumers[0].name, "frontend fe_https");
        let refs: Vec<(&str, &str)> = p.consumers[0]
            .references
            .iter()
            .map(|r| (r.directive.as_str(), r.value.as_str()))
            .collect();
        assert_eq!(
            refs,
            [
                ("bind crt", "/etc/haproxy/certs/site.pem"),
                ("bind ca-file", "/etc/haproxy/ca.pem")
            ]
        );
        assert_eq!(p.consumers[1].name, "backend be");
        assert_eq!(
            p.consumers[1].references[0].value,
            "/etc/haproxy/client.pem"
        );
    }
}
