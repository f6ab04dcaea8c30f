//! Fuzz target `normalize_code`: the check is `poste_fuzz::normalize_code` (crates/poste-fuzz), also replayed over
//! `fuzz/regressions/normalize_code/` by `cargo test -p poste-fuzz`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| poste_fuzz::normalize_code(data));
