#include "speaker/peer_config.hpp"

#include <algorithm>

#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/text.hpp"

namespace bgpscribe::speaker {

namespace bgp = codec::bgp;

std::string PeerConfig::label() const {
  return name.empty() ? peer_address.to_string() : name;
}

std::vector<std::string> validate(const PeerConfig& c) {
  std::vector<std::string> problems;
  if (c.local_as == 0) {
    problems.emplace_back("local_as must be set (1..4294967295)");
  }
  if (c.local_id == 0) {
    problems.emplace_back("local_id (BGP identifier) must be a non-zero IPv4 address");
  }
  if (!c.four_octet_as && c.local_as > 0xffff) {
    problems.emplace_back("a 4-octet local_as needs the four_octet_as capability");
  }
  if (c.hold_time == 1 || c.hold_time == 2) {
    problems.emplace_back("hold_time must be 0 or at least 3 seconds (RFC 4271 section 4.2)");
  }
  if (c.md5_password.size() > 80) {
    problems.emplace_back("md5_password is longer than 80 bytes");
  }
  if (c.families.empty()) {
    problems.emplace_back("families must list at least one address family");
  }
  for (const auto& f : c.add_path_receive) {
    if (std::find(c.families.begin(), c.families.end(), f) == c.families.end()) {
      const char* safi = bgp::to_string(f.safi);
      problems.emplace_back("add_path lists " +
                            std::string(f.afi == bgp::Afi::Ipv4 ? "ipv4-" : "ipv6-") +
                            (safi != nullptr ? safi : "?") +
                            ", which is not in families (ADD-PATH applies to negotiated "
                            "families only)");
    }
  }
  if (c.receive_buffer < 2 * bgp::kMaxExtendedMessageSize) {
    problems.emplace_back("receive_buffer must hold two 65535-byte messages");
  }
  return problems;
}

bgp::Open make_open(const PeerConfig& c) {
  bgp::Open open;
  open.my_as = c.local_as > 0xffff ? static_cast<std::uint16_t>(codec::bgp::kAsTrans)
                                   : static_cast<std::uint16_t>(c.local_as);
  open.hold_time = c.hold_time;
  open.bgp_identifier = c.local_id;
  for (const auto& f : c.families) {
    open.add_capability(bgp::Capability::of(bgp::MultiprotocolCapability{f, 0}));
  }
  if (c.route_refresh) {
    open.add_capability(bgp::Capability::of(bgp::RouteRefreshCapability{}));
  }
  if (c.enhanced_route_refresh) {
    open.add_capability(bgp::Capability::of(bgp::EnhancedRouteRefreshCapability{}));
  }
  if (c.extended_message) {
    open.add_capability(bgp::Capability::of(bgp::ExtendedMessageCapability{}));
  }
  if (c.role) {
    open.add_capability(bgp::Capability::of(bgp::RoleCapability{*c.role}));
  }
  if (c.graceful_restart_time) {
    bgp::GracefulRestartCapability gr;
    gr.restart_time = std::min<std::uint16_t>(*c.graceful_restart_time, 4095);
    if (c.graceful_restart_notification) {
      gr.flags |= bgp::GracefulRestartCapability::kNotification;
    }
    // A collector keeps no forwarding state: it lists its families without the F bit so that
    // a restarting peer knows we are a helper (RFC 4724 section 3).
    for (const auto& f : c.families) {
      gr.tuples.push_back(bgp::GracefulRestartTuple{f, 0});
    }
    open.add_capability(bgp::Capability::of(std::move(gr)));
  }
  if (c.four_octet_as) {
    open.add_capability(bgp::Capability::of(bgp::FourOctetAsCapability{c.local_as}));
  }
  bgp::AddPathCapability add_path;
  for (const auto& f : c.families) {
    const bool rx = std::find(c.add_path_receive.begin(), c.add_path_receive.end(), f) !=
                    c.add_path_receive.end();
    const bool tx =
        std::find(c.add_path_send.begin(), c.add_path_send.end(), f) != c.add_path_send.end();
    if (rx || tx) {
      add_path.tuples.push_back(bgp::AddPathTuple{
          f, rx && tx ? bgp::AddPathMode::Both
                      : (rx ? bgp::AddPathMode::Receive : bgp::AddPathMode::Send)});
    }
  }
  if (!add_path.tuples.empty()) {
    open.add_capability(bgp::Capability::of(std::move(add_path)));
  }
  return open;
}

}  // namespace bgpscribe::speaker
