// Linux socket options a BGP speaker sets: TCP MD5 signatures (RFC 2385) and the Generalized
// TTL Security Mechanism (RFC 5082).
//
// Thin, checked wrappers over setsockopt on a native descriptor; they return the errno-based
// error code instead of throwing, so callers report "why" and go on (a session without its
// required option must not come up, but the process must not die).
#pragma once

#include <cstdint>
#include <string_view>
#include <system_error>

#include "codec/bgp/ip.hpp"

namespace bgpscribe::speaker::net {

// RFC 2385 via TCP_MD5SIG_EXT: sign segments to and from `peer` (a host, or every address of
// a prefix when `prefix_length` is shorter than the address) with `key`. An empty key removes
// the entry. Keys are at most 80 bytes (TCP_MD5SIG_MAXKEYLEN).
std::error_code set_tcp_md5(int fd, const codec::bgp::IpAddress& peer, std::uint8_t prefix_length,
                            std::string_view key);

// RFC 5082 section 3: send with TTL (hop limit) 255 and drop segments that arrive with less than
// 256 - hops. `v6` selects IPV6_UNICAST_HOPS / IPV6_MINHOPCOUNT; IPv4-mapped peers on a
// dual-stack socket need both, so the IPv4 options are set too when the socket is IPv6.
std::error_code set_ttl_security(int fd, bool v6, std::uint8_t hops);

}  // namespace bgpscribe::speaker::net
