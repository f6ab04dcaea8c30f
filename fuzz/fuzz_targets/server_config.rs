//! Fuzz target `server_config`: the check is `poste_fuzz::server_config` (crates/poste-fuzz), also replayed over
//! `fuzz/regressions/server_config/` by `cargo test -p poste-fuzz`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| poste_fuzz::server_config(data));
