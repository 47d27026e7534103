//! Raw ClientHello probes for legacy protocol versions (SSL 3.0, TLS 1.0, TLS 1.1), which
//! rustls does not speak. Written by hand because no maintained crate sends a hello for a
//! version it refuses to implement: the probe builds one ClientHello offering only that
//! version (with every cipher suite the suite probes know) and reads at most the first
//! 11 bytes of the answer: a record header and the ServerHello's handshake header and
//! version. The server accepts the version when it answers with a ServerHello for it; an
//! alert, a close, a reset or another version is a refusal.

use super::dial::Dial;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

/// The legacy versions probed, oldest first: (wire version, name).
pub const LEGACY: &[(u16, &str)] = &[(0x0300, "SSLv3"), (0x0301, "TLSv1.0"), (0x0302, "TLSv1.1")];

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A ServerHello for the version offered.
    Accepted,
    /// An alert, a close, a reset, or a ServerHello for another version.
    Refused,
    /// No answer within the time, or the connection failed: unknown.
    Unknown(String),
}

/// The ClientHello record offering only `version`, with SNI when `sni` is a name: every
/// suite of [`super::enumerate::TLS12_SUITES`] (NULL, EXPORT, anonymous, RC4 and DES
/// included, so a server that kept only those still answers), built by
/// [`super::enumerate::client_hello_for`].
pub fn client_hello(version: u16, sni: Option<&str>) -> Vec<u8> {
    let suites: Vec<u16> = super::enumerate::TLS12_SUITES.iter().map(|s| s.0).collect();
    super::enumerate::client_hello_for(version, &suites, super::enumerate::TLS12_GROUPS, sni)
}

/// Reads the answer to a hello for `version`: at most 11 bytes, within `deadline`.
pub fn read_answer(stream: &mut impl Read, version: u16) -> Answer {
    let mut buf = [0u8; 11];
    let mut got = 0;
    while got < buf.len() {
        match stream.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                ) =>
            {
                return Answer::Unknown("no answer in time".into());
            }
            Err(_) => return Answer::Refused,
        }
        // An alert or anything not a handshake record is known from its first byte.
        if buf[0] != 0x16 {
            return Answer::Refused;
        }
    }
    if got < buf.len() {
        return Answer::Refused;
    }
    // [0x16, record version (2), length (2), handshake type, length (3), server version (2)]
    if buf[5] == 0x02 && u16::from_be_bytes([buf[9], buf[10]]) == version {
        Answer::Accepted
    } else {
        Answer::Refused
    }
}

/// Offers `version` alone to `addr` (reached as `dial` says: rate limit, STARTTLS) and
/// reads the answer, within the timeout for the connection and again for the rest.
pub fn probe(dial: &Dial<'_>, addr: SocketAddr, version: u16, sni: Option<&str>) -> Answer {
    let (mut s, deadline) = match dial.open(addr) {
        Ok(s) => s,
        Err(e) => return Answer::Unknown(e),
    };
    let _ = s.set_write_timeout(Some(dial.timeout));
    if s.write_all(&client_hello(version, sni)).is_err() {
        return Answer::Refused;
    }
    let mut timed = Deadline {
        stream: &mut s,
        deadline,
    };
    let a = read_answer(&mut timed, version);
    let _ = s.shutdown(std::net::Shutdown::Both);
    a
}

/// Reads with the time left until one deadline.
pub(crate) struct Deadline<'a> {
    pub(crate) stream: &'a mut TcpStream,
    pub(crate) deadline: Instant,
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hello_is_framed_and_names_the_version() {
        let h = client_hello(0x0301, Some("svc.test"));
        assert_eq!(&h[..3], &[0x16, 0x03, 0x01]);
        assert_eq!(u16::from_be_bytes([h[3], h[4]]) as usize, h.len() - 5);
        assert_eq!(h[5], 1);
        assert_eq!(&h[9..11], &[0x03, 0x01]);
        assert!(h.windows(8).any(|w| w == b"svc.test"));
        // SSL 3.0: no extensions, record version 3.0.
        let h = client_hello(0x0300, Some("svc.test"));
        assert_eq!(&h[1..3], &[0x03, 0x00]);
        assert!(!h.windows(8).any(|w| w == b"svc.test"));
    }

    #[test]
    fn answers_are_read_from_at_most_eleven_bytes() {
        let hello = |v: [u8; 2]| {
            let mut b = vec![
                0x16, 0x03, 0x01, 0x00, 0x40, 0x02, 0x00, 0x00, 0x3c, v[0], v[1],
            ];
            b.extend(std::iter::repeat_n(0u8, 1 << 20));
            b
        };
        let mut r = std::io::Cursor::new(hello([3, 1]));
        assert_eq!(read_answer(&mut r, 0x0301), Answer::Accepted);
        assert_eq!(r.position(), 11);
        let mut r = std::io::Cursor::new(hello([3, 3]));
        assert_eq!(read_answer(&mut r, 0x0301), Answer::Refused);
        // An alert (protocol_version).
        let mut r = std::io::Cursor::new(vec![0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]);
        assert_eq!(read_answer(&mut r, 0x0301), Answer::Refused);
        assert_eq!(r.position(), 7);
        // A close before a whole header.
        let mut r = std::io::Cursor::new(vec![0x16, 0x03]);
        assert_eq!(read_answer(&mut r, 0x0302), Answer::Refused);
    }
}
