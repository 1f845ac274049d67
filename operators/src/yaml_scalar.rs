//! YAML read into JSON values, shared by pipeline files and Markdown front matter: scalars typed
//! by the YAML 1.2 core schema, and the size of what was read.

use serde_json::{Number, Value};

/// A scalar typed by the YAML 1.2 core schema: `null`, booleans, integers (decimal, `0x`, `0o`)
/// and floats when `plain` (unquoted, not a block scalar), else a string; the `str` and `null`
/// tags force theirs. `.inf` and `.nan` stay strings: JSON cannot hold them.
pub fn core_schema_scalar(text: &str, plain: bool, tag: Option<&str>) -> Value {
    match tag {
        Some("str") => return Value::String(text.to_owned()),
        Some("null") => return Value::Null,
        _ => {}
    }
    if !plain {
        return Value::String(text.to_owned());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(number) = integer(text) {
        return Value::Number(number);
    }
    if looks_like_float(text)
        && let Ok(float) = text.parse::<f64>()
        && let Some(number) = Number::from_f64(float)
    {
        return Value::Number(number);
    }
    Value::String(text.to_owned())
}

/// A core-schema integer: decimal, `0x` hexadecimal or `0o` octal, within 64 bits.
fn integer(text: &str) -> Option<Number> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(hex) = digits.strip_prefix("0x") {
        (16, hex)
    } else if let Some(octal) = digits.strip_prefix("0o") {
        (8, octal)
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        let signed = i64::try_from(magnitude).ok()?;
        Some(Number::from(-signed))
    } else {
        Some(Number::from(magnitude))
    }
}

/// Whether `text` is an optional sign and decimal digits (which [`core_schema_scalar`] types as
/// a float past 64 bits).
pub fn is_decimal_integer(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a plain scalar is written as a core-schema float (digits, a point, an exponent).
fn looks_like_float(text: &str) -> bool {
    let body = text.trim_start_matches(['-', '+']);
    !body.is_empty()
        && body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        && body.chars().any(|c| c.is_ascii_digit())
}

/// The values, bytes of keys and text, and nesting depth of a value (to bound what YAML
/// aliases can expand to).
pub fn measure(value: &Value) -> (usize, usize, usize) {
    match value {
        Value::Array(items) => items.iter().map(measure).fold((1, 0, 0), |acc, item| {
            (acc.0 + item.0, acc.1 + item.1, acc.2.max(item.2 + 1))
        }),
        Value::Object(map) => map.iter().fold((1, 0, 0), |acc, (key, item)| {
            let item = measure(item);
            (
                acc.0 + item.0,
                acc.1 + key.len() + item.1,
                acc.2.max(item.2 + 1),
            )
        }),
        Value::String(text) => (1, text.len(), 0),
        _ => (1, 8, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::{core_schema_scalar, is_decimal_integer};
    use serde_json::json;

    #[test]
    fn types_plain_scalars_by_the_core_schema() {
        let typed = |text: &str| core_schema_scalar(text, true, None);
        assert_eq!(typed("2020"), json!(2020));
        assert_eq!(typed("-0x10"), json!(-16));
        assert_eq!(
            typed("18446744073709551615"),
            json!(18446744073709551615u64)
        );
        assert_eq!(typed("1.10"), json!(1.1));
        assert_eq!(typed("1e3"), json!(1000.0));
        assert_eq!(
            typed("123456789012345678901234"),
            json!(1.2345678901234568e23)
        );
        assert_eq!(typed(".inf"), json!(".inf"));
        assert_eq!(core_schema_scalar("2020", false, None), json!("2020"));
        assert!(is_decimal_integer("-123456789012345678901234"));
        assert!(!is_decimal_integer("1e3") && !is_decimal_integer("-") && !is_decimal_integer(""));
    }
}
