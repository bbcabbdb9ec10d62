//! Evaluation of a compiled expression over a read-only `roxmltree` document: the XPath 1.0 data
//! model (node-sets in document order, including attribute and namespace nodes that roxmltree does
//! not model as nodes), the thirteen axes, predicates with proximity positions, and the
//! comparison and conversion rules of XPath 1.0 §3.4 and §4. A step budget
//! ([`MAX_EVALUATION_STEPS`]) stops expressions such as `//*//*//*` from running away on a large
//! payload.

use roxmltree::{Document, Node, NodeType};

use super::ast::{ArithOp, Axis, CompareOp, Expr, NodeTest, Path, PathStart, Step, Variable};
use super::functions;
use super::{XPathEnv, XPathError};

/// Most nodes visited and predicate evaluations one evaluation may perform.
pub const MAX_EVALUATION_STEPS: usize = 10_000_000;

/// A node of the XPath data model. roxmltree has no node objects for attributes and namespaces,
/// so those are their element plus an index into `attributes()` / `namespaces()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum XNode<'a, 'i> {
    /// The root, an element, text, comment or processing instruction.
    Node(Node<'a, 'i>),
    /// The `index`th attribute of the element.
    Attribute(Node<'a, 'i>, usize),
    /// The `index`th in-scope namespace of the element.
    Namespace(Node<'a, 'i>, usize),
}

impl<'a, 'i> XNode<'a, 'i> {
    /// Position in document order: an element, then its namespace nodes, then its attributes,
    /// then its children (XPath 1.0 §5).
    pub(crate) fn order_key(&self) -> (usize, u8, usize) {
        match *self {
            XNode::Node(n) => (n.id().get_usize(), 0, 0),
            XNode::Namespace(e, i) => (e.id().get_usize(), 1, i),
            XNode::Attribute(e, i) => (e.id().get_usize(), 2, i),
        }
    }

    /// The element that owns an attribute/namespace node, or the node itself.
    pub fn tree_node(&self) -> Node<'a, 'i> {
        match *self {
            XNode::Node(n) | XNode::Attribute(n, _) | XNode::Namespace(n, _) => n,
        }
    }

    /// The attribute, for an attribute node.
    pub fn attribute(&self) -> Option<roxmltree::Attribute<'a, 'i>> {
        match *self {
            XNode::Attribute(e, i) => e.attributes().nth(i),
            _ => None,
        }
    }

    /// The namespace (prefix and URI), for a namespace node.
    pub fn namespace(&self) -> Option<&'a roxmltree::Namespace<'i>> {
        match *self {
            XNode::Namespace(e, i) => e.namespaces().nth(i),
            _ => None,
        }
    }

    /// The XPath string-value (XPath 1.0 §5).
    pub fn string_value(&self) -> String {
        match *self {
            XNode::Node(n) => match n.node_type() {
                NodeType::Root | NodeType::Element => {
                    let mut out = String::new();
                    for d in n.descendants() {
                        if d.is_text() {
                            out.push_str(d.text().unwrap_or(""));
                        }
                    }
                    out
                }
                NodeType::Text | NodeType::Comment => n.text().unwrap_or("").to_string(),
                NodeType::PI => n.pi().and_then(|pi| pi.value).unwrap_or("").to_string(),
            },
            XNode::Attribute(..) => self
                .attribute()
                .map(|a| a.value().to_string())
                .unwrap_or_default(),
            XNode::Namespace(..) => self
                .namespace()
                .map(|ns| ns.uri().to_string())
                .unwrap_or_default(),
        }
    }
}

/// An XPath value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a, 'i> {
    /// Sorted in document order, without duplicates.
    Nodes(Vec<XNode<'a, 'i>>),
    String(String),
    Number(f64),
    Boolean(bool),
    /// A sequence of strings, which only XPath 2.0 functions return (`fn:tokenize`). MI evaluates
    /// those with Saxon's JAXP XPath (SynapseXPath.evaluateDOMXPath), which asks for a string
    /// result and so gets the first item; where XPath 1.0 would take a node-set's first node, this
    /// takes the first string.
    Strings(Vec<String>),
}

impl Value<'_, '_> {
    pub(crate) fn to_boolean(&self) -> bool {
        match self {
            Value::Nodes(nodes) => !nodes.is_empty(),
            Value::Strings(items) => !items.is_empty(),
            Value::String(s) => !s.is_empty(),
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::Boolean(b) => *b,
        }
    }

    /// XPath string(): a node-set's first node in document order (Jaxen StringFunction).
    pub(crate) fn to_xpath_string(&self) -> String {
        match self {
            Value::Nodes(nodes) => nodes.first().map(XNode::string_value).unwrap_or_default(),
            Value::Strings(items) => items.first().cloned().unwrap_or_default(),
            Value::String(s) => s.clone(),
            Value::Number(n) => functions::format_number(*n),
            Value::Boolean(b) => b.to_string(),
        }
    }

    pub(crate) fn to_number(&self) -> f64 {
        match self {
            Value::Number(n) => *n,
            Value::Boolean(b) => f64::from(u8::from(*b)),
            other => functions::parse_number(&other.to_xpath_string()),
        }
    }

    /// The string value of every item of a node-set or string sequence; `None` for a single
    /// string, number or boolean.
    pub(crate) fn item_strings(&self) -> Option<Vec<String>> {
        match self {
            Value::Nodes(nodes) => Some(nodes.iter().map(XNode::string_value).collect()),
            Value::Strings(items) => Some(items.clone()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a, 'i> {
    pub node: XNode<'a, 'i>,
    pub position: usize,
    pub size: usize,
}

/// A property whose value is XML, parsed for one evaluation.
pub(crate) struct PropertyDoc<'i> {
    pub scope: String,
    pub name: String,
    pub doc: Document<'i>,
}

pub(crate) struct Evaluator<'e, 'a, 'i> {
    pub doc: &'a Document<'i>,
    /// The XML values of the properties paths start from (see `Variable::PropertyNode`), parsed.
    pub property_docs: &'a [PropertyDoc<'i>],
    pub env: &'e dyn XPathEnv,
    pub text: &'e str,
    /// Milliseconds since the Unix epoch, for SYSTEM_DATE / SYSTEM_TIME.
    pub now_millis: i64,
    pub steps: usize,
    /// The string item a predicate over a string sequence is looking at (`tokenize(..)[. = 'a']`):
    /// `.` and the context-reading functions answer it instead of the context node.
    pub context_item: Option<String>,
}

impl<'e, 'a, 'i> Evaluator<'e, 'a, 'i> {
    pub(crate) fn error(&self, message: String, column: Option<usize>) -> XPathError {
        XPathError::new(message, column, self.text)
    }

    fn tick(&mut self, n: usize) -> Result<(), XPathError> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > MAX_EVALUATION_STEPS {
            return Err(self.error(
                format!(
                    "evaluation stopped after {MAX_EVALUATION_STEPS} steps (the expression does too much work for this document)"
                ),
                None,
            ));
        }
        Ok(())
    }

    /// The node Synapse evaluates against: the envelope element (SynapseXPath.getContext sets the
    /// context node-set to `synCtx.getEnvelope()`).
    pub(crate) fn initial_context(&self) -> Context<'a, 'i> {
        Context {
            node: XNode::Node(self.doc.root_element()),
            position: 1,
            size: 1,
        }
    }

    pub(crate) fn eval(
        &mut self,
        expr: &Expr,
        ctx: &Context<'a, 'i>,
    ) -> Result<Value<'a, 'i>, XPathError> {
        match expr {
            Expr::Or(a, b) => Ok(Value::Boolean(
                self.eval(a, ctx)?.to_boolean() || self.eval(b, ctx)?.to_boolean(),
            )),
            Expr::And(a, b) => Ok(Value::Boolean(
                self.eval(a, ctx)?.to_boolean() && self.eval(b, ctx)?.to_boolean(),
            )),
            Expr::Compare(op, a, b) => {
                let left = self.eval(a, ctx)?;
                let right = self.eval(b, ctx)?;
                Ok(Value::Boolean(self.compare(*op, &left, &right)?))
            }
            Expr::Arith(op, a, b) => {
                let x = self.eval(a, ctx)?.to_number();
                let y = self.eval(b, ctx)?.to_number();
                Ok(Value::Number(match op {
                    ArithOp::Add => x + y,
                    ArithOp::Sub => x - y,
                    ArithOp::Mul => x * y,
                    ArithOp::Div => x / y,
                    // Truncating remainder, like Java's % (XPath 1.0 §3.5).
                    ArithOp::Mod => x % y,
                }))
            }
            Expr::Negate(a) => Ok(Value::Number(-self.eval(a, ctx)?.to_number())),
            Expr::Union(a, b) => {
                let left = self.eval(a, ctx)?;
                let right = self.eval(b, ctx)?;
                match (left, right) {
                    (Value::Nodes(mut l), Value::Nodes(r)) => {
                        self.tick(l.len() + r.len())?;
                        l.extend(r);
                        sort_document_order(&mut l);
                        Ok(Value::Nodes(l))
                    }
                    _ => {
                        Err(self.error("both operands of '|' must be node-sets".to_string(), None))
                    }
                }
            }
            Expr::Literal(s) => Ok(Value::String(s.clone())),
            Expr::Number(n) => Ok(Value::Number(*n)),
            Expr::Variable(v) => Ok(self.variable(v)),
            Expr::Call(call) => functions::call(self, call, ctx),
            Expr::Deferred(deferred) => {
                Err(self.error(deferred.message.clone(), Some(deferred.column)))
            }
            Expr::Filter(primary, predicates) => {
                let nodes = match self.eval(primary, ctx)? {
                    Value::Nodes(nodes) => nodes,
                    Value::Strings(mut items) => {
                        for predicate in predicates {
                            items = self.filter_strings(items, predicate, ctx)?;
                        }
                        return Ok(Value::Strings(items));
                    }
                    _ => {
                        return Err(self.error(
                            "a predicate [..] can only filter a node-set".to_string(),
                            None,
                        ));
                    }
                };
                let mut nodes = nodes;
                for predicate in predicates {
                    nodes = self.filter(nodes, predicate)?;
                }
                Ok(Value::Nodes(nodes))
            }
            Expr::Path(path) => {
                if let Some(item) = &self.context_item
                    && is_context_item(path)
                {
                    return Ok(Value::String(item.clone()));
                }
                self.path(path, ctx).map(Value::Nodes)
            }
        }
    }

    /// Keeps the items of a string sequence for which the predicate holds, the predicate seeing
    /// each item as `.` and its position as `position()`.
    fn filter_strings(
        &mut self,
        items: Vec<String>,
        predicate: &Expr,
        ctx: &Context<'a, 'i>,
    ) -> Result<Vec<String>, XPathError> {
        let size = items.len();
        let mut kept = Vec::with_capacity(size);
        let outer = self.context_item.take();
        for (i, item) in items.into_iter().enumerate() {
            if let Err(e) = self.tick(1) {
                self.context_item = outer;
                return Err(e);
            }
            let item_ctx = Context {
                node: ctx.node,
                position: i + 1,
                size,
            };
            self.context_item = Some(item);
            let result = self.eval(predicate, &item_ctx);
            let item = self.context_item.take().unwrap_or_default();
            let keep = match result {
                Ok(Value::Number(n)) => n == (i + 1) as f64,
                Ok(other) => other.to_boolean(),
                Err(e) => {
                    self.context_item = outer;
                    return Err(e);
                }
            };
            if keep {
                kept.push(item);
            }
        }
        self.context_item = outer;
        Ok(kept)
    }

    fn variable(&self, variable: &Variable) -> Value<'a, 'i> {
        let envelope = self.doc.root_element();
        let soap_child = |local: &str| -> Value<'a, 'i> {
            let ns = envelope.tag_name().namespace();
            Value::Nodes(
                envelope
                    .children()
                    .find(|c| {
                        c.is_element()
                            && c.tag_name().name() == local
                            && c.tag_name().namespace() == ns
                    })
                    .map(XNode::Node)
                    .into_iter()
                    .collect(),
            )
        };
        match variable {
            Variable::Body => soap_child("Body"),
            Variable::Header => soap_child("Header"),
            Variable::Envelope => Value::Nodes(vec![XNode::Node(envelope)]),
            // Unset properties read as the empty string (Jaxen's StringFunction turns Synapse's
            // null into "").
            Variable::Property { scope, name } => {
                Value::String(self.env.property(scope, name).unwrap_or_default())
            }
            Variable::PropertyNode { scope, name } => match self
                .property_docs
                .iter()
                .find(|p| &p.scope == scope && &p.name == name)
            {
                Some(property) => Value::Nodes(vec![XNode::Node(property.doc.root_element())]),
                None => Value::String(self.env.property(scope, name).unwrap_or_default()),
            },
        }
    }

    fn path(
        &mut self,
        path: &Path,
        ctx: &Context<'a, 'i>,
    ) -> Result<Vec<XNode<'a, 'i>>, XPathError> {
        let mut nodes = match &path.start {
            PathStart::Root => vec![XNode::Node(self.doc.root())],
            PathStart::Context => vec![ctx.node],
            PathStart::Expr(expr) => match self.eval(expr, ctx)? {
                Value::Nodes(nodes) => nodes,
                other => {
                    return Err(self.error(
                        format!(
                            "a path step '/' needs a node-set on its left, not {}",
                            kind_name(&other)
                        ),
                        None,
                    ));
                }
            },
        };
        for step in &path.steps {
            nodes = self.step(&nodes, step)?;
        }
        Ok(nodes)
    }

    fn step(
        &mut self,
        input: &[XNode<'a, 'i>],
        step: &Step,
    ) -> Result<Vec<XNode<'a, 'i>>, XPathError> {
        let mut out = Vec::new();
        for &node in input {
            let mut selected = Vec::new();
            self.axis(node, step.axis, &step.test, &mut selected)?;
            for predicate in &step.predicates {
                selected = self.filter(selected, predicate)?;
            }
            out.extend(selected);
        }
        sort_document_order(&mut out);
        Ok(out)
    }

    /// Keeps the nodes (in proximity order) for which the predicate holds (XPath 1.0 §2.4).
    fn filter(
        &mut self,
        nodes: Vec<XNode<'a, 'i>>,
        predicate: &Expr,
    ) -> Result<Vec<XNode<'a, 'i>>, XPathError> {
        let size = nodes.len();
        let mut kept = Vec::with_capacity(size);
        // Inside a node predicate `.` is the node again, not an outer string item.
        let outer = self.context_item.take();
        let result = (|| {
            for (i, node) in nodes.into_iter().enumerate() {
                self.tick(1)?;
                let ctx = Context {
                    node,
                    position: i + 1,
                    size,
                };
                let keep = match self.eval(predicate, &ctx)? {
                    Value::Number(n) => n == (i + 1) as f64,
                    other => other.to_boolean(),
                };
                if keep {
                    kept.push(node);
                }
            }
            Ok(())
        })();
        self.context_item = outer;
        result.map(|()| kept)
    }

    /// Appends the nodes of `axis` from `node` that pass `test`, in proximity order.
    fn axis(
        &mut self,
        node: XNode<'a, 'i>,
        axis: Axis,
        test: &NodeTest,
        out: &mut Vec<XNode<'a, 'i>>,
    ) -> Result<(), XPathError> {
        if let NodeTest::Unresolved { prefix, column } = test {
            let before = out.len();
            self.axis(node, axis, &NodeTest::AnyName, out)?;
            if out.len() > before {
                out.truncate(before);
                return Err(self.error(
                    format!(
                        "namespace prefix '{prefix}' is not declared (declare xmlns:{prefix}=\"...\" on the element carrying the expression)"
                    ),
                    Some(*column),
                ));
            }
            return Ok(());
        }
        let start = out.len();
        let mut visited = 0usize;
        let mut push_tree = |n: Node<'a, 'i>, out: &mut Vec<XNode<'a, 'i>>| {
            visited += 1;
            if matches_tree_node(n, axis, test) {
                out.push(XNode::Node(n));
            }
        };
        match (node, axis) {
            (XNode::Node(n), Axis::Child) => n.children().for_each(|c| push_tree(c, out)),
            (XNode::Node(n), Axis::Descendant) => {
                n.descendants().skip(1).for_each(|c| push_tree(c, out))
            }
            (XNode::Node(n), Axis::DescendantOrSelf) => {
                n.descendants().for_each(|c| push_tree(c, out))
            }
            (XNode::Node(n), Axis::Parent) => {
                n.parent().into_iter().for_each(|c| push_tree(c, out))
            }
            (XNode::Node(n), Axis::Ancestor) => {
                n.ancestors().skip(1).for_each(|c| push_tree(c, out))
            }
            (XNode::Node(n), Axis::AncestorOrSelf) => n.ancestors().for_each(|c| push_tree(c, out)),
            (XNode::Node(n), Axis::FollowingSibling) => {
                n.next_siblings().skip(1).for_each(|c| push_tree(c, out))
            }
            (XNode::Node(n), Axis::PrecedingSibling) => {
                n.prev_siblings().skip(1).for_each(|c| push_tree(c, out))
            }
            (XNode::Node(n), Axis::Following) => {
                let after = n.descendants().next_back().unwrap_or(n).id().get_usize();
                // Node ids are document-order indexes; `skip` on Descendants is O(1).
                self.doc
                    .root()
                    .descendants()
                    .skip(after + 1)
                    .for_each(|c| push_tree(c, out));
            }
            (XNode::Node(n), Axis::Preceding) => preceding(self.doc, n, &mut push_tree, out),
            (XNode::Node(n), Axis::SelfNode) => push_tree(n, out),
            (XNode::Node(n), Axis::Attribute) => {
                for (i, attr) in n.attributes().enumerate() {
                    visited += 1;
                    if name_matches(test, attr.namespace(), attr.name()) {
                        out.push(XNode::Attribute(n, i));
                    }
                }
            }
            (XNode::Node(n), Axis::Namespace) => {
                for (i, ns) in n.namespaces().enumerate() {
                    visited += 1;
                    if name_matches(test, None, ns.name().unwrap_or("")) {
                        out.push(XNode::Namespace(n, i));
                    }
                }
            }
            // Attribute and namespace nodes: their parent is the element; they have no children
            // or siblings.
            (other, Axis::SelfNode | Axis::DescendantOrSelf) => {
                if matches_other(test) {
                    out.push(other);
                }
            }
            (other, Axis::Parent) => push_tree(other.tree_node(), out),
            (other, Axis::Ancestor) => other
                .tree_node()
                .ancestors()
                .for_each(|c| push_tree(c, out)),
            (other, Axis::AncestorOrSelf) => {
                if matches_other(test) {
                    out.push(other);
                }
                other
                    .tree_node()
                    .ancestors()
                    .for_each(|c| push_tree(c, out));
            }
            // Jaxen's FollowingAxisIterator starts from the following siblings of the attribute
            // (none) and climbs, so the owning element's children are not included.
            (other, Axis::Following) => {
                let element = other.tree_node();
                let after = element
                    .descendants()
                    .next_back()
                    .unwrap_or(element)
                    .id()
                    .get_usize();
                // Node ids are document-order indexes; `skip` on Descendants is O(1).
                self.doc
                    .root()
                    .descendants()
                    .skip(after + 1)
                    .for_each(|c| push_tree(c, out));
            }
            (other, Axis::Preceding) => preceding(self.doc, other.tree_node(), &mut push_tree, out),
            (
                _,
                Axis::Child
                | Axis::Descendant
                | Axis::FollowingSibling
                | Axis::PrecedingSibling
                | Axis::Attribute
                | Axis::Namespace,
            ) => {}
        }
        self.tick(visited.max(out.len() - start))
    }

    pub(crate) fn compare(
        &mut self,
        op: CompareOp,
        left: &Value<'a, 'i>,
        right: &Value<'a, 'i>,
    ) -> Result<bool, XPathError> {
        // Node-sets and string sequences compare item by item (existentially).
        match (left.item_strings(), right.item_strings()) {
            (Some(ls), Some(rs)) => {
                self.tick(ls.len().saturating_mul(rs.len()))?;
                Ok(ls.iter().any(|a| {
                    rs.iter()
                        .any(|b| compare_atoms(op, &Atom::Str(a), &Atom::Str(b)))
                }))
            }
            (Some(items), None) => self.compare_nodes_with(op, &items, right, false),
            (None, Some(items)) => self.compare_nodes_with(op, &items, left, true),
            (None, None) => Ok(compare_atoms(op, &atom(left), &atom(right))),
        }
    }

    fn compare_nodes_with(
        &mut self,
        op: CompareOp,
        nodes: &[String],
        other: &Value<'a, 'i>,
        nodes_on_right: bool,
    ) -> Result<bool, XPathError> {
        self.tick(nodes.len())?;
        let ordered = |a: Atom, b: Atom| {
            if nodes_on_right {
                compare_atoms(op, &b, &a)
            } else {
                compare_atoms(op, &a, &b)
            }
        };
        Ok(match other {
            Value::Boolean(b) => ordered(Atom::Bool(!nodes.is_empty()), Atom::Bool(*b)),
            Value::Number(n) => nodes
                .iter()
                .any(|node| ordered(Atom::Num(functions::parse_number(node)), Atom::Num(*n))),
            Value::String(s) => nodes
                .iter()
                .any(|node| ordered(Atom::Str(node), Atom::Str(s))),
            Value::Nodes(_) | Value::Strings(_) => false,
        })
    }
}

fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Nodes(_) => "a node-set",
        Value::Strings(_) => "a sequence of strings",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Boolean(_) => "a boolean",
    }
}

/// `.` (self::node() from the context), which names the context item.
fn is_context_item(path: &Path) -> bool {
    matches!(path.start, PathStart::Context)
        && matches!(
            path.steps.as_slice(),
            [Step {
                axis: Axis::SelfNode,
                test: NodeTest::Node,
                predicates,
            }] if predicates.is_empty()
        )
}

/// All nodes before `n` in document order except its ancestors (and never the root).
fn preceding<'a, 'i>(
    doc: &'a Document<'i>,
    n: Node<'a, 'i>,
    push: &mut impl FnMut(Node<'a, 'i>, &mut Vec<XNode<'a, 'i>>),
    out: &mut Vec<XNode<'a, 'i>>,
) {
    let id = n.id().get_usize();
    // `d` is an ancestor of `n` when `n` lies within d's subtree (ids are document order).
    let is_ancestor = |d: &Node| {
        d.descendants()
            .next_back()
            .is_some_and(|last| last.id().get_usize() >= id)
    };
    let mut before: Vec<Node<'a, 'i>> = doc
        .root()
        .descendants()
        .take_while(|d| d.id().get_usize() < id)
        .filter(|d| !is_ancestor(d))
        .collect();
    // Reverse axis: nearest first.
    before.reverse();
    for d in before {
        push(d, out);
    }
}

enum Atom<'s> {
    Str(&'s str),
    Num(f64),
    Bool(bool),
}

fn atom<'s>(value: &'s Value) -> Atom<'s> {
    match value {
        Value::String(s) => Atom::Str(s),
        Value::Number(n) => Atom::Num(*n),
        Value::Boolean(b) => Atom::Bool(*b),
        // Node-sets and sequences are expanded by the caller.
        Value::Nodes(_) | Value::Strings(_) => Atom::Bool(false),
    }
}

fn atom_number(a: &Atom) -> f64 {
    match a {
        Atom::Str(s) => functions::parse_number(s),
        Atom::Num(n) => *n,
        Atom::Bool(b) => f64::from(u8::from(*b)),
    }
}

fn atom_bool(a: &Atom) -> bool {
    match a {
        Atom::Str(s) => !s.is_empty(),
        Atom::Num(n) => *n != 0.0 && !n.is_nan(),
        Atom::Bool(b) => *b,
    }
}

/// XPath 1.0 §3.4 for two non-node-set values.
fn compare_atoms(op: CompareOp, a: &Atom, b: &Atom) -> bool {
    match op {
        CompareOp::Eq | CompareOp::Ne => {
            let equal = match (a, b) {
                (Atom::Bool(_), _) | (_, Atom::Bool(_)) => atom_bool(a) == atom_bool(b),
                (Atom::Num(_), _) | (_, Atom::Num(_)) => atom_number(a) == atom_number(b),
                (Atom::Str(x), Atom::Str(y)) => x == y,
            };
            (op == CompareOp::Eq) == equal
        }
        CompareOp::Lt => atom_number(a) < atom_number(b),
        CompareOp::Le => atom_number(a) <= atom_number(b),
        CompareOp::Gt => atom_number(a) > atom_number(b),
        CompareOp::Ge => atom_number(a) >= atom_number(b),
    }
}

pub(crate) fn sort_document_order(nodes: &mut Vec<XNode>) {
    if !nodes.is_sorted_by_key(XNode::order_key) {
        nodes.sort_by_key(XNode::order_key);
    }
    nodes.dedup();
}

fn principal_is_element(axis: Axis) -> bool {
    !matches!(axis, Axis::Attribute | Axis::Namespace)
}

fn matches_tree_node(n: Node, axis: Axis, test: &NodeTest) -> bool {
    match test {
        NodeTest::Node => true,
        NodeTest::Text => n.is_text(),
        NodeTest::Comment => n.is_comment(),
        NodeTest::ProcessingInstruction(target) => match n.pi() {
            Some(pi) => target.as_deref().is_none_or(|t| t == pi.target),
            None => false,
        },
        _ => {
            principal_is_element(axis)
                && n.is_element()
                && name_matches(test, n.tag_name().namespace(), n.tag_name().name())
        }
    }
}

/// An attribute or namespace node on the self axis: the principal node type there is element,
/// so only `node()` matches it (XPath 1.0 §2.3).
fn matches_other(test: &NodeTest) -> bool {
    matches!(test, NodeTest::Node)
}

fn name_matches(test: &NodeTest, namespace: Option<&str>, local: &str) -> bool {
    // roxmltree reports `xmlns=""` as an empty namespace; XPath treats that as no namespace.
    let namespace = namespace.filter(|uri| !uri.is_empty());
    match test {
        NodeTest::AnyName => true,
        NodeTest::AnyInNamespace(uri) => namespace == Some(uri.as_str()),
        NodeTest::Name {
            namespace: want_ns,
            local: want_local,
        } => want_local == local && want_ns.as_deref() == namespace,
        _ => false,
    }
}
