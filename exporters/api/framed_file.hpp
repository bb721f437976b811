// Framed files: the one on-disk framing of bgpscribe's spools (the collector's overflow spool,
// the postgres exporter's batch files). A 16-byte header names the content kind and its version;
// then entries, each its payload's length, a CRC-32C of length and payload, and the payload.
// The reader refuses a file of another kind or a newer version with a message that says so,
// stops at a cut-short last entry (a torn tail) without taking it for damage, and reports each
// entry whose CRC fails by its offset. Byte layout and the reasons for CRC-32C: docs/formats.md.
//
// When an entry is durable: FramedFileWriter::append buffers; flush() hands the buffer to the
// kernel (it then survives the process, killed or not); sync() also fdatasyncs (it survives a
// power loss). Nothing is synced behind the caller's back. What a crash can leave: the file
// cut anywhere after its last synced entry (any prefix of what was written, or, on filesystems
// that extend the size before writing the data, zeros at the end), never a changed entry
// before it. Files written whole go through replace_file (files.hpp) and are all or nothing.
// This module knows no payloads and never deletes or renames a file.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codec/wire/writer.hpp"

namespace bgpscribe::exporters {

// CRC-32C (Castagnoli, as in iSCSI, ext4 and LevelDB) of `bytes`, continuing from `crc` (the
// value of the bytes before them; 0 to start). Uses SSE 4.2 where the CPU has it.
std::uint32_t crc32c(std::span<const std::uint8_t> bytes, std::uint32_t crc = 0);
// The same from tables, as on CPUs without the instruction (tests compare the two).
std::uint32_t crc32c_portable(std::span<const std::uint8_t> bytes, std::uint32_t crc = 0);

inline constexpr std::size_t kFramedHeaderBytes = 16;
inline constexpr std::size_t kFramedEntryHeaderBytes = 8;

// What a file holds: `tag` is 4 ASCII characters after "BGPS" in the magic ("SPOL": collector
// spool segments, "PGBT": postgres batches); files are written at `version`; a reader takes
// `oldest` to `version` and refuses newer ones.
struct FramedKind {
  std::string_view tag;
  std::uint16_t version = 1;
  std::uint16_t oldest = 1;
};

// ---- Writing into memory (a whole file, then replace_file) --------------------------------

// Appends the 16-byte header of `kind` at `kind.version`.
void put_framed_header(codec::wire::Writer& w, const FramedKind& kind);
// An entry built in place: begin writes the entry header's placeholder and returns where it
// is; the payload follows in `w`; end fills in its length and CRC.
std::size_t begin_framed_entry(codec::wire::Writer& w);
void end_framed_entry(codec::wire::Writer& w, std::size_t at);
void put_framed_entry(codec::wire::Writer& w, std::span<const std::uint8_t> payload);

// ---- Appending to a file --------------------------------------------------------------------

class FramedFileWriter {
 public:
  // Creates `path` (truncating a file of that name) and writes the header; nullopt with
  // `error` set (the file and the system's reason) when it cannot.
  static std::optional<FramedFileWriter> create(const std::string& path, const FramedKind& kind,
                                                std::string& error);
  FramedFileWriter(FramedFileWriter&& other) noexcept;
  FramedFileWriter& operator=(FramedFileWriter&& other) noexcept;
  FramedFileWriter(const FramedFileWriter&) = delete;
  FramedFileWriter& operator=(const FramedFileWriter&) = delete;
  ~FramedFileWriter();  // close()

  // Adds an entry to the buffer, writing the buffer out when it is full. False when a write
  // failed: the file is cut back to the last entry written whole and the buffered entries,
  // this one included, are lost (later appends may succeed again).
  bool append(std::span<const std::uint8_t> payload);
  bool flush();  // the buffer to the kernel: survives the process
  bool sync();   // flush() and fdatasync: survives the machine
  bool close();  // flush() and close; false when the last write failed

  [[nodiscard]] std::uint64_t bytes() const { return written_ + buffer_.size(); }  // header too
  [[nodiscard]] std::uint64_t entries() const { return entries_; }  // appended and not lost

 private:
  FramedFileWriter(int fd, std::string path);
  int fd_ = -1;
  std::string path_;
  codec::wire::Writer buffer_;
  std::uint64_t written_ = 0;   // bytes in the file, every one of them part of a whole entry
  std::uint64_t entries_ = 0;   // in the file and the buffer
  std::uint64_t buffered_ = 0;  // in the buffer
};

// ---- Reading --------------------------------------------------------------------------------

// How the entries of a file ended.
enum class FramedEnd : std::uint8_t {
  Clean,       // the last entry ends the file
  Zeros,       // zero bytes from end_offset() on: nothing was written there (preallocated
               // space, or a size extended by a crash before the data reached the disk)
  Torn,        // the entry at end_offset() runs past the end of the file: cut short
  Unreadable,  // two damaged entries in a row, the second at end_offset(): lost the thread
};

struct FramedDamage {
  std::uint64_t offset = 0;  // of the entry's header in the file
  std::uint32_t length = 0;  // what its length field says
};

struct FramedEntry {
  std::uint64_t offset = 0;  // of the entry's header in the file
  std::span<const std::uint8_t> payload;
};

// Walks the entries of a whole file's bytes. A damaged entry (CRC mismatch) is skipped by its
// length and noted in damage(); the walk goes on after it unless the next entry is damaged too.
class FramedReader {
 public:
  FramedReader(std::span<const std::uint8_t> file, const FramedKind& kind);

  // False when the header is refused: not a bgpscribe file of `kind`, its header damaged, or a
  // version this code does not read; error() says which. A file shorter than a header whose
  // bytes begin one of `kind` is accepted with no entries (ended Torn, or Clean when empty).
  [[nodiscard]] bool ok() const { return error_.empty(); }
  [[nodiscard]] const std::string& error() const { return error_; }
  [[nodiscard]] std::uint16_t version() const { return version_; }

  // The next whole entry whose CRC checks; nullopt at the end (and always when !ok()).
  std::optional<FramedEntry> next();

  // Once next() returned nullopt.
  [[nodiscard]] FramedEnd end() const { return end_; }
  [[nodiscard]] std::uint64_t end_offset() const { return end_offset_; }
  [[nodiscard]] const std::vector<FramedDamage>& damage() const { return damage_; }
  // One line per damaged entry and one for a Torn or Unreadable end, each naming `file` and the
  // offset, for logs.
  [[nodiscard]] std::vector<std::string> problems(std::string_view file) const;

 private:
  std::optional<FramedEntry> finish(FramedEnd end, std::size_t at);
  std::span<const std::uint8_t> file_;
  std::string error_;
  std::uint16_t version_ = 0;
  std::size_t pos_ = 0;
  bool done_ = false;
  bool last_damaged_ = false;
  FramedEnd end_ = FramedEnd::Clean;
  std::uint64_t end_offset_ = 0;
  std::vector<FramedDamage> damage_;
};

// Whether `file` begins with the "BGPS" of a framed header. The formats that came before the
// framing without a header of their own (version 1 collector spool segments) cannot begin so.
bool starts_framed(std::span<const std::uint8_t> file);

}  // namespace bgpscribe::exporters
