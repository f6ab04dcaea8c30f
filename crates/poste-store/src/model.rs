//! Rows and inputs of the store. Plain data; times are Unix milliseconds.

use serde::Serialize;

/// Unix time in milliseconds (UTC).
pub type Millis = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// State of a session. Stored as the seed's `statut` strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    EnAttente,
    Active,
    Terminee,
    Expiree,
    Annulee,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::EnAttente => "en_attente",
            SessionStatus::Active => "active",
            SessionStatus::Terminee => "terminee",
            SessionStatus::Expiree => "expiree",
            SessionStatus::Annulee => "annulee",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "en_attente" => SessionStatus::EnAttente,
            "active" => SessionStatus::Active,
            "terminee" => SessionStatus::Terminee,
            "expiree" => SessionStatus::Expiree,
            "annulee" => SessionStatus::Annulee,
            _ => return None,
        })
    }

    /// Ended for good: no transition leaves these states.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            SessionStatus::Terminee | SessionStatus::Expiree | SessionStatus::Annulee
        )
    }
}

/// One session and its access code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionRow {
    pub id: i64,
    /// Normalised access code (upper case, alphabet of `poste_proto::CODE_ALPHABET`).
    pub code: String,
    /// Visitor's name, if staff gave one.
    pub utilisateur: Option<String>,
    /// Before start: the workstation the code is bound to (None = any). After start: the
    /// workstation it runs on.
    pub poste_id: Option<i64>,
    /// Name of that workstation (joined from `postes`).
    pub poste_nom: Option<String>,
    pub status: SessionStatus,
    /// Seconds granted at creation.
    pub initial_secs: i64,
    /// Seconds added by staff since (never negative in sum with `initial_secs`).
    pub added_secs: i64,
    pub created_at: Millis,
    /// An unused code is refused from this instant on.
    pub valid_until: Millis,
    pub started_at: Option<Millis>,
    pub ended_at: Option<Millis>,
    /// Why it ended (the protocol's `raison`, e.g. `temps_expire`).
    pub end_reason: Option<String>,
    /// Highest warning pushed so far for the current deadline: 0 none, 1 first, 2 critical.
    pub warning_level: i64,
    /// Who created it (`Actor::label`).
    pub created_by: String,
    /// The registered visitor it was made for (None for a walk-in or an anonymised one).
    pub visiteur_id: Option<i64>,
    /// The public space its code is valid in; None: every space.
    pub espace_id: Option<i64>,
    /// The space of its workstation (joined from `postes`), when it has one.
    pub poste_espace_id: Option<i64>,
    /// The workshop it was opened for by staff (« Atelier CV »), without a code typed.
    pub atelier: Option<String>,
}

impl SessionRow {
    /// The name it is shown under: the visitor's, else its workshop's.
    pub fn shown_name(&self) -> Option<&str> {
        self.utilisateur
            .as_deref()
            .filter(|name| !name.trim().is_empty())
            .or(self.atelier.as_deref())
    }

    /// Seconds held in all.
    pub fn total_secs(&self) -> i64 {
        self.initial_secs + self.added_secs
    }

    /// The space it belongs to: its workstation's once it has one (bound or running), else
    /// its code's; None for a code of every space not bound to a workstation.
    pub fn space(&self) -> Option<i64> {
        self.poste_espace_id.or(self.espace_id)
    }

    /// When a running session ends: start plus time held. None before start.
    pub fn deadline(&self) -> Option<Millis> {
        self.started_at
            .map(|start| start.saturating_add(self.total_secs().saturating_mul(1000)))
    }
}

/// What staff ask for when creating sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub utilisateur: Option<String>,
    /// The registered visitor, if any (`utilisateur` then holds their name).
    pub visiteur_id: Option<i64>,
    pub poste_id: Option<i64>,
    /// The public space the code is valid in; None: every space.
    pub espace_id: Option<i64>,
    pub duration_secs: i64,
    pub valid_until: Millis,
}

/// A workshop (« Atelier CV »): one session of `duration_secs` on each of `postes`, started
/// together by staff, with no code typed ([`crate::Store::open_workshop`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWorkshop {
    pub atelier: String,
    pub duration_secs: i64,
    pub postes: Vec<i64>,
}

/// Filter for [`crate::Store::list_sessions`]; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFilter {
    pub status: Option<SessionStatus>,
    pub poste_id: Option<i64>,
    /// Created at or after.
    pub created_from: Option<Millis>,
    /// Created strictly before.
    pub created_to: Option<Millis>,
    /// Substring of the visitor's name, case-insensitive.
    pub utilisateur: Option<String>,
    /// Sessions of this registered visitor.
    pub visiteur_id: Option<i64>,
    /// Sessions of these spaces (a session's space is its workstation's once started, else its
    /// code's; a code of every space not yet started is in every scope). None: every space.
    pub scope: Option<SpaceScope>,
    /// At most this many rows, newest first (default 100, capped at 1000).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// A workstation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PosteRow {
    pub id: i64,
    pub nom: String,
    pub ip: Option<String>,
    pub mac: Option<String>,
    /// Agent version last reported.
    pub version: Option<String>,
    pub created_at: Millis,
    pub last_seen: Option<Millis>,
    /// Marked out of order by staff.
    pub hors_service: bool,
    /// Where the workstation stands in enrollment.
    pub enrollment: Enrollment,
    /// SHA-256 (hex) of its secret once enrolled; never serialised.
    #[serde(skip)]
    pub secret_hash: Option<String>,
    /// Room or site, given by staff.
    pub emplacement: Option<String>,
    /// Retired by staff: kept for the history, gone from the lists.
    pub retired_at: Option<Millis>,
    /// The public space it belongs to.
    pub espace_id: i64,
    /// The space its last enrollment request named (its code's, else its agent's); None: none
    /// named. Differs from `espace_id` when a waiting workstation asked again naming another
    /// space: the console then proposes neither.
    #[serde(skip)]
    pub requested_space: Option<i64>,
    /// SHA-256 (hex) of the request key of its enrollment request, while one waits or is
    /// approved; never serialised.
    #[serde(skip)]
    pub request_hash: Option<String>,
}

/// Enrollment of a workstation: an agent asks with a one-time code (or the site's install
/// token), staff approve, the agent collects its secret and presents it on every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Enrollment {
    /// Never enrolled: known by its name or IP address only (a seed client).
    Aucun,
    /// Asked; waiting for staff.
    EnAttente,
    /// Approved by staff; the agent has not collected its secret yet.
    Approuve,
    /// Holds a secret: only a connection presenting it speaks for this workstation.
    Enrole,
}

impl Enrollment {
    pub fn as_str(self) -> &'static str {
        match self {
            Enrollment::Aucun => "aucun",
            Enrollment::EnAttente => "en_attente",
            Enrollment::Approuve => "approuve",
            Enrollment::Enrole => "enrole",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "aucun" => Enrollment::Aucun,
            "en_attente" => Enrollment::EnAttente,
            "approuve" => Enrollment::Approuve,
            "enrole" => Enrollment::Enrole,
            _ => return None,
        })
    }
}

/// A one-time enrollment code created by staff (only its SHA-256 is stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnrollmentCodeRow {
    pub id: i64,
    /// The workstation name it is reserved for, if any.
    pub poste_nom: Option<String>,
    /// The space a workstation enrolling with it for the first time waits in (None: the
    /// default space).
    pub espace_id: Option<i64>,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub used_at: Option<Millis>,
}

/// How an enrollment request proves it may be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrollmentProof {
    /// SHA-256 (hex) of a one-time code: valid, unused, unexpired, and reserved for this name
    /// or for none. It is used up by the request.
    OneTimeCode(String),
    /// A one-time code, the agent naming the space it serves in (found by the caller): a new
    /// workstation waits there when the code names no space; a code made for another space is
    /// refused (`CodeForAnotherSpace`), and not used up.
    OneTimeCodeIn(String, i64),
    /// The site's install token, already checked by the caller.
    SiteToken,
    /// The site's install token, the agent naming the space it serves in (found by the caller):
    /// a new workstation waits there, as with a code made for that space.
    SiteTokenIn(i64),
}

impl EnrollmentProof {
    /// The space the agent names, if any.
    pub fn named_space(&self) -> Option<i64> {
        match self {
            EnrollmentProof::OneTimeCodeIn(_, space) | EnrollmentProof::SiteTokenIn(space) => {
                Some(*space)
            }
            EnrollmentProof::OneTimeCode(_) | EnrollmentProof::SiteToken => None,
        }
    }
}

/// A workstation created by staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPoste {
    pub nom: String,
    pub ip: Option<String>,
    pub mac: Option<String>,
}

/// What a connection tells about the workstation it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosteSighting {
    pub nom: String,
    pub ip: Option<String>,
    pub mac: Option<String>,
    pub version: Option<String>,
}

/// An API token (only its SHA-256 is stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRow {
    pub id: i64,
    pub nom: String,
    pub created_at: Millis,
    pub last_used: Option<Millis>,
    pub revoked_at: Option<Millis>,
}

/// Who made a change, as recorded in the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The server itself (timers, recovery at start-up).
    System,
    /// A workstation, by name.
    Poste(String),
    /// An API token, by name.
    ApiToken(String),
    /// The command line on the server machine.
    Cli,
    /// A staff account of the web console, by login, with the browser's address.
    Staff { login: String, ip: Option<String> },
}

impl Actor {
    /// The text stored in `events.actor` / `sessions.created_by`.
    pub fn label(&self) -> String {
        match self {
            Actor::System => "systeme".to_owned(),
            Actor::Poste(name) => format!("poste:{name}"),
            Actor::ApiToken(name) => format!("api:{name}"),
            Actor::Cli => "cli".to_owned(),
            Actor::Staff { login, .. } => format!("animateur:{login}"),
        }
    }

    /// The address the change came from, when known (staff actions of the console).
    pub fn ip(&self) -> Option<&str> {
        match self {
            Actor::Staff { ip, .. } => ip.as_deref(),
            _ => None,
        }
    }

    /// A staff account acting from the command line's machine or a test (no address).
    pub fn staff(login: &str) -> Actor {
        Actor::Staff {
            login: login.to_owned(),
            ip: None,
        }
    }
}

/// Kinds of events in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    SessionCreated,
    SessionStarted,
    TimeAdded,
    SessionEnded,
    CodeCancelled,
    WarningSent,
    PosteCreated,
    PosteSeen,
    EnrollmentCodeCreated,
    EnrollmentRequested,
    EnrollmentApproved,
    PosteEnrolled,
    EnrollmentReset,
    TokenCreated,
    TokenRevoked,
    StaffCreated,
    StaffLogin,
    StaffLogout,
    StaffPasswordChanged,
    /// A workstation marked out of order (`detail` = `hors_service`) or back in service
    /// (`en_service`).
    PosteServiceChanged,
    /// A staff message sent to a workstation.
    MessageSent,
    PosteUpdated,
    PosteRetired,
    CategoryChanged,
    VisitorCreated,
    VisitorUpdated,
    /// A visitor's personal data erased on request (RGPD).
    VisitorErased,
    SettingsChanged,
    /// Old sessions and events deleted after the retention period.
    RetentionPurge,
    /// A visitor asked for more time (`detail` = minutes asked, or empty).
    TimeRequested,
    /// Staff answered a request for more time (`detail` = `acceptee +N` or `refusee`).
    TimeRequestAnswered,
    /// A workstation reported an incident (`detail`: `nature : détail`), e.g. the visitor's
    /// home could not be restored.
    PosteIncident,
    /// A console login refused: wrong password, unknown login, disabled account
    /// ([`RefusedLogin::detail`]; `ip`: the browser's address).
    StaffLoginFailed,
    /// A console login refused without checking the password: its account and address must
    /// wait ([`RefusedLogin::detail`]).
    StaffLoginThrottled,
    /// An admin lifted the waits of an account's logins (`detail`: the login).
    StaffUnblocked,
    /// An admin disabled an account; its open console sessions were closed (`detail`: the
    /// login).
    StaffDisabled,
    /// An admin enabled a disabled account again (`detail`: the login).
    StaffEnabled,
    /// An admin deleted an account; its login stays reserved (`detail`: the login).
    StaffDeleted,
    /// The monthly report was mailed (`detail`: the month, `2026-11`), by staff on demand or
    /// by the server each month.
    ReportSent,
    /// The monthly report could not be mailed (`detail`: `2026-11 : ` and why, in English from
    /// the SMTP library).
    ReportFailed,
    /// Staff ordered a workstation to power off or restart (`detail`: `extinction` or
    /// `redemarrage`, then ` ecourtee` when its running session was cut short for it). The
    /// event's id is the order's id, which the agent carries out once.
    PowerOrdered,
    /// Staff woke a workstation: Wake-on-LAN packets sent (`detail`: the MAC address).
    WakeSent,
    /// An admin created, renamed or deleted a public space (`detail`: its name, then
    /// ` (supprimé)` when deleted).
    SpaceChanged,
    /// An admin set the spaces an account works in (`detail`: `login : Space A, Space B`, or
    /// `login : *` for every space).
    StaffSpacesChanged,
    /// Staff locked a workstation for a workshop (`detail`: `verrouille : ` and the words on
    /// its screen) or unlocked it (`deverrouille`).
    RoomLocked,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::SessionCreated => "session_created",
            EventKind::SessionStarted => "session_started",
            EventKind::TimeAdded => "time_added",
            EventKind::SessionEnded => "session_ended",
            EventKind::CodeCancelled => "code_cancelled",
            EventKind::WarningSent => "warning_sent",
            EventKind::PosteCreated => "poste_created",
            EventKind::PosteSeen => "poste_seen",
            EventKind::TokenCreated => "token_created",
            EventKind::TokenRevoked => "token_revoked",
            EventKind::EnrollmentCodeCreated => "enrollment_code_created",
            EventKind::EnrollmentRequested => "enrollment_requested",
            EventKind::EnrollmentApproved => "enrollment_approved",
            EventKind::PosteEnrolled => "poste_enrolled",
            EventKind::EnrollmentReset => "enrollment_reset",
            EventKind::StaffCreated => "staff_created",
            EventKind::StaffLogin => "staff_login",
            EventKind::StaffLogout => "staff_logout",
            EventKind::StaffPasswordChanged => "staff_password_changed",
            EventKind::PosteServiceChanged => "poste_service_changed",
            EventKind::MessageSent => "message_sent",
            EventKind::PosteUpdated => "poste_updated",
            EventKind::PosteRetired => "poste_retired",
            EventKind::CategoryChanged => "category_changed",
            EventKind::VisitorCreated => "visitor_created",
            EventKind::VisitorUpdated => "visitor_updated",
            EventKind::VisitorErased => "visitor_erased",
            EventKind::SettingsChanged => "settings_changed",
            EventKind::RetentionPurge => "retention_purge",
            EventKind::TimeRequested => "time_requested",
            EventKind::TimeRequestAnswered => "time_request_answered",
            EventKind::PosteIncident => "poste_incident",
            EventKind::StaffLoginFailed => "staff_login_failed",
            EventKind::StaffLoginThrottled => "staff_login_throttled",
            EventKind::StaffUnblocked => "staff_unblocked",
            EventKind::StaffDisabled => "staff_disabled",
            EventKind::StaffEnabled => "staff_enabled",
            EventKind::StaffDeleted => "staff_deleted",
            EventKind::ReportSent => "report_sent",
            EventKind::ReportFailed => "report_failed",
            EventKind::PowerOrdered => "power_ordered",
            EventKind::WakeSent => "wake_sent",
            EventKind::SpaceChanged => "space_changed",
            EventKind::StaffSpacesChanged => "staff_spaces_changed",
            EventKind::RoomLocked => "room_locked",
        }
    }

    pub const ALL: [EventKind; 45] = [
        EventKind::SessionCreated,
        EventKind::SessionStarted,
        EventKind::TimeAdded,
        EventKind::SessionEnded,
        EventKind::CodeCancelled,
        EventKind::WarningSent,
        EventKind::PosteCreated,
        EventKind::PosteSeen,
        EventKind::EnrollmentCodeCreated,
        EventKind::EnrollmentRequested,
        EventKind::EnrollmentApproved,
        EventKind::PosteEnrolled,
        EventKind::EnrollmentReset,
        EventKind::TokenCreated,
        EventKind::TokenRevoked,
        EventKind::StaffCreated,
        EventKind::StaffLogin,
        EventKind::StaffLogout,
        EventKind::StaffPasswordChanged,
        EventKind::PosteServiceChanged,
        EventKind::MessageSent,
        EventKind::PosteUpdated,
        EventKind::PosteRetired,
        EventKind::CategoryChanged,
        EventKind::VisitorCreated,
        EventKind::VisitorUpdated,
        EventKind::VisitorErased,
        EventKind::SettingsChanged,
        EventKind::RetentionPurge,
        EventKind::TimeRequested,
        EventKind::TimeRequestAnswered,
        EventKind::PosteIncident,
        EventKind::StaffLoginFailed,
        EventKind::StaffLoginThrottled,
        EventKind::StaffUnblocked,
        EventKind::StaffDisabled,
        EventKind::StaffEnabled,
        EventKind::StaffDeleted,
        EventKind::ReportSent,
        EventKind::ReportFailed,
        EventKind::PowerOrdered,
        EventKind::WakeSent,
        EventKind::SpaceChanged,
        EventKind::StaffSpacesChanged,
        EventKind::RoomLocked,
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A console login refused, as the event log keeps it (`events.detail` of
/// [`EventKind::StaffLoginFailed`] and [`EventKind::StaffLoginThrottled`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefusedLogin {
    /// A wrong password for this account (its login as stored).
    WrongPassword(String),
    /// The right or wrong password of a disabled account.
    Disabled(String),
    /// No account has the login typed. What was typed is not kept: it may be a password typed
    /// in the wrong field.
    UnknownLogin,
    /// Refused before the password was checked: this account must wait `wait_secs` from this
    /// address (`login`: `None` when no account has the login typed).
    Throttled {
        login: Option<String>,
        wait_secs: u64,
    },
}

impl RefusedLogin {
    pub fn kind(&self) -> EventKind {
        match self {
            RefusedLogin::Throttled { .. } => EventKind::StaffLoginThrottled,
            _ => EventKind::StaffLoginFailed,
        }
    }

    /// `mot_de_passe:LOGIN`, `desactive:LOGIN`, `inconnu`, `attente:SECS[:LOGIN]`.
    pub fn detail(&self) -> String {
        match self {
            RefusedLogin::WrongPassword(login) => format!("mot_de_passe:{login}"),
            RefusedLogin::Disabled(login) => format!("desactive:{login}"),
            RefusedLogin::UnknownLogin => "inconnu".to_owned(),
            RefusedLogin::Throttled {
                login: Some(login),
                wait_secs,
            } => format!("attente:{wait_secs}:{login}"),
            RefusedLogin::Throttled {
                login: None,
                wait_secs,
            } => format!("attente:{wait_secs}"),
        }
    }

    /// Reads back [`Self::detail`] of an event of `kind`.
    pub fn parse(kind: EventKind, detail: &str) -> Option<Self> {
        let (tag, rest) = detail.split_once(':').unwrap_or((detail, ""));
        match (kind, tag) {
            (EventKind::StaffLoginFailed, "mot_de_passe") if !rest.is_empty() => {
                Some(RefusedLogin::WrongPassword(rest.to_owned()))
            }
            (EventKind::StaffLoginFailed, "desactive") if !rest.is_empty() => {
                Some(RefusedLogin::Disabled(rest.to_owned()))
            }
            (EventKind::StaffLoginFailed, "inconnu") => Some(RefusedLogin::UnknownLogin),
            (EventKind::StaffLoginThrottled, "attente") => {
                let (secs, login) = rest.split_once(':').unwrap_or((rest, ""));
                Some(RefusedLogin::Throttled {
                    login: (!login.is_empty()).then(|| login.to_owned()),
                    wait_secs: secs.parse().ok()?,
                })
            }
            _ => None,
        }
    }
}

/// A warning pushed to a visitor, as the event log keeps it (`events.detail` of
/// [`EventKind::WarningSent`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Warning {
    /// 1: the first warning, 2: the last one.
    pub level: i64,
    /// The threshold it was given at (seconds before the end), as the settings were then.
    /// `None` in events written before it was recorded.
    pub before_end_secs: Option<i64>,
}

impl Warning {
    /// Warning `level` without its threshold.
    pub fn level(level: i64) -> Self {
        Warning {
            level,
            before_end_secs: None,
        }
    }

    /// `LEVEL:SECS` (`LEVEL` alone when the threshold is not known).
    pub fn detail(&self) -> String {
        match self.before_end_secs {
            Some(secs) => format!("{}:{secs}", self.level),
            None => self.level.to_string(),
        }
    }

    /// Reads back [`Self::detail`].
    pub fn parse(detail: &str) -> Option<Self> {
        let (level, secs) = match detail.split_once(':') {
            Some((level, secs)) => (level, Some(secs.parse().ok()?)),
            None => (detail, None),
        };
        Some(Warning {
            level: level.parse().ok()?,
            before_end_secs: secs,
        })
    }
}

/// One row of the event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRow {
    /// Increasing; the change feed resumes from the last id it saw.
    pub id: i64,
    pub at: Millis,
    pub kind: EventKind,
    pub session_id: Option<i64>,
    pub poste_id: Option<i64>,
    /// `Actor::label` of who did it.
    pub actor: String,
    /// Free text detail (e.g. `+900` for time added, the end reason).
    pub detail: Option<String>,
    /// Instance id of the process that wrote it ([`crate::Store::origin`]).
    pub origin: String,
    /// The address it came from (staff actions of the console).
    pub ip: Option<String>,
}

/// What a staff account may do in the web console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Settings, staff accounts, workstations, and everything an animateur does.
    Admin,
    /// Sessions, codes and visitors.
    Animateur,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Admin => "admin",
            StaffRole::Animateur => "animateur",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "admin" => Some(StaffRole::Admin),
            "animateur" => Some(StaffRole::Animateur),
            _ => None,
        }
    }
}

/// A staff account (never its password hash, see [`StaffCredentials`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffRow {
    pub id: i64,
    pub login: String,
    pub nom: String,
    pub role: StaffRole,
    pub created_at: Millis,
    pub last_login: Option<Millis>,
    pub disabled_at: Option<Millis>,
    /// Deleted by an admin: the row stays, without its password, so that its login is never
    /// given to someone else (the history names people by login). Implies `disabled_at`.
    pub deleted_at: Option<Millis>,
    /// Works in every space, those made later included ([`crate::Store::staff_scope`] gives
    /// the others' spaces).
    pub tous_espaces: bool,
}

/// A staff account with its password hash, for checking a login only.
#[derive(Clone, PartialEq, Eq)]
pub struct StaffCredentials {
    pub staff: StaffRow,
    /// Argon2id PHC string.
    pub password_hash: String,
}

impl std::fmt::Debug for StaffCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffCredentials")
            .field("staff", &self.staff)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct NewStaff {
    pub login: String,
    pub nom: String,
    pub role: StaffRole,
    pub password_hash: String,
    /// The spaces the account works in.
    pub scope: SpaceScope,
}

/// The spaces someone works in: every space of the site (those made later included), or some.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpaceScope {
    Every,
    /// Space ids, sorted, without repeats.
    Only(Vec<i64>),
}

impl SpaceScope {
    /// Some spaces, sorted and without repeats.
    pub fn only(mut ids: Vec<i64>) -> SpaceScope {
        ids.sort_unstable();
        ids.dedup();
        SpaceScope::Only(ids)
    }

    pub fn contains(&self, espace_id: i64) -> bool {
        match self {
            SpaceScope::Every => true,
            SpaceScope::Only(ids) => ids.binary_search(&espace_id).is_ok(),
        }
    }

    /// Whether a code valid in `espace_id` (None: in every space) is theirs to see: a code of
    /// every space is everyone's.
    pub fn sees_code(&self, espace_id: Option<i64>) -> bool {
        espace_id.is_none_or(|id| self.contains(id))
    }
}

/// A logged-in browser, with its account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSessionRow {
    pub id: i64,
    pub staff: StaffRow,
    /// The synchronizer token its forms must send back.
    pub csrf_token: String,
    pub created_at: Millis,
    pub last_seen: Millis,
    pub ip: Option<String>,
}

/// The space every workstation and code belonged to before there were several: what the site
/// had becomes it (migration 0012), and a connection that proves no workstation is in it.
pub const DEFAULT_SPACE: i64 = 1;

/// A public space (`espace`): a médiathèque, a maison de quartier… with its workstations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpaceRow {
    pub id: i64,
    /// Its public name (console, gate, tickets); unique among the spaces not deleted.
    pub nom: String,
    pub adresse: Option<String>,
    pub created_at: Millis,
    /// Deleted by an admin: kept for the history of its sessions, gone from the lists.
    pub deleted_at: Option<Millis>,
}

/// What an admin gives a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSpace {
    pub nom: String,
    pub adresse: Option<String>,
}

/// A category of visitors and its time rules (seconds; None: no limit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryRow {
    pub id: i64,
    pub nom: String,
    pub max_session_secs: Option<i64>,
    pub max_day_secs: Option<i64>,
    pub max_week_secs: Option<i64>,
}

/// A category as staff define it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCategory {
    pub nom: String,
    pub max_session_secs: Option<i64>,
    pub max_day_secs: Option<i64>,
    pub max_week_secs: Option<i64>,
}

/// A registered visitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VisitorRow {
    pub id: i64,
    pub nom: String,
    pub carte: Option<String>,
    pub email: Option<String>,
    pub categorie_id: Option<i64>,
    /// Joined from `categories`.
    pub categorie_nom: Option<String>,
    pub notes: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A visitor as staff register or edit them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVisitor {
    pub nom: String,
    pub carte: Option<String>,
    pub email: Option<String>,
    pub categorie_id: Option<i64>,
    pub notes: Option<String>,
}

/// Filter for [`crate::Store::list_events`]; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub kinds: Vec<EventKind>,
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    pub poste_id: Option<i64>,
    /// Substring of the actor's label, case-insensitive.
    pub actor: Option<String>,
    /// Events of these spaces' workstations and sessions, and those of none (a login, a
    /// setting). None: every space.
    pub scope: Option<SpaceScope>,
    /// At most this many rows, newest first (default 100, capped at 1000).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// An event with the name of its workstation, for the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventView {
    pub event: EventRow,
    pub poste_nom: Option<String>,
}

/// What statistics are computed from: one session that ran (started), with its
/// workstation and its visitor's category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    pub session_id: i64,
    pub started_at: Millis,
    /// When it ended, or None while it runs.
    pub ended_at: Option<Millis>,
    pub total_secs: i64,
    pub poste_id: Option<i64>,
    pub poste_nom: Option<String>,
    /// The space of its workstation.
    pub espace_id: Option<i64>,
    /// The registered visitor, if any (the monthly report counts visitors by category).
    pub visiteur_id: Option<i64>,
    pub categorie_nom: Option<String>,
    /// The workshop it was opened for, if any.
    pub atelier: Option<String>,
}

/// What a retention purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub sessions: u64,
    pub events: u64,
}

/// Where a visitor's request for more time stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeRequestStatus {
    EnAttente,
    Acceptee,
    Refusee,
}

impl TimeRequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeRequestStatus::EnAttente => "en_attente",
            TimeRequestStatus::Acceptee => "acceptee",
            TimeRequestStatus::Refusee => "refusee",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            TimeRequestStatus::EnAttente,
            TimeRequestStatus::Acceptee,
            TimeRequestStatus::Refusee,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// A visitor's request for more time, with its session's workstation and visitor's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimeRequestRow {
    pub id: i64,
    pub session_id: i64,
    /// Minutes asked for; None: as much as staff see fit.
    pub minutes: Option<i64>,
    pub status: TimeRequestStatus,
    pub requested_at: Millis,
    pub answered_at: Option<Millis>,
    pub granted_minutes: Option<i64>,
    /// `Actor::label` of the staff member who answered.
    pub answered_by: Option<String>,
    pub poste_id: Option<i64>,
    pub poste_nom: Option<String>,
    pub utilisateur: Option<String>,
}
