// `bgpscribe archive`: collectors' records from Kafka into the collector's own exporters.
//
// A consumer in a Kafka consumer group reads the records topics that Kafka exporters produce
// (exporters/kafka, `topics.records`), decodes each message back into the Record the collector
// had (exporters/api/record_codec.hpp) and hands it to every configured exporter, through the
// collector's ExporterWorker (queue, batching, flush). Each collector (the `collector` header)
// gets its own instances, made on its first record: their collector name is that collector's,
// so MRT files land in its folder ({collector} in the file names) and rows carry its name.
//
// Offsets are committed only up to records that every exporter of their collector made durable
// (durable_seq), so a crash or a kill re-reads from there. Records are journaled per collector,
// and a consumption log says which Kafka messages the journals hold: a new start replays to each
// exporter only the records after its position, under the same numbers, and messages read
// again are not handed over again (exactly once for exporters that keep a position). What
// stays at least once (a crashed archiver's partitions taken over by another, ...):
// docs/archive.md.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "collector/config/config.hpp"
#include "collector/config/queue_limits.hpp"
#include "collector/core/run.hpp"

namespace bgpscribe::tools {

struct ArchiveConfig {
  std::string file;
  std::string name = "bgpscribe-archive";  // client.id, logs
  std::string state_directory;             // per collector: exporter state and spools
  std::vector<std::string> brokers;
  std::string group_id = "bgpscribe-archive";
  std::vector<std::string> topics{"bgpscribe.records"};
  std::map<std::string, std::string> properties;  // further librdkafka consumer properties
  std::chrono::milliseconds commit_interval{1000};
  collector::QueueLimits queue;
  std::vector<collector::config::ExporterConfig> exporters;
};

// Reads and validates an archive config (docs/archive.md). Throws ConfigError.
ArchiveConfig parse_archive_config(const std::string& text, const std::string& file);
ArchiveConfig load_archive_config(const std::string& path);

struct ArchiveCounts {
  std::atomic<std::uint64_t> consumed{0};  // messages read
  std::atomic<std::uint64_t> archived{0};  // records handed to the exporters
  std::atomic<std::uint64_t> refused{0};   // messages that are no record (logged, skipped)
  // Messages read again whose records a journal holds (an earlier run's, or before a rebalance)
  std::atomic<std::uint64_t> skipped{0};
  std::atomic<std::uint64_t> replayed{0};  // journaled records given again to an exporter
  std::atomic<std::uint64_t> commits{0};   // offset commits that succeeded
  std::atomic<std::uint64_t> collectors{0};
  std::atomic<std::uint64_t> assigned{0};  // partitions the group gives this archiver now
};

class Archiver {
 public:
  Archiver(ArchiveConfig config, collector::ExporterTable table);
  ~Archiver();
  Archiver(const Archiver&) = delete;
  Archiver& operator=(const Archiver&) = delete;

  // Consumes until stop() (from any thread, or a signal handler's flag); then stops the
  // exporters and commits what they made durable. Throws std::runtime_error when the consumer
  // or an exporter cannot start; false when records were lost on the way (a full spool).
  bool run();
  void stop() { stop_.store(true); }
  [[nodiscard]] const ArchiveCounts& counts() const { return counts_; }

 private:
  struct Impl;
  ArchiveConfig config_;
  collector::ExporterTable table_;
  std::atomic<bool> stop_{false};
  ArchiveCounts counts_;
};

struct ArchiveOptions {
  std::string config_file;
  bool check_only = false;
};

// Exit status: 0 after a clean stop (SIGINT, SIGTERM), 2 for a refused config, 1 for a failure.
int run_archive(const ArchiveOptions& options, const collector::ExporterTable& table);

}  // namespace bgpscribe::tools
