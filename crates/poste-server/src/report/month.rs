//! A calendar month of the space (`2026-11`), in its time zone: what a report covers, how a
//! month is typed in a link, and which month the automatic report owes (`now` is a parameter).

use std::fmt;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use poste_store::Millis;

use crate::text::console as t;

/// A calendar month: `year` and `month` (1–12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i16,
    month: i8,
}

/// Why a typed month was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid month `{0}` (expected YYYY-MM)")]
pub struct MonthError(pub String);

impl Month {
    pub fn new(year: i16, month: i8) -> Option<Month> {
        ((1..=12).contains(&month) && (1970..=9998).contains(&year))
            .then_some(Month { year, month })
    }

    /// `2026-11` (what links and the store carry).
    pub fn parse(text: &str) -> Result<Month, MonthError> {
        let refused = || MonthError(text.chars().take(20).collect());
        let (year, month) = text.trim().split_once('-').ok_or_else(refused)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(refused());
        }
        let (Ok(year), Ok(month)) = (year.parse::<i16>(), month.parse::<i8>()) else {
            return Err(refused());
        };
        Month::new(year, month).ok_or_else(refused)
    }

    /// The month `at` falls in, in `tz`.
    pub fn containing(at: Millis, tz: &TimeZone) -> Option<Month> {
        let date = jiff::Timestamp::from_millisecond(at)
            .ok()?
            .to_zoned_datetime(tz.clone())
            .date();
        Month::new(date.year(), date.month())
    }

    pub fn previous(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn first_day(self) -> Date {
        Date::constant(self.year, self.month, 1)
    }

    /// Every day of the month, in order.
    pub fn days(self) -> Vec<Date> {
        let first = self.first_day();
        (0..first.days_in_month())
            .filter_map(|offset| first.checked_add(jiff::Span::new().days(offset)).ok())
            .collect()
    }

    /// Midnight of the first day, in `tz`.
    pub fn start(self, tz: &TimeZone) -> Millis {
        midnight(self.first_day(), tz)
    }

    /// Midnight of the next month's first day, in `tz` (the end, excluded).
    pub fn end(self, tz: &TimeZone) -> Millis {
        self.next().start(tz)
    }

    /// `novembre 2026`.
    pub fn name(self) -> String {
        t::month(self.month, self.year).1
    }
}

/// Midnight of `day` in `tz` (the first instant of the day where midnight is skipped).
pub fn midnight(day: Date, tz: &TimeZone) -> Millis {
    day.to_zoned_datetime(tz.clone())
        .map(|zoned| zoned.timestamp().as_millisecond())
        .unwrap_or(0)
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// The month whose automatic report is owed at `now`: the last month that has ended in the
/// space's time zone, unless it was already sent (`last_sent`) or it ended before `since` (when
/// the event log begins: a new install does not mail the report of a month it never saw).
pub fn month_due(
    now: Millis,
    tz: &TimeZone,
    last_sent: Option<Month>,
    since: Millis,
) -> Option<Month> {
    let ended = Month::containing(now, tz)?.previous();
    if last_sent.is_some_and(|sent| sent >= ended) {
        return None;
    }
    // A month that ended before the server was first set up has nothing to report.
    (ended.end(tz) > since).then_some(ended)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(text: &str) -> Millis {
        text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn months_are_typed_as_year_dash_month() {
        assert_eq!(
            Month::parse("2026-11").unwrap(),
            Month::new(2026, 11).unwrap()
        );
        assert_eq!(Month::parse(" 2026-01 ").unwrap().to_string(), "2026-01");
        for bad in [
            "",
            "2026",
            "2026-13",
            "2026-00",
            "26-11",
            "2026-1",
            "2026-1a",
            "novembre",
            "-2026-11",
            "2026-11-01",
        ] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Month::parse("2026-11").unwrap().name(), "novembre 2026");
    }

    #[test]
    fn months_follow_each_other_across_years() {
        let january = Month::new(2027, 1).unwrap();
        assert_eq!(january.previous(), Month::new(2026, 12).unwrap());
        assert_eq!(january.previous().next(), january);
        assert_eq!(Month::new(2026, 2).unwrap().days().len(), 28);
        assert_eq!(Month::new(2028, 2).unwrap().days().len(), 29);
    }

    #[test]
    fn a_month_starts_at_local_midnight() {
        let tz = TimeZone::get("Indian/Reunion").unwrap();
        let november = Month::new(2026, 11).unwrap();
        assert_eq!(november.start(&tz), at("2026-10-31T20:00:00Z"));
        assert_eq!(november.end(&tz), at("2026-11-30T20:00:00Z"));
    }

    #[test]
    fn the_month_due_is_the_last_one_ended_in_the_space_time_zone() {
        let tz = TimeZone::get("Indian/Reunion").unwrap();
        let november = Month::new(2026, 11).unwrap();
        let installed = at("2026-06-01T00:00:00Z");
        // 30 November 23:30 in Réunion: November has not ended there, October is due.
        let late_november = at("2026-11-30T19:30:00Z");
        assert_eq!(
            month_due(late_november, &tz, None, installed),
            Some(Month::new(2026, 10).unwrap())
        );
        // 1 December 00:30 in Réunion (still 30 November in UTC): November is due.
        let early_december = at("2026-11-30T20:30:00Z");
        assert_eq!(
            month_due(early_december, &tz, None, installed),
            Some(november)
        );
        // Once sent, nothing until the end of December.
        assert_eq!(
            month_due(early_december, &tz, Some(november), installed),
            None
        );
        assert_eq!(
            month_due(at("2026-12-31T20:30:00Z"), &tz, Some(november), installed),
            Some(Month::new(2026, 12).unwrap())
        );
        // A server set up on 15 December owes no report of November.
        assert_eq!(
            month_due(
                at("2027-01-02T00:00:00Z"),
                &tz,
                None,
                at("2026-12-15T00:00:00Z")
            ),
            Some(Month::new(2026, 12).unwrap())
        );
        assert_eq!(
            month_due(
                at("2026-12-20T00:00:00Z"),
                &tz,
                None,
                at("2026-12-15T00:00:00Z")
            ),
            None
        );
    }
}
