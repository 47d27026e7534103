//! The plaintext preamble before a STARTTLS handshake: SMTP (`EHLO`, `STARTTLS`), IMAP
//! (`STARTTLS`), POP3 (`STLS`), LDAP (the StartTLS extended operation) and PostgreSQL (the
//! SSLRequest). Hand-written: each is a few lines of a well-known exchange, and the crates
//! that speak these protocols (lettre, async-imap, ldap3, tokio-postgres) bring their own
//! TLS stacks and runtimes to do it, where this needs the bare socket handed to rustls and
//! to the raw probes.
//!
//! The server is hostile: every line is at most [`MAX_LINE`] bytes, the whole preamble at
//! most [`MAX_LINES`] lines (an LDAP answer at most [`MAX_LDAP_REPLY`] bytes), and every
//! read and write gets the time left until the caller's deadline (the handshake's: one
//! timeout covers preamble and handshake, so a server dripping its greeting cannot stretch
//! it). Nothing past the server's last answer is read, so the next byte on the socket is
//! the first of its TLS answer. A server that refuses says so in the error, with its answer
//! (at most [`SHOWN`] characters, control characters replaced).

use super::target::Starttls;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// Bytes of one line of a greeting or reply (SMTP allows 512; some banners are longer).
pub const MAX_LINE: usize = 1024;
/// Lines read in one preamble (a greeting, the EHLO capabilities, the answers).
pub const MAX_LINES: usize = 64;
/// Bytes of the LDAP ExtendedResponse read.
pub const MAX_LDAP_REPLY: usize = 4096;
/// Characters of a server's answer shown in an error.
pub const SHOWN: usize = 120;

/// The name the SMTP client greets with (`.invalid` is reserved: it names nobody).
const EHLO_NAME: &str = "trustmap.invalid";

/// Speaks `proto`'s preamble on `stream` until the server is ready for a ClientHello, all
/// before `deadline`.
pub fn negotiate(stream: &TcpStream, proto: Starttls, deadline: Instant) -> Result<(), String> {
    let mut c = Conv {
        stream,
        deadline,
        buf: Vec::new(),
        lines: 0,
        read: 0,
    };
    match proto {
        Starttls::Smtp => smtp(&mut c),
        Starttls::Imap => imap(&mut c),
        Starttls::Pop3 => pop3(&mut c),
        Starttls::Ldap => ldap(&mut c),
        Starttls::Postgres => postgres(&mut c),
    }
    .map_err(|e| format!("STARTTLS ({}): {e}", proto.scheme()))
}

/// One conversation: the socket, the deadline, what was read and not yet consumed.
struct Conv<'a> {
    stream: &'a TcpStream,
    deadline: Instant,
    buf: Vec<u8>,
    lines: usize,
    read: usize,
}

impl Conv<'_> {
    fn left(&self) -> Result<std::time::Duration, String> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.timed_out());
        }
        Ok(left)
    }

    fn timed_out(&self) -> String {
        format!(
            "timed out before the server was ready for TLS ({} bytes received)",
            self.read
        )
    }

    fn send(&mut self, data: &[u8]) -> Result<(), String> {
        let left = self.left()?;
        let _ = self.stream.set_write_timeout(Some(left));
        (&mut &*self.stream)
            .write_all(data)
            .map_err(|e| self.io(&e))
    }

    fn io(&self, e: &std::io::Error) -> String {
        use std::io::ErrorKind::*;
        match e.kind() {
            TimedOut | WouldBlock => self.timed_out(),
            _ => format!("{e} (after {} bytes)", self.read),
        }
    }

    /// Reads at most `want` more bytes into the buffer (at least one).
    fn fill(&mut self, want: usize) -> Result<(), String> {
        let left = self.left()?;
        let _ = self.stream.set_read_timeout(Some(left));
        let mut chunk = [0u8; 512];
        let n = want.clamp(1, chunk.len());
        let got = (&mut &*self.stream)
            .read(&mut chunk[..n])
            .map_err(|e| self.io(&e))?;
        if got == 0 {
            return Err(format!(
                "the server closed the connection before it was ready for TLS (after {} bytes)",
                self.read
            ));
        }
        self.read += got;
        self.buf.extend_from_slice(&chunk[..got]);
        Ok(())
    }

    /// The next line, without its CR LF; at most [`MAX_LINE`] bytes, at most [`MAX_LINES`]
    /// a conversation. Bytes are read one at a time once a line is under way, so nothing
    /// past the line's end is consumed.
    fn line(&mut self) -> Result<String, String> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                if i + 1 > MAX_LINE {
                    break;
                }
                let raw: Vec<u8> = self.buf.drain(..=i).collect();
                self.lines += 1;
                if self.lines > MAX_LINES {
                    return Err(format!(
                        "the server sent more than {MAX_LINES} lines before it was ready for TLS"
                    ));
                }
                let text = String::from_utf8_lossy(&raw);
                return Ok(text.trim_end_matches(['\r', '\n']).to_string());
            }
            if self.buf.len() >= MAX_LINE {
                break;
            }
            // One byte at a time: a server's answer is a few lines, and the byte after the
            // last one belongs to TLS.
            self.fill(1)?;
        }
        Err(format!(
            "the server sent a line longer than {MAX_LINE} bytes"
        ))
    }

    /// Exactly `n` bytes.
    fn exact(&mut self, n: usize) -> Result<Vec<u8>, String> {
        while self.buf.len() < n {
            let want = n - self.buf.len();
            self.fill(want)?;
        }
        Ok(self.buf.drain(..n).collect())
    }
}

/// A server's answer as shown in an error: at most [`SHOWN`] characters, control
/// characters as `?`.
pub fn shown(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(SHOWN)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > SHOWN {
        out.push_str("...");
    }
    format!("{out:?}")
}

/// An SMTP reply: its code and its lines (`250-...` continues, `250 ...` ends).
fn smtp_reply(c: &mut Conv<'_>) -> Result<(u16, Vec<String>), String> {
    let mut lines = Vec::new();
    loop {
        let l = c.line()?;
        let code = l
            .get(..3)
            .and_then(|d| d.parse::<u16>().ok())
            .ok_or_else(|| format!("not an SMTP reply: {}", shown(&l)))?;
        let more = l.as_bytes().get(3) == Some(&b'-');
        lines.push(l);
        if !more {
            return Ok((code, lines));
        }
    }
}

fn smtp(c: &mut Conv<'_>) -> Result<(), String> {
    let (code, greeting) = smtp_reply(c)?;
    if code != 220 {
        return Err(format!(
            "the server's greeting is not 220: {}",
            shown(&greeting.join(" "))
        ));
    }
    c.send(format!("EHLO {EHLO_NAME}\r\n").as_bytes())?;
    let (code, ehlo) = smtp_reply(c)?;
    if code != 250 {
        return Err(format!("EHLO refused: {}", shown(&ehlo.join(" "))));
    }
    let offered = ehlo.iter().skip(1).any(|l| {
        l.get(4..)
            .is_some_and(|k| k.eq_ignore_ascii_case("STARTTLS"))
    });
    c.send(b"STARTTLS\r\n")?;
    let (code, answer) = smtp_reply(c)?;
    if code != 220 {
        return Err(format!(
            "the server refused STARTTLS{}: {}",
            if offered {
                ""
            } else {
                " (its EHLO does not offer it)"
            },
            shown(&answer.join(" "))
        ));
    }
    Ok(())
}

fn imap(c: &mut Conv<'_>) -> Result<(), String> {
    let greeting = c.line()?;
    if !(greeting.starts_with("* OK") || greeting.starts_with("* PREAUTH")) {
        return Err(format!("not an IMAP greeting: {}", shown(&greeting)));
    }
    c.send(b"tm1 STARTTLS\r\n")?;
    loop {
        let l = c.line()?;
        // Untagged lines (a CAPABILITY) may come first.
        if let Some(status) = l.strip_prefix("tm1 ") {
            if status.len() >= 2 && status[..2].eq_ignore_ascii_case("OK") {
                return Ok(());
            }
            return Err(format!("the server refused STARTTLS: {}", shown(&l)));
        }
        if !l.starts_with('*') {
            return Err(format!("not an IMAP answer: {}", shown(&l)));
        }
    }
}

fn pop3(c: &mut Conv<'_>) -> Result<(), String> {
    let greeting = c.line()?;
    if !greeting.starts_with("+OK") {
        return Err(format!("not a POP3 greeting: {}", shown(&greeting)));
    }
    c.send(b"STLS\r\n")?;
    let l = c.line()?;
    if !l.starts_with("+OK") {
        return Err(format!("the server refused STLS: {}", shown(&l)));
    }
    Ok(())
}

/// The StartTLS ExtendedRequest (RFC 4511 4.14.1), message id 1.
const LDAP_STARTTLS: &[u8] = b"\x30\x1d\x02\x01\x01\x77\x18\x80\x161.3.6.1.4.1.1466.20037";

fn ldap(c: &mut Conv<'_>) -> Result<(), String> {
    c.send(LDAP_STARTTLS)?;
    // LDAPMessage ::= SEQUENCE { messageID, protocolOp ExtendedResponse [APPLICATION 24]
    // { resultCode ENUMERATED, ... } }: read its header, then exactly its length.
    let head = c.exact(2)?;
    if head[0] != 0x30 {
        return Err(format!("not an LDAP message (first byte {:#04x})", head[0]));
    }
    let len = match head[1] {
        n if n < 0x80 => n as usize,
        0x81 => c.exact(1)?[0] as usize,
        0x82 => {
            let b = c.exact(2)?;
            u16::from_be_bytes([b[0], b[1]]) as usize
        }
        n => return Err(format!("an LDAP message length of form {n:#04x} refused")),
    };
    if len > MAX_LDAP_REPLY {
        return Err(format!(
            "an LDAP answer of {len} bytes (more than {MAX_LDAP_REPLY}) refused"
        ));
    }
    let body = c.exact(len)?;
    let code = ldap_result(&body).ok_or("not an LDAP ExtendedResponse")?;
    match code {
        0 => Ok(()),
        n => Err(format!(
            "the server refused StartTLS: LDAP resultCode {n}{}",
            match n {
                2 => " (protocolError: StartTLS not supported)",
                52 => " (unavailable)",
                53 => " (unwillingToPerform)",
                _ => "",
            }
        )),
    }
}

/// The resultCode of an ExtendedResponse (the body of the LDAPMessage sequence).
fn ldap_result(b: &[u8]) -> Option<u8> {
    // messageID INTEGER
    let (tag, id_len) = (*b.first()?, *b.get(1)? as usize);
    if tag != 0x02 || id_len > 4 {
        return None;
    }
    let mut p = 2 + id_len;
    // [APPLICATION 24] constructed, with a short or one-byte long length.
    if *b.get(p)? != 0x78 {
        return None;
    }
    p += match *b.get(p + 1)? {
        n if n < 0x80 => 2,
        0x81 => 3,
        0x82 => 4,
        _ => return None,
    };
    // resultCode ENUMERATED, one byte
    (b.get(p..p + 2)? == [0x0a, 0x01]).then_some(*b.get(p + 2)?)
}

/// PostgreSQL's SSLRequest: length 8, code 80877103.
const PG_SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

fn postgres(c: &mut Conv<'_>) -> Result<(), String> {
    c.send(&PG_SSL_REQUEST)?;
    match c.exact(1)?[0] {
        b'S' => Ok(()),
        b'N' => Err("the server refused SSL (answered N to the SSLRequest: ssl is off)".into()),
        b'E' => {
            Err("the server answered the SSLRequest with an error (a server before 7.0?)".into())
        }
        b => Err(format!(
            "not a PostgreSQL answer to the SSLRequest (first byte {b:#04x})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Duration;

    /// Runs `proto`'s preamble against a listener that sends `script` and then waits.
    fn against(proto: Starttls, script: Vec<u8>, within: Duration) -> Result<(), String> {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let _ = s.write_all(&script);
            let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
            let mut sink = [0u8; 256];
            while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
        });
        let s = TcpStream::connect(addr).unwrap();
        let r = negotiate(&s, proto, Instant::now() + within);
        drop(s);
        let _ = server.join();
        r
    }

    #[test]
    fn smtp_with_a_multiline_ehlo_is_ready_after_220() {
        let script = b"220 mx ESMTP\r\n250-mx\r\n250-SIZE 1000\r\n250 STARTTLS\r\n220 go ahead\r\n";
        assert_eq!(
            against(Starttls::Smtp, script.to_vec(), Duration::from_secs(3)),
            Ok(())
        );
        let script = b"220 mx ESMTP\r\n250-mx\r\n250 SIZE 1000\r\n502 5.5.1 no\r\n";
        let e = against(Starttls::Smtp, script.to_vec(), Duration::from_secs(3)).unwrap_err();
        assert_eq!(
            e,
            "STARTTLS (smtp): the server refused STARTTLS (its EHLO does not offer it): \"502 5.5.1 no\""
        );
    }

    #[test]
    fn a_line_longer_than_the_bound_is_refused() {
        let mut script = b"220 ".to_vec();
        script.extend(std::iter::repeat_n(b'x', 64 << 10));
        let e = against(Starttls::Smtp, script, Duration::from_secs(3)).unwrap_err();
        assert!(e.ends_with("a line longer than 1024 bytes"), "{e}");
    }

    #[test]
    fn more_lines_than_the_bound_are_refused() {
        let script = b"220-hello\r\n".repeat(1000);
        let e = against(Starttls::Smtp, script, Duration::from_secs(3)).unwrap_err();
        assert!(
            e.ends_with("more than 64 lines before it was ready for TLS"),
            "{e}"
        );
    }

    #[test]
    fn a_silent_server_ends_at_the_deadline() {
        let start = Instant::now();
        let e = against(Starttls::Imap, Vec::new(), Duration::from_millis(500)).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(
            e,
            "STARTTLS (imap): timed out before the server was ready for TLS (0 bytes received)"
        );
    }

    #[test]
    fn nothing_past_the_answer_is_read() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let _ = s.write_all(b"+OK POP3\r\n+OK begin TLS\r\n\x16\x03\x03");
            std::thread::sleep(Duration::from_secs(3));
        });
        let mut s = TcpStream::connect(addr).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        negotiate(&s, Starttls::Pop3, Instant::now() + Duration::from_secs(3)).unwrap();
        // The bytes after the last line are still on the socket, for TLS.
        let mut rest = [0u8; 3];
        s.read_exact(&mut rest).unwrap();
        assert_eq!(rest, [0x16, 0x03, 0x03]);
    }

    #[test]
    fn ldap_and_postgres_answers_are_parsed() {
        // ExtendedResponse, id 1, success, empty DN and message, the StartTLS OID.
        let ok = b"\x30\x24\x02\x01\x01\x78\x1f\x0a\x01\x00\x04\x00\x04\x00\x8a\x161.3.6.1.4.1.1466.20037".to_vec();
        assert_eq!(against(Starttls::Ldap, ok, Duration::from_secs(3)), Ok(()));
        let refused = b"\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x02\x04\x00\x04\x00".to_vec();
        let e = against(Starttls::Ldap, refused, Duration::from_secs(3)).unwrap_err();
        assert!(e.contains("resultCode 2 (protocolError"), "{e}");
        let huge = b"\x30\x82\xff\xff".to_vec();
        let e = against(Starttls::Ldap, huge, Duration::from_secs(3)).unwrap_err();
        assert!(e.contains("65535 bytes (more than 4096) refused"), "{e}");
        assert_eq!(
            against(Starttls::Postgres, b"S".to_vec(), Duration::from_secs(3)),
            Ok(())
        );
        let e = against(Starttls::Postgres, b"N".to_vec(), Duration::from_secs(3)).unwrap_err();
        assert!(e.contains("refused SSL"), "{e}");
    }

    #[test]
    fn answers_in_errors_are_cut_and_escaped() {
        let s = shown(&format!("bad\x1b[31m{}", "y".repeat(500)));
        assert!(s.starts_with("\"bad?[31myyy"), "{s}");
        assert!(s.ends_with("...\""), "{s}");
        assert!(s.chars().count() < SHOWN + 10);
    }
}
