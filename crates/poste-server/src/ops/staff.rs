//! Staff operations on sessions, workstations and tokens, shared by the HTTP API, the console
//! and the command line: validation of what staff typed (with French messages), the store
//! calls, then what changed told through [`Announce`]: the running server's hub for the API
//! and the console, nobody for the command line (the running server follows the event log).

use poste_proto::{EndReason, ServerMessage, StaffMessage};
use poste_store::{
    Actor, EnrollmentCodeRow, Millis, NewPoste, NewSession, PosteRow, SessionRow, SessionStatus,
    SpaceScope, Store, StoreError, TimeAnswer, TimeRequestRow, TimeRequestStatus, TokenRow,
    VisitorRow,
};

use crate::hub::Hub;
use crate::settings::Settings;
use std::sync::Arc;

use crate::domain::change::Change;
use crate::domain::codes::{generate_code, generate_token, token_hash};
use crate::domain::opening::Opening;
use crate::domain::timing::level_for_remaining;
use crate::messages::end_reason_str;
use crate::text;

/// Longest free text accepted (names, messages).
pub const MAX_TEXT_LEN: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// What staff asked for is not acceptable; the message (French) says why.
    #[error("{0}")]
    Invalid(String),
    /// The same, about one part of the request: a form shows it beside that field (never by
    /// guessing from the message's words).
    #[error("{message}")]
    Rejected { field: Field, message: String },
    #[error("{0}")]
    NotFound(String),
    /// The thing exists but is not in a state that allows this.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(StoreError),
}

/// The part of a request for sessions a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Duration,
    Count,
    /// The visitor as a whole (a category's time already used up): no field would fix it.
    Visitor,
    /// The space the codes are valid in.
    Space,
}

impl OpError {
    fn rejected(field: Field, message: String) -> OpError {
        OpError::Rejected { field, message }
    }
}

/// Where a use case tells what it changed, besides the store, so that no adapter can forget
/// it: the running server's hub, or, from the command line, nobody ([`EventLogOnly`]).
pub trait Announce: Sync {
    /// A session's new row (time added, ended…), with the text the visitor reads at an end.
    fn session(&self, row: &SessionRow, end_message: Option<&str>);
    /// Something the dashboards show changed (codes created or cancelled, a visitor's request).
    fn changed(&self, change: Change);
    /// Staff answered a visitor's request (`session`: as it is after the time was added).
    fn answer(&self, request: &TimeRequestRow, session: Option<SessionRow>);
    /// A message for a workstation's screen; returns how many of its connections got it.
    fn message(&self, poste_id: i64, message: &ServerMessage) -> usize;
    /// Console sessions were closed (an account disabled, deleted, given a new password): the
    /// live feeds of those sessions must end.
    fn staff_closed(&self);
}

impl Announce for Arc<Hub> {
    fn session(&self, row: &SessionRow, end_message: Option<&str>) {
        self.apply_row(row.clone(), end_message);
    }

    fn changed(&self, change: Change) {
        self.announce(change);
    }

    fn answer(&self, request: &TimeRequestRow, session: Option<SessionRow>) {
        crate::requests::announce_answer(self, request, session);
    }

    fn message(&self, poste_id: i64, message: &ServerMessage) -> usize {
        self.send_to_poste(poste_id, message)
    }

    fn staff_closed(&self) {
        self.staff_sessions_closed();
    }
}

/// The command line: the running server reads the change from the event log (and another
/// process has no hub to tell).
#[derive(Debug, Clone, Copy)]
pub struct EventLogOnly;

impl Announce for EventLogOnly {
    fn session(&self, _: &SessionRow, _: Option<&str>) {}
    fn changed(&self, _: Change) {}
    fn answer(&self, _: &TimeRequestRow, _: Option<SessionRow>) {}
    fn message(&self, _: i64, _: &ServerMessage) -> usize {
        0
    }
    fn staff_closed(&self) {}
}

/// A request to create sessions.
#[derive(Debug, Clone, Default)]
pub struct CreateSessions {
    pub utilisateur: Option<String>,
    pub duration_secs: i64,
    /// Workstation name the codes are bound to.
    pub poste: Option<String>,
    pub count: u32,
    /// Overrides the configured code validity.
    pub valid_for_secs: Option<i64>,
    /// A registered visitor: the session carries their name, and their category's time rules
    /// apply.
    pub visiteur_id: Option<i64>,
    /// Where the codes are valid, as staff chose it. None: the workstation's space for codes
    /// bound to one, else the site's only space (with several, staff must choose).
    pub espace: Option<SpaceChoice>,
}

/// Where a code is valid, as staff chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceChoice {
    One(i64),
    /// In every space of the site.
    Every,
}

fn clean_text(input: Option<&str>) -> Result<Option<String>, OpError> {
    let Some(text) = input.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_TEXT_LEN || text.chars().any(char::is_control) {
        return Err(OpError::Invalid(text::NAME_TOO_LONG.to_owned()));
    }
    Ok(Some(text.to_owned()))
}

pub(crate) fn check_duration(settings: &Settings, secs: i64) -> Result<(), OpError> {
    if secs < 1 || secs > settings.max_duration_secs {
        return Err(OpError::rejected(
            Field::Duration,
            text::duration_out_of_range(settings.max_duration_secs),
        ));
    }
    Ok(())
}

fn session_error(id: i64, err: StoreError) -> OpError {
    match err {
        StoreError::NotFound { .. } => OpError::NotFound(text::session_not_found(id)),
        StoreError::WrongState(row) => {
            OpError::Conflict(text::session_wrong_state(id, row.status.as_str()))
        }
        other => OpError::Store(other),
    }
}

pub async fn find_poste(store: &Store, name: &str) -> Result<PosteRow, OpError> {
    store
        .poste_by_name(name.trim())
        .await
        .map_err(OpError::Store)?
        .ok_or_else(|| OpError::NotFound(text::poste_not_found(name)))
}

pub async fn create_sessions(
    store: &Store,
    settings: &Settings,
    request: &CreateSessions,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<Vec<SessionRow>, OpError> {
    check_duration(settings, request.duration_secs)?;
    if request.count == 0 || request.count > settings.max_batch {
        return Err(OpError::rejected(
            Field::Count,
            text::count_out_of_range(settings.max_batch),
        ));
    }
    let mut utilisateur = clean_text(request.utilisateur.as_deref())?;
    if let Some(visiteur_id) = request.visiteur_id {
        let visitor = store
            .visitor(visiteur_id)
            .await
            .map_err(OpError::Store)?
            .ok_or_else(|| OpError::NotFound(text::VISITOR_NOT_FOUND.to_owned()))?;
        if request.count != 1 {
            return Err(OpError::rejected(
                Field::Count,
                text::VISITOR_ONE_CODE.to_owned(),
            ));
        }
        check_time_rules(store, settings, &visitor, request.duration_secs, now).await?;
        utilisateur = Some(visitor.nom);
    }
    let poste = match clean_text(request.poste.as_deref())? {
        Some(name) => Some(find_poste(store, &name).await?),
        None => None,
    };
    let espace_id = code_space(store, poste.as_ref(), request.espace).await?;
    // Validity and length are the code's space's (a code of every space: the common ones).
    let settings = settings.at(espace_id);
    let valid_until = match request.valid_for_secs {
        Some(secs) => {
            check_duration(settings, secs)?;
            now.saturating_add(secs.saturating_mul(1000))
        }
        None => settings.code_validity.valid_until(now, &settings.timezone),
    };
    let new = NewSession {
        utilisateur,
        visiteur_id: request.visiteur_id,
        poste_id: poste.map(|poste| poste.id),
        espace_id,
        duration_secs: request.duration_secs,
        valid_until,
    };
    let length = settings.code_length;
    let rows = store
        .create_sessions(
            &new,
            request.count,
            &mut || generate_code(length),
            actor,
            now,
        )
        .await
        .map_err(OpError::Store)?;
    announce.changed(
        rows.iter()
            .map(Change::of_session)
            .fold(Change::postes([]), Change::merge),
    );
    Ok(rows)
}

/// What a caller of the API or the command line chose: a space by name (case-insensitive), or
/// every space. Neither: None.
pub async fn space_choice(
    store: &Store,
    name: Option<&str>,
    every: bool,
) -> Result<Option<SpaceChoice>, OpError> {
    match (name.map(str::trim).filter(|name| !name.is_empty()), every) {
        (Some(_), true) => Err(OpError::rejected(
            Field::Space,
            text::SPACE_ONE_OR_EVERY.to_owned(),
        )),
        (Some(name), false) => match store.space_by_name(name).await.map_err(OpError::Store)? {
            Some(space) => Ok(Some(SpaceChoice::One(space.id))),
            None => Err(OpError::rejected(Field::Space, text::space_unknown(name))),
        },
        (None, true) => Ok(Some(SpaceChoice::Every)),
        (None, false) => Ok(None),
    }
}

/// The space codes are made for (None: every space). A code bound to a workstation is valid in
/// that workstation's space; another space chosen with it is refused, as is a space that does
/// not exist. Without a choice, the site's only space is implied; with several, staff must say.
async fn code_space(
    store: &Store,
    poste: Option<&PosteRow>,
    choice: Option<SpaceChoice>,
) -> Result<Option<i64>, OpError> {
    match (poste, choice) {
        (Some(poste), Some(SpaceChoice::One(id))) if id != poste.espace_id => Err(
            OpError::rejected(Field::Space, text::poste_in_another_space(&poste.nom)),
        ),
        (Some(poste), _) => Ok(Some(poste.espace_id)),
        (None, Some(SpaceChoice::Every)) => Ok(None),
        (None, Some(SpaceChoice::One(id))) => {
            match store.space(id).await.map_err(OpError::Store)? {
                Some(space) => Ok(Some(space.id)),
                None => Err(OpError::rejected(
                    Field::Space,
                    text::SPACE_NOT_FOUND.to_owned(),
                )),
            }
        }
        (None, None) => match store
            .list_spaces()
            .await
            .map_err(OpError::Store)?
            .as_slice()
        {
            [only] => Ok(Some(only.id)),
            _ => Err(OpError::rejected(
                Field::Space,
                text::SPACE_REQUIRED.to_owned(),
            )),
        },
    }
}

/// The time rules of a visitor's category: the longest session, and the most time per day and
/// per week (calendar days and weeks from Monday, in the space's time zone).
async fn check_time_rules(
    store: &Store,
    settings: &Settings,
    visitor: &VisitorRow,
    secs: i64,
    now: Millis,
) -> Result<(), OpError> {
    let Some(category_id) = visitor.categorie_id else {
        return Ok(());
    };
    let Some(category) = store.category(category_id).await.map_err(OpError::Store)? else {
        return Ok(());
    };
    if let Some(max) = category.max_session_secs
        && secs > max
    {
        return Err(OpError::rejected(
            Field::Duration,
            text::rule_session(&category.nom, max),
        ));
    }
    let (day_start, week_start) = day_and_week_start(now, &settings.timezone);
    for (limit, since, per) in [
        (category.max_day_secs, day_start, text::Per::Day),
        (category.max_week_secs, week_start, text::Per::Week),
    ] {
        let Some(limit) = limit else { continue };
        let used = store
            .visitor_usage_secs(visitor.id, since, now)
            .await
            .map_err(OpError::Store)?;
        if used + secs > limit {
            // A shorter session fits what is left; with nothing left, no duration does.
            let field = if used < limit {
                Field::Duration
            } else {
                Field::Visitor
            };
            return Err(OpError::rejected(
                field,
                text::rule_period(&category.nom, limit, used, per),
            ));
        }
    }
    Ok(())
}

/// Midnight today and on the Monday of this week, in `tz`.
pub fn day_and_week_start(now: Millis, tz: &jiff::tz::TimeZone) -> (Millis, Millis) {
    let Ok(ts) = jiff::Timestamp::from_millisecond(now) else {
        return (now, now);
    };
    let today = ts.to_zoned_datetime(tz.clone()).date();
    let midnight = |date: jiff::civil::Date| {
        date.to_zoned_datetime(tz.clone())
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or(now)
    };
    let monday = today
        .checked_sub(jiff::Span::new().days(i64::from(today.weekday().to_monday_zero_offset())))
        .unwrap_or(today);
    (midnight(today), midnight(monday))
}

pub async fn session(store: &Store, id: i64) -> Result<SessionRow, OpError> {
    store
        .session(id)
        .await
        .map_err(OpError::Store)?
        .ok_or_else(|| OpError::NotFound(text::session_not_found(id)))
}

pub async fn add_time(
    store: &Store,
    settings: &Settings,
    id: i64,
    secs: i64,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<SessionRow, OpError> {
    let current = session(store, id).await?;
    let (secs, level_after) = plan_added_time(settings, &current, secs, now)?;
    let row = store
        .add_time(id, secs, level_after, actor, now)
        .await
        .map_err(|err| session_error(id, err))?;
    announce.session(&row, None);
    Ok(row)
}

/// The seconds really added to `current` (a session never runs past closing time: added time
/// stops there) and the warning level it then has.
fn plan_added_time(
    settings: &Settings,
    current: &SessionRow,
    secs: i64,
    now: Millis,
) -> Result<(i64, i64), OpError> {
    check_duration(settings, secs)?;
    // The hours and thresholds of the session's space.
    let settings = settings.at(current.space());
    let mut secs = secs;
    if let (Some(deadline), Opening::OpenUntil(close)) = (
        current
            .deadline()
            .filter(|_| current.status == SessionStatus::Active),
        settings.opening_hours.at(now, &settings.timezone),
    ) {
        let room = (close - deadline) / 1000;
        if room <= 0 {
            return Err(OpError::Conflict(text::closing_cut(
                &crate::clock::local_time(close, &settings.timezone),
                &settings.opening_hours.closing(close, &settings.timezone),
            )));
        }
        secs = secs.min(room);
    }
    // Warnings already passed at the new deadline stay sent; the others are armed again.
    let level_after = match current.deadline() {
        Some(deadline) => level_for_remaining(
            deadline.saturating_add(secs * 1000).saturating_sub(now),
            settings.thresholds,
        ),
        None => 0,
    };
    Ok((secs, level_after))
}

/// A visitor asked the same thing this recently: the request stands, nothing is written again
/// (a visitor clicking over and over fills no log).
const REQUEST_REPEAT_MS: Millis = 30_000;

/// Records a visitor's request for more time (`minutes` None: as much as staff see fit).
pub async fn request_time(
    store: &Store,
    settings: &Settings,
    session_id: i64,
    minutes: Option<i64>,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<TimeRequestRow, OpError> {
    if let Some(minutes) = minutes {
        check_duration(settings, minutes.saturating_mul(60))?;
    }
    if let Some(latest) = store
        .latest_time_request(session_id)
        .await
        .map_err(OpError::Store)?
        && latest.status == TimeRequestStatus::EnAttente
        && latest.minutes == minutes
        && now.saturating_sub(latest.requested_at) < REQUEST_REPEAT_MS
    {
        return Ok(latest);
    }
    let pending = store
        .request_time(session_id, minutes, actor, now)
        .await
        .map_err(|err| session_error(session_id, err))?;
    announce.changed(Change::postes(pending.poste_id));
    Ok(pending)
}

/// Staff's answer to a request: `Some(secs)` to add that time, `None` to refuse. Returns the
/// answered request and, when time was added, the session as it is now.
pub async fn answer_time_request(
    store: &Store,
    settings: &Settings,
    request_id: i64,
    grant_secs: Option<i64>,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<(TimeRequestRow, Option<SessionRow>), OpError> {
    let request = store
        .time_request(request_id)
        .await
        .map_err(OpError::Store)?
        .ok_or_else(|| OpError::NotFound(text::REQUEST_NOT_FOUND.to_owned()))?;
    let answer = match grant_secs {
        Some(secs) => {
            let current = session(store, request.session_id).await?;
            let (secs, warning_level_after) = plan_added_time(settings, &current, secs, now)?;
            TimeAnswer::Accept {
                secs,
                warning_level_after,
            }
        }
        None => TimeAnswer::Refuse,
    };
    let answered = store
        .answer_time_request(request_id, answer, actor, now)
        .await
        .map_err(|err| match err {
            StoreError::AlreadyAnswered { .. } => {
                OpError::Conflict(text::REQUEST_ALREADY_ANSWERED.to_owned())
            }
            other => session_error(request.session_id, other),
        })?;
    let session = match answer {
        TimeAnswer::Accept { .. } => Some(session(store, request.session_id).await?),
        TimeAnswer::Refuse => None,
    };
    announce.answer(&answered, session.clone());
    Ok((answered, session))
}

/// Ends a running session; `message` is what the visitor reads instead of the default text.
pub async fn end_session(
    store: &Store,
    id: i64,
    reason: EndReason,
    message: Option<&str>,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<SessionRow, OpError> {
    let row = store
        .end_session(id, end_reason_str(reason), actor, now)
        .await
        .map_err(|err| session_error(id, err))?;
    announce.session(&row, message);
    Ok(row)
}

pub async fn cancel_session(
    store: &Store,
    id: i64,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<SessionRow, OpError> {
    let row = store
        .cancel_session(id, actor, now)
        .await
        .map_err(|err| session_error(id, err))?;
    announce.changed(Change::of_session(&row));
    Ok(row)
}

pub async fn create_poste(
    store: &Store,
    name: &str,
    ip: Option<&str>,
    mac: Option<&str>,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<PosteRow, OpError> {
    let Some(nom) = clean_text(Some(name))? else {
        return Err(OpError::Invalid(text::NAME_TOO_LONG.to_owned()));
    };
    let new = NewPoste {
        nom: nom.clone(),
        ip: clean_text(ip)?,
        mac: clean_text(mac)?,
    };
    let row = store
        .create_poste(&new, actor, now)
        .await
        .map_err(|err| match err {
            StoreError::AlreadyExists { .. } => OpError::Conflict(text::poste_exists(&nom)),
            other => OpError::Store(other),
        })?;
    // A new workstation: the feeds read their map of workstations' spaces again.
    announce.changed(Change::Everything);
    Ok(row)
}

/// Creates an API token; returns the row and the token itself (shown once, never stored).
pub async fn create_token(
    store: &Store,
    name: &str,
    actor: &Actor,
    now: Millis,
) -> Result<(TokenRow, String), OpError> {
    let Some(nom) = clean_text(Some(name))? else {
        return Err(OpError::Invalid(text::NAME_TOO_LONG.to_owned()));
    };
    let token = generate_token();
    let row = store
        .create_token(&nom, &token_hash(&token), actor, now)
        .await
        .map_err(|err| match err {
            StoreError::AlreadyExists { .. } => OpError::Conflict(text::token_exists(&nom)),
            other => OpError::Store(other),
        })?;
    Ok((row, token))
}

pub async fn revoke_token(
    store: &Store,
    name: &str,
    actor: &Actor,
    now: Millis,
) -> Result<TokenRow, OpError> {
    store
        .revoke_token(name.trim(), actor, now)
        .await
        .map_err(|err| match err {
            StoreError::NotFound { .. } => OpError::NotFound(text::token_not_found(name)),
            other => OpError::Store(other),
        })
}

/// Longest validity of an enrollment code: 30 days.
const MAX_ENROLLMENT_CODE_SECS: i64 = 30 * 24 * 3600;

/// Length of one-time enrollment codes (shown as two groups of five: `K7P2M-XQ4RT`).
pub const ENROLLMENT_CODE_LEN: usize = 10;

/// How an enrollment code is stored and looked up: the SHA-256 of its normalised form.
pub fn enrollment_code_hash(typed: &str) -> Option<String> {
    poste_proto::normalize_code(typed).map(|code| token_hash(&code))
}

fn enrollment_error(nom: &str, err: StoreError) -> OpError {
    match err {
        StoreError::NotFound { .. } => OpError::NotFound(text::poste_not_found(nom)),
        StoreError::EnrollmentRefused(refusal) => {
            OpError::Conflict(text::enrollment_refused(refusal).to_owned())
        }
        other => OpError::Store(other),
    }
}

/// A one-time enrollment code, optionally reserved for a workstation name; returns the row and
/// the code as staff will type it (shown once, stored hashed). Made for the space named
/// `espace`, a workstation new to the server waits for its approval there.
pub async fn create_enrollment_code(
    store: &Store,
    settings: &Settings,
    poste: Option<&str>,
    espace: Option<&str>,
    valid_for_secs: Option<i64>,
    actor: &Actor,
    now: Millis,
) -> Result<(EnrollmentCodeRow, String), OpError> {
    let poste = clean_text(poste)?;
    let espace_id = match space_choice(store, espace, false).await? {
        Some(SpaceChoice::One(id)) => Some(id),
        _ => None,
    };
    let secs = valid_for_secs.unwrap_or(settings.enrollment_code_validity_secs);
    if !(1..=MAX_ENROLLMENT_CODE_SECS).contains(&secs) {
        return Err(OpError::Invalid(text::duration_out_of_range(
            MAX_ENROLLMENT_CODE_SECS,
        )));
    }
    let code = generate_code(ENROLLMENT_CODE_LEN);
    let shown = format!("{}-{}", &code[..5], &code[5..]);
    let hash = token_hash(&code);
    let expires_at = now.saturating_add(secs.saturating_mul(1000));
    let row = store
        .create_enrollment_code(&hash, poste.as_deref(), espace_id, expires_at, actor, now)
        .await
        .map_err(|err| match err {
            StoreError::NotFound { .. } => OpError::NotFound(text::SPACE_NOT_FOUND.to_owned()),
            other => OpError::Store(other),
        })?;
    Ok((row, shown))
}

pub async fn approve_enrollment(
    store: &Store,
    nom: &str,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<PosteRow, OpError> {
    let row = store
        .approve_enrollment(nom.trim(), actor, now)
        .await
        .map_err(|err| enrollment_error(nom, err))?;
    announce.changed(Change::postes([row.id]));
    Ok(row)
}

pub async fn reset_enrollment(
    store: &Store,
    nom: &str,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<PosteRow, OpError> {
    let row = store
        .reset_enrollment(nom.trim(), actor, now)
        .await
        .map_err(|err| enrollment_error(nom, err))?;
    announce.changed(Change::postes([row.id]));
    Ok(row)
}

/// A message as staff typed it, trimmed; refused empty or too long.
fn send_check(message: &str) -> Result<&str, OpError> {
    let message = message.trim();
    if message.is_empty() {
        return Err(OpError::Invalid(text::MESSAGE_EMPTY.to_owned()));
    }
    if message.chars().count() > MAX_TEXT_LEN {
        return Err(OpError::Invalid(text::NAME_TOO_LONG.to_owned()));
    }
    Ok(message)
}

/// A staff member's message to a workstation's screen, signed `de`: shown by its connections
/// here, and written to the event log (the audit trail, and how the other instances, which may
/// hold the workstation's connection, learn of it). Returns how many connections here got it.
pub async fn send_message(
    store: &Store,
    poste: &PosteRow,
    message: &str,
    de: String,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<usize, OpError> {
    let message = send_check(message)?;
    let push = ServerMessage::Message(StaffMessage {
        message: message.to_owned(),
        de: Some(de),
        session_id: None,
    });
    let delivered = announce.message(poste.id, &push);
    store
        .record_message(poste.id, message, actor, now)
        .await
        .map_err(OpError::Store)?;
    Ok(delivered)
}

/// The workstations a whole room's action is for: those of `scope`, the `online` ones reached.
#[derive(Debug, Clone, Copy)]
pub struct Room<'a> {
    pub scope: &'a SpaceScope,
    pub online: &'a std::collections::HashSet<i64>,
}

/// A staff member's message to every connected workstation of the space (a workshop starts, the
/// space closes soon), each recorded as for one. Returns how many workstations got it, and how
/// many were not connected.
pub async fn send_message_to_all(
    store: &Store,
    room: Room<'_>,
    message: &str,
    de: String,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<(usize, usize), OpError> {
    let postes = store.list_postes().await.map_err(OpError::Store)?;
    let (reached, offline): (Vec<_>, Vec<_>) = postes
        .iter()
        .filter(|poste| poste.retired_at.is_none() && room.scope.contains(poste.espace_id))
        .partition(|poste| room.online.contains(&poste.id));
    if reached.is_empty() {
        // Checked like one message, then said: nobody to show it to.
        send_check(message)?;
        return Ok((0, offline.len()));
    }
    for poste in &reached {
        send_message(store, poste, message, de.clone(), actor, now, announce).await?;
    }
    Ok((reached.len(), offline.len()))
}

/// Staff mark a workstation out of order (it takes no code), or back in service.
pub async fn set_out_of_order(
    store: &Store,
    id: i64,
    out_of_order: bool,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<PosteRow, StoreError> {
    let row = store
        .set_poste_out_of_order(id, out_of_order, actor, now)
        .await?;
    announce.changed(Change::postes([row.id]));
    Ok(row)
}

/// Staff rename a workstation or change its location.
pub async fn update_poste(
    store: &Store,
    id: i64,
    nom: &str,
    emplacement: Option<&str>,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<PosteRow, StoreError> {
    let row = store.update_poste(id, nom, emplacement, actor, now).await?;
    announce.changed(Change::postes([row.id]));
    Ok(row)
}

/// Staff retire a workstation (kept for the history); `None` while a session runs on it.
pub async fn retire_poste(
    store: &Store,
    id: i64,
    actor: &Actor,
    now: Millis,
    announce: &dyn Announce,
) -> Result<Option<PosteRow>, StoreError> {
    let row = store.retire_poste(id, actor, now).await?;
    if row.is_some() {
        announce.changed(Change::Everything);
    }
    Ok(row)
}
