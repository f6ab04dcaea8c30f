//! The visitor's screen end to end, under a real X server: the real server (in this process),
//! `poste-client service` and `poste-client helper --ui kiosk` (which becomes `poste-kiosk`, the
//! egui windows) as real processes, keys typed by xdotool, what the screen shows read from the
//! kiosk's state file (`POSTE_KIOSK_STATE_FILE`) and, for colours and sizes, from screenshots and
//! the window manager.
//!
//! Needs `DISPLAY` (Xvfb with openbox), xdotool and ImageMagick, and `poste-kiosk` built next
//! to `poste-client`: run it with `scripts/kiosk-check`, which sets all that up. Ignored
//! otherwise (never skipped silently: the script runs it with `--ignored` and fails if it
//! fails).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use poste_testkit::TestServer;
use serde_json::{Value, json};

use crate::split::{my_uid, wait_call, wait_started};
use crate::{AGENT, FakeDesktop, agent, unix_now};

struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The kiosk's state file, read until `until` holds (or the time is up: the last state is in
/// the panic message).
async fn wait_state(
    path: &Path,
    what: &str,
    within: Duration,
    until: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    let mut last = Value::Null;
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(state) = serde_json::from_str::<Value>(&text)
        {
            if until(&state) {
                return state;
            }
            last = state;
        }
        assert!(
            Instant::now() < deadline,
            "the screen never showed {what} within {within:?}; last state: {last:#}"
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

fn xdotool(args: &[&str]) -> String {
    let output = Command::new("xdotool")
        .args(args)
        .output()
        .expect("xdotool");
    assert!(
        output.status.success(),
        "xdotool {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The active window's id; `None` while there is none (between one window losing the focus
/// and another getting it, xdotool fails).
fn active_window() -> Option<String> {
    let output = Command::new("xdotool")
        .arg("getactivewindow")
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The kiosk's window, as the window manager sees it: (id, x, y, width, height).
fn kiosk_window() -> Option<(String, i32, i32, i32, i32)> {
    window_named("^Poste public$")
}

/// The kiosk's window once its place and size held for 200 ms (within 5 s).
async fn settled_kiosk_window() -> (String, i32, i32, i32, i32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut last = kiosk_window();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = kiosk_window();
        if let Some(window) = now.clone().filter(|_| now == last) {
            return window;
        }
        assert!(
            Instant::now() < deadline,
            "the kiosk's window never settled: {now:?}"
        );
        last = now;
    }
}

/// The visible window whose title matches `pattern`: (id, x, y, width, height).
fn window_named(pattern: &str) -> Option<(String, i32, i32, i32, i32)> {
    let found = Command::new("xdotool")
        .args(["search", "--onlyvisible", "--name", pattern])
        .output()
        .ok()?;
    let id = String::from_utf8_lossy(&found.stdout)
        .lines()
        .last()?
        .to_owned();
    let geometry = xdotool(&["getwindowgeometry", "--shell", &id]);
    let field = |name: &str| -> Option<i32> {
        geometry
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}=")))?
            .parse()
            .ok()
    };
    Some((
        id.clone(),
        field("X")?,
        field("Y")?,
        field("WIDTH")?,
        field("HEIGHT")?,
    ))
}

/// Waits until the kiosk's window has the size `check` wants.
async fn wait_window(what: &str, check: impl Fn(i32, i32) -> bool) -> (String, i32, i32, i32, i32) {
    wait_named("^Poste public$", what, |_, _, w, h| check(w, h)).await
}

/// Waits until the window titled `pattern` has the place and size `check` wants.
async fn wait_named(
    pattern: &str,
    what: &str,
    check: impl Fn(i32, i32, i32, i32) -> bool,
) -> (String, i32, i32, i32, i32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let window = window_named(pattern);
        if let Some(window) = &window
            && check(window.1, window.2, window.3, window.4)
        {
            return window.clone();
        }
        assert!(Instant::now() < deadline, "no {what} window: {window:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A screenshot of the whole screen, after the window had time to redraw.
async fn screenshot(dir: &Path, name: &str) -> PathBuf {
    tokio::time::sleep(Duration::from_millis(400)).await;
    let path = dir.join(name);
    let status = Command::new("import")
        .args(["-window", "root"])
        .arg(&path)
        .status()
        .expect("ImageMagick's import");
    assert!(status.success(), "import failed");
    path
}

/// The colour of one pixel of a screenshot, as (r, g, b).
fn pixel(shot: &Path, x: i32, y: i32) -> (u8, u8, u8) {
    // ImageMagick's own convert (not a wrapper of the same name earlier on PATH).
    let convert = if Path::new("/usr/bin/convert").exists() {
        "/usr/bin/convert"
    } else {
        "convert"
    };
    let output = Command::new(convert)
        .arg(shot)
        .args(["-crop", &format!("1x1+{x}+{y}"), "-depth", "8", "rgb:-"])
        .output()
        .expect("convert");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    match output.stdout.as_slice() {
        [r, g, b, ..] => (*r, *g, *b),
        other => panic!("no pixel at {x},{y} of {}: {other:?}", shot.display()),
    }
}

fn near(got: (u8, u8, u8), want: (u8, u8, u8)) -> bool {
    let d = |a: u8, b: u8| i16::from(a).abs_diff(i16::from(b));
    d(got.0, want.0) <= 24 && d(got.1, want.1) <= 24 && d(got.2, want.2) <= 24
}

const GATE_BLUE: (u8, u8, u8) = (0x12, 0x23, 0x3a);
const COUNTDOWN_BLUE: (u8, u8, u8) = (0x1d, 0x35, 0x57);
const ORANGE: (u8, u8, u8) = (0xe0, 0x6c, 0x00);
const RED: (u8, u8, u8) = (0xc0, 0x1c, 0x28);

/// The real service and `helper --ui kiosk` on this display, against `server`.
struct Kiosk {
    desktop: FakeDesktop,
    /// Killed when dropped.
    _processes: Processes,
    /// The kiosk's state file.
    state: PathBuf,
    kiosk_log: PathBuf,
    /// Where screenshots go (`POSTE_KIOSK_SHOTS`).
    shots: PathBuf,
}

impl Kiosk {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.kiosk_log).unwrap_or_default()
    }

    /// Clicks the button labelled `label` where the kiosk drew it (its state file says where).
    async fn click(&self, label: &str) {
        // The window settled first: the kiosk resizes it, then moves it (a question is centred),
        // and a click aimed while it moves lands where it no longer is.
        let (window, ..) = settled_kiosk_window().await;
        let state = wait_state(&self.state, label, Duration::from_secs(5), |s| {
            button(s, label).is_some()
        })
        .await;
        let (x, y, width, height) = button(&state, label).unwrap();
        xdotool(&[
            "mousemove",
            "--sync",
            "--window",
            &window,
            &(x + width / 2).to_string(),
            &(y + height / 2).to_string(),
        ]);
        xdotool(&["click", "1"]);
    }
}

/// Where the state file says `label`'s button is: (x, y, width, height) in window pixels.
fn button(state: &Value, label: &str) -> Option<(i64, i64, i64, i64)> {
    let placed = state["buttons"]
        .as_array()?
        .iter()
        .find(|b| b["label"] == label)?;
    Some((
        placed["x"].as_i64()?,
        placed["y"].as_i64()?,
        placed["width"].as_i64()?,
        placed["height"].as_i64()?,
    ))
}

async fn start_kiosk(server: &TestServer) -> Kiosk {
    let display = std::env::var("DISPLAY").expect("DISPLAY: run scripts/kiosk-check");
    let kiosk = poste_testkit::workspace_binary("poste-kiosk");
    assert!(
        kiosk.is_file(),
        "{} is missing: cargo build -p poste-kiosk (scripts/kiosk-check does)",
        kiosk.display()
    );
    let shots = std::env::var_os("POSTE_KIOSK_SHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("poste-kiosk-shots"));
    std::fs::create_dir_all(&shots).unwrap();

    let desktop = FakeDesktop::new(&["loginctl", "notify-send"]);
    let uid = my_uid(&desktop);
    let socket = desktop.dir.path().join("run/helper.sock");
    let state = desktop.dir.path().join("kiosk-state.json");
    let service_log = std::fs::File::create(desktop.dir.path().join("service.log")).unwrap();
    // The warning sound on, played by the real aplay into ALSA's null device (the visitor's
    // ~/.asoundrc: there is no sound card here).
    let config = desktop.dir.path().join("client.toml");
    std::fs::write(&config, "warning_sound = true\n").unwrap();
    std::fs::write(
        desktop.dir.path().join(".asoundrc"),
        "pcm.!default {\n    type null\n}\n",
    )
    .unwrap();
    let mut service = agent(
        &desktop,
        &server.http_url(""),
        &[
            "--config",
            config.to_str().unwrap(),
            "service",
            "--socket",
            socket.to_str().unwrap(),
        ],
    );
    service
        .env("FAKE_SESSION_UID", uid.to_string())
        .env("FAKE_SESSION_TYPE", "x11")
        .stdout(Stdio::null())
        .stderr(service_log);
    let mut processes = Processes(vec![service.spawn().unwrap()]);
    let kiosk_log = desktop.dir.path().join("kiosk.log");
    let mut helper = Command::new(AGENT);
    helper
        .args([
            "helper",
            "--ui",
            "kiosk",
            "--socket",
            socket.to_str().unwrap(),
        ])
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", desktop.bin().display()))
        .env("DISPLAY", &display)
        .env("HOME", desktop.dir.path())
        .env("XDG_SESSION_ID", "c42")
        .env("LOG_LEVEL", "info")
        .env("POSTE_KIOSK_STATE_FILE", &state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&kiosk_log).unwrap());
    for key in [
        "POSTE_KIOSK_RENDERER",
        "XDG_RUNTIME_DIR",
        "DBUS_SESSION_BUS_ADDRESS",
    ] {
        if let Some(value) = std::env::var_os(key) {
            helper.env(key, value);
        }
    }
    processes.0.push(helper.spawn().unwrap());
    Kiosk {
        desktop,
        _processes: processes,
        state,
        kiosk_log,
        shots,
    }
}

/// The warning sounds the kiosk's log says aplay played, in order: `critical=…` each.
fn sounds_played(log: &str) -> Vec<String> {
    log.lines()
        .filter(|line| line.contains("warning sound played") && line.contains("aplay"))
        .filter_map(|line| {
            let at = line.find("critical=")?;
            Some(line[at..].split_whitespace().next()?.to_owned())
        })
        .collect()
}

/// Waits until the kiosk's log shows what `until` wants.
async fn wait_log(kiosk: &Kiosk, what: &str, until: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = kiosk.log();
        if until(&log) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no {what} in the kiosk's log:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn site_server() -> TestServer {
    TestServer::start_with(|config| {
        config.console.site_name = "EPN de la Mairie".to_owned();
    })
    .await
}

#[tokio::test]
#[ignore = "needs an X server, xdotool and poste-kiosk: run scripts/kiosk-check"]
async fn the_visitor_types_a_code_at_the_gate_sees_the_countdown_and_its_warnings_and_the_gate_returns()
 {
    let server = site_server().await;
    let kiosk = start_kiosk(&server).await;
    let (desktop, state, shots) = (&kiosk.desktop, &kiosk.state, &kiosk.shots);
    let log = || kiosk.log();

    // The gate: full screen, the space's name from the server, the link up.
    let gate = wait_state(state, "the gate, connected", Duration::from_secs(30), |s| {
        s["mode"] == "gate" && s["window"] == "gate" && s["server_connected"] == true
    })
    .await;
    assert_eq!(gate["space"], "EPN de la Mairie", "{gate:#}");
    assert_eq!(gate["can_submit"], true, "{gate:#}");
    let (window, _, _, width, height) =
        wait_window("full-screen", |w, h| w >= 1280 && h >= 1024).await;
    assert_eq!((width, height), (1280, 1024), "the gate covers the screen");
    let shot = screenshot(shots, "kiosk-portail.png").await;
    assert!(
        near(pixel(&shot, 8, 8), GATE_BLUE),
        "gate colour: {:?}",
        pixel(&shot, 8, 8)
    );

    // It cannot be closed: the window manager's close (Alt+F4 in openbox) is refused.
    xdotool(&["windowactivate", "--sync", &window]);
    xdotool(&["key", "--window", &window, "alt+F4"]);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(kiosk_window().is_some(), "the gate was closed: {}", log());
    assert!(log().contains("close requested: refused"), "{}", log());

    // Nor left for another window of the session: one that takes the keyboard (as Alt+Tab
    // would give it) loses it to the gate, which asks for it at once and then each second
    // (openbox may refuse the first ask, so soon after the other window was activated).
    let mut other = Command::new("xmessage")
        .args(["-name", "autre-fenetre", "une autre fenêtre"])
        .spawn()
        .expect("xmessage");
    let other_window = {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found = Command::new("xdotool")
                .args(["search", "--onlyvisible", "--classname", "autre-fenetre"])
                .output()
                .expect("xdotool");
            if let Some(id) = String::from_utf8_lossy(&found.stdout).lines().last() {
                break id.to_owned();
            }
            assert!(Instant::now() < deadline, "xmessage's window never showed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    xdotool(&["windowactivate", &other_window]);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if active_window().as_deref() == Some(window.as_str()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the other window kept the keyboard: {}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = other.kill();
    let _ = other.wait();

    // A staff message shows on the gate.
    let poste = poste_client::identity::hostname();
    server
        .api()
        .post_ok(
            &format!("/postes/{poste}/message"),
            json!({"message": "La médiathèque ferme à 18 h."}),
        )
        .await;
    wait_state(state, "the staff message", Duration::from_secs(5), |s| {
        s["staff"] == "La médiathèque ferme à 18 h."
    })
    .await;

    // A wrong code, typed with no click (the field has the focus): the server's French refusal.
    xdotool(&["type", "--delay", "60", "ZZZ999"]);
    xdotool(&["key", "Return"]);
    let refused = wait_state(state, "a refusal", Duration::from_secs(10), |s| {
        s["raison"] == "inconnu"
    })
    .await;
    assert_eq!(
        refused["refusal"], "Code inconnu. Vérifiez la saisie ou adressez-vous à l'accueil.",
        "{refused:#}"
    );
    assert_eq!(refused["codes_sent"], 1);
    screenshot(shots, "kiosk-refus.png").await;

    // The right code, in lower case with a space (the server normalises): the session starts
    // and the gate gives way to the countdown, small, at the top right.
    let (id, code) = server
        .create_session(json!({"utilisateur": "Awa", "duree": "8s"}))
        .await;
    let typed = format!("{} {}", &code[..3], &code[3..]).to_lowercase();
    xdotool(&["key", "ctrl+a", "BackSpace"]);
    xdotool(&["type", "--delay", "60", &typed]);
    xdotool(&["key", "Return"]);
    let deadline = wait_started(&server, id).await;
    let running = wait_state(state, "the countdown", Duration::from_secs(5), |s| {
        s["mode"] == "countdown" && s["window"] == "countdown"
    })
    .await;
    assert_eq!(running["name"], "Awa", "{running:#}");
    assert_eq!(running["level"], "normal", "{running:#}");
    let (_, x, y, width, height) = wait_window("countdown", |w, h| w < 600 && h < 300).await;
    assert!(x > 640 && y < 200, "top right: {x},{y} {width}x{height}");
    let shot = screenshot(shots, "kiosk-decompte.png").await;
    let inside = pixel(&shot, x + 6, y + 6);
    assert!(near(inside, COUNTDOWN_BLUE), "countdown colour {inside:?}");

    // The first warning at 3 s (warning_secs = 3): orange, and a large centred banner.
    let warned = wait_state(state, "the first warning", Duration::from_secs(10), |s| {
        s["level"] == "warning"
    })
    .await;
    let warned_at = unix_now();
    assert!(
        (warned_at - (deadline - 3.0)).abs() < 1.0,
        "warned {:.2} s before the deadline",
        deadline - warned_at
    );
    assert_eq!(warned["mode"], "banner", "{warned:#}");
    assert_eq!(warned["banner"], "Il vous reste 3 secondes", "{warned:#}");
    wait_log(&kiosk, "the first warning's sound", |log| {
        sounds_played(log) == ["critical=false"]
    })
    .await;
    let (_, bx, by, bw, bh) = wait_window("banner", |w, _| w >= 800).await;
    assert!(bx > 100 && by > 200, "centred: {bx},{by} {bw}x{bh}");
    let shot = screenshot(shots, "kiosk-avertissement.png").await;
    let colour = pixel(&shot, bx + 6, by + 6);
    assert!(near(colour, ORANGE), "banner colour {colour:?}");

    // The critical one at 1 s: red.
    let critical = wait_state(state, "the critical warning", Duration::from_secs(5), |s| {
        s["level"] == "critical"
    })
    .await;
    let critical_at = unix_now();
    assert!(
        (critical_at - (deadline - 1.0)).abs() < 1.0,
        "critical {:.2} s before the deadline",
        deadline - critical_at
    );
    assert_eq!(critical["banner_kind"], "critical", "{critical:#}");
    wait_log(&kiosk, "the last warning's sound", |log| {
        sounds_played(log) == ["critical=false", "critical=true"]
    })
    .await;
    let shot = screenshot(shots, "kiosk-critique.png").await;
    let (_, cx, cy, _, _) = wait_window("banner", |w, _| w >= 800).await;
    let colour = pixel(&shot, cx + 6, cy + 6);
    assert!(near(colour, RED), "critical colour {colour:?}");

    // The end: the service locks the visitor's session on time and the gate comes back.
    let locked_at = wait_call(desktop, "loginctl lock-session c42", Duration::from_secs(5)).await;
    assert!(
        (locked_at - deadline).abs() < 0.5,
        "locked {:.3} s from the deadline",
        locked_at - deadline
    );
    let back = wait_state(state, "the gate again", Duration::from_secs(5), |s| {
        s["mode"] == "gate" && s["window"] == "gate"
    })
    .await;
    assert_eq!(back["banner_kind"], "ended", "{back:#}");
    assert_eq!(back["remaining_secs"], Value::Null);
    wait_window("full-screen", |w, h| w >= 1280 && h >= 1024).await;
    screenshot(shots, "kiosk-fin.png").await;
    drop(kiosk);
}

/// The visitor's two buttons on the countdown, clicked with the mouse (xdotool) under the real
/// X server: « Plus de temps » → « 30 minutes » reaches the dashboard's data; staff accept
/// through the API and the answer shows as a banner with the time added; then « Terminer » →
/// « Oui, terminer » ends the session as the visitor's, the screen is locked and the gate
/// comes back.
#[tokio::test]
#[ignore = "needs an X server, xdotool and poste-kiosk: run scripts/kiosk-check"]
async fn the_visitor_asks_for_more_time_then_ends_the_session_with_the_mouse() {
    let server = site_server().await;
    let kiosk = start_kiosk(&server).await;
    let state = &kiosk.state;
    wait_state(state, "the gate, connected", Duration::from_secs(30), |s| {
        s["mode"] == "gate" && s["server_connected"] == true
    })
    .await;
    let (id, code) = server
        .create_session(json!({"utilisateur": "Awa", "duree": "10min"}))
        .await;
    let (gate, ..) = wait_window("full-screen", |w, h| w >= 1280 && h >= 1024).await;
    xdotool(&["windowactivate", "--sync", &gate]);
    xdotool(&["type", "--delay", "60", &code]);
    xdotool(&["key", "Return"]);
    wait_started(&server, id).await;
    wait_state(
        state,
        "the countdown with its buttons",
        Duration::from_secs(5),
        |s| s["mode"] == "countdown" && s["actions"] == true && s["window"] == "countdown",
    )
    .await;
    wait_window("countdown", |w, h| w < 600 && h < 300).await;

    // « Plus de temps »: the question, centred, with its choices.
    kiosk.click("Plus de temps").await;
    wait_state(state, "the question", Duration::from_secs(5), |s| {
        s["mode"] == "dialog" && s["dialog"] == "ask_time" && s["window"] == "dialog"
    })
    .await;
    wait_window("dialog", |w, _| w >= 800).await;
    screenshot(&kiosk.shots, "kiosk-plus-de-temps.png").await;
    kiosk.click("30 minutes").await;
    let waiting = wait_state(state, "the request waiting", Duration::from_secs(5), |s| {
        s["mode"] == "countdown" && s["request"].is_string()
    })
    .await;
    assert_eq!(waiting["can_request"], false, "{waiting:#}");
    // The kiosk shows it at once; the request reaches the server through the service.
    let within = Instant::now() + Duration::from_secs(5);
    let pending = loop {
        let pending = server.store.pending_time_requests().await.unwrap();
        if !pending.is_empty() || Instant::now() > within {
            break pending;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(pending.len(), 1, "{pending:?}\n{}", kiosk.log());
    assert_eq!(pending[0].session_id, id);
    assert_eq!(pending[0].minutes, Some(30));

    // Staff accept: the answer as a banner, and the time is there.
    server
        .api()
        .post_ok(
            &format!("/time-requests/{}/accept", pending[0].id),
            json!({"duree": "30min"}),
        )
        .await;
    let answered = wait_state(state, "staff's answer", Duration::from_secs(5), |s| {
        s["banner_kind"] == "answer"
    })
    .await;
    assert_eq!(
        answered["banner"], "Demande acceptée : 30 minutes de plus.",
        "{answered:#}"
    );
    wait_window("banner", |w, _| w >= 800).await;
    screenshot(&kiosk.shots, "kiosk-reponse.png").await;
    let later = wait_state(state, "the countdown again", Duration::from_secs(15), |s| {
        s["mode"] == "countdown"
    })
    .await;
    let left = later["remaining_secs"].as_u64().unwrap();
    assert!(left > 39 * 60 && left <= 40 * 60, "{left} s left");
    assert_eq!(later["can_request"], true, "{later:#}");

    // Staff pause the room for a workshop: staff's words over the whole screen, the session's
    // time going on behind; keys typed do nothing; resumed, the countdown is back.
    server
        .api()
        .post_ok(
            "/ateliers/pause",
            json!({"pause": true, "message": "Regardez l'écran de l'animateur"}),
        )
        .await;
    let paused = wait_state(state, "the pause", Duration::from_secs(5), |s| {
        s["mode"] == "locked" && s["window"] == "locked"
    })
    .await;
    assert_eq!(
        paused["locked"], "Regardez l'écran de l'animateur",
        "{paused:#}"
    );
    assert_eq!(paused["can_submit"], false);
    let (cover, ..) = wait_window("full-screen pause", |w, h| w >= 1280 && h >= 1024).await;
    xdotool(&["key", "--window", &cover, "Escape", "alt+F4"]);
    screenshot(&kiosk.shots, "kiosk-pause.png").await;
    let still = wait_state(state, "still paused", Duration::from_secs(2), |s| {
        s["mode"] == "locked"
    })
    .await;
    assert!(
        still["remaining_secs"].as_u64().unwrap() > 38 * 60,
        "{still:#}"
    );
    server
        .api()
        .post_ok("/ateliers/pause", json!({"pause": false}))
        .await;
    wait_state(
        state,
        "the countdown after the pause",
        Duration::from_secs(5),
        |s| s["mode"] == "countdown" && s["window"] == "countdown",
    )
    .await;

    // « Terminer »: asked first, "Non" has the focus; « Oui, terminer » ends it.
    wait_window("countdown", |w, h| w < 600 && h < 300).await;
    kiosk.click("Terminer").await;
    wait_state(state, "the confirmation", Duration::from_secs(5), |s| {
        s["mode"] == "dialog" && s["dialog"] == "confirm_end"
    })
    .await;
    wait_window("dialog", |w, _| w >= 800).await;
    screenshot(&kiosk.shots, "kiosk-terminer.png").await;
    let clicked_at = unix_now();
    kiosk.click("Oui, terminer").await;
    let locked_at = wait_call(
        &kiosk.desktop,
        "loginctl lock-session c42",
        Duration::from_secs(5),
    )
    .await;
    let row = server.store.session(id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "terminee");
    assert_eq!(row.end_reason.as_deref(), Some("termine_par_visiteur"));
    assert_eq!(row.total_secs(), 40 * 60);
    assert!(
        locked_at - clicked_at < 2.0,
        "locked {:.3} s after the click",
        locked_at - clicked_at
    );
    wait_state(state, "the gate again", Duration::from_secs(5), |s| {
        s["mode"] == "gate" && s["window"] == "gate"
    })
    .await;
}

/// Two screens side by side (Xorg's dummy driver, two RandR outputs of 1024x768:
/// `scripts/kiosk-check` sets them up): the gate takes the primary one and a cover the other;
/// a click on the cover gives the keyboard back to the gate, so the code typed next opens the
/// session; the cover goes with the gate and comes back with it.
#[tokio::test]
#[ignore = "needs an X server with two screens, xdotool and poste-kiosk: run scripts/kiosk-check"]
async fn the_gate_covers_both_screens_and_a_click_on_the_second_gives_the_keyboard_back() {
    let server = site_server().await;
    let kiosk = start_kiosk(&server).await;
    let (state, shots) = (&kiosk.state, &kiosk.shots);
    let gate = wait_state(state, "the gate, connected", Duration::from_secs(30), |s| {
        s["mode"] == "gate" && s["window"] == "gate" && s["server_connected"] == true
    })
    .await;
    assert_eq!(
        gate["screens"],
        json!([
            {"x": 0, "y": 0, "width": 1024, "height": 768, "primary": true},
            {"x": 1024, "y": 0, "width": 1024, "height": 768, "primary": false},
        ]),
        "the screens the kiosk found (xrandr --listmonitors: {})",
        String::from_utf8_lossy(
            &Command::new("xrandr")
                .arg("--listmonitors")
                .output()
                .expect("xrandr")
                .stdout
        )
    );
    // As the window manager has them: one window on each screen, exactly.
    let on_first = |x, y, w, h| (x, y, w, h) == (0, 0, 1024, 768);
    let on_second = |x, y, w, h| (x, y, w, h) == (1024, 0, 1024, 768);
    let (gate_window, ..) =
        wait_named("^Poste public$", "gate on the first screen", on_first).await;
    let (cover_window, ..) = wait_named("cran 2$", "cover on the second screen", on_second).await;
    let shot = screenshot(shots, "kiosk-deux-ecrans.png").await;
    for (x, y) in [(8, 8), (1016, 760), (1032, 8), (2040, 760)] {
        let colour = pixel(&shot, x, y);
        assert!(
            near(colour, GATE_BLUE),
            "{x},{y} is not covered: {colour:?}"
        );
    }

    // The visitor clicks on the second screen: the keyboard goes back to the gate.
    xdotool(&["mousemove", "--sync", "1500", "500"]);
    xdotool(&["click", "1"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let active = active_window();
        if active.as_deref() == Some(gate_window.as_str()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the gate ({gate_window}) never got the keyboard back; active: {active:?} (cover: {cover_window}); {}",
            kiosk.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The code, typed with no other click, opens the session: the cover goes, the countdown
    // is on the first screen.
    let (id, code) = server
        .create_session(json!({"utilisateur": "Awa", "duree": "5s"}))
        .await;
    xdotool(&["type", "--delay", "60", &code]);
    xdotool(&["key", "Return"]);
    wait_started(&server, id).await;
    wait_state(state, "the countdown", Duration::from_secs(5), |s| {
        s["window"] == "countdown"
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while window_named("cran 2$").is_some() {
        assert!(
            Instant::now() < deadline,
            "the cover stayed during the session"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, x, y, ..) = wait_window("countdown", |w, h| w < 600 && h < 300).await;
    assert!(
        (512..1024).contains(&x) && y < 200,
        "top right of the first screen: {x},{y}"
    );

    // At the end the gate and its cover come back, each on its screen.
    wait_call(
        &kiosk.desktop,
        "loginctl lock-session c42",
        Duration::from_secs(10),
    )
    .await;
    wait_state(state, "the gate again", Duration::from_secs(5), |s| {
        s["mode"] == "gate" && s["window"] == "gate"
    })
    .await;
    wait_named("^Poste public$", "gate on the first screen again", on_first).await;
    wait_named("cran 2$", "cover on the second screen again", on_second).await;
    drop(kiosk);
}
