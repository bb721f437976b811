#include "exporters/bmp/encode.hpp"

#include <algorithm>

#include "codec/bgp/as_path.hpp"
#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/attributes.hpp"
#include "codec/bgp/message_types.hpp"
#include "codec/bgp/update.hpp"
#include "codec/bmp/types.hpp"

namespace bgpscribe::exporters::bmp {

namespace bgp = codec::bgp;
namespace cbmp = codec::bmp;
using codec::Status;
using codec::wire::Writer;

namespace {

constexpr std::uint32_t kMicro = 1'000'000;

std::array<std::uint8_t, 16> raw_address(const bgp::IpAddress& a) {
  std::array<std::uint8_t, 16> out{};
  if (a.is_v4()) {
    std::copy_n(a.bytes.begin(), 4, out.begin() + 12);
  } else {
    out = a.bytes;
  }
  return out;
}

bool needs_as4(const bgp::AsPath& path) {
  return std::any_of(path.begin(), path.end(), [](const bgp::AsSegment& s) {
    return std::any_of(s.asns.begin(), s.asns.end(), [](std::uint32_t a) { return a > 0xFFFF; });
  });
}

// Bytes a prefix takes in NLRI.
std::size_t nlri_size(const bgp::Prefix& p, bool add_path) {
  return (add_path ? 4U : 0U) + 1U + (p.length + 7U) / 8U;
}

}  // namespace

cbmp::PerPeerHeader per_peer_header(const PeerInfo& peer, bool four_octet_as,
                                    std::int64_t time_us) {
  cbmp::PerPeerHeader h;
  if (peer.from_bmp()) {
    // A peer a BMP router reported: as that router's header said (its raw type, unknown ones
    // included), so that a station tells its instances and pre- and post-policy apart.
    h.peer_type = static_cast<cbmp::PeerType>(peer.bmp_peer_type);
    for (std::size_t i = 0; i < h.distinguisher.size(); ++i) {
      h.distinguisher[i] = static_cast<std::uint8_t>(peer.distinguisher >> (56 - 8 * i));
    }
  }
  h.set_peer_address(peer.peer_address);
  if (h.is_loc_rib()) {
    // RFC 9069 section 4.1: only F is defined for Loc-RIB (0x80, which V would collide with),
    // and we have no filtered Loc-RIB to say; the PDUs are 4-octet AS.
    h.flags = 0;
  } else {
    if (!four_octet_as) {
      h.flags |= cbmp::peer_flag::kLegacyAsPath;
    }
    if (peer.post_policy) {
      h.flags |= cbmp::peer_flag::kPostPolicy;
    }
  }
  h.peer_as = peer.peer_as;
  h.bgp_identifier = peer.peer_bgp_id;
  const auto t = time_us < 0 ? 0 : time_us;
  h.timestamp_seconds = static_cast<std::uint32_t>(t / kMicro);
  h.timestamp_microseconds = static_cast<std::uint32_t>(t % kMicro);
  return h;
}

void encode_initiation(const std::string& sys_name, const std::string& sys_descr, Writer& w) {
  const std::vector<std::uint8_t> name(sys_name.begin(), sys_name.end());
  const std::vector<std::uint8_t> descr(sys_descr.begin(), sys_descr.end());
  cbmp::Initiation m;
  m.information.push_back({static_cast<std::uint16_t>(cbmp::InformationType::SysName), name});
  m.information.push_back({static_cast<std::uint16_t>(cbmp::InformationType::SysDescr), descr});
  (void)cbmp::encode(m, w);  // two short strings always fit
}

void encode_termination(Writer& w) {
  static constexpr std::array<std::uint8_t, 2> kReason = {0, 0};  // administratively closed
  cbmp::Termination m;
  m.information.push_back({static_cast<std::uint16_t>(cbmp::TerminationType::Reason), kReason});
  (void)cbmp::encode(m, w);
}

Status encode_peer_up(const cbmp::PerPeerHeader& h, const PeerInfo& peer,
                      std::span<const std::uint8_t> sent_open,
                      std::span<const std::uint8_t> received_open, Writer& w) {
  cbmp::PeerUp m;
  m.peer = h;
  m.local_address = raw_address(peer.local_address);
  m.local_port = peer.local_port;
  m.remote_port = peer.peer_port;
  m.sent_open = sent_open;
  m.received_open = received_open;
  return cbmp::encode(m, w);
}

Status encode_peer_down(const cbmp::PerPeerHeader& h, const Record& record, Writer& w) {
  cbmp::PeerDown m;
  m.peer = h;
  if (!record.message.empty()) {
    // The NOTIFICATION PDU exactly as sent or received.
    m.reason = record.local_notification ? cbmp::PeerDownReason::LocalNotification
                                         : cbmp::PeerDownReason::RemoteNotification;
    m.data = record.message.span();
  } else if (record.local_notification) {
    m.reason = cbmp::PeerDownReason::LocalNoNotification;
    m.fsm_event = 0;  // the FSM event is not in the record: 0, none given
  } else {
    m.reason = cbmp::PeerDownReason::RemoteNoNotification;
  }
  return cbmp::encode(m, w);
}

Status encode_route_monitoring(const cbmp::PerPeerHeader& h, std::span<const std::uint8_t> update,
                               Writer& w) {
  cbmp::RouteMonitoring m;
  m.peer = h;
  m.update = update;
  return cbmp::encode(m, w);
}

std::uint64_t PeerCounts::total() const {
  std::uint64_t n = 0;
  for (const auto& f : per_family) {
    n += f.second;
  }
  return n;
}

void PeerCounts::add(bgp::AfiSafi f, std::uint64_t n) {
  for (auto& e : per_family) {
    if (e.first == f) {
      e.second += n;
      return;
    }
  }
  per_family.emplace_back(f, n);
}

Status encode_statistics(const cbmp::PerPeerHeader& h, const PeerCounts& counts, Writer& w) {
  cbmp::StatisticsReport m;
  m.peer = h;
  for (const auto t : {cbmp::StatType::RejectedPrefixes, cbmp::StatType::ClusterListLoop,
                       cbmp::StatType::AsPathLoop, cbmp::StatType::OriginatorIdInvalidated,
                       cbmp::StatType::AsConfedLoop}) {
    m.stats.push_back(cbmp::Stat::counter(t, 0));
  }
  // RFC 7854 counters are 32 bits: they wrap.
  const auto counter32 = [](std::uint64_t v) { return static_cast<std::uint32_t>(v); };
  m.stats.push_back(cbmp::Stat::counter(cbmp::StatType::DuplicateWithdraws,
                                        counter32(counts.unknown_withdrawals)));
  m.stats.push_back(cbmp::Stat::gauge(cbmp::StatType::AdjRibInRoutes, counts.total()));
  for (const auto& [family, n] : counts.per_family) {
    m.stats.push_back(
        cbmp::Stat::per_afi_safi(cbmp::StatType::PerAfiSafiAdjRibInRoutes, family, n));
  }
  m.stats.push_back(cbmp::Stat::counter(cbmp::StatType::TreatAsWithdrawUpdates,
                                        counter32(counts.treat_as_withdraw_updates)));
  m.stats.push_back(cbmp::Stat::counter(cbmp::StatType::TreatAsWithdrawPrefixes,
                                        counter32(counts.treat_as_withdraw_prefixes)));
  m.stats.push_back(
      cbmp::Stat::counter(cbmp::StatType::DuplicateUpdates, counts.duplicate_updates));
  return cbmp::encode(m, w);
}

Status build_update(bgp::AfiSafi family, const bgp::ParseContext& context,
                    std::span<const std::uint8_t> attributes, std::span<const bgp::Prefix> prefixes,
                    std::span<const std::uint32_t> path_ids, std::size_t max_size, Writer& w) {
  const bool add_path = context.add_path(family);
  const auto ids = add_path ? path_ids : std::span<const std::uint32_t>{};
  bgp::UpdateMessage u;
  u.add_path = add_path;
  bool in_mp = false;
  bgp::RawAttributeIterator it(attributes, 0);
  bgp::RawAttribute a;
  const auto type_of = [](bgp::AttributeType t) { return static_cast<std::uint8_t>(t); };
  while (it.next(a)) {
    if (a.type == type_of(bgp::AttributeType::MpReachNlri)) {
      // Abbreviated: next-hop length(1), next hop.
      const std::size_t len =
          a.value.empty() ? 0 : std::min<std::size_t>(a.value[0], a.value.size() - 1);
      u.attributes.mp_reach(family, a.value.subspan(a.value.empty() ? 0 : 1, len), prefixes, ids);
      in_mp = true;
    } else if (!context.four_octet_as && a.type == type_of(bgp::AttributeType::AsPath)) {
      const auto path = bgp::AsPathView::unchecked(a.value, 4).to_owned();
      u.attributes.as_path(path, 2);
      if (needs_as4(path)) {
        u.attributes.as4_path(path);
      }
    } else if (!context.four_octet_as && a.type == type_of(bgp::AttributeType::Aggregator) &&
               a.value.size() == 8) {
      const bgp::Aggregator agg{codec::wire::load_u32(a.value, 0),
                                codec::wire::load_u32(a.value, 4)};
      u.attributes.aggregator(agg, 2);
      if (agg.asn > 0xFFFF) {
        u.attributes.as4_aggregator(agg);
      }
    } else if (!context.four_octet_as && (a.type == type_of(bgp::AttributeType::As4Path) ||
                                          a.type == type_of(bgp::AttributeType::As4Aggregator))) {
      continue;  // made again from the 4-octet attributes above
    } else {
      u.attributes.raw(a.flags, a.type, a.value);
    }
  }
  if (!in_mp && family != bgp::kIpv4Unicast) {
    return codec::fail(codec::ErrorKind::BadValue, 0, "no MP_REACH_NLRI next hop for the family");
  }
  if (!in_mp) {
    for (std::size_t i = 0; i < prefixes.size(); ++i) {
      u.nlri.push_back({prefixes[i], add_path ? path_ids[i] : 0});
    }
  }
  return u.encode(w, max_size);
}

TablePacker::TablePacker(bgp::AfiSafi family, const bgp::ParseContext& context, Emit emit)
    : family_(family),
      context_(context),
      emit_(std::move(emit)),
      max_size_(context.extended_message ? bgp::kMaxExtendedMessageSize : bgp::kMaxMessageSize) {}

void TablePacker::add(const bgp::Prefix& prefix, std::uint32_t path_id,
                      std::span<const std::uint8_t> attributes) {
  const bool same = !prefixes_.empty() && std::ranges::equal(attributes, attributes_);
  const std::size_t cost = nlri_size(prefix, context_.add_path(family_));
  if (!same || estimate_ + cost > max_size_) {
    finish();
    attributes_.assign(attributes.begin(), attributes.end());
    // Header, lengths, the AS4_PATH a 2-octet session may add, the whole MP_REACH head.
    estimate_ = bgp::kHeaderSize + 4 + 2 * attributes.size() + 48;
  }
  prefixes_.push_back(prefix);
  path_ids_.push_back(path_id);
  estimate_ += cost;
}

void TablePacker::finish() {
  if (!prefixes_.empty()) {
    emit_range(0, prefixes_.size());
  }
  prefixes_.clear();
  path_ids_.clear();
}

void TablePacker::emit_range(std::size_t from, std::size_t to) {
  writer_.clear();
  const auto prefixes = std::span<const bgp::Prefix>(prefixes_).subspan(from, to - from);
  const auto ids = std::span<const std::uint32_t>(path_ids_).subspan(from, to - from);
  if (build_update(family_, context_, attributes_, prefixes, ids, max_size_, writer_)) {
    emit_(writer_.bytes());
    return;
  }
  if (to - from == 1) {
    ++too_large_;
    return;
  }
  const std::size_t mid = from + (to - from) / 2;
  emit_range(from, mid);
  emit_range(mid, to);
}

std::size_t TableGrouper::slot_of(std::uint16_t peer_index,
                                  std::span<const std::uint8_t> attributes) const {
  // Fibonacci hashing of the address (its low bits are alignment) and the peer.
  const auto key = (std::hash<const void*>{}(attributes.data()) ^ (std::size_t{peer_index} << 48) ^
                    attributes.size()) *
                   std::size_t{0x9E3779B97F4A7C15};
  const std::size_t mask = slots_.size() - 1;
  std::size_t at = (key >> 20) & mask;
  for (;;) {
    const auto g = slots_[at];
    if (g == 0) {
      return at;
    }
    const auto& group = groups_[g - 1];
    if (group.peer_index == peer_index && group.attributes.data() == attributes.data() &&
        group.attributes.size() == attributes.size()) {
      return at;
    }
    at = (at + 1) & mask;
  }
}

void TableGrouper::grow() {
  slots_.assign(slots_.empty() ? std::size_t{1} << 16 : slots_.size() * 2, 0);
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    slots_[slot_of(groups_[g].peer_index, groups_[g].attributes)] =
        static_cast<std::uint32_t>(g + 1);
  }
}

void TableGrouper::add(std::uint16_t peer_index, std::span<const std::uint8_t> attributes,
                       const bgp::Prefix& prefix, std::uint32_t path_id) {
  if (2 * (groups_.size() + 1) > slots_.size()) {
    grow();
  }
  const auto at = slot_of(peer_index, attributes);
  if (slots_[at] == 0) {
    groups_.push_back({peer_index, attributes, 0});
    slots_[at] = static_cast<std::uint32_t>(groups_.size());
  }
  const auto g = slots_[at] - 1;
  ++groups_[g].routes;
  entries_.push_back({g, path_id, prefix});
}

void TableGrouper::sort() {
  // Counting sort by group: each group's first slot, then every entry in its place.
  std::vector<std::size_t> next(groups_.size());
  std::size_t at = 0;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    next[g] = at;
    at += groups_[g].routes;
  }
  sorted_.resize(entries_.size());
  for (const auto& e : entries_) {
    sorted_[next[e.group]++] = e;
  }
}

void TableGrouper::clear() {
  std::fill(slots_.begin(), slots_.end(), 0);
  groups_.clear();
  entries_.clear();
  sorted_.clear();
}

}  // namespace bgpscribe::exporters::bmp
