//! Admin pages: the public spaces (create, rename, delete), the workstations (rename, location,
//! space, approve, retire), the settings (warning thresholds, codes, opening hours, the space's
//! name) and the visitor categories with their
//! time rules.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use poste_store::{DEFAULT_SPACE, Enrollment, NewCategory, SpaceScope, StoreError};
use serde::Deserialize;

use crate::clock::now_ms;
use crate::console::auth::Staff;
use crate::console::calendar::{SpecialDayForm, SpecialDayLine, special_day_lines};
use crate::console::form::{Action, redirect_with};
use crate::console::pages::{Empty, Frame, page};
use crate::console::view;
use crate::console::{ConsoleError, Path, Query};
use crate::domain::duration::{compact_duration, parse_duration};
use crate::domain::opening::{DayHours, OpeningHours};
use crate::domain::validity::CodeValidity;
use crate::ops::{self, OpError};
use crate::settings::{
    SettingError, Settings, parse_recipients, parse_schedule_minutes, parse_timezone,
    schedule_text, setting_keys as k,
};
use crate::state::AppState;
use crate::text::console as t;

const POSTES: &str = "/console/postes";
pub(super) const SETTINGS: &str = "/console/reglages";

// ----- workstations ---------------------------------------------------------------------------

#[derive(Debug)]
struct PosteLine {
    id: i64,
    espace_id: String,
    nom: String,
    emplacement: String,
    online: bool,
    hors_service: bool,
    enrollment: &'static str,
    pending: bool,
    /// The space its approval proposes (its id, empty: none). A workstation waiting in the
    /// space its enrollment code was made for (or its agent named) has it proposed; in the
    /// default space nothing is (nobody chose it), nor when it asked again naming another.
    proposed_space: String,
    /// Waiting in one space, it asked again naming another (IT corrected its configuration):
    /// that other space's name, shown beside the one it waits in; empty otherwise.
    asks_for: String,
    waits_in: String,
    ip: String,
    mac: String,
    version: String,
    last_seen: String,
}

#[derive(Template)]
#[template(path = "console/postes.html")]
struct PostesPage {
    frame: Frame,
    postes: Vec<PosteLine>,
    /// The site's spaces, each with its workstations' count.
    spaces: Vec<SpaceLine>,
}

#[derive(Debug)]
struct SpaceLine {
    id: String,
    nom: String,
    adresse: String,
    postes: usize,
}

pub async fn postes(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    staff.require_admin()?;
    let online = state.hub.online_postes();
    let tz = state.settings().timezone.clone();
    let all_spaces = state.store.list_spaces().await?;
    let space_name = |id: i64| {
        all_spaces
            .iter()
            .find(|space| space.id == id)
            .map(|space| space.nom.clone())
    };
    let postes = state
        .store
        .list_postes()
        .await?
        .into_iter()
        .filter(|p| staff.view.contains(p.espace_id))
        .map(|p| {
            let pending = p.enrollment == Enrollment::EnAttente;
            // A space it names that was deleted meanwhile is no choice.
            let asks_for = p
                .requested_space
                .filter(|&requested| pending && requested != p.espace_id)
                .and_then(space_name);
            let proposed = pending && asks_for.is_none() && p.espace_id != DEFAULT_SPACE;
            PosteLine {
                online: online.contains(&p.id),
                hors_service: p.hors_service,
                enrollment: t::enrollment(p.enrollment),
                pending,
                proposed_space: if proposed {
                    p.espace_id.to_string()
                } else {
                    String::new()
                },
                waits_in: if asks_for.is_some() {
                    space_name(p.espace_id).unwrap_or_default()
                } else {
                    String::new()
                },
                asks_for: asks_for.unwrap_or_default(),
                ip: p.ip.unwrap_or_default(),
                mac: p.mac.unwrap_or_default(),
                version: p.version.unwrap_or_default(),
                last_seen: p
                    .last_seen
                    .map(|at| view::local_datetime(at, &tz))
                    .unwrap_or_else(|| "jamais".to_owned()),
                emplacement: p.emplacement.unwrap_or_default(),
                espace_id: p.espace_id.to_string(),
                id: p.id,
                nom: p.nom,
            }
        })
        .collect::<Vec<_>>();
    let spaces = all_spaces
        .into_iter()
        .filter(|space| staff.scope.contains(space.id))
        .map(|space| {
            let id = space.id.to_string();
            SpaceLine {
                postes: postes.iter().filter(|p| p.espace_id == id).count(),
                id,
                nom: space.nom,
                adresse: space.adresse.unwrap_or_default(),
            }
        })
        .collect();
    page(&PostesPage {
        frame: Frame::new(&state, &staff, &headers, "postes"),
        postes,
        spaces,
    })
}

#[derive(Deserialize)]
pub struct PosteForm {
    #[serde(default)]
    nom: String,
    #[serde(default)]
    emplacement: String,
}

pub async fn poste_save(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<PosteForm>,
) -> Result<Response, ConsoleError> {
    action.staff.require_admin()?;
    action.staff.require_poste(&state, id).await?;
    let nom = action.form.nom.trim();
    let emplacement = action.form.emplacement.trim();
    if nom.is_empty()
        || nom.chars().count() > 64
        || emplacement.chars().count() > ops::MAX_TEXT_LEN
        || nom.chars().chain(emplacement.chars()).any(char::is_control)
    {
        return Ok(redirect_with(POSTES, false, t::POSTE_NAME_INVALID));
    }
    let emplacement = (!emplacement.is_empty()).then_some(emplacement);
    let actor = action.staff.actor();
    match ops::update_poste(
        &state.store,
        id,
        nom,
        emplacement,
        &actor,
        now_ms(),
        &state.hub,
    )
    .await
    {
        Ok(poste) => Ok(redirect_with(POSTES, true, &t::poste_saved(&poste.nom))),
        Err(StoreError::AlreadyExists { .. }) => Ok(redirect_with(
            POSTES,
            false,
            &crate::text::poste_exists(nom),
        )),
        Err(StoreError::NotFound { .. }) => Ok(redirect_with(POSTES, false, t::POSTE_NOT_FOUND)),
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize)]
pub struct PosteSpaceForm {
    #[serde(default)]
    espace: String,
}

/// Moves a workstation to the space chosen in its row.
pub async fn poste_move(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<PosteSpaceForm>,
) -> Result<Response, ConsoleError> {
    action.staff.require_admin()?;
    action.staff.require_poste(&state, id).await?;
    let Ok(espace_id) = action.form.espace.trim().parse::<i64>() else {
        return Ok(redirect_with(POSTES, false, crate::text::SPACE_NOT_FOUND));
    };
    action.staff.require_space(espace_id)?;
    let actor = action.staff.actor();
    let moved =
        ops::spaces::move_poste(&state.store, id, espace_id, &actor, now_ms(), &state.hub).await;
    let moved = match moved {
        Ok(poste) => {
            let space = state.store.space(poste.espace_id).await?;
            let space = space.map(|space| space.nom).unwrap_or_default();
            Ok(t::poste_moved(&poste.nom, &space))
        }
        Err(err) => Err(err),
    };
    back_to_postes(moved)
}

/// Back to the workstations' page with what was done, or with why it was not.
fn back_to_postes(done: Result<String, OpError>) -> Result<Response, ConsoleError> {
    match done {
        Ok(message) => Ok(redirect_with(POSTES, true, &message)),
        Err(OpError::Store(err)) => Err(err.into()),
        Err(other) => Ok(redirect_with(POSTES, false, &other.to_string())),
    }
}

#[derive(Deserialize)]
pub struct SpaceForm {
    #[serde(default)]
    nom: String,
    #[serde(default)]
    adresse: String,
}

/// Creates a space.
pub async fn space_create(
    State(state): State<AppState>,
    action: Action<SpaceForm>,
) -> Result<Response, ConsoleError> {
    save_space(&state, None, action).await
}

/// Renames and readdresses a space.
pub async fn space_update(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<SpaceForm>,
) -> Result<Response, ConsoleError> {
    save_space(&state, Some(id), action).await
}

async fn save_space(
    state: &AppState,
    id: Option<i64>,
    action: Action<SpaceForm>,
) -> Result<Response, ConsoleError> {
    action.staff.require_admin()?;
    match id {
        // Making a space is for an admin of every space; renaming one, for its admins.
        None => action.staff.require_site_admin()?,
        Some(id) => action.staff.require_space(id)?,
    }
    let actor = action.staff.actor();
    let form = &action.form;
    let saved =
        ops::spaces::save_space(&state.store, id, &form.nom, &form.adresse, &actor, now_ms()).await;
    back_to_postes(saved.map(|space| t::space_saved(&space.nom)))
}

/// Deletes an empty space.
pub async fn space_delete(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<Empty>,
) -> Result<Response, ConsoleError> {
    action.staff.require_admin()?;
    action.staff.require_site_admin()?;
    let actor = action.staff.actor();
    let deleted = ops::spaces::delete_space(&state.store, id, &actor, now_ms()).await;
    back_to_postes(deleted.map(|space| t::space_deleted(&space.nom)))
}

/// Approves a pending enrollment. With several spaces to choose from, staff say which one the
/// workstation serves in: nothing is preselected, and nothing is approved without it.
pub async fn poste_approve(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<PosteSpaceForm>,
) -> Result<Response, ConsoleError> {
    action.staff.require_admin()?;
    action.staff.require_poste(&state, id).await?;
    let Some(poste) = state.store.poste(id).await? else {
        return Ok(redirect_with(POSTES, false, t::POSTE_NOT_FOUND));
    };
    let spaces = state.store.list_spaces().await?;
    let choices = spaces
        .iter()
        .filter(|space| action.staff.scope.contains(space.id))
        .count();
    let espace_id = match action.form.espace.trim() {
        "" if choices > 1 => {
            return Ok(redirect_with(
                POSTES,
                false,
                &t::approval_space_missing(&poste.nom),
            ));
        }
        "" => None,
        chosen => match chosen.parse::<i64>() {
            Ok(espace_id) => {
                action.staff.require_space(espace_id)?;
                Some(espace_id)
            }
            Err(_) => return Ok(redirect_with(POSTES, false, crate::text::SPACE_NOT_FOUND)),
        },
    };
    let actor = action.staff.actor();
    let approved = ops::spaces::approve_in_space(
        &state.store,
        &poste,
        espace_id,
        &actor,
        now_ms(),
        &state.hub,
    )
    .await;
    back_to_postes(approved.map(|row| {
        tracing::info!(poste = %row.nom, espace_id = row.espace_id, "console: enrollment approved");
        // The space is named where there was a choice to make.
        let space = spaces
            .iter()
            .find(|space| space.id == row.espace_id)
            .filter(|_| choices > 1);
        t::poste_approved(&row.nom, space.map(|space| space.nom.as_str()))
    }))
}

pub async fn poste_retire(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<Empty>,
) -> Result<Response, ConsoleError> {
    action.staff.require_admin()?;
    action.staff.require_poste(&state, id).await?;
    let actor = action.staff.actor();
    match ops::retire_poste(&state.store, id, &actor, now_ms(), &state.hub).await {
        Ok(Some(poste)) => {
            tracing::info!(poste = %poste.nom, "console: workstation retired");
            Ok(redirect_with(POSTES, true, t::POSTE_RETIRED))
        }
        Ok(None) => Ok(redirect_with(POSTES, false, t::POSTE_BUSY)),
        Err(StoreError::NotFound { .. }) => Ok(redirect_with(POSTES, false, t::POSTE_NOT_FOUND)),
        Err(err) => Err(err.into()),
    }
}

// ----- settings and categories ----------------------------------------------------------------

/// Whose settings « Réglages » shows and changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SettingsOf {
    /// Common to the site: every space without settings of its own follows them. For admins
    /// of every space.
    Common,
    /// One space's: its own, or the common ones until staff change one for it.
    Space { id: i64, nom: String },
}

impl SettingsOf {
    /// From an `espace` parameter or field: empty for the common settings (an admin of some
    /// spaces gets the first of them), else one of the account's spaces (another space is
    /// refused, an unknown one not found).
    pub(super) fn chosen(staff: &Staff, espace: &str) -> Result<SettingsOf, ConsoleError> {
        staff.require_admin()?;
        let id = match espace.trim() {
            "" if staff.scope == SpaceScope::Every => return Ok(SettingsOf::Common),
            "" => staff
                .spaces
                .first()
                .map(|(id, _)| *id)
                .ok_or(ConsoleError::OtherSpace)?,
            typed => typed.parse::<i64>().map_err(|_| ConsoleError::NotFound)?,
        };
        staff.require_space(id)?;
        let (id, nom) = staff
            .spaces
            .iter()
            .find(|(own, _)| *own == id)
            .cloned()
            .ok_or(ConsoleError::NotFound)?;
        Ok(SettingsOf::Space { id, nom })
    }

    /// The settings in force there.
    pub(super) fn in_force<'a>(&self, settings: &'a Settings) -> &'a Settings {
        match self {
            SettingsOf::Common => settings,
            SettingsOf::Space { id, .. } => settings.for_space(*id),
        }
    }

    /// The page that shows them.
    pub(super) fn page(&self) -> String {
        match self {
            SettingsOf::Common => SETTINGS.to_owned(),
            SettingsOf::Space { id, .. } => format!("{SETTINGS}?espace={id}"),
        }
    }

    /// What the forms send back in their `espace` field.
    fn field(&self) -> String {
        match self {
            SettingsOf::Common => String::new(),
            SettingsOf::Space { id, .. } => id.to_string(),
        }
    }
}

/// Stores settings `values` where they belong and puts them in force on every instance. A
/// space gets all of its keys as its own (those not in `values` as they are in force there),
/// so that it no longer follows the common settings. The whole set is checked first: nothing
/// is stored if it does not make valid settings.
pub(super) async fn store_settings(
    state: &AppState,
    staff: &Staff,
    of: &SettingsOf,
    values: Vec<(String, String)>,
) -> Result<Result<(), SettingError>, ConsoleError> {
    let settings = state.settings();
    match of {
        SettingsOf::Common => {
            if let Err(err) = settings.with_overrides(&values) {
                return Ok(Err(err));
            }
            state
                .store
                .set_settings(&values, &staff.actor(), now_ms())
                .await?;
        }
        SettingsOf::Space { id, .. } => {
            // Every key of the space stored at once (decision 0013); a key not a space's is
            // refused by with_space_overrides.
            let mut own = settings.for_space(*id).space_values();
            for (key, value) in values {
                match own.iter_mut().find(|(own_key, _)| *own_key == key) {
                    Some(pair) => pair.1 = value,
                    None => own.push((key, value)),
                }
            }
            if let Err(err) = settings.with_space_overrides(&own) {
                return Ok(Err(err));
            }
            state
                .store
                .set_space_settings(*id, &own, &staff.actor(), now_ms())
                .await?;
        }
    }
    state.reload_settings().await?;
    Ok(Ok(()))
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct SettingsQuery {
    /// The space whose settings are shown; empty: the common ones.
    #[serde(default)]
    pub espace: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct SettingsForm {
    /// The space whose settings these are; empty: the common ones.
    #[serde(default)]
    espace: String,
    /// The space's time zone (IANA name).
    #[serde(default)]
    fuseau: String,
    #[serde(default)]
    site_name: String,
    #[serde(default)]
    avertissement_min: String,
    #[serde(default)]
    critique_min: String,
    #[serde(default)]
    longueur_code: String,
    #[serde(default)]
    validite: String,
    #[serde(default)]
    validite_duree: String,
    /// The monthly report's addresses, one a line.
    #[serde(default)]
    destinataires: String,
    /// Minutes before the opening the workstations are woken (empty: never).
    #[serde(default)]
    allumage_min: String,
    /// Minutes after the closing they are powered off (empty: never).
    #[serde(default)]
    extinction_min: String,
    // Per weekday, Monday first: opening (`o0`…`o6`), the lunch break's start (`p0`…) and end
    // (`r0`…, « reprise »), closing (`f0`…`f6`).
    #[serde(default)]
    o0: String,
    #[serde(default)]
    p0: String,
    #[serde(default)]
    r0: String,
    #[serde(default)]
    f0: String,
    #[serde(default)]
    o1: String,
    #[serde(default)]
    p1: String,
    #[serde(default)]
    r1: String,
    #[serde(default)]
    f1: String,
    #[serde(default)]
    o2: String,
    #[serde(default)]
    p2: String,
    #[serde(default)]
    r2: String,
    #[serde(default)]
    f2: String,
    #[serde(default)]
    o3: String,
    #[serde(default)]
    p3: String,
    #[serde(default)]
    r3: String,
    #[serde(default)]
    f3: String,
    #[serde(default)]
    o4: String,
    #[serde(default)]
    p4: String,
    #[serde(default)]
    r4: String,
    #[serde(default)]
    f4: String,
    #[serde(default)]
    o5: String,
    #[serde(default)]
    p5: String,
    #[serde(default)]
    r5: String,
    #[serde(default)]
    f5: String,
    #[serde(default)]
    o6: String,
    #[serde(default)]
    p6: String,
    #[serde(default)]
    r6: String,
    #[serde(default)]
    f6: String,
}

impl SettingsForm {
    /// Day `index`'s opening, break start, break end and closing, trimmed.
    fn day(&self, index: usize) -> DayFields<'_> {
        let days = [
            [&self.o0, &self.p0, &self.r0, &self.f0],
            [&self.o1, &self.p1, &self.r1, &self.f1],
            [&self.o2, &self.p2, &self.r2, &self.f2],
            [&self.o3, &self.p3, &self.r3, &self.f3],
            [&self.o4, &self.p4, &self.r4, &self.f4],
            [&self.o5, &self.p5, &self.r5, &self.f5],
            [&self.o6, &self.p6, &self.r6, &self.f6],
        ];
        let [open, pause, resume, close] = days.get(index).map_or(["", "", "", ""], |day| {
            [day[0].trim(), day[1].trim(), day[2].trim(), day[3].trim()]
        });
        DayFields {
            open,
            pause,
            resume,
            close,
        }
    }

    /// Fills day `index`'s fields from its periods (one, or two around a break).
    fn set_day(&mut self, index: usize, periods: &[DayHours]) {
        let hm = |time: jiff::civil::Time| time.strftime("%H:%M").to_string();
        let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
            return;
        };
        let (open, close) = (hm(first.open), hm(last.close));
        let (pause, resume) = match periods {
            [morning, afternoon] => (hm(morning.close), hm(afternoon.open)),
            _ => (String::new(), String::new()),
        };
        let days = [
            [&mut self.o0, &mut self.p0, &mut self.r0, &mut self.f0],
            [&mut self.o1, &mut self.p1, &mut self.r1, &mut self.f1],
            [&mut self.o2, &mut self.p2, &mut self.r2, &mut self.f2],
            [&mut self.o3, &mut self.p3, &mut self.r3, &mut self.f3],
            [&mut self.o4, &mut self.p4, &mut self.r4, &mut self.f4],
            [&mut self.o5, &mut self.p5, &mut self.r5, &mut self.f5],
            [&mut self.o6, &mut self.p6, &mut self.r6, &mut self.f6],
        ];
        if let Some([o, p, r, f]) = days.into_iter().nth(index) {
            (*o, *p, *r, *f) = (open, pause, resume, close);
        }
    }
}

/// One day's four time fields as typed.
#[derive(Debug, Clone, Copy)]
struct DayFields<'a> {
    open: &'a str,
    pause: &'a str,
    resume: &'a str,
    close: &'a str,
}

impl DayFields<'_> {
    /// The day's periods, or which message tells what is wrong.
    fn periods(&self) -> Result<Vec<DayHours>, DayError> {
        let parse = crate::domain::opening::parse_time;
        if self.open.is_empty() && self.close.is_empty() {
            return if self.pause.is_empty() && self.resume.is_empty() {
                Ok(Vec::new())
            } else {
                Err(DayError::Hours)
            };
        }
        let (Some(open), Some(close)) = (parse(self.open), parse(self.close)) else {
            return Err(DayError::Hours);
        };
        if close <= open {
            return Err(DayError::Hours);
        }
        if self.pause.is_empty() && self.resume.is_empty() {
            return Ok(vec![DayHours { open, close }]);
        }
        match (parse(self.pause), parse(self.resume)) {
            (Some(pause), Some(resume)) if open < pause && pause < resume && resume < close => {
                Ok(vec![
                    DayHours { open, close: pause },
                    DayHours {
                        open: resume,
                        close,
                    },
                ])
            }
            _ => Err(DayError::Break),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayError {
    Hours,
    Break,
}

#[derive(Debug)]
struct DayLine {
    index: usize,
    name: &'static str,
    open: String,
    pause: String,
    resume: String,
    close: String,
}

#[derive(Debug)]
struct CategoryLine {
    id: i64,
    nom: String,
    session_min: String,
    day_min: String,
    week_min: String,
    summary: String,
    /// Why the last save of this category was refused (its typed values are shown).
    error: String,
}

/// A category form refused: what was typed, and why, shown where it was typed (the category's
/// row, or « Nouvelle catégorie » for `id` None).
#[derive(Debug)]
struct CategoryEdit {
    id: Option<i64>,
    form: CategoryForm,
    error: String,
}

#[derive(Template)]
#[template(path = "console/settings.html")]
pub(super) struct SettingsPage {
    frame: Frame,
    /// Whose settings these are: the page's title says it, the forms send `espace` back.
    of: SettingsOf,
    espace: String,
    /// A space with settings of its own (else it follows the common ones).
    own: bool,
    /// The other settings the account may open (the common ones, its spaces), with several.
    choices: Vec<SettingsChoice>,
    /// Time zones offered in the space's field (any IANA name is taken).
    timezones: &'static [&'static str],
    form: SettingsForm,
    days: Vec<DayLine>,
    /// Everything the last save got wrong, in the form's order.
    errors: Vec<String>,
    categories: Vec<CategoryLine>,
    retention_days: u32,
    special_days: Vec<SpecialDayLine>,
    /// The « Ajouter un jour particulier » form as typed, and what it got wrong.
    special_form: SpecialDayForm,
    special_errors: Vec<String>,
    /// « Nouvelle catégorie » as typed, and why it was refused (empty: not refused).
    new_category: CategoryForm,
    new_category_error: String,
}

/// A link of « Réglages de : … ».
#[derive(Debug)]
struct SettingsChoice {
    href: String,
    label: String,
    current: bool,
}

/// Time zones of the communes this is made for (overseas France first), offered in the field.
const TIMEZONES: &[&str] = &[
    "Indian/Reunion",
    "Indian/Mayotte",
    "America/Guadeloupe",
    "America/Martinique",
    "America/Cayenne",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "America/Miquelon",
    "Europe/Paris",
];

impl SettingsPage {
    /// The page with the special day form refused: what was typed kept, every reason said.
    pub(super) fn with_special_day_errors(
        mut self,
        form: SpecialDayForm,
        errors: Vec<String>,
    ) -> Self {
        self.special_form = form;
        self.special_errors = errors;
        self
    }

    /// The page with a category form refused: the typed values and the reason, in its row or
    /// in « Nouvelle catégorie ».
    fn with_category_error(mut self, edit: CategoryEdit) -> Self {
        match edit.id {
            None => {
                self.new_category = edit.form;
                self.new_category_error = edit.error;
            }
            Some(id) => {
                if let Some(line) = self.categories.iter_mut().find(|line| line.id == id) {
                    line.nom = edit.form.nom;
                    line.session_min = edit.form.session_min;
                    line.day_min = edit.form.jour_min;
                    line.week_min = edit.form.semaine_min;
                    line.error = edit.error;
                } else {
                    self.new_category_error = edit.error;
                }
            }
        }
        self
    }
}

fn minutes_text(secs: Option<i64>) -> String {
    secs.map(|s| (s / 60).to_string()).unwrap_or_default()
}

pub(super) async fn settings_page(
    state: &AppState,
    staff: &Staff,
    headers: &HeaderMap,
    of: &SettingsOf,
    form: Option<SettingsForm>,
    errors: Vec<String>,
) -> Result<SettingsPage, ConsoleError> {
    let all = state.settings();
    let settings = of.in_force(&all);
    let form = form.unwrap_or_else(|| {
        let (validite, validite_duree) = match settings.code_validity {
            CodeValidity::EndOfDay => ("fin_de_journee".to_owned(), String::new()),
            CodeValidity::Secs(secs) => ("duree".to_owned(), compact_duration(secs)),
        };
        let mut form = SettingsForm {
            espace: of.field(),
            fuseau: settings.timezone.iana_name().unwrap_or_default().to_owned(),
            site_name: settings.site_name.clone(),
            avertissement_min: minutes_or_secs(settings.thresholds.warning_ms / 1000),
            critique_min: minutes_or_secs(settings.thresholds.critical_ms / 1000),
            longueur_code: settings.code_length.to_string(),
            validite,
            validite_duree,
            destinataires: match of {
                SettingsOf::Common => settings.report_recipients.join("\n"),
                SettingsOf::Space { .. } => settings.space_report_recipients.join("\n"),
            },
            allumage_min: schedule_text(settings.power_schedule.wake_before_min),
            extinction_min: schedule_text(settings.power_schedule.off_after_min),
            ..SettingsForm::default()
        };
        for index in 0..7 {
            form.set_day(index, settings.opening_hours.day(index));
        }
        form
    });
    let mut choices = Vec::new();
    if staff.scope == SpaceScope::Every {
        choices.push(SettingsChoice {
            href: SettingsOf::Common.page(),
            label: t::SETTINGS_COMMON.to_owned(),
            current: *of == SettingsOf::Common,
        });
    }
    for (id, nom) in &staff.spaces {
        let space = SettingsOf::Space {
            id: *id,
            nom: nom.clone(),
        };
        choices.push(SettingsChoice {
            href: space.page(),
            label: nom.clone(),
            current: *of == space,
        });
    }
    // One space: nothing to choose (a single-space site sees « Réglages » as before spaces).
    if staff.spaces.len() <= 1 {
        choices.clear();
    }
    let days = (0..7)
        .map(|index| {
            let day = form.day(index);
            DayLine {
                index,
                name: t::DAY_NAMES[index],
                open: day.open.to_owned(),
                pause: day.pause.to_owned(),
                resume: day.resume.to_owned(),
                close: day.close.to_owned(),
            }
        })
        .collect();
    let categories = state
        .store
        .list_categories()
        .await?
        .into_iter()
        .map(|c| CategoryLine {
            summary: view::rules_summary(&c),
            id: c.id,
            session_min: minutes_text(c.max_session_secs),
            day_min: minutes_text(c.max_day_secs),
            week_min: minutes_text(c.max_week_secs),
            nom: c.nom,
            error: String::new(),
        })
        .collect();
    let today = crate::clock::local_day(now_ms(), &settings.timezone);
    Ok(SettingsPage {
        frame: Frame::new(state, staff, headers, "reglages"),
        espace: of.field(),
        own: matches!(of, SettingsOf::Space { id, .. } if all.has_own(*id)),
        of: of.clone(),
        choices,
        timezones: TIMEZONES,
        form,
        days,
        errors,
        categories,
        retention_days: state.retention_days(),
        special_days: special_day_lines(&settings.opening_hours, today),
        special_form: SpecialDayForm::default(),
        special_errors: Vec::new(),
        new_category: CategoryForm::default(),
        new_category_error: String::new(),
    })
}

/// Thresholds are shown in minutes when whole, else as `30s` (short test thresholds).
fn minutes_or_secs(secs: i64) -> String {
    if secs % 60 == 0 {
        (secs / 60).to_string()
    } else {
        format!("{secs}s")
    }
}

pub async fn settings(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<SettingsQuery>,
) -> Result<Response, ConsoleError> {
    let of = SettingsOf::chosen(&staff, &query.espace)?;
    page(&settings_page(&state, &staff, &headers, &of, None, Vec::new()).await?)
}

/// A threshold typed in minutes (`5`), or in seconds with `s` (`30s`).
fn threshold_secs(text: &str) -> Option<i64> {
    let text = text.trim();
    match text.strip_suffix('s') {
        Some(secs) => secs.trim().parse().ok(),
        None => text.parse::<i64>().ok().map(|m| m * 60),
    }
    .filter(|secs| (1..=3600).contains(secs))
}

/// The settings a form asks for, as stored key/values; else every French message at once (one
/// save shows all there is to correct, not one mistake per try).
fn settings_values(
    form: &SettingsForm,
    of: &SettingsOf,
) -> Result<Vec<(String, String)>, Vec<String>> {
    let mut errors = Vec::new();
    let common = *of == SettingsOf::Common;
    let site_name = form.site_name.trim();
    if common && (site_name.is_empty() || site_name.chars().count() > 100) {
        errors.push(t::SITE_NAME_INVALID.to_owned());
    }
    let timezone = form.fuseau.trim();
    if !common && parse_timezone(timezone).is_none() {
        errors.push(t::timezone_invalid(timezone));
    }
    let warning = threshold_secs(&form.avertissement_min);
    let critical = threshold_secs(&form.critique_min);
    match (warning, critical) {
        (Some(warning), Some(critical)) if warning <= critical => {
            errors.push(t::THRESHOLD_ORDER.to_owned())
        }
        (Some(_), Some(_)) => {}
        _ => errors.push(t::THRESHOLD_INVALID.to_owned()),
    }
    let code_length = form.longueur_code.trim();
    if !code_length
        .parse::<usize>()
        .is_ok_and(|len| (4..=16).contains(&len))
    {
        errors.push(t::CODE_LENGTH_INVALID.to_owned());
    }
    let validity = match form.validite.as_str() {
        "fin_de_journee" => Some("fin_de_journee".to_owned()),
        _ => match parse_duration(&form.validite_duree) {
            Ok(secs) if secs > 0 => Some(compact_duration(secs)),
            _ => None,
        },
    };
    if validity.is_none() {
        errors.push(t::VALIDITY_INVALID.to_owned());
    }
    let mut days: [Vec<DayHours>; 7] = Default::default();
    for (index, day) in days.iter_mut().enumerate() {
        match form.day(index).periods() {
            Ok(periods) => *day = periods,
            Err(DayError::Hours) => errors.push(t::hours_invalid(t::DAY_NAMES[index])),
            Err(DayError::Break) => errors.push(t::break_invalid(t::DAY_NAMES[index])),
        }
    }
    let recipients = match parse_recipients(&form.destinataires) {
        Ok(addresses) => addresses.join(", "),
        Err(refused) => {
            errors.extend(refused.iter().map(|typed| t::recipient_invalid(typed)));
            String::new()
        }
    };
    let schedule = match (
        parse_schedule_minutes(&form.allumage_min),
        parse_schedule_minutes(&form.extinction_min),
    ) {
        (Ok(wake_before), Ok(off_after)) => Some((wake_before, off_after)),
        _ => {
            errors.push(t::POWER_SCHEDULE_INVALID.to_owned());
            None
        }
    };
    // The form's checks above are the domain's (periods in order, two at most): this does not
    // fail after them, and is told as a bad form if it ever does.
    let hours = OpeningHours::new(days).ok();
    if hours.is_none() {
        errors.push(t::BAD_FORM.to_owned());
    }
    let (Some(warning), Some(critical), Some(validity), Some(hours), Some(schedule), true) = (
        warning,
        critical,
        validity,
        hours,
        schedule,
        errors.is_empty(),
    ) else {
        return Err(errors);
    };
    let mut values = vec![
        (k::WARNING_SECS.to_owned(), warning.to_string()),
        (k::CRITICAL_SECS.to_owned(), critical.to_string()),
        (k::CODE_LENGTH.to_owned(), code_length.to_owned()),
        (k::CODE_VALIDITY.to_owned(), validity),
        (k::OPENING_HOURS.to_owned(), hours.format()),
        (k::POWER_WAKE_BEFORE.to_owned(), schedule_text(schedule.0)),
        (k::POWER_OFF_AFTER.to_owned(), schedule_text(schedule.1)),
    ];
    if common {
        values.push((k::SITE_NAME.to_owned(), site_name.to_owned()));
        values.push((k::REPORT_RECIPIENTS.to_owned(), recipients));
    } else {
        values.push((k::TIMEZONE.to_owned(), timezone.to_owned()));
        values.push((k::SPACE_REPORT_RECIPIENTS.to_owned(), recipients));
    }
    Ok(values)
}

pub async fn settings_save(
    State(state): State<AppState>,
    headers: HeaderMap,
    action: Action<SettingsForm>,
) -> Result<Response, ConsoleError> {
    let of = SettingsOf::chosen(&action.staff, &action.form.espace)?;
    let stored = match settings_values(&action.form, &of) {
        Ok(values) => match store_settings(&state, &action.staff, &of, values).await? {
            Ok(()) => Ok(()),
            Err(SettingError::Invalid(k::SITE_NAME)) => Err(vec![t::SITE_NAME_INVALID.to_owned()]),
            Err(SettingError::Invalid(k::CODE_LENGTH)) => {
                Err(vec![t::CODE_LENGTH_INVALID.to_owned()])
            }
            Err(_) => Err(vec![t::BAD_FORM.to_owned()]),
        },
        Err(errors) => Err(errors),
    };
    match stored {
        Ok(()) => {
            tracing::info!(by = %action.staff.account().login, ?of, "console: settings changed");
            Ok(redirect_with(&of.page(), true, t::SETTINGS_SAVED))
        }
        Err(errors) => {
            let html = settings_page(
                &state,
                &action.staff,
                &headers,
                &of,
                Some(action.form),
                errors,
            )
            .await?
            .render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct FollowCommonForm {
    #[serde(default)]
    espace: String,
    #[serde(default)]
    confirme: String,
}

/// A space follows the common settings again (its own are forgotten): confirmed, since what
/// was set for it cannot be brought back.
pub async fn settings_follow_common(
    State(state): State<AppState>,
    action: Action<FollowCommonForm>,
) -> Result<Response, ConsoleError> {
    let of = SettingsOf::chosen(&action.staff, &action.form.espace)?;
    let SettingsOf::Space { id, nom } = &of else {
        return Ok(redirect_with(SETTINGS, false, t::BAD_FORM));
    };
    if action.form.confirme != "1" {
        return Ok(redirect_with(
            &of.page(),
            false,
            t::FOLLOW_COMMON_UNCONFIRMED,
        ));
    }
    state
        .store
        .set_space_settings(*id, &[], &action.staff.actor(), now_ms())
        .await?;
    state.reload_settings().await?;
    tracing::info!(by = %action.staff.account().login, space = %nom, "console: space follows the common settings");
    Ok(redirect_with(
        &of.page(),
        true,
        &t::settings_follow_common(nom),
    ))
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    nom: String,
    #[serde(default)]
    session_min: String,
    #[serde(default)]
    jour_min: String,
    #[serde(default)]
    semaine_min: String,
}

/// A limit in minutes; empty is no limit.
fn limit_secs(text: &str) -> Result<Option<i64>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(minutes) if (1..=7 * 24 * 60).contains(&minutes) => Ok(Some(minutes * 60)),
        _ => Err(()),
    }
}

fn category_of(form: &CategoryForm) -> Result<NewCategory, &'static str> {
    let nom = form.nom.trim();
    if nom.is_empty() || nom.chars().count() > 64 || nom.chars().any(char::is_control) {
        return Err(t::CATEGORY_NAME_INVALID);
    }
    let limits = (
        limit_secs(&form.session_min),
        limit_secs(&form.jour_min),
        limit_secs(&form.semaine_min),
    );
    let (Ok(session), Ok(day), Ok(week)) = limits else {
        return Err(t::CATEGORY_LIMIT_INVALID);
    };
    Ok(NewCategory {
        nom: nom.to_owned(),
        max_session_secs: session,
        max_day_secs: day,
        max_week_secs: week,
    })
}

async fn save_category(
    state: &AppState,
    headers: &HeaderMap,
    id: Option<i64>,
    action: Action<CategoryForm>,
) -> Result<Response, ConsoleError> {
    action.staff.require_site_admin()?;
    let refused = |error: String| CategoryEdit {
        id,
        form: action.form.clone(),
        error,
    };
    let edit = match category_of(&action.form) {
        Err(message) => refused(message.to_owned()),
        Ok(category) => match state
            .store
            .save_category(id, &category, &action.staff.actor(), now_ms())
            .await
        {
            Ok(saved) => {
                return Ok(redirect_with(
                    SETTINGS,
                    true,
                    &t::category_saved(&saved.nom),
                ));
            }
            Err(StoreError::AlreadyExists { .. }) => refused(t::category_exists(&category.nom)),
            Err(StoreError::NotFound { .. }) => {
                return Ok(redirect_with(SETTINGS, false, t::CATEGORY_NOT_FOUND));
            }
            Err(err) => return Err(err.into()),
        },
    };
    let page = settings_page(
        state,
        &action.staff,
        headers,
        &SettingsOf::Common,
        None,
        Vec::new(),
    )
    .await?
    .with_category_error(edit);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
}

pub async fn category_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    action: Action<CategoryForm>,
) -> Result<Response, ConsoleError> {
    save_category(&state, &headers, None, action).await
}

pub async fn category_update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    action: Action<CategoryForm>,
) -> Result<Response, ConsoleError> {
    save_category(&state, &headers, Some(id), action).await
}

pub async fn category_delete(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<Empty>,
) -> Result<Response, ConsoleError> {
    action.staff.require_site_admin()?;
    match state
        .store
        .delete_category(id, &action.staff.actor(), now_ms())
        .await
    {
        Ok(()) => Ok(redirect_with(SETTINGS, true, t::CATEGORY_DELETED)),
        Err(StoreError::NotFound { .. }) => {
            Ok(redirect_with(SETTINGS, false, t::CATEGORY_NOT_FOUND))
        }
        Err(err) => Err(err.into()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn settings_forms_become_stored_values() {
        let form = SettingsForm {
            site_name: "EPN du Port".into(),
            avertissement_min: "5".into(),
            critique_min: "1".into(),
            longueur_code: "6".into(),
            validite: "duree".into(),
            validite_duree: "4h".into(),
            o0: "09:00".into(),
            f0: "18:00".into(),
            ..SettingsForm::default()
        };
        let values = settings_values(&form, &SettingsOf::Common).expect("valid");
        assert!(values.contains(&(k::WARNING_SECS.into(), "300".into())));
        assert!(values.contains(&(k::CODE_VALIDITY.into(), "4h".into())));
        assert!(values.contains(&(k::OPENING_HOURS.into(), "09:00-18:00;;;;;;".into())));

        let backwards = SettingsForm {
            f0: "08:00".into(),
            ..form.clone()
        };
        assert_eq!(
            settings_values(&backwards, &SettingsOf::Common),
            Err(vec![t::hours_invalid("Lundi")])
        );
        let order = SettingsForm {
            critique_min: "5".into(),
            ..form.clone()
        };
        assert_eq!(
            settings_values(&order, &SettingsOf::Common),
            Err(vec![t::THRESHOLD_ORDER.to_owned()])
        );
        // Every mistake of one save is told at once.
        let all_wrong = SettingsForm {
            site_name: " ".into(),
            avertissement_min: "cinq".into(),
            longueur_code: "3".into(),
            validite_duree: "".into(),
            f0: "08:00".into(),
            ..form.clone()
        };
        assert_eq!(
            settings_values(&all_wrong, &SettingsOf::Common),
            Err(vec![
                t::SITE_NAME_INVALID.to_owned(),
                t::THRESHOLD_INVALID.to_owned(),
                t::CODE_LENGTH_INVALID.to_owned(),
                t::VALIDITY_INVALID.to_owned(),
                t::hours_invalid("Lundi"),
            ])
        );
        let recipients = SettingsForm {
            destinataires:
                "direction@mairie.example\nmediatheque@mairie.example, direction@mairie.example"
                    .into(),
            ..SettingsForm::default()
        };
        let recipients = SettingsForm {
            site_name: "EPN du Port".into(),
            avertissement_min: "5".into(),
            critique_min: "1".into(),
            longueur_code: "6".into(),
            validite: "fin_de_journee".into(),
            ..recipients
        };
        assert!(
            settings_values(&recipients, &SettingsOf::Common)
                .unwrap()
                .contains(&(
                    k::REPORT_RECIPIENTS.into(),
                    "direction@mairie.example, mediatheque@mairie.example".into()
                ))
        );
        // Each wrong address is named, all at once.
        let wrong = SettingsForm {
            destinataires: "direction@mairie.example\ndirection\n@mairie".into(),
            ..recipients
        };
        assert_eq!(
            settings_values(&wrong, &SettingsOf::Common),
            Err(vec![
                t::recipient_invalid("direction"),
                t::recipient_invalid("@mairie"),
            ])
        );
        // A lunch break: two periods; one end only, or outside the day: refused beside it.
        let lunch = SettingsForm {
            p0: "12:00".into(),
            r0: "13:30".into(),
            ..form.clone()
        };
        let values = settings_values(&lunch, &SettingsOf::Common).expect("valid");
        assert!(values.contains(&(
            k::OPENING_HOURS.into(),
            "09:00-12:00,13:30-18:00;;;;;;".into()
        )));
        let mut shown = SettingsForm::default();
        shown.set_day(
            0,
            OpeningHours::parse("09:00-12:00,13:30-18:00;;;;;;")
                .unwrap()
                .day(0),
        );
        assert_eq!(
            [shown.o0, shown.p0, shown.r0, shown.f0],
            ["09:00", "12:00", "13:30", "18:00"]
        );
        for (pause, resume) in [
            ("12:00", ""),
            ("", "13:30"),
            ("08:00", "13:30"),
            ("13:30", "12:00"),
        ] {
            let wrong = SettingsForm {
                p0: pause.into(),
                r0: resume.into(),
                ..form.clone()
            };
            assert_eq!(
                settings_values(&wrong, &SettingsOf::Common),
                Err(vec![t::break_invalid("Lundi")]),
                "{pause}–{resume}"
            );
        }
        assert_eq!(threshold_secs("30s"), Some(30));
        assert_eq!(threshold_secs("0"), None);
    }

    #[test]
    fn a_space_form_sets_its_time_zone_and_own_report_not_the_sites_name_or_report() {
        let space = SettingsOf::Space {
            id: 2,
            nom: "Maison de quartier".into(),
        };
        let form = SettingsForm {
            espace: "2".into(),
            fuseau: "Europe/Paris".into(),
            site_name: " ".into(),
            destinataires: "quartier@mairie.example".into(),
            avertissement_min: "5".into(),
            critique_min: "1".into(),
            longueur_code: "6".into(),
            validite: "fin_de_journee".into(),
            ..SettingsForm::default()
        };
        let values = settings_values(&form, &space).expect("valid");
        let keys: Vec<&str> = values.iter().map(|(key, _)| key.as_str()).collect();
        assert!(
            keys.iter().all(|key| k::SPACE_KEYS.contains(key)),
            "{keys:?}"
        );
        assert!(values.contains(&(k::TIMEZONE.into(), "Europe/Paris".into())));
        // The addresses are the space's own report's, not the site's.
        assert!(values.contains(&(
            k::SPACE_REPORT_RECIPIENTS.into(),
            "quartier@mairie.example".into()
        )));
        let wrong = SettingsForm {
            destinataires: "pas une adresse".into(),
            ..form.clone()
        };
        assert_eq!(
            settings_values(&wrong, &space),
            Err(vec![t::recipient_invalid("pas une adresse")])
        );
        for typed in ["", "Europe/Parsi"] {
            let wrong = SettingsForm {
                fuseau: typed.into(),
                ..form.clone()
            };
            assert_eq!(
                settings_values(&wrong, &space),
                Err(vec![t::timezone_invalid(typed)])
            );
        }
    }
}
