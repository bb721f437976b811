#include "exporters/postgres/writer.hpp"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <system_error>

#include "codec/wire/reader.hpp"
#include "exporters/api/log.hpp"
#include "exporters/postgres/partition.hpp"
#include "exporters/postgres/rows.hpp"
#include "schema/migrations.hpp"

namespace bgpscribe::exporters::postgres {

namespace fs = std::filesystem;
using exporters::logf;
using exporters::LogLevel;

namespace {

constexpr const char* kCopyUpdates =
    "COPY bgp.updates (time, peer_id, ord, prefix, path_id, attr_id) FROM STDIN (FORMAT binary)";

// A timestamptz expression for a Unix time in microseconds: exact, unlike to_timestamp(double).
std::string ts(std::int64_t unix_us) {
  return "(timestamptz 'epoch' + " + std::to_string(unix_us) + " * interval '1 microsecond')";
}

std::optional<std::string> nonzero_id(std::uint32_t id) {
  if (id == 0) {
    return std::nullopt;
  }
  return codec::bgp::IpAddress::v4(id).to_string();
}

// Rewrites the int4 field `field` of one tuple from a batch-local peer number to its id.
void map_peer(std::span<std::uint8_t> data,
              const std::vector<std::pair<std::size_t, std::int32_t>>& fields, std::size_t field,
              const std::vector<std::int32_t>& ids) {
  if (fields.size() <= field || fields[field].second != 4) {
    throw std::runtime_error("batch COPY data: tuple without a peer field");
  }
  const std::uint32_t local = codec::wire::load_u32(data, fields[field].first);
  if (local >= ids.size()) {
    throw std::runtime_error("batch COPY data names peer " + std::to_string(local));
  }
  const auto id = static_cast<std::uint32_t>(ids[local]);
  std::uint8_t* p = data.data() + fields[field].first;
  p[0] = static_cast<std::uint8_t>(id >> 24);
  p[1] = static_cast<std::uint8_t>(id >> 16);
  p[2] = static_cast<std::uint8_t>(id >> 8);
  p[3] = static_cast<std::uint8_t>(id);
}

// map_peer for every tuple.
void map_peers(std::vector<std::uint8_t>& data, std::size_t field,
               const std::vector<std::int32_t>& ids) {
  if (data.empty()) {
    return;
  }
  CopyTuples tuples(data);
  std::vector<std::pair<std::size_t, std::int32_t>> fields;
  while (tuples.next(fields)) {
    map_peer(data, fields, field, ids);
  }
  if (!tuples.ok()) {
    throw std::runtime_error("batch COPY data is malformed");
  }
}

}  // namespace

// ---- Writer
// ---------------------------------------------------------------------------------------

struct Writer::Lane {
  PgConnection db;
  // Batches to go before trying the direct COPY into bgp.rib again (see apply_rib()).
  int direct_rib_pause = 0;
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
    : options_(std::move(options)), spool_(spool), control_(std::make_unique<Lane>()) {
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
  return control_->db;
}

bool Writer::connected() const {
  return control_->db.connected() &&
         std::all_of(lanes_.begin(), lanes_.end(),
                     [](const auto& lane) { return lane->db.connected(); });
}

void Writer::close() {
  control_->db.close();
  for (auto& lane : lanes_) {
    lane->db.close();
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
    lane.db.connect(options_.dsn, options_.connect_timeout_s);
    lane.db.exec(
        "CREATE TEMP TABLE attr_stage (LIKE bgp.attr_sets INCLUDING DEFAULTS) "
        "ON COMMIT DELETE ROWS");
    lane.db.exec(
        "CREATE TEMP TABLE rib_stage (peer_id integer, prefix cidr, path_id bigint, "
        "attr_id bigint, since timestamptz, updated timestamptz, fresh boolean) "
        "ON COMMIT DELETE ROWS");
  };
  open(*control_);
  for (auto& lane : lanes_) {
    open(*lane);
  }
  const auto r = db().exec(
      "INSERT INTO bgp.collectors (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET "
      "last_seen = now() RETURNING collector_id",
      PgParams().text(options_.collector_name));
  collector_id_ = static_cast<std::int32_t>(r.integer(0, 0));
  covered_from_us_ = covered_to_us_ = 0;
  stats_.connected = true;
  retention_due_ = {};
}

void Writer::apply_retention() {
  if (options_.retention_s <= 0 || std::chrono::steady_clock::now() < retention_due_) {
    return;
  }
  retention_due_ = std::chrono::steady_clock::now() + std::chrono::hours(1);
  db().exec("UPDATE bgp.settings SET retention = " + std::to_string(options_.retention_s) +
            " * interval '1 second'");
  const auto r = db().exec("SELECT bgp.apply_retention()");
  if (r.rows() > 0) {
    logf(LogLevel::Info, "postgres", "retention dropped %d partitions", r.rows());
  }
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
        apply_retention();
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
      control_->db.rollback();  // the failed statement may have been a lane's: nothing here
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
      applied = apply_part(lane, *job.batch, job.part);
    } catch (...) {
      error = std::current_exception();
      lane.db.rollback();
    }
    // The part's rows are done with either way (a retry reads the batch again).
    std::vector<std::uint8_t>().swap(job.batch->updates[job.part]);
    std::vector<std::uint8_t>().swap(job.batch->rib[job.part]);
    const bool lost = !lane.db.connected();
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

bool Writer::partitions_covered(std::int64_t first_us, std::int64_t last_us) const {
  return first_us >= covered_from_us_ && last_us < covered_to_us_;
}

void Writer::ensure_partitions(std::int64_t first_us, std::int64_t last_us) {
  if (partitions_covered(first_us, last_us)) {
    return;
  }
  // In a transaction of its own: creating a partition locks the parent until commit.
  db().exec("SELECT bgp.ensure_partitions(" + ts(first_us) + ", " + ts(last_us) + ")");
  const auto r = db().exec(
      "SELECT (extract(epoch FROM a.lower) * 1000000)::bigint, "
      "(extract(epoch FROM b.upper) * 1000000)::bigint FROM bgp.partition_bounds(" +
      ts(first_us) + ") a, bgp.partition_bounds(" + ts(last_us) + ") b");
  covered_from_us_ = r.integer(0, 0);
  covered_to_us_ = r.integer(0, 1);
}

std::vector<std::int32_t> Writer::peer_ids(const Batch& batch) {
  std::vector<std::int32_t> ids;
  for (const auto& p : batch.peers) {
    const std::string address = p.address.to_string();
    if (p.asn == 0) {
      // A transition before the OPEN told the AS: the latest peer with this address.
      const auto r = db().exec(
          "SELECT peer_id FROM bgp.peers WHERE collector_id = $1 AND address = $2 "
          "ORDER BY last_seen DESC LIMIT 1",
          PgParams().integer(collector_id_).text(address));
      if (r.rows() > 0) {
        ids.push_back(static_cast<std::int32_t>(r.integer(0, 0)));
        continue;
      }
    }
    PgParams params;
    params.integer(collector_id_).text(address).integer(p.asn).text(p.name);
    if (auto id = nonzero_id(p.bgp_id)) {
      params.text(*id);
    } else {
      params.null();
    }
    if (p.local_address.is_unspecified()) {
      params.null();
    } else {
      params.text(p.local_address.to_string());
    }
    params.integer(p.local_as);
    if (auto id = nonzero_id(p.local_bgp_id)) {
      params.text(*id);
    } else {
      params.null();
    }
    params.text_array(p.has_session ? std::optional(p.capabilities_sent) : std::nullopt);
    params.text_array(p.has_session ? std::optional(p.capabilities_received) : std::nullopt);
    if (p.has_session) {
      params.bytes(p.open_sent).bytes(p.open_received);
    } else {
      params.null().null();
    }
    params.integer(p.first_us).integer(p.last_us);
    const auto r = db().exec(
        "INSERT INTO bgp.peers AS p (collector_id, address, asn, name, bgp_id, local_address, "
        "local_as, local_bgp_id, capabilities_sent, capabilities_received, open_sent, "
        "open_received, first_seen, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
        "$11, $12, timestamptz 'epoch' + $13 * interval '1 microsecond', "
        "timestamptz 'epoch' + $14 * interval '1 microsecond') "
        "ON CONFLICT (collector_id, address, asn) DO UPDATE SET name = EXCLUDED.name, "
        "bgp_id = coalesce(EXCLUDED.bgp_id, p.bgp_id), "
        "local_address = coalesce(EXCLUDED.local_address, p.local_address), "
        "local_as = EXCLUDED.local_as, "
        "local_bgp_id = coalesce(EXCLUDED.local_bgp_id, p.local_bgp_id), "
        "capabilities_sent = coalesce(EXCLUDED.capabilities_sent, p.capabilities_sent), "
        "capabilities_received = coalesce(EXCLUDED.capabilities_received, "
        "p.capabilities_received), open_sent = coalesce(EXCLUDED.open_sent, p.open_sent), "
        "open_received = coalesce(EXCLUDED.open_received, p.open_received), "
        "first_seen = least(p.first_seen, EXCLUDED.first_seen), "
        "last_seen = greatest(p.last_seen, EXCLUDED.last_seen) RETURNING peer_id, xmax = 0",
        params);
    const auto id = static_cast<std::int32_t>(r.integer(0, 0));
    if (p.asn != 0 && r.get(0, 1) == "t") {
      // The first row of a peer with its AS: a dynamic peer's transitions before its OPEN (in
      // an earlier batch, when the OPEN came late) were written under AS 0; they are this
      // peer's, so they move here and the AS 0 row goes (it never holds routes).
      const auto moved = PgParams().integer(collector_id_).text(address).integer(id);
      db().exec(
          "UPDATE bgp.peer_events e SET peer_id = $3 FROM bgp.peers p WHERE p.peer_id = "
          "e.peer_id AND p.collector_id = $1 AND p.address = $2 AND p.asn = 0",
          moved);
      db().exec(
          "DELETE FROM bgp.peers p WHERE p.collector_id = $1 AND p.address = $2 AND p.asn = 0 "
          "AND NOT EXISTS (SELECT 1 FROM bgp.peer_events e WHERE e.peer_id = p.peer_id) AND $3 "
          "<> p.peer_id",
          moved);
    }
    ids.push_back(id);
  }
  return ids;
}

namespace {

// The RIB rows of the batch without their last field (`fresh`): bgp.rib's own columns.
std::vector<std::uint8_t> rib_columns(std::span<std::uint8_t> stage) {
  std::vector<std::uint8_t> out;
  out.reserve(stage.size());
  CopyTuples tuples(stage);
  std::vector<std::pair<std::size_t, std::int32_t>> fields;
  std::size_t header_end = 0;
  while (tuples.next(fields)) {
    if (fields.size() != 7) {
      throw std::runtime_error("batch RIB rows: expected 7 fields");
    }
    if (out.empty()) {
      header_end = fields[0].first - 6;  // the tuple's field count and first length
      out.assign(stage.begin(), stage.begin() + static_cast<std::ptrdiff_t>(header_end));
    }
    out.push_back(0);
    out.push_back(6);
    const std::size_t from = fields[0].first - 4;
    const std::size_t to = fields[6].first - 4;  // the length word of `fresh`
    out.insert(out.end(), stage.begin() + static_cast<std::ptrdiff_t>(from),
               stage.begin() + static_cast<std::ptrdiff_t>(to));
  }
  out.push_back(0xFF);
  out.push_back(0xFF);
  return out;
}

// The part (0 to parts - 1) of a row whose prefix field holds `value` (a binary cidr): a hash,
// so that a prefix falls into the same part in every batch and in every run. PostgreSQL's own
// partition hash, so that with 1, 2 or 4 parts each part's rows land in hash partitions of
// bgp.rib and of the log that no other part touches (schema version 4); version 2 batch files
// keep the XXH3 split they were written with.
std::uint32_t part_of(std::span<const std::uint8_t> value, std::uint32_t parts, PartSplit split) {
  if (split == PartSplit::xxh3) {
    return static_cast<std::uint32_t>(XXH3_64bits(value.data(), value.size()) % parts);
  }
  const std::optional<std::uint64_t> h = cidr_partition_hash(value);
  if (!h) {
    throw std::runtime_error("batch COPY data: a prefix that is not an IPv4 or IPv6 cidr");
  }
  return static_cast<std::uint32_t>(*h % parts);
}

// Splits binary COPY data into `parts` COPY streams by the prefix in field `prefix_field`
// (row order kept within each; a part without rows is empty), with the batch-local peer
// numbers of field `peer_field` replaced by database ids on the way (as map_peers does).
std::vector<std::vector<std::uint8_t>> split_rows(std::span<std::uint8_t> data,
                                                  std::size_t peer_field,
                                                  const std::vector<std::int32_t>& ids,
                                                  std::size_t prefix_field, std::uint32_t parts,
                                                  PartSplit split) {
  std::vector<std::vector<std::uint8_t>> out(parts);
  if (data.empty()) {
    return out;
  }
  CopyTuples tuples(data);
  std::vector<std::pair<std::size_t, std::int32_t>> fields;
  std::span<const std::uint8_t> header;
  while (tuples.next(fields)) {
    if (fields.size() <= prefix_field || fields[prefix_field].second < 0) {
      throw std::runtime_error("batch COPY data: tuple without a prefix");
    }
    map_peer(data, fields, peer_field, ids);
    const std::size_t begin = fields[0].first - 6;  // the field count and the first length
    const auto& last = fields.back();
    const std::size_t end = last.first + static_cast<std::size_t>(std::max(last.second, 0));
    if (header.empty()) {
      header = data.first(begin);
    }
    auto& o = out[part_of(data.subspan(fields[prefix_field].first,
                                       static_cast<std::size_t>(fields[prefix_field].second)),
                          parts, split)];
    if (o.empty()) {
      o.reserve(data.size() / parts + data.size() / 16);
      o.assign(header.begin(), header.end());
    }
    o.insert(o.end(), data.begin() + static_cast<std::ptrdiff_t>(begin),
             data.begin() + static_cast<std::ptrdiff_t>(end));
  }
  if (!tuples.ok()) {
    throw std::runtime_error("batch COPY data is malformed");
  }
  for (auto& o : out) {
    if (!o.empty()) {
      o.push_back(0xFF);
      o.push_back(0xFF);
    }
  }
  return out;
}

}  // namespace

void Writer::apply_rib(Lane& lane, std::span<std::uint8_t> rib) {
  // The current RIB follows the log in the same transaction: the batch's final state per
  // (peer, prefix, path id) replaces what was there, with set-based statements (no triggers).
  //
  // A table load (a session coming up, the collector starting) brings keys bgp.rib does not
  // have: then the rows go in by a direct COPY, as fast as loading the table by hand. When a
  // key exists (the COPY fails on the primary key), the savepoint undoes it and the rows take
  // the general path; the direct COPY then pauses for a while, since under churn it mostly
  // fails.
  PgConnection& db = lane.db;
  bool withdrawals = false;
  {
    CopyTuples tuples(rib);
    std::vector<std::pair<std::size_t, std::int32_t>> fields;
    while (!withdrawals && tuples.next(fields)) {
      withdrawals = fields.size() > 3 && fields[3].second < 0;
    }
  }
  if (!withdrawals && lane.direct_rib_pause == 0) {
    db.exec("SAVEPOINT direct_rib");
    try {
      db.copy_in(
          "COPY bgp.rib (peer_id, prefix, path_id, attr_id, since, updated) FROM STDIN "
          "(FORMAT binary)",
          rib_columns(rib));
      db.exec("RELEASE SAVEPOINT direct_rib");
      return;
    } catch (const PgError& e) {
      if (e.connection_lost() || e.sqlstate() != "23505") {  // unique_violation
        throw;
      }
      db.exec("ROLLBACK TO SAVEPOINT direct_rib");
      lane.direct_rib_pause = 50;
    }
  } else if (lane.direct_rib_pause > 0) {
    --lane.direct_rib_pause;
  }
  db.copy_in(
      "COPY rib_stage (peer_id, prefix, path_id, attr_id, since, updated, fresh) FROM STDIN "
      "(FORMAT binary)",
      rib);
  db.exec(
      "DELETE FROM bgp.rib r USING rib_stage s WHERE s.attr_id IS NULL AND "
      "r.peer_id = s.peer_id AND r.prefix = s.prefix AND r.path_id = s.path_id");
  // `since` stays when the attributes did not change (fresh: they changed inside the batch,
  // so the batch's own `since` holds).
  db.exec(
      "INSERT INTO bgp.rib AS t (peer_id, prefix, path_id, attr_id, since, updated) "
      "SELECT peer_id, prefix, path_id, attr_id, since, updated FROM rib_stage "
      "WHERE attr_id IS NOT NULL AND NOT fresh "
      "ON CONFLICT (peer_id, prefix, path_id) DO UPDATE SET attr_id = EXCLUDED.attr_id, "
      "since = CASE WHEN t.attr_id = EXCLUDED.attr_id THEN t.since ELSE EXCLUDED.since END, "
      "updated = EXCLUDED.updated");
  db.exec(
      "INSERT INTO bgp.rib AS t (peer_id, prefix, path_id, attr_id, since, updated) "
      "SELECT peer_id, prefix, path_id, attr_id, since, updated FROM rib_stage "
      "WHERE attr_id IS NOT NULL AND fresh "
      "ON CONFLICT (peer_id, prefix, path_id) DO UPDATE SET attr_id = EXCLUDED.attr_id, "
      "since = EXCLUDED.since, updated = EXCLUDED.updated");
}

std::vector<std::uint64_t> Writer::progress(std::uint32_t parts) {
  std::vector<std::uint64_t> last(parts, 0);
  const auto r = db().exec(
      "SELECT part, last_batch FROM bgp.writer_progress WHERE collector_id = $1 AND stream = $2",
      PgParams().integer(collector_id_).integer(spool_.stream()));
  for (int i = 0; i < r.rows(); ++i) {
    const auto part = static_cast<std::uint64_t>(r.integer(i, 0));
    if (part < parts) {
      last[part] = static_cast<std::uint64_t>(r.integer(i, 1));
    }
  }
  return last;
}

bool Writer::begin(PgConnection& db, std::uint32_t first_part, std::uint32_t last_part,
                   std::uint64_t sequence) {
  db.exec("BEGIN");
  const auto params = PgParams()
                          .integer(collector_id_)
                          .integer(spool_.stream())
                          .integer(first_part)
                          .integer(last_part);
  db.exec(
      "INSERT INTO bgp.writer_progress (collector_id, stream, part, last_batch) SELECT $1, $2, "
      "p, 0 FROM generate_series($3::integer, $4::integer) p ON CONFLICT DO NOTHING",
      params);
  // The row lock also keeps a second writer of the same stream (an old process still
  // draining) from applying the same part at the same time.
  const auto r = db.exec(
      "SELECT last_batch FROM bgp.writer_progress WHERE collector_id = $1 AND stream = $2 AND "
      "part BETWEEN $3 AND $4 ORDER BY part FOR UPDATE",
      params);
  for (int i = 0; i < r.rows(); ++i) {
    if (static_cast<std::uint64_t>(r.integer(i, 0)) >= sequence) {
      db.exec("ROLLBACK");
      return false;
    }
  }
  return true;
}

void Writer::commit(PgConnection& db, std::uint32_t first_part, std::uint32_t last_part,
                    std::uint64_t sequence) {
  db.exec(
      "UPDATE bgp.writer_progress SET last_batch = $5, updated = now() WHERE collector_id = $1 "
      "AND stream = $2 AND part BETWEEN $3 AND $4",
      PgParams()
          .integer(collector_id_)
          .integer(spool_.stream())
          .integer(first_part)
          .integer(last_part)
          .integer(static_cast<std::int64_t>(sequence)));
  db.exec("COMMIT");
}

void Writer::insert_attrs(const Batch& batch) {
  if (batch.attrs.empty()) {
    return;
  }
  db().copy_in(std::string("COPY attr_stage (") + kAttrColumns + ") FROM STDIN (FORMAT binary)",
               batch.attrs);
  db().exec("INSERT INTO bgp.attr_sets SELECT * FROM attr_stage ON CONFLICT (attr_id) DO NOTHING");
}

void Writer::insert_events(PgConnection& db, const Batch& batch,
                           const std::vector<std::int32_t>& ids) {
  for (const auto& e : batch.events) {
    PgParams p;
    p.integer(e.time_us).integer(ids[e.peer]).text(e.old_state).text(e.new_state);
    if (e.reason.empty()) {
      p.null();
    } else {
      p.text(e.reason);
    }
    if (e.has_notification) {
      p.integer(e.code)
          .integer(e.subcode)
          .text(e.notification_text)
          .bytes(e.notification_data)
          .text(e.sent_by);
    } else {
      p.null().null().null().null().null();
    }
    db.exec(
        "INSERT INTO bgp.peer_events (time, peer_id, old_state, new_state, reason, "
        "notification_code, notification_subcode, notification_text, notification_data, "
        "sent_by) VALUES (timestamptz 'epoch' + $1 * interval '1 microsecond', $2, $3, $4, $5, "
        "$6, $7, $8, $9, $10)",
        p);
  }
}

void Writer::dispatch(Batch batch_in) {
  auto f = std::make_shared<InFlight>();
  f->batch = std::move(batch_in);
  Batch& batch = f->batch;
  const std::uint32_t parts = std::max<std::uint32_t>(batch.parts, 1);
  const std::vector<std::uint64_t> done = progress(parts);
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
        (rows && !partitions_covered(batch.first_us, batch.last_us))) {
      drain();
    }
    if (rows) {
      ensure_partitions(batch.first_us, batch.last_us);
    }
    // Peers first, in a transaction of their own: idempotent upserts, so a retry repeats them
    // harmlessly, and their ids are needed by every part. It commits without waiting for the
    // WAL to reach the disk (one wait per peer and batch before): each part's commit waits, and
    // the WAL is flushed in order, so no part is durable without the peers and attribute sets
    // it names; a server crash in between loses nothing the retry of the batch does not redo.
    if (!batch.peers.empty()) {
      db().exec("BEGIN");
      db().exec("SET LOCAL synchronous_commit = off");
      f->ids = peer_ids(batch);
      db().exec("COMMIT");
    }
    if (whole) {
      map_peers(batch.updates, 1, f->ids);
      map_peers(batch.rib, 0, f->ids);
      if (begin(db(), 0, parts - 1, sequence)) {
        insert_attrs(batch);
        if (!batch.updates.empty()) {
          db().copy_in(kCopyUpdates, batch.updates);
        }
        if (!batch.rib.empty()) {
          apply_rib(*control_, batch.rib);
        }
        insert_events(db(), batch, f->ids);
        apply_session_ends(batch, f->ids);
        commit(db(), 0, parts - 1, sequence);
        f->applied = true;
      }
    } else {
      // The attribute sets before the parts that name them (idempotent, like the peers, and
      // committed the same way).
      if (!batch.attrs.empty()) {
        db().exec("BEGIN");
        db().exec("SET LOCAL synchronous_commit = off");
        insert_attrs(batch);
        db().exec("COMMIT");
      }
      f->updates = split_rows(batch.updates, 1, f->ids, 3, parts, batch.split);
      f->rib = split_rows(batch.rib, 0, f->ids, 1, parts, batch.split);
      if (lanes_.empty()) {
        // Split by a run with more connections than this one: the parts in order, here.
        for (std::uint32_t part = 0; part < parts; ++part) {
          if (done[part] < sequence && apply_part(*control_, *f, part)) {
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

bool Writer::apply_part(Lane& lane, InFlight& f, std::uint32_t part) {
  const std::uint64_t sequence = f.batch.sequence;
  if (!begin(lane.db, part, part, sequence)) {
    return false;
  }
  if (!f.updates[part].empty()) {
    lane.db.copy_in(kCopyUpdates, f.updates[part]);
  }
  if (!f.rib[part].empty()) {
    apply_rib(lane, f.rib[part]);
  }
  if (part == 0) {
    insert_events(lane.db, f.batch, f.ids);
  }
  commit(lane.db, part, part, sequence);
  return true;
}

void Writer::apply_session_ends(const Batch& batch, const std::vector<std::int32_t>& ids) {
  if (batch.restart_us != 0) {
    // Sessions of the previous run that did not end cleanly (kill -9, power loss) are still in
    // the state their last event left them, routes or not: they went down when that run did,
    // which is known no later than now.
    const auto params = PgParams().integer(collector_id_);
    db().exec("INSERT INTO bgp.peer_events (time, peer_id, old_state, new_state, reason) SELECT " +
                  ts(batch.restart_us) +
                  ", p.peer_id, e.new_state, 'Idle', 'collector restarted' FROM bgp.peers p "
                  "CROSS JOIN LATERAL (SELECT x.new_state FROM bgp.peer_events x WHERE "
                  "x.peer_id = p.peer_id ORDER BY x.time DESC LIMIT 1) e WHERE "
                  "p.collector_id = $1 AND e.new_state <> 'Idle'",
              params);
    db().exec(
        "INSERT INTO bgp.updates (time, peer_id, ord, prefix, path_id, attr_id, cause) SELECT " +
            ts(batch.restart_us) +
            ", r.peer_id, 0, r.prefix, r.path_id, NULL, 'collector_restart' FROM bgp.rib r JOIN "
            "bgp.peers p USING (peer_id) WHERE p.collector_id = $1",
        params);
    db().exec(
        "DELETE FROM bgp.rib r USING bgp.peers p WHERE p.peer_id = r.peer_id AND "
        "p.collector_id = $1",
        params);
  }
  for (const auto& d : batch.downs) {
    // A session that went down withdraws its routes (but those a graceful restart keeps,
    // stale); the end of the restart withdraws those still stale (not announced again since
    // the session went down). Logged, then gone from the RIB.
    const auto params = PgParams().integer(ids[d.peer]);
    std::string afis;
    for (const auto& [bit, family] : {std::pair{kStaleIpv4, "4"}, std::pair{kStaleIpv6, "6"}}) {
      if ((d.stale_afis & bit) != 0) {
        afis += std::string(afis.empty() ? "" : ", ") + family;
      }
    }
    std::string where = "peer_id = $1";
    if (d.stale_end) {
      where += " AND family(prefix) IN (" + afis + ") AND updated <= " + ts(d.stale_since_us);
    } else if (!afis.empty()) {
      where += " AND family(prefix) NOT IN (" + afis + ")";
    }
    db().exec(
        "INSERT INTO bgp.updates (time, peer_id, ord, prefix, path_id, attr_id, cause) SELECT " +
            ts(d.time_us) + ", peer_id, " + std::to_string(d.ord) + ", prefix, path_id, NULL, " +
            (d.stale_end ? "'graceful_restart'" : "'session_down'") + " FROM bgp.rib WHERE " +
            where,
        params);
    db().exec("DELETE FROM bgp.rib WHERE " + where, params);
  }
  if (batch.checkpoint_us != 0) {
    const auto params = PgParams().integer(collector_id_);
    const auto r = db().exec(
        "INSERT INTO bgp.checkpoint_routes (time, peer_id, prefix, path_id, attr_id, since) "
        "SELECT " +
            ts(batch.checkpoint_us) +
            ", r.peer_id, r.prefix, r.path_id, r.attr_id, r.since FROM bgp.rib r "
            "JOIN bgp.peers p USING (peer_id) WHERE p.collector_id = $1",
        params);
    db().exec("INSERT INTO bgp.checkpoints (collector_id, time, routes) VALUES ($1, " +
                  ts(batch.checkpoint_us) + ", " + std::to_string(r.affected()) +
                  ") ON CONFLICT DO NOTHING",
              params);
  }
}

}  // namespace bgpscribe::exporters::postgres
