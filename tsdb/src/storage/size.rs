//! Storage sizes as people write them in configuration: `500 GB`, `1.5 TiB`, `1073741824`.

/// Why a size was refused; the message names the accepted form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a size such as `500 GB`, `1.5 TiB` or a number of bytes, got {0:?}")]
pub struct SizeError(pub String);

/// Parses a positive size: a number of bytes, or a number and a unit (`kB`/`MB`/`GB`/`TB`
/// in powers of 1000, `KiB`/`MiB`/`GiB`/`TiB` in powers of 1024; case does not matter).
pub fn parse_size(raw: &str) -> Result<u64, SizeError> {
    let refuse = || SizeError(raw.to_string());
    let text = raw.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let amount: f64 = number.parse().map_err(|_| refuse())?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" | "bytes" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(refuse()),
    };
    let bytes = amount * factor;
    if !bytes.is_finite() || bytes < 1.0 || bytes > i64::MAX as f64 {
        return Err(refuse());
    }
    Ok(bytes.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_decimal_and_binary_units() {
        assert_eq!(parse_size("500 GB"), Ok(500_000_000_000));
        assert_eq!(parse_size("1.5 TiB"), Ok(1_649_267_441_664));
        assert_eq!(parse_size(" 2gib "), Ok(2_147_483_648));
        assert_eq!(parse_size("1073741824"), Ok(1_073_741_824));
        assert_eq!(parse_size("10 MB"), Ok(10_000_000));
    }

    #[test]
    fn refuses_what_is_not_a_positive_size() {
        for bad in [
            "", "GB", "-5 GB", "0", "5 GBs", "1e3 GB", "five", "1.2.3 GB", "9e30",
        ] {
            let error = parse_size(bad).expect_err(bad);
            assert!(error.to_string().contains("500 GB"), "{error}");
        }
    }
}
