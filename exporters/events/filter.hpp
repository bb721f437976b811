// The live API's subscription filter: which events of the stream a Subscribe request asks for.
// Built once from the request (every value parsed and checked there, a bad one refused with a
// FilterError), then asked once per event per subscriber, so matches() parses only the event's
// prefix and address text it compares and allocates nothing for a filter not given.
//
// An event passes when it matches every filter given (docs/api.md, "Subscribe filters"):
// - peer_ids, peer_addresses, peer_asns: the event's peer is any member of each list given;
//   addresses compare as addresses ("2001:DB8::1" is "2001:db8::1").
// - prefix: exactly that prefix; with more_specific it and the prefixes inside it; with
//   less_specific it and the prefixes covering it; with both, either. An address alone is a
//   host prefix (/32, /128); host bits past the length are ignored, as the codec's parser does.
// - origin_asns, as_path_regex, community: the route's attributes. A withdrawal carries none
//   and passes these, so that a subscriber sees the withdrawal of any route it may have seen.
// - PeerEvents are held to the peer filters only (routes_only drops them); SnapshotMarker,
//   Lagging and kinds this code does not know always pass.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bgpscribe/v1/api.pb.h"
#include "bgpscribe/v1/events.pb.h"
#include "codec/bgp/ip.hpp"

namespace bgpscribe::exporters::events {

// A filter the request asks for cannot be built; what() names the field, its value and the
// problem: `prefix "10.0.0.0/33": prefix length 33 > 32`.
class FilterError : public std::runtime_error {
  using runtime_error::runtime_error;
};

// What a filter looks at of one event. EventBlock keeps these beside the serialized events, so
// that a stream filters them without parsing them back.
struct EventView {
  enum class Kind : std::uint8_t { Route, Peer, Other };
  Kind kind = Kind::Other;
  const bgpscribe::v1::Peer* peer = nullptr;   // Route and Peer
  const codec::bgp::Prefix* prefix = nullptr;  // Route; null when it has none
  // Route: an announcement's; null when the block did not keep them (Options::keep_attributes:
  // no filter asked), then the filter has to be asked with the event parsed.
  const bgpscribe::v1::Attributes* attributes = nullptr;
  bool withdraw = false;  // Route
};

class Filter {
 public:
  // Builds the filter of a Subscribe request (its filter fields only). Throws FilterError.
  static Filter from(const bgpscribe::v1::SubscribeRequest& request);

  [[nodiscard]] bool matches(const EventView& event) const;
  [[nodiscard]] bool matches(const bgpscribe::v1::Event& event) const;
  // No filter at all: the caller can skip matches().
  [[nodiscard]] bool passes_everything() const;
  // Every route event passes (routes_only may be given, nothing else).
  [[nodiscard]] bool passes_every_route() const;
  // Whether matches() looks at an announcement's attributes (origin, path, communities).
  [[nodiscard]] bool reads_attributes() const;

 private:
  class Regex;  // a compiled regex_t, freed with it; shared by copies of the filter

  Filter() = default;

  [[nodiscard]] bool matches_peer(const bgpscribe::v1::Peer& peer) const;
  [[nodiscard]] bool matches_prefix(const codec::bgp::Prefix* p) const;
  [[nodiscard]] bool matches_attributes(const bgpscribe::v1::Attributes& attributes) const;

  // Sorted, for binary search: a list may be long (every peer of a route server).
  std::vector<std::uint32_t> peer_ids_;
  std::vector<codec::bgp::IpAddress> peer_addresses_;
  std::vector<std::uint32_t> peer_asns_;
  std::optional<codec::bgp::Prefix> prefix_;
  bool more_specific_ = false;
  bool less_specific_ = false;
  std::vector<std::uint32_t> origin_asns_;
  std::shared_ptr<const Regex> as_path_regex_;
  std::optional<std::uint32_t> community_;
  std::optional<std::array<std::uint32_t, 3>> large_community_;
  bool routes_only_ = false;
};

}  // namespace bgpscribe::exporters::events
