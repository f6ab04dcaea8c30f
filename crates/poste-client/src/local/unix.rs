//! The local link on Linux: a Unix socket, whose peer's uid the kernel tells (`SO_PEERCRED`).

use std::path::Path;

use tokio::net::{UnixListener, UnixStream};

/// Default path of the socket (systemd `RuntimeDirectory=poste-client`).
pub const DEFAULT_ENDPOINT: &str = "/run/poste-client/helper.sock";

/// Who is at the other end of a connection, as the kernel says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerId {
    /// The peer process's uid (`SO_PEERCRED`).
    pub uid: u32,
}

/// The service's end: the socket it listens on.
#[derive(Debug)]
pub struct Listener(UnixListener);

impl Listener {
    /// The socket, created fresh (a stale one from a previous run is removed), reachable by the
    /// visitors' sessions: who may speak on it is checked per connection from its credentials.
    pub fn bind(socket: &Path) -> std::io::Result<Listener> {
        if let Some(dir) = socket.parent() {
            std::fs::create_dir_all(dir)?;
        }
        match std::fs::remove_file(socket) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
        let listener = UnixListener::bind(socket)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o666))?;
        Ok(Listener(listener))
    }

    /// The next helper connection, with its peer's uid (a connection whose credentials cannot
    /// be read is an error: it is refused).
    pub async fn accept(&mut self) -> std::io::Result<(UnixStream, PeerId)> {
        let (stream, _) = self.0.accept().await?;
        let uid = stream.peer_cred()?.uid();
        Ok((stream, PeerId { uid }))
    }
}

/// The helper's end.
pub async fn connect(socket: &Path) -> std::io::Result<UnixStream> {
    UnixStream::connect(socket).await
}
