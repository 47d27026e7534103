//! One clock per request. The system clock is read once, when the request starts; every
//! judgement of the request (expiry, key age, whether a waiver is still active) uses the
//! same instant, which the caller may give instead (`--now`: "judge as if it were then").

use crate::Error;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The instants of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// When the request started, from the system clock: a scan's `started_at`, and the
    /// base its `finished_at` is measured from.
    pub started: OffsetDateTime,
    /// The instant findings and waivers are judged at: `started`, unless the caller gave one.
    pub now: OffsetDateTime,
}

impl Clock {
    /// Reads the system clock once; judges at that instant, or at `now` when given.
    pub fn start(now: Option<OffsetDateTime>) -> Clock {
        let started = OffsetDateTime::now_utc();
        Clock {
            started,
            now: now.unwrap_or(started),
        }
    }

    /// A clock stopped at `t` (tests, replays): started and judged at `t`.
    pub fn fixed(t: OffsetDateTime) -> Clock {
        Clock { started: t, now: t }
    }
}

/// `2026-12-31` (the start of that day, UTC) or RFC 3339, for `--now`.
pub fn parse_instant(s: &str) -> Result<OffsetDateTime, Error> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(trustmap_core::timestamp::utc(t));
    }
    Ok(parse_day(s)?.midnight().assume_utc())
}

/// `2026-12-31` (through the end of that day, UTC) or RFC 3339, as RFC 3339 UTC text: the
/// last instant of a waiver.
pub fn parse_until(s: &str) -> Result<String, Error> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(trustmap_core::rfc3339(t));
    }
    let end = parse_day(s)?
        .with_hms(23, 59, 59)
        .map_err(|_| Error::BadDate(s.to_string()))?;
    Ok(trustmap_core::rfc3339(end.assume_utc()))
}

fn parse_day(s: &str) -> Result<time::Date, Error> {
    let day = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &day).map_err(|_| Error::BadDate(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_and_days_parse_to_utc() {
        assert_eq!(parse_until("2026-12-31").unwrap(), "2026-12-31T23:59:59Z");
        assert_eq!(
            parse_until("2026-12-31T12:00:00+02:00").unwrap(),
            "2026-12-31T10:00:00Z"
        );
        assert!(parse_until("next week").is_err());
        assert!(parse_until("2026-13-01").is_err());
        let t = parse_instant("2030-01-01").unwrap();
        assert_eq!(trustmap_core::rfc3339(t), "2030-01-01T00:00:00Z");
        let t = parse_instant("2030-01-01T05:00:00+05:00").unwrap();
        assert_eq!(trustmap_core::rfc3339(t), "2030-01-01T00:00:00Z");
        assert!(matches!(parse_instant("soon"), Err(Error::BadDate(_))));
    }

    #[test]
    fn the_clock_is_read_once_and_can_be_given() {
        let given = parse_instant("2100-01-01").unwrap();
        let c = Clock::start(Some(given));
        assert_eq!(c.now, given);
        assert!(c.started < given);
        let c = Clock::start(None);
        assert_eq!(c.now, c.started);
    }
}
