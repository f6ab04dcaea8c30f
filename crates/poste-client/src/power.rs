//! The server's power orders (protocol 3, `power`): which one the agent holds, whether it was
//! carried out, and the notice the gate gives. Pure but for [`PowerFile`], the small file of the
//! service's state directory that keeps the order across restarts and reboots, so that an order
//! is carried out once: never twice (two server instances may relay it; after the reboot it
//! caused, the file says it is done), and never lost (a service stopped before its notice ran
//! out carries it out when it starts again).
//!
//! When it is carried out is the agent's business (`agent.rs`): never during a session, at its
//! end after the home restore, or on the gate once its notice has run out.

use std::path::{Path, PathBuf};
use std::time::Duration;

use poste_proto::{PowerAction, PowerOrder};
use serde::{Deserialize, Serialize};

/// The order the agent holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptOrder {
    /// The server's id of the order.
    pub ordre: i64,
    pub action: PowerAction,
    /// Carried out (marked just before the power command runs).
    pub fait: bool,
}

impl KeptOrder {
    /// The desktop's action; `None` for an action this agent does not know (never kept).
    pub fn switch(&self) -> Option<poste_desktop::PowerAction> {
        switch_of(self.action)
    }
}

/// The desktop's action for the wire's; `None` for [`PowerAction::Autre`].
pub fn switch_of(action: PowerAction) -> Option<poste_desktop::PowerAction> {
    match action {
        PowerAction::Extinction => Some(poste_desktop::PowerAction::PowerOff),
        PowerAction::Redemarrage => Some(poste_desktop::PowerAction::Restart),
        PowerAction::Autre => None,
    }
}

/// The name of the action in the agent's `action_report` (`extinction`, `redemarrage`).
pub fn report_name(action: poste_desktop::PowerAction) -> &'static str {
    match action {
        poste_desktop::PowerAction::PowerOff => "extinction",
        poste_desktop::PowerAction::Restart => "redemarrage",
    }
}

/// How long the gate waits: the order's notice, negative taken as none, capped at
/// [`PowerOrder::MAX_DELAY_SECS`].
pub fn notice(order: &PowerOrder) -> Duration {
    let secs = order.delai_secondes.clamp(0, PowerOrder::MAX_DELAY_SECS);
    Duration::from_secs(secs.unsigned_abs())
}

/// The file the order is kept in (next to the enrollment secret: the service's own state
/// directory, which only it may write).
#[derive(Debug, Clone)]
pub struct PowerFile {
    path: PathBuf,
}

impl PowerFile {
    /// The file beside `secret_file`.
    pub fn beside(secret_file: &Path) -> PowerFile {
        PowerFile::new(secret_file.with_file_name("ordre-alimentation.json"))
    }

    pub fn new(path: PathBuf) -> PowerFile {
        PowerFile { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The order kept, if any. A file that cannot be read or decoded counts as none (said in
    /// the log): a broken file must not keep the workstation from starting, nor power it off.
    pub fn load(&self) -> Option<KeptOrder> {
        let bytes = crate::resume::read_state_file(&self.path, "power order file")?;
        match serde_json::from_slice::<KeptOrder>(&bytes) {
            Ok(kept) if switch_of(kept.action).is_some() => Some(kept),
            Ok(kept) => {
                tracing::warn!(path = %self.path.display(), ?kept, "power order file holds an unknown action: ignored");
                None
            }
            Err(err) => {
                tracing::warn!(path = %self.path.display(), error = %err, "power order file corrupt: ignored");
                None
            }
        }
    }

    /// Keeps `kept`, atomically, readable by the service only.
    pub fn save(&self, kept: &KeptOrder) -> std::io::Result<()> {
        let json = serde_json::to_vec(kept).map_err(std::io::Error::other)?;
        crate::enroll::write_private(&self.path, &json)
    }
}

/// What became of an order received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// A new order, kept: to carry out.
    New(KeptOrder),
    /// The order already held (waiting or done): nothing to do.
    AlreadyKept,
    /// An action this agent does not know: refused, nothing done.
    Unknown,
}

/// The order the agent holds, in its file when it has one (the service), else in memory only.
#[derive(Debug)]
pub struct Orders {
    file: Option<PowerFile>,
    kept: Option<KeptOrder>,
}

impl Orders {
    /// The orders as `file` left them (none without a file).
    pub fn load(file: Option<PowerFile>) -> Orders {
        let kept = file.as_ref().and_then(PowerFile::load);
        Orders { file, kept }
    }

    /// The order waiting to be carried out, if any.
    pub fn pending(&self) -> Option<KeptOrder> {
        self.kept.filter(|kept| !kept.fait)
    }

    /// Takes an order from the server. A new one replaces the one held (the server's latest
    /// word wins); it is kept in memory even when its file cannot be written (said in the log):
    /// staff asked for it now.
    pub fn receive(&mut self, order: &PowerOrder) -> Receipt {
        if switch_of(order.action).is_none() {
            return Receipt::Unknown;
        }
        if self.kept.is_some_and(|kept| kept.ordre == order.ordre) {
            return Receipt::AlreadyKept;
        }
        let kept = KeptOrder {
            ordre: order.ordre,
            action: order.action,
            fait: false,
        };
        if let Some(file) = &self.file
            && let Err(err) = file.save(&kept)
        {
            tracing::warn!(path = %file.path().display(), error = %err, "could not keep the power order: it holds until the service stops");
        }
        self.kept = Some(kept);
        Receipt::New(kept)
    }

    /// Marks the order held as carried out, in its file first. An error means the file could
    /// not say so: the order must then not be carried out, or the workstation would do it
    /// again at each start (a restart loop).
    pub fn mark_done(&mut self) -> std::io::Result<()> {
        let Some(mut kept) = self.kept else {
            return Ok(());
        };
        kept.fait = true;
        if let Some(file) = &self.file {
            file.save(&kept)?;
        }
        self.kept = Some(kept);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn order(ordre: i64, action: PowerAction, delai_secondes: i64) -> PowerOrder {
        PowerOrder {
            ordre,
            action,
            delai_secondes,
        }
    }

    fn file(dir: &tempfile::TempDir) -> PowerFile {
        PowerFile::beside(&dir.path().join("secret"))
    }

    #[test]
    fn the_notice_is_capped_and_never_negative() {
        let of = |secs| notice(&order(1, PowerAction::Extinction, secs));
        assert_eq!(of(30), Duration::from_secs(30));
        assert_eq!(of(0), Duration::ZERO);
        assert_eq!(of(-5), Duration::ZERO);
        assert_eq!(of(i64::MIN), Duration::ZERO);
        assert_eq!(of(601), Duration::from_secs(600));
        assert_eq!(of(i64::MAX), Duration::from_secs(600));
    }

    #[test]
    fn an_order_is_kept_once_and_an_unknown_action_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut orders = Orders::load(Some(file(&dir)));
        assert_eq!(orders.pending(), None);
        assert_eq!(
            orders.receive(&order(7, PowerAction::Autre, 5)),
            Receipt::Unknown
        );
        assert!(!file(&dir).path().exists());
        let kept = KeptOrder {
            ordre: 7,
            action: PowerAction::Extinction,
            fait: false,
        };
        assert_eq!(
            orders.receive(&order(7, PowerAction::Extinction, 5)),
            Receipt::New(kept)
        );
        // Relayed by a second instance: the same id is ignored.
        assert_eq!(
            orders.receive(&order(7, PowerAction::Extinction, 5)),
            Receipt::AlreadyKept
        );
        assert_eq!(orders.pending(), Some(kept));
        assert_eq!(file(&dir).load(), Some(kept));
        orders.mark_done().unwrap();
        assert_eq!(orders.pending(), None);
        // Done, it is still the one held: sent again, it is not run again.
        assert_eq!(
            orders.receive(&order(7, PowerAction::Extinction, 5)),
            Receipt::AlreadyKept
        );
        // A new order replaces it.
        assert!(matches!(
            orders.receive(&order(8, PowerAction::Redemarrage, 0)),
            Receipt::New(KeptOrder { ordre: 8, .. })
        ));
        assert_eq!(
            orders.pending().and_then(|k| k.switch()),
            Some(poste_desktop::PowerAction::Restart)
        );
    }

    #[test]
    fn done_survives_a_reload_and_pending_too() {
        let dir = tempfile::tempdir().unwrap();
        let mut orders = Orders::load(Some(file(&dir)));
        orders.receive(&order(3, PowerAction::Redemarrage, 10));
        // A service stopped before the notice ran out: the order waits in the file.
        let mut again = Orders::load(Some(file(&dir)));
        assert_eq!(again.pending().map(|k| k.ordre), Some(3));
        again.mark_done().unwrap();
        // After the reboot it caused: done, not redone, and still recognised.
        let mut after = Orders::load(Some(file(&dir)));
        assert_eq!(after.pending(), None);
        assert_eq!(
            after.receive(&order(3, PowerAction::Redemarrage, 10)),
            Receipt::AlreadyKept
        );
        assert_eq!(
            file(&dir).load(),
            Some(KeptOrder {
                ordre: 3,
                action: PowerAction::Redemarrage,
                fait: true
            })
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_the_service_s_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mut orders = Orders::load(Some(file(&dir)));
        orders.receive(&order(1, PowerAction::Extinction, 0));
        let mode = std::fs::metadata(file(&dir).path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // Written whole through a temporary file that does not stay.
        assert!(!file(&dir).path().with_extension("tmp").exists());
    }

    #[test]
    fn a_corrupt_or_unknown_file_counts_as_no_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(&dir).path().to_owned();
        for content in [
            "{not json",
            "",
            r#"{"ordre":1,"action":"hibernation","fait":false}"#,
            r#"{"ordre":"x"}"#,
        ] {
            std::fs::write(&path, content).unwrap();
            let mut orders = Orders::load(Some(file(&dir)));
            assert_eq!(orders.pending(), None, "{content}");
            // And a new order still goes in, replacing the broken file.
            assert!(matches!(
                orders.receive(&order(2, PowerAction::Extinction, 1)),
                Receipt::New(_)
            ));
            assert_eq!(file(&dir).load().map(|k| k.ordre), Some(2));
            std::fs::remove_file(&path).unwrap();
        }
    }

    #[test]
    fn without_a_file_orders_are_held_in_memory() {
        let mut orders = Orders::load(None);
        assert!(matches!(
            orders.receive(&order(5, PowerAction::Extinction, 1)),
            Receipt::New(_)
        ));
        orders.mark_done().unwrap();
        assert_eq!(
            orders.receive(&order(5, PowerAction::Extinction, 1)),
            Receipt::AlreadyKept
        );
        assert_eq!(
            report_name(poste_desktop::PowerAction::PowerOff),
            "extinction"
        );
        assert_eq!(
            report_name(poste_desktop::PowerAction::Restart),
            "redemarrage"
        );
    }
}
