//! Opening hours of the space: one opening time and one closing time per weekday (or closed).
//! A session never runs past closing time, and no code is accepted while the space is closed.
//! With no hours at all (the default) the space is always open.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use poste_store::Millis;

/// Monday first, as the week is written in France.
pub const WEEKDAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayHours {
    pub open: Time,
    pub close: Time,
}

/// Hours per weekday, Monday first; `None` is a closed day. All `None` and `always_open`:
/// no restriction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpeningHours {
    days: [Option<DayHours>; 7],
}

/// Where "now" stands against the opening hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// No hours configured.
    AlwaysOpen,
    /// Open until this instant (today's closing time).
    OpenUntil(Millis),
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("expected 7 days separated by `;`")]
    DayCount,
    #[error("day {0}: expected HH:MM-HH:MM or nothing")]
    Malformed(usize),
    #[error("day {0}: closing must come after opening")]
    Order(usize),
}

impl OpeningHours {
    pub fn new(days: [Option<DayHours>; 7]) -> Self {
        OpeningHours { days }
    }

    pub fn day(&self, index: usize) -> Option<DayHours> {
        self.days.get(index).copied().flatten()
    }

    pub fn always_open(&self) -> bool {
        self.days.iter().all(Option::is_none)
    }

    /// Parses the stored form: seven `HH:MM-HH:MM` (or empty for a closed day), Monday first,
    /// separated by `;`. The empty string is "always open".
    pub fn parse(text: &str) -> Result<Self, HoursError> {
        if text.trim().is_empty() {
            return Ok(OpeningHours::default());
        }
        let parts: Vec<&str> = text.split(';').collect();
        if parts.len() != 7 {
            return Err(HoursError::DayCount);
        }
        let mut days = [None; 7];
        for (index, part) in parts.iter().enumerate() {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (open, close) = part.split_once('-').ok_or(HoursError::Malformed(index))?;
            let parse = |t: &str| {
                Time::strptime("%H:%M", t.trim()).map_err(|_| HoursError::Malformed(index))
            };
            let (open, close) = (parse(open)?, parse(close)?);
            if close <= open {
                return Err(HoursError::Order(index));
            }
            days[index] = Some(DayHours { open, close });
        }
        Ok(OpeningHours { days })
    }

    /// The stored form (see [`OpeningHours::parse`]).
    pub fn format(&self) -> String {
        if self.always_open() {
            return String::new();
        }
        self.days
            .iter()
            .map(|day| match day {
                Some(d) => format!("{}-{}", d.open.strftime("%H:%M"), d.close.strftime("%H:%M")),
                None => String::new(),
            })
            .collect::<Vec<_>>()
            .join(";")
    }

    /// Whether the space is open at `now`, and until when.
    pub fn at(&self, now: Millis, tz: &TimeZone) -> Opening {
        if self.always_open() {
            return Opening::AlwaysOpen;
        }
        let Ok(ts) = jiff::Timestamp::from_millisecond(now) else {
            return Opening::AlwaysOpen;
        };
        let zoned = ts.to_zoned_datetime(tz.clone());
        let index = usize::from(zoned.weekday().to_monday_zero_offset().unsigned_abs());
        let Some(hours) = self.day(index) else {
            return Opening::Closed;
        };
        let time = zoned.time();
        if time < hours.open || time >= hours.close {
            return Opening::Closed;
        }
        match zoned
            .date()
            .to_datetime(hours.close)
            .to_zoned_datetime(tz.clone())
        {
            Ok(close) => Opening::OpenUntil(close.timestamp().as_millisecond()),
            Err(_) => Opening::AlwaysOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(text: &str) -> Millis {
        text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn parses_and_formats_the_week() {
        let text = "09:00-18:00;09:00-18:00;13:30-17:00;09:00-18:00;09:00-18:00;09:00-12:00;";
        let hours = OpeningHours::parse(text).unwrap();
        assert_eq!(hours.format(), text);
        assert!(hours.day(6).is_none());
        assert_eq!(OpeningHours::parse("").unwrap(), OpeningHours::default());
        assert_eq!(
            OpeningHours::parse("09:00-18:00"),
            Err(HoursError::DayCount)
        );
        assert_eq!(
            OpeningHours::parse("18:00-09:00;;;;;;"),
            Err(HoursError::Order(0))
        );
        assert_eq!(
            OpeningHours::parse("9h;;;;;;"),
            Err(HoursError::Malformed(0))
        );
    }

    #[test]
    fn tells_open_until_closing_or_closed() {
        let tz = TimeZone::get("Indian/Reunion").unwrap(); // UTC+4
        let hours = OpeningHours::parse("09:00-18:00;;;;;;").unwrap();
        // Monday 2026-11-23, 10:00 local = 06:00 UTC: open until 18:00 local = 14:00 UTC.
        assert_eq!(
            hours.at(at("2026-11-23T06:00:00Z"), &tz),
            Opening::OpenUntil(at("2026-11-23T14:00:00Z"))
        );
        // Before opening, after closing, and on a closed day.
        assert_eq!(hours.at(at("2026-11-23T04:59:00Z"), &tz), Opening::Closed);
        assert_eq!(hours.at(at("2026-11-23T14:00:00Z"), &tz), Opening::Closed);
        assert_eq!(hours.at(at("2026-11-24T06:00:00Z"), &tz), Opening::Closed);
        assert_eq!(
            OpeningHours::default().at(at("2026-11-24T06:00:00Z"), &tz),
            Opening::AlwaysOpen
        );
    }
}
