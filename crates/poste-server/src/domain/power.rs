//! Power orders as staff give them: what becomes of a running session, what an order did, and
//! how the event log writes an order (`extinction`, `redemarrage ecourtee`).

use poste_proto::PowerAction;
use poste_store::Millis;

/// What staff chose for a session running on the workstation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenBusy {
    /// The workstation goes down when the session has ended.
    AfterSession,
    /// The session ends `cut_secs` from now, the visitor warned; then the workstation goes
    /// down.
    CutShort,
}

/// Where an order to one workstation went, for the French confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ordered {
    /// No session: the workstation goes down after the gate's notice.
    Now,
    /// After the running session, at its normal end.
    AfterSession,
    /// After the running session, cut short to end at this time.
    CutShort(Millis),
}

/// How the event log writes an action.
pub fn action_word(action: PowerAction) -> &'static str {
    match action {
        PowerAction::Redemarrage => "redemarrage",
        PowerAction::Extinction | PowerAction::Autre => "extinction",
    }
}

/// An order as the event log wrote it: its action, and whether it cut a session short.
pub fn parse_order_detail(detail: &str) -> Option<(PowerAction, bool)> {
    let (word, cut) = match detail.strip_suffix(" ecourtee") {
        Some(word) => (word, true),
        None => (detail, false),
    };
    let action = match word {
        "extinction" => PowerAction::Extinction,
        "redemarrage" => PowerAction::Redemarrage,
        _ => return None,
    };
    Some((action, cut))
}

/// What an order to the whole space did, for the French summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpaceOrdered {
    /// Workstations ordered, going down now.
    pub now: usize,
    /// Workstations ordered, going down after their session.
    pub after_session: usize,
    /// Not connected: not ordered.
    pub offline: usize,
    /// Agent too old: not ordered.
    pub too_old: usize,
}

/// What waking the whole space did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpaceWoken {
    pub woken: usize,
    /// Connected already.
    pub on: usize,
    /// No MAC address known: not woken.
    pub no_mac: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_reads_back_as_it_was_written() {
        for action in [PowerAction::Extinction, PowerAction::Redemarrage] {
            let word = action_word(action);
            assert_eq!(parse_order_detail(word), Some((action, false)));
            assert_eq!(
                parse_order_detail(&format!("{word} ecourtee")),
                Some((action, true))
            );
        }
        assert_eq!(parse_order_detail("veille"), None);
        assert_eq!(parse_order_detail(""), None);
    }
}
