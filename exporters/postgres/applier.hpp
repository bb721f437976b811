// The SQL of the PostgreSQL exporter: how a batch (batch.hpp) becomes rows of the archive,
// without threads. The Writer (writer.hpp) owns the threads, the connections' lanes and the
// order in which batches and their parts are applied; it calls this class for every
// statement, so that what reaches the database can be read (and tested) in one place.
//
// Idempotence: each part of a batch commits in the same transaction as its row of
// bgp.writer_progress (stream, part) = batch sequence, and begin() finds a part already
// committed (before a crash or a lost connection) and says so; peers and attribute sets are
// upserts. Applying a batch again is therefore harmless.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "exporters/postgres/batch.hpp"
#include "exporters/postgres/pg.hpp"

namespace bgpscribe::exporters::postgres {

// A connection the applier writes through, and what the applier remembers about it.
struct ApplyConnection {
  PgConnection db;
  // Batches to go before trying the direct COPY into bgp.rib again (see apply_rib()).
  int direct_rib_pause = 0;
};

class Applier {
 public:
  // `stream`: the spool's stream number (batch_spool.hpp), the key of its progress rows.
  Applier(std::string collector_name, std::uint32_t stream, std::int64_t retention_s);

  // Readies a newly opened connection: the session's staging tables.
  static void prepare(PgConnection& db);
  // Registers the collector (bgp.collectors) through `control` and forgets what was known
  // about the partitions; after every (re)connection.
  void start(PgConnection& control);

  // writer_progress.last_batch of this stream's parts 0 to parts - 1 (0 when not yet there).
  std::vector<std::uint64_t> progress(PgConnection& db, std::uint32_t parts);

  // Whether the log partitions for [first_us, last_us] are known to exist; ensure_partitions
  // creates them otherwise (in a transaction of its own: that locks the log's parent table).
  [[nodiscard]] bool partitions_covered(std::int64_t first_us, std::int64_t last_us) const;
  void ensure_partitions(PgConnection& db, std::int64_t first_us, std::int64_t last_us);

  // The batch's peers (upserts, in a transaction of their own committed without waiting for
  // the WAL flush: every part's commit waits for it, in order), their database ids by the
  // batch's peer numbers.
  std::vector<std::int32_t> upsert_peers(PgConnection& db, const Batch& batch);
  // The batch's attribute sets, likewise (nothing when it has none).
  void upsert_attrs(PgConnection& db, const Batch& batch);

  // Applies the whole batch (every part, the session ends, the restart and the checkpoint) in
  // one transaction on `c`; peer numbers in its rows are replaced by `ids` here. False when it
  // had been committed already.
  bool apply_whole(ApplyConnection& c, Batch& batch, std::uint32_t parts,
                   const std::vector<std::int32_t>& ids);
  // Applies part `part` of `batch` in its own transaction: `updates` and `rib` are that part's
  // rows (split_rows(), peer ids already in them); part 0 also carries the peer events. False
  // when it had been committed already.
  bool apply_part(ApplyConnection& c, const Batch& batch, const std::vector<std::int32_t>& ids,
                  std::uint32_t part, std::span<const std::uint8_t> updates,
                  std::span<std::uint8_t> rib);

  // Drops log and checkpoint partitions past the retention (at most once an hour; nothing when
  // retention_s is 0).
  void apply_retention(PgConnection& db);

 private:
  // Starts the transaction of parts first..last of batch `sequence` with their progress rows
  // locked; false (rolled back) when they already hold it.
  bool begin(PgConnection& db, std::uint32_t first_part, std::uint32_t last_part,
             std::uint64_t sequence);
  void commit(PgConnection& db, std::uint32_t first_part, std::uint32_t last_part,
              std::uint64_t sequence);
  void insert_attrs(PgConnection& db, const Batch& batch);
  static void insert_events(PgConnection& db, const Batch& batch,
                            const std::vector<std::int32_t>& ids);
  // The restart, session downs and checkpoint of a whole batch.
  void apply_session_ends(PgConnection& db, const Batch& batch,
                          const std::vector<std::int32_t>& ids);
  // RIB rows of a batch (or of a part): a direct COPY when every row is new, else staging and
  // upserts.
  static void apply_rib(ApplyConnection& c, std::span<std::uint8_t> rib);

  std::string collector_name_;
  std::uint32_t stream_;
  std::int64_t retention_s_;
  std::int32_t collector_id_ = 0;
  // Partitions known to exist: [covered_from_us_, covered_to_us_).
  std::int64_t covered_from_us_ = 0;
  std::int64_t covered_to_us_ = 0;
  std::chrono::steady_clock::time_point retention_due_{};
};

// Batch rows made ready for the database: the batch-local peer numbers of the int4 field
// `peer_field` of every tuple of binary COPY data replaced by their database ids.
void map_peers(std::vector<std::uint8_t>& data, std::size_t peer_field,
               const std::vector<std::int32_t>& ids);
// Splits binary COPY data into `parts` COPY streams by the prefix in field `prefix_field` (row
// order kept within each; a part without rows is empty), mapping the peer numbers on the way
// as map_peers does. A prefix falls into the same part in every batch and every run.
std::vector<std::vector<std::uint8_t>> split_rows(std::span<std::uint8_t> data,
                                                  std::size_t peer_field,
                                                  const std::vector<std::int32_t>& ids,
                                                  std::size_t prefix_field, std::uint32_t parts,
                                                  PartSplit split);

}  // namespace bgpscribe::exporters::postgres
