//! The properties the fuzz targets check, one function per target, each taking the raw bytes
//! libFuzzer produces. They live here, not in `fuzz/`, so that the ordinary test suite replays
//! every input of `fuzz/regressions/` through the very same checks (`tests/regressions.rs`):
//! a crash found by fuzzing stays a failing test until it is fixed, without nightly.
//!
//! Each check panics (through `assert!`) when a property does not hold; that is how libFuzzer
//! and the replay test learn of it. A check never panics for input that is merely invalid:
//! refusing bad input with an error is the expected behaviour.

use std::io::Write;

use poste_proto::{ClientMessage, DecodeError, MAX_CODE_INPUT_LEN, ServerMessage};
use poste_server::domain::duration::{format_duration, parse_duration};
use poste_server::domain::opening::{Opening, OpeningHours};
use poste_server::domain::validity::CodeValidity;
use poste_server::settings::Settings;

/// The check of one target: panics when a property does not hold.
pub type Check = fn(&[u8]);

/// Every target, by the name of its directory under `fuzz/regressions/` and of its
/// `fuzz/fuzz_targets/*.rs` file.
pub const TARGETS: &[(&str, Check)] = &[
    ("client_message", client_message),
    ("server_message", server_message),
    ("normalize_code", normalize_code),
    ("duration", duration),
    ("opening_hours", opening_hours),
    ("settings", settings),
    ("server_config", server_config),
    ("agent_config", agent_config),
];

/// Runs the check of target `name` on `data`; `false` if there is no such target.
pub fn run(name: &str, data: &[u8]) -> bool {
    match TARGETS.iter().find(|(target, _)| *target == name) {
        Some((_, check)) => {
            check(data);
            true
        }
        None => false,
    }
}

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// `poste_proto::decode_client_message`, what the server does first with every WebSocket text
/// frame: never panics; the error kind matches the input (not JSON, no `type`, unknown `type`
/// kept short for the logs); a decoded message encodes back to itself.
pub fn client_message(data: &[u8]) {
    let Some(text) = text(data) else { return };
    match poste_proto::decode_client_message(text) {
        Ok(message) => {
            let json = serde_json::to_string(&message).unwrap_or_default();
            let again = poste_proto::decode_client_message(&json);
            assert_eq!(
                again.as_ref(),
                Ok(&message),
                "re-encoded as {json}: {again:?}"
            );
            if let ClientMessage::ValidateCode { code, .. } = &message {
                // The server normalises what it got: no panic on any code text either.
                let _ = poste_proto::normalize_code(code);
            }
        }
        Err(DecodeError::NotJson(_)) => {
            let value = serde_json::from_str::<serde_json::Value>(text);
            assert!(
                !matches!(value, Ok(serde_json::Value::Object(_))),
                "a JSON object reported as not JSON"
            );
        }
        Err(DecodeError::MissingType) => {
            let value: serde_json::Value =
                serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
            assert!(
                !value.get("type").is_some_and(serde_json::Value::is_string),
                "a string `type` reported missing"
            );
        }
        Err(DecodeError::UnknownType(kind)) => {
            assert!(kind.chars().count() <= 64, "unknown type echoed in full");
        }
        Err(DecodeError::InvalidFields { .. }) => {}
    }
}

/// What the agent decodes from the server: never panics, a decoded message encodes back to
/// itself.
pub fn server_message(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Ok(message) = serde_json::from_str::<ServerMessage>(text) {
        let json = serde_json::to_string(&message).unwrap_or_default();
        let again = serde_json::from_str::<ServerMessage>(&json).ok();
        assert_eq!(again.as_ref(), Some(&message), "re-encoded as {json}");
    }
}

/// `poste_proto::normalize_code`: idempotent, and what it returns is a non-empty run of
/// upper-case ASCII letters and digits no longer than the input limit.
pub fn normalize_code(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Some(code) = poste_proto::normalize_code(text) else {
        return;
    };
    assert!(!code.is_empty());
    assert!(code.len() <= MAX_CODE_INPUT_LEN);
    assert!(
        code.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        "{code:?}"
    );
    assert_eq!(
        poste_proto::normalize_code(&code).as_deref(),
        Some(code.as_str())
    );
    // What a visitor typed in lower case, or with the ticket's dash, is the same code.
    assert_eq!(
        poste_proto::normalize_code(&code.to_ascii_lowercase()).as_deref(),
        Some(code.as_str())
    );
}

/// `parse_duration`: never negative; a duration that parses formats to text that parses back
/// to the same seconds; a code validity built from it is positive.
pub fn duration(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(secs) = parse_duration(text) else {
        return;
    };
    assert!(secs >= 0, "{text:?} parsed to {secs}");
    let shown = format_duration(secs);
    assert_eq!(
        parse_duration(&shown),
        Ok(secs),
        "{text:?} shown as {shown:?}"
    );
    match CodeValidity::parse(text) {
        Some(CodeValidity::Secs(validity)) => assert!(validity > 0 && validity == secs),
        Some(CodeValidity::EndOfDay) => {}
        None => assert_eq!(secs, 0, "{text:?}"),
    }
}

/// `OpeningHours::parse`: parse → format → parse gives the same hours and the same text; at
/// any instant the space is open until a later instant, or closed.
pub fn opening_hours(data: &[u8]) {
    // The first 8 bytes pick the instant, the rest is the text.
    let (instant, rest) = data.split_at(data.len().min(8));
    let Some(text) = text(rest) else { return };
    let Ok(hours) = OpeningHours::parse(text) else {
        return;
    };
    let stored = hours.format();
    assert_eq!(
        OpeningHours::parse(&stored).as_ref(),
        Ok(&hours),
        "{text:?} stored as {stored:?}"
    );
    assert_eq!(
        OpeningHours::parse(&stored).map(|h| h.format()),
        Ok(stored.clone())
    );
    let mut bytes = [0u8; 8];
    bytes[..instant.len()].copy_from_slice(instant);
    // Any instant jiff accepts (about ±9999 years), in two zones with different offsets.
    let now = i64::from_le_bytes(bytes) % 253_402_300_799_000;
    for tz in [
        jiff::tz::TimeZone::UTC,
        jiff::tz::TimeZone::fixed(jiff::tz::offset(4)),
    ] {
        match hours.at(now, &tz) {
            Opening::OpenUntil(close) => assert!(close > now, "{stored:?} at {now}"),
            Opening::AlwaysOpen => {}
            Opening::Closed => assert!(!hours.always_open()),
        }
    }
}

/// `Settings::with_overrides`, the server's parsing of the console's settings form and of the
/// `settings` rows: never panics; applied settings keep a warning before a critical warning of
/// at least one second, a code length of 4 to 16, and hours that round-trip.
pub fn settings(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(base) = Settings::from_config(&poste_server::config::Config::default()) else {
        panic!("the default configuration must give settings");
    };
    // One `key=value` per line, as a form would send them.
    let values: Vec<(String, String)> = text
        .lines()
        .map(|line| match line.split_once('=') {
            Some((key, value)) => (key.to_owned(), value.to_owned()),
            None => (line.to_owned(), String::new()),
        })
        .collect();
    let stored = base.with_stored(values.clone());
    for applied in std::iter::once(stored).chain(base.with_overrides(&values).ok()) {
        let t = applied.thresholds;
        assert!(
            t.critical_ms >= 1000 && t.warning_ms > t.critical_ms,
            "{t:?}"
        );
        assert!((4..=16).contains(&applied.code_length));
        assert!(!applied.site_name.trim().is_empty());
        let hours = applied.opening_hours.format();
        assert_eq!(
            OpeningHours::parse(&hours).as_ref(),
            Ok(&applied.opening_hours)
        );
    }
}

fn temp_file(data: &[u8]) -> Option<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().ok()?;
    file.write_all(data).ok()?;
    file.flush().ok()?;
    Some(file)
}

/// The server's configuration file through `Config::load` (defaults → file → environment):
/// never panics; a configuration that loads, written back as TOML (what `poste-server config`
/// prints), loads to the same configuration.
pub fn server_config(data: &[u8]) {
    use poste_server::config::{Config, Overrides};
    let Some(file) = temp_file(data) else { return };
    let Ok(config) = Config::load(Some(file.path()), &Overrides::default()) else {
        return;
    };
    let Ok(shown) = toml::to_string(&config) else {
        panic!("a loaded configuration must print as TOML: {config:?}");
    };
    let Some(again) = temp_file(shown.as_bytes()) else {
        return;
    };
    let reloaded = Config::load(Some(again.path()), &Overrides::default());
    assert!(
        reloaded.as_ref().is_ok_and(|c| *c == config),
        "printed as {shown:?}, reloaded as {reloaded:?}"
    );
}

/// The agent's configuration file through `AgentConfig::load`: never panics; a configuration
/// that loads has a WebSocket URL, and written back as TOML loads to itself.
pub fn agent_config(data: &[u8]) {
    use poste_client::config::{AgentConfig, Overrides};
    let Some(file) = temp_file(data) else { return };
    let no_env = |_: &str| None;
    let Ok(config) = AgentConfig::load(Some(file.path()), &no_env, &Overrides::default()) else {
        return;
    };
    assert!(config.ws_url().is_ok());
    let Ok(shown) = toml::to_string(&config) else {
        panic!("a loaded configuration must print as TOML: {config:?}");
    };
    let Some(again) = temp_file(shown.as_bytes()) else {
        return;
    };
    let reloaded = AgentConfig::load(Some(again.path()), &no_env, &Overrides::default());
    assert!(
        reloaded.as_ref().is_ok_and(|c| *c == config),
        "printed as {shown:?}, reloaded as {reloaded:?}"
    );
}
