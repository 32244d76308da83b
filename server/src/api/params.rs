//! Query and path parameters: one typed struct per question an endpoint takes (serde reads
//! it, utoipa documents it from the same fields), refused in the API's error shape as
//! `invalid_parameter`, naming the parameter and the form it accepts.

use super::error::ApiError;
use app::error::AppError;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::IntoParams;

/// A 400 `invalid_parameter` with `message`, which names the parameter.
pub fn invalid(message: impl Into<String>) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        code: "invalid_parameter",
        message: message.into(),
        retry_after: None,
        details: None,
    }
}

/// A parameter's validation refusal (`AppError::Invalid`) as `invalid_parameter`; any
/// other error as it is.
pub fn refused(error: AppError) -> ApiError {
    match error {
        AppError::Invalid(message) => invalid(message),
        other => ApiError::from(other),
    }
}

/// Query parameters read into `T`. A query string that does not fit (a parameter given
/// twice, bad percent-encoding) is refused naming what was wrong; the values themselves
/// are validated by the endpoint's parser, whose messages name the parameter.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(invalid(format!("query string: {}", rejection.body_text()))),
        }
    }
}

/// Path parameters read into `T`, refused like [`ApiQuery`] (a segment that is not UTF-8
/// once decoded).
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(invalid(format!("path: {}", rejection.body_text()))),
        }
    }
}

/// A table or continuous aggregate as `schema.name`, parts double-quoted where they need
/// it: documented with the one regular expression of that grammar
/// ([`tsdb::ident::NAME_PATTERN`]), read by [`tsdb::ident::parse_display_name`].
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct RelationParam(pub String);

impl utoipa::PartialSchema for RelationParam {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(tsdb::ident::NAME_PATTERN))
            .max_length(Some(200))
            .into()
    }
}

impl utoipa::ToSchema for RelationParam {}

impl RelationParam {
    /// Schema and name, or `invalid_parameter` naming `field`.
    pub fn parts(&self, field: &str) -> Result<(String, String), ApiError> {
        tsdb::ident::parse_display_name(&self.0)
            .map_err(|form| invalid(format!("{field} {:?}: expected {form}", self.0)))
    }
}

/// `?hypertable=schema.name`, required.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HypertableQuery {
    /// The hypertable, `schema.name`.
    #[param(inline, required = true)]
    pub hypertable: Option<RelationParam>,
}

impl HypertableQuery {
    /// Schema and name, or `invalid_parameter`.
    pub fn parts(&self) -> Result<(String, String), ApiError> {
        match &self.hypertable {
            Some(name) => name.parts("hypertable"),
            None => Err(invalid(format!(
                "hypertable: required, {}",
                tsdb::ident::NAME_FORM
            ))),
        }
    }
}

/// A positive id in the query, read as text so the refusal can name the parameter.
fn required_id<T>(field: &str, raw: Option<&str>) -> Result<T, ApiError>
where
    T: std::str::FromStr + PartialOrd + From<u8>,
{
    let raw = raw.ok_or_else(|| invalid(format!("{field}: required, a positive whole number")))?;
    tsdb::types::parse_id(field, raw).map_err(invalid)
}

/// `?job_id=`, required.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// The job's id.
    #[param(value_type = i32, minimum = 1, required = true)]
    pub job_id: Option<String>,
}

impl JobQuery {
    /// The id, or `invalid_parameter`.
    pub fn id(&self) -> Result<i32, ApiError> {
        required_id("job_id", self.job_id.as_deref())
    }
}

/// `?id=` of an alert, required.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// The alert's id.
    #[param(value_type = i64, minimum = 1, required = true)]
    pub id: Option<String>,
}

impl AlertQuery {
    /// The id, or `invalid_parameter`.
    pub fn id(&self) -> Result<i64, ApiError> {
        required_id("id", self.id.as_deref())
    }
}

/// `?audit_id=` of a policy entry of the audit trail, required.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// A policy entry of the audit trail.
    #[param(value_type = i64, minimum = 1, required = true)]
    pub audit_id: Option<String>,
}

impl AuditQuery {
    /// The id, or `invalid_parameter`.
    pub fn id(&self) -> Result<i64, ApiError> {
        required_id("audit_id", self.audit_id.as_deref())
    }
}

/// A job's id in the path (`/api/v1/jobs/{id}/…`).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct JobPath {
    /// The job's id.
    #[param(value_type = i32, minimum = 1)]
    pub id: String,
}

impl JobPath {
    /// The id, or `invalid_parameter`.
    pub fn id(&self) -> Result<i32, ApiError> {
        required_id("id", Some(&self.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_parameter() {
        let missing = JobQuery { job_id: None }.id().unwrap_err();
        assert_eq!(missing.code, "invalid_parameter");
        assert!(
            missing.message.starts_with("job_id: required"),
            "{}",
            missing.message
        );
        let zero = AlertQuery {
            id: Some("0".into()),
        }
        .id()
        .unwrap_err();
        assert!(zero
            .message
            .starts_with("id: expected a positive whole number"));
        let name = HypertableQuery {
            hypertable: Some(RelationParam("no_schema".into())),
        }
        .parts()
        .unwrap_err();
        assert!(name
            .message
            .starts_with("hypertable \"no_schema\": expected"));
        assert_eq!(
            HypertableQuery {
                hypertable: Some(RelationParam(r#""Odd.Schema".t"#.into()))
            }
            .parts()
            .unwrap(),
            ("Odd.Schema".to_string(), "t".to_string())
        );
    }
}
