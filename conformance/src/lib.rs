//! MI's integration tests as an executable spec. Each Java test class of wso2/micro-integrator's
//! `integration/mediation-tests` is ported as facts into a case file (`cases/`, see the README):
//! the corpus artifacts it deploys, the backends it needs, the requests its client sends and what
//! it asserts. [`runner`] replays them against the real binary, [`report`] turns the results into
//! the table by module and the known-divergences file. Nothing here knows how Conflux works
//! inside: it only speaks HTTP to it, so a case passes for the same reason MI's test does.

pub mod axis2_sample;
pub mod backends;
pub mod case;
pub mod client;
pub mod report;
pub mod runner;

pub use case::{CaseError, CaseFile, load};
pub use report::Summary;
pub use runner::{CaseResult, Options, Outcome, run};
