//! Fake programs and the environment that finds them.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use poste_desktop::Environment;
use tempfile::TempDir;

/// A directory of fake programs and the log they append to.
pub struct FakeBin {
    dir: TempDir,
}

impl FakeBin {
    pub fn new() -> FakeBin {
        FakeBin {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("calls.log")
    }

    /// A program that records its call (one log line: timestamp, name, arguments; and its
    /// arguments NUL-separated in `NAME.args`, its `$DISPLAY` in `NAME.display`), then runs
    /// `then` (shell).
    pub fn script(&self, name: &str, then: &str) {
        let log = self.log_path();
        let dir = self.dir.path();
        let body = format!(
            "#!/bin/sh\n\
             PATH=/usr/bin:/bin\n\
             printf '%s %s\\n' \"$(date +%s.%N)\" \"${{0##*/}} $*\" >> '{log}'\n\
             printf '%s\\0' \"$@\" > '{dir}/{name}.args'\n\
             printf '%s' \"$DISPLAY\" > '{dir}/{name}.display'\n\
             {then}\n",
            log = log.display(),
            dir = dir.display(),
        );
        let path = dir.join(name);
        // Written under another name then renamed: no fd open for writing on the final path.
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, body).unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }

    /// A program that records its call and exits with `code`.
    pub fn exits(&self, name: &str, code: i32) {
        self.script(name, &format!("exit {code}"));
    }

    /// An environment whose only PATH is this directory, plus `vars`.
    pub fn env(&self, vars: &[(&str, &str)]) -> Environment {
        let mut map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        map.insert("PATH".into(), self.dir.path().display().to_string());
        Environment::from_vars(map)
    }

    /// The calls, in order: "name arg arg…" (timestamps dropped).
    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.log_path())
            .unwrap_or_default()
            .lines()
            .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).to_owned())
            .collect()
    }

    /// The arguments `name` was last called with, exactly.
    pub fn args(&self, name: &str) -> Vec<String> {
        let raw = std::fs::read(self.dir.path().join(format!("{name}.args"))).unwrap();
        raw.split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8(a.to_vec()).unwrap())
            .collect()
    }

    pub fn display_seen_by(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{name}.display"))).unwrap()
    }
}
