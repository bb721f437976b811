#!/usr/bin/python3
"""Writes the hand-made MRT fixtures of this folder (see README.md), byte for byte.

Run from anywhere: /usr/bin/python3 tests/data/mrt/make_fixtures.py. Every record is built
here from its fields (RFC 6396, RFC 4271, RFC 4760, RFC 7911); nothing is cut from archives.
The script checks the property each fixture exists for (for example that ADD-PATH NLRI do not
parse as plain prefixes) and stops if a change breaks it.
"""
import bz2
import ipaddress
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
TS = 1700000000


# --- building blocks -------------------------------------------------------------------------

def mrt(mrt_type, subtype, body, ts=TS):
    """RFC 6396 section 2: Timestamp(4) Type(2) Subtype(2) Length(4), then the body."""
    return struct.pack("!IHHI", ts, mrt_type, subtype, len(body)) + body


def ip(text):
    return ipaddress.ip_address(text).packed


def bgp4mp_peer(peer_as, local_as, peer_ip, local_ip, as4=True):
    """RFC 6396 section 4.4: Peer AS, Local AS, Interface Index, AFI, Peer IP, Local IP."""
    afi = 1 if len(ip(peer_ip)) == 4 else 2
    fmt = "!IIHH" if as4 else "!HHHH"
    return struct.pack(fmt, peer_as, local_as, 0, afi) + ip(peer_ip) + ip(local_ip)


def bgp_message(msg_type, body):
    """RFC 4271 section 4.1: Marker(16) Length(2) Type(1)."""
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), msg_type) + body


def update_body(withdrawn=b"", attrs=b"", nlri=b""):
    """RFC 4271 section 4.3."""
    return struct.pack("!H", len(withdrawn)) + withdrawn + struct.pack("!H", len(attrs)) + attrs + nlri


def attr(flags, code, value):
    if len(value) > 255:
        return struct.pack("!BBH", flags | 0x10, code, len(value)) + value
    return struct.pack("!BBB", flags, code, len(value)) + value


def origin():
    return attr(0x40, 1, b"\x00")


def as_path(asns, width=4):
    return attr(0x40, 2, struct.pack("!BB", 2, len(asns)) +
                b"".join(a.to_bytes(width, "big") for a in asns))


def next_hop(addr):
    return attr(0x40, 3, ip(addr))


def prefix(text, path_id=None):
    """RFC 4271 section 4.3 prefix, with an RFC 7911 path identifier before it when given."""
    net = ipaddress.ip_network(text)
    octets = (net.prefixlen + 7) // 8
    raw = bytes([net.prefixlen]) + net.network_address.packed[:octets]
    return (struct.pack("!I", path_id) if path_id is not None else b"") + raw


def mp_reach_v6(nh, nlri):
    """RFC 4760 section 3: AFI 2, SAFI 1, next hop, reserved, NLRI."""
    return attr(0x80, 14, struct.pack("!HBB", 2, 1, 16) + ip(nh) + b"\x00" + nlri)


def plain_nlri_parses(nlri, max_bits):
    """True when `nlri` is a whole list of plain prefixes (what a reader without path ids sees)."""
    pos = 0
    while pos < len(nlri):
        bits = nlri[pos]
        if bits > max_bits or pos + 1 + (bits + 7) // 8 > len(nlri):
            return False
        pos += 1 + (bits + 7) // 8
    return True


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


# --- the fixtures ------------------------------------------------------------------------------

def addpath_undeclared_bgp4mp():
    """ADD-PATH NLRI (path id 1) in plain BGP4MP_MESSAGE_AS4 records, as BIRD has written."""
    v6 = prefix("2001:db8:1::/48", 1) + prefix("2001:db8:2::/48", 1)
    v4 = prefix("198.51.100.0/24", 1)
    assert not plain_nlri_parses(v6, 128) and not plain_nlri_parses(v4, 32)
    peer6 = bgp4mp_peer(65001, 65000, "2001:db8::1", "2001:db8::ff")
    peer4 = bgp4mp_peer(65001, 65000, "192.0.2.1", "192.0.2.254")
    attrs6 = origin() + as_path([65001, 64496]) + mp_reach_v6("2001:db8::1", v6)
    attrs4 = origin() + as_path([65001, 64497]) + next_hop("192.0.2.1")
    clean = prefix("203.0.113.0/24")
    return (mrt(16, 5, peer6 + struct.pack("!HH", 5, 6)) +
            mrt(16, 4, peer6 + bgp_message(2, update_body(attrs=attrs6))) +
            mrt(16, 4, peer4 + bgp_message(2, update_body(attrs=attrs4, nlri=v4))) +
            mrt(16, 4, peer4 + bgp_message(2, update_body(attrs=attrs4, nlri=clean))))


def peer_index_table(peers):
    """RFC 6396 section 4.3.1, peers as (bgp_id, address, as) with 4-octet ASes."""
    body = ip("192.0.2.100") + struct.pack("!H", 0) + struct.pack("!H", len(peers))
    for bgp_id, addr, asn in peers:
        v6 = len(ip(addr)) == 16
        body += struct.pack("!B", 0x02 | (0x01 if v6 else 0)) + ip(bgp_id) + ip(addr)
        body += struct.pack("!I", asn)
    return mrt(13, 1, body)


def addpath_undeclared_rib():
    """RIB_IPV6_UNICAST entries that carry RFC 8050 path ids under the plain subtype."""
    attrs = origin() + as_path([65001, 64496]) + attr(0x80, 14, b"\x10" + ip("2001:db8::1"))
    entry = struct.pack("!HII", 0, TS - 60, 1) + struct.pack("!H", len(attrs)) + attrs
    rib = struct.pack("!I", 0) + prefix("2001:db8:1::/48") + struct.pack("!H", 1) + entry
    plain_entry = struct.pack("!HI", 0, TS - 60) + struct.pack("!H", len(attrs)) + attrs
    good = struct.pack("!I", 1) + prefix("2001:db8:3::/48") + struct.pack("!H", 1) + plain_entry
    return (peer_index_table([("192.0.2.1", "2001:db8::1", 65001)]) + mrt(13, 4, rib) +
            mrt(13, 4, good))


def legacy_bgp(subtype, payload, peer="192.0.2.1"):
    """RFC 6396 appendix B.2.1: Peer AS(2) Peer IP(4) Local AS(2) Local IP(4) payload."""
    return mrt(5, subtype, struct.pack("!H", 65001) + ip(peer) + struct.pack("!H", 65000) +
               ip("192.0.2.254") + payload)


def type5_withdrawn_overrun():
    """A deprecated BGP (type 5) UPDATE whose Withdrawn Routes Length (256) overruns it."""
    attrs = origin() + as_path([65001, 64496], width=2) + next_hop("192.0.2.1")
    good = update_body(attrs=attrs, nlri=prefix("203.0.113.0/24"))
    bad = struct.pack("!H", 256) + b"\x00\x00"
    withdraw = update_body(withdrawn=prefix("198.51.100.0/24"))
    return legacy_state_change() + legacy_bgp(1, good) + legacy_bgp(1, bad) + legacy_bgp(1, withdraw)


def legacy_state_change():
    """RFC 6396 appendix B.2.1 STATE_CHANGE: Peer AS(2) Peer IP(4) Old State(2) New State(2)."""
    return mrt(5, 3, struct.pack("!H", 65001) + ip("192.0.2.1") + struct.pack("!HH", 5, 6))


def zebra_short_state_change():
    """Old Zebra's 8-octet BGP4MP STATE_CHANGE: Peer AS, Local AS, Old State, New State."""
    peer4 = bgp4mp_peer(65001, 65000, "192.0.2.1", "192.0.2.254", as4=False)
    attrs = origin() + as_path([65001, 64496], width=2) + next_hop("192.0.2.1")
    update = bgp_message(2, update_body(attrs=attrs, nlri=prefix("203.0.113.0/24")))
    return (mrt(16, 0, struct.pack("!HHHH", 65001, 65000, 1, 2)) +
            mrt(16, 0, struct.pack("!HHHH", 65001, 65000, 5, 6)) +
            mrt(16, 1, peer4 + update))


def table_dump_entry(seq, net, peer, asn, path):
    """RFC 6396 section 4.2, AFI_IPv4: View, Sequence, Prefix, Length, Status, Originated,
    Peer IP, Peer AS (2), Attribute Length, Attributes."""
    n = ipaddress.ip_network(net)
    attrs = origin() + as_path(path, width=2) + next_hop(peer)
    return (struct.pack("!HH", 0, seq) + n.network_address.packed + struct.pack("!BBI", n.prefixlen, 1, TS - 3600) +
            ip(peer) + struct.pack("!H", asn) + struct.pack("!H", len(attrs)) + attrs)


def table_dump_several_entries():
    """Three TABLE_DUMP entries in one record, then a record of one entry."""
    several = (table_dump_entry(0, "198.51.100.0/24", "192.0.2.1", 65001, [65001, 64496]) +
               table_dump_entry(1, "198.51.100.0/24", "192.0.2.2", 65002, [65002, 64496]) +
               table_dump_entry(2, "203.0.113.0/24", "192.0.2.1", 65001, [65001, 64497]))
    one = table_dump_entry(3, "192.0.2.0/24", "192.0.2.2", 65002, [65002, 64498])
    return mrt(12, 1, several) + mrt(12, 1, one)


def bgp4mp_entry():
    """Zebra's BGP4MP_ENTRY (subtype 2), well formed: the BGP4MP peer part (2-octet ASes), then
    View(2) Status(2) Time Last Change(4) AFI(2) SAFI(1) Next-Hop Length(1) Next Hop Prefix
    Length(1) Prefix Attribute Length(2) Attributes, as Zebra's bgp_dump.c wrote it."""
    peer4 = bgp4mp_peer(65001, 65000, "192.0.2.1", "192.0.2.254", as4=False)
    out = b""
    for i, net in enumerate(["198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/25"]):
        attrs = origin() + as_path([65001, 64496 + i], width=2) + next_hop("192.0.2.1")
        body = (peer4 + struct.pack("!HHIHBB", 0, 1, TS - 60, 1, 1, 4) + ip("192.0.2.1") +
                prefix(net) + struct.pack("!H", len(attrs)) + attrs)
        out += mrt(16, 2, body)
    return out + mrt(16, 0, peer4 + struct.pack("!HH", 5, 6))


def bgp4mp_malformed():
    """BGP4MP_MESSAGE_AS4 records whose UPDATE cannot be read whole, between clean ones."""
    peer4 = bgp4mp_peer(65001, 65000, "192.0.2.1", "192.0.2.254")
    attrs = origin() + as_path([65001, 64496]) + next_hop("192.0.2.1")

    def rec(message):
        return mrt(16, 4, peer4 + message)

    clean = rec(bgp_message(2, update_body(attrs=attrs, nlri=prefix("203.0.113.0/24"))))
    # The NLRI field ends inside its second prefix.
    cut = rec(bgp_message(2, update_body(attrs=attrs, nlri=prefix("198.51.100.0/24") + b"\x18\xcb\x00")))
    # A prefix length of 33.
    too_long = rec(bgp_message(2, update_body(attrs=attrs, nlri=b"\x21\xc0\x00\x02\x00\x01")))
    # MP_REACH_NLRI with a 5-octet IPv6 next hop.
    bad_nh = attr(0x80, 14, struct.pack("!HBB", 2, 1, 5) + b"\x20\x01\x0d\xb8\x00" + b"\x00" +
                  prefix("2001:db8:7::/48"))
    mp = rec(bgp_message(2, update_body(attrs=origin() + as_path([65001]) + bad_nh)))
    # A marker that is not all ones.
    marker = bytearray(bgp_message(2, update_body(attrs=attrs, nlri=prefix("192.0.2.0/24"))))
    marker[3] = 0
    state = mrt(16, 5, peer4 + struct.pack("!HH", 6, 1))
    return clean + cut + too_long + mp + rec(bytes(marker)) + state


def corrupt_first_block():
    """A bzip2 stream whose first (only) block is damaged: the decompressor hands out bytes
    that are not MRT before its block CRC fails."""
    plain = addpath_undeclared_bgp4mp() * 4
    data = bytearray(bz2.compress(plain, 9))
    data[90] ^= 0xFF
    return bytes(data)


def main():
    write("addpath-undeclared-bgp4mp.mrt", addpath_undeclared_bgp4mp())
    write("addpath-undeclared-rib.mrt", addpath_undeclared_rib())
    write("type5-withdrawn-overrun.mrt", type5_withdrawn_overrun())
    write("zebra-short-state-change.mrt", zebra_short_state_change())
    write("table-dump-several-entries.mrt", table_dump_several_entries())
    write("bgp4mp-entry.mrt", bgp4mp_entry())
    write("bgp4mp-malformed.mrt", bgp4mp_malformed())
    write("corrupt-first-block.mrt.bz2", corrupt_first_block())


if __name__ == "__main__":
    main()
