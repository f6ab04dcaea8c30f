//! The workstation's use cases: `hello`, enrollment, a code typed, a session started, the time
//! asked, the visitor's requests, an incident. The transport (`http::ws`) decodes a message and
//! hands it here with the connection's [`Caller`]; what comes back is the replies, and whether
//! the connection must be closed after them. Each use case tells the hub itself.
//!
//! Who a caller is lives here, in one place: an enrolled workstation proven by its secret, or a
//! workstation that is not enrolled, recorded at the socket's address. What a client claims
//! (`validate_code.ip_address`, a `hello` without secret naming a workstation connected or in
//! session elsewhere) never makes it speak for a workstation (docs/security.md §2).

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use poste_proto::{
    ClientMessage, CodeInvalid, ConnectionEstablished, EndReason, Enroll, EnrollmentReply,
    EnrollmentStatus, ErrorCode, ErrorReply, Hello, PROTOCOL_VERSION, RefusalReason, RequestTime,
    ServerMessage, SessionId, Thresholds, Welcome, normalize_code,
};
use poste_store::{
    Actor, DEFAULT_SPACE, Enrollment, EnrollmentProof, PosteRow, PosteSighting, SessionRow,
    SessionStatus, StoreError,
};

use crate::clock::{Now, rfc3339};
use crate::domain::access::{CodeRefusal, Place, SessionAccess, check_code, session_access};
use crate::domain::codes::{generate_token, token_hash};
use crate::domain::opening::Opening;
use crate::domain::timing::start_plan;
use crate::ops::{self, OpError};
use crate::state::AppState;
use crate::{messages, text};

/// Longest workstation name accepted in `hello`.
const MAX_POSTE_NAME: usize = 64;
/// A connection notes its workstation as seen (`AppState::last_seen`) at most this often.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// One connection's caller, as the use cases know it: no socket, no frames.
#[derive(Debug)]
pub struct Caller {
    /// The hub's id of the connection (its pushes, its subscriptions).
    conn: u64,
    /// The address the connection comes from (the socket's, never a claimed one).
    addr: IpAddr,
    /// The workstation this connection speaks for, once proven: by `hello` with its secret,
    /// or, for one that is not enrolled, by being recorded at `addr`.
    poste: Option<PosteRow>,
    /// A lookup by `addr` was done and found nothing: not repeated for every `get_time`.
    addr_lookup_done: bool,
    /// Sessions whose code was validated on this connection.
    validated: HashSet<i64>,
    last_touch: Option<Instant>,
    /// This connection proved it is its enrolled workstation (`hello` with the secret).
    enrolled: bool,
    /// When the message being handled arrived: the clocks are read once per request.
    at: Now,
}

impl Caller {
    pub fn new(conn: u64, addr: IpAddr) -> Caller {
        Caller {
            conn,
            addr,
            poste: None,
            addr_lookup_done: false,
            validated: HashSet::new(),
            last_touch: None,
            enrolled: false,
            at: Now::read(),
        }
    }

    /// The workstation's name, or the address while it has none (logs, history).
    pub fn label(&self) -> String {
        self.poste
            .as_ref()
            .map_or_else(|| self.addr.to_string(), |poste| poste.nom.clone())
    }

    fn poste_id(&self) -> Option<i64> {
        self.poste.as_ref().map(|poste| poste.id)
    }

    fn actor(&self) -> Actor {
        Actor::Poste(self.label())
    }

    /// This connection speaks for `poste` from now on: an enrolled one it proved by its secret,
    /// any other from this address, unless a live connection from another address holds it.
    fn hold(&mut self, app: &AppState, poste: PosteRow) -> bool {
        let held = if self.enrolled {
            app.hub.set_connection_poste(self.conn, poste.id);
            true
        } else {
            app.hub.claim_poste_at(self.conn, poste.id, self.addr)
        };
        if held {
            self.poste = Some(poste);
        }
        held
    }
}

/// What a use case answers: the replies, in order, and a close (with its reason) after them.
#[derive(Debug)]
pub struct Outcome {
    pub replies: Vec<ServerMessage>,
    pub close: Option<ErrorCode>,
}

impl From<Vec<ServerMessage>> for Outcome {
    fn from(replies: Vec<ServerMessage>) -> Outcome {
        Outcome {
            replies,
            close: None,
        }
    }
}

fn closing(code: ErrorCode) -> Outcome {
    Outcome {
        replies: vec![error(code)],
        close: Some(code),
    }
}

pub fn error(code: ErrorCode) -> ServerMessage {
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

/// The greeting of `/ws/client/`, sent before any message: the workstation known at the
/// connection's address, if any (a lookup that `validate_code` would do anyway).
pub async fn greeting(app: &AppState, caller: &mut Caller) -> ServerMessage {
    let poste = identify(app, caller).await.unwrap_or_else(|err| {
        tracing::warn!(error = %err, "greeting without the workstation: database error");
        None
    });
    ServerMessage::ConnectionEstablished(ConnectionEstablished {
        message: text::CONNECTION_ESTABLISHED.to_owned(),
        poste_id: poste.as_ref().map(|p| p.id),
        poste_nom: poste.map(|p| p.nom),
    })
}

/// Handles one decoded message of `caller`.
pub async fn handle(app: &AppState, caller: &mut Caller, message: ClientMessage) -> Outcome {
    caller.at = Now::read();
    let conn = caller.conn;
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
    if needs_identity && !app.settings().allow_seed_clients && !caller.enrolled {
        tracing::warn!(conn, ip = %caller.addr, "workstation not enrolled refused");
        return closing(ErrorCode::PosteNonEnrole);
    }
    let result = match message {
        ClientMessage::Hello(hello) => on_hello(app, caller, hello).await,
        ClientMessage::Enroll(enroll) => on_enroll(app, caller, enroll).await.map(Outcome::from),
        ClientMessage::ValidateCode { code, ip_address } => {
            on_validate(app, caller, &code, ip_address.as_deref())
                .await
                .map(Outcome::from)
        }
        ClientMessage::StartSession { session_id } => {
            on_start(app, caller, session_id).await.map(Outcome::from)
        }
        ClientMessage::GetTime { session_id } => on_get_time(app, caller, session_id)
            .await
            .map(Outcome::from),
        ClientMessage::RequestTime(request) => on_request_time(app, caller, request)
            .await
            .map(Outcome::from),
        ClientMessage::EndSession { session_id } => on_end_session(app, caller, session_id)
            .await
            .map(Outcome::from),
        ClientMessage::ActionReport(report) => {
            on_action_report(caller, &report);
            Ok(Outcome::from(Vec::new()))
        }
        ClientMessage::Incident(incident) => {
            on_incident(app, caller, &incident).await.map(Outcome::from)
        }
        ClientMessage::Heartbeat => {
            touch(app, caller);
            Ok(Outcome::from(vec![ServerMessage::HeartbeatAck {
                timestamp: rfc3339(caller.at.wall),
            }]))
        }
    };
    let outcome = result.unwrap_or_else(|err| Outcome::from(vec![store_error(&err)]));
    count(app, &outcome.replies);
    outcome
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

async fn on_hello(
    app: &AppState,
    caller: &mut Caller,
    hello: Hello,
) -> Result<Outcome, StoreError> {
    let conn = caller.conn;
    if !valid_poste_name(&hello.poste) {
        return Ok(Outcome::from(vec![error(ErrorCode::MessageInvalide)]));
    }
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
    let own_address = caller.addr.to_string();
    // A workstation that is not enrolled is where it is recorded: its name, said from another
    // address while it has a session running there, is somebody else's claim. (Between
    // sessions it may have moved: a new address from DHCP.)
    let in_session_elsewhere = !enrolled
        && known.as_ref().is_some_and(|poste| {
            poste.ip.as_deref() != Some(own_address.as_str()) && app.hub.runs_session_on(poste.id)
        });
    // An enrolled workstation is only ever spoken for with its secret; an agent that believes
    // it is enrolled while the server does not (staff reset it) must enroll again; sites may
    // refuse workstations that are not enrolled at all.
    let refusal = if (enrolled && !proven) || (!enrolled && hello.secret.is_some()) {
        Some(ErrorCode::PosteNonAuthentifie)
    } else if !enrolled && !app.settings().allow_seed_clients {
        Some(ErrorCode::PosteNonEnrole)
    } else if in_session_elsewhere {
        Some(ErrorCode::PosteNonAuthentifie)
    } else {
        None
    };
    if let Some(code) = refusal {
        tracing::warn!(conn, poste = %name, ip = %caller.addr, ?code, "workstation identity refused");
        return Ok(closing(code));
    }
    caller.enrolled = proven;
    // The address an enrolled agent reports of itself is kept for staff (it may sit behind a
    // NAT); for any other, the socket's address is its identity and is recorded as such, once
    // this connection holds the name (a new name is created without an address first).
    let ip = if proven {
        hello
            .ip_address
            .as_deref()
            .map(str::trim)
            .filter(|ip| ip.parse::<IpAddr>().is_ok())
            .map_or_else(|| own_address.clone(), str::to_owned)
    } else {
        own_address
    };
    let poste = match known {
        Some(poste) => poste,
        None => {
            let named = PosteSighting {
                nom: name.to_owned(),
                ip: None,
                mac: None,
                version: None,
            };
            app.store.record_poste_seen(&named, caller.at.wall).await?
        }
    };
    if !caller.hold(app, poste) {
        tracing::warn!(conn, poste = %name, ip = %caller.addr, "workstation name held at another address: refused");
        return Ok(closing(ErrorCode::PosteNonAuthentifie));
    }
    let sighting = PosteSighting {
        nom: name.to_owned(),
        ip: Some(ip),
        mac: hello.mac.clone(),
        version: hello.version.clone(),
    };
    let poste = app
        .store
        .record_poste_seen(&sighting, caller.at.wall)
        .await?;
    app.hub
        .set_connection_protocol(conn, hello.protocole.unwrap_or(1));
    tracing::info!(conn, poste = %poste.nom, version = ?hello.version, "workstation identified");
    caller.last_touch = Some(caller.at.mono);
    let thresholds = app.hub.thresholds_in(Some(poste.espace_id));
    let public_name = super::spaces::public_name(
        &app.store.list_spaces().await?,
        Some(poste.espace_id),
        &app.settings().site_name,
    );
    let welcome = ServerMessage::Welcome(Welcome {
        poste: poste.nom.clone(),
        serveur_version: env!("CARGO_PKG_VERSION").to_owned(),
        protocole: PROTOCOL_VERSION,
        heure_serveur: rfc3339(caller.at.wall),
        seuils: Thresholds {
            avertissement: thresholds.warning_ms / 1000,
            critique: thresholds.critical_ms / 1000,
        },
        espace: Some(public_name),
    });
    let mut replies = vec![welcome];
    // The room paused by staff while it was away: paused again at once.
    replies.extend(super::workshop::lock_on_hello(
        app,
        poste.espace_id,
        hello.protocole.unwrap_or(1),
    ));
    caller.poste = Some(poste);
    Ok(Outcome::from(replies))
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
async fn on_enroll(app: &AppState, caller: &mut Caller, enroll: Enroll) -> Replies {
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
        format!("ip:{}", caller.addr),
        format!("enroll:{}", caller.addr),
    ];
    let started = caller.at.mono;
    if let Err(wait) = app.code_throttle.try_acquire(&keys, started) {
        let message = text::refusal(RefusalReason::TropDEssais, None, wait.as_secs().max(1));
        return Ok(vec![enrollment(EnrollmentStatus::Refuse, &message, None)]);
    }
    let judged = judge_enrollment(app, caller, &enroll).await;
    if matches!(judged, Ok((_, true))) {
        app.code_throttle.failed(&keys, started);
    } else {
        app.code_throttle.forgive(&keys, started);
    }
    judged.map(|(replies, _)| replies)
}

/// The space an enrolling agent names (`espace`), if any: a name no space has is refused
/// (the French reason), not guessed.
async fn named_space(
    app: &AppState,
    enroll: &Enroll,
    poste: &str,
) -> Result<Result<Option<i64>, String>, StoreError> {
    match enroll.espace.as_deref().map(str::trim) {
        None | Some("") => Ok(Ok(None)),
        Some(nom) => match app.store.space_by_name(nom).await? {
            Some(space) => Ok(Ok(Some(space.id))),
            None => {
                tracing::warn!(%poste, espace = %nom, "enrollment naming an unknown space");
                Ok(Err(text::enroll_unknown_space(nom)))
            }
        },
    }
}

/// The answer to an enrollment step, and whether it counts as a wrong try.
async fn judge_enrollment(
    app: &AppState,
    caller: &Caller,
    enroll: &Enroll,
) -> Result<(Vec<ServerMessage>, bool), StoreError> {
    let name = enroll.poste.trim();
    let request_hash = token_hash(enroll.demande.trim());
    let now = caller.at.wall;
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
                    tracing::info!(poste = %poste.nom, ip = %caller.addr, "workstation enrolled");
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
                    tracing::warn!(poste = %name, ip = %caller.addr, ?refusal, "enrollment collection refused");
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
        // Its own request, asked again while staff have not approved it yet (the agent asks
        // every so often, with the code it used already): nothing to do. Another request key
        // is another request (`enroll` run again, e.g. after IT corrected the configuration's
        // space): it replaces this one, with a proof of its own.
        Some(Enrollment::EnAttente)
            if known.as_ref().and_then(|p| p.request_hash.as_deref())
                == Some(request_hash.as_str()) =>
        {
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
    let unknown_space = |message: String| {
        (
            vec![enrollment(EnrollmentStatus::Refuse, &message, None)],
            false,
        )
    };
    let proof = match (&enroll.code_enrolement, &enroll.jeton_installation) {
        (Some(code), _) => {
            let hash = ops::enrollment_code_hash(code).unwrap_or_default();
            match named_space(app, enroll, name).await? {
                Ok(None) => EnrollmentProof::OneTimeCode(hash),
                Ok(Some(space)) => EnrollmentProof::OneTimeCodeIn(hash, space),
                Err(message) => return Ok(unknown_space(message)),
            }
        }
        (None, Some(token)) => {
            let settings = app.settings();
            let expected = settings.install_token_hash.as_deref();
            if expected.is_none() || expected != Some(token_hash(token.trim()).as_str()) {
                tracing::warn!(poste = %name, ip = %caller.addr, "enrollment with a wrong install token");
                return Ok((
                    vec![enrollment(
                        EnrollmentStatus::Refuse,
                        text::ENROLL_BAD_TOKEN,
                        None,
                    )],
                    true,
                ));
            }
            match named_space(app, enroll, name).await? {
                Ok(None) => EnrollmentProof::SiteToken,
                Ok(Some(space)) => EnrollmentProof::SiteTokenIn(space),
                Err(message) => return Ok(unknown_space(message)),
            }
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
        ip: Some(caller.addr.to_string()),
        mac: enroll.mac.clone(),
        version: enroll.version.clone(),
    };
    match app
        .store
        .request_enrollment(&proof, &sighting, &request_hash, now)
        .await
    {
        Ok(poste) => {
            tracing::info!(poste = %poste.nom, ip = %caller.addr, "enrollment requested; waiting for staff");
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
            tracing::warn!(poste = %name, ip = %caller.addr, ?refusal, "enrollment refused");
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

/// The workstation this connection speaks for: proven by `hello`, else the one that is not
/// enrolled and was last recorded at the socket's address.
async fn identify(app: &AppState, caller: &mut Caller) -> Result<Option<PosteRow>, StoreError> {
    if caller.poste.is_none() && !caller.addr_lookup_done {
        // An address proves nothing for an enrolled workstation: it is only ever recognised by
        // its secret.
        let found = app.store.poste_by_ip(&caller.addr.to_string()).await?;
        caller.addr_lookup_done = true;
        if let Some(poste) = found
            && poste.enrollment != Enrollment::Enrole
            && !caller.hold(app, poste)
        {
            tracing::warn!(conn = caller.conn, ip = %caller.addr, "workstation at this address held by another: not identified");
        }
    }
    Ok(caller.poste.clone())
}

fn touch(app: &AppState, caller: &mut Caller) {
    let Some(id) = caller.poste_id() else { return };
    if caller
        .last_touch
        .is_some_and(|at| caller.at.mono.saturating_duration_since(at) < TOUCH_EVERY)
    {
        return;
    }
    caller.last_touch = Some(caller.at.mono);
    app.last_seen.note(id);
}

fn refused(reason: RefusalReason, poste: Option<&str>, retry_secs: u64) -> ServerMessage {
    ServerMessage::CodeInvalid(CodeInvalid {
        message: text::refusal(reason, poste, retry_secs),
        raison: Some(reason),
        reessayer_dans: (reason == RefusalReason::TropDEssais).then_some(retry_secs),
    })
}

fn code_refused(refusal: &CodeRefusal) -> ServerMessage {
    ServerMessage::CodeInvalid(CodeInvalid {
        message: text::code_refusal(refusal),
        raison: Some(refusal.reason),
        reessayer_dans: None,
    })
}

async fn on_validate(
    app: &AppState,
    caller: &mut Caller,
    typed: &str,
    claimed_ip: Option<&str>,
) -> Replies {
    let conn = caller.conn;
    let poste = identify(app, caller).await?;
    // The seed's `ip_address` is read, never believed: a client elsewhere is not that
    // workstation. A difference is worth a line for IT (a NAT, a proxy, or an impostor).
    if let Some(claimed) = claimed_ip.map(str::trim)
        && claimed.parse::<IpAddr>().ok() != Some(caller.addr)
    {
        tracing::debug!(conn, ip = %caller.addr, claimed = %claimed.chars().take(64).collect::<String>(), "reported address differs from the connection's");
    }
    let keys = [
        format!("ip:{}", caller.addr),
        match &poste {
            Some(poste) => format!("poste:{}", poste.id),
            None => format!("poste-ip:{}", caller.addr),
        },
    ];
    let started = caller.at.mono;
    if let Err(wait) = app.code_throttle.try_acquire(&keys, started) {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        tracing::warn!(conn, ip = %caller.addr, "code tries throttled");
        return Ok(vec![refused(RefusalReason::TropDEssais, None, secs)]);
    }
    // The attempt is counted as a failure already; it is taken back unless it was one.
    let judged = judge_code(app, caller, typed, poste).await;
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
    caller: &mut Caller,
    typed: &str,
    poste: Option<PosteRow>,
) -> Result<(Vec<ServerMessage>, bool), StoreError> {
    let conn = caller.conn;
    let now = caller.at.wall;
    // A workstation staff marked out of order takes no code (a wrong code is not counted). The
    // row is read again: staff may have changed it, or moved it to another space, since the
    // connection was identified.
    let poste = match poste {
        Some(known) => app.store.poste(known.id).await?,
        None => None,
    };
    if let Some(fresh) = &poste
        && fresh.hors_service
    {
        tracing::info!(conn, poste = %fresh.nom, "code refused: workstation out of order");
        return Ok((vec![refused(RefusalReason::HorsService, None, 0)], false));
    }
    let place = Place::of(poste.as_ref());
    let settings = app.settings();
    let settings = settings.for_space(place.espace_id);
    if settings.opening_hours.at(now, &settings.timezone) == Opening::Closed {
        tracing::info!(conn, "code refused: the space is closed");
        return Ok((vec![refused(RefusalReason::Ferme, None, 0)], false));
    }
    let verdict = match normalize_code(typed) {
        None => Err(RefusalReason::Inconnu.into()),
        Some(code) => match app.store.session_by_code(&code).await? {
            None => Err(RefusalReason::Inconnu.into()),
            Some(row) => check_code(&row, place, now).map(|()| row),
        },
    };
    match verdict {
        Ok(row) => {
            caller.validated.insert(row.id);
            if row.status == SessionStatus::Active {
                app.hub.subscribe(conn, row.id);
            }
            tracing::info!(conn, session = row.id, ip = %caller.addr, "code accepted");
            // A seed client not yet in the register will be registered under its address.
            let poste_name = caller.label();
            Ok((
                vec![messages::code_valid(&row, Some(&poste_name), now)],
                false,
            ))
        }
        Err(refusal) => {
            // The code itself is never logged: it may be a near miss of someone else's.
            tracing::info!(conn, reason = ?refusal.reason, other_space = refusal.other_space, ip = %caller.addr, "code refused");
            Ok((vec![code_refused(&refusal)], true))
        }
    }
}

/// Logs what a workstation reports of its desktop actions: a workstation that could not be
/// locked must be seen by IT staff (the console will show it too).
fn on_action_report(caller: &Caller, report: &poste_proto::ActionReport) {
    let poste = caller.label();
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
    caller: &Caller,
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
    let poste = caller.label();
    tracing::error!(%poste, %nature, %detail, "workstation incident");
    let text = if detail.is_empty() {
        nature
    } else {
        format!("{nature} : {detail}")
    };
    let session = incident.session_id.map(|id| id.0);
    app.store
        .record_incident(
            caller.poste_id(),
            session,
            &text,
            &caller.actor(),
            caller.at.wall,
        )
        .await?;
    Ok(Vec::new())
}

/// The session, if this connection may act on it (`domain::access::session_access`).
async fn authorized_session(
    app: &AppState,
    caller: &mut Caller,
    id: SessionId,
) -> Result<Result<SessionRow, ServerMessage>, StoreError> {
    let row = match app.hub.live_row(id.0) {
        Some(row) => row,
        None => match app.store.session(id.0).await? {
            Some(row) => row,
            None => return Ok(Err(error(ErrorCode::SessionInconnue))),
        },
    };
    let proven = if row.status == SessionStatus::EnAttente {
        caller.poste_id()
    } else {
        identify(app, caller).await?.map(|p| p.id)
    };
    match session_access(&row, caller.validated.contains(&row.id), proven) {
        SessionAccess::Allowed => Ok(Ok(row)),
        SessionAccess::LostRace => Ok(Err(error_with(
            ErrorCode::SessionNonDemarrable,
            text::refusal(RefusalReason::DejaUtilise, None, 0),
        ))),
        SessionAccess::Refused => {
            tracing::warn!(conn = caller.conn, session = row.id, ip = %caller.addr, "access to another workstation's session refused");
            Ok(Err(error(ErrorCode::SessionNonAutorisee)))
        }
    }
}

async fn on_start(app: &AppState, caller: &mut Caller, id: SessionId) -> Replies {
    let conn = caller.conn;
    let row = match authorized_session(app, caller, id).await? {
        Ok(row) => row,
        Err(reply) => return Ok(vec![reply]),
    };
    let now = caller.at.wall;
    match row.status {
        SessionStatus::Active => {
            app.hub.subscribe(conn, row.id);
            return Ok(vec![messages::session_started(&row, now)]);
        }
        SessionStatus::EnAttente => {}
        _ => {
            let place = Place {
                poste_id: row.poste_id,
                espace_id: row.espace_id.unwrap_or(DEFAULT_SPACE),
            };
            let reason = match check_code(&row, place, now) {
                Err(refusal) => refusal.reason,
                Ok(()) => RefusalReason::DejaUtilise,
            };
            let reply = error_with(
                ErrorCode::SessionNonDemarrable,
                text::refusal(reason, None, 0),
            );
            return Ok(vec![reply, messages::terminated(&row, None)]);
        }
    }
    // A seed client is known by its address: it becomes a workstation of the register on its
    // first session, named after that address.
    let poste = match identify(app, caller).await? {
        Some(poste) => poste,
        None => {
            let ip = caller.addr.to_string();
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
            if !caller.hold(app, poste.clone()) {
                return Ok(vec![error(ErrorCode::PosteNonAuthentifie)]);
            }
            poste
        }
    };
    // The start, its end cut at closing time and the warnings already passed: one transaction.
    let settings = app.settings();
    let settings = settings.for_space(poste.espace_id);
    let closes_at = match settings.opening_hours.at(now, &settings.timezone) {
        Opening::OpenUntil(close) => Some(close),
        _ => None,
    };
    let thresholds = settings.thresholds;
    match app
        .store
        .start_session_with(row.id, Some(poste.id), &caller.actor(), now, |started| {
            start_plan(started, closes_at, thresholds)
        })
        .await
    {
        Ok(started) => {
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
            let refusal = match check_code(&current, Place::of(Some(&poste)), now) {
                Err(refusal) => refusal,
                Ok(()) => RefusalReason::DejaUtilise.into(),
            };
            Ok(vec![error_with(
                ErrorCode::SessionNonDemarrable,
                text::code_refusal(&refusal),
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
    caller: &mut Caller,
    id: SessionId,
) -> Result<Result<SessionRow, Vec<ServerMessage>>, StoreError> {
    let row = match authorized_session(app, caller, id).await? {
        Ok(row) => row,
        Err(reply) => return Ok(Err(vec![reply])),
    };
    app.hub.subscribe(caller.conn, row.id);
    match row.status {
        SessionStatus::Active => Ok(Ok(row)),
        // Ended already (the workstation may have missed it): say so, as `get_time` would.
        status if status.is_final() => Ok(Err(vec![
            messages::time_update(&row, caller.at.wall),
            messages::terminated(&row, None),
        ])),
        _ => Ok(Err(vec![error(ErrorCode::SessionNonActive)])),
    }
}

/// The visitor asks for more time: recorded for staff, answered `en_attente` now; staff's
/// answer is pushed later (`crate::requests`).
async fn on_request_time(app: &AppState, caller: &mut Caller, request: RequestTime) -> Replies {
    let row = match running_session(app, caller, request.session_id).await? {
        Ok(row) => row,
        Err(replies) => return Ok(replies),
    };
    match ops::request_time(
        &app.store,
        &app.settings(),
        row.id,
        request.minutes,
        &caller.actor(),
        caller.at.wall,
        &app.hub,
    )
    .await
    {
        Ok(pending) => {
            tracing::info!(conn = caller.conn, session = row.id, minutes = ?request.minutes, "time requested");
            Ok(vec![messages::time_request(&pending)])
        }
        Err(OpError::Store(err)) => Err(err),
        Err(OpError::Invalid(message) | OpError::Rejected { message, .. }) => {
            Ok(vec![error_with(ErrorCode::MessageInvalide, message)])
        }
        Err(OpError::Conflict(_) | OpError::NotFound(_)) => {
            Ok(vec![error(ErrorCode::SessionNonActive)])
        }
    }
}

/// The visitor ends the session early: `session_terminated` (`termine_par_visiteur`) reaches
/// every connection that follows it, this one included.
async fn on_end_session(app: &AppState, caller: &mut Caller, id: SessionId) -> Replies {
    let row = match running_session(app, caller, id).await? {
        Ok(row) => row,
        Err(replies) => return Ok(replies),
    };
    match ops::end_session(
        &app.store,
        row.id,
        EndReason::TermineParVisiteur,
        None,
        &caller.actor(),
        caller.at.wall,
        &app.hub,
    )
    .await
    {
        Ok(ended) => {
            tracing::info!(
                conn = caller.conn,
                session = ended.id,
                "session ended by the visitor"
            );
            Ok(Vec::new())
        }
        Err(OpError::Store(err)) => Err(err),
        // It ended meanwhile (expiry, staff): the hub tells the followers.
        Err(_) => Ok(Vec::new()),
    }
}

async fn on_get_time(app: &AppState, caller: &mut Caller, id: SessionId) -> Replies {
    let row = match authorized_session(app, caller, id).await? {
        Ok(row) => row,
        Err(reply) => return Ok(vec![reply]),
    };
    app.hub.subscribe(caller.conn, row.id);
    touch(app, caller);
    let now = caller.at.wall;
    let mut replies = vec![messages::time_update(&row, now)];
    if row.status.is_final() {
        // A workstation that missed the end (it was offline, or the server was down at expiry)
        // learns it now.
        replies.push(messages::terminated(&row, None));
    }
    Ok(replies)
}
