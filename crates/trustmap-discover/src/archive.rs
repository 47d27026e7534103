//! Archives as sources: ZIP (and JAR, WAR, APK, NuGet... which are ZIPs), tar, and gzip
//! (including .tar.gz). Each member is handed back to the scanner, which parses it like a file
//! of its own; the route says which member ("zip entry 'META-INF/keystore.p12'").
//!
//! Bounded so that a hostile archive cannot exhaust memory or time: members larger than
//! [`MAX_MEMBER`] are skipped with an error, the total inflated per archive is capped at
//! [`MAX_TOTAL`] (bytes inflated for members that then fail, a bad CRC say, count too; once
//! it is spent the rest is not read, and an error says how many members that left), and at
//! most [`MAX_MEMBERS`] members are read (an error counts the rest). Archives nested more
//! than [`crate::scan::MAX_DEPTH`] deep are not opened (an error says so).

use std::io::Read;

/// Largest member inflated, in bytes.
pub const MAX_MEMBER: u64 = 32 << 20;
/// Largest total inflated from one archive, in bytes.
pub const MAX_TOTAL: u64 = 128 << 20;
/// Most members read from one archive.
pub const MAX_MEMBERS: usize = 20_000;

/// The archive formats recognised by their magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Tar,
    Gzip,
}

/// Recognises an archive by content, never by name.
pub fn kind(data: &[u8]) -> Option<Kind> {
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        Some(Kind::Zip)
    } else if data.starts_with(&[0x1f, 0x8b]) {
        Some(Kind::Gzip)
    } else if data.len() >= 512 && &data[257..262] == b"ustar" {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// Calls `member(format, name, bytes)` for each regular member (`format` is "zip", "tar",
/// "tar.gz" or "gzip"); returns the errors met (a member
/// too large, a corrupt entry), or `Err` when the archive cannot be read at all.
pub fn for_each_member(
    kind: Kind,
    data: &[u8],
    mut member: impl FnMut(&str, &str, &[u8]),
) -> Result<Vec<String>, String> {
    let mut errors = Vec::new();
    let mut budget = MAX_TOTAL;
    match kind {
        Kind::Zip => {
            let mut zip = zip::ZipArchive::new(std::io::Cursor::new(data))
                .map_err(|e| format!("unreadable zip archive: {e}"))?;
            if zip.len() > MAX_MEMBERS {
                errors.push(format!(
                    "zip archive has {} members; only the first {MAX_MEMBERS} were read",
                    zip.len()
                ));
            }
            for i in 0..zip.len().min(MAX_MEMBERS) {
                if budget == 0 {
                    errors.push(spent("zip", zip.len().min(MAX_MEMBERS) - i));
                    break;
                }
                let mut f = match zip.by_index(i) {
                    Ok(f) => f,
                    Err(e) => {
                        errors.push(format!("zip entry {i}: {e}"));
                        continue;
                    }
                };
                if !f.is_file() {
                    continue;
                }
                let name = f
                    .name()
                    .map_or_else(|_| format!("entry {i}"), |n| n.replace('\\', "/"));
                if f.encrypted() {
                    errors.push(format!("zip entry '{name}' is encrypted"));
                    continue;
                }
                let size = f.size();
                match read_bounded(&mut f, size, &mut budget) {
                    Ok(bytes) => member("zip", &name, &bytes),
                    Err(e) => errors.push(format!("zip entry '{name}': {e}")),
                }
            }
        }
        Kind::Tar => tar_members(data, "tar", &mut budget, &mut errors, &mut member)?,
        Kind::Gzip => {
            let mut gz = flate2::read::MultiGzDecoder::new(data);
            let inflated =
                read_bounded(&mut gz, 0, &mut budget).map_err(|e| format!("gzip: {e}"))?;
            if kind_of_inner(&inflated) == Some(Kind::Tar) {
                tar_members(&inflated, "tar.gz", &mut budget, &mut errors, &mut member)?;
            } else {
                member("gzip", "(gunzipped)", &inflated);
            }
        }
    }
    Ok(errors)
}

fn kind_of_inner(data: &[u8]) -> Option<Kind> {
    kind(data).filter(|k| *k == Kind::Tar)
}

fn tar_members(
    data: &[u8],
    format: &str,
    budget: &mut u64,
    errors: &mut Vec<String>,
    member: &mut impl FnMut(&str, &str, &[u8]),
) -> Result<(), String> {
    let mut ar = tar::Archive::new(data);
    let entries = ar
        .entries()
        .map_err(|e| format!("unreadable tar archive: {e}"))?;
    for (i, entry) in entries.enumerate() {
        if i >= MAX_MEMBERS {
            errors.push(format!(
                "{format} archive has more than {MAX_MEMBERS} members; only the first {MAX_MEMBERS} were read"
            ));
            break;
        }
        if *budget == 0 {
            errors.push(spent(format, 0));
            break;
        }
        let mut e = match entry {
            Ok(e) => e,
            Err(err) => {
                errors.push(format!("tar entry {i}: {err}"));
                break; // a corrupt header loses the position of everything after it
            }
        };
        if !e.header().entry_type().is_file() {
            continue;
        }
        let name = e
            .path()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|_| format!("entry {i}"));
        let size = e.size();
        match read_bounded(&mut e, size, budget) {
            Ok(bytes) => member(format, &name, &bytes),
            Err(err) => errors.push(format!("tar entry '{name}': {err}")),
        }
    }
    Ok(())
}

/// The error for an archive whose inflate budget ran out with `left` members unread (0:
/// unknown, for tar streams).
fn spent(format: &str, left: usize) -> String {
    let left = if left > 0 {
        format!("{left} members")
    } else {
        "the remaining members".to_string()
    };
    format!(
        "{format} archive: the {MAX_TOTAL}-byte inflate budget is spent \
         (failed members count too); {left} not read"
    )
}

/// Reads at most [`MAX_MEMBER`] bytes and at most what is left of `budget`. Every byte
/// inflated is taken from `budget`, also when the member then fails (a bad CRC, a corrupt
/// stream), so a member repeated under many names cannot be inflated again and again.
fn read_bounded(r: &mut impl Read, declared: u64, budget: &mut u64) -> Result<Vec<u8>, String> {
    if declared > MAX_MEMBER {
        return Err(format!(
            "{declared} bytes inflated, over the {MAX_MEMBER}-byte limit; skipped"
        ));
    }
    let cap = MAX_MEMBER.min(*budget);
    let mut out = Vec::with_capacity(declared.min(cap) as usize);
    let read = r.take(cap + 1).read_to_end(&mut out);
    *budget = budget.saturating_sub(out.len() as u64);
    read.map_err(|e| e.to_string())?;
    if out.len() as u64 > cap {
        return Err(format!(
            "inflates past {cap} bytes (archive limits); skipped"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn tar_gz_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut b = tar::Builder::new(gz);
        for (name, bytes) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *bytes).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    fn members(data: &[u8]) -> (Vec<(String, Vec<u8>)>, Vec<String>) {
        let mut got = Vec::new();
        let errors = for_each_member(kind(data).unwrap(), data, |_, n, b| {
            got.push((n.to_string(), b.to_vec()))
        })
        .unwrap();
        (got, errors)
    }

    #[test]
    fn zip_and_tar_gz_members_come_back_whole() {
        let files: &[(&str, &[u8])] = &[("a/one.txt", b"hello"), ("two.pem", b"-----BEGIN X-----")];
        for data in [zip_of(files), tar_gz_of(files)] {
            let (got, errors) = members(&data);
            assert!(errors.is_empty(), "{errors:?}");
            let want: Vec<(String, Vec<u8>)> = files
                .iter()
                .map(|(n, b)| (n.to_string(), b.to_vec()))
                .collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn bombs_are_refused_and_garbage_is_an_error() {
        // 40 MB of zeros deflates to a few KB: the member is over the limit and skipped.
        let zeros = vec![0u8; 40 << 20];
        let (got, errors) = members(&zip_of(&[("bomb.bin", &zeros), ("ok.txt", b"fine")]));
        assert_eq!(got.len(), 1);
        assert!(
            errors[0].contains("bomb.bin") && errors[0].contains("limit"),
            "{errors:?}"
        );
        assert!(for_each_member(Kind::Zip, b"PK\x03\x04garbage", |_, _, _| {}).is_err());
        assert!(for_each_member(Kind::Gzip, &[0x1f, 0x8b, 0, 0], |_, _, _| {}).is_err());
    }
}
