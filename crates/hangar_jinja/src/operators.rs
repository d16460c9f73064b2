//! Python's `+`, `-` and `%` where minijinja's own operators differ: the
//! pre-pass (`expressions.rs`) turns `a - b` into `((a)|__hj_sub(b))` when
//! either side could be a datetime, and `s % x` into `((s)|__hj_mod(x))`
//! when `s` could be a string. Numbers and strings take a fast path; any
//! other operands go to minijinja's own operator, so results and error
//! messages stay the engine's.

use std::sync::LazyLock;

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error, Expression};

use crate::modules::{temporal_add, temporal_sub};

/// Filters named by the pre-pass.
pub(crate) fn install(env: &mut Environment<'static>) {
    env.add_filter("__hj_add", add);
    env.add_filter("__hj_sub", sub);
    env.add_filter("__hj_mod", modulo);
    env.add_filter("__hj_mutable", crate::mutable::make_mutable);
}

fn add(lhs: &Value, rhs: &Value) -> Result<Value, Error> {
    if let Some(v) = integers(lhs, rhs, i128::checked_add) {
        return Ok(v);
    }
    if let Some(v) = floats(lhs, rhs, |a, b| a + b) {
        return Ok(v);
    }
    if let (ValueKind::String, ValueKind::String) = (lhs.kind(), rhs.kind()) {
        let (a, b) = (lhs.as_str().unwrap_or(""), rhs.as_str().unwrap_or(""));
        return Ok(Value::from([a, b].concat()));
    }
    temporal_add(lhs, rhs).unwrap_or_else(|| engine_op(&ENGINE_ADD, lhs, rhs))
}

fn sub(lhs: &Value, rhs: &Value) -> Result<Value, Error> {
    if let Some(v) = integers(lhs, rhs, i128::checked_sub) {
        return Ok(v);
    }
    if let Some(v) = floats(lhs, rhs, |a, b| a - b) {
        return Ok(v);
    }
    temporal_sub(lhs, rhs).unwrap_or_else(|| engine_op(&ENGINE_SUB, lhs, rhs))
}

/// A string on the left formats (Python's printf); otherwise the remainder.
fn modulo(lhs: &Value, rhs: &Value) -> Result<Value, Error> {
    if let Some(fmt) = lhs.as_str().filter(|_| lhs.kind() == ValueKind::String) {
        return crate::printf::percent_format(fmt, rhs).map(Value::from);
    }
    engine_op(&ENGINE_REM, lhs, rhs)
}

/// Both operands are plain integers: the engine's result, computed directly.
fn integers(lhs: &Value, rhs: &Value, op: fn(i128, i128) -> Option<i128>) -> Option<Value> {
    if !(lhs.is_integer() && rhs.is_integer()) {
        return None;
    }
    let a = lhs
        .as_i64()
        .map(i128::from)
        .or_else(|| i128::try_from(lhs.clone()).ok())?;
    let b = rhs
        .as_i64()
        .map(i128::from)
        .or_else(|| i128::try_from(rhs.clone()).ok())?;
    let result = op(a, b)?;
    Some(match i64::try_from(result) {
        Ok(small) => Value::from(small),
        Err(_) => Value::from(result),
    })
}

/// Both operands are numbers and one is a float: float arithmetic.
fn floats(lhs: &Value, rhs: &Value, op: fn(f64, f64) -> f64) -> Option<Value> {
    if lhs.kind() != ValueKind::Number || rhs.kind() != ValueKind::Number {
        return None;
    }
    if lhs.is_integer() && rhs.is_integer() {
        return None;
    }
    let a = f64::try_from(lhs.clone()).ok()?;
    let b = f64::try_from(rhs.clone()).ok()?;
    Some(Value::from(op(a, b)))
}

/// The engine's operators, for operands the fast paths do not cover
/// (sequences, undefined values, type errors).
static ENGINE: LazyLock<Environment<'static>> = LazyLock::new(Environment::new);
static ENGINE_ADD: LazyLock<Option<Expression<'static, 'static>>> =
    LazyLock::new(|| ENGINE.compile_expression("a + b").ok());
static ENGINE_SUB: LazyLock<Option<Expression<'static, 'static>>> =
    LazyLock::new(|| ENGINE.compile_expression("a - b").ok());
static ENGINE_REM: LazyLock<Option<Expression<'static, 'static>>> =
    LazyLock::new(|| ENGINE.compile_expression("a % b").ok());

fn engine_op(
    expr: &LazyLock<Option<Expression<'static, 'static>>>,
    a: &Value,
    b: &Value,
) -> Result<Value, Error> {
    match expr.as_ref() {
        Some(expr) => expr.eval(minijinja::context! { a => a.clone(), b => b.clone() }),
        None => Err(Error::new(
            minijinja::ErrorKind::InvalidOperation,
            "internal error: operator expression did not compile",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add_owned(a: Value, b: Value) -> Result<Value, Error> {
        add(&a, &b)
    }

    fn sub_owned(a: Value, b: Value) -> Result<Value, Error> {
        sub(&a, &b)
    }

    fn modulo_owned(a: Value, b: Value) -> Result<Value, Error> {
        modulo(&a, &b)
    }

    #[test]
    fn numbers_strings_and_sequences_behave_as_the_engine() {
        let v = |x: i64| Value::from(x);
        assert_eq!(add_owned(v(2), v(3)).ok(), Some(v(5)));
        assert_eq!(sub_owned(v(2), v(3)).ok(), Some(v(-1)));
        assert_eq!(
            add_owned(Value::from(i64::MAX), v(1)).ok(),
            Some(Value::from(i64::MAX as i128 + 1))
        );
        assert_eq!(
            add_owned(Value::from(1.5), v(1)).ok(),
            Some(Value::from(2.5))
        );
        assert_eq!(
            sub_owned(v(1), Value::from(0.5)).ok(),
            Some(Value::from(0.5))
        );
        assert_eq!(
            add_owned(Value::from("a"), Value::from("b")).ok(),
            Some(Value::from("ab"))
        );
        let list = add_owned(Value::from(vec![1]), Value::from(vec![2])).expect("concat");
        assert_eq!(list.to_string(), "[1, 2]");
        assert_eq!(modulo_owned(v(7), v(-3)).ok(), Some(v(-2)));
        assert_eq!(
            modulo_owned(Value::from("%s!"), Value::from("hi")).ok(),
            Some(Value::from("hi!"))
        );
        let err = sub_owned(Value::from("a"), v(1)).expect_err("type error");
        assert_eq!(
            err.detail(),
            Some("tried to use - operator on unsupported types string and number")
        );
    }
}
