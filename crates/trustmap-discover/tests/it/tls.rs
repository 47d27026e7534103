//! The TLS source's bounds, against tiny listeners on 127.0.0.1: the byte budget of a
//! handshake, the chain-length bound, and the place and root of what an endpoint yields.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;
use trustmap_core::ScanError;
use trustmap_discover::Found;
use trustmap_discover::scan::Scanner;
use trustmap_discover::secrets::RuleSet;
use trustmap_discover::source::{Progress, Sink, Source, run_all};
use trustmap_discover::tls::dial::{Dial, RateLimit};
use trustmap_discover::tls::{TlsOptions, TlsSource, parse_url};

#[derive(Default)]
struct Collect(Vec<Found>, Vec<ScanError>);
impl Sink for Collect {
    fn found(&mut self, f: Found) {
        self.0.push(f);
    }
    fn error(&mut self, e: ScanError) {
        self.1.push(e);
    }
}

fn listener(serve: fn(TcpStream)) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || serve(s));
        }
    });
    port
}

fn scan(ports: &[u16], options: TlsOptions) -> Collect {
    let targets = ports
        .iter()
        .map(|p| parse_url(&format!("tls://127.0.0.1:{p}")).unwrap())
        .collect();
    let sources: Vec<Box<dyn Source>> = vec![Box::new(TlsSource::new(targets, options))];
    let mut sink = Collect::default();
    run_all(
        &sources,
        &Scanner::new(RuleSet::builtin()),
        &Progress::default(),
        &mut sink,
    );
    sink
}

#[test]
fn a_handshake_that_needs_more_than_the_byte_budget_is_cut_short() {
    // A ServerHello of 65,535 bytes (under rustls's 64 KiB message limit) sent in full
    // records: legal framing, but more than the budget before the handshake can complete.
    let port = listener(|mut s| {
        let mut b = [0u8; 1];
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = s.peek(&mut b);
        let mut first = vec![0x16, 0x03, 0x03, 0x40, 0x00, 0x02, 0x00, 0xff, 0xff];
        first.resize(5 + 0x4000, 0x00);
        let _ = s.write_all(&first);
        let mut record = vec![0x16, 0x03, 0x03, 0x40, 0x00];
        record.resize(5 + 0x4000, 0x00);
        for _ in 0..4 {
            if s.write_all(&record).is_err() {
                return;
            }
        }
        std::thread::sleep(Duration::from_secs(10));
    });
    let options = TlsOptions {
        max_handshake_bytes: 20_000,
        connect_timeout: Duration::from_secs(5),
        handshake_timeout: Duration::from_secs(5),
        ..Default::default()
    };
    let got = scan(&[port], options);
    assert!(got.0.is_empty());
    assert_eq!(got.1.len(), 1, "{:?}", got.1);
    assert_eq!(got.1[0].path, format!("127.0.0.1:{port}"));
    assert_eq!(
        got.1[0].error,
        "TLS: the server sent more than 20000 bytes without completing the handshake"
    );
}

#[test]
fn a_refused_connection_is_an_error_under_host_and_port() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let got = scan(&[port], TlsOptions::default());
    assert!(got.0.is_empty());
    assert_eq!(got.1.len(), 1);
    assert!(
        got.1[0]
            .error
            .starts_with(&format!("TLS: connect to 127.0.0.1:{port}: ")),
        "{:?}",
        got.1
    );
}

/// A hand-made responder for the post-quantum path, which OpenSSL 3.0 here cannot serve:
/// it answers a ClientHello offering X25519MLKEM768 (0x11EC) with the HelloRetryRequest a
/// TLS 1.3 server that supports it sends (RFC 8446 4.1.4, the group in `key_share`), and
/// anything else with a handshake_failure alert. It tests the probe, not a server.
fn hybrid_only(mut s: TcpStream) {
    use std::io::Read;
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = [0u8; 5];
    if s.read_exact(&mut head).is_err() {
        return;
    }
    let mut hello = vec![0u8; u16::from_be_bytes([head[3], head[4]]) as usize];
    if s.read_exact(&mut hello).is_err() {
        return;
    }
    if !hello.windows(2).any(|w| w == [0x11, 0xec]) {
        let _ = s.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
        return;
    }
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[
        0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8,
        0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8,
        0x33, 0x9c,
    ]);
    body.push(0);
    body.extend_from_slice(&[0x13, 0x01, 0x00]);
    let exts = [
        0x00, 0x2b, 0x00, 0x02, 0x03, 0x04, 0x00, 0x33, 0x00, 0x02, 0x11, 0xec,
    ];
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    let mut hs = vec![2, 0];
    hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x03];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    let _ = s.write_all(&rec);
}

#[test]
fn a_hybrid_post_quantum_group_is_found_from_the_hello_retry_request() {
    use trustmap_discover::tls::enumerate::{Kind, Prober, group_kind};
    let port = listener(hybrid_only);
    let found = Prober {
        address: format!("127.0.0.1:{port}").parse().unwrap(),
        sni: Some("svc.test"),
        dial: Dial {
            rate: &RateLimit::default(),
            starttls: None,
            timeout: Duration::from_secs(5),
        },
        budget: 40,
        made: 0,
        leaf_curve: None,
        legacy: Vec::new(),
    }
    .run(false);
    assert_eq!(found.tls13_spoken, Some(true));
    assert_eq!(found.groups, vec!["X25519MLKEM768"]);
    assert_eq!(found.incomplete, None);
    assert_eq!(group_kind(&found.groups[0]), Kind::Hybrid);
}

#[test]
fn the_probes_of_one_endpoint_stop_at_the_budget() {
    use trustmap_discover::tls::enumerate::Prober;
    let port = listener(hybrid_only);
    let mut p = Prober {
        address: format!("127.0.0.1:{port}").parse().unwrap(),
        sni: None,
        dial: Dial {
            rate: &RateLimit::default(),
            starttls: None,
            timeout: Duration::from_secs(5),
        },
        budget: 4,
        made: 0,
        leaf_curve: None,
        legacy: Vec::new(),
    };
    let found = p.run(true);
    assert_eq!(p.made, 4);
    assert_eq!(found.incomplete.as_deref(), Some("probe budget spent"));
    // The first three groups probed (all hybrid): only X25519MLKEM768 answered.
    assert_eq!(found.groups, vec!["X25519MLKEM768"]);
}

/// Answers the first connection as [`hybrid_only`] does, then accepts and never answers.
fn answers_once_then_stalls(s: TcpStream) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static SEEN: AtomicUsize = AtomicUsize::new(0);
    if SEEN.fetch_add(1, Ordering::SeqCst) == 0 {
        hybrid_only(s);
    } else {
        std::thread::sleep(Duration::from_secs(10));
        drop(s);
    }
}

#[test]
fn a_peer_that_stops_answering_costs_one_timeout_not_one_per_probe() {
    use trustmap_discover::tls::enumerate::Prober;
    let port = listener(answers_once_then_stalls);
    let start = std::time::Instant::now();
    let mut p = Prober {
        address: format!("127.0.0.1:{port}").parse().unwrap(),
        sni: None,
        dial: Dial {
            rate: &RateLimit::default(),
            starttls: None,
            timeout: Duration::from_millis(500),
        },
        budget: 96,
        made: 0,
        leaf_curve: None,
        legacy: Vec::new(),
    };
    let found = p.run(true);
    assert_eq!(p.made, 2, "{found:?}");
    assert_eq!(
        found.incomplete.as_deref(),
        Some("group X25519MLKEM768: no answer in time")
    );
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}
