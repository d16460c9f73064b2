//! Rewrites that need to know where an expression starts and ends, found
//! with minijinja's own parser:
//!
//! - `a + b` / `a - b` → `((a)|__hj_add(b))` / `((a)|__hj_sub(b))` when both
//!   sides could be datetimes or timedeltas (minijinja's operators do not
//!   call into objects); a literal, a comparison or `loop.index` on either
//!   side keeps the plain operator.
//! - `s % x` → `((s)|__hj_mod(x))` when `s` could be a string: Python's
//!   printf formatting, named (`%(key)s`) or positional.
//! - list and dict literals whose value may be kept (assigned, passed as an
//!   argument, a macro default) → `[…]|__hj_mutable`, so `append`/`update`
//!   work on them as in Python. Literals that are only read (loop
//!   iterables, `in` tests, filter inputs) stay plain and fast. A macro's
//!   default is evaluated on each call, so every call gets a fresh list;
//!   Python shares one default object between calls, which dbt projects
//!   rarely rely on.
//!
//! Edits only insert text or replace the operator character, so line
//! breaks stay where they were and errors point at the user's lines.

use minijinja::machinery::ast::{self, BinOpKind, CallArg, Expr, Stmt};
use minijinja::machinery::parse;
use minijinja::syntax::SyntaxConfig;

/// Rewrites the tags of `text` (a whole template) that need it.
///
/// Only tags that hold a candidate (`+`, `-`, `%`, a list or dict literal)
/// are parsed, each on its own (block tags get their end tag appended), so
/// a model without any pays a byte scan and nothing more. The common
/// `{% set x = [...] %}` and `{{ config(tags=[...]) }}` need no parse.
pub(crate) fn rewrite(text: String) -> String {
    let edits = edits_for(&text);
    if edits.is_empty() {
        text
    } else {
        apply(&text, edits)
    }
}

fn edits_for(text: &str) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut at = 0;
    while let Some(tag) = next_tag(text, at) {
        at = tag.end;
        if tag.scan.operator {
            edits.extend(rewrite_tag(text, &tag));
        } else if tag.scan.literal {
            let (offset, content) = tag_content(text, &tag);
            let set_literal = (tag.keyword == Some("set"))
                .then(|| plain_set_literal(content, &tag.scan))
                .flatten();
            if let Some(end) = set_literal {
                edits.push(mutable_at(offset + end));
            } else if is_config_call(content) {
                continue;
            } else if let Some(ends) = argument_literals(content) {
                edits.extend(ends.into_iter().map(|end| mutable_at(offset + end)));
            } else {
                edits.extend(rewrite_tag(text, &tag));
            }
        }
    }
    edits
}

const MUTABLE: &str = "|__hj_mutable";

fn mutable_at(at: usize) -> Edit {
    Edit {
        at,
        remove: 0,
        insert: MUTABLE,
    }
}

/// A `{{ … }}` or `{% … %}` tag.
struct Tag<'t> {
    start: usize,
    end: usize,
    /// `set`, `for`, … for block tags; `None` for `{{ … }}`.
    keyword: Option<&'t str>,
    scan: Scan,
}

/// What a tag's content holds, outside string literals.
#[derive(Debug, Default)]
struct Scan {
    /// A `+`, `-` or `%`.
    operator: bool,
    /// A list or dict literal.
    literal: bool,
    /// A `(`: a call or a parenthesised expression.
    paren: bool,
}

/// The tag's content without delimiters and whitespace control, and its
/// offset in `text`.
fn tag_content<'t>(text: &'t str, tag: &Tag<'_>) -> (usize, &'t str) {
    let inner = &text[tag.start + 2..tag.end - 2];
    let trimmed = inner.trim_start_matches(['-', '+']).trim_start();
    let offset = tag.start + 2 + (inner.len() - trimmed.len());
    (offset, trimmed.trim_end_matches(['-', '+']).trim_end())
}

/// `set name = [...]` (or `{...}`) with nothing but the literal on the
/// right and no call in it: the literal ends where the edit goes (an
/// offset in `content`). Nested literals become mutable with it.
fn plain_set_literal(content: &str, scan: &Scan) -> Option<usize> {
    if scan.paren || scan.operator {
        return None;
    }
    let rest = content.strip_prefix("set")?.trim_start();
    let name_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|&n| n > 0)?;
    let value = rest[name_len..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let open = content.len() - value.len();
    let end = literal_end(content.as_bytes(), open)?;
    content[end..].trim().is_empty().then_some(end)
}

/// For a tag without operators: where each list or dict literal that
/// stands as an argument or a default (`f(x, [1])`, `m(cols=[])`) ends, the
/// places for the mutable filter. Literals that are only read (after `in`,
/// filtered, subscripted, or the whole `{{ … }}`) need none. `None` when a
/// literal stands anywhere else: the tag is then parsed.
fn argument_literals(content: &str) -> Option<Vec<usize>> {
    let bytes = content.as_bytes();
    let mut ends = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => {
                i = skip_string(bytes, i);
                continue;
            }
            b'{' => {}
            b'[' if opens_list_literal(&bytes[..i]) => {}
            _ => {
                i += 1;
                continue;
            }
        }
        let end = literal_end(bytes, i)?;
        let before = bytes[..i].trim_ascii_end();
        let after = bytes[end..].trim_ascii_start();
        let is_argument = match before.last() {
            Some(b'(' | b',') => true,
            Some(b'=') => !matches!(
                before.get(before.len().wrapping_sub(2)),
                Some(b'=' | b'!' | b'<' | b'>')
            ),
            _ => false,
        };
        let read_only = before.is_empty()
            || before.ends_with(b" in")
            || matches!(after.first(), Some(b'|' | b'.' | b'['));
        if is_argument && matches!(after.first(), None | Some(b')' | b',')) {
            ends.push(end);
        } else if !read_only {
            return None;
        }
        i = end;
    }
    Some(ends)
}

/// Index just past the bracket closing the literal that opens at `open`.
fn literal_end(bytes: &[u8], open: usize) -> Option<usize> {
    if !matches!(bytes.get(open), Some(b'[' | b'{')) {
        return None;
    }
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => {
                i = skip_string(bytes, i);
                continue;
            }
            b'[' | b'{' | b'(' => depth += 1,
            b']' | b'}' | b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// `config(...)` only records its arguments: their literals need not be
/// mutable.
fn is_config_call(content: &str) -> bool {
    content.starts_with("config(") && content.ends_with(')')
}

/// The next tag at or after `from`, skipping comments and raw blocks.
fn next_tag(text: &str, from: usize) -> Option<Tag<'_>> {
    let bytes = text.as_bytes();
    let mut i = from;
    loop {
        let open = i + text.get(i..)?.find('{')?;
        i = open + 1;
        let close: &[u8] = match bytes.get(open + 1) {
            Some(b'{') => b"}}",
            Some(b'%') => b"%}",
            Some(b'#') => {
                i = text[open..].find("#}").map_or(text.len(), |e| open + e + 2);
                continue;
            }
            _ => continue,
        };
        let (end, scan) = scan_tag(bytes, open + 2, close)?;
        let keyword = (close == b"%}").then(|| tag_keyword(&text[open + 2..end]));
        if keyword == Some("raw") {
            i = END_RAW.find_at(text, end).map_or(text.len(), |m| m.end());
            continue;
        }
        return Some(Tag {
            start: open,
            end,
            keyword,
            scan,
        });
    }
}

static END_RAW: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"\{%[-+]?\s*endraw\s*[-+]?%\}").expect("valid regex")
});

fn tag_keyword(content: &str) -> &str {
    let content = content.trim_start_matches(['-', '+']).trim_start();
    let len = content
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(content.len());
    &content[..len]
}

/// Scans a tag's content from `start` (past the opening delimiter) to its
/// closing delimiter outside strings and brackets. Returns the index just
/// past the tag and what the content holds.
fn scan_tag(bytes: &[u8], start: usize, close: &[u8]) -> Option<(usize, Scan)> {
    let mut i = start;
    // Whitespace control (`{%-`, `{{+`) is not an operator.
    if matches!(bytes.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut depth = 0usize;
    let mut scan = Scan::default();
    while i < bytes.len() {
        let b = bytes[i];
        if depth == 0 && bytes[i..].starts_with(close) {
            return Some((i + close.len(), scan));
        }
        match b {
            b'\'' | b'"' => {
                i = skip_string(bytes, i);
                continue;
            }
            b'-' | b'+' if depth == 0 && bytes[i + 1..].starts_with(close) => {}
            b'-' | b'+' | b'%' => scan.operator |= may_rewrite_operator(bytes, start, i),
            b'{' => {
                scan.literal = true;
                depth += 1;
            }
            b'[' => {
                scan.literal |= opens_list_literal(&bytes[start..i]);
                depth += 1;
            }
            b'(' => {
                scan.paren = true;
                depth += 1;
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Is the operator at `at` one a rewrite may apply to? Not when it is
/// unary (no value before it), nor when a number or string literal stands
/// on one side of `+`/`-` (no datetime there) or a number before `%`.
fn may_rewrite_operator(bytes: &[u8], start: usize, at: usize) -> bool {
    let before = &bytes[start..at];
    let Some(previous) = previous_token(before) else {
        return false;
    };
    if matches!(previous, Token::Number | Token::Other) {
        return false;
    }
    if bytes[at] == b'%' {
        return true;
    }
    let after = bytes[at + 1..].trim_ascii_start();
    previous != Token::String && !matches!(after.first(), Some(b'0'..=b'9' | b'\'' | b'"'))
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    /// A name, `)` or `]`: a value of unknown type.
    Value,
    Number,
    String,
    /// An operator, bracket, comma or keyword: no value before the operator.
    Other,
}

/// The kind of token that `before` ends with, if any.
fn previous_token(before: &[u8]) -> Option<Token> {
    let before = before.trim_ascii_end();
    let last = *before.last()?;
    Some(match last {
        b'\'' | b'"' => Token::String,
        b')' | b']' => Token::Value,
        b if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' => {
            let word_start = before
                .iter()
                .rposition(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.'))
                .map_or(0, |p| p + 1);
            let word = &before[word_start..];
            if word[0].is_ascii_digit() {
                Token::Number
            } else if is_keyword(word) {
                Token::Other
            } else {
                Token::Value
            }
        }
        _ => Token::Other,
    })
}

fn is_keyword(word: &[u8]) -> bool {
    matches!(
        word,
        b"or" | b"and" | b"not" | b"in" | b"if" | b"else" | b"is" | b"set" | b"do" | b"return"
    )
}

/// Does a `[` after `before` open a list literal? After a value (a name, a
/// string, `)` or `]`) it is a subscript; after an operator, a bracket, a
/// comma or a keyword such as `or` / `in` it is a literal.
fn opens_list_literal(before: &[u8]) -> bool {
    let before = before.trim_ascii_end();
    let word_start = before
        .iter()
        .rposition(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .map_or(0, |p| p + 1);
    let word = &before[word_start..];
    if !word.is_empty() {
        return is_keyword(word);
    }
    !matches!(before.last(), Some(b')' | b']' | b'\'' | b'"'))
}

/// Index just past the string literal opening at `start`.
fn skip_string(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The edits for one tag, at offsets in the whole text. The tag is parsed
/// on its own; a block tag gets what it needs around it to parse. A tag
/// that does not parse is left alone: compiling the template reports it.
fn rewrite_tag(text: &str, tag: &Tag<'_>) -> Vec<Edit> {
    let source = &text[tag.start..tag.end];
    let (prefix, suffix) = match tag.keyword {
        None | Some("set" | "do") => ("", ""),
        Some("for") => ("", "{% endfor %}"),
        Some("if") => ("", "{% endif %}"),
        Some("elif") => ("{% if true %}", "{% endif %}"),
        Some("macro") => ("", "{% endmacro %}"),
        Some("call") => ("", "{% endcall %}"),
        Some("with") => ("", "{% endwith %}"),
        Some("filter") => ("", "{% endfilter %}"),
        Some(_) => return Vec::new(),
    };
    let snippet = format!("{prefix}{source}{suffix}");
    let Ok(tree) = parse(&snippet, "<tag>", SyntaxConfig::default()) else {
        return Vec::new();
    };
    let mut edits = Edits {
        text: &snippet,
        list: Vec::new(),
    };
    edits.stmt(&tree);
    let inside = prefix.len()..=prefix.len() + source.len();
    edits
        .list
        .into_iter()
        .filter(|e| inside.contains(&e.at))
        .map(|e| Edit {
            at: e.at - prefix.len() + tag.start,
            ..e
        })
        .collect()
}

/// Applies edits to `text`. A stable sort keeps the walk's order for edits
/// at the same place: outer openings before inner ones, inner closings
/// before outer ones.
fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| e.at);
    let extra: usize = edits.iter().map(|e| e.insert.len()).sum();
    let mut out = String::with_capacity(text.len() + extra);
    let mut last = 0;
    for edit in &edits {
        out.push_str(&text[last..edit.at]);
        out.push_str(edit.insert);
        last = edit.at + edit.remove;
    }
    out.push_str(&text[last..]);
    out
}

/// One insertion (after removing `remove` bytes) at byte `at`.
struct Edit {
    at: usize,
    remove: usize,
    insert: &'static str,
}

struct Edits<'t> {
    text: &'t str,
    list: Vec<Edit>,
}

impl Edits<'_> {
    fn push(&mut self, at: usize, remove: usize, insert: &'static str) {
        self.list.push(Edit { at, remove, insert });
    }

    fn stmts(&mut self, stmts: &[Stmt<'_>]) {
        for s in stmts {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, stmt: &Stmt<'_>) {
        match stmt {
            Stmt::Template(t) => self.stmts(&t.children),
            Stmt::EmitExpr(e) => self.expr(&e.expr, false),
            Stmt::ForLoop(f) => {
                self.expr(&f.iter, false);
                if let Some(cond) = &f.filter_expr {
                    self.expr(cond, false);
                }
                self.stmts(&f.body);
                self.stmts(&f.else_body);
            }
            Stmt::IfCond(i) => {
                self.expr(&i.expr, false);
                self.stmts(&i.true_body);
                self.stmts(&i.false_body);
            }
            Stmt::WithBlock(w) => {
                for (_, value) in &w.assignments {
                    self.expr(value, true);
                }
                self.stmts(&w.body);
            }
            Stmt::Set(s) => self.expr(&s.expr, true),
            Stmt::SetBlock(s) => {
                if let Some(filter) = &s.filter {
                    self.expr(filter, false);
                }
                self.stmts(&s.body);
            }
            Stmt::AutoEscape(a) => self.stmts(&a.body),
            Stmt::FilterBlock(f) => {
                self.expr(&f.filter, false);
                self.stmts(&f.body);
            }
            Stmt::Block(b) => self.stmts(&b.body),
            Stmt::Macro(m) => self.macro_decl(m),
            Stmt::CallBlock(c) => {
                self.call(&c.call);
                self.macro_decl(&c.macro_decl);
            }
            Stmt::Do(d) => self.call(&d.call),
            _ => {}
        }
    }

    /// Defaults are kept by the macro, so their literals are mutable.
    fn macro_decl(&mut self, m: &ast::Macro<'_>) {
        for default in &m.defaults {
            self.expr(default, true);
        }
        self.stmts(&m.body);
    }

    fn call(&mut self, call: &ast::Call<'_>) {
        self.expr(&call.expr, false);
        self.args(&call.args);
    }

    /// Arguments may be kept by the callee (`namespace(items=[])`,
    /// `var('x', [])`), so their literals are mutable.
    fn args(&mut self, args: &[CallArg<'_>]) {
        for arg in args {
            match arg {
                CallArg::Pos(e) | CallArg::Kwarg(_, e) => self.expr(e, true),
                CallArg::PosSplat(e) | CallArg::KwargSplat(e) => self.expr(e, false),
            }
        }
    }

    /// Walks an expression; `kept` says whether its value may be stored
    /// (and so a literal here must be mutable).
    fn expr(&mut self, expr: &Expr<'_>, kept: bool) {
        match expr {
            Expr::Var(_) | Expr::Const(_) => {}
            Expr::Slice(s) => {
                self.expr(&s.expr, false);
                for part in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                    self.expr(part, false);
                }
            }
            Expr::UnaryOp(u) => self.expr(&u.expr, false),
            Expr::BinOp(b) => self.binop(b, expr.span(), kept),
            Expr::Compare(c) => {
                self.expr(&c.expr, false);
                for op in &c.ops {
                    self.expr(&op.expr, false);
                }
            }
            Expr::IfExpr(i) => {
                self.expr(&i.test_expr, false);
                self.expr(&i.true_expr, kept);
                if let Some(e) = &i.false_expr {
                    self.expr(e, kept);
                }
            }
            Expr::Filter(f) => {
                if let Some(e) = &f.expr {
                    self.expr(e, false);
                }
                self.args(&f.args);
            }
            Expr::Test(t) => {
                self.expr(&t.expr, false);
                for arg in &t.args {
                    if let CallArg::Pos(e) | CallArg::Kwarg(_, e) = arg {
                        self.expr(e, false);
                    }
                }
            }
            Expr::GetAttr(g) => self.expr(&g.expr, false),
            Expr::GetItem(g) => {
                self.expr(&g.expr, false);
                self.expr(&g.subscript_expr, false);
            }
            Expr::Call(c) => self.call(c),
            Expr::List(l) => {
                // Nested literals become mutable with the outer one.
                for item in &l.items {
                    self.expr(item, false);
                }
                if kept {
                    self.push(expr.span().end_offset as usize, 0, MUTABLE);
                }
            }
            Expr::Map(m) => {
                for (k, v) in m.keys.iter().zip(&m.values) {
                    self.expr(k, false);
                    self.expr(v, false);
                }
                if kept {
                    self.push(expr.span().end_offset as usize, 0, MUTABLE);
                }
            }
            Expr::Tuple(t) => {
                for item in &t.items {
                    self.expr(item, kept);
                }
            }
        }
    }

    fn binop(&mut self, b: &ast::BinOp<'_>, span: minijinja::machinery::Span, kept: bool) {
        let filter = match b.op {
            BinOpKind::Add if may_be_temporal(&b.left) && may_be_temporal(&b.right) => {
                Some(("+", ")|__hj_add("))
            }
            BinOpKind::Sub if may_be_temporal(&b.left) && may_be_temporal(&b.right) => {
                Some(("-", ")|__hj_sub("))
            }
            BinOpKind::Rem if may_be_string(&b.left) => Some(("%", ")|__hj_mod(")),
            _ => None,
        };
        let operator = filter.and_then(|(op, _)| self.operator_at(&b.left, op));
        let (Some((_, call)), Some(op_at)) = (filter, operator) else {
            // `x or []` keeps whichever side it returns.
            let keeps = kept && matches!(b.op, BinOpKind::ScAnd | BinOpKind::ScOr);
            self.expr(&b.left, keeps);
            self.expr(&b.right, keeps);
            return;
        };
        self.push(span.start_offset as usize, 0, "((");
        self.expr(&b.left, false);
        self.push(op_at, 1, call);
        self.expr(&b.right, false);
        self.push(span.end_offset as usize, 0, "))");
    }

    /// Byte offset of the operator after `left` (past closing parentheses
    /// and whitespace), if it is the expected one.
    fn operator_at(&self, left: &Expr<'_>, op: &str) -> Option<usize> {
        let from = left.span().end_offset as usize;
        let rest = self.text.get(from..)?;
        let skip = rest.find(|c: char| !(c.is_whitespace() || c == ')'))?;
        rest[skip..].starts_with(op).then_some(from + skip)
    }
}

/// Could this operand be a datetime or timedelta? Literals, comparisons,
/// arithmetic other than `+`/`-`, `~`, loop counters and filters that
/// return numbers or strings cannot.
fn may_be_temporal(e: &Expr<'_>) -> bool {
    match e {
        Expr::Const(_)
        | Expr::List(_)
        | Expr::Map(_)
        | Expr::Tuple(_)
        | Expr::Compare(_)
        | Expr::Test(_)
        | Expr::Slice(_) => false,
        Expr::BinOp(b) => matches!(
            b.op,
            BinOpKind::Add | BinOpKind::Sub | BinOpKind::ScAnd | BinOpKind::ScOr
        ),
        Expr::UnaryOp(u) => matches!(u.op, ast::UnaryOpKind::Neg) && may_be_temporal(&u.expr),
        Expr::GetAttr(g) => !matches!(&g.expr, Expr::Var(v) if v.id == "loop"),
        Expr::Filter(f) => !NON_TEMPORAL_FILTERS.contains(&f.name),
        Expr::Var(_) | Expr::GetItem(_) | Expr::Call(_) | Expr::IfExpr(_) => true,
    }
}

const NON_TEMPORAL_FILTERS: &[&str] = &[
    "abs",
    "capitalize",
    "count",
    "float",
    "int",
    "join",
    "length",
    "list",
    "lower",
    "replace",
    "round",
    "string",
    "title",
    "tojson",
    "trim",
    "upper",
];

/// Could this left operand of `%` be a string (so `%` formats)?
fn may_be_string(e: &Expr<'_>) -> bool {
    match e {
        Expr::Const(c) => c.value.as_str().is_some(),
        Expr::List(_)
        | Expr::Map(_)
        | Expr::Tuple(_)
        | Expr::Compare(_)
        | Expr::Test(_)
        | Expr::UnaryOp(_) => false,
        Expr::BinOp(b) => matches!(
            b.op,
            BinOpKind::Add | BinOpKind::Concat | BinOpKind::ScAnd | BinOpKind::ScOr
        ),
        Expr::Filter(f) => !matches!(f.name, "int" | "float" | "length" | "count" | "abs"),
        Expr::GetAttr(g) => !matches!(&g.expr, Expr::Var(v) if v.id == "loop"),
        Expr::Var(_) | Expr::GetItem(_) | Expr::Call(_) | Expr::IfExpr(_) | Expr::Slice(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(text: &str) -> String {
        rewrite(text.to_string())
    }

    fn candidate(text: &str) -> bool {
        let mut at = 0;
        while let Some(tag) = next_tag(text, at) {
            if tag.scan.operator || tag.scan.literal {
                return true;
            }
            at = tag.end;
        }
        false
    }

    #[test]
    fn arithmetic_that_may_involve_datetimes_becomes_a_filter() {
        assert_eq!(rw("{{ a - b }}"), "{{ ((a )|__hj_sub( b)) }}");
        assert_eq!(
            rw("{{ (now() - d) - x.y }}"),
            "{{ (((((now() )|__hj_sub( d))) )|__hj_sub( x.y)) }}"
        );
        assert_eq!(
            rw("{{ a + (b - c) }}"),
            "{{ ((a )|__hj_add( (((b )|__hj_sub( c))))) }}"
        );
        // Literals and loop counters keep the plain operator.
        let plain =
            "{{ a - 1 }}{{ 'x' + y }}{{ loop.index - i }}{{ n|length - m }}{% set x = [1] + y %}";
        assert_eq!(rw(plain), plain);
    }

    #[test]
    fn line_breaks_stay_in_place() {
        let out = rw("{{ a\n -\n b }}\n{{ c }}");
        assert_eq!(out.matches('\n').count(), 3);
        assert_eq!(out, "{{ ((a\n )|__hj_sub(\n b)) }}\n{{ c }}");
    }

    #[test]
    fn percent_formatting_becomes_a_filter() {
        assert_eq!(
            rw("{{ '%s_%s' % (a, b.c) }} and 100 % 7 '%' % x"),
            "{{ (('%s_%s' )|__hj_mod( (a, b.c))) }} and 100 % 7 '%' % x"
        );
        assert_eq!(
            rw("{% set n = '%(n)d rows' % {'n': count(x)} %}"),
            "{% set n = (('%(n)d rows' )|__hj_mod( {'n': count(x)})) %}"
        );
        assert_eq!(
            rw("{{ 7 % n }}{{ loop.index % 2 }}"),
            "{{ 7 % n }}{{ loop.index % 2 }}"
        );
        let strptime = "{{ strptime('2024-02-03', '%Y-%m-%d') }}";
        assert_eq!(rw(strptime), strptime);
    }

    #[test]
    fn kept_literals_become_mutable() {
        assert_eq!(
            rw("{%- set cols = [] -%}{% set d = {'a': [1]} %}{% set y = [1] + z %}"),
            "{%- set cols = []|__hj_mutable -%}{% set d = {'a': [1]}|__hj_mutable %}{% set y = [1] + z %}"
        );
        assert_eq!(
            rw("{% macro m(cols=[], opts={}) %}{% do f(x, [1], k={}) %}{% endmacro %}"),
            "{% macro m(cols=[]|__hj_mutable, opts={}|__hj_mutable) %}{% do f(x, [1]|__hj_mutable, k={}|__hj_mutable) %}{% endmacro %}"
        );
        assert_eq!(
            rw("{% set x = y or [] %}{% set z = [] if c else {} %}"),
            "{% set x = y or []|__hj_mutable %}{% set z = []|__hj_mutable if c else {}|__hj_mutable %}"
        );
        // Read-only uses stay plain.
        let plain = "{% for c in ['a', 'b'] %}{{ c in ['x'] }}{{ ['a']|join(',') }}{% endfor %}";
        assert_eq!(rw(plain), plain);
    }

    #[test]
    fn untouched_templates_are_not_parsed() {
        assert!(!candidate(
            "select {{ ref('a') }} {%- if x -%} {{ y['k'] }} {% endif %} -- 100 % + - { ["
        ));
        assert!(!candidate(
            "{{ \"a-b\" ~ '%Y-%m' }}{{ f(x)[0] }}{# {{ a - b }} #}"
        ));
        assert!(!candidate(
            "{% raw %}{{ a - b }}{% set x = [] %}{% endraw %}"
        ));
        assert!(candidate("{{ a - b }}"));
        assert!(candidate("{% set x = [] %}"));
        assert!(candidate("{{ '%s' % x }}"));
        // Unary signs and literal operands cannot involve datetimes.
        assert!(!candidate(
            "{{ -x }}{{ a - 1 }}{{ 2 + b }}{{ 'a' + b }}{{ 7 % 3 }}{% if not -x %}"
        ));
        assert!(candidate("{{ f(x) - y }}"));
        assert!(candidate("{{ x[0] + y }}"));
        // Broken tags are left for the compiler to report.
        assert_eq!(
            rw("{{ a - }}{{ b - c }}"),
            "{{ a - }}{{ ((b )|__hj_sub( c)) }}"
        );
    }

    #[test]
    fn common_literals_need_no_parse() {
        let content = |t: &'static str| t;
        let scan = |t: &str| scan_tag(t.as_bytes(), 0, b"%}").expect("closed").1;
        assert_eq!(
            plain_set_literal(
                content("set cols = ['a', {'b': [1]}]"),
                &scan("set cols = ['a', {'b': [1]}] %}")
            ),
            Some(28)
        );
        assert_eq!(
            plain_set_literal("set cols = [f(1)]", &scan("set cols = [f(1)] %}")),
            None
        );
        assert_eq!(
            plain_set_literal("set cols = [1] + x", &scan("set cols = [1] + x %}")),
            None
        );
        assert_eq!(
            rw("{%- set d = {'a': []} -%}{{ config(tags=['x'], meta={'k': [1]}) }}"),
            "{%- set d = {'a': []}|__hj_mutable -%}{{ config(tags=['x'], meta={'k': [1]}) }}"
        );
    }

    #[test]
    fn argument_literals_are_found_without_parsing() {
        assert_eq!(
            argument_literals("f(x, [1], k={'a': [2]})"),
            Some(vec![8, 22])
        );
        assert_eq!(argument_literals("for c in ['a', 'b']"), Some(vec![]));
        assert_eq!(argument_literals("['a']|join(',')"), Some(vec![]));
        assert_eq!(argument_literals("f(['a'][0], x['k'])"), Some(vec![]));
        assert_eq!(argument_literals("f(x == [1])"), None);
        assert_eq!(argument_literals("set x = y or []"), None);
        // Both ways agree.
        for text in [
            "{{ dbt_utils.star(from=ref('a'), except=['x', 'y']) }}",
            "{{ f(['a'][0], [[1], {}], k=({}, [])) }}",
            "{% for x in f([1]) %}{% endfor %}",
        ] {
            let tag = next_tag(text, 0).expect("tag");
            let mut parsed = rewrite_tag(text, &tag);
            parsed.sort_by_key(|e| e.at);
            let (offset, content) = tag_content(text, &tag);
            let scanned: Vec<usize> = argument_literals(content)
                .expect("classified")
                .into_iter()
                .map(|e| e + offset)
                .collect();
            assert_eq!(
                parsed.iter().map(|e| e.at).collect::<Vec<_>>(),
                scanned,
                "{text}"
            );
        }
    }

    #[test]
    fn block_tags_are_parsed_with_their_end() {
        assert_eq!(
            rw("{% for x in xs if x - y %}{% if a % 2 %}{% elif b - c %}{% endif %}{% endfor %}"),
            "{% for x in xs if ((x )|__hj_sub( y)) %}{% if ((a )|__hj_mod( 2)) %}{% elif ((b )|__hj_sub( c)) %}{% endif %}{% endfor %}"
        );
        assert_eq!(
            rw("{% call(r) m(items=[]) %}{{ r }}{% endcall %}{% with a = {} %}{% endwith %}"),
            "{% call(r) m(items=[]|__hj_mutable) %}{{ r }}{% endcall %}{% with a = {}|__hj_mutable %}{% endwith %}"
        );
        // Dict literals nest braces inside the tag.
        assert_eq!(
            rw("{{ f({'a': {'b': x - y}}) }}"),
            "{{ f({'a': {'b': ((x )|__hj_sub( y))}}|__hj_mutable) }}"
        );
    }

    #[test]
    fn odd_input_never_panics_and_keeps_lines() {
        let pieces = [
            "{{", "}}", "{%", "%}", "{#", "#}", "'", "\"", "é", "\n", " - ", "+", "%", "[", "]",
            "{", "}", "(", ")", "a", "1", "set x = ", "raw", "endraw", "-%}", "{%-", ",", "\\",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..(seed % 12) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            let out = rw(&text);
            assert_eq!(
                out.matches('\n').count(),
                text.matches('\n').count(),
                "{text:?}"
            );
        }
    }
}
