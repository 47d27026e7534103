//! trustmap-discover: finds cryptographic material and parses it into the model.
//!
//! Data flows one way: a [`source::Source`] (the file tree of [`walk`], an
//! [`source::Archive`] in memory; later endpoints, clusters, images) hands bytes to the
//! scanner ([`scan`]), which runs one prefilter over them and calls the parsers ([`pem`],
//! [`x509`], [`keys`], [`ssh`], [`keystore`], [`secrets`], [`k8s`]) only around candidates.
//! Parsers return [`Found`] values; sources yield them, located, with errors and owner hints,
//! into a [`source::Sink`]. The driver of a scan (the engine) feeds them to an
//! [`inventory::Inventory`], which deduplicates them into assets and derives relations and
//! owners.

#![forbid(unsafe_code)]

pub mod archive;
pub mod config;
pub mod der;
pub mod inventory;
pub mod k8s;
pub mod keys;
pub mod keystore;
pub mod lint;
pub mod literal;
pub mod owners;
pub mod pem;
pub mod scan;
pub mod secrets;
pub mod source;
pub mod ssh;
pub mod timing;
pub mod tls;
pub mod unlock;
pub mod walk;
pub mod x509;

use trustmap_core::{
    AssetKind, CertificateInfo, EndpointInfo, KeyInfo, KeystoreInfo, Occurrence, Owner,
    RelationType, SecretInfo,
};

/// What a parser found, before deduplication into an [`trustmap_core::Asset`].
#[derive(Debug, Clone)]
pub struct Found {
    pub kind: AssetKind,
    /// `sha256:` + hex of the identity bytes (see docs/ARCHITECTURE.md, "The model").
    pub fingerprint: String,
    pub detail: Detail,
    /// Where: parsers fill line, offset and container; the scanner fills the path.
    pub occurrence: Occurrence,
    /// Entries of a keystore or bundle (`contains`), the chain an endpoint serves: each
    /// becomes an asset, related to this one as its [`Found::link`] says.
    pub children: Vec<Found>,
    /// How the parent of this item relates to it: `contains` (keystore entries), `serves`
    /// (an endpoint's leaf certificate); `None`: no relation (the intermediates an endpoint
    /// sends are assets with a place under it, linked to the leaf by `issued-by`).
    pub link: Option<RelationType>,
    /// Owners stated next to the material (Kubernetes labels); CODEOWNERS is applied later.
    pub owners: Vec<Owner>,
    /// For the scan's second chance ([`unlock`]): a locked keystore's bytes, or a plaintext
    /// password-like secret. The inventory ignores it.
    pub unlock: Option<Box<unlock::Unlock>>,
}

impl Found {
    /// Sets the source root of this place and of every child's.
    pub fn set_root(&mut self, root: &str) {
        self.occurrence.root = Some(root.to_string());
        for c in &mut self.children {
            c.set_root(root);
        }
    }

    /// A found item with no children and no owners yet.
    pub fn new(
        kind: AssetKind,
        fingerprint: String,
        detail: Detail,
        occurrence: Occurrence,
    ) -> Self {
        Found {
            kind,
            fingerprint,
            detail,
            occurrence,
            children: Vec::new(),
            link: Some(RelationType::Contains),
            owners: Vec::new(),
            unlock: None,
        }
    }
}

/// The parsed facts of a [`Found`].
#[derive(Debug, Clone)]
pub enum Detail {
    /// A certificate and its DER (kept to verify `issued-by` signatures). Shared: a
    /// certificate seen in many places (the same CA in every bundle) is parsed once and
    /// each place's found item points at that parse (deep copies and their frees were 3-4%
    /// of a scan of the real-repository tree, BENCHMARKS.md).
    Certificate(std::sync::Arc<CertificateInfo>, std::sync::Arc<[u8]>),
    /// A private or public key (the kind says which).
    Key(KeyInfo),
    Secret(SecretInfo),
    Keystore(KeystoreInfo),
    /// Software whose configuration names key material (`config`); the engine resolves its
    /// references after the walk.
    Consumer(trustmap_core::ConsumerInfo),
    /// What a TLS handshake showed ([`tls`]); the served chain is in the children.
    Endpoint(Box<EndpointInfo>),
}

/// A parse failure of one piece of material; the scan reports it and goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(msg: impl Into<String>) -> Self {
        ParseError(msg.into())
    }
}

/// A key parsed from any format: its facts and the bytes that identify it.
///
/// `Debug` leaves out `identity`: for a private key whose public half cannot be derived it
/// is the key itself.
#[derive(Clone)]
pub struct ParsedKey {
    pub info: KeyInfo,
    /// SPKI DER of the public half when derivable; else the encoded key bytes.
    pub identity: Vec<u8>,
    /// True for private keys, false for public keys.
    pub private: bool,
}

impl std::fmt::Debug for ParsedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedKey")
            .field("info", &self.info)
            .field("identity", &format_args!("<{} bytes>", self.identity.len()))
            .field("private", &self.private)
            .finish()
    }
}

impl ParsedKey {
    /// Turns the key into a [`Found`] at `occurrence`.
    pub fn into_found(self, occurrence: Occurrence) -> Found {
        let kind = if self.private {
            AssetKind::PrivateKey
        } else {
            AssetKind::PublicKey
        };
        Found::new(
            kind,
            trustmap_core::fingerprint(&self.identity),
            Detail::Key(self.info),
            occurrence,
        )
    }
}
