// Fuzz target for the live API's subscription filter (exporters/events/filter.cpp), which parses
// what any client of the API sends. The input is a serialized SubscribeRequest; bytes that do
// not parse as one are the text of the prefix, as_path_regex and community fields, split on
// '\n' (so that the text parsers see inputs the Protobuf wrapping would hide). Building may
// refuse with a FilterError (naming the field), never anything else; a filter built is asked
// about a handful of fixed events and must keep its promises: markers and Lagging pass, a
// withdrawal passes whenever the announcement of the same route does, routes_only drops peer
// events, and a filter that passes everything passes each event. The seeds
// (corpus/subscribe_filter/) are requests `protoc --encode` wrote from text format, one text
// input, and what the fuzzer found.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/stubs/logging.h>

#include "exporters/events/filter.hpp"

namespace {

namespace v1 = bgpscribe::v1;
using bgpscribe::exporters::events::Filter;
using bgpscribe::exporters::events::FilterError;

v1::Event route(const char* prefix, const char* peer_address, std::uint32_t peer_asn) {
  v1::Event e;
  auto& r = *e.mutable_route();
  r.set_prefix(prefix);
  r.mutable_peer()->set_id(peer_asn % 7);
  r.mutable_peer()->set_address(peer_address);
  r.mutable_peer()->set_asn(peer_asn);
  auto& a = *r.mutable_attributes();
  auto* s = a.add_as_path();
  s->set_type(v1::AsPathSegment::AS_SEQUENCE);
  s->add_asns(peer_asn);
  s->add_asns(64496);
  s = a.add_as_path();
  s->set_type(v1::AsPathSegment::AS_SET);
  s->add_asns(3);
  s->add_asns(4);
  s = a.add_as_path();
  s->set_type(v1::AsPathSegment::AS_CONFED_SEQUENCE);
  s->add_asns(5);
  s = a.add_as_path();
  s->set_type(v1::AsPathSegment::AS_CONFED_SET);
  s->add_asns(7);
  s->add_asns(4200000000);
  a.set_origin_asn(64496);
  a.add_communities("65000:1");
  a.add_communities("65535:65281");
  a.add_communities("junk");
  a.add_large_communities("4200000000:1:2");
  a.add_large_communities("1:2");
  return e;
}

// Announcements, each followed by its withdrawal.
const std::vector<v1::Event>& routes() {
  static const std::vector<v1::Event> events = [] {
    std::vector<v1::Event> out;
    for (auto e : {route("10.0.0.0/8", "192.0.2.1", 65001), route("10.1.2.0/24", "192.0.2.2", 1),
                   route("0.0.0.0/0", "2001:db8::1", 2), route("2001:db8::/32", "2001:db8::1", 3),
                   route("2001:db8:1::1/128", "", 0), route("not a prefix", "junk", 4)}) {
      out.push_back(e);
      e.mutable_route()->set_action(v1::RouteEvent::WITHDRAW);
      e.mutable_route()->clear_attributes();
      out.push_back(e);
    }
    return out;
  }();
  return events;
}

const std::vector<v1::Event>& others() {
  static const std::vector<v1::Event> events = [] {
    std::vector<v1::Event> out(4);
    auto& p = *out[0].mutable_peer()->mutable_peer();
    p.set_id(1);
    p.set_address("192.0.2.1");
    p.set_asn(65001);
    out[1].mutable_snapshot()->set_kind(v1::SnapshotMarker::END);
    out[2].mutable_lagging()->set_dropped(1);
    return out;  // out[3]: no kind
  }();
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // Protobuf logs each string field that is not UTF-8: thousands of lines a second here.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Exactly sized, so that over-reads show under ASan.
  const std::vector<char> input(data, data + size);  // NOLINT
  v1::SubscribeRequest request;
  if (!request.ParseFromArray(input.data(), static_cast<int>(input.size()))) {
    request.Clear();
    std::string_view text(input.data(), input.size());
    std::string* const fields[] = {request.mutable_prefix(), request.mutable_as_path_regex(),
                                   request.mutable_community()};
    for (auto* field : fields) {
      const auto end = text.find('\n');
      field->assign(text.substr(0, end));
      text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    }
    request.set_more_specific(!text.empty() && (text[0] & 1) != 0);
    request.set_less_specific(!text.empty() && (text[0] & 2) != 0);
  }
  try {
    const Filter filter = Filter::from(request);
    const auto& r = routes();
    for (std::size_t i = 0; i + 1 < r.size(); i += 2) {
      const bool announce = filter.matches(r[i]);
      const bool withdraw = filter.matches(r[i + 1]);
      if ((announce && !withdraw) || (filter.passes_everything() && !announce)) {
        std::abort();
      }
    }
    const auto& o = others();
    const bool peer = filter.matches(o[0]);
    if ((request.routes_only() && peer) || (filter.passes_everything() && !peer) ||
        !filter.matches(o[1]) || !filter.matches(o[2]) || !filter.matches(o[3])) {
      std::abort();
    }
  } catch (const FilterError& e) {
    if (std::string_view(e.what()).find(": ") == std::string_view::npos) {
      std::abort();  // every message names its field before the problem
    }
  }
  return 0;
}
