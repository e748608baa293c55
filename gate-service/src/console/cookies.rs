//! Reading and setting the console's cookies.

use axum::http::{HeaderMap, header};

/// The value of cookie `name` in the request, if any.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure when `secure`.
pub fn set(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}
