//! `output_within`: a program's standard output, bounded in time.

use std::time::{Duration, Instant};

use poste_desktop::output_within;

use crate::fake::FakeBin;

#[test]
fn what_the_program_prints_is_returned_when_it_exits_0() {
    let bin = FakeBin::new();
    bin.script("loginctl", "echo \"Type=x11\"\necho \"IdleHint=$1\"");
    let env = bin.env(&[]);

    let out = output_within(&env, "loginctl", &["no"], Duration::from_secs(5)).unwrap();

    assert_eq!(out, "Type=x11\nIdleHint=no\n");
}

#[test]
fn a_failure_or_a_missing_program_says_why() {
    let bin = FakeBin::new();
    bin.exits("loginctl", 3);
    let env = bin.env(&[]);

    let failed = output_within(&env, "loginctl", &[], Duration::from_secs(5)).unwrap_err();
    let missing = output_within(&env, "nulle-part", &[], Duration::from_secs(5)).unwrap_err();

    assert!(
        failed.contains("loginctl") && failed.contains('3'),
        "{failed}"
    );
    assert!(missing.contains("not found"), "{missing}");
}

#[test]
fn a_hanging_program_is_killed_at_the_timeout() {
    let bin = FakeBin::new();
    bin.script("loginctl", "echo partial\nsleep 30");
    let env = bin.env(&[]);

    let start = Instant::now();
    let err = output_within(&env, "loginctl", &[], Duration::from_millis(300)).unwrap_err();
    let elapsed = start.elapsed();

    assert!(err.contains("timed out after 300 ms"), "{err}");
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}
