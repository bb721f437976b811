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
// before them. Unlike the spools, entries are not framed (framed_file.hpp) and carry no CRC: a
// CRC-32C costs about 50 ns per 250-byte entry, 8 to 10 % of an append (520 to 640 ns), paid by
// the io thread for every message, against damage that a killed process cannot leave. Replay
// skips entries that do not decode or whose numbers do not increase (docs/formats.md).
//
// Segment files are created (and preallocated), closed and deleted by the journal's own disk
// thread, which keeps `spares` segments ready ahead of the io thread: on a slow disk the io
// thread only ever writes into memory. When no spare is ready within `spare_wait` (the disk far
// behind), records are counted as not journaled instead of holding up the sessions. Segment
// names are ordering keys only; a segment's first and last numbers are read from its entries.
//
// The collector's io thread appends and releases (not thread-safe between callers); replay()
// runs at start.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
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
  // Segments kept created and mapped ahead of the io thread, and how long the io thread waits
  // for one when none is ready (the disk thread is behind) before it stops journaling until one
  // is.
  std::size_t spares = 2;
  std::chrono::milliseconds spare_wait{50};
};

struct JournalStats {
  std::uint64_t appended = 0;
  std::uint64_t not_journaled = 0;  // full, or no segment ready (disk behind or refusing)
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
    std::uint64_t first_seq = 0;  // the first number it holds (0: none)
    std::uint64_t last_seq = 0;   // the last it holds (0: none)
    std::uint64_t bytes = 0;
  };
  // A segment file created, preallocated and mapped by the disk thread.
  struct Mapping {
    std::string path;
    std::uint8_t* data = nullptr;
    std::size_t size = 0;
    int fd = -1;
  };
  bool open_segment();
  void close_segment();
  // The disk thread: spares, closing, deleting, msync.
  void disk_loop();
  // Creates, preallocates and maps a segment file; nullopt when the disk refuses.
  std::optional<Mapping> create_spare();
  static void unmap(const Mapping& m, bool sync);

  JournalOptions options_;
  std::vector<Segment> segments_;  // oldest first; the last is being written when mapped_
  std::uint64_t last_seq_ = 0;
  std::uint8_t* mapped_ = nullptr;  // the segment being written (io thread)
  std::size_t mapped_size_ = 0;
  std::size_t used_ = 0;
  int fd_ = -1;
  codec::wire::Writer scratch_;
  JournalStats stats_;
  // Shared with the disk thread (disk_mutex_): spares ready, segments to close and files to
  // delete, the descriptor of the segment being written (for msync).
  std::thread disk_thread_;
  std::mutex disk_mutex_;
  std::condition_variable disk_cv_;   // wakes the disk thread
  std::condition_variable spare_cv_;  // a spare is ready
  std::deque<Mapping> spares_;
  std::vector<Mapping> to_close_;
  std::vector<std::string> to_delete_;
  int current_fd_ = -1;
  bool disk_failed_ = false;     // the last spare could not be made (retried each second)
  bool spare_missed_ = false;    // io thread: waited in vain once; no more waits until one comes
  std::uint64_t next_name_ = 1;  // of the next spare: names only order segments
  bool stopping_ = false;
};

}  // namespace bgpscribe::collector
