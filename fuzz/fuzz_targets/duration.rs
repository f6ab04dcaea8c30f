//! Fuzz target `duration`: the check is `poste_fuzz::duration` (crates/poste-fuzz), also replayed over
//! `fuzz/regressions/duration/` by `cargo test -p poste-fuzz`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| poste_fuzz::duration(data));
