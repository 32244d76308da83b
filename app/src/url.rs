//! Percent-encoding for the links and redirects the console builds itself.

/// Percent-encodes `text` for a URL path segment or query value; `/` stays as it is when
/// `keep_slash` (a whole path), everything but unreserved characters is escaped.
pub fn encode(text: &str, keep_slash: bool) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b'/' if keep_slash => "/".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn reserved_characters_are_escaped() {
        assert_eq!(
            encode("My Schema/\"x\"&y", false),
            "My%20Schema%2F%22x%22%26y"
        );
        assert_eq!(encode("/chunks?x=1", true), "/chunks%3Fx%3D1");
    }
}
