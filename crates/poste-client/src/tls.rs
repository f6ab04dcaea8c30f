//! The agent's side of `wss://`: which certificates it trusts, and how a refusal reads.
//!
//! With `ca_file`, the site's CA (PEM, one or more certificates) is the **only** trust anchor:
//! a workstation of the town hall talks to one server, whose certificate that CA signed, and
//! no other authority can stand in for it. Without `ca_file`, the system's roots are used
//! (`/etc/ssl/certs` on Debian, the certificate store on Windows), for a server with a public
//! certificate. Plain `ws://` needs neither.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// Why the trust anchors could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("ca_file {path} : {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("ca_file {path} : aucun certificat PEM utilisable ({message})")]
    NoCertificate { path: PathBuf, message: String },
    #[error("aucun certificat racine du système n'est utilisable ; indiquez ca_file")]
    NoSystemRoots,
    #[error("configuration TLS : {0}")]
    Setup(#[source] rustls::Error),
}

/// Where the agent connects, and with what trust (built once, used at every connection).
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: String,
    tls: Option<Arc<rustls::ClientConfig>>,
}

pub type Stream = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

impl Endpoint {
    /// `ca_file` is read now (for a `wss://` URL), so that a wrong path stops the agent at
    /// start-up rather than at every reconnection.
    pub fn new(url: String, ca_file: Option<&Path>) -> Result<Endpoint, TlsError> {
        let tls = if url.starts_with("wss://") {
            Some(client_config(ca_file)?)
        } else {
            None
        };
        Ok(Endpoint { url, tls })
    }

    pub async fn connect(&self) -> Result<Stream, tungstenite::Error> {
        let (stream, _) = tokio_tungstenite::connect_async_tls_with_config(
            &self.url,
            // A 4 KiB read buffer (tungstenite allocates 128 KiB by default): the server's
            // messages are a few hundred bytes.
            Some(WebSocketConfig::default().read_buffer_size(4096)),
            // TCP_NODELAY: each message is small and waits for its answer (a code typed, then
            // its check), so it goes out at once instead of after the previous one's ACK.
            true,
            self.tls.clone().map(Connector::Rustls),
        )
        .await?;
        Ok(stream)
    }
}

/// The local address of a connection, plain or TLS (the workstation's IP as the server sees it).
pub fn local_ip(stream: &Stream) -> Option<std::net::IpAddr> {
    let tcp = match stream.get_ref() {
        MaybeTlsStream::Plain(tcp) => tcp,
        MaybeTlsStream::Rustls(tls) => tls.get_ref().0,
        _ => return None,
    };
    tcp.local_addr().ok().map(|addr| addr.ip())
}

/// The rustls client configuration: ring, the CA file's certificates or the system's roots.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|source| TlsError::Read {
                path: path.to_owned(),
                source,
            })?;
            let no_certificate = |message: String| TlsError::NoCertificate {
                path: path.to_owned(),
                message,
            };
            let certs = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| no_certificate(err.to_string()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(no_certificate("fichier vide ou illisible".to_owned()));
            }
        }
        None => {
            // Unreadable entries of the system store are skipped, as every TLS client does.
            let system = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(system.certs);
            if roots.is_empty() {
                return Err(TlsError::NoSystemRoots);
            }
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(TlsError::Setup)?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A connection error for the logs and the console: a refused certificate says what to check.
pub fn describe(err: &tungstenite::Error) -> String {
    match err {
        tungstenite::Error::Tls(tls) => crate::text::tls_refused(&tls.to_string()),
        // tungstenite wraps rustls' errors in an io::Error during the handshake.
        tungstenite::Error::Io(io)
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()) =>
        {
            crate::text::tls_refused(&io.to_string())
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_ca_file_must_hold_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        let err = client_config(Some(&path)).unwrap_err();
        assert!(matches!(err, TlsError::Read { .. }), "{err}");
        std::fs::write(&path, "pas un certificat").unwrap();
        let err = client_config(Some(&path)).unwrap_err();
        assert!(err.to_string().contains("aucun certificat"), "{err}");
        // A plain URL never reads it.
        assert!(Endpoint::new("ws://127.0.0.1:1/ws/client/".into(), Some(&path)).is_ok());
        assert!(Endpoint::new("wss://127.0.0.1:1/ws/client/".into(), Some(&path)).is_err());
    }
}
