//! What a policy change would lose, and the confirmation it needs: one field per relation
//! for its name typed, and the acceptance of aggregate losses only when one is listed.
//! The server checks the same confirmations again (`tsdb::policy::guard`).

use leptos::prelude::*;
use tsdb::policy::guard::{Confirmations, Hazard};
use tsdb::policy::HypertableName;

/// The hazards listed, with the inputs that confirm them into `confirm`.
#[component]
pub fn ConfirmLoss(hazards: Vec<Hazard>, confirm: RwSignal<Confirmations>) -> impl IntoView {
    let mut relations: Vec<HypertableName> = Vec::new();
    for hazard in &hazards {
        if !relations.contains(&hazard.relation) {
            relations.push(hazard.relation.clone());
        }
    }
    let aggregate = hazards.iter().any(Hazard::is_aggregate_loss);
    if hazards.is_empty() {
        return ().into_any();
    }
    view! {
        <div class="confirm-loss" data-testid="confirm-loss">
            <ul class="hazards">
                {hazards.iter().map(|h| view! {
                    <li class="notice bad" data-testid=if h.is_aggregate_loss() { "cagg-risk" } else { "drop-risk" }>{h.describe()}</li>
                }).collect_view()}
            </ul>
            {relations.into_iter().enumerate().map(|(index, relation)| {
                let shown = relation.to_string();
                view! {
                    <label class="field confirm"><span>{format!("This loses data: type {shown} to confirm")}</span>
                        <input name="confirm_name" data-testid="confirm-name" autocomplete="off" spellcheck="false"
                            prop:value=move || confirm.with(|c| c.typed_names.get(index).cloned().unwrap_or_default())
                            on:input=move |ev| {
                                let typed = event_target_value(&ev);
                                confirm.update(|c| {
                                    if c.typed_names.len() <= index {
                                        c.typed_names.resize(index + 1, String::new());
                                    }
                                    c.typed_names[index] = typed;
                                });
                            }/>
                    </label>
                }
            }).collect_view()}
            {aggregate.then(|| view! {
                <label class="checkbox"><input type="checkbox" data-testid="accept-aggregate-loss"
                    prop:checked=move || confirm.with(|c| c.accept_aggregate_loss)
                    on:change=move |ev| confirm.update(|c| c.accept_aggregate_loss = event_target_checked(&ev))/>
                    " I have read which continuous aggregates lose which rows, and accept it"</label>
            })}
        </div>
    }
    .into_any()
}
