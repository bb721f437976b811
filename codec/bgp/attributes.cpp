#include "codec/bgp/attributes.hpp"

#include <algorithm>

#include "codec/bgp/notification_codes.hpp"

namespace bgpscribe::codec::bgp {

namespace {

constexpr std::uint8_t kWellKnown = attr_flag::kTransitive;            // 0x40
constexpr std::uint8_t kOptionalNonTransitive = attr_flag::kOptional;  // 0x80
constexpr std::uint8_t kOptionalTransitive = attr_flag::kOptional | attr_flag::kTransitive;

// Expected Optional/Transitive bits of each known attribute (RFC 4271 5, PROTOCOLS.md 3.2),
// or -1 for types the codec keeps raw.
int expected_flags(std::uint8_t type) {
  switch (static_cast<AttributeType>(type)) {
    case AttributeType::Origin:
    case AttributeType::AsPath:
    case AttributeType::NextHop:
    case AttributeType::LocalPref:
    case AttributeType::AtomicAggregate:
      return kWellKnown;
    case AttributeType::MultiExitDisc:
    case AttributeType::OriginatorId:
    case AttributeType::ClusterList:
    case AttributeType::MpReachNlri:
    case AttributeType::MpUnreachNlri:
    case AttributeType::Aigp:
    case AttributeType::BgpLs:
    case AttributeType::BgpsecPath:
      return kOptionalNonTransitive;
    case AttributeType::Aggregator:
    case AttributeType::Communities:
    case AttributeType::ExtendedCommunities:
    case AttributeType::As4Path:
    case AttributeType::As4Aggregator:
    case AttributeType::PmsiTunnel:
    case AttributeType::TunnelEncapsulation:
    case AttributeType::Ipv6ExtendedCommunities:
    case AttributeType::LargeCommunities:
    case AttributeType::Otc:
    case AttributeType::PrefixSid:
    case AttributeType::AttrSet:
      return kOptionalTransitive;
  }
  return -1;
}

// RFC 7606 7.x: attributes whose errors never affect route selection are discarded.
bool discard_class(std::uint8_t type) {
  switch (static_cast<AttributeType>(type)) {
    case AttributeType::AtomicAggregate:
    case AttributeType::Aggregator:
    case AttributeType::As4Path:
    case AttributeType::As4Aggregator:
    case AttributeType::Aigp:
    case AttributeType::BgpLs:
    case AttributeType::PrefixSid:
      return true;
    default:
      return false;
  }
}

Error attr_error(std::uint32_t offset, const char* message, std::uint8_t subcode, Reaction reaction,
                 ErrorKind kind = ErrorKind::BadValue) {
  return Error{kind, error_code::kUpdateMessage, subcode, reaction, offset, message};
}

// RFC 4271 5.1.5, RFC 4456 8: attributes that only iBGP peers may send.
bool ibgp_only(AttributeType type) {
  return type == AttributeType::LocalPref || type == AttributeType::OriginatorId ||
         type == AttributeType::ClusterList;
}

const char* ibgp_only_message(AttributeType type) {
  switch (type) {
    case AttributeType::LocalPref:
      return "LOCAL_PREF from an external peer discarded";
    case AttributeType::OriginatorId:
      return "ORIGINATOR_ID from an external peer discarded";
    default:
      return "CLUSTER_LIST from an external peer discarded";
  }
}

bool multiple_of(std::size_t n, std::size_t k) {
  return n != 0 && n % k == 0;
}

}  // namespace

void Diagnostics::add(const Error& e) {
  if (error_count == 0) {
    first = e;
  }
  if (error_count == 0 || e.reaction > reaction) {
    strongest = e;
    reaction = e.reaction;
  }
  if (error_count < 0xFFFF) {
    ++error_count;
  }
}

AsPath effective_as_path(const PathAttributes& a, bool four_octet_as) {
  if (!four_octet_as && a.has(AttributeType::As4Path)) {
    return merge_as4_path(a.as_path, a.as4_path);
  }
  return a.as_path.to_owned();
}

std::optional<Aggregator> effective_aggregator(const PathAttributes& a, bool four_octet_as) {
  if (!a.has(AttributeType::Aggregator)) {
    return std::nullopt;
  }
  if (!four_octet_as && a.aggregator.asn == kAsTrans && a.has(AttributeType::As4Aggregator)) {
    return a.as4_aggregator;
  }
  return a.aggregator;
}

bool has_decoded_view(std::uint8_t type) {
  using T = AttributeType;
  const auto t = static_cast<T>(type);
  return is_known_attribute(type) && t != T::PmsiTunnel && t != T::TunnelEncapsulation &&
         t != T::Ipv6ExtendedCommunities && t != T::BgpLs && t != T::BgpsecPath &&
         t != T::PrefixSid && t != T::AttrSet;
}

bool is_known_attribute(std::uint8_t type) {
  return expected_flags(type) >= 0;
}

std::size_t PathAttributes::unknown_count() const {
  std::size_t n = 0;
  RawAttributeIterator it(block, block_offset);
  RawAttribute a;
  while (it.next(a)) {
    if (!is_known_attribute(a.type)) {
      ++n;
    }
  }
  return n;
}

bool RawAttributeIterator::next(RawAttribute& out) {
  if (block_.size() - pos_ < 3) {
    return false;
  }
  const std::uint8_t flags = block_[pos_];
  const std::size_t hdr = (flags & attr_flag::kExtendedLength) != 0 ? 4 : 3;
  if (block_.size() - pos_ < hdr) {
    return false;
  }
  const std::size_t len =
      hdr == 4 ? wire::load_u16(block_, pos_ + 2) : static_cast<std::size_t>(block_[pos_ + 2]);
  if (block_.size() - pos_ - hdr < len) {
    return false;
  }
  out.flags = flags;
  out.type = block_[pos_ + 1];
  out.value = block_.subspan(pos_ + hdr, len);
  out.offset = base_ + static_cast<std::uint32_t>(pos_);
  pos_ += hdr + len;
  return true;
}

MpNextHop decode_next_hop(AfiSafi family, std::span<const std::uint8_t> raw) {
  MpNextHop nh;
  nh.raw = raw;
  auto v4_at = [&](std::size_t at) {
    return IpAddress::v4(std::span<const std::uint8_t, 4>(raw.subspan(at, 4)));
  };
  auto v6_at = [&](std::size_t at) {
    return IpAddress::v6(std::span<const std::uint8_t, 16>(raw.subspan(at, 16)));
  };
  auto rd_at = [&](std::size_t at) {
    return (std::uint64_t{wire::load_u32(raw, at)} << 32) | wire::load_u32(raw, at + 4);
  };
  const bool vpn = family.safi == Safi::MplsVpn || family.safi == Safi::MulticastVpn;
  const bool flowspec = family.safi == Safi::FlowSpec || family.safi == Safi::FlowSpecVpn;
  if (flowspec) {
    nh.valid = raw.empty();
    return nh;
  }
  if (vpn) {
    // RFC 4364 4.3.2 / RFC 4659 3.2.1 / RFC 8950: RD(8) + address [+ RD(8) + link-local].
    if (raw.size() == 12) {
      nh.valid = true;
      nh.has_rd = true;
      nh.rd = rd_at(0);
      nh.global = v4_at(8);
    } else if (raw.size() == 24 || raw.size() == 48) {
      nh.valid = true;
      nh.has_rd = true;
      nh.rd = rd_at(0);
      nh.global = v6_at(8);
      if (raw.size() == 48) {
        nh.has_link_local = true;
        nh.link_local = v6_at(32);
      }
    }
    return nh;
  }
  // RFC 4760 / RFC 2545 / RFC 8950: IPv4, IPv6, or IPv6 global + link-local.
  if (raw.size() == 4) {
    nh.valid = family.afi != Afi::Ipv6;
    nh.global = v4_at(0);
  } else if (raw.size() == 16 || raw.size() == 32) {
    nh.valid = true;
    nh.global = v6_at(0);
    if (raw.size() == 32) {
      nh.has_link_local = true;
      nh.link_local = v6_at(16);
    }
  }
  return nh;
}

namespace {

class Decoder {
 public:
  Decoder(PathAttributes& out, const ParseContext& ctx, const AttributeOptions& options)
      : out_(out), ctx_(ctx), options_(options) {}

  void run(wire::Reader r) {
    out_.block = r.rest();
    out_.block_offset = r.offset();
    bool mp_seen = false;
    while (!r.empty()) {
      const std::uint32_t at = r.offset();
      // RFC 4271 4.3 attribute header; RFC 7606 4 on framing errors.
      auto flags = r.u8();
      auto type = r.u8();
      Result<std::uint16_t> len = std::uint16_t{0};
      if (flags && type) {
        if ((*flags & attr_flag::kExtendedLength) != 0) {
          len = r.u16();
        } else {
          auto l8 = r.u8();
          len = l8 ? Result<std::uint16_t>(std::uint16_t{*l8})
                   : Result<std::uint16_t>(fail(l8.error()));
        }
      }
      if (!flags || !type || !len || r.remaining() < *len) {
        // The rest of the block cannot be framed. Announcements can still be withdrawn if the
        // MP attributes were already found; otherwise the NLRI may be lost: reset.
        out_.diagnostics.add(attr_error(
            at, "attribute overruns the path attribute block",
            update_subcode::kMalformedAttributeList,
            mp_seen ? Reaction::TreatAsWithdraw : Reaction::SessionReset, ErrorKind::Truncated));
        return;
      }
      auto value = r.sub(*len);
      one(*flags, *type, *value, at);
      if (*type == static_cast<std::uint8_t>(AttributeType::MpReachNlri) ||
          *type == static_cast<std::uint8_t>(AttributeType::MpUnreachNlri)) {
        mp_seen = true;
      }
    }
  }

 private:
  void error(std::uint32_t at, const char* msg, std::uint8_t subcode, Reaction reaction,
             ErrorKind kind = ErrorKind::BadValue) {
    out_.diagnostics.add(attr_error(at, msg, subcode, reaction, kind));
  }

  // Length or value error of a known attribute: the reaction its RFC prescribes.
  void malformed(std::uint8_t type, std::uint32_t at, const char* msg, std::uint8_t subcode) {
    error(at, msg, subcode,
          discard_class(type) ? Reaction::AttributeDiscard : Reaction::TreatAsWithdraw,
          ErrorKind::BadLength);
  }

  void one(std::uint8_t flags, std::uint8_t type, wire::Reader v, std::uint32_t at) {
    const int expect = expected_flags(type);
    const bool repeated = out_.seen[type];
    out_.seen[type] = true;
    if (expect < 0) {
      // RFC 4271 6.3: an unrecognized well-known attribute resets the session; unknown
      // optional attributes are kept raw.
      if ((flags & attr_flag::kOptional) == 0) {
        error(at, "unrecognized well-known attribute",
              update_subcode::kUnrecognizedWellKnownAttribute, Reaction::SessionReset);
      }
      return;
    }
    const auto t = static_cast<AttributeType>(type);
    if (repeated) {
      // RFC 7606 3(g): keep the first; a repeated MP attribute is a session reset.
      if (t == AttributeType::MpReachNlri || t == AttributeType::MpUnreachNlri) {
        error(at, "repeated MP_REACH_NLRI or MP_UNREACH_NLRI",
              update_subcode::kMalformedAttributeList, Reaction::SessionReset);
      } else {
        error(at, "repeated attribute discarded", update_subcode::kMalformedAttributeList,
              Reaction::AttributeDiscard);
      }
      return;
    }
    if (ctx_.ebgp && ibgp_only(t)) {
      // RFC 7606 7.5, 7.9, 7.10: from an external peer these are discarded whatever their
      // flags or length (the attribute's own rule beats the flags rule of 3(c)).
      error(at, ibgp_only_message(t), update_subcode::kOptionalAttributeError,
            Reaction::AttributeDiscard);
      return;
    }
    if (ctx_.four_octet_as && (t == AttributeType::As4Path || t == AttributeType::As4Aggregator)) {
      // RFC 6793 4.1 and 6: between two 4-octet speakers these attributes carry nothing and are
      // discarded, whatever their value.
      error(at, "AS4_PATH or AS4_AGGREGATOR on a 4-octet AS session discarded",
            update_subcode::kOptionalAttributeError, Reaction::AttributeDiscard);
      return;
    }
    if ((flags & (attr_flag::kOptional | attr_flag::kTransitive)) != expect) {
      // RFC 7606 3(c); AIGP and the other discard-class attributes are discarded (RFC 7311 3).
      if (discard_class(type)) {
        error(at, "attribute flags conflict with its type", update_subcode::kAttributeFlagsError,
              Reaction::AttributeDiscard);
        return;
      }
      error(at, "attribute flags conflict with its type", update_subcode::kAttributeFlagsError,
            Reaction::TreatAsWithdraw);
      // The value is still decoded: the routes it announces must be withdrawn.
    }
    const std::size_t len = v.remaining();
    const auto value = v.rest();
    auto set = [&] { out_.present[type] = true; };
    switch (t) {
      case AttributeType::Origin:  // RFC 7606 7.1
        if (len != 1) {
          malformed(type, at, "ORIGIN length is not 1", update_subcode::kAttributeLengthError);
        } else if (value[0] > 2) {
          error(at, "ORIGIN value is not 0..2", update_subcode::kInvalidOrigin,
                Reaction::TreatAsWithdraw);
        } else {
          out_.origin_raw = value[0];
          out_.origin = static_cast<Origin>(value[0]);
          set();
        }
        break;
      case AttributeType::AsPath: {  // RFC 7606 7.2
        auto p = AsPathView::parse(v, ctx_.four_octet_as ? 4 : 2);
        if (!p) {
          out_.diagnostics.add(p.error());
        } else {
          out_.as_path = *p;
          set();
        }
        break;
      }
      case AttributeType::NextHop:  // RFC 7606 7.3
        if (len != 4) {
          malformed(type, at, "NEXT_HOP length is not 4", update_subcode::kAttributeLengthError);
        } else {
          out_.next_hop = wire::load_u32(value, 0);
          out_.next_hop_offset = at;
          set();
        }
        break;
      case AttributeType::MultiExitDisc:  // RFC 7606 7.4
        if (len != 4) {
          malformed(type, at, "MULTI_EXIT_DISC length is not 4",
                    update_subcode::kAttributeLengthError);
        } else {
          out_.med = wire::load_u32(value, 0);
          set();
        }
        break;
      case AttributeType::LocalPref:  // RFC 7606 7.5 (eBGP handled above)
        if (len != 4) {
          malformed(type, at, "LOCAL_PREF length is not 4", update_subcode::kAttributeLengthError);
        } else {
          out_.local_pref = wire::load_u32(value, 0);
          set();
        }
        break;
      case AttributeType::AtomicAggregate:  // RFC 7606 7.6
        if (len != 0) {
          malformed(type, at, "ATOMIC_AGGREGATE length is not 0",
                    update_subcode::kAttributeLengthError);
        } else {
          set();
        }
        break;
      case AttributeType::Aggregator: {  // RFC 7606 7.7, RFC 6793 4.2.2
        const std::size_t want = ctx_.four_octet_as ? 8 : 6;
        if (len != want) {
          malformed(type, at, "AGGREGATOR length does not match the AS width",
                    update_subcode::kAttributeLengthError);
          break;
        }
        const std::uint32_t asn = want == 8 ? wire::load_u32(value, 0) : wire::load_u16(value, 0);
        if (asn == 0) {
          error(at, "AGGREGATOR AS is 0", update_subcode::kOptionalAttributeError,
                Reaction::AttributeDiscard);
          break;
        }
        out_.aggregator = Aggregator{asn, wire::load_u32(value, want - 4)};
        set();
        break;
      }
      case AttributeType::Communities:  // RFC 7606 7.8
        if (!multiple_of(len, 4)) {
          malformed(type, at, "COMMUNITIES length is not a positive multiple of 4",
                    update_subcode::kOptionalAttributeError);
        } else {
          out_.communities = value;
          set();
        }
        break;
      case AttributeType::OriginatorId:  // RFC 7606 7.9 (eBGP handled above)
        if (len != 4) {
          malformed(type, at, "ORIGINATOR_ID length is not 4",
                    update_subcode::kAttributeLengthError);
        } else {
          out_.originator_id = wire::load_u32(value, 0);
          set();
        }
        break;
      case AttributeType::ClusterList:  // RFC 7606 7.10 (eBGP handled above)
        if (!multiple_of(len, 4)) {
          malformed(type, at, "CLUSTER_LIST length is not a positive multiple of 4",
                    update_subcode::kAttributeLengthError);
        } else {
          out_.cluster_list = value;
          set();
        }
        break;
      case AttributeType::MpReachNlri:
        mp_reach(v, at);
        break;
      case AttributeType::MpUnreachNlri:
        mp_unreach(v, at);
        break;
      case AttributeType::ExtendedCommunities:  // RFC 7606 7.14
        if (!multiple_of(len, 8)) {
          malformed(type, at, "EXTENDED_COMMUNITIES length is not a positive multiple of 8",
                    update_subcode::kOptionalAttributeError);
        } else {
          out_.extended_communities = value;
          set();
        }
        break;
      case AttributeType::As4Path: {  // RFC 6793 6: malformed AS4_PATH is discarded
        auto p = AsPathView::parse(v, 4);
        if (!p) {
          error(p.error().offset, p.error().message, update_subcode::kOptionalAttributeError,
                Reaction::AttributeDiscard);
        } else {
          out_.as4_path = *p;
          set();
        }
        break;
      }
      case AttributeType::As4Aggregator:  // RFC 6793 6
        if (len != 8) {
          malformed(type, at, "AS4_AGGREGATOR length is not 8",
                    update_subcode::kOptionalAttributeError);
        } else {
          out_.as4_aggregator = Aggregator{wire::load_u32(value, 0), wire::load_u32(value, 4)};
          set();
        }
        break;
      case AttributeType::PmsiTunnel:  // RFC 6514 5
        if (len < 5) {
          malformed(type, at, "PMSI_TUNNEL shorter than 5 octets",
                    update_subcode::kOptionalAttributeError);
        } else {
          set();
        }
        break;
      case AttributeType::TunnelEncapsulation:  // RFC 9012 13
        if (!tlvs_fit(value, 2, 2) || value.empty()) {
          malformed(type, at, "TUNNEL_ENCAPSULATION TLVs do not fit",
                    update_subcode::kOptionalAttributeError);
        } else {
          set();
        }
        break;
      case AttributeType::Ipv6ExtendedCommunities:  // RFC 7606 7.15
        if (!multiple_of(len, 20)) {
          malformed(type, at, "IPv6 extended communities length is not a multiple of 20",
                    update_subcode::kOptionalAttributeError);
        } else {
          out_.ipv6_extended_communities = value;
          set();
        }
        break;
      case AttributeType::Aigp: {  // RFC 7311 3: type 1, length 11, 8-octet metric
        bool found = false;
        if (tlvs_fit(value, 1, 2)) {
          std::size_t pos = 0;
          while (pos < value.size()) {
            const std::size_t tlv_len = wire::load_u16(value, pos + 1);
            if (value[pos] == 1 && tlv_len == 11) {
              out_.aigp = (std::uint64_t{wire::load_u32(value, pos + 3)} << 32) |
                          wire::load_u32(value, pos + 7);
              found = true;
              break;
            }
            pos += std::max<std::size_t>(tlv_len, 3);
          }
        }
        if (!found) {
          malformed(type, at, "AIGP has no valid metric TLV",
                    update_subcode::kOptionalAttributeError);
        } else {
          set();
        }
        break;
      }
      case AttributeType::LargeCommunities:  // RFC 8092 6
        if (!multiple_of(len, 12)) {
          malformed(type, at, "LARGE_COMMUNITY length is not a positive multiple of 12",
                    update_subcode::kOptionalAttributeError);
        } else {
          out_.large_communities = value;
          set();
        }
        break;
      case AttributeType::Otc:  // RFC 9234 5
        if (len != 4) {
          malformed(type, at, "OTC length is not 4", update_subcode::kAttributeLengthError);
        } else {
          out_.otc = wire::load_u32(value, 0);
          set();
        }
        break;
      case AttributeType::AttrSet:  // RFC 6368 5
        if (len < 4) {
          malformed(type, at, "ATTR_SET shorter than its origin AS",
                    update_subcode::kOptionalAttributeError);
        } else {
          set();
        }
        break;
      case AttributeType::BgpLs:
      case AttributeType::BgpsecPath:
      case AttributeType::PrefixSid:
        // Decoded elsewhere if ever needed; framing is all the codec checks.
        set();
        break;
    }
  }

  // TLVs of (type_size, len_size) header where the length counts the value only, except AIGP
  // whose length counts the whole TLV (type_size == 1).
  static bool tlvs_fit(std::span<const std::uint8_t> value, std::size_t type_size,
                       std::size_t len_size) {
    std::size_t pos = 0;
    const std::size_t hdr = type_size + len_size;
    while (pos < value.size()) {
      if (value.size() - pos < hdr) {
        return false;
      }
      std::size_t len = wire::load_u16(value, pos + type_size);
      if (type_size == 1) {  // AIGP: length includes the header
        if (len < hdr) {
          return false;
        }
        len -= hdr;
      }
      if (value.size() - pos - hdr < len) {
        return false;
      }
      pos += hdr + len;
    }
    return true;
  }

  // RFC 4760 3, RFC 7606 7.11; RFC 6396 4.3.4 abbreviated form in MRT RIB entries.
  void mp_reach(wire::Reader v, std::uint32_t at) {
    const auto value = v.rest();
    if (options_.mrt_rib && !value.empty() &&
        static_cast<std::size_t>(value[0]) + 1 == value.size()) {
      out_.mp_reach.abbreviated = true;
      out_.mp_reach.family = options_.rib_family;
      out_.mp_reach.next_hop = decode_next_hop(options_.rib_family, value.subspan(1));
      out_.mp_reach.nlri = NlriBlock{};
      out_.present[static_cast<std::uint8_t>(AttributeType::MpReachNlri)] = true;
      return;
    }
    auto afi = v.u16();
    auto safi = v.u8();
    if (!afi || !safi) {
      error(at, "MP_REACH_NLRI too short for AFI/SAFI", update_subcode::kOptionalAttributeError,
            Reaction::SessionReset, ErrorKind::Truncated);
      return;
    }
    const AfiSafi family{static_cast<Afi>(*afi), static_cast<Safi>(*safi)};
    out_.mp_reach.family = family;
    const std::uint32_t nh_at = v.offset();
    auto nh_len = v.u8();
    Result<wire::Bytes> nh = nh_len ? v.bytes(*nh_len) : Result<wire::Bytes>(fail(nh_len.error()));
    auto reserved = nh ? v.u8() : Result<std::uint8_t>(fail(nh.error()));
    if (!reserved) {
      error(nh_at, "MP_REACH_NLRI next hop overruns the attribute",
            update_subcode::kOptionalAttributeError, Reaction::AfiSafiDisable,
            ErrorKind::Truncated);
      return;
    }
    out_.mp_reach.next_hop = decode_next_hop(family, *nh);
    if (!out_.mp_reach.next_hop.valid && is_plain_prefix_family(family)) {
      error(nh_at, "MP_REACH_NLRI next-hop length invalid for the family",
            update_subcode::kOptionalAttributeError, Reaction::AfiSafiDisable);
      return;
    }
    auto nlri = NlriBlock::parse(v, family, ctx_.add_path(family));
    if (!nlri) {
      out_.diagnostics.add(nlri.error().with_reaction(Reaction::AfiSafiDisable));
      return;
    }
    out_.mp_reach.nlri = *nlri;
    out_.present[static_cast<std::uint8_t>(AttributeType::MpReachNlri)] = true;
  }

  // RFC 4760 4, RFC 7606 7.12.
  void mp_unreach(wire::Reader v, std::uint32_t at) {
    auto afi = v.u16();
    auto safi = v.u8();
    if (!afi || !safi) {
      error(at, "MP_UNREACH_NLRI too short for AFI/SAFI", update_subcode::kOptionalAttributeError,
            Reaction::SessionReset, ErrorKind::Truncated);
      return;
    }
    const AfiSafi family{static_cast<Afi>(*afi), static_cast<Safi>(*safi)};
    out_.mp_unreach.family = family;
    auto nlri = NlriBlock::parse(v, family, ctx_.add_path(family));
    if (!nlri) {
      out_.diagnostics.add(nlri.error().with_reaction(Reaction::AfiSafiDisable));
      return;
    }
    out_.mp_unreach.withdrawn = *nlri;
    out_.present[static_cast<std::uint8_t>(AttributeType::MpUnreachNlri)] = true;
  }

  PathAttributes& out_;
  const ParseContext& ctx_;
  const AttributeOptions& options_;
};

}  // namespace

PathAttributes parse_attributes(wire::Reader r, const ParseContext& ctx,
                                const AttributeOptions& options) {
  PathAttributes out;
  Decoder(out, ctx, options).run(r);
  return out;
}

void parse_attributes_into(wire::Reader r, const ParseContext& ctx, const AttributeOptions& options,
                           PathAttributes& out) {
  out = PathAttributes{};
  Decoder(out, ctx, options).run(r);
}

// ---- encoding -------------------------------------------------------------------------------

AttributeBuilder& AttributeBuilder::add(std::uint8_t flags, AttributeType type,
                                        std::vector<std::uint8_t> value) {
  items_.push_back(Item{flags, static_cast<std::uint8_t>(type), std::move(value)});
  return *this;
}

namespace {

std::vector<std::uint8_t> be32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
          static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

}  // namespace

AttributeBuilder& AttributeBuilder::origin(Origin o) {
  return add(kWellKnown, AttributeType::Origin, {static_cast<std::uint8_t>(o)});
}

AttributeBuilder& AttributeBuilder::as_path(const AsPath& path, std::uint8_t as_size) {
  wire::Writer w;
  encode_as_path(w, path, as_size);
  return add(kWellKnown, AttributeType::AsPath, w.take());
}

AttributeBuilder& AttributeBuilder::as4_path(const AsPath& path) {
  wire::Writer w;
  encode_as_path(w, path, 4);
  return add(kOptionalTransitive, AttributeType::As4Path, w.take());
}

AttributeBuilder& AttributeBuilder::next_hop(std::uint32_t ipv4_host_order) {
  return add(kWellKnown, AttributeType::NextHop, be32(ipv4_host_order));
}

AttributeBuilder& AttributeBuilder::med(std::uint32_t v) {
  return add(kOptionalNonTransitive, AttributeType::MultiExitDisc, be32(v));
}

AttributeBuilder& AttributeBuilder::local_pref(std::uint32_t v) {
  return add(kWellKnown, AttributeType::LocalPref, be32(v));
}

AttributeBuilder& AttributeBuilder::atomic_aggregate() {
  return add(kWellKnown, AttributeType::AtomicAggregate, {});
}

AttributeBuilder& AttributeBuilder::aggregator(const Aggregator& a, std::uint8_t as_size) {
  wire::Writer w;
  if (as_size == 4) {
    w.u32(a.asn);
  } else {
    w.u16(a.asn > 0xFFFF ? static_cast<std::uint16_t>(kAsTrans)
                         : static_cast<std::uint16_t>(a.asn));
  }
  w.u32(a.address);
  return add(kOptionalTransitive, AttributeType::Aggregator, w.take());
}

AttributeBuilder& AttributeBuilder::as4_aggregator(const Aggregator& a) {
  wire::Writer w;
  w.u32(a.asn);
  w.u32(a.address);
  return add(kOptionalTransitive, AttributeType::As4Aggregator, w.take());
}

AttributeBuilder& AttributeBuilder::communities(std::span<const std::uint32_t> values) {
  wire::Writer w;
  for (auto c : values) {
    w.u32(c);
  }
  return add(kOptionalTransitive, AttributeType::Communities, w.take());
}

AttributeBuilder& AttributeBuilder::extended_communities(std::span<const std::uint64_t> values) {
  wire::Writer w;
  for (auto c : values) {
    w.u64(c);
  }
  return add(kOptionalTransitive, AttributeType::ExtendedCommunities, w.take());
}

AttributeBuilder& AttributeBuilder::large_communities(
    std::span<const std::array<std::uint32_t, 3>> values) {
  wire::Writer w;
  for (const auto& c : values) {
    w.u32(c[0]);
    w.u32(c[1]);
    w.u32(c[2]);
  }
  return add(kOptionalTransitive, AttributeType::LargeCommunities, w.take());
}

AttributeBuilder& AttributeBuilder::originator_id(std::uint32_t id) {
  return add(kOptionalNonTransitive, AttributeType::OriginatorId, be32(id));
}

AttributeBuilder& AttributeBuilder::cluster_list(std::span<const std::uint32_t> ids) {
  wire::Writer w;
  for (auto id : ids) {
    w.u32(id);
  }
  return add(kOptionalNonTransitive, AttributeType::ClusterList, w.take());
}

AttributeBuilder& AttributeBuilder::aigp(std::uint64_t metric) {
  wire::Writer w;
  w.u8(1);
  w.u16(11);
  w.u64(metric);
  return add(kOptionalNonTransitive, AttributeType::Aigp, w.take());
}

AttributeBuilder& AttributeBuilder::otc(std::uint32_t asn) {
  return add(kOptionalTransitive, AttributeType::Otc, be32(asn));
}

AttributeBuilder& AttributeBuilder::mp_reach(AfiSafi family, std::span<const std::uint8_t> next_hop,
                                             std::span<const Prefix> prefixes,
                                             std::span<const std::uint32_t> path_ids) {
  wire::Writer w;
  w.u16(static_cast<std::uint16_t>(family.afi));
  w.u8(static_cast<std::uint8_t>(family.safi));
  w.u8(static_cast<std::uint8_t>(next_hop.size()));
  w.bytes(next_hop);
  w.u8(0);
  const bool add_path = !path_ids.empty();
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    encode_nlri(w, prefixes[i], add_path ? path_ids[i] : 0, add_path);
  }
  return add(kOptionalNonTransitive, AttributeType::MpReachNlri, w.take());
}

AttributeBuilder& AttributeBuilder::mp_reach_abbreviated(std::span<const std::uint8_t> next_hop) {
  wire::Writer w;
  w.u8(static_cast<std::uint8_t>(next_hop.size()));
  w.bytes(next_hop);
  return add(kOptionalNonTransitive, AttributeType::MpReachNlri, w.take());
}

AttributeBuilder& AttributeBuilder::mp_unreach(AfiSafi family, std::span<const Prefix> prefixes,
                                               std::span<const std::uint32_t> path_ids) {
  wire::Writer w;
  w.u16(static_cast<std::uint16_t>(family.afi));
  w.u8(static_cast<std::uint8_t>(family.safi));
  const bool add_path = !path_ids.empty();
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    encode_nlri(w, prefixes[i], add_path ? path_ids[i] : 0, add_path);
  }
  return add(kOptionalNonTransitive, AttributeType::MpUnreachNlri, w.take());
}

AttributeBuilder& AttributeBuilder::raw(std::uint8_t flags, std::uint8_t type,
                                        std::span<const std::uint8_t> value) {
  items_.push_back(Item{flags, type, {value.begin(), value.end()}});
  return *this;
}

AttributeBuilder AttributeBuilder::from_block(std::span<const std::uint8_t> block) {
  AttributeBuilder b;
  RawAttributeIterator it(block, 0);
  RawAttribute a;
  while (it.next(a)) {
    b.raw(a.flags, a.type, a.value);
  }
  return b;
}

std::size_t AttributeBuilder::encoded_size() const {
  std::size_t n = 0;
  for (const auto& item : items_) {
    const bool ext = (item.flags & attr_flag::kExtendedLength) != 0 || item.value.size() > 255;
    n += (ext ? 4 : 3) + item.value.size();
  }
  return n;
}

void AttributeBuilder::encode(wire::Writer& w) const {
  for (const auto& item : items_) {
    const bool ext = (item.flags & attr_flag::kExtendedLength) != 0 || item.value.size() > 255;
    w.u8(ext ? static_cast<std::uint8_t>(item.flags | attr_flag::kExtendedLength) : item.flags);
    w.u8(item.type);
    if (ext) {
      w.u16(static_cast<std::uint16_t>(item.value.size()));
    } else {
      w.u8(static_cast<std::uint8_t>(item.value.size()));
    }
    w.bytes(item.value);
  }
}

}  // namespace bgpscribe::codec::bgp
