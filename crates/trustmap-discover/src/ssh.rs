//! SSH keys: OpenSSH private keys (`openssh-key-v1`), PuTTY private keys (PPK v2 and v3), and
//! public keys in authorized_keys, known_hosts, `*.pub` files and RFC 4716 blocks.
//!
//! The SSH wire formats are decoded by RustCrypto's `ssh-key` (parsing only: no crypto
//! backends). Every SSH public key is converted to the SubjectPublicKeyInfo DER of the same key
//! (RSA, DSA, ECDSA, Ed25519 and their sk-/certificate forms), so an SSH key and the PEM export
//! of the same key pair get the same identity. PuTTY's text format and the public-key line
//! scanner are hand-written: no maintained crate reads PPK, and the scanner needs byte offsets
//! and tolerance for options, host patterns and markers that a strict line parser rejects.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ssh_key::public::{EcdsaPublicKey, KeyData};
use ssh_key::{PrivateKey, PublicKey};

use crate::keys::{
    OID_DSA, OID_ED25519, OID_P256, OID_P384, OID_P521, bare_algorithm, build_spki, der_uint,
    ec_algorithm, encode_tlv, key_from_spki, opaque_key, rsa_spki,
};
use crate::{ParseError, ParsedKey};

/// Standard base64, padding optional (authorized_keys lines sometimes lose it).
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Longest public key blob we decode (an 16384-bit RSA key is ~2 KiB; certificates more).
const MAX_BLOB_B64: usize = 64 * 1024;

fn err(msg: impl Into<String>) -> ParseError {
    ParseError::new(msg)
}

/// The SubjectPublicKeyInfo DER of an SSH public key, when it is a key type X.509 knows.
pub fn key_data_spki(key: &KeyData) -> Option<Vec<u8>> {
    Some(match key {
        KeyData::Rsa(rsa) => rsa_spki(&der_uint(rsa.n.as_bytes()), &der_uint(rsa.e.as_bytes())),
        KeyData::Dsa(dsa) => {
            let mut params = der_uint(dsa.p.as_bytes());
            params.extend(der_uint(dsa.q.as_bytes()));
            params.extend(der_uint(dsa.g.as_bytes()));
            let mut alg = encode_tlv(0x06, OID_DSA);
            alg.extend(encode_tlv(0x30, &params));
            build_spki(&encode_tlv(0x30, &alg), &der_uint(dsa.y.as_bytes()))
        }
        KeyData::Ecdsa(ec) => {
            let curve = match ec {
                EcdsaPublicKey::NistP256(_) => OID_P256,
                EcdsaPublicKey::NistP384(_) => OID_P384,
                EcdsaPublicKey::NistP521(_) => OID_P521,
            };
            build_spki(&ec_algorithm(curve), ec.as_sec1_bytes())
        }
        KeyData::Ed25519(ed) => build_spki(&bare_algorithm(OID_ED25519), &ed.0),
        KeyData::SkEcdsaSha2NistP256(sk) => {
            build_spki(&ec_algorithm(OID_P256), sk.ec_point().as_bytes())
        }
        KeyData::SkEd25519(sk) => build_spki(&bare_algorithm(OID_ED25519), &sk.public_key().0),
        _ => return None,
    })
}

/// A [`ParsedKey`] for an SSH public key (`key`), encoded as `blob` in the file.
fn ssh_key(
    key: &KeyData,
    blob: &[u8],
    format: &str,
    private: bool,
    encrypted: bool,
) -> Result<ParsedKey, ParseError> {
    let mut parsed = match key_data_spki(key) {
        Some(spki) => key_from_spki(spki, format, private, encrypted)?,
        None => opaque_key(
            blob,
            key.algorithm().as_str(),
            None,
            format,
            private,
            encrypted,
        ),
    };
    parsed.info.ssh_fingerprint = fingerprint(key);
    Ok(parsed)
}

/// `SHA256:` and the unpadded base64 of the SHA-256 of the key's public blob, as
/// `ssh-keygen -l` prints it (for a certificate, of the certified key).
pub fn fingerprint(key: &KeyData) -> Option<String> {
    Some(key.fingerprint(ssh_key::HashAlg::Sha256).to_string())
}

/// Reads one SSH `string` (u32 length + bytes) from the front of `data`.
fn take_string<'a>(data: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = u32::from_be_bytes(data.get(..4)?.try_into().ok()?) as usize;
    let s = data.get(4..4usize.checked_add(len)?)?;
    *data = &data[4 + len..];
    Some(s)
}

/// The plain public key blob inside an OpenSSH certificate blob: the certificate is
/// `string type, string nonce, <key fields>, ...`; the key fields are re-framed with the base
/// type name. (Done here rather than with `ssh_key::Certificate`, which rejects the common
/// "valid forever" validity of 2^64-1.)
fn certificate_key_blob(blob: &[u8]) -> Option<Vec<u8>> {
    let mut rest = blob;
    let cert_type = take_string(&mut rest)?;
    let base = cert_type.strip_suffix(b"-cert-v01@openssh.com")?;
    take_string(&mut rest)?; // nonce
    let fields = match base {
        b"ssh-ed25519" => 1,
        b"ssh-rsa" | b"sk-ssh-ed25519@openssh.com" => 2,
        b"ecdsa-sha2-nistp256" | b"ecdsa-sha2-nistp384" | b"ecdsa-sha2-nistp521" => 2,
        b"sk-ecdsa-sha2-nistp256@openssh.com" => 3,
        b"ssh-dss" => 4,
        _ => return None,
    };
    let start = rest;
    for _ in 0..fields {
        take_string(&mut rest)?;
    }
    let key_fields = &start[..start.len() - rest.len()];
    let mut out = (base.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(base);
    out.extend_from_slice(key_fields);
    Some(out)
}

/// Decodes an SSH public key blob (a plain key or an OpenSSH certificate, whose key is taken).
pub fn parse_public_blob(blob: &[u8], format: &str) -> Result<ParsedKey, ParseError> {
    let name = take_string(&mut &blob[..]).ok_or_else(|| err("SSH public key: truncated"))?;
    let key_blob;
    let plain = if name.ends_with(b"-cert-v01@openssh.com") {
        key_blob = certificate_key_blob(blob).ok_or_else(|| err("SSH certificate: malformed"))?;
        &key_blob[..]
    } else {
        blob
    };
    let key = PublicKey::from_bytes(plain).map_err(|e| err(format!("SSH public key: {e}")))?;
    ssh_key(key.key_data(), blob, format, false, false)
}

/// Parses the decoded body of an OPENSSH PRIVATE KEY block.
pub fn parse_openssh_private(body: &[u8]) -> Result<ParsedKey, ParseError> {
    if !body.starts_with(b"openssh-key-v1\0") {
        return Err(err("OpenSSH private key: bad magic"));
    }
    let key = match PrivateKey::from_bytes(body) {
        Ok(k) => k,
        // ssh-key is stricter than OpenSSH about the private section (padding, scalar
        // lengths); the public key in the clear header is still the key's identity.
        Err(e) => {
            return openssh_header(body).ok_or_else(|| err(format!("OpenSSH private key: {e}")));
        }
    };
    let encrypted = key.is_encrypted();
    let mut parsed = ssh_key(
        key.public_key().key_data(),
        body,
        "openssh",
        true,
        encrypted,
    )?;
    if encrypted {
        parsed.info.encryption = Some(format!(
            "{}, {}",
            key.cipher().as_str(),
            key.kdf().algorithm().as_str()
        ));
    } else if !key.comment().is_empty() {
        parsed.info.comment = Some(key.comment().to_string());
    }
    Ok(parsed)
}

/// Reads the clear header of an `openssh-key-v1` body (cipher, kdf, public key) when the
/// private section cannot be decoded.
fn openssh_header(body: &[u8]) -> Option<ParsedKey> {
    fn string(b: &[u8]) -> Option<(&[u8], &[u8])> {
        let n = u32::from_be_bytes(b.get(..4)?.try_into().ok()?) as usize;
        let end = 4usize.checked_add(n)?;
        Some((b.get(4..end)?, &b[end..]))
    }
    let rest = &body[b"openssh-key-v1\0".len()..];
    let (cipher, rest) = string(rest)?;
    let (kdf, rest) = string(rest)?;
    let (_kdf_options, rest) = string(rest)?;
    let nkeys = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
    if nkeys != 1 {
        return None;
    }
    let (blob, rest) = string(&rest[4..])?;
    // The (possibly encrypted) private section must be whole: a cut file is an error.
    let (private, rest) = string(rest)?;
    if private.is_empty() || !rest.is_empty() {
        return None;
    }
    let mut k = parse_public_blob(blob, "openssh").ok()?;
    let encrypted = cipher != b"none";
    k.private = true;
    k.info.encrypted = Some(encrypted);
    if encrypted {
        k.info.encryption = Some(format!(
            "{}, {}",
            String::from_utf8_lossy(cipher),
            String::from_utf8_lossy(kdf)
        ));
    }
    Some(k)
}

/// Parses a PuTTY private key file (PuTTY-User-Key-File-2 or -3). The public blob and the
/// comment are in clear even when the private part is encrypted.
pub fn parse_putty(text: &[u8]) -> Result<ParsedKey, ParseError> {
    let text = std::str::from_utf8(text).map_err(|_| err("PuTTY key: not UTF-8"))?;
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    let (version, algorithm) = first
        .strip_prefix("PuTTY-User-Key-File-")
        .and_then(|r| r.split_once(':'))
        .ok_or_else(|| err("PuTTY key: missing PuTTY-User-Key-File header"))?;
    if version != "2" && version != "3" {
        return Err(err(format!("PuTTY key: unsupported version {version}")));
    }
    let algorithm = algorithm.trim();
    let mut encryption = None;
    let mut comment = None;
    let mut kdf = None;
    let mut blob = None;
    while let Some(line) = lines.next() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name {
            "Encryption" => encryption = Some(value.to_string()),
            "Comment" => comment = Some(value.to_string()),
            "Key-Derivation" => kdf = Some(value.to_string()),
            "Public-Lines" => {
                let n: usize = value
                    .parse()
                    .map_err(|_| err("PuTTY key: bad Public-Lines"))?;
                if n > 1024 {
                    return Err(err("PuTTY key: too many Public-Lines"));
                }
                let mut b64 = String::new();
                for _ in 0..n {
                    b64.push_str(
                        lines
                            .next()
                            .ok_or_else(|| err("PuTTY key: truncated public lines"))?
                            .trim(),
                    );
                }
                blob = Some(
                    B64.decode(b64.as_bytes())
                        .map_err(|_| err("PuTTY key: bad base64 in public lines"))?,
                );
            }
            _ => {}
        }
    }
    let encryption = encryption.ok_or_else(|| err("PuTTY key: missing Encryption"))?;
    let blob = blob.ok_or_else(|| err("PuTTY key: missing Public-Lines"))?;
    let key = PublicKey::from_bytes(&blob).map_err(|e| err(format!("PuTTY key: {e}")))?;
    if key.algorithm().as_str() != algorithm {
        return Err(err(
            "PuTTY key: public blob does not match the header algorithm",
        ));
    }
    let encrypted = encryption != "none";
    let mut parsed = ssh_key(key.key_data(), &blob, "putty", true, encrypted)?;
    if encrypted {
        let kdf = match (version, kdf) {
            ("3", Some(k)) => k,
            ("3", None) => "Argon2".to_string(),
            _ => "SHA-1".to_string(),
        };
        parsed.info.encryption = Some(format!("{encryption}, {kdf}"));
    }
    parsed.info.comment = comment.filter(|c| !c.is_empty());
    Ok(parsed)
}

/// Prefixes of SSH key type names, and the RFC 4716 armour.
static NEEDLES: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostFirst)
        .build(["sk-ssh-", "sk-ecdsa-", "ssh-", "ecdsa-sha2-", RFC4716_BEGIN])
        .expect("static patterns")
});

const RFC4716_BEGIN: &str = "---- BEGIN SSH2 PUBLIC KEY ----";
const RFC4716_END: &str = "---- END SSH2 PUBLIC KEY ----";

/// Whether `name` is an SSH public key algorithm we read (plain, sk- and certificate forms).
fn is_key_type(name: &[u8]) -> bool {
    let base = name.strip_suffix(b"-cert-v01@openssh.com").unwrap_or(name);
    matches!(
        base,
        b"ssh-rsa"
            | b"ssh-dss"
            | b"ssh-ed25519"
            | b"ssh-ed448"
            | b"ecdsa-sha2-nistp256"
            | b"ecdsa-sha2-nistp384"
            | b"ecdsa-sha2-nistp521"
            | b"sk-ssh-ed25519@openssh.com"
            | b"sk-ecdsa-sha2-nistp256@openssh.com"
    )
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}

/// Every SSH public key in `text`: authorized_keys (with options), known_hosts (host patterns,
/// hashed hosts, markers), `*.pub` files and RFC 4716 blocks. Offsets are where each key starts
/// (its type name, or the BEGIN line).
pub fn find_public_keys(text: &[u8]) -> Vec<(usize, Result<ParsedKey, ParseError>)> {
    let mut out = Vec::new();
    let mut resume = 0;
    for m in NEEDLES.find_iter(text) {
        let start = m.start();
        if start < resume {
            continue;
        }
        if m.pattern().as_usize() == 4 {
            if let Some((end, result)) = rfc4716(text, start) {
                out.push((start, result));
                resume = end;
            }
            continue;
        }
        // A key type starts a token: at the start of the text, after blanks, or at the start
        // of a quoted string (JSON, HCL and YAML values such as `public_key_openssh`).
        if start > 0 && !matches!(text[start - 1], b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'') {
            continue;
        }
        // Key type names are short: look no further than 64 bytes for their end.
        let window = &text[start..text.len().min(start + 64)];
        let Some(type_len) = window.iter().position(|b| b.is_ascii_whitespace()) else {
            continue;
        };
        let type_end = start + type_len;
        let name = &text[start..type_end];
        if !is_key_type(name) {
            continue;
        }
        let blob_start = text[type_end..]
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .map_or(text.len(), |p| type_end + p);
        let blob_end = text[blob_start..]
            .iter()
            .position(|&b| !is_b64(b))
            .map_or(text.len(), |p| blob_start + p);
        let b64 = &text[blob_start..blob_end];
        // Every blob starts with the type name's length ("AAAA"); the shortest real key
        // (Ed25519, 51 bytes) is 68 characters: shorter runs are placeholders in prose.
        if b64.len() < 68 || !b64.starts_with(b"AAAA") {
            continue;
        }
        let result = if b64.len() > MAX_BLOB_B64 {
            Err(err("SSH public key: blob too large"))
        } else {
            match B64.decode(b64) {
                Err(_) => Err(err("SSH public key: bad base64")),
                Ok(blob) => {
                    // The blob's own type name must match the one written before it.
                    if blob.get(4..4 + name.len()) != Some(name) {
                        Err(err("SSH public key: blob type does not match the key type"))
                    } else {
                        parse_public_blob(&blob, "ssh").map(|mut k| {
                            k.info.comment = line_comment(&text[blob_end..]);
                            k
                        })
                    }
                }
            }
        };
        out.push((start, result));
        resume = blob_end;
    }
    out
}

/// The comment after a key on its line, if any.
fn line_comment(rest: &[u8]) -> Option<String> {
    // A comment is separated from the blob by blanks; inside a quoted string it ends at the
    // closing quote or an escaped line break.
    if !matches!(rest.first(), Some(b' ' | b'\t')) {
        return None;
    }
    let eol = rest
        .iter()
        .position(|&b| matches!(b, b'\n' | b'\r' | b'"' | b'\\'))
        .unwrap_or(rest.len());
    let c = String::from_utf8_lossy(&rest[..eol]).trim().to_string();
    (!c.is_empty() && c.len() <= 1024).then_some(c)
}

/// Reads an RFC 4716 block starting at `start`; returns where it ends and the key.
fn rfc4716(text: &[u8], start: usize) -> Option<(usize, Result<ParsedKey, ParseError>)> {
    let body_start = start + RFC4716_BEGIN.len();
    let end_rel = memchr::memmem::find(&text[body_start..], RFC4716_END.as_bytes())?;
    let body = String::from_utf8_lossy(&text[body_start..body_start + end_rel]);
    let end = body_start + end_rel + RFC4716_END.len();
    let mut b64 = String::new();
    let mut comment = None;
    let mut continued = false;
    for line in body.lines() {
        let line = line.trim();
        if continued {
            continued = line.ends_with('\\');
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("Comment") {
                let v = value.trim().trim_end_matches('\\').trim();
                comment = Some(v.trim_matches('"').to_string());
            }
            continued = line.ends_with('\\');
            continue;
        }
        b64.push_str(line);
    }
    let result = B64
        .decode(b64.as_bytes())
        .map_err(|_| err("SSH2 public key: bad base64"))
        .and_then(|blob| parse_public_blob(&blob, "ssh"))
        .map(|mut k| {
            k.info.comment = comment.filter(|c| !c.is_empty());
            k
        });
    Some((end, result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_keys_in_prose() {
        let text = b"use ssh-agent and ssh-add; ecdsa-sha2-nistp256 is a name. sk- prefix\n\
            ssh-rsa AAAAB3NzaC1yc2E... user@host (elided example)";
        assert!(find_public_keys(text).is_empty());
        assert!(find_public_keys(b"").is_empty());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_openssh_private(b"openssh-key-v1\0\0\0").is_err());
        assert!(parse_openssh_private(b"").is_err());
        assert!(
            parse_putty(b"PuTTY-User-Key-File-3: ssh-rsa\nPublic-Lines: 99999999999\n").is_err()
        );
        let bad = find_public_keys(
            b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA x\n",
        );
        assert_eq!(bad.len(), 1);
        assert!(bad[0].1.is_err());
    }
}
