//! `wss://` end to end: the real `poste-server` binary serving TLS with a certificate from a CA
//! made here, the agent's link code trusting only that CA; an agent without it refused with a
//! clear reason; a new certificate picked up on SIGHUP by new connections while an established
//! link stays up, and a broken one refused with the previous one kept.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use poste_client::link::{Link, LinkEvent};
use poste_client::tls::{Endpoint, client_config};
use poste_proto::{ClientMessage, Hello, ServerMessage};
use poste_testkit::{ServerProcess, free_port};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

fn make_ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let pem = params.self_signed(&key).unwrap().pem();
    Ca {
        issuer: Issuer::new(params, key),
        pem,
    }
}

/// A server certificate for 127.0.0.1 signed by `ca`: (PEM cert, PEM key, DER cert).
fn server_cert(ca: &Ca) -> (String, String, Vec<u8>) {
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    (cert.pem(), key.serialize_pem(), cert.der().to_vec())
}

/// Replaces a file the way certbot or an admin's `mv` does: the server never reads half of it.
fn replace(path: &Path, contents: &str) {
    let next = path.with_extension("new");
    std::fs::write(&next, contents).unwrap();
    std::fs::rename(&next, path).unwrap();
}

fn hangup(server: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-HUP", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// The leaf certificate a fresh TLS connection is served, through the agent's own trust.
async fn served_cert(port: u16, ca_file: &Path) -> Result<Vec<u8>, String> {
    let connector = tokio_rustls::TlsConnector::from(client_config(Some(ca_file)).unwrap());
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|err| err.to_string())?;
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|err| err.to_string())?;
    let (_, connection) = tls.get_ref();
    Ok(connection.peer_certificates().unwrap()[0].to_vec())
}

fn hello() -> Hello {
    Hello {
        poste: "Poste-TLS".to_owned(),
        mac: None,
        ip_address: None,
        version: None,
        protocole: Some(poste_proto::PROTOCOL_VERSION),
        secret: None,
    }
}

async fn next_event(link: &mut Link, within: Duration) -> LinkEvent {
    tokio::time::timeout(within, link.events.recv())
        .await
        .expect("a link event in time")
        .expect("the link task is alive")
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_talks_wss_trusting_only_the_sites_ca_and_survives_a_certificate_renewal() {
    let dir = tempfile::tempdir().unwrap();
    let tls_dir = dir.path().join("tls");
    std::fs::create_dir(&tls_dir).unwrap();
    let ca = make_ca("CA de la mairie (test)");
    let ca_file = tls_dir.join("ca.pem");
    std::fs::write(&ca_file, &ca.pem).unwrap();
    let (cert_pem, key_pem, first_der) = server_cert(&ca);
    let (cert_file, key_file): (PathBuf, PathBuf) =
        (tls_dir.join("fullchain.pem"), tls_dir.join("privkey.pem"));
    std::fs::write(&cert_file, cert_pem).unwrap();
    std::fs::write(&key_file, key_pem).unwrap();

    let port = free_port();
    let server = ServerProcess::command(&dir.path().join("data"))
        .env("POSTE_SERVER_TLS__CERT", &cert_file)
        .env("POSTE_SERVER_TLS__KEY", &key_file)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Killed(server);
    let deadline = Instant::now() + Duration::from_secs(30);
    let served = loop {
        match served_cert(port, &ca_file).await {
            Ok(der) => break der,
            Err(err) if Instant::now() > deadline => panic!("no TLS server: {err}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    assert_eq!(served, first_der);

    let url = format!("wss://127.0.0.1:{port}{}", poste_proto::WS_PATH_CLIENT);
    let secret = dir.path().join("no-secret");

    // Trusting only the site's CA: connected, and the workstation's address is known.
    let endpoint = Endpoint::new(url.clone(), Some(&ca_file)).unwrap();
    let mut link = poste_client::link::spawn(endpoint, hello(), secret.clone());
    match next_event(&mut link, Duration::from_secs(10)).await {
        LinkEvent::Connected { local_ip } => {
            assert_eq!(local_ip, Some("127.0.0.1".parse().unwrap()));
        }
        other => panic!("expected a connection, got {other:?}"),
    }

    // Without that CA (the system's roots; or another CA): refused, saying what to check.
    let other = tls_dir.join("other-ca.pem");
    std::fs::write(&other, make_ca("Une autre autorité").pem).unwrap();
    for ca_file in [None, Some(other.as_path())] {
        let endpoint = Endpoint::new(url.clone(), ca_file).unwrap();
        let mut refused = poste_client::link::spawn(endpoint, hello(), secret.clone());
        match next_event(&mut refused, Duration::from_secs(10)).await {
            LinkEvent::Disconnected { reason, .. } => {
                assert!(
                    reason.contains("Certificat du serveur refusé")
                        && reason.contains("UnknownIssuer")
                        && reason.contains("ca_file"),
                    "{reason}"
                );
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    // Renewal: new files, SIGHUP; new connections get the new certificate.
    let (cert_pem, key_pem, second_der) = server_cert(&ca);
    replace(&cert_file, &cert_pem);
    replace(&key_file, &key_pem);
    hangup(&server.0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while served_cert(port, &ca_file).await.unwrap() != second_der {
        assert!(
            Instant::now() < deadline,
            "the new certificate is never served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A broken renewal is refused: the server keeps serving the last good certificate.
    replace(
        &cert_file,
        "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n",
    );
    hangup(&server.0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(served_cert(port, &ca_file).await.unwrap(), second_der);

    // The link made before the renewal is still the same connection, and still answered.
    link.send(ClientMessage::ValidateCode {
        code: "ZZZZZZ".to_owned(),
        ip_address: None,
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match next_event(
            &mut link,
            deadline.saturating_duration_since(Instant::now()),
        )
        .await
        {
            LinkEvent::Message(ServerMessage::CodeInvalid(_)) => break,
            LinkEvent::Message(_) => {}
            LinkEvent::Disconnected { reason, .. } => panic!("the link dropped: {reason}"),
            LinkEvent::Connected { .. } => panic!("the link reconnected"),
        }
    }
}
