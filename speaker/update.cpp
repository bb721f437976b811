#include "speaker/update.hpp"

#include <algorithm>
#include <utility>

#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/notification_codes.hpp"
#include "codec/bgp/text.hpp"
#include "codec/wire/writer.hpp"

namespace bgpscribe::speaker {

namespace {

constexpr std::size_t kHeaderSize = 19;

std::size_t nlri_size(const Route& r, bool add_path) {
  return (add_path ? 4U : 0U) + 1U + (r.prefix.length + 7U) / 8U;
}

bgp::AfiSafi unicast_of(const bgp::Prefix& p) {
  return p.family() == bgp::Afi::Ipv6 ? bgp::kIpv6Unicast : bgp::kIpv4Unicast;
}

// Attributes UpdateBuilder keeps in typed fields, or rebuilds (MP_*, AS4_*).
bool has_typed_field(std::uint8_t type) {
  switch (static_cast<bgp::AttributeType>(type)) {
    case bgp::AttributeType::Origin:
    case bgp::AttributeType::AsPath:
    case bgp::AttributeType::NextHop:
    case bgp::AttributeType::MultiExitDisc:
    case bgp::AttributeType::LocalPref:
    case bgp::AttributeType::AtomicAggregate:
    case bgp::AttributeType::Aggregator:
    case bgp::AttributeType::Communities:
    case bgp::AttributeType::MpReachNlri:
    case bgp::AttributeType::MpUnreachNlri:
    case bgp::AttributeType::ExtendedCommunities:
    case bgp::AttributeType::As4Path:
    case bgp::AttributeType::As4Aggregator:
    case bgp::AttributeType::LargeCommunities:
      return true;
    default:
      return false;
  }
}

}  // namespace

// ---- Update --------------------------------------------------------------------------------

struct Update::Owned {
  std::vector<std::uint8_t> bytes;
  bgp::Update view;
};

codec::Result<Update> Update::parse(std::span<const std::uint8_t> message,
                                    const bgp::ParseContext& ctx) {
  auto owned = std::make_shared<Owned>();
  owned->bytes.assign(message.begin(), message.end());
  if (auto st = bgp::parse_update_into(owned->bytes, ctx, owned->view); !st) {
    return codec::Failure{st.error()};
  }
  Update u;
  u.bytes_ = owned->bytes;
  u.view_ = &owned->view;
  u.ctx_ = ctx;
  u.owned_ = std::move(owned);
  return u;
}

Update Update::owned() const {
  auto r = parse(bytes_, ctx_);
  // The bytes parsed once already with the same context, so this cannot fail.
  return std::move(r).value();
}

std::vector<Route> Update::announced() const {
  std::vector<Route> out;
  if (reaction() == codec::Reaction::TreatAsWithdraw) {
    return out;
  }
  const auto& v = *view_;
  for (const auto& n : v.nlri) {
    out.push_back(Route{bgp::kIpv4Unicast, n.prefix(), n.path_id});
  }
  const auto& mp = v.attributes.mp_reach.nlri;
  for (const auto& n : mp) {
    out.push_back(Route{mp.family(), n.prefix(), n.path_id});
  }
  return out;
}

std::vector<Route> Update::withdrawn() const {
  std::vector<Route> out;
  const auto& v = *view_;
  for (const auto& n : v.withdrawn) {
    out.push_back(Route{bgp::kIpv4Unicast, n.prefix(), n.path_id});
  }
  const auto& mp = v.attributes.mp_unreach.withdrawn;
  for (const auto& n : mp) {
    out.push_back(Route{mp.family(), n.prefix(), n.path_id});
  }
  if (reaction() == codec::Reaction::TreatAsWithdraw) {
    // RFC 7606 section 2: the announced routes are handled as withdrawn.
    for (const auto& n : v.nlri) {
      out.push_back(Route{bgp::kIpv4Unicast, n.prefix(), n.path_id});
    }
    const auto& reach = v.attributes.mp_reach.nlri;
    for (const auto& n : reach) {
      out.push_back(Route{reach.family(), n.prefix(), n.path_id});
    }
  }
  return out;
}

std::optional<bgp::AfiSafi> Update::end_of_rib() const {
  if (view_->end_of_rib) {
    return view_->end_of_rib_family;
  }
  return std::nullopt;
}

std::optional<bgp::Origin> Update::origin() const {
  if (!view_->attributes.has(bgp::AttributeType::Origin)) {
    return std::nullopt;
  }
  return view_->attributes.origin;
}

bgp::AsPath Update::as_path() const {
  const auto& a = view_->attributes;
  return bgp::effective_as_path(a, ctx_.four_octet_as);
}

std::string Update::as_path_string() const {
  return bgp::to_string(as_path());
}

std::optional<bgp::IpAddress> Update::next_hop() const {
  const auto& a = view_->attributes;
  if (a.has(bgp::AttributeType::NextHop)) {
    return bgp::IpAddress::v4(a.next_hop);
  }
  if (a.has(bgp::AttributeType::MpReachNlri) && a.mp_reach.next_hop.valid) {
    return a.mp_reach.next_hop.global;
  }
  return std::nullopt;
}

std::optional<std::uint32_t> Update::med() const {
  if (!view_->attributes.has(bgp::AttributeType::MultiExitDisc)) {
    return std::nullopt;
  }
  return view_->attributes.med;
}

std::optional<std::uint32_t> Update::local_pref() const {
  if (!view_->attributes.has(bgp::AttributeType::LocalPref)) {
    return std::nullopt;
  }
  return view_->attributes.local_pref;
}

bool Update::atomic_aggregate() const {
  return view_->attributes.has(bgp::AttributeType::AtomicAggregate);
}

std::optional<bgp::Aggregator> Update::aggregator() const {
  // RFC 6793 section 4.2.3: AS4_AGGREGATOR replaces an AS_TRANS aggregator.
  const auto& a = view_->attributes;
  return bgp::effective_aggregator(a, ctx_.four_octet_as);
}

std::vector<std::uint32_t> Update::communities() const {
  const auto list = view_->attributes.communities;
  std::vector<std::uint32_t> out(list.size() / 4);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = bgp::community_at(list, i);
  }
  return out;
}

std::vector<std::uint64_t> Update::extended_communities() const {
  const auto list = view_->attributes.extended_communities;
  std::vector<std::uint64_t> out(list.size() / 8);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = (std::uint64_t{codec::wire::load_u32(list, i * 8)} << 32) |
             codec::wire::load_u32(list, i * 8 + 4);
  }
  return out;
}

std::vector<std::array<std::uint32_t, 3>> Update::large_communities() const {
  const auto list = view_->attributes.large_communities;
  std::vector<std::array<std::uint32_t, 3>> out(list.size() / 12);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = {codec::wire::load_u32(list, i * 12), codec::wire::load_u32(list, i * 12 + 4),
              codec::wire::load_u32(list, i * 12 + 8)};
  }
  return out;
}

// ---- UpdateBuilder -------------------------------------------------------------------------

UpdateBuilder& UpdateBuilder::origin(bgp::Origin o) {
  attrs_.origin = o;
  return *this;
}
UpdateBuilder& UpdateBuilder::as_path(std::vector<std::uint32_t> sequence) {
  bgp::AsPath path;
  if (!sequence.empty()) {
    path.push_back(bgp::AsSegment{bgp::AsSegmentType::AsSequence, std::move(sequence)});
  }
  attrs_.as_path = std::move(path);
  return *this;
}
UpdateBuilder& UpdateBuilder::as_path_segments(bgp::AsPath path) {
  attrs_.as_path = std::move(path);
  return *this;
}
UpdateBuilder& UpdateBuilder::next_hop(const bgp::IpAddress& address) {
  attrs_.next_hop = address;
  return *this;
}
UpdateBuilder& UpdateBuilder::next_hop_link_local(const bgp::IpAddress& address) {
  attrs_.link_local = address;
  return *this;
}
UpdateBuilder& UpdateBuilder::med(std::uint32_t v) {
  attrs_.med = v;
  return *this;
}
UpdateBuilder& UpdateBuilder::local_pref(std::uint32_t v) {
  attrs_.local_pref = v;
  return *this;
}
UpdateBuilder& UpdateBuilder::atomic_aggregate() {
  attrs_.atomic_aggregate = true;
  return *this;
}
UpdateBuilder& UpdateBuilder::aggregator(std::uint32_t asn, std::uint32_t address_host_order) {
  attrs_.aggregator = bgp::Aggregator{asn, address_host_order};
  return *this;
}
UpdateBuilder& UpdateBuilder::community(std::uint32_t value) {
  attrs_.communities.push_back(value);
  return *this;
}
UpdateBuilder& UpdateBuilder::community(std::uint16_t high, std::uint16_t low) {
  return community((std::uint32_t{high} << 16) | low);
}
UpdateBuilder& UpdateBuilder::large_community(std::uint32_t global, std::uint32_t data1,
                                              std::uint32_t data2) {
  attrs_.large_communities.push_back({global, data1, data2});
  return *this;
}
UpdateBuilder& UpdateBuilder::extended_community(std::uint64_t value) {
  attrs_.extended_communities.push_back(value);
  return *this;
}
UpdateBuilder& UpdateBuilder::attribute(std::uint8_t flags, std::uint8_t type,
                                        std::span<const std::uint8_t> value) {
  attrs_.raw.push_back(bgp::AttributeBuilder::Item{
      flags, type, std::vector<std::uint8_t>(value.begin(), value.end())});
  return *this;
}

UpdateBuilder UpdateBuilder::from(const Update& update) {
  UpdateBuilder b;
  const auto& a = update.view().attributes;
  if (auto o = update.origin()) {
    b.origin(*o);
  }
  if (a.has(bgp::AttributeType::AsPath)) {
    b.as_path_segments(update.as_path());
  }
  if (auto nh = update.next_hop()) {
    b.next_hop(*nh);
    if (a.mp_reach.next_hop.has_link_local) {
      b.next_hop_link_local(a.mp_reach.next_hop.link_local);
    }
  }
  if (auto v = update.med()) {
    b.med(*v);
  }
  if (auto v = update.local_pref()) {
    b.local_pref(*v);
  }
  if (update.atomic_aggregate()) {
    b.atomic_aggregate();
  }
  if (auto ag = update.aggregator()) {
    b.aggregator(ag->asn, ag->address);
  }
  b.attrs_.communities = update.communities();
  b.attrs_.large_communities = update.large_communities();
  b.attrs_.extended_communities = update.extended_communities();
  // RFC 4271 section 5: optional transitive attributes without a typed field travel on,
  // unrecognised ones with the Partial bit set; optional non-transitive ones stop here.
  constexpr std::uint8_t kOptionalTransitive =
      bgp::attr_flag::kOptional | bgp::attr_flag::kTransitive;
  codec::bgp::RawAttributeIterator it(a.block, a.block_offset);
  bgp::RawAttribute raw;
  while (it.next(raw)) {
    if (has_typed_field(raw.type) || (raw.flags & kOptionalTransitive) != kOptionalTransitive) {
      continue;
    }
    const std::uint8_t partial = bgp::is_known_attribute(raw.type) ? 0 : bgp::attr_flag::kPartial;
    b.attribute(static_cast<std::uint8_t>(raw.flags | partial), raw.type, raw.value);
  }
  return b;
}

UpdateBuilder& UpdateBuilder::erase(bgp::AttributeType type) {
  switch (type) {
    case bgp::AttributeType::Origin:
      attrs_.origin.reset();
      break;
    case bgp::AttributeType::AsPath:
    case bgp::AttributeType::As4Path:
      attrs_.as_path.reset();
      break;
    case bgp::AttributeType::NextHop:
      attrs_.next_hop.reset();
      attrs_.link_local.reset();
      break;
    case bgp::AttributeType::MultiExitDisc:
      attrs_.med.reset();
      break;
    case bgp::AttributeType::LocalPref:
      attrs_.local_pref.reset();
      break;
    case bgp::AttributeType::AtomicAggregate:
      attrs_.atomic_aggregate = false;
      break;
    case bgp::AttributeType::Aggregator:
    case bgp::AttributeType::As4Aggregator:
      attrs_.aggregator.reset();
      break;
    case bgp::AttributeType::Communities:
      attrs_.communities.clear();
      break;
    case bgp::AttributeType::ExtendedCommunities:
      attrs_.extended_communities.clear();
      break;
    case bgp::AttributeType::LargeCommunities:
      attrs_.large_communities.clear();
      break;
    default:
      break;
  }
  const auto raw_type = static_cast<std::uint8_t>(type);
  std::erase_if(attrs_.raw, [raw_type](const auto& item) { return item.type == raw_type; });
  return *this;
}

UpdateBuilder& UpdateBuilder::announce(const bgp::Prefix& prefix, std::uint32_t path_id) {
  return announce(Route{unicast_of(prefix), prefix, path_id});
}
UpdateBuilder& UpdateBuilder::announce(const Route& route) {
  announce_.push_back(route);
  return *this;
}
UpdateBuilder& UpdateBuilder::withdraw(const bgp::Prefix& prefix, std::uint32_t path_id) {
  return withdraw(Route{unicast_of(prefix), prefix, path_id});
}
UpdateBuilder& UpdateBuilder::withdraw(const Route& route) {
  withdraw_.push_back(route);
  return *this;
}

bgp::AttributeBuilder UpdateBuilder::common_attributes(const bgp::ParseContext& ctx) const {
  bgp::AttributeBuilder b;
  b.origin(attrs_.origin.value_or(bgp::Origin::Igp));
  const bgp::AsPath path = attrs_.as_path.value_or(bgp::AsPath{});
  if (ctx.four_octet_as) {
    b.as_path(path, 4);
  } else {
    // RFC 6793 section 4.2.2: 2-octet AS_PATH with AS_TRANS, the true path in AS4_PATH.
    bgp::AsPath narrow = path;
    bool needs_as4 = false;
    for (auto& seg : narrow) {
      for (auto& asn : seg.asns) {
        if (asn > 0xffff) {
          asn = bgp::kAsTrans;
          needs_as4 = true;
        }
      }
    }
    b.as_path(narrow, 2);
    if (needs_as4) {
      b.as4_path(path);
    }
  }
  if (attrs_.med) {
    b.med(*attrs_.med);
  }
  if (attrs_.local_pref) {
    b.local_pref(*attrs_.local_pref);
  }
  if (attrs_.atomic_aggregate) {
    b.atomic_aggregate();
  }
  if (attrs_.aggregator) {
    if (ctx.four_octet_as || attrs_.aggregator->asn <= 0xffff) {
      b.aggregator(*attrs_.aggregator, ctx.four_octet_as ? 4 : 2);
    } else {
      b.aggregator(bgp::Aggregator{bgp::kAsTrans, attrs_.aggregator->address}, 2);
      b.as4_aggregator(*attrs_.aggregator);
    }
  }
  if (!attrs_.communities.empty()) {
    b.communities(attrs_.communities);
  }
  if (!attrs_.extended_communities.empty()) {
    b.extended_communities(attrs_.extended_communities);
  }
  if (!attrs_.large_communities.empty()) {
    b.large_communities(attrs_.large_communities);
  }
  for (const auto& item : attrs_.raw) {
    b.raw(item.flags, item.type, item.value);
  }
  return b;
}

namespace {

// Routes grouped by family, in order of first appearance.
std::vector<std::pair<bgp::AfiSafi, std::vector<Route>>> by_family(const std::vector<Route>& rs) {
  std::vector<std::pair<bgp::AfiSafi, std::vector<Route>>> out;
  for (const auto& r : rs) {
    auto it =
        std::find_if(out.begin(), out.end(), [&](const auto& g) { return g.first == r.family; });
    if (it == out.end()) {
      out.emplace_back(r.family, std::vector<Route>{});
      it = out.end() - 1;
    }
    it->second.push_back(r);
  }
  return out;
}

std::vector<std::uint8_t> next_hop_bytes(bgp::AfiSafi family, const bgp::IpAddress& nh,
                                         const std::optional<bgp::IpAddress>& link_local) {
  std::vector<std::uint8_t> out;
  if (family.afi == bgp::Afi::Ipv4) {
    if (nh.is_v4()) {
      out.assign(nh.bytes.begin(), nh.bytes.begin() + 4);
    }
    return out;
  }
  if (nh.is_v4()) {
    // An IPv4 next hop for IPv6 routes travels IPv4-mapped (RFC 4291 section 2.5.5.2).
    out.assign(10, 0);
    out.push_back(0xff);
    out.push_back(0xff);
    out.insert(out.end(), nh.bytes.begin(), nh.bytes.begin() + 4);
  } else {
    out.assign(nh.bytes.begin(), nh.bytes.end());
  }
  if (link_local && !link_local->is_v4()) {
    out.insert(out.end(), link_local->bytes.begin(), link_local->bytes.end());
  }
  return out;
}

codec::Status emit(const bgp::UpdateMessage& m, std::size_t max_size,
                   std::vector<std::vector<std::uint8_t>>& out) {
  codec::wire::Writer w;
  BGPSCRIBE_TRY(m.encode(w, max_size));
  out.push_back(w.take());
  return {};
}

}  // namespace

codec::Status UpdateBuilder::encode(const bgp::ParseContext& ctx, std::size_t max_size,
                                    std::vector<std::vector<std::uint8_t>>& out) const {
  const std::size_t budget = max_size - kHeaderSize - 4;  // two length fields

  for (const auto& [family, routes] : by_family(withdraw_)) {
    const bool add_path = ctx.add_path(family);
    std::size_t i = 0;
    while (i < routes.size()) {
      bgp::UpdateMessage m;
      std::vector<bgp::Prefix> prefixes;
      std::vector<std::uint32_t> ids;
      // MP_UNREACH: TLV header (4, extended) + AFI/SAFI (3).
      std::size_t used = family == bgp::kIpv4Unicast ? 0 : 7;
      while (i < routes.size() && used + nlri_size(routes[i], add_path) <= budget) {
        used += nlri_size(routes[i], add_path);
        if (family == bgp::kIpv4Unicast) {
          m.withdrawn.push_back({routes[i].prefix, routes[i].path_id});
        } else {
          prefixes.push_back(routes[i].prefix);
          ids.push_back(routes[i].path_id);
        }
        ++i;
      }
      if (family == bgp::kIpv4Unicast) {
        m.add_path = add_path;
      } else {
        m.attributes.mp_unreach(
            family, prefixes,
            add_path ? std::span<const std::uint32_t>(ids) : std::span<const std::uint32_t>());
      }
      BGPSCRIBE_TRY(emit(m, max_size, out));
    }
  }

  if (announce_.empty()) {
    return {};
  }
  const bgp::AttributeBuilder common = common_attributes(ctx);
  const std::size_t common_size = common.encoded_size();
  for (const auto& [family, routes] : by_family(announce_)) {
    const bool add_path = ctx.add_path(family);
    const bgp::IpAddress nh = attrs_.next_hop.value_or(bgp::IpAddress{});
    const bool classic = family == bgp::kIpv4Unicast;
    if (classic && (!nh.is_v4() || nh.is_unspecified())) {
      // A NEXT_HOP of 0.0.0.0 makes the receiver treat the routes as withdrawn (RFC 7606 7.3);
      // an IPv6 next hop for IPv4 routes (RFC 8950) the builder does not encode.
      return codec::fail(codec::ErrorKind::BadValue, 0,
                         "IPv4 unicast routes need an IPv4 next hop (next_hop)");
    }
    const auto nh_bytes = next_hop_bytes(family, nh, attrs_.link_local);
    // Classic: NEXT_HOP (7 bytes). MP_REACH: TLV header (4) + AFI/SAFI (3) + length (1) +
    // next hop + reserved (1).
    const std::size_t overhead = common_size + (classic ? 7 : 9 + nh_bytes.size());
    if (overhead >= budget) {
      return codec::fail(codec::ErrorKind::TooLarge, 0,
                         "attributes leave no room for NLRI within the message size");
    }
    std::size_t i = 0;
    while (i < routes.size()) {
      bgp::UpdateMessage m;
      m.attributes = common;
      std::vector<bgp::Prefix> prefixes;
      std::vector<std::uint32_t> ids;
      std::size_t used = overhead;
      while (i < routes.size()) {
        const std::size_t n = nlri_size(routes[i], add_path);
        if (used + n > budget) {
          break;
        }
        used += n;
        if (classic) {
          m.nlri.push_back({routes[i].prefix, routes[i].path_id});
        } else {
          prefixes.push_back(routes[i].prefix);
          ids.push_back(routes[i].path_id);
        }
        ++i;
      }
      if (classic) {
        m.add_path = add_path;
        m.attributes.next_hop(nh.is_v4() ? nh.v4_host_order() : 0);
      } else {
        m.attributes.mp_reach(
            family, nh_bytes, prefixes,
            add_path ? std::span<const std::uint32_t>(ids) : std::span<const std::uint32_t>());
      }
      BGPSCRIBE_TRY(emit(m, max_size, out));
    }
  }
  return {};
}

// ---- NotificationInfo ----------------------------------------------------------------------

std::string NotificationInfo::describe(const bgp::Notification& n) {
  std::string out = bgp::notification_text(n.code, n.subcode);
  out += " (" + std::to_string(n.code) + '/' + std::to_string(n.subcode) + ')';
  if (auto text = bgp::shutdown_communication(n)) {
    out += ": \"" + *text + '"';
  }
  return out;
}

bgp::Notification NotificationInfo::cease(std::uint8_t subcode, std::string_view text) {
  bgp::Notification n{bgp::error_code::kCease, subcode, {}};
  if (!text.empty() && bgp::may_carry_shutdown_communication(n)) {
    n.data = bgp::shutdown_communication_data(text);
  }
  return n;
}

}  // namespace bgpscribe::speaker
