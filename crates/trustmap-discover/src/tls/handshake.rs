//! One TLS handshake with rustls, bounded in time and bytes, with a verifier that records
//! rather than rejects: whatever the server sends is kept and judged afterwards
//! ([`super::verify`]), so an expired, untrusted or misnamed certificate is a finding, not a
//! failed connection.

use super::dial::{RateLimit, secs};
use super::{Target, TlsOptions};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use super::dial::MAX_ADDRESSES;

/// What a completed handshake showed.
#[derive(Debug)]
pub struct Handshake {
    pub address: SocketAddr,
    /// The certificates as served, leaf first.
    pub chain: Vec<Vec<u8>>,
    /// `TLSv1.3`, `TLSv1.2`.
    pub protocol: String,
    pub cipher_suite: String,
    pub key_exchange_group: Option<String>,
    pub alpn: Option<String>,
    pub ocsp_stapled: bool,
    /// Bytes read from the peer.
    pub bytes: u64,
}

/// Accepts every chain and every handshake signature, noting whether an OCSP response was
/// stapled. Nothing is sent over the connection but the handshake and close_notify, so
/// accepting is safe; a key the provider cannot verify with (RSA under 2048 bits, DSA) must
/// not hide what the endpoint serves.
#[derive(Debug)]
struct Recorder {
    provider: Arc<CryptoProvider>,
    ocsp: AtomicBool,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.ocsp
            .store(!ocsp_response.is_empty(), Ordering::Relaxed);
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The name sent as SNI and checked against the certificate.
pub fn server_name(t: &Target) -> Result<ServerName<'static>, String> {
    ServerName::try_from(t.name().to_string()).map_err(|e| format!("bad server name: {e}"))
}

/// Why a handshake did not complete.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    /// The address connected to, when the connection was made.
    pub address: Option<SocketAddr>,
    /// The server answered the hello, but with an alert or a version, suite or message
    /// rustls does not speak (TLS 1.0 only, CBC or RC4 only): raw probes may still learn
    /// what it serves and accepts.
    pub incompatible: bool,
    /// Bytes read from the peer.
    pub bytes: u64,
}

impl Failure {
    fn plain(message: String) -> Failure {
        Failure {
            message,
            address: None,
            incompatible: false,
            bytes: 0,
        }
    }
}

/// Connects to `t` (the name looked up within the connect timeout, each connect after
/// `rate` allows it), speaks its STARTTLS preamble when it has one, and completes a
/// handshake; preamble and handshake share one deadline of the handshake timeout and the
/// byte budget is the handshake's.
pub fn run(
    t: &Target,
    opts: &TlsOptions,
    provider: &Arc<CryptoProvider>,
    rate: &RateLimit,
) -> Result<Handshake, Failure> {
    let stream = connect(t, opts.connect_timeout, rate).map_err(Failure::plain)?;
    let address = stream
        .peer_addr()
        .map_err(|e| Failure::plain(format!("connect: {e}")))?;
    let deadline = Instant::now() + opts.handshake_timeout;
    let fail = |message: String, bytes: u64, incompatible: bool| Failure {
        message,
        address: Some(address),
        incompatible,
        bytes,
    };
    if let Some(p) = t.starttls {
        super::starttls::negotiate(&stream, p, deadline).map_err(|m| fail(m, 0, false))?;
    }
    shake(t, opts, provider, &stream, deadline).map_err(|(m, bytes, inc)| fail(m, bytes, inc))
}

/// The handshake itself on a connected stream: the error, the bytes read and whether the
/// server was [`Failure::incompatible`].
fn shake(
    t: &Target,
    opts: &TlsOptions,
    provider: &Arc<CryptoProvider>,
    stream: &TcpStream,
    deadline: Instant,
) -> Result<Handshake, (String, u64, bool)> {
    let address = stream
        .peer_addr()
        .map_err(|e| (format!("connect: {e}"), 0, false))?;
    let recorder = Arc::new(Recorder {
        provider: provider.clone(),
        ocsp: AtomicBool::new(false),
    });
    let mut config = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| (format!("TLS configuration: {e}"), 0, false))?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config.resumption = rustls::client::Resumption::disabled();
    let mut conn =
        ClientConnection::new(Arc::new(config), server_name(t).map_err(|e| (e, 0, false))?)
            .map_err(|e| (format!("TLS client: {e}"), 0, false))?;
    let mut io = Bounded {
        stream,
        left: opts.max_handshake_bytes,
        limit: opts.max_handshake_bytes,
        read: 0,
        deadline,
        timeout: opts.handshake_timeout,
    };
    while conn.is_handshaking() {
        if conn.wants_write() {
            conn.write_tls(&mut io)
                .map_err(|e| (io_error(&e, &io), io.read, false))?;
            continue;
        }
        let n = conn
            .read_tls(&mut io)
            .map_err(|e| (io_error(&e, &io), io.read, false))?;
        if n == 0 {
            return Err((
                format!(
                    "the server closed the connection during the handshake (after {} bytes)",
                    io.read
                ),
                io.read,
                // A server that closes on a hello it cannot serve (some do instead of an
                // alert) may still answer an older one.
                io.read == 0,
            ));
        }
        if let Err(e) = conn.process_new_packets() {
            // Tell the server why, best effort, then report.
            let _ = conn.write_tls(&mut io);
            let incompatible = matches!(
                e,
                rustls::Error::AlertReceived(_)
                    | rustls::Error::PeerIncompatible(_)
                    | rustls::Error::PeerMisbehaved(_)
                    | rustls::Error::InappropriateHandshakeMessage { .. }
            );
            let message = match e {
                rustls::Error::InvalidMessage(rustls::InvalidMessage::HandshakePayloadTooLarge) => {
                    "handshake failed: the server sent a handshake message over 64 KiB \
                     (rustls's limit; not read further)"
                        .to_string()
                }
                e => format!("handshake failed: {e}"),
            };
            return Err((message, io.read, incompatible));
        }
    }
    let chain: Vec<Vec<u8>> = conn
        .peer_certificates()
        .unwrap_or_default()
        .iter()
        .map(|c| c.as_ref().to_vec())
        .collect();
    let protocol = conn
        .protocol_version()
        .map(|v| match v {
            rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
            rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
            other => format!("{other:?}"),
        })
        .unwrap_or_default();
    let cipher_suite = conn
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()))
        .unwrap_or_default();
    let key_exchange_group = conn
        .negotiated_key_exchange_group()
        .map(|g| format!("{:?}", g.name()));
    let alpn = conn
        .alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    close_politely(&mut conn, &mut io, stream);
    Ok(Handshake {
        address,
        chain,
        protocol,
        cipher_suite,
        key_exchange_group,
        alpn,
        ocsp_stapled: recorder.ocsp.load(Ordering::Relaxed),
        bytes: io.read,
    })
}

/// Most time and bytes spent on closing after a completed handshake.
const CLOSE_WAIT: Duration = Duration::from_millis(250);
const CLOSE_BYTES: usize = 64 << 10;

/// Ends the connection the way a client that is done does: the last handshake flight (the
/// client's Finished may still be queued when rustls reports the handshake over) and a
/// close_notify written, the write side shut, then what the server still sends (session
/// tickets, its own close_notify) read and dropped until it closes, within [`CLOSE_WAIT`] and
/// [`CLOSE_BYTES`]. Closing a socket with unread data makes the kernel send a reset, which
/// the server then logs as a failed handshake.
fn close_politely(conn: &mut ClientConnection, io: &mut Bounded<'_>, stream: &TcpStream) {
    conn.send_close_notify();
    while conn.wants_write() {
        // Within the handshake's deadline (`Bounded`); a write that moves nothing ends it.
        if !matches!(conn.write_tls(io), Ok(n) if n > 0) {
            return;
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let until = Instant::now() + CLOSE_WAIT;
    let mut buf = [0u8; 4096];
    let mut left = CLOSE_BYTES;
    while left > 0 {
        let wait = until.saturating_duration_since(Instant::now());
        if wait.is_zero() || stream.set_read_timeout(Some(wait)).is_err() {
            break;
        }
        match (&mut &*stream).read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
}

fn connect(t: &Target, timeout: Duration, rate: &RateLimit) -> Result<TcpStream, String> {
    let addrs = super::dial::resolve(&t.host, t.port, timeout)?;
    let mut last = format!("cannot resolve {}: no addresses", t.host);
    for a in addrs {
        rate.wait(a.ip());
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                last = format!("connect to {a} timed out after {}", secs(timeout));
            }
            Err(e) => last = format!("connect to {a}: {e}"),
        }
    }
    Err(last)
}

/// The socket, read and written within one deadline for the whole handshake (a peer that
/// drips a byte a second cannot stretch it) and read at most `limit` bytes.
struct Bounded<'a> {
    stream: &'a TcpStream,
    left: usize,
    limit: usize,
    read: u64,
    deadline: Instant,
    timeout: Duration,
}

/// Marks errors the budget itself raised, so they are reported as such.
const OVER_BUDGET: &str = "over the handshake byte budget";

impl Bounded<'_> {
    fn remaining(&self) -> std::io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "deadline",
            ));
        }
        Ok(left)
    }
}

impl Read for Bounded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other(OVER_BUDGET));
        }
        let t = self.remaining()?;
        self.stream.set_read_timeout(Some(t))?;
        let n = buf.len().min(self.left);
        let got = (&mut &*self.stream).read(&mut buf[..n])?;
        self.left -= got;
        self.read += got as u64;
        Ok(got)
    }
}

impl Write for Bounded<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let t = self.remaining()?;
        self.stream.set_write_timeout(Some(t))?;
        (&mut &*self.stream).write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn io_error(e: &std::io::Error, io: &Bounded<'_>) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        TimedOut | WouldBlock => format!(
            "handshake timed out after {} ({} bytes received)",
            secs(io.timeout),
            io.read
        ),
        ConnectionReset | ConnectionAborted | BrokenPipe => {
            format!(
                "connection reset during the handshake (after {} bytes)",
                io.read
            )
        }
        _ if e.to_string() == OVER_BUDGET => format!(
            "the server sent more than {} bytes without completing the handshake",
            io.limit
        ),
        _ => format!("handshake I/O: {e}"),
    }
}
