// Crash-safe MRT output files: written as a ".partial" temporary beside the final name, flushed
// to the OS at record boundaries, fsync'd and renamed when complete; and the recovery of
// temporaries a crash left behind.
//
// Compression and record I/O go through codec::mrt::FileWriter and FileReader. This module owns
// the file-system rules (names, fsync, rename) and the retry on write errors; it knows nothing
// about BGP or about when a file should end (the exporter decides that).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec/mrt/file.hpp"
#include "codec/wire/writer.hpp"
#include "exporters/mrt/metrics.hpp"

namespace bgpscribe::exporters::mrt {

// One line to the operator (stderr in the exporter), without a trailing newline.
using LogFn = std::function<void(const std::string& line)>;

// A temporary that a write error made us give up: it holds `records` whole records (more bytes
// may follow, unfinished) and becomes a finished file by recovery.
struct Abandoned {
  std::filesystem::path partial;
  std::filesystem::path final_path;
  std::uint64_t records = 0;
};

// A sequence of output files: records are encoded into buffer(), handed to the current file by
// sync() (one compressed flush point per sync, so a crash loses only what came after the last
// sync), and finish() completes the file. After a write error the broken temporary is put aside
// (abandoned()) and the unsynced records are written again into a fresh continuation file, so
// no record is lost while the disk recovers.
class FileStream {
 public:
  FileStream(std::string what, codec::mrt::WriterOptions options, LogFn log, Metrics& metrics);
  ~FileStream();
  FileStream(const FileStream&) = delete;
  FileStream& operator=(const FileStream&) = delete;

  // Data from now on belongs to a file named `final_path` (or its first free continuation
  // name); the current file, if any, is finished first. The file is created at the first sync.
  void begin(const std::filesystem::path& final_path);
  [[nodiscard]] bool has_name() const { return !wanted_.empty(); }

  codec::wire::Writer& buffer() { return pending_; }
  void added(std::uint64_t records = 1) { pending_records_ += records; }
  [[nodiscard]] std::size_t pending_bytes() const { return pending_.size(); }
  [[nodiscard]] std::uint64_t pending_records() const { return pending_records_; }

  // Writes the buffer to the current file and flushes it to the OS. False on a write error:
  // the buffer is kept for the next try.
  bool sync();
  // sync, end the compressed stream, fsync, rename to the final name. False on an error: the
  // temporary is abandoned and unsynced records stay buffered for the next file.
  bool finish();
  // Removes the current temporary without finishing it and forgets the buffer.
  void discard();
  [[nodiscard]] bool failing() const { return failing_; }
  // What the last write error was ("write: No space left on device"), while failing().
  [[nodiscard]] const std::string& last_error() const { return last_error_; }
  [[nodiscard]] const std::filesystem::path& current_path() const { return final_; }

  std::vector<Abandoned> take_abandoned() { return std::move(abandoned_); }

  // Called just before buffered records are written to a file: its temporary, the records it
  // holds before the write and after it. The exporter keeps its journal position with it.
  using BeforeWrite =
      std::function<void(const std::filesystem::path& partial, std::uint64_t records_before,
                         std::uint64_t records_after)>;
  void set_before_write(BeforeWrite f) { before_write_ = std::move(f); }

 private:
  bool open_file();
  void abandon(const char* what, int error);

  std::string what_;
  codec::mrt::WriterOptions options_;          // of the finished file
  codec::mrt::WriterOptions partial_options_;  // of the temporary (gzip for bzip2 files)
  LogFn log_;
  Metrics& metrics_;
  std::filesystem::path wanted_;  // the name asked for by begin()
  std::filesystem::path final_;   // the name in use (wanted_ or a continuation), empty: no file
  std::unique_ptr<codec::mrt::FileWriter> writer_;
  codec::wire::Writer pending_;
  std::uint64_t pending_records_ = 0;
  std::uint64_t file_records_ = 0;  // synced into the current file
  std::uint64_t file_bytes_ = 0;    // uncompressed
  bool failing_ = false;
  BeforeWrite before_write_;
  std::string last_error_;
  std::vector<Abandoned> abandoned_;
};

struct RecoveryResult {
  bool ok = false;                  // false: nothing was changed (see problem)
  std::filesystem::path output;     // empty when the temporary held no whole record
  std::uint64_t records = 0;        // written to `output`
  std::uint64_t bytes = 0;          // uncompressed bytes of those records
  std::uint64_t dropped_bytes = 0;  // uncompressed bytes after the last whole record
  bool rib = false;                 // a TABLE_DUMP_V2 dump (named *.incomplete.*)
  std::string problem;
};

// Turns the temporary `partial` into a finished file: its records up to the last whole one (at
// most `max_records`) are written into `final_path`, or its first free continuation name when
// taken (a RIB dump becomes "<name>.incomplete.<ext>"), via a ".recovering" temporary, fsync
// and rename; then `partial` is removed. The output keeps the temporary's compression, except
// that options.compression == Bzip2 compresses it to bzip2 (bzip2 files have gzip temporaries).
// `complete`: the temporary was finished normally (no "incomplete" tag for a RIB dump).
RecoveryResult recover_partial(const std::filesystem::path& partial,
                               const std::filesystem::path& final_path,
                               std::optional<std::uint64_t> max_records,
                               const codec::mrt::WriterOptions& options, bool complete = false);

// Recovers every ".<name>.partial" under `directory` (recursively) and removes stale
// ".recovering" temporaries; one log line per file. A temporary named in `limits` keeps at most
// that many records (the rest were a write that the journal gives again).
void recover_directory(const std::filesystem::path& directory,
                       const codec::mrt::WriterOptions& gzip_options,
                       const codec::mrt::WriterOptions& bzip2_options, const LogFn& log,
                       Metrics& metrics,
                       const std::map<std::filesystem::path, std::uint64_t>& limits = {});

// The whole MRT records readable from a file (a temporary cut short included).
std::uint64_t count_records(const std::filesystem::path& path);

// Renames without replacing (RENAME_NOREPLACE); when `to` appeared meanwhile, the first free
// continuation name is used. Returns the name used, empty on failure (errno set). fsyncs the
// directory afterwards.
std::filesystem::path durable_rename(const std::filesystem::path& from,
                                     const std::filesystem::path& to);

}  // namespace bgpscribe::exporters::mrt
