#include "speaker/socket_options.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace bgpscribe::speaker::net {

namespace {

std::error_code last_error() {
  return {errno, std::generic_category()};
}

}  // namespace

std::error_code set_tcp_md5(int fd, const codec::bgp::IpAddress& peer, std::uint8_t prefix_length,
                            std::string_view key) {
  if (key.size() > TCP_MD5SIG_MAXKEYLEN) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  tcp_md5sig sig{};
  if (peer.is_v4()) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    std::memcpy(&sin.sin_addr, peer.bytes.data(), 4);
    std::memcpy(&sig.tcpm_addr, &sin, sizeof sin);
  } else {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    std::memcpy(&sin6.sin6_addr, peer.bytes.data(), 16);
    std::memcpy(&sig.tcpm_addr, &sin6, sizeof sin6);
  }
  const std::uint8_t full = peer.is_v4() ? 32 : 128;
  if (prefix_length < full) {
    sig.tcpm_flags = TCP_MD5SIG_FLAG_PREFIX;
    sig.tcpm_prefixlen = prefix_length;
  }
  sig.tcpm_keylen = static_cast<std::uint16_t>(key.size());
  std::copy(key.begin(), key.end(), sig.tcpm_key);
  if (::setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG_EXT, &sig, sizeof sig) != 0) {
    return last_error();
  }
  return {};
}

std::error_code set_ttl_security(int fd, bool v6, std::uint8_t hops) {
  const int ttl = 255;
  const int min_ttl = 256 - std::max<int>(1, hops);
  if (v6) {
    if (::setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl) != 0 ||
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, &min_ttl, sizeof min_ttl) != 0) {
      return last_error();
    }
  }
  // On a dual-stack IPv6 socket an IPv4-mapped peer uses the IPv4 options; failing to set them
  // there is harmless, so only a pure IPv4 socket reports it.
  const bool v4_failed = ::setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) != 0 ||
                         ::setsockopt(fd, IPPROTO_IP, IP_MINTTL, &min_ttl, sizeof min_ttl) != 0;
  if (v4_failed && !v6) {
    return last_error();
  }
  return {};
}

}  // namespace bgpscribe::speaker::net
