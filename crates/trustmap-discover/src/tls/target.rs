//! TLS targets: `SCHEME://HOST:PORT[?sni=NAME]` on the command line, and `--targets` files
//! of one target a line (`host`, `host:port`, `[v6]:port`, an IPv4 or IPv6 CIDR with a port
//! list, each optionally prefixed by `SCHEME://` and followed by an SNI name; `#` starts a
//! comment). The scheme says how TLS starts: `tls` (the default in a file) is TLS from the
//! first byte; `smtp`, `imap`, `pop3`, `ldap` and `postgres` are the plaintext protocol's
//! STARTTLS ([`Starttls`], [`super::starttls`]), each with its usual port as the default.
//! Expansion is bounded: a file (or a command line) names at most [`MAX_TARGETS`]
//! endpoints.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Endpoints one scan may name, after CIDR and port-list expansion.
pub const MAX_TARGETS: usize = 65_536;
/// The largest targets file read.
pub const MAX_FILE_BYTES: u64 = 8 << 20;
/// The port when a target names none.
pub const DEFAULT_PORT: u16 = 443;

/// A plaintext protocol whose STARTTLS (or PostgreSQL's SSLRequest) comes before the
/// handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Starttls {
    Smtp,
    Imap,
    Pop3,
    Ldap,
    Postgres,
}

impl Starttls {
    /// Every protocol: (URL scheme, protocol, default port).
    pub const ALL: [(&'static str, Starttls, u16); 5] = [
        ("smtp", Starttls::Smtp, 25),
        ("imap", Starttls::Imap, 143),
        ("pop3", Starttls::Pop3, 110),
        ("ldap", Starttls::Ldap, 389),
        ("postgres", Starttls::Postgres, 5432),
    ];

    /// The URL scheme (`smtp`, `imap`, `pop3`, `ldap`, `postgres`).
    pub fn scheme(self) -> &'static str {
        Starttls::ALL
            .iter()
            .find(|p| p.1 == self)
            .map_or("tls", |p| p.0)
    }

    pub fn default_port(self) -> u16 {
        Starttls::ALL
            .iter()
            .find(|p| p.1 == self)
            .map_or(DEFAULT_PORT, |p| p.2)
    }
}

/// One endpoint to reach: host, port, the name sent as SNI (and checked against the
/// certificate) when it is not the host itself, and the STARTTLS protocol when TLS does
/// not start with the first byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    /// A DNS name (lowercased) or an IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// The SNI name given with the target, when any.
    pub sni: Option<String>,
    /// The plaintext protocol spoken before the handshake; `None`: TLS from the first byte.
    pub starttls: Option<Starttls>,
}

impl Target {
    /// `host:port`, IPv6 in brackets: the place of everything this endpoint serves.
    pub fn place(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The server name checked against the certificate: the SNI name, else the host.
    pub fn name(&self) -> &str {
        self.sni.as_deref().unwrap_or(&self.host)
    }

    /// `SCHEME://host:port[?sni=name]` (`tls` when no STARTTLS).
    pub fn url(&self) -> String {
        let scheme = self.starttls.map_or("tls", Starttls::scheme);
        match &self.sni {
            Some(n) => format!("{scheme}://{}?sni={n}", self.place()),
            None => format!("{scheme}://{}", self.place()),
        }
    }
}

/// Splits a leading `SCHEME://` off: `Ok(None, rest)` for `tls://`, the protocol for a
/// STARTTLS scheme, `Err` for another scheme; no scheme: `Ok(None, s)`.
fn scheme(s: &str) -> Result<(Option<Starttls>, &str), String> {
    let Some((scheme, rest)) = s.split_once("://") else {
        return Ok((None, s));
    };
    if scheme.eq_ignore_ascii_case("tls") {
        return Ok((None, rest));
    }
    Starttls::ALL
        .iter()
        .find(|p| p.0.eq_ignore_ascii_case(scheme))
        .map(|p| (Some(p.1), rest))
        .ok_or_else(|| {
            format!("{s:?}: unknown scheme {scheme:?} (tls, smtp, imap, pop3, ldap or postgres)")
        })
}

/// Whether a command-line argument is a TLS target rather than a path: it starts with
/// `tls://` or a STARTTLS scheme (`smtp://`, `imap://`, `pop3://`, `ldap://`,
/// `postgres://`).
pub fn is_url(arg: &str) -> bool {
    arg.split_once("://").is_some_and(|(s, _)| {
        s.eq_ignore_ascii_case("tls") || Starttls::ALL.iter().any(|p| p.0.eq_ignore_ascii_case(s))
    })
}

/// Parses `SCHEME://HOST[:PORT][?sni=NAME]`, SCHEME `tls` or a STARTTLS protocol.
pub fn parse_url(arg: &str) -> Result<Target, String> {
    if !arg.contains("://") {
        return Err(format!(
            "{arg:?}: a TLS target starts with tls:// (or smtp://, imap://, pop3://, ldap://, postgres://)"
        ));
    }
    let (starttls, rest) = scheme(arg)?;
    let (hostport, query) = match rest.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (rest, None),
    };
    let hostport = hostport.strip_suffix('/').unwrap_or(hostport);
    let default = starttls.map_or(DEFAULT_PORT, Starttls::default_port);
    let (host, port) = host_port(hostport, default).map_err(|e| format!("{arg:?}: {e}"))?;
    let mut sni = None;
    if let Some(q) = query {
        for pair in q.split('&') {
            match pair.split_once('=') {
                Some(("sni", v)) => {
                    sni = Some(server_name(v).map_err(|e| format!("{arg:?}: {e}"))?)
                }
                _ => {
                    return Err(format!(
                        "{arg:?}: unknown parameter {pair:?} (only sni=NAME)"
                    ));
                }
            }
        }
    }
    Ok(Target {
        host,
        port,
        sni,
        starttls,
    })
}

/// Parses a targets file's text; `origin` names it in errors (`file:line: ...`).
pub fn parse_targets(text: &str, origin: &str) -> Result<Vec<Target>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let at = |e: String| format!("{origin}:{}: {e}", i + 1);
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let (starttls, spec) = scheme(words.next().unwrap_or_default()).map_err(at)?;
        let sni = words.next().map(server_name).transpose().map_err(at)?;
        if let Some(extra) = words.next() {
            return Err(at(format!(
                "unexpected {extra:?}: a line is TARGET [SNI-NAME]"
            )));
        }
        let left = MAX_TARGETS.saturating_sub(out.len());
        expand(spec, sni, starttls, left, &mut out).map_err(at)?;
    }
    Ok(out)
}

/// Appends the targets `spec` names (one, or a CIDR block times its ports), at most `left`.
fn expand(
    spec: &str,
    sni: Option<String>,
    starttls: Option<Starttls>,
    left: usize,
    out: &mut Vec<Target>,
) -> Result<(), String> {
    let too_many = || {
        format!("more than {MAX_TARGETS} endpoints named: split the scan or narrow the CIDR blocks")
    };
    let default = starttls.map_or(DEFAULT_PORT, Starttls::default_port);
    let Some((addr, bits_ports)) = cidr_parts(spec) else {
        if left == 0 {
            return Err(too_many());
        }
        let (host, port) = host_port(spec, default)?;
        out.push(Target {
            host,
            port,
            sni,
            starttls,
        });
        return Ok(());
    };
    let (bits, ports) = match bits_ports.split_once(':') {
        Some((b, p)) => (b, p),
        None => (bits_ports.as_str(), ""),
    };
    let bits: u32 = bits
        .parse()
        .map_err(|_| format!("{spec:?}: bad prefix length"))?;
    let ports: Vec<u16> = if ports.is_empty() {
        vec![default]
    } else {
        ports
            .split(',')
            .map(|p| port(p).map_err(|e| format!("{spec:?}: {e}")))
            .collect::<Result<_, _>>()?
    };
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| format!("{spec:?}: not an IP address block"))?;
    let width = if ip.is_ipv4() { 32 } else { 128 };
    if bits > width {
        return Err(format!("{spec:?}: prefix longer than {width} bits"));
    }
    let host_bits = width - bits;
    // Counted before anything is built: a /0 is refused in O(1).
    let count = if host_bits >= 64 {
        u128::MAX
    } else {
        (1u128 << host_bits).saturating_mul(ports.len() as u128)
    };
    if count > left as u128 {
        return Err(too_many());
    }
    let base = match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)) & !((1u128 << host_bits) - 1),
        IpAddr::V6(v6) => u128::from(v6) & !((1u128 << host_bits) - 1),
    };
    for i in 0..(1u128 << host_bits) {
        let a = base + i;
        let host = match ip {
            IpAddr::V4(_) => Ipv4Addr::from(a as u32).to_string(),
            IpAddr::V6(_) => Ipv6Addr::from(a).to_string(),
        };
        for &p in &ports {
            out.push(Target {
                host: host.clone(),
                port: p,
                sni: sni.clone(),
                starttls,
            });
        }
    }
    Ok(())
}

/// `10.0.0.0/30[:443,8443]` or `[2001:db8::/126][:443]` -> (address, "bits[:ports]").
fn cidr_parts(spec: &str) -> Option<(&str, String)> {
    if let Some(v6) = spec.strip_prefix('[') {
        let (inner, after) = v6.split_once(']')?;
        let (addr, bits) = inner.split_once('/')?;
        return Some((addr, format!("{bits}{after}")));
    }
    let (addr, rest) = spec.split_once('/')?;
    Some((addr, rest.to_string()))
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`, a bare IPv6 address.
fn host_port(s: &str, default: u16) -> Result<(String, u16), String> {
    if s.is_empty() {
        return Err("empty host".into());
    }
    if let Some(v6) = s.strip_prefix('[') {
        let (inner, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("{s:?}: unclosed ["))?;
        let ip: Ipv6Addr = inner
            .parse()
            .map_err(|_| format!("{s:?}: not an IPv6 address"))?;
        let p = match after {
            "" => default,
            _ => port(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| format!("{s:?}: expected :PORT after ]"))?,
            )?,
        };
        return Ok((ip.to_string(), p));
    }
    if s.parse::<Ipv6Addr>().is_ok() {
        return Ok((
            s.parse::<Ipv6Addr>()
                .map(|i| i.to_string())
                .unwrap_or_default(),
            default,
        ));
    }
    let (host, p) = match s.rsplit_once(':') {
        Some((h, p)) => (h, port(p)?),
        None => (s, default),
    };
    if host.parse::<Ipv4Addr>().is_ok() {
        return Ok((host.to_string(), p));
    }
    Ok((server_name(host)?, p))
}

fn port(s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("{s:?} is not a port (1-65535)")),
    }
}

/// A DNS name as rustls accepts it for SNI, lowercased.
fn server_name(s: &str) -> Result<String, String> {
    let lower = s.to_ascii_lowercase();
    rustls::pki_types::DnsName::try_from(lower.as_str())
        .map_err(|_| format!("{s:?} is not a valid DNS name"))?;
    Ok(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(host: &str, port: u16, sni: Option<&str>) -> Target {
        Target {
            host: host.into(),
            port,
            sni: sni.map(String::from),
            starttls: None,
        }
    }

    fn st(host: &str, port: u16, sni: Option<&str>, p: Starttls) -> Target {
        Target {
            starttls: Some(p),
            ..t(host, port, sni)
        }
    }

    #[test]
    fn starttls_schemes_name_the_protocol_and_its_default_port() {
        assert_eq!(
            parse_url("smtp://127.0.0.1").unwrap(),
            st("127.0.0.1", 25, None, Starttls::Smtp)
        );
        assert_eq!(
            parse_url("smtp://mail.test:587?sni=mx.test").unwrap(),
            st("mail.test", 587, Some("mx.test"), Starttls::Smtp)
        );
        for (scheme, p, port) in Starttls::ALL {
            let got = parse_url(&format!("{scheme}://[::1]")).unwrap();
            assert_eq!(got, st("::1", port, None, p));
            assert_eq!(got.url(), format!("{scheme}://[::1]:{port}"));
            assert_eq!(got.place(), format!("[::1]:{port}"));
            assert!(is_url(&format!("{}://x", scheme.to_uppercase())));
        }
        assert!(!is_url("ftp://x"));
        assert!(!is_url("./smtp"));
        let e = parse_url("ftp://host").unwrap_err();
        assert!(e.contains("unknown scheme"), "{e}");
        // In a file, the same prefix, CIDR blocks included; no prefix is TLS.
        let got = parse_targets(
            "imap://10.0.0.0/31 imap.test\npostgres://db.test\nldap://[::1]:1389\nhost\n",
            "t",
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                st("10.0.0.0", 143, Some("imap.test"), Starttls::Imap),
                st("10.0.0.1", 143, Some("imap.test"), Starttls::Imap),
                st("db.test", 5432, None, Starttls::Postgres),
                st("::1", 1389, None, Starttls::Ldap),
                t("host", 443, None),
            ]
        );
        let e = parse_targets("ok\ngopher://x\n", "t.txt").unwrap_err();
        assert!(e.starts_with("t.txt:2: "), "{e}");
    }

    #[test]
    fn urls_name_host_port_and_sni() {
        assert_eq!(
            parse_url("tls://127.0.0.1:4433").unwrap(),
            t("127.0.0.1", 4433, None)
        );
        assert_eq!(
            parse_url("tls://Example.COM").unwrap(),
            t("example.com", 443, None)
        );
        assert_eq!(
            parse_url("tls://127.0.0.1:8443?sni=svc.test").unwrap(),
            t("127.0.0.1", 8443, Some("svc.test"))
        );
        assert_eq!(parse_url("tls://[::1]:9443").unwrap(), t("::1", 9443, None));
        assert_eq!(parse_url("tls://[::1]:9443").unwrap().place(), "[::1]:9443");
        assert!(parse_url("tls://host:0").is_err());
        assert!(parse_url("tls://host:99999").is_err());
        assert!(parse_url("tls://host?port=1").is_err());
        assert!(parse_url("tls://bad_name!:1").is_err());
    }

    #[test]
    fn a_targets_file_has_comments_defaults_sni_and_cidr_blocks() {
        let text = "# edge\nexample.com\napi.example.com:8443 api.internal # via the LB\n\n\
                    10.0.0.0/31:443,8443\n[::1]:4433\n";
        let got = parse_targets(text, "t.txt").unwrap();
        assert_eq!(
            got,
            vec![
                t("example.com", 443, None),
                t("api.example.com", 8443, Some("api.internal")),
                t("10.0.0.0", 443, None),
                t("10.0.0.0", 8443, None),
                t("10.0.0.1", 443, None),
                t("10.0.0.1", 8443, None),
                t("::1", 4433, None),
            ]
        );
        let e = parse_targets("ok.example\nhost:notaport\n", "t.txt").unwrap_err();
        assert!(e.starts_with("t.txt:2: "), "{e}");
    }

    #[test]
    fn cidr_expansion_stops_at_the_bound() {
        // A /16 with one port is exactly the bound.
        assert_eq!(
            parse_targets("10.1.0.0/16", "t").unwrap().len(),
            MAX_TARGETS
        );
        // One more endpoint is refused, however it comes.
        let e = parse_targets("10.1.0.0/16\n10.2.0.1\n", "t").unwrap_err();
        assert!(e.contains("more than 65536"), "{e}");
        let e = parse_targets("10.0.0.0/16:443,8443", "t").unwrap_err();
        assert!(e.contains("more than 65536"), "{e}");
        // Huge blocks are refused before anything is built.
        let e = parse_targets("0.0.0.0/0\n", "t").unwrap_err();
        assert!(e.contains("more than 65536"), "{e}");
        let e = parse_targets("[::/0]:443\n", "t").unwrap_err();
        assert!(e.contains("more than 65536"), "{e}");
        assert!(parse_targets("10.0.0.0/33", "t").is_err());
    }
}
