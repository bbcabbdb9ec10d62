//! Request dispatch: which proxy service or REST API resource a request goes to, exactly as MI
//! (Synapse) decides it, plus the URI templates used on the way in (resource `uri-template`
//! matching) and out (HTTP endpoint `uri-template` expansion). Pure logic: no I/O, no async.
//!
//! Order for one request (reference §3.1): [`ProxyTable::dispatch`] for `/services/NAME...`; if no
//! proxy claims it, [`ApiTable::dispatch`]; if no API claims it ([`ApiDispatch::NoApi`]), the
//! `main` sequence.

pub mod api_table;
pub mod endpoint_template;
mod java_compat;
pub mod proxy;
pub mod swagger;
pub mod uri_template;
pub mod url_mapping;

pub use api_table::{
    ALLOW_ALL_METHODS, ApiDispatch, ApiMatch, ApiRoute, ApiTable, DispatchBuildError, Protocol,
    RequestHead, ResourceMatcher, ResourceRoute, VersionType,
};
pub use endpoint_template::EndpointUriTemplate;
pub use java_compat::MalformedEscape;
pub use proxy::{MetadataRequest, ProxyMatch, ProxyPath, ProxyTable, match_proxy_path};
pub use uri_template::{TemplateError, UriTemplate};
pub use url_mapping::UrlMapping;
