//! The settings in force: derived once from the configuration, overridden by the values staff
//! set in the console (stored in the database, on every instance), and shared by every request
//! as one consistent copy.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::tz::TimeZone;

use crate::config::{Config, ConfigError, LimitsConfig};
use crate::domain::duration::parse_duration;
use crate::domain::opening::OpeningHours;
use crate::domain::power::PowerSchedule;
use crate::domain::timing::Thresholds;
use crate::domain::validity::CodeValidity;

/// Settings in force, derived once from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub thresholds: Thresholds,
    pub code_length: usize,
    pub code_validity: CodeValidity,
    pub max_duration_secs: i64,
    pub max_batch: u32,
    pub timezone: TimeZone,
    pub limits: LimitsConfig,
    /// Workstations that are not enrolled may connect (seed clients).
    pub allow_seed_clients: bool,
    /// SHA-256 (hex) of the site's install token, if one is configured.
    pub install_token_hash: Option<String>,
    pub enrollment_code_validity_secs: i64,
    /// The space's name (console, tickets).
    pub site_name: String,
    /// When sessions may run (default: always).
    pub opening_hours: OpeningHours,
    /// Idle staff sessions of the console end after this many seconds.
    pub console_idle_secs: i64,
    pub secure_cookies: bool,
    /// Days the connection register is kept.
    pub retention_days: u32,
    /// Who gets the site's monthly report by e-mail (set in « Réglages »).
    pub report_recipients: Vec<String>,
    /// A space's setting: who gets that space's own monthly report (empty: nobody; the
    /// site's report covers it all the same).
    pub space_report_recipients: Vec<String>,
    /// Workstations woken before the opening, powered off after the closing (« Réglages »).
    pub power_schedule: PowerSchedule,
    /// The spaces with settings of their own: these settings with the space's values applied
    /// (a space not here follows these). Empty in a space's own settings.
    pub spaces: Arc<BTreeMap<i64, Settings>>,
}

impl Settings {
    pub fn from_config(config: &Config) -> Result<Settings, ConfigError> {
        let s = &config.sessions;
        let invalid = |what: &str| ConfigError::Invalid(what.to_owned());
        Ok(Settings {
            thresholds: Thresholds::from_secs(s.warning_secs, s.critical_secs),
            code_length: s.code_length,
            code_validity: CodeValidity::parse(&s.code_validity)
                .ok_or_else(|| invalid("sessions.code_validity"))?,
            max_duration_secs: parse_duration(&s.max_duration)
                .map_err(|_| invalid("sessions.max_duration"))?,
            max_batch: s.max_batch,
            timezone: match &config.timezone {
                Some(name) => TimeZone::get(name)
                    .map_err(|err| ConfigError::Invalid(format!("timezone `{name}`: {err}")))?,
                None => TimeZone::system(),
            },
            limits: config.limits.clone(),
            allow_seed_clients: config.enrollment.allow_seed_clients,
            install_token_hash: match &config.enrollment.install_token_file {
                Some(path) => {
                    let token = std::fs::read_to_string(path).map_err(|err| {
                        ConfigError::Invalid(format!(
                            "enrollment.install_token_file {}: {err}",
                            path.display()
                        ))
                    })?;
                    let token = token.trim();
                    if token.len() < 16 {
                        return Err(invalid(
                            "enrollment.install_token_file: the token must have at least 16 characters",
                        ));
                    }
                    Some(crate::domain::codes::token_hash(token))
                }
                None => None,
            },
            enrollment_code_validity_secs: parse_duration(&config.enrollment.code_validity)
                .map_err(|_| invalid("enrollment.code_validity"))?,
            site_name: config.console.site_name.trim().to_owned(),
            opening_hours: OpeningHours::default(),
            console_idle_secs: parse_duration(&config.console.idle_timeout)
                .map_err(|_| invalid("console.idle_timeout"))?,
            secure_cookies: config.console.secure_cookies,
            retention_days: config.console.retention_days,
            report_recipients: Vec::new(),
            space_report_recipients: Vec::new(),
            power_schedule: PowerSchedule::default(),
            spaces: Arc::default(),
        })
    }

    /// The settings in force in a space: its own, or these when it follows the common ones.
    pub fn for_space(&self, espace_id: i64) -> &Settings {
        self.spaces.get(&espace_id).unwrap_or(self)
    }

    /// The settings a page showing `view` reads its clock and calendar from: one space's, else
    /// (several spaces, consolidated) the common ones.
    pub fn shown(&self, view: &poste_store::SpaceScope) -> &Settings {
        match view {
            poste_store::SpaceScope::Only(ids) if ids.len() == 1 => self.for_space(ids[0]),
            _ => self,
        }
    }

    /// The settings in force where a session or code is (`None`: every space, the common
    /// settings).
    pub fn at(&self, espace_id: Option<i64>) -> &Settings {
        espace_id.map_or(self, |id| self.for_space(id))
    }

    /// These settings' values of every key a space may set ([`setting_keys::SPACE_KEYS`]), as
    /// stored: what a space gets as its own when staff first change one of them for it. A
    /// time zone without a name (the system's, unnamed) is left out, never stored as another.
    pub fn space_values(&self) -> Vec<(String, String)> {
        use setting_keys as k;
        let timezone = self.timezone.iana_name().map(str::to_owned);
        [
            (
                k::WARNING_SECS,
                (self.thresholds.warning_ms / 1000).to_string(),
            ),
            (
                k::CRITICAL_SECS,
                (self.thresholds.critical_ms / 1000).to_string(),
            ),
            (k::CODE_LENGTH, self.code_length.to_string()),
            (k::CODE_VALIDITY, self.code_validity.format()),
            (k::OPENING_HOURS, self.opening_hours.format()),
            (
                k::SPECIAL_DAYS,
                OpeningHours::format_special_days(self.opening_hours.special_days()),
            ),
            (
                k::POWER_WAKE_BEFORE,
                schedule_text(self.power_schedule.wake_before_min),
            ),
            (
                k::POWER_OFF_AFTER,
                schedule_text(self.power_schedule.off_after_min),
            ),
            (k::TIMEZONE, timezone.unwrap_or_default()),
            (
                k::SPACE_REPORT_RECIPIENTS,
                self.space_report_recipients.join(", "),
            ),
        ]
        .into_iter()
        .filter(|(key, value)| *key != k::TIMEZONE || !value.is_empty())
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
    }

    /// Whether the space has settings of its own.
    pub fn has_own(&self, espace_id: i64) -> bool {
        self.spaces.contains_key(&espace_id)
    }
}

/// Keys of the settings staff edit from the console. Stored in the database, they override
/// the configuration file's values, on every instance.
pub mod setting_keys {
    pub const SITE_NAME: &str = "site_name";
    pub const WARNING_SECS: &str = "warning_secs";
    pub const CRITICAL_SECS: &str = "critical_secs";
    pub const CODE_LENGTH: &str = "code_length";
    pub const CODE_VALIDITY: &str = "code_validity";
    pub const OPENING_HOURS: &str = "opening_hours";
    /// Addresses of the monthly report, separated by `, `.
    pub const REPORT_RECIPIENTS: &str = "report_recipients";
    /// Addresses of a space's own monthly report, separated by `, `.
    pub const SPACE_REPORT_RECIPIENTS: &str = "space_report_recipients";
    /// Public holidays, closures, exceptional openings (JSON, see `OpeningHours`).
    pub const SPECIAL_DAYS: &str = "special_days";
    /// Minutes before the opening the workstations are woken (empty: never).
    pub const POWER_WAKE_BEFORE: &str = "power_wake_before";
    /// Minutes after the closing the workstations are powered off (empty: never).
    pub const POWER_OFF_AFTER: &str = "power_off_after";
    /// The IANA time zone its hours and days are read in (`Indian/Reunion`).
    pub const TIMEZONE: &str = "timezone";

    /// What a space may set for itself; the others (the site's name, the report's addresses)
    /// are the site's.
    pub const SPACE_KEYS: [&str; 10] = [
        WARNING_SECS,
        CRITICAL_SECS,
        CODE_LENGTH,
        CODE_VALIDITY,
        OPENING_HOURS,
        SPECIAL_DAYS,
        POWER_WAKE_BEFORE,
        POWER_OFF_AFTER,
        TIMEZONE,
        SPACE_REPORT_RECIPIENTS,
    ];
}

/// The longest delay of the power schedule, in minutes.
pub const MAX_SCHEDULE_MIN: u32 = 240;

/// A delay of the power schedule that is not a number of minutes up to [`MAX_SCHEDULE_MIN`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotScheduleMinutes;

/// A delay of the power schedule as stored: empty for none, else minutes up to
/// [`MAX_SCHEDULE_MIN`].
pub fn parse_schedule_minutes(text: &str) -> Result<Option<u32>, NotScheduleMinutes> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(minutes) if minutes <= MAX_SCHEDULE_MIN => Ok(Some(minutes)),
        _ => Err(NotScheduleMinutes),
    }
}

/// A delay of the power schedule as stored and shown: minutes, or empty for none.
pub fn schedule_text(minutes: Option<u32>) -> String {
    minutes.map(|min| min.to_string()).unwrap_or_default()
}

/// Addresses typed one a line (or separated by commas or semicolons), each checked: the
/// addresses, or every one that is not an e-mail address.
pub fn parse_recipients(text: &str) -> Result<Vec<String>, Vec<String>> {
    let (mut addresses, mut refused) = (Vec::new(), Vec::new());
    for typed in text
        .split(['\n', ',', ';'])
        .map(str::trim)
        .filter(|typed| !typed.is_empty())
    {
        match typed.parse::<lettre::Address>() {
            Ok(address) if !addresses.contains(&address.to_string()) => {
                addresses.push(address.to_string());
            }
            Ok(_) => {}
            Err(_) => refused.push(typed.to_owned()),
        }
    }
    if refused.is_empty() {
        Ok(addresses)
    } else {
        Err(refused)
    }
}

/// Why a stored or typed setting was refused (the French message is the caller's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("unknown setting `{0}`")]
    UnknownKey(String),
    #[error("invalid value for `{0}`")]
    Invalid(&'static str),
}

impl Settings {
    /// These settings with the console's values applied (unknown keys and invalid values are
    /// refused, naming the key).
    pub fn with_overrides(&self, values: &[(String, String)]) -> Result<Settings, SettingError> {
        use setting_keys as k;
        let mut next = self.clone();
        let (mut warning, mut critical) = (
            next.thresholds.warning_ms / 1000,
            next.thresholds.critical_ms / 1000,
        );
        for (key, value) in values {
            let value = value.trim();
            match key.as_str() {
                k::SITE_NAME if !value.is_empty() && value.chars().count() <= 100 => {
                    next.site_name = value.to_owned();
                }
                k::SITE_NAME => return Err(SettingError::Invalid(k::SITE_NAME)),
                k::WARNING_SECS => {
                    warning = value
                        .parse()
                        .map_err(|_| SettingError::Invalid(k::WARNING_SECS))?;
                }
                k::CRITICAL_SECS => {
                    critical = value
                        .parse()
                        .map_err(|_| SettingError::Invalid(k::CRITICAL_SECS))?;
                }
                k::CODE_LENGTH => {
                    next.code_length = value
                        .parse()
                        .ok()
                        .filter(|len| (4..=16).contains(len))
                        .ok_or(SettingError::Invalid(k::CODE_LENGTH))?;
                }
                k::CODE_VALIDITY => {
                    next.code_validity = CodeValidity::parse(value)
                        .ok_or(SettingError::Invalid(k::CODE_VALIDITY))?;
                }
                k::OPENING_HOURS => {
                    let special = next.opening_hours.special_days().clone();
                    next.opening_hours = OpeningHours::parse(value)
                        .map_err(|_| SettingError::Invalid(k::OPENING_HOURS))?
                        .with_special_days(special);
                }
                k::SPECIAL_DAYS => {
                    let special = OpeningHours::parse_special_days(value)
                        .map_err(|_| SettingError::Invalid(k::SPECIAL_DAYS))?;
                    next.opening_hours = next.opening_hours.clone().with_special_days(special);
                }
                k::REPORT_RECIPIENTS => {
                    next.report_recipients = parse_recipients(value)
                        .map_err(|_| SettingError::Invalid(k::REPORT_RECIPIENTS))?;
                }
                k::SPACE_REPORT_RECIPIENTS => {
                    next.space_report_recipients = parse_recipients(value)
                        .map_err(|_| SettingError::Invalid(k::SPACE_REPORT_RECIPIENTS))?;
                }
                k::POWER_WAKE_BEFORE => {
                    next.power_schedule.wake_before_min = parse_schedule_minutes(value)
                        .map_err(|_| SettingError::Invalid(k::POWER_WAKE_BEFORE))?;
                }
                k::POWER_OFF_AFTER => {
                    next.power_schedule.off_after_min = parse_schedule_minutes(value)
                        .map_err(|_| SettingError::Invalid(k::POWER_OFF_AFTER))?;
                }
                k::TIMEZONE => {
                    next.timezone =
                        parse_timezone(value).ok_or(SettingError::Invalid(k::TIMEZONE))?;
                }
                other => return Err(SettingError::UnknownKey(other.to_owned())),
            }
        }
        if critical < 1 || warning <= critical {
            return Err(SettingError::Invalid(k::WARNING_SECS));
        }
        next.thresholds = Thresholds::from_secs(
            u64::try_from(warning).unwrap_or(0),
            u64::try_from(critical).unwrap_or(0),
        );
        Ok(next)
    }
}

impl Settings {
    /// These settings with the values stored by the console applied; if they do not make a
    /// valid set together, one by one, an invalid stored value (a newer version's, a hand
    /// edit) being logged and left out.
    pub fn with_stored(&self, stored: Vec<(String, String)>) -> Settings {
        self.apply_stored(stored, Settings::with_overrides)
    }

    /// A space's own settings: these (the common ones) with the space's values applied.
    /// Only the [`setting_keys::SPACE_KEYS`] are taken.
    pub fn with_space_overrides(
        &self,
        values: &[(String, String)],
    ) -> Result<Settings, SettingError> {
        if let Some((key, _)) = values
            .iter()
            .find(|(key, _)| !setting_keys::SPACE_KEYS.contains(&key.as_str()))
        {
            return Err(SettingError::UnknownKey(key.clone()));
        }
        let mut space = self.with_overrides(values)?;
        space.spaces = Arc::default();
        Ok(space)
    }

    /// These settings (the common ones) with each space's stored values, as (space, key,
    /// value), applied as [`Settings::with_stored`] does.
    pub fn with_spaces_stored(mut self, stored: Vec<(i64, String, String)>) -> Settings {
        let mut by_space: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
        for (space, key, value) in stored {
            by_space.entry(space).or_default().push((key, value));
        }
        self.spaces = Arc::default();
        let spaces = by_space
            .into_iter()
            .map(|(space, values)| {
                (
                    space,
                    self.apply_stored(values, Settings::with_space_overrides),
                )
            })
            .collect();
        self.spaces = Arc::new(spaces);
        self
    }

    fn apply_stored(&self, stored: Vec<(String, String)>, apply: ApplyValues) -> Settings {
        // Together first: some values only make sense with others (the two thresholds).
        if let Ok(all) = apply(self, &stored) {
            return all;
        }
        let mut next = self.clone();
        for pair in stored {
            match apply(&next, std::slice::from_ref(&pair)) {
                Ok(applied) => next = applied,
                Err(err) => tracing::warn!(key = %pair.0, error = %err, "stored setting ignored"),
            }
        }
        next
    }
}

/// Settings with values (key, value) applied: [`Settings::with_overrides`] or
/// [`Settings::with_space_overrides`].
type ApplyValues = fn(&Settings, &[(String, String)]) -> Result<Settings, SettingError>;

/// An IANA time zone by name (`Indian/Reunion`, `Europe/Paris`).
pub fn parse_timezone(name: &str) -> Option<TimeZone> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 {
        return None;
    }
    TimeZone::get(name).ok()
}

/// The settings in force, replaced as a whole when staff change them (readers keep the copy
/// they took: a request sees one consistent set).
#[derive(Debug, Clone)]
pub struct SharedSettings(Arc<std::sync::RwLock<Arc<Settings>>>);

impl SharedSettings {
    pub fn new(settings: Settings) -> Self {
        SharedSettings(Arc::new(std::sync::RwLock::new(Arc::new(settings))))
    }

    pub fn get(&self) -> Arc<Settings> {
        Arc::clone(
            &self
                .0
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    pub fn replace(&self, settings: Settings) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(settings);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pair(key: &str, value: &str) -> (String, String) {
        (key.to_owned(), value.to_owned())
    }

    fn common() -> Settings {
        let config = Config {
            timezone: Some("Indian/Reunion".to_owned()),
            ..Config::default()
        };
        Settings::from_config(&config)
            .unwrap()
            .with_stored(vec![pair(setting_keys::WARNING_SECS, "600")])
    }

    #[test]
    fn a_space_has_its_own_values_or_follows_the_common_ones() {
        let settings = common().with_spaces_stored(vec![
            (2, setting_keys::WARNING_SECS.to_owned(), "900".to_owned()),
            (
                2,
                setting_keys::TIMEZONE.to_owned(),
                "Europe/Paris".to_owned(),
            ),
        ]);
        assert_eq!(settings.thresholds.warning_ms, 600_000);
        assert_eq!(settings.for_space(1).thresholds.warning_ms, 600_000);
        assert!(!settings.has_own(1));
        let space = settings.for_space(2);
        assert!(settings.has_own(2));
        assert_eq!(space.thresholds.warning_ms, 900_000);
        assert_eq!(space.timezone.iana_name(), Some("Europe/Paris"));
        assert!(space.spaces.is_empty());
        assert_eq!(settings.at(None).thresholds.warning_ms, 600_000);
        assert_eq!(settings.at(Some(2)).thresholds.warning_ms, 900_000);
        // A page of the space reads its clock; one of several spaces, the common one.
        use poste_store::SpaceScope;
        let zone = |view: SpaceScope| {
            settings
                .shown(&view)
                .timezone
                .iana_name()
                .map(str::to_owned)
        };
        assert_eq!(
            zone(SpaceScope::Only(vec![2])).as_deref(),
            Some("Europe/Paris")
        );
        assert_eq!(
            zone(SpaceScope::Only(vec![1])).as_deref(),
            Some("Indian/Reunion")
        );
        assert_eq!(
            zone(SpaceScope::Only(vec![1, 2])).as_deref(),
            Some("Indian/Reunion")
        );
        assert_eq!(zone(SpaceScope::Every).as_deref(), Some("Indian/Reunion"));
    }

    #[test]
    fn a_space_takes_only_its_keys_and_its_values_round_trip() {
        let settings = common();
        assert_eq!(
            settings
                .with_space_overrides(&[pair(setting_keys::SITE_NAME, "Ailleurs")])
                .unwrap_err(),
            SettingError::UnknownKey(setting_keys::SITE_NAME.to_owned())
        );
        assert_eq!(
            settings
                .with_space_overrides(&[pair(setting_keys::TIMEZONE, "Mars/Olympus")])
                .unwrap_err(),
            SettingError::Invalid(setting_keys::TIMEZONE)
        );
        let values = settings.space_values();
        let keys: Vec<&str> = values.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, setting_keys::SPACE_KEYS);
        let again = settings.with_space_overrides(&values).unwrap();
        assert_eq!(again.space_values(), values);
        // A stored value that no longer makes sense is left out, the others kept.
        let settings = settings.with_spaces_stored(vec![
            (
                3,
                setting_keys::TIMEZONE.to_owned(),
                "Mars/Olympus".to_owned(),
            ),
            (3, setting_keys::CODE_LENGTH.to_owned(), "8".to_owned()),
        ]);
        assert_eq!(settings.for_space(3).code_length, 8);
        assert_eq!(
            settings.for_space(3).timezone.iana_name(),
            Some("Indian/Reunion")
        );
    }
}
