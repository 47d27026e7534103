//! The algorithm catalogue of the CBOM: what a key's or a certificate signature's algorithm
//! is, in CycloneDX 1.6 `algorithmProperties` terms.
//!
//! Names follow the patterns of CycloneDX's cryptography registry (`cryptography-defs.json`,
//! copied into `schemas/`): `RSA-2048`, `ECDSA-P-256`, `Ed25519`, `ML-DSA-65`,
//! `RSA-PKCS1-1.5-SHA-256-2048`, `ECDSA-P-384-SHA-384`. Curves are named as the 1.6 schema
//! recommends (the std-curves database: `nist/P-256`, `secg/secp256k1`,
//! `brainpool/brainpoolP256r1`).
//!
//! Security levels:
//! - classical: bits of security against a classical attacker, NIST SP 800-57 Part 1 Rev. 5
//!   Table 2 (RSA, DSA and DH by modulus: 1024 -> 80, 2048 -> 112, 3072 -> 128, 7680 -> 192,
//!   15360 -> 256; EC by field size / 2; EdDSA 128 and 224); below 1024 bits the table gives no
//!   figure, so the level is left out. A signature's level is the lower of its key's and its
//!   hash's collision resistance (SP 800-57 Table 3, SP 800-107): SHA-1 and MD5 give 0,
//!   chosen-prefix collisions being practical for both.
//! - NIST quantum: the NIST PQC security category (FIPS 203/204/205: ML-KEM-512/768/1024 ->
//!   1/3/5, ML-DSA-44/65/87 -> 2/3/5, SLH-DSA-*-128/192/256 -> 1/3/5); 0 for every algorithm a
//!   quantum computer breaks (`trustmap_core::quantum_vulnerable`, NIST IR 8547).
//!
//! Unknown algorithms (an OID the parsers do not name) keep their name and OID with primitive
//! `unknown` and no levels: the CBOM says what it does not know instead of guessing.

use trustmap_core::{CertificateInfo, KeyInfo, quantum_vulnerable};

/// One algorithm component of the CBOM.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Algorithm {
    /// The registry-style name, also the tail of the component's `bom-ref`.
    pub name: String,
    /// CycloneDX `primitive`: signature, pke, key-agree, kem, hash, unknown...
    pub primitive: &'static str,
    /// Key size or parameter set: "2048", "65", "128s".
    pub parameter_set: Option<String>,
    /// Curve in std-curves form: "nist/P-256".
    pub curve: Option<String>,
    pub classical: Option<u32>,
    pub quantum: Option<u32>,
    /// Dotted OID when the algorithm is known by one.
    pub oid: Option<String>,
    /// What it is in X.509 terms, when that says more than the name.
    pub description: Option<String>,
    /// What the algorithm is used for: `sign`, `verify`, `encrypt`, `keygen`...
    pub functions: &'static [&'static str],
}

impl Algorithm {
    /// The component's `bom-ref`: `algorithm/` + name.
    pub fn bom_ref(&self) -> String {
        format!("algorithm/{}", self.name)
    }
}

/// Classical security of an RSA, DSA or finite-field DH modulus (SP 800-57 Table 2).
pub fn ffc_ifc_strength(bits: u32) -> Option<u32> {
    match bits {
        b if b >= 15360 => Some(256),
        b if b >= 7680 => Some(192),
        b if b >= 3072 => Some(128),
        b if b >= 2048 => Some(112),
        b if b >= 1024 => Some(80),
        _ => None,
    }
}

/// The std-curves name and classical strength of a named curve.
fn curve(name: &str, bits: Option<u32>) -> (String, Option<u32>) {
    let (qualified, strength) = match name {
        "P-192" => ("nist/P-192".to_string(), Some(96)),
        "P-224" => ("nist/P-224".to_string(), Some(112)),
        "P-256" => ("nist/P-256".to_string(), Some(128)),
        "P-384" => ("nist/P-384".to_string(), Some(192)),
        "P-521" => ("nist/P-521".to_string(), Some(256)),
        "secp256k1" => ("secg/secp256k1".to_string(), Some(128)),
        n if n.starts_with("brainpool") => {
            let digits: String = n
                .trim_start_matches("brainpoolP")
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let size: Option<u32> = digits.parse().ok();
            (format!("brainpool/{n}"), size.map(|s| s / 2))
        }
        n if n.starts_with("sec") => (format!("secg/{n}"), bits.map(|b| b / 2)),
        n => (n.to_string(), bits.map(|b| b / 2)),
    };
    (qualified, strength)
}

/// Whether a string is a dotted OID.
fn is_oid(s: &str) -> bool {
    !s.is_empty() && s.split('.').count() > 1 && s.split('.').all(|p| p.parse::<u64>().is_ok())
}

/// The algorithm of a key (private, public, or a certificate's subject public key); `None`
/// when nothing tells it (`unknown`, an encrypted key with no public half beside it).
pub fn key_algorithm(k: &KeyInfo) -> Option<Algorithm> {
    let alg = k.algorithm.as_str();
    if alg.is_empty() || alg == "unknown" {
        return None;
    }
    let vulnerable = quantum_vulnerable(alg);
    let q = |level: u32| Some(if vulnerable { 0 } else { level });
    let mut a = Algorithm {
        name: alg.to_string(),
        primitive: "unknown",
        parameter_set: None,
        curve: None,
        classical: None,
        quantum: if vulnerable { Some(0) } else { None },
        oid: None,
        description: None,
        functions: &[],
    };
    match alg {
        "RSA" | "RSASSA-PSS" => {
            let pss = alg == "RSASSA-PSS";
            let base = if pss { "RSA-PSS" } else { "RSA" };
            a.name = match k.bits {
                Some(b) => format!("{base}-{b}"),
                None => base.to_string(),
            };
            a.primitive = if pss { "signature" } else { "pke" };
            a.parameter_set = k.bits.map(|b| b.to_string());
            a.classical = k.bits.and_then(ffc_ifc_strength);
            a.oid = Some(
                if pss {
                    "1.2.840.113549.1.1.10"
                } else {
                    "1.2.840.113549.1.1.1"
                }
                .into(),
            );
            a.functions = if pss {
                &["sign", "verify"]
            } else {
                &["sign", "verify", "encrypt", "decrypt"]
            };
        }
        "DSA" => {
            a.name = k.bits.map_or("DSA".into(), |b| format!("DSA-{b}"));
            a.primitive = "signature";
            a.parameter_set = k.bits.map(|b| b.to_string());
            a.classical = k.bits.and_then(ffc_ifc_strength);
            a.oid = Some("1.2.840.10040.4.1".into());
            a.functions = &["sign", "verify"];
        }
        "DH" => {
            a.name = k.bits.map_or("FFDH".into(), |b| format!("FFDH-{b}"));
            a.primitive = "key-agree";
            a.parameter_set = k.bits.map(|b| b.to_string());
            a.classical = k.bits.and_then(ffc_ifc_strength);
            a.functions = &["keygen"];
        }
        "EC" | "ECDSA" | "ECDH" => {
            let (c, strength) = match &k.curve {
                Some(c) => {
                    let (q, s) = curve(c, k.bits);
                    (Some((c.clone(), q)), s)
                }
                None => (None, k.bits.map(|b| b / 2)),
            };
            let family = if alg == "ECDH" { "ECDH" } else { "ECDSA" };
            a.name = match &c {
                Some((short, _)) => format!("{family}-{short}"),
                None => family.to_string(),
            };
            a.primitive = if alg == "ECDH" {
                "key-agree"
            } else {
                "signature"
            };
            a.curve = c.map(|(_, q)| q);
            a.parameter_set = k.bits.map(|b| b.to_string());
            a.classical = strength;
            a.oid = Some("1.2.840.10045.2.1".into());
            a.functions = if alg == "ECDH" {
                &["keygen"]
            } else {
                &["sign", "verify"]
            };
        }
        "Ed25519" | "Ed448" => {
            a.primitive = "signature";
            let big = alg == "Ed448";
            a.curve = Some(if big { "other/Ed448" } else { "other/Ed25519" }.into());
            a.classical = Some(if big { 224 } else { 128 });
            a.oid = Some(if big { "1.3.101.113" } else { "1.3.101.112" }.into());
            a.functions = &["sign", "verify"];
        }
        "X25519" | "X448" => {
            a.primitive = "key-agree";
            let big = alg == "X448";
            a.curve = Some(
                if big {
                    "other/Curve448"
                } else {
                    "other/Curve25519"
                }
                .into(),
            );
            a.classical = Some(if big { 224 } else { 128 });
            a.oid = Some(if big { "1.3.101.111" } else { "1.3.101.110" }.into());
            a.functions = &["keygen"];
        }
        _ => {
            if let Some(set) = alg.strip_prefix("ML-DSA-") {
                let (classical, quantum) = match set {
                    "44" => (128, 2),
                    "65" => (192, 3),
                    "87" => (256, 5),
                    _ => return Some(unknown(alg)),
                };
                a.primitive = "signature";
                a.parameter_set = Some(set.into());
                a.classical = Some(classical);
                a.quantum = q(quantum);
                a.functions = &["sign", "verify"];
            } else if let Some(set) = alg.strip_prefix("ML-KEM-") {
                let (classical, quantum) = match set {
                    "512" => (128, 1),
                    "768" => (192, 3),
                    "1024" => (256, 5),
                    _ => return Some(unknown(alg)),
                };
                a.primitive = "kem";
                a.parameter_set = Some(set.into());
                a.classical = Some(classical);
                a.quantum = q(quantum);
                a.functions = &["encapsulate", "decapsulate"];
            } else if let Some(rest) = alg.strip_prefix("SLH-DSA-") {
                // SLH-DSA-SHA2-128s, SLH-DSA-SHAKE-256f
                let set = rest.rsplit('-').next().unwrap_or("");
                let (classical, quantum) = match set.get(..3) {
                    Some("128") => (128, 1),
                    Some("192") => (192, 3),
                    Some("256") => (256, 5),
                    _ => return Some(unknown(alg)),
                };
                a.primitive = "signature";
                a.parameter_set = Some(set.into());
                a.classical = Some(classical);
                a.quantum = q(quantum);
                a.functions = &["sign", "verify"];
            } else {
                return Some(unknown(alg));
            }
        }
    }
    Some(a)
}

/// An algorithm nothing here describes: its name (or OID) and primitive `unknown`.
fn unknown(alg: &str) -> Algorithm {
    Algorithm {
        name: alg.to_string(),
        primitive: "unknown",
        parameter_set: None,
        curve: None,
        classical: None,
        quantum: None,
        oid: is_oid(alg).then(|| alg.to_string()),
        description: None,
        functions: &[],
    }
}

/// Collision resistance of a signature's hash, in bits (SP 800-57 Table 3); SHA-1 and MD5
/// give 0 (chosen-prefix collisions are practical).
fn hash_strength(hash: &str) -> Option<u32> {
    match hash {
        "MD2" | "MD4" | "MD5" | "SHA-1" => Some(0),
        "SHA-224" | "SHA3-224" => Some(112),
        "SHA-256" | "SHA3-256" => Some(128),
        "SHA-384" | "SHA3-384" => Some(192),
        "SHA-512" | "SHA3-512" => Some(256),
        _ => None,
    }
}

/// The algorithm that signed a certificate. `issuer_key` is the signing key when known (the
/// certificate's own for a self-signed one, the issuer's from an `issued-by` relation); it
/// gives the name its key size or curve and the signature its classical level.
pub fn signature_algorithm(c: &CertificateInfo, issuer_key: Option<&KeyInfo>) -> Algorithm {
    let sig = c.signature_algorithm.as_str();
    let hash = c.signature_hash.as_deref();
    let lower = sig.to_ascii_lowercase();
    let family = if lower.contains("pss") {
        Some("RSA-PSS")
    } else if lower.contains("rsa") {
        Some("RSA-PKCS1-1.5")
    } else if lower.starts_with("ecdsa") {
        Some("ECDSA")
    } else if lower.starts_with("dsa") || lower.contains("withdsa") {
        Some("DSA")
    } else {
        None
    };
    let key = issuer_key.and_then(key_algorithm);
    let Some(family) = family else {
        // EdDSA, ML-DSA, SLH-DSA: the signature algorithm is the key algorithm.
        let by_name = match lower.as_str() {
            "ed25519" => Some("Ed25519"),
            "ed448" => Some("Ed448"),
            _ => None,
        };
        let k = KeyInfo {
            algorithm: by_name.map_or_else(|| sig.to_string(), str::to_string),
            ..KeyInfo::default()
        };
        let mut a = key_algorithm(&k).unwrap_or_else(|| unknown(sig));
        if a.primitive == "unknown" {
            a.oid = Some(c.signature_algorithm_oid.clone()).filter(|o| is_oid(o));
        } else {
            a.oid = Some(c.signature_algorithm_oid.clone()).filter(|o| is_oid(o));
            a.functions = &["sign", "verify"];
        }
        a.description = Some(format!("X.509 signature algorithm {sig}"));
        return a;
    };
    let mut name = family.to_string();
    let mut parameter_set = None;
    let mut curve_name = None;
    // ECDSA: the curve comes before the hash (ECDSA-P-256-SHA-256); RSA and DSA: the key
    // length comes last (RSA-PKCS1-1.5-SHA-256-2048).
    if family == "ECDSA"
        && let Some(k) = issuer_key
        && let Some(c) = &k.curve
    {
        name.push('-');
        name.push_str(c);
        curve_name = key.as_ref().and_then(|a| a.curve.clone());
        parameter_set = k.bits.map(|b| b.to_string());
    }
    if let Some(h) = hash {
        name.push('-');
        name.push_str(h);
    }
    if family != "ECDSA"
        && let Some(bits) = issuer_key.and_then(|k| k.bits)
    {
        name.push_str(&format!("-{bits}"));
        parameter_set = Some(bits.to_string());
    }
    let classical = match (
        key.as_ref().and_then(|k| k.classical),
        hash.and_then(hash_strength),
    ) {
        (Some(k), Some(h)) => Some(k.min(h)),
        (None, Some(0)) => Some(0),
        _ => None,
    };
    Algorithm {
        name,
        primitive: "signature",
        parameter_set,
        curve: curve_name,
        classical,
        // RSA, ECDSA and DSA all fall to a quantum computer.
        quantum: Some(0),
        oid: Some(c.signature_algorithm_oid.clone()).filter(|o| is_oid(o)),
        description: Some(format!("X.509 signature algorithm {sig}")),
        functions: &["sign", "verify"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(alg: &str, bits: Option<u32>, curve: Option<&str>) -> KeyInfo {
        KeyInfo {
            algorithm: alg.into(),
            bits,
            curve: curve.map(str::to_string),
            ..KeyInfo::default()
        }
    }

    #[test]
    fn rsa_levels_follow_sp800_57() {
        let a = key_algorithm(&key("RSA", Some(2048), None)).unwrap();
        assert_eq!(a.name, "RSA-2048");
        assert_eq!(a.primitive, "pke");
        assert_eq!(a.parameter_set.as_deref(), Some("2048"));
        assert_eq!((a.classical, a.quantum), (Some(112), Some(0)));
        assert_eq!(
            key_algorithm(&key("RSA", Some(3072), None))
                .unwrap()
                .classical,
            Some(128)
        );
        assert_eq!(
            key_algorithm(&key("RSA", Some(512), None))
                .unwrap()
                .classical,
            None
        );
        assert_eq!(a.bom_ref(), "algorithm/RSA-2048");
    }

    #[test]
    fn ec_keys_carry_their_curve() {
        let a = key_algorithm(&key("EC", Some(384), Some("P-384"))).unwrap();
        assert_eq!(a.name, "ECDSA-P-384");
        assert_eq!(a.curve.as_deref(), Some("nist/P-384"));
        assert_eq!((a.classical, a.quantum), (Some(192), Some(0)));
        let b = key_algorithm(&key("EC", Some(256), Some("brainpoolP256r1"))).unwrap();
        assert_eq!(b.curve.as_deref(), Some("brainpool/brainpoolP256r1"));
        assert_eq!(b.classical, Some(128));
    }

    #[test]
    fn post_quantum_algorithms_have_nist_categories() {
        let a = key_algorithm(&key("ML-DSA-65", None, None)).unwrap();
        assert_eq!(
            (a.primitive, a.quantum, a.classical),
            ("signature", Some(3), Some(192))
        );
        let k = key_algorithm(&key("ML-KEM-1024", None, None)).unwrap();
        assert_eq!((k.primitive, k.quantum), ("kem", Some(5)));
        let s = key_algorithm(&key("SLH-DSA-SHA2-128s", None, None)).unwrap();
        assert_eq!(
            (s.parameter_set.as_deref(), s.quantum),
            (Some("128s"), Some(1))
        );
    }

    #[test]
    fn unknown_algorithms_say_so() {
        assert_eq!(key_algorithm(&key("unknown", None, None)), None);
        let a = key_algorithm(&key("1.2.3.4.5", None, None)).unwrap();
        assert_eq!(a.primitive, "unknown");
        assert_eq!(a.oid.as_deref(), Some("1.2.3.4.5"));
        assert_eq!((a.classical, a.quantum), (None, None));
    }

    #[test]
    fn signatures_take_the_issuer_key_and_the_weaker_of_key_and_hash() {
        let c = CertificateInfo {
            signature_algorithm: "sha256WithRSAEncryption".into(),
            signature_algorithm_oid: "1.2.840.113549.1.1.11".into(),
            signature_hash: Some("SHA-256".into()),
            ..CertificateInfo::default()
        };
        let a = signature_algorithm(&c, Some(&key("RSA", Some(2048), None)));
        assert_eq!(a.name, "RSA-PKCS1-1.5-SHA-256-2048");
        assert_eq!((a.classical, a.quantum), (Some(112), Some(0)));
        assert_eq!(a.oid.as_deref(), Some("1.2.840.113549.1.1.11"));
        let unknown_issuer = signature_algorithm(&c, None);
        assert_eq!(unknown_issuer.name, "RSA-PKCS1-1.5-SHA-256");
        assert_eq!(unknown_issuer.classical, None);

        let sha1 = CertificateInfo {
            signature_algorithm: "sha1WithRSAEncryption".into(),
            signature_hash: Some("SHA-1".into()),
            ..c.clone()
        };
        assert_eq!(
            signature_algorithm(&sha1, Some(&key("RSA", Some(4096), None))).classical,
            Some(0)
        );

        let ec = CertificateInfo {
            signature_algorithm: "ecdsa-with-SHA384".into(),
            signature_algorithm_oid: "1.2.840.10045.4.3.3".into(),
            signature_hash: Some("SHA-384".into()),
            ..c.clone()
        };
        let e = signature_algorithm(&ec, Some(&key("EC", Some(384), Some("P-384"))));
        assert_eq!(e.name, "ECDSA-P-384-SHA-384");
        assert_eq!(e.curve.as_deref(), Some("nist/P-384"));
        assert_eq!(e.classical, Some(192));

        let ed = CertificateInfo {
            signature_algorithm: "ed25519".into(),
            signature_algorithm_oid: "1.3.101.112".into(),
            signature_hash: None,
            ..c
        };
        let d = signature_algorithm(&ed, None);
        assert_eq!((d.name.as_str(), d.classical), ("Ed25519", Some(128)));
    }
}
