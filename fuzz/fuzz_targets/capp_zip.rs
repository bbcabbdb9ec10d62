//! Carbon applications (`.car` zip files): the archive reader, descriptor, artifact and registry
//! parsing of `read_capp`, and the faulty-application record made from its error.

#![no_main]

use conflux_artifacts::capp::{application_from_error, read_capp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match read_capp("carbonapps/Fuzz_1.0.0.car", data) {
        Ok(capp) => drop(capp),
        Err(error) => drop(application_from_error("Fuzz_1.0.0.car", &error)),
    }
});
