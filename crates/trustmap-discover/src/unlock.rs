//! The second chance for locked keystores and encrypted private keys: passwords found in
//! plaintext in the scan's configuration files are tried on the keystores and keys next to
//! them, after the walk.
//!
//! During the walk the scanner cannot know a password that sits in a file it has not read
//! yet, so it marks what the second chance needs on the [`Found`] values it yields
//! ([`Found::unlock`]): a keystore no default or given password opened carries its bytes
//! ([`Locked`], at most [`MAX_LOCKED_BYTES`]), and every secret carries its plaintext and the
//! keystore file names its file mentions ([`Password`]). The driver of the scan (the engine)
//! takes them out with [`Retry::take`] before the inventory sees the values, and after the
//! walk calls [`Retry::run`]: each locked keystore is tried with at most [`MAX_ATTEMPTS`]
//! candidates, those of configurations that name its file first, then those of
//! configurations in its directory. A keystore one of them opens comes back as a new
//! [`Found`] (entries included) whose `password_in` names the configuration's place; its
//! "locked" error is withdrawn.
//!
//! Encrypted PKCS#8 keys (`ENCRYPTED PRIVATE KEY` PEM blocks, PBES2 or PKCS#12 PBE) get the
//! same second chance: one no given password opened carries its ciphertext ([`Sealed`]);
//! one a candidate opens comes back with the facts of the key inside (algorithm, size,
//! curve, SPKI hash, hence its `key-of` links) and `password_in` naming the configuration's
//! place. Its identity stays its ciphertext, as without the password, so it is the same
//! asset whether or not the password is found. OpenSSL's legacy `Proc-Type: 4,ENCRYPTED`
//! PEM keys get the same (their `DEK-Info` travels with the ciphertext). Passphrase-protected
//! OpenSSH keys are not retried: they take their facts from the public key the file itself
//! carries.
//!
//! Nothing here prints or keeps a password beyond the scan.

use std::fmt;
use std::sync::LazyLock;

use regex::bytes::Regex;
use trustmap_core::{AssetKind, KeyInfo, Occurrence, ScanError};

use crate::{Detail, Found, keystore};

/// Keystores larger than this are not kept for the second chance (they stay locked).
pub const MAX_LOCKED_BYTES: usize = 8 << 20;
/// Secrets longer than this are not password candidates.
pub const MAX_PASSWORD_LEN: usize = 128;
/// Candidate passwords tried on one locked keystore.
pub const MAX_ATTEMPTS: usize = 8;
/// Locked keystores kept per scan for the second chance.
pub const MAX_LOCKED: usize = 1024;
/// Candidate passwords kept per scan.
pub const MAX_CANDIDATES: usize = 4096;
/// Keystore file names kept per configuration file.
const MAX_REFS: usize = 16;

/// What a [`Found`] carries for the second chance. `Debug` shows no bytes and no password.
#[derive(Clone)]
pub enum Unlock {
    Locked(Locked),
    Password(Password),
    Sealed(Box<Sealed>),
}

impl fmt::Debug for Unlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unlock::Locked(l) => l.fmt(f),
            Unlock::Password(p) => p.fmt(f),
            Unlock::Sealed(k) => k.fmt(f),
        }
    }
}

impl fmt::Debug for Locked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Locked(<{} bytes>)", self.data.len())
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed(<{} bytes>)", self.der.len())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Password(<redacted>, refs {:?})", self.refs)
    }
}

/// A keystore no known password opened.
#[derive(Clone)]
pub struct Locked {
    /// The keystore's bytes.
    pub data: Vec<u8>,
    /// The error it was reported with (withdrawn if the second chance opens it).
    pub error: String,
}

/// An encrypted PKCS#8 key no known password opened.
#[derive(Clone)]
pub struct Sealed {
    /// The EncryptedPrivateKeyInfo DER; for an OpenSSL legacy key, the encrypted body.
    pub der: Vec<u8>,
    /// An OpenSSL legacy encrypted PEM key (`Proc-Type: 4,ENCRYPTED`): its label
    /// (`RSA PRIVATE KEY`...) and `DEK-Info` header; `None` for encrypted PKCS#8.
    pub legacy: Option<(String, String)>,
    /// The key's fingerprint and facts as found (sealed).
    pub fingerprint: String,
    pub info: KeyInfo,
}

/// Opens an encrypted key (`der`, whose sealed facts are `sealed`: encrypted PKCS#8, or
/// with `legacy` = (label, DEK-Info) OpenSSL's legacy PEM encryption) with the first of
/// `passwords` that does (bounded as [`keystore::open_encrypted_key`] and
/// [`keystore::open_legacy_pem`]): the facts of the key inside, with the sealed key's
/// format and encryption, and the password's index.
pub fn open_sealed(
    der: &[u8],
    sealed: &KeyInfo,
    legacy: Option<(&str, &str)>,
    passwords: &[&str],
) -> Option<(KeyInfo, usize)> {
    let (key, i) = match legacy {
        None => {
            let (plain, i) = keystore::open_encrypted_key(der, passwords)?;
            (crate::keys::parse_pkcs8(&plain, "pkcs8").ok()?, i)
        }
        Some((label, dek_info)) => {
            let parse = |plain: &[u8]| crate::keys::parse_pem_key(label, plain, &[])?.ok();
            let accept = |plain: &[u8]| parse(plain).is_some_and(|k| k.info.spki_sha256.is_some());
            let (plain, i) = keystore::open_legacy_pem(dek_info, der, passwords, accept)?;
            (parse(&plain)?, i)
        }
    };
    let mut info = key.info;
    info.spki_sha256.as_ref()?;
    info.format = sealed.format.clone();
    info.encrypted = Some(true);
    info.encryption = sealed.encryption.clone();
    info.comment = info.comment.take().or_else(|| sealed.comment.clone());
    Some((info, i))
}

/// A plaintext secret found in a file, as a candidate keystore password.
#[derive(Clone)]
pub struct Password {
    value: String,
    /// Keystore and key file names (`keystore.p12`, `tls.key`) the same file mentions.
    pub refs: Vec<String>,
}

impl Password {
    pub fn new(value: String, refs: Vec<String>) -> Password {
        Password { value, refs }
    }
}

static KEYSTORE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)[a-z0-9_.-]+\.(?:p12|pfx|jks|jceks|keystore|truststore|bcfks|key|pem|p8|pk8)\b",
    )
    .expect("static regex")
});

/// The keystore and key file names (no directories) a file mentions: `classpath:keystore.p12`,
/// `/etc/app/tls.jks` give `keystore.p12`, `tls.jks`. At most 16, in order of appearance.
pub fn keystore_refs(data: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in KEYSTORE_NAME.find_iter(data) {
        // `server.ssl.key-store`, `app.key.old`: a property name, not a file.
        if data.get(m.end()).is_some_and(|b| matches!(b, b'-' | b'.')) {
            continue;
        }
        let name = String::from_utf8_lossy(m.as_bytes()).into_owned();
        if !out.contains(&name) {
            out.push(name);
            if out.len() >= MAX_REFS {
                break;
            }
        }
    }
    out
}

/// A keystore or key opened by the second chance.
#[derive(Debug)]
pub struct Reopened {
    /// The opened keystore and its entries, or the opened key, at the locked one's place.
    pub found: Found,
    /// The "locked" error a keystore had been reported with: no longer true.
    pub withdrawn: Option<ScanError>,
    /// Entries of the opened keystore that did not parse.
    pub errors: Vec<ScanError>,
}

/// What the driver keeps from the walk for the second chance.
#[derive(Debug, Default)]
pub struct Retry {
    locked: Vec<(Occurrence, Locked)>,
    sealed: Vec<(Occurrence, Sealed)>,
    passwords: Vec<(Occurrence, Password)>,
}

impl Retry {
    /// Takes the second-chance material out of `found` (call it before the inventory gets
    /// the value); beyond [`MAX_LOCKED`] keystores, [`MAX_LOCKED`] keys and
    /// [`MAX_CANDIDATES`] passwords, the rest is dropped.
    pub fn take(&mut self, found: &mut Found) {
        match found.unlock.take().map(|u| *u) {
            Some(Unlock::Locked(l)) if self.locked.len() < MAX_LOCKED => {
                self.locked.push((found.occurrence.clone(), l));
            }
            Some(Unlock::Sealed(k)) if self.sealed.len() < MAX_LOCKED => {
                self.sealed.push((found.occurrence.clone(), *k));
            }
            Some(Unlock::Password(p)) if self.passwords.len() < MAX_CANDIDATES => {
                self.passwords.push((found.occurrence.clone(), p));
            }
            _ => {}
        }
    }

    /// Tries the candidates on each locked keystore and sealed key (at most
    /// [`MAX_ATTEMPTS`] each) and returns those that opened.
    pub fn run(mut self) -> Vec<Reopened> {
        // Deterministic order whatever order the walker's threads delivered things in.
        self.passwords
            .sort_by(|a, b| (&a.0.path, a.0.line).cmp(&(&b.0.path, b.0.line)));
        let mut out = Vec::new();
        for (occ, locked) in &self.locked {
            let tries = self.candidates(occ);
            if tries.is_empty() {
                continue;
            }
            let values: Vec<&str> = tries.iter().map(|(_, p)| p.value.as_str()).collect();
            let parsed = if locked.data.starts_with(&[0xfe, 0xed, 0xfe, 0xed])
                || locked.data.starts_with(&[0xce, 0xce, 0xce, 0xce])
            {
                keystore::parse_jks_with(&locked.data, &values)
            } else {
                keystore::parse_pkcs12_with(&locked.data, &values)
            };
            let Ok(mut ks) = parsed else { continue };
            let Some(i) = ks.opened_by else { continue };
            let at = tries[i].0;
            ks.info.password_in = Some(place(at));
            let mut errors: Vec<String> = ks.cut_short.iter().cloned().collect();
            let found = crate::scan::keystore_found(ks, &locked.data, occ.clone(), &mut errors);
            debug_assert!(matches!(found.detail, Detail::Keystore(_)));
            out.push(Reopened {
                found,
                withdrawn: Some(ScanError {
                    path: occ.path.clone(),
                    error: locked.error.clone(),
                }),
                errors: errors
                    .into_iter()
                    .map(|error| ScanError {
                        path: occ.path.clone(),
                        error,
                    })
                    .collect(),
            });
        }
        for (occ, sealed) in &self.sealed {
            let tries = self.candidates(occ);
            let values: Vec<&str> = tries.iter().map(|(_, p)| p.value.as_str()).collect();
            let legacy = sealed
                .legacy
                .as_ref()
                .map(|(l, d)| (l.as_str(), d.as_str()));
            let Some((mut info, i)) = open_sealed(&sealed.der, &sealed.info, legacy, &values)
            else {
                continue;
            };
            info.password_in = Some(place(tries[i].0));
            out.push(Reopened {
                found: Found::new(
                    AssetKind::PrivateKey,
                    sealed.fingerprint.clone(),
                    Detail::Key(info),
                    occ.clone(),
                ),
                withdrawn: None,
                errors: Vec::new(),
            });
        }
        out
    }

    /// The candidates for the keystore or key at `ks`: from files of the same root that name its
    /// file, then from files in its directory; distinct values, at most [`MAX_ATTEMPTS`].
    fn candidates(&self, ks: &Occurrence) -> Vec<(&Occurrence, &Password)> {
        let name = file_name(&ks.path);
        let dir = dir_name(&ks.path);
        let same_root = |o: &Occurrence| o.root == ks.root && o.path != ks.path;
        let names_it = |p: &Password| p.refs.iter().any(|r| r == name);
        let mut out: Vec<(&Occurrence, &Password)> = Vec::new();
        let first = self
            .passwords
            .iter()
            .filter(|(o, p)| same_root(o) && names_it(p));
        let then = self
            .passwords
            .iter()
            .filter(|(o, p)| same_root(o) && !names_it(p) && dir_name(&o.path) == dir);
        for (o, p) in first.chain(then) {
            if out.len() >= MAX_ATTEMPTS {
                break;
            }
            if !out.iter().any(|(_, q)| q.value == p.value) {
                out.push((o, p));
            }
        }
        out
    }
}

/// A configuration's place as `password_in` shows it: `path:line`.
fn place(at: &Occurrence) -> String {
    match at.line {
        Some(line) => format!("{}:{line}", at.path),
        None => at.path.clone(),
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn dir_name(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_file_names() {
        let text = b"server.ssl.key-store=classpath:keystore.p12\nb=/etc/app/TLS.JKS\nc=keystore.p12\nd=app.properties\ntls.key-password=x\ne=/srv/tls.key";
        assert_eq!(
            keystore_refs(text),
            vec!["keystore.p12", "TLS.JKS", "tls.key"]
        );
    }

    #[test]
    fn debug_shows_no_password() {
        let u = Unlock::Password(Password::new("hunter2-not-shown".into(), vec![]));
        assert!(!format!("{u:?}").contains("hunter2"));
    }

    fn occ(path: &str, line: u64) -> Occurrence {
        Occurrence {
            path: path.into(),
            line: Some(line),
            offset: None,
            container: None,
            root: Some("r".into()),
        }
    }

    #[test]
    fn sealed_keys_kept_are_bounded_and_show_no_bytes() {
        let mut r = Retry::default();
        for i in 0..MAX_LOCKED + 5 {
            let mut f = Found::new(
                AssetKind::PrivateKey,
                format!("sha256:{i}"),
                Detail::Key(KeyInfo::default()),
                occ("k.key", i as u64),
            );
            f.unlock = Some(Box::new(Unlock::Sealed(Box::new(Sealed {
                der: vec![0x30, 0],
                legacy: None,
                fingerprint: String::new(),
                info: KeyInfo::default(),
            }))));
            r.take(&mut f);
            assert!(f.unlock.is_none());
        }
        assert_eq!(r.sealed.len(), MAX_LOCKED);
        assert_eq!(format!("{:?}", r.sealed[0].1), "Sealed(<2 bytes>)");
    }

    #[test]
    fn candidates_are_bounded_referencing_first_then_same_directory() {
        let mut r = Retry::default();
        for i in 0..20 {
            r.passwords.push((
                occ("app/a.env", i),
                Password::new(format!("pw-{i}"), Vec::new()),
            ));
        }
        r.passwords.push((
            occ("elsewhere/conf.yml", 1),
            Password::new("named".into(), vec!["ks.p12".into()]),
        ));
        r.passwords.push((
            occ("elsewhere/other.yml", 1),
            Password::new("unrelated".into(), Vec::new()),
        ));
        let c = r.candidates(&occ("app/ks.p12", 0));
        assert_eq!(c.len(), MAX_ATTEMPTS);
        assert_eq!(c[0].1.value, "named");
        assert!(c.iter().all(|(_, p)| p.value != "unrelated"));
    }
}
