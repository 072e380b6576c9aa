//! The core primitives, natively: what a token computes and what the server checks, and the
//! QR encoder beside the `qrcode` crate used as published. `cargo xtask bench` runs this and
//! reads Criterion's estimates.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark that cannot set up stops

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use qrauth_bench::WorkedExample;
use qrauth_core::signature::{
    DEFAULT_COMPONENT_LENGTH, DEFAULT_LOOKAHEAD, OFFLINE_URI_ID, offline_code, verify_offline_code,
};
use qrauth_core::{
    CtrData, FactorKeys, FactorType, OfflinePayload, PinProtectedKey, PublicKey, SecretKey,
};
use qrauth_token::{QrOptions, render_qr_svg};

fn qr(c: &mut Criterion) {
    let example = WorkedExample::load().unwrap();
    let mut group = c.benchmark_group("qr");
    group.bench_function("qrauth", |b| {
        b.iter(|| render_qr_svg(black_box(&example.payload), &QrOptions::default()).unwrap())
    });
    group.bench_function("qrcode-crate", |b| {
        b.iter(|| {
            let code = qrcode::QrCode::with_error_correction_level(
                black_box(example.payload.as_bytes()),
                qrcode::EcLevel::M,
            )
            .unwrap();
            code.render::<qrcode::render::svg::Color>().build()
        })
    });
    group.finish();
}

/// A token's keys, fixed so that runs compare.
fn keys() -> FactorKeys {
    FactorKeys {
        possession: SecretKey::from_bytes([1; 16]),
        knowledge: SecretKey::from_bytes([2; 16]),
        biometry: SecretKey::from_bytes([3; 16]),
    }
}

fn token(c: &mut Criterion) {
    let example = WorkedExample::load().unwrap();
    let payload = OfflinePayload::parse(&example.payload).unwrap();
    let server_public = PublicKey::from_base64(&example.server_public).unwrap();
    let keys = keys();
    let stored = PinProtectedKey::protect(&keys.knowledge, "2580", [7; 16]);
    let ctr = CtrData::from_bytes([9; 16]);
    let mut group = c.benchmark_group("token");
    group.bench_function("ecdsa-verify", |b| {
        b.iter(|| payload.verify_signature(black_box(&server_public)).unwrap())
    });
    // What a person waits for after typing the PIN: the knowledge key unlocked (PBKDF2, 10 000
    // rounds), then the two-component HMAC chain.
    group.bench_function("pin-to-code", |b| {
        b.iter(|| {
            let unlocked = FactorKeys {
                knowledge: stored.unprotect(black_box("2580")),
                ..keys.clone()
            };
            offline_code(
                &unlocked,
                FactorType::PossessionKnowledge,
                &ctr,
                &payload.message(OFFLINE_URI_ID),
                DEFAULT_COMPONENT_LENGTH,
            )
            .unwrap()
        })
    });
    group.finish();
}

fn server(c: &mut Criterion) {
    let example = WorkedExample::load().unwrap();
    let payload = OfflinePayload::parse(&example.payload).unwrap();
    let message = payload.message(OFFLINE_URI_ID);
    let keys = keys();
    let ctr = CtrData::from_bytes([9; 16]);
    // The worst case: a wrong code with biometry allowed, so every counter of the look-ahead
    // is tried with both factor pairs before the answer is no.
    let verify = || {
        let found = verify_offline_code(
            "00000000-00000000",
            &keys,
            &ctr,
            &message,
            true,
            DEFAULT_COMPONENT_LENGTH,
            DEFAULT_LOOKAHEAD,
        )
        .unwrap();
        assert!(found.is_none());
    };
    let mut group = c.benchmark_group("server");
    group.bench_function("verify-worst-case", |b| b.iter(verify));
    // Both cores at once, as the server's blocking pool runs them.
    group.bench_function("verify-worst-case-2-threads", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                s.spawn(verify);
                verify();
            })
        })
    });
    group.finish();
}

criterion_group!(benches, qr, token, server);
criterion_main!(benches);
