#include "tools/replay_input.hpp"

#include <bitset>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <utility>

#include "codec/bgp/as_path.hpp"
#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/message.hpp"
#include "codec/bgp/update.hpp"
#include "codec/mrt/bgp4mp.hpp"
#include "codec/mrt/file.hpp"
#include "codec/mrt/table_dump.hpp"

namespace bgpscribe::tools {

namespace bgp = codec::bgp;
namespace mrt = codec::mrt;

void append_attribute(std::vector<std::uint8_t>& out, std::uint8_t flags, std::uint8_t type,
                      std::span<const std::uint8_t> value) {
  const bool extended = value.size() > 255 || (flags & bgp::attr_flag::kExtendedLength) != 0;
  out.push_back(extended ? static_cast<std::uint8_t>(flags | bgp::attr_flag::kExtendedLength)
                         : flags);
  out.push_back(type);
  if (extended) {
    out.push_back(static_cast<std::uint8_t>(value.size() >> 8));
  }
  out.push_back(static_cast<std::uint8_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
}

namespace {

bgp::Prefix masked(const bgp::IpAddress& address, std::uint8_t length) {
  bgp::Prefix p{address, length};
  const std::size_t size = address.size();
  for (std::size_t i = 0; i < size; ++i) {
    const std::size_t bit = i * 8;
    if (bit >= length) {
      p.address.bytes[i] = 0;
    } else if (length - bit < 8) {
      p.address.bytes[i] &= static_cast<std::uint8_t>(0xFF << (8 - (length - bit)));
    }
  }
  return p;
}

// A RIB entry a receiver would keep: no treat-as-withdraw (or worse) error and the mandatory
// attributes present (RFC 7606 section 3(d); NEXT_HOP is synthesized when missing).
bool replayable(const bgp::PathAttributes& pa) {
  return pa.diagnostics.reaction < codec::Reaction::TreatAsWithdraw &&
         pa.has(bgp::AttributeType::Origin) && pa.has(bgp::AttributeType::AsPath);
}

const char* problem(const bgp::PathAttributes& pa) {
  return pa.diagnostics.reaction >= codec::Reaction::TreatAsWithdraw
             ? pa.diagnostics.strongest.message
             : "ORIGIN or AS_PATH missing";
}

std::string peer_key(const bgp::IpAddress& ip, std::uint32_t as) {
  const auto b = ip.span();
  std::string key(b.begin(), b.end());
  key += static_cast<char>(ip.family == bgp::Afi::Ipv6 ? 6 : 4);
  key += std::to_string(as);
  return key;
}

}  // namespace

void canonical_attributes(const bgp::PathAttributes& pa, bool four_octet,
                          std::vector<std::uint8_t>& out) {
  out.clear();
  bgp::RawAttributeIterator it(pa.block, 0);
  bgp::RawAttribute a;
  codec::wire::Writer w;
  std::bitset<256> kept;
  while (it.next(a)) {
    // RFC 7606: what the decoder discarded (invalid, repeated, AS4_* between 4-octet speakers)
    // is left out, as a receiver would; unknown optional attributes travel on unchanged.
    if (bgp::is_known_attribute(a.type) && (kept[a.type] || !pa.present[a.type])) {
      continue;
    }
    kept[a.type] = true;
    const auto type = static_cast<bgp::AttributeType>(a.type);
    switch (type) {
      case bgp::AttributeType::MpReachNlri:
      case bgp::AttributeType::MpUnreachNlri:
      case bgp::AttributeType::As4Path:
      case bgp::AttributeType::As4Aggregator:
        continue;  // rebuilt by the encoder, or merged below (RFC 6793 section 4.2.3)
      case bgp::AttributeType::AsPath:
        if (!four_octet) {
          const bgp::AsPath path = bgp::effective_as_path(pa, false);
          w.clear();
          bgp::encode_as_path(w, path, 4);
          append_attribute(out,
                           static_cast<std::uint8_t>(a.flags & ~bgp::attr_flag::kExtendedLength),
                           a.type, w.bytes());
          continue;
        }
        break;
      case bgp::AttributeType::Aggregator:
        if (!four_octet && pa.has(bgp::AttributeType::Aggregator)) {
          const bgp::Aggregator agg = *bgp::effective_aggregator(pa, false);
          w.clear();
          w.u32(agg.asn);
          w.u32(agg.address);
          append_attribute(out,
                           static_cast<std::uint8_t>(a.flags & ~bgp::attr_flag::kExtendedLength),
                           a.type, w.bytes());
          continue;
        }
        break;
      default:
        break;
    }
    append_attribute(out, a.flags, a.type, a.value);
  }
}

std::uint32_t MrtPeer::intern(bgp::AfiSafi family, std::span<const std::uint8_t> attributes,
                              std::span<const std::uint8_t> next_hop, bool has_next_hop_attribute) {
  key_.clear();
  key_ += static_cast<char>(family.afi == bgp::Afi::Ipv6 ? 6 : 4);
  key_ += static_cast<char>(next_hop.size());
  key_.append(next_hop.begin(), next_hop.end());
  key_.append(attributes.begin(), attributes.end());
  if (auto it = index_.find(std::string_view(key_)); it != index_.end()) {
    return it->second;
  }
  const auto id = static_cast<std::uint32_t>(sets.size());
  AttributeSet s;
  s.family = family;
  s.attributes.assign(attributes.begin(), attributes.end());
  s.next_hop.assign(next_hop.begin(), next_hop.end());
  s.has_next_hop_attribute = has_next_hop_attribute;
  sets.push_back(std::move(s));
  index_.emplace(key_, id);
  return id;
}

MrtPeer& ReplayInput::peer(const bgp::IpAddress& ip, std::uint32_t as) {
  const std::string key = peer_key(ip, as);
  if (auto it = by_key_.find(key); it != by_key_.end()) {
    return *it->second;
  }
  auto p = std::make_unique<MrtPeer>();
  p->ip = ip;
  p->as = as;
  MrtPeer* raw = p.get();
  peers_.push_back(std::move(p));
  by_key_.emplace(key, raw);
  return *raw;
}

bool ReplayInput::wanted(bgp::AfiSafi family) const {
  return (family == bgp::kIpv4Unicast && options_.ipv4) ||
         (family == bgp::kIpv6Unicast && options_.ipv6);
}

bool ReplayInput::load(const std::string& path) {
  mrt::FileReader reader;
  if (auto st = reader.open(path); !st) {
    std::fprintf(stderr, "bgpscribe replay: %s: %s%s%s\n", path.c_str(), st.error().message,
                 errno != 0 ? ": " : "", errno != 0 ? std::strerror(errno) : "");
    ++stats_.io_errors;
    return false;
  }
  std::uint64_t reported = 0;
  auto report = [&](std::uint64_t index, std::uint64_t offset, const char* what,
                    const char* detail = "") {
    ++stats_.malformed;
    if (options_.quiet) {
      return;
    }
    if (++reported > 20) {
      if (reported == 21) {
        std::fprintf(stderr, "bgpscribe replay: %s: further problems are only counted\n",
                     path.c_str());
      }
      return;
    }
    std::fprintf(stderr, "bgpscribe replay: %s: record %llu at byte %llu: %s%s%s\n", path.c_str(),
                 static_cast<unsigned long long>(index), static_cast<unsigned long long>(offset),
                 what, *detail != '\0' ? ": " : "", detail);
  };

  // The PEER_INDEX_TABLE in force: MRT peer per index.
  std::vector<MrtPeer*> table;
  std::vector<std::uint64_t> seen;  // record stamp per peer index (first entry per prefix)
  bgp::PathAttributes pa;
  bgp::Update update;
  std::vector<std::uint8_t> canonical;
  codec::wire::Writer scratch;

  // Adds the canonical set of `pa` for `family` and returns its index.
  auto intern = [&](MrtPeer& p, bgp::AfiSafi family, bool four_octet) {
    canonical_attributes(pa, four_octet, canonical);
    std::span<const std::uint8_t> nh;
    const bool has_nh = pa.has(bgp::AttributeType::NextHop);
    if (pa.has(bgp::AttributeType::MpReachNlri) && pa.mp_reach.next_hop.valid) {
      const auto raw = pa.mp_reach.next_hop.raw;
      const bool v6 = family == bgp::kIpv6Unicast && (raw.size() == 16 || raw.size() == 32);
      const bool v4 = family == bgp::kIpv4Unicast && !has_nh && raw.size() == 4;
      if (v6 || v4) {
        nh = raw;
      }
    }
    return p.intern(family, canonical, nh, has_nh);
  };

  auto add_update = [&](MrtPeer& p, const bgp::Update& u, bool four_octet, std::uint64_t time_us,
                        std::uint64_t index, std::uint64_t offset) {
    if (u.end_of_rib) {
      return;  // replay sends its own End-of-RIB markers
    }
    // RFC 7606: attribute discard replays without the attribute (canonical_attributes), treat-
    // as-withdraw as the withdrawal it amounts to; worse errors cannot be replayed.
    if (u.reaction() > codec::Reaction::TreatAsWithdraw) {
      report(index, offset + u.diagnostics().strongest.offset, "UPDATE skipped",
             u.diagnostics().strongest.message);
      return;
    }
    const bool as_withdraw = u.reaction() == codec::Reaction::TreatAsWithdraw;
    ++stats_.update_messages;
    first_update_us_ = std::min(first_update_us_, time_us);
    auto add_routes = [&](const bgp::NlriBlock& block, bool withdraw, std::uint32_t set) {
      if (block.empty()) {
        return;
      }
      if (!wanted(block.family())) {
        stats_.skipped_family += block.decoded() ? block.count() : 1;
        return;
      }
      UpdateEvent e;
      e.time_us = time_us;
      e.set = set;
      e.family = block.family();
      e.withdraw = withdraw;
      e.begin = static_cast<std::uint32_t>(p.update_routes.size());
      for (const auto& n : block) {
        p.update_routes.push_back({n.prefix(), options_.add_path ? n.path_id : 0, 0});
      }
      e.end = static_cast<std::uint32_t>(p.update_routes.size());
      p.update_prefixes += e.end - e.begin;
      p.updates.push_back(e);
    };
    add_routes(u.withdrawn, true, 0);
    if (u.attributes.has(bgp::AttributeType::MpUnreachNlri)) {
      add_routes(u.attributes.mp_unreach.withdrawn, true, 0);
    }
    if (as_withdraw) {
      add_routes(u.nlri, true, 0);
      add_routes(u.attributes.mp_reach.nlri, true, 0);
    } else if (!u.nlri.empty() || u.attributes.has(bgp::AttributeType::MpReachNlri)) {
      pa = u.attributes;
      if (!u.nlri.empty() && wanted(bgp::kIpv4Unicast)) {
        add_routes(u.nlri, false, intern(p, bgp::kIpv4Unicast, four_octet));
      } else {
        add_routes(u.nlri, false, 0);
      }
      const auto& mp = u.attributes.mp_reach.nlri;
      if (!mp.empty() && wanted(mp.family())) {
        add_routes(mp, false, intern(p, mp.family(), four_octet));
      } else {
        add_routes(mp, false, 0);
      }
    }
  };

  mrt::FileRecord rec;
  while (true) {
    if (!reader.next(rec)) {
      const mrt::StreamError* e = reader.error();
      if (e == nullptr) {
        break;
      }
      report(e->record_index, e->offset, e->message, e->detail);
      if (e->skippable && reader.skip()) {
        continue;
      }
      if (e->system_error != 0) {
        ++stats_.io_errors;
      }
      break;
    }
    ++stats_.records;
    const mrt::Record& r = rec.record;
    const auto body_at = rec.offset + r.body_offset();
    switch (r.header.type) {
      case mrt::Type::TableDumpV2: {
        const auto sub = static_cast<mrt::TableDumpV2Subtype>(r.header.subtype);
        if (sub == mrt::TableDumpV2Subtype::PeerIndexTable) {
          auto t = mrt::parse_peer_index_table(r);
          if (!t) {
            report(rec.index, rec.offset + t.error().offset, "PEER_INDEX_TABLE", t.error().message);
            break;
          }
          table.clear();
          for (const auto& entry : t->peers) {
            MrtPeer& p = peer(entry.ip, entry.as);
            p.bgp_id = entry.bgp_id;
            table.push_back(&p);
          }
          seen.assign(table.size(), 0);
          break;
        }
        if (!mrt::is_rib(sub)) {
          break;
        }
        auto rib = mrt::parse_rib(r);
        if (!rib) {
          report(rec.index, rec.offset + rib.error().offset, "RIB record", rib.error().message);
          break;
        }
        const auto prefix = rib->prefix();
        if (!prefix || !wanted(rib->family)) {
          stats_.skipped_family += rib->entry_count;
          break;
        }
        const bgp::ParseContext ctx = mrt::parse_context_for(r);
        bgp::AttributeOptions ao;
        ao.mrt_rib = true;
        ao.rib_family = rib->family;
        for (const auto& entry : *rib) {
          if (entry.peer_index >= table.size()) {
            report(rec.index, rec.offset, "RIB entry names a peer index past the PEER_INDEX_TABLE");
            continue;
          }
          if (!options_.add_path) {
            if (seen[entry.peer_index] == rec.index + 1) {
              ++stats_.skipped_duplicate;
              continue;
            }
            seen[entry.peer_index] = rec.index + 1;
          }
          bgp::parse_attributes_into(codec::wire::Reader(entry.attributes), ctx, ao, pa);
          if (!replayable(pa)) {
            report(rec.index, rec.offset, "RIB entry skipped", problem(pa));
            continue;
          }
          MrtPeer& p = *table[entry.peer_index];
          const std::uint32_t set = intern(p, rib->family, true);
          p.sets[set].rib.push_back({*prefix, options_.add_path ? entry.path_id : 0, 0});
          ++p.rib_routes;
          ++stats_.rib_routes;
        }
        break;
      }
      case mrt::Type::TableDump: {
        auto e = mrt::parse_table_dump(r);
        if (!e) {
          report(rec.index, rec.offset + e.error().offset, "TABLE_DUMP record", e.error().message);
          break;
        }
        const bgp::AfiSafi family = e->prefix.is_v4() ? bgp::kIpv4Unicast : bgp::kIpv6Unicast;
        if (!wanted(family)) {
          ++stats_.skipped_family;
          break;
        }
        bgp::AttributeOptions ao;
        ao.mrt_rib = true;
        ao.rib_family = family;
        bgp::parse_attributes_into(codec::wire::Reader(e->attributes), mrt::parse_context_for(r),
                                   ao, pa);
        if (!replayable(pa)) {
          report(rec.index, rec.offset, "TABLE_DUMP entry skipped", problem(pa));
          break;
        }
        MrtPeer& p = peer(e->peer_ip, e->peer_as);
        const std::uint32_t set = intern(p, family, e->as4());
        p.sets[set].rib.push_back({masked(e->prefix, e->prefix_length), 0, 0});
        ++p.rib_routes;
        ++stats_.rib_routes;
        break;
      }
      case mrt::Type::Bgp4mp:
      case mrt::Type::Bgp4mpEt: {
        const auto sub = static_cast<mrt::Bgp4mpSubtype>(r.header.subtype);
        // _LOCAL subtypes are messages the recording router sent, not what its peer announced.
        if (!mrt::is_message(sub) || mrt::is_local(sub)) {
          break;
        }
        auto m = mrt::parse_bgp4mp_message(r);
        if (!m) {
          report(rec.index, rec.offset + m.error().offset, "BGP4MP record", m.error().message);
          break;
        }
        auto view = bgp::split_message(m->message);
        if (!view) {
          report(rec.index, body_at, "BGP message", view.error().message);
          break;
        }
        if (view->header.type != bgp::MessageType::Update) {
          break;
        }
        const bgp::ParseContext ctx = mrt::parse_context_for(r);
        if (auto st = bgp::parse_update_into(m->message, ctx, update); !st) {
          report(rec.index, body_at, "UPDATE", st.error().message);
          break;
        }
        const std::uint64_t t =
            std::uint64_t{r.header.timestamp} * 1000000U + r.header.microseconds;
        add_update(peer(m->peer.peer_ip, m->peer.peer_as), update, ctx.four_octet_as, t, rec.index,
                   rec.offset);
        break;
      }
      case mrt::Type::Bgp:
      case mrt::Type::Bgp4Plus:
      case mrt::Type::Bgp4Plus01: {
        if (r.header.subtype != static_cast<std::uint16_t>(mrt::BgpSubtype::Update)) {
          break;
        }
        auto m = mrt::parse_bgp_message(r);
        if (!m) {
          report(rec.index, rec.offset + m.error().offset, "BGP record", m.error().message);
          break;
        }
        scratch.clear();
        if (auto st = mrt::to_bgp_message(*m, scratch); !st) {
          report(rec.index, body_at, "BGP record", st.error().message);
          break;
        }
        const bgp::ParseContext ctx = mrt::parse_context_for(r);
        if (auto st = bgp::parse_update_into(scratch.bytes(), ctx, update); !st) {
          report(rec.index, body_at, "UPDATE", st.error().message);
          break;
        }
        add_update(peer(m->peer_ip, m->peer_as), update, false,
                   std::uint64_t{r.header.timestamp} * 1000000U, rec.index, rec.offset);
        break;
      }
      default:
        break;
    }
  }
  return true;
}

bgp::Prefix ipv6_from_ipv4(const bgp::Prefix& v4) {
  std::array<std::uint8_t, 16> b{};
  b[0] = 0x3F;
  b[1] = 0xFE;
  std::copy(v4.address.bytes.begin(), v4.address.bytes.begin() + 4, b.begin() + 2);
  return {bgp::IpAddress::v6(b), static_cast<std::uint8_t>(v4.length + 16)};
}

std::uint64_t ReplayInput::derive_ipv6(std::uint32_t percent) {
  if (percent == 0 || !options_.ipv6) {
    return 0;
  }
  // SplitMix64 of the prefix: a fixed, well-spread choice independent of input order.
  auto chosen = [percent](const bgp::Prefix& p) {
    std::uint64_t z =
        (std::uint64_t{p.address.v4_host_order()} << 8 | p.length) + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return z % 100 < percent;
  };
  std::uint64_t added = 0;
  std::vector<std::uint8_t> attributes;
  for (auto& p : peers_) {
    // The peer's own IPv6 RIB prefixes: a derived prefix equal to one of them is not added (a
    // RIB holds one route per prefix).
    std::set<bgp::Prefix> present;
    for (const auto& set : p->sets) {
      if (set.family == bgp::kIpv6Unicast) {
        for (const auto& r : set.rib) {
          present.insert(r.prefix);
        }
      }
    }
    const std::size_t n = p->sets.size();  // intern() below appends sets
    for (std::size_t i = 0; i < n; ++i) {
      if (p->sets[i].family != bgp::kIpv4Unicast || p->sets[i].rib.empty()) {
        continue;
      }
      // Same attributes without NEXT_HOP; the IPv4 next hop a.b.c.d becomes 2001:db8::a.b.c.d
      // (the documentation prefix, RFC 3849) in MP_REACH_NLRI, or the session's source when
      // there was none. Not ::ffff:a.b.c.d: BIRD refuses IPv4-mapped next hops.
      attributes.clear();
      std::array<std::uint8_t, 16> next_hop{};
      bool has_next_hop = false;
      bgp::RawAttributeIterator it(p->sets[i].attributes, 0);
      bgp::RawAttribute a;
      while (it.next(a)) {
        if (a.type == static_cast<std::uint8_t>(bgp::AttributeType::NextHop)) {
          if (a.value.size() == 4) {
            next_hop[0] = 0x20;
            next_hop[1] = 0x01;
            next_hop[2] = 0x0D;
            next_hop[3] = 0xB8;
            std::copy(a.value.begin(), a.value.end(), next_hop.begin() + 12);
            has_next_hop = true;
          }
          continue;
        }
        append_attribute(attributes, a.flags, a.type, a.value);
      }
      std::uint32_t target = ~std::uint32_t{0};
      for (std::size_t r = 0; r < p->sets[i].rib.size(); ++r) {
        const ReplayRoute route = p->sets[i].rib[r];
        if (!chosen(route.prefix)) {
          continue;
        }
        const bgp::Prefix v6 = ipv6_from_ipv4(route.prefix);
        if (!present.insert(v6).second) {
          ++stats_.skipped_duplicate;
          continue;
        }
        if (target == ~std::uint32_t{0}) {
          target = p->intern(bgp::kIpv6Unicast, attributes,
                             has_next_hop ? std::span<const std::uint8_t>(next_hop)
                                          : std::span<const std::uint8_t>(),
                             false);
        }
        p->sets[target].rib.push_back({v6, route.path_id, 0});
        ++p->rib_routes;
        ++stats_.rib_routes;
        ++added;
      }
    }
  }
  return added;
}

namespace {

struct RouteKeyHash {
  std::size_t operator()(const std::pair<bgp::Prefix, std::uint32_t>& k) const {
    std::uint64_t h = (std::uint64_t{k.first.length} << 32) | k.second;
    h ^= static_cast<std::uint64_t>(k.first.address.family) << 40;
    for (const auto b : k.first.address.bytes) {
      h = (h ^ b) * 0x100000001B3ULL;  // FNV-1a step
    }
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};

// held_delta of every route of `p`, in the order replay sends them: the RIB sets in order, then
// the update events in order (a withdrawal of a prefix the peer does not hold changes nothing,
// nor does a second announcement). Scale copies and --diversify omissions apply to a prefix's
// announcements and withdrawals alike, so the deltas hold for every copy that is sent.
void held_deltas(MrtPeer& p) {
  std::unordered_map<std::pair<bgp::Prefix, std::uint32_t>, bool, RouteKeyHash> held;
  held.reserve(p.route_count());
  for (auto& set : p.sets) {
    for (auto& r : set.rib) {
      bool& h = held[{r.prefix, r.path_id}];
      r.held_delta = h ? 0 : 1;
      h = true;
    }
  }
  for (const auto& e : p.updates) {
    for (std::uint32_t i = e.begin; i < e.end; ++i) {
      ReplayRoute& r = p.update_routes[i];
      bool& h = held[{r.prefix, r.path_id}];
      if (e.withdraw) {
        r.held_delta = h ? -1 : 0;
        h = false;
      } else {
        r.held_delta = h ? 0 : 1;
        h = true;
      }
    }
  }
}

}  // namespace

void ReplayInput::finish(std::uint32_t scale) {
  for (auto& p : peers_) {
    held_deltas(*p);
  }
  if (scale <= 1) {
    return;
  }
  for (const auto& p : peers_) {
    for (const auto& s : p->sets) {
      for (const auto& r : s.rib) {
        scale_.add(r.prefix);
      }
    }
    for (const auto& r : p->update_routes) {
      scale_.add(r.prefix);
    }
  }
  scale_.freeze();
  for (auto& p : peers_) {
    for (auto& s : p->sets) {
      for (auto& r : s.rib) {
        r.rank = scale_.rank(r.prefix);
      }
    }
    for (auto& r : p->update_routes) {
      r.rank = scale_.rank(r.prefix);
    }
  }
}

}  // namespace bgpscribe::tools
