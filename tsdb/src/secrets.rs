//! Masking what looks like a secret in text the console shows or sends: a job's error
//! (a connection string with its password, raised by a user job), a job's configuration
//! (an `api_key` value). Applied where the text is read from the database, so no page,
//! REST answer, alert or webhook carries it, whoever asks.

/// What a secret is replaced with.
pub const MASK: &str = "•••";

/// Words that name a secret in `key=value`, `key: value` or a JSON key.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "access_key",
    "private_key",
    "credential",
];

/// Whether a configuration key names a secret (`api_key`, `webhookSecret`, `DB_PASSWORD`).
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| key.contains(w)) || key == "key" || key.ends_with("_key")
}

/// `text` with the password of every URL (`postgres://user:pw@host`) and the value of
/// every `password=…` / `token: …`-like pair masked.
pub fn mask(text: &str) -> String {
    mask_pairs(&mask_urls(text))
}

fn mask_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| {
                c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"' || c == '\''
            })
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at_sign) => {
                let userinfo = &authority[..at_sign];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..=colon]);
                        out.push_str(MASK);
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at_sign..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn mask_pairs(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let word = SECRET_WORDS
            .iter()
            .find(|w| lower[i..].starts_with(*w) && text.is_char_boundary(i + w.len()));
        let Some(word) = word else {
            let c = text[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
            continue;
        };
        // The word may continue (`password_file`): take the whole key.
        let mut key_end = i + word.len();
        while key_end < text.len()
            && (bytes[key_end].is_ascii_alphanumeric() || bytes[key_end] == b'_')
        {
            key_end += 1;
        }
        let mut j = key_end;
        while j < text.len() && bytes[j] == b' ' {
            j += 1;
        }
        let separated = j < text.len() && (bytes[j] == b'=' || bytes[j] == b':');
        if !separated {
            out.push_str(&text[i..key_end]);
            i = key_end;
            continue;
        }
        j += 1;
        while j < text.len() && bytes[j] == b' ' {
            j += 1;
        }
        let quote = (j < text.len() && (bytes[j] == b'\'' || bytes[j] == b'"')).then(|| bytes[j]);
        let value_start = if quote.is_some() { j + 1 } else { j };
        let mut value_end = value_start;
        while value_end < text.len() {
            let b = bytes[value_end];
            let stop = match quote {
                Some(q) => b == q,
                None => {
                    b.is_ascii_whitespace()
                        || matches!(b, b',' | b';' | b'&' | b')' | b'}' | b'"' | b'\'')
                }
            };
            if stop {
                break;
            }
            value_end += 1;
        }
        out.push_str(&text[i..value_start]);
        if value_end > value_start {
            out.push_str(MASK);
        }
        i = value_end;
    }
    out
}

/// A job's configuration (JSON text) with the values of secret-named keys masked and
/// every string value's URL passwords masked; text that is not JSON is masked as text.
pub fn mask_config(config: &str) -> String {
    fn walk(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map.iter_mut() {
                    if is_secret_key(key) && !inner.is_null() {
                        *inner = serde_json::Value::String(MASK.into());
                    } else {
                        walk(inner);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            serde_json::Value::String(text) => *text = mask(text),
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(config) {
        Ok(mut value) => {
            walk(&mut value);
            value.to_string()
        }
        Err(_) => mask(config),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_and_pairs_are_masked() {
        assert_eq!(
            mask("could not connect to postgres://app:s3cr3t@db:5432/plant: timeout"),
            "could not connect to postgres://app:•••@db:5432/plant: timeout"
        );
        assert_eq!(mask("https://user@host/x"), "https://user@host/x");
        assert_eq!(
            mask("host=db password=hunter2 user=app"),
            "host=db password=••• user=app"
        );
        assert_eq!(mask("API_KEY: 'abc def' rest"), "API_KEY: '•••' rest");
        assert_eq!(mask("token=abc,next=1"), "token=•••,next=1");
        assert_eq!(mask("the password is wrong"), "the password is wrong");
        assert_eq!(mask("naïve secret=ü1 ok"), "naïve secret=••• ok");
    }

    #[test]
    fn secret_keys_of_a_configuration_are_masked() {
        let config = r#"{"api_key":"k-123","endpoint":"https://u:p@x.example/hook","drop_after":"7 days","nested":{"webhookSecret":"s"},"retries":3}"#;
        let masked: serde_json::Value = serde_json::from_str(&mask_config(config)).unwrap();
        assert_eq!(masked["api_key"], MASK);
        assert_eq!(masked["endpoint"], "https://u:•••@x.example/hook");
        assert_eq!(masked["drop_after"], "7 days");
        assert_eq!(masked["nested"]["webhookSecret"], MASK);
        assert_eq!(masked["retries"], 3);
        assert!(is_secret_key("DB_PASSWORD"));
        assert!(!is_secret_key("hypertable_id"));
    }
}
