//! Test mode: with `POSTE_KIOSK_STATE_FILE` set, the screen's [`View`] is written there as JSON
//! whenever it changes (atomically: a temporary file renamed over it), so that end-to-end
//! tests assert what the visitor sees without reading pixels, and click the buttons where
//! they are drawn.

use std::path::PathBuf;

use serde::Serialize;

use crate::app::Placed;
use crate::model::{Mode, View};
use crate::screens::Screen;

#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    last: String,
}

#[derive(Serialize)]
struct Written<'a> {
    #[serde(flatten)]
    view: &'a View,
    /// The window mode last asked of the window manager.
    window: Option<Mode>,
    /// The buttons on screen, where a test can click them (window pixels).
    buttons: &'a [Placed],
    /// The screens the gate covers, the primary (the code field's) first; empty when the
    /// system did not say (one full-screen window).
    screens: &'a [Screen],
}

impl StateFile {
    /// From the environment: `POSTE_KIOSK_STATE_FILE`, if set and not empty.
    pub fn from_env() -> Option<StateFile> {
        let path = std::env::var_os("POSTE_KIOSK_STATE_FILE").filter(|p| !p.is_empty())?;
        Some(StateFile {
            path: PathBuf::from(path),
            last: String::new(),
        })
    }

    pub fn write(
        &mut self,
        view: &View,
        window: Option<Mode>,
        buttons: &[Placed],
        screens: &[Screen],
    ) {
        let Ok(json) = serde_json::to_string(&Written {
            view,
            window,
            buttons,
            screens,
        }) else {
            return;
        };
        if json == self.last {
            return;
        }
        let temporary = self.path.with_extension("tmp");
        let written = std::fs::write(&temporary, &json)
            .and_then(|()| std::fs::rename(&temporary, &self.path));
        match written {
            Ok(()) => self.last = json,
            Err(err) => {
                tracing::warn!(path = %self.path.display(), error = %err, "state file not written")
            }
        }
    }
}
