//! The OpenAPI 3 document, generated from the handlers' annotations, and a page that
//! renders it on the server (no script, no CDN).

use super::{health, me, monitoring};
use axum::response::Html;
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "MS5.0 TimescaleDB Console",
        description = "Monitoring facts of the MS5.0 TimescaleDB. Machine clients send an API token as `Authorization: Bearer ms5_…`; browsers use the session cookie. Errors are `{\"error\":{\"code\",\"message\"}}`."
    ),
    paths(
        health::health,
        monitoring::database,
        monitoring::timescaledb,
        monitoring::hypertables,
        monitoring::compression,
        monitoring::chunks,
        monitoring::status,
        monitoring::configuration,
        monitoring::refresh,
        monitoring::prometheus,
        monitoring::events,
        me::me,
    ),
    modifiers(&BearerToken),
    tags((name = "monitoring", description = "Health, sizes, compression, chunks, jobs"))
)]
pub struct ApiDoc;

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

/// `GET /api/v1/openapi.json`.
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /api/v1/docs`: every operation with its parameters and responses.
pub async fn page() -> Html<String> {
    let doc = ApiDoc::openapi();
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
         <link rel=\"stylesheet\" href=\"/pkg/ms5-console.css\"></head><body><main class=\"api-docs\">\
         <section class=\"panel\"><h1>{}</h1><p>{}</p><p><a href=\"/api/v1/openapi.json\">OpenAPI 3 document (JSON)</a> · <a href=\"/\">console</a></p></section>{body}</main></body></html>",
        escape(&doc.info.title),
        escape(doc.info.description.as_deref().unwrap_or(""))
    ))
}
