//! Fuzz target `settings`: the check is `poste_fuzz::settings` (crates/poste-fuzz), also replayed over
//! `fuzz/regressions/settings/` by `cargo test -p poste-fuzz`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| poste_fuzz::settings(data));
