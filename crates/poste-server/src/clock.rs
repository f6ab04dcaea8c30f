//! The one place the server reads the clocks (`clippy.toml` fences the reads everywhere else).
//! Domain code takes `now` as a parameter; a request reads it once ([`Now::read`]).

use std::time::Instant;

use jiff::tz::TimeZone;
use poste_store::Millis;

/// Unix time in milliseconds.
#[allow(clippy::disallowed_methods)] // the one wall-clock read
pub fn now_ms() -> Millis {
    jiff::Timestamp::now().as_millisecond()
}

/// The monotonic clock, for intervals (throttles, rates, timeouts): never jumps.
#[allow(clippy::disallowed_methods)] // the one monotonic-clock read
pub fn monotonic() -> Instant {
    Instant::now()
}

/// The instant a request is handled at, read once: the wall clock (what is stored and shown)
/// and the monotonic one (throttles, intervals).
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub wall: Millis,
    pub mono: Instant,
}

impl Now {
    pub fn read() -> Now {
        Now {
            wall: now_ms(),
            mono: monotonic(),
        }
    }
}

/// RFC 3339 (UTC, whole seconds) as the seed writes `debut_session`: `2025-11-19T10:00:00Z`.
pub fn rfc3339(ms: Millis) -> String {
    jiff::Timestamp::from_second(ms.div_euclid(1000))
        .map(|ts| ts.to_string())
        .unwrap_or_default()
}

/// `14:05` in the space's time zone.
pub fn local_time(ms: Millis, tz: &TimeZone) -> String {
    format_local(ms, tz, "%H:%M")
}

/// `24/11/2026` in the space's time zone.
pub fn local_date(ms: Millis, tz: &TimeZone) -> String {
    format_local(ms, tz, "%d/%m/%Y")
}

/// The day it is at `ms` in the space's time zone.
pub fn local_day(ms: Millis, tz: &TimeZone) -> jiff::civil::Date {
    jiff::Timestamp::from_millisecond(ms)
        .map(|ts| ts.to_zoned_datetime(tz.clone()).date())
        .unwrap_or_default()
}

/// `24/11/2026 14:05` in the space's time zone.
pub fn local_datetime(ms: Millis, tz: &TimeZone) -> String {
    format_local(ms, tz, "%d/%m/%Y %H:%M")
}

fn format_local(ms: Millis, tz: &TimeZone, format: &str) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|ts| {
            ts.to_zoned_datetime(tz.clone())
                .strftime(format)
                .to_string()
        })
        .unwrap_or_default()
}
