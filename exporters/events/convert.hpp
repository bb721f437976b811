// Records as the Protobuf events of schema/proto/bgpscribe/v1/events.proto: what the live API
// and the Kafka exporter carry.
//
// An UPDATE becomes one RouteEvent per prefix it withdraws or announces (withdrawals first, as
// RFC 4271 section 9 applies them), each with the peer, the decoded attributes and the
// collector's RFC 7606 decision; a treat-as-withdraw UPDATE gives withdrawals. A session's
// state changes become PeerEvents: reaching Established carries both OPENs (from the PeerUp
// record, which follows the state change), leaving it the NOTIFICATION (from the PeerDown
// record); the state change records of those two steps give nothing themselves, so each step
// is one event. Other messages (OPEN, KEEPALIVE, NOTIFICATION, ROUTE-REFRESH), Start, StaleEnd
// and RibSnapshot records give none here (a snapshot is streamed by whoever takes it).
// Decoding is the codec's, as every other output's (docs/api.md).
//
// EventEncoder writes those events serialized (the Protobuf wire format) into an EventBlock,
// which is what streams carry: an UPDATE's peer and attributes are made and serialized once and
// copied as bytes into each of its prefixes' events, where building a message per prefix cost
// the live API ten times the collector's own work per prefix (bench/results/api.md).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bgpscribe/v1/events.pb.h"
#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/ip.hpp"
#include "exporters/api/record.hpp"
#include "exporters/api/rib_snapshot.hpp"
#include "exporters/events/filter.hpp"

namespace bgpscribe::exporters::events {

struct Options {
  std::string collector;    // Peer.collector
  bool raw_update = false;  // fill RouteEvent.raw_update
  // EventEncoder: keep each UPDATE's decoded Attributes in the block for the filters that read
  // them (EventView::attributes); without, an UPDATE's attributes are made in a reused message.
  bool keep_attributes = false;
};

// Events serialized one after the other: bytes() is an EventBatch message (each event its
// field 1), so a stream that takes every event sends it as it is; one that filters copies the
// events it takes. Immutable once made, shared by every stream.
class EventBlock {
 public:
  EventBlock() = default;
  // Room for about `events` events of a full table's size.
  explicit EventBlock(std::size_t events);
  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  [[nodiscard]] bool empty() const { return entries_.empty(); }
  // The serialized EventBatch of every event (without the raw UPDATEs).
  [[nodiscard]] std::string_view bytes() const { return bytes_; }
  // Whether every event is a route event.
  [[nodiscard]] bool routes_only() const { return other_events_ == 0; }
  // Whether some event has a raw UPDATE to go with it (Options::raw_update).
  [[nodiscard]] bool has_raw() const { return !raws_.empty(); }
  // What a filter looks at of event `i`.
  [[nodiscard]] EventView view(std::size_t i) const;
  // Appends event `i` to `out` as an EventBatch field, with its raw UPDATE if `raw`.
  void append_field(std::size_t i, bool raw, std::string& out) const;
  // Event `i` alone, serialized (an Event message), with its raw UPDATE if `raw`.
  void append_event(std::size_t i, bool raw, std::string& out) const;
  // Event `i` parsed back (for the RIS Live stream and the tests).
  void parse(std::size_t i, bool raw, bgpscribe::v1::Event& out) const;

 private:
  friend class EventEncoder;
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  struct Entry {
    std::uint32_t field = 0;  // where its EventBatch field starts in bytes_
    std::uint32_t begin = 0;  // where its Event message starts
    std::uint32_t end = 0;
    std::uint32_t peer = kNone;        // in peers_
    std::uint32_t attributes = kNone;  // in attributes_
    std::uint32_t raw = kNone;         // in raws_
    EventView::Kind kind = EventView::Kind::Other;
    bool withdraw = false;
    codec::bgp::Prefix prefix;
  };
  std::string bytes_;
  std::vector<Entry> entries_;
  std::vector<std::shared_ptr<const bgpscribe::v1::Peer>> peers_;
  std::deque<bgpscribe::v1::Attributes> attributes_;
  std::vector<SharedBytes> raws_;
  std::size_t other_events_ = 0;  // not route events
};

// Writes records' events into blocks; keeps each peer's Peer message made and serialized until
// the peer's information changes. One thread at a time.
class EventEncoder {
 public:
  explicit EventEncoder(Options options) : options_(std::move(options)) {}
  void set_raw_update(bool raw) { options_.raw_update = raw; }
  void set_keep_attributes(bool keep) { options_.keep_attributes = keep; }
  // Appends the events of `record` to `block` (see above); returns how many.
  std::size_t append(const Record& record, EventBlock& block);
  // Appends a route held in a table (a RibSnapshot's) as an ANNOUNCE event: the time it was last
  // announced, its table attributes (RibRoute::attributes), no UPDATE number.
  void append_route(const PeerInfoPtr& peer, codec::bgp::AfiSafi family,
                    const codec::bgp::Prefix& prefix, const RibRoute& route, EventBlock& block);

 private:
  struct CachedPeer {
    PeerInfoPtr info;
    std::shared_ptr<const bgpscribe::v1::Peer> message;
    std::string bytes;
  };
  // What a route event says besides the attributes (attributes_).
  struct RouteParts {
    std::int64_t time_us = 0;
    std::uint64_t seq = 0;
    std::uint32_t peer = 0;  // in the block
    std::string_view peer_bytes;
    codec::bgp::Prefix prefix;
    std::uint32_t path_id = 0;
    codec::bgp::AfiSafi family{};
    bool withdraw = false;
    bgpscribe::v1::Decision decision = bgpscribe::v1::ACCEPTED;
    std::string_view error;                        // shown with a decision other than ACCEPTED
    std::uint32_t attributes = EventBlock::kNone;  // in the block, when kept
    std::uint32_t raw = EventBlock::kNone;
  };
  // A table's attribute set serialized, by its address (append_route).
  struct TableAttributes {
    std::span<const std::uint8_t> key;
    codec::bgp::AfiSafi family{};
    std::string bytes;
  };

  // The peer in `block` (added on its first event there); its bytes in `bytes`.
  std::uint32_t peer_of(const PeerInfoPtr& info, EventBlock& block, const std::string** bytes);
  std::size_t append_update(const Record& record, EventBlock& block);
  // Fills an Attributes message with `fill` and serializes it into attributes_; returns its
  // index in the block when kept (Options::keep_attributes).
  template <class Fill>
  std::uint32_t make_attributes(EventBlock& block, const Fill& fill);
  void put_route(const RouteParts& parts, EventBlock& block);
  void append_message(const bgpscribe::v1::Event& event, std::uint32_t peer, EventBlock& block);

  Options options_;
  std::unordered_map<std::uint32_t, CachedPeer> peers_;
  bgpscribe::v1::Attributes decoded_;  // scratch: the UPDATE's Attributes, when not kept
  std::string attributes_;             // scratch: the UPDATE's Attributes, serialized
  std::vector<TableAttributes> table_attributes_ = std::vector<TableAttributes>(4096);
};

// Appends `event` to `out` as a field of an EventBatch (what EventBlock::bytes() holds).
void append_batch_field(const bgpscribe::v1::Event& event, std::string& out);

// Appends the events of `record` to `out` (see above); returns how many.
std::size_t append_events(const Record& record, const Options& options,
                          google::protobuf::RepeatedPtrField<bgpscribe::v1::Event>& out);

// The Attributes message of a route held in a table of `family`: RibRoute::attributes (the
// TABLE_DUMP_V2 form, 4-octet ASNs, MP_REACH_NLRI reduced to its next hop).
void fill_rib_attributes(std::span<const std::uint8_t> attributes, codec::bgp::AfiSafi family,
                         bgpscribe::v1::Attributes& out);

// The Peer message of a record's peer.
void fill_peer(const PeerInfo& info, const std::string& collector, bgpscribe::v1::Peer& out);

}  // namespace bgpscribe::exporters::events
