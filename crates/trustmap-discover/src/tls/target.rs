//! TLS targets: `tls://HOST:PORT[?sni=NAME]` on the command line, and `--targets` files of
//! one target a line (`host`, `host:port`, `[v6]:port`, an IPv4 or IPv6 CIDR with a port
//! list, each optionally followed by an SNI name; `#` starts a comment). Expansion is
//! bounded: a file (or a command line) names at most [`MAX_TARGETS`] endpoints.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Endpoints one scan may name, after CIDR and port-list expansion.
pub const MAX_TARGETS: usize = 65_536;
/// The largest targets file read.
pub const MAX_FILE_BYTES: u64 = 8 << 20;
/// The port when a target names none.
pub const DEFAULT_PORT: u16 = 443;

/// One endpoint to reach: host, port and the name sent as SNI (and checked against the
/// certificate) when it is not the host itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    /// A DNS name (lowercased) or an IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// The SNI name given with the target, when any.
    pub sni: Option<String>,
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

    /// `tls://host:port[?sni=name]`.
    pub fn url(&self) -> String {
        match &self.sni {
            Some(n) => format!("tls://{}?sni={n}", self.place()),
            None => format!("tls://{}", self.place()),
        }
    }
}

/// Whether a command-line argument is a TLS target rather than a path.
pub fn is_url(arg: &str) -> bool {
    arg.starts_with("tls://")
}

/// Parses `tls://HOST[:PORT][?sni=NAME]`.
pub fn parse_url(arg: &str) -> Result<Target, String> {
    let rest = arg
        .strip_prefix("tls://")
        .ok_or_else(|| format!("{arg:?}: a TLS target starts with tls://"))?;
    let (hostport, query) = match rest.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (rest, None),
    };
    let hostport = hostport.strip_suffix('/').unwrap_or(hostport);
    let (host, port) = host_port(hostport).map_err(|e| format!("{arg:?}: {e}"))?;
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
    Ok(Target { host, port, sni })
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
        let spec = words.next().unwrap_or_default();
        let sni = words.next().map(server_name).transpose().map_err(at)?;
        if let Some(extra) = words.next() {
            return Err(at(format!(
                "unexpected {extra:?}: a line is TARGET [SNI-NAME]"
            )));
        }
        let left = MAX_TARGETS.saturating_sub(out.len());
        expand(spec, sni, left, &mut out).map_err(at)?;
    }
    Ok(out)
}

/// Appends the targets `spec` names (one, or a CIDR block times its ports), at most `left`.
fn expand(
    spec: &str,
    sni: Option<String>,
    left: usize,
    out: &mut Vec<Target>,
) -> Result<(), String> {
    let too_many = || {
        format!("more than {MAX_TARGETS} endpoints named: split the scan or narrow the CIDR blocks")
    };
    let Some((addr, bits_ports)) = cidr_parts(spec) else {
        if left == 0 {
            return Err(too_many());
        }
        let (host, port) = host_port(spec)?;
        out.push(Target { host, port, sni });
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
        vec![DEFAULT_PORT]
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
fn host_port(s: &str) -> Result<(String, u16), String> {
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
            "" => DEFAULT_PORT,
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
            DEFAULT_PORT,
        ));
    }
    let (host, p) = match s.rsplit_once(':') {
        Some((h, p)) => (h, port(p)?),
        None => (s, DEFAULT_PORT),
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
        }
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
