//! The bundle of a signed-in person's pages: `/account` and `/approve`.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(qrauth_app::AccountApp);
}
