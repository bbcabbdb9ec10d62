//! Which `deployment.toml` keys MI knows, so that Conflux can tell a misspelling (warned about by
//! name and line; MI ignores it silently) from an MI feature Conflux does not implement yet
//! (accepted quietly and listed once).
//!
//! The lists follow MI's config tool: `distribution/src/resources/config-tool/deployment-full.toml`
//! and `key-mappings.json` in wso2/micro-integrator.

/// Tables whose keys Conflux reads; within them every key is checked against
/// [`mi_keys_of_table`], because a typo there silently changes behaviour.
pub const CHECKED_TABLES: &[&str] = &[
    "server",
    "transport.http",
    "mediation",
    "monitoring.jmx",
    "monitoring.jolokia",
    "keystore.primary",
    "truststore",
    "console",
];
// `management_api` and `internal_apis` are read but not checked: MI's own deployment-full.toml
// repeats `[management_api.jwt_token_security_handler]`, which is an error in a checked table.

/// MI's documented keys of each checked table (the keys Conflux uses are among them).
pub fn mi_keys_of_table(table: &str) -> &'static [&'static str] {
    match table {
        "server" => &[
            "hostname",
            "offset",
            "synapse_config_file_path",
            "hot_deployment",
            "enable_mtom",
            "enable_swa",
            "enable_security_deployment_interceptor",
            "hide_admin_service_wsdl",
            "http_content_negotiation",
            "proxy_context_path",
            "serverDetails",
            "userAgent",
            "auth2_token_validation_service",
            "identity_server_username",
            "identity_server_password",
            "node_ip",
            "carbon_local_ip",
            "get_request_processor",
        ],
        "transport.http" => &[
            "socket_timeout",
            "connection_timeout",
            "disable_connection_keepalive",
            "core_worker_pool_size",
            "max_worker_pool_size",
            "worker_pool_queue_length",
            "io_buffer_size",
            "max_open_connections",
            "max_http_connection_per_host_port",
            "enable_message_size_validation",
            "max_message_size_bytes",
            "force_json_validation",
            "force_xml_validation",
            "preserve_http_headers",
            "preserve_http_server_name",
            "preserve_http_user_agent",
            "reverse_proxy_mode",
            "request_timeout",
            "listener.enable",
            "listener.class",
            "listener.parameter",
            "sender.class",
            "sender.parameter",
            "proxy_profile",
            "secured_proxy_profile",
            "listener.port",
            "listener.bind_address",
            "listener.secured_enable",
            "listener.secured_port",
            "listener.secured_bind_address",
            "listener.secured_protocols",
            "listener.preferred_ciphers",
            "listener.verify_client",
            "listener.wsdl_epr_prefix",
            "listener.secured_wsdl_epr_prefix",
            "listener.keystore.location",
            "listener.keystore.type",
            "listener.keystore.password",
            "listener.keystore.key_password",
            "listener.truststore.location",
            "listener.truststore.type",
            "listener.truststore.password",
            "listener.ssl_profile.file_path",
            "listener.ssl_profile.read_interval",
            "listener.certificate_revocation_verifier_enable",
            "listener.certificate_revocation_cache_size",
            "listener.certificate_revocation_cache_delay",
            "sender.enable",
            "sender.secured_enable",
            "sender.secured_protocols",
            "sender.hostname_verifier",
            "sender.proxy_host",
            "sender.proxy_port",
            "sender.secured_proxy_host",
            "sender.secured_proxy_port",
            "sender.non_proxy_hosts",
            "sender.secured_non_proxy_hosts",
            "sender.proxy_username",
            "sender.proxy_password",
            "sender.secured_proxy_username",
            "sender.secured_proxy_password",
            "sender.warn_on_http_500",
            "sender.keystore.location",
            "sender.keystore.type",
            "sender.keystore.password",
            "sender.keystore.key_password",
            "sender.truststore.location",
            "sender.truststore.type",
            "sender.truststore.password",
            "sender.ssl_profile.file_path",
            "sender.ssl_profile.read_interval",
            "sender.certificate_revocation_verifier_enable",
            "sender.certificate_revocation_cache_size",
            "sender.certificate_revocation_cache_delay",
        ],
        "mediation" => &[
            "internal_http_api_enable",
            "internal_http_api_port",
            "internal_https_api_port",
            "inbound.port_offset_enable",
            "inbound.core_threads",
            "inbound.max_threads",
            "flow.statistics.enable",
            "flow.statistics.capture_all",
            "stat.tracer.collect_payloads",
            "stat.tracer.collect_mediation_properties",
            "statistics.enable_clean",
            "statistics.clean_interval",
            "synapse.command_debugger_port",
            "synapse.event_debugger_port",
            "synapse.core_threads",
            "synapse.max_threads",
            "synapse.threads_queue_length",
            "synapse.global_timeout_interval",
            "synapse.enable_xpath_dom_failover",
            "synapse.temp_data_chunk_size",
            "synapse.script_mediator_pool_size",
            "synapse.preserve_namespace_on_xml_to_json",
            "synapse.build_valid_nc_name",
            "synapse.enable_auto_primitive",
            "synapse.disable_auto_primitive_regex",
            "synapse.disable_custom_replace_regex",
            "synapse.json_out_auto_array",
            "synapse.enable_namespace_declaration",
            "synapse.enable_xml_nil",
            "synapse.response_timeout",
        ],
        // Conflux's own table beside [monitoring.jmx]: Basic auth of the Jolokia port.
        "monitoring.jolokia" => &["username", "password"],
        // Conflux's own table: the web console.
        "console" => &["enabled", "discovery", "peers", "fleet_token"],
        "monitoring.jmx" => &[
            "rmi_hostname",
            "rmi_registry_port",
            "rmi_server_port",
            "rmi_server_start",
        ],
        "keystore.primary" => &["file_name", "type", "password", "alias", "key_password"],
        "truststore" => &["file_name", "type", "password", "alias", "algorithm"],
        _ => &[],
    }
}

/// Top-level tables MI documents. Keys under these (outside [`CHECKED_TABLES`]) are MI features
/// Conflux does not implement yet: accepted, listed once.
pub const MI_TABLES: &[&str] = &[
    "server",
    "server_conf",
    "super_admin",
    "user_store",
    "realm_manager",
    "authorization_manager",
    "user_access",
    "keystore",
    "truststore",
    "transport",
    "custom_transport",
    "mediation",
    "monitoring",
    "management_api",
    "management_api_token_handler",
    "internal_apis",
    "internal_api_ssl_config",
    "prometheus_api",
    "readiness_probe",
    "liveness_probe",
    "datasource",
    "secrets",
    "external_vault",
    "encryption",
    "system",
    "synapse_properties",
    "passthru_properties",
    "synapse_handlers",
    "message_builders",
    "message_formatters",
    "custom_message_builders",
    "custom_message_formatters",
    "blocking",
    "transaction_counter",
    "integration",
    "service_catalog",
    "dashboard_config",
    "opentelemetry",
    "analytics",
    "tasks",
    "config_mapper",
    "cache",
    "logging",
    "log_mask",
    "http_access_log",
    "transactionCountHandlerComponent",
];

/// The checked table a flattened key belongs to, and the rest of the key.
pub fn split_checked(key: &str) -> Option<(&'static str, &str)> {
    CHECKED_TABLES
        .iter()
        .filter_map(|table| {
            key.strip_prefix(table)
                .and_then(|rest| rest.strip_prefix('.'))
                .map(|rest| (*table, rest))
        })
        .max_by_key(|(table, _)| table.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_checked_table_wins() {
        assert_eq!(
            split_checked("monitoring.jmx.rmi_hostname"),
            Some(("monitoring.jmx", "rmi_hostname"))
        );
        assert_eq!(
            split_checked("transport.http.listener.port"),
            Some(("transport.http", "listener.port"))
        );
        assert_eq!(split_checked("transport.jms.listener_enable"), None);
        assert_eq!(split_checked("serverx.a"), None);
    }
}
