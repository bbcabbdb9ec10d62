//! Data services (MI's `.dbs` files): the model, parameters and output mapping, and the database
//! layer ([`db`]) that runs their SQL on PostgreSQL, MySQL/MariaDB and SQLite through sqlx pools.
//!
//! Layout of the pure part (no I/O): [`dbs`] reads a `.dbs` file into the validated [`model`]
//! (deploy errors in [`error`]); [`params`] plans each query's placeholders and turns request
//! strings into typed, validated bind values; [`output`] runs a request through a caller's
//! [`RowSource`] (the database layer) and writes MI's XML / JSON / `REQUEST_STATUS` answers.

#![forbid(unsafe_code)]

pub mod db;
pub mod dbs;
pub mod error;
pub mod model;
pub mod output;
pub mod params;
pub mod service;

pub use dbs::{MAX_DBS_BYTES, ParseOptions, parse_dbs};
pub use error::{DbsError, Fault, FaultCode};
pub use model::{
    Bind, CallQuery, Config, ConfigKind, DataService, Operation, Query, QueryParam, Resource,
    ResultMapping, SqlType, WSO2_DS_NAMESPACE,
};
pub use output::{
    Callable, FnSource, OutputNode, RequestContext, Response, RowSource, execute, execute_batch,
    execute_blocking,
};
pub use params::{BindPlan, DriverFamily, Prepared, RequestValue};
