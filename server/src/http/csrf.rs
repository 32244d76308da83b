//! Cross-site request forgery defence for state-changing requests that rely on the
//! session cookie: besides `SameSite=Lax`, the request must say it comes from this
//! site (`Origin`, or `Referer` when a browser sends no `Origin`).

use axum::http::header::{HOST, ORIGIN, REFERER};
use axum::http::HeaderMap;

/// The authority (`host[:port]`) of an absolute `http(s)` URL.
fn authority(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// `Ok` when the request's `Origin` (or `Referer`) names the host it was sent to; the
/// error says what was wrong, for the log.
pub fn check(headers: &HeaderMap) -> Result<(), String> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    // A reverse proxy may rewrite Host; it states the original in X-Forwarded-Host.
    // Browsers cannot set that header cross-site without a CORS preflight, which the
    // console never grants.
    let hosts: Vec<&str> = [text("x-forwarded-host"), text(HOST.as_str())]
        .into_iter()
        .flatten()
        .collect();
    if hosts.is_empty() {
        return Err("no Host header".into());
    }
    let (source, value) = match (text(ORIGIN.as_str()), text(REFERER.as_str())) {
        (Some(origin), _) => ("Origin", origin),
        (None, Some(referer)) => ("Referer", referer),
        (None, None) => return Err("neither Origin nor Referer is present".into()),
    };
    match authority(value) {
        Some(found) if hosts.iter().any(|h| h.eq_ignore_ascii_case(found)) => Ok(()),
        _ => Err(format!(
            "{source} {value:?} is not this site ({})",
            hosts.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn same_site_requests_pass() {
        let host = ("host", "console.example:3000");
        assert!(check(&headers(&[host, ("origin", "http://console.example:3000")])).is_ok());
        assert!(check(&headers(&[
            host,
            ("origin", "https://CONSOLE.example:3000")
        ]))
        .is_ok());
        assert!(check(&headers(&[
            host,
            ("referer", "http://console.example:3000/admin/users?x=1")
        ]))
        .is_ok());
        assert!(check(&headers(&[
            ("host", "10.0.0.5:3000"),
            ("x-forwarded-host", "console.example"),
            ("origin", "https://console.example")
        ]))
        .is_ok());
    }

    #[test]
    fn cross_site_and_anonymous_requests_are_refused() {
        let host = ("host", "console.example:3000");
        assert!(check(&headers(&[host, ("origin", "http://evil.example")])).is_err());
        assert!(check(&headers(&[host, ("origin", "http://console.example:3001")])).is_err());
        assert!(check(&headers(&[host, ("origin", "null")])).is_err());
        assert!(check(&headers(&[host])).is_err());
        assert!(check(&headers(&[
            host,
            ("referer", "http://console.example:3000.evil.example/")
        ]))
        .is_err());
        assert!(check(&headers(&[("origin", "http://console.example:3000")])).is_err());
    }
}
