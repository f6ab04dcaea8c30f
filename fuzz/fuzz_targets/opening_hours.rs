//! Fuzz target `opening_hours`: the check is `poste_fuzz::opening_hours` (crates/poste-fuzz), also replayed over
//! `fuzz/regressions/opening_hours/` by `cargo test -p poste-fuzz`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| poste_fuzz::opening_hours(data));
