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
/// accepts them (and `precompressed`), `Last-Modified` and `304 Not Modified`, and
/// `Cache-Control: no-cache` (file names carry no content hash yet, so browsers revalidate:
/// one round trip, no body).
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
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::VARY,
            HeaderValue::from_static("accept-encoding"),
        ))
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
