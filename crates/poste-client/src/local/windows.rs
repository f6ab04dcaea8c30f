//! The local link on Windows: a named pipe, local clients only, that interactive users may open
//! for reading and writing but not serve (see `winsys::PIPE_SDDL`). The service owns its first
//! instance, so a pipe already created by someone else makes the service fail loudly instead of
//! talking through an impostor. The system tells which process is at the other end, hence which
//! session.

use std::path::Path;
use std::time::Duration;

use tokio::net::windows::named_pipe::{NamedPipeClient, NamedPipeServer};

use crate::winsys;

/// Default name of the pipe.
pub const DEFAULT_ENDPOINT: &str = r"\\.\pipe\poste-client-helper";

/// `ERROR_PIPE_BUSY`: every instance is taken for the moment.
const ERROR_PIPE_BUSY: i32 = 231;

/// Who is at the other end of a connection, as the system says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerId {
    /// The client process's id (`GetNamedPipeClientProcessId`), if it could be read.
    pub pid: Option<u32>,
    /// That process's session (`ProcessIdToSessionId`), if it could be read.
    pub session: Option<u32>,
}

/// The service's end: the next pipe instance, waiting for a helper.
#[derive(Debug)]
pub struct Listener {
    name: String,
    next: NamedPipeServer,
}

fn pipe_name(endpoint: &Path) -> std::io::Result<String> {
    endpoint
        .to_str()
        .map(str::to_owned)
        .ok_or_else(|| std::io::Error::other("pipe name is not valid Unicode"))
}

impl Listener {
    /// Creates the pipe's first instance (fails if the pipe exists already).
    pub fn bind(endpoint: &Path) -> std::io::Result<Listener> {
        let name = pipe_name(endpoint)?;
        let next = winsys::create_pipe(&name, true)?;
        Ok(Listener { name, next })
    }

    /// The next helper connection, with who is at its other end. A new instance is created
    /// before this one is handed over, so that a helper can always connect.
    pub async fn accept(&mut self) -> std::io::Result<(NamedPipeServer, PeerId)> {
        if let Err(err) = self.next.connect().await {
            // A client that came and went before the connection completed leaves this
            // instance unusable: serve a fresh one (else one such client would stop all).
            self.next = winsys::create_pipe(&self.name, false)?;
            return Err(err);
        }
        let fresh = winsys::create_pipe(&self.name, false)?;
        let connected = std::mem::replace(&mut self.next, fresh);
        let pid = winsys::pipe_client_process(&connected);
        let session = pid.and_then(winsys::process_session);
        Ok((connected, PeerId { pid, session }))
    }
}

/// The helper's end; waits a little while every instance is busy.
pub async fn connect(endpoint: &Path) -> std::io::Result<NamedPipeClient> {
    let name = pipe_name(endpoint)?;
    for _ in 0..20 {
        match winsys::open_pipe(&name) {
            Err(err) if err.raw_os_error() == Some(ERROR_PIPE_BUSY) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
    winsys::open_pipe(&name)
}
