// Streaming MRT files: plain, gzip or bzip2 in, one record at a time out; and the writer side.
//
// This is the codec's only I/O (STYLE.md section 1). Compression is detected by magic bytes, not
// by name. Memory stays bounded: decompressed bytes arrive in chunks from a small ring, a record
// is handed out as a span into its chunk (or into one reused buffer when it straddles two), and
// spans stay valid until the next call. Decompression runs on a producer thread; bzip2 files are
// split at block boundaries and decoded on several threads, in order. Record bytes are framed
// here and parsed by the pure parsers of record.hpp; nothing here throws on input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "codec/mrt/record.hpp"

namespace bgpscribe::codec::mrt {

enum class Compression : std::uint8_t { None, Gzip, Bzip2 };
const char* to_string(Compression compression);
// By magic bytes: 1f 8b 08 (RFC 1952), "BZh" + level + block or end-of-stream magic.
Compression detect_compression(Bytes head);

// A failure of the stream, with its place in the uncompressed bytes (which can exceed 4 GiB).
struct StreamError {
  ErrorKind kind = ErrorKind::Truncated;
  const char* message = "";        // static, says what happened to the records
  const char* detail = "";         // static, the decompressor's or system's view ("" when none)
  std::uint64_t offset = 0;        // uncompressed byte offset of the failing record (or of the end)
  std::uint64_t record_index = 0;  // index the failing record has
  int system_error = 0;            // errno for I/O failures
  bool skippable = false;          // the length still frames the record: skip() continues
};

struct ReaderOptions {
  bool threaded = true;        // decompress on a producer thread while the caller parses
  bool parallel_bzip2 = true;  // decode bzip2 blocks on several threads (named regular files)
  unsigned threads = 0;        // bzip2 block workers; 0: hardware concurrency, at least 2
  std::size_t chunk_size = std::size_t{1} << 20;
  std::uint32_t max_record_length = kMaxRecordLength;
};

struct FileRecord {
  Record record;             // spans valid until the next next()/skip()/close()
  std::uint64_t index = 0;   // 0-based position in the file
  std::uint64_t offset = 0;  // byte offset of the record in the uncompressed stream
};

// Decompressed bytes, chunk by chunk: what FileReader frames records from, also usable alone
// (to checksum or time the decompression).
class ChunkReader {
 public:
  ChunkReader();
  ~ChunkReader();
  ChunkReader(const ChunkReader&) = delete;
  ChunkReader& operator=(const ChunkReader&) = delete;

  // Opens a path, or "-" for stdin.
  [[nodiscard]] Status open(const std::string& path, const ReaderOptions& options = {});
  // The next chunk, valid until the next call; false at the end or on failure (see error()).
  [[nodiscard]] bool next(Bytes& chunk);
  // Null at a clean end. `offset` is the number of bytes delivered before the failure.
  [[nodiscard]] const StreamError* error() const;
  [[nodiscard]] Compression compression() const;
  // True while bzip2 blocks are decoded in parallel (false after a fallback to sequential).
  [[nodiscard]] bool parallel() const;
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Usage:
//   FileReader reader;
//   if (auto st = reader.open(path); !st) { ... st.error() ... }
//   FileRecord rec;
//   while (reader.next(rec)) { use rec.record, rec.index, rec.offset }
//   if (const StreamError* e = reader.error()) { report; if (e->skippable) reader.skip(); ... }
class FileReader {
 public:
  FileReader();
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  [[nodiscard]] Status open(const std::string& path, const ReaderOptions& options = {});
  // The next whole record; false at the end of the stream or at an error (then error() is set
  // and every record before it has been delivered).
  [[nodiscard]] bool next(FileRecord& out);
  [[nodiscard]] const StreamError* error() const;
  // After a skippable error (oversized or malformed length): discards that record and lets
  // next() continue. False when the stream ends inside it.
  bool skip();
  [[nodiscard]] Compression compression() const;
  [[nodiscard]] const ChunkReader& chunks() const;
  void close();

 private:
  bool fetch();
  bool fail_at(ErrorKind kind, const char* message, bool skippable);
  bool fail_broken(const Error& framing);
  bool discard_skipped();  // false when the stream ends first

  ChunkReader chunks_;
  ReaderOptions options_;
  Bytes chunk_;
  std::size_t pos_ = 0;
  bool source_done_ = false;
  std::vector<std::uint8_t> record_buf_;
  std::uint64_t offset_ = 0;
  std::uint64_t index_ = 0;
  std::uint64_t skip_left_ = 0;
  std::uint64_t skip_size_ = 0;
  bool failed_ = false;
  StreamError error_;
};

struct WriterOptions {
  Compression compression = Compression::None;
  // gzip 1-9 (zlib's default 6; 1 is ISA-L's igzip level 1, 2-9 are zlib's); bzip2 block size
  // 1-9 (we use 9 when 6 is given)
  int level = 6;
  std::size_t buffer_size = std::size_t{1} << 20;
};

// Writes records (or any bytes) to a path or "-" (stdout), compressed as asked.
class FileWriter {
 public:
  FileWriter();
  ~FileWriter();  // closes, ignoring errors: call close() to see them
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  [[nodiscard]] Status open(const std::string& path, const WriterOptions& options = {});
  [[nodiscard]] Status write(Bytes bytes);
  // Pushes everything written so far to the OS (gzip sync flush, bzip2 block end).
  [[nodiscard]] Status flush();
  // Ends the compressed stream and closes the file.
  [[nodiscard]] Status close();
  [[nodiscard]] int system_error() const { return errno_; }
  [[nodiscard]] std::uint64_t bytes_in() const { return bytes_in_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int errno_ = 0;
  std::uint64_t bytes_in_ = 0;
};

}  // namespace bgpscribe::codec::mrt
