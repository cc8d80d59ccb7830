//! Studies of xp experiments: a sweep runs a grid of points, each with its seeds
//! ([`sweep`]); a tune searches a space of experiments, stopping the weak trials
//! early and promoting the strong ones ([`tune`]); finished runs are compared with
//! intervals over seeds and paired tests ([`compare`]); finished runs are mixed into
//! an ensemble with weights fitted on validation ([`ensemble`]).

pub mod compare;
pub mod ensemble;
pub mod runner;
pub mod slurm;
pub mod sweep;
pub mod tune;
