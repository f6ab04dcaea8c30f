//! Fuzz target `server_message`: the check is `poste_fuzz::server_message` (crates/poste-fuzz), also replayed over
//! `fuzz/regressions/server_message/` by `cargo test -p poste-fuzz`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| poste_fuzz::server_message(data));
