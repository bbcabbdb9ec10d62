//! `ArtifactError`: every way an artifact can be rejected, each located by a `Span` and displayed as
//! `<message> at <file:line:column>`, with a short stable `kind()` label for grouping counts.

use crate::span::Span;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArtifactError {
    /// The file is not well-formed XML (or has a DTD, which is refused: no entity expansion).
    #[error("XML syntax error: {message} at {span}")]
    XmlSyntax { message: String, span: Span },

    /// A required attribute or child element is absent.
    #[error("<{element}> requires {what}{}{expected} at {span}", if expected.is_empty() { "" } else { ": " })]
    Missing {
        element: String,
        what: String,
        expected: String,
        span: Span,
    },

    /// An attribute or element text has a value MI would reject.
    #[error("invalid value \"{value}\" for {what} of <{element}>: expected {expected} at {span}")]
    InvalidValue {
        element: String,
        what: String,
        value: String,
        expected: String,
        span: Span,
    },

    /// Known to Synapse/MI, but not implemented by Conflux.
    #[error("unsupported {what} ({why}) at {span}")]
    Unsupported {
        what: String,
        why: String,
        span: Span,
    },

    /// An element that is not valid at this position.
    #[error("unknown element <{element}> in <{parent}>{}{expected} at {span}", if expected.is_empty() { "" } else { ": expected " })]
    UnknownElement {
        element: String,
        parent: String,
        expected: String,
        span: Span,
    },

    /// A combination of otherwise valid settings that MI rejects (e.g. two APIs on one context).
    #[error("{message} at {span}")]
    Invalid { message: String, span: Span },

    /// A second artifact with a name already in use in its table.
    #[error("duplicate {kind} '{name}' (first defined at {first}) at {span}")]
    Duplicate {
        kind: String,
        name: String,
        first: Span,
        span: Span,
    },

    /// A reference by name to a sequence or endpoint that is not deployed.
    #[error("unresolved {kind} reference '{name}' at {span}")]
    UnresolvedReference {
        kind: String,
        name: String,
        span: Span,
    },

    /// The root element does not fit the folder the file is in.
    #[error(
        "root element <{found}> does not belong in this folder (expected <{expected}>) at {span}"
    )]
    WrongRoot {
        found: String,
        expected: String,
        span: Span,
    },

    /// Nesting deeper than `MAX_NESTING_DEPTH` (guards the recursive parser and later mediation).
    #[error("elements nested deeper than {limit} levels at {span}")]
    TooDeep { limit: usize, span: Span },

    /// The file is larger than `MAX_ARTIFACT_BYTES`.
    #[error("file of {size} bytes exceeds the limit of {limit} bytes at {span}")]
    TooLarge { size: u64, limit: u64, span: Span },

    /// The file or folder could not be read.
    #[error("cannot read: {message} at {span}")]
    Io { message: String, span: Span },
}

impl ArtifactError {
    /// Where the problem is.
    pub fn span(&self) -> &Span {
        match self {
            ArtifactError::XmlSyntax { span, .. }
            | ArtifactError::Missing { span, .. }
            | ArtifactError::InvalidValue { span, .. }
            | ArtifactError::Unsupported { span, .. }
            | ArtifactError::UnknownElement { span, .. }
            | ArtifactError::Invalid { span, .. }
            | ArtifactError::Duplicate { span, .. }
            | ArtifactError::UnresolvedReference { span, .. }
            | ArtifactError::WrongRoot { span, .. }
            | ArtifactError::TooDeep { span, .. }
            | ArtifactError::TooLarge { span, .. }
            | ArtifactError::Io { span, .. } => span,
        }
    }

    /// A short stable label for grouping error counts.
    pub fn kind(&self) -> &'static str {
        match self {
            ArtifactError::XmlSyntax { .. } => "xml-syntax",
            ArtifactError::Missing { .. } => "missing",
            ArtifactError::InvalidValue { .. } => "invalid-value",
            ArtifactError::Unsupported { .. } => "unsupported",
            ArtifactError::UnknownElement { .. } => "unknown-element",
            ArtifactError::Invalid { .. } => "invalid",
            ArtifactError::Duplicate { .. } => "duplicate",
            ArtifactError::UnresolvedReference { .. } => "unresolved-reference",
            ArtifactError::WrongRoot { .. } => "wrong-root",
            ArtifactError::TooDeep { .. } => "too-deep",
            ArtifactError::TooLarge { .. } => "too-large",
            ArtifactError::Io { .. } => "io",
        }
    }

    /// `kind()` refined by the subject, for reports: `unsupported mediator <xquery>`,
    /// `unknown element <foo>`, `invalid-value level of <log>`.
    pub fn reason(&self) -> String {
        match self {
            ArtifactError::Unsupported { what, .. } => format!("unsupported {what}"),
            ArtifactError::UnknownElement {
                element, parent, ..
            } => {
                format!("unknown element <{element}> in <{parent}>")
            }
            ArtifactError::InvalidValue { element, what, .. } => {
                format!("invalid-value {what} of <{element}>")
            }
            ArtifactError::Missing { element, what, .. } => {
                format!("missing {what} of <{element}>")
            }
            other => other.kind().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn display_ends_with_location() {
        let err = ArtifactError::Unsupported {
            what: "mediator <xquery>".into(),
            why: "Tier 3".into(),
            span: Span::new(Arc::from("api/Foo.xml"), 14, 9),
        };
        assert_eq!(
            err.to_string(),
            "unsupported mediator <xquery> (Tier 3) at api/Foo.xml:14:9"
        );
        assert_eq!(err.kind(), "unsupported");
        assert_eq!(err.reason(), "unsupported mediator <xquery>");
    }
}
