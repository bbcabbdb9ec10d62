//! The `Mediator` enum and its dispatch: one file per Tier-1 mediator (log, property, propertyGroup,
//! respond, send, call, payloadFactory, header, filter, switch, drop, loopback, sequence, in, out,
//! makefault, enrich, call-template, callout, clone, iterate, aggregate, and MI 4.4's variable,
//! throwError, scatter-gather and v2 foreach) and the operations of MI's HTTP connector (`<http.get configKey>` ...); every other Synapse mediator is a located
//! "unsupported" error, as is another connector's operation, and anything else an "unknown
//! element" error.

pub mod aggregate;
pub mod cache;
pub mod call;
pub mod call_template;
pub mod callout;
pub mod clone;
pub mod connector;
pub mod data_service_call;
pub mod datamapper;
pub mod db;
pub mod drop;
pub mod enrich;
pub mod filter;
pub mod foreach;
pub mod foreach_classic;
pub mod header;
pub mod http_connector;
pub mod in_mediator;
pub mod iterate;
pub mod log;
pub mod loopback;
pub mod makefault;
pub mod out_mediator;
pub mod payload_factory;
pub mod property;
pub mod property_group;
pub mod respond;
pub mod scatter_gather;
pub mod script;
pub mod send;
pub mod sequence;
pub mod store;
pub mod switch;
pub mod throttle;
pub mod throw_error;
pub mod validate;
pub mod variable;
pub mod xslt;

use roxmltree::Node;

use crate::span::Span;
use crate::xml::{Ctx, Result, element_children, is_synapse};

pub use aggregate::Aggregate;
pub use cache::{Cache, CacheFinder, HashGenerator, OnCacheHit};
pub use call::Call;
pub use call_template::{CallTemplate, ParamValue, WithParam};
pub use callout::{Callout, CalloutService, CalloutSource, CalloutTarget};
pub use clone::{CloneMediator, CloneTarget, TargetSequence};
pub use data_service_call::{
    DataServiceCall, DsCallSource, DsCallTarget, DsOperation, DsOperations, DsOperationsKind,
};
pub use datamapper::{DataMapper, DataMapperTarget, DataType};
pub use db::{DbConnection, DbKind, DbMediator, DbParameter, DbPool, DbStatement, JdbcType};
pub use drop::Drop;
pub use enrich::{
    Enrich, EnrichAction, EnrichSource, EnrichSourceKind, EnrichTarget, EnrichTargetKind,
};
pub use filter::{Filter, FilterCondition};
pub use foreach::{ForEach, ForEachResult};
pub use foreach_classic::ForEachClassic;
pub use header::{Header, HeaderAction, HeaderScope, HeaderValue};
pub use http_connector::{
    ConnectorParam, ConnectorValue, HttpOperation, HttpOperationKind, TRANSPORT_PARAMETERS,
};
pub use in_mediator::In;
pub use iterate::{EipSequence, EipTarget, Iterate};
pub use log::{Log, LogCategory, LogLevel, LogMessage, LogProperty};
pub use loopback::Loopback;
pub use makefault::{FaultCode, FaultDetail, FaultVersion, MakeFault};
pub use out_mediator::Out;
pub use payload_factory::{Arg, ArgValue, Evaluator, Format, MediaType, PayloadFactory};
pub use property::{Property, PropertyAction, PropertyScope, PropertyType, PropertyValue};
pub use property_group::PropertyGroup;
pub use respond::Respond;
pub use scatter_gather::{Aggregation, ResultContent, ResultTarget, ScatterGather};
pub use script::{DEFAULT_SCRIPT_FUNCTION, Script, ScriptFlavour, ScriptSource};
pub use send::Send;
pub use sequence::{SequenceMediator, SequenceTarget};
pub use store::{Store, StoreTarget};
pub use switch::{Switch, SwitchCase};
pub use throttle::{
    CallerAccess, CallerKind, CallerPolicy, Throttle, ThrottleBranch, ThrottlePolicy,
    ThrottlePolicySource,
};
pub use throw_error::ThrowError;
pub use validate::{Validate, ValidateFeature, ValidateResource};
pub use variable::{Variable, VariableAction, VariableValue};
pub use xslt::{Xslt, XsltAttribute, XsltFeature, XsltResource};

#[derive(Debug, Clone, PartialEq)]
pub enum Mediator {
    Log(Log),
    Property(Property),
    PropertyGroup(PropertyGroup),
    Respond(Respond),
    Send(Send),
    Call(Call),
    PayloadFactory(PayloadFactory),
    Header(Header),
    Filter(Filter),
    Switch(Switch),
    Drop(Drop),
    Loopback(Loopback),
    Sequence(SequenceMediator),
    In(In),
    Out(Out),
    MakeFault(MakeFault),
    Enrich(Enrich),
    CallTemplate(CallTemplate),
    Callout(Callout),
    Clone(CloneMediator),
    Iterate(Iterate),
    Aggregate(Aggregate),
    /// `<http.get|post|...>`: an operation of MI's HTTP connector.
    HttpConnector(Box<HttpOperation>),
    /// `<email.send configKey>`: an operation of another connector Conflux runs natively.
    Connector(Box<connector::ConnectorOperation>),
    /// `<variable>` (MI 4.4).
    Variable(Variable),
    /// `<throwError>` (MI 4.4).
    ThrowError(ThrowError),
    /// `<scatter-gather>` (MI 4.4).
    ScatterGather(ScatterGather),
    /// `<foreach collection>` (MI 4.4's v2 form).
    ForEach(ForEach),
    /// `<foreach expression>`: the classic form (foreach_classic.rs).
    ForEachClassic(ForEachClassic),
    /// `<throttle>`: concurrency and rate limits with onAccept / onReject.
    Throttle(Throttle),
    /// `<validate>`: XSD or JSON Schema validation with `<on-fail>`.
    Validate(Validate),
    /// `<cache>`: MI 4.x's response cache (finder or collector).
    Cache(Cache),
    /// `<script>`: JavaScript run on the message (runtime/mediators/script.rs).
    Script(Script),
    /// `<datamapper>`: an MI data mapper (a `.dmc` script with input and output schemas).
    DataMapper(DataMapper),
    /// `<xslt>` and `<fastXSLT>`: an XSLT 1.0 transformation of the message.
    Xslt(Xslt),
    /// `<store messageStore>`: stores a copy of the message in a message store.
    Store(Store),
    /// `<dblookup>` and `<dbreport>` (db.rs).
    Db(Box<DbMediator>),
    /// `<dataServiceCall>` (data_service_call.rs).
    DataServiceCall(Box<DataServiceCall>),
}

/// A mediator without attributes of interest or children (`<drop/>`, `<respond/>`, `<loopback/>`):
/// any child element is an error. Returns the element's position.
pub(crate) fn parse_leaf(ctx: &Ctx, node: Node) -> Result<Span> {
    if let Some(child) = element_children(node).next() {
        return Err(ctx.unknown(child, node, "no children"));
    }
    Ok(ctx.span(node))
}

/// Synapse/MI mediators Conflux does not implement (synapse-subset.md §1.3 and §2.1), with the tier.
/// Why a Java mediator cannot deploy, and where the README says what to do instead.
const JAVA_PLUG_IN: &str = "a Java plug-in, which cannot run in Conflux; see the README, \"Java class mediators and connectors\"";

/// Why `<xquery>` cannot deploy (MI runs it on Saxon's XQuery processor).
const XQUERY: &str =
    "Conflux has no XQuery processor; transform the message with <xslt> (XSLT 1.0) instead";

const UNSUPPORTED_MEDIATORS: &[(&str, &str)] = &[
    ("jsontransform", "Tier 2"),
    ("rewrite", "Tier 2"),
    ("builder", "Tier 2"),
    ("xquery", XQUERY),
    ("smooks", "Tier 3"),
    ("transaction", "Tier 3"),
    ("conditionalRouter", "Tier 3"),
    ("router", "Tier 3"),
    ("entitlementService", "Tier 3"),
    ("oauthService", "Tier 3"),
    ("event", "Tier 3"),
    ("enqueue", "Tier 3"),
    ("ntlm", "Tier 3"),
    ("class", JAVA_PLUG_IN),
    ("spring", JAVA_PLUG_IN),
    ("bean", JAVA_PLUG_IN),
    ("ejb", JAVA_PLUG_IN),
    ("pojoCommand", JAVA_PLUG_IN),
    ("endpoint", "not a mediator outside send/call"),
];

/// Parses one mediator element.
pub(crate) fn parse_mediator(ctx: &Ctx, node: Node, parent: Node) -> Result<Mediator> {
    let local = node.tag_name().name();
    if !is_synapse(node) {
        return Err(ctx.unknown(node, parent, "a mediator in the Synapse namespace"));
    }
    Ok(match local {
        "log" => Mediator::Log(log::parse(ctx, node)?),
        "property" => Mediator::Property(property::parse(ctx, node)?),
        "propertyGroup" => Mediator::PropertyGroup(property_group::parse(ctx, node)?),
        "respond" => Mediator::Respond(respond::parse(ctx, node)?),
        "send" => Mediator::Send(send::parse(ctx, node)?),
        "call" => Mediator::Call(call::parse(ctx, node)?),
        "payloadFactory" => Mediator::PayloadFactory(payload_factory::parse(ctx, node)?),
        "header" => Mediator::Header(header::parse(ctx, node)?),
        "filter" => Mediator::Filter(filter::parse(ctx, node)?),
        "switch" => Mediator::Switch(switch::parse(ctx, node)?),
        "drop" => Mediator::Drop(drop::parse(ctx, node)?),
        "loopback" => Mediator::Loopback(loopback::parse(ctx, node)?),
        "sequence" => Mediator::Sequence(sequence::parse(ctx, node)?),
        "in" => Mediator::In(in_mediator::parse(ctx, node)?),
        "out" => Mediator::Out(out_mediator::parse(ctx, node)?),
        "makefault" => Mediator::MakeFault(makefault::parse(ctx, node)?),
        "enrich" => Mediator::Enrich(enrich::parse(ctx, node)?),
        "call-template" => Mediator::CallTemplate(call_template::parse(ctx, node)?),
        "callout" => Mediator::Callout(callout::parse(ctx, node)?),
        "iterate" => Mediator::Iterate(iterate::parse(ctx, node)?),
        "aggregate" => Mediator::Aggregate(aggregate::parse(ctx, node)?),
        "clone" => Mediator::Clone(clone::parse(ctx, node)?),
        "validate" => Mediator::Validate(validate::parse(ctx, node)?),
        "cache" => Mediator::Cache(cache::parse(ctx, node)?),
        "script" => Mediator::Script(script::parse(ctx, node)?),
        "datamapper" => Mediator::DataMapper(datamapper::parse(ctx, node)?),
        "variable" => Mediator::Variable(variable::parse(ctx, node)?),
        "throwError" => Mediator::ThrowError(throw_error::parse(ctx, node)?),
        "scatter-gather" => Mediator::ScatterGather(scatter_gather::parse(ctx, node)?),
        "foreach" if foreach::is_v2(ctx, node) => Mediator::ForEach(foreach::parse(ctx, node)?),
        "foreach" => Mediator::ForEachClassic(foreach_classic::parse(ctx, node)?),
        "throttle" => Mediator::Throttle(throttle::parse(ctx, node)?),
        "xslt" => Mediator::Xslt(xslt::parse(ctx, node)?),
        "fastXSLT" => Mediator::Xslt(xslt::parse_fast(ctx, node)?),
        "store" => Mediator::Store(store::parse(ctx, node)?),
        "dblookup" => Mediator::Db(Box::new(db::parse(ctx, node, false)?)),
        "dbreport" => Mediator::Db(Box::new(db::parse(ctx, node, true)?)),
        "dataServiceCall" => {
            Mediator::DataServiceCall(Box::new(data_service_call::parse(ctx, node)?))
        }
        other => {
            if let Some((_, why)) = UNSUPPORTED_MEDIATORS
                .iter()
                .find(|(name, _)| *name == other)
            {
                return Err(ctx.unsupported(node, format!("mediator <{other}>"), why));
            }
            if let Some((connector, operation)) = other.split_once('.') {
                if connector == http_connector::HTTP_CONNECTOR_NAME {
                    return Ok(Mediator::HttpConnector(Box::new(http_connector::parse(
                        ctx, node, operation,
                    )?)));
                }
                if let Some(spec) = connector::spec(connector) {
                    return Ok(Mediator::Connector(Box::new(connector::parse(
                        ctx, node, spec, operation,
                    )?)));
                }
                return Err(http_connector::other_connector(ctx, node, other));
            }
            return Err(ctx.unknown(node, parent, "a mediator"));
        }
    })
}

/// Parses every element child of `parent` as a mediator (`<description>` skipped, text ignored).
pub(crate) fn parse_mediator_list(ctx: &Ctx, parent: Node) -> Result<Vec<Mediator>> {
    element_children(parent)
        .map(|child| parse_mediator(ctx, child, parent))
        .collect()
}

impl Mediator {
    pub fn span(&self) -> &Span {
        match self {
            Mediator::Log(m) => &m.span,
            Mediator::Property(m) => &m.span,
            Mediator::PropertyGroup(m) => &m.span,
            Mediator::Respond(m) => &m.span,
            Mediator::Send(m) => &m.span,
            Mediator::Call(m) => &m.span,
            Mediator::PayloadFactory(m) => &m.span,
            Mediator::Header(m) => &m.span,
            Mediator::Filter(m) => &m.span,
            Mediator::Switch(m) => &m.span,
            Mediator::Drop(m) => &m.span,
            Mediator::Loopback(m) => &m.span,
            Mediator::Sequence(m) => &m.span,
            Mediator::In(m) => &m.span,
            Mediator::Out(m) => &m.span,
            Mediator::MakeFault(m) => &m.span,
            Mediator::Enrich(m) => &m.span,
            Mediator::CallTemplate(m) => &m.span,
            Mediator::Callout(m) => &m.span,
            Mediator::Iterate(m) => &m.span,
            Mediator::Aggregate(m) => &m.span,
            Mediator::Clone(m) => &m.span,
            Mediator::HttpConnector(m) => &m.span,
            Mediator::Connector(m) => &m.span,
            Mediator::Variable(m) => &m.span,
            Mediator::ThrowError(m) => &m.span,
            Mediator::ScatterGather(m) => &m.span,
            Mediator::ForEach(m) => &m.span,
            Mediator::ForEachClassic(m) => &m.span,
            Mediator::Throttle(m) => &m.span,
            Mediator::Validate(m) => &m.span,
            Mediator::Cache(m) => &m.span,
            Mediator::Script(m) => &m.span,
            Mediator::DataMapper(m) => &m.span,
            Mediator::Xslt(m) => &m.span,
            Mediator::Store(m) => &m.span,
            Mediator::Db(m) => &m.span,
            Mediator::DataServiceCall(m) => &m.span,
        }
    }

    /// The element name, for logs and statistics.
    pub fn name(&self) -> &'static str {
        match self {
            Mediator::Log(_) => "log",
            Mediator::Property(_) => "property",
            Mediator::PropertyGroup(_) => "propertyGroup",
            Mediator::Respond(_) => "respond",
            Mediator::Send(_) => "send",
            Mediator::Call(_) => "call",
            Mediator::PayloadFactory(_) => "payloadFactory",
            Mediator::Header(_) => "header",
            Mediator::Filter(_) => "filter",
            Mediator::Switch(_) => "switch",
            Mediator::Drop(_) => "drop",
            Mediator::Loopback(_) => "loopback",
            Mediator::Sequence(_) => "sequence",
            Mediator::In(_) => "in",
            Mediator::Out(_) => "out",
            Mediator::MakeFault(_) => "makefault",
            Mediator::Enrich(_) => "enrich",
            Mediator::CallTemplate(_) => "call-template",
            Mediator::Callout(_) => "callout",
            Mediator::Iterate(_) => "iterate",
            Mediator::Aggregate(_) => "aggregate",
            Mediator::Clone(_) => "clone",
            Mediator::Variable(_) => "variable",
            Mediator::ThrowError(_) => "throwError",
            Mediator::ScatterGather(_) => "scatter-gather",
            Mediator::ForEach(_) => "foreach",
            Mediator::ForEachClassic(_) => "foreach",
            Mediator::Throttle(_) => "throttle",
            Mediator::Validate(_) => "validate",
            Mediator::Cache(_) => "cache",
            Mediator::Script(_) => "script",
            Mediator::DataMapper(_) => "datamapper",
            Mediator::Xslt(m) if m.fast => "fastXSLT",
            Mediator::Xslt(_) => "xslt",
            Mediator::Store(_) => "store",
            Mediator::Db(m) if m.kind == DbKind::Lookup => "dblookup",
            Mediator::Db(_) => "dbreport",
            Mediator::DataServiceCall(_) => "dataServiceCall",
            Mediator::Connector(m) => m.element,
            Mediator::HttpConnector(m) => match m.kind {
                HttpOperationKind::Get => "http.get",
                HttpOperationKind::Post => "http.post",
                HttpOperationKind::Put => "http.put",
                HttpOperationKind::Delete => "http.delete",
                HttpOperationKind::Patch => "http.patch",
                HttpOperationKind::Head => "http.head",
                HttpOperationKind::Options => "http.options",
            },
        }
    }

    /// The nested mediator lists (filter branches, switch cases, in/out, inline sequences).
    pub fn children(&self) -> Vec<&[Mediator]> {
        match self {
            Mediator::Filter(f) => {
                let mut out: Vec<&[Mediator]> = vec![&f.then];
                if let Some(e) = &f.otherwise {
                    out.push(e);
                }
                out
            }
            Mediator::Switch(s) => {
                let mut out: Vec<&[Mediator]> =
                    s.cases.iter().map(|c| c.mediators.as_slice()).collect();
                if let Some(d) = &s.default {
                    out.push(d);
                }
                out
            }
            Mediator::In(m) => vec![&m.mediators],
            Mediator::Out(m) => vec![&m.mediators],
            Mediator::Sequence(SequenceMediator {
                target: SequenceTarget::Inline(list),
                ..
            }) => vec![list],
            Mediator::Clone(c) => c
                .targets
                .iter()
                .filter_map(|t| match &t.sequence {
                    Some(TargetSequence::Inline(list)) => Some(list.as_slice()),
                    _ => None,
                })
                .collect(),
            Mediator::Iterate(Iterate {
                target:
                    EipTarget {
                        sequence: Some(EipSequence::Inline(list)),
                        ..
                    },
                ..
            }) => vec![list],
            Mediator::Aggregate(Aggregate {
                on_complete: EipSequence::Inline(list),
                ..
            }) => vec![list],
            Mediator::ScatterGather(s) => s.branches.iter().map(Vec::as_slice).collect(),
            Mediator::ForEach(f) => vec![&f.sequence],
            Mediator::ForEachClassic(ForEachClassic {
                sequence: EipSequence::Inline(list),
                ..
            }) => vec![list],
            Mediator::Throttle(t) => [&t.on_accept, &t.on_reject]
                .into_iter()
                .filter_map(|b| match b {
                    Some(ThrottleBranch::Inline(list)) => Some(list.as_slice()),
                    _ => None,
                })
                .collect(),
            Mediator::Validate(v) => vec![&v.on_fail],
            Mediator::Cache(Cache {
                finder:
                    Some(CacheFinder {
                        on_cache_hit: Some(OnCacheHit::Inline(list)),
                        ..
                    }),
                ..
            }) => vec![list],
            Mediator::PropertyGroup(_) => Vec::new(),
            _ => Vec::new(),
        }
    }
}

/// Visits every mediator in `list`, depth first (nesting is bounded by `MAX_NESTING_DEPTH`).
pub fn walk_mediators<'a>(list: &'a [Mediator], visit: &mut dyn FnMut(&'a Mediator)) {
    for mediator in list {
        visit(mediator);
        for nested in mediator.children() {
            walk_mediators(nested, visit);
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Parses a mediator snippet inside a named sequence, for the per-mediator tests.
    use roxmltree::Node;

    use super::Mediator;
    use crate::artifact::{Artifact, parse_artifact};
    use crate::preamble::ArtifactDocument;
    use crate::xml::{Ctx, Result};

    pub const FILE: &str = "sequences/S.xml";

    pub fn wrap(body: &str) -> String {
        format!(
            "<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"S\">\n{body}\n</sequence>"
        )
    }

    pub fn parse_one(body: &str) -> Mediator {
        match parse_artifact(FILE, &wrap(body)) {
            Ok(Artifact::Sequence(mut s)) if s.mediators.len() == 1 => s.mediators.remove(0),
            other => panic!("expected one mediator, got {other:?}"),
        }
    }

    /// Parses `xml`, a mediator element as the root of [`FILE`], with a mediator's own
    /// `parse`; errors as text.
    pub fn parse_root<T>(
        xml: &str,
        parse: impl for<'a, 'i> FnOnce(&Ctx<'a, 'i>, Node<'a, 'i>) -> Result<T>,
    ) -> std::result::Result<T, String> {
        let doc = ArtifactDocument::parse(FILE, xml).map_err(|e| e.to_string())?;
        let (ctx, root) = doc.context();
        parse(&ctx, root).map_err(|e| e.to_string())
    }

    pub fn parse_err(body: &str) -> String {
        match parse_artifact(FILE, &wrap(body)) {
            Err(e) => e.to_string(),
            Ok(a) => panic!("expected an error, got {a:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;

    #[test]
    fn unsupported_and_unknown_mediators_are_located() {
        assert_eq!(
            parse_err("  <xquery key=\"k\"/>"),
            "unsupported mediator <xquery> (Conflux has no XQuery processor; transform the message with <xslt> (XSLT 1.0) instead) at sequences/S.xml:2:3"
        );
        assert_eq!(
            parse_err("<foo/>"),
            "unknown element <foo> in <sequence>: expected a mediator at sequences/S.xml:2:1"
        );
        assert!(
            parse_err("<x:bar xmlns:x=\"urn:x\"/>")
                .starts_with("unknown element <x:bar> in <sequence>")
        );
        assert_eq!(
            parse_err("<class name=\"com.acme.Enricher\"/>"),
            "unsupported mediator <class> (a Java plug-in, which cannot run in Conflux; see the README, \"Java class mediators and connectors\") at sequences/S.xml:2:1"
        );
        assert!(parse_err("<hello.sayHello/>").starts_with(
            "unsupported connector operation <hello.sayHello> (connector 'hello' is a Java connector; Conflux runs only the HTTP, email and file connectors)"
        ));
    }

    #[test]
    fn description_is_ignored() {
        let m = parse_one("<description>text</description><drop/>");
        assert_eq!(m.name(), "drop");
    }
}
