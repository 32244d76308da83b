//! Chart builders: plain data in, a charming `Chart` out. Rendering happens in the
//! browser (`components::chart_canvas`); the builders compile everywhere and are tested
//! natively.

pub mod bytes_per_hypertable;
