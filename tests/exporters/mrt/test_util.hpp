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
#include "tests/support/test_snapshot.hpp"

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

using bgpscribe::tests::TestSnapshot;

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
