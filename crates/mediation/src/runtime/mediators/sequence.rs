//! `<sequence key="name"/>`: run a named sequence here. The name is checked when the artifact
//! deploys; the engine bounds the nesting depth at run time.

#[derive(Debug, Clone)]
pub struct SequenceCall {
    pub key: String,
}
