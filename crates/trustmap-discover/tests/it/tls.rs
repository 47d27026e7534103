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
