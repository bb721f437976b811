// The MRT exporter: every received BGP message as a BGP4MP_ET (or BGP4MP) record in update
// files rotated on UTC interval boundaries, every session state change as STATE_CHANGE_AS4, and
// RIB snapshots as TABLE_DUMP_V2 files, laid out like RIPE RIS or RouteViews archives so that
// bgpdump, mrtparse, bgpkit-parser and libBGPStream read them.
//
// Files are written as ".<name>.partial" temporaries and renamed when complete; start() turns
// temporaries left by a crash into finished files. All encoding is codec/mrt's; this module
// decides subtypes, names, rotation and durability. It runs on the exporter thread the
// collector gives it (exporters/api/exporter.hpp) and takes no locks. docs/mrt-exporter.md is
// the operator's description.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exporters/api/directory_lock.hpp"
#include "exporters/api/exporter.hpp"
#include "exporters/mrt/config.hpp"
#include "exporters/mrt/metrics.hpp"
#include "exporters/mrt/output.hpp"

namespace bgpscribe::exporters::mrt {

// Encoded records are handed to the compressor (one flush point) at least this often by size.
inline constexpr std::size_t kSyncBytes = std::size_t{8} << 20;

class MrtExporter final : public Exporter {
 public:
  // `log` receives one line per file event; the default writes to stderr.
  MrtExporter(std::string name, Options options, LogFn log = {});
  ~MrtExporter() override;

  [[nodiscard]] std::string_view name() const override { return name_; }
  void start() override;
  void accept(const Record& record) override;
  void flush(std::int64_t now_us) override;
  void stop() override;
  void interrupt() override { interrupted_ = true; }
  [[nodiscard]] std::optional<std::uint64_t> resume_after() const override { return resume_after_; }
  [[nodiscard]] std::optional<std::uint64_t> durable_seq() const override {
    return options_.position_file.empty() ? std::nullopt : std::optional(durable_seq_);
  }
  [[nodiscard]] std::chrono::seconds snapshot_interval() const override;
  [[nodiscard]] bool wants_snapshots() const override { return options_.rib_enabled(); }

  [[nodiscard]] const Metrics& metrics() const { return metrics_; }
  void metrics(std::vector<exporters::Metric>& out) const override;
  [[nodiscard]] const Options& options() const { return options_; }

 private:
  void write_message(const Record& record);
  void write_state_change(const Record& record);
  void write_snapshot(const Record& record);
  // Points the update stream at the file for a record of time `time_us`.
  void rotate_for(std::int64_t time_us);
  void close_updates();
  void check_buffer_limit();
  void note_handled(std::uint64_t seq);
  void after_sync();
  void write_position(const std::filesystem::path& partial, std::uint64_t records_before,
                      std::uint64_t records_after);
  std::uint64_t read_position(std::map<std::filesystem::path, std::uint64_t>& limits) const;
  void update_disk_alarm();
  void salvage(bool force, std::int64_t now_us);
  [[nodiscard]] codec::mrt::WriterOptions writer_options(codec::mrt::Compression c) const;

  std::string name_;
  Options options_;
  LogFn log_;
  Metrics metrics_;
  DirectoryLock directory_lock_;
  std::unique_ptr<FileStream> updates_;
  bool interval_open_ = false;
  std::int64_t interval_start_ = 0;  // Unix seconds
  std::int64_t interval_end_us_ = std::numeric_limits<std::int64_t>::max();
  // Intervals before this (Unix seconds) are closed: late records go to the next file.
  std::int64_t closed_until_ = std::numeric_limits<std::int64_t>::min();
  std::int64_t last_sync_us_ = 0;
  std::int64_t next_salvage_us_ = 0;
  std::vector<Abandoned> abandoned_;
  // The collector is stopping: a full buffer no longer makes accept() wait for the disk.
  std::atomic<bool> interrupted_{false};
  // Journal positions (Record::seq): the last record handled, the last one in a file, and
  // where the last run's files ended (options_.position_file).
  std::uint64_t handled_seq_ = 0;
  std::uint64_t durable_seq_ = 0;
  std::uint64_t intent_after_ = 0;
  std::optional<std::uint64_t> resume_after_;
  int position_fd_ = -1;
};

// `type: mrt` in the config (docs/mrt-exporter.md lists the options).
ExporterPtr make(const ExporterContext& context, const YAML::Node& options);

}  // namespace bgpscribe::exporters::mrt
