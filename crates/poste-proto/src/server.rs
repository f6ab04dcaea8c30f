//! Messages from the server to a workstation.
//!
//! Fields marked "extension" are additive: a seed client ignores them.

use serde::{Deserialize, Serialize};

use crate::SessionId;

/// A message sent by the server, as a reply or as a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Seed: reply to `validate_code` for a usable code.
    CodeValid { session: SessionInfo },
    /// Seed: reply to `validate_code` for a refused code.
    CodeInvalid(CodeInvalid),
    /// Seed: reply to `start_session`.
    SessionStarted { session: SessionStarted },
    /// Seed: reply to `get_time`; also pushed when staff add time (extension).
    TimeUpdate(TimeUpdate),
    /// Seed: pushed at the warning thresholds (5 min and 1 min by default).
    Warning(Warning),
    /// Seed: pushed when the session ends, whatever the reason.
    SessionTerminated(SessionTerminated),
    /// Reply to `heartbeat`.
    HeartbeatAck {
        /// Server time, RFC 3339.
        timestamp: String,
    },
    /// Extension: reply to `hello`.
    Welcome(Welcome),
    /// Extension: a message from staff, to be shown on the workstation.
    Message(StaffMessage),
    /// Extension: reply to `enroll`.
    Enrollment(EnrollmentReply),
    /// Extension (protocol 2): where a visitor's request for more time stands; the reply to
    /// `request_time`, then pushed when staff accept or refuse it.
    TimeRequest(TimeRequestReply),
    /// Reply to a message the server could not act on.
    Error(ErrorReply),
    /// Extension, on `/ws/client/` only: sent first on every connection.
    ConnectionEstablished(ConnectionEstablished),
    /// Extension (protocol 3): staff's order to power the workstation off or restart it. The
    /// agent never cuts a running session for it: it acts once the session has ended (staff
    /// who want it now end the session first), on the gate after `delai_secondes`.
    Power(PowerOrder),
    /// Extension (protocol 4): wake these workstations of the same space on the server's
    /// behalf (a server not on the workstations' network cannot reach them with a broadcast):
    /// the agent sends their magic packets on its own network.
    Wake(WakeRelay),
    /// Extension (protocol 5): staff lock (or unlock) every workstation of a room for a
    /// workshop: the workstation's screen shows `message` over everything, and takes no code,
    /// until unlocked. A running session goes on, its time counted.
    Lock(RoomLock),
}

/// Extension (protocol 5): the room's lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomLock {
    pub verrouille: bool,
    /// What the visitors read while it is locked (« Regardez l'animateur »); absent: the
    /// agent's own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Extension (protocol 4): the workstations to wake, by MAC address (`aa:bb:cc:dd:ee:ff`). An
/// agent sends nothing for an address that is not one, and at most
/// [`WakeRelay::MAX_ADDRESSES`] of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WakeRelay {
    pub mac: Vec<String>,
}

impl WakeRelay {
    pub const MAX_ADDRESSES: usize = 500;
}

/// State of a session (the seed's `statut`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statut {
    /// Created, code not used yet.
    EnAttente,
    /// Running.
    Active,
    /// Ended early (staff or visitor).
    Terminee,
    /// Ended because its time ran out.
    Expiree,
    /// Code cancelled by staff before use, or never used before its validity ran out.
    Annulee,
    /// A state this version does not know (sent by a newer server): an agent keeps its own
    /// countdown and waits for `session_terminated`.
    #[serde(other)]
    Autre,
}

/// Seed: the `session` object of `code_valid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: SessionId,
    pub code_acces: String,
    pub utilisateur: String,
    /// Workstation the code is bound to (or runs on), `null` when valid on any.
    pub poste: Option<String>,
    /// Seconds granted at creation.
    pub duree_initiale: i64,
    pub temps_restant: i64,
    pub statut: Statut,
    /// Extension: seconds held in all (initial plus time added by staff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duree_totale: Option<i64>,
}

/// Seed: the `session` object of `session_started`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStarted {
    pub id: SessionId,
    pub statut: Statut,
    pub temps_restant: i64,
    /// RFC 3339, UTC.
    pub debut_session: String,
    /// Extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilisateur: Option<String>,
    /// Extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poste: Option<String>,
    /// Extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duree_initiale: Option<i64>,
    /// Extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duree_totale: Option<i64>,
    /// Extension: RFC 3339 instant at which the session ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fin_prevue: Option<String>,
    /// Extension: `temps_restant` in milliseconds, for agents that keep a local deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temps_restant_ms: Option<i64>,
    /// Extension, on `/ws/client/` only: the access code, which the `epn-core` clients require
    /// here. Never sent on the seed's `/ws/sessions/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_acces: Option<String>,
}

/// Seed: `time_update`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeUpdate {
    pub temps_restant: i64,
    pub temps_restant_minutes: i64,
    pub pourcentage_utilise: i64,
    pub statut: Statut,
    /// Extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
    /// Extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duree_totale: Option<i64>,
    /// Extension: RFC 3339 instant at which the session ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fin_prevue: Option<String>,
    /// Extension: `temps_restant` in milliseconds, for agents that keep a local deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temps_restant_ms: Option<i64>,
}

/// Seed: `warning.level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningLevel {
    /// First threshold (5 min by default).
    Warning,
    /// Second threshold (1 min by default).
    Critical,
    /// A level this version does not know: shown like `warning`.
    #[serde(other)]
    Autre,
}

/// Seed: `warning`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub level: WarningLevel,
    pub message: String,
    pub temps_restant: i64,
    /// Extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
    /// Extension, on `/ws/client/` only: `temps_restant` again, under the name the `epn-core`
    /// clients read (they drop a warning without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<i64>,
}

/// Extension, on `/ws/client/` only: the greeting sent as soon as a connection opens, which
/// the `epn-core` clients wait for. The workstation is the one known at the connection's
/// address, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionEstablished {
    pub message: String,
    pub poste_id: Option<i64>,
    pub poste_nom: Option<String>,
}

/// Seed: `session_terminated.raison`. Unknown values decode as [`EndReason::Autre`] so that an
/// older agent still ends the session when a newer server adds a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Seed: the time ran out.
    TempsExpire,
    /// Ended by a staff member.
    TermineParAnimateur,
    /// Ended by the visitor.
    TermineParVisiteur,
    #[serde(other)]
    Autre,
}

/// Seed: `session_terminated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTerminated {
    pub raison: EndReason,
    pub message: String,
    /// Extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
}

/// Extension: why a code was refused (`code_invalid.raison`). The seed only has `message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    Inconnu,
    DejaUtilise,
    Expire,
    Annule,
    MauvaisPoste,
    TropDEssais,
    /// Staff marked the workstation out of order.
    HorsService,
    /// The space is closed (opening hours set in the console).
    Ferme,
    #[serde(other)]
    Autre,
}

/// Seed: `code_invalid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeInvalid {
    /// French, for the visitor.
    pub message: String,
    /// Extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raison: Option<RefusalReason>,
    /// Extension: seconds to wait before the next try (with `trop_d_essais`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reessayer_dans: Option<u64>,
}

/// Warning thresholds in force, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    pub avertissement: i64,
    pub critique: i64,
}

/// Extension: reply to `hello`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    /// The workstation's name as the server knows it.
    pub poste: String,
    pub serveur_version: String,
    pub protocole: u32,
    /// Server time, RFC 3339.
    pub heure_serveur: String,
    pub seuils: Thresholds,
    /// The public name of the workstation's space, for the workstation's screens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub espace: Option<String>,
}

/// Extension (protocol 3): a power order. `ordre` identifies it across the server's instances
/// and the agent's restarts: an order already carried out (or already waiting) is not run again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerOrder {
    pub ordre: i64,
    pub action: PowerAction,
    /// How long the gate says so before the workstation goes down (seconds, at most
    /// [`PowerOrder::MAX_DELAY_SECS`]).
    pub delai_secondes: i64,
}

impl PowerOrder {
    /// The longest notice an agent waits; a longer one is taken as this.
    pub const MAX_DELAY_SECS: i64 = 600;
}

/// Extension: what a power order does. Unknown values decode as [`PowerAction::Autre`], which an
/// agent refuses (it never guesses what to do with the power).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerAction {
    /// Power off.
    Extinction,
    /// Restart.
    Redemarrage,
    #[serde(other)]
    Autre,
}

/// Extension: where an enrollment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentStatus {
    /// Waiting for staff: send `enroll` again later.
    EnAttente,
    /// Done: `secret` is in this reply, the only time it is ever sent.
    Enrole,
    /// Refused: `message` says why.
    Refuse,
    #[serde(other)]
    Autre,
}

/// Extension: reply to `enroll`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentReply {
    pub statut: EnrollmentStatus,
    /// French, for the person installing the workstation.
    pub message: String,
    /// The workstation's secret (with `enrole` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// Extension: a message from staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMessage {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub de: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
}

/// Extension: where a request for more time stands (`time_request.statut`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeRequestStatus {
    /// Received; staff see it on their dashboard.
    EnAttente,
    /// Staff added time (`minutes`); a `time_update` carries the new deadline.
    Acceptee,
    /// Staff said no.
    Refusee,
    #[serde(other)]
    Autre,
}

/// Extension: `time_request`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRequestReply {
    pub session_id: SessionId,
    pub statut: TimeRequestStatus,
    /// With `en_attente`: the minutes asked for (absent: no amount given). With `acceptee`:
    /// the minutes granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<i64>,
    /// French, for the visitor.
    pub message: String,
}

/// Machine-readable `error.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    JsonInvalide,
    TypeInconnu,
    MessageInvalide,
    MessageTropGrand,
    TropDeMessages,
    SessionInconnue,
    SessionNonAutorisee,
    SessionNonDemarrable,
    ServiceIndisponible,
    /// `hello` for an enrolled workstation without its secret, or with a wrong one.
    PosteNonAuthentifie,
    /// The server accepts enrolled workstations only.
    PosteNonEnrole,
    /// `request_time` or `end_session` for a session that is not running.
    SessionNonActive,
    ErreurInterne,
    #[serde(other)]
    Autre,
}

/// `error`: a machine-readable code and a French message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    pub code: ErrorCode,
    pub message: String,
}

impl ServerMessage {
    /// The JSON text of this message.
    pub fn to_json(&self) -> String {
        // Serialising these plain structs cannot fail (no maps with non-string keys, no
        // custom serialisers that error); fall back to an error frame rather than panic.
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"error","code":"erreur_interne","message":"Erreur interne"}"#.to_owned()
        })
    }
}
