//! The keyword prefilter: finds every ASCII-case-insensitive occurrence of every rule
//! keyword in one pass.
//!
//! A DFA walk (Aho-Corasick) is latency-bound, one dependent table load per byte, and
//! with a few hundred keywords starting with common letters it rarely gets back to its
//! start state, so it cannot skip: it measured ~600 MB/s. Instead each keyword gets an
//! *anchor*, its rarest pair of adjacent three-byte substrings by a static byte-frequency
//! model of source text. One pass hashes the case-folded trigram at every *even* offset
//! into a 64 Ki-bit table (8 KiB, stays in L1); whatever the parity of a keyword's start,
//! one of its two anchor trigrams starts at an even offset. The loads are independent of
//! each other, so the loop runs at throughput, not latency. A set bit is verified against
//! the keywords entered in that slot. Keywords of two or three bytes enter the table once
//! per possible neighbouring byte. Every occurrence is reported, overlapping ones
//! included.

/// ASCII case folding table.
const FOLD: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i as u8).to_ascii_lowercase();
        i += 1;
    }
    t
};

const SLOTS: usize = 1 << 17;

/// The slot of a trigram packed little-endian into the low 24 bits of `x`, after a coarse
/// case fold (`| 0x20` on every byte; coarser than ASCII folding, which only costs a few
/// false candidates that verification rejects).
#[inline(always)]
fn slot(x: u32) -> usize {
    (((x | 0x0020_2020) & 0x00FF_FFFF).wrapping_mul(0x9E37_79B1) >> 15) as usize
}

fn pack(a: u8, b: u8, c: u8) -> u32 {
    a as u32 | (b as u32) << 8 | (c as u32) << 16
}

/// Rough frequency of a (case-folded) byte in source code and configuration text.
fn commonness(b: u8) -> f64 {
    match b.to_ascii_lowercase() {
        b'e' => 0.12,
        b't' => 0.09,
        b'a' => 0.08,
        b'o' => 0.075,
        b'i' => 0.07,
        b'n' => 0.067,
        b's' => 0.063,
        b'r' => 0.06,
        b'h' => 0.05,
        b'l' => 0.04,
        b'd' => 0.04,
        b'c' => 0.035,
        b'u' => 0.028,
        b'm' => 0.025,
        b'p' => 0.022,
        b'f' => 0.022,
        b'g' => 0.02,
        b'w' => 0.018,
        b'y' => 0.018,
        b'b' => 0.015,
        b'v' => 0.01,
        b'k' => 0.008,
        b'x' => 0.004,
        b'j' => 0.002,
        b'q' => 0.0015,
        b'z' => 0.001,
        b' ' | b'\n' | b'\t' => 0.15,
        b'.' | b'(' | b')' | b'"' | b',' | b';' => 0.015,
        b'_' | b'-' | b'=' | b'/' | b':' => 0.01,
        b'0' | b'1' | b'2' => 0.01,
        b'3'..=b'9' => 0.004,
        b'\'' | b'{' | b'}' | b'[' | b']' | b'<' | b'>' | b'*' | b'#' => 0.006,
        b'$' | b'@' | b'+' | b'&' | b'%' | b'!' | b'|' | b'\\' => 0.002,
        _ => 0.0005,
    }
}

/// Trigrams (folded) far more common in code and prose than their letters suggest.
const COMMON_TRIGRAMS: &[&str] = &[
    "the", "and", "ing", "ion", "tio", "ent", "for", "ter", "ate", "her", "tha", "ere", "con",
    "pro", "res", "com", "per", "est", "ers", "str", "int", "ret", "tur", "urn", "get", "set",
    "val", "err", "ror", "sec", "cre", "ecr", "key", "tok", "oke", "ken", "api", "pas", "ass",
    "ssw", "swo", "wor", "ord", "acc", "cce", "ces", "ess", "app", "ser", "use", "fun", "unc",
    "nct", "cti", "ect", "nam", "ame", "dat", "ata", "ver", "pat", "ath", "log", "tes", "ext",
    "sta", "tat", "ons", "lin", "ine", "typ", "ype", "def", "sel", "elf", "cla", "las", "imp",
    "por", "ort", "rea", "ead", "ont", "nfi", "fig", "age", "ran", "ure", "red", "den", "ial",
    "sha", "all", "nte", "tra", "men", "ica", "iti", "ity", "ive", "not", "out", "our", "ver",
    "ati", "ist", "ted", "ect", "cal", "lic", "ble", "abl", "nde", "rat", "ect", "ges", "ase",
    "han", "hen", "ith", "wit", "thi", "his", "men", "rit", "ite", "id_", "_id", "_na", "_ke",
    "_to", "_se", "_pa", "_ap", "ey_", "en_", "ce_", "et_", "ss_", "me_", "le_", "ed_", "er_",
    "in_", "on_", "ser", "rvi", "vic", "ice", "cli", "lie", "nt_", "_co", "_de", "_re", "_in",
    "ttp", "htt", "tps", "ps:", "s:/", "://", "p:/", "www", "com", "org", "io/", ".co", "om/",
    "ml ", "js ", "rs ", "py ", "ole", "sol", "ons", "nso", "let", "var", "mut", "fn ", "pub",
    "ub ", "ing", "ngs", "tin", "ett", "ndi", "ing", "ide", "ode", "cod", "inp", "npu", "put",
    "ody", "bod", "req", "equ", "que", "ues", "ues", "esp", "spo", "pon", "nse", "ase", "ear",
    "ch ", "non", "one", "ull", "nul", "tru", "rue", "fal", "als", "lse", "sig", "ign", "gna",
    "nat", "tur", "hea", "ade", "der", "aut", "uth", "tho", "use", "ser", "sso", "sio", "ssi",
    "ion", "sti", "ris", "isk", "tas", "ask", "sk-",
    // The vocabulary of TLS configuration and of code that handles certificates: anchors
    // on these made the most false candidates on the real-repository tree (the
    // configuration words ride on this pass too): 10.8 -> 9.1 million checks (BENCHMARKS.md).
    "cer", "ert", "rti", "tif", "ifi", "fic", "ica", "cat", "fil", "ile", "sto", "tor", "ore",
    "tru", "rus", "ust", "sts", "erv", "rve", "ey-", "rox", "oxy", "ssl", "tls", "hos", "ost",
    "edi", "dis", "ntr", "try", "aul", "ult", "ig=", "sou", "urc", "rce",
];

fn rarity(tri: &[u8]) -> f64 {
    let base: f64 = tri.iter().map(|&b| commonness(b)).product();
    let folded: Vec<u8> = tri.iter().map(|b| b.to_ascii_lowercase()).collect();
    if COMMON_TRIGRAMS
        .iter()
        .any(|t| t.as_bytes() == folded.as_slice())
    {
        base * 100.0
    } else {
        base
    }
}

/// The offset `o` of the rarest pair of adjacent trigrams `kw[o..o + 3]`, `kw[o + 1..o + 4]`
/// of `kw` (at least 4 bytes long): one of the two starts at an even offset of the data.
fn anchor(kw: &[u8]) -> usize {
    (0..=kw.len() - 4)
        .min_by(|&i, &j| {
            let score = |k: usize| rarity(&kw[k..k + 3]) + rarity(&kw[k + 1..k + 4]);
            score(i).total_cmp(&score(j))
        })
        .unwrap_or(0)
}

/// A compiled keyword set.
#[derive(Debug, Clone)]
pub(crate) struct Prefilter {
    /// Lowercase keywords.
    keywords: Vec<Box<[u8]>>,
    /// Bit per trigram slot.
    tri: Box<[u64]>,
    /// Slot `s`'s entries are `entries[first[s]..first[s + 1]]`: (keyword, offset of the
    /// trigram in the keyword; -1 when the trigram starts one byte before the keyword).
    first: Box<[u32]>,
    entries: Box<[(u32, i32)]>,
    /// Keywords of two or three bytes (checked directly at the end of the data).
    short: Vec<u32>,
}

impl Prefilter {
    /// Builds the prefilter over lowercase keywords of at least two bytes.
    pub(crate) fn new(keywords: &[String]) -> Prefilter {
        let keywords: Vec<Box<[u8]>> = keywords
            .iter()
            .map(|k| k.to_ascii_lowercase().into_bytes().into_boxed_slice())
            .collect();
        let mut tri = vec![0u64; SLOTS / 64].into_boxed_slice();
        let mut by_slot: Vec<(usize, u32, i32)> = Vec::new();
        let mut short = Vec::new();
        // Only trigrams at even offsets of the data are looked at. A keyword of 4+ bytes
        // enters two adjacent trigrams, one of which starts at an even offset. A shorter
        // keyword also enters (any byte, its first two bytes), covering odd starts, and a
        // two-byte keyword enters (its bytes, any byte) for even starts.
        let any: Vec<u8> = {
            let mut v: Vec<u8> = (0..=255u8).map(|b| b | 0x20).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        for (i, kw) in keywords.iter().enumerate() {
            let mut add = |s: usize, off: i32| {
                tri[s / 64] |= 1 << (s % 64);
                by_slot.push((s, i as u32, off));
            };
            match kw.len() {
                0 | 1 => panic!("prefilter keywords have at least two bytes"),
                2 => {
                    short.push(i as u32);
                    for &c in &any {
                        add(slot(pack(kw[0], kw[1], c)), 0);
                        add(slot(pack(c, kw[0], kw[1])), -1);
                    }
                }
                3 => {
                    short.push(i as u32);
                    add(slot(pack(kw[0], kw[1], kw[2])), 0);
                    // Odd starts: (any, kw0, kw1) one byte before, or (kw1, kw2, any) one
                    // byte after, whichever pair is rarer; starts too close to the end for
                    // the latter are checked directly.
                    let before = commonness(kw[0]) * commonness(kw[1]);
                    let after = commonness(kw[1]) * commonness(kw[2]);
                    for &c in &any {
                        if before <= after {
                            add(slot(pack(c, kw[0], kw[1])), -1);
                        } else {
                            add(slot(pack(kw[1], kw[2], c)), 1);
                        }
                    }
                }
                _ => {
                    let o = anchor(kw);
                    add(slot(pack(kw[o], kw[o + 1], kw[o + 2])), o as i32);
                    add(slot(pack(kw[o + 1], kw[o + 2], kw[o + 3])), o as i32 + 1);
                }
            }
        }
        by_slot.sort_unstable();
        by_slot.dedup();
        let mut first = vec![0u32; SLOTS + 1].into_boxed_slice();
        for &(s, _, _) in &by_slot {
            first[s + 1] += 1;
        }
        for s in 0..SLOTS {
            first[s + 1] += first[s];
        }
        let entries = by_slot.iter().map(|&(_, k, o)| (k, o)).collect();
        Prefilter {
            keywords,
            tri,
            first,
            entries,
            short,
        }
    }

    /// Calls `hit(keyword, start, end)` for every occurrence of every keyword in `data`,
    /// mostly in increasing order of position (a short keyword at the very end may be
    /// reported twice).
    #[inline]
    pub(crate) fn for_each(&self, data: &[u8], mut hit: impl FnMut(usize, usize, usize)) {
        let tri = &self.tri[..SLOTS / 64];
        let n = data.len();
        let mut i = 0;
        // Hits checked (`TRUSTMAP_SCAN_TIMINGS`), counted in a register, added once.
        let mut checks = 0u64;
        // Trigrams at offsets 0, 2 and 4 of each unaligned 8-byte load.
        while i + 8 <= n {
            let w = u64::from_le_bytes(data[i..i + 8].try_into().expect("8 bytes"));
            for j in [0, 2, 4] {
                let s = slot((w >> (8 * j)) as u32);
                if tri[s / 64] & (1 << (s % 64)) != 0 {
                    checks += 1;
                    self.verify(data, i + j, s, &mut hit);
                }
            }
            i += 6;
        }
        while i + 3 <= n {
            let s = slot(pack(data[i], data[i + 1], data[i + 2]));
            if tri[s / 64] & (1 << (s % 64)) != 0 {
                checks += 1;
                self.verify(data, i, s, &mut hit);
            }
            i += 2;
        }
        crate::timing::count(crate::timing::Count::PrefilterChecks, checks);
        // Short keywords near the end may have no trigram looked at: check them directly
        // (a duplicate report is harmless).
        for &k in &self.short {
            let kw = &self.keywords[k as usize];
            for start in n.saturating_sub(4)..=n.saturating_sub(kw.len()) {
                if start + kw.len() <= n
                    && data[start..start + kw.len()]
                        .iter()
                        .zip(kw.iter())
                        .all(|(&d, &c)| FOLD[d as usize] == c)
                {
                    hit(k as usize, start, start + kw.len());
                }
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn verify(
        &self,
        data: &[u8],
        at: usize,
        slot: usize,
        hit: &mut impl FnMut(usize, usize, usize),
    ) {
        let range = self.first[slot] as usize..self.first[slot + 1] as usize;
        for &(k, off) in &self.entries[range] {
            let kw = &self.keywords[k as usize];
            let Some(start) = at.checked_add_signed(-(off as isize)) else {
                continue;
            };
            let end = start + kw.len();
            if end <= data.len()
                && data[start..end]
                    .iter()
                    .zip(kw.iter())
                    .all(|(&d, &c)| FOLD[d as usize] == c)
            {
                hit(k as usize, start, end);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(pf: &Prefilter, data: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut v = Vec::new();
        pf.for_each(data, |k, s, e| v.push((k, s, e)));
        v.sort_unstable();
        v.dedup();
        v
    }

    #[test]
    fn finds_every_occurrence_case_insensitively() {
        let pf = Prefilter::new(&["pass".into(), "password".into(), "q~".into(), "ghp_".into()]);
        let data = b"PassWord ghp_x GHP_ 8Q~ pas";
        assert_eq!(
            all(&pf, data),
            vec![(0, 0, 4), (1, 0, 8), (2, 21, 23), (3, 9, 13), (3, 15, 19)]
        );
    }

    /// Against a naive search, keywords of every length at every offset parity and at both
    /// ends of the data.
    #[test]
    fn same_as_naive_search() {
        let kws: Vec<String> = [
            "q~",
            "hf_",
            "ghp_",
            "xoxb-",
            "password",
            "sk-ant-api03-",
            "-us1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let pf = Prefilter::new(&kws);
        let mut seed = 7u64;
        for round in 0..300 {
            let mut data = Vec::new();
            for _ in 0..(round % 9) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let pick = (seed >> 33) as usize;
                if pick.is_multiple_of(3) {
                    let kw = kws[pick % kws.len()].to_ascii_uppercase();
                    data.extend_from_slice(kw.as_bytes());
                } else {
                    data.extend(std::iter::repeat_n(b'a' + (pick % 26) as u8, pick % 5));
                }
            }
            let mut naive = Vec::new();
            for (k, kw) in kws.iter().enumerate() {
                for s in 0..data.len() {
                    if data[s..].len() >= kw.len()
                        && data[s..s + kw.len()].eq_ignore_ascii_case(kw.as_bytes())
                    {
                        naive.push((k, s, s + kw.len()));
                    }
                }
            }
            naive.sort_unstable();
            let mut got = all(&pf, &data);
            got.dedup();
            assert_eq!(got, naive, "{:?}", String::from_utf8_lossy(&data));
        }
    }

    #[test]
    fn keywords_at_the_edges() {
        let pf = Prefilter::new(&["abc".into(), "xyz1".into()]);
        assert_eq!(all(&pf, b"abc"), vec![(0, 0, 3)]);
        assert_eq!(all(&pf, b"..XYZ1"), vec![(1, 2, 6)]);
        assert!(all(&pf, b"xy").is_empty());
    }
}
