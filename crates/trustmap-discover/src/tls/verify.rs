//! The served chain judged apart from the handshake: does it reach a trust anchor (webpki,
//! through rustls), is the leaf valid for the name, is an intermediate missing. Dates are
//! left to the policy (it judges them with the scan's clock), so the chain is checked at an
//! instant the leaf is valid.

use rustls::RootCertStore;
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use std::collections::HashSet;
use trustmap_core::{CertificateInfo, EndpointVerification};

/// The scan's trust anchors, ready for webpki, and their subjects (for "is the last served
/// certificate issued by an anchor").
pub struct Anchors {
    roots: RootCertStore,
    subjects: HashSet<String>,
}

impl Anchors {
    /// Anchors from certificate DER; ones webpki cannot use are skipped.
    pub fn new(ders: &[Vec<u8>]) -> Anchors {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(ders.iter().map(|d| CertificateDer::from(d.as_slice())));
        let subjects = ders
            .iter()
            .filter_map(|d| crate::x509::parse_certificate(d).ok())
            .map(|c| c.subject)
            .collect();
        Anchors { roots, subjects }
    }
}

/// Judges a served chain (leaf first; `infos` parsed from it, same order).
pub fn verify(
    chain: &[Vec<u8>],
    infos: &[CertificateInfo],
    name: &ServerName<'_>,
    anchors: &Anchors,
    provider: &CryptoProvider,
    now: time::OffsetDateTime,
) -> EndpointVerification {
    let (Some(leaf_der), Some(leaf)) = (chain.first(), infos.first()) else {
        return EndpointVerification {
            error: Some("the server sent no certificate".into()),
            ..Default::default()
        };
    };
    let complete = chain_complete(infos, anchors);
    let leaf_der = CertificateDer::from(leaf_der.as_slice());
    let parsed = match ParsedCertificate::try_from(&leaf_der) {
        Ok(p) => p,
        Err(e) => {
            return EndpointVerification {
                error: Some(format!(
                    "the leaf certificate is not usable: {}",
                    describe(&e)
                )),
                chain_complete: complete.is_ok(),
                missing_issuer: complete.err(),
                ..Default::default()
            };
        }
    };
    let intermediates: Vec<CertificateDer<'_>> = chain[1..]
        .iter()
        .map(|d| CertificateDer::from(d.as_slice()))
        .collect();
    // Within the leaf's validity: expiry is the policy's to judge, with `--now`.
    let nb = leaf.not_before.get().unix_timestamp();
    let na = leaf.not_after.get().unix_timestamp();
    let at = now.unix_timestamp().clamp(nb.min(na), na.max(nb)).max(0) as u64;
    let trust = verify_server_cert_signed_by_trust_anchor(
        &parsed,
        &anchors.roots,
        &intermediates,
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(at)),
        provider.signature_verification_algorithms.all,
    );
    EndpointVerification {
        trusted: trust.is_ok(),
        error: trust.err().map(|e| describe(&e)),
        hostname_match: verify_server_name(&parsed, name).is_ok(),
        chain_complete: complete.is_ok(),
        missing_issuer: complete.err(),
    }
}

/// Whether no intermediate is missing (see [`EndpointVerification::chain_complete`]); when
/// one is, the issuer DN nothing served or trusted matches.
fn chain_complete(infos: &[CertificateInfo], anchors: &Anchors) -> Result<(), String> {
    let mut current = &infos[0];
    // Each served certificate at most once: a loop in the chain ends the walk.
    for _ in 0..infos.len() {
        if current.subject == current.issuer || anchors.subjects.contains(&current.issuer) {
            return Ok(());
        }
        match infos
            .iter()
            .find(|c| c.subject == current.issuer && !std::ptr::eq(*c, current))
        {
            Some(next) => current = next,
            // A served CA certificate's issuer is a root the client holds (or not: trust).
            None if current.is_ca && !std::ptr::eq(current, &infos[0]) => return Ok(()),
            None => return Err(current.issuer.clone()),
        }
    }
    Ok(())
}

fn describe(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => "unknown issuer: the served chain reaches no trust anchor".into(),
            C::BadSignature => "a signature in the served chain does not verify".into(),
            C::UnsupportedSignatureAlgorithmContext { .. } => {
                "a signature algorithm in the served chain is not supported".into()
            }
            C::Expired | C::ExpiredContext { .. } => {
                "a certificate in the chain has expired".into()
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "a certificate in the chain is not valid yet".into()
            }
            C::Revoked => "revoked".into(),
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                "the leaf is not valid for TLS server authentication (extended key usage)".into()
            }
            C::BadEncoding => "a certificate in the chain is badly encoded".into(),
            C::Other(o) => match o.to_string() {
                s if s.contains("CaUsedAsEndEntity") => {
                    "the leaf is a CA certificate (basicConstraints CA:TRUE) used as a server's"
                        .into()
                }
                s => s,
            },
            other => format!("{other:?}"),
        },
        other => other.to_string(),
    }
}
