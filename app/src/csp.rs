//! The Content-Security-Policy: scripts only from the console itself (plus, on pages, the
//! inline hydration and streaming scripts Leptos marks with this response's nonce), WASM
//! compiled from those scripts, styles from the console's stylesheet (inline `style`
//! attributes allowed: components size bars and charts with them), connections back to
//! the console only, and no framing, plugins, foreign `<base>` or form targets.

/// The policy; `nonce` is the page's, `None` for responses without inline scripts.
pub fn policy(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        Some(nonce) => format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_string(),
    };
    format!(
        "default-src 'self'; {scripts}; style-src 'self'; style-src-attr 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; object-src 'none'; \
         base-uri 'self'; form-action 'self'"
    )
}

/// Puts the page's policy, with its nonce, on the response being rendered.
#[cfg(feature = "ssr")]
pub fn apply_to_page() {
    use leptos::prelude::use_context;
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let nonce = leptos::nonce::use_nonce();
    if let Ok(value) =
        axum::http::HeaderValue::from_str(&policy(nonce.as_ref().map(|n| n.as_ref())))
    {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_need_the_nonce_and_nothing_else_is_inline() {
        let page = policy(Some("abc123"));
        assert!(page.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"));
        assert!(
            !page.contains("'unsafe-inline';") || page.contains("style-src-attr 'unsafe-inline';")
        );
        assert!(!page.contains("unsafe-eval'") || page.contains("'wasm-unsafe-eval'"));
        let other = policy(None);
        assert!(other.contains("script-src 'self' 'wasm-unsafe-eval';"));
        assert!(!other.contains("nonce"));
        for directive in [
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'self'",
        ] {
            assert!(page.contains(directive) && other.contains(directive));
        }
    }
}
