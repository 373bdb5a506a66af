//! The SSRF guard: a source may only reach public addresses unless it sets
//! `allow_private = true`. Checked after DNS resolution (a public name that
//! resolves to 10.0.0.1 is refused) and on every redirect (a public page
//! cannot bounce the fetcher to 127.0.0.1).

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The message fragment `FetchError::from_reqwest` recognises.
pub(crate) const BLOCKED: &str = "blocked address";

/// Whether an address is loopback, private, link-local or otherwise not a
/// public internet address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || v6.segments()[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || (first == 0x0064 && v6.segments()[1] == 0xff9b) // NAT64
        }
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, _, _] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

/// The URL's host, when it is a literal IP address.
pub fn literal_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

/// Why a URL may not be fetched by a guarded client, if it may not.
pub fn check_url(url: &url::Url) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Some(format!("{BLOCKED}: scheme {} is not http(s)", url.scheme()));
    }
    match literal_ip(url) {
        Some(ip) if is_internal(ip) => Some(format!("{BLOCKED}: {ip} is internal")),
        _ => match url.host_str() {
            Some("localhost") => Some(format!("{BLOCKED}: localhost is internal")),
            _ => None,
        },
    }
}

/// A resolver that drops internal addresses; a name with only internal
/// addresses fails to resolve with a "blocked address" error.
#[derive(Debug, Default)]
pub struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.to_string().into() })?
                .collect();
            let public: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|addr| !is_internal(addr.ip()))
                .collect();
            if public.is_empty() && !resolved.is_empty() {
                let first = resolved
                    .first()
                    .map(|a| a.ip().to_string())
                    .unwrap_or_default();
                return Err(format!("{BLOCKED}: {host} resolves to internal {first}").into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            let ip: IpAddr = ip.parse().expect("test address");
            assert!(is_internal(ip), "{ip} is internal");
        }
        for ip in ["1.1.1.1", "8.8.8.8", "2606:4700:4700::1111", "140.82.112.3"] {
            let ip: IpAddr = ip.parse().expect("test address");
            assert!(!is_internal(ip), "{ip} is public");
        }
    }

    #[test]
    fn urls_with_internal_literals_or_other_schemes_are_refused() {
        let check = |u: &str| check_url(&url::Url::parse(u).expect("test url"));
        assert!(check("http://127.0.0.1:8080/feed").is_some());
        assert!(check("http://[::1]/").is_some());
        assert!(check("http://localhost/").is_some());
        assert!(check("file:///etc/passwd").is_some());
        assert!(check("https://example.org/feed.xml").is_none());
    }
}
