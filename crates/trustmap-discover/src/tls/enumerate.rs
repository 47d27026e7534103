//! Cipher-suite and group enumeration by raw ClientHello probes, the way sslyze and
//! testssl.sh do it, written by hand (as [`super::probe`] is): rustls neither offers NULL,
//! EXPORT, RC4 or 3DES suites nor lets a client offer a group it cannot compute, and no
//! maintained crate sends such hellos. Each probe is one connection, one ClientHello, and
//! the server's first handshake message read within [`MAX_HELLO_BYTES`] and the timeout;
//! nothing is ever completed.
//!
//! - **Groups** (TLS 1.3): a hello offering one group in `supported_groups` and an *empty*
//!   `key_share` (RFC 8446 4.2.8 lets a client ask the server to choose): a server that
//!   supports the group answers with a HelloRetryRequest naming it. No key share is sent,
//!   so no fake public key can be rejected for its value, the hybrid post-quantum groups
//!   (X25519MLKEM768 and the rest) are probed like X25519, and the server does no key
//!   generation for a probe.
//! - **TLS 1.3 suites**: the same hello offering the suites still unseen; the
//!   HelloRetryRequest names the suite chosen, which is removed, until the server refuses.
//! - **TLS 1.2 suites**: a TLS 1.2 hello offering every suite of [`TLS12_SUITES`] still
//!   unseen, removing the one chosen, until the server refuses; then **server preference**
//!   by offering the first two accepted in both orders.
//!
//! Every endpoint's probes are bounded by a budget ([`MAX_PROBES`] by default) and run one
//! after another in the endpoint's worker, so the scan's concurrency bounds them too.

use super::dial::Dial;
use super::probe::Deadline;
use std::io::Read;
use std::io::Write;
use std::net::SocketAddr;

/// Bytes read from one probe's answer: a ServerHello or HelloRetryRequest is under 200
/// bytes without a post-quantum key share and about 1.3 KiB with one.
pub const MAX_HELLO_BYTES: u64 = 16 << 10;
/// Probes one endpoint may cost by default: groups (17 and one), TLS 1.3 suites (up to 6),
/// TLS 1.2 suites (up to 96), the suites of each legacy version accepted (up to 96 each),
/// TLS 1.2 curves (5, or 10 behind an ECDSA leaf) and server preference (2). A server of every version accepting
/// `ALL:@SECLEVEL=0` with an RSA key costs about 150.
pub const MAX_PROBES: usize = 256;
/// Bytes read of the first flight of a raw TLS 1.2-or-older handshake (ServerHello to
/// Certificate), when rustls could not complete one: as [`super::MAX_HANDSHAKE_BYTES`].
pub const MAX_FLIGHT_BYTES: u64 = super::MAX_HANDSHAKE_BYTES as u64;

/// TLS 1.2 (and earlier) cipher suites offered: NULL, EXPORT, anonymous, RC4, DES, 3DES,
/// CBC with SHA-1, CBC with SHA-2 and the AEAD ones, as named by IANA.
pub const TLS12_SUITES: &[(u16, &str)] = &[
    // AEAD
    (0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    (0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    (0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    (0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"),
    (0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"),
    (0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    (0xc0ad, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM"),
    (0xc0ac, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM"),
    (0xc09f, "TLS_DHE_RSA_WITH_AES_256_CCM"),
    (0xc09e, "TLS_DHE_RSA_WITH_AES_128_CCM"),
    (0xc09d, "TLS_RSA_WITH_AES_256_CCM"),
    (0xc09c, "TLS_RSA_WITH_AES_128_CCM"),
    (0xc0af, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8"),
    (0xc0ae, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"),
    (0xc05d, "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384"),
    (0xc05c, "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256"),
    (0xc061, "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384"),
    (0xc060, "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256"),
    (0xc0a3, "TLS_DHE_RSA_WITH_AES_256_CCM_8"),
    (0xc0a2, "TLS_DHE_RSA_WITH_AES_128_CCM_8"),
    (0xc0a1, "TLS_RSA_WITH_AES_256_CCM_8"),
    (0xc0a0, "TLS_RSA_WITH_AES_128_CCM_8"),
    (0xc053, "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384"),
    (0xc052, "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256"),
    (0xc051, "TLS_RSA_WITH_ARIA_256_GCM_SHA384"),
    (0xc050, "TLS_RSA_WITH_ARIA_128_GCM_SHA256"),
    // CBC with SHA-2
    (0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"),
    (0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
    (0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"),
    (0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"),
    (0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"),
    (0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"),
    (0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"),
    (0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"),
    (0xc073, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384"),
    (0xc072, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256"),
    (0xc077, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384"),
    (0xc076, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256"),
    (0x00c4, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256"),
    (0x00be, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256"),
    (0x00c0, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256"),
    (0x00ba, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256"),
    // CBC with SHA-1
    (0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"),
    (0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    (0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
    (0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    (0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"),
    (0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"),
    (0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"),
    (0x0088, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA"),
    (0x0045, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA"),
    (0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA"),
    (0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA"),
    (0x0096, "TLS_RSA_WITH_SEED_CBC_SHA"),
    (0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA"),
    // 3DES and DES
    (0xc008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA"),
    (0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA"),
    (0x0009, "TLS_RSA_WITH_DES_CBC_SHA"),
    // RC4
    (0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"),
    (0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"),
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA"),
    (0x0004, "TLS_RSA_WITH_RC4_128_MD5"),
    // Anonymous (no authentication)
    (0xc019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA"),
    (0xc018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA"),
    (0x00a7, "TLS_DH_anon_WITH_AES_256_GCM_SHA384"),
    (0x00a6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256"),
    (0x006d, "TLS_DH_anon_WITH_AES_256_CBC_SHA256"),
    (0x006c, "TLS_DH_anon_WITH_AES_128_CBC_SHA256"),
    (0x00c5, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256"),
    (0x00bf, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256"),
    (0x0089, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA"),
    (0x0046, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA"),
    (0x003a, "TLS_DH_anon_WITH_AES_256_CBC_SHA"),
    (0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA"),
    (0x001b, "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA"),
    (0x0018, "TLS_DH_anon_WITH_RC4_128_MD5"),
    // EXPORT
    (0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA"),
    (0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA"),
    (0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5"),
    (0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5"),
    // NULL (no encryption)
    (0xc010, "TLS_ECDHE_RSA_WITH_NULL_SHA"),
    (0xc006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA"),
    (0xc015, "TLS_ECDH_anon_WITH_NULL_SHA"),
    (0x003b, "TLS_RSA_WITH_NULL_SHA256"),
    (0x0002, "TLS_RSA_WITH_NULL_SHA"),
    (0x0001, "TLS_RSA_WITH_NULL_MD5"),
];

/// TLS 1.3 cipher suites offered.
pub const TLS13_SUITES: &[(u16, &str)] = &[
    (0x1302, "TLS_AES_256_GCM_SHA384"),
    (0x1303, "TLS_CHACHA20_POLY1305_SHA256"),
    (0x1301, "TLS_AES_128_GCM_SHA256"),
    (0x1304, "TLS_AES_128_CCM_SHA256"),
    (0x1305, "TLS_AES_128_CCM_8_SHA256"),
];

/// What kind of key exchange a group is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Classical,
    /// A classical and a post-quantum KEM combined (draft-ietf-tls-ecdhe-mlkem).
    Hybrid,
    /// A post-quantum KEM alone (draft-connolly-tls-mlkem-key-agreement).
    Pure,
}

/// Named groups probed (TLS 1.3), post-quantum first: (code point, name, kind).
pub const GROUPS: &[(u16, &str, Kind)] = &[
    (0x11ec, "X25519MLKEM768", Kind::Hybrid),
    (0x11eb, "SecP256r1MLKEM768", Kind::Hybrid),
    (0x11ed, "SecP384r1MLKEM1024", Kind::Hybrid),
    (0x6399, "X25519Kyber768Draft00", Kind::Hybrid),
    (0x0200, "MLKEM512", Kind::Pure),
    (0x0201, "MLKEM768", Kind::Pure),
    (0x0202, "MLKEM1024", Kind::Pure),
    (0x001d, "X25519", Kind::Classical),
    (0x001e, "X448", Kind::Classical),
    (0x0017, "secp256r1", Kind::Classical),
    (0x0018, "secp384r1", Kind::Classical),
    (0x0019, "secp521r1", Kind::Classical),
    (0x0100, "ffdhe2048", Kind::Classical),
    (0x0101, "ffdhe3072", Kind::Classical),
    (0x0102, "ffdhe4096", Kind::Classical),
    (0x0103, "ffdhe6144", Kind::Classical),
    (0x0104, "ffdhe8192", Kind::Classical),
];

/// The kind of a group named as [`GROUPS`] names it (or as rustls does); classical when
/// unknown.
pub fn group_kind(name: &str) -> Kind {
    GROUPS
        .iter()
        .find(|g| g.1.eq_ignore_ascii_case(name))
        .map(|g| g.2)
        .unwrap_or(Kind::Classical)
}

/// The elliptic-curve groups probed for TLS 1.2 ECDHE, each offered alone with only the
/// ECDHE suites (and, behind an ECDSA leaf, next to the leaf's curve): a
/// ServerKeyExchange naming it means the server computes ECDHE on that curve.
pub const TLS12_EC_GROUPS: &[(u16, &str)] = &[
    (0x001d, "X25519"),
    (0x001e, "X448"),
    (0x0017, "secp256r1"),
    (0x0018, "secp384r1"),
    (0x0019, "secp521r1"),
];

/// The groups a TLS 1.2-or-older hello offers for its ECDHE and DHE suites.
pub const TLS12_GROUPS: &[u16] = &[
    0x001d, 0x0017, 0x0018, 0x0019, 0x001e, 0x0100, 0x0101, 0x0102,
];

/// Signature algorithms offered: the SHA-2 and EdDSA ones, then SHA-1 (so a server with
/// only a SHA-1 configuration still answers).
const SIGALGS: &[u16] = &[
    0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0807, 0x0808, 0x0201,
    0x0203,
];

/// The random of a HelloRetryRequest (RFC 8446 4.1.3): SHA-256 of "HelloRetryRequest".
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// A ClientHello record: TLS 1.3 only (`supported_versions` [1.3], an empty `key_share`)
/// when `tls13`, else TLS 1.2.
pub fn client_hello(suites: &[u16], groups: &[u16], tls13: bool, sni: Option<&str>) -> Vec<u8> {
    client_hello_for(if tls13 { 0x0304 } else { 0x0303 }, suites, groups, sni)
}

/// A ClientHello record offering `version` and nothing newer: TLS 1.3 (0x0304) as
/// [`client_hello`] says; TLS 1.2 with `signature_algorithms`; TLS 1.0 and 1.1 with SNI,
/// groups, point formats, extended master secret and renegotiation_info (no
/// `signature_algorithms`, which they do not have); SSL 3.0 with no extension at all (the
/// renegotiation SCSV instead) and the record version 3.0, as clients of that era sent it.
pub fn client_hello_for(
    version: u16,
    suites: &[u16],
    groups: &[u16],
    sni: Option<&str>,
) -> Vec<u8> {
    let tls13 = version >= 0x0304;
    let ssl3 = version <= 0x0300;
    let mut body = Vec::new();
    body.extend_from_slice(&version.min(0x0303).to_be_bytes());
    body.extend_from_slice(&[0x5a; 32]);
    // A TLS 1.3 hello carries a legacy session id, as middlebox-compatible clients do.
    if tls13 {
        body.push(32);
        body.extend_from_slice(&[0xa5; 32]);
    } else {
        body.push(0);
    }
    let scsv: &[u16] = if ssl3 { &[0x00ff] } else { &[] };
    body.extend_from_slice(&(((suites.len() + scsv.len()) * 2) as u16).to_be_bytes());
    for s in suites.iter().chain(scsv) {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]);
    if !ssl3 {
        let mut ext = Vec::new();
        if let Some(name) = sni {
            let n = name.as_bytes();
            let mut sn = Vec::new();
            sn.extend_from_slice(&((n.len() + 3) as u16).to_be_bytes());
            sn.push(0);
            sn.extend_from_slice(&(n.len() as u16).to_be_bytes());
            sn.extend_from_slice(n);
            push_ext(&mut ext, 0x0000, &sn);
        }
        push_ext(&mut ext, 0x000a, &list16(groups));
        push_ext(&mut ext, 0x000b, &[1, 0]);
        if version >= 0x0303 {
            push_ext(&mut ext, 0x000d, &list16(SIGALGS));
        }
        push_ext(&mut ext, 0x0017, &[]); // extended_master_secret
        push_ext(&mut ext, 0xff01, &[0]); // renegotiation_info, empty
        if tls13 {
            push_ext(&mut ext, 0x002b, &[2, 0x03, 0x04]);
            push_ext(&mut ext, 0x002d, &[1, 1]); // psk_key_exchange_modes: psk_dhe_ke
            push_ext(&mut ext, 0x0033, &[0, 0]); // key_share: no shares, the server picks
        }
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
    }
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    // The record layer says the oldest version the hello speaks, as clients do.
    let mut record = vec![0x16];
    record.extend_from_slice(&version.min(0x0301).to_be_bytes());
    record.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    record.extend_from_slice(&hs);
    record
}

fn list16(items: &[u16]) -> Vec<u8> {
    let mut v = ((items.len() * 2) as u16).to_be_bytes().to_vec();
    for i in items {
        v.extend_from_slice(&i.to_be_bytes());
    }
    v
}

fn push_ext(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// What a server chose in its ServerHello or HelloRetryRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The version selected (`supported_versions` when present, else the hello's).
    pub version: u16,
    pub suite: u16,
    /// The group of the `key_share` extension, when present.
    pub group: Option<u16>,
    pub retry: bool,
}

/// One probe's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Hello(Chosen),
    /// An alert, a close, a reset, or anything that is not a ServerHello.
    Refused,
    /// No answer in time, or no connection: unknown.
    Unknown(String),
}

/// Reads the server's first handshake message, at most [`MAX_HELLO_BYTES`] of it.
pub fn read_reply(stream: &mut impl Read) -> Reply {
    let mut r = stream.take(MAX_HELLO_BYTES);
    let mut msg: Vec<u8> = Vec::new();
    loop {
        let mut head = [0u8; 5];
        if let Err(e) = r.read_exact(&mut head) {
            return io_reply(e);
        }
        // An alert, or not a handshake record: a refusal.
        if head[0] != 0x16 {
            return Reply::Refused;
        }
        let len = u16::from_be_bytes([head[3], head[4]]) as usize;
        if len == 0 || len > (16 << 10) + 2048 {
            return Reply::Refused;
        }
        let start = msg.len();
        msg.resize(start + len, 0);
        if let Err(e) = r.read_exact(&mut msg[start..]) {
            return io_reply(e);
        }
        if msg.len() >= 4 {
            if msg[0] != 0x02 {
                return Reply::Refused;
            }
            let need = 4 + (u32::from_be_bytes([0, msg[1], msg[2], msg[3]]) as usize);
            if need as u64 > MAX_HELLO_BYTES {
                return Reply::Refused;
            }
            if msg.len() >= need {
                return parse_server_hello(&msg[4..need]).map_or(Reply::Refused, Reply::Hello);
            }
        }
    }
}

fn io_reply(e: std::io::Error) -> Reply {
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
            Reply::Unknown("no answer in time".into())
        }
        _ => Reply::Refused,
    }
}

/// Parses a ServerHello body (after the handshake header).
pub fn parse_server_hello(b: &[u8]) -> Option<Chosen> {
    let mut version = u16::from_be_bytes([*b.first()?, *b.get(1)?]);
    let random = b.get(2..34)?;
    let retry = random == HRR_RANDOM;
    let sid = *b.get(34)? as usize;
    let mut p = 35 + sid;
    let suite = u16::from_be_bytes([*b.get(p)?, *b.get(p + 1)?]);
    p += 3; // suite and compression
    let mut group = None;
    if let Some(len) = b.get(p..p + 2) {
        let end = p + 2 + u16::from_be_bytes([len[0], len[1]]) as usize;
        let mut q = p + 2;
        let exts = b.get(..end)?;
        while q + 4 <= end {
            let kind = u16::from_be_bytes([exts[q], exts[q + 1]]);
            let n = u16::from_be_bytes([exts[q + 2], exts[q + 3]]) as usize;
            let data = exts.get(q + 4..q + 4 + n)?;
            match kind {
                0x002b if n == 2 => version = u16::from_be_bytes([data[0], data[1]]),
                0x0033 if n >= 2 => group = Some(u16::from_be_bytes([data[0], data[1]])),
                _ => {}
            }
            q += 4 + n;
        }
    }
    Some(Chosen {
        version,
        suite,
        group,
        retry,
    })
}

/// What a raw TLS 1.2-or-older handshake showed, up to the server's certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flight {
    pub chosen: Chosen,
    /// The certificates as served, leaf first (empty: none sent, an anonymous suite); at
    /// most [`super::MAX_CHAIN`] and one.
    pub chain: Vec<Vec<u8>>,
    /// The named curve of an ECDHE ServerKeyExchange, when one came.
    pub curve: Option<u16>,
    /// Bytes read.
    pub bytes: u64,
}

/// The name of a group of [`GROUPS`], else its code.
pub fn group_name(code: u16) -> String {
    GROUPS
        .iter()
        .find(|g| g.0 == code)
        .map_or_else(|| format!("{code:#06x}"), |g| g.1.to_string())
}

/// The TLS code point of an elliptic curve named as the key parser names it (`P-256`...).
pub fn curve_code(name: &str) -> Option<u16> {
    match name {
        "P-256" | "secp256r1" | "prime256v1" => Some(0x0017),
        "P-384" | "secp384r1" => Some(0x0018),
        "P-521" | "secp521r1" => Some(0x0019),
        _ => None,
    }
}

/// `SSLv3`, `TLSv1.0` ... for a wire version.
pub fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSLv3".into(),
        0x0301 => "TLSv1.0".into(),
        0x0302 => "TLSv1.1".into(),
        0x0303 => "TLSv1.2".into(),
        0x0304 => "TLSv1.3".into(),
        v => format!("{v:#06x}"),
    }
}

/// The IANA name of a suite of [`TLS12_SUITES`] or [`TLS13_SUITES`], else its code.
pub fn suite_name(code: u16) -> String {
    TLS12_SUITES
        .iter()
        .chain(TLS13_SUITES)
        .find(|s| s.0 == code)
        .map_or_else(|| format!("{code:#06x}"), |s| s.1.to_string())
}

/// The hello of a raw handshake: up to TLS 1.2 (the server answers with the newest version
/// it has at or under it), every suite of [`TLS12_SUITES`], the TLS 1.2 groups.
pub fn legacy_client_hello(sni: Option<&str>) -> Vec<u8> {
    let codes: Vec<u16> = TLS12_SUITES.iter().map(|s| s.0).collect();
    client_hello(&codes, TLS12_GROUPS, false, sni)
}

/// Reads a TLS 1.2-or-older server's first flight: the ServerHello, then handshake
/// messages until its ServerKeyExchange (or ServerHelloDone), at most [`MAX_FLIGHT_BYTES`]
/// bytes; plaintext in these versions, so the served chain and the ECDHE curve are read
/// without completing anything. `Err` as [`read_reply`] answers.
pub fn read_flight(stream: &mut impl Read) -> Result<Flight, Reply> {
    let mut r = stream.take(MAX_FLIGHT_BYTES);
    let mut msg: Vec<u8> = Vec::new();
    let mut chosen: Option<Chosen> = None;
    let mut chain: Vec<Vec<u8>> = Vec::new();
    let mut bytes = 0u64;
    loop {
        let mut head = [0u8; 5];
        r.read_exact(&mut head).map_err(io_reply)?;
        if head[0] != 0x16 {
            return Err(Reply::Refused);
        }
        let len = u16::from_be_bytes([head[3], head[4]]) as usize;
        if len == 0 || len > (16 << 10) + 2048 {
            return Err(Reply::Refused);
        }
        let start = msg.len();
        msg.resize(start + len, 0);
        r.read_exact(&mut msg[start..]).map_err(io_reply)?;
        bytes += 5 + len as u64;
        // Every whole message in the buffer.
        while msg.len() >= 4 {
            let need = 4 + (u32::from_be_bytes([0, msg[1], msg[2], msg[3]]) as usize);
            if need as u64 > MAX_FLIGHT_BYTES {
                return Err(Reply::Refused);
            }
            if msg.len() < need {
                break;
            }
            let kind = msg[0];
            let body: Vec<u8> = msg.drain(..need).skip(4).collect();
            match (kind, &chosen) {
                (2, None) => {
                    let c = parse_server_hello(&body).ok_or(Reply::Refused)?;
                    if c.version > 0x0303 || c.retry {
                        return Err(Reply::Refused);
                    }
                    chosen = Some(c);
                }
                (11, Some(_)) => chain = certificate_list(&body).ok_or(Reply::Refused)?,
                // ServerKeyExchange: ECDHE's starts with curve_type named_curve (3) and the
                // curve; ServerHelloDone: no key exchange message (RSA key transport).
                (12 | 14, Some(c)) => {
                    let curve = (kind == 12 && body.first() == Some(&3))
                        .then(|| body.get(1..3).map(|b| u16::from_be_bytes([b[0], b[1]])))
                        .flatten();
                    return Ok(Flight {
                        chosen: c.clone(),
                        chain,
                        curve,
                        bytes,
                    });
                }
                (_, Some(_)) => {}
                (_, None) => return Err(Reply::Refused),
            }
        }
    }
}

/// A TLS 1.2-or-older Certificate message body: a 3-byte list length, then each
/// certificate with a 3-byte length; at most [`super::MAX_CHAIN`] + 1 kept.
pub fn certificate_list(b: &[u8]) -> Option<Vec<Vec<u8>>> {
    let total = u32::from_be_bytes([0, *b.first()?, *b.get(1)?, *b.get(2)?]) as usize;
    let list = b.get(3..3 + total)?;
    let mut out = Vec::new();
    let mut p = 0;
    while p < list.len() && out.len() <= super::MAX_CHAIN {
        let n =
            u32::from_be_bytes([0, *list.get(p)?, *list.get(p + 1)?, *list.get(p + 2)?]) as usize;
        out.push(list.get(p + 3..p + 3 + n)?.to_vec());
        p += 3 + n;
    }
    Some(out)
}

/// What the probes of one endpoint found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// TLS 1.2 suites accepted, in the order the server chose them; empty when TLS 1.2 is
    /// refused or suites were not enumerated.
    pub tls12: Vec<String>,
    pub tls13: Vec<String>,
    /// The suites of each legacy version of [`Prober::legacy`] (`SSLv3`, `TLSv1.0`,
    /// `TLSv1.1`), as `tls12` is for TLS 1.2; versions with none left out.
    pub legacy: Vec<(String, Vec<String>)>,
    /// Whether the server chooses by its own order (TLS 1.2, else the newest legacy version
    /// with two suites); `None` when no version has two suites accepted, or not probed.
    pub server_preference: Option<bool>,
    /// Groups the server accepted over TLS 1.3, in [`GROUPS`] order.
    pub groups: Vec<String>,
    /// Curves the server accepted for TLS 1.2 ECDHE, in [`TLS12_EC_GROUPS`] order (probed
    /// with the suites, when it accepts an ECDHE suite).
    pub groups_tls12: Vec<String>,
    /// Whether the server speaks TLS 1.3 (`None`: could not tell).
    pub tls13_spoken: Option<bool>,
    /// Whether every probe got an answer within the budget; when not, why.
    pub incomplete: Option<String>,
}

/// What the groups found say of post-quantum key exchange: `hybrid` when a hybrid group
/// was accepted, else `pure` when an ML-KEM group alone was, else `none` when the server
/// does not speak TLS 1.3 or every group probe was answered; `None` (cannot tell) when a
/// probe went unanswered or TLS 1.3 was never probed.
pub fn pq_class(f: &Found) -> Option<&'static str> {
    let kinds: Vec<Kind> = f.groups.iter().map(|g| group_kind(g)).collect();
    if kinds.contains(&Kind::Hybrid) {
        Some("hybrid")
    } else if kinds.contains(&Kind::Pure) {
        Some("pure")
    } else if f.tls13_spoken == Some(false)
        || (f.tls13_spoken == Some(true) && f.incomplete.is_none())
    {
        Some("none")
    } else {
        None
    }
}

/// Probes one address, one probe after another, within `budget` probes.
pub struct Prober<'a> {
    pub address: SocketAddr,
    pub sni: Option<&'a str>,
    /// How each probe connects: timeout, rate limit, STARTTLS.
    pub dial: Dial<'a>,
    pub budget: usize,
    /// Probes made so far.
    pub made: usize,
    /// The served leaf's curve when its key is ECDSA: a TLS 1.2 client must list it for
    /// the server to use that certificate (RFC 8422 5.1), so the TLS 1.2 curve probes offer
    /// it after the curve probed.
    pub leaf_curve: Option<u16>,
    /// The legacy versions the server accepted ([`super::probe`]), whose suites are
    /// enumerated too (with `suites`): wire versions, e.g. 0x0301.
    pub legacy: Vec<u16>,
}

impl Prober<'_> {
    /// Sends one hello and reads the answer; `None` when the budget is spent.
    pub fn ask(&mut self, hello: &[u8]) -> Option<Reply> {
        if self.made >= self.budget {
            return None;
        }
        self.made += 1;
        let (mut s, deadline) = match self.dial.open(self.address) {
            Ok(s) => s,
            Err(e) => {
                self.budget = self.made;
                return Some(Reply::Unknown(e));
            }
        };
        let _ = s.set_write_timeout(Some(self.dial.timeout));
        if s.write_all(hello).is_err() {
            return Some(Reply::Refused);
        }
        let r = read_reply(&mut Deadline {
            stream: &mut s,
            deadline,
        });
        let _ = s.shutdown(std::net::Shutdown::Both);
        // A peer that stops answering is not asked again: one timeout per endpoint, not one
        // per probe.
        if matches!(r, Reply::Unknown(_)) {
            self.budget = self.made;
        }
        Some(r)
    }

    /// Sends one hello and reads the first flight ([`read_flight`]); `None` when the budget
    /// is spent.
    pub fn ask_flight(&mut self, hello: &[u8]) -> Option<Result<Flight, Reply>> {
        if self.made >= self.budget {
            return None;
        }
        self.made += 1;
        let (mut s, deadline) = match self.dial.open(self.address) {
            Ok(s) => s,
            Err(e) => {
                self.budget = self.made;
                return Some(Err(Reply::Unknown(e)));
            }
        };
        let _ = s.set_write_timeout(Some(self.dial.timeout));
        if s.write_all(hello).is_err() {
            return Some(Err(Reply::Refused));
        }
        let r = read_flight(&mut Deadline {
            stream: &mut s,
            deadline,
        });
        let _ = s.shutdown(std::net::Shutdown::Both);
        if matches!(r, Err(Reply::Unknown(_))) {
            self.budget = self.made;
        }
        Some(r)
    }

    /// Enumerates what [`Found`] holds: groups (always), and suites and preference when
    /// `suites`.
    pub fn run(&mut self, suites: bool) -> Found {
        let mut f = Found::default();
        let all13: Vec<u16> = TLS13_SUITES.iter().map(|s| s.0).collect();
        let all_groups: Vec<u16> = GROUPS.iter().map(|g| g.0).collect();
        // TLS 1.3 at all: every suite and every group offered.
        let first = self.ask(&client_hello(&all13, &all_groups, true, self.sni));
        let spoken = match &first {
            Some(Reply::Hello(c)) => c.version == 0x0304,
            Some(Reply::Refused) => false,
            Some(Reply::Unknown(e)) => {
                f.incomplete = Some(format!("TLS 1.3 probe: {e}"));
                return f;
            }
            None => return f,
        };
        f.tls13_spoken = Some(spoken);
        if spoken {
            for &(code, name, _) in GROUPS {
                match self.ask(&client_hello(&all13, &[code], true, self.sni)) {
                    Some(Reply::Hello(c)) if c.version == 0x0304 && c.group == Some(code) => {
                        f.groups.push(name.to_string())
                    }
                    Some(Reply::Unknown(e)) => {
                        f.incomplete.get_or_insert(format!("group {name}: {e}"));
                    }
                    None => {
                        f.incomplete.get_or_insert("probe budget spent".into());
                        break;
                    }
                    _ => {}
                }
            }
        }
        if !suites {
            return f;
        }
        if spoken {
            f.tls13 = self.chosen(TLS13_SUITES, &all_groups, 0x0304, &mut f.incomplete);
        }
        // Keep probes for the TLS 1.2 groups and the preference.
        let (tls12, legacy) = {
            let keep = self.budget.saturating_sub(2 + 2 * TLS12_EC_GROUPS.len());
            let budget = std::mem::replace(&mut self.budget, keep);
            let got = self.chosen(TLS12_SUITES, TLS12_GROUPS, 0x0303, &mut f.incomplete);
            // Each legacy version accepted, newest first: the same suites offered in a
            // hello of that version alone.
            let mut legacy: Vec<(u16, Vec<String>)> = Vec::new();
            let mut versions = self.legacy.clone();
            versions.sort_unstable_by(|a, b| b.cmp(a));
            versions.dedup();
            for v in versions {
                let list = self.chosen(TLS12_SUITES, TLS12_GROUPS, v, &mut f.incomplete);
                if !list.is_empty() {
                    legacy.push((v, list));
                }
            }
            // A budget spent or a peer that stopped answering leaves the reserve as it
            // was cut.
            self.budget = if self.budget < keep {
                self.budget
            } else {
                budget
            };
            (got, legacy)
        };
        let mut f_groups12: Vec<String> = Vec::new();
        if tls12.iter().any(|n| n.starts_with("TLS_ECDHE_")) {
            // Every suite whose key exchange is ECDHE: with RSA or anonymous authentication
            // the curve need not be the leaf's, so one curve alone can be asked about.
            let ecdhe: Vec<u16> = TLS12_SUITES
                .iter()
                .filter(|s| s.1.starts_with("TLS_ECDHE_") || s.1.starts_with("TLS_ECDH_anon_"))
                .map(|s| s.0)
                .collect();
            let ecdsa: Vec<u16> = TLS12_SUITES
                .iter()
                .filter(|s| s.1.starts_with("TLS_ECDHE_ECDSA_"))
                .map(|s| s.0)
                .collect();
            'curves: for &(code, name) in TLS12_EC_GROUPS {
                // The curve alone; then, behind an ECDSA leaf on another curve, the curve
                // and the leaf's (RFC 8422 5.1: the client must list the certificate's
                // curve) with the ECDSA suites. Accepted when the ServerKeyExchange names
                // the curve probed; when it names the leaf's, the server prefers that one
                // and no TLS 1.2 client can be given the curve probed (not reported).
                let mut asks = vec![client_hello(&ecdhe, &[code], false, self.sni)];
                if let Some(leaf) = self.leaf_curve.filter(|&k| k != code) {
                    asks.push(client_hello(&ecdsa, &[code, leaf], false, self.sni));
                }
                for hello in asks {
                    match self.ask_flight(&hello) {
                        Some(Ok(fl)) if fl.chosen.version == 0x0303 && fl.curve == Some(code) => {
                            f_groups12.push(name.to_string());
                            break;
                        }
                        Some(Err(Reply::Unknown(e))) => {
                            f.incomplete
                                .get_or_insert(format!("TLS 1.2 group {name}: {e}"));
                            break;
                        }
                        None => {
                            f.incomplete.get_or_insert("probe budget spent".into());
                            break 'curves;
                        }
                        _ => {}
                    }
                }
            }
            f.groups_tls12 = f_groups12;
        }
        // Server preference on TLS 1.2, else on the newest legacy version with two suites.
        let pair = std::iter::once((0x0303, &tls12))
            .chain(legacy.iter().map(|(v, l)| (*v, l)))
            .find(|(_, l)| l.len() >= 2);
        if let Some((v, list)) = pair {
            let code = |n: &str| TLS12_SUITES.iter().find(|s| s.1 == n).map(|s| s.0);
            if let (Some(a), Some(b)) = (code(&list[0]), code(&list[1])) {
                let one = self.ask(&client_hello_for(v, &[a, b], TLS12_GROUPS, self.sni));
                let two = self.ask(&client_hello_for(v, &[b, a], TLS12_GROUPS, self.sni));
                if let (Some(Reply::Hello(x)), Some(Reply::Hello(y))) = (one, two) {
                    f.server_preference = Some(x.suite == y.suite);
                }
            }
        }
        f.tls12 = tls12;
        f.legacy = legacy
            .into_iter()
            .map(|(v, l)| (version_name(v), l))
            .collect();
        f
    }

    /// Offers `list`, removes the suite chosen and offers the rest, until the server
    /// refuses or the budget is spent: the suites accepted, in the order chosen.
    fn chosen(
        &mut self,
        list: &[(u16, &'static str)],
        groups: &[u16],
        version: u16,
        incomplete: &mut Option<String>,
    ) -> Vec<String> {
        let mut left: Vec<(u16, &str)> = list.to_vec();
        let mut got = Vec::new();
        while !left.is_empty() {
            let codes: Vec<u16> = left.iter().map(|s| s.0).collect();
            match self.ask(&client_hello_for(version, &codes, groups, self.sni)) {
                Some(Reply::Hello(c)) if c.version == version => {
                    let Some(i) = left.iter().position(|s| s.0 == c.suite) else {
                        // A suite not offered: a broken server; stop here.
                        break;
                    };
                    got.push(left.remove(i).1.to_string());
                }
                Some(Reply::Unknown(e)) => {
                    incomplete.get_or_insert(format!("suites: {e}"));
                    break;
                }
                None => {
                    incomplete.get_or_insert("probe budget spent".into());
                    break;
                }
                _ => break,
            }
        }
        got
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_hello(random: [u8; 32], suite: u16, exts: &[u8]) -> Vec<u8> {
        let mut b = vec![0x03, 0x03];
        b.extend_from_slice(&random);
        b.push(0);
        b.extend_from_slice(&suite.to_be_bytes());
        b.push(0);
        b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        b.extend_from_slice(exts);
        let mut hs = vec![2];
        hs.extend_from_slice(&(b.len() as u32).to_be_bytes()[1..]);
        hs.extend_from_slice(&b);
        hs
    }

    fn records(hs: &[u8], size: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for c in hs.chunks(size) {
            out.extend_from_slice(&[0x16, 0x03, 0x03]);
            out.extend_from_slice(&(c.len() as u16).to_be_bytes());
            out.extend_from_slice(c);
        }
        out
    }

    #[test]
    fn a_hello_retry_request_names_the_group_and_suite() {
        // supported_versions 1.3, key_share X25519MLKEM768 (a HelloRetryRequest's is the
        // group alone).
        let exts = [
            0x00, 0x2b, 0x00, 0x02, 0x03, 0x04, 0x00, 0x33, 0x00, 0x02, 0x11, 0xec,
        ];
        let hs = server_hello(HRR_RANDOM, 0x1301, &exts);
        // Split over records of 7 bytes: reassembled.
        let mut r = std::io::Cursor::new(records(&hs, 7));
        assert_eq!(
            read_reply(&mut r),
            Reply::Hello(Chosen {
                version: 0x0304,
                suite: 0x1301,
                group: Some(0x11ec),
                retry: true
            })
        );
    }

    #[test]
    fn replies_are_read_within_the_bound() {
        // An alert.
        let mut r = std::io::Cursor::new(vec![0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
        assert_eq!(read_reply(&mut r), Reply::Refused);
        // A ServerHello claiming 1 MiB, sent in full records: refused at its header.
        let mut hs = vec![2, 0x10, 0x00, 0x00];
        hs.extend(std::iter::repeat_n(0u8, 1 << 20));
        let mut r = std::io::Cursor::new(records(&hs, 16 << 10));
        assert_eq!(read_reply(&mut r), Reply::Refused);
        assert!(r.position() <= MAX_HELLO_BYTES);
        // A ServerHello under the claim limit but whose records never end it: at most the
        // bound is read.
        let mut hs = vec![2, 0x00, 0x3f, 0xf0];
        hs.extend(std::iter::repeat_n(0u8, 1 << 20));
        let mut r = std::io::Cursor::new(records(&hs, 1000));
        assert_eq!(read_reply(&mut r), Reply::Refused);
        assert!(r.position() <= MAX_HELLO_BYTES);
        // Not a ServerHello (a certificate message first).
        let mut r = std::io::Cursor::new(records(&[11, 0, 0, 1, 0], 100));
        assert_eq!(read_reply(&mut r), Reply::Refused);
        // Truncated.
        let mut r = std::io::Cursor::new(vec![0x16, 0x03]);
        assert_eq!(read_reply(&mut r), Reply::Refused);
    }

    #[test]
    fn the_suite_list_has_no_duplicates() {
        let mut codes: Vec<u16> = TLS12_SUITES.iter().map(|s| s.0).collect();
        assert_eq!(codes.len(), 95);
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), TLS12_SUITES.len());
    }

    #[test]
    fn post_quantum_key_exchange_is_classified_from_the_groups_accepted() {
        let found = |groups: &[&str], spoken: Option<bool>, incomplete: Option<&str>| Found {
            groups: groups.iter().map(|g| g.to_string()).collect(),
            tls13_spoken: spoken,
            incomplete: incomplete.map(str::to_string),
            ..Found::default()
        };
        let hybrid = found(&["X25519MLKEM768", "MLKEM768", "X25519"], Some(true), None);
        assert_eq!(pq_class(&hybrid), Some("hybrid"));
        let pure = found(&["MLKEM1024", "X25519"], Some(true), None);
        assert_eq!(pq_class(&pure), Some("pure"));
        assert_eq!(
            pq_class(&found(&["X25519"], Some(true), None)),
            Some("none")
        );
        // No TLS 1.3 at all: no post-quantum key exchange either.
        assert_eq!(pq_class(&found(&[], Some(false), None)), Some("none"));
        // A group probe unanswered: a classical answer cannot be trusted to be complete,
        // but a post-quantum group found is still found.
        let partial = found(
            &["X25519"],
            Some(true),
            Some("group X448: no answer in time"),
        );
        assert_eq!(pq_class(&partial), None);
        let partial_pq = found(&["SecP256r1MLKEM768"], Some(true), Some("timeout"));
        assert_eq!(pq_class(&partial_pq), Some("hybrid"));
        assert_eq!(
            pq_class(&found(&[], None, Some("TLS 1.3 probe: timeout"))),
            None
        );
    }

    #[test]
    fn a_legacy_hello_has_only_what_its_version_had() {
        // SSL 3.0: record version 3.0, the suites and the renegotiation SCSV, no extension
        // at all (the body ends with the compression methods).
        let h = client_hello_for(0x0300, &[0x0005, 0x000a], TLS12_GROUPS, Some("svc.test"));
        assert_eq!(&h[..3], &[0x16, 0x03, 0x00]);
        assert_eq!(&h[9..11], &[0x03, 0x00]);
        assert_eq!(&h[44..46], &[0x00, 0x06]);
        assert_eq!(&h[46..52], &[0x00, 0x05, 0x00, 0x0a, 0x00, 0xff]);
        assert_eq!(&h[52..], &[1, 0]);
        // TLS 1.0: SNI and groups, no signature_algorithms (TLS 1.2's), no versions list.
        // (No session id, one suite: the extensions start at byte 52.)
        let types = |h: &[u8]| {
            let mut p = 52;
            let mut out = Vec::new();
            while p + 4 <= h.len() {
                out.push(u16::from_be_bytes([h[p], h[p + 1]]));
                p += 4 + u16::from_be_bytes([h[p + 2], h[p + 3]]) as usize;
            }
            out
        };
        let h = client_hello_for(0x0301, &[0xc009], TLS12_GROUPS, Some("svc.test"));
        assert_eq!(&h[1..3], &[0x03, 0x01]);
        assert_eq!(&h[9..11], &[0x03, 0x01]);
        assert_eq!(types(&h), vec![0x0000, 0x000a, 0x000b, 0x0017, 0xff01]);
        let h = client_hello_for(0x0303, &[0xc009], TLS12_GROUPS, Some("svc.test"));
        assert_eq!(
            types(&h),
            vec![0x0000, 0x000a, 0x000b, 0x000d, 0x0017, 0xff01]
        );
    }

    #[test]
    fn the_hello_offers_what_it_is_given() {
        let h = client_hello(&[0x1301], &[0x11ec], true, Some("svc.test"));
        assert_eq!(u16::from_be_bytes([h[3], h[4]]) as usize, h.len() - 5);
        assert!(h.windows(4).any(|w| w == [0x00, 0x02, 0x11, 0xec]));
        assert!(h.windows(5).any(|w| w == [0x00, 0x2b, 0x00, 0x03, 0x02]));
    }
}
