//! Reusable view pieces: props in, view out.

pub mod alert_banner;
pub mod catalog_banner;
pub mod chart_canvas;
pub mod confirm_loss;
pub mod error_panel;
pub mod freshness;
pub mod live;
pub mod startup_banner;
pub mod user_menu;
