// Fuzz target for the live API's event encoder (exporters/events/convert.hpp, EventEncoder):
// it writes the Protobuf wire format by hand around bytes it made once, so any UPDATE the codec
// takes must give bytes that the generated parser reads back to the same events and that are
// exactly what the generated serializer writes (the canonical form). Also for the same bytes
// read as a table's attributes (append_route, the snapshot path).
//
// Input layout as update_fuzz: a whole message starting with the marker is taken with its
// length field patched (4-octet AS, no ADD-PATH); otherwise the first octet selects the context
// (bit 0: 4-octet AS, bit 1: ADD-PATH IPv4 unicast, bit 2: ADD-PATH IPv6 unicast, bit 5:
// ADD-PATH on every family, bit 6: keep the attributes for filters, bit 7: raw UPDATEs) and the
// rest is the UPDATE body.
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bgpscribe/v1/api.pb.h"
#include "exporters/events/convert.hpp"

namespace {

namespace bgp = bgpscribe::codec::bgp;
namespace v1 = bgpscribe::v1;
using bgpscribe::exporters::PeerInfo;
using bgpscribe::exporters::Record;
using bgpscribe::exporters::RecordType;
using bgpscribe::exporters::RibRoute;
using bgpscribe::exporters::SharedBytes;
using bgpscribe::exporters::events::EventBlock;
using bgpscribe::exporters::events::EventEncoder;
using bgpscribe::exporters::events::EventView;
using bgpscribe::exporters::events::Options;

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "event_encoder_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

std::vector<std::uint8_t> wrap(std::span<const std::uint8_t> body) {
  std::vector<std::uint8_t> m(19 + body.size(), 0xFF);
  m[16] = static_cast<std::uint8_t>(m.size() >> 8);
  m[17] = static_cast<std::uint8_t>(m.size());
  m[18] = 2;
  for (std::size_t i = 0; i < body.size(); ++i) {
    m[19 + i] = body[i];
  }
  return m;
}

// Everything the block holds against the generated code's reading of it.
void check(const EventBlock& block, bool raw, std::span<const std::uint8_t> message) {
  v1::EventBatch batch;
  require(batch.ParseFromArray(block.bytes().data(), static_cast<int>(block.bytes().size())),
          "the block parses as an EventBatch");
  require(static_cast<std::size_t>(batch.events_size()) == block.size(), "one event per entry");
  require(batch.SerializeAsString() == block.bytes(), "the block is the canonical serialization");
  std::string one;
  v1::Event with_raw;
  for (std::size_t i = 0; i < block.size(); ++i) {
    const auto& e = batch.events(static_cast<int>(i));
    one.clear();
    block.append_event(i, false, one);
    require(one == e.SerializeAsString(), "an event alone is its bytes in the block");
    const auto view = block.view(i);
    if (view.kind != EventView::Kind::Route) {
      continue;
    }
    require(e.has_route(), "a route entry is a RouteEvent");
    require(view.prefix != nullptr && view.prefix->to_string() == e.route().prefix(),
            "the view's prefix is the event's");
    require(view.withdraw == (e.route().action() == v1::RouteEvent::WITHDRAW),
            "the view's action is the event's");
    require(view.attributes == nullptr ||
                view.attributes->SerializeAsString() == e.route().attributes().SerializeAsString(),
            "the view's attributes are the event's");
    block.parse(i, raw, with_raw);
    if (raw) {
      const std::string want(message.begin(), message.end());
      require(with_raw.route().raw_update() == want, "the raw UPDATE merges in whole");
      with_raw.mutable_route()->clear_raw_update();
    }
    require(with_raw.SerializeAsString() == e.SerializeAsString(),
            "the raw UPDATE changes nothing else");
  }
}

// The path attributes of an UPDATE body when its lengths hold, else the whole body.
std::span<const std::uint8_t> attributes_of(std::span<const std::uint8_t> body) {
  if (body.size() < 2) {
    return body;
  }
  const std::size_t withdrawn = (std::size_t{body[0]} << 8) | body[1];
  if (body.size() < 4 + withdrawn) {
    return body;
  }
  const std::size_t length = (std::size_t{body[2 + withdrawn]} << 8) | body[3 + withdrawn];
  if (body.size() < 4 + withdrawn + length) {
    return body;
  }
  return body.subspan(4 + withdrawn, length);
}

void encode(const std::vector<std::uint8_t>& message, const bgp::ParseContext& ctx, bool keep,
            bool raw, std::span<const std::uint8_t> body) {
  auto peer = std::make_shared<PeerInfo>();
  peer->id = 7;
  peer->name = "fuzz";
  peer->peer_address = *bgp::IpAddress::parse("192.0.2.7");
  peer->peer_as = 64500;
  Record r;
  r.type = RecordType::Message;
  r.time_us = 1'700'000'000'000'000;
  r.peer = peer;
  r.message = SharedBytes(message);
  r.context = ctx;
  r.seq = 42;
  EventEncoder encoder(Options{"rrc99", raw, keep});
  EventBlock block;
  const std::size_t n = encoder.append(r, block);
  require(n == block.size(), "append counts the events it wrote");
  check(block, raw, message);

  // The same bytes as a table's attributes (a snapshot's route), twice: the second from the
  // encoder's cache of attribute sets.
  EventBlock table;
  RibRoute route;
  route.attributes = attributes_of(body);
  route.originated = 1'700'000'000;
  const auto prefix = *bgp::Prefix::parse("192.0.2.0/24");
  encoder.append_route(peer, bgp::kIpv4Unicast, prefix, route, table);
  encoder.append_route(peer, bgp::kIpv4Unicast, prefix, route, table);
  require(table.size() == 2, "a table route is one event");
  check(table, false, {});
  v1::Event a;
  v1::Event b;
  table.parse(0, false, a);
  table.parse(1, false, b);
  require(a.SerializeAsString() == b.SerializeAsString(), "the cached attributes are the same");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);  // parse errors are expected, not news
    return true;
  }();
  (void)quiet;
  const std::span<const std::uint8_t> input(data, size);
  if (input.empty() || input.size() > 65535 - 19) {
    return 0;
  }
  bool marker = input.size() >= 19;
  for (std::size_t i = 0; marker && i < 16; ++i) {
    marker = input[i] == 0xFF;
  }
  bgp::ParseContext ctx;
  if (marker) {
    ctx.four_octet_as = true;
    encode(wrap(input.subspan(19)), ctx, true, true, input.subspan(19));
    return 0;
  }
  const std::uint8_t sel = input[0];
  ctx.four_octet_as = (sel & 0x01) != 0;
  ctx.set_add_path(bgp::kIpv4Unicast, (sel & 0x02) != 0);
  ctx.set_add_path(bgp::kIpv6Unicast, (sel & 0x04) != 0);
  ctx.set_add_path_all((sel & 0x20) != 0);
  encode(wrap(input.subspan(1)), ctx, (sel & 0x40) != 0, (sel & 0x80) != 0, input.subspan(1));
  return 0;
}
