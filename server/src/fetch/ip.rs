//! Destination address policy: which IPs a source fetch may connect to.
//!
//! Deny by default everything that is not a globally reachable unicast address, and judge IPv4 addresses
//! embedded in IPv6 forms (mapped, compatible, NAT64, 6to4, ISATAP) by the IPv4 rules.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// Whether a fetch must refuse to connect to `ip`.
///
/// An address inside one of the `allow` ranges is always permitted (this is how tests reach 127.0.0.1 and how a
/// deployment opts into private networks). Otherwise loopback, private, link-local, CGNAT, multicast, unspecified,
/// broadcast, documentation, benchmarking and reserved ranges are refused, as are IPv6 unique-local, site-local,
/// discard and non-global-unicast addresses. IPv6 forms that embed an IPv4 address are judged by that address
/// (again honouring `allow`).
pub fn is_forbidden(ip: IpAddr, allow: &[IpNet]) -> bool {
    if allow.iter().any(|net| net.contains(&ip)) {
        return false;
    }
    match ip {
        IpAddr::V4(v4) => v4_forbidden(v4),
        IpAddr::V6(v6) => {
            if v6.is_unspecified() || v6.is_loopback() {
                return true;
            }
            if let Some(v4) = translated_v4(v6) {
                return is_forbidden(IpAddr::V4(v4), allow);
            }
            v6_forbidden(v6) || tunnelled_v4(v6).into_iter().flatten().any(|v4| is_forbidden(IpAddr::V4(v4), allow))
        }
    }
}

/// `(network, prefix length)` pairs of IPv4 ranges that are not globally reachable destinations.
const V4_DENY: &[([u8; 4], u8)] = &[
    ([0, 0, 0, 0], 8),       // "this network", incl. 0.0.0.0 unspecified
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // CGNAT shared address space
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local (cloud metadata 169.254.169.254)
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // TEST-NET-1 documentation
    ([192, 88, 99, 0], 24),  // deprecated 6to4 relay anycast
    ([192, 168, 0, 0], 16),  // private
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // TEST-NET-2 documentation
    ([203, 0, 113, 0], 24),  // TEST-NET-3 documentation
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, incl. 255.255.255.255 broadcast
];

fn v4_forbidden(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    V4_DENY.iter().any(|&(net, len)| {
        let mask = u32::MAX << (32 - u32::from(len));
        bits & mask == u32::from_be_bytes(net) & mask
    })
}

/// `(network, prefix length)` pairs of IPv6 ranges inside 2000::/3 that are not globally reachable.
const V6_DENY_IN_GLOBAL: &[([u16; 8], u8)] = &[
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), // IETF protocol assignments, incl. Teredo 2001::/32, benchmarking
    ([0x2001, 0x0db8, 0, 0, 0, 0, 0, 0], 32), // documentation
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), // documentation (RFC 9637)
    ([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16), // SRv6 SIDs (RFC 9602)
];

fn v6_forbidden(ip: Ipv6Addr) -> bool {
    let bits = u128::from(ip);
    let in_net = |net: [u16; 8], len: u8| {
        let mask = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
        bits & mask == u128::from(Ipv6Addr::from(net)) & mask
    };
    // Only global unicast (2000::/3) is reachable; this excludes ULA fc00::/7, link-local fe80::/10, site-local
    // fec0::/10, multicast ff00::/8, discard 100::/64, local-use NAT64 64:ff9b:1::/48 and all reserved space.
    if !in_net([0x2000, 0, 0, 0, 0, 0, 0, 0], 3) {
        return true;
    }
    V6_DENY_IN_GLOBAL.iter().any(|&(net, len)| in_net(net, len))
}

fn low32(s: &[u16; 8]) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7]))
}

/// The IPv4 address an IPv6 address stands for (the packet goes to that IPv4 host): mapped, compatible, NAT64.
fn translated_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (deprecated compatible).
    if s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0) {
        return Some(low32(&s));
    }
    // 64:ff9b::/96 well-known NAT64 prefix.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(low32(&s));
    }
    None
}

/// IPv4 tunnel endpoints embedded in a global IPv6 address: 6to4 and ISATAP. Both the IPv6 address and these
/// endpoints must be acceptable.
fn tunnelled_v4(ip: Ipv6Addr) -> [Option<Ipv4Addr>; 2] {
    let s = ip.segments();
    // 2002::/16 6to4: the IPv4 address is in bits 16..48.
    let six_to_four = (s[0] == 0x2002).then(|| Ipv4Addr::from((u32::from(s[1]) << 16) | u32::from(s[2])));
    // ISATAP interface identifier (RFC 5214): ::0:5efe:a.b.c.d or ::200:5efe:a.b.c.d under any prefix.
    let isatap = ((s[4] & 0xfdff) == 0 && s[5] == 0x5efe).then(|| low32(&s));
    [six_to_four, isatap]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden(s: &str) -> bool {
        is_forbidden(s.parse().expect("test address"), &[])
    }

    #[test]
    fn forbidden_table() {
        let denied = [
            // IPv4
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.0.0.2",
            "127.255.255.255",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            // IPv6
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "100::1",
            "64:ff9b:1::1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
            "2001:2::1",
            "2001:db8::1",
            "3fff::1",
            "5f00::1",
            "4000::1", // reserved, outside 2000::/3
            // IPv4 embedded in IPv6
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0.0.0.0",
            "::127.0.0.1",
            "::192.168.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "2002:c0a8:0101::1",
            "2002:a00:1::",
            "2a00:1450::5efe:127.0.0.1",
            "2a00:1450::200:5efe:10.1.2.3",
            "fe80::5efe:8.8.8.8", // ISATAP form, but link-local prefix
            "2002:808:808::5efe:10.0.0.1",
        ];
        for a in denied {
            assert!(forbidden(a), "{a} should be forbidden");
        }
        let allowed = [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "169.253.255.255",
            "192.0.3.1",
            "192.169.0.1",
            "198.20.0.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2a00:1450::5efe:8.8.8.8",
        ];
        for a in allowed {
            assert!(!forbidden(a), "{a} should be allowed");
        }
    }

    #[test]
    fn allow_list_overrides() {
        let allow: Vec<IpNet> = vec!["127.0.0.0/8".parse().unwrap(), "fd00::/8".parse().unwrap()];
        for a in ["127.0.0.1", "127.0.0.2", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1", "fd00::5"] {
            assert!(!is_forbidden(a.parse().unwrap(), &allow), "{a} should be allowed by the allow list");
        }
        for a in ["10.0.0.1", "::1", "::ffff:10.0.0.1", "fc00::1", "169.254.169.254"] {
            assert!(is_forbidden(a.parse().unwrap(), &allow), "{a} should stay forbidden");
        }
        let only_one: Vec<IpNet> = vec!["127.0.0.1/32".parse().unwrap()];
        assert!(!is_forbidden("127.0.0.1".parse().unwrap(), &only_one));
        assert!(is_forbidden("127.0.0.2".parse().unwrap(), &only_one));
    }
}
