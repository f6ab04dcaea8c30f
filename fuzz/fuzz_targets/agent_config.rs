//! Fuzz target `agent_config`: the check is `poste_fuzz::agent_config` (crates/poste-fuzz), also replayed over
//! `fuzz/regressions/agent_config/` by `cargo test -p poste-fuzz`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| poste_fuzz::agent_config(data));
