//! Apache httpd: `<VirtualHost>` sections and the files their `SSLCertificateFile`,
//! `SSLCertificateKeyFile`, `SSLCACertificateFile`, `SSLCertificateChainFile` and
//! `SSLProxy*` directives name; directives outside any virtual host are the main server's
//! (which the virtual hosts inherit).

use super::{Consumer, MAX_DEPTH, Parsed, Ref, add_ref, clean};

/// Directives (matched case-insensitively, as httpd does) whose argument is a file of key
/// material.
const DIRECTIVES: &[&str] = &[
    "sslcertificatefile",
    "sslcertificatekeyfile",
    "sslcacertificatefile",
    "sslcertificatechainfile",
    "sslproxymachinecertificatefile",
    "sslproxycacertificatefile",
];

pub(super) fn looks_like(text: &str) -> bool {
    // httpd's directives are case-insensitive; the caller's prefilter matched one of these
    // in any case, so the exact-case tests cover real files and the rest is rare.
    text.contains("SSLCertificate")
        || text.contains("SSLCACertificate")
        || text.contains("SSLProxy")
        || (text.len() <= super::MAX_CONFIG_BYTES
            && text.to_ascii_lowercase().contains("sslcertificatefile"))
}

pub(super) fn parse(text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut main: Vec<Ref> = Vec::new();
    // Open sections: (name lowercased, offset); a virtual host's references and names.
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut vhost: Option<(String, usize, Vec<Ref>, Option<String>)> = None;
    let mut vhosts: Vec<(String, usize, Vec<Ref>, Option<String>)> = Vec::new();
    for (offset, line) in logical_lines(text) {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if let Some(rest) = t.strip_prefix("</") {
            let name = rest.trim_end_matches('>').trim().to_ascii_lowercase();
            match open.pop() {
                Some((n, _)) if n == name => {}
                _ => {
                    out.errors.push((
                        offset,
                        format!("Apache configuration: </{name}> closes no open <{name}> section"),
                    ));
                    return out;
                }
            }
            if name == "virtualhost"
                && let Some(v) = vhost.take()
            {
                vhosts.push(v);
            }
            continue;
        }
        if let Some(rest) = t.strip_prefix('<') {
            let inner = rest.trim_end_matches('>');
            let mut parts = inner.splitn(2, char::is_whitespace);
            let name = parts.next().unwrap_or("").to_ascii_lowercase();
            let args = parts.next().unwrap_or("").trim().to_string();
            if open.len() >= MAX_DEPTH {
                out.errors.push((
                    offset,
                    format!("Apache configuration: sections nested more than {MAX_DEPTH} deep"),
                ));
                return out;
            }
            if name == "virtualhost" {
                if vhost.is_some() {
                    out.errors.push((
                        offset,
                        "Apache configuration: <VirtualHost> inside <VirtualHost>".into(),
                    ));
                    return out;
                }
                vhost = Some((args, offset, Vec::new(), None));
            }
            open.push((name, offset));
            continue;
        }
        let mut words = t.split_whitespace();
        let Some(directive) = words.next() else {
            continue;
        };
        let lower = directive.to_ascii_lowercase();
        let value = words.next().map(|v| v.trim_matches('"').to_string());
        if lower == "servername"
            && let (Some((_, _, _, name)), Some(v)) = (&mut vhost, &value)
        {
            *name = Some(v.clone());
            continue;
        }
        if !DIRECTIVES.contains(&lower.as_str()) {
            continue;
        }
        let Some(value) = value else { continue };
        let r = Ref {
            directive: directive.to_string(),
            value,
            offset,
        };
        match &mut vhost {
            Some((_, _, refs, _)) => add_ref(refs, r, &mut out.errors),
            None => add_ref(&mut main, r, &mut out.errors),
        }
    }
    if let Some((name, at)) = open.last() {
        out.errors
            .push((*at, format!("Apache configuration: <{name}> is not closed")));
        return out;
    }
    let main = clean(main);
    if !main.is_empty() {
        out.push(Consumer {
            software: "apache",
            name: "main server".into(),
            offset: main[0].offset,
            references: main.clone(),
            attributes: Vec::new(),
        });
    }
    for (addr, at, refs, server_name) in vhosts {
        let mut refs = clean(refs);
        // The main server's files apply where the virtual host sets none of its own.
        for m in &main {
            if !refs
                .iter()
                .any(|r| r.directive.eq_ignore_ascii_case(&m.directive))
            {
                refs.push(m.clone());
            }
        }
        let name = match server_name {
            Some(n) => format!("VirtualHost {addr} ({n})"),
            None => format!("VirtualHost {addr}"),
        };
        out.push(Consumer {
            software: "apache",
            name,
            offset: at,
            references: refs,
            attributes: Vec::new(),
        });
    }
    out.finish()
}

/// Lines with their offsets, backslash-continued lines joined.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let (start, mut acc) = pending.take().unwrap_or((offset, String::new()));
        if let Some(head) = line.strip_suffix('\\') {
            acc.push_str(head);
            acc.push(' ');
            pending = Some((start, acc));
        } else {
            acc.push_str(line);
            out.push((start, acc));
        }
        offset += raw.len();
    }
    if let Some(p) = pending {
        out.push(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_hosts_name_their_files_and_inherit_the_main_servers() {
        let text = "SSLCACertificateFile /etc/ssl/ca.pem\n\
<VirtualHost *:443>\n\
  ServerName www.example.com\n\
  SSLEngine on\n\
  sslcertificatefile \"/etc/apache2/ssl/www.crt\"\n\
  SSLCertificateKeyFile \\\n     /etc/apache2/ssl/www.key\n\
  <Directory /var/www>\n    Require all granted\n  </Directory>\n\
</VirtualHost>\n";
        let p = parse(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.consumers.len(), 2);
        assert_eq!(p.consumers[0].name, "main server");
        assert_eq!(p.consumers[1].name, "VirtualHost *:443 (www.example.com)");
        let refs: Vec<(&str, &str)> = p.consumers[1]
            .references
            .iter()
            .map(|r| (r.directive.as_str(), r.value.as_str()))
            .collect();
        assert_eq!(
            refs,
            [
                ("sslcertificatefile", "/etc/apache2/ssl/www.crt"),
                ("SSLCertificateKeyFile", "/etc/apache2/ssl/www.key"),
                ("SSLCACertificateFile", "/etc/ssl/ca.pem"),
            ]
        );
    }

    #[test]
    fn broken_sections_are_errors() {
        let p = parse("<VirtualHost *:443>\nSSLCertificateFile a.crt\n");
        assert!(p.consumers.is_empty());
        assert!(
            p.errors[0].1.contains("<virtualhost> is not closed"),
            "{:?}",
            p.errors
        );
        let p = parse("SSLCertificateFile a.crt\n</VirtualHost>\n");
        assert!(p.errors[0].1.contains("closes no open"), "{:?}", p.errors);
        let deep = format!("{}SSLCertificateFile a\n", "<If x>\n".repeat(80));
        assert!(parse(&deep).errors[0].1.contains("nested more than 64"));
    }
}
