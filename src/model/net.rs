//! Source addresses and networks (docs/semantics.md, "Where and by whom a key
//! is used"): how an event's `src_ip` is read, how an entitlement's
//! `scope.networks` entries are read, and which networks hold an address.
//!
//! - An address is IPv4 dotted-quad text (four decimal parts 0..255, no
//!   leading zeros) or IPv6 text (RFC 4291 forms, an embedded dotted-quad
//!   tail included; no zone id, no brackets). An address in `::ffff:0:0/96`,
//!   in any IPv6 text form, is the IPv4 address of its last 32 bits; no other
//!   IPv6 address is IPv4 (`::1.2.3.4` is IPv6).
//! - A network is `ADDR/LEN` or a bare address (`/32`, `/128`). LEN is a
//!   decimal integer without sign, spaces or leading zeros, at most 32 for
//!   IPv4 and 128 for IPv6; host bits may be set and are ignored. An
//!   IPv4-mapped ADDR with LEN >= 96 is the IPv4 network of its last 32 bits
//!   with LEN - 96.
//! - An IPv4 address lies only in IPv4 networks, an IPv6 address only in IPv6
//!   networks.
//!
//! The text forms are parsed by the standard library (which follows these
//! rules: it refuses leading zeros in dotted-quad parts, zone ids and
//! brackets); networks are held and matched by the `ipnet` crate.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

/// An event's `src_ip` read as an address (IPv4-mapped IPv6 as IPv4), or
/// None when the text is no address.
pub fn parse_addr(text: &str) -> Option<IpAddr> {
    if let Ok(v4) = text.parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(v4));
    }
    let v6 = text.parse::<Ipv6Addr>().ok()?;
    Some(match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    })
}

/// The value of an address in the `network` drift dimension: its /24
/// (IPv4, `10.1.2.0/24`) or /48 (IPv6, RFC 5952 text, `2001:db8:1::/48`).
pub fn drift_network(addr: IpAddr) -> String {
    match addr {
        // Both prefix lengths are in range, so `new` cannot fail.
        IpAddr::V4(a) => Ipv4Net::new(a, 24).map(|n| n.trunc().to_string()).unwrap_or_default(),
        IpAddr::V6(a) => Ipv6Net::new(a, 48).map(|n| n.trunc().to_string()).unwrap_or_default(),
    }
}

/// One entry of `scope.networks`, with its text as written.
#[derive(Clone, PartialEq, Eq)]
pub struct Network {
    net: Net,
    text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Net {
    V4(Ipv4Net),
    V6(Ipv6Net),
}

impl Network {
    /// Reads `ADDR/LEN` or a bare address; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Network, String> {
        let (addr_text, len_text) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let addr = match addr_text.parse::<Ipv4Addr>() {
            Ok(v4) => IpAddr::V4(v4),
            Err(_) => IpAddr::V6(addr_text.parse::<Ipv6Addr>().map_err(|_| {
                "must be a network ADDR/LEN or an address, with ADDR an IPv4 address (four decimal parts 0..255, no leading zeros) or IPv6 text".to_string()
            })?),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len_text {
            None => max,
            Some(l) => prefix_len(l, max)?,
        };
        let net = match addr {
            IpAddr::V4(a) => Net::V4(v4_net(a, len)),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) if len >= 96 => Net::V4(v4_net(v4, len - 96)),
                _ => Net::V6(Ipv6Net::new(a, len).map(|n| n.trunc()).unwrap_or_default()),
            },
        };
        Ok(Network { net, text: text.to_string() })
    }

    /// True when `addr` (as [`parse_addr`] reads it) lies in this network.
    pub fn contains(&self, addr: &IpAddr) -> bool {
        match (self.net, addr) {
            (Net::V4(n), IpAddr::V4(a)) => n.contains(a),
            (Net::V6(n), IpAddr::V6(a)) => n.contains(a),
            _ => false,
        }
    }

    /// The entry as written in the entitlement.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

fn v4_net(a: Ipv4Addr, len: u8) -> Ipv4Net {
    // `len` was checked against 32 (or is LEN - 96 of a checked IPv6 LEN).
    Ipv4Net::new(a, len).map(|n| n.trunc()).unwrap_or_default()
}

/// LEN: a decimal integer without sign, spaces or leading zeros, at most `max`.
fn prefix_len(text: &str, max: u8) -> Result<u8, String> {
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = text.len() > 1 && text.starts_with('0');
    match text.parse::<u8>() {
        Ok(n) if digits_only && !leading_zero && n <= max => Ok(n),
        _ => Err(format!("has a prefix length `/{text}`; it must be a decimal integer from 0 to {max} without sign or leading zeros")),
    }
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Network({:?})", self.text)
    }
}

impl serde::Serialize for Network {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Network {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Network::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Option<String> {
        parse_addr(s).map(|a| a.to_string())
    }

    #[test]
    fn addresses_are_read_as_written_rules_say() {
        assert_eq!(addr("10.1.2.3").as_deref(), Some("10.1.2.3"));
        assert_eq!(addr("0.0.0.0").as_deref(), Some("0.0.0.0"));
        for bad in ["010.1.2.3", "10.1.2.03", "256.1.1.1", "1.2.3", "1.2.3.4.5", " 1.2.3.4", "1.2.3.4 ", "", "fe80::1%eth0", "[::1]", "::ffff:1.2.3.04", "00001::", "host.example"] {
            assert_eq!(addr(bad), None, "{bad}");
        }
        assert_eq!(addr("2001:DB8::1").as_deref(), Some("2001:db8::1"));
        assert_eq!(addr("1:2:3:4:5:6:1.2.3.4").as_deref(), Some("1:2:3:4:5:6:102:304"));
        // IPv4-mapped IPv6, in any text form, is IPv4; IPv4-compatible is not.
        assert_eq!(addr("::ffff:10.1.2.3").as_deref(), Some("10.1.2.3"));
        assert_eq!(addr("::FFFF:0a01:0203").as_deref(), Some("10.1.2.3"));
        assert_eq!(addr("0:0:0:0:0:ffff:a01:203").as_deref(), Some("10.1.2.3"));
        assert!(parse_addr("::1.2.3.4").is_some_and(|a| a.is_ipv6()));
    }

    #[test]
    fn drift_networks_are_the_24_or_48_in_canonical_text() {
        let net = |s: &str| drift_network(parse_addr(s).unwrap());
        assert_eq!(net("10.1.2.3"), "10.1.2.0/24");
        assert_eq!(net("::ffff:10.1.2.3"), "10.1.2.0/24");
        assert_eq!(net("2001:0DB8:0001:ffff::1"), "2001:db8:1::/48");
        assert_eq!(net("2001:0:0:1::"), "2001::/48");
        assert_eq!(net("::1"), "::/48");
    }

    fn holds(net: &str, a: &str) -> bool {
        Network::parse(net).unwrap().contains(&parse_addr(a).unwrap())
    }

    #[test]
    fn networks_hold_their_family_only() {
        assert!(holds("10.0.0.0/8", "10.200.1.1"));
        assert!(holds("10.9.9.9/8", "10.200.1.1"), "host bits are ignored");
        assert!(!holds("10.0.0.0/8", "11.0.0.1"));
        assert!(holds("0.0.0.0/0", "203.0.113.9"));
        assert!(holds("10.1.2.3", "10.1.2.3") && !holds("10.1.2.3", "10.1.2.4"));
        assert!(holds("2001:db8::/32", "2001:db8:ffff::1"));
        assert!(!holds("::/0", "10.0.0.1"), "no IPv6 network holds an IPv4 address");
        assert!(!holds("::/0", "::ffff:10.0.0.1"));
        assert!(holds("::/0", "::1.2.3.4"));
        assert!(!holds("0.0.0.0/0", "::1"));
        // A mapped ADDR with LEN >= 96 is the IPv4 network of LEN - 96.
        assert!(holds("::ffff:10.0.0.0/104", "10.3.4.5"));
        assert!(!holds("::ffff:10.0.0.0/104", "11.3.4.5"));
        assert!(holds("::ffff:10.1.2.3", "10.1.2.3"));
        assert!(!holds("::ffff:0.0.0.0/95", "10.1.2.3"));
    }

    #[test]
    fn malformed_networks_are_refused() {
        for bad in ["10.0.0.0/08", "10.0.0.0/+8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/ 8", "10.0.0.0/8 ", "010.0.0.0/8", "10.0.0.0/8/8", "/8", "", "*", "10.0.0.0-10.0.0.9", "[::1]/128", "fe80::1%1/64", "10.0.0.0/-1"] {
            assert!(Network::parse(bad).is_err(), "{bad}");
        }
        for good in ["10.0.0.0/0", "10.0.0.0/32", "::/128", "2001:db8::/0", "::ffff:1.2.3.4/96"] {
            assert!(Network::parse(good).is_ok(), "{good}");
        }
    }
}
