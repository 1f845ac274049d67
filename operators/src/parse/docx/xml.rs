//! Small helpers over quick-xml events shared by the DOCX part readers.

use quick_xml::events::{BytesRef, BytesStart};

/// The value of the attribute whose local name is `name` (namespace prefixes ignored).
pub(super) fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// The local name of an element.
pub(super) fn local(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_string()
}

/// The text an entity or character reference stands for (the five XML entities and
/// numeric references); unknown references are dropped.
pub(super) fn resolve(r: &BytesRef<'_>) -> Option<char> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c);
    }
    match r.as_ref() {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

/// Whether an on/off property is on: present without `w:val`, or with a value other than
/// `0`, `false` or `off` (`<w:vanish w:val="0"/>` turns hiding off).
pub(super) fn is_on(e: &BytesStart<'_>) -> bool {
    attr(e, "val").is_none_or(|v| !matches!(v.trim(), "0" | "false" | "off"))
}
