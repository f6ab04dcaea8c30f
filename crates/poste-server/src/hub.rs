//! The hub: live connections, which session each one follows, and one timer per running
//! session. It is where the server acts as the clock: timers push warnings and expiry at their
//! instant; any change to a session (ours, the command line's, another process's) goes through
//! [`Hub::apply_row`], which re-arms the timer and tells the workstations.
//!
//! The store is the truth. The hub caches the rows of active sessions so that `get_time` (every
//! 5 s from every workstation) costs no query, and relies on conditional updates in the store so
//! that each warning and each end happens once.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use poste_proto::{ServerMessage, WarningLevel};
use poste_store::{
    Backend, LeaseClaim, Millis, SessionRow, SessionStatus, Store, StoreError, Warning,
};
use tokio::sync::{broadcast, mpsc};
use tokio::task::AbortHandle;

use crate::clock::now_ms;
use crate::domain::change::Change;
use crate::domain::opening::{Closing, Opening};
use crate::domain::timing::{
    Thresholds, TimerAction, level_number, next_action, remaining_secs, threshold_secs,
};
use crate::messages;
use crate::metrics::{Gauges, Metrics};
use crate::settings::SharedSettings;

/// Identifier of one WebSocket connection.
pub type ConnId = u64;

/// Pushes queued per connection before it is considered stuck and dropped.
pub const OUTBOX_CAPACITY: usize = 64;

/// A timer never sleeps longer than this before checking again, so a wall-clock jump on the
/// server delays a push by at most this much.
const MAX_TIMER_SLEEP: Duration = Duration::from_secs(30);

/// A timer whose session's lease another instance holds tries again this long after that
/// lease ends (if the holder did the work meanwhile, the change re-arms the timer first).
const LEASE_MARGIN_MS: i64 = 200;

#[derive(Debug)]
pub struct Hub {
    store: Store,
    settings: SharedSettings,
    state: Mutex<HubState>,
    next_conn: AtomicU64,
    /// Ticks whenever something the console's dashboard shows may have changed (a session,
    /// a workstation coming or going). Carries nothing: watchers re-read what they show.
    changes: broadcast::Sender<Change>,
    /// Ticks whenever console sessions were closed (an account disabled, deleted, or given a
    /// new password, here or elsewhere): each live feed checks that its session still stands.
    staff_closed: broadcast::Sender<()>,
    metrics: Metrics,
    /// Timer leases this instance renewed at its last heartbeat (PostgreSQL), for `/metrics`.
    timers_owned: AtomicU64,
}

#[derive(Debug, Default)]
struct HubState {
    live: HashMap<i64, LiveSession>,
    subscribers: HashMap<i64, HashSet<ConnId>>,
    connections: HashMap<ConnId, Connection>,
    /// Workstations connected to the other instances (PostgreSQL), as last read.
    online_elsewhere: HashSet<i64>,
    /// Spaces whose workstations staff paused for a workshop, with what their screens say.
    room_locks: HashMap<i64, String>,
}

#[derive(Debug)]
struct LiveSession {
    row: SessionRow,
    generation: u64,
    timer: Option<AbortHandle>,
    /// `session_terminated` already pushed (the database was down at expiry and the write is
    /// being retried): do not push it twice.
    terminated_pushed: bool,
    /// Highest warning level that reached at least one workstation from this process. A
    /// warning recorded but delivered to nobody (it fell due while the server was down, or
    /// while no workstation was connected) is given to the next one that follows the session.
    delivered: i64,
}

#[derive(Debug)]
struct Connection {
    outbox: mpsc::Sender<ServerMessage>,
    poste_id: Option<i64>,
    /// For a workstation that is not enrolled, the address it speaks from: the name is held
    /// there while this connection lives (`Hub::claim_poste_at`).
    held_at: Option<IpAddr>,
    sessions: HashSet<i64>,
    /// The protocol version its `hello` said (0: no `hello`, a seed client).
    protocol: u32,
}

/// Where a message for a workstation's connections went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Connections that got it.
    pub sent: usize,
    /// Connections of the workstation left out: their agent speaks an older protocol.
    pub too_old: usize,
}

/// Removes its connection from the hub when dropped, however the connection task ends.
#[derive(Debug)]
pub struct ConnGuard {
    hub: Arc<Hub>,
    pub id: ConnId,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.hub.unregister(self.id);
    }
}

impl Hub {
    pub fn new(store: Store, settings: SharedSettings) -> Arc<Hub> {
        Arc::new(Hub {
            store,
            settings,
            state: Mutex::new(HubState::default()),
            next_conn: AtomicU64::new(1),
            // Room for a burst (a room powered off at closing) before a feed lags, and then
            // fetches the whole dashboard once.
            changes: broadcast::channel(1024).0,
            staff_closed: broadcast::channel(4).0,
            metrics: Metrics::default(),
            timers_owned: AtomicU64::new(0),
        })
    }

    /// The warning thresholds in force in a space (`None`: the common ones); staff may change
    /// them from the console.
    pub fn thresholds_in(&self, espace_id: Option<i64>) -> Thresholds {
        self.settings.get().at(espace_id).thresholds
    }

    /// Warning `level` of a session as the history records it, with its threshold in force.
    fn warning(&self, row: &SessionRow, level: WarningLevel) -> Warning {
        let level = level_number(level);
        Warning {
            level,
            before_end_secs: Some(threshold_secs(level, self.thresholds_in(row.space()))),
        }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// What `/metrics` reads at scrape time (the database's round trip is the caller's).
    pub fn gauges(&self) -> Gauges {
        let state = self.lock();
        Gauges {
            connections: state.connections.len(),
            workstations_online: online_postes(&state).len(),
            active_sessions: state.live.len(),
            timers_owned: self.timers_owned(),
            database_secs: None,
        }
    }

    /// Receives what changed after every change the dashboard may show (a lagging receiver
    /// takes it as [`Change::Everything`]).
    pub fn watch_changes(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Tells the watchers that anything may have changed (settings, spaces, accounts…).
    pub fn changed(&self) {
        self.announce(Change::Everything);
    }

    /// Tells the watchers what changed.
    pub fn announce(&self, change: Change) {
        // No watcher (no open dashboard) is not an error.
        let _ = self.changes.send(change);
    }

    /// Receives a tick after console sessions were closed.
    pub fn watch_staff_closed(&self) -> broadcast::Receiver<()> {
        self.staff_closed.subscribe()
    }

    /// Tells the live feeds that console sessions were closed.
    pub fn staff_sessions_closed(&self) {
        let _ = self.staff_closed.send(());
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than stopping the whole server would; keep serving.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    // ----- connections ------------------------------------------------------------------------

    pub fn register(self: &Arc<Self>, outbox: mpsc::Sender<ServerMessage>) -> ConnGuard {
        let id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        self.lock().connections.insert(
            id,
            Connection {
                outbox,
                poste_id: None,
                held_at: None,
                sessions: HashSet::new(),
                protocol: 0,
            },
        );
        ConnGuard {
            hub: Arc::clone(self),
            id,
        }
    }

    fn unregister(&self, id: ConnId) {
        let poste = remove_connection(&mut self.lock(), id).and_then(|c| c.poste_id);
        if let Some(poste) = poste {
            self.announce(Change::postes([poste]));
        }
    }

    /// This connection speaks for an enrolled workstation (proven by its secret).
    pub fn set_connection_poste(&self, conn: ConnId, poste_id: i64) {
        let assigned = match self.lock().connections.get_mut(&conn) {
            Some(entry) => {
                entry.held_at = None;
                entry.poste_id.replace(poste_id) != Some(poste_id)
            }
            None => false,
        };
        if assigned {
            self.announce(Change::postes([poste_id]));
        }
    }

    /// This connection speaks for a workstation that is not enrolled, from `addr`, unless a
    /// live connection from another address already does (checked and taken under one lock:
    /// two `hello`s racing for one name cannot both win). False when refused.
    pub fn claim_poste_at(&self, conn: ConnId, poste_id: i64, addr: IpAddr) -> bool {
        let assigned = {
            let mut state = self.lock();
            let held_elsewhere = state.connections.iter().any(|(id, other)| {
                *id != conn && other.poste_id == Some(poste_id) && other.held_at != Some(addr)
            });
            if held_elsewhere {
                return false;
            }
            match state.connections.get_mut(&conn) {
                Some(entry) => {
                    entry.held_at = Some(addr);
                    entry.poste_id.replace(poste_id) != Some(poste_id)
                }
                None => false,
            }
        };
        if assigned {
            self.announce(Change::postes([poste_id]));
        }
        true
    }

    /// The protocol version this connection's `hello` said.
    pub fn set_connection_protocol(&self, conn: ConnId, protocol: u32) {
        if let Some(entry) = self.lock().connections.get_mut(&conn) {
            entry.protocol = protocol;
        }
    }

    /// This connection receives the pushes of this session from now on, starting with a
    /// warning that fell due while nobody was listening.
    pub fn subscribe(&self, conn: ConnId, session_id: i64) {
        let mut state = self.lock();
        let Some(entry) = state.connections.get_mut(&conn) else {
            return;
        };
        entry.sessions.insert(session_id);
        state
            .subscribers
            .entry(session_id)
            .or_default()
            .insert(conn);
        let owed = state.live.get_mut(&session_id).and_then(|live| {
            let warning = owed_warning(&self.settings, live, now_ms())?;
            live.delivered = live.row.warning_level;
            Some(warning)
        });
        if let Some(warning) = owed {
            deliver(&mut state, &[conn], &warning);
        }
    }

    /// Staff paused (`Some(words)`) a space's workstations for a workshop, or lifted the
    /// pause: kept for the tiles and for an agent that connects while it lasts. The caller
    /// announces the tiles it changes (those of the space's workstations, not the whole grid).
    pub fn set_room_lock(&self, espace_id: i64, message: Option<String>) {
        let mut state = self.lock();
        match message {
            Some(message) => state.room_locks.insert(espace_id, message),
            None => state.room_locks.remove(&espace_id),
        };
    }

    /// What the screens of a paused space say; None when it is not paused.
    pub fn room_lock(&self, espace_id: i64) -> Option<String> {
        self.lock().room_locks.get(&espace_id).cloned()
    }

    /// Every connection of this workstation here follows this session from now on: a workshop
    /// staff opened on it, which its agent did not ask for.
    pub fn subscribe_poste(&self, poste_id: i64, session_id: i64) {
        let conns: Vec<ConnId> = self
            .lock()
            .connections
            .iter()
            .filter(|(_, conn)| conn.poste_id == Some(poste_id))
            .map(|(id, _)| *id)
            .collect();
        for conn in conns {
            self.subscribe(conn, session_id);
        }
    }

    /// Workstations with at least one live connection, to this instance or another: the
    /// site's view, for staff.
    pub fn online_postes(&self) -> HashSet<i64> {
        let state = self.lock();
        let mut online = online_postes(&state);
        online.extend(state.online_elsewhere.iter().copied());
        online
    }

    /// Workstations with a live connection to this instance (what it publishes, and where it
    /// delivers).
    pub fn online_here(&self) -> Vec<i64> {
        online_postes(&self.lock()).into_iter().collect()
    }

    /// What the other instances published; the consoles are told when it changed.
    pub fn set_online_elsewhere(&self, postes: HashSet<i64>) {
        let changed: Vec<i64> = {
            let mut state = self.lock();
            let changed = state
                .online_elsewhere
                .symmetric_difference(&postes)
                .copied()
                .collect();
            state.online_elsewhere = postes;
            changed
        };
        if !changed.is_empty() {
            self.announce(Change::postes(changed));
        }
    }

    /// Whether an active session this hub knows runs on this workstation.
    pub fn runs_session_on(&self, poste_id: i64) -> bool {
        self.lock()
            .live
            .values()
            .any(|live| live.row.poste_id == Some(poste_id))
    }

    /// Sends a message to every connection of a workstation; returns how many got it.
    pub fn send_to_poste(&self, poste_id: i64, message: &ServerMessage) -> usize {
        let mut state = self.lock();
        let targets: Vec<ConnId> = state
            .connections
            .iter()
            .filter(|(_, conn)| conn.poste_id == Some(poste_id))
            .map(|(id, _)| *id)
            .collect();
        deliver(&mut state, &targets, message)
    }

    /// The workstation is connected here, and none of its agents here speaks `protocol` or
    /// later.
    pub fn speaks_only_below(&self, poste_id: i64, protocol: u32) -> bool {
        let state = self.lock();
        let mut own = state
            .connections
            .values()
            .filter(|conn| conn.poste_id == Some(poste_id))
            .peekable();
        own.peek().is_some() && own.all(|conn| conn.protocol < protocol)
    }

    /// Sends a message to the connections of a workstation whose agent speaks `protocol` or
    /// later (a message an older agent would not understand).
    pub fn send_to_poste_speaking(
        &self,
        poste_id: i64,
        protocol: u32,
        message: &ServerMessage,
    ) -> Delivery {
        let mut state = self.lock();
        let (targets, too_old): (Vec<_>, Vec<_>) = state
            .connections
            .iter()
            .filter(|(_, conn)| conn.poste_id == Some(poste_id))
            .partition(|(_, conn)| conn.protocol >= protocol);
        let too_old = too_old.len();
        let targets: Vec<ConnId> = targets.into_iter().map(|(id, _)| *id).collect();
        Delivery {
            sent: deliver(&mut state, &targets, message),
            too_old,
        }
    }

    /// Drops every connection (their tasks see the outbox closed and close the socket) and
    /// stops every timer.
    pub fn shutdown(&self) {
        let mut state = self.lock();
        state.connections.clear();
        state.subscribers.clear();
        for (_, live) in state.live.drain() {
            if let Some(timer) = live.timer {
                timer.abort();
            }
        }
    }

    // ----- sessions ---------------------------------------------------------------------------

    /// The cached rows of every active session this hub runs.
    pub fn live_rows(&self) -> Vec<SessionRow> {
        self.lock()
            .live
            .values()
            .map(|live| live.row.clone())
            .collect()
    }

    /// The cached row of an active session, if this hub runs it.
    pub fn live_row(&self, id: i64) -> Option<SessionRow> {
        self.lock().live.get(&id).map(|live| live.row.clone())
    }

    /// Takes a fresh row of a session and makes the world agree with it: an active session gets
    /// (re)armed and its followers a `time_update` if its time changed; an ended one is dropped
    /// and its followers get `session_terminated` (with `end_message` if given).
    pub fn apply_row(self: &Arc<Self>, row: SessionRow, end_message: Option<&str>) {
        let now = now_ms();
        let change = Change::of_session(&row);
        let mut state = self.lock();
        match row.status {
            SessionStatus::Active => {
                let id = row.id;
                let previous_total = state.live.get(&id).map(|live| live.row.total_secs());
                // A warning recorded by another instance (the timer owner) reaches the
                // workstations connected here.
                let warned_elsewhere = state
                    .live
                    .get(&id)
                    .is_some_and(|live| row.warning_level > live.row.warning_level);
                let time_changed = previous_total.is_some_and(|total| total != row.total_secs());
                let generation = state.live.get(&id).map_or(0, |live| live.generation + 1);
                // A new process has delivered nothing yet; warnings re-armed by added time are
                // owed again.
                let delivered = state
                    .live
                    .get(&id)
                    .map_or(0, |live| live.delivered.min(row.warning_level));
                if let Some(old) = state.live.get(&id).and_then(|live| live.timer.clone()) {
                    old.abort();
                }
                let timer = self.spawn_timer(&row, generation, now);
                let update = time_changed.then(|| messages::time_update(&row, now));
                state.live.insert(
                    id,
                    LiveSession {
                        row,
                        generation,
                        timer: Some(timer),
                        terminated_pushed: false,
                        delivered,
                    },
                );
                if let Some(update) = update {
                    push(&mut state, id, &update);
                }
                let owed = if warned_elsewhere {
                    state
                        .live
                        .get(&id)
                        .and_then(|live| owed_warning(&self.settings, live, now))
                } else {
                    None
                };
                if let Some(warning) = owed
                    && push(&mut state, id, &warning) > 0
                    && let Some(live) = state.live.get_mut(&id)
                {
                    live.delivered = live.row.warning_level;
                }
            }
            status if status.is_final() => {
                if let Some(live) = state.live.remove(&row.id) {
                    self.metrics
                        .session_ended(row.end_reason.as_deref().unwrap_or("autre"));
                    if let Some(timer) = live.timer {
                        timer.abort();
                    }
                    if !live.terminated_pushed {
                        push(&mut state, row.id, &messages::terminated(&row, end_message));
                    }
                }
            }
            _ => {}
        }
        drop(state);
        self.announce(change);
    }

    /// Warnings up to `level` count as seen by the workstation (those already passed when the
    /// session started: the visitor saw the whole time left in `session_started`).
    pub fn mark_delivered(&self, id: i64, level: i64) {
        if let Some(live) = self.lock().live.get_mut(&id) {
            live.delivered = live.delivered.max(level);
        }
    }

    /// Re-reads a session from the store and applies it (used for changes made elsewhere).
    pub async fn reload(self: &Arc<Self>, id: i64) -> Result<(), StoreError> {
        if let Some(row) = self.store.session(id).await? {
            self.apply_row(row, None);
        }
        Ok(())
    }

    /// At start-up: arms every active session; ends, at their deadline, those whose time ran
    /// out while the server was down (their workstations learn it when they ask).
    pub async fn recover(self: &Arc<Self>) -> Result<RecoveryReport, StoreError> {
        let now = now_ms();
        let mut report = RecoveryReport::default();
        for row in self.store.active_sessions().await? {
            let overdue = row.deadline().is_some_and(|deadline| deadline <= now);
            if overdue {
                if self.store.expire_session(row.id, now).await?.is_some() {
                    tracing::info!(
                        session = row.id,
                        "session expired while the server was down"
                    );
                    report.expired += 1;
                }
            } else {
                self.apply_row(row, None);
                report.resumed += 1;
            }
        }
        Ok(report)
    }

    fn spawn_timer(
        self: &Arc<Self>,
        row: &SessionRow,
        generation: u64,
        now: Millis,
    ) -> AbortHandle {
        let hub = Arc::clone(self);
        let id = row.id;
        let deadline = row.deadline().unwrap_or(now);
        let level_sent = row.warning_level;
        let space = row.space();
        tokio::spawn(async move {
            let mut not_before = 0;
            let (due, action) = loop {
                let now = now_ms();
                let (due, action) =
                    next_action(deadline, level_sent, hub.thresholds_in(space), now);
                let due_here = due.max(not_before);
                let wait = Duration::from_millis(u64::try_from(due_here - now).unwrap_or(0));
                if wait > MAX_TIMER_SLEEP {
                    tokio::time::sleep(MAX_TIMER_SLEEP).await;
                    continue;
                }
                tokio::time::sleep(wait).await;
                match hub.claim_timer(id).await {
                    Some(retry_at) => {
                        // Another instance owns this timer and fires it; if that instance is
                        // dead, its lease lapses and this one takes over then.
                        not_before = retry_at;
                    }
                    None => break (due, action),
                }
            };
            // The work runs in its own task: re-arming aborts this timer, never a half-done
            // database write.
            tokio::spawn(async move { hub.fire(id, generation, due, action).await });
        })
        .abort_handle()
    }

    /// Makes sure this instance owns the timer of session `id` before it fires: `None` when it
    /// does (always on SQLite, one instance), else when to try again (the holder's lease end).
    /// With the database unreachable this instance acts itself, as a lone server does: the
    /// transitions are conditional updates, so each still happens once.
    pub async fn claim_timer(&self, id: i64) -> Option<Millis> {
        if self.store.backend() != Backend::Postgres {
            return None;
        }
        let now = now_ms();
        let lease = i64::try_from(self.settings.get().limits.timer_lease_ms).unwrap_or(10_000);
        match self.store.claim_timer(id, now + lease, now).await {
            Ok(LeaseClaim::Mine | LeaseClaim::NoSession) => None,
            Ok(LeaseClaim::Held { owner, until }) => {
                tracing::debug!(session = id, %owner, "timer owned by another instance");
                Some(until.max(now) + LEASE_MARGIN_MS)
            }
            Err(err) => {
                tracing::warn!(session = id, error = %err, "cannot claim a timer lease; firing here");
                None
            }
        }
    }

    /// Timer leases this instance held at its last heartbeat.
    pub fn timers_owned(&self) -> u64 {
        self.timers_owned.load(Ordering::Relaxed)
    }

    /// Records the result of a heartbeat.
    pub fn set_timers_owned(&self, count: u64) {
        self.timers_owned.store(count, Ordering::Relaxed);
    }

    fn is_current(&self, id: i64, generation: u64) -> Option<SessionRow> {
        self.lock()
            .live
            .get(&id)
            .filter(|live| live.generation == generation)
            .map(|live| live.row.clone())
    }

    async fn fire(self: Arc<Self>, id: i64, generation: u64, due: Millis, action: TimerAction) {
        let Some(row) = self.is_current(id, generation) else {
            return;
        };
        let lateness = now_ms() - due;
        self.metrics.timer_fired(lateness);
        match action {
            TimerAction::Warn(level) => self.fire_warning(row, generation, level, lateness).await,
            TimerAction::Expire => self.fire_expiry(row, lateness).await,
        }
    }

    async fn fire_warning(
        self: Arc<Self>,
        row: SessionRow,
        generation: u64,
        level: WarningLevel,
        lateness: i64,
    ) {
        let now = now_ms();
        let deadline = row.deadline().unwrap_or(now);
        let raised = match self
            .store
            .raise_warning_level(row.id, self.warning(&row, level), now)
            .await
        {
            Ok(raised) => raised,
            Err(err) => {
                // The visitor must be warned even if the database cannot record it.
                tracing::error!(session = row.id, error = %err, "could not record a warning; pushing it anyway");
                true
            }
        };
        if !raised {
            // Already recorded (by another instance, or time was added meanwhile): follow the
            // store, which pushes the warning here if it is owed to the workstations here.
            if let Err(err) = self.reload(row.id).await {
                tracing::warn!(session = row.id, error = %err, "could not reload a session after a refused warning");
            }
            return;
        }
        let current = {
            let mut state = self.lock();
            let Some(live) = state
                .live
                .get_mut(&row.id)
                .filter(|live| live.generation == generation)
            else {
                return;
            };
            live.row.warning_level = live.row.warning_level.max(level_number(level));
            let current = live.row.clone();
            if raised {
                let closing = closing_label(&self.settings, row.space(), Some(deadline));
                let message = messages::warning(
                    row.id,
                    level,
                    remaining_secs(deadline, now),
                    closing.as_ref(),
                );
                let delivered = push(&mut state, row.id, &message);
                if delivered > 0
                    && let Some(live) = state.live.get_mut(&row.id)
                {
                    live.delivered = live.delivered.max(level_number(level));
                }
                tracing::info!(
                    session = row.id,
                    ?level,
                    lateness_ms = lateness,
                    delivered,
                    "warning pushed"
                );
            }
            current
        };
        self.apply_row(current, None);
    }

    async fn fire_expiry(self: Arc<Self>, row: SessionRow, lateness: i64) {
        let mut backoff = Duration::from_millis(250);
        loop {
            match self.store.expire_session(row.id, now_ms()).await {
                Ok(Some(ended)) => {
                    tracing::info!(session = row.id, lateness_ms = lateness, "session expired");
                    self.apply_row(ended, None);
                    return;
                }
                Ok(None) => {
                    // Not due any more (time added elsewhere) or already ended: follow the store.
                    if let Err(err) = self.reload(row.id).await {
                        tracing::warn!(session = row.id, error = %err, "could not reload a session after a refused expiry");
                    }
                    return;
                }
                Err(err) => {
                    // The time is up whatever the database says: tell the workstation now,
                    // record it as soon as the database is back.
                    tracing::error!(session = row.id, error = %err, retry_in = ?backoff, "could not record an expiry; retrying");
                    if !self.push_expiry_once(&row) {
                        return;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    /// Pushes `session_terminated` for a session whose expiry could not be recorded yet, the
    /// first time only. Returns false if the session is no longer live here.
    fn push_expiry_once(&self, row: &SessionRow) -> bool {
        let mut state = self.lock();
        let first = match state.live.get_mut(&row.id) {
            Some(live) if !live.terminated_pushed => {
                live.terminated_pushed = true;
                // Until the store has it, the cached row answers `get_time` as ended.
                live.row.status = SessionStatus::Expiree;
                live.row.end_reason = Some("temps_expire".to_owned());
                true
            }
            Some(_) => false,
            None => return false,
        };
        if first {
            let mut ended = row.clone();
            ended.status = SessionStatus::Expiree;
            ended.end_reason = Some("temps_expire".to_owned());
            push(&mut state, row.id, &messages::terminated(&ended, None));
        }
        true
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// What [`Hub::recover`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryReport {
    pub resumed: usize,
    pub expired: usize,
}

fn online_postes(state: &HubState) -> HashSet<i64> {
    state
        .connections
        .values()
        .filter_map(|conn| conn.poste_id)
        .collect()
}

/// The warning a workstation following this session is owed: the level recorded, if above
/// what reached a workstation from this process, while the session runs.
fn owed_warning(
    settings: &SharedSettings,
    live: &LiveSession,
    now: Millis,
) -> Option<ServerMessage> {
    let level = live.row.warning_level;
    if level <= live.delivered || live.row.status != SessionStatus::Active {
        return None;
    }
    let remaining = live
        .row
        .deadline()
        .map(|deadline| remaining_secs(deadline, now))?;
    let level = if level >= 2 {
        WarningLevel::Critical
    } else {
        WarningLevel::Warning
    };
    let closing = closing_label(settings, live.row.space(), live.row.deadline());
    Some(messages::warning(
        live.row.id,
        level,
        remaining,
        closing.as_ref(),
    ))
}

/// `18:00` and why, when a session ending at `deadline` ends because the space closes then.
fn closing_label(
    settings: &SharedSettings,
    espace_id: Option<i64>,
    deadline: Option<Millis>,
) -> Option<(String, Closing)> {
    let deadline = deadline?;
    let settings = settings.get();
    let settings = settings.at(espace_id);
    let hours = &settings.opening_hours;
    match hours.at(deadline - 1, &settings.timezone) {
        Opening::OpenUntil(close) if (close - deadline).abs() < 1000 => Some((
            crate::clock::local_time(close, &settings.timezone),
            hours.closing(close, &settings.timezone),
        )),
        _ => None,
    }
}

/// Pushes to the followers of a session; returns how many got it.
fn push(state: &mut HubState, session_id: i64, message: &ServerMessage) -> usize {
    let targets: Vec<ConnId> = state
        .subscribers
        .get(&session_id)
        .map(|subs| subs.iter().copied().collect())
        .unwrap_or_default();
    deliver(state, &targets, message)
}

fn deliver(state: &mut HubState, targets: &[ConnId], message: &ServerMessage) -> usize {
    let mut delivered = 0;
    for conn_id in targets {
        let Some(conn) = state.connections.get(conn_id) else {
            continue;
        };
        match conn.outbox.try_send(message.clone()) {
            Ok(()) => delivered += 1,
            Err(mpsc::error::TrySendError::Full(_)) => {
                // A workstation that does not read its pushes is dropped: removing its entry
                // drops the only sender, and its task closes the socket.
                tracing::warn!(
                    conn = conn_id,
                    "connection does not read its messages; closing it"
                );
                remove_connection(state, *conn_id);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
    delivered
}

fn remove_connection(state: &mut HubState, id: ConnId) -> Option<Connection> {
    let conn = state.connections.remove(&id)?;
    for session in &conn.sessions {
        if let Some(subs) = state.subscribers.get_mut(session) {
            subs.remove(&id);
            if subs.is_empty() {
                state.subscribers.remove(session);
            }
        }
    }
    Some(conn)
}
