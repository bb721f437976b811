#include "codec/mrt/body.hpp"

namespace bgpscribe::codec::mrt {
namespace {

template <class T>
Result<Body> wrap(Result<T>&& r) {
  if (!r) {
    return fail(r.error());
  }
  return Body{std::move(*r)};
}

}  // namespace

// RFC 6396 section 4, appendix B.2.1 and RFC 8050: the one switch over MRT types and subtypes.
Result<Body> parse_body(const Record& record) {
  const std::uint16_t sub = record.header.subtype;
  switch (record.header.type) {
    case Type::TableDump:
      if (sub >= 1 && sub <= 4) {
        return wrap(parse_table_dump(record));
      }
      break;
    case Type::TableDumpV2: {
      const auto s = static_cast<TableDumpV2Subtype>(sub);
      if (s == TableDumpV2Subtype::PeerIndexTable) {
        return wrap(parse_peer_index_table(record));
      }
      if (is_rib(s)) {
        return wrap(parse_rib(record));
      }
      break;  // GEO_PEER_TABLE (RFC 6397) and unknown subtypes stay raw
    }
    case Type::Bgp4mp:
    case Type::Bgp4mpEt: {
      const auto s = static_cast<Bgp4mpSubtype>(sub);
      if (is_message(s)) {
        return wrap(parse_bgp4mp_message(record));
      }
      if (is_state_change(s)) {
        return wrap(parse_bgp4mp_state_change(record));
      }
      break;  // ENTRY, SNAPSHOT and unknown subtypes stay raw
    }
    case Type::Bgp:
    case Type::Bgp4Plus:
    case Type::Bgp4Plus01:
      switch (static_cast<BgpSubtype>(sub)) {
        case BgpSubtype::Update:
        case BgpSubtype::Open:
        case BgpSubtype::Notify:
        case BgpSubtype::Keepalive:
          return wrap(parse_bgp_message(record));
        case BgpSubtype::StateChange:
          return wrap(parse_bgp_state_change(record));
        default:
          break;  // NULL, PREF_UPDATE, SYNC stay raw
      }
      break;
    default:
      break;
  }
  return Body{Raw{record.body}};
}

Status encode(const Body& body, const Header& header, wire::Writer& w) {
  struct Visitor {
    const Header& h;
    wire::Writer& w;
    Status operator()(const Raw& b) const {
      return encode_raw(h.type, h.subtype, h.time(), b.body, w);
    }
    Status operator()(const TableDumpEntry& b) const { return encode(b, h.timestamp, w); }
    Status operator()(const PeerIndexTable& b) const { return encode(b, h.timestamp, w); }
    Status operator()(const Rib& b) const { return encode(b, h.timestamp, w); }
    Status operator()(const Bgp4mpMessage& b) const { return encode(b, h.time(), w); }
    Status operator()(const Bgp4mpStateChange& b) const { return encode(b, h.time(), w); }
    Status operator()(const BgpMessage& b) const { return encode(b, h.timestamp, w); }
    Status operator()(const BgpStateChange& b) const { return encode(b, h.timestamp, w); }
  };
  return std::visit(Visitor{header, w}, body);
}

}  // namespace bgpscribe::codec::mrt
