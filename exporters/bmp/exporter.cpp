#include "exporters/bmp/exporter.hpp"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "codec/bgp/capability.hpp"
#include "codec/bgp/message_types.hpp"
#include "codec/bgp/open.hpp"
#include "codec/bgp/update.hpp"
#include "exporters/api/config.hpp"
#include "exporters/api/log.hpp"

#ifndef BGPSCRIBE_VERSION
#define BGPSCRIBE_VERSION "unknown"
#endif

namespace bgpscribe::exporters::bmp {

namespace bgp = codec::bgp;

namespace {

constexpr std::chrono::milliseconds kStopDrain{5000};
constexpr std::uint8_t kUpdateType = 2;  // RFC 4271 section 4.1
// Live messages go to the stations in batches of about this size (or less, at each flush(),
// which comes when the record queue runs empty): one allocation, lock and wake per batch
// instead of per message (bench/results/bmp-export.md has the figures).
constexpr std::size_t kLiveBatchBytes = std::size_t{256} << 10;
// A table goes to the stations in chunks of about this size as it is built, so that it is never
// held whole (737 MB for 20 full tables) and the first bytes leave at once.
constexpr std::size_t kTableChunkBytes = std::size_t{4} << 20;

SharedMessage share(const codec::wire::Writer& w) {
  return std::make_shared<const std::vector<std::uint8_t>>(w.bytes().begin(), w.bytes().end());
}

// The families both OPENs list (RFC 4760 section 8: without capability 1, IPv4 unicast only)
// that the collector keeps routes of, in kRecordFamilies order. Families it does not keep get
// no End-of-RIB: a table cannot hold their routes, so it would claim a table never sent.
// OPENs that do not parse (none the collector accepted) count as IPv4 unicast only.
std::vector<bgp::AfiSafi> negotiated_families(const SharedBytes& sent,
                                              const SharedBytes& received) {
  const auto a = bgp::parse_open(sent.span());
  const auto b = bgp::parse_open(received.span());
  std::vector<bgp::AfiSafi> out;
  if (!a || !b) {
    out.push_back(bgp::kIpv4Unicast);
    return out;
  }
  const auto ours = bgp::advertised_families(*a);
  const auto theirs = bgp::advertised_families(*b);
  for (const auto f : kRecordFamilies) {
    if (std::find(ours.begin(), ours.end(), f) != ours.end() &&
        std::find(theirs.begin(), theirs.end(), f) != theirs.end()) {
      out.push_back(f);
    }
  }
  return out;
}

}  // namespace

BmpExporter::BmpExporter(std::string name, Options options)
    : name_(std::move(name)), options_(std::move(options)) {}

BmpExporter::~BmpExporter() {
  listener_.reset();  // no station connects in any more
  incoming_.clear();
  stations_.clear();  // each joins its thread
}

void BmpExporter::start() {
  codec::wire::Writer w;
  encode_initiation(options_.collector_name, std::string("bgpscribe ") + BGPSCRIBE_VERSION, w);
  initiation_.assign(w.bytes().begin(), w.bytes().end());
  if (!options_.listen.empty()) {
    listener_ = std::make_unique<StationListener>(options_.listen);  // a taken port stops here
  }
  for (const auto& a : options_.stations) {
    stations_.push_back(
        std::make_unique<Station>(a, options_, initiation_, [this] { request_snapshot(); }));
  }
  configured_ = stations_.size();
  for (auto& s : stations_) {
    s->start();
  }
  if (listener_) {
    listener_->start([this](int fd, const StationAddress& from) { on_incoming(fd, from); });
  }
}

std::vector<std::uint16_t> BmpExporter::listen_ports() const {
  return listener_ ? listener_->ports() : std::vector<std::uint16_t>();
}

void BmpExporter::on_incoming(int fd, const StationAddress& from) {
  std::lock_guard lock(incoming_mutex_);
  if (incoming_alive_.load() + incoming_.size() >= options_.max_incoming) {
    ::close(fd);
    const auto n = ++incoming_refused_;
    logf(LogLevel::Warning, "bmp",
         "station %s refused: %zu stations connected in already (max_incoming); %llu refused",
         from.text().c_str(), options_.max_incoming, static_cast<unsigned long long>(n));
    return;
  }
  ++incoming_accepted_;
  // Queued before its thread runs: the table it asks for comes in a RibSnapshot record, and
  // the exporter thread takes it in before handling any record (adopt_incoming).
  incoming_.push_back(
      std::make_unique<Station>(fd, from, options_, initiation_, [this] { request_snapshot(); }));
  incoming_waiting_.store(true);
  incoming_.back()->start();
}

void BmpExporter::adopt_incoming(bool reap) {
  if (incoming_waiting_.exchange(false)) {
    std::lock_guard lock(incoming_mutex_);
    for (auto& s : incoming_) {
      stations_.push_back(std::move(s));
    }
    incoming_.clear();
  }
  if (reap) {
    // A finished station's thread has ended: erasing it joins at once.
    const auto first = stations_.begin() + static_cast<std::ptrdiff_t>(configured_);
    stations_.erase(
        std::remove_if(first, stations_.end(), [](const auto& s) { return s->finished(); }),
        stations_.end());
  }
  incoming_alive_.store(stations_.size() - configured_);
}

void BmpExporter::push_live() {
  ++live_messages_;
  live_.bytes(writer_.bytes());
  ++live_batched_;
  if (live_.size() >= kLiveBatchBytes) {
    send_live();
  }
}

void BmpExporter::send_live() {
  if (live_batched_ == 0) {
    return;
  }
  const auto batch = std::make_shared<const std::vector<std::uint8_t>>(live_.take());
  for (auto& s : stations_) {
    s->push_live(batch, live_batched_);
  }
  live_batched_ = 0;
  live_.clear();
  live_.reserve(kLiveBatchBytes + bgp::kMaxExtendedMessageSize);
}

void BmpExporter::accept(const Record& record) {
  if (incoming_waiting_.load(std::memory_order_relaxed)) {
    adopt_incoming(false);
  }
  switch (record.type) {
    case RecordType::PeerUp: {
      if (!record.peer) {
        return;
      }
      auto& p = peers_[record.peer->id];
      p = Peer{};
      p.info = record.peer;
      p.received_open = record.message;
      p.sent_open = record.sent_open;
      p.context = record.context;
      p.up_us = record.time_us;
      p.families = negotiated_families(record.sent_open, record.message);
      writer_.clear();
      const auto h = per_peer_header(*p.info, p.context.four_octet_as, record.time_us);
      if (!encode_peer_up(h, *p.info, p.sent_open.span(), p.received_open.span(), writer_)) {
        ++encode_errors_;
        return;
      }
      push_live();
      return;
    }
    case RecordType::PeerDown: {
      if (!record.peer) {
        return;
      }
      const auto it = peers_.find(record.peer->id);
      if (it == peers_.end()) {
        return;  // never up for us
      }
      writer_.clear();
      const auto h =
          per_peer_header(*record.peer, it->second.context.four_octet_as, record.time_us);
      peers_.erase(it);
      if (!encode_peer_down(h, record, writer_)) {
        ++encode_errors_;
        return;
      }
      push_live();
      return;
    }
    case RecordType::Message: {
      const auto bytes = record.message.span();
      if (!record.peer || bytes.size() < bgp::kHeaderSize || bytes[18] != kUpdateType) {
        return;
      }
      const auto it = peers_.find(record.peer->id);
      if (it == peers_.end()) {
        return;  // an UPDATE before Established cannot be (RFC 4271), nothing to show
      }
      // Stat type 13: the same UPDATE again (a shared buffer: no copy kept).
      auto& last = it->second.last_update;
      if (last.size() == bytes.size() && std::ranges::equal(last.span(), bytes)) {
        ++it->second.duplicate_updates;
      }
      last = record.message;
      // Straight into the batch: a Route Monitoring message cannot fail to encode.
      const auto h = per_peer_header(*record.peer, record.context.four_octet_as, record.time_us);
      (void)encode_route_monitoring(h, bytes, live_);
      ++live_messages_;
      ++live_batched_;
      if (live_.size() >= kLiveBatchBytes) {
        send_live();
      }
      return;
    }
    case RecordType::RibSnapshot:
      if (record.snapshot) {
        on_snapshot(record);
      }
      return;
    case RecordType::Start:
      peers_.clear();  // the sessions of earlier runs are over
      return;
    case RecordType::StateChange:
    case RecordType::StaleEnd:
      return;
  }
}

void BmpExporter::on_snapshot(const Record& record) {
  const auto& snap = *record.snapshot;
  // Live messages before the snapshot go to the stations that are live now; the waiting ones
  // have them in the table.
  send_live();
  struct Waiting {
    Station* station;
    std::uint64_t connection;
  };
  std::vector<Waiting> waiting;
  for (auto& s : stations_) {
    if (const auto c = s->waiting_table(); c != 0) {
      waiting.push_back({s.get(), c});
    }
  }
  if (waiting.empty() && !stats_due_) {
    return;
  }
  const bool build = !waiting.empty();
  // The snapshot's peer index to our established peer (null: not established, e.g. routes
  // kept stale for a graceful restart after the Peer Down the stations were sent).
  std::vector<const Peer*> by_index;
  by_index.reserve(snap.peers().size());
  for (const auto& rp : snap.peers()) {
    const auto it = rp.info ? peers_.find(rp.info->id) : peers_.end();
    by_index.push_back(it == peers_.end() ? nullptr : &it->second);
  }
  std::map<std::uint32_t, PeerCounts> counts;
  for (const auto& [id, p] : peers_) {
    counts[id];
  }
  for (const auto& rp : snap.peers()) {
    if (rp.info && peers_.contains(rp.info->id)) {
      auto& c = counts[rp.info->id];
      c.unknown_withdrawals = rp.unknown_withdrawals;
      c.treat_as_withdraw_updates = rp.treat_as_withdraw_updates;
      c.treat_as_withdraw_prefixes = rp.treat_as_withdraw_prefixes;
    }
  }
  // The table goes out in chunks of kTableChunkBytes as it is built.
  codec::wire::Writer table;
  std::uint64_t messages = 0;
  const auto send_chunk = [&](bool last) {
    const auto chunk = std::make_shared<const std::vector<std::uint8_t>>(table.take());
    for (const auto& w : waiting) {
      (void)w.station->push_table(w.connection, chunk, messages, last);
    }
    table.clear();
    messages = 0;
  };
  const auto sent = [&](bool ok) {
    if (!ok) {
      ++encode_errors_;
      return;
    }
    ++messages;
    if (table.size() >= kTableChunkBytes) {
      send_chunk(false);
    }
  };
  if (build) {
    for (const auto& [id, p] : peers_) {
      const auto h = per_peer_header(*p.info, p.context.four_octet_as, p.up_us);
      sent(static_cast<bool>(
          encode_peer_up(h, *p.info, p.sent_open.span(), p.received_open.span(), table)));
    }
  }
  for (const auto family : snap.families()) {
    std::map<std::uint32_t, TablePacker> packers;
    TableGrouper grouper;
    const auto pack = [&](const TableGrouper::Group& g, const TableGrouper::Entry& e) {
      const Peer& p = *by_index[g.peer_index];
      auto it = packers.find(p.info->id);
      if (it == packers.end()) {
        const auto h = per_peer_header(*p.info, p.context.four_octet_as, snap.time_us());
        it = packers
                 .try_emplace(p.info->id, family, p.context,
                              [h, &table, &sent](std::span<const std::uint8_t> u) {
                                sent(static_cast<bool>(encode_route_monitoring(h, u, table)));
                              })
                 .first;
      }
      it->second.add(e.prefix, e.path_id, g.attributes);
    };
    snap.for_each_prefix(family, [&](const bgp::Prefix& prefix, std::span<const RibRoute> routes) {
      for (const auto& route : routes) {
        const Peer* p = route.peer_index < by_index.size() ? by_index[route.peer_index] : nullptr;
        if (p == nullptr) {
          routes_skipped_ += build ? 1 : 0;
          continue;
        }
        counts[p->info->id].add(family, 1);
        if (!build) {
          continue;
        }
        grouper.add(route.peer_index, route.attributes, prefix, route.path_id);
        ++table_routes_;
        if (grouper.full()) {
          grouper.drain(pack);
        }
      }
    });
    grouper.drain(pack);
    for (auto& [id, packer] : packers) {
      packer.finish();
      routes_too_large_ += packer.too_large();
    }
  }
  if (build) {
    // End-of-RIB (RFC 4724 section 2) for every family the session negotiated, and for any
    // other family it has routes of, as a router ends its initial table.
    codec::wire::Writer eor;
    for (const auto& [id, p] : peers_) {
      const auto h = per_peer_header(*p.info, p.context.four_octet_as, snap.time_us());
      auto families = p.families;
      for (const auto& [family, n] : counts[id].per_family) {
        if (n > 0 && std::find(families.begin(), families.end(), family) == families.end()) {
          families.push_back(family);
        }
      }
      for (const auto family : families) {
        eor.clear();
        sent(bgp::UpdateMessage::end_of_rib(family).encode(eor) &&
             encode_route_monitoring(h, eor.bytes(), table));
      }
    }
    ++tables_built_;
    send_chunk(true);
  }
  if (stats_due_) {
    stats_due_ = false;
    send_statistics(snap.time_us(), counts);
  }
}

void BmpExporter::send_statistics(std::int64_t time_us,
                                  const std::map<std::uint32_t, PeerCounts>& counts) {
  for (const auto& [id, c] : counts) {
    const auto it = peers_.find(id);
    if (it == peers_.end()) {
      continue;
    }
    writer_.clear();
    const auto h = per_peer_header(*it->second.info, it->second.context.four_octet_as, time_us);
    auto with_duplicates = c;
    with_duplicates.duplicate_updates = it->second.duplicate_updates;
    if (!encode_statistics(h, with_duplicates, writer_)) {
      ++encode_errors_;
      continue;
    }
    ++statistics_reports_;
    push_live();
  }
}

void BmpExporter::flush(std::int64_t now_us) {
  adopt_incoming(true);
  send_live();
  if (options_.stats_interval.count() <= 0) {
    return;
  }
  const std::int64_t interval_us = options_.stats_interval.count() * 1'000'000;
  if (next_stats_us_ == 0) {
    next_stats_us_ = now_us + interval_us;
  } else if (now_us >= next_stats_us_) {
    next_stats_us_ = now_us + interval_us;
    stats_due_ = true;
    request_snapshot();  // the counts come from the next snapshot, a point of the stream
  }
}

void BmpExporter::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  if (listener_) {
    listener_->stop();
  }
  adopt_incoming(false);  // they get the Termination too
  send_live();
  codec::wire::Writer w;
  encode_termination(w);
  const auto termination = share(w);
  for (auto& s : stations_) {
    s->request_stop(termination, kStopDrain);
  }
  for (auto& s : stations_) {
    s->join();
  }
}

void BmpExporter::metrics(std::vector<Metric>& out) const {
  const auto c = [&](std::string name, std::uint64_t v, bool counter, std::string help) {
    out.push_back({std::move(name), static_cast<double>(v), counter, std::move(help)});
  };
  c("live_messages", live_messages_, true, "BMP messages encoded for live stations");
  c("tables_built", tables_built_, true, "snapshots sent as a table to connecting stations");
  c("table_routes", table_routes_, true, "routes sent in those tables");
  c("table_routes_skipped", routes_skipped_, true, "snapshot routes of peers not established");
  c("table_routes_too_large", routes_too_large_, true, "routes whose UPDATE would be too large");
  c("encode_errors", encode_errors_, true, "messages that could not be encoded");
  c("statistics_reports", statistics_reports_, true, "Statistics Reports sent");
  c("peers", peers_.size(), false, "established peers");
  c("live_batched", live_batched_, false, "live messages waiting for the next batch");
  if (listener_) {
    std::uint64_t connected = 0;
    for (std::size_t i = configured_; i < stations_.size(); ++i) {
      connected += stations_[i]->counters().connected ? 1 : 0;
    }
    c("incoming_connected", connected, false, "stations connected in now (listen)");
    c("incoming_accepted", incoming_accepted_.load(), true, "stations that connected in");
    c("incoming_refused", incoming_refused_.load(), true,
      "stations refused: max_incoming connected in already");
    c("incoming_accept_failures", listener_->accept_failures(), true,
      "station connections that could not be accepted (out of file descriptors, ...)");
  }
  for (std::size_t i = 0; i < configured_; ++i) {
    const auto k = stations_[i]->counters();
    const auto station = stations_[i]->address().text();
    const auto pre = "station" + std::to_string(i) + "_";
    c(pre + "connected", k.connected ? 1 : 0, false, station + ": connected now");
    c(pre + "messages_sent", k.messages_sent, true, station + ": BMP messages sent");
    c(pre + "bytes_sent", k.bytes_sent, true, station + ": bytes sent");
    c(pre + "connects", k.connects, true, station + ": connections made");
    c(pre + "disconnects", k.disconnects, true, station + ": connections lost or dropped");
    c(pre + "overflows", k.overflows, true, station + ": dropped because its queue was full");
    c(pre + "tables_sent", k.tables_sent, true, station + ": tables queued");
    c(pre + "queued", k.queued, false, station + ": messages waiting");
  }
}

ExporterPtr make(const ExporterContext& context, const YAML::Node& node) {
  return std::make_unique<BmpExporter>(context.instance_name, parse_options(context, node));
}

}  // namespace bgpscribe::exporters::bmp
