// Helpers of the MRT exporter tests: records, hand-built UPDATEs, a small RibSnapshot, and
// reading MRT files back with the codec (temporary directories and BGP framing: tests/support).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "codec/mrt/file.hpp"
#include "exporters/api/exporter.hpp"
#include "exporters/api/rib_snapshot.hpp"
#include "exporters/mrt/exporter.hpp"
#include "tests/support/bgp_bytes.hpp"
#include "tests/support/files.hpp"
#include "tests/support/records.hpp"
#include "tests/support/temp_dir.hpp"

namespace bgpscribe::exporters::mrt::test {

namespace fs = std::filesystem;

using tests::files_under;
using tests::TempDir;

struct ReadRecord {
  codec::mrt::Header header;
  std::vector<std::uint8_t> bytes;  // the whole record
  [[nodiscard]] codec::mrt::Record view() const {
    auto r = codec::mrt::parse_record(bytes);
    return r ? *r : codec::mrt::Record{};
  }
};

struct ReadResult {
  std::vector<ReadRecord> records;
  codec::mrt::Compression compression = codec::mrt::Compression::None;
  bool clean = false;  // no stream error
  std::string error;
};

inline ReadResult read_mrt(const fs::path& path) {
  ReadResult out;
  codec::mrt::FileReader reader;
  if (!reader.open(path.string())) {
    out.error = "cannot open";
    return out;
  }
  out.compression = reader.compression();
  codec::mrt::FileRecord rec;
  while (reader.next(rec)) {
    out.records.push_back({rec.record.header, {rec.record.bytes.begin(), rec.record.bytes.end()}});
  }
  out.clean = reader.error() == nullptr;
  if (!out.clean) {
    out.error = reader.error()->message;
  }
  return out;
}

using tests::make_peer;
using tests::message_record;
using tests::state_record;

using tests::bgp_message;
inline constexpr auto* keepalive = &tests::keepalive_message;

// ORIGIN IGP, AS_PATH (one AS_SEQUENCE of `as`, 4 or 2 octets), NEXT_HOP 192.0.2.254.
inline std::vector<std::uint8_t> ipv4_attributes(std::uint32_t as, bool as4 = true) {
  std::vector<std::uint8_t> a = {0x40, 1, 1,
                                 0,  // ORIGIN IGP
                                 0x40, 2, static_cast<std::uint8_t>(as4 ? 6 : 4),
                                 2,    1};
  if (as4) {
    a.push_back(static_cast<std::uint8_t>(as >> 24));
    a.push_back(static_cast<std::uint8_t>(as >> 16));
  }
  a.push_back(static_cast<std::uint8_t>(as >> 8));
  a.push_back(static_cast<std::uint8_t>(as));
  a.insert(a.end(), {0x40, 3, 4, 192, 0, 2, 254});  // NEXT_HOP
  return a;
}

// An UPDATE announcing `nlri` (encoded prefixes, path ids included if any) in the classic
// IPv4 field, with `withdrawn` in the Withdrawn Routes field.
inline std::vector<std::uint8_t> ipv4_update(const std::vector<std::uint8_t>& nlri,
                                             const std::vector<std::uint8_t>& withdrawn = {},
                                             std::uint32_t as = 64500, bool as4 = true) {
  const auto attrs = nlri.empty() ? std::vector<std::uint8_t>{} : ipv4_attributes(as, as4);
  return tests::update_message(withdrawn, attrs, nlri);
}

// An UPDATE with MP_REACH_NLRI for IPv6 unicast (next hop 2001:db8::1) announcing `nlri`, plus
// optional classic IPv4 NLRI (a mixed-family UPDATE).
inline std::vector<std::uint8_t> ipv6_update(const std::vector<std::uint8_t>& nlri,
                                             const std::vector<std::uint8_t>& ipv4_nlri = {}) {
  std::vector<std::uint8_t> mp = {0, 2, 1, 16, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,
                                  0, 0, 0, 0,  0,    0,    0,    0,    1, 0};
  mp.insert(mp.end(), nlri.begin(), nlri.end());
  std::vector<std::uint8_t> attrs = {0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xFB, 0xF4};
  if (!ipv4_nlri.empty()) {
    attrs.insert(attrs.end(), {0x40, 3, 4, 192, 0, 2, 254});
  }
  attrs.push_back(0x90);  // optional, extended length
  attrs.push_back(14);
  attrs.push_back(static_cast<std::uint8_t>(mp.size() >> 8));
  attrs.push_back(static_cast<std::uint8_t>(mp.size()));
  attrs.insert(attrs.end(), mp.begin(), mp.end());
  std::vector<std::uint8_t> body = {0, 0};
  body.push_back(static_cast<std::uint8_t>(attrs.size() >> 8));
  body.push_back(static_cast<std::uint8_t>(attrs.size()));
  body.insert(body.end(), attrs.begin(), attrs.end());
  body.insert(body.end(), ipv4_nlri.begin(), ipv4_nlri.end());
  return bgp_message(2, body);
}

// End-of-RIB for IPv6 unicast: an UPDATE with an empty MP_UNREACH_NLRI (RFC 4724 section 2).
inline std::vector<std::uint8_t> ipv6_end_of_rib() {
  return bgp_message(2, {0, 0, 0, 6, 0x80, 15, 3, 0, 2, 1});
}

// A small in-memory RibSnapshot.
class TestSnapshot : public RibSnapshot {
 public:
  explicit TestSnapshot(std::int64_t time_us) : time_us_(time_us) {}
  [[nodiscard]] std::int64_t time_us() const override { return time_us_; }
  [[nodiscard]] const std::vector<RibPeer>& peers() const override { return peers_; }
  [[nodiscard]] std::vector<codec::bgp::AfiSafi> families() const override {
    std::vector<codec::bgp::AfiSafi> out;
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
  void for_each_prefix(codec::bgp::AfiSafi family,
                       const std::function<void(const codec::bgp::Prefix&,
                                                std::span<const RibRoute>)>& f) const override {
    for (const auto& t : tables_) {
      if (t.first == family) {
        for (const auto& [prefix, routes] : t.second) {
          f(prefix, routes);
        }
      }
    }
  }

  std::uint16_t add_peer(PeerInfoPtr info, std::vector<codec::bgp::AfiSafi> add_path = {}) {
    peers_.push_back({std::move(info), std::move(add_path)});
    return static_cast<std::uint16_t>(peers_.size() - 1);
  }
  // Keeps `attributes` alive as long as the snapshot.
  void add_route(codec::bgp::AfiSafi family, const std::string& prefix, std::uint16_t peer,
                 std::uint32_t path_id, std::vector<std::uint8_t> attributes,
                 std::uint32_t originated = 1700000000) {
    storage_.push_back(std::make_unique<std::vector<std::uint8_t>>(std::move(attributes)));
    auto it = std::find_if(tables_.begin(), tables_.end(),
                           [&](const auto& t) { return t.first == family; });
    if (it == tables_.end()) {
      tables_.push_back({family, {}});
      it = tables_.end() - 1;
    }
    auto& routes = it->second[*codec::bgp::Prefix::parse(prefix)];
    routes.push_back({peer, path_id, originated, *storage_.back()});
    std::sort(routes.begin(), routes.end(), [](const RibRoute& a, const RibRoute& b) {
      return a.peer_index != b.peer_index ? a.peer_index < b.peer_index : a.path_id < b.path_id;
    });
  }

 private:
  std::int64_t time_us_;
  std::vector<RibPeer> peers_;
  std::vector<std::pair<codec::bgp::AfiSafi, std::map<codec::bgp::Prefix, std::vector<RibRoute>>>>
      tables_;
  std::vector<std::unique_ptr<std::vector<std::uint8_t>>> storage_;
};

using bgpscribe::tests::rib_attributes;

inline Record snapshot_record(std::shared_ptr<const RibSnapshot> s) {
  Record r;
  r.type = RecordType::RibSnapshot;
  r.time_us = s->time_us();
  r.snapshot = std::move(s);
  return r;
}

// Options as a YAML document, for make()/parse_options.
inline Options options_from(const std::string& yaml, const std::string& collector = "rrc99") {
  ExporterContext ctx;
  ctx.instance_name = "mrt";
  ctx.collector_name = collector;
  ctx.config_file = "test.yaml";
  return parse_options(ctx, YAML::Load(yaml));
}

// An exporter whose log lines are collected.
struct Harness {
  std::vector<std::string> log;
  std::unique_ptr<MrtExporter> exporter;
  Harness(const std::string& yaml, const std::string& collector = "rrc99") {
    exporter =
        std::make_unique<MrtExporter>("mrt", options_from(yaml, collector),
                                      [this](const std::string& line) { log.push_back(line); });
  }
  MrtExporter* operator->() { return exporter.get(); }
  [[nodiscard]] bool logged(const std::string& part) const {
    return std::any_of(log.begin(), log.end(),
                       [&](const std::string& l) { return l.find(part) != std::string::npos; });
  }
};

// 2026-12-04 04:15:00 UTC in microseconds.
inline constexpr std::int64_t kT0 = 1796357700LL * 1'000'000;

}  // namespace bgpscribe::exporters::mrt::test
