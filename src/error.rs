//! The one error type of the waymark library.

use std::path::PathBuf;

/// Everything that can go wrong in the waymark library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The knowledge base has errors; each is a `path:line:column: message` line.
    #[error("the knowledge base has {} error(s):\n{}", .0.len(), .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Knowledge(Vec<crate::knowledge::Problem>),
    /// The search index could not be built.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The evaluation file could not be read.
    #[error("{path}: {message}")]
    Eval {
        /// The evaluation file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

/// Result with the library's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
