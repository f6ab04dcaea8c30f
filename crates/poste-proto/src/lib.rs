//! Wire types of the Postes Publics WebSocket protocol.
//!
//! The seed document (`PHASE4_CLIENT_COMPLETE.md`) defines the message names and their French
//! field names; they are a compatibility contract. The fields keep the seed's French names in
//! Rust too (`temps_restant`, `code_acces`), so what is read is what is sent; types and enum
//! variants are named in English and map to the wire's snake_case words (`EndReason::TempsExpire`
//! is `temps_expire`). Every extension is additive: a field a seed client does not know is
//! ignored by it, and a message a seed client never sends changes nothing for it. `/ws/client/`
//! adds three things the `epn-core` clients require (docs/protocol.md §5.7).
//! See `docs/protocol.md` for the whole protocol.
//!
//! This crate has no runtime dependency beyond serde so that the agent, the server, the load
//! generator and the fuzz targets all decode with the same code.

mod client;
mod code;
mod server;
pub mod wol;

pub use client::{
    ActionReport, ClientMessage, DecodeError, Enroll, Hello, Incident, RequestTime,
    decode_client_message,
};
pub use code::{CODE_ALPHABET, MAX_CODE_INPUT_LEN, normalize_code};
pub use server::{
    CodeInvalid, ConnectionEstablished, EndReason, EnrollmentReply, EnrollmentStatus, ErrorCode,
    ErrorReply, PowerAction, PowerOrder, RefusalReason, RoomLock, ServerMessage, SessionInfo,
    SessionStarted, SessionTerminated, StaffMessage, Statut, Thresholds, TimeRequestReply,
    TimeRequestStatus, TimeUpdate, WakeRelay, Warning, WarningLevel, Welcome,
};

use serde::{Deserialize, Deserializer, Serialize};

/// The path of the seed's WebSocket endpoint.
pub const WS_PATH_SESSIONS: &str = "/ws/sessions/";
/// The same protocol, at the path later clients of this design use.
pub const WS_PATH_CLIENT: &str = "/ws/client/";
/// Version of the protocol extensions this crate speaks (sent in `hello` / `welcome`).
/// 2 added `request_time`, `end_session` and `time_request`: an agent offers the visitor those
/// buttons only when the server's `welcome.protocole` is at least 2. 3 added `power`: a server
/// sends power orders only to a workstation that said 3 or more in its `hello`. 4 added `wake`:
/// a workstation that said 4 or more may be asked to wake others of its space. 5 added the
/// `session_started` a server pushes unasked for a workshop staff opened: only to a workstation
/// that said 5 or more, which starts that session at its gate; and `lock`, the room locked for a
/// workshop.
pub const PROTOCOL_VERSION: u32 = 5;

/// Identifier of a session (the seed's integer `id` / `session_id`).
///
/// Deserialises from a JSON integer, and also from a string of digits, since a client written
/// in a dynamic language may send back the id as it displayed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SessionId(pub i64);

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum IntOrString {
            Int(i64),
            Str(String),
        }
        match IntOrString::deserialize(deserializer)? {
            IntOrString::Int(id) => Ok(SessionId(id)),
            IntOrString::Str(text) => text
                .trim()
                .parse::<i64>()
                .map(SessionId)
                .map_err(|_| serde::de::Error::custom("session_id doit être un entier")),
        }
    }
}

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
