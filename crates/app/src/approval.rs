//! The approval page: a payment as the person will see it on the token, its offline QR and the
//! field for the code, then the result.

use leptos::prelude::*;
use qrauth_core::OfflinePayload;
use qrauth_token::OfflineOperation;

use crate::account::RequireSignIn;
use qrauth_core::wire::{CreateOperation, NewOperation};

use crate::api;
use crate::countdown::{Unavailable, renewable};
use crate::offline::OfflineCodeEntry;
use crate::operation::OperationView;

/// The payment the form starts with (a valid Czech IBAN, so the demo works as it is): amount,
/// currency, IBAN, payee and note.
const EXAMPLE_PAYMENT: [&str; 5] = [
    "1250.00",
    "EUR",
    "CZ65 0800 0000 1920 0014 5399",
    "Bytové družstvo Žižkov",
    "Rent for December",
];

/// The approval page.
#[component]
pub fn ApprovalPage() -> impl IntoView {
    view! {
        <RequireSignIn purpose="to approve a payment" signed_in=|_| view! { <Approval/> }/>
    }
}

#[component]
fn Approval() -> impl IntoView {
    let (payment, set_payment) = signal(None::<CreateOperation>);
    view! {
        <section class="card" aria-labelledby="approval-title">
            <h1 id="approval-title">"Approve a payment"</h1>
            {move || match payment.get() {
                None => view! { <PaymentForm chosen=Callback::new(move |p| set_payment.set(Some(p)))/> }.into_any(),
                Some(payment) => view! { <PaymentApproval payment again=Callback::new(move |()| set_payment.set(None))/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn PaymentForm(chosen: Callback<CreateOperation>) -> impl IntoView {
    let [amount, currency, iban, payee, note] =
        EXAMPLE_PAYMENT.map(|value| RwSignal::new(value.to_owned()));
    view! {
        <form
            class="stack"
            data-testid="payment-form"
            on:submit=move |ev| {
                ev.prevent_default();
                chosen
                    .run(CreateOperation::Payment {
                        amount: amount.get_untracked().trim().to_owned(),
                        currency: currency.get_untracked().trim().to_uppercase(),
                        iban: iban.get_untracked(),
                        payee: Some(payee.get_untracked()),
                        note: Some(note.get_untracked()),
                        // The signed-in person pays.
                        user: None,
                        flags: None,
                    });
            }
        >
            <div class="row">
                <div class="stack grow">
                    <label for="amount">"Amount"</label>
                    <input id="amount" data-testid="amount" inputmode="decimal" bind:value=amount/>
                </div>
                <div class="stack narrow">
                    <label for="currency">"Currency"</label>
                    <input id="currency" data-testid="currency" maxlength="3" autocapitalize="characters" bind:value=currency/>
                </div>
            </div>
            <label for="payee">"Payee"</label>
            <input id="payee" data-testid="payee" maxlength="70" bind:value=payee/>
            <label for="iban">"To account (IBAN)"</label>
            <input id="iban" data-testid="iban" autocapitalize="characters" spellcheck="false" bind:value=iban/>
            <label for="note">"Note"</label>
            <input id="note" data-testid="note" maxlength="140" bind:value=note/>
            <button type="submit" class="primary" data-testid="payment-continue">
                "Continue to approval"
            </button>
        </form>
    }
}

#[component]
fn PaymentApproval(payment: CreateOperation, again: Callback<()>) -> impl IntoView {
    let (operation, renew) = renewable(move || {
        let payment = payment.clone();
        async move { api::create_payment(&payment).await }
    });
    let renewals = RwSignal::new(0);
    let (approved, set_approved) = signal(false);
    move || match operation.get() {
        None => view! { <p>"Preparing the payment…"</p> }.into_any(),
        Some(Err(e)) => view! {
            <Unavailable error=e retry=renew/>
            <button type="button" on:click=move |_| again.run(())>"Change the payment"</button>
        }
        .into_any(),
        Some(Ok(operation)) => view! {
            <PaymentDetails operation=operation.clone()/>
            <Show
                when=move || approved.get()
                fallback=move || view! {
                    <OfflineCodeEntry
                        operation=operation.clone()
                        qr_label="QR code of the payment: scan it with the qrauth token"
                        action="Approve payment"
                        renewals
                        renew
                        approved=Callback::new(move |_| set_approved.set(true))
                    />
                }
            >
                <div class="result" role="status" data-testid="approval-result">
                    <p class="success">"Payment approved."</p>
                    <button type="button" data-testid="approve-another" on:click=move |_| {
                        set_approved.set(false);
                        again.run(());
                    }>"Approve another payment"</button>
                </div>
            </Show>
        }
        .into_any(),
    }
}

/// The payment as the token will show it: read from the payload the QR carries, so the page
/// and the phone cannot disagree.
#[component]
fn PaymentDetails(operation: NewOperation) -> impl IntoView {
    match OfflinePayload::parse(&operation.payload) {
        Ok(payload) => {
            view! { <OperationView operation=OfflineOperation::of(&payload)/> }.into_any()
        }
        Err(e) => view! {
            <p class="error" role="alert">{format!("The server's payment cannot be read: {e}")}</p>
        }
        .into_any(),
    }
}
