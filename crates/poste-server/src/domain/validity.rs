//! How long an unused access code stays valid: a rule of the space, applied with `now` and the
//! space's time zone as parameters.

use jiff::tz::TimeZone;
use poste_store::Millis;

use crate::domain::duration::{compact_duration, parse_duration};

/// How long an unused code stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeValidity {
    /// Until the next midnight in the configured time zone.
    EndOfDay,
    /// For this many seconds after creation.
    Secs(i64),
}

impl CodeValidity {
    pub fn parse(text: &str) -> Option<CodeValidity> {
        match text.trim() {
            "fin_de_journee" | "end_of_day" => Some(CodeValidity::EndOfDay),
            other => match parse_duration(other) {
                Ok(secs) if secs > 0 => Some(CodeValidity::Secs(secs)),
                _ => None,
            },
        }
    }

    /// As [`CodeValidity::parse`] takes it back (`fin_de_journee`, `4h`).
    pub fn format(self) -> String {
        match self {
            CodeValidity::EndOfDay => "fin_de_journee".to_owned(),
            CodeValidity::Secs(secs) => compact_duration(secs),
        }
    }

    pub fn valid_until(self, now: Millis, tz: &TimeZone) -> Millis {
        match self {
            CodeValidity::Secs(secs) => now.saturating_add(secs.saturating_mul(1000)),
            CodeValidity::EndOfDay => end_of_day(now, tz).unwrap_or(now + 24 * 3600 * 1000),
        }
    }
}

fn end_of_day(now: Millis, tz: &TimeZone) -> Option<Millis> {
    let zoned = jiff::Timestamp::from_millisecond(now)
        .ok()?
        .to_zoned_datetime(tz.clone());
    let midnight = zoned
        .date()
        .tomorrow()
        .ok()?
        .to_zoned_datetime(tz.clone())
        .ok()?;
    Some(midnight.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn code_validity_end_of_day_is_next_local_midnight() {
        let tz = TimeZone::get("Indian/Reunion").unwrap(); // UTC+4, no DST
        // 2026-11-24 10:00 UTC = 14:00 in La Réunion → valid until 2026-11-25 00:00 local = 20:00 UTC.
        let now = jiff::Timestamp::from_second(1_795_514_400)
            .unwrap()
            .as_millisecond();
        let until = CodeValidity::EndOfDay.valid_until(now, &tz);
        let expected: jiff::Timestamp = "2026-11-24T20:00:00Z".parse().unwrap();
        assert_eq!(until, expected.as_millisecond());
        assert_eq!(CodeValidity::parse("4h"), Some(CodeValidity::Secs(14_400)));
        assert_eq!(CodeValidity::parse("demain"), None);
    }
}
