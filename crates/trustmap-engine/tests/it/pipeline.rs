//! The pipeline as a library: a source that is not a file tree, one clock, one store handle.

use trustmap_core::{AssetKind, Occurrence, ScanError};
use trustmap_discover::scan::Scanner;
use trustmap_discover::source::{Progress, Sink, Source};
use trustmap_discover::{Detail, Found, x509};
use trustmap_engine::{Clock, Error, Scan, ScanRequest, clock::parse_instant, scan};
use trustmap_store::{NewWaiver, Store};

/// A source that yields one already-parsed certificate from memory (as an endpoint or an
/// API source would), at place `443/served-chain`, plus one error.
struct Served {
    der: Vec<u8>,
}

impl Source for Served {
    fn name(&self) -> &str {
        "tls://shop.example.test:443"
    }

    fn run(&self, _: &Scanner, progress: &Progress, sink: &mut dyn Sink) {
        progress.add_file(self.der.len() as u64);
        let info = x509::parse_certificate(&self.der).expect("a certificate");
        let place = Occurrence {
            path: "shop.example.test:443".into(),
            line: None,
            offset: None,
            container: Some("served chain, certificate 1".into()),
            root: None,
        };
        sink.found(Found::new(
            AssetKind::Certificate,
            trustmap_core::fingerprint(&self.der),
            Detail::Certificate(std::sync::Arc::new(info), self.der.clone().into()),
            place,
        ));
        sink.error(ScanError {
            path: "shop.example.test:443".into(),
            error: "second certificate truncated".into(),
        });
    }
}

/// The same certificate, valid until the end of 2030, for every scan of a test binary.
fn served() -> Served {
    static DER: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let der = DER.get_or_init(make_der).clone();
    Served { der }
}

fn make_der() -> Vec<u8> {
    let mut params = rcgen::CertificateParams::new(vec!["shop.example.test".into()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2030, 12, 31);
    let key = rcgen::KeyPair::generate().unwrap();
    params.self_signed(&key).unwrap().der().to_vec()
}

fn request(now: &str) -> ScanRequest {
    let mut req = ScanRequest::default().source(served());
    req.options.now = Some(parse_instant(now).unwrap());
    req.options.host = Some("scanner-7".into());
    req
}

fn rules(out: &trustmap_engine::ScanOutcome) -> Vec<&str> {
    out.report
        .findings
        .iter()
        .map(|f| f.rule.as_str())
        .collect()
}

#[test]
fn a_source_that_is_not_a_file_tree_appears_in_the_report() {
    let out = scan(request("2026-06-01"), None, &Progress::default()).unwrap();
    let r = &out.report;
    assert_eq!(r.scan.roots, ["tls://shop.example.test:443"]);
    assert_eq!(r.scan.host, "scanner-7");
    assert_eq!(r.scan.files_scanned, 1);
    assert_eq!(r.assets.len(), 1);
    let occ = &r.assets[0].occurrences[0];
    assert_eq!(occ.root.as_deref(), Some("tls://shop.example.test:443"));
    assert_eq!(occ.path, "shop.example.test:443");
    assert_eq!(r.errors.len(), 1);
    assert!(out.record.is_none() && out.first_seen.is_empty());
    assert!(!rules(&out).contains(&"cert-expired"));
}

#[test]
fn the_clock_judges_expiry() {
    let out = scan(request("2031-01-15"), None, &Progress::default()).unwrap();
    assert!(rules(&out).contains(&"cert-expired"), "{:?}", rules(&out));
    assert_eq!(
        trustmap_core::rfc3339(out.clock.now),
        "2031-01-15T00:00:00Z"
    );
    // The scan itself still ran now: started_at is the system clock, read once.
    assert!(
        out.report.scan.started_at
            < trustmap_core::Timestamp::parse("2031-01-01T00:00:00Z").unwrap()
    );
}

#[test]
fn one_store_handle_gives_history_waivers_and_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("i.db").to_str().unwrap()).unwrap();

    // First scan: an empty inventory is no history; recording makes it first seen.
    let out = scan(request("2026-06-01"), Some(&store), &Progress::default()).unwrap();
    let rec = out.record.as_ref().expect("recorded");
    assert_eq!(rec.first_seen.len(), 1);
    let id = out.report.assets[0].id.clone();
    assert_eq!(out.first_seen.len(), 1, "first seen once recorded");

    // A waiver granted until 2030 covers the self-signed finding now, not in 2031.
    let rule = "cert-self-signed-leaf";
    assert!(rules(&out).contains(&rule), "{:?}", rules(&out));
    store
        .grant_waiver(&NewWaiver {
            rule: rule.into(),
            asset: id.clone(),
            reason: "test".into(),
            until: "2030-01-01T00:00:00Z".into(),
            by: "alice".into(),
        })
        .unwrap();
    let prepared = Scan::prepare(request("2026-06-01")).unwrap();
    let out = prepared.run(Some(&store), &Progress::default()).unwrap();
    assert!(out.first_seen.contains_key(&id), "history read");
    assert_eq!(out.waivers.waived, 1);
    let later = Clock {
        now: parse_instant("2030-06-01").unwrap(),
        ..Clock::start(None)
    };
    let out = Scan::prepare(request("2026-06-01"))
        .unwrap()
        .run_at(later, Some(&store), &Progress::default())
        .unwrap();
    assert_eq!((out.waivers.waived, out.waivers.expired), (0, 1));
}

#[test]
fn a_store_that_fails_to_read_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("i.db").to_str().unwrap()).unwrap();
    store.execute_raw("DROP TABLE assets").unwrap();
    let err = scan(request("2026-06-01"), Some(&store), &Progress::default()).unwrap_err();
    assert!(matches!(err, Error::Store { .. }), "{err}");
}

#[test]
fn bad_inputs_fail_before_the_walk() {
    let mut req = ScanRequest::new(vec!["/no/such/root".into()]);
    assert!(matches!(
        Scan::prepare(req).err(),
        Some(Error::NoSuchPath(_))
    ));
    req = ScanRequest::default();
    req.options.baseline = Some("/no/such/baseline.json".into());
    let err = Scan::prepare(req).err().unwrap();
    assert!(err.to_string().starts_with("reading baseline"), "{err}");
}
