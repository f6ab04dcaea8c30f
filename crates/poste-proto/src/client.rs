//! Messages from a workstation to the server, and their decoding with precise errors.

use serde::{Deserialize, Serialize};

use crate::SessionId;

/// A message sent by a workstation agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Seed: checks an access code. `ip_address` identifies a seed client's workstation.
    ValidateCode {
        code: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ip_address: Option<String>,
    },
    /// Seed: starts the session whose code this connection validated.
    StartSession { session_id: SessionId },
    /// Seed: asks for the time left.
    GetTime { session_id: SessionId },
    /// Seed: keeps the link alive; answered by `heartbeat_ack`.
    Heartbeat,
    /// Extension: an agent names its workstation on connect; answered by `welcome`.
    /// A seed client never sends it and is identified by its `ip_address` instead.
    Hello(Hello),
    /// Extension: enrollment of the workstation; answered by `enrollment`.
    Enroll(Enroll),
    /// Extension: what a desktop action (lock, log-out, notification) did on the workstation,
    /// so staff learn of a workstation that could not be locked. Not answered.
    ActionReport(ActionReport),
    /// Extension (protocol 2): the visitor asks staff for more time; answered at once by
    /// `time_request` (`en_attente`), then by a second `time_request` when staff answer.
    RequestTime(RequestTime),
    /// Extension (protocol 2): the visitor ends the session early; answered by
    /// `session_terminated` (`termine_par_visiteur`).
    EndSession { session_id: SessionId },
    /// Extension: something staff must know of, on the workstation (e.g. the visitor's home
    /// could not be restored, so the workstation stays locked). Not answered; the workstation is
    /// the connection's (`hello`), never a field of the message.
    Incident(Incident),
}

/// Extension: a visitor's request for more time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestTime {
    pub session_id: SessionId,
    /// Minutes asked for; absent: as much as staff see fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<i64>,
}

/// Extension: an incident on the workstation, in French for staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// `restauration_echouee`, `restauration_retablie`, `inactivite`…
    pub nature: String,
    /// What happened, in French.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
}

/// Extension: the outcome of a desktop action on the workstation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionReport {
    /// `verrouillage`, `deconnexion` or `notification`.
    pub action: String,
    pub succes: bool,
    /// The method that worked (e.g. `loginctl lock-session`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methode: Option<String>,
    /// Why it failed: every method tried, with its error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
}

/// Extension: how an agent identifies itself (all but `poste` optional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Workstation name, e.g. `Poste-03`.
    pub poste: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// Agent version, e.g. `0.1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Highest protocol extension version the agent speaks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocole: Option<u32>,
    /// The workstation's secret, once enrolled. An enrolled workstation is refused without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// Extension: an agent asks to enroll its workstation, or collects its secret once staff
/// approved. Sent again (same `demande`) until the answer is `enrole`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enroll {
    /// Workstation name, e.g. `Poste-03`.
    pub poste: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A one-time enrollment code given by staff…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_enrolement: Option<String>,
    /// …or the site's install token (unattended installs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jeton_installation: Option<String>,
    /// A random key of the agent's that ties its later requests to this one.
    pub demande: String,
    /// Extension: the space this workstation serves in, as the console names it (the agent's
    /// `espace`). With the install token, a new workstation waits for approval there, that
    /// space proposed; a name no space has is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub espace: Option<String>,
}

/// Why a text frame is not a valid client message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not JSON at all, or not a JSON object.
    NotJson(String),
    /// A JSON object without a string `type`.
    MissingType,
    /// A `type` this protocol does not know.
    UnknownType(String),
    /// A known `type` with missing or mistyped fields.
    InvalidFields { kind: String, detail: String },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::NotJson(detail) => write!(f, "not a JSON object: {detail}"),
            DecodeError::MissingType => write!(f, "missing string field `type`"),
            DecodeError::UnknownType(kind) => write!(f, "unknown message type `{kind}`"),
            DecodeError::InvalidFields { kind, detail } => {
                write!(f, "invalid `{kind}` message: {detail}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

const KNOWN_TYPES: &[&str] = &[
    "validate_code",
    "start_session",
    "get_time",
    "heartbeat",
    "hello",
    "action_report",
    "enroll",
    "request_time",
    "end_session",
    "incident",
];

/// Decodes one text frame, telling apart bad JSON, a missing or unknown `type`, and bad fields,
/// so that the reply can say which.
pub fn decode_client_message(text: &str) -> Result<ClientMessage, DecodeError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|err| DecodeError::NotJson(err.to_string()))?;
    let Some(object) = value.as_object() else {
        return Err(DecodeError::NotJson("expected an object".into()));
    };
    let kind = match object.get("type") {
        Some(serde_json::Value::String(kind)) => kind.clone(),
        _ => return Err(DecodeError::MissingType),
    };
    if !KNOWN_TYPES.contains(&kind.as_str()) {
        return Err(DecodeError::UnknownType(truncate(&kind, 64)));
    }
    serde_json::from_value(value).map_err(|err| DecodeError::InvalidFields {
        kind,
        detail: err.to_string(),
    })
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_ignores_extra_fields() {
        assert_eq!(
            decode_client_message(r#"{"type":"heartbeat","timestamp":12}"#),
            Ok(ClientMessage::Heartbeat)
        );
    }

    #[test]
    fn session_id_accepts_a_string_of_digits() {
        assert_eq!(
            decode_client_message(r#"{"type":"get_time","session_id":" 42"}"#),
            Ok(ClientMessage::GetTime {
                session_id: SessionId(42)
            })
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(matches!(
            decode_client_message("{nope"),
            Err(DecodeError::NotJson(_))
        ));
        assert!(matches!(
            decode_client_message("[1,2]"),
            Err(DecodeError::NotJson(_))
        ));
        assert_eq!(
            decode_client_message(r#"{"code":"ABC"}"#),
            Err(DecodeError::MissingType)
        );
        assert_eq!(
            decode_client_message(r#"{"type":7}"#),
            Err(DecodeError::MissingType)
        );
        assert_eq!(
            decode_client_message(r#"{"type":"reboot"}"#),
            Err(DecodeError::UnknownType("reboot".into()))
        );
        assert!(matches!(
            decode_client_message(r#"{"type":"start_session"}"#),
            Err(DecodeError::InvalidFields { kind, .. }) if kind == "start_session"
        ));
        assert!(matches!(
            decode_client_message(r#"{"type":"get_time","session_id":"abc"}"#),
            Err(DecodeError::InvalidFields { .. })
        ));
        assert!(matches!(
            decode_client_message(r#"{"type":"validate_code","code":12}"#),
            Err(DecodeError::InvalidFields { .. })
        ));
    }

    #[test]
    fn an_incident_needs_only_its_nature() {
        assert_eq!(
            decode_client_message(
                r#"{"type":"incident","nature":"restauration_echouee","detail":"x"}"#
            ),
            Ok(ClientMessage::Incident(Incident {
                nature: "restauration_echouee".into(),
                detail: Some("x".into()),
                session_id: None,
            }))
        );
        assert!(matches!(
            decode_client_message(r#"{"type":"incident"}"#),
            Err(DecodeError::InvalidFields { .. })
        ));
    }
}
