//! A small SMTP server for tests, on 127.0.0.1: it offers STARTTLS with a self-signed
//! certificate for `localhost` (rcgen), refuses mail before STARTTLS, and keeps every message it
//! receives. Nothing leaves the machine.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// `MAIL FROM` and `RCPT TO` addresses, without the angle brackets.
    pub from: String,
    pub to: Vec<String>,
    /// The message (headers and body) as sent, dots unstuffed.
    pub data: String,
    /// Whether the transaction ran inside TLS set up by STARTTLS.
    pub after_starttls: bool,
}

/// The running server; stops when dropped.
#[derive(Debug)]
pub struct SmtpServer {
    port: u16,
    ca_pem: String,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    task: JoinHandle<()>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpServer {
    pub async fn start() -> anyhow::Result<SmtpServer> {
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
        let ca_pem = generated.cert.pem();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
            rustls::pki_types::PrivatePkcs8KeyDer::from(generated.signing_key.serialize_der()),
        );
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![generated.cert.der().clone()], key)?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn({
            let received = Arc::clone(&received);
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let (acceptor, received) = (acceptor.clone(), Arc::clone(&received));
                    tokio::spawn(async move {
                        let _ = session(stream, acceptor, received).await;
                    });
                }
            }
        });
        Ok(SmtpServer {
            port,
            ca_pem,
            received,
            task,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's certificate (self-signed), for the client's CA file.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The messages received so far.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.received
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Waits until `count` messages have arrived (or `timeout` passed), and gives them.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= count || tokio::time::Instant::now() >= deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// One client: greeting and EHLO in clear, STARTTLS, then the transaction inside TLS.
async fn session(
    stream: TcpStream,
    acceptor: TlsAcceptor,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
) -> anyhow::Result<()> {
    let mut plain = BufReader::new(stream);
    plain
        .get_mut()
        .write_all(b"220 localhost ESMTP test\r\n")
        .await?;
    if !converse(&mut plain, false, &received).await? {
        return Ok(());
    }
    // The client sends nothing more until it has read the 220: nothing is left in the buffer.
    let tls = acceptor
        .accept(plain.into_inner())
        .await
        .context("TLS handshake")?;
    converse(&mut BufReader::new(tls), true, &received).await?;
    Ok(())
}

/// Answers commands until the client quits (`false`) or, in clear, asks for STARTTLS (`true`).
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    secure: bool,
    received: &Arc<Mutex<Vec<ReceivedMail>>>,
) -> anyhow::Result<bool> {
    let mut mail: Option<ReceivedMail> = None;
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await? == 0 {
            return Ok(false);
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" if secure => b"250-localhost\r\n250 8BITMIME\r\n",
            "EHLO" => b"250-localhost\r\n250-8BITMIME\r\n250 STARTTLS\r\n",
            "HELO" => b"250 localhost\r\n",
            "STARTTLS" if !secure => {
                stream
                    .get_mut()
                    .write_all(b"220 Ready to start TLS\r\n")
                    .await?;
                stream.get_mut().flush().await?;
                return Ok(true);
            }
            "MAIL" | "RCPT" | "DATA" if !secure => {
                b"530 5.7.0 Must issue a STARTTLS command first\r\n"
            }
            "MAIL" => {
                mail = Some(ReceivedMail {
                    from: address(&command),
                    to: Vec::new(),
                    data: String::new(),
                    after_starttls: secure,
                });
                b"250 OK\r\n"
            }
            "RCPT" => match mail.as_mut() {
                Some(mail) => {
                    mail.to.push(address(&command));
                    b"250 OK\r\n"
                }
                None => b"503 MAIL first\r\n",
            },
            "DATA" => {
                let Some(mut done) = mail.take() else {
                    stream.get_mut().write_all(b"503 MAIL first\r\n").await?;
                    continue;
                };
                stream
                    .get_mut()
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                loop {
                    let mut data_line = String::new();
                    if stream.read_line(&mut data_line).await? == 0 {
                        return Ok(false);
                    }
                    if data_line == ".\r\n" || data_line == ".\n" {
                        break;
                    }
                    let unstuffed = data_line.strip_prefix('.').unwrap_or(&data_line);
                    done.data.push_str(unstuffed);
                }
                received
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(done);
                b"250 OK: queued\r\n"
            }
            "QUIT" => {
                stream.get_mut().write_all(b"221 Bye\r\n").await?;
                return Ok(false);
            }
            _ => b"250 OK\r\n",
        };
        stream.get_mut().write_all(reply).await?;
        stream.get_mut().flush().await?;
    }
}

/// `MAIL FROM:<a@b> SIZE=…` → `a@b`.
fn address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}
