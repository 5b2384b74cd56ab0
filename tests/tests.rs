//! Integration tests: one test binary that drives the `waymark` binary and the library.

mod cli;
mod discord;
mod engine;
mod knowledge_check;
mod matrix;
mod runtime;
