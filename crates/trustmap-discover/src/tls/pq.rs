//! The hybrid post-quantum key exchange X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem, group
//! 0x11ec) for trustmap's own handshake, client side only: rustls's ring provider has no
//! ML-KEM and its aws-lc-rs provider needs a C toolchain (CMake-free but heavy) that the rest of
//! the tree avoids, so the group is assembled here from the RustCrypto `ml-kem` crate and
//! ring's X25519, the way rustls composes its own (`crypto::aws_lc_rs::pq::hybrid`).
//!
//! The client's key share is the ML-KEM-768 encapsulation key (1,184 bytes) followed by an
//! X25519 public key (32); the server answers with an ML-KEM ciphertext (1,088) followed by
//! its X25519 public key (32); the shared secret is the ML-KEM shared key followed by the
//! X25519 one (draft section 4.3, post-quantum part first for this group). The X25519 half is
//! also offered as its own key share ([`ActiveKeyExchange::hybrid_component`]), so a
//! classical-only server answers in one round trip, as browsers do.

use ml_kem::kem::{Decapsulate, KeyExport};
use ml_kem::{DecapsulationKey, MlKem768, Seed};
use ring::rand::SecureRandom;
use rustls::crypto::{ActiveKeyExchange, CompletedKeyExchange, SharedSecret, SupportedKxGroup};
use rustls::{Error, NamedGroup, ProtocolVersion};

/// ML-KEM-768's encapsulation key and ciphertext sizes (FIPS 203 table 3).
const EK_LEN: usize = 1184;
const CT_LEN: usize = 1088;
/// An X25519 public key.
const X25519_LEN: usize = 32;

/// The group, for a provider's `kx_groups`.
pub static X25519MLKEM768: &dyn SupportedKxGroup = &Hybrid;

#[derive(Debug)]
struct Hybrid;

fn classical() -> &'static dyn SupportedKxGroup {
    rustls::crypto::ring::kx_group::X25519
}

impl SupportedKxGroup for Hybrid {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let mut seed = Seed::default();
        ring::rand::SystemRandom::new()
            .fill(seed.as_mut_slice())
            .map_err(|_| Error::FailedToGetRandomBytes)?;
        let ml_kem = DecapsulationKey::<MlKem768>::from_seed(seed);
        let x25519 = classical().start()?;
        let mut pub_key = ml_kem.encapsulation_key().to_bytes().to_vec();
        debug_assert_eq!(pub_key.len(), EK_LEN);
        pub_key.extend_from_slice(x25519.pub_key());
        Ok(Box::new(Active {
            ml_kem,
            x25519,
            pub_key,
        }))
    }

    /// The server side (encapsulating to a client's key) is never used: trustmap only
    /// connects. Refused rather than computed wrongly by the trait's default.
    fn start_and_complete(&self, _client_share: &[u8]) -> Result<CompletedKeyExchange, Error> {
        Err(Error::General(
            "X25519MLKEM768 is implemented for clients only".into(),
        ))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::X25519MLKEM768
    }

    fn usable_for_version(&self, version: ProtocolVersion) -> bool {
        version == ProtocolVersion::TLSv1_3
    }
}

struct Active {
    ml_kem: DecapsulationKey<MlKem768>,
    x25519: Box<dyn ActiveKeyExchange>,
    pub_key: Vec<u8>,
}

impl ActiveKeyExchange for Active {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        if peer.len() != CT_LEN + X25519_LEN {
            return Err(Error::PeerMisbehaved(
                rustls::PeerMisbehaved::InvalidKeyShare,
            ));
        }
        let (ct, x25519_peer) = peer.split_at(CT_LEN);
        // ML-KEM decapsulation never fails on a well-sized ciphertext (implicit rejection
        // gives a random-looking key, and the handshake's Finished check then fails).
        let pq = self
            .ml_kem
            .decapsulate_slice(ct)
            .map_err(|_| Error::PeerMisbehaved(rustls::PeerMisbehaved::InvalidKeyShare))?;
        let cl = self.x25519.complete(x25519_peer)?;
        let mut secret = pq.to_vec();
        secret.extend_from_slice(cl.secret_bytes());
        Ok(SharedSecret::from(secret))
    }

    fn hybrid_component(&self) -> Option<(NamedGroup, &[u8])> {
        Some((self.x25519.group(), self.x25519.pub_key()))
    }

    fn complete_hybrid_component(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        self.x25519.complete(peer)
    }

    fn pub_key(&self) -> &[u8] {
        &self.pub_key
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519MLKEM768
    }
}

/// ring's provider with X25519MLKEM768 offered first.
pub fn provider() -> rustls::crypto::CryptoProvider {
    let mut p = rustls::crypto::ring::default_provider();
    p.kx_groups.insert(0, X25519MLKEM768);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use ml_kem::TryKeyInit;

    /// The share layout and secret order, against an encapsulation done here with the
    /// crate's public API and X25519 done by ring (the real-server check is in the CLI's TLS
    /// tests, against OpenSSL).
    #[test]
    fn the_client_share_and_secret_follow_the_draft_layout() {
        let active = X25519MLKEM768.start().unwrap();
        let share = active.pub_key().to_vec();
        assert_eq!(share.len(), EK_LEN + X25519_LEN);
        assert_eq!(active.group(), NamedGroup::X25519MLKEM768);
        let (group, x_pub) = active.hybrid_component().unwrap();
        assert_eq!(group, NamedGroup::X25519);
        assert_eq!(x_pub, &share[EK_LEN..]);

        // The server's half: encapsulate to the client's key, X25519 against its share.
        let ek = ml_kem::EncapsulationKey::<MlKem768>::new_from_slice(&share[..EK_LEN]).unwrap();
        let mut m = ml_kem::B32::default();
        ring::rand::SystemRandom::new()
            .fill(m.as_mut_slice())
            .unwrap();
        let (ct, pq_secret) = ek.encapsulate_deterministic(&m);
        let server_x = classical().start_and_complete(&share[EK_LEN..]).unwrap();
        let mut answer = ct.to_vec();
        answer.extend_from_slice(&server_x.pub_key);
        let secret = active.complete(&answer).unwrap();
        let mut want = pq_secret.to_vec();
        want.extend_from_slice(server_x.secret.secret_bytes());
        assert_eq!(secret.secret_bytes(), &want[..]);

        // A short answer is refused, not read past.
        let active = X25519MLKEM768.start().unwrap();
        assert!(active.complete(&answer[..CT_LEN]).is_err());
        // Servers are refused rather than answered wrongly.
        assert!(X25519MLKEM768.start_and_complete(&share).is_err());
    }
}
