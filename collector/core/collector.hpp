// Collector: the daemon's core. Holds many passive BGP sessions, turns every received message
// and every state change into a Record, keeps the Adj-RIB-In, and fans records out to the
// exporters through one ExporterWorker (bounded queue, spool, thread) each.
//
// Everything but the exporters runs on one io_context thread: sessions, the RIB, the schedule
// of RIB snapshots, signals (SIGTERM/SIGINT: shut down; SIGHUP: reload; SIGUSR1: snapshot now)
// and the status file. A session never waits for an exporter. Concrete exporters are built
// through tools/main.cpp's table (handed in, and an ExporterBuilder for reloads); the collector
// only knows the Exporter interface.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collector/bmp/router.hpp"
#include "collector/bmp/station.hpp"
#include "collector/config/config.hpp"
#include "collector/core/exporter_worker.hpp"
#include "collector/core/journal.hpp"
#include "collector/core/status_file.hpp"
#include "collector/core/status_view.hpp"
#include "collector/rib/adj_rib_in.hpp"
#include "exporters/api/directory_lock.hpp"
#include "exporters/api/exporter.hpp"
#include "exporters/api/log.hpp"
#include "speaker/process.hpp"

namespace bgpscribe::collector {

struct CollectorStats {
  std::uint64_t messages = 0;       // BGP messages received and recorded
  std::uint64_t state_changes = 0;  // state changes recorded
  std::uint64_t snapshots = 0;
  std::uint64_t reloads = 0;
  std::uint64_t reloads_refused = 0;
  // Malformed input, as the log tells it (each also a line there, within its rate limit).
  std::uint64_t opens_refused = 0;         // OPENs answered with a NOTIFICATION
  std::uint64_t session_resets = 0;        // other messages that ended the session
  std::uint64_t attributes_discarded = 0;  // UPDATEs with an attribute discarded (RFC 7606)
  // UPDATEs of BMP sources archived but not applied to the RIB (a direct session would have
  // been reset on them, or they do not parse).
  std::uint64_t bmp_updates_not_applied = 0;
};

// Private base RouterEvents: the sources of the BMP station input (collector/bmp/) go through
// the same RIB and fan-out as the BGP sessions.
class Collector : private bmp::RouterEvents {
 public:
  // Loads a fresh config for SIGHUP; nullopt when it is refused (the loader logs why).
  using ConfigSource = std::function<std::optional<config::CollectorConfig>()>;
  // Builds an exporter from its config entry, not started (tools/main.cpp's table of factories,
  // through run.cpp). Throws ConfigError for a bad option or an unknown type.
  using ExporterBuilder = std::function<exporters::ExporterPtr(const config::ExporterConfig&)>;

  // `exporters` are built from config.exporters, in that order.
  Collector(config::CollectorConfig config, std::vector<exporters::ExporterPtr> exporters);
  ~Collector() override;
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Starts exporters, listens and starts the peers. Throws (port in use, exporter refusing
  // to start) with a message for the operator.
  void start();
  // Runs until shutdown (a signal or shutdown()), then stops the exporters: every queued and
  // spooled record is delivered (up to the stop timeout) and files are finished.
  void run();
  // Cease to every peer, then stop the loop. Safe from any thread.
  void shutdown();
  // Applies a new config whole, or refuses it whole (logged, nothing applied): peers added,
  // removed or changed; exporters whose settings changed are switched to the new ones in their
  // worker (ExporterWorker::replace), added ones started, removed ones drained and stopped;
  // everything else is not touched. Refused: changes that need a restart (collector section,
  // listeners, dynamic ranges), an exporter entry its factory refuses, an exporter that changes
  // its type. docs/collector.md, "Reload".
  void reload(const config::CollectorConfig& next);
  // Queues a RIB snapshot to every exporter that takes them.
  void snapshot_now();

  // Adds an exporter that is not in the config (the live API's feed, collector/api/): its own
  // worker like the others, never touched by a reload, not in status.json. It gets records only
  // while `*active` is true (read on the io thread, per record), so that it costs nothing
  // while nobody listens. Before start().
  void add_internal(exporters::ExporterPtr exporter, const std::atomic<bool>* active);
  // The collector, its peers and exporters now. On the io thread.
  [[nodiscard]] StatusView status_view() const;

  // What the service manager hears of (core/service.hpp): a reload begins and ends (applied or
  // refused), the shutdown begins. On the io thread.
  struct Lifecycle {
    std::function<void()> reloading;
    std::function<void()> reloaded;
    std::function<void()> stopping;
  };
  void set_lifecycle(Lifecycle lifecycle) { lifecycle_ = std::move(lifecycle); }
  void set_config_source(ConfigSource source) { config_source_ = std::move(source); }
  // Without a builder, a reload that changes the exporters is refused.
  void set_exporter_builder(ExporterBuilder builder) { builder_ = std::move(builder); }
  [[nodiscard]] boost::asio::io_context& io() { return io_; }
  [[nodiscard]] Process& process() { return process_; }
  [[nodiscard]] const rib::AdjRibIn& rib() const { return rib_; }
  [[nodiscard]] const CollectorStats& stats() const { return stats_; }
  // The worker of the exporter named `name` in the running config; nullptr if none.
  [[nodiscard]] const ExporterWorker* worker(std::string_view name) const;
  // The running exporters' names, in config order.
  [[nodiscard]] std::vector<std::string> exporter_names() const;
  // The ports the listeners are bound to (in config order).
  [[nodiscard]] const std::vector<std::uint16_t>& ports() const { return ports_; }
  // The ports the BMP station input is bound to (in config order of bmp_listen).
  [[nodiscard]] const std::vector<std::uint16_t>& bmp_ports() const { return bmp_ports_; }
  // The status as JSON (also written to <state_directory>/status.json every second).
  [[nodiscard]] std::string status_json() const;

 private:
  // Lines about a peer's malformed input: at most kBurst a minute, so that a hostile peer cannot
  // fill the disk with log lines; what is held back is counted and said in the next line.
  struct LogBudget {
    int burst = 20;
    std::int64_t window_start_s = 0;
    int used = 0;
    std::uint64_t held_back = 0;
    // Whether to log now; `held` gets the number held back since the last line logged.
    bool take(std::int64_t now_s, std::uint64_t& held);
  };
  struct PeerState {
    std::uint32_t id = 0;
    exporters::PeerInfoPtr info;
    exporters::SharedBytes open_received;
    exporters::SharedBytes open_sent;
    exporters::SharedBytes notification;
    bool notification_local = false;
    std::int64_t last_time_us = 0;
    std::int64_t stale_since_us = 0;  // the last PeerDown that kept routes (graceful restart)
    LogBudget log_budget;
    std::string update_error;  // of the UPDATE being delivered (on_error comes before on_update)
    // For the live API's Status.
    std::uint64_t messages = 0;  // received
    std::int64_t last_update_us = 0;
    std::int64_t state_since_us = 0;
    std::string last_error;
    std::uint64_t sessions_ended = 0;  // left Established
  };
  // A BMP source as Status shows it (the sessions' PeerState has the same for BGP).
  struct SourceState {
    exporters::PeerInfoPtr info;
    bool up = false;
    std::int64_t state_since_us = 0;
    std::uint64_t messages = 0;  // Route Monitoring messages
    std::int64_t last_update_us = 0;
    std::string last_error;
    std::uint64_t sessions_ended = 0;  // Peer Down
  };
  struct Internal {
    std::unique_ptr<ExporterWorker> worker;
    const std::atomic<bool>* active = nullptr;
  };

  // One exporter of the running config: its worker, the entry it runs and its snapshot schedule.
  // Entries are shared, never changed: a slot moves without copying YAML (whose assignment
  // may throw).
  using EntryPtr = std::shared_ptr<const config::ExporterConfig>;
  struct ExporterSlot {
    std::unique_ptr<ExporterWorker> worker;
    EntryPtr entry;                      // never null
    EntryPtr switching_to;               // a reload's, until the worker switched
    bool added = false;                  // by a reload (started without waiting)
    std::int64_t next_snapshot = 0;      // Unix seconds; 0 = not scheduled
    std::int64_t snapshot_interval = 0;  // the interval next_snapshot was computed with
  };
  struct ExporterPlan;

  // bmp::RouterEvents: the sources of BMP routers.
  std::uint32_t source_id(const exporters::PeerInfo& info) override;
  void source_up(const bmp::Source& source, std::int64_t time_us) override;
  void route_monitoring(const bmp::Source& source, std::span<const std::uint8_t> update,
                        const codec::bgp::ParseContext& context, std::int64_t time_us) override;
  void source_down(const bmp::Source& source, std::int64_t time_us, const std::string& reason,
                   std::span<const std::uint8_t> notification, bool local) override;
  void log_source(const exporters::PeerInfo& info, const char* what, const std::string& details);
  // A connection refused before it became a session, and a session whose setup failed (it
  // went back to Idle without reaching Established): rate-limited per reason.
  void log_refused(std::string_view source, const codec::bgp::IpAddress& address,
                   std::string_view why);
  void log_setup_failed(const exporters::PeerInfo& info, std::string_view why);
  // A session reached Established: its state change record, then the PeerUp record with both
  // OPENs. Left it: the state change, then the PeerDown record with the NOTIFICATION, if any,
  // and the families graceful restart keeps stale.
  void record_up(exporters::Record state_change, exporters::SharedBytes open_received,
                 exporters::SharedBytes open_sent);
  void record_down(exporters::Record state_change, exporters::SharedBytes notification, bool local,
                   std::uint8_t stale_families);

  void attach(Peer& peer);
  PeerState& state_of(Peer& peer);
  void forget(std::unordered_map<const Peer*, PeerState>::iterator it);
  std::uint32_t id_for(const codec::bgp::IpAddress& address);
  void refresh_info(Peer& peer, PeerState& st);
  void fan_out(exporters::Record record);
  void replay_journal();
  void release_journal();
  void log_malformed(Peer& peer, const char* what, const std::string& details);
  void push_snapshot(const std::vector<ExporterWorker*>& to);
  void tick();
  void write_status();
  void wait_signal();
  void remove(Peer& peer);
  std::unique_ptr<ExporterWorker> make_worker(exporters::ExporterPtr exporter) const;
  ExporterSlot* find_slot(const std::string& name);
  std::optional<std::string> plan_exporters(const config::CollectorConfig& next,
                                            ExporterPlan& plan);
  void apply_exporters(const config::CollectorConfig& next, ExporterPlan& plan);
  void settle_exporters();

  config::CollectorConfig config_;
  // Taken before the exporter workers pick up the spool segments found there.
  exporters::DirectoryLock state_lock_;
  exporters::DirectoryLock journal_lock_;
  boost::asio::io_context io_;
  rib::AdjRibIn rib_;
  Process process_;
  std::vector<ExporterSlot> exporters_;
  std::vector<Internal> internal_;
  // Removed by a reload: delivering what they hold, then stopping (tick() ends them).
  std::vector<std::unique_ptr<ExporterWorker>> retiring_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer tick_timer_;
  boost::asio::steady_timer stop_timer_;
  std::vector<std::uint16_t> ports_;
  std::unique_ptr<bmp::Station> bmp_station_;
  std::vector<std::uint16_t> bmp_ports_;
  // Ids of BMP sources, by router, peer type, distinguisher, address and policy.
  std::map<std::string, std::uint32_t> bmp_ids_;
  std::map<std::uint32_t, SourceState> bmp_sources_;  // by peer id
  codec::bgp::Update bmp_update_;  // the UPDATE of the Route Monitoring being applied
  StatusFile status_file_;
  std::unordered_map<const Peer*, PeerState> peers_;
  // The last peer state_of() found: every UPDATE asks twice in a row (raw message, then the
  // decoded update). Node-based map: the pointer stays valid until that peer is erased.
  const Peer* last_peer_ = nullptr;
  PeerState* last_state_ = nullptr;
  std::map<codec::bgp::IpAddress, std::uint32_t> ids_;
  std::uint32_t next_id_ = 1;
  ConfigSource config_source_;
  Lifecycle lifecycle_;
  ExporterBuilder builder_;
  CollectorStats stats_;
  // Refused connections (no peer matches, a dynamic range full) and failed session setups (no
  // OPEN in time, an OPEN refused): 10 lines a minute per reason, then a count, so that a
  // connection storm cannot flood the log.
  exporters::LogLimiter refused_log_{"refused", 10, std::chrono::seconds(60)};
  exporters::LogLimiter setup_log_{"failed", 10, std::chrono::seconds(60)};
  // All peers' malformed-input lines together (a storm from many addresses): 200 a minute.
  LogBudget malformed_log_{200};
  std::unique_ptr<Journal> journal_;
  std::uint64_t journal_start_seq_ = 0;  // the last number an earlier run journaled
  std::uint64_t not_journaled_logged_ = 0;
  std::int64_t not_journaled_log_s_ = 0;
  std::int64_t started_us_ = 0;
  bool stopping_ = false;
  bool publish_posted_ = false;  // a handler that publishes the workers' staged records is due
  std::int64_t last_status_line_ = 0;
};

}  // namespace bgpscribe::collector
