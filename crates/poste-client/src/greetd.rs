//! The greeter's side of greetd's IPC (greetd-ipc(7)): the gate, running as greetd's greeter,
//! hands the workstation over to the public account once the service has started a paid
//! session (docs/decisions/0007). Each message is a native-endian `u32` length and a JSON
//! object; the few requests needed here are written out rather than taken from the
//! `greetd_ipc` crate (GPL-3.0, a licence cargo-deny does not allow here, for four messages).
//!
//! greetd starts the session only once the greeter process has ended: after
//! [`open_session`] succeeds, the caller exits.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::greeter::Handover;

/// Longest answer read from greetd (its answers are a few hundred bytes).
const MAX_ANSWER: u32 = 64 * 1024;

/// Why greetd did not open the session.
#[derive(Debug, thiserror::Error)]
pub enum GreetdError {
    #[error("greetd injoignable ({path}) : {source}")]
    Connect {
        path: String,
        source: std::io::Error,
    },
    #[error("échange avec greetd interrompu : {0}")]
    Io(#[from] std::io::Error),
    #[error("réponse de greetd illisible : {0}")]
    Malformed(String),
    /// PAM asked for something (a password…): the public account is set up wrong.
    #[error("greetd demande « {0} » pour le compte public : il doit s'ouvrir sans mot de passe")]
    Question(String),
    #[error("greetd refuse ({kind}) : {description}")]
    Refused { kind: String, description: String },
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Request<'a> {
    CreateSession {
        username: &'a str,
    },
    PostAuthMessageResponse {
        response: Option<&'a str>,
    },
    StartSession {
        cmd: &'a [String],
        env: &'a [String],
    },
    CancelSession,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Response {
    Success,
    Error {
        error_type: String,
        description: String,
    },
    AuthMessage {
        auth_message_type: String,
        auth_message: String,
    },
}

/// Opens `handover.account`'s session through the greetd at `socket` (`GREETD_SOCK`): the
/// account must log in without answering anything (informational PAM messages are
/// acknowledged); any question cancels the attempt.
pub fn open_session(
    socket: &Path,
    handover: &Handover,
    timeout: Duration,
) -> Result<(), GreetdError> {
    let mut stream = UnixStream::connect(socket).map_err(|source| GreetdError::Connect {
        path: socket.display().to_string(),
        source,
    })?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut answer = exchange(
        &mut stream,
        &Request::CreateSession {
            username: &handover.account,
        },
    )?;
    loop {
        match answer {
            Response::Success => break,
            Response::Error {
                error_type,
                description,
            } => {
                return Err(GreetdError::Refused {
                    kind: error_type,
                    description,
                });
            }
            Response::AuthMessage {
                auth_message_type,
                auth_message,
            } => {
                if matches!(auth_message_type.as_str(), "info" | "error") {
                    tracing::info!(%auth_message, "greetd says");
                    answer = exchange(
                        &mut stream,
                        &Request::PostAuthMessageResponse { response: None },
                    )?;
                } else {
                    let _ = exchange(&mut stream, &Request::CancelSession);
                    return Err(GreetdError::Question(auth_message));
                }
            }
        }
    }
    match exchange(
        &mut stream,
        &Request::StartSession {
            cmd: &handover.command,
            env: &handover.env,
        },
    )? {
        Response::Success => Ok(()),
        Response::Error {
            error_type,
            description,
        } => {
            let _ = exchange(&mut stream, &Request::CancelSession);
            Err(GreetdError::Refused {
                kind: error_type,
                description,
            })
        }
        Response::AuthMessage { auth_message, .. } => {
            let _ = exchange(&mut stream, &Request::CancelSession);
            Err(GreetdError::Question(auth_message))
        }
    }
}

fn exchange(stream: &mut UnixStream, request: &Request<'_>) -> Result<Response, GreetdError> {
    let payload =
        serde_json::to_vec(request).map_err(|err| GreetdError::Malformed(err.to_string()))?;
    let length = u32::try_from(payload.len())
        .map_err(|_| GreetdError::Malformed("requête trop longue".to_owned()))?;
    stream.write_all(&length.to_ne_bytes())?;
    stream.write_all(&payload)?;
    let mut header = [0u8; 4];
    stream.read_exact(&mut header)?;
    let length = u32::from_ne_bytes(header);
    if length > MAX_ANSWER {
        return Err(GreetdError::Malformed(format!("{length} octets annoncés")));
    }
    let mut body = vec![0u8; length as usize];
    stream.read_exact(&mut body)?;
    serde_json::from_slice(&body).map_err(|err| GreetdError::Malformed(err.to_string()))
}

/// A peer that speaks greetd's protocol, for tests: it answers each request with the next of
/// its answers (a request with no answer left ends the conversation).
#[cfg(test)]
pub(crate) mod fake {
    use std::io::{Read, Write};
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::path::Path;
    use std::thread::JoinHandle;

    use serde_json::Value;

    use super::Handover;

    pub fn read(stream: &mut UnixStream) -> Value {
        let mut header = [0u8; 4];
        stream.read_exact(&mut header).expect("length");
        let mut body = vec![0u8; u32::from_ne_bytes(header) as usize];
        stream.read_exact(&mut body).expect("body");
        serde_json::from_slice(&body).expect("json")
    }

    pub fn write(stream: &mut UnixStream, value: &Value) {
        let body = serde_json::to_vec(value).expect("json");
        let length = u32::try_from(body.len()).expect("short");
        stream.write_all(&length.to_ne_bytes()).expect("length");
        stream.write_all(&body).expect("body");
    }

    /// Listens at `path` for one connection; the thread returns every request it read.
    pub fn greetd(path: &Path, answers: Vec<Value>) -> JoinHandle<Vec<Value>> {
        let listener = UnixListener::bind(path).expect("bind");
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let mut heard = Vec::new();
            for answer in answers {
                heard.push(read(&mut stream));
                write(&mut stream, &answer);
            }
            heard
        })
    }

    /// The public account's Xfce session, as the service asks for it.
    pub fn xfce_handover() -> Handover {
        Handover {
            account: "visiteur".into(),
            command: vec![
                "startx".into(),
                "/etc/X11/Xsession".into(),
                "startxfce4".into(),
            ],
            env: vec!["XDG_SESSION_TYPE=x11".into()],
        }
    }
}

#[cfg(test)]
mod tests {
    //! Against a peer that speaks greetd-ipc(7) on a socket pair: what is sent, in which order,
    //! and each way greetd can answer. The real greetd is in `scripts/vm-check`.
    use std::os::unix::net::UnixListener;

    use serde_json::{Value, json};

    use super::*;
    use crate::greetd::fake;

    /// Runs `open_session` against the fake greetd; returns the outcome and every request it
    /// read.
    fn converse(answers: Vec<Value>) -> (Result<(), GreetdError>, Vec<Value>) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("greetd.sock");
        let peer = fake::greetd(&path, answers);
        let outcome = open_session(&path, &fake::xfce_handover(), Duration::from_secs(5));
        (outcome, peer.join().expect("peer"))
    }

    #[test]
    fn a_passwordless_account_is_logged_in_then_started_with_its_command_and_environment() {
        let (outcome, heard) =
            converse(vec![json!({"type": "success"}), json!({"type": "success"})]);
        assert!(outcome.is_ok(), "{outcome:?}");
        assert_eq!(
            heard,
            vec![
                json!({"type": "create_session", "username": "visiteur"}),
                json!({"type": "start_session",
                       "cmd": ["startx", "/etc/X11/Xsession", "startxfce4"],
                       "env": ["XDG_SESSION_TYPE=x11"]}),
            ]
        );
    }

    #[test]
    fn informational_pam_messages_are_acknowledged() {
        let (outcome, heard) = converse(vec![
            json!({"type": "auth_message", "auth_message_type": "info", "auth_message": "Bienvenue"}),
            json!({"type": "success"}),
            json!({"type": "success"}),
        ]);
        assert!(outcome.is_ok(), "{outcome:?}");
        assert_eq!(
            heard[1],
            json!({"type": "post_auth_message_response", "response": null})
        );
        assert_eq!(heard[2]["type"], "start_session");
    }

    #[test]
    fn a_password_question_is_never_answered_and_the_attempt_is_cancelled() {
        let (outcome, heard) = converse(vec![
            json!({"type": "auth_message", "auth_message_type": "secret", "auth_message": "Password: "}),
            json!({"type": "success"}),
        ]);
        let err = outcome.expect_err("no password is ever sent");
        assert!(matches!(&err, GreetdError::Question(q) if q == "Password: "));
        assert!(err.to_string().contains("sans mot de passe"), "{err}");
        assert_eq!(heard[1], json!({"type": "cancel_session"}));
    }

    #[test]
    fn a_refusal_says_greetds_reason_in_french() {
        let (outcome, heard) = converse(vec![json!({
            "type": "error", "error_type": "auth_error",
            "description": "pam_authenticate: AUTH_ERR"
        })]);
        let err = outcome.expect_err("refused");
        assert_eq!(
            err.to_string(),
            "greetd refuse (auth_error) : pam_authenticate: AUTH_ERR"
        );
        assert_eq!(heard.len(), 1, "nothing is started after a refusal");
    }

    #[test]
    fn an_oversized_or_garbled_answer_is_an_error_not_a_crash() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("greetd.sock");
        let listener = UnixListener::bind(&path).expect("bind");
        let peer = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let _ = fake::read(&mut stream);
            stream
                .write_all(&(MAX_ANSWER + 1).to_ne_bytes())
                .expect("length");
        });
        let handover = Handover {
            account: "visiteur".into(),
            command: vec!["true".into()],
            env: vec![],
        };
        let err = open_session(&path, &handover, Duration::from_secs(5)).expect_err("refused");
        assert!(matches!(err, GreetdError::Malformed(_)), "{err}");
        peer.join().expect("peer");

        let missing = dir.path().join("absent.sock");
        let err = open_session(&missing, &handover, Duration::from_secs(1)).expect_err("absent");
        assert!(err.to_string().starts_with("greetd injoignable"), "{err}");
    }
}
