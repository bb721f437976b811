#include "tools/replay_packer.hpp"

#include <algorithm>
#include <array>

#include "codec/bgp/as_path.hpp"
#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/attributes.hpp"
#include "codec/bgp/message_types.hpp"

namespace bgpscribe::tools {

namespace bgp = codec::bgp;

namespace {

constexpr std::uint8_t kWellKnown = bgp::attr_flag::kTransitive;
constexpr std::uint8_t kOptionalTransitive =
    bgp::attr_flag::kOptional | bgp::attr_flag::kTransitive;
constexpr std::uint8_t kMpFlags = bgp::attr_flag::kOptional | bgp::attr_flag::kExtendedLength;

void put_u16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void put_header(std::vector<std::uint8_t>& out) {
  out.assign(16, 0xFF);  // marker (RFC 4271 section 4.1)
  put_u16(out, 0);       // length, per message
  out.push_back(static_cast<std::uint8_t>(bgp::MessageType::Update));
}

bool ibgp_only(std::uint8_t type) {
  switch (static_cast<bgp::AttributeType>(type)) {
    case bgp::AttributeType::LocalPref:
    case bgp::AttributeType::OriginatorId:
    case bgp::AttributeType::ClusterList:
      return true;
    default:
      return false;
  }
}

// A 4-octet AS_PATH / AGGREGATOR value rewritten for a 2-octet session (RFC 6793 section 4.2.2).
void two_octet(const bgp::RawAttribute& a, std::vector<std::uint8_t>& out) {
  codec::wire::Writer w;
  if (a.type == static_cast<std::uint8_t>(bgp::AttributeType::AsPath)) {
    auto view = bgp::AsPathView::parse(codec::wire::Reader(a.value), 4);
    if (!view) {
      append_attribute(out, a.flags, a.type, a.value);
      return;
    }
    const bgp::AsPath path = view->to_owned();
    bool wide = false;
    for (const auto& seg : path) {
      for (const auto asn : seg.asns) {
        wide = wide || asn > 0xFFFF;
      }
    }
    bgp::encode_as_path(w, path, 2);
    append_attribute(out, static_cast<std::uint8_t>(a.flags & ~bgp::attr_flag::kExtendedLength),
                     a.type, w.bytes());
    if (wide) {
      w.clear();
      bgp::encode_as_path(w, path, 4);
      append_attribute(out, kOptionalTransitive,
                       static_cast<std::uint8_t>(bgp::AttributeType::As4Path), w.bytes());
    }
    return;
  }
  // AGGREGATOR: 4-octet AS and address.
  if (a.value.size() != 8) {
    append_attribute(out, a.flags, a.type, a.value);
    return;
  }
  const std::uint32_t asn = codec::wire::load_u32(a.value, 0);
  const std::uint32_t address = codec::wire::load_u32(a.value, 4);
  w.u16(asn > 0xFFFF ? static_cast<std::uint16_t>(bgp::kAsTrans) : static_cast<std::uint16_t>(asn));
  w.u32(address);
  append_attribute(out, static_cast<std::uint8_t>(a.flags & ~bgp::attr_flag::kExtendedLength),
                   a.type, w.bytes());
  if (asn > 0xFFFF) {
    append_attribute(out, kOptionalTransitive,
                     static_cast<std::uint8_t>(bgp::AttributeType::As4Aggregator), a.value);
  }
}

constexpr std::uint8_t kAsSequence = static_cast<std::uint8_t>(bgp::AsSegmentType::AsSequence);

bool is_confederation(std::uint8_t segment_type) {
  return segment_type == static_cast<std::uint8_t>(bgp::AsSegmentType::AsConfedSequence) ||
         segment_type == static_cast<std::uint8_t>(bgp::AsSegmentType::AsConfedSet);
}

}  // namespace

void prepend_as_path(std::span<const std::uint8_t> as_path, std::uint32_t asn,
                     std::vector<std::uint8_t>& out) {
  codec::wire::Reader r(as_path);
  // Leading confederation segments stay inside the confederation (RFC 5065 section 5.3).
  while (r.remaining() >= 2 && is_confederation(r.peek_u8())) {
    const std::size_t count = r.peek_u8(1);
    if (!r.skip(2 + count * 4U)) {
      break;  // not reached: the canonical path was validated when it was read
    }
  }
  const auto rest = r.rest();
  const bool join = r.remaining() >= 2 && r.peek_u8() == kAsSequence && r.peek_u8(1) < 255;
  codec::wire::Writer w;
  w.u8(kAsSequence);
  w.u8(static_cast<std::uint8_t>(join ? rest[1] + 1 : 1));
  w.u32(asn);
  w.bytes(join ? rest.subspan(2) : rest);
  out.assign(w.bytes().begin(), w.bytes().end());
}

void session_attributes(const AttributeSet& set, const PackContext& ctx,
                        std::vector<std::uint8_t>& before, std::vector<std::uint8_t>& after) {
  before.clear();
  after.clear();
  const bool v6 = set.family.afi == bgp::Afi::Ipv6;
  // IPv4 without NEXT_HOP: one is inserted where its type code puts it.
  bool need_next_hop = !v6 && (!set.has_next_hop_attribute || ctx.own_next_hop);
  auto insert_next_hop = [&] {
    std::array<std::uint8_t, 4> nh{};
    if (ctx.own_next_hop) {
      nh = ctx.next_hop_v4;
    } else if (set.next_hop.size() == 4) {
      std::copy(set.next_hop.begin(), set.next_hop.end(), nh.begin());
    } else {
      const auto src = ctx.source.span();
      std::copy(src.end() - 4, src.end(), nh.begin());
    }
    append_attribute(before, kWellKnown, static_cast<std::uint8_t>(bgp::AttributeType::NextHop),
                     nh);
    need_next_hop = false;
  };
  bgp::RawAttributeIterator it(set.attributes, 0);
  bgp::RawAttribute a;
  while (it.next(a)) {
    if (need_next_hop && a.type > static_cast<std::uint8_t>(bgp::AttributeType::NextHop)) {
      insert_next_hop();
    }
    if (ctx.strip_ibgp_attributes && ibgp_only(a.type)) {
      continue;
    }
    if (ctx.own_next_hop && a.type == static_cast<std::uint8_t>(bgp::AttributeType::NextHop)) {
      continue;  // inserted above, from the context
    }
    std::vector<std::uint8_t> prepended;
    if (ctx.prepend_as != 0 && a.type == static_cast<std::uint8_t>(bgp::AttributeType::AsPath)) {
      prepend_as_path(a.value, ctx.prepend_as, prepended);
      a.value = prepended;
    }
    // IPv6: MP_REACH_NLRI (type 14) goes between the lower and the higher type codes.
    auto& out =
        v6 && a.type > static_cast<std::uint8_t>(bgp::AttributeType::MpReachNlri) ? after : before;
    const bool as_field = a.type == static_cast<std::uint8_t>(bgp::AttributeType::AsPath) ||
                          a.type == static_cast<std::uint8_t>(bgp::AttributeType::Aggregator);
    if (!ctx.four_octet_as && as_field) {
      two_octet(a, out);
    } else {
      append_attribute(out, a.flags, a.type, a.value);
    }
  }
  if (need_next_hop) {
    insert_next_hop();
  }
}

void Packer::start(bgp::AfiSafi family, const PackContext& ctx) {
  flush();
  family_ = family;
  add_path_ = ctx.add_path(family);
  patches_.clear();
  tail_.clear();
  put_header(head_);
}

bool Packer::finish_template() {
  w_.clear();
  w_.bytes(head_);
  nlri_bytes_ = 0;
  count_ = 0;
  const std::size_t fixed = head_.size() + tail_.size();
  const std::size_t largest = (add_path_ ? 5U : 1U) + (family_.afi == bgp::Afi::Ipv6 ? 16U : 4U);
  capacity_ = 0;
  if (fixed + largest > max_size_) {
    return false;
  }
  capacity_ = max_size_ - fixed;
  return true;
}

bool Packer::begin_announce(const AttributeSet& set, const PackContext& ctx) {
  start(set.family, ctx);
  max_size_ = ctx.max_size;
  session_attributes(set, ctx, before_, after_);
  put_u16(head_, 0);  // Withdrawn Routes Length
  const std::size_t attr_len_at = head_.size();
  put_u16(head_, 0);
  head_.insert(head_.end(), before_.begin(), before_.end());
  if (set.family.afi != bgp::Afi::Ipv6) {
    const std::size_t attr_len = head_.size() - attr_len_at - 2;
    if (attr_len > 0xFFFF) {
      return false;
    }
    head_[attr_len_at] = static_cast<std::uint8_t>(attr_len >> 8);
    head_[attr_len_at + 1] = static_cast<std::uint8_t>(attr_len);
    return finish_template();
  }
  // MP_REACH_NLRI (RFC 4760 section 3): AFI, SAFI, next hop, reserved octet, then the NLRI.
  std::array<std::uint8_t, 16> mapped{};
  std::span<const std::uint8_t> nh = set.next_hop;
  if (ctx.own_next_hop) {
    nh = ctx.next_hop_v6;
  } else if (nh.size() != 16 && nh.size() != 32) {
    if (ctx.source.is_v4()) {  // ::ffff:a.b.c.d (RFC 4291 section 2.5.5.2)
      mapped[10] = 0xFF;
      mapped[11] = 0xFF;
      std::copy(ctx.source.bytes.begin(), ctx.source.bytes.begin() + 4, mapped.begin() + 12);
    } else {
      mapped = ctx.source.bytes;
    }
    nh = mapped;
  }
  head_.push_back(kMpFlags);
  head_.push_back(static_cast<std::uint8_t>(bgp::AttributeType::MpReachNlri));
  const std::size_t mp_len_at = head_.size();
  put_u16(head_, 0);
  put_u16(head_, static_cast<std::uint16_t>(set.family.afi));
  head_.push_back(static_cast<std::uint8_t>(set.family.safi));
  head_.push_back(static_cast<std::uint8_t>(nh.size()));
  head_.insert(head_.end(), nh.begin(), nh.end());
  head_.push_back(0);  // reserved
  tail_ = after_;
  patches_.push_back({attr_len_at, head_.size() - attr_len_at - 2 + tail_.size()});
  patches_.push_back({mp_len_at, head_.size() - mp_len_at - 2});
  return finish_template();
}

bool Packer::begin_withdraw(bgp::AfiSafi family, const PackContext& ctx) {
  start(family, ctx);
  max_size_ = ctx.max_size;
  if (family.afi != bgp::Afi::Ipv6) {
    patches_.push_back({head_.size(), 0});  // Withdrawn Routes Length
    put_u16(head_, 0);
    put_u16(tail_, 0);  // Total Path Attribute Length
    return finish_template();
  }
  put_u16(head_, 0);  // Withdrawn Routes Length
  const std::size_t attr_len_at = head_.size();
  put_u16(head_, 0);
  head_.push_back(kMpFlags);
  head_.push_back(static_cast<std::uint8_t>(bgp::AttributeType::MpUnreachNlri));
  const std::size_t mp_len_at = head_.size();
  put_u16(head_, 0);
  put_u16(head_, static_cast<std::uint16_t>(family.afi));
  head_.push_back(static_cast<std::uint8_t>(family.safi));
  patches_.push_back({attr_len_at, head_.size() - attr_len_at - 2});
  patches_.push_back({mp_len_at, head_.size() - mp_len_at - 2});
  return finish_template();
}

void Packer::flush() {
  if (count_ == 0) {
    return;
  }
  for (const auto& p : patches_) {
    w_.patch_u16(p.at, static_cast<std::uint16_t>(p.base + nlri_bytes_));
  }
  w_.bytes(tail_);
  w_.patch_u16(16, static_cast<std::uint16_t>(w_.size()));
  emit_(w_.bytes(), family_, add_path_);
  w_.clear();
  w_.bytes(head_);
  nlri_bytes_ = 0;
  count_ = 0;
}

}  // namespace bgpscribe::tools
