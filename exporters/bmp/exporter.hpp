// The BMP exporter (`type: bmp`): bgpscribe as a monitored router for BMP stations (RFC 7854).
//
// Each station (configured, or connected to a `listen` address: listener.hpp) gets, on connect, an
// Initiation, a Peer Up for every established peer, every peer's Adj-RIB-In as pre-policy Route
// Monitoring from a RibSnapshot asked for at that moment, End-of-RIB per family, then every live
// UPDATE as received, Peer Down, periodic Statistics Reports and a Termination at stop. The
// snapshot is a point of the record stream, so the table and the live messages join without a gap
// or a duplicate.
//
// accept() encodes each message once into a batch that, when full or at flush(), goes to
// every station's queue as one shared buffer; it never waits for a station (station.hpp). Nothing
// is spooled to disk: a station that falls behind is dropped and gets the whole table again when it
// reconnects.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "codec/wire/writer.hpp"
#include "exporters/api/exporter.hpp"
#include "exporters/bmp/config.hpp"
#include "exporters/bmp/encode.hpp"
#include "exporters/bmp/listener.hpp"
#include "exporters/bmp/station.hpp"

namespace bgpscribe::exporters::bmp {

class BmpExporter final : public Exporter {
 public:
  BmpExporter(std::string name, Options options);
  ~BmpExporter() override;
  BmpExporter(const BmpExporter&) = delete;
  BmpExporter& operator=(const BmpExporter&) = delete;

  [[nodiscard]] std::string_view name() const override { return name_; }
  void start() override;
  void accept(const Record& record) override;
  void flush(std::int64_t now_us) override;
  void stop() override;
  [[nodiscard]] bool wants_snapshots() const override { return true; }
  void metrics(std::vector<Metric>& out) const override;

  [[nodiscard]] const std::vector<std::unique_ptr<Station>>& stations() const { return stations_; }
  // The ports of the listen addresses, in their order (after start()).
  [[nodiscard]] std::vector<std::uint16_t> listen_ports() const;

 private:
  struct Peer {
    PeerInfoPtr info;
    SharedBytes received_open;  // the peer's OPEN (Record::message of PeerUp)
    SharedBytes sent_open;      // ours
    codec::bgp::ParseContext context{};
    std::int64_t up_us = 0;
    // What both OPENs list in capability 1 (IPv4 unicast without one), among the families
    // the collector keeps routes of: each gets an End-of-RIB after a table.
    std::vector<codec::bgp::AfiSafi> families;
    SharedBytes last_update;  // the UPDATE before, for stat type 13
    std::uint32_t duplicate_updates = 0;
  };
  // writer_'s message (encoded alone: it may fail half-way) into the live batch.
  void push_live();
  // The live batch to every live station (before a table, a flush, a stop).
  void send_live();
  void on_snapshot(const Record& record);
  // Listener thread: a station connected to a listen address.
  void on_incoming(int fd, const StationAddress& from);
  // Exporter thread: stations that connected in join stations_; `reap`: those whose
  // connection is over leave it.
  void adopt_incoming(bool reap);
  void send_statistics(std::int64_t time_us, const std::map<std::uint32_t, PeerCounts>& counts);

  std::string name_;
  Options options_;
  std::vector<std::unique_ptr<Station>> stations_;  // the configured ones first
  std::size_t configured_ = 0;
  std::vector<std::uint8_t> initiation_;
  std::unique_ptr<StationListener> listener_;
  std::mutex incoming_mutex_;
  std::vector<std::unique_ptr<Station>> incoming_;  // connected in, not yet in stations_
  std::atomic<bool> incoming_waiting_{false};
  std::atomic<std::size_t> incoming_alive_{0};  // in stations_, connection not over
  std::atomic<std::uint64_t> incoming_accepted_{0};
  std::atomic<std::uint64_t> incoming_refused_{0};
  std::map<std::uint32_t, Peer> peers_;  // established, by PeerInfo::id
  codec::wire::Writer writer_;
  codec::wire::Writer live_;        // live messages not yet handed to the stations
  std::uint64_t live_batched_ = 0;  // how many
  std::int64_t next_stats_us_ = 0;
  bool stats_due_ = false;
  bool stopped_ = false;
  // Exporter-wide counters.
  std::uint64_t live_messages_ = 0;     // messages encoded for live stations
  std::uint64_t tables_built_ = 0;      // snapshots turned into a table for waiting stations
  std::uint64_t table_routes_ = 0;      // routes of those tables
  std::uint64_t routes_skipped_ = 0;    // snapshot routes of peers not established (GR stale)
  std::uint64_t routes_too_large_ = 0;  // routes whose UPDATE exceeds the message size
  std::uint64_t encode_errors_ = 0;
  std::uint64_t statistics_reports_ = 0;
};

// `type: bmp` in the config (docs/bmp-exporter.md).
ExporterPtr make(const ExporterContext& context, const YAML::Node& options);

}  // namespace bgpscribe::exporters::bmp
