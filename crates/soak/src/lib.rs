//! qrauth under load, faults and hostile conditions.
//!
//! Simulated users (a page and a phone with a software token each) run random full flows
//! against a real `qrauth serve` over HTTP on 127.0.0.1, while the harness kills the server
//! with SIGKILL and starts it again; afterwards every final state is checked against what the
//! users did and the database is searched for broken promises. `cargo xtask soak` runs it at
//! full size; the CLI's tests run it briefly, with the storage and clock faults.

pub mod http;
pub mod load;
pub mod server;
pub mod token;
