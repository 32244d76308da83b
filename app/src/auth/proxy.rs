//! Who sent a request, as far as the network can tell. Behind a reverse proxy the TCP peer
//! is the proxy: only when the peer is one of the configured trusted proxies are its
//! `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` believed; from anyone
//! else they are ignored, so a client cannot pick its own address (and dodge the
//! per-address sign-in throttle) or its own host (and pass the cross-site check).

use axum::http::HeaderMap;
use std::net::IpAddr;

/// An address range such as `10.0.0.0/8` or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Parses `10.0.0.0/8`, `::1`, `192.0.2.7`; the error names the accepted form.
    pub fn parse(raw: &str) -> Result<IpRange, String> {
        let accepted = || {
            format!("{raw:?} is not an IP address or range such as 10.0.0.0/8, 192.0.2.7 or ::1")
        };
        let (address, prefix) = match raw.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (raw.trim(), None),
        };
        let network: IpAddr = address.parse().map_err(|_| accepted())?;
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(text) => text
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(accepted)?,
            None => width,
        };
        Ok(IpRange { network, prefix })
    }

    /// Whether `address` lies in the range (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, address) {
            (IpAddr::V4(net), IpAddr::V4(addr)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(addr) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(addr)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(addr) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for IpRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The reverse proxies whose forwarding headers are believed (none by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<IpRange>);

/// The client as the request's own connection and trusted proxies describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarded {
    /// The client's address: the peer, or the nearest untrusted address a trusted proxy
    /// forwarded.
    pub client: IpAddr,
    /// `https` when a trusted proxy says the client used TLS, else `http` (the console
    /// itself serves plain HTTP).
    pub scheme: &'static str,
    /// The host the client asked for: a trusted proxy's `X-Forwarded-Host`, else `Host`.
    pub host: Option<String>,
}

impl TrustedProxies {
    /// Parses a comma-separated list of ranges, or `none`.
    pub fn parse(raw: &str) -> Result<TrustedProxies, String> {
        let raw = raw.trim();
        if raw.is_empty() || raw.eq_ignore_ascii_case("none") {
            return Ok(TrustedProxies::default());
        }
        raw.split(',')
            .map(IpRange::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(address))
    }

    /// Resolves the client of a request that arrived from `peer` with `headers`.
    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> Forwarded {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let host = text("host").map(str::to_string);
        if !self.trusts(peer) {
            return Forwarded {
                client: peer,
                scheme: "http",
                host,
            };
        }
        // Each proxy appends the address it received from: walking from the right, the
        // first address that is not a trusted proxy is the client. Every header line
        // counts, in order.
        let chain: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        let client = chain
            .iter()
            .rev()
            .find(|a| !self.trusts(**a))
            .or(chain.first())
            .copied()
            .unwrap_or(peer);
        // With several proxies the header may hold a list: the first is the client's.
        let first = |name: &str| {
            text(name)
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let scheme = match first("x-forwarded-proto") {
            Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
            _ => "http",
        };
        Forwarded {
            client,
            scheme,
            host: first("x-forwarded-host").map(str::to_string).or(host),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ranges_parse_and_match() {
        let range = IpRange::parse("10.0.0.0/8").unwrap();
        assert!(range.contains(ip("10.200.3.4")));
        assert!(range.contains(ip("::ffff:10.1.1.1")));
        assert!(!range.contains(ip("11.0.0.1")));
        assert!(IpRange::parse("0.0.0.0/0")
            .unwrap()
            .contains(ip("203.0.113.9")));
        assert!(IpRange::parse("::1").unwrap().contains(ip("::1")));
        assert!(!IpRange::parse("192.0.2.7")
            .unwrap()
            .contains(ip("192.0.2.8")));
        for bad in ["10.0.0.0/33", "proxy.local", "10.0.0/8", "::1/129", ""] {
            let error = IpRange::parse(bad).unwrap_err();
            assert!(error.contains("IP address or range"), "{bad}: {error}");
        }
        assert_eq!(
            TrustedProxies::parse("none").unwrap(),
            TrustedProxies::default()
        );
        assert_eq!(
            TrustedProxies::parse("127.0.0.1, 10.0.0.0/8")
                .unwrap()
                .0
                .len(),
            2
        );
        assert!(TrustedProxies::parse("127.0.0.1, nonsense").is_err());
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let forged = headers(&[
            ("host", "console.internal:3000"),
            ("x-forwarded-for", "198.51.100.1"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil.example"),
        ]);
        let direct = TrustedProxies::default().resolve(ip("203.0.113.5"), &forged);
        assert_eq!(
            direct,
            Forwarded {
                client: ip("203.0.113.5"),
                scheme: "http",
                host: Some("console.internal:3000".into())
            }
        );
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let proxied = proxies.resolve(
            ip("10.0.0.2"),
            &headers(&[
                ("host", "console.internal:3000"),
                // A forged left-most entry, then what the two proxies appended.
                ("x-forwarded-for", "1.2.3.4, 198.51.100.1"),
                ("x-forwarded-for", "10.0.0.9"),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "console.example"),
            ]),
        );
        assert_eq!(
            proxied,
            Forwarded {
                client: ip("198.51.100.1"),
                scheme: "https",
                host: Some("console.example".into())
            }
        );
        // A trusted proxy that forwards nothing: the proxy is the client.
        let bare = proxies.resolve(ip("10.0.0.2"), &headers(&[("host", "c:3000")]));
        assert_eq!(bare.client, ip("10.0.0.2"));
        assert_eq!(bare.scheme, "http");
    }
}
