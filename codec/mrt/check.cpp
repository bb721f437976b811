#include "codec/mrt/check.hpp"

#include "codec/bgp/message.hpp"
#include "codec/bgp/message_types.hpp"
#include "codec/mrt/bgp4mp.hpp"

namespace bgpscribe::codec::mrt {
namespace {

RecordCheck malformed(const Error& e) {
  RecordCheck c;
  c.verdict = Verdict::Malformed;
  c.problem = e;
  return c;
}

RecordCheck malformed(ErrorKind kind, std::uint64_t offset, const char* message) {
  return malformed(Error{kind, 0, 0, Reaction::None, static_cast<std::uint32_t>(offset), message});
}

RecordCheck unsupported() {
  RecordCheck c;
  c.verdict = Verdict::Unsupported;
  return c;
}

RecordCheck warning(RecordCheck c, ErrorKind kind, std::uint64_t offset, const char* message) {
  c.verdict = Verdict::Warning;
  c.problem = Error{kind, 0, 0, Reaction::None, static_cast<std::uint32_t>(offset), message};
  return c;
}

// Where `tail`, a suffix of the record's bytes, starts in the record.
std::uint64_t offset_of_tail(const Record& record, Bytes tail) {
  return record.bytes.size() - tail.size();
}

// RFC 4271 section 4.3 (RFC 7911 section 3 with path ids): the UPDATE body parses, and so do
// the NLRI inside MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760), whose failure RFC 7606 only
// turns into an AFI/SAFI disable: a dump has no session to disable, only prefixes it cannot
// read. `body_at` is the body's offset in the record, so errors come out record-relative.
Status check_update_body(Bytes body, std::uint64_t body_at, const bgp::ParseContext& ctx,
                         bgp::Update& update) {
  BGPSCRIBE_TRY(
      bgp::parse_update_body_into(body, ctx, static_cast<std::uint32_t>(body_at), update));
  if (update.reaction() == Reaction::AfiSafiDisable) {
    return fail(update.diagnostics().strongest);
  }
  return {};
}

// A BGP message as BGP4MP stores it, marker and header included (RFC 6396 section 4.4.2).
RecordCheck check_bgp4mp_message(const Record& record, const Bgp4mpMessage& m,
                                 bgp::Update& update) {
  const std::uint64_t at = offset_of_tail(record, m.message);
  const Bytes msg = m.message;
  if (msg.size() < bgp::kHeaderSize) {
    return malformed(ErrorKind::Truncated, at, "BGP message shorter than its 19-octet header");
  }
  for (std::size_t i = 0; i < bgp::kMarkerSize; ++i) {
    if (msg[i] != 0xFF) {
      return malformed(ErrorKind::BadValue, at, "BGP message marker is not all ones");
    }
  }
  if (wire::load_u16(msg, bgp::kMarkerSize) != msg.size()) {
    return malformed(ErrorKind::BadLength, at + bgp::kMarkerSize,
                     "BGP message length disagrees with the MRT record");
  }
  RecordCheck c;
  c.context = parse_context_for(record);
  if (msg[18] != static_cast<std::uint8_t>(bgp::MessageType::Update)) {
    return c;  // formats that show other messages report their problems in the message
  }
  const Bytes body = msg.subspan(bgp::kHeaderSize);
  const std::uint64_t body_at = at + bgp::kHeaderSize;
  c.update = true;
  auto plain = check_update_body(body, body_at, c.context, update);
  if (plain) {
    return c;
  }
  if (!m.add_path()) {
    // The heuristic of other MRT readers: NLRI that fail as plain prefixes but parse whole
    // with a path identifier before each are ADD-PATH NLRI under the wrong subtype.
    bgp::ParseContext with_ids = c.context;
    with_ids.set_add_path_all(true);
    if (check_update_body(body, body_at, with_ids, update)) {
      c.context = with_ids;
      c.add_path_inferred = true;
      return warning(c, ErrorKind::BadValue, plain.error().offset,
                     "NLRI parse only with ADD-PATH path identifiers, which the subtype does "
                     "not announce: decoded with them");
    }
  }
  return malformed(plain.error());
}

// RFC 6396 section 4.3.2-4.3.4: the entries, and the peers they name.
RecordCheck check_rib(const Record& record, const PeerIndexTable* peers) {
  RecordCheck c;
  c.context = parse_context_for(record);
  auto rib = parse_rib(record);
  if (!rib && !is_add_path(static_cast<TableDumpV2Subtype>(record.header.subtype))) {
    if (auto with_ids = parse_rib_with_path_ids(record)) {
      c = warning(c, ErrorKind::BadValue, rib.error().offset,
                  "RIB entries parse only with ADD-PATH path identifiers, which the subtype "
                  "does not announce: decoded with them");
      c.add_path_inferred = true;
      rib = std::move(with_ids);
    }
  }
  if (!rib) {
    return malformed(rib.error());
  }
  if (bgp::is_plain_prefix_family(rib->family) && !rib->prefix()) {
    // RIB_GENERIC frames its NLRI by the length octet only.
    // Sequence Number(4) AFI(2) SAFI(1), then the NLRI.
    return malformed(ErrorKind::BadValue, record.body_offset() + 7,
                     "RIB prefix length too long for the family");
  }
  if (rib->entry_count == 0) {
    return c;
  }
  if (peers == nullptr) {
    return malformed(ErrorKind::BadValue, record.body_offset(),
                     "RIB record before any PEER_INDEX_TABLE");
  }
  // The entries end the record; walk them for the peer index of each.
  wire::Reader r(rib->entries, static_cast<std::uint32_t>(offset_of_tail(record, rib->entries)));
  const std::size_t fixed = rib->add_path() ? 10 : 6;
  while (r.remaining() > 0) {
    const std::uint32_t index_at = r.offset();
    const std::uint16_t index = *r.u16();
    if (index >= peers->peers.size()) {
      return malformed(ErrorKind::BadValue, index_at,
                       "RIB entry names a peer index out of the PEER_INDEX_TABLE");
    }
    (void)r.skip(fixed - 2);
    const std::uint16_t len = *r.u16();
    (void)r.skip(len);
  }
  return c;
}

// RFC 6396 section 4.2, with several entries per record read as bgpdump reads the first.
RecordCheck check_table_dump(const Record& record) {
  RecordCheck c;
  c.context = parse_context_for(record);
  std::size_t pos = 0;
  while (pos < record.body.size() || c.entries == 0) {
    auto e = parse_table_dump_entry(record, pos);
    if (!e) {
      if (c.entries == 0) {
        return malformed(e.error());
      }
      return warning(c, ErrorKind::BadLength, record.body_offset() + pos,
                     "bytes after the TABLE_DUMP entries that are not a whole entry: skipped");
    }
    ++c.entries;
  }
  return c;
}

RecordCheck check_legacy(const Record& record, bgp::Update& update) {
  RecordCheck c;
  c.context = parse_context_for(record);
  switch (static_cast<BgpSubtype>(record.header.subtype)) {
    case BgpSubtype::StateChange: {
      auto s = parse_bgp_state_change(record);
      return s ? c : malformed(s.error());
    }
    case BgpSubtype::Update:
    case BgpSubtype::Open:
    case BgpSubtype::Notify:
    case BgpSubtype::Keepalive: {
      auto m = parse_bgp_message(record);
      if (!m) {
        return malformed(m.error());
      }
      if (m->subtype == BgpSubtype::Update) {
        // The payload is the UPDATE body (RFC 6396 appendix B.2.1 drops the BGP header).
        c.update = true;
        if (auto st = check_update_body(m->payload, offset_of_tail(record, m->payload), c.context,
                                        update);
            !st) {
          return malformed(st.error());
        }
      }
      return c;
    }
    default:
      return unsupported();  // NULL, PREF_UPDATE, SYNC
  }
}

}  // namespace

RecordCheck check_record(const Record& record, const PeerIndexTable* peers) {
  bgp::Update update;
  return check_record(record, peers, update);
}

RecordCheck check_record(const Record& record, const PeerIndexTable* peers, bgp::Update& update) {
  const std::uint16_t sub = record.header.subtype;
  switch (record.header.type) {
    case Type::TableDump:
      if (sub >= 1 && sub <= 4) {
        return check_table_dump(record);
      }
      return unsupported();
    case Type::TableDumpV2: {
      const auto s = static_cast<TableDumpV2Subtype>(sub);
      if (s == TableDumpV2Subtype::PeerIndexTable) {
        auto t = parse_peer_index_table(record);
        return t ? RecordCheck{} : malformed(t.error());
      }
      if (is_rib(s)) {
        return check_rib(record, peers);
      }
      return unsupported();  // GEO_PEER_TABLE (RFC 6397) and unknown subtypes
    }
    case Type::Bgp4mp:
    case Type::Bgp4mpEt: {
      const auto s = static_cast<Bgp4mpSubtype>(sub);
      if (is_state_change(s)) {
        auto c = parse_bgp4mp_state_change(record);
        return c ? RecordCheck{} : malformed(c.error());
      }
      if (is_message(s)) {
        auto m = parse_bgp4mp_message(record);
        if (!m) {
          return malformed(m.error());
        }
        return check_bgp4mp_message(record, *m, update);
      }
      return unsupported();  // Zebra's BGP4MP_ENTRY and SNAPSHOT, unknown subtypes
    }
    case Type::Bgp:
    case Type::Bgp4Plus:
    case Type::Bgp4Plus01:
      return check_legacy(record, update);
    default:
      return unsupported();
  }
}

}  // namespace bgpscribe::codec::mrt
