// ExporterWorker: runs one exporter on its own thread behind a bounded queue and a spool.
//
// push() never blocks on the exporter, nor on the disk. The io thread stages records without a
// lock and hands them over in batches, under one short lock per batch (publish()): a lock and
// a wakeup of the worker per record cost more than the record's whole decoding (issue 15's
// perf profile). While the memory queue is full records go to the spool on disk, and every
// later record too until the exporter has caught up with all of it, so the exporter still sees
// every record in order. The io thread does not write the spool itself (a slow disk would
// stall every BGP session, DESIGN.md rule 2): it hands the records to the worker's spool
// thread through a bounded buffer. Only a full buffer (the disk far behind), a full spool or a
// failing disk lose records: they are counted and logged. The exporter is called only from the
// worker thread (see exporters/api/exporter.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "collector/config/queue_limits.hpp"
#include "collector/core/spool.hpp"
#include "exporters/api/exporter.hpp"

namespace bgpscribe::collector {

struct WorkerStats {
  std::atomic<std::uint64_t> pushed{0};     // records handed to the worker
  std::atomic<std::uint64_t> delivered{0};  // records the exporter accepted
  std::atomic<std::uint64_t> spooled{0};    // records that went through the spool
  std::atomic<std::uint64_t> dropped{0};    // lost: spool buffer or spool full, or disk error
  std::atomic<std::uint64_t> failed{0};     // the exporter refused them (ExportError)
  std::atomic<std::uint64_t> queued{0};     // in the memory queue now
  std::atomic<std::uint64_t> spool_bytes{0};
  // Journal number of the last record the exporter made durable (exporters/api/exporter.hpp).
  std::atomic<std::uint64_t> durable_seq{0};
};

class ExporterWorker {
 public:
  ExporterWorker(exporters::ExporterPtr exporter, QueueLimits limits, std::string spool_dir);
  ~ExporterWorker();
  ExporterWorker(const ExporterWorker&) = delete;
  ExporterWorker& operator=(const ExporterWorker&) = delete;

  // Starts the thread and the exporter; rethrows what the exporter's start() threw.
  void start();
  // After start(): where the exporter's durable data ends (Exporter::resume_after).
  [[nodiscard]] std::optional<std::uint64_t> resume_after() const { return resume_after_; }
  // With a journal: once its exporter has started and tells its position, the spool segments
  // an earlier run left are dropped (the journal gives those records again, from that
  // position). Call before start().
  void set_journaled() { journaled_ = true; }
  // From the io thread: the record waits, without a lock, for the next publish(). Hands the
  // batch over by itself once it holds kStageRecords records.
  void stage(exporters::Record record);
  // From the io thread: hands the staged records to the worker; returns how many were lost
  // (spool full or unwritable; counted).
  std::size_t publish();
  // stage() and publish(): false when the record (or one staged before it) was lost.
  bool push(exporters::Record record);
  static constexpr std::size_t kStageRecords = 1024;
  // Delivers what is queued and spooled (for at most stop_timeout), stops the exporter and
  // joins the thread. Rethrows nothing: errors are logged.
  void stop();

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const WorkerStats& stats() const { return stats_; }
  [[nodiscard]] std::chrono::seconds snapshot_interval() const {
    return std::chrono::seconds(snapshot_interval_.load());
  }
  [[nodiscard]] bool wants_snapshots() const { return wants_snapshots_.load(); }
  // The exporter asked for a snapshot (Exporter::request_snapshot); clears the request.
  [[nodiscard]] bool take_snapshot_request() { return exporter_->take_snapshot_request(); }
  // The exporter's metrics as last reported on its thread (after a flush). Safe from any thread.
  [[nodiscard]] std::vector<exporters::Metric> metrics() const;
  // The exporter's alarms, and the worker's own: records lost (spool full) or refused. Safe
  // from any thread.
  [[nodiscard]] std::vector<std::string> alarms() const;
  // True while records go to the spool (the exporter is behind).
  [[nodiscard]] bool spooling() const;

 private:
  void run();
  void run_spool();
  void deliver(exporters::Record& record);
  template <typename Records>
  void deliver_all(Records& records);
  void maybe_flush(bool force);
  void note_durable();
  void discard_spool();
  void log_loss();

  exporters::ExporterPtr exporter_;
  std::string name_;
  QueueLimits limits_;
  Spool spool_;
  std::optional<std::uint64_t> resume_after_;
  bool journaled_ = false;
  std::uint64_t delivered_seq_ = 0;  // worker thread only
  std::thread thread_;
  std::thread spool_thread_;
  std::vector<exporters::Record> staged_;  // io thread only

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  // A vector swapped with the worker's batch: both keep their capacity, so that a record in
  // the queue costs no allocation (a deque allocated a node per three records).
  std::vector<exporters::Record> queue_;
  std::size_t queue_bytes_ = 0;
  // For the spool thread, in order: records past the memory queue while spooling_.
  std::vector<exporters::Record> overflow_;
  std::size_t overflow_bytes_ = 0;
  bool spool_writing_ = false;  // the spool thread is appending what it took from overflow_
  std::condition_variable spool_cv_;
  bool spooling_ = false;
  bool stopping_ = false;
  bool spool_stop_ = false;  // the worker is done: the spool thread ends once overflow_ is on disk
  bool started_ = false;
  std::exception_ptr start_error_;
  std::chrono::steady_clock::time_point stop_deadline_{};

  std::chrono::steady_clock::time_point last_flush_{};
  std::atomic<std::int64_t> last_loss_log_{std::numeric_limits<std::int64_t>::min() / 2};
  std::atomic<std::int64_t> snapshot_interval_{0};
  std::atomic<bool> wants_snapshots_{false};
  mutable std::mutex metrics_mutex_;
  std::vector<exporters::Metric> metrics_;  // the exporter's, copied on its thread
  WorkerStats stats_;
};

// Unix time now, in microseconds.
std::int64_t unix_micros();

}  // namespace bgpscribe::collector
