//! Errors of the pure data-services layer: [`DbsError`], why a `.dbs` file does not deploy (located
//! `file:line:column`, naming what was found and what is valid), and [`Fault`], MI's
//! `DataServiceFault` for a request that fails (its `ds_code`, message, nested exception and the
//! request it belongs to), with MI's XML rendering of the fault detail.

use conflux_artifacts::Span;

use crate::model::{DataService, WSO2_DS_NAMESPACE};

/// Why a `.dbs` file is refused at deploy.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DbsError {
    /// Not well-formed XML (DTDs are refused: no entity expansion).
    #[error("XML syntax error: {message} at {span}")]
    XmlSyntax { message: String, span: Span },

    /// The file is larger than [`crate::dbs::MAX_DBS_BYTES`] or nests deeper than allowed.
    #[error("{message} at {span}")]
    TooLarge { message: String, span: Span },

    /// A required attribute or child is absent.
    #[error("<{element}> requires {what}{}{expected} at {span}", if expected.is_empty() { "" } else { ": " })]
    Missing {
        element: String,
        what: String,
        expected: String,
        span: Span,
    },

    /// An attribute or text has a value MI refuses.
    #[error("invalid value \"{value}\" for {what} of <{element}>: expected {expected} at {span}")]
    InvalidValue {
        element: String,
        what: String,
        value: String,
        expected: String,
        span: Span,
    },

    /// Valid in MI, not implemented by Conflux (other data-source kinds, SPARQL, event triggers,
    /// policies, `QUERY_STRING` splicing, OUT parameters ...).
    #[error("unsupported {what} ({why}) at {span}")]
    Unsupported {
        what: String,
        why: String,
        span: Span,
    },

    /// An element that is not valid where it is.
    #[error("unknown element <{element}> in <{parent}>: expected {expected} at {span}")]
    UnknownElement {
        element: String,
        parent: String,
        expected: String,
        span: Span,
    },

    /// A name used twice where MI keys by it.
    #[error("duplicate {kind} '{name}' (first defined at {first}) at {span}")]
    Duplicate {
        kind: String,
        name: String,
        first: Span,
        span: Span,
    },

    /// A reference to a query or config that does not exist, or another cross-check MI makes
    /// (`DBDeployer.validateDataService`).
    #[error("{message} at {span}")]
    Invalid { message: String, span: Span },

    /// `$SYSTEM:` / `$FILE:` / `$config:` value that cannot be resolved.
    #[error("cannot resolve property '{property}': {message} at {span}")]
    Inject {
        property: String,
        message: String,
        span: Span,
    },
}

impl DbsError {
    /// Where the problem is.
    pub fn span(&self) -> &Span {
        match self {
            DbsError::XmlSyntax { span, .. }
            | DbsError::TooLarge { span, .. }
            | DbsError::Missing { span, .. }
            | DbsError::InvalidValue { span, .. }
            | DbsError::Unsupported { span, .. }
            | DbsError::UnknownElement { span, .. }
            | DbsError::Duplicate { span, .. }
            | DbsError::Invalid { span, .. }
            | DbsError::Inject { span, .. } => span,
        }
    }

    /// A short stable label for grouping error counts.
    pub fn kind(&self) -> &'static str {
        match self {
            DbsError::XmlSyntax { .. } => "xml-syntax",
            DbsError::TooLarge { .. } => "too-large",
            DbsError::Missing { .. } => "missing",
            DbsError::InvalidValue { .. } => "invalid-value",
            DbsError::Unsupported { .. } => "unsupported",
            DbsError::UnknownElement { .. } => "unknown-element",
            DbsError::Duplicate { .. } => "duplicate",
            DbsError::Invalid { .. } => "invalid",
            DbsError::Inject { .. } => "inject",
        }
    }
}

/// MI `DBConstants.FaultCodes`: the `ds_code` of a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    DatabaseError,
    ConnectionUnavailable,
    ValidationError,
    IncompatibleParameters,
    UnknownError,
}

impl FaultCode {
    /// The code as MI writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultCode::DatabaseError => "DATABASE_ERROR",
            FaultCode::ConnectionUnavailable => "CONNECTION_UNAVAILABLE_ERROR",
            FaultCode::ValidationError => "VALIDATION_ERROR",
            FaultCode::IncompatibleParameters => "INCOMPATIBLE_PARAMETERS_ERROR",
            FaultCode::UnknownError => "UNKNOWN_ERROR",
        }
    }
}

/// A failed request: MI's `DataServiceFault`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.full_message())]
pub struct Fault {
    pub code: FaultCode,
    /// MI's "DS Fault Message" (None when MI has none, e.g. validation errors).
    pub message: Option<String>,
    /// The nested exception as MI prints it (`cause.toString()`), e.g. a validation message
    /// with `Field Name:` / `Field Value:` lines, or `java.lang.NumberFormatException: ...`.
    pub nested: Option<String>,
    /// The request (operation name or resource request name `_getemployee_id`), set by
    /// [`Fault::in_request`].
    pub request_name: Option<String>,
    /// The request's parameters as MI prints its map (`{id=1, name=x}`), set by
    /// [`Fault::in_request`].
    pub current_params: Option<String>,
}

impl Fault {
    /// A fault with a message and no nested exception.
    pub fn new(code: FaultCode, message: impl Into<String>) -> Self {
        Fault {
            code,
            message: Some(message.into()),
            nested: None,
            request_name: None,
            current_params: None,
        }
    }

    /// Sets the nested exception text.
    pub fn with_nested(mut self, nested: impl Into<String>) -> Self {
        self.nested = Some(nested.into());
        self
    }

    /// Fills in the request it failed in (MI `DataService.fillInDataServiceFault`).
    pub fn in_request(mut self, request_name: &str, current_params: String) -> Self {
        self.request_name = Some(request_name.to_string());
        self.current_params = Some(current_params);
        self
    }

    /// MI `DataServiceFault.getFullMessage()` without the source-service block.
    pub fn full_message(&self) -> String {
        let mut out = String::new();
        if let Some(message) = &self.message {
            out.push_str(&format!("DS Fault Message: {message}\n"));
        }
        if let Some(params) = &self.current_params {
            out.push_str(&format!("Current Params: {params}\n"));
        }
        if let Some(name) = &self.request_name {
            out.push_str(&format!("Current Request Name: {name}\n"));
        }
        if let Some(nested) = &self.nested {
            out.push_str(&format!("Nested Exception:-\n{nested}\n"));
        }
        out.push_str(&format!("DS Code: {}\n", self.code.as_str()));
        out
    }

    /// MI `DataServiceFault.getFullMessage()` of a fault filled in by its data service
    /// (`DataService.fillInDataServiceFault`): the `Source Data Service:-` block (name, location,
    /// description, default namespace; MI `DataService.toString()`) comes before the code. This
    /// is the `faultstring` of SOAP and JSON faults.
    pub fn full_message_with_source(&self, service: &DataService, location: &str) -> String {
        let full = self.full_message();
        let code_line = format!("DS Code: {}\n", self.code.as_str());
        let head = full.strip_suffix(&code_line).unwrap_or(&full);
        format!(
            "{head}Source Data Service:-\nName: {}\nLocation: {location}\nDescription: {}\nDefault Namespace: {}\n{code_line}",
            service.name,
            service.description.as_deref().unwrap_or("N/A"),
            service.default_namespace
        )
    }

    /// A fault as the JSON message formatter of MI's data services writes it (Axis2
    /// `json.gson.JsonFormatter` for a fault: the SOAP 1.1 fault element's children by local
    /// name, each with its own text): `{"Fault":{"faultcode":..,"faultstring":..,"detail":""}}`.
    /// `faultcode` is the `ds_code` in the data services namespace (MI `DBUtils.createAxisFault`;
    /// Axiom generates its prefix, Conflux writes `axis2ns1`); `detail` is empty because the
    /// detail element holds only the `DataServiceFault` element, no text of its own.
    pub fn to_json(&self, service: &DataService, location: &str) -> String {
        serde_json::json!({
            "Fault": {
                "faultcode": format!("axis2ns1:{}", self.code.as_str()),
                "faultstring": self.full_message_with_source(service, location),
                "detail": "",
            }
        })
        .to_string()
    }

    /// The SOAP fault detail / POX error body MI writes (`DataServiceFault.extractFaultMessage`):
    /// `<axis2ns1:DataServiceFault>` in [`WSO2_DS_NAMESPACE`] with `current_params`,
    /// `current_request_name`, `nested_exception`, `source_data_service` (`location`,
    /// `default_namespace`, `description`, `data_service_name`) and `ds_code`. `location` is the
    /// file path after `dataservices` (`/Foo.dbs`). Axiom numbers its generated prefixes
    /// (`axis2ns<N>`); Conflux always writes `axis2ns1`.
    pub fn to_xml(&self, service: &DataService, location: &str) -> String {
        const P: &str = "axis2ns1";
        let mut out = format!("<{P}:DataServiceFault xmlns:{P}=\"{WSO2_DS_NAMESPACE}\">");
        let mut leaf = |name: &str, value: Option<&str>| match value {
            Some(v) => out.push_str(&format!(
                "<{P}:{name}>{}</{P}:{name}>",
                crate::output::escape_text(v)
            )),
            None => out.push_str(&format!("<{P}:{name}/>")),
        };
        leaf("current_params", self.current_params.as_deref());
        leaf("current_request_name", self.request_name.as_deref());
        leaf("nested_exception", self.nested.as_deref());
        let description = service.description.as_deref().unwrap_or("N/A");
        let source = [
            ("location", location),
            ("default_namespace", service.default_namespace.as_str()),
            ("description", description),
            ("data_service_name", service.name.as_str()),
        ];
        let mut inner = String::new();
        for (name, value) in source {
            inner.push_str(&format!(
                "<{P}:{name}>{}</{P}:{name}>",
                crate::output::escape_text(value)
            ));
        }
        out.push_str(&format!(
            "<{P}:source_data_service>{inner}</{P}:source_data_service>"
        ));
        out.push_str(&format!(
            "<{P}:ds_code>{}</{P}:ds_code>",
            self.code.as_str()
        ));
        out.push_str(&format!("</{P}:DataServiceFault>"));
        out
    }
}
