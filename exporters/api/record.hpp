// Record: what the collector hands to every exporter, and who it is about (PeerInfo).
//
// A record is one event of one BGP session, in the order the collector saw it: a message the
// peer sent (its bytes exactly as received, malformed ones included), a state change, the
// session coming up or going down, or a consistent snapshot of every peer's Adj-RIB-In. The
// bytes are shared and immutable, so one copy serves every exporter. Nothing here parses: the
// context says how the codec decodes the message.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "codec/bgp/ip.hpp"
#include "codec/bgp/parse_context.hpp"

namespace bgpscribe::exporters {

class RibSnapshot;

// One BGP session of the collector, as MRT BGP4MP, BMP per-peer headers and the SQL archive
// need it. Immutable: the collector makes a new one when something changes (the peer's AS
// and BGP identifier are known only after its OPEN, the local address after the connection).
struct PeerInfo {
  // Collector-wide key of the peer (stable for a configured address across reloads and
  // restarts of the session; dynamic peers get one per address).
  std::uint32_t id = 0;
  std::string name;  // the configured name, or the address
  codec::bgp::IpAddress peer_address{};
  codec::bgp::IpAddress local_address{};  // unspecified (all zero) until connected
  std::uint16_t peer_port = 0;
  std::uint16_t local_port = 0;
  std::uint32_t peer_as = 0;  // configured, or learned from the OPEN; 0 while unknown
  std::uint32_t local_as = 0;
  std::uint32_t peer_bgp_id = 0;  // host order, from the peer's OPEN; 0 while unknown
  std::uint32_t local_bgp_id = 0;
  // A peer that a BMP router reports to the collector's BMP station input (RFC 7854): the
  // router (its configured name, never empty then; empty for the collector's own sessions),
  // the per-peer header's peer type and distinguisher, and whether the routes are the
  // router's post-policy Adj-RIB-In (L flag). Pre- and post-policy of one monitored peer are
  // two sources, each with its own id and Adj-RIB-In. The addresses, ports, ASes and BGP
  // identifiers above are the monitored session's, from the Peer Up.
  std::string router;
  codec::bgp::IpAddress router_address{};
  std::uint8_t bmp_peer_type = 0;
  std::uint64_t distinguisher = 0;
  bool post_policy = false;

  [[nodiscard]] bool from_bmp() const { return !router.empty(); }
  friend bool operator==(const PeerInfo&, const PeerInfo&) = default;
};
using PeerInfoPtr = std::shared_ptr<const PeerInfo>;

// An immutable byte buffer shared by every exporter (one allocation per message).
class SharedBytes {
 public:
  SharedBytes() = default;
  explicit SharedBytes(std::span<const std::uint8_t> bytes);
  [[nodiscard]] std::span<const std::uint8_t> span() const { return {data_.get(), size_}; }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }

 private:
  std::shared_ptr<const std::uint8_t[]> data_;
  std::size_t size_ = 0;
};

// BGP FSM states as MRT numbers them (RFC 6396 section 4.4.1); BMP and SQL use the same.
enum class SessionState : std::uint16_t {
  Idle = 1,
  Connect = 2,
  Active = 3,
  OpenSent = 4,
  OpenConfirm = 5,
  Established = 6,
};
const char* to_string(SessionState s);

enum class RecordType : std::uint8_t {
  Message,      // a BGP message the peer sent (message, context)
  StateChange,  // the session changed state (old_state, new_state, reason)
  PeerUp,       // the session reached Established (message = the peer's OPEN, sent_open = ours)
  PeerDown,     // the session left Established (message = the NOTIFICATION if there was one)
  RibSnapshot,  // every peer's Adj-RIB-In at this point of the stream (snapshot)
  // The collector started at time_us: the sessions of its earlier runs are over. Comes after
  // the records that a start replays from the journal, before any new one (peer is null).
  Start,
  // A graceful restart (RFC 4724 section 4.2) ended for one family (stale_families, one bit):
  // the routes of the peer's that are still stale since stale_since_us (not announced again by
  // the new session) are withdrawn. reason: End-of-RIB, or which timer ran out.
  StaleEnd,
};
const char* to_string(RecordType t);

// The families the collector keeps routes of (Adj-RIB-In, graceful restart), in the order of
// the bits of Record::stale_families and of the spool's ADD-PATH flags.
inline constexpr codec::bgp::AfiSafi kRecordFamilies[] = {
    codec::bgp::kIpv4Unicast, codec::bgp::kIpv4Multicast, codec::bgp::kIpv6Unicast,
    codec::bgp::kIpv6Multicast};
// The bit of `f` in Record::stale_families; 0 for other families.
std::uint8_t family_bit(codec::bgp::AfiSafi f);

struct Record {
  RecordType type = RecordType::Message;
  std::int64_t time_us = 0;  // when the collector received it: Unix time in microseconds
  PeerInfoPtr peer;          // null only for RibSnapshot and Start
  SharedBytes message;       // the whole BGP message, marker and header included
  SharedBytes sent_open;     // PeerUp: the OPEN we sent
  // How this session decodes `message` (4-octet AS, ADD-PATH per family, extended messages),
  // as negotiated when it arrived.
  codec::bgp::ParseContext context{};
  SessionState old_state = SessionState::Idle;  // StateChange
  SessionState new_state = SessionState::Idle;
  // StateChange and PeerDown: why, in words (the FSM event, or the NOTIFICATION described).
  std::string reason;
  // PeerDown: whether we sent the NOTIFICATION in `message` (false: the peer sent it, or
  // there was none and the connection just closed).
  bool local_notification = false;
  // PeerDown: the families whose routes stay, stale, for a graceful restart instead of being
  // withdrawn (bits of kRecordFamilies). StaleEnd: the family whose stale routes end.
  std::uint8_t stale_families = 0;
  // StaleEnd: when those routes became stale (the time_us of the PeerDown that kept them).
  std::int64_t stale_since_us = 0;
  std::shared_ptr<const RibSnapshot> snapshot;  // RibSnapshot
  // The record's number in the collector's journal (collector/core/journal.hpp): increasing,
  // 0 when the collector keeps no journal. A RibSnapshot takes the number of the record before.
  std::uint64_t seq = 0;
};

}  // namespace bgpscribe::exporters
