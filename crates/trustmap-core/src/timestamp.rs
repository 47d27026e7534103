//! [`Timestamp`]: an instant in UTC, typed inside trustmap and RFC 3339 only at the edges
//! (JSON, the database, the terminal), always in one form: `2026-12-31T23:59:59Z`.
//!
//! Text timestamps compared as text are only right while every writer uses the same form; a
//! typed value is compared as time, and formatted once, by [`rfc3339`](crate::rfc3339).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An instant, second precision, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// The instant `t`, converted to UTC and truncated to the second.
    pub fn new(t: OffsetDateTime) -> Timestamp {
        let t = utc(t);
        Timestamp(t.replace_nanosecond(0).unwrap_or(t))
    }

    /// Parses RFC 3339 (any offset; stored as UTC).
    pub fn parse(s: &str) -> Option<Timestamp> {
        OffsetDateTime::parse(s, &Rfc3339).ok().map(Timestamp::new)
    }

    /// The instant as a `time` value.
    pub fn get(self) -> OffsetDateTime {
        self.0
    }
}

/// The Unix epoch: only as a placeholder in `Default` values of the model.
/// `t` in UTC. An instant whose UTC date falls outside the years -9999..=9999 that `time`
/// represents (`9999-12-31T23:59:59-23:59`, from a certificate or a policy file) is clamped
/// to the nearest representable instant instead of panicking as `to_offset` would.
pub fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.checked_to_offset(time::UtcOffset::UTC)
        .unwrap_or_else(|| {
            if t.year() > 0 {
                time::PrimitiveDateTime::MAX.assume_utc()
            } else {
                time::PrimitiveDateTime::MIN.assume_utc()
            }
        })
}

impl Default for Timestamp {
    fn default() -> Self {
        Timestamp(OffsetDateTime::UNIX_EPOCH)
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(t: OffsetDateTime) -> Self {
        Timestamp::new(t)
    }
}

impl From<Timestamp> for OffsetDateTime {
    fn from(t: Timestamp) -> Self {
        t.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::rfc3339(self.0))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_one_form_and_orders_as_time() {
        let t = Timestamp::parse("2026-12-31T23:59:59+02:00").unwrap();
        assert_eq!(t.to_string(), "2026-12-31T21:59:59Z");
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2026-12-31T21:59:59Z\""
        );
        let back: Timestamp = serde_json::from_str("\"2026-12-31T21:59:59Z\"").unwrap();
        assert_eq!(back, t);
        // As text "2026-12-31T23:00:00+02:00" sorts after "2026-12-31T22:00:00Z"; as time it
        // is earlier.
        let a = Timestamp::parse("2026-12-31T23:00:00+02:00").unwrap();
        let b = Timestamp::parse("2026-12-31T22:00:00Z").unwrap();
        assert!(a < b);
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
        assert_eq!(
            Timestamp::parse("9999-12-31T23:59:59Z")
                .unwrap()
                .to_string(),
            "9999-12-31T23:59:59Z"
        );
    }

    #[test]
    fn instants_past_year_9999_in_utc_clamp_instead_of_panicking() {
        // 9999-12-31T23:59:59-23:59 is 10000-01-01T23:58:59Z, which `time` cannot hold.
        let t = Timestamp::parse("9999-12-31T23:59:59-23:59").unwrap();
        assert_eq!(t.to_string(), "9999-12-31T23:59:59Z");
        let t = Timestamp::parse("-9999-01-01T00:00:00+23:59");
        assert!(t.is_none_or(|t| t.get().year() == -9999));
    }
}
