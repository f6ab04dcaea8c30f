//! Fuzz target `client_message`: the check is `poste_fuzz::client_message` (crates/poste-fuzz), also replayed over
//! `fuzz/regressions/client_message/` by `cargo test -p poste-fuzz`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| poste_fuzz::client_message(data));
