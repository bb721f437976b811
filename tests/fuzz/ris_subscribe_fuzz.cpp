// Fuzz target for the RIS Live stream's client message parser (collector/api/ris_live.cpp),
// which reads whatever a WebSocket client sends. parse_ris_request must answer every input with
// a request or an error message, never throw or crash. A subscription it accepts must keep its
// promises: its canonical JSON (`subscription`) parses again to the same subscription and the
// same filter; the filter is asked about a few fixed messages and agrees with its re-parsed
// self; a subscription of no filters passes them all. Seeds (corpus/ris_subscribe/) are the RIS
// Live manual's examples and the unit tests' refusals.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "collector/api/ris_live.hpp"

namespace {

namespace bgp = bgpscribe::codec::bgp;
using bgpscribe::collector::api::parse_ris_request;
using bgpscribe::collector::api::RisFilter;
using bgpscribe::collector::api::RisRequestType;
using bgpscribe::tools::RisHead;
using bgpscribe::tools::RisUpdate;

struct Sample {
  RisHead head;
  RisUpdate update;
  bool is_update = true;
};

std::vector<Sample> samples() {
  std::vector<Sample> out;
  const auto add = [&](const char* peer, const char* type, std::vector<std::uint32_t> path,
                       bool set, const char* announced, const char* withdrawn) {
    Sample s;
    s.head.host = "rrc-fuzz.example.net";
    s.head.type = type;
    s.head.peer = *bgp::IpAddress::parse(peer);
    s.is_update = std::string_view(type) == "UPDATE";
    s.update.path.push_back({false, static_cast<std::uint32_t>(path.size())});
    s.update.path_asns = path;
    if (set) {
      s.update.path.push_back({true, 1});
      s.update.path_asns.push_back(64511);
    }
    if (announced != nullptr) {
      s.update.announced.push_back(*bgp::Prefix::parse(announced));
      s.update.announcements.push_back({s.head.peer, std::nullopt, 1});
    }
    if (withdrawn != nullptr) {
      s.update.withdrawn.push_back(*bgp::Prefix::parse(withdrawn));
    }
    out.push_back(std::move(s));
  };
  add("192.0.2.9", "UPDATE", {64500, 3356, 174}, false, "10.1.0.0/16", nullptr);
  add("192.0.2.9", "UPDATE", {}, false, nullptr, "192.0.2.0/24");
  add("2001:db8::2", "UPDATE", {64501, 174}, true, "2001:db8:1::/48", "2001:db8::/32");
  add("2001:db8::2", "RIS_PEER_STATE", {}, false, nullptr, nullptr);
  add("10.0.0.1", "UPDATE", {0, 4294967295U}, false, "0.0.0.0/0", "255.255.255.255/32");
  return out;
}

bool matches(const RisFilter& f, const Sample& s) {
  return f.matches(s.head, s.is_update ? &s.update : nullptr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Exactly sized, so that over-reads show under ASan.
  const std::vector<char> input(data, data + size);  // NOLINT
  const auto parsed = parse_ris_request(std::string_view(input.data(), input.size()));
  if (!parsed.request) {
    if (parsed.error.empty()) {
      std::abort();  // a refusal always says why
    }
    return 0;
  }
  const auto& r = *parsed.request;
  if (r.type != RisRequestType::Subscribe && r.type != RisRequestType::Unsubscribe) {
    return 0;
  }
  static const std::vector<Sample> kSamples = samples();
  const auto again = parse_ris_request(R"({"type":"ris_subscribe","data":)" + r.subscription + "}");
  if (!again.request || again.request->subscription != r.subscription) {
    std::abort();
  }
  for (const auto& s : kSamples) {
    const bool m = matches(r.filter, s);
    if (m != matches(again.request->filter, s) || (r.subscription == "{}" && !m)) {
      std::abort();
    }
  }
  return 0;
}
