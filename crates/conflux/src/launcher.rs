//! The binary under MI's launcher name. In a container image the `conflux` binary itself is
//! `bin/micro-integrator.sh` (no shell in the image), so MI's entry point, its arguments and its
//! `JAVA_OPTS` work unchanged: invoked under that name, the home is the folder above the binary's
//! folder (MI's `CARBON_HOME` rule in `bin/micro-integrator.sh`) unless `--home` or `CONFLUX_HOME`
//! names one, `version` prints the version, and the `-Dkey=value` system properties in
//! `JAVA_OPTS` apply before those on the command line (which win). JVM options (`-Xmx...`) mean
//! nothing here and are left out.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The names MI's launcher goes by (`bin/micro-integrator.sh`, and the `.sh`-less link some
/// images add).
pub const LAUNCHER_NAMES: [&str; 2] = ["micro-integrator.sh", "micro-integrator"];

/// The environment variable MI's launcher reads JVM options from.
pub const JAVA_OPTS: &str = "JAVA_OPTS";

/// The process arguments as the command line parser should see them: unchanged unless the
/// program runs under a launcher name. `exe` is where the binary is (for the home), `home_set`
/// whether `CONFLUX_HOME` is set.
pub fn arguments(
    args: Vec<OsString>,
    java_opts: Option<&OsStr>,
    exe: Option<&Path>,
    home_set: bool,
) -> Vec<OsString> {
    let Some(program) = args.first() else {
        return args;
    };
    let name = Path::new(program).file_name().and_then(OsStr::to_str);
    if !name.is_some_and(|n| LAUNCHER_NAMES.contains(&n)) {
        return args;
    }
    let mut out = vec![program.clone()];
    let rest = &args[1..];
    if rest
        .first()
        .and_then(|a| a.to_str())
        .is_some_and(|a| matches!(a, "version" | "-version" | "--version"))
    {
        out.push("version".into());
        return out;
    }
    let names_home = rest.iter().any(|a| {
        a.to_str()
            .is_some_and(|a| a == "--home" || a.starts_with("--home="))
    });
    if !names_home
        && !home_set
        && let Some(home) = exe.and_then(launcher_home)
    {
        out.push("--home".into());
        out.push(home.into_os_string());
    }
    if let Some(options) = java_opts.and_then(OsStr::to_str) {
        out.extend(
            options
                .split_whitespace()
                .filter(|o| o.starts_with("-D") && o.len() > 2)
                .map(OsString::from),
        );
    }
    out.extend(rest.iter().cloned());
    out
}

/// The folder above the binary's folder (`<home>/bin/micro-integrator.sh` -> `<home>`).
fn launcher_home(exe: &Path) -> Option<PathBuf> {
    exe.parent()?.parent().map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str], java_opts: Option<&str>, home_set: bool) -> Vec<String> {
        arguments(
            args.iter().map(OsString::from).collect(),
            java_opts.map(OsStr::new),
            Some(Path::new(
                "/home/wso2carbon/wso2mi-4.4.0/bin/micro-integrator.sh",
            )),
            home_set,
        )
        .into_iter()
        .map(|a| a.into_string().unwrap())
        .collect()
    }

    #[test]
    fn under_its_own_name_the_arguments_are_untouched() {
        assert_eq!(
            run(&["conflux", "-DportOffset=3"], Some("-Dx=1"), false),
            ["conflux", "-DportOffset=3"]
        );
    }

    #[test]
    fn as_mis_launcher_the_home_is_above_bin_and_java_opts_properties_come_first() {
        assert_eq!(
            run(
                &[
                    "/home/wso2carbon/wso2mi-4.4.0/bin/micro-integrator.sh",
                    "-DportOffset=3"
                ],
                Some("-Xmx512m -DportOffset=1 -Dlog.level=DEBUG -D"),
                false
            ),
            [
                "/home/wso2carbon/wso2mi-4.4.0/bin/micro-integrator.sh",
                "--home",
                "/home/wso2carbon/wso2mi-4.4.0",
                "-DportOffset=1",
                "-Dlog.level=DEBUG",
                "-DportOffset=3",
            ]
        );
    }

    #[test]
    fn as_mis_launcher_a_given_home_wins_and_version_is_the_version_command() {
        assert_eq!(
            run(&["micro-integrator.sh", "--home", "/h"], None, false),
            ["micro-integrator.sh", "--home", "/h"]
        );
        assert_eq!(
            run(&["micro-integrator.sh"], None, true),
            ["micro-integrator.sh"]
        );
        assert_eq!(
            run(&["micro-integrator", "-version"], None, false),
            ["micro-integrator", "version"]
        );
    }
}
