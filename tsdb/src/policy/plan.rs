//! The plan: the concrete steps that make live equal a target, each in words with the SQL
//! it will run. A pure function of the desired policies (or a recorded live state, for a
//! revert), the live state and what the server can do, so it is tested without a database
//! and shown before anything runs. An empty plan means "in sync"; applying a plan and
//! planning again gives an empty one.
//!
//! Three parts: [`plan`] turns each managed relation's desired policy into a [`Target`]
//! (refusing contradictions); [`plan_target`] compares a target with live and builds the
//! steps; the words for drift and steps are made where each difference is found.

use super::desired::{Desired, Managed, ObjectKind};
use super::live::{canonical_order_item, LiveAge, LiveJob, LiveRefresh, LiveState, LiveTable};
use super::statement::{Arg, Statement};
use super::target::{JobAge, JobTarget, RefreshTarget, Target};
use super::{HypertableName, Policy, PolicyAge, TimeKind};
use crate::ident::{quote_ident, quote_literal};
use crate::interval::PolicyInterval;
use serde::{Deserialize, Serialize};

/// What the server can do, as far as planning cares (from the connect-time probe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanContext {
    /// 2.18+: `add_columnstore_policy` / `remove_columnstore_policy` are the current
    /// names (procedures, called with `CALL`).
    pub columnstore: bool,
    /// 2.13 refuses new compression settings while compressed chunks exist, and a change
    /// of one setting must restate the other one set before; 2.14+ applies them to chunks
    /// compressed later and keeps what is not named.
    pub settings_need_uncompressed_table: bool,
    /// 2.21+: a continuous aggregate may have several refresh policies.
    #[serde(default)]
    pub several_refresh_policies: bool,
    /// 2.22.1+: a segment-by or order-by can be reset to TimescaleDB's default.
    #[serde(default)]
    pub resets_compression_settings: bool,
}

#[cfg(feature = "db")]
impl From<&crate::capabilities::Capabilities> for PlanContext {
    fn from(capabilities: &crate::capabilities::Capabilities) -> Self {
        Self {
            columnstore: capabilities.uses_columnstore_names(),
            settings_need_uncompressed_table: capabilities
                .refuses_compression_settings_with_compressed_chunks(),
            several_refresh_policies: capabilities.allows_several_refresh_policies(),
            resets_compression_settings: capabilities.resets_compression_settings(),
        }
    }
}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// `set_chunk_time_interval`.
    ChunkInterval,
    /// Turn compression on, with its segment-by and order-by.
    EnableCompression,
    /// New segment-by / order-by on a compressed hypertable.
    CompressionSettings,
    /// Turn compression off (only without compressed chunks).
    DisableCompression,
    /// Add the compression (columnstore) policy.
    AddCompressionPolicy,
    /// Change its compress-after or schedule.
    ChangeCompressionPolicy,
    /// Remove it.
    RemoveCompressionPolicy,
    /// Add the retention policy.
    AddRetentionPolicy,
    /// Change its drop-after or schedule.
    ChangeRetentionPolicy,
    /// Remove it.
    RemoveRetentionPolicy,
    /// Add a continuous aggregate's refresh policy.
    AddRefreshPolicy,
    /// Change a refresh policy's window or schedule.
    ChangeRefreshPolicy,
    /// Remove a refresh policy.
    RemoveRefreshPolicy,
}

impl StepKind {
    /// Whether the step can make TimescaleDB drop data sooner than before: a retention
    /// added or changed, or an aggregate's refresh window moved (a refresh over a range
    /// whose raw data is gone empties it). Such steps pass the data-loss guard first.
    pub fn may_lose_data(self) -> bool {
        matches!(
            self,
            StepKind::AddRetentionPolicy
                | StepKind::ChangeRetentionPolicy
                | StepKind::AddRefreshPolicy
                | StepKind::ChangeRefreshPolicy
        )
    }
}

/// One change, run in a transaction of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Position in the plan (0-based).
    pub ordinal: usize,
    /// The hypertable (or continuous aggregate) it changes.
    pub table: HypertableName,
    /// What it does.
    pub kind: StepKind,
    /// In words, e.g. "add retention policy drop_after 90 days".
    pub summary: String,
    /// The SQL it runs.
    pub statement: Statement,
    /// A step that must have succeeded first (in the same plan).
    pub depends_on: Option<usize>,
}

/// One hypertable (or continuous aggregate) in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TablePlan {
    /// The hypertable or aggregate.
    pub name: HypertableName,
    /// Which of the two it is.
    #[serde(default)]
    pub kind: ObjectKind,
    /// Whether (and why) it is managed.
    pub managed: Managed,
    /// The desired policy (shown for unmanaged tables too, as what managing would keep).
    pub desired: Policy,
    /// The live state.
    pub live: LiveTable,
    /// Where live differs from desired, one line each.
    pub drift: Vec<String>,
    /// Things the admin should know (paused jobs, settings that apply later).
    pub notes: Vec<String>,
    /// Changes the console will not make, and why.
    pub refused: Vec<String>,
    /// What the steps make live equal (managed relations only): what the data-loss guard
    /// checks.
    #[serde(default)]
    pub target: Option<Target>,
}

/// The plan for every hypertable and continuous aggregate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Every relation with its drift.
    pub tables: Vec<TablePlan>,
    /// The steps, in the order they run.
    pub steps: Vec<Step>,
}

impl Plan {
    /// Nothing to do (refusals aside).
    pub fn in_sync(&self) -> bool {
        self.steps.is_empty()
    }

    /// The steps of one relation.
    pub fn steps_for<'a>(&'a self, name: &'a HypertableName) -> impl Iterator<Item = &'a Step> {
        self.steps.iter().filter(move |s| &s.table == name)
    }

    /// A short digest of the steps (relation, kind and SQL with its values, in order): a
    /// plan shown to an admin applies only while this is still the plan's.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.steps)
    }
}

/// The digest of `steps`, as [`Plan::fingerprint`] makes it.
pub fn fingerprint(steps: &[Step]) -> String {
    // FNV-1a, 64 bits: a stable digest without a dependency; collisions only matter
    // between two plans of the same database minutes apart.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for step in steps {
        for part in [
            step.table.to_string(),
            format!("{:?}", step.kind),
            step.statement.display(),
        ] {
            for byte in part.bytes().chain([0u8]) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
    }
    format!("{hash:016x}")
}

/// An age as SQL: its cast and bound value.
fn age_arg(age: PolicyAge) -> (&'static str, Arg) {
    match age {
        PolicyAge::Interval(interval) => ("interval", Arg::Text(interval.to_string())),
        PolicyAge::Integer(n) => ("bigint", Arg::BigInt(n)),
    }
}

/// An age as a JSON value for a job's config, from placeholder `$n`: TimescaleDB stores
/// intervals as text and integer ages as numbers.
fn age_json(age: PolicyAge, n: usize) -> (String, Arg) {
    match age {
        PolicyAge::Interval(interval) => (
            format!("to_jsonb(${n}::text)"),
            Arg::Text(interval.to_string()),
        ),
        PolicyAge::Integer(value) => (format!("to_jsonb(${n}::bigint)"), Arg::BigInt(value)),
    }
}

fn same(live: Option<&LiveAge>, desired: PolicyAge) -> bool {
    live.and_then(|l| l.magnitude) == Some(desired.magnitude())
}

fn same_interval(live: &LiveAge, desired: PolicyInterval) -> bool {
    live.magnitude == i64::try_from(desired.approx_seconds()).ok()
}

fn shown(live: Option<&LiveAge>) -> String {
    live.map_or_else(|| "none".to_string(), LiveAge::human)
}

fn listed(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

/// The compression settings clause of `ALTER … SET (…)`, identifiers quoted and the lists
/// written as literals: DDL takes no bound values. `None` leaves a setting alone; an
/// empty list clears it.
fn settings_clause(segment_by: Option<&[String]>, order_by: Option<&[String]>) -> String {
    let mut clause = String::new();
    if let Some(segment_by) = segment_by {
        let list: Vec<String> = segment_by.iter().map(|c| quote_ident(c)).collect();
        clause.push_str(&format!(
            ", timescaledb.compress_segmentby = {}",
            quote_literal(&list.join(", "))
        ));
    }
    if let Some(order_by) = order_by.filter(|o| !o.is_empty()) {
        let list: Vec<String> = order_by
            .iter()
            .map(|item| {
                let canonical = canonical_order_item(item);
                let (column, modifiers) = split_column(&canonical);
                format!("{}{modifiers}", quote_ident(column))
            })
            .collect();
        clause.push_str(&format!(
            ", timescaledb.compress_orderby = {}",
            quote_literal(&list.join(", "))
        ));
    }
    clause
}

/// A setting the statement changes, or (when `restate`) the live one it must repeat.
fn restated<'s>(
    set: Option<&'s [String]>,
    live: &'s [String],
    restate: bool,
) -> Option<&'s [String]> {
    set.or_else(|| Some(live).filter(|live| restate && !live.is_empty()))
}

/// Splits a canonical order-by item into the column and its ` DESC NULLS …` tail.
fn split_column(canonical: &str) -> (&str, &str) {
    for tail in [" DESC NULLS LAST", " DESC", " NULLS FIRST"] {
        if let Some(column) = canonical.strip_suffix(tail) {
            return (column, tail);
        }
    }
    (canonical, "")
}

/// How far apart the first runs of one table's compression and retention jobs start: the
/// two on one hypertable at the same instant deadlock (seen on the native tier's first
/// start). Half the compression job's schedule, between one minute and one hour.
fn stagger(schedule: PolicyInterval) -> PolicyInterval {
    let half = (schedule.approx_seconds() / 2).clamp(60, 3_600);
    let minutes = u32::try_from(half / 60).unwrap_or(60);
    PolicyInterval::new(minutes, crate::interval::IntervalUnit::Minute).unwrap_or(schedule)
}

/// Builds one relation's steps.
struct Builder<'a> {
    context: PlanContext,
    steps: &'a mut Vec<Step>,
    table: HypertableName,
    kind: ObjectKind,
}

impl Builder<'_> {
    fn push(
        &mut self,
        kind: StepKind,
        summary: String,
        statement: Statement,
        depends_on: Option<usize>,
    ) -> usize {
        let ordinal = self.steps.len();
        self.steps.push(Step {
            ordinal,
            table: self.table.clone(),
            kind,
            summary,
            statement,
            depends_on,
        });
        ordinal
    }

    fn regclass(&self) -> Arg {
        Arg::Text(self.table.quoted())
    }

    /// `ALTER TABLE` or, for an aggregate, `ALTER MATERIALIZED VIEW`.
    fn alter(&self) -> String {
        match self.kind {
            ObjectKind::Hypertable => format!("ALTER TABLE {}", self.table.quoted()),
            ObjectKind::Aggregate => format!("ALTER MATERIALIZED VIEW {}", self.table.quoted()),
        }
    }

    /// The named argument choosing a job's chunks, with its cast and value.
    fn job_age(&self, age: JobAge, which: JobKind) -> (String, Arg) {
        let columnstore = self.context.columnstore && which == JobKind::Compression;
        match age {
            JobAge::After(after) => {
                let (cast, value) = age_arg(after);
                let name = if columnstore {
                    "after"
                } else {
                    which.after_key()
                };
                (format!("{name} => $2::{cast}"), value)
            }
            JobAge::CreatedBefore(before) => {
                let name = if columnstore {
                    "created_before"
                } else {
                    which.created_key()
                };
                (
                    format!("{name} => $2::interval"),
                    Arg::Text(before.to_string()),
                )
            }
        }
    }

    /// Adds a compression or retention job; its first run `delay` after now (a
    /// retention job waits for the compression job starting with it).
    fn add_job(
        &mut self,
        which: JobKind,
        job: JobTarget,
        delay: Option<PolicyInterval>,
        depends_on: Option<usize>,
    ) -> usize {
        let (age, value) = self.job_age(job.age, which);
        let mut args = vec![self.regclass(), value, Arg::Text(job.schedule.to_string())];
        let start = match delay {
            Some(delay) => {
                args.push(Arg::Text(delay.to_string()));
                "now() + $4::interval"
            }
            None => "now()",
        };
        let call = match (which, self.context.columnstore) {
            (JobKind::Compression, true) => "CALL add_columnstore_policy",
            (JobKind::Compression, false) => "SELECT add_compression_policy",
            (JobKind::Retention, _) => "SELECT add_retention_policy",
        };
        let statement = Statement::new(
            format!("{call}($1::regclass, {age}, schedule_interval => $3::interval, initial_start => {start})"),
            args,
        );
        self.push(
            which.add_step(),
            format!(
                "add {} policy {}, every {}{}",
                which.label(),
                age_words(job.age, which),
                job.schedule,
                delay
                    .map(|d| format!(", first run in {d}"))
                    .unwrap_or_default()
            ),
            statement,
            depends_on,
        )
    }

    fn remove_job(&mut self, which: JobKind, why: &str) -> usize {
        let sql = match (which, self.context.columnstore) {
            (JobKind::Compression, true) => {
                "CALL remove_columnstore_policy($1::regclass, if_exists => true)"
            }
            (JobKind::Compression, false) => {
                "SELECT remove_compression_policy($1::regclass, if_exists => true)"
            }
            (JobKind::Retention, _) => {
                "SELECT remove_retention_policy($1::regclass, if_exists => true)"
            }
        };
        let statement = Statement::new(sql, vec![self.regclass()]);
        self.push(
            which.remove_step(),
            format!("remove {} policy ({why})", which.label()),
            statement,
            None,
        )
    }

    /// Changes a policy job's age setting and/or schedule with `alter_job`, keeping the job
    /// (and its history). Named arguments: `alter_job`'s positional signature changed in
    /// 2.29 (`config_merge`), its names did not.
    fn alter_job(
        &mut self,
        kind: StepKind,
        job_id: i32,
        key: &str,
        after: Option<PolicyAge>,
        schedule: PolicyInterval,
        summary: String,
    ) {
        let statement = match after {
            Some(after) => {
                let (json, value) = age_json(after, 3);
                Statement::new(
                    format!(
                        "SELECT alter_job($1, schedule_interval => $2::interval, config => jsonb_set(
                            (SELECT config FROM timescaledb_information.jobs WHERE job_id = $1),
                            '{{{key}}}', {json}))"
                    ),
                    vec![Arg::Int(job_id), Arg::Text(schedule.to_string()), value],
                )
            }
            None => Statement::new(
                "SELECT alter_job($1, schedule_interval => $2::interval)",
                vec![Arg::Int(job_id), Arg::Text(schedule.to_string())],
            ),
        };
        self.push(kind, summary, statement, None);
    }

    fn add_refresh_policy(&mut self, refresh: RefreshTarget) -> usize {
        let mut args = vec![self.regclass()];
        let offset = |age: Option<PolicyAge>, args: &mut Vec<Arg>| match age {
            None => "NULL".to_string(),
            Some(age) => {
                let (cast, value) = age_arg(age);
                args.push(value);
                format!("${}::{cast}", args.len())
            }
        };
        let start = offset(refresh.start_offset, &mut args);
        let end = offset(refresh.end_offset, &mut args);
        args.push(Arg::Text(refresh.schedule.to_string()));
        let schedule = format!("${}::interval", args.len());
        let statement = Statement::new(
            format!("SELECT add_continuous_aggregate_policy($1::regclass, start_offset => {start}, end_offset => {end}, schedule_interval => {schedule})"),
            args,
        );
        self.push(
            StepKind::AddRefreshPolicy,
            format!("add refresh policy {}", refresh_words(&refresh)),
            statement,
            None,
        )
    }

    fn change_refresh_policy(&mut self, job_id: i32, refresh: RefreshTarget, summary: String) {
        let mut args = vec![Arg::Int(job_id), Arg::Text(refresh.schedule.to_string())];
        let json = |age: Option<PolicyAge>, args: &mut Vec<Arg>| match age {
            None => "'null'::jsonb".to_string(),
            Some(age) => {
                let (json, value) = age_json(age, args.len() + 1);
                args.push(value);
                json
            }
        };
        let start = json(refresh.start_offset, &mut args);
        let end = json(refresh.end_offset, &mut args);
        let statement = Statement::new(
            format!(
                "SELECT alter_job($1, schedule_interval => $2::interval, config =>
                    (SELECT config FROM timescaledb_information.jobs WHERE job_id = $1)
                    || jsonb_build_object('start_offset', {start}, 'end_offset', {end}))"
            ),
            args,
        );
        self.push(StepKind::ChangeRefreshPolicy, summary, statement, None);
    }

    fn remove_refresh_policy(&mut self, job_id: i32, why: &str) -> usize {
        self.push(
            StepKind::RemoveRefreshPolicy,
            format!("remove refresh policy (job {job_id}; {why})"),
            Statement::new("SELECT delete_job($1)", vec![Arg::Int(job_id)]),
            None,
        )
    }
}

/// The two age-based policy jobs of a relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobKind {
    Compression,
    Retention,
}

impl JobKind {
    fn label(self) -> &'static str {
        match self {
            JobKind::Compression => "compression",
            JobKind::Retention => "retention",
        }
    }

    /// The config key of its age.
    fn after_key(self) -> &'static str {
        match self {
            JobKind::Compression => "compress_after",
            JobKind::Retention => "drop_after",
        }
    }

    /// The config key of its creation-time age.
    fn created_key(self) -> &'static str {
        match self {
            JobKind::Compression => "compress_created_before",
            JobKind::Retention => "drop_created_before",
        }
    }

    fn add_step(self) -> StepKind {
        match self {
            JobKind::Compression => StepKind::AddCompressionPolicy,
            JobKind::Retention => StepKind::AddRetentionPolicy,
        }
    }

    fn change_step(self) -> StepKind {
        match self {
            JobKind::Compression => StepKind::ChangeCompressionPolicy,
            JobKind::Retention => StepKind::ChangeRetentionPolicy,
        }
    }

    fn remove_step(self) -> StepKind {
        match self {
            JobKind::Compression => StepKind::RemoveCompressionPolicy,
            JobKind::Retention => StepKind::RemoveRetentionPolicy,
        }
    }
}

/// A job's chunk choice in words.
fn age_words(age: JobAge, which: JobKind) -> String {
    match age {
        JobAge::After(after) => format!("{} {after}", which.after_key()),
        JobAge::CreatedBefore(before) => format!("{} {before}", which.created_key()),
    }
}

/// A refresh window and schedule in words.
pub fn refresh_words(refresh: &RefreshTarget) -> String {
    let ago = |offset: Option<PolicyAge>, none: &str| {
        offset.map_or_else(|| none.to_string(), |o| format!("{o} ago"))
    };
    format!(
        "from {} to {}, every {}",
        ago(refresh.start_offset, "the beginning"),
        ago(refresh.end_offset, "now"),
        refresh.schedule
    )
}

/// A live refresh window in words.
fn live_refresh_words(live: &LiveRefresh) -> String {
    format!(
        "from {} to {}, every {}",
        live.start_offset.as_ref().map_or_else(
            || "the beginning".to_string(),
            |o| format!("{} ago", o.human())
        ),
        live.end_offset
            .as_ref()
            .map_or_else(|| "now".to_string(), |o| format!("{} ago", o.human())),
        live.schedule.human()
    )
}

/// Whether a live offset equals a target one (`None` is `NULL` on both sides).
fn same_offset(live: Option<&LiveAge>, target: Option<PolicyAge>) -> bool {
    match (live, target) {
        (None, None) => true,
        (Some(live), Some(target)) => same(Some(live), target),
        _ => false,
    }
}

/// What one comparison found besides the steps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// Where live differs from the target.
    pub drift: Vec<String>,
    /// Things to know.
    pub notes: Vec<String>,
    /// Changes refused, and why.
    pub refused: Vec<String>,
}

/// One compression or retention job: added, changed in place (keeping its id and
/// history), replaced (a different kind of age), or removed.
fn plan_job(
    b: &mut Builder<'_>,
    found: &mut Findings,
    which: JobKind,
    live: Option<&LiveJob>,
    wanted: Option<JobTarget>,
    delay: Option<PolicyInterval>,
    depends_on: Option<usize>,
) {
    let label = which.label();
    match (live, wanted) {
        (None, None) => {}
        (None, Some(job)) => {
            found.drift.push(format!(
                "{label} policy: none, desired {}",
                age_words(job.age, which)
            ));
            b.add_job(which, job, delay, depends_on);
        }
        (Some(live_job), None) => {
            found.drift.push(format!(
                "{label} policy: live {}, desired none",
                live_job_words(live_job, which)
            ));
            let why = match which {
                JobKind::Compression => "no compression policy is wanted",
                JobKind::Retention => "data is to be kept forever",
            };
            b.remove_job(which, why);
        }
        (Some(live_job), Some(job)) => {
            let in_place = match job.age {
                JobAge::After(after) => live_job.after.is_some().then_some(Some(after)),
                JobAge::CreatedBefore(before) => live_job
                    .created_before
                    .as_ref()
                    .is_some_and(|l| same(Some(l), PolicyAge::Interval(before)))
                    .then_some(None),
            };
            match in_place {
                Some(after) => {
                    let after_differs = after.is_some_and(|a| !same(live_job.after.as_ref(), a));
                    let schedule_differs = !same_interval(&live_job.schedule, job.schedule);
                    if after_differs || schedule_differs {
                        let mut what = Vec::new();
                        if let Some(after) = after.filter(|_| after_differs) {
                            what.push(format!(
                                "{} {} → {after}",
                                which.after_key(),
                                shown(live_job.after.as_ref())
                            ));
                        }
                        if schedule_differs {
                            what.push(format!(
                                "schedule {} → {}",
                                live_job.schedule.human(),
                                job.schedule
                            ));
                        }
                        let what = what.join(", ");
                        found.drift.push(format!("{label} policy: {what}"));
                        b.alter_job(
                            which.change_step(),
                            live_job.job_id,
                            which.after_key(),
                            after.filter(|_| after_differs),
                            job.schedule,
                            format!("change {label} policy (job {}): {what}", live_job.job_id),
                        );
                    }
                }
                None => {
                    // Another kind of age: replaced (alter_job on a drop_created_before
                    // job fails on 2.21-2.26.2).
                    found.drift.push(format!(
                        "{label} policy: live {}, desired {}",
                        live_job_words(live_job, which),
                        age_words(job.age, which)
                    ));
                    let removed = b.remove_job(which, "it is replaced");
                    b.add_job(which, job, delay, Some(removed));
                }
            }
            if !live_job.scheduled {
                found.notes.push(format!(
                    "{label} job {} is paused; apply leaves it paused",
                    live_job.job_id
                ));
            }
        }
    }
}

/// The steps that make `live` equal `target` go into `steps`; the differences found are
/// returned. `refresh` is the aggregate's live refresh policies (empty for a hypertable).
pub fn plan_target(
    context: PlanContext,
    kind: ObjectKind,
    target: &Target,
    live: &LiveTable,
    refresh: &[LiveRefresh],
    steps: &mut Vec<Step>,
) -> Findings {
    let mut found = Findings::default();
    if let Some(wanted) = target.time_kind() {
        if wanted != live.time_kind {
            let needs = match live.time_kind {
                TimeKind::Time => "intervals such as \"7 days\"",
                TimeKind::Integer => "whole numbers in the column's own unit",
            };
            found.refused.push(format!(
                "{} is partitioned by {} ({}): its policy needs {needs}; set them for this table",
                live.name, live.time_column, live.time_type
            ));
            return found;
        }
    }
    let mut b = Builder {
        context,
        steps,
        table: live.name.clone(),
        kind,
    };

    // Chunk interval: applies to chunks created from now on.
    if let Some(interval) = target.chunk_interval {
        if kind == ObjectKind::Hypertable && !same(live.chunk_interval.as_ref(), interval) {
            let (cast, value) = age_arg(interval);
            found.drift.push(format!(
                "chunk interval: live {}, desired {interval}",
                shown(live.chunk_interval.as_ref()),
            ));
            b.push(
                StepKind::ChunkInterval,
                format!(
                    "chunk interval {} → {interval}: applies to new chunks only",
                    shown(live.chunk_interval.as_ref()),
                ),
                Statement::new(
                    format!("SELECT set_chunk_time_interval($1::regclass, $2::{cast})"),
                    vec![b.regclass(), value],
                ),
                None,
            );
        }
    }

    let enabled_step = plan_compression(&mut b, &mut found, target, live);

    // The compression policy. Turning compression off removed it already.
    let removed_with_compression =
        !target.compression_enabled && live.compression_enabled && live.compressed_chunks == 0;
    if let Some(wanted) = target.compression_policy {
        if !(removed_with_compression && wanted.is_none()) {
            plan_job(
                &mut b,
                &mut found,
                JobKind::Compression,
                live.compression_policy.as_ref(),
                wanted,
                None,
                enabled_step,
            );
        }
    }

    // The retention policy; its first run waits a while after a compression job's.
    let compression_schedule = match target.compression_policy {
        Some(Some(job)) => Some(job.schedule),
        Some(None) => None,
        None => live
            .compression_policy
            .as_ref()
            .and_then(|j| j.schedule.to_interval()),
    };
    if let Some(wanted) = target.retention_policy {
        plan_job(
            &mut b,
            &mut found,
            JobKind::Retention,
            live.retention_policy.as_ref(),
            wanted,
            compression_schedule.map(stagger),
            None,
        );
    }

    if let Some(wanted) = &target.refresh {
        plan_refresh(&mut b, &mut found, wanted, refresh);
    }
    found
}

/// A live job's chunk choice in words.
fn live_job_words(job: &LiveJob, which: JobKind) -> String {
    match (&job.after, &job.created_before) {
        (Some(after), _) => format!("{} {}", which.after_key(), after.human()),
        (None, Some(before)) => format!("{} {}", which.created_key(), before.human()),
        (None, None) => "a job without an age".to_string(),
    }
}

/// Compression on, off, or with new settings; the step that turned it on, if any.
fn plan_compression(
    b: &mut Builder<'_>,
    found: &mut Findings,
    target: &Target,
    live: &LiveTable,
) -> Option<usize> {
    let desired_order: Option<Vec<String>> = target
        .order_by
        .as_ref()
        .map(|items| items.iter().map(|i| canonical_order_item(i)).collect());
    let segment_drift = target
        .segment_by
        .as_ref()
        .is_some_and(|s| *s != live.segment_by);
    let order_drift = desired_order.as_ref().is_some_and(|o| *o != live.order_by);
    let alter = b.alter();
    if target.compression_enabled && !live.compression_enabled {
        found.drift.push("compression: live off, desired on".into());
        let segment = target.segment_by.as_deref().filter(|s| !s.is_empty());
        let clause = settings_clause(segment, desired_order.as_deref());
        return Some(b.push(
            StepKind::EnableCompression,
            format!(
                "enable compression{}{}",
                segment
                    .map(|s| format!(", segment by {}", s.join(", ")))
                    .unwrap_or_default(),
                desired_order
                    .as_ref()
                    .filter(|o| !o.is_empty())
                    .map(|o| format!(", order by {}", o.join(", ")))
                    .unwrap_or_default()
            ),
            Statement::new(
                format!("{alter} SET (timescaledb.compress{clause})"),
                vec![],
            ),
            None,
        ));
    }
    if target.compression_enabled && (segment_drift || order_drift) {
        if segment_drift {
            found.drift.push(format!(
                "segment by: live {}, desired {}",
                listed(&live.segment_by),
                listed(target.segment_by.as_deref().unwrap_or_default())
            ));
        }
        if order_drift {
            found.drift.push(format!(
                "order by: live {}, desired {}",
                listed(&live.order_by),
                listed(desired_order.as_deref().unwrap_or_default())
            ));
        }
        if live.compressed_chunks > 0 && b.context.settings_need_uncompressed_table {
            found.refused.push(format!(
                "new compression settings: this TimescaleDB (2.13) refuses them while {} chunks are compressed; decompress them first, or upgrade to 2.14 or later",
                live.compressed_chunks
            ));
            return None;
        }
        if live.compressed_chunks > 0 {
            found.notes.push(format!(
                "the new compression settings apply to chunks compressed from now on; the {} compressed chunks keep theirs until decompressed",
                live.compressed_chunks
            ));
        }
        // A list emptied goes back to TimescaleDB's default: `RESET` where the server
        // takes it; before 2.22.1 an empty segment-by is set instead, and an order-by
        // cannot be taken back at all.
        let segment = target.segment_by.as_deref().filter(|_| segment_drift);
        let order = desired_order.as_deref().filter(|_| order_drift);
        let resets = b.context.resets_compression_settings;
        let mut reset = Vec::new();
        let segment_set = match segment {
            Some([]) if resets => {
                reset.push("timescaledb.compress_segmentby");
                None
            }
            other => other,
        };
        let order_set = match order {
            Some([]) if resets => {
                reset.push("timescaledb.compress_orderby");
                None
            }
            Some([]) => {
                found.notes.push(
                    "order by cannot be taken back to TimescaleDB's default on this version (before 2.22.1): it is left as it is"
                        .to_string(),
                );
                None
            }
            other => other,
        };
        if segment_set.is_some() || order_set.is_some() {
            // 2.13: "must specify a column to segment by" (or order by) when a setting made
            // before is left out of the statement.
            let restate = b.context.settings_need_uncompressed_table;
            let segment_set = restated(segment_set, &live.segment_by, restate);
            let order_set = restated(order_set, &live.order_by, restate);
            let clause = settings_clause(segment_set, order_set);
            b.push(
                StepKind::CompressionSettings,
                "change compression settings".to_string(),
                Statement::new(
                    format!("{alter} SET (timescaledb.compress{clause})"),
                    vec![],
                ),
                None,
            );
        }
        if !reset.is_empty() {
            b.push(
                StepKind::CompressionSettings,
                format!("reset {} to TimescaleDB's default", reset.join(" and ")),
                Statement::new(format!("{alter} RESET ({})", reset.join(", ")), vec![]),
                None,
            );
        }
        return None;
    }
    if !target.compression_enabled && live.compression_enabled {
        found.drift.push("compression: live on, desired off".into());
        if live.compressed_chunks > 0 {
            found.refused.push(format!(
                "turning compression off: {} chunks are compressed; decompress them first (the console does not decompress a table for you)",
                live.compressed_chunks
            ));
        } else {
            let removed = live
                .compression_policy
                .as_ref()
                .map(|_| b.remove_job(JobKind::Compression, "compression is turned off"));
            b.push(
                StepKind::DisableCompression,
                "disable compression".to_string(),
                Statement::new(
                    format!("{alter} SET (timescaledb.compress = false)"),
                    vec![],
                ),
                removed,
            );
        }
    }
    None
}

/// A continuous aggregate's refresh policies: paired with the live ones in job order;
/// extra live ones removed, missing ones added.
fn plan_refresh(
    b: &mut Builder<'_>,
    found: &mut Findings,
    wanted: &[RefreshTarget],
    live: &[LiveRefresh],
) {
    if wanted.len() > 1 && !b.context.several_refresh_policies {
        found.refused.push(format!(
            "{} refresh policies: this TimescaleDB allows one per continuous aggregate (several from 2.21)",
            wanted.len()
        ));
        return;
    }
    for (index, target) in wanted.iter().enumerate() {
        match live.get(index) {
            None => {
                found.drift.push(format!(
                    "refresh policy {}: none, desired {}",
                    index + 1,
                    refresh_words(target)
                ));
                b.add_refresh_policy(*target);
            }
            Some(job) => {
                let window_differs = !same_offset(job.start_offset.as_ref(), target.start_offset)
                    || !same_offset(job.end_offset.as_ref(), target.end_offset);
                let schedule_differs = !same_interval(&job.schedule, target.schedule);
                if window_differs || schedule_differs {
                    let what = format!("{} → {}", live_refresh_words(job), refresh_words(target));
                    found.drift.push(format!(
                        "refresh policy {} (job {}): {what}",
                        index + 1,
                        job.job_id
                    ));
                    b.change_refresh_policy(
                        job.job_id,
                        *target,
                        format!("change refresh policy (job {}): {what}", job.job_id),
                    );
                }
                if !job.scheduled {
                    found.notes.push(format!(
                        "refresh job {} is paused; apply leaves it paused",
                        job.job_id
                    ));
                }
            }
        }
    }
    for job in live.iter().skip(wanted.len()) {
        found.drift.push(format!(
            "refresh policy (job {}): live {}, desired none",
            job.job_id,
            live_refresh_words(job)
        ));
        b.remove_refresh_policy(job.job_id, "no longer wanted");
    }
}

/// The refusals of a desired policy that contradicts itself.
fn contradictions(desired: &Policy) -> Vec<String> {
    desired
        .problems()
        .into_iter()
        .map(|problem| match problem {
            super::PolicyProblem::RetentionNotAfterCompression => format!(
                "retention {} is not longer than compress-after {}: chunks would be dropped before they are compressed",
                super::Retention(desired.retention),
                super::CompressAfter(desired.compression_after)
            ),
            super::PolicyProblem::MixedTimeKinds => {
                "the policy mixes intervals and whole numbers".to_string()
            }
        })
        .collect()
}

/// The target a desired policy gives a relation of `kind`: an aggregate has no chunk
/// interval of its own to set.
pub fn target_of(desired: &Policy, kind: ObjectKind) -> Target {
    let mut target = Target::from_policy(desired);
    if kind == ObjectKind::Aggregate {
        target.chunk_interval = None;
        target.segment_by = None;
        target.order_by = None;
    }
    target
}

/// Plans every managed hypertable and continuous aggregate of `live` against its desired
/// policy.
pub fn plan(context: PlanContext, desired: &[Desired], live: &LiveState) -> Plan {
    let mut plan = Plan::default();
    let relations = live
        .tables
        .iter()
        .map(|t| (t, ObjectKind::Hypertable, &[][..]))
        .chain(
            live.caggs
                .iter()
                .map(|c| (&c.policies, ObjectKind::Aggregate, c.refresh.as_slice())),
        );
    for (table, kind, refresh) in relations {
        let Some(wanted) = desired.iter().find(|d| d.name == table.name) else {
            continue;
        };
        let mut entry = TablePlan {
            name: table.name.clone(),
            kind,
            managed: wanted.managed.clone(),
            desired: wanted.policy.clone(),
            live: table.clone(),
            drift: Vec::new(),
            notes: Vec::new(),
            refused: Vec::new(),
            target: None,
        };
        if wanted.managed.is_managed() {
            entry.refused = contradictions(&wanted.policy);
            if entry.refused.is_empty() {
                let target = target_of(&wanted.policy, kind);
                let found = plan_target(context, kind, &target, table, refresh, &mut plan.steps);
                entry.drift = found.drift;
                entry.notes = found.notes;
                entry.refused = found.refused;
                entry.target = Some(target);
            }
        }
        plan.tables.push(entry);
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::live::LiveJob;

    const NEW: PlanContext = PlanContext {
        columnstore: true,
        settings_need_uncompressed_table: false,
        several_refresh_policies: true,
        resets_compression_settings: true,
    };

    fn policy() -> Policy {
        Policy {
            segment_by: vec!["equipment_id".into()],
            order_by: vec!["ts DESC".into()],
            ..Policy::seed()
        }
    }

    fn bare() -> LiveTable {
        LiveTable {
            name: HypertableName::new("factory_telemetry", "metric_hist"),
            time_column: "ts".into(),
            time_type: "timestamp with time zone".into(),
            time_kind: TimeKind::Time,
            chunk_interval: Some(LiveAge::interval("1 day")),
            compression_enabled: false,
            segment_by: vec![],
            order_by: vec![],
            compressed_chunks: 0,
            compression_policy: None,
            retention_policy: None,
            columns: vec!["ts".into(), "equipment_id".into()],
        }
    }

    fn desired(policy: Policy) -> Desired {
        Desired {
            name: HypertableName::new("factory_telemetry", "metric_hist"),
            kind: ObjectKind::Hypertable,
            managed: Managed::ConfigTable,
            policy,
            stored: None,
        }
    }

    fn job(id: i32, after: &str, schedule: &str) -> LiveJob {
        LiveJob {
            job_id: id,
            after: Some(LiveAge::interval(after)),
            created_before: None,
            schedule: LiveAge::interval(schedule),
            scheduled: true,
        }
    }

    fn state(table: LiveTable) -> LiveState {
        LiveState {
            tables: vec![table],
            caggs: vec![],
        }
    }

    #[test]
    fn a_bare_table_gets_compression_and_both_policies_in_order() {
        let plan = plan(NEW, &[desired(policy())], &state(bare()));
        let kinds: Vec<StepKind> = plan.steps.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                StepKind::EnableCompression,
                StepKind::AddCompressionPolicy,
                StepKind::AddRetentionPolicy
            ]
        );
        assert_eq!(plan.steps[1].depends_on, Some(0));
        assert_eq!(
            plan.steps[0].statement.display(),
            "ALTER TABLE \"factory_telemetry\".\"metric_hist\" SET (timescaledb.compress, timescaledb.compress_segmentby = '\"equipment_id\"', timescaledb.compress_orderby = '\"ts\" DESC')"
        );
        assert_eq!(
            plan.steps[2].summary,
            "add retention policy drop_after 90 days, every 12 hours, first run in 60 minutes"
        );
        assert_eq!(
            plan.steps[1].statement.display(),
            "CALL add_columnstore_policy('\"factory_telemetry\".\"metric_hist\"'::regclass, after => '7 days'::interval, schedule_interval => '12 hours'::interval, initial_start => now())"
        );
        let old = plan_with(
            PlanContext {
                columnstore: false,
                ..NEW
            },
            bare(),
        );
        assert!(old.steps[1]
            .statement
            .sql
            .starts_with("SELECT add_compression_policy("));
    }

    fn plan_with(context: PlanContext, table: LiveTable) -> Plan {
        plan(context, &[desired(policy())], &state(table))
    }

    fn in_sync_table() -> LiveTable {
        LiveTable {
            compression_enabled: true,
            segment_by: vec!["equipment_id".into()],
            order_by: vec!["ts DESC".into()],
            compression_policy: Some(job(1000, "7 days", "12:00:00")),
            retention_policy: Some(job(1001, "90 days", "12:00:00")),
            ..bare()
        }
    }

    #[test]
    fn live_equal_to_desired_is_in_sync() {
        let plan = plan_with(NEW, in_sync_table());
        assert!(plan.in_sync(), "{:?}", plan.steps);
        assert!(plan.tables[0].drift.is_empty());
    }

    #[test]
    fn changed_ages_keep_their_jobs() {
        let mut live = in_sync_table();
        live.retention_policy = Some(job(1001, "30 days", "12:00:00"));
        live.compression_policy = Some(job(1000, "7 days", "1 day"));
        live.chunk_interval = Some(LiveAge::interval("06:00:00"));
        let plan = plan_with(NEW, live);
        let kinds: Vec<StepKind> = plan.steps.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                StepKind::ChunkInterval,
                StepKind::ChangeCompressionPolicy,
                StepKind::ChangeRetentionPolicy
            ]
        );
        assert_eq!(
            plan.steps[0].summary,
            "chunk interval 6 hours → 1 day: applies to new chunks only"
        );
        assert!(plan.steps[2]
            .statement
            .display()
            .contains("'{drop_after}', to_jsonb('90 days'::text)"));
        assert!(plan.steps[1].statement.args.len() == 2, "schedule only");
    }

    #[test]
    fn refusals_instead_of_data_loss_or_server_errors() {
        // Compression off with compressed chunks: refused, nothing decompressed.
        let mut off = policy();
        off.compression_enabled = false;
        let mut live = in_sync_table();
        live.compressed_chunks = 12;
        let plan = plan(NEW, &[desired(off)], &state(live.clone()));
        assert!(plan.tables[0].refused[0].contains("12 chunks are compressed"));
        assert!(plan
            .steps
            .iter()
            .all(|s| s.kind != StepKind::DisableCompression));
        // New settings with compressed chunks: 2.13 refuses, 2.14+ applies later.
        live.segment_by = vec!["line_id".into()];
        let old = plan_with(
            PlanContext {
                settings_need_uncompressed_table: true,
                ..NEW
            },
            live.clone(),
        );
        assert!(old.tables[0].refused[0].contains("2.13"));
        // Without compressed chunks 2.13 applies it, the unchanged order-by restated.
        let mut empty = live.clone();
        empty.compressed_chunks = 0;
        let old = plan_with(
            PlanContext {
                settings_need_uncompressed_table: true,
                ..NEW
            },
            empty,
        );
        assert_eq!(
            old.steps[0].statement.display(),
            "ALTER TABLE \"factory_telemetry\".\"metric_hist\" SET (timescaledb.compress, timescaledb.compress_segmentby = '\"equipment_id\"', timescaledb.compress_orderby = '\"ts\" DESC')"
        );
        let new = plan_with(NEW, live);
        assert_eq!(new.steps[0].kind, StepKind::CompressionSettings);
        assert!(new.tables[0].notes[0].contains("compressed from now on"));
        // An integer-time table under interval defaults.
        let mut integer = bare();
        integer.time_kind = TimeKind::Integer;
        integer.time_type = "bigint".into();
        let refused = plan_with(NEW, integer);
        assert!(refused.in_sync());
        assert!(refused.tables[0].refused[0].contains("whole numbers"));
    }

    #[test]
    fn unmanaged_tables_are_shown_and_left_alone() {
        let mut wanted = desired(policy());
        wanted.managed = Managed::No;
        let plan = plan(NEW, &[wanted], &state(bare()));
        assert!(plan.in_sync());
        assert_eq!(plan.tables.len(), 1);
    }

    #[test]
    fn creation_time_policies_are_replaced_and_removed_ones_go() {
        let mut live = in_sync_table();
        live.retention_policy = Some(LiveJob {
            after: None,
            created_before: Some(LiveAge::interval("90 days")),
            ..job(1001, "0", "12:00:00")
        });
        let replaced = plan_with(NEW, live);
        let kinds: Vec<StepKind> = replaced.steps.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                StepKind::RemoveRetentionPolicy,
                StepKind::AddRetentionPolicy
            ]
        );
        assert_eq!(replaced.steps[1].depends_on, Some(0));
        let mut forever = policy();
        forever.retention = None;
        let removed = plan(NEW, &[desired(forever)], &state(in_sync_table()));
        assert_eq!(removed.steps[0].kind, StepKind::RemoveRetentionPolicy);
    }

    #[test]
    fn integer_tables_take_integer_policies() {
        let mut live = bare();
        live.time_kind = TimeKind::Integer;
        live.chunk_interval = Some(LiveAge::integer(100_000));
        let integer = Policy {
            compression_after: Some(PolicyAge::Integer(300_000)),
            retention: Some(PolicyAge::Integer(9_000_000)),
            chunk_time_interval: PolicyAge::Integer(100_000),
            ..policy()
        };
        let plan = plan(NEW, &[desired(integer)], &state(live));
        assert!(plan.tables[0].refused.is_empty());
        assert_eq!(
            plan.steps[1].statement.display(),
            "CALL add_columnstore_policy('\"factory_telemetry\".\"metric_hist\"'::regclass, after => 300000::bigint, schedule_interval => '12 hours'::interval, initial_start => now())"
        );
    }
}
