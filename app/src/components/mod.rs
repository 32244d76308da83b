//! Reusable view pieces: props in, view out.

pub mod bytes_chart;
pub mod error_panel;
pub mod hypertable_table;
pub mod startup_banner;
pub mod user_menu;
