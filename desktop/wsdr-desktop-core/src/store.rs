//! The state file (I/O): [`Memory`] as JSON in `<state dir>/state.json`, written atomically
//! (a temporary file in the same directory, flushed to disk, then renamed over the old one), so a
//! crash or power cut leaves either the old or the new state, never half of one.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use crate::memory::Memory;

/// The state file's name inside the state directory.
pub const STATE_FILE_NAME: &str = "state.json";

/// Why the state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No state directory could be determined (no `HOME`, no `XDG_STATE_HOME`).
    #[error("no state directory (set XDG_STATE_HOME or HOME)")]
    NoDirectory,
    /// A file operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The state file is not what this version writes.
    #[error("{}: {detail}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        detail: String,
    },
}

/// Where the memory is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    dir: Option<PathBuf>,
}

impl Store {
    /// A store in `dir` (`None`: nowhere, every operation fails with
    /// [`StoreError::NoDirectory`]).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self { dir }
    }

    /// The state file's path.
    pub fn path(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|dir| dir.join(STATE_FILE_NAME))
    }

    /// Reads the memory; a missing file is an empty memory.
    ///
    /// # Errors
    /// [`StoreError`] when the file cannot be read or parsed.
    pub fn load(&self) -> Result<Memory, StoreError> {
        let path = self.path().ok_or(StoreError::NoDirectory)?;
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Memory::default()),
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        serde_json::from_slice(&bytes)
            .map_err(|error| StoreError::Corrupt { path, detail: error.to_string() })
    }

    /// Writes the memory atomically, creating the directory (owner-only on Unix) if needed.
    ///
    /// # Errors
    /// [`StoreError`] when the directory or file cannot be written.
    pub fn save(&self, memory: &Memory) -> Result<(), StoreError> {
        let dir = self.dir.as_ref().ok_or(StoreError::NoDirectory)?;
        create_private_dir(dir).map_err(|source| StoreError::Io { path: dir.clone(), source })?;
        let path = dir.join(STATE_FILE_NAME);
        let temporary = dir.join(format!(".{STATE_FILE_NAME}.{}.tmp", std::process::id()));
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| StoreError::Io { path, source }
        };
        let mut json = serde_json::to_vec_pretty(memory).map_err(|error| StoreError::Corrupt {
            path: path.clone(),
            detail: error.to_string(),
        })?;
        json.push(b'\n');
        let mut file = fs::File::create(&temporary).map_err(io(&temporary))?;
        file.write_all(&json).map_err(io(&temporary))?;
        file.sync_all().map_err(io(&temporary))?;
        drop(file);
        fs::rename(&temporary, &path).map_err(io(&path))?;
        // Make the rename itself durable (not possible, nor needed, on Windows).
        #[cfg(unix)]
        fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
        Ok(())
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
