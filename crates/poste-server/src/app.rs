//! Assembles the server, and nothing else: the store, the shared state, the HTTP router;
//! recovery at start-up; the background tasks (the change feed, the instances' heartbeat,
//! `last_seen`, the retention purge); graceful shutdown. The top floor: it imports every
//! module, and none imports it.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt as _;
use poste_store::{Backend, Bell, EventKind, Store, StoreError};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::config::{Config, ConfigError};
use crate::domain::change::Change;
use crate::domain::feed::FeedCursor;
use crate::settings::Settings;
use crate::state::{AppState, LastSeen};

/// How often the workstations heard from get their `last_seen` written, all in one transaction.
const LAST_SEEN_FLUSH_EVERY: Duration = Duration::from_secs(60);

/// Flushes `last_seen` every minute (and once more at shutdown, from `run`).
async fn flush_last_seen(last_seen: LastSeen, store: Store) {
    let mut every = tokio::time::interval(LAST_SEEN_FLUSH_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        last_seen.flush(&store).await;
    }
}

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot open the database {url}: {source}")]
    Database {
        url: String,
        #[source]
        source: StoreError,
    },
    /// Names that must differ once case is set aside do not (decision 0015): said in French,
    /// with the rows to rename.
    #[error("{0}")]
    NamesFoldAlike(String),
    #[error("cannot recover the running sessions: {0}")]
    Recovery(#[source] StoreError),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error("[mail]: {0}")]
    Mail(#[from] crate::mail::MailError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Tells systemd (`Type=notify`) that the server is ready: database open, sessions recovered,
/// socket bound. A no-op outside systemd.
fn notify_ready() {
    #[cfg(unix)]
    if let Err(err) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
        tracing::warn!(error = %err, "could not notify systemd");
    }
}

/// A random id for this process, written into the events it causes.
pub fn instance_id(kind: &str) -> String {
    format!(
        "{kind}-{}",
        crate::domain::codes::generate_code(8).to_ascii_lowercase()
    )
}

/// Opens the store named by the configuration.
pub async fn open_store(config: &Config, origin: &str) -> Result<Store, ServeError> {
    let url = config.database_url();
    Store::connect(&url, origin)
        .await
        .map_err(|source| match source {
            StoreError::NamesFoldAlike(clashes) => {
                ServeError::NamesFoldAlike(crate::text::cli::names_fold_alike(&clashes))
            }
            source => ServeError::Database {
                url: redact_url(&url),
                source,
            },
        })
}

/// A database URL without its password, for logs and errors.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Runs the server on `listener` until `shutdown` completes.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    run_observed(config, listener, shutdown, |_| {}).await
}

/// [`run`], handing `ready` the application state once it is built, before anything is served
/// (the test kit reaches the hub through it).
pub async fn run_observed(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(&AppState),
) -> Result<(), ServeError> {
    let settings = Settings::from_config(&config)?;
    let origin = instance_id("srv");
    let store = open_store(&config, &origin).await?;
    tracing::info!(database = %redact_url(&config.database_url()), backend = ?store.backend(), instance = %origin, "database ready");
    // Before anything is served: a mail set-up that does not load stops the start-up.
    let mailer = crate::mail::Mailer::from_config(&config.mail)?;
    let state = AppState::new(store.clone(), settings, &config.console)
        .with_mailer(mailer)
        .with_power(&config.power);
    state
        .reload_settings()
        .await
        .map_err(ServeError::Recovery)?;
    ready(&state);

    // Events written before this point are already reflected in what recovery reads.
    let feed_from = store.last_event_id().await.map_err(ServeError::Recovery)?;
    let report = state.hub.recover().await.map_err(ServeError::Recovery)?;
    tracing::info!(
        resumed = report.resumed,
        expired_while_down = report.expired,
        "sessions recovered"
    );

    // On PostgreSQL, other instances ring at every commit: the feed reads the log at once
    // instead of at its next poll (which stays as the catch-up path).
    let doorbell = Arc::new(Notify::new());
    let listener_task = (store.backend() == Backend::Postgres)
        .then(|| tokio::spawn(listen_for_changes(store.clone(), Arc::clone(&doorbell))));
    let heartbeat = (store.backend() == Backend::Postgres)
        .then(|| tokio::spawn(renew_timer_leases(state.clone())));
    let feed = tokio::spawn(follow_changes(
        state.clone(),
        feed_from,
        Duration::from_millis(state.settings().limits.change_feed_interval_ms),
        doorbell,
    ));

    let poste_spaces = tokio::spawn(keep_poste_spaces(state.clone()));
    let last_seen = tokio::spawn(flush_last_seen(
        state.last_seen.clone(),
        state.store.clone(),
    ));
    let purge = tokio::spawn(purge_old_records(
        state.store.clone(),
        state.retention_days(),
    ));
    let monthly_reports = state.mailer.clone().map(|mailer| {
        tracing::info!(
            server = mailer.server(),
            "monthly reports mailed through this server"
        );
        tokio::spawn(crate::report::send::mail_monthly_reports(
            state.clone(),
            mailer,
            origin.clone(),
        ))
    });

    let power_schedule = tokio::spawn(crate::ops::power::schedule_task(
        state.clone(),
        origin.clone(),
        Duration::from_secs(config.power.schedule_check_secs),
    ));

    // Before anything is served: a certificate that does not load stops the start-up.
    let tls = match config.tls.files() {
        Some((cert, key)) => {
            let resolver = crate::tls::CertResolver::load(cert, key)?;
            tracing::info!(cert = %cert.display(), sha256 = %resolver.fingerprint(), "TLS certificate loaded");
            Some(resolver)
        }
        None => {
            let addr = listener.local_addr()?;
            if exposed_in_clear(addr) {
                tracing::warn!(
                    %addr,
                    "serving plain HTTP beyond this machine: access codes and workstation secrets cross the network in clear; set [tls] cert and key (docs/deployment/tls.md) unless a TLS proxy is in front"
                );
            }
            None
        }
    };
    #[cfg(unix)]
    let reload = match &tls {
        // Installed now so that a SIGHUP once we are ready reloads instead of killing us.
        Some(resolver) => {
            let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
            Some(tokio::spawn(crate::tls::reload_on_hangup(
                Arc::clone(resolver),
                hangup,
            )))
        }
        None => None,
    };

    // One shutdown signal, seen by both listeners.
    let (stopping, stop) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stopping.send(true);
    });
    let stopped = |mut stop: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stop.wait_for(|stopping| *stopping).await;
    };

    let metrics_server = match config.metrics.listen {
        Some(addr) => {
            let metrics_listener = TcpListener::bind(addr)
                .await
                .map_err(|source| ServeError::Bind { addr, source })?;
            tracing::info!(addr = %metrics_listener.local_addr()?, "metrics listening");
            let serve = axum::serve(metrics_listener, crate::http::metrics_router(state.clone()))
                .with_graceful_shutdown(stopped(stop.clone()));
            Some(tokio::spawn(async move { serve.await }))
        }
        None => None,
    };

    let router = crate::http::router_with(state.clone(), config.metrics.on_main_listener());
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let addr = listener.local_addr()?;
    let result = match tls {
        None => {
            tracing::info!(%addr, "poste-server listening");
            notify_ready();
            axum::serve(listener.tap_io(crate::tls::no_delay), service)
                .with_graceful_shutdown(stopped(stop.clone()))
                .await
        }
        Some(resolver) => {
            let listener = crate::tls::TlsListener::new(listener, resolver.server_config()?)?
                // `tap_io` only so that axum's `ConnectInfo<SocketAddr>` applies to our
                // listener (axum implements it for tapped listeners of any kind).
                .tap_io(|_| ());
            tracing::info!(%addr, "poste-server listening (TLS)");
            notify_ready();
            axum::serve(listener, service)
                .with_graceful_shutdown(stopped(stop.clone()))
                .await
        }
    };
    #[cfg(unix)]
    if let Some(reload) = reload {
        reload.abort();
    }
    if let Some(metrics_server) = metrics_server {
        // The main listener may have failed rather than been stopped: stop this one too.
        metrics_server.abort();
        let _ = metrics_server.await;
    }
    feed.abort();
    purge.abort();
    last_seen.abort();
    poste_spaces.abort();
    state.last_seen.flush(&store).await;
    power_schedule.abort();
    for task in [listener_task, heartbeat, monthly_reports]
        .into_iter()
        .flatten()
    {
        task.abort();
    }
    state.hub.shutdown();
    if store.backend() == Backend::Postgres {
        if let Err(err) = store.release_timers().await {
            tracing::warn!(error = %err, "could not release the timer leases; others take them over when they lapse");
        }
        if let Err(err) = store.withdraw_presence().await {
            tracing::warn!(error = %err, "could not withdraw this instance's workstations; they show offline when its row lapses");
        }
    }
    store.close().await;
    tracing::info!("poste-server stopped");
    Ok(result?)
}

/// Raises this process's soft limit on open files to its hard limit: every workstation holds a
/// socket, and the usual soft limit (1024) would refuse connections long before the hard one.
/// The hard limit itself is the service manager's (`LimitNOFILE=` under systemd).
pub fn raise_open_file_limit() {
    #[cfg(unix)]
    {
        use rlimit::Resource;
        let before = match Resource::NOFILE.get() {
            Ok(limits) => limits,
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the open-file limit");
                return;
            }
        };
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(soft) => tracing::info!(
                from = before.0,
                soft,
                hard = before.1,
                "open-file limit raised to the hard limit"
            ),
            Err(err) => tracing::warn!(
                error = %err,
                soft = before.0,
                hard = before.1,
                "cannot raise the open-file limit"
            ),
        }
    }
}

/// How often the connection register is purged of what is older than the retention period.
const PURGE_EVERY: Duration = Duration::from_secs(6 * 3600);

/// Deletes, at start-up then every few hours, the sessions and events older than
/// `retention_days` (the connection register is kept for one year by default, CPCE L34-1).
async fn purge_old_records(store: Store, retention_days: u32) {
    let retention_ms = i64::from(retention_days) * 24 * 3600 * 1000;
    loop {
        let now = crate::clock::now_ms();
        match store.purge_before(now - retention_ms, now).await {
            Ok(report) if report.sessions > 0 || report.events > 0 => tracing::info!(
                sessions = report.sessions,
                events = report.events,
                retention_days,
                "connection register purged"
            ),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "could not purge the connection register"),
        }
        tokio::time::sleep(PURGE_EVERY).await;
    }
}

/// How long the change feed waits for an event id that is missing below newer ones.
const FEED_GAP_WAIT: Duration = Duration::from_secs(10);

/// Longest wait before the doorbell's listener tries to reconnect to a database that is down.
const LISTEN_RETRY_MAX: Duration = Duration::from_secs(5);

/// PostgreSQL: listens for the other instances' commits (LISTEN/NOTIFY) and rings the change
/// feed. A lost connection is reopened (sqlx listens again on reconnect); notifications sent
/// meanwhile are lost, so every loss and every reconnect rings too and the feed catches up from
/// the event log.
async fn listen_for_changes(store: Store, doorbell: Arc<Notify>) {
    let mut backoff = Duration::from_millis(100);
    let mut listener = loop {
        match store.listen_events().await {
            Ok(Some(listener)) => break listener,
            Ok(None) => return,
            Err(err) => {
                tracing::warn!(error = %err, retry_in = ?backoff, "cannot listen for other instances' changes");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(LISTEN_RETRY_MAX);
            }
        }
    };
    doorbell.notify_one();
    backoff = Duration::from_millis(100);
    let mut lost = false;
    loop {
        match listener.next().await {
            Ok(Bell::Rung) => {
                if lost {
                    tracing::info!("listening for other instances' changes again");
                    lost = false;
                }
                backoff = Duration::from_millis(100);
                doorbell.notify_one();
            }
            Ok(Bell::Lost) => {
                tracing::warn!("lost the notification connection; reconnecting");
                lost = true;
                doorbell.notify_one();
            }
            Err(err) => {
                if !lost {
                    tracing::warn!(error = %err, "cannot listen for other instances' changes");
                    lost = true;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(LISTEN_RETRY_MAX);
                // Reconnected or not, what was missed is in the event log.
                doorbell.notify_one();
            }
        }
    }
}

/// PostgreSQL: keeps this instance's timer leases alive, so that no other instance takes its
/// sessions over while it runs, and shares which workstations are connected where (each
/// instance publishes its own for a lease, and reads the others').
async fn renew_timer_leases(state: AppState) {
    let mut failing = false;
    loop {
        let limits = state.settings().limits.clone();
        let lease = i64::try_from(limits.timer_lease_ms).unwrap_or(10_000);
        let now = crate::clock::now_ms();
        let presence = match state
            .store
            .publish_presence(&state.hub.online_here(), now + lease)
            .await
        {
            Ok(()) => state.store.presence_elsewhere(now).await,
            Err(err) => Err(err),
        };
        match presence {
            Ok(elsewhere) => state.hub.set_online_elsewhere(elsewhere),
            Err(err) => {
                tracing::debug!(error = %err, "workstations of the other instances not read")
            }
        }
        match state.store.renew_timers(now + lease).await {
            Ok(owned) => {
                if failing {
                    tracing::info!(owned, "timer leases renewed again");
                    failing = false;
                }
                state.hub.set_timers_owned(owned);
            }
            Err(err) => {
                if !failing {
                    tracing::warn!(error = %err, "cannot renew the timer leases; other instances may take them over");
                    failing = true;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(limits.timer_heartbeat_ms)).await;
    }
}

/// Keeps [`PosteSpaces`] up to date for every feed of this server (one read of the
/// workstations per change that may have moved one, not one per console).
pub async fn keep_poste_spaces(state: AppState) {
    let mut changes = state.hub.watch_changes();
    let mut stale = true;
    loop {
        if stale {
            match state.store.list_postes().await {
                Ok(postes) => state.poste_spaces.set(
                    postes
                        .into_iter()
                        .map(|poste| (poste.id, poste.espace_id))
                        .collect(),
                ),
                Err(err) => {
                    tracing::warn!(error = %err, "console feeds: cannot read the workstations' spaces");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
        }
        match changes.recv().await {
            Ok(change) => {
                let known = state.poste_spaces.get();
                stale = may_move(&change, &known) || waiting_may_move(&mut changes, &known);
            }
            Err(RecvError::Lagged(_)) => stale = true,
            Err(RecvError::Closed) => return,
        }
    }
}

/// Whether a change may have moved a workstation, or names one not known yet.
fn may_move(change: &Change, known: &HashMap<i64, i64>) -> bool {
    *change == Change::Everything || change.names_unknown_postes(known)
}

/// Takes what is waiting: whether any of it may have moved a workstation.
fn waiting_may_move(changes: &mut broadcast::Receiver<Change>, known: &HashMap<i64, i64>) -> bool {
    let mut moved = false;
    loop {
        match changes.try_recv() {
            Ok(change) => moved |= may_move(&change, known),
            Err(broadcast::error::TryRecvError::Lagged(_)) => moved = true,
            Err(_) => return moved,
        }
    }
}

/// Follows the event log for changes this process did not make (the command line, another
/// instance) and applies them to the live sessions: every `every`, or at once when the
/// doorbell rings.
async fn follow_changes(state: AppState, after: i64, every: Duration, doorbell: Arc<Notify>) {
    let hub = Arc::clone(&state.hub);
    let mut cursor = FeedCursor::new(after, FEED_GAP_WAIT);
    let mut failing = false;
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = doorbell.notified() => {}
        }
        let events = match hub.store().events_after(cursor.read_after(), 500).await {
            Ok(events) => {
                if failing {
                    tracing::info!("change feed back");
                    failing = false;
                }
                events
            }
            Err(err) => {
                if !failing {
                    tracing::warn!(error = %err, "change feed cannot read the event log");
                    failing = true;
                }
                continue;
            }
        };
        // Pauses and wake-ups given through another instance (one event a workstation),
        // relayed together after the batch: the workstations' spaces read once, and one
        // Wake-on-LAN relay a space rather than one a workstation of a space woken whole.
        let mut paused_elsewhere = Vec::new();
        let mut woken_elsewhere = Vec::new();
        for event in events {
            if !cursor.accept(event.id) {
                continue;
            }
            let relevant = matches!(
                event.kind,
                EventKind::SessionStarted
                    | EventKind::TimeAdded
                    | EventKind::SessionEnded
                    | EventKind::CodeCancelled
                    | EventKind::WarningSent
            );
            if event.origin == hub.store().origin() {
                continue;
            }
            match event.kind {
                // Refused logins change nothing shown live.
                EventKind::StaffLoginFailed | EventKind::StaffLoginThrottled => continue,
                // Unblocked from the command line or another instance.
                EventKind::StaffUnblocked => {
                    if let Some(login) = &event.detail {
                        let pairs = state.login_throttle.unblock(login);
                        tracing::info!(%login, pairs, by = %event.actor, "console logins unblocked elsewhere");
                    }
                    continue;
                }
                // Console sessions closed from the command line or another instance: the
                // live feeds of those sessions end.
                EventKind::StaffDisabled
                | EventKind::StaffDeleted
                | EventKind::StaffPasswordChanged => hub.staff_sessions_closed(),
                _ => {}
            }
            // Whatever another process changed may show on the console's dashboard: a
            // session's change is told by `reload` below, with its workstation; one that only
            // touches a workstation, with it; the others (settings, spaces, a workstation
            // created, moved or retired), as anything.
            let poste_only = matches!(
                event.kind,
                EventKind::PosteSeen
                    | EventKind::PosteServiceChanged
                    | EventKind::PosteUpdated
                    | EventKind::PosteIncident
                    | EventKind::EnrollmentRequested
                    | EventKind::EnrollmentApproved
                    | EventKind::PosteEnrolled
                    | EventKind::EnrollmentReset
            );
            match event.poste_id {
                _ if relevant && event.session_id.is_some() => {}
                // Its tile is announced by `relay_locks` below, once the pause is kept here.
                _ if event.kind == EventKind::RoomLocked => {}
                Some(poste) if poste_only => hub.announce(Change::postes([poste])),
                _ => hub.changed(),
            }
            if event.kind == EventKind::SettingsChanged
                && let Err(err) = state.reload_settings().await
            {
                tracing::warn!(error = %err, "could not reload the settings changed elsewhere");
            }
            if event.kind == EventKind::TimeRequestAnswered
                && let Some(session) = event.session_id
                && let Err(err) =
                    crate::requests::announce_answer_from_elsewhere(&hub, session).await
            {
                tracing::warn!(session, error = %err, "could not pass on an answer given elsewhere");
            }
            if event.kind == EventKind::MessageSent {
                relay_message(&state, &event).await;
                continue;
            }
            if event.kind == EventKind::PowerOrdered {
                crate::ops::power::relay_order(&state, &event);
                continue;
            }
            if event.kind == EventKind::RoomLocked {
                paused_elsewhere.extend(event.poste_id.zip(event.detail));
                continue;
            }
            if event.kind == EventKind::WakeSent {
                woken_elsewhere.extend(event.poste_id.zip(event.detail));
                continue;
            }
            if !relevant {
                continue;
            }
            if let Some(session) = event.session_id
                && let Err(err) = hub.reload(session).await
            {
                tracing::warn!(session, error = %err, "could not apply an outside change");
            }
            if event.kind == EventKind::SessionStarted && event.detail.as_deref() == Some("atelier")
            {
                crate::ops::workshop::relay_start(&state, &event).await;
            }
        }
        crate::ops::workshop::relay_locks(&state, &paused_elsewhere).await;
        crate::ops::power::relay_wakes_from_elsewhere(&state, &woken_elsewhere).await;
        cursor.advance(crate::clock::monotonic());
    }
}

/// A staff message sent through another instance reaches this instance's connections of that
/// workstation (the sender already delivered to its own). Signed as the sender does: the staff
/// member's name, else the actor (`api:…`).
async fn relay_message(state: &AppState, event: &poste_store::EventRow) {
    let (Some(poste_id), Some(message)) = (event.poste_id, event.detail.clone()) else {
        return;
    };
    if !state.hub.online_here().contains(&poste_id) {
        return;
    }
    let mut de = event.actor.clone();
    if let Some(login) = event.actor.strip_prefix("animateur:")
        && let Ok(Some(account)) = state.store.staff_credentials(login).await
    {
        de = account.staff.nom;
    }
    let push = poste_proto::ServerMessage::Message(poste_proto::StaffMessage {
        message,
        de: Some(de),
        session_id: None,
    });
    let delivered = state.hub.send_to_poste(poste_id, &push);
    tracing::info!(
        poste = poste_id,
        delivered,
        "staff message from another instance relayed"
    );
}

/// Plain HTTP on an address other machines can reach: codes and secrets would cross the LAN in
/// clear, unless a TLS proxy the server cannot see is in front (so a warning, not a refusal).
fn exposed_in_clear(addr: SocketAddr) -> bool {
    !addr.ip().is_loopback()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn plain_http_is_warned_about_beyond_loopback_only() {
        assert!(!exposed_in_clear("127.0.0.1:8001".parse().unwrap()));
        assert!(!exposed_in_clear("[::1]:8001".parse().unwrap()));
        assert!(exposed_in_clear("0.0.0.0:8001".parse().unwrap()));
        assert!(exposed_in_clear("192.168.1.10:8001".parse().unwrap()));
        assert!(exposed_in_clear("[::]:8001".parse().unwrap()));
    }
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://poste:secret@db:5432/poste"),
            "postgres://poste:***@db:5432/poste"
        );
        assert_eq!(redact_url("sqlite:data/x.sqlite"), "sqlite:data/x.sqlite");
    }
}
