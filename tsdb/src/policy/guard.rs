//! The data-loss guard: what a change would make TimescaleDB drop that it would not drop
//! anyway, and which continuous aggregates would lose rows. Every way to change a policy
//! (the form, a revert, the command line, REST, the start-up apply) asks it before a step
//! runs; a hazard needs the relation's name typed, and an aggregate's loss needs an
//! explicit acceptance on top.
//!
//! The aggregate rules, from how TimescaleDB behaves: dropping raw chunks leaves an
//! aggregate's rows until a refresh covers that range, and then rewrites them from no
//! data. So an aggregate loses rows when a refresh policy reaches past the retention (a
//! `NULL` start offset reaches everything), when its watermark is behind the drop
//! boundary (rows never materialized), and through every aggregate built on it whose
//! refresh reaches as far. Paused refresh jobs count: they can be resumed.

use super::live::{LiveAge, LiveCagg, LiveRefresh, LiveState};
use super::target::{JobAge, RefreshTarget, Target};
use super::{HypertableName, PolicyAge};
use serde::{Deserialize, Serialize};

/// Something a change would lose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hazard {
    /// The relation whose change it is: its name is what the admin types.
    pub relation: HypertableName,
    /// What would be lost.
    pub loss: Loss,
}

/// What would be lost, in facts; [`Loss::describe`] words it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Loss {
    /// Chunks the new retention drops at its next run that the current policy would not.
    Chunks {
        /// How many.
        count: usize,
        /// Their bytes.
        bytes: i64,
        /// Their estimated rows.
        rows: i64,
        /// The retention after the change.
        drop_after: String,
    },
    /// A continuous aggregate would lose rows.
    Aggregate {
        /// The aggregate.
        aggregate: HypertableName,
        /// Why, and which range.
        reason: String,
    },
}

impl Hazard {
    /// In words, for dry-runs, refusals and the command line.
    pub fn describe(&self) -> String {
        match &self.loss {
            Loss::Chunks {
                count,
                bytes,
                rows,
                drop_after,
            } => format!(
                "{}: retention {drop_after} drops {count} chunk(s) the current policy keeps ({}, about {rows} rows) at its next run",
                self.relation,
                crate::types::format_bytes(*bytes)
            ),
            Loss::Aggregate { aggregate, reason } => {
                format!("continuous aggregate {aggregate} loses data: {reason}")
            }
        }
    }

    /// Whether accepting it needs more than the typed name.
    pub fn is_aggregate_loss(&self) -> bool {
        matches!(self.loss, Loss::Aggregate { .. })
    }
}

/// `hazards` in words, one after the other.
pub fn describe_all(hazards: &[Hazard]) -> String {
    hazards
        .iter()
        .map(Hazard::describe)
        .collect::<Vec<_>>()
        .join("; ")
}

/// What an admin confirmed with a change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmations {
    /// Relation names as typed (the name as the console shows it).
    #[serde(default)]
    pub typed_names: Vec<String>,
    /// The admin read which aggregates lose which range and accepts it.
    #[serde(default)]
    pub accept_aggregate_loss: bool,
}

impl Confirmations {
    /// Whether `hazard` is confirmed.
    pub fn covers(&self, hazard: &Hazard) -> bool {
        let named = self
            .typed_names
            .iter()
            .any(|typed| typed.trim() == hazard.relation.to_string());
        named && (!hazard.is_aggregate_loss() || self.accept_aggregate_loss)
    }

    /// The hazards not confirmed.
    pub fn missing<'a>(&self, hazards: &'a [Hazard]) -> Vec<&'a Hazard> {
        hazards.iter().filter(|h| !self.covers(h)).collect()
    }
}

/// How far back a live refresh reaches: `None` for everything (a `NULL` start).
fn reach(start: Option<&LiveAge>) -> Option<i64> {
    start.map(|age| age.magnitude.unwrap_or(i64::MAX))
}

/// Whether a refresh reaching `reach` (`None`: everything) covers data older than `age`.
fn reaches_past(reach: Option<i64>, age: i64) -> bool {
    reach.is_none_or(|r| r > age)
}

/// The refresh policies of `cagg` reaching past `age`, in words.
fn refreshes_past(refresh: &[LiveRefresh], age: i64) -> Vec<String> {
    refresh
        .iter()
        .filter(|r| reaches_past(reach(r.start_offset.as_ref()), age))
        .map(|r| {
            let paused = if r.scheduled { "" } else { ", paused" };
            match &r.start_offset {
                None => format!(
                    "its refresh policy (job {}{paused}) has no start offset: it refreshes from the very beginning",
                    r.job_id
                ),
                Some(start) => format!(
                    "its refresh policy (job {}{paused}) reaches back {} (start_offset)",
                    r.job_id,
                    start.human()
                ),
            }
        })
        .collect()
}

/// The aggregates that lose rows when `source` loses data older than `age` (its
/// magnitude: seconds or the integer), directly or through aggregates on aggregates.
/// `watermarks` gives each aggregate's materialization state against the drop boundary
/// (`Some(true)`: behind it; `None`: unknown or not time-based).
pub fn aggregate_losses(
    live: &LiveState,
    source: &HypertableName,
    age: PolicyAge,
    behind: &dyn Fn(&LiveCagg) -> Option<String>,
) -> Vec<Hazard> {
    let mut hazards = Vec::new();
    let mut frontier: Vec<HypertableName> = vec![source.clone()];
    let mut seen: Vec<HypertableName> = vec![source.clone()];
    while let Some(current) = frontier.pop() {
        // Below the first level, an aggregate loses the range because the one it reads
        // does.
        let through = (&current != source).then_some(&current);
        for cagg in live.caggs_on(&current) {
            let mut reasons = refreshes_past(&cagg.refresh, age.magnitude());
            if through.is_none() {
                if let Some(reason) = behind(cagg) {
                    reasons.push(reason);
                }
            }
            if reasons.is_empty() {
                continue;
            }
            let cause = match through {
                None => format!("{source} would lose its data older than {age}"),
                Some(t) => format!("through {t}, which loses its rows older than {age}"),
            };
            hazards.push(Hazard {
                relation: source.clone(),
                loss: Loss::Aggregate {
                    aggregate: cagg.name.clone(),
                    reason: format!(
                        "{}; {cause}, so its rows for that range are lost at the next refresh",
                        reasons.join("; ")
                    ),
                },
            });
            if !seen.contains(&cagg.name) {
                seen.push(cagg.name.clone());
                frontier.push(cagg.name.clone());
            }
        }
    }
    hazards
}

/// The hazards of new refresh windows on `cagg`: a window reaching past its source's
/// retention rewrites the dropped range from no data, when it reaches further than the
/// aggregate's refresh policies do now.
pub fn refresh_losses(live: &LiveState, cagg: &LiveCagg, wanted: &[RefreshTarget]) -> Vec<Hazard> {
    let Some(source) = live.relation(&cagg.source) else {
        return Vec::new();
    };
    let Some(retention) = source
        .retention_policy
        .as_ref()
        .and_then(|j| j.after.as_ref())
        .and_then(|a| a.magnitude)
    else {
        return Vec::new();
    };
    let now_reach = cagg
        .refresh
        .iter()
        .map(|r| reach(r.start_offset.as_ref()))
        .try_fold(0, |acc: i64, r| r.map(|b| acc.max(b)));
    let mut hazards = Vec::new();
    for target in wanted {
        let new_reach = target.start_offset.map(PolicyAge::magnitude);
        let further = match (now_reach, new_reach) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(now), Some(new)) => new > now,
        };
        if further && reaches_past(new_reach, retention) {
            let start = target
                .start_offset
                .map_or_else(|| "the very beginning".to_string(), |s| format!("{s} back"));
            hazards.push(Hazard {
                relation: cagg.name.clone(),
                loss: Loss::Aggregate {
                    aggregate: cagg.name.clone(),
                    reason: format!(
                        "the new refresh window reaches {start}, past {}'s retention of {}: each refresh rewrites that range from raw data that is gone, emptying it",
                        cagg.source,
                        source
                            .retention_policy
                            .as_ref()
                            .and_then(|j| j.after.as_ref())
                            .map(LiveAge::human)
                            .unwrap_or_default()
                    ),
                },
            });
        }
    }
    hazards
}

/// The retention age a target gives, when it gives one by data age that is shorter
/// than (or new against) the live one: only then can it drop more.
pub fn shorter_retention(target: &Target, live_after: Option<&LiveAge>) -> Option<PolicyAge> {
    let Some(Some(job)) = target.retention_policy else {
        return None;
    };
    let JobAge::After(after) = job.age else {
        return None;
    };
    match live_after.and_then(|a| a.magnitude) {
        Some(current) if after.magnitude() >= current => None,
        _ => Some(after),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::live::{LiveJob, LiveTable};

    fn table(schema: &str, name: &str) -> LiveTable {
        LiveTable::bare(schema, name)
    }

    fn refresh(job_id: i32, start: Option<&str>) -> LiveRefresh {
        LiveRefresh {
            job_id,
            start_offset: start.map(LiveAge::interval),
            end_offset: Some(LiveAge::interval("01:00:00")),
            schedule: LiveAge::interval("01:00:00"),
            scheduled: true,
        }
    }

    fn cagg(name: &str, source: &str, refresh: Vec<LiveRefresh>) -> LiveCagg {
        LiveCagg {
            name: HypertableName::new("plant", name),
            source: HypertableName::new("plant", source),
            source_is_aggregate: source != "readings",
            materialization: HypertableName::new("_timescaledb_internal", format!("_m_{name}")),
            refresh,
            policies: table("plant", name),
        }
    }

    fn state() -> LiveState {
        LiveState {
            tables: vec![table("plant", "readings")],
            caggs: vec![
                cagg("hourly", "readings", vec![refresh(1000, None)]),
                cagg("daily", "hourly", vec![refresh(1001, Some("60 days"))]),
                cagg("weekly", "daily", vec![refresh(1002, Some("10 days"))]),
                cagg("recent", "readings", vec![refresh(1003, Some("2 days"))]),
            ],
        }
    }

    #[test]
    fn a_null_start_and_aggregates_on_aggregates_are_at_risk() {
        let live = state();
        let five_days: PolicyAge = "5 days".parse().unwrap();
        let hazards = aggregate_losses(
            &live,
            &HypertableName::new("plant", "readings"),
            five_days,
            &|_| None,
        );
        let hit: Vec<String> = hazards
            .iter()
            .map(|h| match &h.loss {
                Loss::Aggregate { aggregate, .. } => aggregate.to_string(),
                Loss::Chunks { .. } => unreachable!(),
            })
            .collect();
        // hourly refreshes everything; daily (on hourly) reaches 60 days, weekly (on
        // daily) 10 days: all past 5 days. recent reaches only 2 days.
        assert_eq!(hit, ["plant.hourly", "plant.daily", "plant.weekly"]);
        assert!(
            hazards[0].describe().contains("from the very beginning"),
            "{}",
            hazards[0].describe()
        );
        assert!(
            hazards[1].describe().contains("through plant.hourly"),
            "{}",
            hazards[1].describe()
        );
        // A retention of 90 days: only the NULL start reaches past it, and what builds on
        // hourly reaches no further than 60 days.
        let ninety: PolicyAge = "90 days".parse().unwrap();
        let hazards = aggregate_losses(
            &live,
            &HypertableName::new("plant", "readings"),
            ninety,
            &|_| None,
        );
        assert_eq!(hazards.len(), 1);
    }

    #[test]
    fn a_watermark_behind_the_boundary_is_a_loss_even_without_a_refresh_policy() {
        let mut live = state();
        live.caggs[3].refresh.clear();
        let hazards = aggregate_losses(
            &live,
            &HypertableName::new("plant", "readings"),
            "5 days".parse().unwrap(),
            &|c| (c.name.table == "recent").then(|| "it was never refreshed".to_string()),
        );
        assert!(hazards.iter().any(|h| h
            .describe()
            .contains("plant.recent loses data: it was never refreshed")));
    }

    #[test]
    fn a_refresh_window_past_the_sources_retention_needs_confirmation() {
        let mut live = state();
        live.tables[0].retention_policy = Some(LiveJob {
            job_id: 1010,
            after: Some(LiveAge::interval("30 days")),
            created_before: None,
            schedule: LiveAge::interval("1 day"),
            scheduled: true,
        });
        let recent = live.caggs[3].clone();
        let wider = RefreshTarget {
            start_offset: Some("60 days".parse().unwrap()),
            end_offset: Some("1 hour".parse().unwrap()),
            schedule: "1 hour".parse().unwrap(),
        };
        assert_eq!(refresh_losses(&live, &recent, &[wider]).len(), 1);
        let everything = RefreshTarget {
            start_offset: None,
            ..wider
        };
        assert_eq!(refresh_losses(&live, &recent, &[everything]).len(), 1);
        let inside = RefreshTarget {
            start_offset: Some("20 days".parse().unwrap()),
            ..wider
        };
        assert!(refresh_losses(&live, &recent, &[inside]).is_empty());
        // hourly already refreshes everything: a change cannot reach further.
        assert!(refresh_losses(&live, &live.caggs[0].clone(), &[everything]).is_empty());
    }

    #[test]
    fn confirmations_name_the_relation_and_accept_aggregate_loss_explicitly() {
        let hazard = Hazard {
            relation: HypertableName::new("zz_probe.a", "b"),
            loss: Loss::Aggregate {
                aggregate: HypertableName::new("plant", "hourly"),
                reason: "x".into(),
            },
        };
        let mut confirm = Confirmations {
            typed_names: vec!["zz_probe.a.b".into()],
            accept_aggregate_loss: true,
        };
        assert!(
            !confirm.covers(&hazard),
            "the ambiguous bare form is not the name"
        );
        confirm.typed_names = vec![" \"zz_probe.a\".b ".into()];
        assert!(confirm.covers(&hazard));
        confirm.accept_aggregate_loss = false;
        assert!(!confirm.covers(&hazard));
    }
}
