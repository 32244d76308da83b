//! The plan: the concrete steps that make live equal desired, each in words with the SQL
//! it will run. A pure function of the desired policies, the live state and what the
//! server can do, so it is tested without a database and shown before anything runs.
//! An empty plan means "in sync"; applying a plan and planning again gives an empty one.

use super::desired::{Desired, Managed};
use super::live::{canonical_order_item, LiveAge, LiveJob, LiveState, LiveTable};
use super::statement::{Arg, Statement};
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
    /// 2.13 refuses new compression settings while compressed chunks exist; 2.14+ applies
    /// them to chunks compressed later.
    pub settings_need_uncompressed_table: bool,
}

#[cfg(feature = "db")]
impl From<&crate::capabilities::Capabilities> for PlanContext {
    fn from(capabilities: &crate::capabilities::Capabilities) -> Self {
        Self {
            columnstore: capabilities.uses_columnstore_names(),
            settings_need_uncompressed_table: capabilities
                .refuses_compression_settings_with_compressed_chunks(),
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
}

/// One change, run in a transaction of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Position in the plan (0-based).
    pub ordinal: usize,
    /// The hypertable it changes.
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

/// One hypertable in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TablePlan {
    /// The hypertable.
    pub name: HypertableName,
    /// Whether (and why) it is managed.
    pub managed: Managed,
    /// The desired policy (shown for unmanaged tables too, as what managing would do).
    pub desired: Policy,
    /// The live state.
    pub live: LiveTable,
    /// Where live differs from desired, one line each.
    pub drift: Vec<String>,
    /// Things the admin should know (paused jobs, settings that apply later).
    pub notes: Vec<String>,
    /// Changes the console will not make, and why.
    pub refused: Vec<String>,
}

/// The plan for every hypertable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Every hypertable with its drift.
    pub tables: Vec<TablePlan>,
    /// The steps, in the order they run.
    pub steps: Vec<Step>,
}

impl Plan {
    /// Nothing to do (refusals aside).
    pub fn in_sync(&self) -> bool {
        self.steps.is_empty()
    }

    /// The steps of one hypertable.
    pub fn steps_for<'a>(&'a self, name: &'a HypertableName) -> impl Iterator<Item = &'a Step> {
        self.steps.iter().filter(move |s| &s.table == name)
    }
}

/// An age as SQL: its cast and bound value.
fn age_arg(age: PolicyAge) -> (&'static str, Arg) {
    match age {
        PolicyAge::Interval(interval) => ("interval", Arg::Text(interval.to_string())),
        PolicyAge::Integer(n) => ("bigint", Arg::BigInt(n)),
    }
}

/// An age as a JSON value for a job's config: TimescaleDB stores intervals as text and
/// integer ages as numbers.
fn age_json(age: PolicyAge) -> (&'static str, Arg) {
    match age {
        PolicyAge::Interval(interval) => ("to_jsonb($3::text)", Arg::Text(interval.to_string())),
        PolicyAge::Integer(n) => ("to_jsonb($3::bigint)", Arg::BigInt(n)),
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

/// The compression settings clause of `ALTER TABLE … SET (…)`, identifiers quoted and the
/// lists written as literals: DDL takes no bound values.
fn settings_clause(segment_by: &[String], order_by: &[String]) -> String {
    let mut clause = String::new();
    if !segment_by.is_empty() {
        let list: Vec<String> = segment_by.iter().map(|c| quote_ident(c)).collect();
        clause.push_str(&format!(
            ", timescaledb.compress_segmentby = {}",
            quote_literal(&list.join(", "))
        ));
    }
    if !order_by.is_empty() {
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

/// Splits a canonical order-by item into the column and its ` DESC NULLS …` tail.
fn split_column(canonical: &str) -> (&str, &str) {
    for tail in [" DESC NULLS LAST", " DESC", " NULLS FIRST"] {
        if let Some(column) = canonical.strip_suffix(tail) {
            return (column, tail);
        }
    }
    (canonical, "")
}

struct Builder<'a> {
    context: PlanContext,
    steps: &'a mut Vec<Step>,
    table: HypertableName,
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

    fn add_compression_policy(
        &mut self,
        after: PolicyAge,
        schedule: PolicyInterval,
        depends_on: Option<usize>,
    ) -> usize {
        let (cast, value) = age_arg(after);
        let sql = if self.context.columnstore {
            format!("CALL add_columnstore_policy($1::regclass, after => $2::{cast}, schedule_interval => $3::interval)")
        } else {
            format!("SELECT add_compression_policy($1::regclass, compress_after => $2::{cast}, schedule_interval => $3::interval)")
        };
        let statement = Statement::new(
            sql,
            vec![self.regclass(), value, Arg::Text(schedule.to_string())],
        );
        self.push(
            StepKind::AddCompressionPolicy,
            format!("add compression policy compress_after {after}, every {schedule}"),
            statement,
            depends_on,
        )
    }

    fn remove_compression_policy(&mut self, why: &str) -> usize {
        let sql = if self.context.columnstore {
            "CALL remove_columnstore_policy($1::regclass, if_exists => true)"
        } else {
            "SELECT remove_compression_policy($1::regclass, if_exists => true)"
        };
        let statement = Statement::new(sql, vec![self.regclass()]);
        self.push(
            StepKind::RemoveCompressionPolicy,
            format!("remove compression policy ({why})"),
            statement,
            None,
        )
    }

    fn add_retention_policy(
        &mut self,
        after: PolicyAge,
        schedule: PolicyInterval,
        depends_on: Option<usize>,
    ) -> usize {
        let (cast, value) = age_arg(after);
        let statement = Statement::new(
            format!("SELECT add_retention_policy($1::regclass, drop_after => $2::{cast}, schedule_interval => $3::interval)"),
            vec![self.regclass(), value, Arg::Text(schedule.to_string())],
        );
        self.push(
            StepKind::AddRetentionPolicy,
            format!("add retention policy drop_after {after}, every {schedule}"),
            statement,
            depends_on,
        )
    }

    fn remove_retention_policy(&mut self, why: &str) -> usize {
        let statement = Statement::new(
            "SELECT remove_retention_policy($1::regclass, if_exists => true)",
            vec![self.regclass()],
        );
        self.push(
            StepKind::RemoveRetentionPolicy,
            format!("remove retention policy ({why})"),
            statement,
            None,
        )
    }

    /// Changes a policy job's age setting and/or schedule with `alter_job`, keeping the job
    /// (and its history).
    fn alter_job(
        &mut self,
        kind: StepKind,
        job: &LiveJob,
        key: &str,
        after: Option<PolicyAge>,
        schedule: PolicyInterval,
        summary: String,
    ) {
        let statement = match after {
            Some(after) => {
                let (json, value) = age_json(after);
                Statement::new(
                    format!(
                        "SELECT alter_job($1, schedule_interval => $2::interval, config => jsonb_set(
                            (SELECT config FROM timescaledb_information.jobs WHERE job_id = $1),
                            '{{{key}}}', {json}))"
                    ),
                    vec![Arg::Int(job.job_id), Arg::Text(schedule.to_string()), value],
                )
            }
            None => Statement::new(
                "SELECT alter_job($1, schedule_interval => $2::interval)",
                vec![Arg::Int(job.job_id), Arg::Text(schedule.to_string())],
            ),
        };
        self.push(kind, summary, statement, None);
    }
}

/// Changing an age-based policy job in place (its age and/or schedule), keeping the job.
struct JobChange {
    kind: StepKind,
    /// `compression` or `retention`, for the words.
    label: &'static str,
    /// The config key of the age: `compress_after` or `drop_after`.
    key: &'static str,
}

impl JobChange {
    fn plan(
        &self,
        b: &mut Builder<'_>,
        table: &mut TablePlan,
        job: &LiveJob,
        after: PolicyAge,
        schedule: PolicyInterval,
    ) {
        let after_differs = !same(job.after.as_ref(), after);
        let schedule_differs = !same_interval(&job.schedule, schedule);
        if after_differs || schedule_differs {
            let mut what = Vec::new();
            if after_differs {
                what.push(format!(
                    "{} {} → {after}",
                    self.key,
                    shown(job.after.as_ref())
                ));
            }
            if schedule_differs {
                what.push(format!("schedule {} → {schedule}", job.schedule.human()));
            }
            let what = what.join(", ");
            table.drift.push(format!("{} policy: {what}", self.label));
            b.alter_job(
                self.kind,
                job,
                self.key,
                after_differs.then_some(after),
                schedule,
                format!("change {} policy (job {}): {what}", self.label, job.job_id),
            );
        }
        if !job.scheduled {
            table.notes.push(format!(
                "{} job {} is paused; apply leaves it paused",
                self.label, job.job_id
            ));
        }
    }
}

/// Plans one managed hypertable: its steps go into `steps`, its findings into `table`.
fn plan_table(
    context: PlanContext,
    desired: &Policy,
    table: &mut TablePlan,
    steps: &mut Vec<Step>,
) {
    let live = table.live.clone();
    let name = table.name.clone();
    for problem in desired.problems() {
        table.refused.push(match problem {
            super::PolicyProblem::RetentionNotAfterCompression => format!(
                "retention {} is not longer than compress-after {}: chunks would be dropped before they are compressed",
                super::Retention(desired.retention),
                desired.compression_after
            ),
            super::PolicyProblem::MixedTimeKinds => {
                "the policy mixes intervals and whole numbers".to_string()
            }
        });
    }
    if !table.refused.is_empty() {
        return;
    }
    if desired.time_kind() != live.time_kind {
        let wanted = match live.time_kind {
            TimeKind::Time => "intervals such as \"7 days\"",
            TimeKind::Integer => "whole numbers in the column's own unit",
        };
        table.refused.push(format!(
            "{name} is partitioned by {} ({}): its policy needs {wanted}; set them for this table",
            live.time_column, live.time_type
        ));
        return;
    }
    let mut b = Builder {
        context,
        steps,
        table: name.clone(),
    };
    let schedule = desired.schedule_interval;

    // Chunk interval: applies to chunks created from now on.
    if !same(live.chunk_interval.as_ref(), desired.chunk_time_interval) {
        let (cast, value) = age_arg(desired.chunk_time_interval);
        table.drift.push(format!(
            "chunk interval: live {}, desired {}",
            shown(live.chunk_interval.as_ref()),
            desired.chunk_time_interval
        ));
        b.push(
            StepKind::ChunkInterval,
            format!(
                "chunk interval {} → {}: applies to new chunks only",
                shown(live.chunk_interval.as_ref()),
                desired.chunk_time_interval
            ),
            Statement::new(
                format!("SELECT set_chunk_time_interval($1::regclass, $2::{cast})"),
                vec![b.regclass(), value],
            ),
            None,
        );
    }

    let quoted = name.quoted();
    let segment_drift = !desired.segment_by.is_empty() && desired.segment_by != live.segment_by;
    let desired_order: Vec<String> = desired
        .order_by
        .iter()
        .map(|i| canonical_order_item(i))
        .collect();
    let order_drift = !desired_order.is_empty() && desired_order != live.order_by;

    // Compression on, off, or with new settings.
    let mut enabled_step = None;
    if desired.compression_enabled && !live.compression_enabled {
        table.drift.push("compression: live off, desired on".into());
        let clause = settings_clause(&desired.segment_by, &desired.order_by);
        enabled_step = Some(b.push(
            StepKind::EnableCompression,
            format!(
                "enable compression{}{}",
                if desired.segment_by.is_empty() {
                    String::new()
                } else {
                    format!(", segment by {}", desired.segment_by.join(", "))
                },
                if desired.order_by.is_empty() {
                    String::new()
                } else {
                    format!(", order by {}", desired_order.join(", "))
                }
            ),
            Statement::new(
                format!("ALTER TABLE {quoted} SET (timescaledb.compress{clause})"),
                vec![],
            ),
            None,
        ));
    } else if desired.compression_enabled && (segment_drift || order_drift) {
        if segment_drift {
            table.drift.push(format!(
                "segment by: live {}, desired {}",
                if live.segment_by.is_empty() {
                    "none".to_string()
                } else {
                    live.segment_by.join(", ")
                },
                desired.segment_by.join(", ")
            ));
        }
        if order_drift {
            table.drift.push(format!(
                "order by: live {}, desired {}",
                if live.order_by.is_empty() {
                    "none".to_string()
                } else {
                    live.order_by.join(", ")
                },
                desired_order.join(", ")
            ));
        }
        if live.compressed_chunks > 0 && context.settings_need_uncompressed_table {
            table.refused.push(format!(
                "new compression settings: this TimescaleDB (2.13) refuses them while {} chunks are compressed; decompress them first, or upgrade to 2.14 or later",
                live.compressed_chunks
            ));
        } else {
            if live.compressed_chunks > 0 {
                table.notes.push(format!(
                    "the new compression settings apply to chunks compressed from now on; the {} compressed chunks keep theirs until decompressed",
                    live.compressed_chunks
                ));
            }
            let segment = if segment_drift {
                desired.segment_by.clone()
            } else {
                Vec::new()
            };
            let order = if order_drift {
                desired.order_by.clone()
            } else {
                Vec::new()
            };
            let clause = settings_clause(&segment, &order);
            b.push(
                StepKind::CompressionSettings,
                "change compression settings".to_string(),
                Statement::new(
                    format!("ALTER TABLE {quoted} SET (timescaledb.compress{clause})"),
                    vec![],
                ),
                None,
            );
        }
    } else if !desired.compression_enabled && live.compression_enabled {
        table.drift.push("compression: live on, desired off".into());
        if live.compressed_chunks > 0 {
            table.refused.push(format!(
                "turning compression off: {} chunks are compressed; decompress them first (the console does not decompress a table for you)",
                live.compressed_chunks
            ));
        } else {
            let removed = live
                .compression_policy
                .as_ref()
                .map(|_| b.remove_compression_policy("compression is turned off"));
            b.push(
                StepKind::DisableCompression,
                "disable compression".to_string(),
                Statement::new(
                    format!("ALTER TABLE {quoted} SET (timescaledb.compress = false)"),
                    vec![],
                ),
                removed,
            );
        }
    }

    // The compression policy.
    match (&live.compression_policy, desired.compression_enabled) {
        (None, true) => {
            table.drift.push(format!(
                "compression policy: none, desired compress_after {}",
                desired.compression_after
            ));
            b.add_compression_policy(desired.compression_after, schedule, enabled_step);
        }
        (Some(job), true) if job.after.is_none() => {
            table.drift.push(format!(
                "compression policy: live compress_created_before {}, desired compress_after {}",
                shown(job.created_before.as_ref()),
                desired.compression_after
            ));
            let removed = b.remove_compression_policy("it compresses by creation time");
            b.add_compression_policy(desired.compression_after, schedule, Some(removed));
        }
        (Some(job), true) => {
            let change = JobChange {
                kind: StepKind::ChangeCompressionPolicy,
                label: "compression",
                key: "compress_after",
            };
            change.plan(&mut b, table, job, desired.compression_after, schedule);
        }
        (Some(_), false) if live.compression_enabled && live.compressed_chunks > 0 => {
            // Compression stays on (refused above); its policy goes.
            table
                .drift
                .push("compression policy: live, desired none".to_string());
            b.remove_compression_policy("compression is not wanted");
        }
        (Some(_), false) | (None, false) => {}
    }

    // The retention policy.
    match (&live.retention_policy, desired.retention) {
        (None, Some(after)) => {
            table
                .drift
                .push(format!("retention: none, desired drop_after {after}"));
            b.add_retention_policy(after, schedule, None);
        }
        (Some(job), Some(after)) if job.after.is_none() => {
            // alter_job on a drop_created_before job fails on 2.21-2.26.2: replace it.
            table.drift.push(format!(
                "retention: live drop_created_before {}, desired drop_after {after}",
                shown(job.created_before.as_ref())
            ));
            let removed = b.remove_retention_policy("it drops by creation time");
            b.add_retention_policy(after, schedule, Some(removed));
        }
        (Some(job), Some(after)) => {
            let change = JobChange {
                kind: StepKind::ChangeRetentionPolicy,
                label: "retention",
                key: "drop_after",
            };
            change.plan(&mut b, table, job, after, schedule);
        }
        (Some(job), None) => {
            table.drift.push(format!(
                "retention: live drop_after {}, desired none (keep forever)",
                shown(job.after.as_ref().or(job.created_before.as_ref()))
            ));
            b.remove_retention_policy("data is to be kept forever");
        }
        (None, None) => {}
    }
}

/// Plans every hypertable of `live` against its desired policy.
pub fn plan(context: PlanContext, desired: &[Desired], live: &LiveState) -> Plan {
    let mut plan = Plan::default();
    for table in &live.tables {
        let Some(wanted) = desired.iter().find(|d| d.name == table.name) else {
            continue;
        };
        let mut entry = TablePlan {
            name: table.name.clone(),
            managed: wanted.managed.clone(),
            desired: wanted.policy.clone(),
            live: table.clone(),
            drift: Vec::new(),
            notes: Vec::new(),
            refused: Vec::new(),
        };
        if wanted.managed.is_managed() {
            plan_table(context, &wanted.policy, &mut entry, &mut plan.steps);
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
    };

    fn policy() -> Policy {
        Policy {
            compression_enabled: true,
            compression_after: "7 days".parse().unwrap(),
            retention: Some("90 days".parse().unwrap()),
            chunk_time_interval: "1 day".parse().unwrap(),
            segment_by: vec!["equipment_id".into()],
            order_by: vec!["ts DESC".into()],
            schedule_interval: "12 hours".parse().unwrap(),
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
            "add retention policy drop_after 90 days, every 12 hours"
        );
        assert_eq!(
            plan.steps[1].statement.display(),
            "CALL add_columnstore_policy('\"factory_telemetry\".\"metric_hist\"'::regclass, after => '7 days'::interval, schedule_interval => '12 hours'::interval)"
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
            compression_after: PolicyAge::Integer(300_000),
            retention: Some(PolicyAge::Integer(9_000_000)),
            chunk_time_interval: PolicyAge::Integer(100_000),
            ..policy()
        };
        let plan = plan(NEW, &[desired(integer)], &state(live));
        assert!(plan.tables[0].refused.is_empty());
        assert_eq!(
            plan.steps[1].statement.display(),
            "CALL add_columnstore_policy('\"factory_telemetry\".\"metric_hist\"'::regclass, after => 300000::bigint, schedule_interval => '12 hours'::interval)"
        );
    }
}
