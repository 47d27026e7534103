//! CycloneDX 1.6 CBOM: schema-valid, every asset kind mapped, algorithms as components that
//! certificates and keys reference, every place in evidence, deterministic.

use crate::common::{ctx, estate, report, valid_cyclonedx};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use trustmap_export::cyclonedx;

fn render(v: &Value) -> (String, Value) {
    let text = cyclonedx::render(&report(v), &ctx());
    let doc = valid_cyclonedx(&text);
    (text, doc)
}

fn component<'a>(doc: &'a Value, bom_ref: &str) -> &'a Value {
    doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bom-ref"] == bom_ref)
        .unwrap_or_else(|| panic!("no component {bom_ref}"))
}

fn props(c: &Value, name: &str) -> Vec<String> {
    c["properties"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter(|p| p["name"] == name)
                .map(|p| p["value"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Every reference in the document names a component.
fn refs_resolve(doc: &Value) {
    let refs: BTreeSet<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    assert_eq!(
        refs.len(),
        doc["components"].as_array().unwrap().len(),
        "unique bom-refs"
    );
    let mut used = vec![];
    for c in doc["components"].as_array().unwrap() {
        let cp = &c["cryptoProperties"];
        for p in [
            &cp["certificateProperties"]["signatureAlgorithmRef"],
            &cp["certificateProperties"]["subjectPublicKeyRef"],
            &cp["relatedCryptoMaterialProperties"]["algorithmRef"],
        ] {
            if let Some(s) = p.as_str() {
                used.push(s);
            }
        }
    }
    for d in doc["dependencies"].as_array().unwrap() {
        used.push(d["ref"].as_str().unwrap());
        for t in d["dependsOn"].as_array().unwrap() {
            used.push(t.as_str().unwrap());
        }
    }
    for u in used {
        assert!(refs.contains(u), "dangling reference {u}");
    }
}

#[test]
fn every_asset_kind_is_a_cryptographic_asset() {
    let (_, doc) = render(&estate());
    assert_eq!(doc["bomFormat"], "CycloneDX");
    assert_eq!(doc["specVersion"], "1.6");
    assert_eq!(doc["metadata"]["timestamp"], "2026-12-01T00:00:00Z");
    assert_eq!(
        doc["metadata"]["tools"]["components"][0]["name"],
        "trustmap"
    );
    refs_resolve(&doc);
    let types: Vec<(&str, &str)> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["type"], "cryptographic-asset");
            (
                c["bom-ref"].as_str().unwrap(),
                c["cryptoProperties"]["assetType"].as_str().unwrap(),
            )
        })
        .collect();
    for (r, t) in [
        ("crt_1eaf000000000000", "certificate"),
        ("crt_ca00000000000000", "certificate"),
        ("key_1111111111111111", "related-crypto-material"),
        ("pub_4444444444444444", "related-crypto-material"),
        ("kst_5555555555555555", "related-crypto-material"),
        ("sec_6666666666666666", "related-crypto-material"),
        ("ept_7777777777777777", "protocol"),
        ("algorithm/ECDSA-P-256", "algorithm"),
        ("algorithm/RSA-PKCS1-1.5-SHA-256-3072", "algorithm"),
    ] {
        assert!(types.contains(&(r, t)), "{r} {t} in {types:?}");
    }
    // sorted by bom-ref
    let refs: Vec<&str> = types.iter().map(|(r, _)| *r).collect();
    let mut sorted = refs.clone();
    sorted.sort_unstable();
    assert_eq!(refs, sorted);
}

#[test]
fn certificates_reference_their_algorithms_and_key() {
    let (_, doc) = render(&estate());
    let leaf = component(&doc, "crt_1eaf000000000000");
    assert_eq!(leaf["name"], "shop.example.test");
    assert_eq!(
        leaf["hashes"],
        json!([{"alg": "SHA-256", "content": format!("1eaf000000000000{}", "0".repeat(48))}])
    );
    let cp = &leaf["cryptoProperties"]["certificateProperties"];
    assert_eq!(cp["subjectName"], "CN=shop.example.test");
    assert_eq!(cp["issuerName"], "CN=Example CA");
    assert_eq!(cp["notValidBefore"], "2026-01-01T00:00:00Z");
    assert_eq!(cp["notValidAfter"], "2027-01-01T00:00:00Z");
    assert_eq!(cp["certificateFormat"], "X.509");
    assert_eq!(cp["certificateExtension"], "crt");
    // signed by the CA's RSA 3072 key with SHA-256: 128 bits, nothing against a quantum computer
    assert_eq!(
        cp["signatureAlgorithmRef"],
        "algorithm/RSA-PKCS1-1.5-SHA-256-3072"
    );
    let sig = component(&doc, "algorithm/RSA-PKCS1-1.5-SHA-256-3072");
    let ap = &sig["cryptoProperties"]["algorithmProperties"];
    assert_eq!(ap["primitive"], "signature");
    assert_eq!(ap["parameterSetIdentifier"], "3072");
    assert_eq!(ap["classicalSecurityLevel"], 128);
    assert_eq!(ap["nistQuantumSecurityLevel"], 0);
    assert_eq!(sig["cryptoProperties"]["oid"], "1.2.840.113549.1.1.11");
    // its public key: made for it (no public-key asset has that SPKI), with the EC algorithm
    let spki = format!("spki/{}", "1".repeat(64));
    assert_eq!(cp["subjectPublicKeyRef"], spki.as_str());
    let pk = component(&doc, &spki);
    let rp = &pk["cryptoProperties"]["relatedCryptoMaterialProperties"];
    assert_eq!(rp["type"], "public-key");
    assert_eq!(rp["algorithmRef"], "algorithm/ECDSA-P-256");
    let ec = &component(&doc, "algorithm/ECDSA-P-256")["cryptoProperties"]["algorithmProperties"];
    assert_eq!(ec["curve"], "nist/P-256");
    assert_eq!(ec["classicalSecurityLevel"], 128);
    assert_eq!(ec["nistQuantumSecurityLevel"], 0);
    // serial, SANs, lints, relations and findings as properties
    assert_eq!(props(leaf, "trustmap:certificate:serial"), ["01ab"]);
    assert_eq!(
        props(leaf, "trustmap:certificate:san"),
        ["DNS:shop.example.test"]
    );
    assert_eq!(
        props(leaf, "trustmap:relation"),
        ["issued-by crt_ca00000000000000"]
    );
    assert_eq!(
        props(leaf, "trustmap:finding"),
        [
            "cert-wildcard (medium), waived",
            "x509-serial-low-entropy (low)"
        ]
    );
    // every place, with the route inside the container
    assert_eq!(
        leaf["evidence"]["occurrences"],
        json!([
            {"location": "tls/shop.crt", "line": 1, "offset": 0},
            {"location": "bundle/app.p12", "additionalContext": "keystore entry 'shop'"}
        ])
    );
    // the graph: leaf -> signature algorithm, its key, its issuer
    let dep = doc["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["ref"] == "crt_1eaf000000000000")
        .unwrap();
    assert_eq!(
        dep["dependsOn"],
        json!([
            "algorithm/RSA-PKCS1-1.5-SHA-256-3072",
            "crt_ca00000000000000",
            spki
        ])
    );
}

#[test]
fn keys_keystores_secrets_and_endpoints() {
    let (text, doc) = render(&estate());
    let key = component(&doc, "key_1111111111111111");
    assert_eq!(key["name"], "EC P-256 private key");
    let rp = &key["cryptoProperties"]["relatedCryptoMaterialProperties"];
    assert_eq!(rp["type"], "private-key");
    assert_eq!(rp["algorithmRef"], "algorithm/ECDSA-P-256");
    assert_eq!(rp["size"], 256);
    assert_eq!(rp["format"], "pkcs8");
    assert!(rp.get("securedBy").is_none());

    let old = &component(&doc, "key_3333333333333333")["cryptoProperties"]["relatedCryptoMaterialProperties"];
    assert_eq!(old["algorithmRef"], "algorithm/RSA-1024");
    assert_eq!(
        old["securedBy"]["mechanism"],
        "PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC)"
    );
    let rsa = &component(&doc, "algorithm/RSA-1024")["cryptoProperties"]["algorithmProperties"];
    assert_eq!(
        (
            rsa["primitive"].as_str(),
            rsa["classicalSecurityLevel"].as_u64()
        ),
        (Some("pke"), Some(80))
    );

    let ssh = component(&doc, "pub_4444444444444444");
    assert_eq!(
        ssh["cryptoProperties"]["relatedCryptoMaterialProperties"]["type"],
        "public-key"
    );
    assert_eq!(
        ssh["cryptoProperties"]["relatedCryptoMaterialProperties"]["algorithmRef"],
        "algorithm/Ed25519"
    );
    let ed = &component(&doc, "algorithm/Ed25519")["cryptoProperties"];
    assert_eq!(ed["algorithmProperties"]["classicalSecurityLevel"], 128);
    assert_eq!(ed["oid"], "1.3.101.112");

    let ks = component(&doc, "kst_5555555555555555");
    assert_eq!(
        ks["cryptoProperties"]["relatedCryptoMaterialProperties"]["format"],
        "pkcs12"
    );
    assert_eq!(props(ks, "trustmap:keystore:alias"), ["shop"]);
    assert_eq!(
        props(ks, "trustmap:relation"),
        ["contains crt_1eaf000000000000"]
    );

    let sec = component(&doc, "sec_6666666666666666");
    assert_eq!(sec["name"], "GitHub github-pat-classic");
    assert_eq!(
        sec["cryptoProperties"]["relatedCryptoMaterialProperties"]["type"],
        "token"
    );
    assert_eq!(
        sec["evidence"]["occurrences"][0],
        json!({"location": "deploy/.env", "line": 4, "offset": 80})
    );
    // neither the value nor its preview
    assert!(!text.contains("ghp_"), "a secret's preview in the CBOM");

    let ept = component(&doc, "ept_7777777777777777");
    assert_eq!(ept["name"], "shop.example.test:443");
    assert_eq!(
        ept["cryptoProperties"]["protocolProperties"],
        json!({"type": "tls", "version": "1.2",
               "cipherSuites": [{"name": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}]})
    );
    assert_eq!(props(ept, "trustmap:endpoint:legacy-protocol"), ["TLSv1.0"]);
    assert_eq!(
        props(ept, "trustmap:endpoint:key-exchange-group"),
        ["secp256r1"]
    );
    assert_eq!(props(ept, "trustmap:endpoint:trusted"), ["true"]);
}

#[test]
fn a_public_key_asset_with_the_certificate_spki_is_referenced() {
    let mut v = estate();
    v["assets"][4]["key"]["spki_sha256"] = json!("1".repeat(64));
    let (_, doc) = render(&v);
    let leaf = component(&doc, "crt_1eaf000000000000");
    assert_eq!(
        leaf["cryptoProperties"]["certificateProperties"]["subjectPublicKeyRef"],
        "pub_4444444444444444"
    );
    let spki = format!("spki/{}", "1".repeat(64));
    assert!(
        doc["components"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["bom-ref"] != spki.as_str())
    );
}

#[test]
fn exports_are_deterministic_and_serials_follow_the_report() {
    let (a, da) = render(&estate());
    let (b, _) = render(&estate());
    assert_eq!(a, b);
    let mut v = estate();
    v["scan"]["id"] = json!("43");
    let (_, dc) = render(&v);
    assert_ne!(da["serialNumber"], dc["serialNumber"]);
    // the same assets in another order: the same components, in the same order
    let mut w = estate();
    w["assets"].as_array_mut().unwrap().reverse();
    let (_, dw) = render(&w);
    assert_eq!(da["components"], dw["components"]);
}

#[test]
fn an_empty_report_is_a_valid_bom() {
    let mut v = estate();
    v["assets"] = json!([]);
    v["relations"] = json!([]);
    v["findings"] = json!([]);
    let (_, doc) = render(&v);
    assert_eq!(doc["components"], json!([]));
    assert_eq!(doc["dependencies"], json!([]));
}
