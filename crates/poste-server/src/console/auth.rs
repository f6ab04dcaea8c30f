//! Staff authentication for the console: Argon2id passwords, login sessions in the database
//! behind an HttpOnly cookie, a synchronizer CSRF token per session, an Origin check on every
//! form, the idle timeout and the throttling of failed logins.

use std::net::SocketAddr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use poste_store::{
    Actor, RefusedLogin, SessionRow, SpaceScope, StaffRole, StaffRow, StaffSessionRow, StoreError,
};
use subtle::ConstantTimeEq;

use crate::clock::now_ms;
use crate::console::ConsoleError;
use crate::domain::codes::{generate_code, token_hash};
use crate::domain::login_throttle::Login;
use crate::state::{AppState, LoginWait};
use crate::text::console as t;

/// Cookie names: the `__Host-` prefix (which requires `Secure`) when the console is served
/// over HTTPS.
const COOKIE: &str = "poste_session";
const SECURE_COOKIE: &str = "__Host-poste_session";

/// Shortest password accepted for a staff account.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password hashed (Argon2 cost grows with it; beyond this it is an attack).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A staff session is touched at most this often (ms), not at every request.
const TOUCH_EVERY_MS: i64 = 30_000;

/// Hashes a password with Argon2id (default parameters: 19 MiB, 2 passes), off the async
/// threads.
pub async fn hash_password(password: String) -> Result<String, ConsoleError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
    })
    .await
    .map_err(|err| ConsoleError::Internal(format!("password hashing task: {err}")))?
    .map_err(|err| ConsoleError::Internal(format!("password hashing: {err}")))
}

/// Checks a password against a stored hash, off the async threads. A malformed hash is a
/// refusal, never an error shown to the visitor of the login page.
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// The hash compared against when the login is unknown, so that an unknown login takes as
/// long as a wrong password (no account enumeration by timing).
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$5m1vCN2tPWpQyf3bZ2BRdBPN1zn6B4Tq8o1G3ZzAw8E";

/// Validates a new password; the error is the French message shown next to the field.
pub fn check_new_password(password: &str) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(t::PASSWORD_TOO_SHORT);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(t::PASSWORD_TOO_LONG);
    }
    Ok(())
}

/// Why a login was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginRefusal {
    /// Unknown login, wrong password or disabled account: one message for all three.
    BadCredentials,
    /// Too many failures: wait this many seconds.
    Throttled(u64),
}

/// Checks a login and opens a session; returns the cookie's token and the session.
///
/// The throttle counts per (account, address) pair: a pair past its free failures waits, the
/// right password included, and is told how long; the same account from another address is
/// checked at once. The account is looked up first (a cheap read): a login naming no account,
/// or a disabled one, counts under the address's one pair for such logins, so made-up names
/// share one budget and cannot buy a password check each. Every refusal is written to the
/// event log with the address, a waiting pair once per wait (further refusals within it cost
/// no password check and would only fill the log).
pub async fn login(
    state: &AppState,
    login: &str,
    password: &str,
    ip: &str,
) -> Result<Result<(String, StaffSessionRow), LoginRefusal>, ConsoleError> {
    let credentials = state.store.staff_credentials(login.trim()).await?;
    let key = Login::of(
        credentials.as_ref().map(|found| found.staff.login.as_str()),
        credentials
            .as_ref()
            .is_some_and(|found| found.staff.disabled_at.is_some()),
    );
    let attempt = match state
        .login_throttle
        .begin(key, ip, crate::clock::monotonic())
    {
        Ok(attempt) => attempt,
        Err(LoginWait { wait, first }) => {
            let secs = u64::try_from(wait.as_millis().div_ceil(1000))
                .unwrap_or(u64::MAX)
                .max(1);
            tracing::warn!(%ip, wait = secs, "console login throttled");
            if first {
                let refused = RefusedLogin::Throttled {
                    login: match key {
                        Login::Account(account) => Some(account.to_owned()),
                        Login::NoAccount => None,
                    },
                    wait_secs: secs,
                };
                record_refusal(state, &refused, ip).await;
            }
            return Ok(Err(LoginRefusal::Throttled(secs)));
        }
    };
    let password = password
        .chars()
        .take(MAX_PASSWORD_CHARS)
        .collect::<String>();
    // An unknown login costs a check against a dummy hash: it takes as long as a wrong
    // password.
    let (hash, staff) = match credentials {
        Some(found) => (found.password_hash, Some(found.staff)),
        None => (DUMMY_HASH.to_owned(), None),
    };
    let matches = verify_password(password, hash).await;
    let refused = match staff {
        Some(staff) if matches && staff.disabled_at.is_none() => {
            attempt.succeeded();
            let token = generate_code(43);
            let csrf = generate_code(32);
            let session = state
                .store
                .create_staff_session(&staff, &token_hash(&token), &csrf, Some(ip), now_ms())
                .await?;
            tracing::info!(login = %staff.login, role = staff.role.as_str(), %ip, "console login");
            return Ok(Ok((token, session)));
        }
        Some(staff) if staff.disabled_at.is_some() => RefusedLogin::Disabled(staff.login),
        Some(staff) => RefusedLogin::WrongPassword(staff.login),
        None => RefusedLogin::UnknownLogin,
    };
    let wait = attempt.failed(crate::clock::monotonic());
    // The login typed is not logged when it names no account: it may be a password typed in
    // the wrong field.
    tracing::warn!(%ip, wait = wait.map(|w| w.as_secs()), "console login refused");
    record_refusal(state, &refused, ip).await;
    Ok(Err(LoginRefusal::BadCredentials))
}

/// Writes a refused login to the event log. A database that cannot take it does not change
/// the answer (it is logged).
async fn record_refusal(state: &AppState, refused: &RefusedLogin, ip: &str) {
    if let Err(err) = state
        .store
        .record_refused_login(refused, ip, now_ms())
        .await
    {
        tracing::warn!(%ip, error = %err, "could not record a refused console login");
    }
}

/// Lifts the waits of `login`'s console logins, on this server at once and, through the event
/// log, on every other instance; returns the account.
pub async fn unblock(state: &AppState, login: &str, actor: &Actor) -> Result<StaffRow, StoreError> {
    let staff = state.store.unblock_staff(login, actor, now_ms()).await?;
    let pairs = state.login_throttle.unblock(&staff.login);
    tracing::info!(login = %staff.login, pairs, "console logins unblocked");
    Ok(staff)
}

/// `Set-Cookie` value that opens a session.
pub fn session_cookie(state: &AppState, token: &str) -> String {
    let (name, secure) = cookie_name(state);
    format!("{name}={token}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

/// `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(state: &AppState) -> String {
    let (name, secure) = cookie_name(state);
    format!("{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

fn cookie_name(state: &AppState) -> (&'static str, &'static str) {
    if state.settings().secure_cookies {
        (SECURE_COOKIE, "; Secure")
    } else {
        (COOKIE, "")
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn read_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The peer's address as text.
pub fn peer_ip(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip().to_string())
        .unwrap_or_else(|| "inconnue".to_owned())
}

/// A form that changes something must come from a page of this server: the browser says
/// where a request comes from (`Origin`, `Sec-Fetch-Site`); one from another site is refused
/// even before the CSRF token is compared.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Old browsers and non-browser clients send no Origin; the CSRF token still applies.
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// Constant-time comparison of CSRF tokens.
pub fn tokens_match(expected: &str, given: &str) -> bool {
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// The logged-in staff member of a request. Extracting it refuses requests without a live
/// session (`ConsoleError::LoginRequired`), and, for anything but GET and HEAD, requests from
/// another origin.
#[derive(Debug, Clone)]
pub struct Staff {
    pub session: StaffSessionRow,
    /// The spaces the account works in: nothing of another space is shown or done.
    pub scope: SpaceScope,
    /// What the space switcher shows: one of those spaces, or all of them (`scope`).
    pub view: SpaceScope,
    /// The spaces of `scope`, by id, with their names (the switcher's list).
    pub spaces: Vec<(i64, String)>,
}

/// The cookie that keeps the space chosen in the switcher (a preference, not a right: the
/// account's spaces are checked on every request).
pub const VIEW_COOKIE: &str = "poste_espace";

impl Staff {
    /// Refuses what is the whole site's (its spaces, its settings) to an admin who does not
    /// work in every space.
    pub fn require_site_admin(&self) -> Result<(), ConsoleError> {
        self.require_admin()?;
        if self.scope == SpaceScope::Every {
            Ok(())
        } else {
            tracing::warn!(login = %self.session.staff.login, "console: a whole site's page refused to an admin of some spaces");
            Err(ConsoleError::OtherSpace)
        }
    }

    /// Whether every space of `other` is one of this account's: an admin manages only the
    /// accounts (and gives only the spaces) within their own.
    pub fn covers(&self, other: &SpaceScope) -> bool {
        match (&self.scope, other) {
            (SpaceScope::Every, _) => true,
            (SpaceScope::Only(_), SpaceScope::Every) => false,
            (SpaceScope::Only(_), SpaceScope::Only(ids)) => {
                ids.iter().all(|id| self.scope.contains(*id))
            }
        }
    }

    /// Refuses spaces beyond this account's own.
    pub fn require_covers(&self, other: &SpaceScope) -> Result<(), ConsoleError> {
        if self.covers(other) {
            Ok(())
        } else {
            tracing::warn!(login = %self.session.staff.login, "console: an account or spaces beyond the admin's own refused");
            Err(ConsoleError::OtherSpace)
        }
    }

    /// Refuses what belongs to a space the account does not work in.
    pub fn require_space(&self, espace_id: i64) -> Result<(), ConsoleError> {
        if self.scope.contains(espace_id) {
            Ok(())
        } else {
            tracing::warn!(login = %self.session.staff.login, espace_id, "console: another space's workstation or session refused");
            Err(ConsoleError::OtherSpace)
        }
    }

    /// Refuses a workstation of another space; an unknown one passes (the use case says it
    /// does not exist).
    pub async fn require_poste(&self, state: &AppState, poste_id: i64) -> Result<(), ConsoleError> {
        match state.store.poste(poste_id).await? {
            Some(poste) => self.require_space(poste.espace_id),
            None => Ok(()),
        }
    }

    /// Refuses a session of another space: once started, its workstation's; before, its
    /// code's (a code of every space is everyone's). An unknown one passes.
    pub async fn require_session(
        &self,
        state: &AppState,
        session_id: i64,
    ) -> Result<(), ConsoleError> {
        let Some(row) = state.store.session(session_id).await? else {
            return Ok(());
        };
        self.require_session_row(state, &row).await
    }

    pub async fn require_session_row(
        &self,
        state: &AppState,
        row: &SessionRow,
    ) -> Result<(), ConsoleError> {
        match (row.poste_id, row.espace_id) {
            (Some(poste_id), _) => self.require_poste(state, poste_id).await,
            (None, Some(espace_id)) => self.require_space(espace_id),
            (None, None) => Ok(()),
        }
    }

    pub fn account(&self) -> &StaffRow {
        &self.session.staff
    }

    pub fn actor(&self) -> Actor {
        Actor::Staff {
            login: self.session.staff.login.clone(),
            ip: self.session.ip.clone(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.session.staff.role == StaffRole::Admin
    }

    /// Refuses a staff member without the admin role.
    pub fn require_admin(&self) -> Result<(), ConsoleError> {
        if self.is_admin() {
            Ok(())
        } else {
            tracing::warn!(login = %self.session.staff.login, "console: admin page refused");
            Err(ConsoleError::Forbidden)
        }
    }

    /// Compares the CSRF token a form sent back.
    pub fn check_csrf(&self, given: &str) -> Result<(), ConsoleError> {
        if tokens_match(&self.session.csrf_token, given) {
            Ok(())
        } else {
            tracing::warn!(login = %self.session.staff.login, "console: CSRF token mismatch");
            Err(ConsoleError::Csrf)
        }
    }

    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if !matches!(parts.method, Method::GET | Method::HEAD) && !same_origin(&parts.headers) {
            tracing::warn!(ip = %peer_ip(parts), "console: cross-site request refused");
            return Err(ConsoleError::Csrf);
        }
        let (name, _) = cookie_name(state);
        let Some(token) = read_cookie(&parts.headers, name).filter(|t| !t.is_empty()) else {
            return Err(ConsoleError::LoginRequired);
        };
        let Some(session) = state.store.staff_session(&token_hash(token)).await? else {
            return Err(ConsoleError::LoginRequired);
        };
        let now = now_ms();
        let idle_ms = state.settings().console_idle_secs.saturating_mul(1000);
        if now - session.last_seen > idle_ms || session.staff.disabled_at.is_some() {
            state
                .store
                .delete_staff_session(&session, false, now)
                .await?;
            return Err(ConsoleError::LoginRequired);
        }
        // The live feed and the tiles it refreshes (the dashboard's, a workstation page's) are
        // not activity: an open page alone must not keep a session alive forever.
        let path = parts.uri.path();
        let passive =
            path.ends_with("/flux") || path.ends_with("/tuiles") || path.ends_with("/tuile");
        if !passive && now - session.last_seen > TOUCH_EVERY_MS {
            state.store.touch_staff_session(session.id, now).await?;
        }
        let scope = state.store.staff_scope(&session.staff).await?;
        let spaces: Vec<(i64, String)> = state
            .store
            .list_spaces()
            .await?
            .into_iter()
            .filter(|space| scope.contains(space.id))
            .map(|space| (space.id, space.nom))
            .collect();
        // A space chosen then deleted, or no longer the account's, shows all of its spaces.
        let chosen = read_cookie(&parts.headers, VIEW_COOKIE).and_then(|id| id.parse::<i64>().ok());
        let view = match chosen {
            Some(id) if spaces.iter().any(|(own, _)| *own == id) => SpaceScope::only(vec![id]),
            _ => scope.clone(),
        };
        Ok(Staff {
            session,
            scope,
            view,
            spaces,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (key, value) in pairs {
            map.append(*key, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn origin_must_be_this_host() {
        assert!(same_origin(&headers(&[("host", "epn:8001")])));
        assert!(same_origin(&headers(&[
            ("host", "epn:8001"),
            ("origin", "http://epn:8001")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "epn:8001"),
            ("origin", "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "epn:8001"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "epn:8001"),
            ("origin", "null")
        ])));
    }

    #[test]
    fn cookies_are_read_by_name() {
        let map = headers(&[("cookie", "a=1; poste_session=abc; b=2")]);
        assert_eq!(read_cookie(&map, "poste_session"), Some("abc"));
        assert_eq!(read_cookie(&map, "absent"), None);
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("abc", "ab"));
    }

    #[tokio::test]
    async fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery".into(), hash.clone()).await);
        assert!(!verify_password("wrong".into(), hash).await);
        assert!(!verify_password("x".into(), "not a hash".into()).await);
        // The dummy hash parses (so an unknown login costs a real verification).
        assert!(argon2::password_hash::phc::PasswordHash::new(DUMMY_HASH).is_ok());
        assert_eq!(check_new_password("court"), Err(t::PASSWORD_TOO_SHORT));
        assert!(check_new_password("assez longtemps").is_ok());
    }
}
