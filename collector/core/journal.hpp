// Journal: the write-ahead log of every record the collector hands to its exporters.
//
// kill -9 loses what a process holds in memory: records in the exporter queues, an MRT file's
// unflushed buffer, a postgres batch not yet sealed. The journal keeps each record, numbered
// (its sequence number), in the page cache before any exporter sees it, so that a new start can
// give every exporter the records after the last one it had made durable (its position, which
// it keeps with its own data: Exporter::resume_after). Segments whose records every exporter
// has made durable are deleted as the exporters report their positions.
//
// Appending is a memcpy into a shared mapping of a preallocated segment file (no system call;
// the kernel writes the pages back, and they survive the process however it ends). A machine
// crash loses what was not yet written back, unless `sync_interval` makes a thread msync the
// written pages that often. An entry is its length word (written last: a record cut short by
// the end of the process has length 0 and is not there), its sequence number, and the spool's
// record encoding (Spool::encode_body). Records of a RIB snapshot are not journaled (they
// point into tables that do not outlive the process); they take the number of the record
// before them.
//
// Not thread-safe: the collector's io thread appends and releases; replay() runs at start.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "codec/wire/writer.hpp"
#include "exporters/api/record.hpp"

namespace bgpscribe::collector {

struct JournalOptions {
  std::string directory;
  // Small enough that the one segment mapped at a time weighs little in the process (its
  // written pages count as resident), large enough that a full table fills few of them.
  std::uint64_t segment_bytes = std::uint64_t{16} << 20;
  // Past this much in segments not yet released, records are no longer journaled (counted;
  // the exporters still get them, only a crash could then lose them).
  std::uint64_t max_bytes = std::uint64_t{10} << 30;
  // 0: kill -9 safe only (the page cache); else msync the written pages this often.
  std::chrono::milliseconds sync_interval{0};
};

struct JournalStats {
  std::uint64_t appended = 0;
  std::uint64_t not_journaled = 0;  // full, or a segment could not be created
  std::uint64_t segments = 0;       // on disk now
  std::uint64_t bytes = 0;          // of those segments
  std::uint64_t released = 0;       // segments deleted
};

class Journal {
 public:
  // Opens (creating) `options.directory` and finds the segments and the last sequence number
  // left by an earlier run; new records go into a new segment. Throws std::runtime_error when
  // the directory cannot be used.
  explicit Journal(JournalOptions options);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // The number of the last record appended (by this run or, at start, the earlier one).
  [[nodiscard]] std::uint64_t last_seq() const { return last_seq_; }
  // Numbers new records above `seq` (an exporter's position beyond what the journal holds: a
  // journal removed by hand must not make new numbers look old).
  void number_after(std::uint64_t seq) { last_seq_ = std::max(last_seq_, seq); }
  // Numbers `record` (Record::seq: the next number; a RibSnapshot gets last_seq() and is not
  // written), journals it and returns its number.
  std::uint64_t append(exporters::Record& record);
  // Calls `f(seq, record)` for every record of the journal with a number above `after`, in
  // order, reading what earlier runs left (call before appending). Returns the number of
  // entries that did not decode (a segment's damaged tail ends that segment).
  std::size_t replay(std::uint64_t after,
                     const std::function<void(std::uint64_t, exporters::Record&&)>& f) const;
  // Deletes the segments whose records all have numbers up to `upto` (every exporter has them
  // durably). The segment being written stays.
  void release(std::uint64_t upto);
  [[nodiscard]] const JournalStats& stats() const { return stats_; }
  [[nodiscard]] const std::string& directory() const { return options_.directory; }

 private:
  struct Segment {
    std::string path;
    std::uint64_t first_seq = 0;  // from the name: the first number it may hold
    std::uint64_t last_seq = 0;   // the last it holds (0: none)
    std::uint64_t bytes = 0;
  };
  bool open_segment();
  void close_segment();
  void sync_loop();

  JournalOptions options_;
  std::vector<Segment> segments_;  // oldest first; the last is being written when mapped_
  std::uint64_t last_seq_ = 0;
  std::uint8_t* mapped_ = nullptr;
  std::size_t mapped_size_ = 0;
  std::size_t used_ = 0;
  int fd_ = -1;
  codec::wire::Writer scratch_;
  JournalStats stats_;
  // The msync thread (sync_interval > 0): syncs [synced_, used_) of the current mapping.
  std::thread sync_thread_;
  std::mutex sync_mutex_;
  std::condition_variable sync_cv_;
  bool stopping_ = false;
};

}  // namespace bgpscribe::collector
