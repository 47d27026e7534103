//! The vocabulary every crate shares, written once: built-in rule ids ([`RuleId`]) and the
//! public-key algorithms a quantum computer breaks ([`QUANTUM_VULNERABLE`]).
//!
//! The policy engine raises findings with a [`RuleId`], the catalogue describes each one, the
//! policy file and waivers check names against it, and the store's `--quantum-vulnerable`
//! filter and the policy's `key-quantum-vulnerable` rule read the same list, so they cannot
//! disagree.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Generates [`RuleId`] with its kebab-case names, in catalogue order.
macro_rules! rule_ids {
    ($($variant:ident = $name:literal $(reserved = $reserved:literal)?,)*) => {
        /// A built-in rule id: stable, public (SARIF ruleId, CI gates, waivers), never reused.
        /// Custom Rego rules and X.509 lints have ids of their own, so a
        /// [`Finding`](crate::Finding)'s `rule` stays a string; built-in ones are written
        /// from this enum.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum RuleId {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl RuleId {
            /// Every built-in rule id, in catalogue order (reserved ones included).
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant,)*];

            /// The kebab-case id.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(RuleId::$variant => $name,)*
                }
            }

            /// Reserved: named by docs/ARCHITECTURE.md for a scanner that has not landed yet (endpoint
            /// rules). A policy may configure it; nothing raises it yet.
            pub const fn is_reserved(self) -> bool {
                match self {
                    $(RuleId::$variant => false $(|| $reserved)?,)*
                }
            }
        }
    };
}

rule_ids! {
    CertExpired = "cert-expired",
    CertExpiring = "cert-expiring",
    CertNotYetValid = "cert-not-yet-valid",
    CertWeakSignature = "cert-weak-signature",
    CertValidityTooLong = "cert-validity-too-long",
    CertSelfSignedLeaf = "cert-self-signed-leaf",
    CertWildcard = "cert-wildcard",
    CertMissingSan = "cert-missing-san",
    CertChainIncomplete = "cert-chain-incomplete",
    CertUntrustedRoot = "cert-untrusted-root",
    KeyWeak = "key-weak",
    KeyQuantumVulnerable = "key-quantum-vulnerable",
    KeyUnprotected = "key-unprotected",
    KeyCaExposed = "key-ca-exposed",
    KeyDuplicated = "key-duplicated",
    KeyRotationOverdue = "key-rotation-overdue",
    KeystoreDefaultPassword = "keystore-default-password",
    KeyPasswordExposed = "key-password-exposed",
    SecretPlaintext = "secret-plaintext",
    AssetUnowned = "asset-unowned",
    ConfigReferenceMissing = "config-reference-missing",
    AssetUnused = "asset-unused",
    EndpointLegacyProtocol = "endpoint-legacy-protocol",
    EndpointWeakCipher = "endpoint-weak-cipher",
    EndpointNoPqKeyExchange = "endpoint-no-pq-key-exchange",
    EndpointHostnameMismatch = "endpoint-hostname-mismatch",
    EndpointCertInvalid = "endpoint-cert-invalid",
    EndpointServesStaleCertificate = "endpoint-serves-stale-certificate",
}

impl RuleId {
    /// The built-in rule with this id.
    pub fn parse(s: &str) -> Option<RuleId> {
        RuleId::ALL.iter().copied().find(|r| r.as_str() == s)
    }
}

impl AsRef<str> for RuleId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RuleId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RuleId::parse(s).ok_or_else(|| format!("unknown rule id {s:?}"))
    }
}

impl PartialEq<RuleId> for String {
    fn eq(&self, other: &RuleId) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for RuleId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<RuleId> for &str {
    fn eq(&self, other: &RuleId) -> bool {
        *self == other.as_str()
    }
}

/// Public-key algorithms a large quantum computer breaks (Shor; NIST IR 8547): RSA (PKCS#1
/// and RSASSA-PSS keys), elliptic-curve and finite-field DSA/DH, EdDSA and X25519/X448, under
/// the names the parsers give them. ML-DSA, ML-KEM and SLH-DSA are not here. `ECDSA` and
/// `ECDH` are accepted spellings of `EC` from other sources (endpoints, imported data).
pub const QUANTUM_VULNERABLE: &[&str] = &[
    "RSA",
    "RSASSA-PSS",
    "EC",
    "ECDSA",
    "ECDH",
    "DSA",
    "DH",
    "Ed25519",
    "Ed448",
    "X25519",
    "X448",
];

/// Whether a public-key algorithm (as the parsers name it) falls to a quantum computer.
pub fn quantum_vulnerable(algorithm: &str) -> bool {
    QUANTUM_VULNERABLE.contains(&algorithm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_kebab_case() {
        for &r in RuleId::ALL {
            assert_eq!(RuleId::parse(r.as_str()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
            assert!(
                r.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{r}"
            );
        }
        assert_eq!(RuleId::parse("no-such-rule"), None);
        assert!(!RuleId::EndpointWeakCipher.is_reserved());
        assert!(!RuleId::CertExpired.is_reserved());
    }

    #[test]
    fn rsa_pss_is_quantum_vulnerable_and_ml_dsa_is_not() {
        assert!(quantum_vulnerable("RSASSA-PSS"));
        assert!(quantum_vulnerable("RSA"));
        assert!(!quantum_vulnerable("ML-DSA-65"));
        assert!(!quantum_vulnerable("ML-KEM-768"));
    }
}
