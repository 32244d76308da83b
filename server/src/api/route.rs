//! How a REST resource declares its routes, once each: the handler's `#[utoipa::path]`
//! gives the method and path (and the OpenAPI operation), the declaration beside it gives
//! the access rule. The router, the OpenAPI document and the guard's access table all come
//! from the same declarations, so a route cannot be served without a rule or documented
//! without being served.

use app::auth::access::Access;
use app::state::AppState;
use axum::http::Method;
use utoipa::openapi::path::PathItem;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

/// What one method on one path requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The HTTP method.
    pub method: Method,
    /// The path as declared: `{name}` stands for any one segment.
    pub path: String,
    /// Who may call it.
    pub access: Access,
}

/// Whether a request's `path` is one of `template`'s (`/api/v1/jobs/{id}/run`): the same
/// segments, a `{name}` segment matching any non-empty one, as the router matches them.
pub fn matches(template: &str, path: &str) -> bool {
    let mut wanted = template.split('/');
    let mut given = path.split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') && !g.is_empty() => {}
            (Some(w), Some(g)) if w == g => {}
            _ => return false,
        }
    }
}

/// The rules of the route a request for `path` reaches: the path declared exactly as it
/// is, else the templates it matches. As the router, a fixed path wins over a parameter
/// (`POST /api/v1/jobs/run` is not `GET /api/v1/jobs/{id}` with the id "run").
pub fn at<'a>(rules: &'a [Rule], path: &str) -> Vec<&'a Rule> {
    let exact: Vec<&Rule> = rules.iter().filter(|rule| rule.path == path).collect();
    if !exact.is_empty() {
        return exact;
    }
    rules
        .iter()
        .filter(|rule| matches(&rule.path, path))
        .collect()
}

/// Declared routes: served, documented and guarded together.
pub struct Routes {
    router: OpenApiRouter<AppState>,
    rules: Vec<Rule>,
}

/// The methods a documented path item has operations for.
fn methods(item: &PathItem) -> Vec<Method> {
    [
        (Method::GET, item.get.is_some()),
        (Method::POST, item.post.is_some()),
        (Method::PUT, item.put.is_some()),
        (Method::PATCH, item.patch.is_some()),
        (Method::DELETE, item.delete.is_some()),
    ]
    .into_iter()
    .filter_map(|(method, present)| present.then_some(method))
    .collect()
}

impl Routes {
    /// No routes yet.
    pub fn new() -> Self {
        Self {
            router: OpenApiRouter::new(),
            rules: Vec::new(),
        }
    }

    /// Declares the handler(s) of `route` (from `utoipa_axum::routes!`) with `access`.
    pub fn route(mut self, access: Access, route: UtoipaMethodRouter<AppState>) -> Self {
        for (path, item) in route.1.paths.iter() {
            for method in methods(item) {
                self.rules.push(Rule {
                    method,
                    path: path.clone(),
                    access,
                });
            }
        }
        self.router = self.router.routes(route);
        self
    }

    /// Adds another resource's routes.
    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.rules.extend(other.rules);
        self
    }

    /// The access rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The axum router and the OpenAPI document's paths and schemas.
    pub fn split(self) -> (axum::Router<AppState>, utoipa::openapi::OpenApi, Vec<Rule>) {
        let (router, openapi) = self.router.split_for_parts();
        (router, openapi, self.rules)
    }
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_stands_for_one_segment() {
        assert!(matches("/api/v1/jobs", "/api/v1/jobs"));
        assert!(matches("/api/v1/jobs/{id}/run", "/api/v1/jobs/1000/run"));
        assert!(matches("/api/v1/jobs/{id}", "/api/v1/jobs/%7Bid%7D"));
        assert!(!matches("/api/v1/jobs/{id}/run", "/api/v1/jobs//run"));
        assert!(!matches("/api/v1/jobs/{id}/run", "/api/v1/jobs/1/2/run"));
        assert!(!matches("/api/v1/jobs/{id}", "/api/v1/jobs"));
        assert!(!matches("/api/v1/jobs", "/api/v1/jobs/"));
        assert!(!matches("/api/v1/jobs/run", "/api/v1/jobs/pause"));
    }

    #[test]
    fn a_fixed_path_wins_over_a_parameter() {
        let rule = |method: Method, path: &str| Rule {
            method,
            path: path.into(),
            access: Access::Public,
        };
        let rules = [
            rule(Method::GET, "/api/v1/jobs/{id}"),
            rule(Method::POST, "/api/v1/jobs/run"),
        ];
        let methods = |path: &str| -> Vec<Method> {
            at(&rules, path)
                .into_iter()
                .map(|r| r.method.clone())
                .collect()
        };
        assert_eq!(methods("/api/v1/jobs/run"), [Method::POST]);
        assert_eq!(methods("/api/v1/jobs/1000"), [Method::GET]);
        assert!(methods("/api/v1/jobs").is_empty());
    }
}
