//! The OpenAPI 3 document, generated from the handlers' annotations, and a page that
//! renders it on the server (no script, no CDN).

use super::route::Routes;
use app::auth::access::Access;
use axum::response::Html;
use axum::Json;
use std::sync::LazyLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::routes;

/// The document's frame; its paths come from the declared routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "MS5.0 TimescaleDB Console",
        description = "Monitoring facts of the MS5.0 TimescaleDB. Machine clients send an API token as `Authorization: Bearer ms5_…`; browsers use the session cookie. Errors are `{\"error\":{\"code\",\"message\"}}`."
    ),
    modifiers(&BearerToken),
    tags(
        (name = "monitoring", description = "Health, sizes, compression, chunks, jobs"),
        (name = "policies", description = "Data-lifecycle policies: desired, live, drift, plan, apply"),
        (name = "jobs", description = "Background jobs: runs, run now, pause, resume"),
        (name = "alerts", description = "Failing and stale jobs: open alerts, history, acknowledge"),
        (name = "storage", description = "Storage history, trends (JSON and CSV), forecast and budget"),
        (name = "diagnostics", description = "Findings with severity, explanation and fix"),
        (name = "advisor", description = "Compression advice and trial compression"),
        (name = "docs", description = "This document")
    )
)]
struct ApiDoc;

/// The document: the frame with every declared route's operation.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| {
        let mut document = ApiDoc::openapi();
        document.merge(super::declared().split().1);
        document
    });
    &DOCUMENT
}

/// The document and its rendering, public.
pub fn routes() -> Routes {
    Routes::new()
        .route(Access::Public, routes!(openapi_json))
        .route(Access::Public, routes!(page))
}

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("ms5_…")
                    .build(),
            ),
        );
    }
}

/// The OpenAPI 3 document of this API.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "docs",
    responses((status = 200, content_type = "application/json", body = Object)))]
pub async fn openapi_json() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(document())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// This API rendered as a page: every operation with its parameters and responses.
#[utoipa::path(get, path = "/api/v1/docs", tag = "docs",
    responses((status = 200, content_type = "text/html", body = String)))]
pub async fn page() -> Html<String> {
    let doc = document();
    let mut body = String::new();
    for (path, item) in &doc.paths.paths {
        let operations = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ];
        for (method, operation) in operations {
            let Some(op) = operation else { continue };
            let summary = op
                .summary
                .clone()
                .or(op.description.clone())
                .unwrap_or_default();
            body.push_str(&format!(
                "<section><h2><span class=\"method\">{method}</span> <code>{}</code></h2><p>{}</p>",
                escape(path),
                escape(&summary)
            ));
            if let Some(parameters) = &op.parameters {
                body.push_str("<table><tr><th>parameter</th><th>in</th><th>description</th></tr>");
                for p in parameters {
                    body.push_str(&format!(
                        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                        escape(&p.name),
                        serde_json::to_value(&p.parameter_in)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default(),
                        escape(p.description.as_deref().unwrap_or(""))
                    ));
                }
                body.push_str("</table>");
            }
            let codes: Vec<String> = op.responses.responses.keys().map(|k| escape(k)).collect();
            body.push_str(&format!(
                "<p class=\"muted\">responses: {}</p></section>",
                codes.join(", ")
            ));
        }
    }
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>API — MS5.0 TimescaleDB Console</title>\
         <link rel=\"stylesheet\" href=\"/pkg/ms5-console.css\"><link rel=\"icon\" href=\"/favicon.svg\"></head><body><main class=\"api-docs\">\
         <section class=\"panel\"><h1>{}</h1><p>{}</p><p><a href=\"/api/v1/openapi.json\">OpenAPI 3 document (JSON)</a> · <a href=\"/\">console</a></p></section>{body}</main></body></html>",
        escape(&doc.info.title),
        escape(doc.info.description.as_deref().unwrap_or(""))
    ))
}
