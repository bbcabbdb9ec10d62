//! `/sequences` (MI `SequenceResource`): list `{name, stats, tracing}` including the built-in
//! `main` and `fault`, `?sequenceName=` detail with `mediators` (Synapse mediator type names) and
//! `configuration`.

use bytes::Bytes;
use conflux_artifacts::{IMPLICIT_SEQUENCES, Mediator, Sequence};
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{Ctx, empty, json_response, list_response, stats_and_tracing};

/// Synapse's `Mediator.getType()`: the mediator class's simple name (ThrowError overrides it to
/// return its error type, SYN `mediators/v2/ThrowError.java`).
fn mediator_type(m: &Mediator) -> &str {
    match m {
        Mediator::Log(_) => "LogMediator",
        Mediator::Property(_) => "PropertyMediator",
        Mediator::PropertyGroup(_) => "PropertyGroupMediator",
        Mediator::Respond(_) => "RespondMediator",
        Mediator::Send(_) => "SendMediator",
        Mediator::Call(_) => "CallMediator",
        Mediator::PayloadFactory(_) => "PayloadFactoryMediator",
        Mediator::Header(_) => "HeaderMediator",
        Mediator::Filter(_) => "FilterMediator",
        Mediator::Switch(_) => "SwitchMediator",
        Mediator::Drop(_) => "DropMediator",
        Mediator::Loopback(_) => "LoopbackMediator",
        Mediator::Sequence(_) => "SequenceMediator",
        Mediator::In(_) => "InMediator",
        Mediator::Out(_) => "OutMediator",
        Mediator::MakeFault(_) => "FaultMediator",
        Mediator::Enrich(_) => "EnrichMediator",
        Mediator::CallTemplate(_) => "InvokeMediator",
        Mediator::Callout(_) => "CalloutMediator",
        Mediator::Clone(_) => "CloneMediator",
        Mediator::Iterate(_) => "IterateMediator",
        Mediator::Aggregate(_) => "AggregateMediator",
        // A connector operation is a template invocation in Synapse.
        Mediator::HttpConnector(_) | Mediator::Connector(_) => "InvokeMediator",
        Mediator::Variable(_) => "VariableMediator",
        Mediator::ThrowError(t) => &t.error_type,
        // SYN mediators/v2/ScatterGather.java.
        Mediator::ScatterGather(_) => "ScatterGather",
        // SYN mediators/v2/ForEachMediatorV2.java.
        Mediator::ForEach(_) => "ForEachMediatorV2",
        // SYN mediators/builtin/ForEachMediator.java, mediators/throttle/ThrottleMediator.java.
        Mediator::ForEachClassic(_) => "ForEachMediator",
        Mediator::Throttle(_) => "ThrottleMediator",
        Mediator::Validate(_) => "ValidateMediator",
        // micro-integrator mediators/cache/CacheMediator.java.
        Mediator::Cache(_) => "CacheMediator",
        // SYN mediators/bsf/ScriptMediator.java.
        Mediator::Script(_) => "ScriptMediator",
        // SYN mediators/transform/XSLTMediator.java; carbon-mediation FastXSLTMediator.java.
        Mediator::Xslt(x) if x.fast => "FastXSLTMediator",
        Mediator::Xslt(_) => "XSLTMediator",
        Mediator::Store(_) => "MessageStoreMediator",
        // SYN mediators/db/DBLookupMediator.java, DBReportMediator.java; MI DataServiceCallMediator.java.
        Mediator::Db(d) if d.kind == conflux_artifacts::mediators::DbKind::Lookup => {
            "DBLookupMediator"
        }
        Mediator::Db(_) => "DBReportMediator",
        Mediator::DataServiceCall(_) => "DataServiceCallMediator",
        // carbon-mediation mediator/datamapper/DataMapperMediator.java.
        Mediator::DataMapper(_) => "DataMapperMediator",
    }
}

/// A sequence as listed: deployed from a file, or built in (`main`, `fault` when not deployed).
enum Listed<'a> {
    Deployed(&'a Sequence),
    BuiltIn(&'static str),
}

impl Listed<'_> {
    fn name(&self) -> &str {
        match self {
            Listed::Deployed(s) => s.name.as_deref().unwrap_or_default(),
            Listed::BuiltIn(n) => n,
        }
    }
}

fn listed<'a>(ctx: &'a Ctx<'_>) -> Vec<Listed<'a>> {
    let mut out: Vec<Listed<'a>> = ctx
        .live
        .artifacts
        .sequences
        .iter()
        .filter(|s| {
            s.name
                .as_deref()
                .is_some_and(|n| ctx.live.deployment.sequences.contains_key(n))
        })
        .map(Listed::Deployed)
        .collect();
    for name in IMPLICIT_SEQUENCES {
        if !out.iter().any(|l| l.name() == name) {
            out.push(Listed::BuiltIn(name));
        }
    }
    out
}

pub(super) fn get(ctx: &Ctx<'_>) -> Response<Bytes> {
    let all = listed(ctx);
    if let Some(wanted) = ctx.query.get("sequenceName") {
        return match all.iter().find(|l| l.name() == wanted) {
            Some(l) => json_response(StatusCode::OK, &detail(ctx, l)),
            None => empty(StatusCode::NOT_FOUND),
        };
    }
    let list: Vec<Value> = all
        .iter()
        .filter(|l| ctx.matches_search(l.name()))
        .map(|l| {
            let source = match l {
                Listed::Deployed(s) => ctx.artifact_file(&s.span.file),
                Listed::BuiltIn(_) => None,
            };
            let (stats, tracing) = stats_and_tracing(source.as_deref());
            json!({"name": l.name(), "stats": stats, "tracing": tracing})
        })
        .collect();
    list_response(list)
}

fn detail(ctx: &Ctx<'_>, l: &Listed<'_>) -> Value {
    match l {
        Listed::Deployed(s) => {
            let source = ctx.artifact_file(&s.span.file);
            let (stats, tracing) = stats_and_tracing(source.as_deref());
            let mediators: Vec<&str> = s.mediators.iter().map(mediator_type).collect();
            let mut v = json!({
                "name": l.name(),
                "stats": stats,
                "tracing": tracing,
                "mediators": mediators,
            });
            if let (Some(c), Some(map)) = (source, v.as_object_mut()) {
                map.insert("configuration".into(), json!(c));
            }
            v
        }
        // Not deployed: Conflux's built-in behaviour has no mediators (main answers 404).
        Listed::BuiltIn(name) => json!({
            "name": name,
            "stats": "disabled",
            "tracing": "disabled",
            "mediators": [],
        }),
    }
}
