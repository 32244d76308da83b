//! The built site's static files (WASM, its JavaScript glue, CSS, ECharts) with their
//! precompressed siblings: `make build-release` writes `name.br` and `name.gz` beside each
//! file, and a browser that accepts brotli gets the 11-quality brotli file instead of the
//! 1.8 MB WASM. A sibling older than its file (a build without the compression step,
//! `cargo leptos watch`) is removed at start-up, so a stale WASM is never served; such a
//! file is then compressed on the fly like any other response.

use axum::http::header::{self, HeaderValue};
use axum::Router;
use std::path::Path;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// Folders of the site root served as static files.
pub const FOLDERS: [&str; 2] = ["pkg", "vendor"];

/// Suffixes of the precompressed siblings.
const SIBLINGS: [&str; 2] = ["br", "gz"];

/// Routes serving each folder of `site_root`: precompressed siblings when the browser
/// accepts them (and `precompressed`), `Last-Modified` and `304 Not Modified`, and a
/// `Cache-Control` by name: a year, immutable, for a name carrying a content hash (the
/// build's WASM, glue and CSS); `no-cache` for the others (ECharts, an unhashed debug
/// build), so browsers revalidate them: one round trip, no body.
pub fn routes<S: Clone + Send + Sync + 'static>(
    site_root: &Path,
    precompressed: bool,
) -> Router<S> {
    let mut router = Router::new();
    for folder in FOLDERS {
        let files = ServeDir::new(site_root.join(folder));
        let files = if precompressed {
            files.precompressed_br().precompressed_gzip()
        } else {
            files
        };
        router = router.nest_service(&format!("/{folder}"), files);
    }
    router
        .layer(axum::middleware::from_fn(cache_by_name))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::VARY,
            HeaderValue::from_static("accept-encoding"),
        ))
}

/// Sets `Cache-Control` from the file name (see [`routes`]).
async fn cache_by_name(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let hashed = carries_content_hash(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status() == axum::http::StatusCode::NOT_MODIFIED {
        let policy = if hashed {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

/// Whether the last segment of `path` reads `name.HASH.ext` (cargo-leptos' hashed
/// names: the hash is URL-safe base64 of at least 8 characters).
pub fn carries_content_hash(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let parts: Vec<&str> = file.split('.').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty())
        && parts[parts.len() - 2].len() >= 8
        && parts[parts.len() - 2]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Removes precompressed siblings older than their file (or without one): how many went,
/// or `None` when one could not be removed (then no sibling may be served at all).
pub fn prune_stale(site_root: &Path) -> Option<usize> {
    let mut removed = 0;
    let mut stuck = false;
    for folder in FOLDERS {
        let Ok(entries) = std::fs::read_dir(site_root.join(folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let is_sibling = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| SIBLINGS.contains(&e));
            if !is_sibling {
                continue;
            }
            let original = path.with_extension("");
            let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
            let stale = match (modified(&original), modified(&path)) {
                (Some(file), Some(sibling)) => sibling < file,
                _ => true,
            };
            if stale {
                match std::fs::remove_file(&path) {
                    Ok(()) => {
                        tracing::info!(file = %path.display(), "removed a stale precompressed file");
                        removed += 1;
                    }
                    Err(error) => {
                        tracing::warn!(file = %path.display(), %error, "cannot remove a stale precompressed file; serving every file uncompressed");
                        stuck = true;
                    }
                }
            }
        }
    }
    (!stuck).then_some(removed)
}

#[cfg(test)]
mod tests {
    use super::carries_content_hash;

    #[test]
    fn only_names_with_a_content_hash_are_kept_for_a_year() {
        assert!(carries_content_hash("/pkg/ms5-console.q1Ws-9Xk2dA_.wasm"));
        assert!(carries_content_hash("/pkg/ms5-console.q1Ws9Xk2dAbC.css"));
        assert!(!carries_content_hash("/pkg/ms5-console.wasm"));
        assert!(!carries_content_hash("/vendor/echarts.min.js"));
        assert!(!carries_content_hash("/pkg/ms5-console..wasm"));
        assert!(!carries_content_hash("/pkg/a.b c d e f g h.js"));
    }
}
