//! Forms of the console: the extractor that checks the login and the CSRF token before a
//! handler sees the fields, and the one-shot flash message shown after a redirect.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::console::ConsoleError;
use crate::console::auth::{Staff, read_cookie};
use crate::state::AppState;

/// Largest form accepted (the server's body limit is larger; forms are small).
const MAX_FORM_BYTES: usize = 16 * 1024;

/// A form posted by a logged-in staff member, whose CSRF token matched.
#[derive(Debug)]
pub struct Action<T> {
    pub staff: Staff,
    pub form: T,
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Action<T> {
    type Rejection = ConsoleError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let staff = Staff::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| ConsoleError::BadForm)?;
        let csrf: CsrfField =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| ConsoleError::BadForm)?;
        staff.check_csrf(&csrf.csrf)?;
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|err| {
            tracing::info!(error = %err, "console: malformed form");
            ConsoleError::BadForm
        })?;
        Ok(Action { staff, form })
    }
}

/// Parses a form posted without a login (the login form itself).
pub async fn public_form<T: DeserializeOwned>(request: Request) -> Result<T, ConsoleError> {
    let bytes = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES)
        .await
        .map_err(|_| ConsoleError::BadForm)?;
    serde_urlencoded::from_bytes(&bytes).map_err(|_| ConsoleError::BadForm)
}

const FLASH_COOKIE: &str = "poste_flash";

/// A message shown once, on the page a form redirects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub ok: bool,
    pub text: String,
}

/// Redirects (303) to `to` with a flash message. The cookie holds the kind and the text in
/// hex, so that no character of the text can break the cookie's syntax.
pub fn redirect_with(to: &str, ok: bool, text: &str) -> Response {
    let hex: String = text.bytes().map(|byte| format!("{byte:02x}")).collect();
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response();
    let cookie = format!(
        "{FLASH_COOKIE}={}.{hex}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=60",
        if ok { "ok" } else { "err" }
    );
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The flash message of this request, if any (the caller clears it with [`clear_flash`]).
/// A forged cookie can only show text, escaped like any other.
pub fn take_flash(headers: &HeaderMap) -> Option<Flash> {
    let (kind, hex) = read_cookie(headers, FLASH_COOKIE)?.split_once('.')?;
    if hex.len() % 2 != 0 || hex.len() > 2000 {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some(Flash {
        ok: kind == "ok",
        text: String::from_utf8(bytes).ok()?,
    })
}

/// Adds the header that removes the flash cookie once shown.
pub fn clear_flash(mut response: Response) -> Response {
    let cookie = format!("{FLASH_COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flash_round_trips_through_its_cookie() {
        let response = redirect_with(
            "/console/",
            true,
            "5 min ajoutées sur Poste-03 ; « ok » & fin",
        );
        let set = response
            .headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap();
        let value = set.split(';').next().unwrap().to_owned();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&value).unwrap());
        let flash = take_flash(&headers).unwrap();
        assert!(flash.ok);
        assert_eq!(flash.text, "5 min ajoutées sur Poste-03 ; « ok » & fin");
    }
}
