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
//
// A reload replaces the exporter in place (replace()): between two records the worker flushes
// and stops the running instance and starts the new one, which takes over the queue, the spool
// and the journal position; no record reaches both or neither (docs/exporters.md, "Reload").
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
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
  // When the collector saw the last record the exporter accepted (Unix µs): with records
  // waiting, now minus this is about the age of the oldest of them (the delivery lag).
  std::atomic<std::int64_t> delivered_time_us{0};
  // Delivery lag of every record delivered (from the collector's receipt to the exporter's
  // accept()): the metrics endpoint's histogram. lag_buckets[i] counts lags up to
  // kLagBoundsUs[i] (and above the bound before), the last one those above every bound.
  static constexpr std::array<std::int64_t, 9> kLagBoundsUs{
      1'000, 10'000, 100'000, 500'000, 1'000'000, 5'000'000, 30'000'000, 120'000'000, 600'000'000};
  std::array<std::atomic<std::uint64_t>, kLagBoundsUs.size() + 1> lag_buckets{};
  std::atomic<std::uint64_t> lag_sum_us{0};
};

class ExporterWorker {
 public:
  ExporterWorker(exporters::ExporterPtr exporter, QueueLimits limits, std::string spool_dir);
  ~ExporterWorker();
  ExporterWorker(const ExporterWorker&) = delete;
  ExporterWorker& operator=(const ExporterWorker&) = delete;

  // Starts the thread and the exporter; rethrows what the exporter's start() threw.
  void start();
  // Starts the threads without waiting for the exporter's start() (an exporter a reload adds:
  // the io thread never waits for one). Records pushed meanwhile wait in the queue; if start()
  // throws, start_failed() says why and nothing is delivered (stop the worker).
  void launch();
  [[nodiscard]] std::optional<std::string> start_failed() const;
  // After start(): where the exporter's durable data ends (Exporter::resume_after).
  [[nodiscard]] std::optional<std::uint64_t> resume_after() const { return resume_after_; }
  // Whether the running exporter keeps a journal position (resume_after). Safe from any thread.
  [[nodiscard]] bool keeps_position() const { return keeps_position_.load(); }
  // Before start() or launch(): records up to journal number `seq` are not this worker's (an
  // exporter added while the collector runs), so its durable_seq starts there.
  void set_durable_floor(std::uint64_t seq) {
    durable_floor_ = seq;
    stats_.durable_seq.store(seq);
  }
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
  // The same without waiting (an exporter a reload removed): stopped() says when stop() will
  // not wait any more. From the io thread, after its last stage().
  void begin_stop();
  [[nodiscard]] bool stopped() const { return threads_done_.load() == 2; }

  // From the io thread (a reload changed the exporter's settings): after the record it is on,
  // the worker flushes and stops the running exporter, destroys it (its directory locks go with
  // it) and starts `next`, which gets every later record from the queue and the spool. Should
  // `next` fail to start, `previous()` builds the running settings again and runs those (every
  // 10 s until one starts, records waiting meanwhile as behind a stalled exporter). One at a
  // time: call again only once take_switch_state() is no longer Pending.
  void replace(exporters::ExporterPtr next, std::function<exporters::ExporterPtr()> previous);
  enum class SwitchState : std::uint8_t { Idle, Pending, Switched, Reverted };
  // How the last replace() went; Switched and Reverted are reported once, then Idle.
  [[nodiscard]] SwitchState take_switch_state();

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const WorkerStats& stats() const { return stats_; }
  [[nodiscard]] std::chrono::seconds snapshot_interval() const {
    return std::chrono::seconds(snapshot_interval_.load());
  }
  [[nodiscard]] bool wants_snapshots() const { return wants_snapshots_.load(); }
  // The exporter asked for a snapshot (Exporter::request_snapshot), or it was added by a reload
  // and takes snapshots (the table it joins at); clears the request. Safe from any thread.
  [[nodiscard]] bool take_snapshot_request();
  // The exporter's metrics as last reported on its thread (after a flush). Safe from any thread.
  [[nodiscard]] std::vector<exporters::Metric> metrics() const;
  // The exporter's alarms, and the worker's own: records lost (spool full) or refused. Safe
  // from any thread.
  [[nodiscard]] std::vector<std::string> alarms() const;
  // True while records go to the spool (the exporter is behind).
  [[nodiscard]] bool spooling() const;

 private:
  void spawn();
  void run();
  void run_spool();
  bool start_exporter(exporters::ExporterPtr exporter, std::string& error);
  void switch_exporter();
  void deliver(exporters::Record& record);
  // Counts a delivered record's lag in the histogram (WorkerStats::lag_buckets).
  void note_lag(std::int64_t time_us);
  template <typename Records>
  void deliver_all(Records& records);
  void maybe_flush(bool force);
  void note_durable();
  void discard_spool();
  void log_loss();

  // Changed only by the worker thread (replace()), under exporter_mutex_; other threads use it
  // under that mutex too (alarms, snapshot requests, interrupt), the worker thread without.
  exporters::ExporterPtr exporter_;
  mutable std::mutex exporter_mutex_;
  bool interrupted_ = false;  // under exporter_mutex_: an exporter started later is interrupted too
  std::string not_running_;   // under exporter_mutex_: why no exporter runs (a failed switch)
  std::string name_;
  QueueLimits limits_;
  Spool spool_;
  std::optional<std::uint64_t> resume_after_;
  std::atomic<bool> keeps_position_{false};
  bool journaled_ = false;
  bool launched_ = false;            // launch(): an added exporter asks for a first snapshot
  std::uint64_t delivered_seq_ = 0;  // worker thread only
  // Unix µs, read once per batch and every 256 records of it: the clock of the lag histogram.
  std::int64_t lag_clock_us_ = 0;    // worker thread only
  std::uint64_t durable_floor_ = 0;  // worker thread only (after start): durable whatever the
                                     // exporter says (an earlier instance's records)
  std::atomic<bool> snapshot_carry_{false};  // a request the replaced instance had not handed on
  // replace(): the instance to switch to and how to rebuild the running one, under mutex_.
  exporters::ExporterPtr next_;
  std::function<exporters::ExporterPtr()> previous_;
  std::atomic<bool> switch_asked_{false};  // checked between records, without the lock
  std::atomic<SwitchState> switch_state_{SwitchState::Idle};
  std::atomic<int> threads_done_{0};  // the worker and spool threads that have ended
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
  std::string start_error_text_;
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
