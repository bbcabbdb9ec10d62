//! The mediators the runtime executes, one file each, behind the [`Mediator`] enum. Mediators that
//! only change the message context implement `apply`; those that end, redirect or branch the flow
//! (send, call, callout, clone, scatter-gather, foreach, respond, drop, loopback, sequence, call-template, in, out, filter,
//! switch, the HTTP connector's operations) are
//! interpreted by the engine, which also reads the body first for any mediator whose
//! [`Mediator::needs_payload`] says so.

mod aggregate;
mod branches;
mod cache;
mod call;
mod call_template;
mod callout;
mod clone;
mod data_service_call;
mod datamapper;
pub mod db;
mod drop;
pub mod email_connector;
mod enrich;
pub mod file_connector;
mod filter;
mod foreach;
mod foreach_classic;
mod header;
pub mod http_connector;
mod iterate;
mod iterate_json;
mod log;
mod loopback;
mod makefault;
mod payload_factory;
mod property;
mod respond;
pub(crate) mod scatter_gather;
mod script;
mod send;
mod sequence;
pub mod store;
mod switch;
mod throttle;
pub mod throttle_rate;
mod throw_error;
mod validate;
mod variable;
mod xslt;

pub use aggregate::{Aggregate, MessageCount};
pub(crate) use branches::{Branch, gather};
pub use cache::{
    Cache, CacheStep, CacheStore, CacheTicket, FinderSettings, HashMode, MAX_CACHE_BYTES,
    MAX_CACHE_ENTRIES, MAX_CACHED_RESPONSE_BYTES, OnHit,
};
pub use call::Call;
pub use call_template::{
    CallError, CallTemplate, FrameValue, MISSING_MANDATORY_PARAMETER, ParamSource, Template,
    TemplateFrame, TemplateParam,
};
pub use callout::{Callout, CalloutSource, CalloutTarget};
pub(crate) use clone::{AGGREGATE_CORRELATION, MESSAGE_SEQUENCE};
pub use clone::{CloneMediator, CloneTarget, TargetAction, copy_message};
pub(crate) use data_service_call::compile as compile_data_service_call;
pub use data_service_call::{CallSource, CallTarget, DataServiceCall};
pub use datamapper::DataMapper;
pub(crate) use datamapper::compile as compile_datamapper;
pub(crate) use db::compile as compile_db;
pub use db::{DBREPORT_MODIFIED_ROW_COUNT, DbMediator};
pub use drop::Drop;
pub use enrich::{Enrich, EnrichAction, EnrichSource, EnrichTarget};
pub use filter::{Condition, Filter};
pub use foreach::{
    CollectionPath, CollectionRoot, ForEach, ForEachResult, PathStep, XmlCollection,
};
pub use foreach_classic::{FOREACH_COUNTER, FOREACH_ORIGINAL_MESSAGE, ForEachClassic};
pub use header::{ADDRESSING_HEADERS, Header, HeaderContent, HeaderTarget};
pub use http_connector::{HttpConnection, HttpOperation};
pub use iterate::{EipSequence, EipTarget, Iterate};
pub use log::{Log, LogCategory, LogLevel, RequestFields};
pub use loopback::Loopback;
pub use makefault::{FaultCodeValue, FaultDetailValue, FaultVersion, MakeFault};
pub use payload_factory::{Arg, MediaType, PayloadFactory};
pub use property::{Property, PropertyAction, PropertyName, PropertyType};
pub use respond::Respond;
pub use scatter_gather::{ResultContent, ResultTarget, ScatterGather};
pub use script::ScriptMediator;
pub(crate) use script::compile as compile_script;
pub use send::Send;
pub use sequence::SequenceCall;
pub use store::Store;
pub use switch::{Case, Switch};
pub use throttle::{Throttle, ThrottleBranch, with_client_addr};
pub use throttle_rate::{ConcurrencyGate, ConcurrencyPermit, MAX_TRACKED_CALLERS};
pub use throw_error::ThrowError;
pub use validate::{CompiledSchemas, MAX_DYNAMIC_SCHEMA_SETS, Schemas, Validate};
pub use variable::{ExpressionType, Variable, VariableAction, VariableType, convert_value};
pub(crate) use xslt::compile as compile_xslt;
pub use xslt::{MAX_CACHED_STYLESHEETS, Stylesheet, Xslt};
pub(crate) use {cache::compile as compile_cache, validate::compile as compile_validate};

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;

/// One step of a sequence.
#[derive(Debug, Clone)]
pub enum Mediator {
    Log(Log),
    Property(Property),
    Header(Header),
    PayloadFactory(PayloadFactory),
    Enrich(Enrich),
    MakeFault(MakeFault),
    Respond(Respond),
    Send(Send),
    Call(Call),
    Drop(Drop),
    Loopback(Loopback),
    Sequence(SequenceCall),
    /// `<in>`: children run in the request flow only.
    In(Vec<Mediator>),
    /// `<out>`: children run in the response flow only.
    Out(Vec<Mediator>),
    Filter(Filter),
    Switch(Switch),
    /// `<call-template>`: run by the engine (a template is looked up by name per message).
    CallTemplate(CallTemplate),
    /// `<callout>`: a blocking call run by the engine; the reply is written into the request.
    Callout(Callout),
    /// `<clone>`: run by the engine (runtime/mediators/clone.rs); each target gets a copy.
    Clone(CloneMediator),
    /// `<iterate>`: run by the engine (runtime/mediators/iterate.rs); one message per match.
    Iterate(Box<Iterate>),
    /// `<aggregate>`: collects the parts of an iterate (runtime/mediators/aggregate.rs).
    Aggregate(std::sync::Arc<Aggregate>),
    /// `<http.get|post|...>`: an HTTP connector operation, run by the engine
    /// (runtime/mediators/http_connector.rs).
    HttpConnector(Box<HttpOperation>),
    /// `<email.send>`: the email connector's send (runtime/mediators/email_connector.rs).
    EmailSend(Box<email_connector::EmailSend>),
    /// `<file.write>` and the file connector's other operations (runtime/mediators/file_connector.rs).
    FileConnector(Box<file_connector::FileOperation>),
    /// `<variable>` (MI 4.4): sets or removes a message variable.
    Variable(Variable),
    /// `<throwError>` (MI 4.4): sets ERROR_CODE / ERROR_MESSAGE and fails the mediation.
    ThrowError(ThrowError),
    /// `<scatter-gather>` (MI 4.4): run by the engine (runtime/mediators/scatter_gather.rs).
    ScatterGather(Box<ScatterGather>),
    /// `<foreach collection>` (MI 4.4): run by the engine (runtime/mediators/foreach.rs).
    ForEach(Box<ForEach>),
    /// The classic `<foreach expression>`: run by the engine (runtime/mediators/foreach_classic.rs).
    ForEachClassic(Box<ForEachClassic>),
    /// `<throttle>`: run by the engine (runtime/mediators/throttle.rs); shared state per mediator.
    Throttle(std::sync::Arc<Throttle>),
    /// `<validate>`: run by the engine (runtime/mediators/validate.rs); `on-fail` when invalid.
    Validate(Box<Validate>),
    /// `<cache>`: run by the engine (runtime/mediators/cache.rs); a hit answers from the cache.
    Cache(Box<Cache>),
    /// `<xslt>` and `<fastXSLT>` (runtime/mediators/xslt.rs): libxslt replaces part of the content.
    Xslt(Box<Xslt>),
    /// `<datamapper>` (runtime/mediators/datamapper.rs): a data mapper's script replaces the content.
    DataMapper(Box<DataMapper>),
    /// `<script>`: run by the engine (runtime/mediators/script.rs); `false` from the script stops
    /// the flow.
    Script(Box<ScriptMediator>),
    /// `<store>`: run by the engine (runtime/mediators/store.rs); the flow goes on.
    Store(Box<Store>),
    /// `<dblookup>` / `<dbreport>`: run by the engine (runtime/mediators/db.rs); shared so
    /// that the mediator's pool is one per deployed mediator.
    Db(std::sync::Arc<DbMediator>),
    /// `<dataServiceCall>`: run by the engine (runtime/mediators/data_service_call.rs).
    DataServiceCall(Box<DataServiceCall>),
}

impl Mediator {
    /// Applies a context-changing mediator; flow mediators are the engine's and do nothing here.
    pub fn apply<B: MessageBody>(&self, ctx: &mut MessageContext<B>) -> Result<(), String> {
        match self {
            Mediator::Log(m) => m.apply(ctx),
            Mediator::Property(m) => m.apply(ctx),
            Mediator::Header(m) => m.apply(ctx),
            Mediator::PayloadFactory(m) => m.apply(ctx),
            Mediator::Enrich(m) => m.apply(ctx),
            Mediator::MakeFault(m) => m.apply(ctx),
            Mediator::Variable(m) => m.apply(ctx),
            Mediator::ThrowError(m) => m.apply(ctx),
            Mediator::Xslt(m) => m.apply(ctx),
            Mediator::DataMapper(m) => m.apply(ctx),
            Mediator::Respond(_)
            | Mediator::Send(_)
            | Mediator::Call(_)
            | Mediator::Drop(_)
            | Mediator::Loopback(_)
            | Mediator::Sequence(_)
            | Mediator::In(_)
            | Mediator::Out(_)
            | Mediator::Filter(_)
            | Mediator::Switch(_)
            | Mediator::CallTemplate(_)
            | Mediator::Callout(_)
            | Mediator::Clone(_)
            | Mediator::Iterate(_)
            | Mediator::Aggregate(_)
            | Mediator::ScatterGather(_)
            | Mediator::ForEach(_)
            | Mediator::ForEachClassic(_)
            | Mediator::Throttle(_)
            | Mediator::Validate(_)
            | Mediator::Cache(_)
            | Mediator::Script(_)
            | Mediator::Store(_)
            | Mediator::Db(_)
            | Mediator::DataServiceCall(_)
            | Mediator::HttpConnector(_)
            | Mediator::EmailSend(_)
            | Mediator::FileConnector(_) => Ok(()),
        }
    }

    /// Whether this mediator itself (not its children) reads or replaces the message content:
    /// decided at deploy time, so a sequence without such a mediator streams the body through.
    pub fn needs_payload(&self) -> bool {
        match self {
            Mediator::Log(m) => m.needs_payload(),
            Mediator::Property(m) => m.needs_payload(),
            Mediator::Header(m) => m.needs_payload(),
            Mediator::PayloadFactory(m) => m.needs_payload(),
            Mediator::Enrich(m) => m.needs_payload(),
            Mediator::MakeFault(_) => true,
            // The message is kept to write the reply into: it is built before the call.
            Mediator::Callout(_) => true,
            // The copies are built from the message's content.
            Mediator::Clone(_) => true,
            // The parts are cut from the content, and merged from theirs.
            Mediator::Iterate(_) | Mediator::Aggregate(_) => true,
            // The branches get copies of the content.
            Mediator::ScatterGather(_) | Mediator::ForEach(_) => true,
            // The matches are cut from the content and merged back into it.
            Mediator::ForEachClassic(_) => true,
            // Content unaware (ThrottleMediator.isContentAware: false).
            Mediator::Throttle(_) => false,
            Mediator::Filter(m) => m.needs_payload(),
            Mediator::Switch(m) => m.source.needs_payload(),
            Mediator::CallTemplate(m) => m.needs_payload(),
            Mediator::HttpConnector(m) => m.needs_payload(),
            // The result replaces the body (1.x, or 2.x with overwriteBody).
            Mediator::EmailSend(_) => true,
            Mediator::FileConnector(m) => m.needs_payload(),
            Mediator::Variable(m) => m.needs_payload(),
            Mediator::ThrowError(m) => m.needs_payload(),
            Mediator::Validate(m) => m.needs_payload(),
            Mediator::Cache(m) => m.needs_payload(),
            Mediator::Xslt(m) => m.needs_payload(),
            Mediator::DataMapper(m) => m.needs_payload(),
            Mediator::Script(m) => m.needs_payload(),
            // A copy of the content is stored.
            Mediator::Store(_) => true,
            Mediator::Db(m) => m.needs_payload(),
            Mediator::DataServiceCall(m) => m.needs_payload(),
            Mediator::Respond(_)
            | Mediator::Send(_)
            | Mediator::Call(_)
            | Mediator::Drop(_)
            | Mediator::Loopback(_)
            | Mediator::Sequence(_)
            | Mediator::In(_)
            | Mediator::Out(_) => false,
        }
    }

    /// Whether this mediator or any nested one reads the content.
    pub fn touches_body(&self) -> bool {
        self.needs_payload()
            || match self {
                Mediator::In(children) | Mediator::Out(children) => {
                    children.iter().any(Mediator::touches_body)
                }
                Mediator::Filter(f) => f
                    .then
                    .iter()
                    .chain(f.otherwise.iter())
                    .any(Mediator::touches_body),
                Mediator::Switch(s) => s
                    .cases
                    .iter()
                    .flat_map(|c| c.mediators.iter())
                    .chain(s.default.iter())
                    .any(Mediator::touches_body),
                Mediator::Throttle(t) => [&t.on_accept, &t.on_reject]
                    .into_iter()
                    .flatten()
                    .any(|b| matches!(b, ThrottleBranch::Inline(seq) if seq.touches_body())),
                _ => false,
            }
    }
}
