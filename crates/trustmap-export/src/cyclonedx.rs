//! CycloneDX 1.6 with cryptographic assets, a CBOM (`trustmap scan --format cyclonedx`).
//!
//! The mapping (every component has `type: cryptographic-asset`):
//! - certificate -> `assetType: certificate`: `certificateProperties` (subject, issuer,
//!   validity, `certificateFormat: X.509`, the file extension), `signatureAlgorithmRef` to an
//!   algorithm component, `subjectPublicKeyRef` to a public-key component (the public-key asset
//!   with the same SPKI when the scan found one, else one made for it, `bom-ref` `spki/` + the
//!   SPKI SHA-256); the SHA-256 of the DER (its fingerprint) in `hashes`;
//! - private-key, public-key -> `related-crypto-material` of type `private-key` /
//!   `public-key`, with `algorithmRef`, `size` (bits), `format`, `securedBy` for an encrypted
//!   key;
//! - keystore -> `related-crypto-material` of type `other` with its format and protection;
//! - secret -> `related-crypto-material` of type `password`, `token` or `credential` (from its
//!   detection rule, [`secret_type`]); never the value, nor the redacted preview;
//! - endpoint -> `assetType: protocol` with `protocolProperties` `type: tls`, the negotiated
//!   `version` (`1.3`) and cipher suite (`cipherSuites[].name`); key-exchange group, ALPN,
//!   legacy versions accepted and the chain's verification are `trustmap:endpoint:*`
//!   properties;
//! - algorithms -> `assetType: algorithm` components of their own ([`crate::algorithms`]):
//!   primitive, parameter set, curve, classical and NIST quantum security levels, OID;
//! - every place an asset was seen -> `evidence.occurrences` (path, line, offset, and the
//!   route inside the file as `additionalContext`);
//! - relations (issued-by, key-of, contains, serves, uses) and algorithm references ->
//!   `dependencies` (`ref` depends on each target), and a `trustmap:relation` property naming
//!   the type;
//! - facts CycloneDX 1.6 has no field for (serial, SANs, CA flag, key usage, owners,
//!   findings, the trustmap fingerprint) -> `properties` named `trustmap:...`.
//!
//! Determinism: `bom-ref`s are asset ids (the material's SHA-256) or derived from algorithm
//! names; components, properties and dependencies are sorted; the serial number is a UUID
//! (version 8, RFC 9562) made from the SHA-256 of the report and trustmap's version, and the
//! timestamp is the scan's start. Two exports of one report are byte-identical.

use crate::Context;
use crate::algorithms::{self, Algorithm};
use crate::json::to_text;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use trustmap_core::{Asset, AssetKind, KeyInfo, RelationType, Report};

/// The `$schema` written into the document.
pub const SCHEMA_URI: &str = "http://cyclonedx.org/schema/bom-1.6.schema.json";

/// The report as a CycloneDX 1.6 CBOM.
pub fn render(report: &Report, ctx: &Context) -> String {
    to_text(&Builder::new(report).bom(report, ctx))
}

/// The CycloneDX type of a secret, from its detection rule: `password` for passwords (in
/// connection strings, keystore configurations, URLs), `token` for bearer tokens and API
/// keys, `credential` for the rest (client secrets, access key ids, auth entries).
pub fn secret_type(rule: &str) -> &'static str {
    let parts: Vec<&str> = rule.split('-').collect();
    if rule.contains("password") || rule.contains("passwd") {
        "password"
    } else if rule.contains("secret") || rule.ends_with("-id") {
        "credential"
    } else if parts
        .iter()
        .any(|p| matches!(*p, "token" | "pat" | "jwt" | "key"))
    {
        "token"
    } else {
        "credential"
    }
}

/// A deterministic `urn:uuid:` (UUID version 8, RFC 9562: the layout of a UUID with the bits
/// of a hash) from `bytes`.
pub fn serial_number(bytes: &[u8]) -> String {
    let h = Sha256::digest(bytes);
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

/// Collects components and dependencies.
struct Builder<'a> {
    report: &'a Report,
    assets: BTreeMap<&'a str, &'a Asset>,
    algorithms: BTreeMap<String, Algorithm>,
    /// Public keys made for certificates whose key the scan did not find on its own.
    spki_keys: BTreeMap<String, (KeyInfo, String)>,
    depends: BTreeMap<String, BTreeSet<String>>,
}

impl<'a> Builder<'a> {
    fn new(report: &'a Report) -> Builder<'a> {
        Builder {
            report,
            assets: report.assets.iter().map(|a| (a.id.as_str(), a)).collect(),
            algorithms: BTreeMap::new(),
            spki_keys: BTreeMap::new(),
            depends: BTreeMap::new(),
        }
    }

    fn bom(mut self, report: &Report, ctx: &Context) -> Bom {
        let mut components: Vec<Component> = report.assets.iter().map(|a| self.asset(a)).collect();
        for r in &report.relations {
            if self.assets.contains_key(r.from.as_str()) && self.assets.contains_key(r.to.as_str())
            {
                self.depend(&r.from, &r.to);
            }
        }
        let spki = std::mem::take(&mut self.spki_keys);
        for (bom_ref, (key, cert)) in spki {
            let alg = self.algorithm_ref(&key);
            components.push(Component {
                kind: "cryptographic-asset",
                bom_ref: bom_ref.clone(),
                name: format!("{} public key", key_label(&key)),
                description: Some(format!("The subject public key of certificate {cert}")),
                hashes: vec![],
                crypto: Some(CryptoProperties {
                    asset_type: "related-crypto-material",
                    related: Some(Related {
                        kind: "public-key",
                        id: None,
                        algorithm_ref: alg.clone(),
                        size: key.bits,
                        format: Some("spki".into()),
                        secured_by: None,
                    }),
                    ..CryptoProperties::default()
                }),
                evidence: None,
                properties: key
                    .spki_sha256
                    .iter()
                    .map(|s| prop("trustmap:spki_sha256", s))
                    .collect(),
            });
            if let Some(a) = alg {
                self.depend(&bom_ref, &a);
            }
        }
        for a in self.algorithms.values() {
            components.push(algorithm_component(a));
        }
        components.sort_by(|a, b| a.bom_ref.cmp(&b.bom_ref));
        let dependencies = self
            .depends
            .into_iter()
            .map(|(r, on)| Dependency {
                bom_ref: r,
                depends_on: on.into_iter().collect(),
            })
            .collect();
        let mut seed = serde_json::to_vec(report).unwrap_or_default();
        seed.extend_from_slice(ctx.version.as_bytes());
        let mut meta = vec![
            prop("trustmap:scan:id", &report.scan.id),
            prop("trustmap:scan:host", &report.scan.host),
            prop("trustmap:contract-version", trustmap_core::CONTRACT_VERSION),
        ];
        meta.extend(
            report
                .scan
                .roots
                .iter()
                .map(|r| prop("trustmap:scan:root", r)),
        );
        Bom {
            schema: SCHEMA_URI,
            bom_format: "CycloneDX",
            spec_version: "1.6",
            serial_number: serial_number(&seed),
            version: 1,
            metadata: Metadata {
                timestamp: report.scan.started_at.to_string(),
                lifecycles: vec![Lifecycle { phase: "discovery" }],
                tools: Tools {
                    components: vec![ToolComponent {
                        kind: "application",
                        name: "trustmap",
                        version: ctx.version.clone(),
                    }],
                },
                properties: meta,
            },
            components,
            dependencies,
        }
    }

    fn depend(&mut self, from: &str, to: &str) {
        self.depends
            .entry(from.to_string())
            .or_default()
            .insert(to.to_string());
    }

    /// Registers the algorithm of `key` and returns its `bom-ref`.
    fn algorithm_ref(&mut self, key: &KeyInfo) -> Option<String> {
        algorithms::key_algorithm(key).map(|a| self.add_algorithm(a))
    }

    fn add_algorithm(&mut self, a: Algorithm) -> String {
        let r = a.bom_ref();
        match self.algorithms.get_mut(&r) {
            // The same name from a key and from a signature (Ed25519): keep what either knows.
            Some(have) => {
                if have.oid.is_none() {
                    have.oid = a.oid;
                }
                if have.description.is_none() {
                    have.description = a.description;
                }
            }
            None => {
                self.algorithms.insert(r.clone(), a);
            }
        }
        r
    }

    /// The key that signed certificate `a`: its own when self-signed, else its issuer's.
    fn issuer_key(&self, a: &Asset) -> Option<KeyInfo> {
        let c = a.certificate.as_ref()?;
        if c.self_signed {
            return Some(c.public_key.clone());
        }
        self.report
            .relations
            .iter()
            .filter(|r| r.from == a.id && r.kind == RelationType::IssuedBy)
            .find_map(|r| self.assets.get(r.to.as_str()))
            .and_then(|i| i.certificate.as_ref())
            .map(|ic| ic.public_key.clone())
    }

    /// The component of the public key a certificate holds.
    fn subject_key_ref(&mut self, a: &Asset, key: &KeyInfo) -> Option<String> {
        let spki = key.spki_sha256.as_deref()?;
        let found = self
            .report
            .assets
            .iter()
            .filter(|x| x.kind == AssetKind::PublicKey)
            .find(|x| x.key.as_ref().and_then(|k| k.spki_sha256.as_deref()) == Some(spki));
        if let Some(p) = found {
            return Some(p.id.clone());
        }
        let r = format!("spki/{spki}");
        self.spki_keys
            .entry(r.clone())
            .or_insert_with(|| (key.clone(), a.id.clone()));
        Some(r)
    }

    fn asset(&mut self, a: &Asset) -> Component {
        let mut props = vec![prop("trustmap:fingerprint", &a.fingerprint)];
        let mut hashes = vec![];
        let mut description = None;
        let mut crypto = CryptoProperties::default();
        match a.kind {
            AssetKind::Certificate => {
                crypto.asset_type = "certificate";
                if let Some(c) = &a.certificate {
                    let issuer_key = self.issuer_key(a);
                    let sig = algorithms::signature_algorithm(c, issuer_key.as_ref());
                    let sig_ref = self.add_algorithm(sig);
                    self.depend(&a.id, &sig_ref);
                    let key_ref = self.subject_key_ref(a, &c.public_key);
                    if let Some(k) = &key_ref {
                        self.depend(&a.id, k);
                    }
                    crypto.certificate = Some(CertificateProperties {
                        subject_name: c.subject.clone(),
                        issuer_name: c.issuer.clone(),
                        not_valid_before: c.not_before.to_string(),
                        not_valid_after: c.not_after.to_string(),
                        signature_algorithm_ref: sig_ref,
                        subject_public_key_ref: key_ref,
                        certificate_format: "X.509",
                        certificate_extension: a
                            .occurrences
                            .first()
                            .and_then(|o| extension(&o.path)),
                    });
                    props.push(prop("trustmap:certificate:serial", &c.serial));
                    props.push(prop(
                        "trustmap:certificate:signature_algorithm",
                        &c.signature_algorithm,
                    ));
                    props.push(prop("trustmap:certificate:is_ca", &c.is_ca.to_string()));
                    props.push(prop(
                        "trustmap:certificate:self_signed",
                        &c.self_signed.to_string(),
                    ));
                    for s in &c.sans {
                        props.push(prop("trustmap:certificate:san", s));
                    }
                    for u in &c.key_usage {
                        props.push(prop("trustmap:certificate:key_usage", u));
                    }
                    for u in &c.extended_key_usage {
                        props.push(prop("trustmap:certificate:extended_key_usage", u));
                    }
                    for l in &c.lints {
                        props.push(prop("trustmap:certificate:lint", l));
                    }
                }
                if let Some(hex) = a.fingerprint.strip_prefix("sha256:") {
                    hashes.push(Hash {
                        alg: "SHA-256",
                        content: hex.to_string(),
                    });
                }
            }
            AssetKind::PrivateKey | AssetKind::PublicKey => {
                crypto.asset_type = "related-crypto-material";
                let key = a.key.clone().unwrap_or_default();
                let alg = self.algorithm_ref(&key);
                if let Some(r) = &alg {
                    self.depend(&a.id, r);
                }
                let secured_by = (key.encrypted == Some(true)).then(|| SecuredBy {
                    mechanism: key
                        .encryption
                        .clone()
                        .unwrap_or_else(|| "passphrase".into()),
                });
                crypto.related = Some(Related {
                    kind: if a.kind == AssetKind::PrivateKey {
                        "private-key"
                    } else {
                        "public-key"
                    },
                    id: Some(a.id.clone()),
                    algorithm_ref: alg,
                    size: key.bits,
                    format: key.format.clone(),
                    secured_by,
                });
                if let Some(s) = &key.spki_sha256 {
                    props.push(prop("trustmap:spki_sha256", s));
                }
                if let Some(s) = &key.ssh_fingerprint {
                    props.push(prop("trustmap:ssh_fingerprint", s));
                }
                if key.algorithm == "unknown" {
                    description = Some("An encrypted key whose algorithm nothing tells".into());
                }
            }
            AssetKind::Keystore => {
                crypto.asset_type = "related-crypto-material";
                let k = a.keystore.clone().unwrap_or_default();
                crypto.related = Some(Related {
                    kind: "other",
                    id: Some(a.id.clone()),
                    algorithm_ref: None,
                    size: None,
                    format: Some(k.format.clone()).filter(|f| !f.is_empty()),
                    secured_by: k.encryption.clone().map(|m| SecuredBy { mechanism: m }),
                });
                description = Some(format!("{} keystore", k.format));
                props.push(prop("trustmap:keystore:entries", &k.entries.to_string()));
                props.push(prop("trustmap:keystore:locked", &k.locked.to_string()));
                if let Some(p) = &k.opened_with {
                    props.push(prop("trustmap:keystore:opened_with_default_password", p));
                }
                for alias in &k.aliases {
                    props.push(prop("trustmap:keystore:alias", alias));
                }
            }
            AssetKind::Secret => {
                crypto.asset_type = "related-crypto-material";
                let s = a.secret.clone().unwrap_or_default();
                crypto.related = Some(Related {
                    kind: secret_type(&s.rule),
                    id: Some(a.id.clone()),
                    algorithm_ref: None,
                    size: None,
                    format: None,
                    secured_by: None,
                });
                props.push(prop("trustmap:secret:rule", &s.rule));
                if !s.provider.is_empty() {
                    props.push(prop("trustmap:secret:provider", &s.provider));
                }
            }
            AssetKind::Endpoint => {
                crypto.asset_type = "protocol";
                let e = a.endpoint.as_ref();
                crypto.protocol = Some(ProtocolProperties {
                    kind: "tls",
                    version: e
                        .map(|e| e.protocol.trim_start_matches("TLSv").to_string())
                        .filter(|v| !v.is_empty()),
                    cipher_suites: e
                        .filter(|e| !e.cipher_suite.is_empty())
                        .map(|e| {
                            vec![CipherSuite {
                                name: e.cipher_suite.clone(),
                            }]
                        })
                        .unwrap_or_default(),
                });
                if let Some(e) = e {
                    if let Some(g) = &e.key_exchange_group {
                        props.push(prop("trustmap:endpoint:key-exchange-group", g));
                    }
                    if let Some(p) = &e.alpn {
                        props.push(prop("trustmap:endpoint:alpn", p));
                    }
                    for v in &e.legacy_protocols {
                        props.push(prop("trustmap:endpoint:legacy-protocol", v));
                    }
                    let v = &e.verification;
                    let b = |x: bool| if x { "true" } else { "false" };
                    props.push(prop("trustmap:endpoint:trusted", b(v.trusted)));
                    props.push(prop(
                        "trustmap:endpoint:hostname-match",
                        b(v.hostname_match),
                    ));
                    props.push(prop(
                        "trustmap:endpoint:chain-complete",
                        b(v.chain_complete),
                    ));
                }
            }
            AssetKind::Consumer => {
                if let Some(c) = &a.consumer {
                    props.push(prop("trustmap:consumer:software", &c.software));
                    for r in &c.references {
                        props.push(prop(
                            "trustmap:consumer:reference",
                            &format!("{} {} ({})", r.directive, r.value, r.resolution),
                        ));
                    }
                }
            }
        }
        for o in &a.owners {
            props.push(prop(
                "trustmap:owner",
                &format!("{} ({}, {})", o.name, o.role, o.source),
            ));
        }
        for r in self.report.relations.iter().filter(|r| r.from == a.id) {
            props.push(prop(
                "trustmap:relation",
                &format!("{} {}", r.kind.as_str(), r.to),
            ));
        }
        for f in self.report.findings.iter().filter(|f| f.asset == a.id) {
            let mut v = format!("{} ({})", f.rule, f.severity.as_str());
            if f.waiver.is_some() {
                v.push_str(", waived");
            }
            if f.baselined {
                v.push_str(", baselined");
            }
            props.push(prop("trustmap:finding", &v));
        }
        props.sort();
        props.dedup();
        let occurrences: Vec<OccurrenceOut> = a
            .occurrences
            .iter()
            .map(|o| OccurrenceOut {
                location: o.path.clone(),
                line: o.line,
                offset: o.offset,
                additional_context: o.container.clone(),
            })
            .collect();
        let consumer = a.kind == AssetKind::Consumer;
        Component {
            // A consumer is the software that uses crypto assets: an application component
            // whose `uses` relations are dependencies.
            kind: if consumer {
                "application"
            } else {
                "cryptographic-asset"
            },
            bom_ref: a.id.clone(),
            name: name(a),
            description,
            hashes,
            crypto: (!consumer).then_some(crypto),
            evidence: (!occurrences.is_empty()).then_some(Evidence { occurrences }),
            properties: props,
        }
    }
}

/// A component's name: the certificate's CN or subject, the key's algorithm and size, the
/// secret's provider and rule, the keystore's format, the endpoint's place.
fn name(a: &Asset) -> String {
    let n = match a.kind {
        AssetKind::Certificate => a.label(),
        AssetKind::PrivateKey => format!("{} private key", a.label()),
        AssetKind::PublicKey => format!("{} public key", a.label()),
        AssetKind::Keystore => format!("{} keystore", a.label()),
        AssetKind::Secret => match &a.secret {
            Some(s) if !s.provider.is_empty() => format!("{} {}", s.provider, s.rule),
            Some(s) => s.rule.clone(),
            None => a.id.clone(),
        },
        AssetKind::Endpoint => a
            .occurrences
            .first()
            .map_or_else(|| a.id.clone(), |o| o.path.clone()),
        AssetKind::Consumer => a.label(),
    };
    if n.trim().is_empty() { a.id.clone() } else { n }
}

fn key_label(k: &KeyInfo) -> String {
    match (&k.curve, k.bits) {
        (Some(c), _) => format!("{} {c}", k.algorithm),
        (None, Some(b)) if !matches!(k.algorithm.as_str(), "Ed25519" | "Ed448") => {
            format!("{} {b}", k.algorithm)
        }
        _ => k.algorithm.clone(),
    }
}

/// The extension of a file name, when it looks like one (`crt`, `pem`, `p12`).
fn extension(path: &str) -> Option<String> {
    let file = path.rsplit('/').next()?;
    let (stem, ext) = file.rsplit_once('.')?;
    (!stem.is_empty()
        && !ext.is_empty()
        && ext.len() <= 8
        && ext.chars().all(|c| c.is_ascii_alphanumeric()))
    .then(|| ext.to_ascii_lowercase())
}

fn algorithm_component(a: &Algorithm) -> Component {
    Component {
        kind: "cryptographic-asset",
        bom_ref: a.bom_ref(),
        name: a.name.clone(),
        description: a.description.clone(),
        hashes: vec![],
        crypto: Some(CryptoProperties {
            asset_type: "algorithm",
            algorithm: Some(AlgorithmProperties {
                primitive: a.primitive,
                parameter_set_identifier: a.parameter_set.clone(),
                curve: a.curve.clone(),
                crypto_functions: a.functions.to_vec(),
                classical_security_level: a.classical,
                nist_quantum_security_level: a.quantum,
            }),
            oid: a.oid.clone(),
            ..CryptoProperties::default()
        }),
        evidence: None,
        properties: vec![],
    }
}

fn prop(name: &str, value: &str) -> Property {
    Property {
        name: name.to_string(),
        value: value.to_string(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    #[serde(rename = "$schema")]
    schema: &'static str,
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    lifecycles: Vec<Lifecycle>,
    tools: Tools,
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Lifecycle {
    phase: &'static str,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<ToolComponent>,
}

#[derive(Serialize)]
struct ToolComponent {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'static str,
    version: String,
}

#[derive(Serialize)]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    /// Absent for the applications (consumers) that use crypto assets.
    #[serde(rename = "cryptoProperties", skip_serializing_if = "Option::is_none")]
    crypto: Option<CryptoProperties>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<Evidence>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Hash {
    alg: &'static str,
    content: String,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct CryptoProperties {
    asset_type: &'static str,
    #[serde(
        rename = "algorithmProperties",
        skip_serializing_if = "Option::is_none"
    )]
    algorithm: Option<AlgorithmProperties>,
    #[serde(
        rename = "certificateProperties",
        skip_serializing_if = "Option::is_none"
    )]
    certificate: Option<CertificateProperties>,
    #[serde(
        rename = "relatedCryptoMaterialProperties",
        skip_serializing_if = "Option::is_none"
    )]
    related: Option<Related>,
    #[serde(rename = "protocolProperties", skip_serializing_if = "Option::is_none")]
    protocol: Option<ProtocolProperties>,
    #[serde(skip_serializing_if = "Option::is_none")]
    oid: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AlgorithmProperties {
    primitive: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameter_set_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    curve: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    crypto_functions: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    classical_security_level: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nist_quantum_security_level: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CertificateProperties {
    subject_name: String,
    issuer_name: String,
    not_valid_before: String,
    not_valid_after: String,
    signature_algorithm_ref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject_public_key_ref: Option<String>,
    certificate_format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_extension: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Related {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    algorithm_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secured_by: Option<SecuredBy>,
}

#[derive(Serialize)]
struct SecuredBy {
    mechanism: String,
}

#[derive(Serialize)]
struct ProtocolProperties {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(rename = "cipherSuites", skip_serializing_if = "Vec::is_empty")]
    cipher_suites: Vec<CipherSuite>,
}

#[derive(Serialize)]
struct CipherSuite {
    name: String,
}

#[derive(Serialize)]
struct Evidence {
    occurrences: Vec<OccurrenceOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OccurrenceOut {
    location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_context: Option<String>,
}

#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct Property {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    bom_ref: String,
    depends_on: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_typed_by_their_rule() {
        assert_eq!(secret_type("jdbc-url-password"), "password");
        assert_eq!(secret_type("keystore-password"), "password");
        assert_eq!(secret_type("github-pat-classic"), "token");
        assert_eq!(secret_type("slack-bot-token"), "token");
        assert_eq!(secret_type("jwt"), "token");
        assert_eq!(secret_type("openai-project-key"), "token");
        assert_eq!(secret_type("aws-secret-access-key"), "credential");
        assert_eq!(secret_type("aws-access-key-id"), "credential");
        assert_eq!(secret_type("azure-ad-client-secret"), "credential");
        assert_eq!(secret_type("docker-config-auth"), "credential");
    }

    #[test]
    fn serial_numbers_are_deterministic_version_8_uuids() {
        let a = serial_number(b"report");
        assert_eq!(a, serial_number(b"report"));
        assert_ne!(a, serial_number(b"other report"));
        let hex = a.strip_prefix("urn:uuid:").unwrap();
        let groups: Vec<&str> = hex.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('8'));
        assert!(matches!(
            groups[3].chars().next(),
            Some('8' | '9' | 'a' | 'b')
        ));
    }

    #[test]
    fn extensions_only_when_they_look_like_one() {
        assert_eq!(extension("tls/server.CRT").as_deref(), Some("crt"));
        assert_eq!(extension("tls/.hidden"), None);
        assert_eq!(extension("tls/noext"), None);
        assert_eq!(extension("a.b/c"), None);
    }
}
