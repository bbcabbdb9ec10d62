//! The compiled form of an XPath 1.0 expression: the expression tree the parser builds and the
//! evaluator walks. Namespace prefixes and known function names are already resolved here. A call
//! Jaxen would only reject when evaluating (an unknown function, a wrong argument count) is kept as
//! an [`Expr::Deferred`] node that fails when evaluated, as in MI.

/// One node of the expression tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Compare(CompareOp, Box<Expr>, Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Negate(Box<Expr>),
    Union(Box<Expr>, Box<Expr>),
    Literal(String),
    Number(f64),
    Variable(Variable),
    Call(Call),
    /// A primary expression followed by predicates, e.g. `$body//a[1]` starts with `$body`.
    Filter(Box<Expr>, Vec<Expr>),
    Path(Path),
    /// A call MI deploys but fails on when it is evaluated: Jaxen's parser
    /// (org/jaxen/saxpath/base/XPathReader.java) knows no function names or argument counts, and
    /// DefaultFunctionCallExpr.evaluate looks the function up (UnresolvableException "No Such
    /// Function") and the function checks its arguments (FunctionCallException) only at run time;
    /// SynapseXPath.stringValueOf then reports it (handleException), so the mediation fails.
    Deferred(Deferred),
}

/// See [`Expr::Deferred`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Deferred {
    /// The whole error message, naming the function.
    pub message: String,
    /// 1-based column of the function name in the expression text.
    pub column: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// A location path or a filter expression followed by steps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Path {
    pub start: PathStart,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PathStart {
    /// `/...`: the document root.
    Root,
    /// A relative path: the context node.
    Context,
    /// `expr/...`: the node-set an expression returns.
    Expr(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Step {
    pub axis: Axis,
    pub test: NodeTest,
    pub predicates: Vec<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Axis {
    Ancestor,
    AncestorOrSelf,
    Attribute,
    Child,
    Descendant,
    DescendantOrSelf,
    Following,
    FollowingSibling,
    Namespace,
    Parent,
    Preceding,
    PrecedingSibling,
    SelfNode,
}

impl Axis {
    pub(crate) fn from_name(name: &str) -> Option<Axis> {
        Some(match name {
            "ancestor" => Axis::Ancestor,
            "ancestor-or-self" => Axis::AncestorOrSelf,
            "attribute" => Axis::Attribute,
            "child" => Axis::Child,
            "descendant" => Axis::Descendant,
            "descendant-or-self" => Axis::DescendantOrSelf,
            "following" => Axis::Following,
            "following-sibling" => Axis::FollowingSibling,
            "namespace" => Axis::Namespace,
            "parent" => Axis::Parent,
            "preceding" => Axis::Preceding,
            "preceding-sibling" => Axis::PrecedingSibling,
            "self" => Axis::SelfNode,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeTest {
    /// `*`: any node of the axis' principal type.
    AnyName,
    /// `p:*`: principal type in namespace `uri`.
    AnyInNamespace(String),
    /// `name` or `p:name`; `namespace` is `None` for an unprefixed name (XPath 1.0 does not apply
    /// a default namespace to name tests, and neither does Jaxen).
    Name {
        namespace: Option<String>,
        local: String,
    },
    /// `node()`
    Node,
    /// `text()`
    Text,
    /// `comment()`
    Comment,
    /// `processing-instruction()` with an optional target literal.
    ProcessingInstruction(Option<String>),
    /// `p:name` or `p:*` whose prefix is not declared where the expression was written. Jaxen
    /// resolves a name test's prefix only when it tests a node (org/jaxen/expr/DefaultNameStep.java
    /// matches: UnresolvableException "Cannot resolve namespace prefix"), so MI deploys the
    /// expression and evaluating it fails once the step meets a node of the axis' principal type.
    Unresolved { prefix: String, column: usize },
}

/// A variable after Synapse's resolution rules (SynapseXPathVariableContext.java).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Variable {
    /// `$body`: the SOAP Body element.
    Body,
    /// `$header`: the SOAP Header element (an empty node-set when there is none).
    Header,
    /// `$env`: the SOAP Envelope element.
    Envelope,
    /// `$prefix:name`: a property lookup in `scope`.
    Property { scope: String, name: String },
    /// A property a path starts from (`$ctx:msg/a`, `$ctx:msg//b`, `$ctx:msg[1]`): when it holds
    /// XML (an OM property), MI hands the stored element to Jaxen, so the path walks it; any other
    /// value is a string, and the path fails on it as in MI.
    PropertyNode { scope: String, name: String },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    pub function: Function,
    pub args: Vec<Expr>,
    /// 1-based column of the function name in the expression text, for run-time errors.
    pub column: usize,
}

/// Every function an expression may call: XPath 1.0 §4, Jaxen's extension functions that
/// `XPathFunctionContext(true)` registers, and Synapse's (SynapseXPathFunctionContext.java).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Function {
    Last,
    Position,
    Count,
    Id,
    LocalName,
    NamespaceUri,
    Name,
    String,
    Concat,
    StartsWith,
    Contains,
    SubstringBefore,
    SubstringAfter,
    Substring,
    StringLength,
    NormalizeSpace,
    Translate,
    Boolean,
    Not,
    True,
    False,
    Lang,
    Number,
    Sum,
    Floor,
    Ceiling,
    Round,
    // Jaxen extensions (org/jaxen/XPathFunctionContext.java registerExtensionFunctions).
    LowerCase,
    UpperCase,
    EndsWith,
    // Synapse extensions.
    GetProperty,
    Base64Encode,
    Base64Decode,
    UrlEncode,
    /// `wso2:vault-lookup('alias')` (MI's SecureVaultLookupXPathFunctionProvider), found by the
    /// literal prefix `wso2` (XpathExtensionUtil matches `prefix + localName`).
    VaultLookup,
    // XPath 2.0 functions MI evaluates through Saxon when `synapse.enable_xpath_dom_failover` is
    // set (SynapseXPath.stringValueOf -> evaluateDOMXPath after Jaxen's UnresolvableException).
    Tokenize,
    Matches,
    Replace,
    StringJoin,
    CurrentDateTime,
    CurrentDate,
    CurrentTime,
}

/// Name, function and accepted argument counts (`usize::MAX` = unbounded).
pub(crate) const FUNCTIONS: &[(&str, Function, usize, usize)] = &[
    ("last", Function::Last, 0, 0),
    ("position", Function::Position, 0, 0),
    ("count", Function::Count, 1, 1),
    ("id", Function::Id, 1, 1),
    ("local-name", Function::LocalName, 0, 1),
    ("namespace-uri", Function::NamespaceUri, 0, 1),
    ("name", Function::Name, 0, 1),
    ("string", Function::String, 0, 1),
    ("concat", Function::Concat, 2, usize::MAX),
    ("starts-with", Function::StartsWith, 2, 2),
    ("contains", Function::Contains, 2, 2),
    ("substring-before", Function::SubstringBefore, 2, 2),
    ("substring-after", Function::SubstringAfter, 2, 2),
    ("substring", Function::Substring, 2, 3),
    ("string-length", Function::StringLength, 0, 1),
    ("normalize-space", Function::NormalizeSpace, 0, 1),
    ("translate", Function::Translate, 3, 3),
    ("boolean", Function::Boolean, 1, 1),
    ("not", Function::Not, 1, 1),
    ("true", Function::True, 0, 0),
    ("false", Function::False, 0, 0),
    ("lang", Function::Lang, 1, 1),
    ("number", Function::Number, 0, 1),
    ("sum", Function::Sum, 1, 1),
    ("floor", Function::Floor, 1, 1),
    ("ceiling", Function::Ceiling, 1, 1),
    ("round", Function::Round, 1, 1),
    ("lower-case", Function::LowerCase, 1, 2),
    ("upper-case", Function::UpperCase, 1, 2),
    ("ends-with", Function::EndsWith, 2, 2),
    ("get-property", Function::GetProperty, 1, 3),
    ("base64Encode", Function::Base64Encode, 1, 2),
    ("base64Decode", Function::Base64Decode, 1, 2),
    ("url-encode", Function::UrlEncode, 1, 2),
    // MI's 3-argument form (secret type, encrypted) reads Docker/file/env secrets: not supported.
    ("vault-lookup", Function::VaultLookup, 1, 1),
    ("tokenize", Function::Tokenize, 2, 3),
    ("matches", Function::Matches, 2, 3),
    ("replace", Function::Replace, 3, 4),
    ("string-join", Function::StringJoin, 1, 2),
    ("current-dateTime", Function::CurrentDateTime, 0, 0),
    ("current-date", Function::CurrentDate, 0, 0),
    ("current-time", Function::CurrentTime, 0, 0),
];

impl Function {
    /// Synapse's functions are found by local name whatever the prefix
    /// (SynapseXPathFunctionContext.getFunction compares `localName` only).
    pub(crate) fn is_synapse(self) -> bool {
        matches!(
            self,
            Function::GetProperty
                | Function::Base64Encode
                | Function::Base64Decode
                | Function::UrlEncode
        )
    }

    /// Functions that read the context node when called without arguments.
    pub(crate) fn reads_context_without_args(self) -> bool {
        matches!(
            self,
            Function::LocalName
                | Function::NamespaceUri
                | Function::Name
                | Function::String
                | Function::StringLength
                | Function::NormalizeSpace
                | Function::Number
                | Function::Last
                | Function::Position
        )
    }
}

impl Expr {
    /// Turns the property variables that start a path or carry predicates into
    /// [`Variable::PropertyNode`]s and lists them (scope, name), so that evaluation can parse their
    /// XML values once.
    pub(crate) fn mark_property_nodes(&mut self, found: &mut Vec<(String, String)>) {
        fn mark(start: &mut Expr, found: &mut Vec<(String, String)>) {
            let property = match start {
                Expr::Variable(Variable::Property { scope, name }) => {
                    Some((std::mem::take(scope), std::mem::take(name)))
                }
                // `get-property('name')//x` / `get-property('scope', 'name')/x` walk an OM
                // property as `$ctx:name//x` does (MI test ForEachPropertiesTestCase:
                // `get-property('FOREACH_ORIGINAL_MESSAGE')//m0:group`).
                Expr::Call(call) if call.function == Function::GetProperty => {
                    match call.args.as_slice() {
                        [Expr::Literal(name)] => Some(("default".to_string(), name.clone())),
                        [Expr::Literal(scope), Expr::Literal(name)]
                            if matches!(
                                scope.as_str(),
                                "default" | "axis2" | "operation" | "transport"
                            ) =>
                        {
                            Some((scope.clone(), name.clone()))
                        }
                        _ => None,
                    }
                    .filter(|(_, name)| {
                        !matches!(name.as_str(), "SYSTEM_DATE" | "SYSTEM_TIME" | "FAULT" | "")
                    })
                }
                _ => None,
            };
            match property {
                Some((scope, name)) => {
                    if !found.contains(&(scope.clone(), name.clone())) {
                        found.push((scope.clone(), name.clone()));
                    }
                    *start = Expr::Variable(Variable::PropertyNode { scope, name });
                }
                None => start.mark_property_nodes(found),
            }
        }
        match self {
            Expr::Or(a, b)
            | Expr::And(a, b)
            | Expr::Compare(_, a, b)
            | Expr::Arith(_, a, b)
            | Expr::Union(a, b) => {
                a.mark_property_nodes(found);
                b.mark_property_nodes(found);
            }
            Expr::Negate(a) => a.mark_property_nodes(found),
            Expr::Literal(_) | Expr::Number(_) | Expr::Variable(_) | Expr::Deferred(_) => {}
            Expr::Call(call) => call
                .args
                .iter_mut()
                .for_each(|a| a.mark_property_nodes(found)),
            Expr::Filter(base, predicates) => {
                mark(base, found);
                predicates
                    .iter_mut()
                    .for_each(|p| p.mark_property_nodes(found));
            }
            Expr::Path(path) => {
                if let PathStart::Expr(start) = &mut path.start {
                    mark(start, found);
                }
                for step in &mut path.steps {
                    step.predicates
                        .iter_mut()
                        .for_each(|p| p.mark_property_nodes(found));
                }
            }
        }
    }

    /// Whether evaluating can look at the document (see `XPath::needs_payload`).
    pub(crate) fn reads_document(&self) -> bool {
        match self {
            Expr::Or(a, b)
            | Expr::And(a, b)
            | Expr::Compare(_, a, b)
            | Expr::Arith(_, a, b)
            | Expr::Union(a, b) => a.reads_document() || b.reads_document(),
            Expr::Negate(a) => a.reads_document(),
            Expr::Literal(_) | Expr::Number(_) | Expr::Deferred(_) => false,
            Expr::Variable(v) => {
                !matches!(v, Variable::Property { .. } | Variable::PropertyNode { .. })
            }
            Expr::Call(call) => {
                (call.args.is_empty() && call.function.reads_context_without_args())
                    || matches!(call.function, Function::Id | Function::Lang)
                    // SynapseXPath's constructor treats get-property('From'|'FAULT') as content
                    // aware: the FAULT answer looks at the envelope.
                    || (call.function == Function::GetProperty
                        && call
                            .args
                            .iter()
                            .any(|a| matches!(a, Expr::Literal(s) if s == "FAULT")))
                    || call.args.iter().any(Expr::reads_document)
            }
            Expr::Filter(_, _) | Expr::Path(_) => true,
        }
    }
}
