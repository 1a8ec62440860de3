//! The tracker's table key: a connection's two endpoints in a canonical
//! order, as plain words.
//!
//! A [`synack_core::flow::FlowKey`] names the same connection, but hashing
//! and comparing its `IpAddr` pair branches on the address family at every
//! step; five words hash in five multiplies and compare in two vector loads.

use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr};

use synack_core::flow::Endpoint;

/// Both directions of a connection give the same key.
#[derive(Clone, Copy, Debug, Eq)]
pub(super) struct ConnKey {
    /// IPv6: the lower endpoint's address (two words), the upper's, then
    /// both ports and the address family. IPv4: each endpoint's address and
    /// port in one word, lower first, between zeros.
    words: [u64; 5],
}

/// An endpoint as words that order it: address high and low, port.
fn words(e: &Endpoint) -> (u64, u64, u16) {
    match e.addr {
        IpAddr::V4(a) => (0, u64::from(u32::from(a)), e.port),
        IpAddr::V6(a) => {
            let a = u128::from(a);
            ((a >> 64) as u64, a as u64, e.port)
        }
    }
}

/// An IPv4 endpoint as one word that orders it: address, then port.
fn v4_word(addr: Ipv4Addr, port: u16) -> u64 {
    u64::from(u32::from(addr)) << 16 | u64::from(port)
}

impl ConnKey {
    /// The key of a segment from `src` to `dst` (one address family).
    #[inline]
    pub(super) fn new(src: &Endpoint, dst: &Endpoint) -> ConnKey {
        // Matched by reference: a tuple of the addresses would copy both.
        if let (IpAddr::V4(s), IpAddr::V4(d)) = (&src.addr, &dst.addr) {
            // Each endpoint in one word, ordered by a single comparison; the
            // last word (0: no ports, no IPv6 bit) keeps these keys apart
            // from the IPv6 ones.
            let (a, b) = (v4_word(*s, src.port), v4_word(*d, dst.port));
            return ConnKey {
                words: [0, a.min(b), 0, a.max(b), 0],
            };
        }
        let (a, b) = (words(src), words(dst));
        let (lower, upper) = if a <= b { (a, b) } else { (b, a) };
        let v6 = u64::from(src.addr.is_ipv6());
        ConnKey {
            words: [
                lower.0,
                lower.1,
                upper.0,
                upper.1,
                v6 << 32 | u64::from(lower.2) << 16 | u64::from(upper.2),
            ],
        }
    }
}

impl PartialEq for ConnKey {
    /// Word by word, without a branch (a derived comparison of the array
    /// calls `memcmp`).
    #[inline]
    fn eq(&self, other: &ConnKey) -> bool {
        let (a, b) = (&self.words, &other.words);
        (a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]) == 0
    }
}

impl Hash for ConnKey {
    /// An IPv4 key (its last word 0, see [`ConnKey::new`]) by its two
    /// endpoint words alone, the others being 0 in every IPv4 key; an IPv6
    /// key by all five. Equal keys are of one family, so hash alike.
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        let w = &self.words;
        if w[4] == 0 {
            state.write_u64(w[1]);
            state.write_u64(w[3]);
        } else {
            for w in self.words {
                state.write_u64(w);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn ep(addr: IpAddr, port: u16) -> Endpoint {
        Endpoint { addr, port }
    }

    #[test]
    fn both_directions_share_a_key_and_other_tuples_do_not() {
        let a = ep(Ipv4Addr::new(10, 0, 0, 1).into(), 40000);
        let b = ep(Ipv4Addr::new(10, 0, 0, 2).into(), 80);
        assert_eq!(ConnKey::new(&a, &b), ConnKey::new(&b, &a));
        let c = ep(Ipv4Addr::new(10, 0, 0, 2).into(), 81);
        assert_ne!(ConnKey::new(&a, &b), ConnKey::new(&a, &c));
        // Same ports, swapped addresses: another connection.
        let d = ep(Ipv4Addr::new(10, 0, 0, 1).into(), 80);
        let e = ep(Ipv4Addr::new(10, 0, 0, 2).into(), 40000);
        assert_ne!(ConnKey::new(&a, &b), ConnKey::new(&d, &e));
    }

    /// IPv4 tuples that differ in one address or port, or whose address
    /// and port words could be confused, get different keys.
    #[test]
    fn ipv4_keys_tell_every_tuple_apart() {
        let v4 = |a: [u8; 4], port| ep(Ipv4Addr::from(a).into(), port);
        let tuples = [
            (v4([10, 0, 0, 1], 1), v4([10, 0, 0, 2], 2)),
            (v4([10, 0, 0, 1], 2), v4([10, 0, 0, 2], 1)),
            (v4([10, 0, 0, 1], 1), v4([10, 0, 0, 2], 3)),
            (v4([10, 0, 0, 2], 1), v4([10, 0, 0, 1], 1)),
            (v4([0, 0, 0, 0], 65535), v4([0, 0, 0, 1], 0)),
            (v4([0, 0, 0, 1], 0), v4([0, 0, 0, 1], 0)),
            (v4([255, 255, 255, 255], 65535), v4([0, 0, 0, 0], 0)),
        ];
        for (i, (a, b)) in tuples.iter().enumerate() {
            assert_eq!(ConnKey::new(a, b), ConnKey::new(b, a));
            for (c, d) in &tuples[i + 1..] {
                assert_ne!(
                    ConnKey::new(a, b),
                    ConnKey::new(c, d),
                    "{a:?} {b:?} {c:?} {d:?}"
                );
            }
        }
    }

    #[test]
    fn an_ipv4_address_and_its_ipv4_compatible_ipv6_form_differ() {
        let v4 = |last| ep(Ipv4Addr::new(0, 0, 0, last).into(), 1);
        let v6 = |last| ep(Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, last).into(), 1);
        assert_ne!(ConnKey::new(&v4(1), &v4(2)), ConnKey::new(&v6(1), &v6(2)));
    }
}
