#include "exporters/postgres/writer.hpp"

#include <algorithm>
#include <string>

#include "exporters/api/log.hpp"
#include "schema/migrations.hpp"

namespace bgpscribe::exporters::postgres {

using exporters::logf;
using exporters::LogLevel;

// ---- Writer
// ---------------------------------------------------------------------------------------

struct Writer::Lane {
  ApplyConnection conn;
  bool busy = false;  // applying a part now
  std::thread thread;
};

struct Writer::InFlight {
  Batch batch;  // its peers and events; the rows are in `updates` and `rib`
  std::vector<std::int32_t> ids;
  std::vector<std::vector<std::uint8_t>> updates;  // by part
  std::vector<std::vector<std::uint8_t>> rib;      // by part
  std::uint32_t remaining = 0;                     // parts not yet committed
  bool applied = false;                            // a part was applied here, not found done
};

Writer::Writer(WriterOptions options, BatchSpool& spool)
    : options_(std::move(options)),
      spool_(spool),
      applier_(options_.collector_name, spool.stream(), options_.retention_s),
      control_(std::make_unique<Lane>()) {
  if (options_.connections > 1) {
    for (int i = 0; i < options_.connections; ++i) {
      lanes_.push_back(std::make_unique<Lane>());
    }
  }
}

Writer::~Writer() {
  stop(0);
}

void Writer::start() {
  for (auto& lane : lanes_) {
    lane->thread = std::thread([this, l = lane.get()] { lane_loop(*l); });
  }
  thread_ = std::thread([this] { run(); });
}

void Writer::notify(Batch batch) {
  {
    std::lock_guard lock(mutex_);
    // A few batches in memory spare the writer reading back what was just written; beyond
    // that (the database slow or away) the spool holds them.
    if (ready_.size() < kReadyBatches) {
      ready_.emplace(batch.sequence, std::move(batch));
    }
    wake_ = true;
  }
  cv_.notify_all();
}

bool Writer::stop(double timeout_s) {
  if (!thread_.joinable()) {
    return spool_.files() == 0;
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    deadline_ = std::chrono::steady_clock::now() +
                std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000));
    wake_ = true;
  }
  cv_.notify_all();
  thread_.join();
  {
    std::lock_guard lock(mutex_);
    quit_lanes_ = true;
  }
  cv_.notify_all();
  for (auto& lane : lanes_) {
    if (lane->thread.joinable()) {
      lane->thread.join();
    }
  }
  close();
  return spool_.files() == 0;
}

std::optional<Batch> Writer::take_ready(std::uint64_t sequence) {
  std::lock_guard lock(mutex_);
  std::optional<Batch> batch;
  if (auto it = ready_.find(sequence); it != ready_.end()) {
    batch = std::move(it->second);
  }
  // Earlier ones were applied (or set aside) already.
  ready_.erase(ready_.begin(), ready_.upper_bound(sequence));
  return batch;
}

std::string Writer::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void Writer::set_error(const std::string& e) {
  std::lock_guard lock(mutex_);
  last_error_ = e;
}

void Writer::wait(double seconds) {
  std::unique_lock lock(mutex_);
  auto until = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
  if (stopping_) {
    until = std::min(until, deadline_);
  }
  cv_.wait_until(lock, until, [this] { return wake_; });
  wake_ = false;
}

PgConnection& Writer::db() {
  return control_->conn.db;
}

bool Writer::connected() const {
  return control_->conn.db.connected() &&
         std::all_of(lanes_.begin(), lanes_.end(),
                     [](const auto& lane) { return lane->conn.db.connected(); });
}

void Writer::close() {
  db().close();
  for (auto& lane : lanes_) {
    lane->conn.db.close();
  }
}

void Writer::connect() {
  if (options_.migrate) {
    // The migrations use their own (libpqxx) connection; they run once per connection of the
    // writer, which is cheap when the database is up to date (one query).
    const schema::MigrateResult m = schema::migrate(options_.dsn);
    if (!m.applied.empty()) {
      logf(LogLevel::Info, "postgres", "migrated the database from version %d to %d", m.from, m.to);
    }
  }
  const auto open = [&](Lane& lane) {
    lane.conn.db.connect(options_.dsn, options_.connect_timeout_s);
    Applier::prepare(lane.conn.db);
  };
  open(*control_);
  for (auto& lane : lanes_) {
    open(*lane);
  }
  applier_.start(db());
  stats_.connected = true;
}

void Writer::run() {
  double backoff = 1;
  int attempts = 0;
  std::uint64_t failing = 0;  // the batch that failed last
  bool logged_down = false;
  std::uint64_t dispatching = 0;  // the batch being dispatched (0: none)
  const auto reaped = [&] {
    if (reap() > 0) {
      attempts = 0;
      set_error("");
    }
  };
  const auto stop_due = [&] {
    std::lock_guard lock(mutex_);
    return stopping_ && std::chrono::steady_clock::now() >= deadline_;
  };
  while (true) {
    std::vector<std::uint64_t> pending = spool_.list();
    // The batches dispatched already are the lanes' until reap() removes their files.
    std::erase_if(pending, [&](std::uint64_t seq) { return seq <= dispatched_; });
    bool busy = false;
    {
      std::lock_guard lock(mutex_);
      busy = !in_flight_.empty();
      if (stopping_ &&
          ((pending.empty() && !busy) || std::chrono::steady_clock::now() >= deadline_)) {
        break;
      }
    }
    try {
      if (pending.empty()) {
        if (busy) {
          await(true);
          reaped();
        } else {
          wait(1);
        }
        continue;
      }
      // The lanes are idle whenever nothing is in flight: only then are the connections
      // checked, opened or used for retention.
      if (!busy) {
        if (!connected()) {
          close();
          stats_.connected = false;
          connect();
          if (logged_down) {
            logf(LogLevel::Info, "postgres", "connected again; %llu batches to apply",
                 static_cast<unsigned long long>(pending.size()));
          }
          logged_down = false;
          backoff = 1;
        }
        applier_.apply_retention(db());
      }
      for (const std::uint64_t seq : pending) {
        // Room in the pipeline first: at most kInFlight batches between dispatch and reap.
        bool stop = false;
        while (true) {
          reaped();
          stop = stop_due();
          bool room = false;
          {
            std::lock_guard lock(mutex_);
            room = in_flight_.size() < kInFlight;
          }
          if (stop || room) {
            break;
          }
          await(false);
        }
        if (stop) {
          break;
        }
        std::optional<Batch> batch = take_ready(seq);
        if (!batch) {
          const auto bytes = spool_.read(seq);
          std::string error;
          batch = Batch::parse(bytes, error);
          if (!batch) {
            const auto where = spool_.quarantine(seq);
            ++stats_.quarantined;
            logf(LogLevel::Warning, "postgres", "batch %llu is damaged (%s): moved to %s",
                 static_cast<unsigned long long>(seq), error.c_str(), where.c_str());
            dispatched_ = seq;
            continue;
          }
        }
        dispatching = seq;
        dispatch(std::move(*batch));
        dispatching = 0;
        dispatched_ = seq;
      }
      reaped();
    } catch (const PgError& e) {
      const std::uint64_t lane_failed = abort_lanes();
      ++stats_.failures;
      set_error(e.what());
      if (e.connection_lost() || !connected()) {
        close();
        stats_.connected = false;
        if (!logged_down) {
          logf(LogLevel::Warning, "postgres", "%s; spooling (%llu batches, %llu bytes), retrying",
               e.what(), static_cast<unsigned long long>(spool_.files()),
               static_cast<unsigned long long>(spool_.bytes()));
          logged_down = true;
        }
        wait(backoff);
        backoff = std::min(backoff * 2, options_.retry_max_s);
        continue;
      }
      // The server refused a statement of the batch: roll back and retry a few times (a
      // deadlock or a lock timeout passes), then set the batch aside.
      db().rollback();  // the failed statement may have been a lane's: nothing here
      std::uint64_t seq = lane_failed != 0 ? lane_failed : dispatching;
      if (seq == 0) {
        const auto head = spool_.list();
        seq = head.empty() ? 0 : head.front();
      }
      dispatching = 0;
      attempts = seq == failing ? attempts + 1 : 1;
      failing = seq;
      logf(LogLevel::Warning, "postgres", "batch %llu failed (attempt %d): %s",
           static_cast<unsigned long long>(seq), attempts, e.what());
      if (seq != 0 && attempts >= options_.attempts_before_quarantine) {
        const auto where = spool_.quarantine(seq);
        ++stats_.quarantined;
        logf(LogLevel::Warning, "postgres", "batch %llu set aside in %s after %d attempts",
             static_cast<unsigned long long>(seq), where.c_str(), attempts);
        attempts = 0;
      }
      wait(1);
    } catch (const schema::SchemaError& e) {
      abort_lanes();
      dispatching = 0;
      ++stats_.failures;
      set_error(e.what());
      close();
      stats_.connected = false;
      if (!logged_down) {
        logf(LogLevel::Warning, "postgres", "%s; spooling, retrying", e.what());
        logged_down = true;
      }
      wait(backoff);
      backoff = std::min(backoff * 2, options_.retry_max_s);
    } catch (const std::exception& e) {
      // The spool itself failed (disk) or a batch is inconsistent: say so and retry slowly.
      abort_lanes();
      dispatching = 0;
      ++stats_.failures;
      set_error(e.what());
      logf(LogLevel::Info, "postgres", "%s", e.what());
      wait(5);
    }
  }
  // Stopping: the parts not started stay spooled for the next start.
  abort_lanes();
}

std::deque<Writer::Job>::iterator Writer::next_job() {
  // The first queued part whose number is neither being applied nor queued earlier: the parts
  // of one number go one after another, in batch order, whichever lane takes them.
  std::uint32_t earlier = 0;  // part numbers met so far (kMaxParts bits)
  for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
    const std::uint32_t bit = 1U << it->part;
    if ((earlier & bit) == 0 && (applying_ & bit) == 0) {
      return it;
    }
    earlier |= bit;
  }
  return jobs_.end();
}

void Writer::lane_loop(Lane& lane) {
  std::unique_lock lock(mutex_);
  while (true) {
    auto it = jobs_.end();
    cv_.wait(lock, [&] { return quit_lanes_ || (it = next_job()) != jobs_.end(); });
    if (quit_lanes_) {
      return;
    }
    Job job = std::move(*it);
    jobs_.erase(it);
    const std::uint32_t bit = 1U << job.part;
    applying_ |= bit;
    lane.busy = true;
    lock.unlock();
    std::exception_ptr error;
    bool applied = false;
    try {
      InFlight& f = *job.batch;
      applied = applier_.apply_part(lane.conn, f.batch, f.ids, job.part, f.updates[job.part],
                                    f.rib[job.part]);
    } catch (...) {
      error = std::current_exception();
      lane.conn.db.rollback();
    }
    // The part's rows are done with either way (a retry reads the batch again).
    std::vector<std::uint8_t>().swap(job.batch->updates[job.part]);
    std::vector<std::uint8_t>().swap(job.batch->rib[job.part]);
    const bool lost = !lane.conn.db.connected();
    lock.lock();
    applying_ &= ~bit;
    lane.busy = false;
    if (error) {
      if (!lane_error_ || (lost && !lane_error_lost_)) {
        lane_error_ = error;
        lane_error_lost_ = lost;
        lane_error_sequence_ = job.batch->batch.sequence;
      }
      // The parts queued behind it would commit out of order with it: none start (their
      // batches stay spooled, and a retry finds in writer_progress which parts committed).
      jobs_.clear();
    } else {
      job.batch->applied = job.batch->applied || applied;
      --job.batch->remaining;
    }
    job.batch.reset();
    cv_.notify_all();
  }
}

void Writer::await(bool or_spooled) {
  std::unique_lock lock(mutex_);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  if (stopping_) {
    until = std::min(until, deadline_);
  }
  cv_.wait_until(lock, until, [&] {
    return lane_error_ || (!in_flight_.empty() && in_flight_.front()->remaining == 0) ||
           (or_spooled && wake_);
  });
  if (or_spooled) {
    wake_ = false;
  }
}

std::size_t Writer::finish(const std::vector<std::shared_ptr<InFlight>>& complete) {
  for (const auto& f : complete) {
    const Batch& batch = f->batch;
    spool_.remove(batch.sequence);
    if (f->applied) {
      ++stats_.batches;
      stats_.update_rows += batch.update_rows;
      stats_.attr_rows += batch.attr_rows;
    } else {
      ++stats_.skipped;
    }
    stats_.last_applied_us = std::max<std::int64_t>(stats_.last_applied_us, batch.last_us);
  }
  return complete.size();
}

std::vector<std::shared_ptr<Writer::InFlight>> Writer::take_complete() {
  std::vector<std::shared_ptr<InFlight>> complete;
  while (!in_flight_.empty() && in_flight_.front()->remaining == 0) {
    complete.push_back(std::move(in_flight_.front()));
    in_flight_.pop_front();
  }
  return complete;
}

std::size_t Writer::reap() {
  std::vector<std::shared_ptr<InFlight>> complete;
  std::exception_ptr error;
  {
    std::lock_guard lock(mutex_);
    complete = take_complete();
    error = lane_error_;
  }
  const std::size_t n = finish(complete);
  if (error) {
    std::rethrow_exception(error);
  }
  return n;
}

std::uint64_t Writer::abort_lanes() {
  std::vector<std::shared_ptr<InFlight>> complete;
  std::uint64_t failed = 0;
  {
    std::unique_lock lock(mutex_);
    jobs_.clear();
    cv_.wait(lock, [&] {
      return std::none_of(lanes_.begin(), lanes_.end(), [](const auto& l) { return l->busy; });
    });
    complete = take_complete();
    // What is left stays in the spool: listed and dispatched again, its committed parts
    // skipped by their progress rows.
    in_flight_.clear();
    if (lane_error_) {
      failed = lane_error_sequence_;
    }
    lane_error_ = nullptr;
    lane_error_lost_ = false;
    dispatched_ = 0;
  }
  finish(complete);
  return failed;
}

void Writer::drain() {
  while (true) {
    reap();
    {
      std::lock_guard lock(mutex_);
      if (in_flight_.empty()) {
        return;
      }
    }
    await(false);
  }
}

void Writer::dispatch(Batch batch_in) {
  auto f = std::make_shared<InFlight>();
  f->batch = std::move(batch_in);
  Batch& batch = f->batch;
  const std::uint32_t parts = std::max<std::uint32_t>(batch.parts, 1);
  const std::vector<std::uint64_t> done = applier_.progress(db(), parts);
  const std::uint64_t sequence = batch.sequence;
  const bool all_done =
      std::all_of(done.begin(), done.end(), [&](std::uint64_t n) { return n >= sequence; });
  // A session going down withdraws what bgp.rib holds for it, the restart batch what it holds
  // for the collector, a checkpoint copies it: those read the RIB as every earlier row left it,
  // so the batch is one transaction (they are rare: sessions ending, starts, daily snapshots).
  const bool whole =
      parts == 1 || !batch.downs.empty() || batch.restart_us != 0 || batch.checkpoint_us != 0;
  const bool rows = batch.update_rows > 0 || batch.checkpoint_us != 0 || batch.restart_us != 0;
  if (!all_done) {
    // The lanes finish what they have first when this batch reads the RIB whole, when it is
    // split otherwise than the last (a prefix could change its part number, and two lanes
    // could then apply its rows at once) and when a partition is to be created (that locks
    // the log against their COPYs).
    if (whole || lanes_.empty() || parts != last_parts_ || batch.split != last_split_ ||
        (rows && !applier_.partitions_covered(batch.first_us, batch.last_us))) {
      drain();
    }
    if (rows) {
      applier_.ensure_partitions(db(), batch.first_us, batch.last_us);
    }
    // Peers first, in a transaction of their own: idempotent upserts, so a retry repeats them
    // harmlessly, and their ids are needed by every part. It commits without waiting for the
    // WAL to reach the disk (one wait per peer and batch before): each part's commit waits, and
    // the WAL is flushed in order, so no part is durable without the peers and attribute sets
    // it names; a server crash in between loses nothing the retry of the batch does not redo.
    f->ids = applier_.upsert_peers(db(), batch);
    if (whole) {
      f->applied = applier_.apply_whole(control_->conn, batch, parts, f->ids);
    } else {
      // The attribute sets before the parts that name them (idempotent, like the peers, and
      // committed the same way).
      applier_.upsert_attrs(db(), batch);
      f->updates = split_rows(batch.updates, 1, f->ids, 3, parts, batch.split);
      f->rib = split_rows(batch.rib, 0, f->ids, 1, parts, batch.split);
      if (lanes_.empty()) {
        // Split by a run with more connections than this one: the parts in order, here.
        for (std::uint32_t part = 0; part < parts; ++part) {
          if (done[part] < sequence && applier_.apply_part(control_->conn, batch, f->ids, part,
                                                           f->updates[part], f->rib[part])) {
            f->applied = true;
          }
        }
      }
    }
  }
  // Only the peers and events are needed from here on.
  std::vector<std::uint8_t>().swap(batch.updates);
  std::vector<std::uint8_t>().swap(batch.rib);
  std::vector<std::uint8_t>().swap(batch.attrs);
  const bool to_lanes = !all_done && !whole && !lanes_.empty();
  {
    std::lock_guard lock(mutex_);
    if (lane_error_) {
      // A part failed since this batch was read: the parts queued were dropped, and this
      // batch's parts would be applied ahead of theirs (its progress rows would then claim
      // them). It stays in the spool for the retry.
      return;
    }
    if (to_lanes) {
      for (std::uint32_t part = 0; part < parts; ++part) {
        if (done[part] < sequence) {
          jobs_.push_back(Job{f, part});
          ++f->remaining;
        }
      }
      last_parts_ = parts;
      last_split_ = batch.split;
    }
    in_flight_.push_back(std::move(f));
  }
  cv_.notify_all();
}

}  // namespace bgpscribe::exporters::postgres
