//! realitycheck: does production hold anything the synthetic-data spec missed?
//!
//! The pipeline in one paragraph: a [`spec`] (TOML) describes the domain. [`generate`] builds
//! synthetic tables from it. [`extract`] reads a sample of production read-only and yields raw
//! rows that cannot be written; [`mask`] measures their text before masking, masks them and
//! proves no PII value leaks. [`profile`] (where Polars stops) turns each dataset into a
//! [`profile::Profile`]; [`compare`] turns two profiles into findings and a verdict;
//! [`report`] writes them for people and machines. [`pipeline`] wires the stages to their
//! artifacts and [`cli`] is the thin layer users run. [`init`] drafts a first spec from an
//! existing database.

pub mod cli;
pub mod compare;
pub mod dataset;
pub mod db;
pub mod extract;
pub mod frame;
pub mod generate;
pub mod init;
pub mod mask;
pub mod output;
pub mod pipeline;
pub mod profile;
pub mod progress;
pub mod report;
pub mod secret;
pub mod spec;
