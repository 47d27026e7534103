//! Configuration files that load key material: the consumers of certificates and keys
//! (nginx `server` blocks, Apache `VirtualHost`s, HAProxy `frontend`/`backend`/`listen`
//! sections, applications, data stores and orchestration in `apps`, Kubernetes objects in
//! [`kubernetes`]) and the files (or Secrets) each names. The engine resolves the names against the scan's
//! assets after the walk and records `uses` relations (`trustmap_engine::consumers`).
//!
//! Hand-written: no maintained Rust crate parses these formats (the `nginx-config` crate has
//! not been released since 2019 and rejects current syntax), and what is needed is small: the
//! block structure and a few directives. Every parser is bounded: input size
//! ([`MAX_CONFIG_BYTES`]), nesting ([`MAX_DEPTH`]), consumers per file ([`MAX_CONSUMERS`]) and
//! references per consumer ([`MAX_REFERENCES`]); hitting a bound is an error, never a hang.

mod apache;
mod apps;
mod haproxy;
pub mod kubernetes;
mod nginx;
mod terraform;

/// Files larger than this are not read as configuration (real ones are kilobytes).
pub const MAX_CONFIG_BYTES: usize = 1 << 20;
/// Blocks nested deeper than this end the parse with an error.
pub const MAX_DEPTH: usize = 64;
/// Consumers kept per file.
pub const MAX_CONSUMERS: usize = 4096;
/// References kept per consumer.
pub const MAX_REFERENCES: usize = 256;

/// One consumer found in a configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Consumer {
    /// nginx, apache, haproxy, kubernetes, spring, postgresql, ...
    pub software: &'static str,
    /// `server api.example.com:443`, `VirtualHost *:443 (www.example.com)`, `frontend fe`.
    pub name: String,
    /// Byte offset of the block that defines it.
    pub offset: usize,
    pub references: Vec<Ref>,
    /// What else the configuration says (`trustmap_core::ConsumerInfo::attributes`).
    pub attributes: Vec<(String, String)>,
}

/// A file a consumer names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    pub directive: String,
    pub value: String,
    /// Byte offset of the directive.
    pub offset: usize,
}

/// What a configuration file yielded: consumers, and errors as (offset, message).
#[derive(Debug, Default, Clone)]
pub struct Parsed {
    pub consumers: Vec<Consumer>,
    pub errors: Vec<(usize, String)>,
}

/// Words one of the parsers needs to see before a file is worth decoding as text: one
/// case-sensitive pass over the bytes ([`crate::literal`]; at most 64 words keep it on the
/// packed searcher). Each word is matched as the software writes it: nginx, HAProxy, Spring,
/// Kafka, PostgreSQL, MySQL, Redis, Vault, Envoy and OpenVPN keys are lowercase, systemd's
/// and Traefik's CamelCase; httpd's directives are case-insensitive, and are matched as
/// written in practice: CamelCase (the documentation's), lowercase and uppercase (a
/// directive spelled `SslCertificateFile` is not seen). docker-compose files are recognised
/// by name instead (`secrets:` and `volumes:` are in every other YAML). Measured on the
/// real-repository tree (BENCHMARKS.md): the case-insensitive automaton this replaces cost
/// 2.0 thread-seconds of a 12 s scan.
static MARKERS: std::sync::LazyLock<crate::literal::Literals> =
    std::sync::LazyLock::new(|| crate::literal::Literals::new(&marker_words()));

/// The words of [`MARKERS`], exact case. The scanner looks for them in the secret rules'
/// keyword pass ([`crate::secrets::RuleSet`]), so a file costs no pass of its own here
/// (the separate pass was 0.3 of 5 CPU-seconds on the real-repository tree).
pub fn marker_words() -> Vec<String> {
    let mut words: Vec<String> = [
        "ssl_certificate",
        "ssl_trusted_certificate",
        "ssl_client_certificate",
        " crt ",
        " ca-file ",
        " crt-list ",
        " ca-verify-file ",
        // apps.rs: Spring Boot, Kafka, JVM options
        "server.ssl.",
        "spring.ssl.bundle",
        "certificate-private-key",
        "trust-certificate",
        "key-store",
        "trust-store",
        "keystore",
        "truststore",
        "javax.net.ssl.",
        // PostgreSQL, MySQL (`ssl_cert` covers `ssl_cert_file`), Redis, Vault
        "ssl_cert",
        "ssl_key",
        "ssl_ca",
        "ssl-cert",
        "ssl-key",
        "ssl-ca",
        "tls-cert-file",
        "tls-key-file",
        "tls-ca-cert",
        "tls_cert_file",
        // OpenVPN
        "dev tun",
        "dev tap",
        // Envoy, Traefik (YAML and TOML)
        "tls_certificate",
        "trusted_ca",
        "certFile",
        "keyFile",
        "caFiles",
        "certfile",
        "keyfile",
        "cafiles",
        // systemd
        "LoadCredential",
        "Environment=",
        // Terraform
        "file(\"",
        "filebase64(",
        "certificate_arn",
        "aws_acm_certificate",
    ]
    .map(String::from)
    .to_vec();
    for apache in ["SSLCertificate", "SSLCACertificate", "SSLProxy"] {
        words.push(apache.to_string());
        words.push(apache.to_ascii_lowercase());
        words.push(apache.to_ascii_uppercase());
    }
    debug_assert!(words.len() <= 64);
    words
}

/// The consumers in `data` (a whole file named `path`), when it is a configuration of a
/// known kind; an empty result otherwise. Cheap for other files: one prefilter pass.
pub fn consumers(path: &str, data: &[u8]) -> Parsed {
    consumers_marked(path, data, MARKERS.is_match(data))
}

/// [`consumers`], told whether one of [`marker_words`] occurs in `data` (exact case).
pub fn consumers_marked(path: &str, data: &[u8], marked: bool) -> Parsed {
    if data.len() > MAX_CONFIG_BYTES || !(marked || apps::is_compose(path)) {
        return Parsed::default();
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return Parsed::default();
    };
    let name = path.rsplit('/').next().unwrap_or(path);
    if nginx::looks_like(text) {
        return nginx::parse(text);
    }
    if apache::looks_like(text) {
        return apache::parse(text);
    }
    if haproxy::looks_like(name, text) {
        return haproxy::parse(text);
    }
    if terraform::looks_like(name, text) {
        return terraform::parse(text);
    }
    apps::parse(path, text)
}

impl Parsed {
    fn push(&mut self, c: Consumer) {
        if c.references.is_empty() {
            return;
        }
        if self.consumers.len() >= MAX_CONSUMERS {
            if self.consumers.len() == MAX_CONSUMERS {
                self.errors.push((
                    c.offset,
                    format!(
                        "more than {MAX_CONSUMERS} consumers in one file: the rest are not read"
                    ),
                ));
                // Counted once: the sentinel below keeps the message from repeating.
                self.consumers.push(Consumer {
                    references: Vec::new(),
                    ..c
                });
            }
            return;
        }
        self.consumers.push(c);
    }

    /// Drops the sentinel [`Parsed::push`] leaves past the bound.
    fn finish(mut self) -> Parsed {
        self.consumers.retain(|c| !c.references.is_empty());
        self
    }
}

/// Adds a reference, within [`MAX_REFERENCES`] (the rest are counted in one error).
fn add_ref(refs: &mut Vec<Ref>, r: Ref, errors: &mut Vec<(usize, String)>) {
    if refs.len() < MAX_REFERENCES {
        refs.push(r);
    } else if refs.len() == MAX_REFERENCES {
        errors.push((
            r.offset,
            format!("more than {MAX_REFERENCES} key-material references in one block: the rest are not read"),
        ));
        refs.push(Ref {
            directive: String::new(),
            value: String::new(),
            offset: r.offset,
        });
    }
}

/// Drops the marker [`add_ref`] leaves past the bound.
fn clean(mut refs: Vec<Ref>) -> Vec<Ref> {
    refs.retain(|r| !r.directive.is_empty());
    refs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefilter_sees_each_parser_s_words_in_the_casings_used() {
        for vhost in [
            "<VirtualHost *:443>\n  SSLCertificateFile /etc/ssl/a.crt\n</VirtualHost>\n",
            "<virtualhost *:443>\n  sslcertificatefile /etc/ssl/a.crt\n</virtualhost>\n",
            "<VIRTUALHOST *:443>\n  SSLCERTIFICATEFILE /etc/ssl/a.crt\n</VIRTUALHOST>\n",
        ] {
            let p = consumers("site.conf", vhost.as_bytes());
            assert_eq!(p.consumers.len(), 1, "{vhost}");
            assert_eq!(p.consumers[0].references[0].value, "/etc/ssl/a.crt");
        }
        let nginx = "server {\n  listen 443 ssl;\n  ssl_certificate /etc/ssl/a.crt;\n}\n";
        assert_eq!(consumers("nginx.conf", nginx.as_bytes()).consumers.len(), 1);
        let haproxy = "frontend fe\n  bind :443 ssl crt /etc/ssl/a.pem\n";
        assert_eq!(
            consumers("haproxy.cfg", haproxy.as_bytes()).consumers.len(),
            1
        );
        // The same shape without any of the words is not decoded at all.
        let other = "server {\n  listen 443;\n  root /srv;\n}\n";
        assert!(!MARKERS.is_match(other.as_bytes()));
    }

    #[test]
    fn files_over_the_size_bound_are_not_read_as_configuration() {
        let line = "ssl.keystore.location=/etc/kafka/k.jks\n";
        let fits = line.repeat(MAX_CONFIG_BYTES / line.len());
        assert_eq!(
            consumers("client.properties", fits.as_bytes())
                .consumers
                .len(),
            1
        );
        let over = line.repeat(MAX_CONFIG_BYTES / line.len() + 1);
        assert!(over.len() > MAX_CONFIG_BYTES);
        let p = consumers("client.properties", over.as_bytes());
        assert!(p.consumers.is_empty() && p.errors.is_empty());
    }
}
