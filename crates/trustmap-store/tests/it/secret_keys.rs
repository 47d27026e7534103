//! Migration 9: secrets' fingerprints become keyed per inventory, and an inventory from
//! before it is carried forward without the plaintext (which it never had).

use crate::common::{meta, occurrence, report, targets};
use trustmap_core::{Asset, AssetKind, SecretInfo, asset_id, fingerprint};
use trustmap_store::{NewWaiver, Store};

fn secret(value: &str, path: &str) -> Asset {
    let fp = fingerprint(value.as_bytes());
    Asset {
        id: asset_id(AssetKind::Secret, &fp),
        kind: AssetKind::Secret,
        fingerprint: fp,
        occurrences: vec![occurrence(path, None)],
        certificate: None,
        key: None,
        secret: Some(SecretInfo {
            rule: "generic-password".into(),
            provider: "generic".into(),
            redacted: "Su…".into(),
        }),
        keystore: None,
        consumer: None,
        endpoint: None,
        owners: vec![],
    }
}

#[test]
fn old_secret_fingerprints_are_rekeyed_and_their_waivers_follow() {
    for t in targets("k", "rekey") {
        let value = "Summer2024!";
        let old = secret(value, "k8s/secret.yaml");
        let old_id = old.id.clone();
        {
            let s = Store::open_at_version(&t.url, 8).unwrap();
            s.record_scan(
                &report("scan_1", &["/srv"], vec![old]),
                &meta("h", &[("/srv", "/srv")], "2026-01-01T00:00:05Z"),
            )
            .unwrap();
            s.grant_waiver(&NewWaiver {
                rule: "secret-plaintext".into(),
                asset: old_id.clone(),
                reason: "rotating".into(),
                until: "2099-01-01T00:00:00Z".into(),
                by: "alice".into(),
            })
            .unwrap();
        }
        let s = Store::open(&t.url).unwrap();
        let key = s.secret_fingerprint_key().unwrap();
        // The keyed fingerprint the scanner makes: HMAC-SHA256(key, SHA-256(value)).
        let digest = <sha2::Sha256 as sha2::Digest>::digest(value.as_bytes());
        let mac = ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key),
            &digest,
        );
        let fp = format!("sha256:{}", hex::encode(mac.as_ref()));
        let new_id = asset_id(AssetKind::Secret, &fp);
        assert_ne!(new_id, old_id, "[{}]", t.name);
        let rows = s
            .query_raw("SELECT id, fingerprint FROM assets WHERE kind = 'secret'")
            .unwrap();
        assert_eq!(rows, vec![vec![new_id.clone(), fp.clone()]], "[{}]", t.name);
        // The waiver follows the asset, in the table and in the chain it is read from.
        let waivers = s.waivers().unwrap();
        assert_eq!(waivers.len(), 1);
        assert_eq!(waivers[0].asset, new_id, "[{}]", t.name);
        let v = s.verify_audit().unwrap();
        assert!(v.intact(), "[{}] {v:?}", t.name);
        // The next sighting (the scanner's keyed fingerprint) is the same asset.
        let mut again = secret(value, "k8s/secret.yaml");
        again.fingerprint = fp;
        again.id = new_id;
        let rec = s
            .record_scan(
                &report("scan_2", &["/srv"], vec![again]),
                &meta("h", &[("/srv", "/srv")], "2026-01-02T00:00:05Z"),
            )
            .unwrap();
        assert!(rec.first_seen.is_empty(), "[{}] {rec:?}", t.name);
        assert!(rec.diff.unwrap().gone.is_empty(), "[{}]", t.name);
        // Each inventory makes its own key.
        let other = tempfile::tempdir().unwrap();
        let o = Store::open(other.path().join("o.db").to_str().unwrap()).unwrap();
        assert_ne!(o.secret_fingerprint_key().unwrap(), key);
    }
}
