//! Human-readable numbers for terminal output.

use std::time::Duration;

/// A byte count in binary units: `512 B`, `1.50 KiB`, `98.23 MiB`, `3.10 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}

/// A large count with an SI suffix, as model sizes are quoted: `812`, `134.52 M`, `1.24 B`.
pub fn count(n: u64) -> String {
    const UNITS: [(f64, &str); 4] = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")];
    UNITS
        .iter()
        .find(|(scale, _)| n as f64 >= *scale)
        .map_or_else(
            || n.to_string(),
            |(scale, unit)| format!("{:.2} {unit}", n as f64 / scale),
        )
}

/// A tensor shape in ggml order: `[576, 49152]`.
pub fn shape(dims: &[u64]) -> String {
    let inner: Vec<String> = dims.iter().map(u64::to_string).collect();
    format!("[{}]", inner.join(", "))
}

/// A duration in seconds with one decimal (`12.3 s`), or milliseconds below one second.
pub fn duration(d: Duration) -> String {
    if d.as_secs_f64() < 1.0 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.50 KiB");
        assert_eq!(bytes(3 * 1024 * 1024), "3.00 MiB");
        assert_eq!(bytes(u64::MAX), "16384.00 PiB");
    }

    #[test]
    fn counts() {
        assert_eq!(count(812), "812");
        assert_eq!(count(134_515_008), "134.52 M");
        assert_eq!(count(1_240_000_000), "1.24 B");
    }

    #[test]
    fn shapes() {
        assert_eq!(shape(&[576, 49152]), "[576, 49152]");
        assert_eq!(shape(&[]), "[]");
    }
}
