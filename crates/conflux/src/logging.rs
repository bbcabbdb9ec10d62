//! Log output in MI's layout, `[2026-11-26 22:08:48,123]  INFO {conflux::server} - message`
//! (MI's `CARBON_CONSOLE` pattern `[%d] %5p {%c{1}} - %m%ex%n` in `conf/log4j2.properties`), to
//! standard output, with levels from `RUST_LOG`-style directives (default `info`).
//! Per-logger levels from log4j2.properties, log files and syslog come with the observability work.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Directives used when `CONFLUX_LOG` is not set.
pub const DEFAULT_LOG_DIRECTIVES: &str = "info";

/// Formats events like MI's console appender.
struct MiLayout;

impl<S, N> FormatEvent<S, N> for MiLayout
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        write!(
            writer,
            "[{}] {:>5} {{{}}} - ",
            timestamp(SystemTime::now()),
            meta.level(),
            meta.target()
        )?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Installs the global subscriber. Safe to call once per process.
pub fn init() {
    let filter = EnvFilter::try_from_env("CONFLUX_LOG")
        .unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_DIRECTIVES));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .event_format(MiLayout)
        .with_writer(std::io::stdout)
        .try_init();
}

/// `yyyy-MM-dd HH:mm:ss,SSS` in UTC, log4j's default `%d` layout.
fn timestamp(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02},{:03}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_log4j_shaped() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01 00:00:00,000");
        // 2024-02-29 12:34:56.789 UTC, a leap day.
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789);
        assert_eq!(timestamp(t), "2024-02-29 12:34:56,789");
    }
}
