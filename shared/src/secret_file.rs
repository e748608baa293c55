//! Files that hold secrets or personal data (signing keys, the binding key, the gate API
//! key, the selection key, the watch rules): created mode 0600, and refused on load
//! when group or others may read them. One rule, one message, for every such file.

use std::io::Write as _;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::Path;

/// The permission bits that make a secret file refused: any access by group or others.
const GROUP_OR_OTHERS: u32 = 0o077;

/// The operator's message for a secret file with `mode`: names the file and the fix.
pub fn refusal(path: &Path, mode: u32) -> String {
    format!(
        "{} has mode {:03o}: it holds a secret and must not be readable by group or others; \
         refused. Fix: chmod 600 {}",
        path.display(),
        mode & 0o777,
        path.display()
    )
}

/// `Some(mode)` when the file's permissions let group or others access it.
pub fn too_open(meta: &std::fs::Metadata) -> Option<u32> {
    let mode = meta.mode() & 0o777;
    (mode & GROUP_OR_OTHERS != 0).then_some(mode)
}

/// Check that the file at `path` is private to this user. `NotFound` passes through as
/// an error of that kind; a too-open file is `PermissionDenied` with [`refusal`]'s text.
pub fn ensure_private(path: &Path) -> std::io::Result<()> {
    let meta = std::fs::metadata(path)?;
    match too_open(&meta) {
        Some(mode) => Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            refusal(path, mode),
        )),
        None => Ok(()),
    }
}

/// Read a secret file after [`ensure_private`].
pub fn read_private(path: &Path) -> std::io::Result<Vec<u8>> {
    ensure_private(path)?;
    std::fs::read(path)
}

/// Read a secret text file after [`ensure_private`].
pub fn read_private_to_string(path: &Path) -> std::io::Result<String> {
    ensure_private(path)?;
    std::fs::read_to_string(path)
}

/// Create `path` (which must not exist) with mode 0600 and write `bytes`, synced.
/// `AlreadyExists` when it exists (another process may have just created it).
pub fn create_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn created_0600_and_refused_when_group_or_world_readable() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/secret.key");
        create_private(&p, b"k").unwrap();
        let meta = std::fs::metadata(&p).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert_eq!(read_private(&p).unwrap(), b"k");
        assert_eq!(
            create_private(&p, b"x").unwrap_err().kind(),
            std::io::ErrorKind::AlreadyExists
        );
        for mode in [0o640, 0o604, 0o644] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = read_private(&p).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);
            let msg = e.to_string();
            assert!(msg.contains(&p.display().to_string()), "{msg}");
            assert!(msg.contains("chmod 600"), "{msg}");
        }
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert!(read_private(&p).is_ok());
    }
}
