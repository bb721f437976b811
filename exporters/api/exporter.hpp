// Exporter: the interface every output of the collector implements (MRT files, PostgreSQL,
// BMP, the event stream), and what a factory gets to build one.
//
// The contract, which the collector core keeps:
// - One thread per exporter. start, accept, flush, snapshot_interval and stop are all called
//   on that thread, never concurrently, so an exporter needs no locks of its own.
// - accept() gets every record in the order the collector saw it. It may block as long as its
//   sink needs (a database reconnecting, a disk that is slow): the collector queues behind it,
//   then spools to disk, and never makes a BGP session wait. It must not drop a record it was
//   given: retry, or throw ExportError to say the record cannot be kept (counted and logged).
// - flush(now) comes about once a second and whenever the queue runs empty: push buffered
//   data to the sink and do time-driven work (closing a file at the end of its interval).
// - stop() is the last call: finish and close everything (files complete, connections closed).
// - interrupt() is the one call from another thread: the collector is stopping, so an accept()
//   waiting for its sink must stop waiting and keep the record another way.
// - start() and the factory throw (ConfigError, std::runtime_error) to refuse to run; the
//   collector then refuses the whole config. The factory only reads options (no files,
//   connections or threads): it also validates a reload, on the collector's thread.
// - Reload: a changed config entry replaces the instance between two records: stop(), the
//   destructor, then a new instance from the factory is start()ed in the same process and gets
//   every later record. So stop() leaves the output durable, the destructor releases what
//   start() took (directory locks, descriptors, threads), and start() reads back what an
//   earlier instance left, as after a restart (docs/exporters.md, "Reload").
// - Alarms: a problem the operator must see while it lasts (a batch set aside, a disk that
//   refuses writes) is raised with set_alarm() from the exporter's thread and cleared the same
//   way; the collector reads alarms() from its own thread into status.json.
// - Metrics: metrics() is called on the exporter's thread after flush(); the collector keeps
//   the last answer for status.json (and the metrics endpoint), so exporters need no atomics.
// - On-demand snapshots: request_snapshot(), from any thread (a BMP station that connected, a
//   client that asked for the table), makes the collector put a RibSnapshot record into this
//   exporter's stream within about a second. The snapshot is a point of the stream: every
//   record before it is in it, none after, so the table and the live records join without a
//   gap or a duplicate.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "exporters/api/record.hpp"
#include "exporters/api/rib_snapshot.hpp"

namespace YAML {
class Node;
}

namespace bgpscribe::exporters {

// A record the exporter cannot keep (its sink refused it for good, not a transient failure).
class ExportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One value an exporter reports: a counter (only grows) or a gauge. `name` in snake_case,
// without the exporter's name (the collector adds it).
struct Metric {
  std::string name;
  double value = 0;
  bool counter = true;
  std::string help;  // one line, for the metrics endpoint
};

class Exporter {
 public:
  virtual ~Exporter() = default;
  Exporter() = default;
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  [[nodiscard]] virtual std::string_view name() const = 0;
  virtual void start() = 0;
  virtual void accept(const Record& record) = 0;
  virtual void flush(std::int64_t now_us) = 0;
  virtual void stop() = 0;
  // From the collector's stopping thread, before it waits for stop(): an accept() blocked on a
  // sink that is away (a full spool waiting for a database) returns, keeping its record (on
  // disk beyond a soft limit, say). Must be safe against every other call; no-op by default.
  virtual void interrupt() {}
  // How often this exporter wants a RibSnapshot record (aligned to multiples of the interval
  // since midnight UTC, like RIS bviews at 00:00, 08:00, 16:00); zero for never. It may still
  // get snapshots asked for by the operator (SIGUSR1).
  [[nodiscard]] virtual std::chrono::seconds snapshot_interval() const { return {}; }
  // Whether it wants RibSnapshot records at all (on demand included).
  [[nodiscard]] virtual bool wants_snapshots() const { return false; }

  // Crash safety with the collector's journal (Record::seq). resume_after(), after start(): the
  // number of the last record whose effect this exporter had made durable before the previous
  // run ended, read back from its own data; the collector then gives it the journal's later
  // records before any new one. nullopt: it keeps no position (a crash loses what it held).
  [[nodiscard]] virtual std::optional<std::uint64_t> resume_after() const { return std::nullopt; }
  // The number of the last record made durable so far (a write into the page cache survives
  // kill -9): the journal is released up to the lowest of all exporters. Called on the
  // exporter thread after accept() and flush(). nullopt: every record accepted counts.
  [[nodiscard]] virtual std::optional<std::uint64_t> durable_seq() const { return std::nullopt; }

  // Appends the exporter's counters and gauges to `out` (see the contract above).
  virtual void metrics(std::vector<Metric>& /*out*/) const {}

  // Takes the pending snapshot request, if any (the collector, on its own thread).
  [[nodiscard]] bool take_snapshot_request() { return snapshot_requested_.exchange(false); }

  // The alarms raised now, as "key: text", in key order. Safe from any thread.
  [[nodiscard]] std::vector<std::string> alarms() const {
    std::lock_guard lock(alarms_mutex_);
    std::vector<std::string> out;
    out.reserve(alarms_.size());
    for (const auto& [key, text] : alarms_) {
      std::string line = key;
      line += ": ";
      line += text;
      out.push_back(std::move(line));
    }
    return out;
  }

 protected:
  // Asks for a RibSnapshot record in this exporter's stream (see the contract above). Safe from
  // any thread; requests made before the snapshot comes give one snapshot.
  void request_snapshot() { snapshot_requested_.store(true); }

  // Raises the alarm `key` with `text` (replacing its earlier text); an empty text clears it.
  void set_alarm(const std::string& key, std::string text) {
    std::lock_guard lock(alarms_mutex_);
    if (text.empty()) {
      alarms_.erase(key);
    } else {
      alarms_[key] = std::move(text);
    }
  }

 private:
  std::atomic<bool> snapshot_requested_{false};
  mutable std::mutex alarms_mutex_;
  std::map<std::string, std::string> alarms_;
};
using ExporterPtr = std::unique_ptr<Exporter>;

// What the collector tells a factory besides the exporter's own options.
struct ExporterContext {
  std::string instance_name;    // the exporter's `name` in the config (unique)
  std::string collector_name;   // the config's `collector.name`, for file names and rows
  std::string config_file;      // for error messages
  std::string state_directory;  // where an exporter may keep state (spool lives beside it)
};

// Builds an exporter from its config node (the exporter's mapping in `exporters:`, `type`
// and `name` included). Throws ConfigError on a bad option.
using ExporterFactory =
    std::function<ExporterPtr(const ExporterContext& context, const YAML::Node& options)>;

}  // namespace bgpscribe::exporters
