//! The visitors register: search, register, edit, and erase a visitor's personal data on
//! request (RGPD, admins only). Sessions for a registered visitor are created from here, so that
//! their category's time rules apply.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use poste_store::{NewVisitor, SessionFilter, StoreError, VisitorRow};
use serde::Deserialize;

use crate::clock::now_ms;
use crate::console::auth::Staff;
use crate::console::form::{Action, redirect_with};
use crate::console::pages::{Frame, page};
use crate::console::view::{self, SessionLine};
use crate::console::{ConsoleError, Path, Query};
use crate::ops::day_and_week_start;
use crate::state::AppState;
use crate::text::console as t;

const VISITORS: &str = "/console/visiteurs";

#[derive(Debug, Default, Clone, Deserialize)]
pub struct VisitorForm {
    #[serde(default)]
    nom: String,
    #[serde(default)]
    carte: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    categorie: String,
    #[serde(default)]
    notes: String,
}

impl VisitorForm {
    fn of(row: &VisitorRow) -> Self {
        VisitorForm {
            nom: row.nom.clone(),
            carte: row.carte.clone().unwrap_or_default(),
            email: row.email.clone().unwrap_or_default(),
            categorie: row
                .categorie_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            notes: row.notes.clone().unwrap_or_default(),
        }
    }
}

#[derive(Debug, Default)]
struct VisitorErrors {
    nom: Option<&'static str>,
    /// A card too long, or one another visitor has (named in the message).
    carte: Option<String>,
    email: Option<&'static str>,
    notes: Option<&'static str>,
}

impl VisitorErrors {
    fn any(&self) -> bool {
        self.nom.is_some() || self.carte.is_some() || self.email.is_some() || self.notes.is_some()
    }
}

fn optional(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn bad_text(text: &str, max: usize) -> bool {
    text.chars().count() > max
        || text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
}

/// Checks a form; the visitor to store, or the errors to show next to the fields.
fn check(form: &VisitorForm) -> Result<NewVisitor, VisitorErrors> {
    let mut errors = VisitorErrors::default();
    let nom = form.nom.trim();
    if nom.is_empty() || bad_text(nom, 100) {
        errors.nom = Some(t::VISITOR_NAME_INVALID);
    }
    if bad_text(form.carte.trim(), 64) {
        errors.carte = Some(t::VISITOR_CARD_INVALID.to_owned());
    }
    let email = form.email.trim();
    if !email.is_empty()
        && (bad_text(email, 200) || !email.contains('@') || email.contains(char::is_whitespace))
    {
        errors.email = Some(t::VISITOR_EMAIL_INVALID);
    }
    if bad_text(form.notes.trim(), 1000) {
        errors.notes = Some(t::VISITOR_NOTES_INVALID);
    }
    if errors.any() {
        return Err(errors);
    }
    Ok(NewVisitor {
        nom: nom.to_owned(),
        carte: optional(&form.carte),
        email: optional(email),
        categorie_id: form.categorie.trim().parse().ok(),
        notes: optional(&form.notes),
    })
}

/// Checks and stores a visitor; the errors to show beside the fields if refused (a card number
/// another visitor has is refused by the store, on both backends).
async fn save(
    state: &AppState,
    id: Option<i64>,
    action: &Action<VisitorForm>,
) -> Result<Result<VisitorRow, VisitorErrors>, ConsoleError> {
    let visitor = match check(&action.form) {
        Ok(visitor) => visitor,
        Err(errors) => return Ok(Err(errors)),
    };
    match state
        .store
        .save_visitor(id, &visitor, &action.staff.actor(), now_ms())
        .await
    {
        Ok(saved) => Ok(Ok(saved)),
        Err(StoreError::AlreadyExists { name, .. }) => {
            let owner = state
                .store
                .search_visitors(Some(&name), Some(20))
                .await?
                .into_iter()
                .find(|v| {
                    v.carte
                        .as_deref()
                        .is_some_and(|carte| poste_store::fold(carte) == poste_store::fold(&name))
                })
                .map(|v| v.nom);
            Ok(Err(VisitorErrors {
                carte: Some(t::visitor_card_taken(&name, owner.as_deref())),
                ..VisitorErrors::default()
            }))
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Debug)]
struct VisitorLine {
    id: i64,
    nom: String,
    carte: String,
    email: String,
    categorie: String,
}

#[derive(Debug)]
struct CategoryChoice {
    id: String,
    nom: String,
}

#[derive(Template)]
#[template(path = "console/visitors.html")]
struct VisitorsPage {
    frame: Frame,
    q: String,
    visitors: Vec<VisitorLine>,
    form_action: String,
    form: VisitorForm,
    errors: VisitorErrors,
    categories: Vec<CategoryChoice>,
}

async fn category_choices(state: &AppState) -> Result<Vec<CategoryChoice>, ConsoleError> {
    Ok(state
        .store
        .list_categories()
        .await?
        .into_iter()
        .map(|c| CategoryChoice {
            id: c.id.to_string(),
            nom: format!("{} ({})", c.nom, view::rules_summary(&c)),
        })
        .collect())
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn visitors_page(
    state: &AppState,
    staff: &Staff,
    headers: &HeaderMap,
    q: String,
    form: VisitorForm,
    errors: VisitorErrors,
) -> Result<VisitorsPage, ConsoleError> {
    let text: String = q.trim().chars().take(100).collect();
    let visitors = state
        .store
        .search_visitors(Some(&text), Some(200))
        .await?
        .into_iter()
        .map(|v| VisitorLine {
            id: v.id,
            nom: v.nom,
            carte: v.carte.unwrap_or_default(),
            email: v.email.unwrap_or_default(),
            categorie: v.categorie_nom.unwrap_or_default(),
        })
        .collect();
    Ok(VisitorsPage {
        frame: Frame::new(state, staff, headers, "visiteurs"),
        q: text,
        visitors,
        form_action: VISITORS.to_owned(),
        form,
        errors,
        categories: category_choices(state).await?,
    })
}

pub async fn visitors(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ConsoleError> {
    page(
        &visitors_page(
            &state,
            &staff,
            &headers,
            query.q,
            VisitorForm::default(),
            VisitorErrors::default(),
        )
        .await?,
    )
}

pub async fn visitor_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    action: Action<VisitorForm>,
) -> Result<Response, ConsoleError> {
    match save(&state, None, &action).await? {
        Ok(saved) => Ok(redirect_with(
            &format!("{VISITORS}/{}", saved.id),
            true,
            &t::visitor_saved(&saved.nom),
        )),
        Err(errors) => {
            let html = visitors_page(
                &state,
                &action.staff,
                &headers,
                String::new(),
                action.form,
                errors,
            )
            .await?
            .render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "console/visitor.html")]
struct VisitorPage {
    frame: Frame,
    id: i64,
    form_action: String,
    form: VisitorForm,
    errors: VisitorErrors,
    categories: Vec<CategoryChoice>,
    /// `1 h 30 min aujourd'hui, 3 h cette semaine`.
    usage: String,
    rules: String,
    sessions: Vec<SessionLine>,
}

async fn visitor_page(
    state: &AppState,
    staff: &Staff,
    headers: &HeaderMap,
    row: &VisitorRow,
    form: VisitorForm,
    errors: VisitorErrors,
) -> Result<VisitorPage, ConsoleError> {
    let settings = state.settings();
    let now = now_ms();
    let (day, week) = day_and_week_start(now, &settings.timezone);
    let today = state.store.visitor_usage_secs(row.id, day, now).await?;
    let this_week = state.store.visitor_usage_secs(row.id, week, now).await?;
    let rules = match row.categorie_id {
        Some(id) => state
            .store
            .category(id)
            .await?
            .map(|c| format!("{} : {}", c.nom, view::rules_summary(&c)))
            .unwrap_or_default(),
        None => t::NO_CATEGORY.to_owned(),
    };
    let sessions = state
        .store
        .list_sessions(&SessionFilter {
            visiteur_id: Some(row.id),
            limit: Some(50),
            ..SessionFilter::default()
        })
        .await?
        .iter()
        .map(|s| SessionLine::new(s, &settings))
        .collect();
    Ok(VisitorPage {
        frame: Frame::new(state, staff, headers, "visiteurs"),
        id: row.id,
        form_action: format!("{VISITORS}/{}", row.id),
        form,
        errors,
        categories: category_choices(state).await?,
        usage: crate::text::visitor_usage(today, this_week),
        rules,
        sessions,
    })
}

async fn find(state: &AppState, id: i64) -> Result<VisitorRow, ConsoleError> {
    state.store.visitor(id).await?.ok_or(ConsoleError::NotFound)
}

pub async fn visitor(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, ConsoleError> {
    let row = find(&state, id).await?;
    let form = VisitorForm::of(&row);
    page(
        &visitor_page(
            &state,
            &staff,
            &headers,
            &row,
            form,
            VisitorErrors::default(),
        )
        .await?,
    )
}

pub async fn visitor_update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    action: Action<VisitorForm>,
) -> Result<Response, ConsoleError> {
    let row = find(&state, id).await?;
    match save(&state, Some(id), &action).await? {
        Ok(saved) => Ok(redirect_with(
            &format!("{VISITORS}/{id}"),
            true,
            &t::visitor_saved(&saved.nom),
        )),
        Err(errors) => {
            let html = visitor_page(&state, &action.staff, &headers, &row, action.form, errors)
                .await?
                .render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct EraseForm {
    #[serde(default)]
    confirme: String,
}

/// Erasure on request (RGPD): admins only, and confirmed, since it cannot be undone.
pub async fn visitor_erase(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<EraseForm>,
) -> Result<Response, ConsoleError> {
    action.staff.require_admin()?;
    if action.form.confirme != "1" {
        return Ok(redirect_with(
            &format!("{VISITORS}/{id}"),
            false,
            t::ERASE_UNCONFIRMED,
        ));
    }
    match state
        .store
        .erase_visitor(id, &action.staff.actor(), now_ms())
        .await
    {
        Ok(sessions) => {
            tracing::info!(visitor = id, sessions, by = %action.staff.account().login, "console: visitor erased");
            Ok(redirect_with(VISITORS, true, &t::visitor_erased(sessions)))
        }
        Err(StoreError::NotFound { .. }) => Err(ConsoleError::NotFound),
        Err(err) => Err(err.into()),
    }
}

/// What the session form shows of a registered visitor.
#[derive(Debug, Clone)]
pub struct ChosenVisitor {
    pub id: i64,
    pub nom: String,
    pub rules: String,
}

/// The visitor a session form was opened for (`?visiteur=ID`).
pub async fn chosen_visitor(
    state: &AppState,
    id: Option<i64>,
) -> Result<Option<ChosenVisitor>, ConsoleError> {
    let Some(id) = id else { return Ok(None) };
    let Some(row) = state.store.visitor(id).await? else {
        return Ok(None);
    };
    let rules = match row.categorie_id {
        Some(category) => state
            .store
            .category(category)
            .await?
            .map(|c| format!("{} : {}", c.nom, view::rules_summary(&c)))
            .unwrap_or_default(),
        None => t::NO_CATEGORY.to_owned(),
    };
    Ok(Some(ChosenVisitor {
        id: row.id,
        nom: row.nom,
        rules,
    }))
}
