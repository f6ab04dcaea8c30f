//! A TCP proxy on loopback that injects network faults between a workstation and the server:
//! delay every chunk, stall (half-open: keep the sockets open but forward nothing, as a pulled
//! cable or a dead switch looks to both ends), or cut (close every connection and refuse new
//! ones). The mode can be changed at any time; it applies to open connections at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the link does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkMode {
    /// Bytes pass as they come.
    Pass,
    /// Every chunk waits this long before it is forwarded (in order, each way).
    Delay(Duration),
    /// Half-open: connections stay open, bytes are held (and flow again on `Pass`/`Delay`).
    Stall,
    /// Every connection is closed and new ones are closed as soon as accepted.
    Cut,
}

/// The proxy; stops when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    pub addr: SocketAddr,
    mode: watch::Sender<LinkMode>,
    accepted: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on 127.0.0.1:0 and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (mode, watcher) = watch::channel(LinkMode::Pass);
        let accepted = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&accepted);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::Relaxed);
                let watcher = watcher.clone();
                tokio::spawn(serve(client, upstream, watcher));
            }
        });
        Ok(FaultProxy {
            addr,
            mode,
            accepted,
            task,
        })
    }

    pub fn set(&self, mode: LinkMode) {
        self.mode.send_replace(mode);
    }

    pub fn mode(&self) -> LinkMode {
        *self.mode.borrow()
    }

    /// Connections accepted so far (a reconnecting client shows up here).
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// `http://127.0.0.1:PORT`, for a client's `--server`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
        // Open connections see `Cut` and close.
        self.mode.send_replace(LinkMode::Cut);
    }
}

async fn serve(client: TcpStream, upstream: SocketAddr, mode: watch::Receiver<LinkMode>) {
    if *mode.borrow() == LinkMode::Cut {
        return;
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    // When either direction ends (closed, reset, or cut), both sockets are dropped.
    tokio::select! {
        () = pump(client_read, server_write, mode.clone()) => {}
        () = pump(server_read, client_write, mode) => {}
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<LinkMode>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let read = tokio::select! {
            read = from.read(&mut buf) => read,
            () = wait_cut(&mut mode) => return,
        };
        let n = match read {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // Decide what to do with this chunk; a stall holds it until the mode changes.
        loop {
            let current = *mode.borrow_and_update();
            match current {
                LinkMode::Cut => return,
                LinkMode::Stall => {
                    if mode.changed().await.is_err() {
                        return;
                    }
                }
                LinkMode::Delay(delay) => {
                    tokio::time::sleep(delay).await;
                    break;
                }
                LinkMode::Pass => break,
            }
        }
        if *mode.borrow() == LinkMode::Cut || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Resolves when the mode becomes `Cut` (or the proxy is gone).
async fn wait_cut(mode: &mut watch::Receiver<LinkMode>) {
    loop {
        if *mode.borrow_and_update() == LinkMode::Cut {
            return;
        }
        if mode.changed().await.is_err() {
            return;
        }
    }
}
