// BatchSpool: the postgres exporter's batches on disk, in order, until the writer has applied
// them (writer.hpp): what survives a crash of the collector and a database away for a while.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "exporters/postgres/batch.hpp"

namespace bgpscribe::exporters::postgres {

// The spool folder: `stream` (this spool's random writer id), `sequence` (the last batch
// number handed out) and `batches/<20-digit sequence>.batch`; damaged files move to `failed/`.
class BatchSpool {
 public:
  // Creates the folder and its stream id on first use; reads the state back otherwise.
  explicit BatchSpool(std::filesystem::path directory);

  [[nodiscard]] std::int32_t stream() const { return stream_; }
  // The next batch number (persisted before the batch file is written).
  std::uint64_t next_sequence();
  // Writes the batch (temporary file, fsync, rename): once this returns it survives a crash.
  void write(const Batch& batch);
  // Sequence numbers of the spooled batches, ascending.
  [[nodiscard]] std::vector<std::uint64_t> list() const;
  [[nodiscard]] std::vector<std::uint8_t> read(std::uint64_t sequence) const;
  void remove(std::uint64_t sequence);
  // Moves a batch that cannot be applied aside (kept for the operator, never retried).
  std::filesystem::path quarantine(std::uint64_t sequence);
  // The journal position (Record::seq) of the batches sealed so far: kept in a file of its own
  // once each batch is written, and read back as the larger of that file and the last batch
  // file's own number (a crash between the two writes).
  void write_position(std::uint64_t seq);
  [[nodiscard]] std::uint64_t position() const;
  // Bytes and files in the spool (kept up to date by write/remove).
  [[nodiscard]] std::uint64_t bytes() const { return bytes_.load(); }
  [[nodiscard]] std::uint64_t files() const { return files_.load(); }
  [[nodiscard]] const std::filesystem::path& directory() const { return dir_; }

 private:
  [[nodiscard]] std::filesystem::path path_of(std::uint64_t sequence) const;
  std::filesystem::path dir_;
  std::int32_t stream_ = 0;
  std::uint64_t sequence_ = 0;
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> files_{0};
};

}  // namespace bgpscribe::exporters::postgres
