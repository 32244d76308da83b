//! What a browser gets over the wire: the built site's files in their precompressed form
//! when it accepts one (never a sibling older than its file), revalidation instead of a
//! second download, and compressed JSON; pages stay uncompressed so they stream.

mod support;

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use server::http::static_files;
use std::path::Path;
use std::time::{Duration, SystemTime};
use support::Console;
use tower::ServiceExt;

/// Writes `bytes` to `path` with the given modification time.
fn write(path: &Path, bytes: &[u8], modified: SystemTime) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(modified)
        .unwrap();
}

/// GET `path` with these headers: status, headers, body.
async fn get(
    root: &Path,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = static_files::routes::<()>(root, true)
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body.to_vec())
}

#[tokio::test]
async fn precompressed_files_are_served_when_accepted_and_fresh() {
    let root = std::env::temp_dir().join(format!("ms5-static-{}", std::process::id()));
    std::fs::remove_dir_all(&root).ok();
    let then = SystemTime::now() - Duration::from_secs(3600);
    let now = SystemTime::now();
    let script = b"console.log('the console');\n".repeat(50);
    write(&root.join("pkg/app.js"), &script, then);
    write(&root.join("pkg/app.js.br"), b"brotli bytes", then);
    write(&root.join("pkg/app.js.gz"), b"gzip bytes", now);
    // Rebuilt after its siblings were made: they must go, not be served.
    write(&root.join("vendor/lib.js.br"), b"stale brotli", then);
    write(&root.join("vendor/lib.js"), b"fresh library", now);
    write(&root.join("vendor/orphan.js.gz"), b"no original", now);

    assert_eq!(static_files::prune_stale(&root), Some(2));
    assert!(!root.join("vendor/lib.js.br").exists());
    assert!(!root.join("vendor/orphan.js.gz").exists());
    assert!(root.join("pkg/app.js.br").exists());

    let (status, headers, body) =
        get(&root, "/pkg/app.js", &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"brotli bytes");
    assert_eq!(headers["content-encoding"], "br");
    assert_eq!(headers["vary"], "accept-encoding");
    assert_eq!(headers["cache-control"], "no-cache");
    let (_, headers, body) = get(&root, "/pkg/app.js", &[("accept-encoding", "gzip")]).await;
    assert_eq!(body, b"gzip bytes");
    assert_eq!(headers["content-encoding"], "gzip");
    let (_, headers, body) = get(&root, "/pkg/app.js", &[]).await;
    assert_eq!(body, script);
    assert!(headers.get("content-encoding").is_none());

    // A browser that has the file asks again and gets no body.
    let last_modified = headers["last-modified"].to_str().unwrap().to_string();
    let (status, _, body) = get(
        &root,
        "/pkg/app.js",
        &[
            ("if-modified-since", &last_modified),
            ("accept-encoding", "br"),
        ],
    )
    .await;
    assert_eq!((status, body.len()), (StatusCode::NOT_MODIFIED, 0));

    let (status, headers, body) = get(&root, "/vendor/lib.js", &[("accept-encoding", "br")]).await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::OK, &b"fresh library"[..])
    );
    assert!(headers.get("content-encoding").is_none());
    let (status, headers, _) = get(&root, "/pkg/missing.js", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        headers.get("cache-control").is_none(),
        "a miss is not cached"
    );

    // A name with a content hash (the release build's) is kept for a year.
    write(&root.join("pkg/app.Qw3rTy-12_ab.wasm"), b"hashed wasm", now);
    let (status, headers, body) = get(&root, "/pkg/app.Qw3rTy-12_ab.wasm", &[]).await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::OK, &b"hashed wasm"[..])
    );
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test]
async fn json_is_compressed_and_pages_are_not() {
    let console = Console::start(false).await;
    let plain = console.request("GET", "/api/v1/openapi.json").send().await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.headers.get("content-encoding").is_none());
    for encoding in ["gzip", "br"] {
        let packed = console
            .request("GET", "/api/v1/openapi.json")
            .header("accept-encoding", encoding)
            .send()
            .await;
        assert_eq!(packed.status, StatusCode::OK);
        assert_eq!(packed.headers["content-encoding"], encoding);
        let page = console
            .request("GET", "/login")
            .header("accept-encoding", encoding)
            .send()
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.headers.get("content-encoding").is_none(),
            "pages stream uncompressed"
        );
    }
}
