//! Prints spec §13.2's worked example as JSON (`payload`, `serverPublic`), for the benchmarks
//! that run outside Rust.

fn main() -> Result<(), String> {
    let example = qrauth_bench::WorkedExample::load()?;
    println!(
        "{}",
        serde_json::json!({ "payload": example.payload, "serverPublic": example.server_public })
    );
    Ok(())
}
