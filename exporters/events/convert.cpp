#include "exporters/events/convert.hpp"

#include <google/protobuf/io/coded_stream.h>

#include <array>
#include <functional>

#include "bgpscribe/v1/api.pb.h"
#include "codec/bgp/as_path.hpp"
#include "codec/bgp/message_types.hpp"
#include "codec/bgp/notification.hpp"
#include "codec/bgp/text.hpp"
#include "codec/bgp/update.hpp"
#include "codec/wire/reader.hpp"

namespace bgpscribe::exporters::events {

namespace bgp = codec::bgp;
namespace v1 = bgpscribe::v1;

namespace {

constexpr std::size_t kTypeAt = 18;  // the BGP header's type octet

std::string ipv4_text(std::uint32_t host_order) {
  return bgp::IpAddress::v4(host_order).to_string();
}

std::string address_text(const bgp::IpAddress& a) {
  // All zero until known (a local address before the connection): "", as the schema says.
  return a.is_unspecified() ? std::string() : a.to_string();
}

void fill_attributes(const bgp::PathAttributes& a, const bgp::ParseContext& ctx,
                     v1::Attributes& out) {
  using T = bgp::AttributeType;
  if (a.has(T::Origin)) {
    out.set_origin(static_cast<v1::Attributes::Origin>(a.origin));
  }
  if (a.has(T::AsPath)) {
    // The true path: AS4_PATH merged on 2-octet sessions (RFC 6793 4.2.3).
    const bgp::AsPath path = bgp::effective_as_path(a, ctx.four_octet_as);
    for (const auto& s : path) {
      auto* seg = out.add_as_path();
      seg->set_type(static_cast<v1::AsPathSegment::Type>(static_cast<int>(s.type) - 1));
      seg->mutable_asns()->Add(s.asns.begin(), s.asns.end());
    }
    if (const std::uint32_t origin_as = bgp::origin_as(path); origin_as != 0) {
      out.set_origin_asn(origin_as);
    }
  }
  if (a.has(T::MpReachNlri) && a.mp_reach.next_hop.valid) {
    out.set_next_hop(a.mp_reach.next_hop.global.to_string());
    if (a.mp_reach.next_hop.has_link_local) {
      out.set_next_hop_link_local(a.mp_reach.next_hop.link_local.to_string());
    }
  } else if (a.has(T::NextHop)) {
    out.set_next_hop(ipv4_text(a.next_hop));
  }
  if (a.has(T::MultiExitDisc)) {
    out.set_med(a.med);
  }
  if (a.has(T::LocalPref)) {
    out.set_local_pref(a.local_pref);
  }
  out.set_atomic_aggregate(a.has(T::AtomicAggregate));
  if (const auto agg = bgp::effective_aggregator(a, ctx.four_octet_as)) {
    out.set_aggregator_asn(agg->asn);
    out.set_aggregator_address(ipv4_text(agg->address));
  }
  std::string text;
  for (std::size_t i = 0; i + 4 <= a.communities.size(); i += 4) {
    text.clear();
    bgp::append_community(text, codec::wire::load_u32(a.communities, i));
    out.add_communities(text);
  }
  for (std::size_t i = 0; i + 8 <= a.extended_communities.size(); i += 8) {
    text.clear();
    bgp::append_extended_community(text, a.extended_communities.subspan(i, 8));
    out.add_extended_communities(text);
  }
  for (std::size_t i = 0; i + 12 <= a.large_communities.size(); i += 12) {
    text.clear();
    bgp::append_large_community(text, a.large_communities.subspan(i, 12));
    out.add_large_communities(text);
  }
  if (a.has(T::OriginatorId)) {
    out.set_originator_id(ipv4_text(a.originator_id));
  }
  for (std::size_t i = 0; i + 4 <= a.cluster_list.size(); i += 4) {
    out.add_cluster_list(ipv4_text(codec::wire::load_u32(a.cluster_list, i)));
  }
  if (a.has(T::Aigp)) {
    out.set_aigp(a.aigp);
  }
  if (a.has(T::Otc)) {
    out.set_otc(a.otc);
  }
  bgp::RawAttributeIterator it(a.block, a.block_offset);
  bgp::RawAttribute raw;
  while (it.next(raw)) {
    if (!bgp::has_decoded_view(raw.type)) {
      auto* o = out.add_other_attributes();
      o->set_type(raw.type);
      o->set_flags(raw.flags);
      o->set_value(raw.value.data(), raw.value.size());
    }
  }
}

// The Protobuf wire format, as far as the route events need it (protobuf.dev, "Encoding"):
// a field is its tag (number << 3 | wire type) and a varint or a length and the bytes. Fields
// are written in number order and zero scalars left out, as the generated serializer does, so
// the bytes are what SerializeToString would give (the tests compare them).
constexpr std::uint32_t kVarint = 0;
constexpr std::uint32_t kLength = 2;

std::size_t field_size(int field, std::size_t length) {
  using google::protobuf::io::CodedOutputStream;
  return CodedOutputStream::VarintSize32(static_cast<std::uint32_t>(field) << 3) +
         CodedOutputStream::VarintSize64(length) + length;
}

std::size_t uint_size(int field, std::uint64_t v) {
  using google::protobuf::io::CodedOutputStream;
  return v == 0 ? 0
                : CodedOutputStream::VarintSize32(static_cast<std::uint32_t>(field) << 3) +
                      CodedOutputStream::VarintSize64(v);
}

// Writes fields into room made for them beforehand (their sizes are added up first), so that
// no byte costs a capacity check or a reallocation.
class Room {
 public:
  Room(std::string& out, std::size_t size) : out_(out), at_(out.size()) { out.resize(at_ + size); }
  [[nodiscard]] std::size_t at() const { return at_; }

  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_[at_++] = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out_[at_++] = static_cast<char>(v);
  }
  void tag(int field, std::uint32_t type) {
    varint((static_cast<std::uint32_t>(field) << 3) | type);
  }
  void uint(int field, std::uint64_t v) {
    if (v != 0) {
      tag(field, kVarint);
      varint(v);
    }
  }
  template <class Bytes>  // std::string_view, std::span<const std::uint8_t>
  void bytes(int field, const Bytes& b) {
    tag(field, kLength);
    varint(b.size());
    std::copy(b.begin(), b.end(), out_.begin() + static_cast<std::ptrdiff_t>(at_));
    at_ += b.size();
  }

 private:
  std::string& out_;
  std::size_t at_;
};

v1::PeerEvent& peer_event(const Record& r, const v1::Peer& peer, v1::Event& out) {
  auto& e = *out.mutable_peer();
  e.set_time_us(r.time_us);
  *e.mutable_peer() = peer;
  e.set_old_state(static_cast<v1::PeerEvent::State>(r.old_state));
  e.set_new_state(static_cast<v1::PeerEvent::State>(r.new_state));
  e.set_reason(r.reason);
  e.set_seq(r.seq);
  return e;
}

}  // namespace

void fill_rib_attributes(std::span<const std::uint8_t> attributes, bgp::AfiSafi family,
                         v1::Attributes& out) {
  bgp::ParseContext ctx;
  ctx.four_octet_as = true;  // the table form has 4-octet ASNs
  bgp::AttributeOptions opts;
  opts.mrt_rib = true;
  opts.rib_family = family;
  const auto a = bgp::parse_attributes(codec::wire::Reader(attributes), ctx, opts);
  fill_attributes(a, ctx, out);
}

void fill_peer(const PeerInfo& info, const std::string& collector, v1::Peer& out) {
  out.set_id(info.id);
  out.set_name(info.name);
  out.set_address(address_text(info.peer_address));
  out.set_asn(info.peer_as);
  if (info.peer_bgp_id != 0) {
    out.set_bgp_id(ipv4_text(info.peer_bgp_id));
  }
  out.set_local_address(address_text(info.local_address));
  out.set_local_asn(info.local_as);
  out.set_peer_port(info.peer_port);
  out.set_local_port(info.local_port);
  if (info.from_bmp()) {
    out.set_router(info.router);
    out.set_router_address(address_text(info.router_address));
    out.set_bmp_peer_type(info.bmp_peer_type);
    out.set_distinguisher(info.distinguisher);
    out.set_post_policy(info.post_policy);
  }
  out.set_collector(collector);
}

std::size_t append_events(const Record& record, const Options& options,
                          google::protobuf::RepeatedPtrField<v1::Event>& out) {
  EventEncoder encoder(options);
  EventBlock block;
  const std::size_t n = encoder.append(record, block);
  for (std::size_t i = 0; i < n; ++i) {
    block.parse(i, options.raw_update, *out.Add());
  }
  return n;
}

void append_batch_field(const v1::Event& event, std::string& out) {
  const std::size_t size = event.ByteSizeLong();
  {
    Room w(out, field_size(v1::EventBatch::kEventsFieldNumber, size) - size);
    w.tag(v1::EventBatch::kEventsFieldNumber, kLength);
    w.varint(size);
  }
  event.AppendToString(&out);
}

EventBlock::EventBlock(std::size_t events) {
  // About what a route event of a full table takes (peer, prefix, path, communities).
  constexpr std::size_t kEventBytes = 256;
  entries_.reserve(events);
  bytes_.reserve(events * kEventBytes);
}

// ---- EventBlock --------------------------------------------------------------------------------

EventView EventBlock::view(std::size_t i) const {
  const auto& e = entries_[i];
  EventView v;
  v.kind = e.kind;
  v.peer = e.peer == kNone ? nullptr : peers_[e.peer].get();
  if (e.kind == EventView::Kind::Route) {
    v.prefix = &e.prefix;
    v.withdraw = e.withdraw;
    v.attributes = e.attributes == kNone ? nullptr : &attributes_[e.attributes];
  }
  return v;
}

namespace {

// An Event holding only the raw UPDATE of its route: after the event's own bytes it merges into
// it (a message field seen twice is merged, protobuf.dev "Encoding": "Last One Wins" and
// embedded messages), so a stream that wants raw UPDATEs adds them without the events being
// made twice.
std::size_t raw_piece_size(std::size_t raw) {
  return field_size(v1::Event::kRouteFieldNumber,
                    field_size(v1::RouteEvent::kRawUpdateFieldNumber, raw));
}

void put_raw_piece(std::string& out, std::span<const std::uint8_t> raw) {
  Room w(out, raw_piece_size(raw.size()));
  w.tag(v1::Event::kRouteFieldNumber, kLength);
  w.varint(field_size(v1::RouteEvent::kRawUpdateFieldNumber, raw.size()));
  w.bytes(v1::RouteEvent::kRawUpdateFieldNumber, raw);
}

}  // namespace

void EventBlock::append_field(std::size_t i, bool raw, std::string& out) const {
  const auto& e = entries_[i];
  if (!raw || e.raw == kNone) {
    out.append(bytes_, e.field, e.end - e.field);
    return;
  }
  const auto bytes = raws_[e.raw].span();
  const std::size_t size = e.end - e.begin + raw_piece_size(bytes.size());
  {
    Room w(out, field_size(v1::EventBatch::kEventsFieldNumber, size) - size);
    w.tag(v1::EventBatch::kEventsFieldNumber, kLength);
    w.varint(size);
  }
  out.append(bytes_, e.begin, e.end - e.begin);
  put_raw_piece(out, bytes);
}

void EventBlock::append_event(std::size_t i, bool raw, std::string& out) const {
  const auto& e = entries_[i];
  out.append(bytes_, e.begin, e.end - e.begin);
  if (raw && e.raw != kNone) {
    put_raw_piece(out, raws_[e.raw].span());
  }
}

void EventBlock::parse(std::size_t i, bool raw, v1::Event& out) const {
  std::string bytes;
  append_event(i, raw, bytes);
  out.ParseFromString(bytes);
}

// ---- EventEncoder ------------------------------------------------------------------------------

std::uint32_t EventEncoder::peer_of(const PeerInfoPtr& info, EventBlock& block,
                                    const std::string** bytes) {
  auto& cached = peers_[info->id];
  if (cached.info != info && (!cached.info || !(*cached.info == *info))) {
    auto message = std::make_shared<v1::Peer>();
    fill_peer(*info, options_.collector, *message);
    cached.bytes = message->SerializeAsString();
    cached.message = std::move(message);
  }
  cached.info = info;
  *bytes = &cached.bytes;
  if (block.peers_.empty() || block.peers_.back() != cached.message) {
    block.peers_.push_back(cached.message);
  }
  return static_cast<std::uint32_t>(block.peers_.size() - 1);
}

void EventEncoder::append_message(const v1::Event& event, std::uint32_t peer, EventBlock& block) {
  auto& e = block.entries_.emplace_back();
  ++block.other_events_;
  e.kind = EventView::Kind::Peer;
  e.peer = peer;
  e.field = static_cast<std::uint32_t>(block.bytes_.size());
  append_batch_field(event, block.bytes_);
  e.end = static_cast<std::uint32_t>(block.bytes_.size());
  e.begin = e.end - static_cast<std::uint32_t>(event.GetCachedSize());
}

template <class Fill>
std::uint32_t EventEncoder::make_attributes(EventBlock& block, const Fill& fill) {
  v1::Attributes* decoded = &decoded_;
  std::uint32_t index = EventBlock::kNone;
  if (options_.keep_attributes) {
    index = static_cast<std::uint32_t>(block.attributes_.size());
    decoded = &block.attributes_.emplace_back();
  } else {
    decoded_.Clear();  // keeps what its fields allocated for the next UPDATE
  }
  fill(*decoded);
  attributes_.clear();
  decoded->AppendToString(&attributes_);
  return index;
}

// One route event: the RouteEvent written field by field around the peer's and the attributes'
// bytes (attributes_) made before.
void EventEncoder::put_route(const RouteParts& p, EventBlock& block) {
  using RE = v1::RouteEvent;
  std::array<char, 64> text{};
  const std::string_view prefix_text(text.data(), p.prefix.format(text));
  const auto time = static_cast<std::uint64_t>(p.time_us);
  const auto afi = static_cast<std::uint32_t>(p.family.afi);
  const auto safi = static_cast<std::uint32_t>(p.family.safi);
  const auto action = p.withdraw ? RE::WITHDRAW : RE::ANNOUNCE;
  const std::string_view error = p.decision == v1::ACCEPTED ? std::string_view() : p.error;
  const std::size_t route_size =
      uint_size(RE::kTimeUsFieldNumber, time) +
      field_size(RE::kPeerFieldNumber, p.peer_bytes.size()) +
      uint_size(RE::kActionFieldNumber, action) +
      field_size(RE::kPrefixFieldNumber, prefix_text.size()) +
      uint_size(RE::kPathIdFieldNumber, p.path_id) + uint_size(RE::kAfiFieldNumber, afi) +
      uint_size(RE::kSafiFieldNumber, safi) +
      (p.withdraw ? 0 : field_size(RE::kAttributesFieldNumber, attributes_.size())) +
      uint_size(RE::kDecisionFieldNumber, p.decision) +
      (error.empty() ? 0 : field_size(RE::kErrorFieldNumber, error.size())) +
      uint_size(RE::kUpdateSeqFieldNumber, p.seq);
  const std::size_t event_size = field_size(v1::Event::kRouteFieldNumber, route_size);

  auto& e = block.entries_.emplace_back();
  e.kind = EventView::Kind::Route;
  e.peer = p.peer;
  e.attributes = p.withdraw ? EventBlock::kNone : p.attributes;
  e.raw = p.raw;
  e.withdraw = p.withdraw;
  e.prefix = p.prefix;
  e.field = static_cast<std::uint32_t>(block.bytes_.size());
  Room w(block.bytes_, field_size(v1::EventBatch::kEventsFieldNumber, event_size));
  w.tag(v1::EventBatch::kEventsFieldNumber, kLength);
  w.varint(event_size);
  e.begin = static_cast<std::uint32_t>(w.at());
  w.tag(v1::Event::kRouteFieldNumber, kLength);
  w.varint(route_size);
  w.uint(RE::kTimeUsFieldNumber, time);
  w.bytes(RE::kPeerFieldNumber, p.peer_bytes);
  w.uint(RE::kActionFieldNumber, action);
  w.bytes(RE::kPrefixFieldNumber, prefix_text);
  w.uint(RE::kPathIdFieldNumber, p.path_id);
  w.uint(RE::kAfiFieldNumber, afi);
  w.uint(RE::kSafiFieldNumber, safi);
  if (!p.withdraw) {
    w.bytes(RE::kAttributesFieldNumber, attributes_);
  }
  w.uint(RE::kDecisionFieldNumber, p.decision);
  if (!error.empty()) {
    w.bytes(RE::kErrorFieldNumber, error);
  }
  w.uint(RE::kUpdateSeqFieldNumber, p.seq);
  e.end = static_cast<std::uint32_t>(w.at());
}

void EventEncoder::append_route(const PeerInfoPtr& peer, bgp::AfiSafi family,
                                const bgp::Prefix& prefix, const RibRoute& route,
                                EventBlock& block) {
  RouteParts parts;
  parts.time_us = std::int64_t{route.originated} * 1'000'000;
  const std::string* peer_bytes = nullptr;
  parts.peer = peer_of(peer, block, &peer_bytes);
  parts.peer_bytes = *peer_bytes;
  parts.prefix = prefix;
  parts.path_id = route.path_id;
  parts.family = family;
  // A table's attribute sets are shared by the routes that have them (one copy each): the
  // bytes of the last ones seen are kept by their address, and neighbouring prefixes often
  // share a set.
  const std::size_t slot = std::hash<const std::uint8_t*>{}(route.attributes.data()) >> 3;
  auto& cached = table_attributes_[slot % table_attributes_.size()];
  if (options_.keep_attributes || cached.key.data() != route.attributes.data() ||
      cached.key.size() != route.attributes.size() || cached.family != family) {
    parts.attributes = make_attributes(
        block, [&](v1::Attributes& out) { fill_rib_attributes(route.attributes, family, out); });
    cached.key = route.attributes;
    cached.family = family;
    cached.bytes = attributes_;
  } else {
    attributes_ = cached.bytes;
  }
  put_route(parts, block);
}

std::size_t EventEncoder::append_update(const Record& r, EventBlock& block) {
  const auto bytes = r.message.span();
  auto parsed = bgp::parse_update(bytes, r.context);
  if (!parsed) {
    return 0;  // the session was reset on it (or, for BMP, it was not applied): no route changed
  }
  const auto& u = *parsed;
  const auto reaction = u.reaction();
  if (reaction == codec::Reaction::SessionReset || reaction == codec::Reaction::AfiSafiDisable) {
    return 0;
  }
  const std::string* peer_bytes = nullptr;
  const std::uint32_t peer = peer_of(r.peer, block, &peer_bytes);
  std::uint32_t raw = EventBlock::kNone;
  if (options_.raw_update) {
    raw = static_cast<std::uint32_t>(block.raws_.size());
    block.raws_.push_back(r.message);
  }
  const bool withdraw_all = reaction == codec::Reaction::TreatAsWithdraw;
  const std::string_view error = reaction == codec::Reaction::None
                                     ? std::string_view()
                                     : std::string_view(u.diagnostics().strongest.message);
  RouteParts parts;
  parts.time_us = r.time_us;
  parts.seq = r.seq;
  parts.peer = peer;
  parts.peer_bytes = *peer_bytes;
  parts.raw = raw;
  parts.error = error;
  std::size_t n = 0;
  const auto put = [&](const bgp::Nlri& nlri, bgp::AfiSafi family, bool withdraw,
                       v1::Decision decision) {
    parts.prefix = nlri.prefix();
    parts.path_id = nlri.path_id;
    parts.family = family;
    parts.withdraw = withdraw;
    parts.decision = decision;
    put_route(parts, block);
    ++n;
  };
  const auto withdrawals = [&](const bgp::NlriBlock& nlri, bool announced) {
    if (!nlri.decoded()) {
      return;  // families kept raw (VPN, flowspec, ...) have no prefix to show
    }
    for (const auto& one : nlri) {
      put(one, nlri.family(), true, announced ? v1::TREAT_AS_WITHDRAW : v1::ACCEPTED);
    }
  };
  withdrawals(u.withdrawn, false);
  withdrawals(u.attributes.mp_unreach.withdrawn, false);
  if (withdraw_all) {
    withdrawals(u.nlri, true);
    withdrawals(u.attributes.mp_reach.nlri, true);
    return n;
  }
  if (!u.has_announcements()) {
    return n;
  }
  parts.attributes = make_attributes(
      block, [&](v1::Attributes& out) { fill_attributes(u.attributes, r.context, out); });
  const auto decision =
      reaction == codec::Reaction::AttributeDiscard ? v1::ATTRIBUTE_DISCARDED : v1::ACCEPTED;
  const auto announcements = [&](const bgp::NlriBlock& nlri) {
    if (!nlri.decoded()) {
      return;
    }
    for (const auto& one : nlri) {
      put(one, nlri.family(), false, decision);
    }
  };
  announcements(u.nlri);
  announcements(u.attributes.mp_reach.nlri);
  return n;
}

std::size_t EventEncoder::append(const Record& record, EventBlock& block) {
  if (!record.peer) {
    return 0;
  }
  const std::string* unused = nullptr;
  v1::Event event;
  switch (record.type) {
    case RecordType::Message: {
      const auto bytes = record.message.span();
      if (bytes.size() <= kTypeAt ||
          bytes[kTypeAt] != static_cast<std::uint8_t>(bgp::MessageType::Update)) {
        return 0;
      }
      return append_update(record, block);
    }
    case RecordType::StateChange: {
      // Reaching or leaving Established: the PeerUp or PeerDown record that follows says it.
      if (record.new_state == SessionState::Established ||
          record.old_state == SessionState::Established) {
        return 0;
      }
      const auto peer = peer_of(record.peer, block, &unused);
      peer_event(record, *block.peers_[peer], event);
      append_message(event, peer, block);
      return 1;
    }
    case RecordType::PeerUp: {
      const auto peer = peer_of(record.peer, block, &unused);
      auto& e = peer_event(record, *block.peers_[peer], event);
      const auto received = record.message.span();
      const auto sent = record.sent_open.span();
      e.set_open_received(received.data(), received.size());
      e.set_open_sent(sent.data(), sent.size());
      append_message(event, peer, block);
      return 1;
    }
    case RecordType::PeerDown: {
      const auto peer = peer_of(record.peer, block, &unused);
      auto& e = peer_event(record, *block.peers_[peer], event);
      if (!record.message.empty()) {
        if (auto n = bgp::parse_notification(record.message.span())) {
          auto& pb = *e.mutable_notification();
          pb.set_code(n->code);
          pb.set_subcode(n->subcode);
          pb.set_data(n->data.data(), n->data.size());
          pb.set_text(bgp::notification_text(n->code, n->subcode));
          pb.set_sent(record.local_notification);
        }
      }
      append_message(event, peer, block);
      return 1;
    }
    case RecordType::RibSnapshot:
    case RecordType::Start:
    case RecordType::StaleEnd:
      return 0;
  }
  return 0;
}

}  // namespace bgpscribe::exporters::events
