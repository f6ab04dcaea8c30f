//! Durations as staff write them: `2h`, `1h30`, `90min`, `45s`, `1h30m15s`.

/// Why a duration was refused (the caller turns it into a French message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration")]
    Empty,
    #[error("a number needs a unit (h, min, s)")]
    MissingUnit,
    #[error("unknown unit `{0}`")]
    UnknownUnit(String),
    #[error("malformed duration")]
    Malformed,
    #[error("duration too large")]
    TooLarge,
}

/// Parses a duration into seconds. Units: `h`, `m`/`min`, `s`/`sec`, combinable in decreasing
/// order; a trailing bare number after hours means minutes (`1h30`). A lone number is refused:
/// "120" could mean seconds or minutes, and a visitor would pay for the guess.
pub fn parse_duration(input: &str) -> Result<i64, DurationError> {
    let text: String = input
        .trim()
        .to_ascii_lowercase()
        .chars()
        .filter(|ch| !ch.is_whitespace())
        .collect();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut total: i64 = 0;
    let mut rest = text.as_str();
    let mut last_unit_secs: Option<i64> = None;
    while !rest.is_empty() {
        let digits_end = rest
            .find(|ch: char| !ch.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits_end == 0 {
            return Err(DurationError::Malformed);
        }
        let number: i64 = rest[..digits_end]
            .parse()
            .map_err(|_| DurationError::TooLarge)?;
        rest = &rest[digits_end..];
        let unit_end = rest
            .find(|ch: char| ch.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let unit_secs = match unit {
            "h" => 3600,
            "m" | "min" | "mn" => 60,
            "s" | "sec" => 1,
            // `1h30`: a bare number right after hours is minutes.
            "" if last_unit_secs == Some(3600) => 60,
            "" => return Err(DurationError::MissingUnit),
            other => return Err(DurationError::UnknownUnit(other.to_owned())),
        };
        if last_unit_secs.is_some_and(|last| unit_secs >= last) {
            return Err(DurationError::Malformed);
        }
        last_unit_secs = Some(unit_secs);
        total = number
            .checked_mul(unit_secs)
            .and_then(|secs| total.checked_add(secs))
            .ok_or(DurationError::TooLarge)?;
    }
    Ok(total)
}

/// `4h`, `90min`, `45s`: a duration as [`parse_duration`] takes it back.
pub fn compact_duration(secs: i64) -> String {
    if secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else if secs % 60 == 0 {
        format!("{}min", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// Writes seconds the way staff read them: `2 h`, `1 h 30 min`, `45 s`.
pub fn format_duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (hours, minutes, seconds) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut parts = Vec::new();
    if hours > 0 {
        parts.push(format!("{hours} h"));
    }
    if minutes > 0 {
        parts.push(format!("{minutes} min"));
    }
    if seconds > 0 || parts.is_empty() {
        parts.push(format!("{seconds} s"));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_staff_write() {
        assert_eq!(parse_duration("2h"), Ok(7200));
        assert_eq!(parse_duration(" 2H "), Ok(7200));
        assert_eq!(parse_duration("1h30"), Ok(5400));
        assert_eq!(parse_duration("1h30min"), Ok(5400));
        assert_eq!(parse_duration("1h 30m 15s"), Ok(5415));
        assert_eq!(parse_duration("90min"), Ok(5400));
        assert_eq!(parse_duration("45s"), Ok(45));
        assert_eq!(parse_duration("15mn"), Ok(900));
    }

    #[test]
    fn refuses_ambiguous_or_broken_input() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(parse_duration("120"), Err(DurationError::MissingUnit));
        assert_eq!(
            parse_duration("2j"),
            Err(DurationError::UnknownUnit("j".into()))
        );
        assert_eq!(parse_duration("h"), Err(DurationError::Malformed));
        assert_eq!(parse_duration("30m2h"), Err(DurationError::Malformed));
        assert_eq!(parse_duration("-5m"), Err(DurationError::Malformed));
        assert_eq!(
            parse_duration("99999999999999999999h"),
            Err(DurationError::TooLarge)
        );
        assert_eq!(
            parse_duration("9999999999999999h"),
            Err(DurationError::TooLarge)
        );
    }

    #[test]
    fn formats_for_people() {
        assert_eq!(format_duration(7200), "2 h");
        assert_eq!(format_duration(5415), "1 h 30 min 15 s");
        assert_eq!(format_duration(45), "45 s");
        assert_eq!(format_duration(0), "0 s");
    }
}
