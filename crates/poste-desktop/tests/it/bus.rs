//! Detection by the names on a real session bus: a private `dbus-daemon --session` (on the base
//! image), a fake desktop service that owns `org.xfce.ScreenSaver` on it (a minimal D-Bus client
//! written here: EXTERNAL authentication, `Hello`, `RequestName`), and the real `dbus-send`
//! that [`Environment::with_bus_names`] runs.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use poste_desktop::{Desktop, Environment, detect};

/// A private session bus, killed when dropped.
struct Bus {
    daemon: Child,
    address: String,
}

impl Bus {
    fn start() -> Option<Bus> {
        let spawned = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let Ok(mut daemon) = spawned else {
            assert!(
                std::env::var_os("CI").is_none(),
                "dbus-daemon is required in CI"
            );
            eprintln!("SKIPPED: dbus-daemon not installed");
            return None;
        };
        let mut line = String::new();
        BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        Some(Bus {
            daemon,
            address: line.trim().to_owned(),
        })
    }

    /// The environment of a session on this bus, with the system's `PATH` (for `dbus-send`).
    fn env(&self, vars: &[(&str, &str)]) -> Environment {
        let mut all: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        all.insert("PATH".into(), "/usr/bin:/bin".into());
        all.insert("DBUS_SESSION_BUS_ADDRESS".into(), self.address.clone());
        Environment::from_vars(all)
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// Pads `m` with zeros to a multiple of `n` (offsets count from the message's start).
fn pad(m: &mut Vec<u8>, n: usize) {
    while !m.len().is_multiple_of(n) {
        m.push(0);
    }
}

fn string(m: &mut Vec<u8>, value: &str) {
    pad(m, 4);
    m.extend(u32::try_from(value.len()).unwrap().to_le_bytes());
    m.extend(value.as_bytes());
    m.push(0);
}

/// One header field: its code, then a variant of type `ty` (`o`, `s` or `g`).
fn field(m: &mut Vec<u8>, code: u8, ty: u8, value: &str) {
    pad(m, 8);
    m.extend([code, 1, ty, 0]);
    if ty == b'g' {
        m.push(u8::try_from(value.len()).unwrap());
        m.extend(value.as_bytes());
        m.push(0);
    } else {
        string(m, value);
    }
}

/// A method call on the bus daemon itself, little-endian.
fn call_bus(serial: u32, member: &str, signature: &str, body: &[u8]) -> Vec<u8> {
    let mut m = vec![b'l', 1, 0, 1];
    m.extend(u32::try_from(body.len()).unwrap().to_le_bytes());
    m.extend(serial.to_le_bytes());
    m.extend([0; 4]); // the header fields' length, below
    field(&mut m, 1, b'o', "/org/freedesktop/DBus");
    field(&mut m, 2, b's', "org.freedesktop.DBus");
    field(&mut m, 3, b's', member);
    field(&mut m, 6, b's', "org.freedesktop.DBus");
    if !signature.is_empty() {
        field(&mut m, 8, b'g', signature);
    }
    let fields = u32::try_from(m.len() - 16).unwrap();
    m[12..16].copy_from_slice(&fields.to_le_bytes());
    pad(&mut m, 8);
    m.extend(body);
    m
}

/// A connection to the bus that owns `name` for as long as it is kept.
fn own_name(address: &str, name: &str) -> UnixStream {
    let path = address
        .strip_prefix("unix:")
        .unwrap()
        .split(',')
        .find_map(|kv| kv.split_once('='))
        .unwrap();
    let mut stream = match path {
        ("path", path) => UnixStream::connect(path).unwrap(),
        ("abstract", name) => {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name).unwrap();
            UnixStream::connect_addr(&addr).unwrap()
        }
        other => panic!("bus address not understood: {other:?}"),
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let uid = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").unwrap().uid()
    };
    let hex: String = uid
        .to_string()
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    stream
        .write_all(format!("\0AUTH EXTERNAL {hex}\r\n").as_bytes())
        .unwrap();
    let mut answer = [0u8; 128];
    let n = stream.read(&mut answer).unwrap();
    assert!(
        answer[..n].starts_with(b"OK "),
        "{:?}",
        String::from_utf8_lossy(&answer[..n])
    );
    stream.write_all(b"BEGIN\r\n").unwrap();
    stream.write_all(&call_bus(1, "Hello", "", &[])).unwrap();
    let mut body = Vec::new();
    string(&mut body, name);
    pad(&mut body, 4);
    body.extend(4u32.to_le_bytes()); // DBUS_NAME_FLAG_DO_NOT_QUEUE
    stream
        .write_all(&call_bus(2, "RequestName", "su", &body))
        .unwrap();
    stream
}

/// Lists the bus names until `name` is there (or not, with `present` false), at most 5 s.
fn wait_names(bus: &Bus, name: &str, present: bool) -> Environment {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let env = bus.env(&[]).with_bus_names();
        if env.bus_names.contains(name) == present {
            return env;
        }
        assert!(
            Instant::now() < deadline,
            "{name} present: {}; names: {:?}",
            !present,
            env.bus_names
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_desktop_is_detected_from_the_names_on_the_session_bus() {
    let Some(bus) = Bus::start() else {
        return;
    };
    // Nothing owns a desktop's name yet: only the bus itself is listed.
    let env = bus.env(&[]).with_bus_names();
    assert!(
        env.bus_names.contains("org.freedesktop.DBus"),
        "{:?}",
        env.bus_names
    );
    assert_eq!(detect(&env), Desktop::Unknown);

    // Xfce's screensaver appears on the bus: a session whose variables say nothing is Xfce's.
    let owner = own_name(&bus.address, "org.xfce.ScreenSaver");
    let env = wait_names(&bus, "org.xfce.ScreenSaver", true);
    assert_eq!(detect(&env), Desktop::Xfce);
    // Variables that name the session still come first.
    let named = Environment {
        bus_names: env.bus_names.clone(),
        ..bus.env(&[("XDG_CURRENT_DESKTOP", "KDE")])
    };
    assert_eq!(detect(&named), Desktop::Kde);

    // Its owner gone, so is the name.
    drop(owner);
    let env = wait_names(&bus, "org.xfce.ScreenSaver", false);
    assert_eq!(detect(&env), Desktop::Unknown);
}
