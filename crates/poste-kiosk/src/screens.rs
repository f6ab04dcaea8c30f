//! The desktop's screens, so that the gate covers every one of them: the code field on the
//! primary screen, a cover on each of the others (docs/decisions/0005).
//!
//! eframe does not say which monitors exist, so they are asked of the system: RandR 1.5
//! monitors on X11 (what `xrandr --listmonitors` shows), `EnumDisplayMonitors` on Windows. On
//! Wayland a client can neither list outputs nor place a window on one: the list is empty and
//! the gate is one full-screen window, as on a single screen.

use serde::Serialize;

/// One screen's rectangle on the desktop, in physical pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Screen {
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
    pub primary: bool,
}

impl Screen {
    fn contains(&self, other: &Screen) -> bool {
        self.x <= other.x
            && self.y <= other.y
            && other.x + other.width <= self.x + self.width
            && other.y + other.height <= self.y + self.height
    }
}

/// The screens as the system reports them now, arranged by [`arrange`]; empty when it cannot
/// say (Wayland, no RandR 1.5, an error: logged).
pub fn list() -> Vec<Screen> {
    arrange(platform::list())
}

/// The primary screen first (or the first reported when none is, or a larger screen that
/// shows it), then the others left to right, top to bottom. Empty screens are dropped, and so
/// is a screen inside another one (a mirrored output shows the same picture: one window covers
/// both).
pub fn arrange(mut screens: Vec<Screen>) -> Vec<Screen> {
    screens.retain(|s| s.width > 0 && s.height > 0);
    if let Some(primary) = screens.iter().position(|s| s.primary) {
        screens.swap(0, primary);
    }
    let container = screens
        .iter()
        .enumerate()
        .filter(|(_, s)| screens.first().is_some_and(|first| s.contains(first)))
        .max_by_key(|(_, s)| i64::from(s.width) * i64::from(s.height))
        .map(|(i, _)| i);
    if let Some(container) = container {
        screens.swap(0, container);
    }
    let (first, rest) = match screens.split_first() {
        Some((first, rest)) => (*first, rest),
        None => return screens,
    };
    let mut others: Vec<Screen> = Vec::new();
    for screen in rest {
        if first.contains(screen) || others.iter().any(|o| o.contains(screen)) {
            continue;
        }
        others.retain(|o| !screen.contains(o));
        others.push(*screen);
    }
    others.sort_by_key(|s| (s.x, s.y));
    let mut arranged = Vec::with_capacity(others.len() + 1);
    arranged.push(Screen {
        primary: true,
        ..first
    });
    arranged.extend(others.into_iter().map(|s| Screen {
        primary: false,
        ..s
    }));
    arranged
}

#[cfg(all(unix, not(target_os = "macos")))]
mod platform {
    use x11rb::connection::Connection;
    use x11rb::protocol::randr::ConnectionExt;

    use super::Screen;

    pub fn list() -> Vec<Screen> {
        // eframe draws on Wayland when it is there, where windows cannot be placed.
        if std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty())
            || std::env::var_os("DISPLAY").is_none_or(|d| d.is_empty())
        {
            return Vec::new();
        }
        match randr_monitors() {
            Ok(screens) => screens,
            Err(err) => {
                tracing::warn!(error = %err, "the X server's monitors are unknown: the gate covers one screen");
                Vec::new()
            }
        }
    }

    fn randr_monitors() -> Result<Vec<Screen>, Box<dyn std::error::Error>> {
        let (connection, screen) = x11rb::connect(None)?;
        let root = connection
            .setup()
            .roots
            .get(screen)
            .ok_or("no root window")?
            .root;
        let version = connection.randr_query_version(1, 5)?.reply()?;
        if (version.major_version, version.minor_version) < (1, 5) {
            return Err(format!(
                "RandR {}.{}, monitors need 1.5",
                version.major_version, version.minor_version
            )
            .into());
        }
        let reply = connection.randr_get_monitors(root, true)?.reply()?;
        Ok(reply
            .monitors
            .iter()
            .map(|m| Screen {
                x: m.x.into(),
                y: m.y.into(),
                width: m.width.into(),
                height: m.height.into(),
                primary: m.primary,
            })
            .collect())
    }
}

#[cfg(windows)]
#[allow(unsafe_code)] // the Windows API; each block says why it is sound
mod platform {
    use windows::Win32::Foundation::{LPARAM, RECT};
    use windows::Win32::Graphics::Gdi::{
        EnumDisplayMonitors, GetMonitorInfoW, HDC, HMONITOR, MONITORINFO,
    };
    use windows::core::BOOL;

    use super::Screen;

    /// `MONITORINFOF_PRIMARY`.
    const PRIMARY: u32 = 1;

    unsafe extern "system" fn each(monitor: HMONITOR, _: HDC, _: *mut RECT, data: LPARAM) -> BOOL {
        // SAFETY: `data` is the `&mut Vec<Screen>` given to EnumDisplayMonitors below, alive for
        // the whole call, which runs this callback on the same thread.
        let screens = unsafe { &mut *(data.0 as *mut Vec<Screen>) };
        let mut info = MONITORINFO {
            cbSize: std::mem::size_of::<MONITORINFO>() as u32,
            ..Default::default()
        };
        // SAFETY: a monitor handle given by the enumeration, and a sized MONITORINFO.
        if unsafe { GetMonitorInfoW(monitor, &mut info) }.as_bool() {
            let r = info.rcMonitor;
            screens.push(Screen {
                x: r.left,
                y: r.top,
                width: r.right - r.left,
                height: r.bottom - r.top,
                primary: info.dwFlags & PRIMARY != 0,
            });
        }
        BOOL::from(true)
    }

    pub fn list() -> Vec<Screen> {
        let mut screens: Vec<Screen> = Vec::new();
        // SAFETY: the callback only writes into `screens`, which outlives the call.
        let listed = unsafe {
            EnumDisplayMonitors(
                None,
                None,
                Some(each),
                LPARAM(&mut screens as *mut Vec<Screen> as isize),
            )
        };
        if !listed.as_bool() {
            tracing::warn!("EnumDisplayMonitors failed: the gate covers one screen");
            return Vec::new();
        }
        screens
    }
}

#[cfg(not(any(windows, all(unix, not(target_os = "macos")))))]
mod platform {
    pub fn list() -> Vec<super::Screen> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(x: i32, y: i32, width: i32, height: i32, primary: bool) -> Screen {
        Screen {
            x,
            y,
            width,
            height,
            primary,
        }
    }

    #[test]
    fn the_primary_screen_comes_first_then_the_others_left_to_right() {
        let arranged = arrange(vec![
            screen(3840, 0, 1920, 1080, false),
            screen(-1280, 0, 1280, 1024, false),
            screen(1920, 0, 1920, 1080, true),
        ]);
        assert_eq!(
            arranged,
            vec![
                screen(1920, 0, 1920, 1080, true),
                screen(-1280, 0, 1280, 1024, false),
                screen(3840, 0, 1920, 1080, false),
            ]
        );
    }

    #[test]
    fn without_a_primary_the_first_reported_is_the_gate_s() {
        let arranged = arrange(vec![
            screen(1024, 0, 1024, 768, false),
            screen(0, 0, 1024, 768, false),
        ]);
        assert_eq!(arranged[0], screen(1024, 0, 1024, 768, true));
        assert_eq!(arranged[1], screen(0, 0, 1024, 768, false));
    }

    #[test]
    fn mirrored_and_empty_screens_get_no_window_of_their_own() {
        // A projector cloning the primary screen, a smaller output inside a second screen, a
        // disabled one.
        let arranged = arrange(vec![
            screen(0, 0, 1920, 1080, true),
            screen(0, 0, 1920, 1080, false),
            screen(1920, 0, 800, 600, false),
            screen(1920, 0, 1280, 1024, false),
            screen(5000, 0, 0, 0, false),
        ]);
        assert_eq!(
            arranged,
            vec![
                screen(0, 0, 1920, 1080, true),
                screen(1920, 0, 1280, 1024, false)
            ]
        );
    }

    #[test]
    fn a_primary_shown_inside_a_larger_screen_gives_the_code_field_to_the_larger() {
        let arranged = arrange(vec![
            screen(0, 0, 1280, 720, true),
            screen(0, 0, 2560, 1440, false),
            screen(2560, 0, 1280, 1024, false),
        ]);
        assert_eq!(
            arranged,
            vec![
                screen(0, 0, 2560, 1440, true),
                screen(2560, 0, 1280, 1024, false)
            ]
        );
    }

    #[test]
    fn nothing_known_is_nothing_arranged() {
        assert!(arrange(Vec::new()).is_empty());
    }
}
