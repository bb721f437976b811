// The `postgres` exporter: every UPDATE into the SQL archive of schema/sql (bgp.updates,
// bgp.rib, bgp.attr_sets, bgp.peers, bgp.peer_events, RIB checkpoints).
//
// On the exporter thread, records become rows of the current batch (BatchBuilder); a batch is
// sealed after `batch_interval` or `batch_rows`, when a session goes down (its implicit
// withdrawals must follow its last UPDATE) and at a RIB snapshot (a checkpoint), then written
// to the spool. The writer thread applies spooled batches in order, one transaction each,
// exactly once (writer.hpp). When PostgreSQL is away or slow the spool grows; when it reaches
// `spool_limit`, accept() waits for the writer, and the collector's own queue and spool take
// over (the BGP sessions never wait); when the collector stops, it waits no more.
// docs/postgres-exporter.md is the user's guide.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "exporters/api/directory_lock.hpp"
#include "exporters/api/exporter.hpp"
#include "exporters/postgres/batch.hpp"
#include "exporters/postgres/writer.hpp"

namespace YAML {
class Node;
}

namespace bgpscribe::exporters::postgres {

struct Options {
  WriterOptions writer;
  std::string spool_directory;  // default: <state_directory>/postgres-<name>
  std::int64_t batch_interval_us = 1'000'000;
  std::size_t batch_rows = 200'000;
  std::uint64_t spool_limit = 8ULL << 30;               // bytes
  std::chrono::seconds checkpoint_interval{24 * 3600};  // 0: only on demand (SIGUSR1)
  double drain_timeout_s = 30;  // at stop: how long the writer may keep applying
};

// Reads the exporter's mapping (`type` and `name` included); ConfigError names file:line:col.
Options parse_options(const ExporterContext& context, const YAML::Node& node);

// Rows from which a batch is sealed early when the writer is idle (PostgresExporter::accept).
inline constexpr std::size_t kEagerBatchRows = 2000;

class PostgresExporter final : public Exporter {
 public:
  PostgresExporter(std::string name, Options options);
  ~PostgresExporter() override;

  [[nodiscard]] std::string_view name() const override { return name_; }
  void start() override;
  void accept(const Record& record) override;
  void flush(std::int64_t now_us) override;
  void metrics(std::vector<Metric>& out) const override;
  void stop() override;
  void interrupt() override { interrupted_ = true; }
  [[nodiscard]] std::optional<std::uint64_t> resume_after() const override { return resume_after_; }
  // What is sealed into spooled batches (fdatasync'd); all that was handled once the builder is
  // empty.
  [[nodiscard]] std::optional<std::uint64_t> durable_seq() const override {
    return builder_.empty() ? handled_seq_ : durable_seq_;
  }
  [[nodiscard]] std::chrono::seconds snapshot_interval() const override {
    return options_.checkpoint_interval;
  }
  [[nodiscard]] bool wants_snapshots() const override { return true; }

 private:
  void seal();
  void write_status(std::int64_t now_us);
  void update_alarms(std::int64_t now_us);

  std::string name_;
  Options options_;
  DirectoryLock spool_lock_;
  std::unique_ptr<BatchSpool> spool_;
  std::unique_ptr<Writer> writer_;
  BatchBuilder builder_;
  std::int64_t last_status_us_ = 0;
  std::int64_t last_log_us_ = 0;
  std::uint64_t set_aside_earlier_ = 0;  // batch files in failed/ at start
  // Journal positions (Record::seq): the last record accepted, the last sealed into a batch,
  // and where the spool's batches ended at start.
  std::uint64_t handled_seq_ = 0;
  std::uint64_t durable_seq_ = 0;
  std::optional<std::uint64_t> resume_after_;
  std::int64_t unreachable_since_us_ = 0;
  // The collector is stopping: a full spool no longer makes seal() wait (spool_limit is then
  // exceeded by what is still queued, rather than the shutdown hanging on a database that is
  // away).
  std::atomic<bool> interrupted_{false};
};

ExporterPtr make(const ExporterContext& context, const YAML::Node& node);

}  // namespace bgpscribe::exporters::postgres
