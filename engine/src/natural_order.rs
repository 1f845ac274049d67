//! Natural order of names that hold numbers: `docs.jsonl:4` before `docs.jsonl:12`, `ch2.md`
//! before `ch10.md`, as a person reads them (byte order put `:1000` to `:1009` before `:101`).

use std::cmp::Ordering;

/// `a` against `b`, runs of ASCII digits compared as numbers (leading zeros aside, then by
/// their zeros, so that no two different names compare equal), the rest byte by byte.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (number_a, rest_a) = split_digits(a);
                let (number_b, rest_b) = split_digits(b);
                let order = compare_numbers(number_a, number_b);
                if order != Ordering::Equal {
                    return order;
                }
                (a, b) = (rest_a, rest_b);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (a, b) = (&a[1..], &b[1..]);
            }
        }
    }
}

/// The run of ASCII digits `text` starts with, and what follows it.
fn split_digits(text: &[u8]) -> (&[u8], &[u8]) {
    let end = text
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

/// Two runs of digits as numbers of any length: fewer significant digits is smaller; equal
/// numbers order by their leading zeros (`1` before `01`).
fn compare_numbers(a: &[u8], b: &[u8]) -> Ordering {
    let (x, y) = (significant(a), significant(b));
    x.len()
        .cmp(&y.len())
        .then_with(|| x.cmp(y))
        .then_with(|| a.len().cmp(&b.len()))
}

/// `digits` without their leading zeros.
fn significant(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&d| d == b'0').count();
    &digits[zeros..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_names_order_as_numbers() {
        let mut names = vec![
            "docs.jsonl:12",
            "docs.jsonl:4",
            "docs.jsonl:1001",
            "docs.jsonl:101",
            "ch10.md",
            "ch2.md",
            "ch02.md",
            "b",
            "a99999999999999999999999999",
            "a100000000000000000000000000",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            [
                "a99999999999999999999999999",
                "a100000000000000000000000000",
                "b",
                "ch2.md",
                "ch02.md",
                "ch10.md",
                "docs.jsonl:4",
                "docs.jsonl:12",
                "docs.jsonl:101",
                "docs.jsonl:1001",
            ]
        );
        assert_eq!(natural_cmp("x1", "x01"), Ordering::Less);
        assert_eq!(natural_cmp("same", "same"), Ordering::Equal);
    }
}
