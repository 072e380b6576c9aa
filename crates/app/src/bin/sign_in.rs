//! The sign-in bundle: `/`.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(qrauth_app::SignInApp);
}
