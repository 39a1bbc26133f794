//! The simulated host's file system, as far as unix sockets see it: the directories a
//! socket path can be bound in, and files that are not sockets (`/dev/null`). A bind in a
//! directory that does not exist fails (`ENOENT`, which Node reports as `EACCES` for a
//! listen); a connect to a file that is not a listening socket is refused
//! (`ECONNREFUSED`), to a path that does not exist `ENOENT`.

use std::collections::BTreeSet;

use crate::error::Code;

/// Directories and plain files of the simulated host.
#[derive(Debug)]
pub(crate) struct FileSystem {
    dirs: BTreeSet<String>,
    files: BTreeSet<String>,
}

impl Default for FileSystem {
    fn default() -> Self {
        let dirs = [
            "/", "/tmp", "/dev", "/run", "/var", "/var/run", "/home", "/root",
        ];
        FileSystem {
            dirs: dirs.iter().map(|d| d.to_string()).collect(),
            files: ["/dev/null".to_string()].into_iter().collect(),
        }
    }
}

/// The directory a path names its entry in (`.` for a relative name).
fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => ".",
    }
}

impl FileSystem {
    /// Adds a directory and its parents.
    pub(crate) fn add_directory(&mut self, path: &str) {
        let mut p = path.trim_end_matches('/');
        while !p.is_empty() && self.dirs.insert(p.to_string()) {
            p = parent(p);
            if p == "/" || p == "." {
                break;
            }
        }
    }

    /// Whether a unix socket can be bound at `path`: its directory must exist (the
    /// working directory, for a relative name, and the abstract namespace always do), and
    /// no file may be there.
    pub(crate) fn can_bind(&self, path: &str) -> Result<(), Code> {
        if path.starts_with('\0') {
            return Ok(());
        }
        let dir = parent(path);
        if dir != "." && !self.dirs.contains(dir) {
            return Err(Code::Enoent);
        }
        if self.files.contains(path) || self.dirs.contains(path) {
            return Err(Code::Eaddrinuse);
        }
        Ok(())
    }

    /// Why a connect to `path`, where nothing listens, fails.
    pub(crate) fn connect_error(&self, path: &str) -> Code {
        if self.files.contains(path) {
            Code::Econnrefused
        } else {
            Code::Enoent
        }
    }
}
