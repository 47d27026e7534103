//! The rule catalogue as data: id, default severity, description, rationale with its
//! source, framework references and examples that `tests/it/policy_catalogue.rs` runs.
//!
//! Ids are public (SARIF ruleId, CI gates, waivers) and never reused. The order of
//! [`RULES`] is the order findings of one severity are listed in.
//!
//! Framework references are `FRAMEWORK:ID`: `OWASP-NHI-2025:NHI2`, `NIST-CSF-2.0:PR.AA-01`,
//! `PCI-DSS-4.0:4.2.1.1`, `NIST-SP-800-131A-r2`, `NIST-IR-8547-ipd` (initial public draft),
//! `NIST-SP-800-57-1-r5`, `CABF-BR:6.3.2`, `CABF-Ballot:SC-081v3`, `NIST-SP-800-207`.
//!
//! Examples are small scenarios in JSON: `assets` are patches over a healthy asset of their
//! `kind` (see [`Example::scenario`]), evaluated at [`EXAMPLE_NOW`] with the default policy
//! unless the scenario carries a `policy` (TOML text).

use crate::{AssetKind, RuleId, Severity};

/// One rule of the catalogue. Serialises as JSON for `trustmap rules --format json`.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Rule {
    /// Stable kebab-case id.
    pub id: RuleId,
    pub severity: Severity,
    /// Asset kinds the rule looks at.
    pub kinds: &'static [AssetKind],
    /// One line.
    pub description: &'static str,
    /// Why it matters, citing the source of its threshold.
    pub rationale: &'static str,
    pub frameworks: &'static [&'static str],
    pub examples: &'static [Example],
}

/// A scenario the rule must fire on (`fires`) or must stay silent on.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Example {
    pub fires: bool,
    pub note: &'static str,
    /// JSON: `{"assets": [patch...], "relations": [{"from","to","type"}], "first_seen":
    /// {id: RFC 3339}, "trusted_roots": [fp], "public_roots": [fp], "lint_severities":
    /// {id: severity}, "policy": "TOML"}`; every field optional. An asset patch needs
    /// `kind`; its `id` defaults to `<prefix>_<index>`.
    pub scenario: &'static str,
}

/// The time examples are evaluated at.
pub const EXAMPLE_NOW: &str = "2026-11-23T00:00:00Z";

use AssetKind::{
    Certificate as C, Consumer as CSM, Endpoint as E, Keystore as KS, PrivateKey as PK,
    PublicKey as PUB, Secret as S,
};

const ALL_KINDS: &[AssetKind] = &[C, PK, PUB, KS, S, E];

pub const RULES: &[Rule] = &[
    Rule {
        id: RuleId::CertExpired,
        severity: Severity::High,
        kinds: &[C],
        description: "Certificate is past its notAfter date",
        rationale: "An expired certificate fails path validation (RFC 5280 6.1.3) and breaks every \
            connection that relies on it; PCI DSS 4.0 4.2.1 requires certificates protecting PAN \
            in transit to be valid and not expired.",
        frameworks: &[
            "PCI-DSS-4.0:4.2.1",
            "NIST-CSF-2.0:PR.AA-01",
            "NIST-CSF-2.0:ID.AM-08",
        ],
        examples: &[
            Example {
                fires: true,
                note: "notAfter three days ago",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"not_after":"2026-11-20T00:00:00Z"}}]}"#,
            },
            Example {
                fires: false,
                note: "valid for another three months",
                scenario: r#"{"assets":[{"kind":"certificate"}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::CertExpiring,
        severity: Severity::Medium,
        kinds: &[C],
        description: "Certificate expires within the warning window ([expiry]: medium from 30 days or a fifth of its lifetime, high from 14 or a tenth, critical from 7 or a twentieth, whichever is shorter)",
        rationale: "Expiry outages come from certificates nobody renewed in time; PCI DSS 4.0 \
            4.2.1 requires valid, unexpired certificates, and NIST CSF 2.0 ID.AM-08 asks for \
            life-cycle management of assets. The windows are policy ([expiry]); each is the \
            shorter of its days and its fraction of the certificate's lifetime \
            ([expiry.lifetime_fraction]), so a 90-day ACME certificate is not \
            \"expiring\" for a third of its life and a 24-hour one not for all of it.",
        frameworks: &[
            "PCI-DSS-4.0:4.2.1",
            "NIST-CSF-2.0:ID.AM-08",
            "NIST-CSF-2.0:PR.AA-01",
        ],
        examples: &[
            Example {
                fires: true,
                note: "a one-year certificate that expires in 17 days (medium)",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"not_before":"2025-12-10T00:00:00Z","not_after":"2026-12-10T00:00:00Z"}}]}"#,
            },
            Example {
                fires: true,
                note: "expires in 2 days (critical)",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"not_after":"2026-11-25T00:00:00Z"}}]}"#,
            },
            Example {
                fires: true,
                note: "a 90-day window set by the policy",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"not_before":"2026-01-01T00:00:00Z","not_after":"2027-01-31T00:00:00Z"}}],
                    "policy":"[expiry]\nlow = 90\nmedium = 30\nhigh = 14\ncritical = 7\n"}"#,
            },
            Example {
                fires: true,
                note: "a 24-hour certificate with one hour left (critical: a twentieth of a day is 72 minutes)",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"not_before":"2026-11-22T01:00:00Z","not_after":"2026-11-23T01:00:00Z"}}]}"#,
            },
            Example {
                fires: false,
                note: "a 24-hour certificate with 20 hours left (a fifth of its lifetime is 4.8 hours)",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"not_before":"2026-11-22T20:00:00Z","not_after":"2026-11-23T20:00:00Z"}}]}"#,
            },
            Example {
                fires: false,
                note: "a 90-day certificate with 20 days left (a fifth of 90 days is 18)",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"not_before":"2026-09-14T00:00:00Z","not_after":"2026-12-13T00:00:00Z"}}]}"#,
            },
            Example {
                fires: false,
                note: "expires in three months",
                scenario: r#"{"assets":[{"kind":"certificate"}]}"#,
            },
            Example {
                fires: false,
                note: "already expired: that is cert-expired",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"not_after":"2026-11-20T00:00:00Z"}}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::CertNotYetValid,
        severity: Severity::Medium,
        kinds: &[C],
        description: "Certificate's notBefore is in the future",
        rationale: "A certificate is valid only from notBefore (RFC 5280 4.1.2.5); one deployed \
            early is rejected by clients, and a future date often means a clock or issuance error.",
        frameworks: &["PCI-DSS-4.0:4.2.1", "NIST-CSF-2.0:PR.AA-01"],
        examples: &[
            Example {
                fires: true,
                note: "valid from next week",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"not_before":"2026-12-01T00:00:00Z"}}]}"#,
            },
            Example {
                fires: false,
                note: "valid since October",
                scenario: r#"{"assets":[{"kind":"certificate"}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::CertWeakSignature,
        severity: Severity::High,
        kinds: &[C],
        description: "Certificate is signed with a hash the policy does not allow (MD5, SHA-1 by default)",
        rationale: "NIST SP 800-131A Rev 2 disallows SHA-1 for signature generation, and collisions \
            in MD5 and SHA-1 have been used to forge certificates. The self-signature of a trust \
            anchor (self-signed CA) is not checked by validators and is not reported. Allowed \
            hashes are policy ([signatures]).",
        frameworks: &[
            "NIST-SP-800-131A-r2",
            "PCI-DSS-4.0:4.2.1",
            "NIST-CSF-2.0:ID.RA-01",
            "NIST-CSF-2.0:PR.DS-02",
        ],
        examples: &[
            Example {
                fires: true,
                note: "sha1WithRSAEncryption",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"signature_algorithm":"sha1WithRSAEncryption","signature_hash":"SHA-1"}}]}"#,
            },
            Example {
                fires: false,
                note: "ecdsa-with-SHA256",
                scenario: r#"{"assets":[{"kind":"certificate"}]}"#,
            },
            Example {
                fires: false,
                note: "Ed25519 has no separate hash",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"signature_algorithm":"ed25519","signature_hash":null}}]}"#,
            },
            Example {
                fires: false,
                note: "SHA-1 self-signature of a root",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"is_ca":true,"self_signed":true,"signature_hash":"SHA-1"}}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::CertValidityTooLong,
        severity: Severity::Medium,
        kinds: &[C],
        description: "Leaf certificate's validity period exceeds the CA/B schedule (public) or the private-PKI limit",
        rationale: "CA/Browser Forum Baseline Requirements 6.3.2 as amended by ballot SC-081v3: a \
            publicly-trusted TLS certificate issued before 2026-03-15 may be valid 398 days, 200 \
            until 2027-03-14, 100 until 2029-03-14 and 47 after; a day is 86,400 s and any \
            remainder counts as another day; the period runs from notBefore to notAfter inclusive. \
            Long-lived credentials are OWASP NHI7. A certificate is taken as publicly trusted when \
            it chains to a root of the public trust list passed in, or, without that list, when \
            it is a leaf that is not self-signed and whose issuer is not in the inventory. Other \
            leaf certificates get the private limit ([validity].private_max_days, 398 days by \
            default) or a per-issuer / per-path override.",
        frameworks: &[
            "CABF-BR:6.3.2",
            "CABF-Ballot:SC-081v3",
            "OWASP-NHI-2025:NHI7",
            "NIST-CSF-2.0:PR.AA-01",
        ],
        examples: &[
            Example {
                fires: true,
                note: "public, issued 2026-04-01 for 250 days (limit 200)",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"not_before":"2026-04-01T00:00:00Z","not_after":"2026-12-07T00:00:00Z"}}]}"#,
            },
            Example {
                fires: true,
                note: "public, issued 2025-06-01, 398 days and one second",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"not_before":"2025-06-01T00:00:00Z","not_after":"2026-07-04T00:00:00Z"}}]}"#,
            },
            Example {
                fires: false,
                note: "public, issued 2025-06-01, exactly 398 days inclusive",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"not_before":"2025-06-01T00:00:00Z","not_after":"2026-07-03T23:59:59Z"}}]}"#,
            },
            Example {
                fires: true,
                note: "private: a self-signed leaf valid ten years",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"self_signed":true,"issuer":"CN=svc.example.com","not_before":"2026-01-01T00:00:00Z","not_after":"2036-01-01T00:00:00Z"}}]}"#,
            },
            Example {
                fires: false,
                note: "private: issued by a CA in the inventory for 365 days",
                scenario: r#"{"assets":[
                    {"id":"crt_leaf","kind":"certificate","certificate":{"not_before":"2026-06-01T00:00:00Z","not_after":"2027-06-01T00:00:00Z"}},
                    {"id":"crt_ca","kind":"certificate","certificate":{"subject":"CN=Example Issuing CA","issuer":"CN=Example Issuing CA","is_ca":true,"self_signed":true,"sans":[],"not_before":"2020-01-01T00:00:00Z","not_after":"2040-01-01T00:00:00Z"}}],
                  "relations":[{"from":"crt_leaf","to":"crt_ca","type":"issued-by"}]}"#,
            },
            Example {
                fires: true,
                note: "private, with a 90-day limit for this issuer in the policy",
                scenario: r#"{"assets":[
                    {"id":"crt_leaf","kind":"certificate","certificate":{"not_before":"2026-06-01T00:00:00Z","not_after":"2026-10-01T00:00:00Z"}},
                    {"id":"crt_ca","kind":"certificate","certificate":{"subject":"CN=Example Issuing CA","issuer":"CN=Example Issuing CA","is_ca":true,"self_signed":true,"sans":[]}}],
                  "relations":[{"from":"crt_leaf","to":"crt_ca","type":"issued-by"}],
                  "policy":"[[validity.override]]\nissuer = \"*Example Issuing*\"\nmax_days = 90\n"}"#,
            },
            Example {
                fires: false,
                note: "a CA certificate valid twenty years",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"is_ca":true,"self_signed":true,"not_before":"2020-01-01T00:00:00Z","not_after":"2040-01-01T00:00:00Z"}}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::CertSelfSignedLeaf,
        severity: Severity::Low,
        kinds: &[C],
        description: "Self-signed certificate that is not a CA",
        rationale: "A self-signed leaf has no issuer that can vouch for or revoke it (RFC 5280 6.1 \
            path validation ends at a trust anchor); clients either pin it or skip verification, \
            the insecure authentication of OWASP NHI4.",
        frameworks: &[
            "OWASP-NHI-2025:NHI4",
            "NIST-CSF-2.0:PR.AA-01",
            "NIST-SP-800-207",
        ],
        examples: &[
            Example {
                fires: true,
                note: "self-signed, not a CA",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"self_signed":true,"issuer":"CN=svc.example.com"}}]}"#,
            },
            Example {
                fires: false,
                note: "a self-signed root CA",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"self_signed":true,"is_ca":true}}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::CertWildcard,
        severity: Severity::Low,
        kinds: &[C],
        description: "Certificate covers a wildcard name (*.example.com)",
        rationale: "One wildcard key serves every host of a domain: compromise of any server \
            exposes all of them (NSA, \"Avoid Dangers of Wildcard TLS Certificates\", 2021); an \
            overprivileged and reused identity in OWASP NHI5 and NHI9 terms.",
        frameworks: &[
            "OWASP-NHI-2025:NHI5",
            "OWASP-NHI-2025:NHI9",
            "NIST-CSF-2.0:PR.AA-01",
        ],
        examples: &[
            Example {
                fires: true,
                note: "DNS:*.example.com",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"sans":["DNS:*.example.com"]}}]}"#,
            },
            Example {
                fires: false,
                note: "one host name",
                scenario: r#"{"assets":[{"kind":"certificate"}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::CertMissingSan,
        severity: Severity::Medium,
        kinds: &[C],
        description: "Leaf certificate has no subjectAltName",
        rationale: "Clients match host names against subjectAltName only (RFC 9525, which \
            obsoletes RFC 6125; browsers ignore the CN), and the CA/B Forum Baseline Requirements \
            7.1.2 require the extension in subscriber certificates.",
        frameworks: &["NIST-CSF-2.0:PR.AA-03", "PCI-DSS-4.0:4.2.1"],
        examples: &[
            Example {
                fires: true,
                note: "a leaf with a CN and no SAN",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"sans":[]}}]}"#,
            },
            Example {
                fires: false,
                note: "a leaf with a DNS SAN",
                scenario: r#"{"assets":[{"kind":"certificate"}]}"#,
            },
            Example {
                fires: false,
                note: "a CA without SAN",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"is_ca":true,"sans":[]}}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::CertChainIncomplete,
        severity: Severity::Medium,
        kinds: &[C],
        description: "Leaf certificate's chain stops at an issuer that is neither in the inventory nor trusted",
        rationale: "Path validation needs every certificate up to a trust anchor (RFC 5280 6.1) and \
            a TLS server must send its intermediates (RFC 8446 4.4.2); a missing intermediate fails \
            on clients that do not fetch AIA. Chains are built from the inventory's issued-by \
            relations (signatures verified by the scanner) and end at a trusted root (system store \
            or policy [trust]). PCI DSS 4.0 4.2.1.1 asks for an inventory of trusted keys and certificates.",
        frameworks: &[
            "NIST-CSF-2.0:PR.AA-01",
            "NIST-CSF-2.0:ID.AM-08",
            "PCI-DSS-4.0:4.2.1.1",
        ],
        examples: &[
            Example {
                fires: true,
                note: "a leaf whose issuer is nowhere",
                scenario: r#"{"assets":[{"kind":"certificate"}]}"#,
            },
            Example {
                fires: false,
                note: "a leaf issued by a root in the inventory",
                scenario: r#"{"assets":[
                    {"id":"crt_leaf","kind":"certificate"},
                    {"id":"crt_ca","kind":"certificate","certificate":{"subject":"CN=Example Issuing CA","issuer":"CN=Example Issuing CA","is_ca":true,"self_signed":true,"sans":[]}}],
                  "relations":[{"from":"crt_leaf","to":"crt_ca","type":"issued-by"}]}"#,
            },
            Example {
                fires: false,
                note: "a leaf issued by an intermediate that is itself a trusted anchor",
                scenario: r#"{"assets":[
                    {"id":"crt_leaf","kind":"certificate"},
                    {"id":"crt_int","kind":"certificate","fingerprint":"sha256:1111111111111111111111111111111111111111111111111111111111111111","certificate":{"subject":"CN=Example Issuing CA","issuer":"CN=Example Root","is_ca":true,"sans":[]}}],
                  "relations":[{"from":"crt_leaf","to":"crt_int","type":"issued-by"}],
                  "trusted_roots":["sha256:1111111111111111111111111111111111111111111111111111111111111111"]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::CertUntrustedRoot,
        severity: Severity::Medium,
        kinds: &[C],
        description: "Certificate chains to a self-signed root that is not a trusted root (reported on the leaf and on the root)",
        rationale: "A root outside the system store and the policy's trusted roots is an unmanaged \
            trust anchor: clients must be configured to trust it, or skip verification. PCI DSS \
            4.0 4.2.1.1 requires an inventory of trusted keys and certificates; zero trust (NIST \
            SP 800-207) needs every anchor known. Evaluated only when trusted roots are known \
            (system store, [trust] roots or bundles): without them there is nothing to judge against.",
        frameworks: &[
            "PCI-DSS-4.0:4.2.1.1",
            "PCI-DSS-4.0:4.2.1",
            "NIST-CSF-2.0:PR.AA-01",
            "NIST-SP-800-207",
        ],
        examples: &[
            Example {
                fires: true,
                note: "a leaf chaining to a root that is not trusted",
                scenario: r#"{"assets":[
                    {"id":"crt_leaf","kind":"certificate"},
                    {"id":"crt_ca","kind":"certificate","fingerprint":"sha256:2222222222222222222222222222222222222222222222222222222222222222","certificate":{"subject":"CN=Example Issuing CA","issuer":"CN=Example Issuing CA","is_ca":true,"self_signed":true,"sans":[]}}],
                  "relations":[{"from":"crt_leaf","to":"crt_ca","type":"issued-by"}],
                  "trusted_roots":["sha256:3333333333333333333333333333333333333333333333333333333333333333"]}"#,
            },
            Example {
                fires: false,
                note: "the same root, trusted by the policy",
                scenario: r#"{"assets":[
                    {"id":"crt_leaf","kind":"certificate"},
                    {"id":"crt_ca","kind":"certificate","fingerprint":"sha256:2222222222222222222222222222222222222222222222222222222222222222","certificate":{"subject":"CN=Example Issuing CA","issuer":"CN=Example Issuing CA","is_ca":true,"self_signed":true,"sans":[]}}],
                  "relations":[{"from":"crt_leaf","to":"crt_ca","type":"issued-by"}],
                  "policy":"[trust]\nroots = [\"sha256:2222222222222222222222222222222222222222222222222222222222222222\"]\n"}"#,
            },
            Example {
                fires: false,
                note: "no trusted roots known at all: not evaluated",
                scenario: r#"{"assets":[
                    {"id":"crt_leaf","kind":"certificate"},
                    {"id":"crt_ca","kind":"certificate","certificate":{"subject":"CN=Example Issuing CA","issuer":"CN=Example Issuing CA","is_ca":true,"self_signed":true,"sans":[]}}],
                  "relations":[{"from":"crt_leaf","to":"crt_ca","type":"issued-by"}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::KeyWeak,
        severity: Severity::High,
        kinds: &[C, PK, PUB],
        description: "Key below the policy's minimum size (112-bit strength: RSA/DSA < 2048 bits, EC < 224 bits), certificate public keys included",
        rationale: "NIST SP 800-131A Rev 2 disallows keys under 112 bits of security strength for \
            signature generation and key establishment: RSA and DSA under 2048 bits, EC under 224 \
            bits. A certificate's public key is judged too: its private half exists somewhere. \
            Minimum sizes per algorithm are policy ([keys.min_bits]).",
        frameworks: &[
            "NIST-SP-800-131A-r2",
            "PCI-DSS-4.0:4.2.1",
            "NIST-CSF-2.0:ID.RA-01",
        ],
        examples: &[
            Example {
                fires: true,
                note: "an RSA 1024 private key",
                scenario: r#"{"assets":[{"kind":"private-key","key":{"algorithm":"RSA","bits":1024,"curve":null}}]}"#,
            },
            Example {
                fires: true,
                note: "a certificate with an RSA 1024 public key",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"public_key":{"algorithm":"RSA","bits":1024,"curve":null}}}]}"#,
            },
            Example {
                fires: true,
                note: "RSA 2048 under a policy minimum of 3072 (BSI TR-02102-1)",
                scenario: r#"{"assets":[{"kind":"private-key","key":{"algorithm":"RSA","bits":2048,"curve":null}}],
                  "policy":"[keys.min_bits]\nRSA = 3072\n"}"#,
            },
            Example {
                fires: false,
                note: "RSA 2048",
                scenario: r#"{"assets":[{"kind":"private-key","key":{"algorithm":"RSA","bits":2048,"curve":null}}]}"#,
            },
            Example {
                fires: false,
                note: "EC P-256",
                scenario: r#"{"assets":[{"kind":"private-key"}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::KeyQuantumVulnerable,
        severity: Severity::Low,
        kinds: &[C, PK, PUB],
        description: "Key uses a quantum-vulnerable algorithm (RSA, ECDSA, EdDSA, DSA, DH/ECDH): plan its migration",
        rationale: "NIST IR 8547 (initial public draft, November 2024) deprecates quantum-vulnerable \
            RSA, ECDSA, EdDSA, DH and ECDH at 112-bit strength after 2030 and disallows all of them \
            after 2035. The finding carries both years so migrations can be planned now.",
        frameworks: &[
            "NIST-IR-8547-ipd",
            "NIST-CSF-2.0:ID.RA-01",
            "PCI-DSS-4.0:12.3.3",
        ],
        examples: &[
            Example {
                fires: true,
                note: "an EC P-256 private key",
                scenario: r#"{"assets":[{"kind":"private-key"}]}"#,
            },
            Example {
                fires: true,
                note: "a certificate with an RSA 2048 public key",
                scenario: r#"{"assets":[{"kind":"certificate","certificate":{"public_key":{"algorithm":"RSA","bits":2048,"curve":null}}}]}"#,
            },
            Example {
                fires: false,
                note: "an ML-DSA-65 key",
                scenario: r#"{"assets":[{"kind":"private-key","key":{"algorithm":"ML-DSA-65","bits":null,"curve":null}}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::KeyUnprotected,
        severity: Severity::High,
        kinds: &[PK],
        description: "Private key stored without a passphrase",
        rationale: "A private key readable by whoever reads the file is a leaked credential \
            (OWASP NHI2); keys at rest need protection (NIST CSF 2.0 PR.DS-01).",
        frameworks: &[
            "OWASP-NHI-2025:NHI2",
            "NIST-CSF-2.0:PR.DS-01",
            "NIST-CSF-2.0:PR.AA-01",
        ],
        examples: &[
            Example {
                fires: true,
                note: "PKCS#8 in the clear",
                scenario: r#"{"assets":[{"kind":"private-key","key":{"encrypted":false}}]}"#,
            },
            Example {
                fires: false,
                note: "encrypted PKCS#8",
                scenario: r#"{"assets":[{"kind":"private-key"}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::KeyCaExposed,
        severity: Severity::Critical,
        kinds: &[PK],
        description: "Private key of a CA certificate found in the inventory",
        rationale: "Whoever holds a CA key can issue certificates every relying party trusts; CA \
            keys belong in hardware (CA/B Forum Baseline Requirements 6.2.7) and never in files or \
            repositories (OWASP NHI2).",
        frameworks: &[
            "OWASP-NHI-2025:NHI2",
            "NIST-CSF-2.0:PR.AA-01",
            "NIST-CSF-2.0:PR.DS-01",
            "PCI-DSS-4.0:4.2.1.1",
        ],
        examples: &[
            Example {
                fires: true,
                note: "a key whose certificate is a CA",
                scenario: r#"{"assets":[
                    {"id":"key_ca","kind":"private-key"},
                    {"id":"crt_ca","kind":"certificate","certificate":{"is_ca":true,"self_signed":true,"sans":[]}}],
                  "relations":[{"from":"key_ca","to":"crt_ca","type":"key-of"}]}"#,
            },
            Example {
                fires: false,
                note: "a key whose certificate is a leaf",
                scenario: r#"{"assets":[
                    {"id":"key_leaf","kind":"private-key"},
                    {"id":"crt_leaf","kind":"certificate"}],
                  "relations":[{"from":"key_leaf","to":"crt_leaf","type":"key-of"}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::KeyDuplicated,
        severity: Severity::Medium,
        kinds: &[PK],
        description: "The same private key sits in more than one place",
        rationale: "Every copy of a key is another place it can leak from and one more to miss at \
            rotation; one key shared across services or environments is NHI reuse and broken \
            environment isolation (OWASP NHI9, NHI8).",
        frameworks: &[
            "OWASP-NHI-2025:NHI9",
            "OWASP-NHI-2025:NHI8",
            "NIST-CSF-2.0:PR.AA-01",
        ],
        examples: &[
            Example {
                fires: true,
                note: "in two files",
                scenario: r#"{"assets":[{"kind":"private-key","occurrences":[{"path":"a/tls.key","line":1,"container":null},{"path":"b/tls.key","line":1,"container":null}]}]}"#,
            },
            Example {
                fires: false,
                note: "in one file",
                scenario: r#"{"assets":[{"kind":"private-key"}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::KeyRotationOverdue,
        severity: Severity::Medium,
        kinds: &[PK, S],
        description: "Key or secret is older than the cryptoperiod for its kind",
        rationale: "NIST SP 800-57 Part 1 Rev 5 (5.3.6, table 1) recommends cryptoperiods: private \
            signature keys 1-3 years, private authentication and key-agreement keys 1-2 years, \
            symmetric authentication keys up to 2 years. Age comes from the oldest evidence of \
            the key: the inventory history (first seen) or the notBefore of its certificate, \
            whichever is earlier, so recording a key does not restart its age. Kinds: \
            key-agreement for X25519/X448/ML-KEM or keyAgreement-only certificates; signature for \
            CA and code-signing keys; authentication for TLS and SSH keys; symmetric for secrets; \
            signature otherwise. Long-lived credentials are OWASP NHI7. Periods are policy ([rotation]).",
        frameworks: &[
            "NIST-SP-800-57-1-r5",
            "OWASP-NHI-2025:NHI7",
            "NIST-CSF-2.0:PR.AA-01",
            "NIST-CSF-2.0:ID.AM-08",
        ],
        examples: &[
            Example {
                fires: true,
                note: "first seen almost four years ago (signature, 1095 days)",
                scenario: r#"{"assets":[{"id":"key_old","kind":"private-key"}],"first_seen":{"key_old":"2023-01-01T00:00:00Z"}}"#,
            },
            Example {
                fires: false,
                note: "first seen this year",
                scenario: r#"{"assets":[{"id":"key_new","kind":"private-key"}],"first_seen":{"key_new":"2026-01-01T00:00:00Z"}}"#,
            },
            Example {
                fires: true,
                note: "no history: the TLS certificate's notBefore, 2024-01-01 (authentication, 730 days)",
                scenario: r#"{"assets":[
                    {"id":"key_tls","kind":"private-key"},
                    {"id":"crt_tls","kind":"certificate","certificate":{"not_before":"2024-01-01T00:00:00Z","extended_key_usage":["serverAuth"]}}],
                  "relations":[{"from":"key_tls","to":"crt_tls","type":"key-of"}]}"#,
            },
            Example {
                fires: true,
                note: "first seen last week, but its TLS certificate's notBefore is 2024-01-01: the older evidence counts",
                scenario: r#"{"assets":[
                    {"id":"key_tls","kind":"private-key"},
                    {"id":"crt_tls","kind":"certificate","certificate":{"not_before":"2024-01-01T00:00:00Z","extended_key_usage":["serverAuth"]}}],
                  "relations":[{"from":"key_tls","to":"crt_tls","type":"key-of"}],
                  "first_seen":{"key_tls":"2026-11-16T00:00:00Z"}}"#,
            },
            Example {
                fires: false,
                note: "no history and no certificate: age unknown",
                scenario: r#"{"assets":[{"kind":"private-key"}]}"#,
            },
            Example {
                fires: true,
                note: "a secret first seen in 2024 (symmetric, 730 days)",
                scenario: r#"{"assets":[{"id":"sec_old","kind":"secret"}],"first_seen":{"sec_old":"2024-01-01T00:00:00Z"}}"#,
            },
        ],
    },
    Rule {
        id: RuleId::KeystoreDefaultPassword,
        severity: Severity::High,
        kinds: &[KS],
        description: "Keystore opens with a well-known default password (\"changeit\", \"\", ...)",
        rationale: "A default keystore password protects nothing: the keys inside are as exposed as \
            unencrypted files (OWASP NHI4 insecure authentication, NHI2 secret leakage).",
        frameworks: &[
            "OWASP-NHI-2025:NHI4",
            "OWASP-NHI-2025:NHI2",
            "NIST-CSF-2.0:PR.AA-01",
            "NIST-CSF-2.0:PR.DS-01",
        ],
        examples: &[
            Example {
                fires: true,
                note: "a JKS opened with changeit",
                scenario: r#"{"assets":[{"kind":"keystore","keystore":{"format":"jks","opened_with":"changeit","locked":false}}]}"#,
            },
            Example {
                fires: false,
                note: "a PKCS#12 no default password opens",
                scenario: r#"{"assets":[{"kind":"keystore"}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::KeyPasswordExposed,
        severity: Severity::High,
        kinds: &[KS, PK],
        description: "Keystore or encrypted private key opens with a password found in plaintext in a configuration file of the same scan",
        rationale: "A keystore's or key's password written next to it protects nothing: whoever reads the \
            configuration opens it (OWASP NHI2 secret leakage, NHI4 insecure \
            authentication); keys at rest must stay protected (NIST CSF 2.0 PR.DS-01).",
        frameworks: &[
            "OWASP-NHI-2025:NHI2",
            "OWASP-NHI-2025:NHI4",
            "NIST-CSF-2.0:PR.DS-01",
            "NIST-CSF-2.0:PR.AA-01",
        ],
        examples: &[
            Example {
                fires: true,
                note: "a PKCS#12 opened with the password in application.properties line 3",
                scenario: r#"{"assets":[{"kind":"keystore","keystore":{"format":"pkcs12","opened_with":null,"locked":false,"password_in":"app/application.properties:3"}}]}"#,
            },
            Example {
                fires: false,
                note: "a PKCS#12 opened with a password given on the command line",
                scenario: r#"{"assets":[{"kind":"keystore","keystore":{"format":"pkcs12","opened_with":null,"locked":false}}]}"#,
            },
            Example {
                fires: true,
                note: "an encrypted PKCS#8 key opened with the password in .env line 2",
                scenario: r#"{"assets":[{"kind":"private-key","key":{"algorithm":"EC","bits":256,"curve":"P-256","format":"pkcs8-encrypted","encrypted":true,"spki_sha256":"00","password_in":"app/.env:2"}}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::SecretPlaintext,
        severity: Severity::High,
        kinds: &[S],
        description: "Plaintext secret (token, password, API key) in a file",
        rationale: "Secrets in files, repositories and images leak with them (OWASP NHI2 secret \
            leakage); credentials at rest must be protected (NIST CSF 2.0 PR.DS-01).",
        frameworks: &[
            "OWASP-NHI-2025:NHI2",
            "NIST-CSF-2.0:PR.DS-01",
            "NIST-CSF-2.0:PR.AA-01",
        ],
        examples: &[
            Example {
                fires: true,
                note: "a GitHub token",
                scenario: r#"{"assets":[{"kind":"secret"}]}"#,
            },
            Example {
                fires: false,
                note: "a private key is not a secret finding",
                scenario: r#"{"assets":[{"kind":"private-key"}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::AssetUnowned,
        severity: Severity::Low,
        kinds: ALL_KINDS,
        description: "No owner is known for the asset",
        rationale: "An identity nobody owns is never renewed, rotated or offboarded (OWASP NHI1 \
            improper offboarding); NIST CSF 2.0 GV.RR-02 asks for roles and responsibilities, and \
            PCI DSS 4.0 4.2.1.1 for an inventory of trusted keys and certificates.",
        frameworks: &[
            "OWASP-NHI-2025:NHI1",
            "NIST-CSF-2.0:GV.RR-02",
            "NIST-CSF-2.0:ID.AM-08",
            "PCI-DSS-4.0:4.2.1.1",
        ],
        examples: &[
            Example {
                fires: true,
                note: "no owner",
                scenario: r#"{"assets":[{"kind":"certificate","owners":[]}]}"#,
            },
            Example {
                fires: false,
                note: "owned through CODEOWNERS",
                scenario: r#"{"assets":[{"kind":"certificate"}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::ConfigReferenceMissing,
        severity: Severity::High,
        kinds: &[CSM],
        description: "A configuration names a certificate or key file that is not there",
        rationale: "A web server or proxy loads its certificate and key when it starts: a \
            configuration that names a file the scanned tree does not hold (renamed, deleted, \
            never deployed) works until the next restart or reload and then fails closed. \
            Inventories must tie each key and certificate to where it is used (PCI DSS 4.0 \
            4.2.1.1; NIST CSF 2.0 ID.AM-08).",
        frameworks: &["PCI-DSS-4.0:4.2.1.1", "NIST-CSF-2.0:ID.AM-08"],
        examples: &[
            Example {
                fires: true,
                note: "ssl_certificate names a file that is not in the tree",
                scenario: r#"{"assets":[{"kind":"consumer","consumer":{"references":[{"directive":"ssl_certificate","value":"/etc/nginx/ssl/old.crt","line":5,"resolution":"missing"}]}}]}"#,
            },
            Example {
                fires: false,
                note: "the file was found",
                scenario: r#"{"assets":[{"kind":"consumer"}]}"#,
            },
            Example {
                fires: false,
                note: "a file outside the scanned roots is not judged",
                scenario: r#"{"assets":[{"kind":"consumer","consumer":{"references":[{"directive":"ssl_certificate","value":"/opt/x.crt","line":5,"resolution":"outside"}]}}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::AssetUnused,
        severity: Severity::Info,
        kinds: &[C, PK],
        description: "No consumer or endpoint the scan saw uses this certificate or key",
        rationale: "A certificate or private key that no configuration loads and no endpoint \
            serves, directly or through the chain it belongs to, is a candidate for clean-up: \
            credentials left behind after the service that used them is gone are the improper \
            offboarding of OWASP NHI1, and an inventory should follow material to the end of \
            its life (NIST CSF 2.0 ID.AM-08). Raised only when the scan saw at least one \
            consumer or endpoint: a scan of a plain repository, with no configuration that \
            loads material, knows nothing about use, and every asset would be \"unused\". \
            Material used by software trustmap does not read yet is reported too; waive it.",
        frameworks: &["OWASP-NHI-2025:NHI1", "NIST-CSF-2.0:ID.AM-08"],
        examples: &[
            Example {
                fires: true,
                note: "the scan saw an nginx server, and it loads another certificate",
                scenario: r#"{"assets":[{"kind":"certificate"},{"kind":"consumer"}]}"#,
            },
            Example {
                fires: false,
                note: "the nginx server loads this certificate",
                scenario: r#"{"assets":[{"kind":"certificate"},{"kind":"consumer"}],"relations":[{"from":"csm_1","to":"crt_0","type":"uses"}]}"#,
            },
            Example {
                fires: false,
                note: "the issuing CA of a certificate an nginx server loads is used through it",
                scenario: r#"{"assets":[{"kind":"certificate"},{"kind":"certificate","certificate":{"is_ca":true}},{"kind":"consumer"}],"relations":[{"from":"csm_2","to":"crt_0","type":"uses"},{"from":"crt_0","to":"crt_1","type":"issued-by"}]}"#,
            },
            Example {
                fires: false,
                note: "no consumer or endpoint in the scan: use is unknown, nothing is unused",
                scenario: r#"{"assets":[{"kind":"certificate"}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::EndpointLegacyProtocol,
        severity: Severity::High,
        kinds: &[E],
        description: "A TLS endpoint accepts SSL 3.0, TLS 1.0 or TLS 1.1",
        rationale: "RFC 8996 deprecates TLS 1.0 and 1.1 and RFC 7568 SSL 3.0 (POODLE, BEAST, \
            SHA-1 and MD5 in the handshake); PCI DSS 4.0 4.2.1 requires strong cryptography \
            for data in transit, which excludes SSL and early TLS, and BSI TR-02102-2 allows \
            TLS 1.2 and 1.3 only. An endpoint that still accepts them lets a downgraded or old \
            client use them, whatever a current client negotiates. Found by raw ClientHello \
            probes offering each version alone.",
        frameworks: &[
            "PCI-DSS-4.0:4.2.1",
            "PCI-DSS-4.0:12.3.3",
            "NIST-CSF-2.0:PR.DS-02",
        ],
        examples: &[
            Example {
                fires: true,
                note: "TLS 1.0 accepted next to TLS 1.3",
                scenario: r#"{"assets":[{"kind":"endpoint","endpoint":{"legacy_protocols":["TLSv1.0","TLSv1.1"]}}]}"#,
            },
            Example {
                fires: false,
                note: "TLS 1.2 and 1.3 only",
                scenario: r#"{"assets":[{"kind":"endpoint"}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::EndpointWeakCipher,
        severity: Severity::High,
        kinds: &[E],
        description: "A TLS endpoint accepts a weak cipher suite: NULL, EXPORT, anonymous, RC4, DES or 3DES (high), or CBC with SHA-1 only (low)",
        rationale: "RFC 7465 prohibits RC4; RFC 5246 appendix A.5 and RFC 8996 leave NULL, \
            anonymous and EXPORT suites to no use (no encryption, no authentication, 40-bit \
            keys broken by FREAK and Logjam); 3DES, DES and IDEA have 64-bit blocks \
            (Sweet32, CVE-2016-2183) and NIST SP 800-131A Rev. 2 disallows 3DES for \
            encryption after 2023. NIST SP 800-52 Rev. 2 and BSI TR-02102-2 list none of \
            them, and PCI DSS 4.0 4.2.1 asks for strong cryptography in transit. CBC suites \
            with HMAC-SHA-1 are not broken (HMAC-SHA-1 stands, and SP 800-52 Rev. 2 still \
            lists AES-CBC-SHA suites) but carry the MAC-then-encrypt padding-oracle history \
            (Lucky 13) and are outside Mozilla's intermediate profile, so they alone raise \
            this rule at low severity, as evidence for a cipher clean-up. A server accepting \
            a suite lets a client that offers it (or an attacker who strips the rest) use it, \
            whatever a current client negotiates. Found by raw ClientHello probes \
            (--tls-enumerate).",
        frameworks: &[
            "PCI-DSS-4.0:4.2.1",
            "NIST-SP-800-52-r2",
            "NIST-SP-800-131A-r2",
            "NIST-CSF-2.0:PR.DS-02",
        ],
        examples: &[
            Example {
                fires: true,
                note: "a NULL suite accepted next to AEAD ones",
                scenario: r#"{"assets":[{"kind":"endpoint","endpoint":{"accepted_suites":{"TLSv1.2":["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256","TLS_RSA_WITH_NULL_SHA"]}}}]}"#,
            },
            Example {
                fires: true,
                note: "CBC with SHA-1 only (low severity)",
                scenario: r#"{"assets":[{"kind":"endpoint","endpoint":{"accepted_suites":{"TLSv1.2":["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256","TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"]}}}]}"#,
            },
            Example {
                fires: false,
                note: "AEAD suites only, and CBC with SHA-256",
                scenario: r#"{"assets":[{"kind":"endpoint","endpoint":{"accepted_suites":{"TLSv1.2":["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256","TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"],"TLSv1.3":["TLS_AES_128_GCM_SHA256"]}}}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::EndpointNoPqKeyExchange,
        severity: Severity::Low,
        kinds: &[E],
        description: "A TLS endpoint accepts no post-quantum key exchange (hybrid such as X25519MLKEM768, or ML-KEM alone)",
        rationale: "Traffic recorded today can be decrypted once a cryptographically relevant \
            quantum computer exists (harvest now, decrypt later), whatever the certificate's \
            algorithm; only the key exchange protects against it. NIST FIPS 203 standardises \
            ML-KEM, NIST IR 8547 (draft) deprecates quantum-vulnerable key establishment by \
            2030 and disallows it by 2035, the NSA's CNSA 2.0 asks for ML-KEM in TLS, and \
            draft-ietf-tls-ecdhe-mlkem defines the hybrid X25519MLKEM768 that current browsers \
            and OpenSSL 3.5 offer by default. An explicit result (the groups the server \
            accepts, probed one at a time over TLS 1.3, and the one negotiated, kept apart) \
            rather than silence, at low severity: it is a migration item, not a break.",
        frameworks: &[
            "NIST-FIPS-203",
            "NIST-IR-8547-ipd",
            "NSA-CNSA-2.0",
            "NIST-CSF-2.0:PR.DS-02",
        ],
        examples: &[
            Example {
                fires: true,
                note: "classical groups only",
                scenario: r#"{"assets":[{"kind":"endpoint","endpoint":{"groups_offered":["X25519","secp256r1"],"pq_key_exchange":"none"}}]}"#,
            },
            Example {
                fires: false,
                note: "X25519MLKEM768 accepted",
                scenario: r#"{"assets":[{"kind":"endpoint","endpoint":{"groups_offered":["X25519MLKEM768","X25519"],"pq_key_exchange":"hybrid"}}]}"#,
            },
            Example {
                fires: false,
                note: "groups not probed: nothing known, nothing said",
                scenario: r#"{"assets":[{"kind":"endpoint"}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::EndpointHostnameMismatch,
        severity: Severity::High,
        kinds: &[E],
        description: "A TLS endpoint serves a certificate that is not valid for the name it was reached by",
        rationale: "Clients check the server's name against the certificate's subject \
            alternative names (RFC 9525, which replaced RFC 6125; the CA/Browser Forum Baseline \
            Requirements 7.1.2.7 require the names in the SAN extension), so a mismatch fails \
            every connection that verifies, and teaches the rest to ignore verification. NIST \
            CSF 2.0 PR.DS-02 asks for data in transit to be protected, PCI DSS 4.0 4.2.1 for \
            certificates that are valid.",
        frameworks: &[
            "PCI-DSS-4.0:4.2.1",
            "NIST-CSF-2.0:PR.DS-02",
            "NIST-CSF-2.0:PR.AA-03",
        ],
        examples: &[
            Example {
                fires: true,
                note: "reached as svc.example.com, serves a certificate for other.example.com",
                scenario: r#"{"assets":[{"kind":"endpoint","endpoint":{"verification":{"hostname_match":false}}},
                    {"kind":"certificate","certificate":{"subject":"CN=other.example.com","sans":["DNS:other.example.com"]}}],
                    "relations":[{"from":"ept_0","to":"crt_1","type":"serves"}]}"#,
            },
            Example {
                fires: false,
                note: "the name is among the certificate's SANs",
                scenario: r#"{"assets":[{"kind":"endpoint"},{"kind":"certificate"}],
                    "relations":[{"from":"ept_0","to":"crt_1","type":"serves"}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::EndpointCertInvalid,
        severity: Severity::High,
        kinds: &[E],
        description: "A TLS endpoint serves a chain that does not validate: an expired or not yet valid leaf, no path to a trust anchor, or a missing intermediate",
        rationale: "What an endpoint serves is what clients validate (RFC 5280 6.1): an expired \
            leaf, a chain to no trusted root, or a missing intermediate breaks verifying clients \
            (a missing intermediate only some of them, which hides it from the browser that \
            happens to cache it). PCI DSS 4.0 4.2.1 requires certificates protecting data in \
            transit to be valid and not expired; NIST SP 800-207 asks for trust to be verified \
            continuously, which is what scanning the served side does. The chain is checked \
            against the system trust store and the policy's [trust] bundles.",
        frameworks: &[
            "PCI-DSS-4.0:4.2.1",
            "NIST-CSF-2.0:PR.DS-02",
            "NIST-CSF-2.0:PR.AA-01",
            "NIST-SP-800-207",
        ],
        examples: &[
            Example {
                fires: true,
                note: "the served leaf expired three days ago",
                scenario: r#"{"assets":[{"kind":"endpoint"},{"kind":"certificate","certificate":{"not_after":"2026-11-20T00:00:00Z"}}],
                    "relations":[{"from":"ept_0","to":"crt_1","type":"serves"}]}"#,
            },
            Example {
                fires: true,
                note: "the chain reaches no trust anchor",
                scenario: r#"{"assets":[{"kind":"endpoint","endpoint":{"verification":{"trusted":false,"error":"unknown issuer: the served chain reaches no trust anchor"}}},
                    {"kind":"certificate"}],
                    "relations":[{"from":"ept_0","to":"crt_1","type":"serves"}]}"#,
            },
            Example {
                fires: true,
                note: "the intermediate is not served",
                scenario: r#"{"assets":[{"kind":"endpoint","endpoint":{"chain_length":1,"verification":{"trusted":false,"chain_complete":false,"missing_issuer":"CN=Example Issuing CA","error":"unknown issuer: the served chain reaches no trust anchor"}}},
                    {"kind":"certificate"}],
                    "relations":[{"from":"ept_0","to":"crt_1","type":"serves"}]}"#,
            },
            Example {
                fires: false,
                note: "a complete, trusted chain with a valid leaf",
                scenario: r#"{"assets":[{"kind":"endpoint"},{"kind":"certificate"}],
                    "relations":[{"from":"ept_0","to":"crt_1","type":"serves"}]}"#,
            },
        ],
    },
    Rule {
        id: RuleId::EndpointServesStaleCertificate,
        severity: Severity::Medium,
        kinds: &[E],
        description: "A TLS endpoint serves a certificate while the inventory holds a newer one for the same name: renewed, never deployed",
        rationale: "The renewal was done but the service still presents the old certificate \
            (a file replaced without a reload, a copy missed on one node, a load balancer not \
            updated), so the outage the renewal was meant to prevent still comes on the old \
            certificate's expiry date, and a revoked or superseded certificate stays in use. \
            NIST SP 1800-16 (TLS server certificate management) names exactly this gap \
            between issuance and deployment; PCI DSS 4.0 4.2.1.1 asks for an inventory of \
            the certificates in use. A newer certificate is an end-entity certificate in this \
            scan's inventory for one of the served leaf's names (DNS SANs, else CN), issued \
            later, valid now, and not served by this endpoint.",
        frameworks: &[
            "PCI-DSS-4.0:4.2.1.1",
            "NIST-SP-1800-16",
            "NIST-CSF-2.0:ID.AM-08",
        ],
        examples: &[
            Example {
                fires: true,
                note: "the served certificate was issued in October; a renewal from November is on disk",
                scenario: r#"{"assets":[{"kind":"endpoint"},{"kind":"certificate"},
                    {"kind":"certificate","occurrences":[{"path":"etc/ssl/svc.crt","line":null,"container":null}],
                     "certificate":{"not_before":"2026-11-10T00:00:00Z","not_after":"2027-05-01T00:00:00Z"}}],
                    "relations":[{"from":"ept_0","to":"crt_1","type":"serves"}]}"#,
            },
            Example {
                fires: false,
                note: "the endpoint serves the renewal; the old certificate is what is left on disk",
                scenario: r#"{"assets":[{"kind":"endpoint"},{"kind":"certificate","occurrences":[{"path":"etc/ssl/old.crt","line":null,"container":null}]},
                    {"kind":"certificate","certificate":{"not_before":"2026-11-10T00:00:00Z","not_after":"2027-05-01T00:00:00Z"}}],
                    "relations":[{"from":"ept_0","to":"crt_2","type":"serves"}]}"#,
            },
            Example {
                fires: false,
                note: "the other certificate for the name is not valid yet",
                scenario: r#"{"assets":[{"kind":"endpoint"},{"kind":"certificate"},
                    {"kind":"certificate","certificate":{"not_before":"2026-12-10T00:00:00Z","not_after":"2027-05-01T00:00:00Z"}}],
                    "relations":[{"from":"ept_0","to":"crt_1","type":"serves"}]}"#,
            },
        ],
    },
];

impl Rule {
    /// Plain text for `trustmap rules show ID`: what, why, where it maps, examples.
    pub fn explain(&self) -> String {
        let kinds: Vec<&str> = self.kinds.iter().map(|k| k.as_str()).collect();
        let mut s = format!(
            "{} ({})\n{}\n\napplies to: {}\n\n{}\n\nframeworks: {}\n",
            self.id,
            self.severity.as_str(),
            self.description,
            kinds.join(", "),
            self.rationale,
            self.frameworks.join(", ")
        );
        for (label, fires) in [("fires on", true), ("silent on", false)] {
            let notes: Vec<&str> = self
                .examples
                .iter()
                .filter(|e| e.fires == fires)
                .map(|e| e.note)
                .collect();
            s.push_str(&format!("{label}: {}\n", notes.join("; ")));
        }
        s
    }
}

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id.as_str() == id)
}

/// Position of a rule in the catalogue (findings of one severity are listed in this order);
/// ids outside the catalogue (X.509 lints) come after it.
pub fn rank(id: &str) -> usize {
    RULES.iter().position(|r| r.id == id).unwrap_or(RULES.len())
}

#[cfg(test)]
mod vocabulary_tests {
    use super::*;

    #[test]
    fn every_rule_id_that_is_not_reserved_has_one_catalogue_entry() {
        for &id in RuleId::ALL {
            let entries = RULES.iter().filter(|r| r.id == id).count();
            let want = usize::from(!id.is_reserved());
            assert_eq!(entries, want, "{id}: {entries} catalogue entries");
        }
    }
}
