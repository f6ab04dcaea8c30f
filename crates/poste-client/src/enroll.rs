//! Enrollment of this workstation: ask the server with a one-time code from staff (or the
//! site's install token), wait until staff approve, collect the secret and keep it in a file
//! only its owner (root, for the service) can read. The secret is then presented in every
//! `hello`, and without it no connection can speak for this workstation.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use poste_proto::{ClientMessage, Enroll, EnrollmentStatus, ServerMessage};
use rand::RngExt;
use tokio_tungstenite::tungstenite::Message;

use crate::config::AgentConfig;
use crate::link::Backoff;
use crate::text;

/// What proves the request may be made.
#[derive(Debug, Clone)]
pub enum Proof {
    /// A one-time code given by staff (`poste-server poste enroll-code`).
    Code(String),
    /// The site's install token (unattended installs).
    InstallToken(String),
}

/// How enrollment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enrolled {
    Done,
    Refused,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{path} : {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{0} est lisible par d'autres que son propriétaire (droits {1:o}) : secret refusé ; corrigez avec chmod 600"
    )]
    TooOpen(PathBuf, u32),
}

/// The secret, if this workstation is enrolled. A file readable by others is refused: a
/// visitor who could read it could impersonate the workstation.
pub fn load_secret(path: &Path) -> Result<Option<String>, SecretError> {
    let io = |source| SecretError::Io {
        path: path.to_owned(),
        source,
    };
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(io(err)),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SecretError::TooOpen(path.to_owned(), mode));
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    let secret = std::fs::read_to_string(path).map_err(io)?;
    let secret = secret.trim();
    Ok((!secret.is_empty()).then(|| secret.to_owned()))
}

/// Writes the secret atomically, readable by its owner only (directory 0700, file 0600; on
/// Windows a file readable by SYSTEM and administrators only).
pub fn store_secret(path: &Path, secret: &str) -> Result<(), SecretError> {
    write_private(path, secret.as_bytes()).map_err(|source| SecretError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Writes `bytes` to `path` atomically (a temporary file beside it, synced, then renamed over
/// it), readable by its owner only (directory 0700, file 0600; on Windows a file readable by
/// SYSTEM and administrators only): the service's state files.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    let temporary = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    {
        use std::io::Write;
        let mut file = options.open(&temporary)?;
        // Windows has no modes: the file gets a protected DACL (SYSTEM and administrators)
        // before anything is written into it; a rename keeps it.
        #[cfg(windows)]
        crate::winsys::restrict_to_system(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)
}

/// Where the enrollment command leaves the server's refusal, beside the secret: the service,
/// which keeps waiting for an approval that will not come, says it on the gate instead. (IT's
/// unattended install runs the command in the background, where nobody reads its output.)
pub fn refusal_file(secret_file: &Path) -> PathBuf {
    secret_file.with_file_name("enrolement-refuse.txt")
}

/// The server's words in `refusal_file` when it last refused this workstation's enrollment, if
/// it did and no enrollment was asked for since.
pub fn last_refusal(refusal_file: &Path) -> Option<String> {
    let words = std::fs::read_to_string(refusal_file).ok()?;
    let words = words.trim();
    (!words.is_empty()).then(|| words.to_owned())
}

/// Forgets a refusal: a new request is on its way, or the workstation is enrolled.
fn forget_refusal(secret_file: &Path) {
    match std::fs::remove_file(refusal_file(secret_file)) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => {
            tracing::warn!(error = %err, "the last enrollment refusal could not be removed")
        }
    }
}

/// Runs enrollment to its end: asks, waits for staff (asking again every `check_interval`),
/// stores the secret.
pub async fn enroll(config: &AgentConfig, proof: Proof) -> anyhow::Result<Enrolled> {
    forget_refusal(&config.secret_file);
    let endpoint = config.endpoint()?;
    let poste = config
        .poste
        .clone()
        .unwrap_or_else(crate::identity::hostname);
    let demande: String = {
        let mut rng = rand::rng();
        (0..32)
            .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz234567"[rng.random_range(0..32)]))
            .collect()
    };
    let (code_enrolement, jeton_installation) = match proof {
        Proof::Code(code) => (Some(code), None),
        Proof::InstallToken(token) => (None, Some(token)),
    };
    let mut backoff = Backoff::new();
    let mut told_pending = false;
    println!("{}", text::enrolling(&poste));
    loop {
        let stream = match endpoint.connect().await {
            Ok(stream) => stream,
            Err(err) => {
                let retry_in = backoff.next_delay();
                tracing::warn!(error = %crate::tls::describe(&err), "server unreachable");
                println!("{}", text::server_unreachable(retry_in));
                tokio::time::sleep(retry_in).await;
                continue;
            }
        };
        backoff.reset();
        let local_ip = crate::tls::local_ip(&stream);
        let (mut sink, mut incoming) = stream.split();
        let request = ClientMessage::Enroll(Enroll {
            poste: poste.clone(),
            mac: local_ip.and_then(crate::identity::mac_for),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            code_enrolement: code_enrolement.clone(),
            jeton_installation: jeton_installation.clone(),
            demande: demande.clone(),
            espace: config.espace.clone(),
        });
        let text = serde_json::to_string(&request)?;
        'connection: loop {
            if sink.send(Message::Text(text.clone().into())).await.is_err() {
                break 'connection;
            }
            let reply = loop {
                match incoming.next().await {
                    Some(Ok(Message::Text(body))) => {
                        if let Ok(ServerMessage::Enrollment(reply)) =
                            serde_json::from_str(body.as_str())
                        {
                            break reply;
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => break 'connection,
                }
            };
            match reply.statut {
                EnrollmentStatus::Enrole => {
                    let Some(secret) = reply.secret else {
                        anyhow::bail!("le serveur n'a pas envoyé de secret");
                    };
                    store_secret(&config.secret_file, &secret)?;
                    forget_refusal(&config.secret_file);
                    println!("{}", reply.message);
                    tracing::info!(file = %config.secret_file.display(), "enrolled; secret stored");
                    return Ok(Enrolled::Done);
                }
                EnrollmentStatus::Refuse => {
                    println!("{}", reply.message);
                    if let Err(err) =
                        write_private(&refusal_file(&config.secret_file), reply.message.as_bytes())
                    {
                        tracing::warn!(error = %err, "the enrollment refusal could not be kept for the gate");
                    }
                    return Ok(Enrolled::Refused);
                }
                EnrollmentStatus::EnAttente | EnrollmentStatus::Autre => {
                    if !told_pending {
                        println!("{}", reply.message);
                        told_pending = true;
                    }
                    tokio::time::sleep(Duration::from_secs(config.check_interval)).await;
                }
            }
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_secret_is_written_for_its_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join("secret");
        assert_eq!(load_secret(&path).unwrap(), None);
        store_secret(&path, "pp_secret_value").unwrap();
        assert_eq!(
            load_secret(&path).unwrap().as_deref(),
            Some("pp_secret_value")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let dir_mode = std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(dir_mode, 0o700);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                load_secret(&path),
                Err(SecretError::TooOpen(_, 0o644))
            ));
        }
    }
}
