//! The two halves in one process over the real local link (a Unix socket; a named pipe under
//! Windows, run under wine in CI): the service's connection handling and the helper's
//! conversation, with the shared messages and framing, and the system's word on who is at the
//! other end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;

use poste_desktop::Notification;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::*;
use crate::helper::{Front, HelperExit, SessionNotifier, converse};
use crate::local::connect;

/// What the helper shows, as lines; notifications go through the helper's notifier.
struct Recorder(UnboundedSender<String>, SessionNotifier);

impl Front for Recorder {
    fn show(&mut self, message: ToHelper) {
        let line = match message {
            ToHelper::Say { text } | ToHelper::Refused { message: text } => format!("say {text}"),
            ToHelper::Prompt => "prompt".to_owned(),
            ToHelper::Countdown {
                restant_ms,
                pourcentage,
                connecte,
            } => format!("countdown {restant_ms} {pourcentage} {connecte}"),
            ToHelper::Notify {
                titre,
                texte,
                critique,
            } => {
                self.1.notify(titre, texte, critique);
                return;
            }
            ToHelper::Screen { event } => format!("screen {}", serde_json::json!(event)),
            ToHelper::OpenSession { compte, .. } => format!("open {compte}"),
        };
        let _ = self.0.send(line);
    }
}

/// The helper's notifications.
struct Notes(Mutex<UnboundedSender<Notification>>);

impl Notifier for Notes {
    fn notify(&self, n: &Notification) -> Result<Outcome, DesktopError> {
        if let Ok(tx) = self.0.lock() {
            let _ = tx.send(n.clone());
        }
        Ok(Outcome {
            method: "test".to_owned(),
        })
    }
}

async fn next<T>(rx: &mut UnboundedReceiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("in time")
        .expect("open")
}

/// A service listening at `endpoint` with `gate`, a helper claiming session `good` (admitted),
/// then one claiming `bad` (refused). Returns the peers the gate saw.
async fn round_trip(endpoint: &Path, gate: Gate, good: String, bad: String) -> Vec<PeerId> {
    let peers = Arc::new(Mutex::new(Vec::new()));
    let recording: Gate = {
        let peers = Arc::clone(&peers);
        Arc::new(move |peer, claimed| {
            peers.lock().unwrap().push(peer);
            gate(peer, claimed)
        })
    };
    let state = State::default();
    state.lock().awaiting_code = true;
    // What the service already knows is told to a helper that connects, before the prompt.
    HelperDisplay {
        state: state.clone(),
    }
    .screen(Screen::Space {
        nom: Some("EPN de Saint-Benoît".into()),
    });
    let (input_tx, mut input_rx) = mpsc::channel(16);
    let listener = Listener::bind(endpoint).unwrap();
    let service = tokio::spawn(accept(listener, state.clone(), input_tx, recording));

    let (view_tx, mut view) = unbounded_channel();
    let (notes_tx, mut notes) = unbounded_channel();
    let desktop = SessionNotifier::with(Arc::new(Notes(Mutex::new(notes_tx))));
    let (keys_tx, mut keys) = mpsc::channel(4);
    let stream = connect(endpoint).await.unwrap();
    let helper = {
        let desktop = desktop.clone();
        let good = good.clone();
        tokio::spawn(async move {
            let mut recorder = Recorder(view_tx, desktop);
            converse(stream, &good, None, &mut recorder, &mut keys).await
        })
    };

    // Awaiting a code: the helper is told the space's name and asked for a code as soon as it
    // is admitted.
    assert_eq!(
        next(&mut view).await,
        r#"screen {"nom":"EPN de Saint-Benoît","type":"space"}"#
    );
    assert_eq!(next(&mut view).await, "prompt");
    assert_eq!(state.lock().session.as_deref(), Some(good.as_str()));
    let mut display = HelperDisplay {
        state: state.clone(),
    };
    display.say("Bienvenue Awa !");
    assert_eq!(next(&mut view).await, "say Bienvenue Awa !");
    display.countdown(Duration::from_millis(4200), 30, false, Instant::now());
    assert_eq!(next(&mut view).await, "countdown 4200 30 false");
    display.screen(Screen::Warning {
        critique: true,
        message: "Il vous reste 1 minute".into(),
        son: false,
    });
    assert_eq!(
        next(&mut view).await,
        r#"screen {"critique":true,"message":"Il vous reste 1 minute","type":"warning"}"#
    );
    assert!(state.send(ToHelper::Notify {
        titre: "Poste public".into(),
        texte: "Il vous reste 1 minute".into(),
        critique: true,
    }));
    let note = next(&mut notes).await;
    assert_eq!(note.body, "Il vous reste 1 minute");
    assert!(matches!(note.urgency, Urgency::Critical));

    // A code typed in the helper reaches the session flow, trimmed.
    keys_tx
        .send(Input::Code(" abc123 \n".into()))
        .await
        .unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(5), input_rx.recv()).await;
    assert_eq!(heard.unwrap(), Some(Input::Code("abc123".into())));

    // The helper goes (here its keyboard closed): the service hears it at once.
    drop(keys_tx);
    assert_eq!(helper.await.unwrap(), Some(HelperExit::InputClosed));
    let heard = tokio::time::timeout(Duration::from_secs(5), input_rx.recv()).await;
    assert_eq!(heard.unwrap(), Some(Input::HelperGone));
    assert!(!state.send(ToHelper::Prompt), "no helper any more");

    // A helper the gate refuses is told so, in French, and never becomes the helper.
    let stream = connect(endpoint).await.unwrap();
    let (view_tx, mut view) = unbounded_channel();
    let (_keys_tx, mut keys) = mpsc::channel(1);
    let mut recorder = Recorder(view_tx, desktop);
    let refused = converse(stream, &bad, None, &mut recorder, &mut keys).await;
    assert_eq!(refused, Some(HelperExit::Refused));
    assert_eq!(
        next(&mut view).await,
        format!("say {}", crate::text::HELPER_REFUSED)
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), input_rx.recv())
            .await
            .is_err(),
        "a refused helper going away is no reason to lock"
    );
    assert_eq!(state.lock().session.as_deref(), Some(good.as_str()));
    service.abort();
    let seen = peers.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    seen
}

#[cfg(unix)]
#[tokio::test]
async fn the_halves_talk_over_the_unix_socket_and_the_kernel_names_the_peer() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("uid");
    std::fs::write(&probe, b"").unwrap();
    let uid = std::fs::metadata(&probe).unwrap().uid();
    let gate: Gate = Arc::new(|_, claimed| {
        if claimed == "c42" {
            Ok(Admission {
                session: claimed.to_owned(),
                greeter: false,
            })
        } else {
            Err(PeerRefusal::UnknownSession(claimed.to_owned()))
        }
    });
    let endpoint = dir.path().join("run/helper.sock");
    let peers = round_trip(&endpoint, gate, "c42".into(), "c43".into()).await;
    assert!(peers.iter().all(|peer| peer.uid == uid), "{peers:?}");
}

#[cfg(windows)]
#[tokio::test]
async fn the_halves_talk_over_the_named_pipe_and_the_system_names_the_peer() {
    let endpoint = std::path::PathBuf::from(format!(
        r"\\.\pipe\poste-client-test-{}",
        std::process::id()
    ));
    // (That nobody else can create the pipe while the service serves it,
    // FILE_FLAG_FIRST_PIPE_INSTANCE, is not checked: wine 8 does not enforce that flag.)
    let own = crate::winsys::process_session(std::process::id());
    let own_id = own.expect("this process's session");
    // The real rule, with this test's session playing the console's.
    let gate: Gate = Arc::new(move |peer, claimed| {
        wingate::check(peer.session, own, claimed).map(|id| Admission {
            session: id.to_string(),
            greeter: false,
        })
    });
    let peers = round_trip(
        &endpoint,
        gate,
        own_id.to_string(),
        (own_id + 1).to_string(),
    )
    .await;
    for peer in peers {
        assert_eq!(peer.pid, Some(std::process::id()));
        assert_eq!(peer.session, own);
    }
}

/// The gate before login (`[greeter]`): greetd's greeter is admitted as the gate; a session
/// started there makes it open the public account's session through greetd (here a peer that
/// speaks greetd's protocol; the real greetd is in scripts/vm-check) and exit, which costs the
/// session nothing; a gate back during the session means the visitor's desktop ended.
#[cfg(unix)]
#[tokio::test]
async fn the_gate_before_login_hands_the_workstation_over_through_greetd() {
    let dir = tempfile::tempdir().unwrap();
    let greetd_path = dir.path().join("greetd.sock");
    let success = serde_json::json!({"type": "success"});
    let greetd = crate::greetd::fake::greetd(&greetd_path, vec![success.clone(), success]);
    let handover = crate::greetd::fake::xfce_handover();
    let state = State::default();
    state.lock().handover = Some(handover);
    state.lock().awaiting_code = true;
    let gate: Gate = Arc::new(|_, claimed| {
        Ok(Admission {
            session: claimed.to_owned(),
            greeter: claimed.starts_with('c'),
        })
    });
    let endpoint = dir.path().join("helper.sock");
    let (input_tx, mut input_rx) = mpsc::channel(16);
    let service = tokio::spawn(accept(
        Listener::bind(&endpoint).unwrap(),
        state.clone(),
        input_tx,
        gate,
    ));

    let (view_tx, mut view) = unbounded_channel();
    let (_keys_tx, mut keys) = mpsc::channel(4);
    let stream = connect(&endpoint).await.unwrap();
    let gate_path = greetd_path.clone();
    let gate = tokio::spawn(async move {
        let mut recorder = Recorder(view_tx, SessionNotifier::new());
        converse(stream, "c1", Some(&gate_path), &mut recorder, &mut keys).await
    });
    assert_eq!(next(&mut view).await, "prompt");
    assert_eq!(
        state.lock().session,
        None,
        "a greeter's session is never ended"
    );

    // The server started a session: the gate shows it, then opens the visitor's desktop and
    // ends, which the service takes calmly.
    let started = Screen::Started {
        utilisateur: Some("Awa".into()),
        restant_ms: 60_000,
        total_ms: 60_000,
    };
    HelperDisplay {
        state: state.clone(),
    }
    .screen(started);
    assert!(next(&mut view).await.starts_with("screen {\"restant_ms\""));
    let exit = tokio::time::timeout(Duration::from_secs(5), gate).await;
    assert_eq!(exit.unwrap().unwrap(), Some(HelperExit::HandedOver));
    assert_eq!(
        greetd.join().unwrap(),
        vec![
            serde_json::json!({"type": "create_session", "username": "visiteur"}),
            serde_json::json!({"type": "start_session",
                               "cmd": ["startx", "/etc/X11/Xsession", "startxfce4"],
                               "env": ["XDG_SESSION_TYPE=x11"]}),
        ]
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), input_rx.recv())
            .await
            .is_err(),
        "the gate leaving is not a helper gone"
    );

    // The visitor's countdown connects from their desktop: that session is the one to end.
    let (view_tx, _view) = unbounded_channel();
    let (countdown_keys, mut keys) = mpsc::channel(4);
    let stream = connect(&endpoint).await.unwrap();
    let countdown = tokio::spawn(async move {
        let mut recorder = Recorder(view_tx, SessionNotifier::new());
        converse(stream, "7", None, &mut recorder, &mut keys).await
    });
    for _ in 0..50 {
        if state.lock().session.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(state.lock().session.as_deref(), Some("7"));
    drop(countdown_keys);
    assert_eq!(countdown.await.unwrap(), Some(HelperExit::InputClosed));
    assert!(
        tokio::time::timeout(Duration::from_millis(300), input_rx.recv())
            .await
            .is_err(),
        "a killed countdown locks nothing: the deadline holds"
    );

    // greetd shows its greeter again while the session runs: the visitor left the desktop.
    let (view_tx, _view) = unbounded_channel();
    let (_keys_tx, mut keys) = mpsc::channel(4);
    let stream = connect(&endpoint).await.unwrap();
    let _back = tokio::spawn(async move {
        let mut recorder = Recorder(view_tx, SessionNotifier::new());
        converse(stream, "c2", None, &mut recorder, &mut keys).await
    });
    let heard = tokio::time::timeout(Duration::from_secs(5), input_rx.recv()).await;
    assert_eq!(heard.unwrap(), Some(Input::EndSession));
    service.abort();
}

/// A failed home restore keeps the workstation out of service: a gate that greetd starts again
/// (or any helper that connects) is told so at once, and no longer once back in service.
#[cfg(unix)]
#[tokio::test]
async fn a_gate_that_connects_while_out_of_service_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::default();
    state.lock().awaiting_code = true;
    let gate: Gate = Arc::new(|_, claimed| {
        Ok(Admission {
            session: claimed.to_owned(),
            greeter: true,
        })
    });
    let endpoint = dir.path().join("helper.sock");
    let (input_tx, _input_rx) = mpsc::channel(16);
    let service = tokio::spawn(accept(
        Listener::bind(&endpoint).unwrap(),
        state.clone(),
        input_tx,
        gate,
    ));
    let mut display = HelperDisplay {
        state: state.clone(),
    };
    let out = |message: Option<&str>| Screen::OutOfService {
        message: message.map(Into::into),
    };
    let first_lines = |name: &'static str| {
        let endpoint = endpoint.clone();
        async move {
            let (view_tx, mut view) = unbounded_channel();
            let (keys_tx, mut keys) = mpsc::channel(4);
            let stream = connect(&endpoint).await.unwrap();
            let helper = tokio::spawn(async move {
                let mut recorder = Recorder(view_tx, SessionNotifier::new());
                converse(stream, name, None, &mut recorder, &mut keys).await
            });
            let mut lines = Vec::new();
            loop {
                let line = next(&mut view).await;
                let done = line == "prompt";
                lines.push(line);
                if done {
                    break;
                }
            }
            drop(keys_tx);
            let _ = helper.await;
            lines
        }
    };

    display.screen(out(Some("Poste hors service : appelez un animateur")));
    let lines = first_lines("c1").await;
    assert!(
        lines.iter().any(|l| l.contains("hors service")),
        "{lines:?}"
    );
    display.screen(out(None));
    let lines = first_lines("c2").await;
    assert!(
        !lines.iter().any(|l| l.contains("hors service")),
        "{lines:?}"
    );
    service.abort();
}
