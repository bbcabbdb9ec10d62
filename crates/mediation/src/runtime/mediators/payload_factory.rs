//! `<payloadFactory media-type>`: replaces the body with a format whose `$1..$n` are filled from
//! the arguments (SYN `mediators/transform/PayloadFactoryMediator.java`; synapse-subset.md §3.11),
//! and sets `messageType`/`ContentType` and clears `NO_ENTITY_BODY`. Arguments are escaped for XML
//! formats; JSON string escaping and XPath/JSONPath arguments come with the expression engine.

use crate::runtime::body::MessageBody;
use crate::runtime::context::{MessageContext, Scope, props};
use crate::runtime::value::ValueSource;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Xml,
    Json,
    Text,
}

impl MediaType {
    pub fn content_type(self) -> &'static str {
        match self {
            MediaType::Xml => "application/xml",
            MediaType::Json => "application/json",
            MediaType::Text => "text/plain",
        }
    }
}

#[derive(Debug, Clone)]
pub struct PayloadFactory {
    pub media_type: MediaType,
    pub format: String,
    pub args: Vec<ValueSource>,
}

impl PayloadFactory {
    /// The payload for this message: `$n` replaced by argument n (1-based), `$` followed by
    /// anything else kept as written.
    pub fn render<B: MessageBody>(&self, ctx: &MessageContext<B>) -> String {
        let values: Vec<String> = self.args.iter().map(|a| a.resolve(ctx)).collect();
        let mut out = String::with_capacity(self.format.len());
        let mut chars = self.format.char_indices().peekable();
        while let Some((_, c)) = chars.next() {
            if c == '$' {
                let mut digits = String::new();
                while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
                    digits.push(d);
                    chars.next();
                }
                if let Some(v) = digits
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|i| values.get(i))
                {
                    match self.media_type {
                        MediaType::Xml => out.push_str(&escape_xml(v)),
                        MediaType::Json | MediaType::Text => out.push_str(v),
                    }
                    continue;
                }
                out.push('$');
                out.push_str(&digits);
                continue;
            }
            out.push(c);
        }
        out
    }

    pub fn apply<B: MessageBody>(&self, ctx: &mut MessageContext<B>) {
        let payload = self.render(ctx);
        ctx.set_body(B::from(bytes::Bytes::from(payload)));
        ctx.headers.remove(http::header::CONTENT_LENGTH);
        ctx.headers.remove(http::header::TRANSFER_ENCODING);
        let ct = self.media_type.content_type().to_string();
        let _ = ctx.set(Scope::Axis2, props::MESSAGE_TYPE, ct.clone());
        let _ = ctx.set(Scope::Axis2, props::CONTENT_TYPE, ct);
        ctx.remove(Scope::Axis2, props::NO_ENTITY_BODY);
    }
}

fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, Method, Uri};

    #[test]
    fn placeholders_are_filled_in_order_and_escaped_for_xml() {
        let mut ctx: MessageContext<http_body_util::Full<bytes::Bytes>> = MessageContext::new(
            Method::GET,
            Uri::from_static("/"),
            HeaderMap::new(),
            Default::default(),
            "api:A".into(),
        );
        ctx.set(Scope::Default, "uri.var.name", "<Tom & Jerry>".into())
            .unwrap();
        let pf = PayloadFactory {
            media_type: MediaType::Xml,
            format: "<hello><name>$1</name><cost>$10 $2</cost></hello>".into(),
            args: vec![
                ValueSource::Property(Scope::Default, "uri.var.name".into()),
                ValueSource::Literal("x".into()),
            ],
        };
        assert_eq!(
            pf.render(&ctx),
            "<hello><name>&lt;Tom &amp; Jerry&gt;</name><cost>$10 x</cost></hello>"
        );
        let json = PayloadFactory {
            media_type: MediaType::Json,
            format: "{\"n\":\"$1\"}".into(),
            args: vec![ValueSource::Literal("a".into())],
        };
        assert_eq!(json.render(&ctx), "{\"n\":\"a\"}");
    }
}
