//! One WebSocket connection from a workstation: decodes its messages, answers them, and
//! forwards the pushes the hub queues for it. Every failure gets a JSON `error` reply (or, for
//! abuse, a clean close) and stays within this connection.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use poste_proto::{
    ClientMessage, CodeInvalid, DecodeError, EndReason, Enroll, EnrollmentReply, EnrollmentStatus,
    ErrorCode, ErrorReply, Hello, PROTOCOL_VERSION, RefusalReason, RequestTime, ServerMessage,
    SessionId, Thresholds, Welcome, decode_client_message, normalize_code,
};
use poste_store::{
    Actor, Enrollment, EnrollmentProof, PosteRow, PosteSighting, SessionRow, SessionStatus,
    StoreError,
};
use tokio::sync::mpsc;

use crate::app::AppState;
use crate::clock::{now_ms, rfc3339};
use crate::domain::codes::{generate_token, token_hash};
use crate::domain::opening::Opening;
use crate::hub::OUTBOX_CAPACITY;
use crate::ops::{self, OpError};
use crate::{messages, text};

/// Longest workstation name accepted in `hello`.
const MAX_POSTE_NAME: usize = 64;
/// Each connection's WebSocket read buffer.
const READ_BUFFER_BYTES: usize = 1024;
/// After this many messages refused in a row for flooding, the connection is closed.
const FLOOD_STRIKES: u32 = 20;
/// A connection notes its workstation as seen (`AppState::last_seen`) at most this often.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

pub async fn upgrade(
    ws: WebSocketUpgrade,
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    let limit = app.settings().limits.max_message_bytes;
    ws.max_message_size(limit)
        .max_frame_size(limit)
        // Allocated up front for every connection: tungstenite's 128 KiB default made 150 KB a
        // workstation (docs/benchmarks.md). Messages are a few hundred bytes; a bigger one
        // (up to `limit`) grows the buffer for its own read.
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| serve(app, socket, peer))
}

/// What this connection knows about its peer.
struct Peer {
    addr: SocketAddr,
    /// The workstation, once known (from `hello`, or from its IP address).
    poste: Option<PosteRow>,
    /// The IP address a seed client reports in `validate_code`.
    claimed_ip: Option<String>,
    /// An IP lookup was done and found nothing: do not repeat it for every `get_time`.
    ip_lookup_done: bool,
    /// Sessions whose code was validated on this connection.
    validated: HashSet<i64>,
    last_touch: Option<Instant>,
    /// This connection proved it is its enrolled workstation (`hello` with the secret).
    authenticated: bool,
    /// Set by a handler that wants the connection closed after its reply.
    close: Option<(u16, &'static str)>,
}

impl Peer {
    fn ip(&self) -> String {
        self.claimed_ip
            .clone()
            .unwrap_or_else(|| self.addr.ip().to_string())
    }

    fn poste_id(&self) -> Option<i64> {
        self.poste.as_ref().map(|poste| poste.id)
    }

    fn actor(&self) -> Actor {
        Actor::Poste(
            self.poste
                .as_ref()
                .map(|poste| poste.nom.clone())
                .unwrap_or_else(|| self.ip()),
        )
    }
}

/// Token bucket against floods.
struct RateLimit {
    tokens: f64,
    per_sec: f64,
    burst: f64,
    last: Instant,
    strikes: u32,
}

impl RateLimit {
    fn allow(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.strikes = 0;
            true
        } else {
            self.strikes += 1;
            false
        }
    }
}

async fn serve(app: AppState, socket: WebSocket, addr: SocketAddr) {
    let (outbox, mut pushes) = mpsc::channel::<ServerMessage>(OUTBOX_CAPACITY);
    let guard = app.hub.register(outbox);
    let conn = guard.id;
    let span = tracing::info_span!("ws", conn, peer = %addr);
    tracing::debug!(parent: &span, "connected");

    let (mut sink, mut stream) = socket.split();
    let limits = &app.settings().limits;
    let mut peer = Peer {
        addr,
        poste: None,
        claimed_ip: None,
        ip_lookup_done: false,
        validated: HashSet::new(),
        last_touch: None,
        authenticated: false,
        close: None,
    };
    let mut rate = RateLimit {
        tokens: f64::from(limits.message_burst),
        per_sec: f64::from(limits.messages_per_sec),
        burst: f64::from(limits.message_burst),
        last: Instant::now(),
        strikes: 0,
    };
    let idle_timeout = Duration::from_secs(limits.idle_timeout_secs);
    let mut ping = tokio::time::interval(Duration::from_secs(limits.ping_interval_secs));
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();

    let close = loop {
        tokio::select! {
            frame = stream.next() => {
                let Some(frame) = frame else { break None };
                last_heard = Instant::now();
                let frame = match frame {
                    Ok(frame) => frame,
                    Err(err) => {
                        tracing::info!(parent: &span, error = %err, "closing connection after a read error");
                        // Oversized messages end here: tungstenite refuses them while reading
                        // ("Space limit exceeded"); anything else is a broken protocol.
                        let detail = err.to_string();
                        if detail.contains("Space limit exceeded") {
                            break Some((close_code::SIZE, text::protocol_error(ErrorCode::MessageTropGrand)));
                        }
                        break Some((close_code::PROTOCOL, text::protocol_error(ErrorCode::MessageInvalide)));
                    }
                };
                let reply = match frame {
                    Message::Text(body) => {
                        if !rate.allow(Instant::now()) {
                            if rate.strikes >= FLOOD_STRIKES {
                                tracing::warn!(parent: &span, "flood: closing connection");
                                break Some((close_code::POLICY, text::protocol_error(ErrorCode::TropDeMessages)));
                            }
                            vec![error(ErrorCode::TropDeMessages)]
                        } else {
                            handle_text(&app, conn, &mut peer, body.as_str()).await
                        }
                    }
                    Message::Binary(_) => vec![error(ErrorCode::MessageInvalide)],
                    Message::Ping(_) | Message::Pong(_) => Vec::new(),
                    Message::Close(_) => break None,
                };
                let mut failed = false;
                for message in reply {
                    if sink.send(Message::Text(Utf8Bytes::from(message.to_json()))).await.is_err() {
                        failed = true;
                        break;
                    }
                }
                if failed { break None; }
                if let Some(close) = peer.close.take() {
                    break Some(close);
                }
            }
            push = pushes.recv() => {
                let Some(message) = push else {
                    // The hub dropped us (stuck connection, or shutdown).
                    break Some((close_code::AWAY, "Au revoir"));
                };
                if sink.send(Message::Text(Utf8Bytes::from(message.to_json()))).await.is_err() {
                    break None;
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > idle_timeout {
                    tracing::info!(parent: &span, "idle connection closed");
                    break Some((close_code::AWAY, "Inactif"));
                }
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break None;
                }
            }
        }
    };
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from(reason),
        };
        let _ = sink.send(Message::Close(Some(frame))).await;
    }
    tracing::debug!(parent: &span, poste = ?peer.poste.as_ref().map(|p| &p.nom), "disconnected");
    drop(guard);
}

fn error(code: ErrorCode) -> ServerMessage {
    ServerMessage::Error(ErrorReply {
        code,
        message: text::protocol_error(code).to_owned(),
    })
}

fn error_with(code: ErrorCode, message: String) -> ServerMessage {
    ServerMessage::Error(ErrorReply { code, message })
}

fn store_error(err: &StoreError) -> ServerMessage {
    match err {
        StoreError::Unavailable(_) => {
            tracing::warn!(error = %err, "database unavailable");
            error(ErrorCode::ServiceIndisponible)
        }
        _ => {
            tracing::error!(error = %err, "database error");
            error(ErrorCode::ErreurInterne)
        }
    }
}

async fn handle_text(app: &AppState, conn: u64, peer: &mut Peer, body: &str) -> Vec<ServerMessage> {
    let message = match decode_client_message(body) {
        Ok(message) => message,
        Err(err) => {
            tracing::info!(conn, error = %err, "refused message");
            let code = match err {
                DecodeError::NotJson(_) => ErrorCode::JsonInvalide,
                DecodeError::MissingType | DecodeError::InvalidFields { .. } => {
                    ErrorCode::MessageInvalide
                }
                DecodeError::UnknownType(_) => ErrorCode::TypeInconnu,
            };
            return vec![error(code)];
        }
    };
    // Sites that accept enrolled workstations only: nothing else before an authenticated hello.
    let needs_identity = matches!(
        message,
        ClientMessage::ValidateCode { .. }
            | ClientMessage::StartSession { .. }
            | ClientMessage::GetTime { .. }
            | ClientMessage::RequestTime(_)
            | ClientMessage::EndSession { .. }
            | ClientMessage::Incident(_)
    );
    if needs_identity && !app.settings().allow_seed_clients && !peer.authenticated {
        tracing::warn!(conn, ip = %peer.ip(), "workstation not enrolled refused");
        peer.close = Some((
            close_code::POLICY,
            text::protocol_error(ErrorCode::PosteNonEnrole),
        ));
        return vec![error(ErrorCode::PosteNonEnrole)];
    }
    let result = match message {
        ClientMessage::Hello(hello) => on_hello(app, conn, peer, hello).await,
        ClientMessage::Enroll(enroll) => on_enroll(app, peer, enroll).await,
        ClientMessage::ValidateCode { code, ip_address } => {
            on_validate(app, conn, peer, &code, ip_address).await
        }
        ClientMessage::StartSession { session_id } => on_start(app, conn, peer, session_id).await,
        ClientMessage::GetTime { session_id } => on_get_time(app, conn, peer, session_id).await,
        ClientMessage::RequestTime(request) => on_request_time(app, conn, peer, request).await,
        ClientMessage::EndSession { session_id } => {
            on_end_session(app, conn, peer, session_id).await
        }
        ClientMessage::ActionReport(report) => {
            on_action_report(peer, &report);
            Ok(Vec::new())
        }
        ClientMessage::Incident(incident) => on_incident(app, peer, &incident).await,
        ClientMessage::Heartbeat => {
            touch(app, peer);
            Ok(vec![ServerMessage::HeartbeatAck {
                timestamp: rfc3339(now_ms()),
            }])
        }
    };
    let replies = result.unwrap_or_else(|err| vec![store_error(&err)]);
    count(app, &replies);
    replies
}

/// Counts what `/metrics` reports of these replies: refused codes and started sessions.
fn count(app: &AppState, replies: &[ServerMessage]) {
    for reply in replies {
        match reply {
            ServerMessage::CodeInvalid(invalid) => {
                let reason = invalid.raison.unwrap_or(RefusalReason::Autre);
                let label = serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "autre".to_owned());
                app.hub.metrics().code_refused(&label);
            }
            ServerMessage::SessionStarted { .. } => app.hub.metrics().session_started(),
            _ => {}
        }
    }
}

type Replies = Result<Vec<ServerMessage>, StoreError>;

fn valid_poste_name(name: &str) -> bool {
    let name = name.trim();
    !name.is_empty()
        && name.chars().count() <= MAX_POSTE_NAME
        && !name.chars().any(char::is_control)
}

async fn on_hello(app: &AppState, conn: u64, peer: &mut Peer, hello: Hello) -> Replies {
    if !valid_poste_name(&hello.poste) {
        return Ok(vec![error(ErrorCode::MessageInvalide)]);
    }
    let ip = hello
        .ip_address
        .as_deref()
        .map(str::trim)
        .filter(|ip| is_plausible_ip(ip))
        .map_or_else(|| peer.addr.ip().to_string(), str::to_owned);
    let name = hello.poste.trim();
    let known = app.store.poste_by_name(name).await?;
    let enrolled = known
        .as_ref()
        .is_some_and(|p| p.enrollment == Enrollment::Enrole);
    let proven = match (&known, &hello.secret) {
        (Some(poste), Some(secret)) if enrolled => {
            poste.secret_hash.as_deref() == Some(token_hash(secret).as_str())
        }
        _ => false,
    };
    // An enrolled workstation is only ever spoken for with its secret; an agent that believes
    // it is enrolled while the server does not (staff reset it) must enroll again; sites may
    // refuse workstations that are not enrolled at all.
    let refusal = if (enrolled && !proven) || (!enrolled && hello.secret.is_some()) {
        Some(ErrorCode::PosteNonAuthentifie)
    } else if !enrolled && !app.settings().allow_seed_clients {
        Some(ErrorCode::PosteNonEnrole)
    } else {
        None
    };
    if let Some(code) = refusal {
        tracing::warn!(conn, poste = %name, ip = %ip, ?code, "workstation identity refused");
        peer.close = Some((close_code::POLICY, text::protocol_error(code)));
        return Ok(vec![error(code)]);
    }
    let sighting = PosteSighting {
        nom: name.to_owned(),
        ip: Some(ip.clone()),
        mac: hello.mac.clone(),
        version: hello.version.clone(),
    };
    let poste = app.store.record_poste_seen(&sighting, now_ms()).await?;
    peer.authenticated = proven;
    tracing::info!(conn, poste = %poste.nom, version = ?hello.version, "workstation identified");
    app.hub.set_connection_poste(conn, poste.id);
    peer.claimed_ip = Some(ip);
    peer.last_touch = Some(Instant::now());
    let thresholds = app.hub.thresholds();
    let welcome = ServerMessage::Welcome(Welcome {
        poste: poste.nom.clone(),
        serveur_version: env!("CARGO_PKG_VERSION").to_owned(),
        protocole: PROTOCOL_VERSION,
        heure_serveur: rfc3339(now_ms()),
        seuils: Thresholds {
            avertissement: thresholds.warning_ms / 1000,
            critique: thresholds.critical_ms / 1000,
        },
        espace: Some(app.settings().site_name.clone()),
    });
    peer.poste = Some(poste);
    Ok(vec![welcome])
}

fn enrollment(statut: EnrollmentStatus, message: &str, secret: Option<String>) -> ServerMessage {
    ServerMessage::Enrollment(EnrollmentReply {
        statut,
        message: message.to_owned(),
        secret,
    })
}

/// Enrollment: an agent asks with a one-time code (or the install token), waits for staff,
/// then collects its secret with the same request key. The secret is sent once, here.
async fn on_enroll(app: &AppState, peer: &mut Peer, enroll: Enroll) -> Replies {
    let demande = enroll.demande.trim();
    if !valid_poste_name(&enroll.poste) || !(16..=128).contains(&demande.len()) {
        return Ok(vec![enrollment(
            EnrollmentStatus::Refuse,
            text::ENROLL_BAD_REQUEST,
            None,
        )]);
    }
    // The address's own key counts each try as it is checked (parallel connections from one
    // address cannot each pass the check before any failure is recorded); the shared `ip:`
    // key and the global budget count failures once known, as for access codes.
    let keys = [
        format!("ip:{}", peer.addr.ip()),
        format!("enroll:{}", peer.addr.ip()),
    ];
    let started = Instant::now();
    if let Err(wait) = app.code_throttle.try_acquire(&keys, started) {
        let message = text::refusal(RefusalReason::TropDEssais, None, wait.as_secs().max(1));
        return Ok(vec![enrollment(EnrollmentStatus::Refuse, &message, None)]);
    }
    let judged = judge_enrollment(app, peer, &enroll).await;
    if matches!(judged, Ok((_, true))) {
        app.code_throttle.failed(&keys, started);
    } else {
        app.code_throttle.forgive(&keys, started);
    }
    judged.map(|(replies, _)| replies)
}

/// The answer to an enrollment step, and whether it counts as a wrong try.
async fn judge_enrollment(
    app: &AppState,
    peer: &Peer,
    enroll: &Enroll,
) -> Result<(Vec<ServerMessage>, bool), StoreError> {
    let name = enroll.poste.trim();
    let request_hash = token_hash(enroll.demande.trim());
    let now = now_ms();
    let known = app.store.poste_by_name(name).await?;
    match known.as_ref().map(|p| p.enrollment) {
        Some(Enrollment::Approuve) => {
            let secret = generate_token();
            return match app
                .store
                .complete_enrollment(name, &request_hash, &token_hash(&secret), now)
                .await
            {
                Ok(poste) => {
                    tracing::info!(poste = %poste.nom, ip = %peer.ip(), "workstation enrolled");
                    Ok((
                        vec![enrollment(
                            EnrollmentStatus::Enrole,
                            text::ENROLL_DONE,
                            Some(secret),
                        )],
                        false,
                    ))
                }
                Err(StoreError::EnrollmentRefused(refusal)) => {
                    tracing::warn!(poste = %name, ip = %peer.ip(), ?refusal, "enrollment collection refused");
                    Ok((
                        vec![enrollment(
                            EnrollmentStatus::Refuse,
                            text::enrollment_refused(refusal),
                            None,
                        )],
                        true,
                    ))
                }
                Err(err) => Err(err),
            };
        }
        // Waiting for staff: nothing to do until they approve (the code was used already).
        Some(Enrollment::EnAttente) => {
            return Ok((
                vec![enrollment(
                    EnrollmentStatus::EnAttente,
                    text::ENROLL_PENDING,
                    None,
                )],
                false,
            ));
        }
        _ => {}
    }
    let proof = match (&enroll.code_enrolement, &enroll.jeton_installation) {
        (Some(code), _) => match crate::ops::enrollment_code_hash(code) {
            Some(hash) => EnrollmentProof::OneTimeCode(hash),
            None => EnrollmentProof::OneTimeCode(String::new()),
        },
        (None, Some(token)) => {
            let settings = app.settings();
            let expected = settings.install_token_hash.as_deref();
            if expected.is_none() || expected != Some(token_hash(token.trim()).as_str()) {
                tracing::warn!(poste = %name, ip = %peer.ip(), "enrollment with a wrong install token");
                return Ok((
                    vec![enrollment(
                        EnrollmentStatus::Refuse,
                        text::ENROLL_BAD_TOKEN,
                        None,
                    )],
                    true,
                ));
            }
            EnrollmentProof::SiteToken
        }
        (None, None) => {
            return Ok((
                vec![enrollment(
                    EnrollmentStatus::Refuse,
                    text::ENROLL_NO_PROOF,
                    None,
                )],
                false,
            ));
        }
    };
    let sighting = PosteSighting {
        nom: name.to_owned(),
        ip: Some(peer.ip()),
        mac: enroll.mac.clone(),
        version: enroll.version.clone(),
    };
    match app
        .store
        .request_enrollment(&proof, &sighting, &request_hash, now)
        .await
    {
        Ok(poste) => {
            tracing::info!(poste = %poste.nom, ip = %peer.ip(), "enrollment requested; waiting for staff");
            Ok((
                vec![enrollment(
                    EnrollmentStatus::EnAttente,
                    text::ENROLL_PENDING,
                    None,
                )],
                false,
            ))
        }
        Err(StoreError::EnrollmentRefused(refusal)) => {
            tracing::warn!(poste = %name, ip = %peer.ip(), ?refusal, "enrollment refused");
            Ok((
                vec![enrollment(
                    EnrollmentStatus::Refuse,
                    text::enrollment_refused(refusal),
                    None,
                )],
                true,
            ))
        }
        Err(err) => Err(err),
    }
}

/// The workstation this connection speaks for: named in `hello`, else the one known by the
/// IP address the client reports (seed clients), else by the socket's address.
async fn identify(
    app: &AppState,
    conn: u64,
    peer: &mut Peer,
) -> Result<Option<PosteRow>, StoreError> {
    if peer.poste.is_none() && !peer.ip_lookup_done {
        peer.ip_lookup_done = true;
        // An address proves nothing: an enrolled workstation is only ever recognised by its
        // secret, never by the IP address a connection claims or comes from.
        if let Some(poste) = app.store.poste_by_ip(&peer.ip()).await?
            && poste.enrollment != Enrollment::Enrole
        {
            app.hub.set_connection_poste(conn, poste.id);
            peer.poste = Some(poste);
        }
    }
    Ok(peer.poste.clone())
}

fn touch(app: &AppState, peer: &mut Peer) {
    let Some(id) = peer.poste_id() else { return };
    if peer.last_touch.is_some_and(|at| at.elapsed() < TOUCH_EVERY) {
        return;
    }
    peer.last_touch = Some(Instant::now());
    app.last_seen.note(id);
}

fn refused(reason: RefusalReason, poste: Option<&str>, retry_secs: u64) -> ServerMessage {
    ServerMessage::CodeInvalid(CodeInvalid {
        message: text::refusal(reason, poste, retry_secs),
        raison: Some(reason),
        reessayer_dans: (reason == RefusalReason::TropDEssais).then_some(retry_secs),
    })
}

async fn on_validate(
    app: &AppState,
    conn: u64,
    peer: &mut Peer,
    typed: &str,
    ip_address: Option<String>,
) -> Replies {
    if peer.claimed_ip.is_none()
        && let Some(ip) = ip_address
            .map(|ip| ip.trim().to_owned())
            .filter(|ip| is_plausible_ip(ip))
    {
        peer.claimed_ip = Some(ip);
        // A lookup by the socket's address may have been done before: redo it with this one.
        peer.ip_lookup_done = false;
    }
    let poste = identify(app, conn, peer).await?;
    let keys = [
        format!("ip:{}", peer.addr.ip()),
        match &poste {
            Some(poste) => format!("poste:{}", poste.id),
            None => format!("poste-ip:{}", peer.ip()),
        },
    ];
    let started = Instant::now();
    if let Err(wait) = app.code_throttle.try_acquire(&keys, started) {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        tracing::warn!(conn, ip = %peer.ip(), "code tries throttled");
        return Ok(vec![refused(RefusalReason::TropDEssais, None, secs)]);
    }
    // The attempt is counted as a failure already; it is taken back unless it was one.
    let judged = judge_code(app, conn, peer, typed, poste).await;
    if matches!(judged, Ok((_, true))) {
        app.code_throttle.failed(&keys, started);
    } else {
        app.code_throttle.forgive(&keys, started);
    }
    judged.map(|(replies, _)| replies)
}

/// The answer to a code, and whether it counts as a wrong try.
async fn judge_code(
    app: &AppState,
    conn: u64,
    peer: &mut Peer,
    typed: &str,
    poste: Option<PosteRow>,
) -> Result<(Vec<ServerMessage>, bool), StoreError> {
    let now = now_ms();
    // A workstation staff marked out of order takes no code (a wrong code is not counted). The
    // row is read again: staff may have changed it since the connection was identified.
    if let Some(known) = &poste
        && let Some(fresh) = app.store.poste(known.id).await?
        && fresh.hors_service
    {
        tracing::info!(conn, poste = %fresh.nom, "code refused: workstation out of order");
        return Ok((vec![refused(RefusalReason::HorsService, None, 0)], false));
    }
    let settings = app.settings();
    if settings.opening_hours.at(now, &settings.timezone) == Opening::Closed {
        tracing::info!(conn, "code refused: the space is closed");
        return Ok((vec![refused(RefusalReason::Ferme, None, 0)], false));
    }
    let verdict = match normalize_code(typed) {
        None => Err((RefusalReason::Inconnu, None)),
        Some(code) => match app.store.session_by_code(&code).await? {
            None => Err((RefusalReason::Inconnu, None)),
            Some(row) => check_code(&row, poste.as_ref().map(|p| p.id), now).map(|()| row),
        },
    };
    match verdict {
        Ok(row) => {
            peer.validated.insert(row.id);
            if row.status == SessionStatus::Active {
                app.hub.subscribe(conn, row.id);
            }
            tracing::info!(conn, session = row.id, ip = %peer.ip(), "code accepted");
            // A seed client not yet in the register will be registered under its IP address.
            let poste_name = poste.as_ref().map_or_else(|| peer.ip(), |p| p.nom.clone());
            Ok((
                vec![messages::code_valid(&row, Some(&poste_name), now)],
                false,
            ))
        }
        Err((reason, bound_to)) => {
            // The code itself is never logged: it may be a near miss of someone else's.
            tracing::info!(conn, ?reason, ip = %peer.ip(), "code refused");
            Ok((vec![refused(reason, bound_to.as_deref(), 0)], true))
        }
    }
}

/// Logs what a workstation reports of its desktop actions: a workstation that could not be
/// locked must be seen by IT staff (the console will show it too).
fn on_action_report(peer: &Peer, report: &poste_proto::ActionReport) {
    let poste = peer
        .poste
        .as_ref()
        .map(|p| p.nom.clone())
        .unwrap_or_else(|| peer.ip());
    let detail: String = report
        .detail
        .as_deref()
        .unwrap_or_default()
        .chars()
        .take(500)
        .collect();
    let action: String = report.action.chars().take(32).collect();
    if report.succes {
        tracing::info!(%poste, %action, methode = ?report.methode, "workstation action done");
    } else {
        tracing::error!(%poste, %action, %detail, "workstation action FAILED on every method");
    }
}

/// Records an incident a workstation reports (its home not restored, a session ended for
/// inactivity…) in the event log, where the console's history shows it. The workstation is the
/// connection's, never a field of the message; the texts are cut to a bounded length.
async fn on_incident(
    app: &AppState,
    peer: &Peer,
    incident: &poste_proto::Incident,
) -> Result<Vec<ServerMessage>, StoreError> {
    let nature: String = incident
        .nature
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .take(40)
        .collect();
    let detail: String = incident
        .detail
        .as_deref()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(500)
        .collect();
    let poste = peer
        .poste
        .as_ref()
        .map(|p| p.nom.clone())
        .unwrap_or_else(|| peer.ip());
    tracing::error!(%poste, %nature, %detail, "workstation incident");
    let text = if detail.is_empty() {
        nature
    } else {
        format!("{nature} : {detail}")
    };
    let session = incident.session_id.map(|id| id.0);
    app.store
        .record_incident(peer.poste_id(), session, &text, &peer.actor(), now_ms())
        .await?;
    Ok(Vec::new())
}

fn is_plausible_ip(ip: &str) -> bool {
    ip.parse::<IpAddr>().is_ok()
}

/// Whether a code may be used from workstation `poste_id` now.
fn check_code(
    row: &SessionRow,
    poste_id: Option<i64>,
    now: i64,
) -> Result<(), (RefusalReason, Option<String>)> {
    match row.status {
        SessionStatus::Annulee => Err((RefusalReason::Annule, None)),
        SessionStatus::Terminee | SessionStatus::Expiree => Err((RefusalReason::DejaUtilise, None)),
        // A running session may be taken up again by the workstation it runs on (the agent
        // restarted); anywhere else its code is used up.
        SessionStatus::Active if row.poste_id.is_some() && row.poste_id == poste_id => Ok(()),
        SessionStatus::Active => Err((RefusalReason::DejaUtilise, None)),
        SessionStatus::EnAttente if row.valid_until <= now => Err((RefusalReason::Expire, None)),
        SessionStatus::EnAttente => match row.poste_id {
            Some(bound) if Some(bound) != poste_id => {
                Err((RefusalReason::MauvaisPoste, row.poste_nom.clone()))
            }
            _ => Ok(()),
        },
    }
}

/// The session, if this connection may act on it: before it starts, a connection that
/// validated its code here; once started, only connections of the workstation it runs on
/// (another workstation that validated the same code lost the race and gets nothing).
async fn authorized_session(
    app: &AppState,
    conn: u64,
    peer: &mut Peer,
    id: SessionId,
) -> Result<Result<SessionRow, ServerMessage>, StoreError> {
    let row = match app.hub.live_row(id.0) {
        Some(row) => row,
        None => match app.store.session(id.0).await? {
            Some(row) => row,
            None => return Ok(Err(error(ErrorCode::SessionInconnue))),
        },
    };
    let allowed = if row.status == SessionStatus::EnAttente {
        peer.validated.contains(&row.id)
    } else {
        let poste = identify(app, conn, peer).await?;
        row.poste_id.is_some() && row.poste_id == poste.map(|p| p.id)
    };
    if allowed {
        Ok(Ok(row))
    } else if peer.validated.contains(&row.id) {
        // Validated here, but another workstation started it first.
        Ok(Err(error_with(
            ErrorCode::SessionNonDemarrable,
            text::refusal(RefusalReason::DejaUtilise, None, 0),
        )))
    } else {
        tracing::warn!(conn, session = row.id, ip = %peer.ip(), "access to another workstation's session refused");
        Ok(Err(error(ErrorCode::SessionNonAutorisee)))
    }
}

async fn on_start(app: &AppState, conn: u64, peer: &mut Peer, id: SessionId) -> Replies {
    let row = match authorized_session(app, conn, peer, id).await? {
        Ok(row) => row,
        Err(reply) => return Ok(vec![reply]),
    };
    let now = now_ms();
    match row.status {
        SessionStatus::Active => {
            app.hub.subscribe(conn, row.id);
            return Ok(vec![messages::session_started(&row, now)]);
        }
        SessionStatus::EnAttente => {}
        _ => {
            let reason = match check_code(&row, row.poste_id, now) {
                Err((reason, _)) => reason,
                Ok(()) => RefusalReason::DejaUtilise,
            };
            let reply = error_with(
                ErrorCode::SessionNonDemarrable,
                text::refusal(reason, None, 0),
            );
            return Ok(vec![reply, messages::terminated(&row, None)]);
        }
    }
    // A seed client is known by its IP address: it becomes a workstation of the register on
    // its first session.
    let poste = match identify(app, conn, peer).await? {
        Some(poste) => poste,
        None => {
            let ip = peer.ip();
            let sighting = PosteSighting {
                nom: ip.clone(),
                ip: Some(ip),
                mac: None,
                version: None,
            };
            let poste = app.store.record_poste_seen(&sighting, now).await?;
            if poste.enrollment == Enrollment::Enrole {
                // A workstation enrolled under this very name: only its secret speaks for it.
                return Ok(vec![error(ErrorCode::PosteNonAuthentifie)]);
            }
            app.hub.set_connection_poste(conn, poste.id);
            peer.poste = Some(poste.clone());
            poste
        }
    };
    match app
        .store
        .start_session(row.id, Some(poste.id), &peer.actor(), now)
        .await
    {
        Ok(mut started) => {
            // A session never runs past closing time.
            let settings = app.settings();
            if let Opening::OpenUntil(close) = settings.opening_hours.at(now, &settings.timezone) {
                match app
                    .store
                    .cap_session_end(started.id, close, &Actor::System, now)
                    .await
                {
                    Ok(Some(capped)) => {
                        tracing::info!(
                            session = started.id,
                            "session shortened to end at closing time"
                        );
                        started = capped;
                    }
                    Ok(None) => {}
                    Err(err) => {
                        tracing::warn!(session = started.id, error = %err, "could not shorten a session to closing time");
                    }
                }
            }
            // Warnings already passed at the start are not pushed. Recording that is best
            // effort: the session must be armed whatever happens.
            let level = app.hub.level_at_start(started.total_secs());
            if level > 0 {
                if let Err(err) = app.store.raise_warning_level(started.id, level, now).await {
                    tracing::warn!(session = started.id, error = %err, "could not record the warning level at start");
                }
                started.warning_level = level;
            }
            tracing::info!(conn, session = started.id, poste = %poste.nom, secs = started.total_secs(), "session started");
            // Its timer is owned here, where its workstation is connected (PostgreSQL, several
            // instances): pushes then need no round trip through another instance.
            let _ = app.hub.claim_timer(started.id).await;
            app.hub.apply_row(started.clone(), None);
            app.hub.mark_delivered(started.id, started.warning_level);
            app.hub.subscribe(conn, started.id);
            Ok(vec![messages::session_started(&started, now)])
        }
        Err(StoreError::WrongState(current)) => {
            let reason = match check_code(&current, Some(poste.id), now) {
                Err((reason, _)) => reason,
                Ok(()) => RefusalReason::DejaUtilise,
            };
            Ok(vec![error_with(
                ErrorCode::SessionNonDemarrable,
                text::refusal(reason, current.poste_nom.as_deref(), 0),
            )])
        }
        Err(StoreError::NotFound { .. }) => Ok(vec![error(ErrorCode::SessionInconnue)]),
        Err(err) => Err(err),
    }
}

/// The session a visitor acts on (`request_time`, `end_session`): one that runs on this
/// workstation. The connection follows it from then on.
async fn running_session(
    app: &AppState,
    conn: u64,
    peer: &mut Peer,
    id: SessionId,
) -> Result<Result<SessionRow, Vec<ServerMessage>>, StoreError> {
    let row = match authorized_session(app, conn, peer, id).await? {
        Ok(row) => row,
        Err(reply) => return Ok(Err(vec![reply])),
    };
    app.hub.subscribe(conn, row.id);
    match row.status {
        SessionStatus::Active => Ok(Ok(row)),
        // Ended already (the workstation may have missed it): say so, as `get_time` would.
        status if status.is_final() => Ok(Err(vec![
            messages::time_update(&row, now_ms()),
            messages::terminated(&row, None),
        ])),
        _ => Ok(Err(vec![error(ErrorCode::SessionNonActive)])),
    }
}

/// The visitor asks for more time: recorded for staff, answered `en_attente` now; staff's
/// answer is pushed later (`crate::requests`).
async fn on_request_time(
    app: &AppState,
    conn: u64,
    peer: &mut Peer,
    request: RequestTime,
) -> Replies {
    let row = match running_session(app, conn, peer, request.session_id).await? {
        Ok(row) => row,
        Err(replies) => return Ok(replies),
    };
    let actor = peer.actor();
    match ops::request_time(
        &app.store,
        &app.settings(),
        row.id,
        request.minutes,
        &actor,
        now_ms(),
    )
    .await
    {
        Ok(pending) => {
            tracing::info!(conn, session = row.id, minutes = ?request.minutes, "time requested");
            app.hub.changed();
            Ok(vec![messages::time_request(&pending)])
        }
        Err(OpError::Store(err)) => Err(err),
        Err(OpError::Invalid(message)) => Ok(vec![error_with(ErrorCode::MessageInvalide, message)]),
        Err(OpError::Conflict(_) | OpError::NotFound(_)) => {
            Ok(vec![error(ErrorCode::SessionNonActive)])
        }
    }
}

/// The visitor ends the session early: `session_terminated` (`termine_par_visiteur`) reaches
/// every connection that follows it, this one included.
async fn on_end_session(app: &AppState, conn: u64, peer: &mut Peer, id: SessionId) -> Replies {
    let row = match running_session(app, conn, peer, id).await? {
        Ok(row) => row,
        Err(replies) => return Ok(replies),
    };
    let actor = peer.actor();
    match ops::end_session(
        &app.store,
        row.id,
        EndReason::TermineParVisiteur,
        &actor,
        now_ms(),
    )
    .await
    {
        Ok(ended) => {
            tracing::info!(conn, session = ended.id, "session ended by the visitor");
            app.hub.apply_row(ended, None);
            Ok(Vec::new())
        }
        Err(OpError::Store(err)) => Err(err),
        // It ended meanwhile (expiry, staff): the hub tells the followers.
        Err(_) => Ok(Vec::new()),
    }
}

async fn on_get_time(app: &AppState, conn: u64, peer: &mut Peer, id: SessionId) -> Replies {
    let row = match authorized_session(app, conn, peer, id).await? {
        Ok(row) => row,
        Err(reply) => return Ok(vec![reply]),
    };
    app.hub.subscribe(conn, row.id);
    touch(app, peer);
    let now = now_ms();
    let mut replies = vec![messages::time_update(&row, now)];
    if row.status.is_final() {
        // A workstation that missed the end (it was offline, or the server was down at expiry)
        // learns it now.
        replies.push(messages::terminated(&row, None));
    }
    Ok(replies)
}
