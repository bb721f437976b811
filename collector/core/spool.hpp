// Spool: the on-disk overflow of one exporter's queue.
//
// When an exporter falls behind and its memory queue is full, the collector appends records
// here instead of making a BGP session wait; the exporter's thread reads them back in order
// once it has caught up with the memory queue. Segments under `directory` are framed files
// (exporters/api/framed_file.hpp, kind "SPOL" version 2: one record per entry); segments of
// version 1 (bgpscribe before the framing: records with a length before each, no header) are
// still read. Segments left by a previous run (a crash, a shutdown that ran out of time) are
// delivered first at the next start. Nothing is synced: the journal keeps every record until
// the exporter has made it durable, so a crash may cut a segment anywhere (its whole entries
// are read, the rest is reported). RIB snapshot records stay in memory (they are views of live
// tables) and are not carried across runs. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codec/wire/writer.hpp"
#include "exporters/api/framed_file.hpp"
#include "exporters/api/record.hpp"
#include "exporters/api/record_codec.hpp"

namespace bgpscribe::collector {

class Spool {
 public:
  // Segments: framed files of records (version 1 was the format without a header).
  static constexpr exporters::FramedKind kSegmentKind{"SPOL", 2, 2};

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
  // Reads a segment taken with take_segment into `out` and deletes it. Returns the number of
  // records lost to damage (a torn tail counts one), each logged with the file and offset. A
  // segment refused whole (written by a newer bgpscribe) is logged and left where it is.
  std::size_t read_segment(const std::string& path, std::vector<exporters::Record>& out);

  // What read_records found in a segment.
  struct SegmentReport {
    std::size_t records = 0;  // decoded and handed to the callback
    std::size_t bad = 0;      // damaged or undecodable entries, and a torn tail (one)
    bool refused = false;     // not read at all (another kind, a newer version)
    std::uint16_t version = 0;
    std::vector<std::string> problems;  // one line each, naming `name` and the offset
  };
  // Decodes the records of a segment file's bytes, of either version: f(record, snapshot id)
  // for each, in order. `name` is the file's, for the problems.
  static SegmentReport read_records(
      std::span<const std::uint8_t> segment, std::string_view name,
      const std::function<void(exporters::Record&&, std::uint64_t)>& f);

  [[nodiscard]] bool empty() const;
  [[nodiscard]] std::uint64_t bytes() const;
  [[nodiscard]] const std::string& directory() const { return directory_; }

  // The spool's record encoding (exporters/api/record_codec.hpp): a segment entry's payload
  // (and the body of a journal entry).
  static void encode_body(const exporters::Record& record, std::uint64_t snapshot_id,
                          codec::wire::Writer& w) {
    exporters::encode_record(record, snapshot_id, w);
  }
  // The record of an entry's payload; nullopt when it is not one.
  static std::optional<exporters::Record> decode(std::span<const std::uint8_t> bytes,
                                                 std::uint64_t& snapshot_id) {
    return exporters::decode_record(bytes, snapshot_id);
  }

 private:
  bool open_segment();
  void close_segment();

  mutable std::mutex mutex_;
  std::string directory_;
  std::uint64_t max_bytes_;
  std::uint64_t segment_bytes_;
  std::deque<std::pair<std::string, std::uint64_t>> sealed_;  // path, bytes
  std::optional<exporters::FramedFileWriter> current_;
  std::string current_path_;
  std::uint64_t next_segment_ = 0;
  std::uint64_t total_bytes_ = 0;  // sealed segments and the current one
  codec::wire::Writer buffer_;
  std::uint64_t next_snapshot_ = 1;
  std::map<std::uint64_t, std::shared_ptr<const exporters::RibSnapshot>> snapshots_;
};

}  // namespace bgpscribe::collector
