//! `<switch source="...">`: the first `<case regex>` whose regex matches the source's whole string
//! value runs, else `<default>` (SYN `mediators/filters/SwitchMediator.java`, `config/xml/SwitchCase.java`:
//! `Matcher.matches()`).

use crate::runtime::body::MessageBody;
use crate::runtime::context::MessageContext;
use crate::runtime::mediators::Mediator;
use crate::runtime::value::ValueSource;

#[derive(Debug, Clone)]
pub struct Case {
    /// Anchored at both ends.
    pub regex: regex::Regex,
    pub mediators: Vec<Mediator>,
}

impl Case {
    pub fn new(pattern: &str, mediators: Vec<Mediator>) -> Result<Case, String> {
        regex::Regex::new(&format!("^(?:{pattern})$"))
            .map(|regex| Case { regex, mediators })
            .map_err(|e| format!("invalid case regex {pattern:?}: {e}"))
    }
}

#[derive(Debug, Clone)]
pub struct Switch {
    pub source: ValueSource,
    pub cases: Vec<Case>,
    pub default: Vec<Mediator>,
}

impl Switch {
    /// The mediators to run for this message.
    pub fn branch<B: MessageBody>(&self, ctx: &MessageContext<B>) -> Result<&[Mediator], String> {
        let value = self.source.resolve(ctx)?;
        Ok(self
            .cases
            .iter()
            .find(|c| c.regex.is_match(&value))
            .map_or(&self.default[..], |c| &c.mediators[..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::context::Scope;
    use crate::runtime::mediators::{Drop, Loopback};
    use http::Method;

    #[test]
    fn the_first_whole_match_wins_else_default() {
        let mut c: MessageContext<http_body_util::Full<bytes::Bytes>> =
            crate::runtime::context::test_context(Method::GET, "/a");
        let s = Switch {
            source: ValueSource::Property(Scope::Default, "sym".into()),
            cases: vec![
                Case::new("IB", vec![]).unwrap(),
                Case::new("IBM|MSFT", vec![Mediator::Drop(Drop)]).unwrap(),
                Case::new(
                    "IBM",
                    vec![Mediator::Loopback(Loopback), Mediator::Drop(Drop)],
                )
                .unwrap(),
            ],
            default: vec![Mediator::Loopback(Loopback)],
        };
        c.set(Scope::Default, "sym", "IBM".into()).unwrap();
        assert!(matches!(s.branch(&c).unwrap(), [Mediator::Drop(_)]));
        c.set(Scope::Default, "sym", "WSO2".into()).unwrap();
        assert!(matches!(s.branch(&c).unwrap(), [Mediator::Loopback(_)]));
        assert!(Case::new("[", vec![]).is_err());
    }
}
