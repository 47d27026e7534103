//! The per-file scanner: one multi-literal prefilter over the bytes, then the parsers only
//! around candidates.
//!
//! Order of work for one file:
//! 1. container magic at offset 0 (JKS/JCEKS, PKCS#12, DER certificate/PKCS#7/key) — whole-file
//!    binary formats are recognised by content, never by name;
//! 2. one Aho-Corasick pass for material armour (PEM, base64-of-PEM, SSH and PuTTY keys, JWK);
//! 3. Kubernetes manifests: decoded `Secret` data is scanned recursively;
//! 4. the secret rules (their own keyword prefilter), minus hits inside key material.

use crate::secrets::RuleSet;
use crate::timing::{Phase, time};
use crate::unlock::Unlock;
use crate::{Detail, Found, ParseError, archive, keys, keystore, pem, ssh, x509};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use base64::Engine as _;
use std::collections::HashMap;
use std::ops::Range;
use trustmap_core::{AssetKind, KeystoreInfo, Occurrence, SecretInfo, fingerprint, redact::redact};

/// Literal markers of material other than secrets.
const MARKERS: &[&[u8]] = &[
    b"-----BEGIN ",
    // "-----BEGIN" base64-encoded at the three possible alignments.
    b"LS0tLS1CRUdJTi",
    b"0tLS0tQkVHSU4g",
    b"tLS0tLUJFR0lO",
    b"PuTTY-User-Key-File-",
    b"ssh-rsa ",
    b"ssh-dss ",
    b"ssh-ed25519 ",
    b"ssh-ed448 ",
    b"ecdsa-sha2-nistp",
    b"sk-ssh-ed25519",
    b"sk-ecdsa-sha2-",
    b"---- BEGIN SSH2 PUBLIC KEY",
    b"\"kty\"",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Marker {
    Pem,
    Base64Pem,
    Putty,
    SshPublic,
    Jwk,
}

fn marker(i: usize) -> Marker {
    match i {
        0 => Marker::Pem,
        1..=3 => Marker::Base64Pem,
        4 => Marker::Putty,
        13 => Marker::Jwk,
        _ => Marker::SshPublic,
    }
}

/// How deep decoded content (base64 inside a Secret inside ...) is followed, and how deep
/// archives nest: an archive inside three others is not opened (an error says so).
pub const MAX_DEPTH: u8 = 3;

/// Places of one asset kept per file: the same certificate 160,000 times in one file is one
/// asset with this many places, and an error entry counting the rest.
pub const MAX_PLACES_PER_FILE: usize = 1000;
/// Error entries kept per file; one more entry counts the rest.
pub const MAX_ERRORS_PER_FILE: usize = 100;
/// Distinct PEM blocks whose parse is remembered per file (by SHA-256 of label, headers and
/// DER), so a block repeated a million times is parsed once.
const MAX_CACHED_BLOCKS: usize = 4096;
/// Distinct PEM blocks whose parse the scanner shares across files and threads (the same
/// certificate in many files: copies of a repository, vendored CA bundles), and the DER bytes
/// they may add up to; past either bound blocks are parsed per file as before.
const MAX_SHARED_BLOCKS: usize = 8192;
const MAX_SHARED_BYTES: usize = 16 << 20;
/// Bytes a part of a large file shares with the next part ([`Scanner::scan_part`]): more
/// than a PEM block may span, so a block that starts before the overlap ends inside its
/// part, and whatever starts in the overlap is left to the next part.
pub const PART_OVERLAP: usize = pem::MAX_BLOCK + (1 << 20);

/// The most bytes a PuTTY key file is read for (its `Private-MAC:` line must be within).
const MAX_PUTTY: usize = 64 << 10;

/// What one file (or one part of a large file) yielded.
#[derive(Debug, Default)]
pub struct FileResult {
    pub found: Vec<Found>,
    /// Errors in this file (truncated PEM, unreadable keystore...): the scan goes on.
    pub errors: Vec<String>,
}

/// One file's scan, carried across the parts of a large file: where the next part starts
/// (offset and line), the PEM blocks already parsed, the places kept per asset and the
/// errors kept, so bounds hold per file and nothing in an overlap is reported twice.
pub struct FileScan {
    path: String,
    /// File offset of the next part's first byte.
    offset: usize,
    /// Newlines before the next part.
    lines_before: u64,
    first_part: bool,
    cache: HashMap<[u8; 32], Cached>,
    /// Places kept so far per asset (kind and fingerprint), and places dropped beyond
    /// [`MAX_PLACES_PER_FILE`].
    places: HashMap<(AssetKind, String), (usize, u64)>,
    errors_kept: usize,
    errors_dropped: u64,
    /// Truncated PEM blocks of labels trustmap does not read, counted for one error.
    unread_truncated: u64,
    unread_labels: Vec<String>,
}

/// A PEM block's parse, remembered for its repeats in the same file.
#[derive(Clone)]
enum Cached {
    Found(Box<Found>),
    Error(String),
    Nothing,
}

impl FileScan {
    /// A new scan of the file at `path` (root-relative, forward slashes).
    pub fn new(path: &str) -> FileScan {
        FileScan {
            path: path.to_string(),
            offset: 0,
            lines_before: 0,
            first_part: true,
            cache: HashMap::new(),
            places: HashMap::new(),
            errors_kept: 0,
            errors_dropped: 0,
            unread_truncated: 0,
            unread_labels: Vec::new(),
        }
    }

    /// The errors that summarise what the per-file bounds dropped; call once, at the end.
    pub fn finish(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        let mut capped: Vec<_> = self
            .places
            .iter()
            .filter(|(_, (_, dropped))| *dropped > 0)
            .collect();
        capped.sort_by(|a, b| a.0.cmp(b.0));
        for ((kind, fp), (kept, dropped)) in capped {
            out.push(format!(
                "{} {fp} seen {} times in this file; only the first {kept} places are listed \
                 (at most {MAX_PLACES_PER_FILE} per file)",
                kind.as_str(),
                *kept as u64 + dropped
            ));
        }
        if self.unread_truncated > 0 {
            out.push(format!(
                "{} PEM blocks with labels trustmap does not read ({}) have no END line; skipped",
                self.unread_truncated,
                self.unread_labels.join(", ")
            ));
        }
        if self.errors_dropped > 0 {
            out.push(format!(
                "{} more errors in this file not listed (at most {MAX_ERRORS_PER_FILE} are)",
                self.errors_dropped
            ));
        }
        self.places.clear();
        self.errors_dropped = 0;
        self.unread_truncated = 0;
        out
    }
}

/// The scanner: built once, shared by every walker thread.
pub struct Scanner {
    markers: AhoCorasick,
    secrets: RuleSet,
    /// Keystore passwords the user gave, tried after the defaults. Never shown.
    passwords: Vec<String>,
    /// The key secrets' fingerprints are made with (see [`SecretKey`]).
    secret_key: SecretKey,
    /// Trust anchors (certificate DER) that sources verifying chains themselves (TLS
    /// endpoints) check against: the system store and the policy's bundles, from the engine.
    trust_anchors: std::sync::Arc<Vec<Vec<u8>>>,
    /// PEM block parses shared across files (see [`MAX_SHARED_BLOCKS`]).
    shared: std::sync::Mutex<SharedBlocks>,
}

/// The parses of PEM blocks seen so far in any file, by [`block_key`].
#[derive(Default)]
struct SharedBlocks {
    parsed: HashMap<[u8; 32], Cached>,
    bytes: usize,
}

impl SharedBlocks {
    /// Remembers a block's parse within [`MAX_SHARED_BLOCKS`] and [`MAX_SHARED_BYTES`];
    /// false when a bound keeps it out.
    fn admit(&mut self, key: [u8; 32], parsed: &Cached, der_len: usize) -> bool {
        if self.parsed.len() >= MAX_SHARED_BLOCKS || self.bytes + der_len > MAX_SHARED_BYTES {
            return false;
        }
        self.bytes += der_len;
        self.parsed.insert(key, parsed.clone());
        true
    }
}

/// The key of secrets' fingerprints: a secret's fingerprint is `sha256:` + hex of
/// `HMAC-SHA256(key, SHA-256(value))`, never the plain hash of its value, which would be a
/// ready verifier for a guessed password. An inventory keeps one key (so the same secret
/// keeps one identity across its scans; the engine passes it in); a scanner made without
/// one uses a random key of its own, so fingerprints of a run without a store match
/// nothing outside that run. Its `Debug` shows nothing of the key.
#[derive(Clone)]
pub struct SecretKey(KeyMode);

#[derive(Clone)]
enum KeyMode {
    Hmac(ring::hmac::Key),
    /// The value's SHA-256 itself ([`SecretKey::digest_only`]).
    Digest,
}

impl SecretKey {
    pub fn new(key: &[u8]) -> SecretKey {
        SecretKey(KeyMode::Hmac(ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            key,
        )))
    }

    /// A random key from the operating system's random source.
    pub fn random() -> SecretKey {
        let rng = ring::rand::SystemRandom::new();
        SecretKey(KeyMode::Hmac(
            ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &rng)
                .expect("the operating system's random source works"),
        ))
    }

    /// No key: a secret's "fingerprint" is `sha256:` + hex of its value's SHA-256, the input
    /// of the inventory's HMAC. Only for a scan pushed to a server (`scan --push`), which
    /// keys each digest with its inventory's key on receipt and stores only that; such a
    /// report is never written or printed (the plain digest is a verifier for a guess).
    pub fn digest_only() -> SecretKey {
        SecretKey(KeyMode::Digest)
    }

    /// The fingerprint of a secret `value`.
    pub fn fingerprint(&self, value: &[u8]) -> String {
        let digest = <sha2::Sha256 as sha2::Digest>::digest(value);
        match &self.0 {
            KeyMode::Hmac(k) => format!(
                "sha256:{}",
                hex::encode(ring::hmac::sign(k, &digest).as_ref())
            ),
            KeyMode::Digest => format!("sha256:{}", hex::encode(digest)),
        }
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl Scanner {
    pub fn new(secrets: RuleSet) -> Scanner {
        let markers = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(MARKERS)
            .expect("static markers build");
        Scanner {
            markers,
            secrets,
            passwords: Vec::new(),
            secret_key: SecretKey::random(),
            trust_anchors: Default::default(),
            shared: Default::default(),
        }
    }

    /// The trust anchors (certificate DER) sources that verify chains check against.
    pub fn with_trust_anchors(mut self, anchors: Vec<Vec<u8>>) -> Scanner {
        self.trust_anchors = std::sync::Arc::new(anchors);
        self
    }

    /// See [`Scanner::with_trust_anchors`].
    pub fn trust_anchors(&self) -> &[Vec<u8>] {
        &self.trust_anchors
    }

    /// The key secrets' fingerprints are made with (the inventory's); without one, a random
    /// key of this scanner's.
    pub fn set_secret_key(&mut self, key: SecretKey) {
        self.secret_key = key;
    }

    /// Keystore passwords to try after the defaults (`--keystore-password`); at most
    /// [`keystore::MAX_EXTRA`] are used. A keystore one of them opens is not locked, and its
    /// `opened_with` stays empty: given passwords are never shown or stored. They are tried
    /// on encrypted PKCS#8 keys too (`ENCRYPTED PRIVATE KEY`), whose facts then are known.
    pub fn with_keystore_passwords(mut self, passwords: Vec<String>) -> Scanner {
        self.passwords = passwords;
        // Parses made with other passwords are not this scanner's.
        self.shared = Default::default();
        self
    }

    fn given(&self) -> Vec<&str> {
        self.passwords.iter().map(String::as_str).collect()
    }

    pub fn secrets(&self) -> &RuleSet {
        &self.secrets
    }

    /// Scans one file's bytes. `path` is root-relative with forward slashes.
    pub fn scan_file(&self, path: &str, data: &[u8]) -> FileResult {
        let mut file = FileScan::new(path);
        let (mut out, _) = self.scan_part(&mut file, data, true);
        out.errors.extend(file.finish());
        out
    }

    /// Scans one part of a large file read in parts: `data` starts where the previous part's
    /// returned count of bytes ended (so it repeats that part's last [`PART_OVERLAP`] bytes),
    /// and `last` says it ends the file. Material and errors that start in the overlap of a
    /// part that is not the last are left to the next part, so nothing is reported twice and
    /// nothing is cut by a part boundary; offsets and lines are the file's. Returns what the
    /// part yielded and how many bytes of `data` the next part need not repeat. Call
    /// [`FileScan::finish`] after the last part. A part that is not the last must be longer
    /// than [`PART_OVERLAP`].
    pub fn scan_part(&self, file: &mut FileScan, data: &[u8], last: bool) -> (FileResult, usize) {
        let accept_before = if last {
            data.len()
        } else {
            data.len().saturating_sub(PART_OVERLAP).max(1)
        };
        let mut out = FileResult::default();
        let first = file.first_part;
        let path = file.path.clone();
        {
            let mut ctx = Ctx {
                path: &path,
                lines: LineIndex::new(data),
                out: &mut out,
                member: None,
                binary: is_binary(data),
                file: &mut *file,
                accept_before,
                kept: 0,
            };
            self.scan(&mut ctx, data, 0, None, 0, first, !last);
        }
        file.first_part = false;
        file.lines_before += memchr::memchr_iter(b'\n', &data[..accept_before]).count() as u64;
        file.offset += accept_before;
        (out, accept_before)
    }

    /// Scans `data`, which sits at `base` in the file (or is decoded from the file at `base`
    /// when `route` is given).
    /// `in_file`: `data` is the file itself (or its first part), not decoded or inflated
    /// content; `partial`: it is only a part of the file, read in parts.
    #[allow(clippy::too_many_arguments)]
    fn scan(
        &self,
        ctx: &mut Ctx<'_, '_>,
        data: &[u8],
        base: usize,
        route: Option<&str>,
        depth: u8,
        in_file: bool,
        partial: bool,
    ) {
        // Whole-file formats (archives, keystores, DER) are recognised at the start of the
        // file only; a file read in parts is too large for them (one error says so).
        let whole = !partial && (in_file || route.is_some());
        if whole && let Some(kind) = archive::kind(data) {
            if depth < MAX_DEPTH {
                self.archive(ctx, data, base, route, depth, kind);
                return;
            }
            // Not opened; its bytes are still scanned as they are (stored members show).
            ctx.error(
                base,
                &format!(
                    "{}archive nested more than {MAX_DEPTH} levels deep: not opened",
                    route.map(|r| format!("{r}: ")).unwrap_or_default()
                ),
            );
        }
        if partial && in_file {
            if let Some(kind) = archive::kind(data) {
                ctx.error(
                    0,
                    &format!(
                        "{kind:?} archive larger than {} MiB: members not read (its bytes are \
                         scanned as they are)",
                        crate::walk::CHUNK >> 20
                    ),
                );
            } else if let Some(what) = crate::der::container_shape(data) {
                ctx.error(
                    0,
                    &format!(
                        "{what} larger than {} MiB: not parsed",
                        crate::walk::CHUNK >> 20
                    ),
                );
            }
        }
        if whole && time(Phase::Parse, || self.whole_file(ctx, data, base, route)) {
            return;
        }
        // Kubernetes objects: their base64 entries are decoded by the manifest pass with a
        // precise route, so the generic base64 detection skips them.
        let manifest = if in_file && !partial && depth == 0 && crate::k8s::looks_like_manifest(data)
        {
            let m = time(Phase::Manifests, || crate::k8s::manifest(data, true));
            for (at, why) in &m.skipped {
                ctx.error(base + at, why);
            }
            m
        } else {
            crate::k8s::Manifest::default()
        };
        let mut objects = manifest.objects;
        let decoded_ranges: Vec<Range<usize>> = objects
            .iter()
            .flat_map(|o| {
                o.entries
                    .iter()
                    .filter(|e| e.decoded.is_some())
                    .map(|e| e.range.clone())
            })
            .collect();
        // Byte ranges holding key material, excluded from secret matches.
        let mut material: Vec<Range<usize>> = decoded_ranges.clone();
        let mut ssh_done = false;
        let mut jwk_done = false;
        let mut pos = 0;
        while let Some(m) = self.markers.find(&data[pos..]) {
            let at = pos + m.start();
            pos += m.end();
            match marker(m.pattern().as_usize()) {
                Marker::Pem => match pem::decode_at(data, at) {
                    Ok(block) => {
                        let n = block.end;
                        time(Phase::Parse, || self.pem_block(ctx, &block, base, route));
                        material.push(at..n);
                        pos = n;
                    }
                    Err(e) => {
                        if !e.label.is_empty() && interesting_label(&e.label) {
                            ctx.armour_error(base + at, &e.message);
                        } else if e.message.starts_with("truncated")
                            && !ctx.binary
                            && ctx.mine(base + at)
                            && e.label != "PGP SIGNED MESSAGE"
                        {
                            let f = &mut *ctx.file;
                            f.unread_truncated += 1;
                            if f.unread_labels.len() < 4 && !f.unread_labels.contains(&e.label) {
                                f.unread_labels.push(e.label.clone());
                            }
                        }
                        pos = pos.max(e.resume.min(data.len()));
                    }
                },
                Marker::Base64Pem
                    if depth < MAX_DEPTH && !decoded_ranges.iter().any(|r| r.contains(&at)) =>
                {
                    // Where the marker sits in its 4-character group: "-----BEGIN" encoded
                    // from a group's first, second or third byte.
                    let phase = [0, 0, 2, 3][m.pattern().as_usize()];
                    let (start, end) = base64_token(data, at, phase);
                    if let Some(decoded) = decode_b64(&data[start..end]) {
                        let r = join_route(route, "base64");
                        let before = ctx.kept;
                        self.scan(
                            ctx,
                            &decoded,
                            base + start,
                            Some(&r),
                            depth + 1,
                            false,
                            false,
                        );
                        if ctx.kept > before {
                            material.push(start..end);
                        }
                    }
                    pos = pos.max(end);
                }
                Marker::Putty if at == 0 || data[at - 1] == b'\n' => {
                    // A PuTTY key is a few KB: its MAC line is looked for nearby only, so a
                    // file of key headers without MACs costs linear time.
                    let near = &data[at..data.len().min(at + MAX_PUTTY)];
                    let end = memchr::memmem::find(near, b"Private-MAC:")
                        .and_then(|i| memchr::memchr(b'\n', &data[at + i..]).map(|j| at + i + j))
                        .unwrap_or(at + near.len());
                    match time(Phase::Parse, || ssh::parse_putty(&data[at..end])) {
                        Ok(k) => {
                            let o = ctx.occ(base + at, true, route);
                            ctx.push(k.into_found(o))
                        }
                        Err(e) => ctx.armour_error(base + at, &format!("PuTTY key: {e}")),
                    }
                    material.push(at..end);
                    pos = pos.max(end);
                }
                Marker::SshPublic if !ssh_done => {
                    ssh_done = true;
                    for (off, r) in time(Phase::Parse, || ssh::find_public_keys(data)) {
                        match r {
                            Ok(k) => {
                                let o = ctx.occ(base + off, true, route);
                                ctx.push(k.into_found(o))
                            }
                            Err(e) => ctx.armour_error(base + off, &format!("SSH public key: {e}")),
                        }
                    }
                }
                Marker::Jwk if !jwk_done => {
                    jwk_done = true;
                    time(Phase::Parse, || self.jwks(ctx, data, base, route));
                }
                _ => {}
            }
        }
        // The ConfigMaps left unparsed matter only where something was found in them: one
        // sort of the finds' offsets, then a binary search per document (a file may hold
        // thousands of each).
        let wanted: Vec<Range<usize>> = if manifest.deferred.is_empty() {
            Vec::new()
        } else {
            let mut at: Vec<usize> = (ctx.out.found.iter())
                .filter_map(|f| f.occurrence.offset.map(|o| o as usize))
                .collect();
            at.sort_unstable();
            (manifest.deferred.into_iter())
                .filter(|r| {
                    at.get(at.partition_point(|&o| o < r.start))
                        .is_some_and(|&o| o < r.end)
                })
                .collect()
        };
        if !wanted.is_empty() {
            time(Phase::Manifests, || {
                objects.extend(crate::k8s::objects_of(data, &wanted));
                objects.sort_by_key(|o| o.range.start);
            });
        }
        if !objects.is_empty() {
            time(Phase::Manifests, || self.kubernetes(ctx, &objects, depth));
        }
        let scope = ctx.member.clone().unwrap_or_else(|| ctx.path.to_string());
        let mut refs: Option<Vec<String>> = None;
        let secrets = time(Phase::Secrets, || self.secrets.scan_bounded(data, &scope));
        // Configurations: the secrets pass also saw whether a configuration's words occur.
        if in_file && !partial && depth == 0 && !ctx.binary && ctx.member.is_none() {
            time(Phase::Configs, || {
                self.consumers(ctx, data, secrets.config_markers)
            });
        }
        if let Some(at) = secrets.cut_short {
            ctx.error(
                base + at,
                &format!(
                    "secret rules stopped here: over {} candidate matches in this content; the rest was not searched",
                    crate::secrets::MAX_MATCHES
                ),
            );
        }
        for m in secrets.matches {
            if material
                .iter()
                .any(|r| r.start <= m.start && m.end <= r.end)
            {
                continue;
            }
            let value = m.value;
            let info = SecretInfo {
                rule: m.rule,
                provider: m.provider,
                redacted: redact(&value),
            };
            let occ = ctx.occ(base + m.start, true, route);
            let mut f = Found::new(
                AssetKind::Secret,
                self.secret_key.fingerprint(value.as_bytes()),
                Detail::Secret(info),
                occ,
            );
            // A candidate password for the locked keystores of the scan (see `unlock`).
            if value.len() <= crate::unlock::MAX_PASSWORD_LEN {
                let refs = refs
                    .get_or_insert_with(|| crate::unlock::keystore_refs(data))
                    .clone();
                f.unlock = Some(Box::new(Unlock::Password(crate::unlock::Password::new(
                    value, refs,
                ))));
            }
            ctx.push(f);
        }
    }

    /// Archive members, each scanned as a file of its own.
    fn archive(
        &self,
        ctx: &mut Ctx<'_, '_>,
        data: &[u8],
        base: usize,
        route: Option<&str>,
        depth: u8,
        kind: archive::Kind,
    ) {
        let outer = ctx.member.take();
        let result = archive::for_each_member(kind, data, |format, name, bytes| {
            let r = join_route(route, &format!("{format} entry '{name}'"));
            ctx.member = Some(name.to_string());
            self.scan(ctx, bytes, base, Some(&r), depth + 1, false, false);
        });
        ctx.member = outer;
        match result {
            Ok(errors) => {
                for e in errors {
                    ctx.error(base, &e);
                }
            }
            Err(e) => ctx.error(base, &e),
        }
    }

    /// Whole-file binary formats recognised by magic. True when the bytes were one of them.
    fn whole_file(
        &self,
        ctx: &mut Ctx<'_, '_>,
        data: &[u8],
        base: usize,
        route: Option<&str>,
    ) -> bool {
        // Binary containers have no lines, unless decoded from a line of a text file.
        let has_line = route.is_some();
        if data.len() >= 4
            && (data[..4] == [0xfe, 0xed, 0xfe, 0xed] || data[..4] == [0xce, 0xce, 0xce, 0xce])
        {
            let r = keystore::parse_jks_with(data, &self.given());
            self.keystore(ctx, data, base, route, r, "Java keystore");
            return true;
        }
        if data.first() != Some(&0x30) {
            return false;
        }
        if !crate::der::is_single_sequence(data) {
            // A keystore or certificate cut short (or with bytes lost): say so, or it would
            // vanish without a trace.
            if let (Some(what), Some((hdr, len))) =
                (crate::der::container_shape(data), crate::der::header(data))
                && hdr + len != data.len()
            {
                let r = route.map(|r| format!("{r}: ")).unwrap_or_default();
                ctx.error(
                    base,
                    &format!(
                        "{r}{what} is truncated or damaged: its header declares {} bytes, there are {}",
                        hdr + len,
                        data.len()
                    ),
                );
                return true;
            }
            return false;
        }
        if keystore::looks_like_pkcs12(data) {
            let r = keystore::parse_pkcs12_with(data, &self.given());
            self.keystore(ctx, data, base, route, r, "PKCS#12");
            return true;
        }
        if let Some(certs) = x509::pkcs7_certificates(data) {
            for (i, der) in certs.into_iter().enumerate() {
                let r = join_route(route, &format!("PKCS#7 certificate {}", i + 1));
                match x509::found(der, ctx.occ(base, has_line, Some(&r))) {
                    Ok(f) => ctx.push(f),
                    Err(e) => ctx.error(base, &format!("{r}: {e}")),
                }
            }
            return true;
        }
        if let Ok(f) = x509::found(data, ctx.occ(base, has_line, route.or(Some("DER")))) {
            ctx.push(f);
            return true;
        }
        if let Some(mut k) = keys::parse_der_key(data) {
            let o = ctx.occ(base, has_line, route.or(Some("DER")));
            // An encrypted PKCS#8 key in DER (`.p8`, `.pk8`): the user's passwords now, the
            // ones found beside it after the walk, as for its PEM form.
            let sealed =
                k.info.format.as_deref() == Some("pkcs8-encrypted") && k.info.spki_sha256.is_none();
            if sealed
                && !self.passwords.is_empty()
                && let Some((info, _)) =
                    crate::unlock::open_sealed(data, &k.info, None, &self.given())
            {
                k.info = info;
            }
            let mut f = k.into_found(o);
            if let Detail::Key(info) = &f.detail
                && sealed
                && info.spki_sha256.is_none()
                && data.len() <= crate::unlock::MAX_LOCKED_BYTES
            {
                f.unlock = Some(Box::new(Unlock::Sealed(Box::new(crate::unlock::Sealed {
                    der: data.to_vec(),
                    legacy: None,
                    fingerprint: f.fingerprint.clone(),
                    info: info.clone(),
                }))));
            }
            ctx.push(f);
            return true;
        }
        // Shaped like a certificate but not one: damaged bytes inside.
        if let Some(what) = crate::der::container_shape(data) {
            let why = match x509::parse_certificate(data) {
                Err(e) => e.to_string(),
                Ok(_) => "not readable".to_string(),
            };
            let r = route.map(|r| format!("{r}: ")).unwrap_or_default();
            ctx.error(base, &format!("{r}{what} does not parse: {why}"));
            return true;
        }
        false
    }

    fn keystore(
        &self,
        ctx: &mut Ctx<'_, '_>,
        data: &[u8],
        base: usize,
        route: Option<&str>,
        parsed: Result<keystore::ParsedKeystore, ParseError>,
        what: &str,
    ) {
        // Binary containers have no lines, unless decoded from a line of a text file.
        let has_line = route.is_some();
        let ks = match parsed {
            Ok(ks) => ks,
            Err(e) => {
                ctx.error(base, &format!("{what}: {e}"));
                return;
            }
        };
        let locked = ks.info.locked;
        if let Some(why) = &ks.cut_short {
            ctx.error(base, &format!("{what}: {why}"));
        }
        let occ = ctx.occ(base, has_line, route);
        let mut errors = Vec::new();
        let mut container = keystore_found(ks, data, occ, &mut errors);
        for e in errors {
            ctx.error(base, &e);
        }
        if locked {
            let text = ctx.error_text(base, &format!("{what}: {LOCKED}"));
            ctx.out.errors.push(text.clone());
            if data.len() <= crate::unlock::MAX_LOCKED_BYTES {
                container.unlock = Some(Box::new(Unlock::Locked(crate::unlock::Locked {
                    data: data.to_vec(),
                    error: text,
                })));
            }
        }
        ctx.push(container);
    }

    fn pem_block(
        &self,
        ctx: &mut Ctx<'_, '_>,
        block: &pem::PemBlock,
        base: usize,
        route: Option<&str>,
    ) {
        let at = base + block.start;
        if !ctx.mine(at) {
            return; // in the overlap: the next part reads it
        }
        if matches!(block.label.as_str(), "PKCS7" | "CMS") {
            return self.pkcs7_block(ctx, block, at, route);
        }
        // Each distinct block is parsed once per file; its repeats reuse the parse.
        let key = block_key(block);
        let cached = match ctx.file.cache.get(&key) {
            Some(c) => c.clone(),
            None => {
                let c = self.parse_shared(block, key);
                if ctx.file.cache.len() < MAX_CACHED_BLOCKS {
                    ctx.file.cache.insert(key, c.clone());
                }
                c
            }
        };
        match cached {
            Cached::Found(f) => {
                if ctx.over_cap(f.kind, &f.fingerprint) {
                    ctx.kept += 1;
                    return;
                }
                let mut f = *f;
                f.occurrence = ctx.occ(at, true, route);
                // Still sealed: kept for the second chance (see `unlock`).
                let legacy = legacy_encryption(block);
                if (block.label == "ENCRYPTED PRIVATE KEY" || legacy.is_some())
                    && block.der.len() <= crate::unlock::MAX_LOCKED_BYTES
                    && let Detail::Key(info) = &f.detail
                    && info.spki_sha256.is_none()
                {
                    f.unlock = Some(Box::new(Unlock::Sealed(Box::new(crate::unlock::Sealed {
                        der: block.der.clone(),
                        legacy,
                        fingerprint: f.fingerprint.clone(),
                        info: info.clone(),
                    }))));
                }
                ctx.kept += 1;
                ctx.out.found.push(f);
            }
            Cached::Error(e) => ctx.error(at, &e),
            Cached::Nothing => {}
        }
    }

    /// [`Scanner::parse_pem_block`] through the parses shared across files. The lock is
    /// held for a lookup or an insert, never during a parse (two threads may parse the same
    /// new block at once; both get the same answer).
    fn parse_shared(&self, block: &pem::PemBlock, key: [u8; 32]) -> Cached {
        let shared = || self.shared.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = shared().parsed.get(&key) {
            return c.clone();
        }
        let c = self.parse_pem_block(block);
        shared().admit(key, &c, block.der.len());
        c
    }

    /// A certificate or key block, parsed, with no place yet.
    fn parse_pem_block(&self, block: &pem::PemBlock) -> Cached {
        let nowhere = Occurrence {
            path: String::new(),
            line: None,
            offset: None,
            container: None,
            root: None,
        };
        match block.label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                // TRUSTED CERTIFICATE appends OpenSSL trust settings after the certificate.
                let der = crate::der::read(&block.der).map_or(&block.der[..], |(t, _)| t.raw);
                match x509::found(der, nowhere) {
                    Ok(f) => Cached::Found(Box::new(f)),
                    Err(e) => Cached::Error(e.to_string()),
                }
            }
            label => match keys::parse_pem_key(label, &block.der, &block.headers) {
                Some(Ok(mut k)) => {
                    // The user's --keystore-password values open encrypted PKCS#8 keys too
                    // (never shown: nothing says which one did). Its identity stays the
                    // ciphertext, as when sealed.
                    let legacy = legacy_encryption(block);
                    if (label == "ENCRYPTED PRIVATE KEY" || legacy.is_some())
                        && k.info.spki_sha256.is_none()
                        && !self.passwords.is_empty()
                        && let Some((info, _)) = crate::unlock::open_sealed(
                            &block.der,
                            &k.info,
                            legacy.as_ref().map(|(l, d)| (l.as_str(), d.as_str())),
                            &self.given(),
                        )
                    {
                        k.info = info;
                    }
                    Cached::Found(Box::new(k.into_found(nowhere)))
                }
                Some(Err(e)) => Cached::Error(format!("{label}: {e}")),
                None => Cached::Nothing,
            },
        }
    }

    fn pkcs7_block(
        &self,
        ctx: &mut Ctx<'_, '_>,
        block: &pem::PemBlock,
        at: usize,
        route: Option<&str>,
    ) {
        match x509::pkcs7_certificates(&block.der) {
            Some(certs) => {
                for (i, der) in certs.into_iter().enumerate() {
                    let r = join_route(route, &format!("PKCS#7 certificate {}", i + 1));
                    match x509::found(der, ctx.occ(at, true, Some(&r))) {
                        Ok(f) => ctx.push(f),
                        Err(e) => ctx.error(at, &format!("{r}: {e}")),
                    }
                }
            }
            None => ctx.error(at, "PKCS7 block is not a SignedData with certificates"),
        }
    }

    fn jwks(&self, ctx: &mut Ctx<'_, '_>, data: &[u8], base: usize, route: Option<&str>) {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
            return;
        };
        let mut stack = vec![(&v, String::new())];
        while let Some((v, r)) = stack.pop() {
            match v {
                serde_json::Value::Object(map) => {
                    if map.contains_key("kty") {
                        if let Some(k) = keys::parse_jwk(v) {
                            let route = join_route(route, if r.is_empty() { "JWK" } else { &r });
                            let off = map
                                .get("kid")
                                .and_then(|k| k.as_str())
                                .and_then(|kid| memchr::memmem::find(data, kid.as_bytes()))
                                .unwrap_or(0);
                            let o = ctx.occ(base + off, true, Some(&route));
                            ctx.push(k.into_found(o));
                        }
                    } else {
                        for (k, child) in map {
                            let p = if r.is_empty() {
                                format!("JSON field {k}")
                            } else {
                                format!("{r}.{k}")
                            };
                            stack.push((child, p));
                        }
                    }
                }
                serde_json::Value::Array(items) => {
                    for (i, child) in items.iter().enumerate() {
                        stack.push((child, format!("{r}[{i}]")));
                    }
                }
                _ => {}
            }
        }
    }

    fn kubernetes(&self, ctx: &mut Ctx<'_, '_>, objects: &[crate::k8s::Object], depth: u8) {
        // Material found in place inside an object: label its route and owners. Objects
        // and entries are looked up by binary search over their start offsets.
        let mut entries: Vec<(usize, &crate::k8s::Entry)> = objects
            .iter()
            .enumerate()
            .flat_map(|(i, o)| o.entries.iter().map(move |e| (i, e)))
            .collect();
        entries.sort_by_key(|(i, e)| (e.range.start, *i));
        for f in ctx.out.found.iter_mut() {
            let Some(off) = f.occurrence.offset.map(|o| o as usize) else {
                continue;
            };
            let Some(oi) = containing(objects, |o| &o.range, off) else {
                continue;
            };
            let obj = &objects[oi];
            for o in &obj.owners {
                if !f.owners.contains(o) {
                    f.owners.push(o.clone());
                }
            }
            if f.occurrence.container.is_none()
                && let Some(ei) = containing_in(&entries, oi, off)
            {
                f.occurrence.container = Some(format!("{} {}", label(obj), entries[ei].1.route));
            }
        }
        // Consumers of all the objects of one file, within the per-file bound of
        // configurations (a List of thousands of Pods).
        let mut consumers = 0usize;
        for obj in objects {
            if consumers >= crate::config::MAX_CONSUMERS && !obj.consumers.consumers.is_empty() {
                if consumers == crate::config::MAX_CONSUMERS {
                    ctx.error(
                        obj.range.start,
                        &format!(
                            "more than {} consumers in one file: the rest are not read",
                            crate::config::MAX_CONSUMERS
                        ),
                    );
                    consumers += 1;
                }
            } else if ctx.member.is_none()
                && !(obj.consumers.consumers.is_empty() && obj.consumers.errors.is_empty())
            {
                consumers += obj.consumers.consumers.len();
                let before = ctx.out.found.len();
                emit_consumers(ctx, obj.consumers.clone());
                for f in &mut ctx.out.found[before..] {
                    f.owners.extend(obj.owners.iter().cloned());
                }
            }
            for e in &obj.entries {
                let Some(decoded) = &e.decoded else { continue };
                let before = ctx.out.found.len();
                let kept = ctx.kept;
                // The object's kind, namespace and name lead the route: the engine resolves
                // a workload's Secret reference by them (`trustmap_engine::consumers`).
                let r = format!("{} {}, base64", label(obj), e.route);
                self.scan(
                    ctx,
                    decoded,
                    e.range.start,
                    Some(&r),
                    depth + 1,
                    false,
                    false,
                );
                if ctx.kept == kept
                    && obj.kind == "Secret"
                    && let Some(f) = secret_data_value(&self.secret_key, &e.route, decoded)
                {
                    let occ = ctx.occ(e.range.start, true, Some(&r));
                    ctx.push(Found::new(AssetKind::Secret, f.0, Detail::Secret(f.1), occ));
                }
                for f in &mut ctx.out.found[before..] {
                    f.occurrence.line = e.line.or(f.occurrence.line);
                    for o in &obj.owners {
                        if !f.owners.contains(o) {
                            f.owners.push(o.clone());
                        }
                    }
                }
            }
        }
    }
}

/// `Secret payments/payments-tls`: how a place inside a Kubernetes object starts its route.
fn label(obj: &crate::k8s::Object) -> String {
    format!("{} {}/{}", obj.kind, obj.namespace, obj.name)
}

/// The first of `items` (in order of non-decreasing start) whose range holds `off`.
fn containing<T>(items: &[T], range: impl Fn(&T) -> &Range<usize>, off: usize) -> Option<usize> {
    let n = items.partition_point(|t| range(t).start <= off);
    // Ranges that start at the same offset are alike (a List's items that could not be told
    // apart): the first of them wins; a range that starts earlier may still hold `off`.
    (0..n)
        .rev()
        .take(64)
        .filter(|&i| range(&items[i]).contains(&off))
        .min()
}

/// The first entry of object `obj` whose range holds `off` (`entries` sorted by start).
fn containing_in(entries: &[(usize, &crate::k8s::Entry)], obj: usize, off: usize) -> Option<usize> {
    let n = entries.partition_point(|(_, e)| e.range.start <= off);
    (0..n)
        .rev()
        .take(64)
        .filter(|&i| entries[i].0 == obj && entries[i].1.range.contains(&off))
        .min()
}

/// A sealed private key with the identity and facts of the public key of `cert_der`, the
/// certificate its keystore entry pairs it with; its format and protection stay its own.
fn unsealed(k: crate::ParsedKey, cert_der: &[u8]) -> crate::ParsedKey {
    let Some(spki) = x509::spki_der(cert_der) else {
        return k;
    };
    match keys::key_from_spki(spki, "", true, true) {
        Ok(mut pk) => {
            pk.info.format = k.info.format;
            pk.info.encrypted = k.info.encrypted;
            pk.info.encryption = k.info.encryption;
            pk.info.public_key_from = Some("the certificate of its keystore entry".into());
            pk
        }
        Err(_) => k,
    }
}

/// A Kubernetes Secret's data value is a credential when its key says so (`password`,
/// `token`, `api-key`...) and it is not a placeholder: base64 in a manifest is not
/// protection. Returns its fingerprint and redacted facts.
fn secret_data_value(
    secret_key: &SecretKey,
    route: &str,
    value: &[u8],
) -> Option<(String, SecretInfo)> {
    const CREDENTIAL_WORDS: &[&str] = &[
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "apikey",
        "api-key",
        "api_key",
        "credential",
        "auth",
        "private",
        "access-key",
        "access_key",
        "accesskey",
        "pass",
    ];
    let key = route
        .rsplit('.')
        .next()
        .unwrap_or(route)
        .to_ascii_lowercase();
    let text = std::str::from_utf8(value).ok()?.trim();
    let credential = CREDENTIAL_WORDS.iter().any(|w| key.contains(w));
    if !credential
        || text.len() < 4
        || text.contains('\n')
        || crate::secrets::is_placeholder(text.as_bytes())
    {
        return None;
    }
    Some((
        secret_key.fingerprint(text.as_bytes()),
        SecretInfo {
            rule: "kubernetes-secret-data".into(),
            provider: "Kubernetes".into(),
            redacted: redact(text),
        },
    ))
}

/// The error a locked keystore is reported with (after the format and place).
pub const LOCKED: &str = "locked: no known password opens it; pass --keystore-password";

/// A parsed keystore as a [`Found`] container at `occ`, its entries as children (routes
/// `keystore entry 'alias'` under `occ`'s container). Entry certificates that do not parse
/// are described in `errors`.
pub(crate) fn keystore_found(
    ks: keystore::ParsedKeystore,
    data: &[u8],
    occ: Occurrence,
    errors: &mut Vec<String>,
) -> Found {
    let route = occ.container.clone();
    let at = |container: String| Occurrence {
        container: Some(container),
        ..occ.clone()
    };
    let mut container = Found::new(
        AssetKind::Keystore,
        fingerprint(data),
        Detail::Keystore(KeystoreInfo { ..ks.info }),
        occ.clone(),
    );
    for entry in ks.entries {
        let r = join_route(
            route.as_deref(),
            &format!("keystore entry '{}'", entry.alias),
        );
        for (i, der) in entry.certificates.iter().enumerate() {
            let rr = if i == 0 {
                r.clone()
            } else {
                format!("{r}, chain {}", i + 1)
            };
            match x509::found(der, at(rr.clone())) {
                Ok(f) => container.children.push(f),
                Err(e) => errors.push(format!("{rr}: {e}")),
            }
        }
        // A key sealed in the entry takes its public half from the entry's certificate
        // (the keystore binds them); with neither, it is listed among the container's
        // aliases, not as an asset: its only identity would be ciphertext.
        let key = entry.key.map(|k| match entry.certificates.first() {
            Some(cert) if k.info.spki_sha256.is_none() => unsealed(k, cert),
            _ => k,
        });
        if let Some(k) =
            key.filter(|k| k.info.spki_sha256.is_some() || !k.info.encrypted.unwrap_or(false))
        {
            container.children.push(k.into_found(at(r.clone())));
        }
    }
    container
}

/// Labels whose broken blocks are worth an error (not CSRs, CRLs, PGP armour...).
fn interesting_label(label: &str) -> bool {
    label.contains("CERTIFICATE") && !label.contains("REQUEST")
        || label.contains("PRIVATE KEY")
        || label == "PKCS7"
}

/// The label and `DEK-Info` of an OpenSSL legacy encrypted key block (`Proc-Type:
/// 4,ENCRYPTED`), for the second chance.
fn legacy_encryption(block: &pem::PemBlock) -> Option<(String, String)> {
    let header = |name: &str| {
        block
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let encrypted = header("Proc-Type")?
        .to_ascii_uppercase()
        .contains("ENCRYPTED");
    let dek = header("DEK-Info")?;
    (encrypted && block.label.ends_with("PRIVATE KEY")).then(|| (block.label.clone(), dek))
}

/// The cache key of a PEM block: SHA-256 of its label, headers and decoded body.
fn block_key(block: &pem::PemBlock) -> [u8; 32] {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(block.label.as_bytes());
    for (k, v) in &block.headers {
        h.update([0]);
        h.update(k.as_bytes());
        h.update([1]);
        h.update(v.as_bytes());
    }
    h.update([2]);
    h.update(&block.der);
    h.finalize().into()
}

fn join_route(route: Option<&str>, more: &str) -> String {
    match route {
        Some(r) => format!("{r}, {more}"),
        None => more.to_string(),
    }
}

/// The extent of the base64 token around `at`, a marker `phase` characters into its group.
fn base64_token(data: &[u8], at: usize, phase: usize) -> (usize, usize) {
    let is = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
    // Going back, `=` ends the token: it is padding, only ever at the end (`KEY=LS0t...`).
    // The token starts on a group boundary; a name glued to the value (`CERTLS0t...`) only
    // costs a few garbage bytes in front of the decoded PEM.
    let s = data[..at]
        .iter()
        .rposition(|&b| !(b.is_ascii_alphanumeric() || b == b'+' || b == b'/'))
        .map_or(0, |i| i + 1);
    let group = at - phase.min(at - s);
    let start = s + (group - s) % 4;
    let end = data[at..]
        .iter()
        .position(|&b| !is(b))
        .map_or(data.len(), |i| at + i);
    (start, end)
}

fn decode_b64(token: &[u8]) -> Option<Vec<u8>> {
    let e = &base64::engine::general_purpose::STANDARD;
    e.decode(token).ok().or_else(|| {
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(token.strip_suffix(b"=").unwrap_or(token))
            .ok()
    })
}

/// Line numbers of byte offsets with flat memory: the newline count at every
/// [`LINE_STRIDE`]-byte checkpoint (built on first use, one pass), then a count within one
/// stride from the checkpoint or from the previous query, whichever is nearer. Queries in
/// increasing order (the usual case) cost a linear pass in all.
pub(crate) struct LineIndex<'a> {
    data: &'a [u8],
    checkpoints: Option<Vec<u64>>,
    /// The last query: offset and its 0-based line.
    cursor: (usize, u64),
}

const LINE_STRIDE: usize = 4096;

impl<'a> LineIndex<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        LineIndex {
            data,
            checkpoints: None,
            cursor: (0, 0),
        }
    }

    /// The 1-based line of byte `offset`.
    pub(crate) fn line(&mut self, offset: usize) -> u64 {
        let data = self.data;
        let offset = offset.min(data.len());
        let cp = self.checkpoints.get_or_insert_with(|| {
            let mut v = Vec::with_capacity(data.len() / LINE_STRIDE + 1);
            let mut n = 0u64;
            for chunk in data.chunks(LINE_STRIDE) {
                v.push(n);
                n += memchr::memchr_iter(b'\n', chunk).count() as u64;
            }
            v.push(n);
            v
        });
        let block = offset / LINE_STRIDE;
        let (from, base) = if self.cursor.0 <= offset && self.cursor.0 >= block * LINE_STRIDE {
            self.cursor
        } else {
            (block * LINE_STRIDE, cp[block])
        };
        let line = base + memchr::memchr_iter(b'\n', &data[from..offset]).count() as u64;
        self.cursor = (offset, line);
        line + 1
    }
}

impl Scanner {
    /// The consumers a configuration file defines (`config`), as found items whose
    /// references are not resolved yet (the engine resolves them after the walk).
    fn consumers(&self, ctx: &mut Ctx<'_, '_>, data: &[u8], marked: bool) {
        emit_consumers(ctx, crate::config::consumers_marked(ctx.path, data, marked));
    }
}

/// Found items for the consumers (and errors) of a configuration or a manifest.
fn emit_consumers(ctx: &mut Ctx<'_, '_>, parsed: crate::config::Parsed) {
    for (at, msg) in parsed.errors {
        ctx.error(at, &msg);
    }
    for c in parsed.consumers {
        let identity = format!("consumer\n{}\n{}\n{}", c.software, ctx.path, c.name);
        let references = c
            .references
            .into_iter()
            .map(|r| trustmap_core::Reference {
                directive: r.directive,
                value: r.value,
                line: Some(ctx.line(r.offset)),
                resolution: String::new(),
                files: Vec::new(),
            })
            .collect();
        let occ = ctx.occ(c.offset, true, None);
        ctx.push(Found::new(
            AssetKind::Consumer,
            trustmap_core::fingerprint(identity.as_bytes()),
            Detail::Consumer(trustmap_core::ConsumerInfo {
                software: c.software.to_string(),
                name: c.name,
                references,
                attributes: c.attributes.into_iter().collect(),
            }),
            occ,
        ));
    }
}

struct Ctx<'p, 'o> {
    path: &'p str,
    lines: LineIndex<'p>,
    out: &'o mut FileResult,
    /// Inside an archive: the member's name (path-scoped secret rules look at it), and no
    /// line numbers, which would point into the member, not the file.
    member: Option<String>,
    /// The file is binary (an executable, a library): armour in it is reported only when it
    /// decodes, since programs hold PEM and SSH header strings as constants.
    binary: bool,
    /// The file's state across parts: where this part starts, caches and per-file bounds.
    file: &'o mut FileScan,
    /// Offsets in this part at or past this are in the overlap: left to the next part.
    accept_before: usize,
    /// Found items handed to `push` (kept or dropped by a per-file bound): "did this
    /// decoded content hold material?"
    kept: usize,
}

/// Binary, as git and ripgrep decide it: a NUL byte in the first 8 KiB.
fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(8192)]).is_some()
}

impl Ctx<'_, '_> {
    /// An occurrence at part offset `offset` (for decoded content, the offset of its
    /// source). `has_line` is false for material in binary files, which have no lines.
    fn occ(&mut self, offset: usize, has_line: bool, route: Option<&str>) -> Occurrence {
        Occurrence {
            path: self.path.to_string(),
            line: (has_line && self.member.is_none()).then(|| self.line(offset)),
            offset: Some((self.file.offset + offset) as u64),
            container: route.map(str::to_string),
            // The source that walks the file sets its root.
            root: None,
        }
    }
    fn line(&mut self, offset: usize) -> u64 {
        self.file.lines_before + self.lines.line(offset)
    }
    /// True when `offset` (in this part) belongs to this part, not to the next one's.
    fn mine(&self, offset: usize) -> bool {
        offset < self.accept_before
    }
    /// Keeps a found item, unless it starts in the overlap (the next part reports it) or
    /// its asset already has [`MAX_PLACES_PER_FILE`] places in this file (counted).
    fn push(&mut self, f: Found) {
        let at = f.occurrence.offset.map_or(0, |o| o as usize);
        if !self.mine(at.saturating_sub(self.file.offset)) {
            return;
        }
        self.kept += 1;
        if self.over_cap(f.kind, &f.fingerprint) {
            return;
        }
        self.out.found.push(f);
    }
    /// Counts a place of the asset; true when the file already has enough of them.
    fn over_cap(&mut self, kind: AssetKind, fingerprint: &str) -> bool {
        let key = (kind, fingerprint.to_string());
        let slot = self.file.places.entry(key).or_insert((0, 0));
        if slot.0 >= MAX_PLACES_PER_FILE {
            slot.1 += 1;
            true
        } else {
            slot.0 += 1;
            false
        }
    }
    /// An error in text armour (a PEM block, an SSH or PuTTY key) that did not decode:
    /// dropped in binary files, where such text is a program's constant, not material.
    fn armour_error(&mut self, offset: usize, msg: &str) {
        if !self.binary {
            self.error(offset, msg);
        }
    }
    fn error(&mut self, offset: usize, msg: &str) {
        if !self.mine(offset) {
            return;
        }
        if self.file.errors_kept >= MAX_ERRORS_PER_FILE {
            self.file.errors_dropped += 1;
            return;
        }
        self.file.errors_kept += 1;
        let text = self.error_text(offset, msg);
        self.out.errors.push(text);
    }
    fn error_text(&mut self, offset: usize, msg: &str) -> String {
        let line = self.line(offset);
        format!("line {line}: {msg}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: usize) -> [u8; 32] {
        let mut k = [0u8; 32];
        k[..8].copy_from_slice(&(i as u64).to_le_bytes());
        k
    }

    #[test]
    fn shared_parses_are_bounded_in_count_and_bytes() {
        let mut s = SharedBlocks::default();
        for i in 0..MAX_SHARED_BLOCKS {
            assert!(s.admit(key(i), &Cached::Nothing, 1));
        }
        assert!(!s.admit(key(MAX_SHARED_BLOCKS), &Cached::Nothing, 1));
        assert_eq!(s.parsed.len(), MAX_SHARED_BLOCKS);

        let mut s = SharedBlocks::default();
        assert!(s.admit(key(0), &Cached::Nothing, MAX_SHARED_BYTES - 10));
        assert!(!s.admit(key(1), &Cached::Nothing, 11));
        assert!(s.admit(key(2), &Cached::Nothing, 10));
        assert_eq!((s.parsed.len(), s.bytes), (2, MAX_SHARED_BYTES));
    }

    #[test]
    fn a_block_shared_across_files_keeps_each_file_s_place() {
        let cert = rcgen::generate_simple_self_signed(vec!["shared.example".into()]).unwrap();
        let pem = cert.cert.pem();
        let scanner = Scanner::new(RuleSet::builtin());
        let a = scanner.scan_file("a/ca.pem", pem.as_bytes());
        let b = scanner.scan_file("b/ca.pem", format!("# copy\n\n{pem}").as_bytes());
        assert_eq!(scanner.shared.lock().unwrap().parsed.len(), 1);
        assert_eq!((a.found.len(), b.found.len()), (1, 1));
        assert_eq!(a.found[0].fingerprint, b.found[0].fingerprint);
        assert_eq!(a.found[0].occurrence.path, "a/ca.pem");
        assert_eq!(b.found[0].occurrence.path, "b/ca.pem");
        assert_eq!(
            (a.found[0].occurrence.line, b.found[0].occurrence.line),
            (Some(1), Some(3))
        );
    }

    /// A ConfigMap is parsed only when something is found in it (`k8s::Manifest::deferred`);
    /// then what is found there carries the object's route and owners as before.
    #[test]
    fn material_in_a_config_map_is_labelled_by_it() {
        let cert = rcgen::generate_simple_self_signed(vec!["cm.example".into()]).unwrap();
        let body = cert.cert.pem().trim_end().replace('\n', "\n    ");
        let map = |name: &str, team: &str, data: &str| {
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: shop\n  labels:\n    team: {team}\ndata:\n{data}"
            )
        };
        let with_cert = format!("  other: x\n  ca.crt: |\n    {body}\n");
        // Empty, with the certificate, empty, with it again: only the second and the fourth
        // are parsed, and each place is labelled by its own.
        let text = [
            map("empty", "idle", "  a: b\n"),
            map("ca", "payments", &with_cert),
            map("empty2", "idle", "  a: b\n"),
            map("ca2", "ops", &with_cert),
        ]
        .join("---\n");
        let r = Scanner::new(RuleSet::builtin()).scan_file("k8s/cm.yaml", text.as_bytes());
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let got: Vec<(Option<&str>, Option<u64>, Vec<&str>)> = r
            .found
            .iter()
            .map(|f| {
                (
                    f.occurrence.container.as_deref(),
                    f.occurrence.line,
                    f.owners.iter().map(|o| o.name.as_str()).collect(),
                )
            })
            .collect();
        // The BEGIN lines, counted in the text.
        let begins: Vec<u64> = text
            .match_indices("-----BEGIN")
            .map(|(at, _)| text[..at].matches('\n').count() as u64 + 1)
            .collect();
        let (second, fourth) = (begins[0], begins[1]);
        assert_eq!(
            got,
            [
                (
                    Some("ConfigMap shop/ca data.ca.crt"),
                    Some(second),
                    vec!["payments"]
                ),
                (
                    Some("ConfigMap shop/ca2 data.ca.crt"),
                    Some(fourth),
                    vec!["ops"]
                ),
            ]
        );
    }
}
