//! Roman numerals, as list labels write them.

/// `value` in lowercase roman numerals (decimal past 3999).
pub(crate) fn roman(value: u32) -> String {
    if value == 0 || value > 3999 {
        return value.to_string();
    }
    let mut n = value;
    let mut out = String::new();
    for (v, s) in [
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ] {
        while n >= v {
            out.push_str(s);
            n -= v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::roman;

    #[test]
    fn numerals_and_their_limits() {
        assert_eq!(roman(4), "iv");
        assert_eq!(roman(1994), "mcmxciv");
        assert_eq!(roman(0), "0");
        assert_eq!(roman(4000), "4000");
    }
}
