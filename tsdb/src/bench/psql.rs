//! psql as the anchor: the same statements and rows sent by PostgreSQL's own client in
//! the same run, timed by psql itself (`\timing`), so a reader sees the console's client
//! overhead beside its figure instead of a bare number.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// Why psql could not measure an anchor.
#[derive(Debug, thiserror::Error)]
pub enum PsqlError {
    /// The program could not be started.
    #[error("could not run {program}: {source}")]
    Start {
        /// The psql that was tried.
        program: String,
        /// Why it did not start.
        source: std::io::Error,
    },
    /// psql ran and failed.
    #[error("psql failed: {0}")]
    Failed(String),
    /// The database URL is not one psql can be given.
    #[error("the database URL cannot be passed to psql: {0}")]
    Url(String),
    /// A scratch file could not be written.
    #[error("could not write psql's input: {0}")]
    Io(#[from] std::io::Error),
}

/// A psql program and how it reaches the bench's database.
#[derive(Debug, Clone)]
pub struct Psql {
    program: PathBuf,
    /// The URL without its password (argument lists are visible to every local user).
    url: String,
    /// The password, passed in the environment instead.
    password: Option<String>,
    /// `psql --version`'s answer.
    version: String,
}

impl Psql {
    /// Checks that `program` runs and prepares it for `database_url`.
    pub async fn new(program: &Path, database_url: &str) -> Result<Psql, PsqlError> {
        let mut url =
            url::Url::parse(database_url).map_err(|error| PsqlError::Url(error.to_string()))?;
        let password = url
            .password()
            .map(|p| {
                percent_decode(p).ok_or_else(|| {
                    PsqlError::Url("the password is not valid percent-encoded UTF-8".into())
                })
            })
            .transpose()?;
        url.set_password(None)
            .map_err(|()| PsqlError::Url("the URL has no host".into()))?;
        keep_libpq_parameters(&mut url);
        let output = tokio::process::Command::new(program)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|source| PsqlError::Start {
                program: program.display().to_string(),
                source,
            })?;
        if !output.status.success() {
            return Err(PsqlError::Failed(
                String::from_utf8_lossy(&output.stderr).trim().to_string(),
            ));
        }
        Ok(Psql {
            program: program.to_path_buf(),
            url: url.to_string(),
            password,
            version: String::from_utf8_lossy(&output.stdout).trim().to_string(),
        })
    }

    /// `psql --version`'s answer, e.g. `psql (PostgreSQL) 15.18`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Runs `script` (timing on, results discarded, stopping at the first error, never
    /// prompting for a password) and returns the time psql reported for each of its
    /// `statements` statements, in order; fewer or more timings is an error, not a figure.
    pub async fn timings(
        &self,
        script: &str,
        statements: usize,
    ) -> Result<Vec<Duration>, PsqlError> {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args([
                "-X",
                "-q",
                "-w",
                "-v",
                "ON_ERROR_STOP=1",
                "-o",
                "/dev/null",
                "-f",
                "-",
            ])
            .arg(&self.url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(password) = &self.password {
            command.env("PGPASSWORD", password);
        }
        let mut child = command.spawn().map_err(|source| PsqlError::Start {
            program: self.program.display().to_string(),
            source,
        })?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| PsqlError::Failed("psql's standard input was not opened".into()))?;
        let input = format!("\\timing on\n{script}\n");
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            stdin.write_all(input.as_bytes()).await?;
            stdin.shutdown().await
        });
        let output = child.wait_with_output().await?;
        writer
            .await
            .map_err(|error| PsqlError::Failed(error.to_string()))??;
        if !output.status.success() {
            return Err(PsqlError::Failed(
                String::from_utf8_lossy(&output.stderr).trim().to_string(),
            ));
        }
        let timings = parse_timings(&String::from_utf8_lossy(&output.stdout));
        if timings.len() != statements {
            return Err(PsqlError::Failed(format!(
                "psql reported {} timing(s) for {statements} statement(s)",
                timings.len()
            )));
        }
        Ok(timings)
    }
}

/// The durations of psql's `Time: 12.345 ms` lines (also `Time: 1234.567 ms (00:01.235)`).
pub fn parse_timings(output: &str) -> Vec<Duration> {
    output
        .lines()
        .filter_map(|line| line.trim().strip_prefix("Time: "))
        .filter_map(|rest| rest.split(" ms").next())
        .filter_map(|millis| millis.trim().parse::<f64>().ok())
        .filter(|millis| millis.is_finite() && *millis >= 0.0)
        .map(|millis| Duration::from_secs_f64(millis / 1e3))
        .collect()
}

/// Keeps the query parameters libpq understands (psql refuses the URL otherwise),
/// translating sqlx's spellings of the TLS ones; drops client-side ones such as sqlx's
/// `statement-cache-capacity`.
fn keep_libpq_parameters(url: &mut url::Url) {
    const LIBPQ: &[&str] = &[
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "connect_timeout",
        "client_encoding",
        "options",
        "application_name",
        "fallback_application_name",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "sslmode",
        "sslcert",
        "sslkey",
        "sslrootcert",
        "sslcrl",
        "sslpassword",
        "sslsni",
        "gssencmode",
        "krbsrvname",
        "target_session_attrs",
        "service",
        "channel_binding",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "load_balance_hosts",
    ];
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter_map(|(name, value)| {
            let name = match name.as_ref() {
                "ssl-mode" => "sslmode".to_string(),
                "ssl-root-cert" => "sslrootcert".to_string(),
                "ssl-client-cert" => "sslcert".to_string(),
                "ssl-client-key" => "sslkey".to_string(),
                other => other.to_string(),
            };
            LIBPQ
                .contains(&name.as_str())
                .then(|| (name, value.into_owned()))
        })
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
}

/// `%XX`-decoding of a URL part.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_psql_timing_lines() {
        let output = "Time: 3.267 ms\nsomething else\nTime: 1234.500 ms (00:01.235)\nTime: x ms\n";
        let timings = parse_timings(output);
        assert_eq!(timings.len(), 2);
        assert_eq!(timings[0], Duration::from_micros(3267));
        assert_eq!(timings[1], Duration::from_micros(1_234_500));
    }

    #[test]
    fn only_parameters_libpq_knows_reach_psql() {
        let mut url = url::Url::parse(
            "postgres://u@h:5/db?statement-cache-capacity=100&ssl-mode=disable&application_name=x",
        )
        .unwrap();
        keep_libpq_parameters(&mut url);
        assert_eq!(
            url.as_str(),
            "postgres://u@h:5/db?sslmode=disable&application_name=x"
        );
        let mut bare = url::Url::parse("postgres://u@h/db?statement-cache-capacity=1").unwrap();
        keep_libpq_parameters(&mut bare);
        assert_eq!(bare.as_str(), "postgres://u@h/db");
    }

    #[test]
    fn passwords_are_decoded_and_kept_out_of_the_url() {
        assert_eq!(percent_decode("p%40ss%2Fw").as_deref(), Some("p@ss/w"));
        assert_eq!(percent_decode("bad%zz"), None);
        assert_eq!(percent_decode("cut%4"), None);
    }
}
