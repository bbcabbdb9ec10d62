//! `<filter>`: runs `then` (or the filter's own children) when a condition holds, `else`
//! otherwise. The condition is either `xpath="..."` (XPath boolean(), or a `json-eval` result) or
//! `source="..." regex="..."`, a **whole-string** match of the source's string value, as Java's
//! `Matcher.matches()` (SYN `mediators/filters/FilterMediator.java`).

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;
use crate::runtime::mediators::Mediator;
use crate::runtime::value::ValueSource;

#[derive(Debug, Clone)]
pub enum Condition {
    Boolean(ValueSource),
    /// The regex is anchored at both ends when compiled.
    Matches(ValueSource, regex::Regex),
}

impl Condition {
    /// Compiles `source` + `regex` with Java's `matches()` semantics: the whole value must match.
    pub fn matches(source: ValueSource, pattern: &str) -> Result<Condition, String> {
        regex::Regex::new(&format!("^(?:{pattern})$"))
            .map(|re| Condition::Matches(source, re))
            .map_err(|e| format!("invalid regex {pattern:?}: {e}"))
    }

    pub fn holds<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<bool, String> {
        match self {
            Condition::Boolean(v) => v.truth(ctx),
            Condition::Matches(source, re) => Ok(re.is_match(&source.resolve(ctx)?)),
        }
    }

    pub fn needs_payload(&self) -> bool {
        match self {
            Condition::Boolean(v) | Condition::Matches(v, _) => v.needs_payload(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Filter {
    pub condition: Condition,
    pub then: Vec<Mediator>,
    pub otherwise: Vec<Mediator>,
}

impl Filter {
    pub fn needs_payload(&self) -> bool {
        self.condition.needs_payload()
    }

    /// The branch to run for this message.
    pub fn branch<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<&[Mediator], String> {
        Ok(if self.condition.holds(ctx)? {
            &self.then
        } else {
            &self.otherwise
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::context::Scope;
    use http::Method;

    fn ctx() -> MessageContext<http_body_util::Full<bytes::Bytes>> {
        crate::runtime::context::test_context(Method::GET, "/a")
    }

    // FilterMediator uses Matcher.matches(): "abc" does not match "b", "abc" matches "a.*".
    #[test]
    fn source_regex_matches_the_whole_value_like_java_matches() {
        let mut c = ctx();
        c.set(Scope::Default, "p", "abc".into()).unwrap();
        let source = ValueSource::Property(Scope::Default, "p".into());
        assert!(
            !Condition::matches(source.clone(), "b")
                .unwrap()
                .holds(&c)
                .unwrap()
        );
        assert!(
            Condition::matches(source.clone(), "a.*")
                .unwrap()
                .holds(&c)
                .unwrap()
        );
        assert!(
            Condition::matches(source.clone(), "abc|x")
                .unwrap()
                .holds(&c)
                .unwrap()
        );
        assert!(Condition::matches(source, "(").is_err());
    }

    #[test]
    fn the_branch_follows_the_condition() {
        let mut c = ctx();
        let f = Filter {
            condition: Condition::matches(ValueSource::Property(Scope::Default, "p".into()), "yes")
                .unwrap(),
            then: vec![Mediator::Drop(crate::runtime::mediators::Drop)],
            otherwise: vec![],
        };
        assert!(f.branch(&c).unwrap().is_empty());
        c.set(Scope::Default, "p", "yes".into()).unwrap();
        assert_eq!(f.branch(&c).unwrap().len(), 1);
    }
}
