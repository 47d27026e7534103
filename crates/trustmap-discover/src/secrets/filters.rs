//! Filters shared by every rule: entropy, placeholders and references, generic-value
//! sanity, and the JWT validator. All take the candidate secret's bytes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Shannon entropy in bits per byte.
pub(crate) fn shannon(value: &[u8]) -> f32 {
    if value.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in value {
        counts[b as usize] += 1;
    }
    let n = value.len() as f32;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f32 / n;
            -p * p.log2()
        })
        .sum()
}

/// Substrings (lowercase) that mark a value as documentation, a template or a stand-in.
const PLACEHOLDER_MARKS: &[&str] = &[
    "example",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "redacted",
    "dummy",
    "sample",
    // "your" alone occurs in random tokens (`...hhYOURw4...`); the placeholder forms do not.
    "your_",
    "your-",
    "your ",
    "yourkey",
    "yourtoken",
    "yourapi",
    "yoursecret",
    "yourpassword",
    "insert",
    "replace",
    "notreal",
    "not_real",
    "not-a-real",
    "xxxx",
    "****",
    "....",
    "<",
    ">",
    "${",
    "{{",
    "}}",
    "#{",
    "%{",
    "$(",
    "<%",
    "process.env",
    "os.environ",
    "getenv",
    "env[",
    "env(",
    "environ[",
    "secrets.",
];

/// True for values that are placeholders or references, not secrets: `${VAR}`, `$VAR`,
/// `%VAR%`, `{{ .Values.x }}`, `<token>`, `xxxx`, `****`, `changeme`, `your-api-key-here`,
/// `example`, `dummy`, `redacted`, `os.environ[...]`, `process.env.X`, `ENV['X']`,
/// `${{ secrets.X }}`.
pub(crate) fn is_placeholder(value: &[u8]) -> bool {
    if let [b'$', next, ..] = value
        && (next.is_ascii_alphabetic() || matches!(next, b'_' | b'{' | b'('))
    {
        return true;
    }
    if value.len() > 2 && value.first() == Some(&b'%') && value.last() == Some(&b'%') {
        return true;
    }
    let lower = value.to_ascii_lowercase();
    // `YourJiraApiTokenHere`: a value that starts by addressing the reader.
    if lower.starts_with(b"your") {
        return true;
    }
    PLACEHOLDER_MARKS
        .iter()
        .any(|m| memchr::memmem::find(&lower, m.as_bytes()).is_some())
}

/// Extra sanity for values captured by generic `key = value` rules.
pub(crate) fn generic_value_ok(value: &[u8]) -> bool {
    // Numbers: ports, sizes, ids.
    if value.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        return false;
    }
    // Paths, URLs and PEM armour are not the secret itself.
    if value.starts_with(b"/")
        || value.starts_with(b"./")
        || value.starts_with(b"../")
        || value.starts_with(b"~/")
        || value.starts_with(b"-----")
        || memchr::memmem::find(value, b"://").is_some()
    {
        return false;
    }
    // References to where the secret is: `file:/run/secrets/x`, `env:DB_PW`, `vault:...`.
    const REFERENCES: &[&[u8]] = &[
        b"file:",
        b"env:",
        b"vault:",
        b"classpath:",
        b"secret:",
        b"ssm:",
        b"k8s:",
        b"keyring:",
    ];
    let lower = value.to_ascii_lowercase();
    if REFERENCES.iter().any(|r| lower.starts_with(r)) {
        return false;
    }
    // Function calls and member accesses in code: `getPassword()`, `cfg.get("x")`.
    if let Some(p) = memchr::memchr(b'(', value)
        && value[..p]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
    {
        return false;
    }
    let digit = value.iter().any(u8::is_ascii_digit);
    let upper = value.iter().any(u8::is_ascii_uppercase);
    let lower = value.iter().any(u8::is_ascii_lowercase);
    let special = value
        .iter()
        .any(|b| !b.is_ascii_alphanumeric() && !matches!(b, b'_' | b'.' | b'-'));
    // `config.auth.token`, `my-secret-name`, `SOME_CONSTANT`: names, not values.
    digit || (upper && lower) || special
}

/// Base64 of `user:password` (HTTP basic credentials, Docker's `auth`): decodes to UTF-8
/// text with a colon, a non-empty password that is not a placeholder.
pub(crate) fn is_basic_auth(value: &[u8]) -> bool {
    use base64::engine::general_purpose::STANDARD;
    let Ok(plain) = STANDARD.decode(value) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&plain) else {
        return false;
    };
    match text.split_once(':') {
        Some((user, pass)) => {
            !user.is_empty()
                && !pass.is_empty()
                && !text.chars().any(char::is_control)
                && !is_placeholder(pass.as_bytes())
        }
        None => false,
    }
}

/// A JWT: `header.payload.signature`, base64url, the header a JSON object naming `alg`
/// (and not `none`), the payload a JSON object, and a non-empty signature.
pub(crate) fn is_jwt(value: &[u8]) -> bool {
    let mut parts = value.split(|&b| b == b'.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    if s.is_empty() {
        return false;
    }
    let decode = |seg: &[u8]| {
        let trimmed = seg
            .strip_suffix(b"==")
            .or(seg.strip_suffix(b"="))
            .unwrap_or(seg);
        URL_SAFE_NO_PAD.decode(trimmed).ok()
    };
    let Some(header) = decode(h) else {
        return false;
    };
    let Ok(header) = serde_json::from_slice::<serde_json::Value>(&header) else {
        return false;
    };
    let alg = header.get("alg").and_then(|a| a.as_str());
    if alg.is_none_or(|a| a.eq_ignore_ascii_case("none")) {
        return false;
    }
    // The payload must at least decode; its claims are not our business.
    decode(p).is_some_and(|p| p.first() == Some(&b'{'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy() {
        assert_eq!(shannon(b"aaaa"), 0.0);
        assert!((shannon(b"abcd") - 2.0).abs() < 1e-6);
    }

    #[test]
    fn placeholders() {
        for p in [
            "${GITHUB_TOKEN}",
            "$TOKEN",
            "%APPDATA%",
            "{{ .Values.token }}",
            "<your-token>",
            "xxxxxxxxxxxxxxxx",
            "changeme123",
            "your-api-key-here",
            "********",
            "process.env.TOKEN",
            "os.environ['TOKEN']",
            "ENV['TOKEN']",
            "${{ secrets.TOKEN }}",
            "AKIAIOSFODNN7EXAMPLE",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        assert!(!is_placeholder(b"Zq8#mK2!vL9@"));
        assert!(!is_placeholder(b"pa$$word-2024"));
    }

    #[test]
    fn generic_values() {
        assert!(!generic_value_ok(b"12345678"));
        assert!(!generic_value_ok(b"config.auth.token"));
        assert!(!generic_value_ok(b"/run/secrets/db"));
        assert!(!generic_value_ok(b"getPassword()"));
        assert!(!generic_value_ok(b"file:/run/secrets/key"));
        assert!(generic_value_ok(b"Zq8mK2vL9w"));
    }

    #[test]
    fn jwt() {
        // {"alg":"HS256","typ":"JWT"} . {"sub":"1"} . sig
        assert!(is_jwt(
            b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLWJ5dGVz"
        ));
        // {"typ":"JWT"} has no alg
        assert!(!is_jwt(b"eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.c2ln"));
        // alg none
        assert!(!is_jwt(b"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.c2ln"));
    }
}
