//! Multi-literal search on the fast path: aho-corasick's packed searcher (Teddy, SIMD) where
//! the CPU has it, else its automaton.
//!
//! Why: on the real-repository tree (BENCHMARKS.md "Scan phases on real repositories"), the
//! automaton's own prefilter did not engage for the configuration and Kubernetes word sets
//! (words that start with a space or a common letter); with the packed searcher (the same
//! crate's, used directly) those two phases fell from 6.3 and 18.3 thread-seconds to 0.5 and
//! 3.0 in runs side by side under the same load.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Match, MatchKind, packed};

/// A set of literals searched leftmost-first.
pub enum Literals {
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

impl Literals {
    /// Panics only on patterns no automaton can build (static lists, checked by tests).
    pub fn new<P: AsRef<[u8]>>(patterns: &[P]) -> Literals {
        let mut b = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder();
        for p in patterns {
            b.add(p);
        }
        match b.build() {
            Some(s) => Literals::Packed(s),
            None => Literals::Automaton(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(patterns)
                    .expect("static patterns build"),
            ),
        }
    }

    pub fn is_match(&self, hay: &[u8]) -> bool {
        match self {
            Literals::Packed(s) => s.find(hay).is_some(),
            Literals::Automaton(a) => a.is_match(hay),
        }
    }

    /// Non-overlapping matches, leftmost-first (a pattern listed earlier wins a tie).
    pub fn find_iter<'h>(&'h self, hay: &'h [u8]) -> Box<dyn Iterator<Item = Match> + 'h> {
        match self {
            Literals::Packed(s) => Box::new(s.find_iter(hay)),
            Literals::Automaton(a) => Box::new(a.find_iter(hay)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_and_automaton_agree() {
        let words = ["data:", " crt ", "owner", "owner-team:"];
        let hay = b"metadata:\n  owner-team: a\nbind :443 ssl crt /x\nowner\n data:";
        let packed = Literals::new(&words);
        assert!(
            matches!(packed, Literals::Packed(_)),
            "this CPU has SSSE3/AVX2"
        );
        let auto = Literals::Automaton(
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostFirst)
                .build(words)
                .unwrap(),
        );
        let a: Vec<_> = packed
            .find_iter(hay)
            .map(|m| (m.pattern().as_usize(), m.start()))
            .collect();
        let b: Vec<_> = auto
            .find_iter(hay)
            .map(|m| (m.pattern().as_usize(), m.start()))
            .collect();
        assert_eq!(a, b);
        let ids: Vec<usize> = a.iter().map(|m| m.0).collect();
        assert_eq!(
            ids,
            [0, 2, 1, 2, 0],
            "leftmost-first: `owner` wins over `owner-team:`"
        );
        assert_eq!(a[0].1, 4, "`data:` at the end of `metadata:`");
        assert!(packed.is_match(hay) && !packed.is_match(b"nothing here"));
    }
}
