//! PEM armour wherever it is: plain files, bundles, indented YAML/Markdown/heredocs, CRLF,
//! JSON and HCL strings with `\n` escapes, comment prefixes (`# `, `// `, ` * `).
//!
//! Hand-written because the `pem` crates only accept canonical, unindented armour; real
//! estates keep certificates inside config files.

use base64::Engine as _;

/// The armour that starts every block.
pub const BEGIN: &[u8] = b"-----BEGIN ";

/// Upper bound on the distance between BEGIN and END, so garbage cannot make us scan far.
pub const MAX_BLOCK: usize = 4 << 20;

/// One decoded PEM block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    /// The label: `CERTIFICATE`, `PRIVATE KEY`, `RSA PRIVATE KEY`, ...
    pub label: String,
    /// RFC 1421 headers (`Proc-Type`, `DEK-Info`) of legacy encrypted keys.
    pub headers: Vec<(String, String)>,
    /// The decoded body.
    pub der: Vec<u8>,
    /// The raw (undecoded) body text, needed by OpenSSH keys whose body is not DER.
    pub start: usize,
    /// Offset just past the END armour.
    pub end: usize,
}

/// Error in a block that was started but could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemError {
    pub label: String,
    pub start: usize,
    /// Where scanning may resume.
    pub resume: usize,
    pub message: String,
}

/// Decodes the block whose `-----BEGIN ` is at `start` in `data`.
pub fn decode_at(data: &[u8], start: usize) -> Result<PemBlock, PemError> {
    let after_begin = start + BEGIN.len();
    let err = |label: &str, resume: usize, message: String| PemError {
        label: label.to_string(),
        start,
        resume,
        message,
    };
    // Label: up to the closing dashes on the same line.
    let rest = &data[after_begin..data.len().min(after_begin + 128)];
    let Some(dash) = memchr::memmem::find(rest, b"-----") else {
        return Err(err(
            "",
            after_begin,
            "PEM BEGIN line without closing dashes".into(),
        ));
    };
    let label_bytes = &rest[..dash];
    if label_bytes.is_empty()
        || !label_bytes.iter().all(|b| {
            b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b' ' | b'#' | b'-' | b'_')
        })
    {
        return Err(err(
            "",
            after_begin,
            "PEM BEGIN line with an invalid label".into(),
        ));
    }
    let label = String::from_utf8_lossy(label_bytes).into_owned();
    let body_start = after_begin + dash + 5;

    // END armour for this label, or the next BEGIN (the block was cut and another started),
    // whichever comes first: one forward pass over the `-----` runs of the window, so a
    // file of BEGIN lines without END lines costs linear time, not a window per BEGIN.
    let window_end = data.len().min(body_start + MAX_BLOCK);
    let end_marker = format!("-----END {label}-----");
    let window = &data[body_start..window_end];
    let mut from = 0;
    let end_rel = loop {
        let Some(i) = memchr::memmem::find(&window[from..], b"-----") else {
            return Err(err(
                &label,
                body_start,
                format!("truncated PEM: no \"-----END {label}-----\" after BEGIN"),
            ));
        };
        let at = from + i;
        if window[at..].starts_with(end_marker.as_bytes()) {
            break at;
        }
        if window[at..].starts_with(BEGIN) {
            return Err(err(
                &label,
                body_start + at,
                format!("truncated PEM: \"{label}\" block has no END line before the next BEGIN"),
            ));
        }
        from = at + 1;
    };
    let end = body_start + end_rel + end_marker.len();
    let prefix = line_prefix(data, start);
    let body = unescape(&data[body_start..body_start + end_rel]);

    let mut headers = Vec::new();
    let mut b64 = Vec::with_capacity(body.len());
    for raw in body.split(|&b| b == b'\n') {
        let mut line = raw;
        if !prefix.is_empty() {
            line = line.strip_prefix(prefix).unwrap_or(line);
        }
        let line = trim_noise(line);
        if line.is_empty() {
            continue;
        }
        if line.iter().all(|&b| is_b64(b)) {
            b64.extend_from_slice(line);
        } else if let Some(colon) = line.iter().position(|&b| b == b':') {
            let k = String::from_utf8_lossy(&line[..colon]).trim().to_string();
            let v = String::from_utf8_lossy(&line[colon + 1..])
                .trim()
                .to_string();
            headers.push((k, v));
        } else {
            return Err(err(
                &label,
                end,
                format!("PEM \"{label}\" body holds a line that is not base64"),
            ));
        }
    }
    // Padding may only be at the end; the standard engine rejects misplaced padding.
    let der = base64::engine::general_purpose::STANDARD
        .decode(&b64)
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(
                b64.iter()
                    .copied()
                    .filter(|&b| b != b'=')
                    .collect::<Vec<u8>>(),
            )
        })
        .map_err(|e| {
            err(
                &label,
                end,
                format!("PEM \"{label}\" body is not valid base64: {e}"),
            )
        })?;
    if der.is_empty() {
        return Err(err(&label, end, format!("PEM \"{label}\" block is empty")));
    }
    Ok(PemBlock {
        label,
        headers,
        der,
        start,
        end,
    })
}

/// Iterates over every PEM block in `data`, decoded or failed.
pub fn blocks(data: &[u8]) -> impl Iterator<Item = Result<PemBlock, PemError>> + '_ {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let at = pos + memchr::memmem::find(&data[pos..], BEGIN)?;
        let r = decode_at(data, at);
        pos = match &r {
            Ok(b) => b.end,
            Err(e) => e.resume.max(at + 1),
        };
        Some(r)
    })
}

/// The bytes on the BEGIN line before the armour (indentation, `# `, `"`), used to strip the
/// same prefix from body lines.
fn line_prefix(data: &[u8], start: usize) -> &[u8] {
    let line_start = memchr::memrchr(b'\n', &data[..start]).map_or(0, |i| i + 1);
    let p = &data[line_start..start];
    // Only whitespace and comment-ish prefixes are carried over to body lines.
    let keep = p
        .iter()
        .rposition(|&b| {
            !matches!(
                b,
                b' ' | b'\t' | b'#' | b'/' | b'*' | b';' | b'>' | b'-' | b'|'
            )
        })
        .map_or(0, |i| i + 1);
    &p[keep..]
}

/// Replaces `\n`, `\r`, `\\n` escapes (JSON, HCL, YAML double-quoted) by real line breaks
/// and drops CRs. Most bodies have neither and are returned as they are (copying them byte
/// by byte was a tenth of a scan's PEM decoding).
fn unescape(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if memchr::memchr2(b'\\', b'\r', body).is_none() {
        return body.into();
    }
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b == b'\\' {
            // Skip any run of backslashes, then an n or r.
            let mut j = i;
            while j < body.len() && body[j] == b'\\' {
                j += 1;
            }
            match body.get(j) {
                Some(b'n') => {
                    out.push(b'\n');
                    i = j + 1;
                    continue;
                }
                Some(b'r') => {
                    i = j + 1;
                    continue;
                }
                _ => {}
            }
        }
        if b != b'\r' {
            out.push(b);
        }
        i += 1;
    }
    out.into()
}

/// Trims whitespace, comment leaders and string punctuation around a body line.
fn trim_noise(line: &[u8]) -> &[u8] {
    // `+` ends many base64 lines, so it is only noise after a closing quote ("..." +).
    let mut line = line.trim_ascii_end();
    if let Some(l) = line.strip_suffix(b"+") {
        let l = l.trim_ascii_end();
        if l.ends_with(b"\"") || l.ends_with(b"'") {
            line = l;
        }
    }
    let lead = line
        .iter()
        .position(|&b| {
            !matches!(
                b,
                b' ' | b'\t' | b'"' | b'\'' | b'#' | b'*' | b';' | b'>' | b'|' | b'`'
            )
        })
        .unwrap_or(line.len());
    let line = &line[lead..];
    // `//` is a comment leader only when a space follows: base64 lines may start with `/`
    // (`//q/tSFL...`), and a comment prefix without a space is carried by `line_prefix`.
    let line = match line.strip_prefix(b"//") {
        Some(rest) if rest.first().is_some_and(|b| b.is_ascii_whitespace()) => rest,
        _ => line,
    };
    let tail = line
        .iter()
        .rposition(|&b| !matches!(b, b' ' | b'\t' | b'"' | b'\'' | b',' | b'\\' | b';' | b'`'))
        .map_or(0, |i| i + 1);
    line[..tail].trim_ascii_start()
}

fn is_b64(b: u8) -> bool {
    B64[usize::from(b)]
}

/// [`is_b64`] as a table: every byte of every body line is looked up (the chain of
/// comparisons was the largest part of PEM decoding).
static B64: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'-' | b'_');
        b += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_lines_starting_with_slashes_are_base64_not_comments() {
        // openssl wraps at 64 columns, so a line can start with `//` (bytes 0xff 0xff...):
        // one P-256 key in a few hundred does. That is data, not a comment leader.
        let mut bytes = vec![0u8; 48];
        bytes.extend_from_slice(&[0xff, 0xfa, 0xbf, 0x01, 0x02, 0x03]);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        assert!(b64[64..].starts_with("//q/"));
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n{}\n-----END PRIVATE KEY-----\n",
            &b64[..64],
            &b64[64..]
        );
        let block = blocks(pem.as_bytes()).next().unwrap().expect("decodes");
        assert_eq!(block.der, bytes);
        // A real `// ` comment leader is still stripped.
        let commented = format!(
            "// -----BEGIN PRIVATE KEY-----\n// {}\n// {}\n// -----END PRIVATE KEY-----\n",
            &b64[..64],
            &b64[64..]
        );
        let block = blocks(commented.as_bytes())
            .next()
            .unwrap()
            .expect("decodes");
        assert_eq!(block.der, bytes);
    }

    const BODY: &str = "MIIBszCCAVmgAwIBAgIUQ29mZmVl\nQ29mZmVlQ29mZmVl";

    fn plain(label: &str) -> String {
        format!("-----BEGIN {label}-----\n{BODY}\n-----END {label}-----\n")
    }

    fn expected() -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(BODY.replace('\n', ""))
            .unwrap()
    }

    #[test]
    fn plain_block() {
        let s = plain("CERTIFICATE");
        let b: Vec<_> = blocks(s.as_bytes()).collect();
        assert_eq!(b.len(), 1);
        let b = b[0].as_ref().unwrap();
        assert_eq!(b.label, "CERTIFICATE");
        assert_eq!(b.der, expected());
        assert_eq!(b.start, 0);
    }

    #[test]
    fn indented_yaml_crlf_and_comments() {
        for s in [
            format!(
                "tls: |\n    {}",
                plain("CERTIFICATE").replace('\n', "\n    ")
            ),
            plain("CERTIFICATE").replace('\n', "\r\n"),
            format!("# {}", plain("CERTIFICATE").replace('\n', "\n# ")),
            format!("// {}", plain("CERTIFICATE").replace('\n', "\n// ")),
            format!("> {}", plain("CERTIFICATE").replace('\n', "\n> ")),
        ] {
            let b: Vec<_> = blocks(s.as_bytes()).collect();
            assert_eq!(b.len(), 1, "{s}");
            assert_eq!(b[0].as_ref().unwrap().der, expected(), "{s}");
        }
    }

    #[test]
    fn json_and_double_escaped_strings() {
        let json = format!(
            "{{\"private_key\": \"{}\"}}",
            plain("PRIVATE KEY").replace('\n', "\\n")
        );
        let b: Vec<_> = blocks(json.as_bytes()).collect();
        assert_eq!(b[0].as_ref().unwrap().der, expected());
        let dbl = plain("PRIVATE KEY").replace('\n', "\\\\n");
        let b: Vec<_> = blocks(dbl.as_bytes()).collect();
        assert_eq!(b[0].as_ref().unwrap().der, expected());
    }

    #[test]
    fn base64_lines_ending_in_plus_keep_it_and_string_concatenation_is_stripped() {
        let body = "MIIBszCCAVmgAwI+\nQ29mZmVl";
        let s = format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n");
        let want = base64::engine::general_purpose::STANDARD
            .decode(body.replace('\n', ""))
            .unwrap();
        assert_eq!(decode_at(s.as_bytes(), 0).unwrap().der, want);
        let java = "String pem = \"-----BEGIN CERTIFICATE-----\\n\" +\n  \"MIIBszCCAVmgAwI+\\n\" +\n  \"Q29mZmVl\\n\" +\n  \"-----END CERTIFICATE-----\";";
        assert_eq!(decode_at(java.as_bytes(), 14).unwrap().der, want);
    }

    #[test]
    fn legacy_headers_are_kept() {
        let s = format!(
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n{BODY}\n-----END RSA PRIVATE KEY-----\n"
        );
        let b = decode_at(s.as_bytes(), 0).unwrap();
        assert_eq!(
            b.headers[0],
            ("Proc-Type".to_string(), "4,ENCRYPTED".to_string())
        );
        assert_eq!(b.headers[1].0, "DEK-Info");
        assert_eq!(b.der, expected());
    }

    #[test]
    fn truncated_block_is_an_error_and_next_block_still_found() {
        let s = format!(
            "-----BEGIN CERTIFICATE-----\nMIIB\n{}",
            plain("CERTIFICATE")
        );
        let b: Vec<_> = blocks(s.as_bytes()).collect();
        assert_eq!(b.len(), 2);
        assert!(b[0].as_ref().unwrap_err().message.contains("truncated"));
        assert_eq!(b[1].as_ref().unwrap().der, expected());
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            "-----BEGIN ",
            "-----BEGIN X",
            "-----BEGIN X-----",
            "-----BEGIN X-----\n!!!\n-----END X-----",
            "-----BEGIN X-----\n\\\\\\\n-----END X-----",
            "-----BEGIN X-----\n-----END X-----",
        ] {
            for r in blocks(s.as_bytes()) {
                assert!(r.is_err(), "{s}");
            }
        }
    }
}
