#include "exporters/events/convert.hpp"

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

// One RouteEvent of the UPDATE, the fields all its events share filled.
v1::RouteEvent& route_event(const Record& r, const Options& o, const v1::Peer& peer,
                            google::protobuf::RepeatedPtrField<v1::Event>& out) {
  auto& e = *out.Add()->mutable_route();
  e.set_time_us(r.time_us);
  *e.mutable_peer() = peer;
  e.set_update_seq(r.seq);
  if (o.raw_update) {
    const auto bytes = r.message.span();
    e.set_raw_update(bytes.data(), bytes.size());
  }
  return e;
}

void set_route(v1::RouteEvent& e, const bgp::Nlri& n, bgp::AfiSafi family) {
  e.set_prefix(n.prefix().to_string());
  e.set_path_id(n.path_id);
  e.set_afi(static_cast<std::uint32_t>(family.afi));
  e.set_safi(static_cast<std::uint32_t>(family.safi));
}

std::size_t update_events(const Record& r, const Options& o,
                          google::protobuf::RepeatedPtrField<v1::Event>& out) {
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
  v1::Peer peer;
  fill_peer(*r.peer, o.collector, peer);
  const bool withdraw_all = reaction == codec::Reaction::TreatAsWithdraw;
  const std::string error =
      reaction == codec::Reaction::None ? std::string() : u.diagnostics().strongest.message;
  std::size_t n = 0;
  const auto withdrawals = [&](const bgp::NlriBlock& block, bool announced) {
    if (!block.decoded()) {
      return;  // families kept raw (VPN, flowspec, ...) have no prefix to show
    }
    for (const auto& nlri : block) {
      auto& e = route_event(r, o, peer, out);
      e.set_action(v1::RouteEvent::WITHDRAW);
      set_route(e, nlri, block.family());
      if (announced) {
        e.set_decision(v1::TREAT_AS_WITHDRAW);
        e.set_error(error);
      }
      ++n;
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
  v1::Attributes attributes;
  fill_attributes(u.attributes, r.context, attributes);
  const auto announcements = [&](const bgp::NlriBlock& block) {
    if (!block.decoded()) {
      return;
    }
    for (const auto& nlri : block) {
      auto& e = route_event(r, o, peer, out);
      e.set_action(v1::RouteEvent::ANNOUNCE);
      set_route(e, nlri, block.family());
      *e.mutable_attributes() = attributes;
      if (reaction == codec::Reaction::AttributeDiscard) {
        e.set_decision(v1::ATTRIBUTE_DISCARDED);
        e.set_error(error);
      }
      ++n;
    }
  };
  announcements(u.nlri);
  announcements(u.attributes.mp_reach.nlri);
  return n;
}

v1::PeerEvent& peer_event(const Record& r, const Options& o,
                          google::protobuf::RepeatedPtrField<v1::Event>& out) {
  auto& e = *out.Add()->mutable_peer();
  e.set_time_us(r.time_us);
  fill_peer(*r.peer, o.collector, *e.mutable_peer());
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
  if (!record.peer) {
    return 0;
  }
  switch (record.type) {
    case RecordType::Message: {
      const auto bytes = record.message.span();
      if (bytes.size() <= kTypeAt ||
          bytes[kTypeAt] != static_cast<std::uint8_t>(bgp::MessageType::Update)) {
        return 0;
      }
      return update_events(record, options, out);
    }
    case RecordType::StateChange:
      // Reaching or leaving Established: the PeerUp or PeerDown record that follows says it.
      if (record.new_state == SessionState::Established ||
          record.old_state == SessionState::Established) {
        return 0;
      }
      peer_event(record, options, out);
      return 1;
    case RecordType::PeerUp: {
      auto& e = peer_event(record, options, out);
      const auto received = record.message.span();
      const auto sent = record.sent_open.span();
      e.set_open_received(received.data(), received.size());
      e.set_open_sent(sent.data(), sent.size());
      return 1;
    }
    case RecordType::PeerDown: {
      auto& e = peer_event(record, options, out);
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
