//! Opening hours of the space: per weekday, closed or one or two periods (a morning and an
//! afternoon around a lunch break). A session never runs past the end of the current period,
//! and no code is accepted while the space is closed (the lunch break included). With no hours
//! at all (the default) the space is always open.

use std::collections::BTreeMap;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use poste_store::Millis;
use serde::{Deserialize, Serialize};

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

/// One period of a day the space is open, `open` to `close` (`close` after `open`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayHours {
    pub open: Time,
    pub close: Time,
}

impl DayHours {
    /// `09:00-12:00`, as stored.
    fn text(&self) -> String {
        format!(
            "{}-{}",
            self.open.strftime("%H:%M"),
            self.close.strftime("%H:%M")
        )
    }
}

/// `09:30` (spaces around allowed), as hours are typed and stored.
pub fn parse_time(text: &str) -> Option<Time> {
    Time::strptime("%H:%M", text.trim()).ok()
}

/// At most this many periods a day: a morning and an afternoon. What the console's form can
/// show is what the hours can hold, so nothing set is ever shown truncated.
pub const MAX_PERIODS: usize = 2;

/// Hours per weekday, Monday first: each day's periods in order, none for a closed day. All
/// empty (`always_open`): no restriction. Special days (a public holiday, a closure for works,
/// an exceptional opening) replace their weekday's hours on their date.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpeningHours {
    days: [Vec<DayHours>; 7],
    special: BTreeMap<Date, SpecialDay>,
}

/// A date whose hours are not its weekday's: closed all day (no periods) or open for one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialDay {
    /// What staff called it (« Noël », « Travaux »), shown in the console.
    pub label: String,
    pub periods: Vec<DayHours>,
}

/// The stored form of a special day (the setting `special_days` is a JSON list of them: any
/// label survives, whatever its characters).
#[derive(Debug, Serialize, Deserialize)]
struct StoredSpecialDay {
    /// `YYYY-MM-DD`.
    date: String,
    libelle: String,
    /// `HH:MM-HH:MM`, or empty when closed.
    #[serde(default)]
    horaires: String,
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

/// Why the space closes at the end of a period: what a visitor's warning says with the time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closing {
    /// A break: the space opens again that day at this time (`13:30`).
    Break { reopens: String },
    /// The day's last period, on a special day: its label (« Veille de Noël »).
    SpecialDay { label: String },
    /// The day's last period.
    EndOfDay,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("special days: {0}")]
    Special(String),
    #[error("expected 7 days separated by `;`")]
    DayCount,
    #[error("day {0}: expected HH:MM-HH:MM (twice at most, by `,`) or nothing")]
    Malformed(usize),
    #[error("day {0}: each period must close after it opens, and after the one before it")]
    Order(usize),
}

impl OpeningHours {
    /// `Order` for a day whose periods are not in order or overlap, `Malformed` for more than
    /// [`MAX_PERIODS`].
    pub fn new(days: [Vec<DayHours>; 7]) -> Result<Self, HoursError> {
        for (index, periods) in days.iter().enumerate() {
            if periods.len() > MAX_PERIODS {
                return Err(HoursError::Malformed(index));
            }
            let mut previous_close = None;
            for period in periods {
                if period.close <= period.open || previous_close.is_some_and(|c| period.open <= c) {
                    return Err(HoursError::Order(index));
                }
                previous_close = Some(period.close);
            }
        }
        Ok(OpeningHours {
            days,
            special: BTreeMap::new(),
        })
    }

    /// These weekly hours with `special` days instead of the ones they had.
    pub fn with_special_days(mut self, special: BTreeMap<Date, SpecialDay>) -> Self {
        self.special = special;
        self
    }

    pub fn special_days(&self) -> &BTreeMap<Date, SpecialDay> {
        &self.special
    }

    /// Parses the stored special days (a JSON list; empty text: none).
    pub fn parse_special_days(text: &str) -> Result<BTreeMap<Date, SpecialDay>, HoursError> {
        if text.trim().is_empty() {
            return Ok(BTreeMap::new());
        }
        let stored: Vec<StoredSpecialDay> =
            serde_json::from_str(text).map_err(|err| HoursError::Special(err.to_string()))?;
        let mut days = BTreeMap::new();
        for day in stored {
            let date: Date = day
                .date
                .parse()
                .map_err(|_| HoursError::Special(format!("{}: not a date", day.date)))?;
            let periods = if day.horaires.trim().is_empty() {
                Vec::new()
            } else {
                let (open, close) = day
                    .horaires
                    .split_once('-')
                    .and_then(|(o, c)| Some((parse_time(o)?, parse_time(c)?)))
                    .filter(|(o, c)| o < c)
                    .ok_or_else(|| HoursError::Special(format!("{date}: hours")))?;
                vec![DayHours { open, close }]
            };
            let label = day.libelle.trim().to_owned();
            if label.is_empty() || days.contains_key(&date) {
                return Err(HoursError::Special(format!("{date}: label or twice")));
            }
            days.insert(date, SpecialDay { label, periods });
        }
        Ok(days)
    }

    /// The stored form of special days (see [`OpeningHours::parse_special_days`]).
    pub fn format_special_days(days: &BTreeMap<Date, SpecialDay>) -> String {
        let stored: Vec<StoredSpecialDay> = days
            .iter()
            .map(|(date, day)| StoredSpecialDay {
                date: date.to_string(),
                libelle: day.label.clone(),
                horaires: day
                    .periods
                    .iter()
                    .map(DayHours::text)
                    .collect::<Vec<_>>()
                    .join(","),
            })
            .collect();
        serde_json::to_string(&stored).unwrap_or_default()
    }

    /// The periods of `date`: its special day's, or its weekday's; `None` when nothing limits
    /// that day (no weekly hours and no special day).
    pub fn periods_on(&self, date: Date) -> Option<&[DayHours]> {
        if let Some(special) = self.special.get(&date) {
            return Some(&special.periods);
        }
        if self.always_open() {
            return None;
        }
        let index = usize::from(date.weekday().to_monday_zero_offset().unsigned_abs());
        Some(self.day(index))
    }

    /// The periods of day `index` (Monday 0), in order; empty when closed.
    pub fn day(&self, index: usize) -> &[DayHours] {
        self.days.get(index).map_or(&[], Vec::as_slice)
    }

    /// No weekly hours (special days may still limit their dates).
    pub fn always_open(&self) -> bool {
        self.days.iter().all(Vec::is_empty)
    }

    /// Parses the stored form: seven days, Monday first, separated by `;`, each empty (closed)
    /// or one or two `HH:MM-HH:MM` separated by `,` (`09:00-12:00,13:30-17:30`). The empty
    /// string is "always open".
    pub fn parse(text: &str) -> Result<Self, HoursError> {
        if text.trim().is_empty() {
            return Ok(OpeningHours::default());
        }
        let parts: Vec<&str> = text.split(';').collect();
        if parts.len() != 7 {
            return Err(HoursError::DayCount);
        }
        let mut days: [Vec<DayHours>; 7] = Default::default();
        for (index, part) in parts.iter().enumerate() {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            for period in part.split(',') {
                let (open, close) = period.split_once('-').ok_or(HoursError::Malformed(index))?;
                let parse = |t: &str| parse_time(t).ok_or(HoursError::Malformed(index));
                days[index].push(DayHours {
                    open: parse(open)?,
                    close: parse(close)?,
                });
            }
        }
        OpeningHours::new(days)
    }

    /// The stored form of the weekly hours (see [`OpeningHours::parse`]).
    pub fn format(&self) -> String {
        if self.always_open() {
            return String::new();
        }
        self.days
            .iter()
            .map(|periods| {
                periods
                    .iter()
                    .map(DayHours::text)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect::<Vec<_>>()
            .join(";")
    }

    /// Why the space closes at `close`, the end of one of its periods (as [`OpeningHours::at`]
    /// gives it): a break when another period follows that day, else the day's end.
    pub fn closing(&self, close: Millis, tz: &TimeZone) -> Closing {
        let Ok(ts) = jiff::Timestamp::from_millisecond(close) else {
            return Closing::EndOfDay;
        };
        let zoned = ts.to_zoned_datetime(tz.clone());
        let (date, time) = (zoned.date(), zoned.time());
        let periods = self.periods_on(date).unwrap_or_default();
        if let Some(next) = periods.iter().find(|period| period.open >= time) {
            return Closing::Break {
                reopens: next.open.strftime("%H:%M").to_string(),
            };
        }
        match self.special.get(&date) {
            Some(day) => Closing::SpecialDay {
                label: day.label.clone(),
            },
            None => Closing::EndOfDay,
        }
    }

    /// Whether the space is open at `now`, and until when.
    pub fn at(&self, now: Millis, tz: &TimeZone) -> Opening {
        let Ok(ts) = jiff::Timestamp::from_millisecond(now) else {
            return Opening::AlwaysOpen;
        };
        let zoned = ts.to_zoned_datetime(tz.clone());
        let Some(periods) = self.periods_on(zoned.date()) else {
            return Opening::AlwaysOpen;
        };
        let time = zoned.time();
        let Some(hours) = periods
            .iter()
            .find(|period| period.open <= time && time < period.close)
        else {
            return Opening::Closed;
        };
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
        assert!(hours.day(6).is_empty());
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
    fn a_day_has_a_morning_and_an_afternoon_in_order() {
        let text = "09:00-12:00,13:30-17:30;;;;;09:00-12:30;";
        let hours = OpeningHours::parse(text).unwrap();
        assert_eq!(hours.format(), text);
        assert_eq!(hours.day(0).len(), 2);
        // Overlapping, reversed, or a third period: refused.
        for (text, error) in [
            ("09:00-13:00,12:00-17:00;;;;;;", HoursError::Order(0)),
            (";13:30-17:30,09:00-12:00;;;;;", HoursError::Order(1)),
            (";;09:00-12:00,12:00-17:00;;;;", HoursError::Order(2)),
            (
                ";;;08:00-09:00,10:00-11:00,12:00-13:00;;;",
                HoursError::Malformed(3),
            ),
            (";;;;09:00-12:00,;;", HoursError::Malformed(4)),
        ] {
            assert_eq!(OpeningHours::parse(text), Err(error), "{text}");
        }
    }

    #[test]
    fn the_lunch_break_is_closed_and_each_period_ends_at_its_own_close() {
        let tz = TimeZone::get("Indian/Reunion").unwrap(); // UTC+4
        let hours = OpeningHours::parse("09:00-12:00,13:30-17:30;;;;;;").unwrap();
        // Monday 2026-11-23: 10:00 local is open until 12:00, 12:45 closed, 14:00 open until
        // 17:30.
        assert_eq!(
            hours.at(at("2026-11-23T06:00:00Z"), &tz),
            Opening::OpenUntil(at("2026-11-23T08:00:00Z"))
        );
        assert_eq!(hours.at(at("2026-11-23T08:00:00Z"), &tz), Opening::Closed);
        assert_eq!(hours.at(at("2026-11-23T08:45:00Z"), &tz), Opening::Closed);
        assert_eq!(
            hours.at(at("2026-11-23T10:00:00Z"), &tz),
            Opening::OpenUntil(at("2026-11-23T13:30:00Z"))
        );
    }

    #[test]
    fn a_closing_is_a_break_the_days_end_or_a_special_days_end() {
        let tz = TimeZone::get("Europe/Paris").unwrap();
        let special = OpeningHours::parse_special_days(
            r#"[{"date":"2026-12-24","libelle":"Veille de Noël","horaires":"09:00-16:00"}]"#,
        )
        .unwrap();
        // Saturdays 09:00-12:00 and 14:00-18:00, Thursdays 09:00-18:00; Thursday 24 December
        // 09:00-16:00 only.
        let hours = OpeningHours::parse(";;;09:00-18:00;;09:00-12:00,14:00-18:00;")
            .unwrap()
            .with_special_days(special);
        // Saturday 2026-10-31 (UTC+1, after the change): noon is the break, 18:00 the end.
        assert_eq!(
            hours.closing(at("2026-10-31T11:00:00Z"), &tz),
            Closing::Break {
                reopens: "14:00".to_owned()
            }
        );
        assert_eq!(
            hours.closing(at("2026-10-31T17:00:00Z"), &tz),
            Closing::EndOfDay
        );
        // The same noon a week before the change (UTC+2).
        assert!(matches!(
            hours.closing(at("2026-10-24T10:00:00Z"), &tz),
            Closing::Break { .. }
        ));
        assert_eq!(
            hours.closing(at("2026-12-24T15:00:00Z"), &tz),
            Closing::SpecialDay {
                label: "Veille de Noël".to_owned()
            }
        );
        assert_eq!(
            hours.closing(at("2026-12-31T17:00:00Z"), &tz),
            Closing::EndOfDay
        );
    }

    #[test]
    fn closing_is_local_time_across_a_daylight_saving_change() {
        // Paris went from UTC+2 to UTC+1 on Sunday 2026-10-25: the space closes at 18:00
        // local on both Saturdays, 16:00 UTC before and 17:00 UTC after.
        let tz = TimeZone::get("Europe/Paris").unwrap();
        let hours = OpeningHours::parse(";;;;;09:00-12:00,14:00-18:00;").unwrap();
        assert_eq!(
            hours.at(at("2026-10-24T13:00:00Z"), &tz),
            Opening::OpenUntil(at("2026-10-24T16:00:00Z"))
        );
        assert_eq!(
            hours.at(at("2026-10-31T14:00:00Z"), &tz),
            Opening::OpenUntil(at("2026-10-31T17:00:00Z"))
        );
        // 13:30 local, in the break, on either side of the change.
        assert_eq!(hours.at(at("2026-10-24T11:30:00Z"), &tz), Opening::Closed);
        assert_eq!(hours.at(at("2026-10-31T12:30:00Z"), &tz), Opening::Closed);
    }

    #[test]
    fn a_special_day_replaces_its_weekday_and_round_trips() {
        let tz = TimeZone::get("Indian/Reunion").unwrap();
        let date = |s: &str| s.parse::<Date>().unwrap();
        let special = OpeningHours::parse_special_days(
            r#"[{"date":"2026-12-21","libelle":"Inventaire ; fermé","horaires":""},
                {"date":"2026-12-24","libelle":"Veille de Noël","horaires":"09:00-12:00"}]"#,
        )
        .unwrap();
        assert_eq!(
            OpeningHours::parse_special_days(&OpeningHours::format_special_days(&special)),
            Ok(special.clone())
        );
        // Monday 2026-12-21 closed though Mondays are open; Thursday 24th until noon only;
        // Monday 28th as every Monday.
        let hours = OpeningHours::parse("09:00-18:00;;;09:00-18:00;;;")
            .unwrap()
            .with_special_days(special.clone());
        assert_eq!(hours.at(at("2026-12-21T06:00:00Z"), &tz), Opening::Closed);
        assert_eq!(
            hours.at(at("2026-12-24T06:00:00Z"), &tz),
            Opening::OpenUntil(at("2026-12-24T08:00:00Z"))
        );
        assert_eq!(hours.at(at("2026-12-24T08:30:00Z"), &tz), Opening::Closed);
        assert_eq!(
            hours.at(at("2026-12-28T06:00:00Z"), &tz),
            Opening::OpenUntil(at("2026-12-28T14:00:00Z"))
        );
        // With no weekly hours, a special day still limits its own date, and only it.
        let only = OpeningHours::default().with_special_days(special);
        assert_eq!(only.at(at("2026-12-21T06:00:00Z"), &tz), Opening::Closed);
        assert_eq!(
            only.at(at("2026-12-22T06:00:00Z"), &tz),
            Opening::AlwaysOpen
        );
        assert_eq!(only.periods_on(date("2026-12-22")), None);
        // Refused: reversed hours, a day twice, no label, not JSON.
        for text in [
            r#"[{"date":"2026-12-21","libelle":"x","horaires":"12:00-09:00"}]"#,
            r#"[{"date":"2026-12-21","libelle":"x"},{"date":"2026-12-21","libelle":"y"}]"#,
            r#"[{"date":"2026-12-21","libelle":" "}]"#,
            "2026-12-21",
        ] {
            assert!(OpeningHours::parse_special_days(text).is_err(), "{text}");
        }
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
