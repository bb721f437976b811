// Spool: the on-disk overflow of one exporter's queue.
//
// When an exporter falls behind and its memory queue is full, the collector appends records
// here instead of making a BGP session wait; the exporter's thread reads them back in order
// once it has caught up with the memory queue. Segments are plain files of length-prefixed
// records under `directory`; segments left by a previous run (a crash, a shutdown that ran
// out of time) are delivered first at the next start. RIB snapshot records stay in memory
// (they are views of live tables) and are not carried across runs. Thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "codec/wire/writer.hpp"
#include "exporters/api/record.hpp"

namespace bgpscribe::collector {

class Spool {
 public:
  // Creates `directory` if needed and picks up segments left there. Throws std::runtime_error
  // when it cannot be created.
  Spool(std::string directory, std::uint64_t max_bytes,
        std::uint64_t segment_bytes = std::uint64_t{64} << 20);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends; false when the spool is full or the disk refused (the record is lost: count it).
  bool append(const exporters::Record& record);
  // The path of the oldest complete segment, closing the one being written if it is the last
  // one with data; nullopt when nothing is spooled.
  std::optional<std::string> take_segment();
  // Reads a segment taken with take_segment into `out` and deletes it. Records that do not
  // decode (a segment cut short by a crash) end the segment; their number is returned.
  std::size_t read_segment(const std::string& path, std::vector<exporters::Record>& out);

  [[nodiscard]] bool empty() const;
  [[nodiscard]] std::uint64_t bytes() const;
  [[nodiscard]] const std::string& directory() const { return directory_; }

  // The spool's record encoding (also used by tests).
  static void encode(const exporters::Record& record, std::uint64_t snapshot_id,
                     std::vector<std::uint8_t>& out);
  // The record without its length prefix, appended to `w` (the journal's entries).
  static void encode_body(const exporters::Record& record, std::uint64_t snapshot_id,
                          codec::wire::Writer& w);
  static std::optional<exporters::Record> decode(std::span<const std::uint8_t> bytes,
                                                 std::uint64_t& snapshot_id);

 private:
  bool open_segment();
  void close_segment();

  mutable std::mutex mutex_;
  std::string directory_;
  std::uint64_t max_bytes_;
  std::uint64_t segment_bytes_;
  std::deque<std::pair<std::string, std::uint64_t>> sealed_;  // path, bytes
  std::FILE* current_ = nullptr;
  std::string current_path_;
  std::uint64_t current_bytes_ = 0;
  std::uint64_t next_segment_ = 0;
  std::uint64_t total_bytes_ = 0;
  std::vector<std::uint8_t> buffer_;
  std::uint64_t next_snapshot_ = 1;
  std::map<std::uint64_t, std::shared_ptr<const exporters::RibSnapshot>> snapshots_;
};

}  // namespace bgpscribe::collector
