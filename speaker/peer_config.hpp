// What one BGP peer is configured with, and the OPEN it leads to.
//
// A plain value: the application (or the collector's config loader) fills it, Process::add_peer
// copies it. Defaults suit a collector: 4-octet AS, IPv4 and IPv6 unicast, route refresh,
// extended messages. Checking a config for sense (AS 0, missing identifier) is validate().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/capability.hpp"
#include "codec/bgp/ip.hpp"
#include "codec/bgp/open.hpp"

namespace bgpscribe::speaker {

using Millis = std::chrono::milliseconds;

struct PeerConfig {
  std::string name;  // a label for logs; the peer address when empty

  // Identity (RFC 4271 section 4.2, RFC 6793).
  std::uint32_t local_as = 0;
  std::uint32_t local_id = 0;  // our BGP Identifier, host order
  // The peer's AS; 0 accepts any AS listed in allowed_as (any at all when that is empty).
  std::uint32_t peer_as = 0;
  std::vector<std::uint32_t> allowed_as;

  // Transport.
  codec::bgp::IpAddress peer_address{};
  std::uint16_t peer_port = 179;                       // for outbound connections
  std::optional<codec::bgp::IpAddress> local_address;  // source of outbound connections
  bool passive = false;                                // never connect out, only accept
  std::string md5_password;                            // RFC 2385, empty = off
  std::uint8_t ttl_security_hops = 0;                  // RFC 5082 GTSM, 0 = off

  // Timers (RFC 4271 section 10).
  std::uint16_t hold_time = 90;  // offered in the OPEN; 0 or >= 3
  Millis keepalive{0};           // 0 = a third of the negotiated hold time
  Millis connect_retry{std::chrono::seconds(30)};
  Millis delay_open{0};
  Millis idle_hold{std::chrono::seconds(1)};  // first automatic restart delay, then doubling
  Millis idle_hold_max{std::chrono::seconds(60)};

  // Capabilities to announce (RFC 5492).
  std::vector<codec::bgp::AfiSafi> families{codec::bgp::kIpv4Unicast, codec::bgp::kIpv6Unicast};
  bool route_refresh = true;
  bool enhanced_route_refresh = true;
  bool four_octet_as = true;
  bool extended_message = true;
  std::vector<codec::bgp::AfiSafi> add_path_receive;  // RFC 7911 Receive per family
  std::vector<codec::bgp::AfiSafi> add_path_send;     // RFC 7911 Send per family
  // RFC 4724: announce graceful restart (helper: no forwarding state of our own).
  std::optional<std::uint16_t> graceful_restart_time;
  bool graceful_restart_notification = false;  // RFC 8538 N bit
  // How long stale routes of a restarting peer are kept after it comes back, waiting for its
  // End-of-RIB (RFC 4724 section 4.2 "selection deferral"; also bounds a silent peer).
  Millis graceful_restart_stale_time{std::chrono::seconds(360)};
  // Send End-of-RIB for every negotiated family as soon as the session is up: right for a
  // speaker with nothing to announce (a collector). Peers wait for it (RFC 4724 section 4.2:
  // a restarting peer defers its own updates; FRR ignores ROUTE-REFRESH before it). Turn it
  // off to announce an initial table first and then call Peer::send_end_of_rib.
  bool auto_end_of_rib = true;
  std::optional<codec::bgp::BgpRole> role;  // RFC 9234
  bool strict_role = false;

  // RFC 4271 section 6.3: treat-as-withdraw updates from an external peer whose AS_PATH does
  // not start with the peer's AS. Off by default: route servers (RFC 7947) do not prepend.
  bool enforce_first_as = false;

  // Limits.
  std::uint32_t max_prefix = 0;  // routes held from this peer; 0 = no limit (RFC 4486 6/1)
  std::size_t max_send_queue = 16 << 20;
  std::size_t receive_buffer = std::size_t{256} * 1024;

  [[nodiscard]] std::string label() const;
};

// The problems of a config, one message each; empty when it can run.
std::vector<std::string> validate(const PeerConfig& config);

// The OPEN this config sends (RFC 4271 section 4.2, RFC 5492, RFC 6793 AS_TRANS).
codec::bgp::Open make_open(const PeerConfig& config);

}  // namespace bgpscribe::speaker
