//! The inventory model and the JSON contract (`trustmap scan --format json`).
//!
//! Field names here are public: other tools and tests rely on them, so they change only
//! with [`CONTRACT_VERSION`].

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Version of the JSON contract; bumped when a field is renamed or removed.
pub const CONTRACT_VERSION: &str = "1";

/// What an asset is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[cfg_attr(feature = "clap", clap(rename_all = "kebab-case"))]
pub enum AssetKind {
    Certificate,
    PrivateKey,
    PublicKey,
    Keystore,
    Secret,
    Endpoint,
    /// Software whose configuration loads key material (an nginx `server`, an HAProxy
    /// `frontend`): not key material itself, the end of a `uses` relation.
    Consumer,
}

impl AssetKind {
    pub const ALL: [AssetKind; 7] = [
        AssetKind::Certificate,
        AssetKind::PrivateKey,
        AssetKind::PublicKey,
        AssetKind::Keystore,
        AssetKind::Secret,
        AssetKind::Endpoint,
        AssetKind::Consumer,
    ];

    /// The kebab-case name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Certificate => "certificate",
            AssetKind::PrivateKey => "private-key",
            AssetKind::PublicKey => "public-key",
            AssetKind::Keystore => "keystore",
            AssetKind::Secret => "secret",
            AssetKind::Endpoint => "endpoint",
            AssetKind::Consumer => "consumer",
        }
    }

    /// Short prefix of asset ids of this kind.
    pub fn id_prefix(self) -> &'static str {
        match self {
            AssetKind::Certificate => "crt",
            AssetKind::PrivateKey => "key",
            AssetKind::PublicKey => "pub",
            AssetKind::Keystore => "kst",
            AssetKind::Secret => "sec",
            AssetKind::Endpoint => "ept",
            AssetKind::Consumer => "csm",
        }
    }

    pub fn parse(s: &str) -> Option<AssetKind> {
        AssetKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for AssetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `sha256:` + lowercase hex of the SHA-256 of `bytes`.
pub fn fingerprint(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

/// Lowercase hex of the SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Stable asset id derived from kind and fingerprint: `crt_` + 16 hex digits.
///
/// The same material always gets the same id, in every scan and on every machine, so ids
/// can be used in waivers, baselines and links.
pub fn asset_id(kind: AssetKind, fingerprint: &str) -> String {
    let hex = fingerprint.strip_prefix("sha256:").unwrap_or(fingerprint);
    let short: String = hex.chars().take(16).collect();
    format!("{}_{}", kind.id_prefix(), short)
}

/// One place an asset was seen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Occurrence {
    /// Path relative to the scanned root, forward slashes (or `host:port` for endpoints).
    pub path: String,
    /// 1-based line of the start of the material in the file, when it is text.
    #[serde(default)]
    pub line: Option<u64>,
    /// Byte offset of the start of the material in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Route inside the file: "data.tls.crt, base64", "keystore entry 'ledger'", "PEM block 2".
    #[serde(default)]
    pub container: Option<String>,
    /// The source root this place was found under, as given to the scan (a directory or
    /// file, forward slashes; later `tls://host:port`, a cluster or an image). With the
    /// scan's host, it tells `hostA:etc/tls.crt` from `hostB:etc/tls.crt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
}

/// Key facts, shared by private keys, public keys and a certificate's public key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// RSA, EC, DSA, Ed25519, Ed448, X25519, ML-DSA-44, ..., or the OID when unknown.
    pub algorithm: String,
    /// RSA modulus, DSA p, EC field size; 256 for Ed25519, 448 for Ed448.
    pub bits: Option<u32>,
    /// Named curve: P-256, P-384, P-521, secp256k1, ...
    pub curve: Option<String>,
    /// pkcs8, pkcs8-encrypted, pkcs1, sec1, dsa, openssh, putty, pkcs12, jks, jwk, spki, ssh, x509.
    pub format: Option<String>,
    /// Whether the private key is protected by a passphrase; `None` for public keys.
    pub encrypted: Option<bool>,
    /// How it is encrypted when it is: "PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC)", "aes256-ctr, bcrypt".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<String>,
    /// Lowercase hex SHA-256 of the SubjectPublicKeyInfo DER, when the public half is known.
    pub spki_sha256: Option<String>,
    /// RSA public exponent, when RSA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsa_exponent: Option<u64>,
    /// Comment carried by SSH and PuTTY keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// SSH keys: the fingerprint `ssh-keygen -l` shows, `SHA256:` + unpadded base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_fingerprint: Option<String>,
    /// Where the facts of an encrypted private key came from when the key itself does not
    /// say (its public half is sealed): `id_rsa.pub`, `certificate in the same file`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_from: Option<String>,
    /// An encrypted private key opened with a password found in plaintext in a
    /// configuration file of the same scan: that place, `path:line`
    /// (`key-password-exposed`); never the password itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_in: Option<String>,
}

/// Certificate facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateInfo {
    pub subject: String,
    pub issuer: String,
    /// Serial number, lowercase hex, colon-free.
    pub serial: String,
    /// RFC 3339 UTC in JSON.
    pub not_before: crate::Timestamp,
    /// RFC 3339 UTC in JSON.
    pub not_after: crate::Timestamp,
    /// Subject alternative names: `DNS:`, `IP:`, `email:`, `URI:` prefixed.
    pub sans: Vec<String>,
    pub is_ca: bool,
    /// Subject = issuer and, when both key identifiers are present, AKI = SKI; and the
    /// signature does not fail with the certificate's own key (an algorithm trustmap cannot
    /// verify, MD5 or DSA, leaves it decided by names and identifiers).
    pub self_signed: bool,
    /// Whether the certificate's own key verified its signature, for a self-issued one
    /// (subject = issuer); null when it is not self-issued or the algorithm cannot be verified.
    #[serde(default)]
    pub signature_verified: Option<bool>,
    /// sha256WithRSAEncryption, ecdsa-with-SHA384, ed25519, ... or the OID when unknown.
    pub signature_algorithm: String,
    pub signature_algorithm_oid: String,
    /// MD5, SHA-1, SHA-256, ...; null for Ed25519/Ed448 and unknown algorithms.
    pub signature_hash: Option<String>,
    pub public_key: KeyInfo,
    /// X.509 version (1, 2 or 3).
    pub version: u32,
    /// Common name of the subject, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_cn: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_usage: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extended_key_usage: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_len: Option<u32>,
    /// Subject key identifier, lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ski: Option<String>,
    /// Authority key identifier, lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aki: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ocsp_urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ca_issuer_urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crl_urls: Vec<String>,
    /// Ids of the X.509 lints the certificate violates (`trustmap_discover::lint::LINTS`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lints: Vec<String>,
}

/// A detected secret: never the plaintext.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretInfo {
    /// Id of the detection rule, e.g. `github-pat-classic`.
    pub rule: String,
    /// Provider or family, e.g. GitHub.
    #[serde(default)]
    pub provider: String,
    /// A redacted preview: a few leading characters and the length.
    pub redacted: String,
}

/// A PKCS#12 or Java keystore container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeystoreInfo {
    /// pkcs12, jks, jceks.
    pub format: String,
    /// Which well-known password opened it: "" (empty), "changeit", ...; None when none did.
    pub opened_with: Option<String>,
    /// True when no default password opened it; entries that need the password are not listed.
    pub locked: bool,
    /// Number of entries found, or that the container declares.
    pub entries: u32,
    /// Aliases (JKS) or friendly names (PKCS#12) of the entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// How the container's contents are protected: "PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC)", ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<String>,
    /// Where the password that opened it sits in plaintext, as `path:line` of a configuration
    /// file in the same scan (`key-password-exposed`); never the password itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_in: Option<String>,
}

/// A consumer: software whose configuration loads key material.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerInfo {
    /// nginx, apache, haproxy, kubernetes, spring, kafka, java, postgresql, redis, mysql,
    /// openvpn, vault, envoy, traefik, docker-compose, systemd.
    pub software: String,
    /// What it is in its configuration: `server api.example.com:443`, `frontend fe_https`.
    pub name: String,
    /// The key material it names, in the order written.
    pub references: Vec<Reference>,
    /// What else its configuration says about it: for Kubernetes objects `kind` and
    /// `namespace`, a cert-manager `Certificate`'s `issuer` and `renew_before` (who renews
    /// it, and when), a ServiceAccount's `token_secret`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub attributes: std::collections::BTreeMap<String, String>,
}

/// One file a consumer's configuration names, and what it resolved to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// The directive or keyword: `ssl_certificate`, `SSLCertificateKeyFile`, `crt`.
    pub directive: String,
    /// The path as written.
    pub value: String,
    /// Line of the directive in the configuration file.
    #[serde(default)]
    pub line: Option<u64>,
    /// How it resolved: `path` (the same host's file, by its absolute path under a scanned
    /// root), `relative` (to the configuration's directory), `suffix` (the only scanned
    /// file whose path ends the same way), `directory` (every file under it), `ambiguous`
    /// (several files end the same way: none is chosen), `no-material` (the file exists
    /// and holds nothing trustmap recognises), `missing` (no such file in the scanned tree:
    /// `config-reference-missing`), `outside` (not under a scanned root: not checked),
    /// `dynamic` (a variable: not resolvable from the file). A Terraform `certificate_arn`
    /// naming a resource of another file of its module: `module` (that resource's files),
    /// `dynamic`, `ambiguous`, `missing`, `not-in-scan`. A Kubernetes reference
    /// (`namespace/name` of a Secret): `secret` (a Secret of the scan), `ambiguous`,
    /// `certificate` (a cert-manager Certificate of the scan creates it), `no-material` (a
    /// ServiceAccount token Secret), `missing`, `not-in-scan` (no Secret of that namespace
    /// is in the scan: not judged).
    pub resolution: String,
    /// The files it resolved to, as places in the report (several when ambiguous).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// What one TLS handshake with an endpoint showed: one endpoint is one (host, port, SNI name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointInfo {
    /// The host as given (a name or an IP address).
    pub host: String,
    pub port: u16,
    /// The server name sent in the ClientHello (SNI) and checked against the certificate:
    /// the one given with the target, else the host when it is a name; null for an IP
    /// address without one.
    pub sni: Option<String>,
    /// The address the handshake was made with (`ip:port`).
    pub address: String,
    /// Negotiated protocol version: `TLSv1.3`, `TLSv1.2`.
    pub protocol: String,
    /// Negotiated cipher suite, IANA name (`TLS13_AES_256_GCM_SHA384`, `TLS_ECDHE_...`).
    pub cipher_suite: String,
    /// Negotiated key-exchange group (`X25519`, `secp256r1`, `X25519MLKEM768`); null when
    /// the handshake did not say (TLS 1.2 without ECDHE).
    pub key_exchange_group: Option<String>,
    /// Negotiated ALPN protocol, when any (`h2`, `http/1.1`).
    pub alpn: Option<String>,
    /// Whether the server stapled an OCSP response.
    pub ocsp_stapled: bool,
    /// Certificates the server sent.
    pub chain_length: u32,
    /// Legacy versions the server accepted when a raw ClientHello offered each alone
    /// (`SSLv3`, `TLSv1.0`, `TLSv1.1`), oldest first; empty: none (or not probed).
    #[serde(default)]
    pub legacy_protocols: Vec<String>,
    /// Cipher suites accepted per version (`SSLv3`, `TLSv1.0`, `TLSv1.1`, `TLSv1.2`,
    /// `TLSv1.3`), IANA names in the order
    /// the server chose them, found by raw ClientHello probes offering a set and removing
    /// the one chosen; empty when not enumerated (`--tls-enumerate`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub accepted_suites: std::collections::BTreeMap<String, Vec<String>>,
    /// Whether the server chooses the suite by its own order (the first two accepted,
    /// offered in both orders; TLS 1.2's, else the newest legacy version's); null when not
    /// probed or no version has two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_preference: Option<bool>,
    /// Key-exchange groups the server accepted over TLS 1.3, each offered alone
    /// (`X25519MLKEM768`, `X25519`, `secp256r1`, `ffdhe2048`...); what the server offers,
    /// apart from the one negotiated ([`EndpointInfo::key_exchange_group`]).
    #[serde(default)]
    pub groups_offered: Vec<String>,
    /// Post-quantum key exchange among the groups accepted: `hybrid` (a classical and a
    /// post-quantum KEM combined, X25519MLKEM768), `pure` (ML-KEM alone) or `none`
    /// (classical only, or no TLS 1.3); null when the probes could not tell.
    #[serde(default)]
    pub pq_key_exchange: Option<String>,
    /// Curves the server accepted for TLS 1.2 ECDHE, each offered alone with the ECDHE
    /// suites (`X25519`, `secp256r1`...); empty when not enumerated (`--tls-enumerate`) or
    /// when the server accepts no ECDHE suite.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups_tls12: Vec<String>,
    /// The served chain judged against the scan's trust anchors and the name.
    pub verification: EndpointVerification,
    /// The plaintext protocol whose STARTTLS came before the handshake (`smtp`, `imap`,
    /// `pop3`, `ldap`, `postgres`); absent for TLS from the first byte.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starttls: Option<String>,
    /// Why rustls could not complete the handshake, when the endpoint was learned from a
    /// raw TLS 1.2-or-older hello instead (a server of TLS 1.0 only, or of suites rustls
    /// lacks): then the protocol, suite and ECDHE curve are the raw hello's, and no ALPN or
    /// OCSP is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake_error: Option<String>,
}

/// How the served chain verified. Dates are left to the policy, which judges them with the
/// scan's clock (`--now`): `trusted` asks whether the chain reaches a trust anchor at an
/// instant the leaf is valid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointVerification {
    /// The served chain reaches a trust anchor (system store plus the policy's bundles) with
    /// valid signatures.
    pub trusted: bool,
    /// Why it does not, when it does not: `unknown issuer`, `bad signature`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The leaf is valid for the SNI name (or the IP address): SANs, as RFC 6125 and the
    /// CA/B Forum require (the subject CN is not consulted).
    pub hostname_match: bool,
    /// No intermediate is missing: the served certificates link by issuer name from the
    /// leaf to a self-issued certificate, to one a trust anchor issued, or to a served CA
    /// certificate (whose issuer is a root the client holds, or not: that is `trusted`).
    /// False when the walk stops at the leaf (or another non-CA certificate) whose issuer was
    /// neither served nor trusted.
    pub chain_complete: bool,
    /// When the chain is incomplete: the issuer (DN) nothing served or trusted matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_issuer: Option<String>,
}

/// Who owns an asset, and where we learnt it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Owner {
    /// Team or person: `@org/payments`, `team-ledger`.
    pub name: String,
    /// "owner" or "backup".
    #[serde(default = "default_role")]
    pub role: String,
    /// "CODEOWNERS:12", "kubernetes label team", "explicit".
    pub source: String,
}

fn default_role() -> String {
    "owner".to_string()
}

/// One real thing, deduplicated by identity, with every place it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    pub id: String,
    pub kind: AssetKind,
    pub fingerprint: String,
    pub occurrences: Vec<Occurrence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keystore: Option<KeystoreInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer: Option<ConsumerInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<EndpointInfo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<Owner>,
}

impl Asset {
    /// A short human label: CN or subject for certificates, algorithm for keys, rule for secrets.
    pub fn label(&self) -> String {
        if let Some(c) = &self.certificate {
            return c.subject_cn.clone().unwrap_or_else(|| c.subject.clone());
        }
        if let Some(k) = &self.key {
            if matches!(
                k.algorithm.as_str(),
                "Ed25519" | "Ed448" | "X25519" | "X448"
            ) {
                return k.algorithm.clone();
            }
            let size = k
                .curve
                .clone()
                .or(k.bits.map(|b| b.to_string()))
                .unwrap_or_default();
            return format!("{} {}", k.algorithm, size).trim().to_string();
        }
        if let Some(s) = &self.secret {
            return format!("{} {}", s.rule, s.redacted);
        }
        if let Some(k) = &self.keystore {
            return k.format.clone();
        }
        if let Some(c) = &self.consumer {
            return format!("{} {}", c.software, c.name);
        }
        if let Some(e) = &self.endpoint {
            return match &e.sni {
                Some(n) if *n != e.host => format!("{}:{} ({n})", e.host, e.port),
                _ => format!("{}:{}", e.host, e.port),
            };
        }
        self.id.clone()
    }
}

/// Type of a relation between two assets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RelationType {
    /// certificate -> issuing certificate, signature verified.
    IssuedBy,
    /// private key -> certificate (same SPKI).
    KeyOf,
    /// keystore or bundle -> entry.
    Contains,
    /// endpoint -> certificate it serves.
    Serves,
    /// workload or config -> asset it uses.
    Uses,
}

impl RelationType {
    pub fn as_str(self) -> &'static str {
        match self {
            RelationType::IssuedBy => "issued-by",
            RelationType::KeyOf => "key-of",
            RelationType::Contains => "contains",
            RelationType::Serves => "serves",
            RelationType::Uses => "uses",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Relation {
    pub from: String,
    pub to: String,
    #[serde(rename = "type")]
    pub kind: RelationType,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// A policy verdict on an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub asset: String,
    pub path: Option<String>,
    pub line: Option<u64>,
    pub message: String,
    #[serde(default)]
    pub frameworks: Vec<String>,
    /// Facts behind the verdict (`not_after`, `validity_days`, `disallowed_after`, ...).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub evidence: std::collections::BTreeMap<String, String>,
    /// An active waiver from the inventory (`trustmap waive`): the finding is reported as
    /// waived and `--fail-on` ignores it. Absent when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<Waiver>,
    /// Present in the `--baseline` file: known before, so `--fail-on` does not count it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub baselined: bool,
}

impl Finding {
    /// `waived` (a waiver applies), `baselined` (in the baseline) or `open`: how exports,
    /// the CLI and the inventory's `findings.status` column name a finding's standing.
    pub fn status(&self) -> &'static str {
        if self.waiver.is_some() {
            "waived"
        } else if self.baselined {
            "baselined"
        } else {
            "open"
        }
    }
}

/// An exception recorded with `trustmap waive`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    pub by: String,
    pub reason: String,
    /// The waiver applies until this instant (RFC 3339 UTC in JSON).
    pub until: crate::Timestamp,
}

/// A file or object that could not be read or parsed; the scan went on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScanError {
    pub path: String,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanInfo {
    pub id: String,
    /// RFC 3339 UTC in JSON.
    pub started_at: crate::Timestamp,
    pub roots: Vec<String>,
    /// The host (or scanner name) that ran the scan: the machine's host name, or `--host`.
    #[serde(default)]
    pub host: String,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub duration_ms: u64,
    /// The policy file the findings were judged by (`--policy`, else the discovered
    /// `trustmap.toml`); `null`: the built-in policy.
    #[serde(default)]
    pub policy: Option<String>,
    /// Settings of a discovered `trustmap.toml` (one the person running the scan did not
    /// name with `--policy`) that were not applied because they would loosen the built-in
    /// policy: `rules.cert-wildcard = "off"`, `exclude "secrets/**"`. Empty when the
    /// policy is the built-in one or was given with `--policy`.
    #[serde(default)]
    pub policy_ignored: Vec<String>,
    /// Files and directories not walked because an exclude pattern (`--exclude`, or
    /// `exclude` in a `--policy` file) matched them.
    #[serde(default)]
    pub excluded: u64,
}

/// The whole output of one scan: the JSON contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub tool: ToolInfo,
    pub scan: ScanInfo,
    pub assets: Vec<Asset>,
    pub relations: Vec<Relation>,
    pub findings: Vec<Finding>,
    pub errors: Vec<ScanError>,
}

impl Report {
    pub fn asset(&self, id: &str) -> Option<&Asset> {
        self.assets.iter().find(|a| a.id == id)
    }
}

/// Formats a `time::OffsetDateTime` as RFC 3339 in UTC, second precision.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    let t = crate::timestamp::utc(t);
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&fmt)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_prefixed_lowercase_sha256() {
        assert_eq!(
            fingerprint(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn asset_id_uses_kind_prefix_and_16_hex() {
        let fp = fingerprint(b"abc");
        assert_eq!(
            asset_id(AssetKind::Certificate, &fp),
            "crt_ba7816bf8f01cfea"
        );
        assert_eq!(asset_id(AssetKind::Secret, &fp), "sec_ba7816bf8f01cfea");
    }

    #[test]
    fn kinds_round_trip_through_json() {
        for k in AssetKind::ALL {
            let s = serde_json::to_string(&k).unwrap();
            assert_eq!(s, format!("\"{}\"", k.as_str()));
            assert_eq!(AssetKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn rfc3339_is_utc_seconds() {
        let t = time::macros::datetime!(2026-03-15 10:00:00 +02:00);
        assert_eq!(rfc3339(t), "2026-03-15T08:00:00Z");
    }
}
