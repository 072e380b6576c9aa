//! An online login in the token: attached from a `#scan=` link, shown with who is asking, then
//! approved with the PIN or denied.

use leptos::prelude::*;
use leptos::task::spawn_local;
use qrauth_token::{LoginRequest, StoredActivation, TokenError};

use super::{BackHome, PinInput, Screen, local_time, open_token, use_screen};

/// Attaches to the login a link names, then asks the person.
#[component]
pub fn LoginScreen(
    /// The `…/token#scan=…` link or the bare scan code.
    link: String,
) -> impl IntoView {
    let attached = LocalResource::new(move || {
        let link = link.clone();
        async move {
            let token = open_token().await?;
            let activations = token.activations().await?;
            let request = token.attach_login(&link).await?;
            Ok::<_, TokenError>((request, activations))
        }
    });
    move || match attached.get() {
        None => {
            view! { <p class="card" aria-busy="true">"Opening the sign-in request…"</p> }.into_any()
        }
        Some(Err(e)) => view! {
            <section class="card" aria-labelledby="login-refused-title" data-testid="login-refused">
                <h1 id="login-refused-title">"This sign-in cannot be approved"</h1>
                <p class="error" role="alert" data-testid="login-problem">{attach_problem(&e)}</p>
                <BackHome/>
            </section>
        }
        .into_any(),
        Some(Ok((request, activations))) => {
            view! { <LoginDecision request activations/> }.into_any()
        }
    }
}

/// What a failed attach means for the person holding the phone.
fn attach_problem(error: &TokenError) -> String {
    match error {
        TokenError::Server { code, .. } if code == "scan_code_not_found" => {
            "This sign-in code is unknown or was used already: scan the code the page shows now."
                .into()
        }
        TokenError::Server { code, .. } if code == "login_expired" => {
            "This sign-in code has expired: the page shows a new one.".into()
        }
        other => other.to_string(),
    }
}

/// Who is asking to sign in, and Approve with the PIN or Deny.
#[component]
fn LoginDecision(request: LoginRequest, activations: Vec<StoredActivation>) -> impl IntoView {
    let screen = use_screen();
    let chosen = RwSignal::new(
        activations
            .first()
            .map(|a| a.activation_id.clone())
            .unwrap_or_default(),
    );
    let pin = RwSignal::new(String::new());
    let number = RwSignal::new(String::new());
    let number_matching = request.requester.number_matching;
    let (busy, set_busy) = signal(false);
    let (problem, set_problem) = signal(None::<String>);
    let has_activation = !activations.is_empty();
    let choices = (activations.len() > 1).then(|| {
        let options = activations
            .iter()
            .map(|a| {
                let id = a.activation_id.clone();
                view! { <option value=id>{format!("{} · {}", a.user, a.service_name)}</option> }
            })
            .collect_view();
        view! {
            <label for="login-activation">"Sign in as"</label>
            <select id="login-activation" data-testid="login-activation" bind:value=chosen>
                {options}
            </select>
        }
    });
    let approving = request.clone();
    let approve = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (request, id, pin, number) = (
            approving.clone(),
            chosen.get_untracked(),
            pin.get_untracked(),
            number.get_untracked(),
        );
        set_busy.set(true);
        set_problem.set(None);
        spawn_local(async move {
            let decided = async {
                open_token()
                    .await?
                    .approve_login(&id, &request, &pin, Some(&number))
                    .await
            }
            .await;
            set_busy.set(false);
            match decided {
                Ok(_) => screen.set(Screen::home_with(
                    "Sign-in approved: the page that showed the code signs you in.",
                )),
                // The server denied the login: nothing is left to decide here.
                Err(TokenError::Server { code, .. }) if code == "number_mismatch" => {
                    screen.set(Screen::home_with(
                        "Sign-in refused: the number you typed is not the one on the sign-in \
                         page. If it was you, start again on the page.",
                    ))
                }
                Err(e) => set_problem.set(Some(decision_problem(&e))),
            }
        });
    };
    let denying = request.clone();
    let deny = move |_| {
        let request = denying.clone();
        set_busy.set(true);
        set_problem.set(None);
        spawn_local(async move {
            let decided = async { open_token().await?.deny_login(&request).await }.await;
            set_busy.set(false);
            match decided {
                Ok(_) => screen.set(Screen::home_with("Sign-in denied: nobody was signed in.")),
                Err(e) => set_problem.set(Some(decision_problem(&e))),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="login-title" data-testid="login-request">
            <h1 id="login-title">"Sign in?"</h1>
            <p>"Approve only if you are signing in yourself, right now."</p>
            <dl class="details">
                <dt>"Service"</dt>
                <dd data-testid="login-service">{request.requester.service.clone()}</dd>
                <dt>"Browser"</dt>
                <dd data-testid="login-browser">{request.requester.browser.clone()}</dd>
                <dt>"From address"</dt>
                <dd data-testid="login-address">{request.requester.address.clone()}</dd>
                <dt>"Asked at"</dt>
                <dd data-testid="login-time">{local_time(request.requester.requested_at as f64)}</dd>
            </dl>
            <form class="stack" on:submit=approve>
                {choices}
                {(number_matching && has_activation).then(|| view! {
                    <label for="login-number">"Number on the sign-in page"</label>
                    <input
                        id="login-number"
                        inputmode="numeric"
                        autocomplete="off"
                        maxlength="2"
                        aria-describedby="login-number-hint"
                        data-testid="login-number"
                        bind:value=number
                    />
                    <p id="login-number-hint" class="hint">
                        "Type the two digits the page you are signing in to shows now."
                    </p>
                })}
                {has_activation.then(|| view! {
                    <label for="login-pin">"PIN"</label>
                    <PinInput id="login-pin" test_id="pin" value=pin/>
                })}
                {(!has_activation).then(|| view! {
                    <p class="error" data-testid="login-no-activation">
                        "This device has no activated token, so it cannot approve. Deny, or activate it first."
                    </p>
                })}
                <p class="error" role="alert" data-testid="login-problem">
                    {move || problem.get().unwrap_or_default()}
                </p>
                <div class="actions">
                    <button
                        type="submit"
                        class="primary"
                        data-testid="approve"
                        disabled=move || busy.get() || !has_activation
                    >
                        "Approve"
                    </button>
                    <button type="button" data-testid="deny" disabled=busy on:click=deny>
                        "Deny"
                    </button>
                </div>
            </form>
        </section>
    }
}

/// What a refused approval or denial means.
fn decision_problem(error: &TokenError) -> String {
    match error {
        TokenError::Server { code, message, .. } if code == "signature_invalid" => {
            format!("Wrong PIN: the server refused the approval. {message}")
        }
        TokenError::Server { code, .. } if code == "activation_blocked" => {
            "This token is blocked after too many wrong PINs: remove it and activate again.".into()
        }
        TokenError::Server { code, .. } if code == "login_expired" => {
            "The sign-in expired before you decided: start again on the page.".into()
        }
        other => other.to_string(),
    }
}
