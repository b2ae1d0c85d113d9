//! Output files written atomically: each goes to a temporary name in the output directory and
//! is renamed into place only when the whole run succeeded.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::exit::{Exit, Failure, io_error};

/// The output files of a run being written.
pub(crate) struct Staging {
    dir: PathBuf,
    files: Vec<(PathBuf, PathBuf)>,
    committed: bool,
    /// Whether the directory was made here (removed again, when empty, if nothing is
    /// committed).
    created: bool,
}

/// One output file being written.
pub(crate) struct OutFile {
    pub(crate) w: BufWriter<File>,
    path: PathBuf,
}

impl OutFile {
    /// Writes a line (the newline is added).
    pub(crate) fn line(&mut self, text: &str) -> Result<(), Failure> {
        self.w
            .write_all(text.as_bytes())
            .and_then(|()| self.w.write_all(b"\n"))
            .map_err(|e| io_error(Exit::Internal, &self.path, "write", &e))
    }

    /// Flushes the buffer and gives the file itself (for writers that take a `File`).
    pub(crate) fn into_file(mut self) -> Result<File, Failure> {
        self.w.flush().map_err(|e| io_error(Exit::Internal, &self.path, "write", &e))?;
        self.w.into_inner().map_err(|e| io_error(Exit::Internal, &self.path, "write", e.error()))
    }

    /// Flushes and closes the file.
    pub(crate) fn finish(mut self) -> Result<(), Failure> {
        self.w.flush().map_err(|e| io_error(Exit::Internal, &self.path, "write", &e))
    }
}

impl Staging {
    /// Creates the output directory when missing.
    pub(crate) fn new(dir: &Path) -> Result<Self, Failure> {
        let created = !dir.exists();
        std::fs::create_dir_all(dir).map_err(|e| io_error(Exit::Internal, dir, "create the output directory", &e))?;
        Ok(Staging { dir: dir.to_path_buf(), files: Vec::new(), committed: false, created })
    }

    /// Opens an output file under its temporary name.
    pub(crate) fn create(&mut self, name: &str) -> Result<OutFile, Failure> {
        let final_path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let f = File::create(&tmp).map_err(|e| io_error(Exit::Internal, &tmp, "create", &e))?;
        self.files.push((tmp.clone(), final_path));
        Ok(OutFile { w: BufWriter::with_capacity(1 << 20, f), path: tmp })
    }

    /// Writes a whole output file.
    pub(crate) fn write(&mut self, name: &str, content: &str) -> Result<(), Failure> {
        let mut f = self.create(name)?;
        f.w.write_all(content.as_bytes()).map_err(|e| io_error(Exit::Internal, &f.path, "write", &e))?;
        f.finish()
    }

    /// Renames every file into place.
    pub(crate) fn commit(mut self) -> Result<(), Failure> {
        for (tmp, dest) in &self.files {
            std::fs::rename(tmp, dest).map_err(|e| io_error(Exit::Internal, dest, "replace", &e))?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            for (tmp, _) in &self.files {
                let _ = std::fs::remove_file(tmp);
            }
            if self.created {
                // Only an empty directory is removed.
                let _ = std::fs::remove_dir(&self.dir);
            }
        }
    }
}
