//! Detection and parsing as real estates break it (issue 13): self-signed certificates whose
//! signature cannot be verified, validity times OpenSSL reads but RFC 5280 forbids,
//! distinguished names with separators inside values. Fixtures are generated at test time
//! (rcgen, openssl) and compared with what openssl says.

use crate::support::{TempDir, have, run};
use trustmap_discover::der;
use trustmap_discover::keys::encode_tlv;
use trustmap_discover::x509::parse_certificate;

/// A self-signed ECDSA P-256 certificate from rcgen, its key as PKCS#8.
fn rcgen_self_signed(cn: &str) -> (Vec<u8>, Vec<u8>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(vec!["svc.example.test".into()]).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, cn.to_string());
    p.not_before = rcgen::date_time_ymd(2026, 1, 1);
    p.not_after = rcgen::date_time_ymd(2036, 1, 1);
    let cert = p.self_signed(&key).unwrap();
    (cert.der().to_vec(), key.serialize_der())
}

/// `der` with its notAfter replaced by a time of `tag` holding `text`, re-signed with
/// `pkcs8` (ECDSA P-256, SHA-256) so the signature is valid over the bytes as written.
fn with_not_after(der_bytes: &[u8], tag: u8, text: &str, pkcs8: &[u8]) -> Vec<u8> {
    let (cert, _) = der::read(der_bytes).unwrap();
    let mut top = der::children(cert.content);
    let (tbs, alg) = (top.next().unwrap(), top.next().unwrap());
    let fields: Vec<_> = der::children(tbs.content).collect();
    assert_eq!(fields[0].tag, 0xa0, "a v3 certificate");
    let mut tbs_content = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        if i == 4 {
            let not_before = der::children(f.content).next().unwrap();
            let mut v = not_before.raw.to_vec();
            v.extend(encode_tlv(tag, text.as_bytes()));
            tbs_content.extend(encode_tlv(0x30, &v));
        } else {
            tbs_content.extend_from_slice(f.raw);
        }
    }
    let new_tbs = encode_tlv(0x30, &tbs_content);
    let rng = ring::rand::SystemRandom::new();
    let pair = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        pkcs8,
        &rng,
    )
    .unwrap();
    let sig = pair.sign(&rng, &new_tbs).unwrap();
    let mut bits = vec![0u8];
    bits.extend_from_slice(sig.as_ref());
    let mut content = new_tbs;
    content.extend_from_slice(alg.raw);
    content.extend(encode_tlv(0x03, &bits));
    encode_tlv(0x30, &content)
}

/// openssl's reading of a DER certificate's notAfter, as RFC 3339 UTC (fractions dropped),
/// or `None` when openssl prints "Bad time value".
fn openssl_not_after(dir: &TempDir, der_bytes: &[u8]) -> Option<String> {
    std::fs::write(dir.path("c.der"), der_bytes).unwrap();
    let out = run(
        dir,
        "openssl",
        &[
            "x509", "-inform", "DER", "-in", "c.der", "-noout", "-enddate",
        ],
    );
    let text = String::from_utf8(out).unwrap();
    let v = text.trim().strip_prefix("notAfter=").unwrap();
    if v == "Bad time value" {
        return None;
    }
    // "Nov 30 05:05:27.5 2036 GMT"
    let parts: Vec<&str> = v.split_whitespace().collect();
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[0])
    .unwrap()
        + 1;
    let hms = parts[2].split('.').next().unwrap();
    Some(format!(
        "{}-{month:02}-{:02}T{hms}Z",
        parts[3],
        parts[1].parse::<u32>().unwrap()
    ))
}

#[test]
fn lenient_validity_times_are_read_as_openssl_reads_them_and_linted() {
    if !have("openssl") {
        return;
    }
    let dir = TempDir::new("lenient-time");
    let (der_bytes, pkcs8) = rcgen_self_signed("lenient");
    // (tag, encoding, the instant openssl prints; None where openssl says "Bad time value"
    // but still reads the certificate, and trustmap reads the time as UTC).
    let cases: &[(u8, &str, &str)] = &[
        (0x18, "20361130050527", "2036-11-30T05:05:27Z"),
        (0x18, "203611300505Z", "2036-11-30T05:05:00Z"),
        (0x17, "3611300505Z", "2036-11-30T05:05:00Z"),
        (0x18, "20361130050527.5Z", "2036-11-30T05:05:27Z"),
        (0x17, "361130050527+0100", "2036-11-30T04:05:27Z"),
        (0x18, "20361130050527-0230", "2036-11-30T07:35:27Z"),
        (0x17, "361130050527", "2036-11-30T05:05:27Z"),
        // Conformant but after 2049: GeneralizedTime is right, and nothing to lint.
        (0x18, "20610101000000Z", "2061-01-01T00:00:00Z"),
    ];
    for &(tag, text, want) in cases {
        let patched = with_not_after(&der_bytes, tag, text, &pkcs8);
        let info = parse_certificate(&patched).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(info.not_after.to_string(), want, "{text}");
        match openssl_not_after(&dir, &patched) {
            Some(o) => assert_eq!(info.not_after.to_string(), o, "{text} vs openssl"),
            None => assert!(
                !text.ends_with('Z'),
                "openssl rejected only zone-less {text}"
            ),
        }
        let conformant = text.len() == 15 && text.ends_with('Z');
        assert_eq!(
            info.lints.iter().any(|l| l == "x509-time-format-invalid"),
            !conformant,
            "{text}: {:?}",
            info.lints
        );
        // The signature is checked over the bytes as found, not a normalised copy.
        assert_eq!(info.signature_verified, Some(true), "{text}");
        assert!(info.self_signed, "{text}");
        assert_eq!(info.subject_cn.as_deref(), Some("lenient"));
    }
    // A time no software reads is still an error, not a made-up date.
    let garbage = with_not_after(&der_bytes, 0x18, "2036113", &pkcs8);
    assert!(parse_certificate(&garbage).is_err());
}

#[test]
fn lenient_certificates_still_chain_by_signature() {
    // An issuer with a zone-less notAfter still verifies what it issued (and the other way).
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "Lenient CA");
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = p.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(p, &ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["leaf.example.test".into()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let ca_lenient = with_not_after(ca.der(), 0x18, "20401231235959", &ca_key.serialize_der());
    assert!(trustmap_discover::x509::verify_issued_by(
        leaf.der(),
        &ca_lenient
    ));
    let leaf_lenient = with_not_after(leaf.der(), 0x17, "4012312359Z", &ca_key.serialize_der());
    assert!(trustmap_discover::x509::verify_issued_by(
        &leaf_lenient,
        ca.der()
    ));
    assert!(trustmap_discover::x509::names(&leaf_lenient).is_some());
}

#[test]
fn self_signed_does_not_depend_on_a_verifiable_signature() {
    if !have("openssl") {
        return;
    }
    let dir = TempDir::new("self-signed");
    // MD5 with RSA and DSA: algorithms the verifier does not support.
    run(
        &dir,
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-md5",
            "-nodes",
            "-keyout",
            "m.key",
            "-out",
            "m.pem",
            "-subj",
            "/CN=md5 leaf",
            "-days",
            "30",
        ],
    );
    run(
        &dir,
        "openssl",
        &[
            "genpkey",
            "-genparam",
            "-algorithm",
            "DSA",
            "-pkeyopt",
            "dsa_paramgen_bits:1024",
            "-out",
            "dsap.pem",
        ],
    );
    run(
        &dir,
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "dsa:dsap.pem",
            "-nodes",
            "-keyout",
            "d.key",
            "-out",
            "d.pem",
            "-subj",
            "/CN=dsa leaf",
            "-days",
            "30",
        ],
    );
    for (file, alg) in [
        ("m.pem", "md5WithRSAEncryption"),
        ("d.pem", "dsa-with-sha256"),
    ] {
        let (_, _, der_bytes) = crate::support::first_pem(&dir.read(file));
        let info = parse_certificate(&der_bytes).unwrap();
        assert_eq!(info.signature_algorithm, alg);
        assert!(info.self_signed, "{file}: issuer = subject, AKI = SKI");
        assert_eq!(info.signature_verified, None, "{file}: not verifiable here");
    }
    // A verifiable one says so.
    let (der_bytes, _) = rcgen_self_signed("ecdsa leaf");
    let info = parse_certificate(&der_bytes).unwrap();
    assert!(info.self_signed);
    assert_eq!(info.signature_verified, Some(true));
}

#[test]
fn same_name_signed_by_another_key_is_self_issued_not_self_signed() {
    let name = "Same Name";
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(rcgen::DnType::CommonName, name);
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p.use_authority_key_identifier_extension = false;
    let issuer = rcgen::Issuer::new(p.clone(), &ca_key);
    // A re-keyed certificate of the same name, signed by the old key; no key identifiers,
    // so only the signature tells.
    let new_key = rcgen::KeyPair::generate().unwrap();
    p.is_ca = rcgen::IsCa::NoCa; // rcgen writes a subject key identifier only for CAs
    let rekeyed = p.signed_by(&new_key, &issuer).unwrap();
    let info = parse_certificate(rekeyed.der()).unwrap();
    assert_eq!(info.subject, info.issuer);
    assert_eq!((&info.aki, &info.ski), (&None, &None));
    assert_eq!(info.signature_verified, Some(false), "{info:?}");
    assert!(!info.self_signed);
}

#[test]
fn distinguished_names_escape_separators_inside_values_as_rfc_4514_says() {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(rcgen::DnType::CountryName, "TW");
    p.distinguished_name.push(
        rcgen::DnType::OrganizationName,
        "Chunghwa Telecom Co., Ltd.",
    );
    p.distinguished_name.push(
        rcgen::DnType::OrganizationalUnitName,
        " #1 + \"best\" <ca>;\\ ",
    );
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "ePKI Root");
    let cert = p.self_signed(&key).unwrap();
    let info = parse_certificate(cert.der()).unwrap();
    assert_eq!(
        info.subject,
        // rcgen's default name already holds a CN, which keeps its place in front.
        r#"CN=ePKI Root, C=TW, O=Chunghwa Telecom Co.\, Ltd., OU=\ #1 \+ \"best\" \<ca\>\;\\\ "#
    );
    assert_eq!(info.issuer, info.subject);
    if have("openssl") {
        // openssl's RFC 2253 form (reversed order, "," between RDNs) escapes values alike.
        let dir = TempDir::new("dn");
        std::fs::write(dir.path("c.der"), cert.der()).unwrap();
        let out = run(
            &dir,
            "openssl",
            &[
                "x509", "-inform", "DER", "-in", "c.der", "-noout", "-subject", "-nameopt",
                "RFC2253",
            ],
        );
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains(r"O=Chunghwa Telecom Co.\, Ltd."),
            "openssl: {out}"
        );
    }
}

// ------------------------------------------------------------------------------ walking

mod walking {
    use super::*;
    use std::sync::atomic::Ordering;
    use trustmap_core::ScanError;
    use trustmap_discover::Found;
    use trustmap_discover::scan::Scanner;
    use trustmap_discover::secrets::RuleSet;
    use trustmap_discover::source::{Progress, Sink, Source};
    use trustmap_discover::walk::{FileTree, WalkOptions};

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

    /// Walks `root` as `opts` says, on a thread, failing the test if it takes a minute.
    fn walk(root: &std::path::Path, opts: WalkOptions) -> (Collect, Progress) {
        let root = root.to_path_buf();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let tree = FileTree::new(root, &opts);
            let progress = Progress::default();
            let mut sink = Collect::default();
            tree.run(&Scanner::new(RuleSet::builtin()), &progress, &mut sink);
            let _ = tx.send((sink, progress));
        });
        rx.recv_timeout(std::time::Duration::from_secs(60))
            .expect("the walk finishes (a pseudo file read forever would hang it)")
    }

    fn cert_pem(cn: &str) -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(vec![format!("{cn}.example.test")]).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, cn);
        p.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn binaries_report_armour_only_when_it_decodes() {
        // What bin/ssh holds: the armour strings as constants, between NULs.
        let constants = b"-----BEGIN OPENSSH PRIVATE KEY-----\0%s: not base64 (key format)\0-----END OPENSSH PRIVATE KEY-----\0";
        let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
        elf.extend_from_slice(constants);
        elf.extend_from_slice(cert_pem("embedded").as_bytes());
        elf.extend_from_slice(&[0; 16]);
        let scanner = Scanner::new(RuleSet::builtin());
        let r = scanner.scan_file("bin/ssh", &elf);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(
            r.found.len(),
            1,
            "a certificate that decodes is still found"
        );
        // The same broken armour in a text file is an error worth reporting.
        let text = String::from_utf8_lossy(constants).replace('\0', "\n");
        let r = scanner.scan_file("notes.txt", text.as_bytes());
        assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
        assert!(
            r.errors[0].contains("OPENSSH PRIVATE KEY"),
            "{:?}",
            r.errors
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn pseudo_filesystems_and_special_files_are_not_read() {
        // A root on procfs: not read at all (pagemap alone is gigabytes), and said so.
        let (sink, progress) = walk(std::path::Path::new("/proc/self"), WalkOptions::new(vec![]));
        assert_eq!(progress.files.load(Ordering::Relaxed), 0);
        assert_eq!(sink.1.len(), 1, "{:?}", sink.1);
        assert!(
            sink.1[0].error.contains("proc pseudo filesystem"),
            "{:?}",
            sink.1
        );
        // Inside a tree: a followed link to procfs and a FIFO are skipped, real files read.
        let dir = TempDir::new("pseudo");
        std::fs::write(dir.path("tls.crt"), cert_pem("real")).unwrap();
        std::os::unix::fs::symlink("/proc/self", dir.path("proc-link")).unwrap();
        let fifo_made = std::process::Command::new("mkfifo")
            .arg(dir.path("pipe"))
            .status()
            .is_ok_and(|s| s.success());
        let mut opts = WalkOptions::new(vec![]);
        opts.follow_symlinks = true;
        let root = dir.path("tls.crt").parent().unwrap().to_path_buf();
        let (sink, progress) = walk(&root, opts);
        assert_eq!(sink.0.len(), 1, "{:?}", sink.1);
        assert_eq!(
            progress.files.load(Ordering::Relaxed),
            1,
            "only tls.crt is read"
        );
        assert!(fifo_made || std::env::var_os("CI").is_none());
        assert_eq!(
            trustmap_discover::walk::pseudo_filesystem(std::path::Path::new("/proc")),
            Some("proc")
        );
        assert_eq!(
            trustmap_discover::walk::pseudo_filesystem(std::path::Path::new("/sys")),
            Some("sysfs")
        );
        assert_eq!(trustmap_discover::walk::pseudo_filesystem(&root), None);
        // devtmpfs has tmpfs's magic: /dev is told by its path, a tmpfs elsewhere is not
        // pseudo.
        assert_eq!(
            trustmap_discover::walk::pseudo_filesystem(std::path::Path::new("/dev")),
            Some("devtmpfs")
        );
        if std::path::Path::new("/dev/shm").is_dir() {
            assert_eq!(
                trustmap_discover::walk::pseudo_filesystem(std::path::Path::new("/dev/shm")),
                None
            );
        }
    }

    #[test]
    fn exclude_patterns_are_gitignore_globs_relative_to_the_root_and_counted() {
        let dir = TempDir::new("exclude");
        let root = dir.path("tree");
        for p in [
            "app/tls.crt",
            "vendor/lib/ca.crt",
            "app/fixture.test.pem",
            "build/out.crt",
        ] {
            let f = root.join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(&f, cert_pem(p.split('/').next_back().unwrap())).unwrap();
        }
        // Nested `app/build` is not the root's `/build`.
        std::fs::create_dir_all(root.join("app/build")).unwrap();
        std::fs::write(root.join("app/build/kept.crt"), cert_pem("kept")).unwrap();
        let mut opts = WalkOptions::new(vec![]);
        opts.exclude = vec!["vendor/".into(), "*.test.pem".into(), "/build".into()];
        let (sink, progress) = walk(&root, opts);
        let mut paths: Vec<&str> = sink.0.iter().map(|f| f.occurrence.path.as_str()).collect();
        paths.sort();
        assert_eq!(paths, ["app/build/kept.crt", "app/tls.crt"]);
        assert_eq!(progress.excluded.load(Ordering::Relaxed), 3);
        assert!(trustmap_discover::walk::check_exclude("vendor/**").is_ok());
        assert!(trustmap_discover::walk::check_exclude("/").is_err());
    }
}

// ------------------------------------------------------------------------- keys

mod keys {
    use super::*;
    use trustmap_core::{Asset, Relation, RelationType, ScanError};
    use trustmap_discover::Found;
    use trustmap_discover::inventory::Inventory;
    use trustmap_discover::scan::Scanner;
    use trustmap_discover::secrets::RuleSet;
    use trustmap_discover::source::{Progress, Sink, Source};
    use trustmap_discover::walk::{FileTree, WalkOptions};

    struct Fill(Inventory, Vec<ScanError>);
    impl Sink for Fill {
        fn found(&mut self, f: Found) {
            self.0.add(f);
        }
        fn error(&mut self, e: ScanError) {
            self.1.push(e);
        }
    }

    fn inventory(dir: &TempDir) -> (Vec<Asset>, Vec<Relation>) {
        let root = dir.path("x").parent().unwrap().to_path_buf();
        let tree = FileTree::new(root, &WalkOptions::new(vec![]));
        let mut sink = Fill(Inventory::new(), Vec::new());
        tree.run(
            &Scanner::new(RuleSet::builtin()),
            &Progress::default(),
            &mut sink,
        );
        assert!(sink.1.is_empty(), "{:?}", sink.1);
        sink.0.finish(&[])
    }

    fn at<'a>(assets: &'a [Asset], path: &str, kind: &str) -> &'a Asset {
        assets
            .iter()
            .find(|a| a.kind.as_str() == kind && a.occurrences.iter().any(|o| o.path == path))
            .unwrap_or_else(|| panic!("no {kind} at {path}"))
    }

    fn key_of(relations: &[Relation], from: &str, to: &str) -> bool {
        relations
            .iter()
            .any(|r| r.kind == RelationType::KeyOf && r.from == from && r.to == to)
    }

    #[test]
    fn encrypted_keys_take_their_public_half_from_beside_them() {
        if !have("openssl") {
            return;
        }
        let d = TempDir::new("enc-keys");
        let ossl = |args: &[&str]| {
            run(&d, "openssl", args);
        };
        let enc = |plain: &str, out: &str| {
            run(
                &d,
                "openssl",
                &[
                    "pkcs8",
                    "-topk8",
                    "-in",
                    plain,
                    "-out",
                    out,
                    "-v2",
                    "aes-256-cbc",
                    "-passout",
                    "pass:not-a-real-secret",
                ],
            );
        };
        // svc.key (encrypted PKCS#8) + svc.pub (its SPKI).
        ossl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "p1",
        ]);
        enc("p1", "svc.key");
        ossl(&["pkey", "-in", "p1", "-pubout", "-out", "svc.pub"]);
        // bundle.pem: an encrypted EC key and its certificate.
        ossl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-out",
            "p2",
        ]);
        enc("p2", "k2");
        ossl(&[
            "req",
            "-x509",
            "-key",
            "p2",
            "-subj",
            "/CN=bundle",
            "-days",
            "30",
            "-out",
            "c2",
        ]);
        let bundle = [d.read("k2"), d.read("c2")].concat();
        std::fs::write(d.path("bundle.pem"), bundle).unwrap();
        // lonely.key: nothing tells.
        ossl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "p3",
        ]);
        enc("p3", "lonely.key");
        let want1 = crate::support::openssl_spki_sha256(&d, "p1", None);
        let want2 = crate::support::openssl_spki_sha256(&d, "p2", None);
        for f in ["p1", "p2", "p3", "k2", "c2"] {
            std::fs::remove_file(d.path(f)).unwrap();
        }
        let (assets, relations) = inventory(&d);

        let svc = at(&assets, "svc.key", "private-key");
        let k = svc.key.as_ref().unwrap();
        assert_eq!((k.algorithm.as_str(), k.bits), ("RSA", Some(2048)));
        assert_eq!(k.spki_sha256.as_deref(), Some(want1.as_str()));
        assert_eq!(k.public_key_from.as_deref(), Some("svc.pub"));
        assert_eq!(k.encrypted, Some(true));
        let public = at(&assets, "svc.pub", "public-key");
        assert!(key_of(&relations, &svc.id, &public.id));

        let b = at(&assets, "bundle.pem", "private-key");
        let k = b.key.as_ref().unwrap();
        assert_eq!(
            (k.algorithm.as_str(), k.curve.as_deref()),
            ("EC", Some("P-384"))
        );
        assert_eq!(k.spki_sha256.as_deref(), Some(want2.as_str()));
        let cert = at(&assets, "bundle.pem", "certificate");
        assert!(key_of(&relations, &b.id, &cert.id));

        let lonely = at(&assets, "lonely.key", "private-key");
        let k = lonely.key.as_ref().unwrap();
        assert_eq!(k.algorithm, "unknown");
        assert_eq!(
            (k.bits, &k.spki_sha256, &k.public_key_from),
            (None, &None, &None)
        );
    }

    #[test]
    fn ssh_fingerprints_match_ssh_keygen() {
        if !have("ssh-keygen") {
            return;
        }
        let d = TempDir::new("ssh-fp");
        let keys: &[(&str, &[&str])] = &[
            ("ed", &["-t", "ed25519", "-N", ""]),
            (
                "rsa",
                &["-t", "rsa", "-b", "2048", "-N", "not-a-real-secret"],
            ),
            ("ec", &["-t", "ecdsa", "-b", "384", "-N", ""]),
        ];
        for (name, args) in keys {
            let mut all = args.to_vec();
            all.extend(["-C", "fp test", "-q", "-f", name]);
            run(&d, "ssh-keygen", &all);
        }
        let (assets, relations) = inventory(&d);
        for (name, _) in keys {
            let pubfile = format!("{name}.pub");
            let out = run(&d, "ssh-keygen", &["-lf", &pubfile]);
            let want = String::from_utf8(out).unwrap();
            let want = want.split_whitespace().nth(1).unwrap();
            assert!(want.starts_with("SHA256:"), "{want}");
            let private = at(&assets, name, "private-key");
            let public = at(&assets, &pubfile, "public-key");
            for a in [private, public] {
                assert_eq!(
                    a.key.as_ref().unwrap().ssh_fingerprint.as_deref(),
                    Some(want),
                    "{name}"
                );
            }
            // An encrypted OpenSSH key carries its public key in clear: known and linked.
            assert!(key_of(&relations, &private.id, &public.id), "{name}");
            assert!(private.key.as_ref().unwrap().bits.is_some(), "{name}");
        }
    }
}
