// Conversions between the codec's IpAddress and Asio's addresses.
//
// One place for them: the session and the listener both need them. IPv4-mapped IPv6 addresses
// (what a dual-stack socket reports for an IPv4 peer) become plain IPv4, so that a peer is
// found by the address it is configured with.
#pragma once

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <span>

#include "codec/bgp/ip.hpp"

namespace bgpscribe::speaker::net {

inline codec::bgp::IpAddress from_asio(const boost::asio::ip::address& a) {
  namespace ip = boost::asio::ip;
  if (a.is_v4()) {
    return codec::bgp::IpAddress::v4(a.to_v4().to_uint());
  }
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) {
    return codec::bgp::IpAddress::v4(ip::make_address_v4(ip::v4_mapped, v6).to_uint());
  }
  const auto b = v6.to_bytes();
  return codec::bgp::IpAddress::v6(std::span<const std::uint8_t, 16>(b.data(), 16));
}

inline boost::asio::ip::address to_asio(const codec::bgp::IpAddress& a) {
  namespace ip = boost::asio::ip;
  if (a.is_v4()) {
    return ip::address_v4(a.v4_host_order());
  }
  ip::address_v6::bytes_type b{};
  std::copy(a.bytes.begin(), a.bytes.end(), b.begin());
  return ip::address_v6(b);
}

}  // namespace bgpscribe::speaker::net
