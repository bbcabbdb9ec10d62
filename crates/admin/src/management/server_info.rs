//! `/server` (MI `MetaDataResource`): MI's fields (`productName`, `productVersion`, `carbonHome`,
//! `osName`, `osVersion`, and the `java*` fields, which a native server answers with `N/A`), plus
//! what Conflux knows beyond MI: start time, uptime, the port plan, memory and faulty artifacts.

use bytes::Bytes;
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{Ctx, json_response};

pub(super) fn get(ctx: &Ctx<'_>) -> Response<Bytes> {
    let status = ctx.status;
    let memory = memory();
    let body = json!({
        "productName": "Conflux",
        "productVersion": status.version,
        "carbonHome": ctx.facts.home.display().to_string(),
        "javaHome": "N/A",
        "javaVersion": "N/A",
        "javaVendor": "N/A",
        "osName": os_name(),
        "osVersion": os_version(),
        "osArch": std::env::consts::ARCH,
        "startTime": rfc3339(status.started_at_epoch_ms()),
        "startTimeMillis": status.started_at_epoch_ms() as u64,
        "upTimeMillis": status.uptime_ms() as u64,
        "ports": ctx.facts.ports,
        "memory": memory,
        "faultyArtifacts": status.faulty_artifacts(),
    });
    json_response(StatusCode::OK, &body)
}

/// Java's `os.name` spelling for the common systems.
fn os_name() -> String {
    match std::env::consts::OS {
        "linux" => "Linux".into(),
        "macos" => "Mac OS X".into(),
        "windows" => "Windows".into(),
        other => other.into(),
    }
}

/// The kernel release (Java's `os.version` on Linux), or empty where unknown.
fn os_version() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Resident and peak memory from `/proc/self/status` (Linux), in bytes.
fn memory() -> Value {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kb| kb * 1024)
    };
    json!({
        "residentBytes": field("VmRSS:"),
        "peakResidentBytes": field("VmHWM:"),
    })
}

/// `2026-11-26T22:08:48.123Z` from milliseconds since the epoch.
pub(super) fn rfc3339(epoch_ms: u128) -> String {
    let nanos = i128::try_from(epoch_ms)
        .unwrap_or(0)
        .saturating_mul(1_000_000);
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_709_210_096_789), "2024-02-29T12:34:56.789Z");
    }
}
