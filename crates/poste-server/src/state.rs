//! What every handler shares: the store, the hub, the settings in force, the throttles and the
//! workstations heard from. Built once by `app::run`; imported by the transports and the use
//! cases, never importing them.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use poste_store::{Store, StoreError};

use crate::config::{ConsoleConfig, PowerConfig};
use crate::domain::login_throttle::{Blocked, Gate, Login, LoginPolicy, LoginThrottle};
use crate::domain::throttle::FailureThrottle;
use crate::hub::Hub;
use crate::mail::Mailer;
use crate::settings::{Settings, SharedSettings};
use crate::wake::WakeSender;

/// Shared by every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub hub: Arc<Hub>,
    /// The configuration's settings, before the console's values.
    base_settings: Arc<Settings>,
    settings: SharedSettings,
    /// Wrong access codes, per address and per workstation.
    pub code_throttle: SharedThrottle,
    /// Failed console logins, per (account, address) pair.
    pub login_throttle: SharedLoginThrottle,
    /// Workstations heard from, whose `last_seen` the next flush writes.
    pub last_seen: LastSeen,
    /// The SMTP server of the monthly report (`[mail]`), when one is set.
    pub mailer: Option<Mailer>,
    /// Powering workstations on and off (`[power]`).
    pub power: PowerConfig,
    pub waker: WakeSender,
    /// Which space each workstation is in, for the consoles' live feeds.
    pub poste_spaces: PosteSpaces,
    /// Above this many tiles, the dashboard's tiles come without their buttons
    /// (`console.full_tiles_max`).
    full_tiles_max: usize,
}

/// Which space each workstation is in, read again when a change may have moved one (a change
/// of anything, or one naming a workstation it does not know). Until then, a workstation it
/// does not know concerns every console.
#[derive(Debug, Clone, Default)]
pub struct PosteSpaces(Arc<RwLock<Arc<HashMap<i64, i64>>>>);

impl PosteSpaces {
    pub fn get(&self) -> Arc<HashMap<i64, i64>> {
        Arc::clone(
            &self
                .0
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    pub fn set(&self, map: HashMap<i64, i64>) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(map);
    }
}

/// The workstations heard from since the last flush. One commit a minute for all of them
/// rather than one per workstation: 50,000 workstations touching their row once a minute
/// each would be 830 commits a second, about all SQLite can do with every commit on the disk
/// (docs/benchmarks.md). `last_seen` is what the console shows of a workstation that is *not*
/// connected (online comes from the live connections), so a minute late costs nothing.
#[derive(Debug, Clone, Default)]
pub struct LastSeen(Arc<Mutex<HashSet<i64>>>);

impl LastSeen {
    pub fn note(&self, poste_id: i64) {
        self.lock().insert(poste_id);
    }

    fn take(&self) -> Vec<i64> {
        self.lock().drain().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes what was noted; on a database error keeps it for the next flush.
    pub(crate) async fn flush(&self, store: &Store) {
        let ids = self.take();
        if ids.is_empty() {
            return;
        }
        if let Err(err) = store.touch_postes(&ids, crate::clock::now_ms()).await {
            tracing::debug!(error = %err, postes = ids.len(), "could not record last_seen; kept for the next flush");
            self.lock().extend(ids);
        }
    }
}

/// A failure throttle shared by the tasks of the server: per key, and optionally one budget
/// for all keys together.
#[derive(Debug, Clone)]
pub struct SharedThrottle(Arc<Mutex<Throttles>>);

#[derive(Debug)]
struct Throttles {
    per_key: FailureThrottle,
    /// One key (`GLOBAL_KEY`) counting every failure, whatever its keys.
    global: Option<FailureThrottle>,
}

const GLOBAL_KEY: &str = "*";

impl Throttles {
    /// The longest wait among `keys` and the global budget. The global budget, once spent,
    /// holds back only keys that failed within the window themselves: a guesser with many
    /// addresses gets one try per fresh address, and a workstation whose visitor types a right
    /// code is not made to wait for someone else's guesses.
    fn wait(&mut self, keys: &[String], now: Instant) -> Option<Duration> {
        let own = keys
            .iter()
            .filter_map(|key| self.per_key.blocked_for(key, now))
            .max();
        let global = self
            .global
            .as_mut()
            .and_then(|global| global.blocked_for(GLOBAL_KEY, now));
        let global = global.filter(|_| keys.iter().any(|key| self.per_key.has_failed(key, now)));
        own.max(global)
    }
}

impl SharedThrottle {
    /// Also at most `global_failures` failures within `window` from all keys together.
    pub fn with_global(max_failures: u32, global_failures: u32, window: Duration) -> Self {
        SharedThrottle(Arc::new(Mutex::new(Throttles {
            per_key: FailureThrottle::new(max_failures, window),
            global: Some(FailureThrottle::new(global_failures, window)),
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Throttles> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Checks `keys` (and the global budget) and, if none is blocked, counts this attempt as a
    /// failure of each key at once, in the same critical section: checking first and recording after an await would let N
    /// parallel connections each pass the check before any failure is recorded (N tries where
    /// the limit says 5). An attempt that is not a failure is then [`Self::forgive`]n.
    pub fn try_acquire(&self, keys: &[String], now: Instant) -> Result<(), Duration> {
        let mut throttles = self.lock();
        if let Some(wait) = throttles.wait(keys, now) {
            return Err(wait);
        }
        // Tries in flight count only for the workstation's own key (one workstation racing
        // itself over many connections). An address and the global budget count failures once
        // known (see `failed`), else a burst of right codes typed at once would fill them with
        // tries still in flight: a room of workstations behind one NAT address at the start of
        // a workshop, or a load test.
        for key in keys.iter().filter(|key| counts_in_flight(key)) {
            throttles.per_key.record_failure(key, now);
        }
        Ok(())
    }

    /// Takes back an attempt counted by [`Self::try_acquire`] at `at`.
    pub fn forgive(&self, keys: &[String], at: Instant) {
        let mut throttles = self.lock();
        for key in keys.iter().filter(|key| counts_in_flight(key)) {
            throttles.per_key.forgive(key, at);
        }
    }

    /// An attempt let through by [`Self::try_acquire`] was a failure: count it for the keys
    /// that do not count tries in flight, and globally.
    pub fn failed(&self, keys: &[String], now: Instant) {
        let mut throttles = self.lock();
        for key in keys.iter().filter(|key| !counts_in_flight(key)) {
            throttles.per_key.record_failure(key, now);
        }
        if let Some(global) = throttles.global.as_mut() {
            global.record_failure(GLOBAL_KEY, now);
        }
    }
}

/// The first wait of a login pair past its free failures (then doubled at each failure).
const FIRST_LOGIN_WAIT: Duration = Duration::from_secs(5);
/// Most (account, address) pairs the login throttle keeps (about 200 bytes each).
const MAX_LOGIN_PAIRS: usize = 10_000;

/// The console's login throttle, shared by the tasks of the server.
#[derive(Debug, Clone)]
pub struct SharedLoginThrottle(Arc<Mutex<LoginThrottle>>);

/// A login try let through: say how it ended ([`LoginTry::failed`], [`LoginTry::succeeded`]);
/// dropped without either (an error on the way), it no longer counts as in flight.
#[derive(Debug)]
pub struct LoginTry {
    throttle: SharedLoginThrottle,
    /// `None`: [`Login::NoAccount`].
    account: Option<String>,
    address: String,
    done: bool,
}

/// A login refused by the throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginWait {
    pub wait: Duration,
    /// The first refusal of this wait (the one the history records).
    pub first: bool,
}

impl SharedLoginThrottle {
    pub fn new(policy: LoginPolicy) -> Self {
        SharedLoginThrottle(Arc::new(Mutex::new(LoginThrottle::new(policy))))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LoginThrottle> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Lets a try of `login` from `address` through, or says how long it must wait.
    pub fn begin(
        &self,
        login: Login<'_>,
        address: &str,
        now: Instant,
    ) -> Result<LoginTry, LoginWait> {
        match self.lock().check(login, address, now) {
            Gate::Go => Ok(LoginTry {
                throttle: self.clone(),
                account: match login {
                    Login::Account(account) => Some(account.to_owned()),
                    Login::NoAccount => None,
                },
                address: address.to_owned(),
                done: false,
            }),
            Gate::Wait { wait, first } => Err(LoginWait { wait, first }),
        }
    }

    /// Forgets every failure of `account`; returns how many addresses were waiting or counted.
    pub fn unblock(&self, account: &str) -> usize {
        self.lock().unblock(account)
    }

    /// The pairs waiting now.
    pub fn blocked(&self, now: Instant) -> Vec<Blocked> {
        self.lock().blocked(now)
    }
}

impl LoginTry {
    fn login(&self) -> Login<'_> {
        self.account
            .as_deref()
            .map_or(Login::NoAccount, Login::Account)
    }

    /// A wrong password (or an unknown or disabled account); returns the wait it imposes.
    pub fn failed(mut self, now: Instant) -> Option<Duration> {
        self.done = true;
        self.throttle
            .lock()
            .failed(self.login(), &self.address, now)
    }

    pub fn succeeded(mut self) {
        self.done = true;
        self.throttle.lock().succeeded(self.login(), &self.address);
    }
}

impl Drop for LoginTry {
    fn drop(&mut self) {
        if !self.done {
            self.throttle.lock().abandoned(self.login(), &self.address);
        }
    }
}

impl AppState {
    pub fn new(store: Store, settings: Settings, console: &ConsoleConfig) -> AppState {
        let base_settings = Arc::new(settings.clone());
        let settings = SharedSettings::new(settings);
        let hub = Hub::new(store.clone(), settings.clone());
        let limits = settings.get().limits.clone();
        AppState {
            poste_spaces: PosteSpaces::default(),
            full_tiles_max: usize::try_from(console.full_tiles_max).unwrap_or(usize::MAX),
            store,
            hub,
            base_settings,
            settings,
            code_throttle: SharedThrottle::with_global(
                limits.code_failures,
                limits.code_failures_global,
                Duration::from_secs(limits.code_failure_window_secs),
            ),
            login_throttle: SharedLoginThrottle::new(LoginPolicy {
                free_failures: console.login_failures,
                first_wait: FIRST_LOGIN_WAIT,
                longest_wait: Duration::from_secs(console.login_failure_window_secs),
                max_pairs: MAX_LOGIN_PAIRS,
            }),
            last_seen: LastSeen::default(),
            mailer: None,
            power: PowerConfig::default(),
            waker: WakeSender::new(PowerConfig::default().wake_address),
        }
    }

    /// This state, mailing through `mailer`.
    pub fn with_power(mut self, power: &PowerConfig) -> AppState {
        self.power = power.clone();
        self.waker = WakeSender::new(power.wake_address);
        self
    }

    pub fn with_mailer(mut self, mailer: Option<Mailer>) -> AppState {
        self.mailer = mailer;
        self
    }

    /// Whether a dashboard of `count` tiles shows them without their buttons.
    pub fn tiles_without_buttons(&self, count: usize) -> bool {
        count > self.full_tiles_max
    }

    /// The settings in force now.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings.get()
    }

    pub fn retention_days(&self) -> u32 {
        self.base_settings.retention_days
    }

    /// Reads the console's settings from the database and puts them in force. Invalid stored
    /// values (a newer version's, a hand edit) are logged and left out.
    pub async fn reload_settings(&self) -> Result<(), StoreError> {
        let stored = self.store.settings().await?;
        let spaces = self.store.space_settings().await?;
        self.settings.replace(
            self.base_settings
                .with_stored(stored)
                .with_spaces_stored(spaces),
        );
        self.hub.changed();
        Ok(())
    }
}

/// Throttle keys that count a try as soon as it is checked: a workstation's own (`poste:…`,
/// `poste-ip:…`) and an address's enrollment tries (`enroll:…`), never a shared address's
/// access codes (`ip:…`).
fn counts_in_flight(key: &str) -> bool {
    key.starts_with("poste") || key.starts_with("enroll:")
}
