//! Cross-site request forgery defence for state-changing requests that rely on the
//! session cookie: besides `SameSite=Lax`, the request must say it comes from this
//! site (`Origin`, or `Referer` when a browser sends no `Origin`): the same scheme and
//! host the client used, as the connection (or a trusted proxy) tells it.

use axum::http::header::{ORIGIN, REFERER};
use axum::http::HeaderMap;

/// `scheme://authority` of an absolute `http(s)` URL.
fn origin_of(url: &str) -> Option<&str> {
    let scheme_end = if url.starts_with("https://") {
        "https://".len()
    } else if url.starts_with("http://") {
        "http://".len()
    } else {
        return None;
    };
    let end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    Some(&url[..end])
}

/// `Ok` when the request's `Origin` (or `Referer`) is `scheme://host`, the site the
/// client sent the request to; the error says what was wrong, for the log.
pub fn check(headers: &HeaderMap, scheme: &str, host: Option<&str>) -> Result<(), String> {
    let Some(host) = host else {
        return Err("no Host header".into());
    };
    let expected = format!("{scheme}://{host}");
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let (source, value) = match (text(ORIGIN.as_str()), text(REFERER.as_str())) {
        (Some(origin), _) => ("Origin", origin),
        (None, Some(referer)) => ("Referer", referer),
        (None, None) => return Err("neither Origin nor Referer is present".into()),
    };
    match origin_of(value) {
        Some(found) if found.eq_ignore_ascii_case(&expected) => Ok(()),
        _ => Err(format!("{source} {value:?} is not this site ({expected})")),
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

    fn site(headers: &HeaderMap) -> Result<(), String> {
        check(headers, "http", Some("console.example:3000"))
    }

    #[test]
    fn same_site_requests_pass() {
        assert!(site(&headers(&[("origin", "http://console.example:3000")])).is_ok());
        assert!(site(&headers(&[("origin", "http://CONSOLE.example:3000")])).is_ok());
        assert!(site(&headers(&[(
            "referer",
            "http://console.example:3000/admin/users?x=1"
        )]))
        .is_ok());
        // Behind a trusted TLS proxy the scheme and host are the proxy's.
        assert!(check(
            &headers(&[("origin", "https://console.example")]),
            "https",
            Some("console.example")
        )
        .is_ok());
    }

    #[test]
    fn cross_site_and_anonymous_requests_are_refused() {
        assert!(site(&headers(&[("origin", "http://evil.example")])).is_err());
        assert!(site(&headers(&[("origin", "http://console.example:3001")])).is_err());
        assert!(site(&headers(&[("origin", "null")])).is_err());
        assert!(site(&headers(&[])).is_err());
        assert!(site(&headers(&[(
            "referer",
            "http://console.example:3000.evil.example/"
        )]))
        .is_err());
        // An https page of the same name is another site for a plain-http console.
        assert!(site(&headers(&[("origin", "https://console.example:3000")])).is_err());
        assert!(check(
            &headers(&[("origin", "http://console.example:3000")]),
            "http",
            None
        )
        .is_err());
    }
}
