//! TLS served by the server itself (`https://`, `wss://`): rustls with the ring provider, the
//! certificate chain and key read from PEM files, and read again on SIGHUP. New connections get
//! the new certificate; established ones keep theirs (TLS never renegotiates), so a renewal
//! drops no workstation. A new pair that does not load (missing file, bad PEM, a key that does
//! not match the certificate) is refused and the previous one stays in force.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Why a certificate or key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a PEM certificate chain: {message}", path.display())]
    Certificate { path: PathBuf, message: String },
    #[error("{}: no certificate in the file", path.display())]
    NoCertificate { path: PathBuf },
    #[error("{}: not a PEM private key: {message}", path.display())]
    Key { path: PathBuf, message: String },
    #[error("the key {} does not go with the certificate {}: {source}", key.display(), cert.display())]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        #[source]
        source: rustls::Error,
    },
    #[error("TLS set-up: {0}")]
    Setup(#[source] rustls::Error),
}

/// The certificate in force, swapped as a whole on reload.
#[derive(Debug)]
pub struct CertResolver {
    cert_path: PathBuf,
    key_path: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertResolver {
    /// Loads the pair once; the server does not start without a usable one.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Arc<CertResolver>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let first = load_pair(cert_path, key_path, &provider)?;
        Ok(Arc::new(CertResolver {
            cert_path: cert_path.to_owned(),
            key_path: key_path.to_owned(),
            provider,
            current: RwLock::new(Arc::new(first)),
        }))
    }

    /// Reads the files again; on success the new pair serves every new connection, on failure
    /// nothing changes. Returns the new leaf certificate's fingerprint.
    pub fn reload(&self) -> Result<String, TlsError> {
        let next = load_pair(&self.cert_path, &self.key_path, &self.provider)?;
        let print = fingerprint(&next);
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(next);
        Ok(print)
    }

    /// SHA-256 of the leaf certificate in force (hex), as `openssl x509 -fingerprint -sha256`
    /// shows it without the colons: what the logs name.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.current())
    }

    fn current(&self) -> Arc<CertifiedKey> {
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// The rustls configuration of the listener: HTTP/1.1 only (the router speaks nothing
    /// else), certificates from this resolver.
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Setup)?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

fn fingerprint(key: &CertifiedKey) -> String {
    key.cert
        .first()
        .map(|leaf| {
            Sha256::digest(leaf.as_ref())
                .iter()
                .map(|byte| format!("{byte:02X}"))
                .collect()
        })
        .unwrap_or_default()
}

fn load_pair(
    cert_path: &Path,
    key_path: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.to_owned(),
            source,
        })
    };
    let cert_pem = read(cert_path)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| TlsError::Certificate {
            path: cert_path.to_owned(),
            message: err.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: cert_path.to_owned(),
        });
    }
    let key_pem = read(key_path)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|err| TlsError::Key {
        path: key_path.to_owned(),
        message: err.to_string(),
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|source| TlsError::Mismatch {
        cert: cert_path.to_owned(),
        key: key_path.to_owned(),
        source,
    })
}

/// Reads the pair again on every SIGHUP (`systemctl reload poste-server`), for as long as the
/// server runs. The handler is installed by the caller, before the server says it is ready, so
/// that an early SIGHUP cannot kill the process (its default action).
#[cfg(unix)]
pub async fn reload_on_hangup(
    resolver: Arc<CertResolver>,
    mut hangup: tokio::signal::unix::Signal,
) {
    while hangup.recv().await.is_some() {
        match resolver.reload() {
            Ok(print) => tracing::info!(sha256 = %print, "TLS certificate reloaded"),
            Err(err) => tracing::error!(
                error = %err,
                sha256 = %resolver.fingerprint(),
                "TLS certificate NOT reloaded, the previous one stays in force"
            ),
        }
    }
}

/// A client has this long to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts TCP connections and completes their TLS handshakes, each in its own task (a slow or
/// silent client must not hold up the others), handing finished ones to `axum::serve`.
#[derive(Debug)]
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    acceptor: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let (done, ready) = mpsc::channel(64);
        let acceptor = tokio::spawn(accept_loop(listener, TlsAcceptor::from(config), done));
        Ok(TlsListener {
            ready,
            local,
            acceptor,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The accept loop only ends when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// Every message of the protocol is small and waits for its answer: sent at once, not held
/// back by Nagle's algorithm until the previous one is acknowledged (the peer may delay that
/// acknowledgement by 40 ms).
pub(crate) fn no_delay(tcp: &mut TcpStream) {
    if let Err(err) = tcp.set_nodelay(true) {
        tracing::debug!(error = %err, "cannot set TCP_NODELAY");
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    done: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let (mut tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors and the like: wait instead of spinning, as axum does.
                tracing::warn!(error = %err, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        no_delay(&mut tcp);
        let acceptor = acceptor.clone();
        let done = done.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    let _ = done.send((tls, peer)).await;
                }
                // A scanner, a client that does not trust us, plain HTTP on the TLS port.
                Ok(Err(err)) => tracing::debug!(%peer, error = %err, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn write_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let generated = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
        let cert = dir.join(format!("{name}.crt"));
        let key = dir.join(format!("{name}.key"));
        std::fs::write(&cert, generated.cert.pem()).unwrap();
        std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
        (cert, key)
    }

    #[test]
    fn a_bad_new_pair_keeps_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = write_pair(dir.path(), "a");
        let resolver = CertResolver::load(&cert, &key).unwrap();
        let first = resolver.fingerprint();

        std::fs::write(&cert, "not a certificate").unwrap();
        let err = resolver.reload().unwrap_err();
        assert!(matches!(err, TlsError::NoCertificate { .. }), "{err}");
        assert_eq!(resolver.fingerprint(), first);

        // A certificate with someone else's key.
        let (other_cert, _) = write_pair(dir.path(), "b");
        std::fs::copy(&other_cert, &cert).unwrap();
        let err = resolver.reload().unwrap_err();
        assert!(matches!(err, TlsError::Mismatch { .. }), "{err}");
        assert!(err.to_string().contains("does not go with"), "{err}");
        assert_eq!(resolver.fingerprint(), first);

        std::fs::remove_file(&key).unwrap();
        let err = resolver.reload().unwrap_err();
        assert!(matches!(err, TlsError::Read { .. }), "{err}");

        let (new_cert, new_key) = write_pair(dir.path(), "c");
        std::fs::copy(&new_cert, &cert).unwrap();
        std::fs::copy(&new_key, &key).unwrap();
        let print = resolver.reload().unwrap();
        assert_ne!(print, first);
        assert_eq!(resolver.fingerprint(), print);
    }
}
