//! `conflux-mediation`: what happens to a request between the transport and the backend: request
//! **dispatch** ([`dispatch`]) choosing the proxy service or the REST API and resource exactly as
//! WSO2 MI (Synapse) does; the **runtime** ([`runtime`]) with the message context, the mediators
//! and the engine that runs sequences; and the expression languages mediators use, **XPath 1.0**
//! with Synapse's extensions ([`xpath`]), **JSONPath** plus MI's JSON/XML mapping ([`json`]), and
//! MI 4.4's **Synapse expressions** `${...}` with their templates ([`synapse_expr`]).
//! No sockets: the transport hands requests in and sends what the engine asks it to.

pub mod datamapper;
pub mod dispatch;
pub mod freemarker;
pub mod json;
pub mod messaging;
pub mod runtime;
pub mod script;
pub mod synapse_expr;
pub mod vault;
pub mod xpath;
