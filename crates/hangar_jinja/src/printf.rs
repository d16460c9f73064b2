//! Python's `%` string formatting (`'%s and %(n)d' % operand`) and the
//! `str()` / `repr()` of values that `%s` / `%r` print.
//!
//! Parsing, argument lookup and `%s`/`%r` follow CPython; numeric
//! conversions hand one spec at a time to minijinja's printf formatter, which
//! implements Python's flags, width and precision rules.

use minijinja::formatting::{FormatStyle, format as format_one};
use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

use crate::modules::{DateTime, Timedelta};
use crate::mutable::{MutableDict, MutableList};

fn bad(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Widths and precisions beyond this are refused rather than allocated.
const MAX_WIDTH: usize = u16::MAX as usize;

/// One `%…` conversion as written.
#[derive(Debug, Default)]
struct Spec<'a> {
    key: Option<&'a str>,
    flags: &'a str,
    width: Option<usize>,
    precision: Option<usize>,
    conversion: char,
    /// Byte index of the conversion character in the format string.
    index: usize,
}

impl Spec<'_> {
    fn left_aligned(&self) -> bool {
        self.flags.contains('-')
    }

    /// The spec again, in the form minijinja's printf formatter reads.
    fn printf(&self, conversion: char) -> String {
        let mut out = format!("%{}", self.flags);
        if let Some(w) = self.width {
            out.push_str(&w.to_string());
        }
        if let Some(p) = self.precision {
            out.push('.');
            out.push_str(&p.to_string());
        }
        out.push(conversion);
        out
    }
}

/// Where conversions take their values from.
struct Operands<'v> {
    operand: &'v Value,
    positional: Vec<Value>,
    next: usize,
}

impl<'v> Operands<'v> {
    /// A tuple supplies one value per conversion; anything else is the single
    /// value (a mapping also answers `%(key)s`).
    fn new(operand: &'v Value) -> Result<Self, Error> {
        let positional = if operand.is_tuple() {
            operand.try_iter()?.collect()
        } else {
            vec![operand.clone()]
        };
        Ok(Operands {
            operand,
            positional,
            next: 0,
        })
    }

    fn is_mapping(&self) -> bool {
        self.operand.kind() == ValueKind::Map && !self.operand.is_tuple()
    }

    fn next_positional(&mut self) -> Result<Value, Error> {
        let v = self
            .positional
            .get(self.next)
            .cloned()
            .ok_or_else(|| bad("not enough arguments for format string"))?;
        self.next += 1;
        Ok(v)
    }

    fn by_key(&self, key: &str) -> Result<Value, Error> {
        if !self.is_mapping() {
            return Err(bad(format!(
                "format requires a mapping: `%({key})…` needs a dict on the right of `%`, not {}",
                type_name(self.operand)
            )));
        }
        let v = self.operand.get_item(&Value::from(key))?;
        if v.is_undefined() {
            return Err(bad(format!(
                "format key '{key}' not found in the mapping (KeyError: '{key}')"
            )));
        }
        Ok(v)
    }

    /// Python rejects leftover positional values, except for a mapping.
    fn check_all_used(&self) -> Result<(), Error> {
        if self.next < self.positional.len() && !self.is_mapping() {
            return Err(bad("not all arguments converted during string formatting"));
        }
        Ok(())
    }
}

/// `fmt % operand` as Python evaluates it for a string `fmt`.
pub(crate) fn percent_format(fmt: &str, operand: &Value) -> Result<String, Error> {
    let mut operands = Operands::new(operand)?;
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut rest = fmt;
    let mut used_key = false;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let at = fmt.len() - rest.len() + pos;
        let (spec, after) = parse_spec(&rest[pos + 1..], at, &mut operands)?;
        rest = after;
        if spec.conversion == '%' {
            out.push('%');
            continue;
        }
        let value = match spec.key {
            Some(key) => {
                used_key = true;
                operands.by_key(key)?
            }
            None => operands.next_positional()?,
        };
        out.push_str(&convert(&spec, &value)?);
    }
    out.push_str(rest);
    if !used_key {
        operands.check_all_used()?;
    }
    Ok(out)
}

/// Parses what follows a `%`: `[(key)][flags][width][.precision][hlL]type`.
/// `*` width/precision take the next positional value, as in Python.
fn parse_spec<'f>(
    text: &'f str,
    at: usize,
    operands: &mut Operands<'_>,
) -> Result<(Spec<'f>, &'f str), Error> {
    let incomplete = || bad(format!("incomplete format at index {at}"));
    let mut spec = Spec::default();
    let mut rest = text;
    if let Some(inner) = rest.strip_prefix('(') {
        let close = matching_paren(inner).ok_or_else(|| bad("incomplete format key"))?;
        spec.key = Some(&inner[..close]);
        rest = &inner[close + 1..];
    }
    let flags_len = rest
        .find(|c: char| !"-+ #0".contains(c))
        .unwrap_or(rest.len());
    spec.flags = &rest[..flags_len];
    rest = &rest[flags_len..];
    (spec.width, rest) = parse_count(rest, operands)?;
    if let Some(after_dot) = rest.strip_prefix('.') {
        let (precision, after) = parse_count(after_dot, operands)?;
        spec.precision = Some(precision.unwrap_or(0));
        rest = after;
    }
    rest = rest.trim_start_matches(['h', 'l', 'L']);
    let conversion = rest.chars().next().ok_or_else(incomplete)?;
    spec.conversion = conversion;
    spec.index = at + 1 + (text.len() - rest.len());
    Ok((spec, &rest[conversion.len_utf8()..]))
}

/// Index of the `)` closing a `%(` key; keys may hold balanced parentheses.
fn matching_paren(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some(i),
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// A width or precision: digits, `*` (taken from the operands) or nothing.
fn parse_count<'f>(
    text: &'f str,
    operands: &mut Operands<'_>,
) -> Result<(Option<usize>, &'f str), Error> {
    if let Some(after) = text.strip_prefix('*') {
        let v = operands.next_positional()?;
        let n = v
            .as_i64()
            .filter(|_| v.is_integer())
            .ok_or_else(|| bad("* wants int"))?;
        let n = usize::try_from(n.max(0))
            .ok()
            .filter(|&n| n <= MAX_WIDTH)
            .ok_or_else(|| bad("width or precision too big"))?;
        return Ok((Some(n), after));
    }
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    if digits == 0 {
        return Ok((None, text));
    }
    let n = text[..digits]
        .parse()
        .ok()
        .filter(|&n| n <= MAX_WIDTH)
        .ok_or_else(|| bad("width or precision too big"))?;
    Ok((Some(n), &text[digits..]))
}

fn convert(spec: &Spec<'_>, value: &Value) -> Result<String, Error> {
    match spec.conversion {
        's' => Ok(pad(spec, python_str(value))),
        'r' | 'a' => Ok(pad(spec, python_repr(value))),
        'c' => Ok(pad(spec, character(value)?)),
        'd' | 'i' | 'u' => format_one(
            FormatStyle::Printf,
            &spec.printf('d'),
            &[integer(value, spec.conversion, true)?],
        ),
        c @ ('o' | 'x' | 'X') => format_one(
            FormatStyle::Printf,
            &spec.printf(c),
            &[integer(value, c, false)?],
        ),
        c @ ('e' | 'E' | 'f' | 'F' | 'g' | 'G') => {
            format_one(FormatStyle::Printf, &spec.printf(c), &[real(value)?])
        }
        c => Err(bad(format!(
            "unsupported format character '{c}' (0x{:x}) at index {}",
            c as u32, spec.index
        ))),
    }
}

/// Precision cuts a string, width pads it (right-aligned unless `-`).
fn pad(spec: &Spec<'_>, text: String) -> String {
    let text = match spec.precision {
        Some(p) => text.chars().take(p).collect(),
        None => text,
    };
    let len = text.chars().count();
    let width = spec.width.unwrap_or(0);
    if len >= width {
        return text;
    }
    let fill = " ".repeat(width - len);
    if spec.left_aligned() {
        text + &fill
    } else {
        fill + &text
    }
}

/// `%d` takes any real number (truncated); `%x`/`%o` only integers.
fn integer(value: &Value, conversion: char, allow_float: bool) -> Result<Value, Error> {
    match value.kind() {
        ValueKind::Bool => Ok(Value::from(value.is_true() as i64)),
        ValueKind::Number if value.is_integer() => Ok(value.clone()),
        ValueKind::Number if allow_float => {
            let f = f64::try_from(value.clone())?;
            if !f.is_finite() {
                return Err(bad(format!("cannot convert float {f} to integer")));
            }
            Ok(Value::from(f.trunc() as i128))
        }
        _ if allow_float => Err(bad(format!(
            "%{conversion} format: a real number is required, not {}",
            type_name(value)
        ))),
        _ => Err(bad(format!(
            "%{conversion} format: an integer is required, not {}",
            type_name(value)
        ))),
    }
}

fn real(value: &Value) -> Result<Value, Error> {
    match value.kind() {
        ValueKind::Bool => Ok(Value::from(value.is_true() as i64 as f64)),
        ValueKind::Number => Ok(Value::from(f64::try_from(value.clone())?)),
        _ => Err(bad(format!(
            "must be real number, not {}",
            type_name(value)
        ))),
    }
}

fn character(value: &Value) -> Result<String, Error> {
    if let Some(s) = value.as_str() {
        let mut chars = s.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return Ok(c.to_string());
        }
        return Err(bad("%c requires an int or a unicode character"));
    }
    value
        .as_i64()
        .filter(|_| value.is_integer())
        .and_then(|n| u32::try_from(n).ok())
        .and_then(char::from_u32)
        .map(String::from)
        .ok_or_else(|| bad("%c requires an int or a unicode character"))
}

/// Python's name for a value's type, for error messages.
fn type_name(value: &Value) -> &'static str {
    match value.kind() {
        ValueKind::Undefined => "Undefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if value.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Seq if value.is_tuple() => "tuple",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        _ => "object",
    }
}

/// Python's `str()` of a float: shortest round-trip form, with an exponent
/// outside `1e-4 <= |f| < 1e16`.
fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let debug = format!("{f:?}");
    match debug.split_once('e') {
        Some((mantissa, exp)) => {
            let exp: i32 = exp.parse().unwrap_or(0);
            format!("{mantissa}e{exp:+03}")
        }
        None => debug,
    }
}

/// Lists and dicts built by templates or data print Python-style; other
/// objects (relations, datetimes) print as they render.
enum Container {
    Tuple,
    List,
    Dict,
}

fn container(value: &Value) -> Option<Container> {
    if value.is_tuple() {
        Some(Container::Tuple)
    } else if value.downcast_object_ref::<Vec<Value>>().is_some()
        || value.downcast_object_ref::<MutableList>().is_some()
    {
        Some(Container::List)
    } else if value
        .downcast_object_ref::<indexmap::IndexMap<Value, Value>>()
        .is_some()
        || value.downcast_object_ref::<MutableDict>().is_some()
        || value.is_kwargs()
    {
        Some(Container::Dict)
    } else {
        None
    }
}

/// Python's `str(value)`.
pub(crate) fn python_str(value: &Value) -> String {
    match value.kind() {
        ValueKind::Undefined => String::new(),
        ValueKind::None => "None".into(),
        ValueKind::Bool if value.is_true() => "True".into(),
        ValueKind::Bool => "False".into(),
        ValueKind::Number if !value.is_integer() => {
            f64::try_from(value.clone()).map_or_else(|_| value.to_string(), python_float)
        }
        ValueKind::String => value.as_str().unwrap_or_default().to_string(),
        _ => match container(value) {
            Some(kind) => container_repr(value, kind),
            None => value.to_string(),
        },
    }
}

/// Python's `repr(value)`.
pub(crate) fn python_repr(value: &Value) -> String {
    if let Some(dt) = value.downcast_object_ref::<DateTime>() {
        return dt.python_repr();
    }
    if let Some(td) = value.downcast_object_ref::<Timedelta>() {
        return td.python_repr();
    }
    match value.kind() {
        ValueKind::Undefined => "Undefined".into(),
        ValueKind::String => py_str_repr(value.as_str().unwrap_or_default()),
        _ => python_str(value),
    }
}

fn container_repr(value: &Value, kind: Container) -> String {
    let Ok(items) = value.try_iter() else {
        return value.to_string();
    };
    match kind {
        Container::Dict => {
            let pairs: Vec<String> = items
                .map(|k| {
                    let v = value.get_item(&k).unwrap_or_default();
                    format!("{}: {}", python_repr(&k), python_repr(&v))
                })
                .collect();
            format!("{{{}}}", pairs.join(", "))
        }
        Container::List => {
            let items: Vec<String> = items.map(|v| python_repr(&v)).collect();
            format!("[{}]", items.join(", "))
        }
        Container::Tuple => {
            let items: Vec<String> = items.map(|v| python_repr(&v)).collect();
            match items.as_slice() {
                [one] => format!("({one},)"),
                _ => format!("({})", items.join(", ")),
            }
        }
    }
}

/// Python's `repr()` of a `str`: single quotes unless the text holds a
/// single quote and no double quote; backslashes and control characters
/// escaped.
pub fn py_str_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(f: &str, v: Value) -> String {
        percent_format(f, &v).unwrap_or_else(|e| format!("error: {}", e.detail().unwrap_or("")))
    }

    fn tuple(items: Vec<Value>) -> Value {
        Value::from(minijinja::value::Tuple::from(items))
    }

    #[test]
    fn positional_conversions() {
        assert_eq!(fmt("%s", Value::from("x")), "x");
        assert_eq!(
            fmt(
                "%s-%d-%i",
                tuple(vec![Value::from("a"), Value::from(3.9), Value::from(-2)])
            ),
            "a-3--2"
        );
        assert_eq!(
            fmt(
                "%05.2f|%-4d|%+d",
                tuple(vec![Value::from(2.71555), Value::from(7), Value::from(5)])
            ),
            "02.72|7   |+5"
        );
        assert_eq!(
            fmt(
                "%x %X %o %e",
                tuple(vec![
                    Value::from(255),
                    Value::from(255),
                    Value::from(8),
                    Value::from(1234.5)
                ])
            ),
            "ff FF 10 1.234500e+03"
        );
        assert_eq!(fmt("100%% of %s", Value::from(3)), "100% of 3");
        assert_eq!(
            fmt(
                "%5s|%-5s|%.2s",
                tuple(vec![
                    Value::from("ab"),
                    Value::from("ab"),
                    Value::from("abc")
                ])
            ),
            "   ab|ab   |ab"
        );
        assert_eq!(
            fmt("%*d", tuple(vec![Value::from(4), Value::from(7)])),
            "   7"
        );
        assert_eq!(
            fmt("%c%c", tuple(vec![Value::from(104), Value::from("i")])),
            "hi"
        );
    }

    #[test]
    fn python_str_and_repr() {
        assert_eq!(
            fmt(
                "%s %s %s",
                tuple(vec![Value::from(()), Value::from(true), Value::from(2.0)])
            ),
            "None True 2.0"
        );
        assert_eq!(fmt("%r", Value::from("it's")), "\"it's\"");
        assert_eq!(fmt("%r", Value::from("a\nb")), "'a\\nb'");
        let list = Value::from(vec![Value::from("a"), Value::from(1), Value::from(())]);
        assert_eq!(fmt("%s", list.clone()), "['a', 1, None]");
        assert_eq!(fmt("%s", tuple(vec![list])), "['a', 1, None]");
        let map = Value::from_pairs([("k", Value::from("v"))]);
        assert_eq!(fmt("%s", map), "{'k': 'v'}");
        assert_eq!(fmt("%s", tuple(vec![tuple(vec![Value::from(1)])])), "(1,)");
    }

    #[test]
    fn named_conversions() {
        let map = Value::from_pairs([("name", Value::from("x")), ("n", Value::from(3))]);
        assert_eq!(fmt("%(name)s and %(n)03d", map.clone()), "x and 003");
        assert_eq!(fmt("%(n)s%%", map.clone()), "3%");
        assert_eq!(fmt("no fields", map.clone()), "no fields");
        assert_eq!(
            fmt("%(missing)s", map),
            "error: format key 'missing' not found in the mapping (KeyError: 'missing')"
        );
        assert_eq!(
            fmt("%(a)s", tuple(vec![Value::from(1)])),
            "error: format requires a mapping: `%(a)…` needs a dict on the right of `%`, not tuple"
        );
    }

    #[test]
    fn errors_match_python() {
        assert_eq!(
            fmt("%s %s", Value::from(1)),
            "error: not enough arguments for format string"
        );
        assert_eq!(
            fmt("%s", tuple(vec![Value::from(1), Value::from(2)])),
            "error: not all arguments converted during string formatting"
        );
        assert_eq!(
            fmt("plain", Value::from(1)),
            "error: not all arguments converted during string formatting"
        );
        assert_eq!(
            fmt("%d", Value::from("3")),
            "error: %d format: a real number is required, not str"
        );
        assert_eq!(
            fmt("%x", Value::from(1.5)),
            "error: %x format: an integer is required, not float"
        );
        assert_eq!(
            fmt("%f", Value::from("x")),
            "error: must be real number, not str"
        );
        assert_eq!(
            fmt("%q", Value::from(1)),
            "error: unsupported format character 'q' (0x71) at index 1"
        );
        assert_eq!(
            fmt("ab %-5q", Value::from(1)),
            "error: unsupported format character 'q' (0x71) at index 6"
        );
        assert_eq!(
            fmt("ends with %", Value::from(1)),
            "error: incomplete format at index 10"
        );
        assert_eq!(
            fmt("%(open", Value::from_pairs([("a", 1)])),
            "error: incomplete format key"
        );
    }
}
