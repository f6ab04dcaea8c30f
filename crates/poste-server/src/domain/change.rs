//! What changed on the dashboard, for the consoles' live feeds: some workstations' tiles (and
//! the codes not used yet of some spaces), or anything. A console is told only of changes in
//! the spaces it shows, and fetches the tiles that changed, not the whole grid (issue #18,
//! item 5: 2,000 workstations in 100 spaces).

use std::collections::{BTreeSet, HashMap};

use poste_store::{SessionRow, SpaceScope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Settings, spaces, accounts, a workstation moved or renamed: the whole dashboard.
    Everything,
    /// These workstations' tiles, and the list of codes not used yet. `spaces`: the spaces
    /// the change is in besides the workstations' own (a code's), `every_space` when it is in
    /// all of them (a code valid everywhere).
    Tiles {
        postes: BTreeSet<i64>,
        spaces: BTreeSet<i64>,
        every_space: bool,
    },
}

impl Change {
    /// Some workstations' tiles.
    pub fn postes(postes: impl IntoIterator<Item = i64>) -> Change {
        Change::Tiles {
            postes: postes.into_iter().collect(),
            spaces: BTreeSet::new(),
            every_space: false,
        }
    }

    /// A session changed: its workstation's tile, and the codes not used yet where its code is
    /// valid. A code of every space is in every console's list until it ends or is used; a
    /// session that ran and ended left them already.
    pub fn of_session(row: &SessionRow) -> Change {
        let ran_and_ended = row.status.is_final() && row.started_at.is_some();
        Change::Tiles {
            postes: row.poste_id.into_iter().collect(),
            spaces: row.espace_id.into_iter().collect(),
            every_space: row.espace_id.is_none() && !ran_and_ended,
        }
    }

    /// Both changes as one (what a feed sends after coalescing).
    pub fn merge(self, other: Change) -> Change {
        match (self, other) {
            (
                Change::Tiles {
                    mut postes,
                    mut spaces,
                    every_space,
                },
                Change::Tiles {
                    postes: more_postes,
                    spaces: more_spaces,
                    every_space: more_every,
                },
            ) => {
                postes.extend(more_postes);
                spaces.extend(more_spaces);
                Change::Tiles {
                    postes,
                    spaces,
                    every_space: every_space || more_every,
                }
            }
            _ => Change::Everything,
        }
    }

    /// Whether a console showing `view` is concerned. `space_of` maps workstations to their
    /// spaces; one it does not know (new) concerns every console, to be safe.
    pub fn concerns(&self, view: &SpaceScope, space_of: &HashMap<i64, i64>) -> bool {
        match self {
            Change::Everything => true,
            Change::Tiles {
                postes,
                spaces,
                every_space,
            } => {
                *every_space
                    || spaces.iter().any(|&space| view.contains(space))
                    || postes.iter().any(|poste| {
                        space_of
                            .get(poste)
                            .is_none_or(|&space| view.contains(space))
                    })
            }
        }
    }

    /// Whether the change is about workstation `poste`: what the feed of its page says.
    pub fn names_poste(&self, poste: i64) -> bool {
        match self {
            Change::Everything => true,
            Change::Tiles { postes, .. } => postes.contains(&poste),
        }
    }

    /// Workstations this change names that `space_of` does not know: its map must be read
    /// again.
    pub fn names_unknown_postes(&self, space_of: &HashMap<i64, i64>) -> bool {
        match self {
            Change::Everything => false,
            Change::Tiles { postes, .. } => {
                postes.iter().any(|poste| !space_of.contains_key(poste))
            }
        }
    }

    /// What the live feed's event carries: `*` for everything, else the workstations' ids
    /// separated by commas (possibly none: the codes not used yet only).
    pub fn event_data(&self) -> String {
        match self {
            Change::Everything => "*".to_owned(),
            Change::Tiles { postes, .. } => {
                let ids: Vec<String> = postes.iter().map(i64::to_string).collect();
                // An event without data is never dispatched by browsers.
                if ids.is_empty() {
                    "-".to_owned()
                } else {
                    ids.join(",")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spaces() -> HashMap<i64, i64> {
        // Workstations 1 and 2 in space 10, 3 in space 20.
        HashMap::from([(1, 10), (2, 10), (3, 20)])
    }

    #[test]
    fn a_workstation_s_page_hears_of_that_workstation_only() {
        assert!(Change::postes([1, 3]).names_poste(3));
        assert!(!Change::postes([1, 2]).names_poste(3));
        assert!(Change::Everything.names_poste(3));
        // A code made for its space, not used yet: nothing on the workstation's tile.
        let code = Change::Tiles {
            postes: BTreeSet::new(),
            spaces: BTreeSet::from([20]),
            every_space: false,
        };
        assert!(!code.names_poste(3));
    }

    #[test]
    fn a_console_hears_of_its_spaces_workstations_only() {
        let view = SpaceScope::only(vec![20]);
        assert!(!Change::postes([1, 2]).concerns(&view, &spaces()));
        assert!(Change::postes([2, 3]).concerns(&view, &spaces()));
        assert!(Change::postes([1]).concerns(&SpaceScope::Every, &spaces()));
        assert!(Change::Everything.concerns(&view, &spaces()));
        // A workstation not known yet (its first connection): everyone, to be safe.
        assert!(Change::postes([99]).concerns(&view, &spaces()));
        assert!(Change::postes([99]).names_unknown_postes(&spaces()));
        assert!(!Change::postes([1, 3]).names_unknown_postes(&spaces()));
    }

    #[test]
    fn a_code_not_used_yet_concerns_the_consoles_where_it_is_valid() {
        let now = 1_000_000;
        let mut code = crate::domain::test_row(poste_store::SessionStatus::EnAttente, now);
        code.espace_id = Some(10);
        let change = Change::of_session(&code);
        assert!(change.concerns(&SpaceScope::only(vec![10]), &spaces()));
        assert!(!change.concerns(&SpaceScope::only(vec![20]), &spaces()));
        assert_eq!(change.event_data(), "-");
        // Started on workstation 3: its tile, and the list of space 10's console.
        code.poste_id = Some(3);
        code.status = poste_store::SessionStatus::Active;
        code.started_at = Some(now);
        let started = Change::of_session(&code);
        assert!(started.concerns(&SpaceScope::only(vec![10]), &spaces()));
        assert_eq!(started.event_data(), "3");
        // A code of every space is in every list until it is used.
        code.espace_id = None;
        assert!(Change::of_session(&code).concerns(&SpaceScope::only(vec![10]), &spaces()));
        // Once it ran and ended, its workstation's tile only.
        code.status = poste_store::SessionStatus::Terminee;
        code.ended_at = Some(now);
        let ended = Change::of_session(&code);
        assert!(!ended.concerns(&SpaceScope::only(vec![10]), &spaces()));
        assert!(ended.concerns(&SpaceScope::only(vec![20]), &spaces()));
    }

    #[test]
    fn changes_merge_into_one_event() {
        let merged = Change::postes([3, 1]).merge(Change::postes([2]));
        assert_eq!(merged.event_data(), "1,2,3");
        assert_eq!(
            Change::postes([1]).merge(Change::Everything).event_data(),
            "*"
        );
        assert_eq!(
            Change::Everything.merge(Change::postes([1])),
            Change::Everything
        );
    }
}
