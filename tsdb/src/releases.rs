//! What TimescaleDB releases exist for which PostgreSQL, as data: "up to date" means the
//! newest release for the server's PostgreSQL major, and a server whose major gets no
//! newer TimescaleDB is told which PostgreSQL the next one needs.
//!
//! Kept by hand from TimescaleDB's CHANGELOG; update [`AS_OF`] and the table with each
//! release the console is tested on.

/// Where the table comes from and how fresh it is.
pub const AS_OF: &str = "TimescaleDB's CHANGELOG up to 2.29.2 (2026-08-18)";

/// The newest TimescaleDB release known for one PostgreSQL major.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// PostgreSQL major version.
    pub postgres: u32,
    /// The oldest minor of that major the newest release accepts (2.29 needs 16.6).
    pub postgres_min_minor: u32,
    /// The newest TimescaleDB release for it.
    pub newest: (u32, u32, u32),
    /// Whether TimescaleDB has stopped releasing for this major (newer minors need a
    /// newer PostgreSQL).
    pub closed: bool,
}

/// Known lines, oldest PostgreSQL first.
pub const LINES: &[Line] = &[
    // 2.16 removed PostgreSQL 13.
    Line {
        postgres: 13,
        postgres_min_minor: 0,
        newest: (2, 15, 3),
        closed: true,
    },
    // 2.20 removed PostgreSQL 14.
    Line {
        postgres: 14,
        postgres_min_minor: 0,
        newest: (2, 19, 3),
        closed: true,
    },
    // 2.29 removed PostgreSQL 15; 2.28.x patch releases keep it.
    Line {
        postgres: 15,
        postgres_min_minor: 0,
        newest: (2, 28, 3),
        closed: true,
    },
    Line {
        postgres: 16,
        postgres_min_minor: 6,
        newest: (2, 29, 2),
        closed: false,
    },
    Line {
        postgres: 17,
        postgres_min_minor: 2,
        newest: (2, 29, 2),
        closed: false,
    },
    Line {
        postgres: 18,
        postgres_min_minor: 0,
        newest: (2, 29, 2),
        closed: false,
    },
];

/// A TimescaleDB release number; pre-release suffixes (`-dev`) are kept only for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimescaleVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
}

impl TimescaleVersion {
    /// Parses `2.23.0-dev`, `2.13.1` or `2.14`.
    pub fn parse(text: &str) -> Option<Self> {
        let (major, minor, patch) = timescaledb_version(text)?;
        Some(Self {
            major,
            minor,
            patch,
        })
    }
}

impl std::fmt::Display for TimescaleVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// TimescaleDB's version from `extversion` or `default_version` (`2.23.0-dev`, `2.13.1`,
/// `2.14`); a missing patch reads 0. The one reading: the probe and the rules use it.
pub fn timescaledb_version(text: &str) -> Option<(u32, u32, u32)> {
    let core = text.split(['-', '+', ' ']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u32>().ok());
    Some((
        parts.next()??,
        parts.next()??,
        parts.next().unwrap_or(Some(0))?,
    ))
}

/// PostgreSQL's major and minor from `server_version` ("15.18 (Debian 15.18-0+deb12u1)",
/// "17.5", "18.6"); a missing minor reads 0.
pub fn postgres_version(server_version: &str) -> Option<(u32, u32)> {
    let core = server_version.split([' ', '-', '(']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next().flatten().unwrap_or(0)))
}

/// Where a server stands against the known releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// The newest release known for its PostgreSQL, and that PostgreSQL still gets new ones.
    Current,
    /// A newer release exists for its PostgreSQL: that one.
    Behind {
        /// The newest release for this PostgreSQL major.
        newest: (u32, u32, u32),
        /// The PostgreSQL minor update it needs first (2.29 on 16.4 needs 16.6).
        postgres_first: Option<(u32, u32)>,
    },
    /// The newest release its PostgreSQL gets; newer ones need another PostgreSQL.
    LastForPostgres {
        /// The newest release overall.
        next: (u32, u32, u32),
        /// The PostgreSQL versions it accepts, in words ("16.6 or later, 17.2 or later, 18").
        needs: String,
    },
    /// Newer than anything this table knows, or a PostgreSQL it does not list.
    Unknown,
}

/// Where `timescaledb` on PostgreSQL `postgres` stands.
pub fn standing(timescaledb: (u32, u32, u32), postgres: (u32, u32)) -> Standing {
    let Some(line) = LINES.iter().find(|l| l.postgres == postgres.0) else {
        return Standing::Unknown;
    };
    if timescaledb < line.newest {
        return Standing::Behind {
            newest: line.newest,
            postgres_first: (postgres.1 < line.postgres_min_minor)
                .then_some((line.postgres, line.postgres_min_minor)),
        };
    }
    if timescaledb > line.newest {
        return Standing::Unknown;
    }
    let newest = LINES.iter().map(|l| l.newest).max().unwrap_or(line.newest);
    let minor_too_old = postgres.1 < line.postgres_min_minor;
    if !line.closed && !minor_too_old {
        return Standing::Current;
    }
    let needs: Vec<String> = LINES
        .iter()
        .filter(|l| l.newest == newest)
        .map(|l| match l.postgres_min_minor {
            0 => l.postgres.to_string(),
            minor => format!("{}.{minor} or later", l.postgres),
        })
        .collect();
    Standing::LastForPostgres {
        next: newest,
        needs: needs.join(", "),
    }
}

/// "2.29.2".
pub fn text((major, minor, patch): (u32, u32, u32)) -> String {
    format!("{major}.{minor}.{patch}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_to_date_depends_on_the_postgresql_major() {
        assert_eq!(standing((2, 29, 2), (18, 6)), Standing::Current);
        assert_eq!(standing((2, 29, 2), (17, 5)), Standing::Current);
        assert_eq!(
            standing((2, 23, 0), (17, 5)),
            Standing::Behind {
                newest: (2, 29, 2),
                postgres_first: None
            }
        );
        assert_eq!(
            standing((2, 28, 1), (15, 18)),
            Standing::Behind {
                newest: (2, 28, 3),
                postgres_first: None
            }
        );
        assert_eq!(
            standing((2, 28, 3), (16, 4)),
            Standing::Behind {
                newest: (2, 29, 2),
                postgres_first: Some((16, 6))
            }
        );
        assert_eq!(
            standing((2, 28, 3), (15, 18)),
            Standing::LastForPostgres {
                next: (2, 29, 2),
                needs: "16.6 or later, 17.2 or later, 18".into()
            }
        );
        assert_eq!(
            standing((2, 29, 2), (16, 4)),
            Standing::LastForPostgres {
                next: (2, 29, 2),
                needs: "16.6 or later, 17.2 or later, 18".into()
            },
            "a PostgreSQL minor below what 2.29 accepts"
        );
        assert_eq!(standing((2, 30, 0), (18, 1)), Standing::Unknown);
        assert_eq!(standing((2, 13, 1), (12, 1)), Standing::Unknown);
    }

    #[test]
    fn server_versions_read_with_their_suffixes() {
        assert_eq!(
            postgres_version("15.18 (Debian 15.18-0+deb12u1)"),
            Some((15, 18))
        );
        assert_eq!(postgres_version("17.5"), Some((17, 5)));
        assert_eq!(postgres_version("18"), Some((18, 0)));
        assert_eq!(postgres_version("18beta1"), None);
    }

    #[test]
    fn timescaledb_versions_read_with_suffixes() {
        assert_eq!(timescaledb_version("2.23.0-dev"), Some((2, 23, 0)));
        assert_eq!(timescaledb_version("2.13"), Some((2, 13, 0)));
        assert_eq!(timescaledb_version("2.29.2+build"), Some((2, 29, 2)));
        assert_eq!(timescaledb_version("x"), None);
    }
}
