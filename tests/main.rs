//! xp's end-to-end tests, as one test binary (one link instead of one per file): each
//! module tests one subject through the built `xp` binary or the library crates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod attention;
mod bad_input;
mod baseline;
mod browser;
mod corpus;
mod docs;
mod ensemble;
mod faults;
mod fused;
mod fuzz;
mod onnx;
mod out_of_tree;
mod own_data;
mod predict;
mod registry;
mod serve;
mod slurm;
mod stages;
mod sweep;
mod tensorboard;
mod train;
mod tune;
