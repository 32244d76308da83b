//! The hypertable list as a table.

use leptos::prelude::*;
use tsdb::types::{format_bytes, HypertableSummary};

/// One row per hypertable: name, size, chunks, compression.
#[component]
pub fn HypertableTable(rows: Vec<HypertableSummary>) -> impl IntoView {
    view! {
        <table class="data" data-testid="hypertables">
            <thead>
                <tr>
                    <th scope="col">"Hypertable"</th>
                    <th scope="col" class="num">"Size"</th>
                    <th scope="col" class="num">"Chunks"</th>
                    <th scope="col" class="num">"Compressed chunks"</th>
                    <th scope="col">"Compression"</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|row| {
                        let name = row.display_name();
                        let label = name.clone();
                        let (badge_class, badge) = if row.compression_enabled {
                            ("badge on", "on")
                        } else {
                            ("badge off", "off")
                        };
                        view! {
                            <tr data-testid="hypertable-row" data-name=name>
                                <td class="name">{label}</td>
                                <td class="num" title=format!("{} bytes", row.total_bytes)>
                                    {format_bytes(row.total_bytes)}
                                </td>
                                <td class="num">{row.chunk_count}</td>
                                <td class="num">{row.compressed_chunk_count}</td>
                                <td><span class=badge_class>{badge}</span></td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
