//! PostgreSQL over TLS, as libpq's `sslmode` says (rustls, no OpenSSL).
//!
//! | `sslmode`       | TLS                   | certificate checked            | host name checked |
//! |-----------------|-----------------------|--------------------------------|-------------------|
//! | `disable`       | never                 | -                              | -                 |
//! | `prefer` (default) | when the server offers it, else plain | no              | no                |
//! | `require`       | always                | no (unless `sslrootcert` is given, as libpq) | no  |
//! | `verify-ca`     | always                | against the roots              | no                |
//! | `verify-full`   | always                | against the roots              | yes               |
//!
//! The roots are the PEM file `sslrootcert=FILE` names, else the operating system's trust
//! store (`sslrootcert=system` says so explicitly). tokio-postgres's own URL parser knows
//! only `disable`, `prefer` and `require` and no `sslrootcert`, so those parameters are taken
//! out of the URL here and the rest is handed to it.

use crate::error::Error;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use std::str::FromStr;
use std::sync::Arc;

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A PostgreSQL URL taken apart: the URL tokio-postgres parses, and the TLS settings.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PgTarget {
    /// The URL without `sslrootcert`, with an `sslmode` tokio-postgres knows.
    pub url: String,
    pub mode: SslMode,
    /// `sslrootcert`: a PEM file, or `None` for the system's trust store.
    pub root_cert: Option<String>,
}

impl PgTarget {
    pub fn parse(url: &str) -> Result<PgTarget, Error> {
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, q),
            None => (url, ""),
        };
        let mut mode = SslMode::Prefer;
        let mut root_cert = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "sslmode" => {
                    mode = match percent_decode(value)?.as_str() {
                        "disable" => SslMode::Disable,
                        "allow" => SslMode::Allow,
                        "prefer" => SslMode::Prefer,
                        "require" => SslMode::Require,
                        "verify-ca" => SslMode::VerifyCa,
                        "verify-full" => SslMode::VerifyFull,
                        other => {
                            return Err(Error::InvalidInput(format!(
                                "unknown sslmode {other:?}: use disable, allow, prefer, require, verify-ca or verify-full"
                            )));
                        }
                    }
                }
                "sslrootcert" => {
                    let v = percent_decode(value)?;
                    root_cert = (v != "system").then_some(v);
                }
                _ => kept.push(pair),
            }
        }
        // libpq: with a root certificate file, `require` verifies the chain like verify-ca.
        if mode == SslMode::Require && root_cert.is_some() {
            mode = SslMode::VerifyCa;
        }
        let wire = match mode {
            SslMode::Disable => "disable",
            // tokio-postgres has no `allow` (plain first, TLS if refused); TLS when offered
            // is the closer safe choice.
            SslMode::Allow | SslMode::Prefer => "prefer",
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => "require",
        };
        kept.push(match wire {
            "disable" => "sslmode=disable",
            "prefer" => "sslmode=prefer",
            _ => "sslmode=require",
        });
        Ok(PgTarget {
            url: format!("{base}?{}", kept.join("&")),
            mode,
            root_cert,
        })
    }
}

/// Connects as the URL's `sslmode` says.
pub(crate) fn connect(url: &str) -> Result<postgres::Client, Error> {
    let target = PgTarget::parse(url)?;
    let config = postgres::Config::from_str(&target.url)
        .map_err(|e| Error::InvalidInput(format!("bad PostgreSQL URL: {e}")))?;
    if target.mode == SslMode::Disable {
        return Ok(config.connect(postgres::NoTls)?);
    }
    let tls = tokio_postgres_rustls::MakeRustlsConnect::new(client_config(&target)?);
    Ok(config.connect(tls)?)
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(target: &PgTarget) -> Result<rustls::ClientConfig, Error> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::other(format!("TLS setup: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = match target.mode {
        SslMode::Disable | SslMode::Allow | SslMode::Prefer | SslMode::Require => {
            Arc::new(NoCertificateCheck(provider))
        }
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let roots = Arc::new(roots(target.root_cert.as_deref())?);
            let webpki =
                rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider)
                    .build()
                    .map_err(|e| Error::other(format!("TLS setup: {e}")))?;
            if target.mode == SslMode::VerifyFull {
                webpki
            } else {
                Arc::new(NoHostNameCheck(webpki))
            }
        }
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// The trust anchors: the certificates of a PEM file, or the system's.
fn roots(file: Option<&str>) -> Result<rustls::RootCertStore, Error> {
    let mut store = rustls::RootCertStore::empty();
    match file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| Error::InvalidInput(format!("sslrootcert {path}: {e}")))?;
            let (added, _) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(Error::InvalidInput(format!(
                    "sslrootcert {path}: no certificate in it"
                )));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err(Error::InvalidInput(
                    "sslmode verify-ca/verify-full: no sslrootcert given and no system root certificates found"
                        .into(),
                ));
            }
        }
    }
    Ok(store)
}

/// `require`, `prefer`: encrypted, but any certificate is accepted (as libpq does without
/// a root certificate). The handshake signatures are still checked, so the peer holds the
/// key of the certificate it sent.
#[derive(Debug)]
struct NoCertificateCheck(Arc<CryptoProvider>);

impl ServerCertVerifier for NoCertificateCheck {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the name in it is not compared with
/// the host connected to.
#[derive(Debug)]
struct NoHostNameCheck(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for NoHostNameCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The chain is checked before the name: a name error means the chain held.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `%XX` escapes of a URL query value.
fn percent_decode(s: &str) -> Result<String, Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| Error::InvalidInput(format!("bad %-escape in {s:?}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error::InvalidInput(format!("{s:?} is not UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_are_taken_out_of_the_url() {
        let t = PgTarget::parse("postgres://u:p@h/db").unwrap();
        assert_eq!(t.mode, SslMode::Prefer);
        assert_eq!(t.url, "postgres://u:p@h/db?sslmode=prefer");
        let t = PgTarget::parse(
            "postgres://h/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&options=-cx%3D1",
        )
        .unwrap();
        assert_eq!(t.mode, SslMode::VerifyFull);
        assert_eq!(t.root_cert.as_deref(), Some("/etc/ca.pem"));
        assert_eq!(t.url, "postgres://h/db?options=-cx%3D1&sslmode=require");
        let t = PgTarget::parse("postgres://h/db?sslmode=require&sslrootcert=/ca.pem").unwrap();
        assert_eq!(t.mode, SslMode::VerifyCa, "as libpq, with a root file");
        let t = PgTarget::parse("postgres://h/db?sslmode=verify-ca&sslrootcert=system").unwrap();
        assert_eq!((t.mode, t.root_cert), (SslMode::VerifyCa, None));
        assert_eq!(
            PgTarget::parse("postgres://h/db?sslmode=disable")
                .unwrap()
                .mode,
            SslMode::Disable
        );
        let bad = PgTarget::parse("postgres://h/db?sslmode=sometimes").unwrap_err();
        assert!(matches!(bad, Error::InvalidInput(_)), "{bad}");
    }
}
