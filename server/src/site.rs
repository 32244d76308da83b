//! Where the site's files (WASM, its JavaScript glue, CSS, ECharts, the favicon) are
//! served from: the directory `MS5_SITE_ROOT` names; else, in a release binary, the site
//! it carries inside itself (site/build.sh builds it with `embedded-site`), unpacked once
//! into a cache directory, so the binary is the one file a server needs; else
//! `target/site` of the clone.

use std::path::{Path, PathBuf};

/// Where the site is and the listing of its content-hashed names, if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The directory served.
    pub root: PathBuf,
    /// `hash.txt` (`js: …`, `wasm: …`, `css: …`) when the names carry content hashes.
    pub hash_file: Option<PathBuf>,
}

/// Why there is no site to serve.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// The site carried in the binary could not be unpacked.
    #[error("cannot unpack the console's site into {dir} ({source}); set MS5_SITE_ROOT to a directory holding a built site, or give the console a writable cache directory (CACHE_DIRECTORY, XDG_CACHE_HOME or HOME)")]
    Unpack {
        /// The directory it was unpacked into.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `MS5_SITE_ROOT` names no built site.
    #[error("MS5_SITE_ROOT {0:?}: no built site there (expected a directory holding pkg/ with the WASM, as site/build.sh writes target/site); unset it to serve the site a release binary carries")]
    NotASite(PathBuf),
}

/// The site directory when none is configured and the binary carries none.
pub const DEFAULT_ROOT: &str = "target/site";

impl Site {
    /// The site for the configured directory (which must hold one), or this binary's
    /// own, unpacked.
    pub fn locate(configured: Option<&Path>) -> Result<Site, SiteError> {
        match configured {
            Some(dir) if !dir.join("pkg").is_dir() => Err(SiteError::NotASite(dir.to_path_buf())),
            Some(dir) => Ok(Site::directory(dir)),
            None => match embedded::unpack()? {
                Some(site) => Ok(site),
                None => Ok(Site::on_disk(None)),
            },
        }
    }

    /// The configured directory, else `target/site`, never unpacking (tests, and
    /// commands other than `serve`).
    pub fn on_disk(configured: Option<&Path>) -> Site {
        Site::directory(configured.unwrap_or(Path::new(DEFAULT_ROOT)))
    }

    /// The site in `dir`, never unpacking: the listing of hashed names is the one beside
    /// the binary (where `cargo leptos build` writes it), else the directory's own.
    pub fn directory(dir: &Path) -> Site {
        let beside_binary = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|parent| parent.join("hash.txt")));
        let hash_file = beside_binary
            .into_iter()
            .chain([dir.join("hash.txt")])
            .find(|file| file.is_file())
            // Leptos reads the listing relative to the binary's folder: made absolute.
            .map(|file| std::path::absolute(&file).unwrap_or(file));
        Site {
            root: dir.to_path_buf(),
            hash_file,
        }
    }
}

/// Whether this binary carries its site.
pub fn is_embedded() -> bool {
    cfg!(feature = "embedded-site")
}

#[cfg(feature = "embedded-site")]
mod embedded {
    use super::{Site, SiteError};
    use sha2::{Digest, Sha256};
    use std::path::{Path, PathBuf};

    /// The site as site/build.sh left it.
    #[derive(rust_embed::Embed)]
    #[folder = "../target/site/"]
    struct Files;

    /// Unpacks the site once per build into the cache directory (a second start finds it
    /// there); every file gets one modification time, so no precompressed sibling reads
    /// as older than its file.
    pub fn unpack() -> Result<Option<Site>, SiteError> {
        let Some(listing) = Files::get("hash.txt") else {
            return Ok(None);
        };
        let build: String = Sha256::digest(&listing.data)
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        let dir = cache_base()
            .join("ms5-console")
            .join(format!("site-{build}"));
        let done = dir.join(".complete");
        if !done.is_file() {
            let fail = |source| SiteError::Unpack {
                dir: dir.clone(),
                source,
            };
            let staging = dir.with_extension(format!("tmp-{}", std::process::id()));
            write_all(&staging).map_err(fail)?;
            // Another console may have unpacked the same build meanwhile: either is whole.
            if let Err(error) = std::fs::rename(&staging, &dir) {
                let _ = std::fs::remove_dir_all(&staging);
                if !done.is_file() {
                    return Err(fail(error));
                }
            }
            forget_old_builds(&dir);
        }
        Ok(Some(Site {
            hash_file: Some(dir.join("hash.txt")),
            root: dir,
        }))
    }

    fn write_all(staging: &Path) -> std::io::Result<()> {
        let _ = std::fs::remove_dir_all(staging);
        let when = std::time::SystemTime::now();
        for name in Files::iter() {
            let Some(file) = Files::get(&name) else {
                continue;
            };
            let path = staging.join(name.as_ref());
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, &file.data)?;
            std::fs::File::options()
                .write(true)
                .open(&path)?
                .set_modified(when)?;
        }
        std::fs::write(staging.join(".complete"), b"")
    }

    /// Removes the sites of other builds unpacked more than a day ago (an upgrade's old
    /// binary has stopped by then), so rebuilding never fills the cache.
    fn forget_old_builds(current: &Path) {
        let Some(parent) = current.parent() else {
            return;
        };
        let Ok(entries) = std::fs::read_dir(parent) else {
            return;
        };
        let day = std::time::Duration::from_secs(86_400);
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let stale = std::fs::metadata(path.join(".complete"))
                .and_then(|m| m.modified())
                .ok()
                .and_then(|at| at.elapsed().ok())
                .is_some_and(|age| age > day);
            if path != current && name.to_string_lossy().starts_with("site-") && stale {
                if let Err(error) = std::fs::remove_dir_all(&path) {
                    tracing::warn!(path = %path.display(), %error, "could not remove an old build's site");
                }
            }
        }
    }

    /// systemd's `CacheDirectory=`, else the XDG cache, else the home's, else the
    /// system's temporary directory.
    fn cache_base() -> PathBuf {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(dirs) = var("CACHE_DIRECTORY") {
            if let Some(first) = std::env::split_paths(&dirs).next() {
                return first;
            }
        }
        var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".cache")))
            .unwrap_or_else(std::env::temp_dir)
    }
}

#[cfg(not(feature = "embedded-site"))]
mod embedded {
    /// A build without its site inside (tests, `cargo build`): nothing to unpack.
    pub fn unpack() -> Result<Option<super::Site>, super::SiteError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory's own listing is used when none is beside the binary (test binaries
    /// have none), and a directory without one has no hashed names.
    #[test]
    fn a_directory_brings_its_own_listing() {
        let dir = std::env::temp_dir().join(format!("ms5-site-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(Site::directory(&dir).hash_file, None);
        // A directory without pkg/ is no site: said before anything is served.
        let refused = Site::locate(Some(&dir)).unwrap_err().to_string();
        assert!(refused.contains("no built site there"), "{refused}");
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        std::fs::write(dir.join("hash.txt"), "js: a\nwasm: b\ncss: c\n").unwrap();
        assert_eq!(
            Site::directory(&dir).hash_file,
            Some(std::path::absolute(dir.join("hash.txt")).unwrap())
        );
        assert_eq!(Site::locate(Some(&dir)).unwrap().root, dir);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
