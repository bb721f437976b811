// The PostgreSQL exporter's writer thread, which applies the spooled batches (batch_spool.hpp)
// to the database in order: the threads, the connections and the order of the work; every
// statement it sends is the Applier's (applier.hpp).
//
// Every sealed batch is written to the spool before the database sees it, whether PostgreSQL
// is up or not, so the spool is also the queue between the exporter thread and the writer:
// memory stays bounded however long the database is away, a slow database only makes the spool
// grow, and a crash (or kill -9) of the collector leaves the unapplied batches for the next
// start. The writer applies batch n in one transaction per part (the rows split by prefix over
// several connections, see schema/sql/0003_writer_parts.sql), each also setting
// writer_progress to n for this spool's stream and that part; a part found at or below that
// number was committed before the crash (between COMMIT and the file's removal) and is not
// applied again. Each part connection (a lane) applies its parts of successive batches in
// order without waiting for the other lanes, so that no core idles while the slowest part of a
// batch finishes; peers, attribute sets and batches that must be whole go through a control
// connection of their own.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "exporters/postgres/applier.hpp"
#include "exporters/postgres/batch.hpp"
#include "exporters/postgres/batch_spool.hpp"
#include "exporters/postgres/pg.hpp"

namespace bgpscribe::exporters::postgres {

struct WriterOptions {
  std::string dsn;  // empty: libpq defaults (PGHOST, PGDATABASE, ...)
  std::string collector_name;
  int connect_timeout_s = 5;
  double retry_max_s = 30;             // back-off between reconnection attempts, 1 s doubling
  int attempts_before_quarantine = 5;  // failures of one batch on a healthy connection
  bool migrate = true;                 // run the schema migrations when connecting
  // Drop log and checkpoint partitions older than this (bgp.settings.retention, applied at
  // connection and then hourly); 0 leaves the setting alone.
  std::int64_t retention_s = 0;
  // Connections applying a batch's parts side by side (Batch::parts; 1 to kMaxParts), plus
  // the control connection when more than 1.
  int connections = 2;
};

struct WriterStats {
  std::atomic<std::uint64_t> batches{0};      // applied
  std::atomic<std::uint64_t> skipped{0};      // found already applied (retry after a crash)
  std::atomic<std::uint64_t> quarantined{0};  // damaged or refused for good
  std::atomic<std::uint64_t> update_rows{0};
  std::atomic<std::uint64_t> attr_rows{0};
  std::atomic<std::uint64_t> failures{0};        // failed attempts (connection or statement)
  std::atomic<std::int64_t> last_applied_us{0};  // receive time of the newest applied record
  std::atomic<bool> connected{false};
};

class Writer {
 public:
  Writer(WriterOptions options, BatchSpool& spool);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void start();
  // A batch was spooled (its copy in memory, used when few are waiting).
  void notify(Batch batch);
  // Applies what is spooled for at most `timeout_s` seconds, then stops the thread; true when
  // the spool is empty.
  bool stop(double timeout_s);

  [[nodiscard]] const WriterStats& stats() const { return stats_; }
  // The last error, for status and logs ("" when the last attempt worked).
  [[nodiscard]] std::string last_error() const;

 private:
  // A connection and what the writer remembers about it; a part lane also has its thread.
  struct Lane;
  // A batch handed to the lanes: its parts' rows (peer numbers replaced by ids) and the parts
  // still to finish. The spool file goes once every part has committed (see reap()).
  struct InFlight;
  // One part of a batch in flight, for whichever lane is free.
  struct Job {
    std::shared_ptr<InFlight> batch;
    std::uint32_t part = 0;
  };

  void run();
  // The body of a part lane's thread: queued parts, until quit_lanes_.
  void lane_loop(Lane& lane);
  // The queued part a lane may take now (jobs_.end(): none); mutex_ held.
  std::deque<Job>::iterator next_job();
  // The in-memory copy of batch `sequence` (and forgets older ones); nullopt: read the file.
  std::optional<Batch> take_ready(std::uint64_t sequence);
  void connect();
  void close();
  [[nodiscard]] bool connected() const;
  // The control connection: peers, attribute sets, partitions and whole batches go through it.
  PgConnection& db();
  // Applies batch `sequence`'s peers and attribute sets and hands its parts to the lanes (or
  // applies it here when it must be whole or there are no lanes); its file is removed by
  // reap() once every part has committed.
  void dispatch(Batch batch);
  // Removes the files of the batches at the head of in_flight_ that are complete (in sequence
  // order) and counts them (see finish()); rethrows a lane's failure (the caller then calls
  // abort_lanes()).
  std::size_t reap();
  std::size_t finish(const std::vector<std::shared_ptr<InFlight>>& complete);
  // Waits (at most a second) until the oldest batch in flight is complete or a lane failed,
  // or also a batch was spooled or the writer stops (`or_spooled`).
  void await(bool or_spooled);
  // Waits until nothing is in flight (reaping; rethrows a lane's failure).
  void drain();
  // The batches at the head of in_flight_ that are complete, taken out; mutex_ held.
  std::vector<std::shared_ptr<InFlight>> take_complete();
  // After a failure or at a stop: drops the parts not started, waits for the running ones,
  // reaps what completed and forgets the rest (its files stay in the spool for the retry).
  // Returns the batch of the lane that failed (0: none did).
  std::uint64_t abort_lanes();
  void set_error(const std::string& e);
  void wait(double seconds);

  WriterOptions options_;
  BatchSpool& spool_;
  Applier applier_;
  std::unique_ptr<Lane> control_;
  // Part lanes: options_.connections of them, none with one connection (every batch is then
  // applied whole on control_).
  std::vector<std::unique_ptr<Lane>> lanes_;
  WriterStats stats_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  static constexpr std::size_t kReadyBatches = 4;
  std::map<std::uint64_t, Batch> ready_;  // by sequence
  bool wake_ = false;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point deadline_{};
  std::string last_error_;
  // The pipeline (guarded by mutex_; cv_ wakes the lanes and the writer alike).
  // At most this many batches dispatched and not yet complete: enough that a free lane always
  // finds a next part, few enough to bound the memory of split rows.
  static constexpr std::size_t kInFlight = 3;
  std::deque<std::shared_ptr<InFlight>> in_flight_;  // by sequence
  std::deque<Job> jobs_;                             // parts not yet taken, in batch order
  std::uint32_t applying_ = 0;                       // part numbers being applied (bits)
  std::uint64_t dispatched_ = 0;  // the last batch dispatched (0 after a failure: list again)
  std::uint32_t last_parts_ = 0;  // the split of the last batch dispatched to the lanes
  PartSplit last_split_ = PartSplit::PartitionHash;
  std::exception_ptr lane_error_;  // the first failure of a lane (a lost connection preferred)
  bool lane_error_lost_ = false;
  std::uint64_t lane_error_sequence_ = 0;  // the batch of lane_error_
  bool quit_lanes_ = false;
};

}  // namespace bgpscribe::exporters::postgres
