//! TLS endpoints as a source: for each target (host, port, SNI name) one handshake with
//! rustls (ring provider, plus the hybrid post-quantum group X25519MLKEM768 from [`pq`])
//! whose verifier records rather than rejects ([`handshake`]), the served chain judged
//! separately against the scan's trust anchors and the name ([`verify`]), and what was
//! learned yielded as an `endpoint` asset whose children are the served certificates (the
//! leaf linked by `serves`). A certificate is identified by the
//! SHA-256 of its DER, as the file scanner does, so a certificate on disk and served is one
//! asset with both places.
//!
//! Everything a peer sends is hostile: a connect timeout, one deadline for the whole
//! handshake (a byte a second cannot stretch it), a byte budget per handshake, and rustls's
//! own limit on a handshake message (64 KiB) bound each endpoint; a failure is an entry in
//! `errors` under `host:port` and the other endpoints are still scanned. Handshakes run
//! [`TlsOptions::concurrency`] at a time on plain threads (blocking sockets: no runtime).
//!
//! After the handshake, raw ClientHello probes: the legacy versions ([`probe`]), the
//! TLS 1.3 groups the server accepts, post-quantum ones included, and with
//! [`TlsOptions::enumerate`] the cipher suites per version and server preference
//! ([`enumerate`]). The handshake offers X25519MLKEM768 first (with an X25519 share beside
//! it), then X25519, P-256 and P-384, so `key_exchange_group` is what a modern client gets;
//! the probes say what else the server accepts, pure ML-KEM and the other hybrids included.
//!
//! A target may speak a plaintext protocol first ([`starttls`]: SMTP, IMAP, POP3, LDAP,
//! PostgreSQL); every connection to it, handshake and probes, speaks that preamble first.
//! Every connection also waits for the per-host rate limit ([`dial::RateLimit`]), and a
//! name is looked up within the connect timeout ([`dial::resolve`]).
//!
//! When rustls cannot complete the handshake because the server speaks only what rustls
//! does not (TLS 1.0, CBC or RC4 suites alone), a raw TLS 1.2-or-older hello reads the
//! served chain from the server's plaintext first flight
//! ([`enumerate::read_flight`]), and the probes still run: the endpoint is reported with
//! what it accepts, and the rustls error is kept in `handshake_error`.

pub mod dial;
pub mod enumerate;
pub mod handshake;
pub mod pq;
pub mod probe;
pub mod starttls;
pub mod target;
pub mod verify;

pub use target::{MAX_TARGETS, Starttls, Target, is_url, parse_targets, parse_url};

use crate::scan::Scanner;
use crate::source::{Progress, Sink, Source};
use crate::{Detail, Found, x509};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;
use trustmap_core::{AssetKind, EndpointInfo, Occurrence, RelationType, ScanError};

/// Certificates of a served chain kept (a real chain has 2 to 4; rustls's 64 KiB message
/// limit bounds what a server can send).
pub const MAX_CHAIN: usize = 16;
/// Handshakes in flight by default.
pub const DEFAULT_CONCURRENCY: usize = 32;
/// Connect and handshake timeouts by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Bytes read from one endpoint before its handshake must be complete (a chain of a dozen
/// large certificates is under 64 KiB).
pub const MAX_HANDSHAKE_BYTES: usize = 256 << 10;

/// How endpoints are reached.
#[derive(Debug, Clone)]
pub struct TlsOptions {
    /// Handshakes in flight at once (at least 1).
    pub concurrency: usize,
    pub connect_timeout: Duration,
    /// For the whole handshake, from the first byte sent.
    pub handshake_timeout: Duration,
    pub max_handshake_bytes: usize,
    /// Offer SSL 3.0, TLS 1.0 and TLS 1.1 alone after the handshake ([`probe`]): three more
    /// connections per endpoint, in parallel, each within the timeouts.
    pub probe_legacy: bool,
    /// Probe the TLS 1.3 groups the server accepts ([`enumerate`]): one more connection per
    /// group (17), each answered by a HelloRetryRequest, so cheap for the server.
    pub probe_groups: bool,
    /// Also enumerate the cipher suites per version and server preference: a connection
    /// per suite accepted, each making the server sign a TLS 1.2 key exchange.
    pub enumerate: bool,
    /// Raw probes one endpoint may cost for groups and suites.
    pub max_probes: usize,
    /// New connections a second to one IP address (handshakes and probes alike); 0: no
    /// limit.
    pub rate_per_host: f64,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            concurrency: DEFAULT_CONCURRENCY,
            connect_timeout: DEFAULT_TIMEOUT,
            handshake_timeout: DEFAULT_TIMEOUT,
            max_handshake_bytes: MAX_HANDSHAKE_BYTES,
            probe_legacy: true,
            probe_groups: true,
            enumerate: false,
            max_probes: enumerate::MAX_PROBES,
            rate_per_host: 0.0,
        }
    }
}

/// TLS endpoints: one source for every target of a scan, so they share the concurrency.
/// Its root is `tls`; each place is `host:port`.
pub struct TlsSource {
    targets: Vec<Target>,
    options: TlsOptions,
    /// The judging instant for "trusted" (an instant the leaf is valid is used when it is
    /// not): the scan's `--now` when given, else the clock at the handshake.
    now: Option<time::OffsetDateTime>,
}

impl TlsSource {
    pub fn new(targets: Vec<Target>, options: TlsOptions) -> TlsSource {
        TlsSource {
            targets,
            options,
            now: None,
        }
    }

    /// Judge chains as of this instant.
    pub fn at(mut self, now: Option<time::OffsetDateTime>) -> TlsSource {
        self.now = now;
        self
    }

    pub fn targets(&self) -> &[Target] {
        &self.targets
    }
}

/// The root name of every endpoint place.
pub const ROOT: &str = "tls";

impl Source for TlsSource {
    fn name(&self) -> &str {
        ROOT
    }

    fn given(&self) -> String {
        match self.targets.len() {
            0..=8 => {
                let urls: Vec<String> = self.targets.iter().map(Target::url).collect();
                urls.join(" ")
            }
            n => format!("tls ({n} endpoints)"),
        }
    }

    /// `tls:` and the sorted targets (their SHA-256 past eight), so the same list is the
    /// same root across scans.
    fn canonical(&self) -> String {
        let mut urls: Vec<String> = self.targets.iter().map(Target::url).collect();
        urls.sort();
        urls.dedup();
        if urls.len() <= 8 {
            format!("tls:{}", urls.join(","))
        } else {
            format!(
                "tls:sha256:{}",
                trustmap_core::sha256_hex(urls.join(",").as_bytes())
            )
        }
    }

    fn run(&self, scanner: &Scanner, progress: &Progress, sink: &mut dyn Sink) {
        let provider = Arc::new(pq::provider());
        let anchors = verify::Anchors::new(scanner.trust_anchors());
        let rate = dial::RateLimit::new(self.options.rate_per_host);
        let next = AtomicUsize::new(0);
        progress
            .endpoints_total
            .fetch_add(self.targets.len() as u64, Ordering::Relaxed);
        let workers = self.options.concurrency.clamp(1, self.targets.len().max(1));
        let (tx, rx) = mpsc::sync_channel::<Result<Found, ScanError>>(workers);
        std::thread::scope(|s| {
            for _ in 0..workers {
                let tx = tx.clone();
                let (next, provider, anchors, rate) = (&next, &provider, &anchors, &rate);
                s.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(t) = self.targets.get(i) else { break };
                        let r = self.scan_one(t, provider, anchors, rate, progress);
                        if tx.send(r).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            for r in rx {
                match r {
                    Ok(f) => sink.found(f),
                    Err(e) => sink.error(e),
                }
            }
        });
    }
}

impl TlsSource {
    /// How `t`'s probes connect.
    fn dial<'a>(&self, t: &Target, rate: &'a dial::RateLimit) -> dial::Dial<'a> {
        dial::Dial {
            rate,
            starttls: t.starttls,
            timeout: self.options.handshake_timeout,
        }
    }

    /// The legacy versions `address` accepts, probed in parallel.
    fn legacy(&self, t: &Target, address: std::net::SocketAddr, d: dial::Dial<'_>) -> Vec<String> {
        let sni = probe_sni(t);
        std::thread::scope(|s| {
            let probes: Vec<_> = probe::LEGACY
                .iter()
                .map(|&(v, name)| s.spawn(move || (probe::probe(&d, address, v, sni), name)))
                .collect();
            probes
                .into_iter()
                .filter_map(|p| p.join().ok())
                .filter(|(a, _)| *a == probe::Answer::Accepted)
                .map(|(_, name)| name.to_string())
                .collect()
        })
    }

    fn scan_one(
        &self,
        t: &Target,
        provider: &Arc<rustls::crypto::CryptoProvider>,
        anchors: &verify::Anchors,
        rate: &dial::RateLimit,
        progress: &Progress,
    ) -> Result<Found, ScanError> {
        let place = t.place();
        let err = |error: String| ScanError {
            path: place.clone(),
            error: match &t.sni {
                Some(n) => format!("TLS (sni {n}): {error}"),
                None => format!("TLS: {error}"),
            },
        };
        let d = self.dial(t, rate);
        let (h, handshake_error) = match handshake::run(t, &self.options, provider, rate) {
            Ok(h) => (h, None),
            Err(f) => {
                // A server rustls cannot talk to may still serve TLS 1.2 or older: its
                // first flight is read raw, and the probes run as for any endpoint.
                let raw = match (f.incompatible, f.address) {
                    (true, Some(a)) => raw_handshake(&d, a, probe_sni(t)),
                    _ => None,
                };
                match raw {
                    Some(h) => (h, Some(f.message)),
                    None => {
                        progress.add_endpoint(f.bytes);
                        return Err(err(f.message));
                    }
                }
            }
        };
        progress.add_endpoint(h.bytes);
        let sni_note = t
            .sni
            .as_ref()
            .map(|n| format!(", sni {n}"))
            .unwrap_or_default();
        let mut children = Vec::new();
        let mut infos = Vec::new();
        for (i, der) in h.chain.iter().take(MAX_CHAIN).enumerate() {
            let occ = Occurrence {
                path: place.clone(),
                line: None,
                offset: None,
                container: Some(format!("tls chain[{i}]{sni_note}")),
                root: None,
            };
            match x509::found(der, occ) {
                Ok(mut f) => {
                    if let Detail::Certificate(info, _) = &f.detail {
                        infos.push((**info).clone());
                    }
                    f.link = (i == 0).then_some(RelationType::Serves);
                    children.push(f);
                }
                // The chain cannot be judged without its leaf.
                Err(e) if i == 0 => return Err(err(format!("the served leaf certificate: {e}"))),
                Err(e) => return Err(err(format!("served certificate {i}: {e}"))),
            }
        }
        if h.chain.len() > MAX_CHAIN {
            return Err(err(format!(
                "the server sent {} certificates; more than {MAX_CHAIN} is not a chain",
                h.chain.len()
            )));
        }
        let name = handshake::server_name(t).map_err(err)?;
        let now = self.now.unwrap_or_else(time::OffsetDateTime::now_utc);
        let verification = verify::verify(&h.chain, &infos, &name, anchors, provider, now);
        let legacy_protocols = if self.options.probe_legacy {
            self.legacy(t, h.address, d)
        } else {
            Vec::new()
        };
        let probed = (self.options.probe_groups || self.options.enumerate).then(|| {
            enumerate::Prober {
                address: h.address,
                sni: probe_sni(t),
                dial: d,
                budget: self.options.max_probes,
                made: 0,
                leaf_curve: infos
                    .first()
                    .and_then(|c| c.public_key.curve.as_deref())
                    .and_then(enumerate::curve_code),
                legacy: probe::LEGACY
                    .iter()
                    .filter(|(_, name)| legacy_protocols.iter().any(|l| l == name))
                    .map(|(v, _)| *v)
                    .collect(),
            }
            .run(self.options.enumerate)
        });
        let mut accepted_suites = std::collections::BTreeMap::new();
        let (mut server_preference, mut groups_offered, mut pq_key_exchange) =
            (None, Vec::new(), None);
        let mut groups_tls12 = Vec::new();
        if let Some(p) = probed {
            pq_key_exchange = enumerate::pq_class(&p).map(str::to_string);
            let lists = [
                ("TLSv1.2".to_string(), p.tls12),
                ("TLSv1.3".into(), p.tls13),
            ];
            for (v, list) in lists.into_iter().chain(p.legacy) {
                if !list.is_empty() {
                    accepted_suites.insert(v, list);
                }
            }
            server_preference = p.server_preference;
            groups_offered = p.groups;
            groups_tls12 = p.groups_tls12;
        }
        // The handshake's own group is proof the probes may lack (one went unanswered).
        if let Some(g) = h.key_exchange_group.as_deref() {
            match enumerate::group_kind(g) {
                enumerate::Kind::Hybrid => pq_key_exchange = Some("hybrid".to_string()),
                enumerate::Kind::Pure if pq_key_exchange.as_deref() != Some("hybrid") => {
                    pq_key_exchange = Some("pure".to_string())
                }
                _ => {}
            }
        }
        let sni = match (&t.sni, t.host.parse::<std::net::IpAddr>()) {
            (Some(n), _) => Some(n.clone()),
            (None, Ok(_)) => None,
            (None, Err(_)) => Some(t.host.clone()),
        };
        let info = EndpointInfo {
            host: t.host.clone(),
            port: t.port,
            sni,
            address: h.address.to_string(),
            protocol: h.protocol,
            cipher_suite: h.cipher_suite,
            key_exchange_group: h.key_exchange_group,
            alpn: h.alpn,
            ocsp_stapled: h.ocsp_stapled,
            chain_length: h.chain.len() as u32,
            legacy_protocols,
            accepted_suites,
            server_preference,
            groups_offered,
            groups_tls12,
            pq_key_exchange,
            verification,
            starttls: t.starttls.map(|p| p.scheme().to_string()),
            handshake_error,
        };
        let mut f = Found::new(
            AssetKind::Endpoint,
            identity(t),
            Detail::Endpoint(Box::new(info)),
            Occurrence {
                path: place,
                line: None,
                offset: None,
                container: t.sni.as_ref().map(|n| format!("sni {n}")),
                root: None,
            },
        );
        f.children = children;
        Ok(f)
    }
}

/// The first flight of a raw TLS 1.2-or-older handshake with `address`, as a
/// [`handshake::Handshake`] (the ECDHE curve from the ServerKeyExchange; no ALPN or OCSP);
/// `None` when the server does not answer it with a ServerHello.
fn raw_handshake(
    d: &dial::Dial<'_>,
    address: std::net::SocketAddr,
    sni: Option<&str>,
) -> Option<handshake::Handshake> {
    use std::io::Write;
    let (mut s, deadline) = d.open(address).ok()?;
    let _ = s.set_write_timeout(Some(d.timeout));
    s.write_all(&enumerate::legacy_client_hello(sni)).ok()?;
    let f = enumerate::read_flight(&mut probe::Deadline {
        stream: &mut s,
        deadline,
    });
    let _ = s.shutdown(std::net::Shutdown::Both);
    let f = f.ok()?;
    Some(handshake::Handshake {
        address,
        chain: f.chain,
        protocol: enumerate::version_name(f.chosen.version),
        cipher_suite: enumerate::suite_name(f.chosen.suite),
        key_exchange_group: f.curve.map(enumerate::group_name),
        alpn: None,
        ocsp_stapled: false,
        bytes: f.bytes,
    })
}

/// The name a raw probe sends as SNI: the target's, else its host when a name.
fn probe_sni(t: &Target) -> Option<&str> {
    t.sni.as_deref().or_else(|| {
        t.host
            .parse::<std::net::IpAddr>()
            .is_err()
            .then_some(t.host.as_str())
    })
}

/// An endpoint's identity: `sha256:` + SHA-256 of `host:port/sni` (the SNI name given
/// with the target, empty when none), so one listener reached under two names is two
/// endpoints, as it may serve two certificates.
pub fn identity(t: &Target) -> String {
    let sni = t.sni.as_deref().unwrap_or("");
    // A STARTTLS endpoint adds its protocol (a TLS endpoint's identity is as it was).
    match t.starttls {
        Some(p) => {
            trustmap_core::fingerprint(format!("{}/{sni}/{}", t.place(), p.scheme()).as_bytes())
        }
        None => trustmap_core::fingerprint(format!("{}/{sni}", t.place()).as_bytes()),
    }
}
