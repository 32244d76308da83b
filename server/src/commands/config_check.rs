//! `ms5-console config check`: the configuration was valid (loading it refused anything
//! else, with every problem at once); print the effective values with what each means.

use crate::config::{settings_table, Settings};

/// Prints the effective configuration, secrets redacted.
pub fn run(settings: &Settings) {
    println!("configuration is valid; effective values:");
    for (name, value) in settings.describe() {
        match settings_table().find(|s| s.env == name) {
            Some(setting) => println!("  {name} = {value}    # {}", setting.description),
            None => println!("  {name} = {value}"),
        }
    }
}
