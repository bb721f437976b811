#include "collector/core/exporter_worker.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <vector>

#include "exporters/api/log.hpp"

namespace bgpscribe::collector {

using exporters::Record;
using Clock = std::chrono::steady_clock;
using exporters::logf;
using exporters::LogLevel;

namespace {

// Queue slots kept between batches (a table load's burst is let go).
constexpr std::size_t kKeepCapacity = std::size_t{64} * 1024;

std::size_t record_bytes(const Record& r) {
  return sizeof(Record) + r.message.size() + r.sent_open.size() + r.reason.size();
}

std::string what_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

// After a failed switch, how often the worker tries to start the previous settings again.
constexpr auto kRestartRetry = std::chrono::seconds(10);

}  // namespace

std::int64_t unix_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ExporterWorker::ExporterWorker(exporters::ExporterPtr exporter, QueueLimits limits,
                               std::string spool_dir)
    : exporter_(std::move(exporter)),
      name_(exporter_->name()),
      limits_(limits),
      spool_(std::move(spool_dir), limits.spool_max_bytes) {
  // Segments left by an earlier run come before anything new.
  spooling_ = !spool_.empty();
  if (spooling_) {
    logf(LogLevel::Info, "exporter " + name_, "delivering %llu bytes spooled by an earlier run",
         static_cast<unsigned long long>(spool_.bytes()));
  }
}

ExporterWorker::~ExporterWorker() {
  stop();
}

void ExporterWorker::start() {
  spawn();
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [this] { return started_; });
  if (start_error_) {
    lock.unlock();
    thread_.join();
    spool_thread_.join();  // run() ended it
    std::rethrow_exception(start_error_);
  }
}

void ExporterWorker::launch() {
  launched_ = true;
  spawn();
}

void ExporterWorker::spawn() {
  spool_thread_ = std::thread([this] { run_spool(); });
  thread_ = std::thread([this] { run(); });
}

std::optional<std::string> ExporterWorker::start_failed() const {
  std::lock_guard lock(mutex_);
  if (started_ && start_error_) {
    return start_error_text_;
  }
  return std::nullopt;
}

void ExporterWorker::replace(exporters::ExporterPtr next,
                             std::function<exporters::ExporterPtr()> previous) {
  {
    std::lock_guard lock(mutex_);
    next_ = std::move(next);
    previous_ = std::move(previous);
    switch_state_ = SwitchState::Pending;
    switch_asked_ = true;
  }
  cv_.notify_all();
}

ExporterWorker::SwitchState ExporterWorker::take_switch_state() {
  auto s = switch_state_.load();
  if (s == SwitchState::Switched || s == SwitchState::Reverted) {
    (void)switch_state_.compare_exchange_strong(s, SwitchState::Idle);
  }
  return s;
}

bool ExporterWorker::take_snapshot_request() {
  bool asked = snapshot_carry_.exchange(false);
  std::lock_guard lock(exporter_mutex_);
  if (exporter_ && exporter_->take_snapshot_request()) {
    asked = true;
  }
  return asked;
}

std::vector<std::string> ExporterWorker::alarms() const {
  std::vector<std::string> out;
  {
    std::lock_guard lock(exporter_mutex_);
    if (exporter_) {
      out = exporter_->alarms();
    }
    if (!not_running_.empty()) {
      out.push_back("not_running: " + not_running_);
    }
  }
  if (const auto n = stats_.dropped.load(); n > 0) {
    out.push_back("records_lost: " + std::to_string(n) +
                  " records lost (spool full or unwritable)");
  }
  if (const auto n = stats_.failed.load(); n > 0) {
    out.push_back("records_refused: " + std::to_string(n) + " records refused by the exporter");
  }
  return out;
}

bool ExporterWorker::spooling() const {
  std::lock_guard lock(mutex_);
  return spooling_;
}

void ExporterWorker::stage(Record record) {
  ++stats_.pushed;
  staged_.push_back(std::move(record));
  if (staged_.size() >= kStageRecords) {
    publish();
  }
}

bool ExporterWorker::push(Record record) {
  stage(std::move(record));
  return publish() == 0;
}

std::size_t ExporterWorker::publish() {
  if (staged_.empty()) {
    return 0;
  }
  std::size_t lost = 0;
  std::unique_lock lock(mutex_);
  const bool was_empty = queue_.empty();
  const bool had_overflow = !overflow_.empty();
  for (auto& record : staged_) {
    const std::size_t size = record_bytes(record);
    if (!spooling_ && queue_.size() < limits_.max_records &&
        queue_bytes_ + size <= limits_.max_bytes) {
      queue_.push_back(std::move(record));
      queue_bytes_ += size;
      continue;
    }
    if (!spooling_) {
      spooling_ = true;
      logf(LogLevel::Warning, "exporter " + name_,
           "falling behind (%zu records queued): spooling to %s", queue_.size(),
           spool_.directory().c_str());
    }
    if (overflow_bytes_ + size <= limits_.spool_buffer_bytes) {
      overflow_.push_back(std::move(record));
      overflow_bytes_ += size;
    } else {
      ++stats_.dropped;  // the disk is that far behind: never wait for it here
      ++lost;
      log_loss();
    }
  }
  staged_.clear();
  stats_.queued.store(queue_.size(), std::memory_order_relaxed);
  const bool wake = was_empty && !queue_.empty();
  const bool wake_spool = !had_overflow && !overflow_.empty();
  lock.unlock();
  if (wake) {
    cv_.notify_one();  // the worker waits only on an empty queue
  }
  if (wake_spool) {
    spool_cv_.notify_one();
  }
  return lost;
}

void ExporterWorker::run_spool() {
  std::vector<Record> writing;
  std::unique_lock lock(mutex_);
  for (;;) {
    spool_cv_.wait(lock, [this] { return !overflow_.empty() || spool_stop_; });
    if (overflow_.empty()) {
      ++threads_done_;
      return;  // stopping, and everything handed over is on disk
    }
    writing.swap(overflow_);
    overflow_bytes_ = 0;
    spool_writing_ = true;
    lock.unlock();
    for (const auto& r : writing) {
      if (spool_.append(r)) {
        ++stats_.spooled;
      } else {
        ++stats_.dropped;
        log_loss();
      }
    }
    stats_.spool_bytes.store(spool_.bytes(), std::memory_order_relaxed);
    writing.clear();
    lock.lock();
    spool_writing_ = false;
    cv_.notify_all();  // the worker may wait for these records to reach a segment
  }
}

void ExporterWorker::log_loss() {
  // From the io thread (publish, under mutex_) and the spool thread: an atomic clock.
  const auto now = Clock::now().time_since_epoch().count();
  auto last = last_loss_log_.load();
  if (now - last < std::chrono::nanoseconds(std::chrono::seconds(10)).count() ||
      !last_loss_log_.compare_exchange_strong(last, now)) {
    return;
  }
  logf(LogLevel::Warning, "exporter " + name_,
       "%llu records lost so far: the spool's buffer was full (the disk behind), or the spool "
       "(%llu bytes) full or unwritable",
       static_cast<unsigned long long>(stats_.dropped.load()),
       static_cast<unsigned long long>(spool_.bytes()));
}

void ExporterWorker::note_lag(std::int64_t time_us) {
  // Only this thread writes the histogram: a load and a store, no read-modify-write.
  const auto lag = std::max<std::int64_t>(lag_clock_us_ - time_us, 0);
  const auto& bounds = WorkerStats::kLagBoundsUs;
  std::size_t i = 0;
  while (i < bounds.size() && lag > bounds[i]) {
    ++i;
  }
  auto& bucket = stats_.lag_buckets[i];
  bucket.store(bucket.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  stats_.lag_sum_us.store(
      stats_.lag_sum_us.load(std::memory_order_relaxed) + static_cast<std::uint64_t>(lag),
      std::memory_order_relaxed);
}

void ExporterWorker::deliver(Record& record) {
  if (!exporter_) {
    // A failed switch left nothing running and the collector stops: the journal gives the
    // record again at the next start (from the exporter's position); counted, logged by run().
    ++stats_.dropped;
    return;
  }
  if (record.seq != 0) {
    delivered_seq_ = record.seq;  // accepted or refused for good: either way, past it
  }
  try {
    exporter_->accept(record);
    ++stats_.delivered;
    stats_.delivered_time_us.store(record.time_us, std::memory_order_relaxed);
    note_lag(record.time_us);
  } catch (const std::exception& e) {
    const auto n = ++stats_.failed;
    if (n <= 10 || n % 10000 == 0) {
      logf(LogLevel::Warning, "exporter " + name_, "record lost (%llu so far): %s",
           static_cast<unsigned long long>(n), e.what());
    }
  }
}

template <typename Records>
void ExporterWorker::deliver_all(Records& records) {
  // A long batch (a table load, a spool segment) takes seconds: the exporter's time-driven
  // work (the MRT flush interval, the postgres batch interval, both the bound of what a crash
  // can lose) must not wait for its end. The clock is read every 256 records.
  std::size_t n = 0;
  lag_clock_us_ = unix_micros();
  for (auto& r : records) {
    if (switch_asked_.load(std::memory_order_relaxed)) {
      switch_exporter();  // between two records: the next one goes to the new instance
    }
    deliver(r);
    if ((++n & 0xFF) == 0) {
      maybe_flush(false);
      lag_clock_us_ = unix_micros();
    }
  }
}

void ExporterWorker::maybe_flush(bool force) {
  if (!exporter_) {
    return;
  }
  const auto now = Clock::now();
  if (!force && now - last_flush_ < std::chrono::milliseconds(100)) {
    return;
  }
  last_flush_ = now;
  try {
    exporter_->flush(unix_micros());
  } catch (const std::exception& e) {
    logf(LogLevel::Warning, "exporter " + name_, "flush failed: %s", e.what());
  }
  note_durable();
  std::vector<exporters::Metric> m;
  exporter_->metrics(m);
  std::lock_guard lock(metrics_mutex_);
  metrics_ = std::move(m);
}

std::vector<exporters::Metric> ExporterWorker::metrics() const {
  std::lock_guard lock(metrics_mutex_);
  return metrics_;
}

void ExporterWorker::note_durable() {
  if (!exporter_) {
    return;
  }
  // An instance that replaced another may know nothing of the records its predecessor made
  // durable: those stay durable (durable_floor_).
  stats_.durable_seq.store(
      std::max(durable_floor_, exporter_->durable_seq().value_or(delivered_seq_)),
      std::memory_order_relaxed);
}

bool ExporterWorker::start_exporter(exporters::ExporterPtr exporter, std::string& error) {
  try {
    exporter->start();
  } catch (...) {
    error = what_of(std::current_exception());
    return false;  // `exporter` goes, and whatever its start() had taken with it
  }
  snapshot_interval_ = exporter->snapshot_interval().count();
  wants_snapshots_ = exporter->wants_snapshots() || snapshot_interval_ > 0;
  keeps_position_ = exporter->resume_after().has_value();
  {
    std::lock_guard lock(exporter_mutex_);
    exporter_ = std::move(exporter);
    not_running_.clear();
    if (interrupted_) {
      exporter_->interrupt();
    }
  }
  note_durable();
  return true;
}

void ExporterWorker::switch_exporter() {
  exporters::ExporterPtr next;
  std::function<exporters::ExporterPtr()> previous;
  {
    std::lock_guard lock(mutex_);
    next = std::move(next_);
    previous = std::move(previous_);
    switch_asked_ = false;
  }
  if (!next) {
    return;
  }
  // The running instance finishes as at a shutdown: flushed, stopped (its output complete and
  // durable), then destroyed, which releases its directory locks for the next one.
  maybe_flush(true);
  if (exporter_) {
    try {
      exporter_->stop();
    } catch (const std::exception& e) {
      logf(LogLevel::Warning, "exporter " + name_, "stop failed: %s", e.what());
    }
    durable_floor_ = std::max(durable_floor_, exporter_->durable_seq().value_or(delivered_seq_));
    stats_.durable_seq.store(durable_floor_, std::memory_order_relaxed);
    if (exporter_->take_snapshot_request()) {
      snapshot_carry_ = true;  // asked for, not yet taken: the new instance gets it
    }
  }
  exporters::ExporterPtr old;
  {
    std::lock_guard lock(exporter_mutex_);
    old = std::move(exporter_);
  }
  old.reset();
  const auto delivered = static_cast<unsigned long long>(stats_.delivered.load());
  std::string error;
  if (start_exporter(std::move(next), error)) {
    logf(LogLevel::Info, "exporter " + name_,
         "new settings in effect after %llu records (the previous instance stopped with its "
         "output complete)",
         delivered);
    switch_state_ = SwitchState::Switched;
    return;
  }
  logf(LogLevel::Warning, "exporter " + name_,
       "the new settings cannot start (%s): the previous settings run again", error.c_str());
  for (;;) {
    exporters::ExporterPtr again;
    try {
      again = previous ? previous() : nullptr;
      if (!again) {
        error = "nothing to go back to";
      }
    } catch (...) {
      error = what_of(std::current_exception());
    }
    if (again && start_exporter(std::move(again), error)) {
      switch_state_ = SwitchState::Reverted;
      return;
    }
    logf(LogLevel::Warning, "exporter " + name_,
         "the previous settings cannot start either (%s): trying again in %lld s; records wait "
         "in the queue and the spool",
         error.c_str(), static_cast<long long>(kRestartRetry.count()));
    {
      std::lock_guard lock(exporter_mutex_);
      not_running_ = "cannot start (" + error + "); trying again every " +
                     std::to_string(kRestartRetry.count()) + " s";
    }
    std::unique_lock lock(mutex_);
    if (cv_.wait_for(lock, kRestartRetry, [this] { return stopping_; })) {
      switch_state_ = SwitchState::Reverted;  // nothing runs; the collector stops anyway
      return;
    }
  }
}

void ExporterWorker::discard_spool() {
  const auto bytes = spool_.bytes();
  std::size_t segments = 0;
  while (auto segment = spool_.take_segment()) {
    std::remove(segment->c_str());
    ++segments;
  }
  if (segments > 0) {
    logf(LogLevel::Info, "exporter " + name_,
         "%zu spool segments (%llu bytes) of an earlier run dropped: the journal gives their "
         "records again",
         segments, static_cast<unsigned long long>(bytes));
  }
  std::lock_guard lock(mutex_);
  spooling_ = false;
  stats_.spool_bytes.store(0, std::memory_order_relaxed);
}

void ExporterWorker::run() {
  try {
    exporter_->start();
    snapshot_interval_ = exporter_->snapshot_interval().count();
    wants_snapshots_ = exporter_->wants_snapshots() || snapshot_interval_ > 0;
    resume_after_ = exporter_->resume_after();
    keeps_position_ = resume_after_.has_value();
    delivered_seq_ = std::max(resume_after_.value_or(0), durable_floor_);
    if (journaled_ && resume_after_) {
      discard_spool();
    }
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      start_error_ = std::current_exception();
      start_error_text_ = what_of(start_error_);
      started_ = true;
      spool_stop_ = true;
      if (launched_) {
        overflow_.clear();  // for an exporter that never ran: nothing to keep for a next start
        overflow_bytes_ = 0;
      }
    }
    cv_.notify_all();
    spool_cv_.notify_all();
    ++threads_done_;
    return;
  }
  {
    std::lock_guard lock(mutex_);
    started_ = true;
  }
  cv_.notify_all();
  note_durable();
  if (launched_ && wants_snapshots_) {
    snapshot_carry_ = true;  // added while the collector runs: the table it joins at comes first
  }

  std::vector<Record> batch;
  std::vector<Record> spooled;
  for (;;) {
    std::optional<std::string> segment;
    bool stop_now = false;
    {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, std::chrono::seconds(1), [this] {
        return !queue_.empty() || stopping_ || spooling_ || switch_asked_.load();
      });
      batch.swap(queue_);
      queue_bytes_ = 0;
      stats_.queued.store(0, std::memory_order_relaxed);
      const bool late = stopping_ && Clock::now() > stop_deadline_;
      if (batch.empty() && spooling_ && !late) {
        // The memory queue is delivered: go on with the spool, oldest segment first.
        segment = spool_.take_segment();
        if (!segment && overflow_.empty() && !spool_writing_) {
          spooling_ = false;  // caught up: new records go to memory again
        } else if (!segment) {
          // The spool thread has records that are not in a segment yet: they come next.
          cv_.wait_for(lock, std::chrono::milliseconds(20));
        }
      }
      // Out of time at shutdown: what is spooled stays on disk for the next start. The memory
      // queue is still delivered: it is older than the spool, and a spool cannot take records
      // at its front, so spooling it would break the order.
      stop_now = stopping_ && !segment && (!spooling_ || late) && (batch.empty() || late);
    }
    if (switch_asked_.load()) {
      switch_exporter();  // also when no record comes
    }
    deliver_all(batch);
    batch.clear();
    if (batch.capacity() > kKeepCapacity) {
      std::vector<Record>().swap(batch);  // a burst's worth of slots goes back
    }
    note_durable();
    if (!exporter_) {
      // A failed switch left nothing running, and the collector stops: a segment taken stays on
      // disk for the next start; the memory queue is lost (counted; the journal gives it again).
      std::lock_guard lock(mutex_);
      stats_.dropped += queue_.size();
      queue_.clear();
      logf(LogLevel::Warning, "exporter " + name_,
           "stopping with no instance running: %llu records lost from memory (the journal gives "
           "them again at the next start), the spool kept for it",
           static_cast<unsigned long long>(stats_.dropped.load()));
      break;
    }
    if (segment) {
      spooled.clear();
      const auto bad = spool_.read_segment(*segment, spooled);
      if (bad > 0) {
        logf(LogLevel::Warning, "exporter " + name_, "%zu unreadable records in spool segment %s",
             bad, segment->c_str());
      }
      deliver_all(spooled);
      stats_.spool_bytes.store(spool_.bytes(), std::memory_order_relaxed);
    }
    if (stop_now) {
      break;
    }
    maybe_flush(false);
  }
  maybe_flush(true);
  if (exporter_) {
    try {
      exporter_->stop();
      note_durable();  // what stop() made durable (the archiver commits Kafka offsets by it)
    } catch (const std::exception& e) {
      logf(LogLevel::Warning, "exporter " + name_, "stop failed: %s", e.what());
    }
  }
  // What the worker had no time for is still handed to the spool: on disk for the next run.
  {
    std::lock_guard lock(mutex_);
    spool_stop_ = true;
  }
  spool_cv_.notify_all();
  ++threads_done_;
}

void ExporterWorker::begin_stop() {
  publish();  // called from the io thread, or after it ended
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable() || stopping_) {
      return;
    }
    stopping_ = true;
    stop_deadline_ = Clock::now() + limits_.stop_timeout;
  }
  // An accept() waiting for its sink would keep the thread from ever seeing stopping_.
  {
    std::lock_guard lock(exporter_mutex_);
    interrupted_ = true;
    if (exporter_) {
      exporter_->interrupt();
    }
  }
  cv_.notify_all();
}

void ExporterWorker::stop() {
  begin_stop();
  if (thread_.joinable()) {
    thread_.join();
  }
  if (spool_thread_.joinable()) {
    spool_thread_.join();
  }
}

}  // namespace bgpscribe::collector
