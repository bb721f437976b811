// Test support: a RibSnapshot built by hand (the exporter tests' table, without a collector).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "codec/bgp/ip.hpp"
#include "exporters/api/record.hpp"
#include "exporters/api/rib_snapshot.hpp"

namespace bgpscribe::tests {

namespace bgp = codec::bgp;
using exporters::PeerInfoPtr;
using exporters::RibPeer;
using exporters::RibRoute;
using exporters::RibSnapshot;

// A small in-memory RibSnapshot.
class TestSnapshot : public RibSnapshot {
 public:
  explicit TestSnapshot(std::int64_t time_us) : time_us_(time_us) {}
  [[nodiscard]] std::int64_t time_us() const override { return time_us_; }
  [[nodiscard]] const std::vector<RibPeer>& peers() const override { return peers_; }
  [[nodiscard]] std::vector<bgp::AfiSafi> families() const override {
    std::vector<bgp::AfiSafi> out;
    for (const auto& f : tables_) {
      out.push_back(f.first);
    }
    return out;
  }
  [[nodiscard]] std::size_t route_count() const override {
    std::size_t n = 0;
    for (const auto& f : tables_) {
      for (const auto& p : f.second) {
        n += p.second.size();
      }
    }
    return n;
  }
  void for_each_prefix(
      bgp::AfiSafi family,
      const std::function<void(const bgp::Prefix&, std::span<const RibRoute>)>& f) const override {
    for (const auto& t : tables_) {
      if (t.first == family) {
        for (const auto& [prefix, routes] : t.second) {
          f(prefix, routes);
        }
      }
    }
  }

  std::uint16_t add_peer(PeerInfoPtr info, std::vector<bgp::AfiSafi> add_path = {}) {
    RibPeer p;
    p.info = std::move(info);
    p.add_path = std::move(add_path);
    return add_peer(std::move(p));
  }
  std::uint16_t add_peer(RibPeer peer) {
    peers_.push_back(std::move(peer));
    return static_cast<std::uint16_t>(peers_.size() - 1);
  }
  // The RibPeer of `add_peer`'s number, to set its counters.
  RibPeer& peer(std::uint16_t i) { return peers_[i]; }
  // Keeps `attributes` alive as long as the snapshot.
  void add_route(bgp::AfiSafi family, const std::string& prefix, std::uint16_t peer,
                 std::uint32_t path_id, std::vector<std::uint8_t> attributes,
                 std::uint32_t originated = 1700000000) {
    storage_.push_back(std::make_unique<std::vector<std::uint8_t>>(std::move(attributes)));
    auto it = std::find_if(tables_.begin(), tables_.end(),
                           [&](const auto& t) { return t.first == family; });
    if (it == tables_.end()) {
      tables_.push_back({family, {}});
      it = tables_.end() - 1;
    }
    auto& routes = it->second[*bgp::Prefix::parse(prefix)];
    routes.push_back({peer, path_id, originated, *storage_.back()});
    std::sort(routes.begin(), routes.end(), [](const RibRoute& a, const RibRoute& b) {
      return a.peer_index != b.peer_index ? a.peer_index < b.peer_index : a.path_id < b.path_id;
    });
  }

 private:
  std::int64_t time_us_;
  std::vector<RibPeer> peers_;
  std::vector<std::pair<bgp::AfiSafi, std::map<bgp::Prefix, std::vector<RibRoute>>>> tables_;
  std::vector<std::unique_ptr<std::vector<std::uint8_t>>> storage_;
};

}  // namespace bgpscribe::tests
