//! The command line, shaped after MI's launcher so that MI's documented commands work:
//!
//! ```text
//! conflux [run] [--home DIR] [--project DIR] [-DportOffset=N | --port-offset N] [-Dkey[=value] ...]
//! conflux ports [--home DIR] [-DportOffset=N] [--json] [--check]
//! conflux check [--home DIR] [--project DIR | FILE.car]
//! conflux cipher-tool [--home DIR] [TEXT | -Dconfigure]
//! conflux version
//! ```
//!
//! Exit codes: 0 success, 1 the server could not start or stopped on an error (a port taken, a
//! keystore that cannot be read), 2 invalid configuration or artifacts.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use conflux_config::{Config, ConfigErrors, SystemProperties, properties::PORT_OFFSET_PROPERTY};

use crate::{bind, server, sockets};

/// The home used when neither `--home` nor `CONFLUX_HOME` is given.
pub const DEFAULT_HOME: &str = "home";

/// Exit code for configuration and artifact errors.
pub const EXIT_CONFIG: u8 = 2;
/// Exit code for a server that could not start or failed while running.
pub const EXIT_FAILURE: u8 = 1;

#[derive(Debug, Parser)]
#[command(
    name = "conflux",
    version = crate::VERSION,
    about = "Conflux: a Micro Integrator in Rust (MI's deployment.toml, port model and Synapse artifacts)"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
struct CommonArgs {
    /// The MI-shaped home (conf/deployment.toml, repository/...).
    #[arg(long, global = true, env = "CONFLUX_HOME", value_name = "DIR")]
    home: Option<PathBuf>,
    /// A system property, as MI's launcher takes it: -DportOffset=3, or a bare -Dkey meaning true.
    #[arg(short = 'D', global = true, value_name = "KEY[=VALUE]", action = clap::ArgAction::Append)]
    define: Vec<String>,
    /// The port offset (same as -DportOffset=N; this one wins if both are given).
    #[arg(
        long = "port-offset",
        global = true,
        value_name = "N",
        allow_hyphen_values = true
    )]
    port_offset: Option<String>,
    /// Deploy from a VS Code MI project or an Integration Studio project folder instead of the
    /// home's artifact folders (no Maven build needed); the home still gives deployment.toml.
    #[arg(long, global = true, value_name = "DIR")]
    project: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the server (the default).
    Run,
    /// Print the port plan without binding anything.
    Ports {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Also try each enabled port and report which are taken, and by whom.
        #[arg(long)]
        check: bool,
    },
    /// Validate deployment.toml and every artifact (or one .car file); exit 0 if all is well, 2
    /// otherwise.
    Check {
        /// A carbon application (.car) to validate on its own.
        #[arg(value_name = "FILE.car")]
        file: Option<PathBuf>,
    },
    /// Encrypt a secret with the home's vault keystore as MI's ciphertool.sh does; with
    /// -Dconfigure, encrypt deployment.toml's `[secrets]` values written as "[plain text]".
    CipherTool {
        /// The plain text (read from standard input when absent).
        #[arg(value_name = "TEXT")]
        text: Option<String>,
    },
    /// Print the version.
    Version,
}

/// Runs the command line of this process.
pub fn main() -> ExitCode {
    let args = crate::launcher::arguments(
        std::env::args_os().collect(),
        std::env::var_os(crate::launcher::JAVA_OPTS).as_deref(),
        std::env::current_exe().ok().as_deref(),
        std::env::var_os("CONFLUX_HOME").is_some(),
    );
    let cli = Cli::parse_from(args);
    let home = cli
        .common
        .home
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_HOME));
    let mut properties = SystemProperties::from_definitions(&cli.common.define);
    if let Some(offset) = &cli.common.port_offset {
        properties.set(
            PORT_OFFSET_PROPERTY,
            offset,
            &format!("--port-offset {offset}"),
        );
    }
    let origin = match &cli.common.project {
        Some(dir) => crate::deploy::Origin::Project(dir.clone()),
        None => crate::deploy::Origin::Home,
    };
    match cli.command.unwrap_or(Command::Run) {
        Command::Version => {
            println!("Conflux {}", crate::VERSION);
            ExitCode::SUCCESS
        }
        Command::CipherTool { text } => crate::cipher_tool::run(&home, &properties, text),
        Command::Run => match load(&home, properties) {
            Ok(config) => server::run(config, origin),
            Err(code) => code,
        },
        Command::Ports { json, check } => match load(&home, properties) {
            Ok(config) => ports(&config, &origin, json, check),
            Err(code) => code,
        },
        Command::Check { file } => {
            let origin = match file {
                Some(file) if crate::deploy::is_capp(&file) => crate::deploy::Origin::CApp(file),
                Some(file) => {
                    eprintln!(
                        "conflux check: {} is not a .car file (give a carbon application, or --project DIR)",
                        file.display()
                    );
                    return ExitCode::from(EXIT_CONFIG);
                }
                None => origin,
            };
            match load(&home, properties) {
                Ok(config) => server::check(&config, &origin),
                Err(code) => code,
            }
        }
    }
}

fn load(home: &std::path::Path, properties: SystemProperties) -> Result<Config, ExitCode> {
    let loaded = conflux_config::load_with(
        home,
        properties,
        &conflux_transport::tls::vault::KeystoreKeyLoader,
    );
    // What `wso2-vault()` and `wso2:vault-lookup()` read at run time.
    if let Ok(config) = &loaded {
        conflux_mediation::vault::install(config.secrets.iter());
    }
    loaded.map_err(|errors: ConfigErrors| {
        eprintln!("{errors}");
        eprintln!(
            "conflux: {} configuration error(s) in {}; nothing was started",
            errors.0.len(),
            home.display()
        );
        ExitCode::from(EXIT_CONFIG)
    })
}

/// The inbound HTTP(S) endpoints' ports of `origin`'s artifacts, as the plan gives them, and
/// those refused (a clash with the plan or with another inbound endpoint).
fn inbound_ports(
    config: &Config,
    origin: &crate::deploy::Origin,
) -> (
    Vec<conflux_config::InboundPortEntry>,
    Vec<conflux_config::InboundPortError>,
) {
    let Ok(sources) = crate::deploy::sources(config, origin) else {
        return (Vec::new(), Vec::new());
    };
    let snapshot = crate::deploy::deployer(config, sources).assemble();
    conflux_messaging::inbound::planned_ports(config, &snapshot.artifacts.inbound_endpoints)
}

fn ports(config: &Config, origin: &crate::deploy::Origin, json: bool, check: bool) -> ExitCode {
    for w in &config.warnings {
        eprintln!("warning: {w}");
    }
    let plan = &config.ports;
    let (inbound, refused) = inbound_ports(config, origin);
    for e in &refused {
        eprintln!("error: {e}");
    }
    let inbound_taken: Vec<&conflux_config::InboundPortEntry> = if check {
        inbound
            .iter()
            .filter(|e| {
                std::net::TcpListener::bind(std::net::SocketAddr::from((
                    conflux_messaging::inbound::INBOUND_BIND_HOST,
                    e.port,
                )))
                .is_err()
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut taken = Vec::new();
    if check {
        for entry in plan.listeners() {
            if !bind::is_free(entry) {
                taken.push((entry.clone(), sockets::tcp_listener_holder(entry.port)));
            }
        }
    }
    let free_offset = if check && !taken.is_empty() {
        plan.smallest_free_offset(bind::is_free)
    } else {
        None
    };
    if json {
        let mut value = plan.to_json();
        value["inbound"] = conflux_config::ports::inbound_json(&inbound);
        if check {
            value["check"] = serde_json::json!({
                "taken": taken.iter().map(|(e, holder)| serde_json::json!({
                    "role": e.role.name(),
                    "port": e.port,
                    "holder": holder.as_ref().map(|h| serde_json::json!({"pid": h.pid, "command": h.command})),
                })).collect::<Vec<_>>(),
                "free_offset": free_offset,
            });
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    } else {
        print!("{}", plan.render_table());
        if !inbound.is_empty() {
            print!(
                "{}",
                conflux_config::ports::render_inbound_table(
                    &inbound,
                    plan.inbound_offset_enabled()
                )
            );
        }
        for e in &inbound_taken {
            println!(
                "check: port {} (inbound endpoint {}) is taken",
                e.port, e.name
            );
        }
        if check {
            if taken.is_empty() {
                println!("check: every enabled port is free");
            }
            for (e, holder) in &taken {
                let who = holder
                    .as_ref()
                    .map(|h| format!(" by pid {} `{}`", h.pid, h.command))
                    .unwrap_or_default();
                println!("check: port {} ({}) is taken{who}", e.port, e.role.name());
            }
            if let Some(o) = free_offset {
                println!("check: the whole plan is free at offset {o}: try -DportOffset={o}");
            }
        }
    }
    if taken.is_empty() && refused.is_empty() && inbound_taken.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    }
}
