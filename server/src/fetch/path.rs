//! Safe resolution of `files/...`-style relative paths inside a served directory.

use std::io;
use std::path::{Path, PathBuf};

/// Why a relative path could not be served. [`PathError::NotFound`] and [`PathError::Forbidden`] map to 404 and 403.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// Nothing (or no regular file) at that path.
    #[error("file not found: {path:?}")]
    NotFound { path: String },
    /// The path is malformed or leaves the directory (`..`, absolute, symlink escape...).
    #[error("path not allowed: {path:?}: {reason}")]
    Forbidden { path: String, reason: &'static str },
    /// The directory itself, or the file, could not be inspected.
    #[error("cannot access {path:?}: {message}")]
    Io { path: String, message: String },
}

impl PathError {
    /// True for [`PathError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, PathError::NotFound { .. })
    }

    /// True for [`PathError::Forbidden`].
    pub fn is_forbidden(&self) -> bool {
        matches!(self, PathError::Forbidden { .. })
    }
}

/// Resolve `rel` (already percent-decoded, `/`-separated) to a regular file inside `dir`.
///
/// Rejects empty and absolute paths, `..` components, backslashes and NUL bytes; then canonicalizes and checks
/// that the result is still inside the canonicalized `dir` (whole-component comparison, so symlinks leaving the
/// directory and sibling directories sharing a name prefix are refused) and is a regular file.
///
/// The check is made on a path, so a symlink swapped in after this call is not caught: serve from a directory that
/// untrusted parties cannot write to.
pub fn resolve_in_dir(dir: &Path, rel: &str) -> Result<PathBuf, PathError> {
    let forbidden = |reason| PathError::Forbidden { path: rel.to_owned(), reason };
    if rel.is_empty() {
        return Err(forbidden("empty path"));
    }
    if rel.contains('\0') {
        return Err(forbidden("NUL byte"));
    }
    if rel.contains('\\') {
        return Err(forbidden("backslash"));
    }
    if rel.starts_with('/') || Path::new(rel).is_absolute() {
        return Err(forbidden("absolute path"));
    }
    if rel.split('/').any(|part| part == "..") {
        return Err(forbidden("parent directory component"));
    }

    let root =
        dir.canonicalize().map_err(|e| PathError::Io { path: dir.display().to_string(), message: e.to_string() })?;
    let full = match root.join(rel).canonicalize() {
        Ok(p) => p,
        Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => {
            return Err(PathError::NotFound { path: rel.to_owned() })
        }
        Err(e) => return Err(PathError::Io { path: rel.to_owned(), message: e.to_string() }),
    };
    if !full.starts_with(&root) {
        return Err(forbidden("outside the directory"));
    }
    match std::fs::metadata(&full) {
        Ok(meta) if meta.is_file() => Ok(full),
        Ok(_) => Err(PathError::NotFound { path: rel.to_owned() }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(PathError::NotFound { path: rel.to_owned() }),
        Err(e) => Err(PathError::Io { path: rel.to_owned(), message: e.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            let p = std::env::temp_dir().join(format!("imgflo-fetch-test-{}", uuid::Uuid::new_v4()));
            fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// `<tmp>/files/{a.png, sub/b.png}`, `<tmp>/secret.txt`, `<tmp>/files2/c.png`.
    fn layout() -> (TempDir, PathBuf) {
        let t = TempDir::new();
        let files = t.0.join("files");
        fs::create_dir_all(files.join("sub")).unwrap();
        fs::create_dir_all(t.0.join("files2")).unwrap();
        fs::write(files.join("a.png"), b"a").unwrap();
        fs::write(files.join("sub/b.png"), b"b").unwrap();
        fs::write(t.0.join("secret.txt"), b"secret").unwrap();
        fs::write(t.0.join("files2/c.png"), b"c").unwrap();
        (t, files)
    }

    #[test]
    fn resolves_files_inside() {
        let (_t, files) = layout();
        let root = files.canonicalize().unwrap();
        assert_eq!(resolve_in_dir(&files, "a.png").unwrap(), root.join("a.png"));
        assert_eq!(resolve_in_dir(&files, "sub/b.png").unwrap(), root.join("sub/b.png"));
        assert_eq!(resolve_in_dir(&files, "./sub/b.png").unwrap(), root.join("sub/b.png"));
    }

    #[test]
    fn rejects_malformed_paths() {
        let (_t, files) = layout();
        for rel in ["", "/etc/passwd", "../secret.txt", "sub/../../secret.txt", "sub/..", "..", "a\\b.png", "a\0.png"] {
            let err = resolve_in_dir(&files, rel).unwrap_err();
            assert!(err.is_forbidden(), "{rel:?}: {err}");
        }
        // Even when the file exists, an absolute path is refused.
        let abs = files.join("a.png");
        assert!(resolve_in_dir(&files, abs.to_str().unwrap()).unwrap_err().is_forbidden());
    }

    #[test]
    fn missing_and_non_files_are_not_found() {
        let (_t, files) = layout();
        for rel in ["missing.png", "sub/missing.png", "nodir/x.png", "a.png/x", "sub", "sub/"] {
            let err = resolve_in_dir(&files, rel).unwrap_err();
            assert!(err.is_not_found(), "{rel:?}: {err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_escaping_are_forbidden() {
        use std::os::unix::fs::symlink;
        let (t, files) = layout();
        symlink(t.0.join("secret.txt"), files.join("leak.txt")).unwrap();
        symlink(t.0.join("files2"), files.join("sibling")).unwrap();
        symlink("/", files.join("rootfs")).unwrap();
        symlink(files.join("a.png"), files.join("alias.png")).unwrap();
        let via_root = format!("rootfs{}", t.0.join("secret.txt").display());
        for rel in ["leak.txt", "sibling/c.png", via_root.as_str()] {
            let err = resolve_in_dir(&files, rel).unwrap_err();
            assert!(err.is_forbidden(), "{rel:?}: {err}");
        }
        // A symlink staying inside the directory is fine.
        assert_eq!(resolve_in_dir(&files, "alias.png").unwrap(), files.canonicalize().unwrap().join("a.png"));
        // A dangling link is simply not found.
        symlink(files.join("gone.png"), files.join("dangling.png")).unwrap();
        assert!(resolve_in_dir(&files, "dangling.png").unwrap_err().is_not_found());
    }

    #[test]
    fn missing_dir_is_io() {
        let t = TempDir::new();
        let err = resolve_in_dir(&t.0.join("nope"), "a.png").unwrap_err();
        assert!(matches!(err, PathError::Io { .. }), "{err}");
    }
}
