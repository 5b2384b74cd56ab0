//! waymark: guidance and signposting on child sexual abuse and exploitation, for chat platforms.
//!
//! The core of the bot. [`knowledge`] loads and checks the YAML knowledge base, [`index`] builds the
//! tantivy index over it, [`normalize`] folds what people type into what rules can read, [`safety`]
//! runs the risk patterns, and [`engine`] decides, for each message, what it is and what to reply.
//! [`classify`] and [`eval`] expose the engine to tests and measurement; [`render`] draws replies
//! in a terminal. Chat platforms plug in through the `waymark-port` crate.

pub mod classify;
pub mod config;
pub mod country;
pub mod engine;
mod error;
pub mod eval;
pub mod index;
pub mod knowledge;
pub mod normalize;
pub mod render;
pub mod runtime;
pub mod safety;
pub mod similar;
pub mod state;

pub use engine::{ConversationState, Decision, Engine, EngineOptions, Intent};
pub use error::{Error, Result};
pub use knowledge::Knowledge;
