#include "exporters/api/framed_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "codec/wire/reader.hpp"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace bgpscribe::exporters {

namespace {

// ---- CRC-32C ----------------------------------------------------------------------------------

// Reflected Castagnoli polynomial; slice-by-8 tables for CPUs without the instruction.
constexpr std::uint32_t kCastagnoli = 0x82F63B78;

using CrcTables = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr CrcTables make_tables() {
  CrcTables t{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) {
      c = (c & 1) != 0 ? (c >> 1) ^ kCastagnoli : c >> 1;
    }
    t[0][n] = c;
  }
  for (std::size_t k = 1; k < 8; ++k) {
    for (std::size_t n = 0; n < 256; ++n) {
      t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xff];
    }
  }
  return t;
}

constexpr CrcTables kTables = make_tables();

std::uint32_t le32(std::span<const std::uint8_t> b, std::size_t at) {
  return std::uint32_t{b[at]} | (std::uint32_t{b[at + 1]} << 8) | (std::uint32_t{b[at + 2]} << 16) |
         (std::uint32_t{b[at + 3]} << 24);
}

std::uint32_t crc32c_software(std::span<const std::uint8_t> b, std::uint32_t c) {
  std::size_t i = 0;
  for (; b.size() - i >= 8; i += 8) {
    const std::uint32_t lo = c ^ le32(b, i);
    const std::uint32_t hi = le32(b, i + 4);
    c = kTables[7][lo & 0xff] ^ kTables[6][(lo >> 8) & 0xff] ^ kTables[5][(lo >> 16) & 0xff] ^
        kTables[4][lo >> 24] ^ kTables[3][hi & 0xff] ^ kTables[2][(hi >> 8) & 0xff] ^
        kTables[1][(hi >> 16) & 0xff] ^ kTables[0][hi >> 24];
  }
  for (; i < b.size(); ++i) {
    c = kTables[0][(c ^ b[i]) & 0xff] ^ (c >> 8);
  }
  return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::span<const std::uint8_t> b,
                                                             std::uint32_t c) {
  std::uint64_t c64 = c;
  std::size_t i = 0;
  for (; b.size() - i >= 8; i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, b.subspan(i, 8).data(), 8);  // little-endian, as the instruction reads
    c64 = _mm_crc32_u64(c64, word);
  }
  auto c32 = static_cast<std::uint32_t>(c64);
  for (; i < b.size(); ++i) {
    c32 = _mm_crc32_u8(c32, b[i]);
  }
  return c32;
}

const bool kHaveSse42 = __builtin_cpu_supports("sse4.2");
#endif

// ---- Layout -----------------------------------------------------------------------------------

constexpr std::array<std::uint8_t, 4> kBgps{'B', 'G', 'P', 'S'};
constexpr std::size_t kTagAt = 4;
constexpr std::size_t kVersionAt = 8;
constexpr std::size_t kFlagsAt = 10;
constexpr std::size_t kHeaderCrcAt = 12;
// What a writer keeps before handing it to the kernel (FramedFileWriter).
constexpr std::size_t kBufferBytes = std::size_t{16} << 10;

// `tag` for a message: its printable characters, others as '?'.
std::string printable(std::span<const std::uint8_t> tag) {
  std::string s;
  for (const auto c : tag) {
    s += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?';
  }
  return s;
}

std::uint32_t entry_crc(std::span<const std::uint8_t> length_field,
                        std::span<const std::uint8_t> payload) {
  return crc32c(payload, crc32c(length_field));
}

bool all_zero(std::span<const std::uint8_t> b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c == 0; });
}

}  // namespace

std::uint32_t crc32c(std::span<const std::uint8_t> bytes, std::uint32_t crc) {
#if defined(__x86_64__)
  if (kHaveSse42) {
    return ~crc32c_sse42(bytes, ~crc);
  }
#endif
  return ~crc32c_software(bytes, ~crc);
}

std::uint32_t crc32c_portable(std::span<const std::uint8_t> bytes, std::uint32_t crc) {
  return ~crc32c_software(bytes, ~crc);
}

// ---- Writing into memory ----------------------------------------------------------------------

void put_framed_header(codec::wire::Writer& w, const FramedKind& kind) {
  assert(kind.tag.size() == 4);
  const std::size_t at = w.size();
  w.bytes(kBgps);
  w.bytes(codec::wire::text_bytes(kind.tag).first(4));
  w.u16(kind.version);
  w.u16(0);  // flags: none defined
  w.u32(crc32c(w.bytes().subspan(at, kHeaderCrcAt)));
}

std::size_t begin_framed_entry(codec::wire::Writer& w) {
  const std::size_t at = w.placeholder_u32();
  (void)w.placeholder_u32();
  return at;
}

void end_framed_entry(codec::wire::Writer& w, std::size_t at) {
  const std::size_t length = w.since(at) - kFramedEntryHeaderBytes;
  w.patch_u32(at, static_cast<std::uint32_t>(length));
  const auto bytes = w.bytes();
  w.patch_u32(at + 4, entry_crc(bytes.subspan(at, 4), bytes.subspan(at + 8, length)));
}

void put_framed_entry(codec::wire::Writer& w, std::span<const std::uint8_t> payload) {
  const std::size_t at = begin_framed_entry(w);
  w.bytes(payload);
  end_framed_entry(w, at);
}

bool starts_framed(std::span<const std::uint8_t> file) {
  return file.size() >= kBgps.size() && std::equal(kBgps.begin(), kBgps.end(), file.begin());
}

// ---- Appending to a file ----------------------------------------------------------------------

std::optional<FramedFileWriter> FramedFileWriter::create(const std::string& path,
                                                         const FramedKind& kind,
                                                         std::string& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot create " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  FramedFileWriter f(fd, path);
  put_framed_header(f.buffer_, kind);
  if (!f.flush()) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  return f;
}

FramedFileWriter::FramedFileWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {
  buffer_.reserve(kBufferBytes + 4096);
}

FramedFileWriter::FramedFileWriter(FramedFileWriter&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      buffer_(std::move(other.buffer_)),
      written_(other.written_),
      entries_(other.entries_),
      buffered_(other.buffered_) {}

FramedFileWriter& FramedFileWriter::operator=(FramedFileWriter&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    buffer_ = std::move(other.buffer_);
    written_ = other.written_;
    entries_ = other.entries_;
    buffered_ = other.buffered_;
  }
  return *this;
}

FramedFileWriter::~FramedFileWriter() {
  close();
}

bool FramedFileWriter::append(std::span<const std::uint8_t> payload) {
  put_framed_entry(buffer_, payload);
  ++entries_;
  ++buffered_;
  return buffer_.size() < kBufferBytes || flush();
}

bool FramedFileWriter::flush() {
  if (fd_ < 0) {
    return false;
  }
  const auto bytes = buffer_.bytes();
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd_, bytes.subspan(done).data(), bytes.size() - done,
                               static_cast<off_t>(written_ + done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      // Cut back to the last whole entry, so that later entries follow it and not a piece.
      const int e = n < 0 ? errno : ENOSPC;
      (void)::ftruncate(fd_, static_cast<off_t>(written_));
      buffer_.clear();
      entries_ -= buffered_;
      buffered_ = 0;
      errno = e;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  written_ += bytes.size();
  buffer_.clear();
  buffered_ = 0;
  return true;
}

bool FramedFileWriter::sync() {
  return flush() && ::fdatasync(fd_) == 0;
}

bool FramedFileWriter::close() {
  if (fd_ < 0) {
    return true;
  }
  const bool ok = flush();
  ::close(fd_);
  fd_ = -1;
  return ok;
}

// ---- Reading ----------------------------------------------------------------------------------

FramedReader::FramedReader(std::span<const std::uint8_t> file, const FramedKind& kind)
    : file_(file) {
  assert(kind.tag.size() == 4);
  std::array<std::uint8_t, 8> magic{};
  std::copy(kBgps.begin(), kBgps.end(), magic.begin());
  const auto tag = codec::wire::text_bytes(kind.tag).first(4);
  std::copy(tag.begin(), tag.end(), magic.begin() + kTagAt);
  const std::string name = "bgpscribe \"" + std::string(kind.tag) + "\" file";
  if (file.size() < kFramedHeaderBytes) {
    // Cut short before its header was whole (a crash just after the file was created).
    const std::size_t n = std::min(file.size(), magic.size());
    if (!std::equal(magic.begin(), magic.begin() + static_cast<std::ptrdiff_t>(n), file.begin())) {
      error_ = "not a " + name + " (bad magic)";
      return;
    }
    (void)finish(file.empty() ? FramedEnd::Clean : FramedEnd::Torn, 0);
    return;
  }
  if (!starts_framed(file)) {
    error_ = "not a " + name + " (bad magic)";
    return;
  }
  if (!std::equal(magic.begin() + kTagAt, magic.end(), file.begin() + kTagAt)) {
    error_ = "a bgpscribe \"" + printable(file.subspan(kTagAt, 4)) + "\" file, not a " + name;
    return;
  }
  if (crc32c(file.first(kHeaderCrcAt)) != codec::wire::load_u32(file, kHeaderCrcAt)) {
    error_ = "damaged header (CRC-32C mismatch)";
    return;
  }
  version_ = codec::wire::load_u16(file, kVersionAt);
  const std::uint16_t flags = codec::wire::load_u16(file, kFlagsAt);
  const std::string range =
      kind.oldest == kind.version
          ? "version " + std::to_string(kind.version)
          : "versions " + std::to_string(kind.oldest) + " to " + std::to_string(kind.version);
  if (version_ > kind.version) {
    error_ = "format version " + std::to_string(version_) + " of the " + name +
             " was written by a newer bgpscribe: this one reads " + range;
    return;
  }
  if (version_ < kind.oldest) {
    error_ = "format version " + std::to_string(version_) + " of the " + name +
             " is not one this bgpscribe reads (" + range + ")";
    return;
  }
  if (flags != 0) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "%04x", flags);
    error_ = std::string("header flags 0x") + hex + " unknown to this bgpscribe";
    return;
  }
  pos_ = kFramedHeaderBytes;
}

std::optional<FramedEntry> FramedReader::finish(FramedEnd end, std::size_t at) {
  done_ = true;
  end_ = end;
  end_offset_ = at;
  return std::nullopt;
}

std::optional<FramedEntry> FramedReader::next() {
  if (done_ || !ok()) {
    return std::nullopt;
  }
  for (;;) {
    const std::size_t at = pos_;
    const std::size_t rest = file_.size() - at;
    if (rest == 0) {
      return finish(FramedEnd::Clean, at);
    }
    if (rest < kFramedEntryHeaderBytes) {
      return finish(all_zero(file_.subspan(at)) ? FramedEnd::Zeros : FramedEnd::Torn, at);
    }
    const std::uint32_t length = codec::wire::load_u32(file_, at);
    const std::uint32_t crc = codec::wire::load_u32(file_, at + 4);
    // An entry's CRC is never 0 with length 0 (that of four zero octets is 0x48674bc7): an
    // all-zero header is where nothing was written.
    if (length == 0 && crc == 0 && all_zero(file_.subspan(at))) {
      return finish(FramedEnd::Zeros, at);
    }
    if (length > rest - kFramedEntryHeaderBytes) {
      return finish(FramedEnd::Torn, at);
    }
    const auto payload = file_.subspan(at + kFramedEntryHeaderBytes, length);
    if (entry_crc(file_.subspan(at, 4), payload) == crc) {
      pos_ = at + kFramedEntryHeaderBytes + length;
      last_damaged_ = false;
      return FramedEntry{at, payload};
    }
    if (last_damaged_) {
      // After a damaged entry its length may be wrong too: this one is not where an entry
      // starts, and the rest of the file cannot be found.
      return finish(FramedEnd::Unreadable, at);
    }
    damage_.push_back({at, length});
    last_damaged_ = true;
    pos_ = at + kFramedEntryHeaderBytes + length;
  }
}

std::vector<std::string> FramedReader::problems(std::string_view file) const {
  std::vector<std::string> out;
  const std::string f(file);
  for (const auto& d : damage_) {
    out.push_back(f + ": entry at offset " + std::to_string(d.offset) + " (" +
                  std::to_string(d.length) + " bytes) is damaged (CRC-32C mismatch): skipped");
  }
  const std::size_t rest = file_.size() - end_offset_;
  if (end_ == FramedEnd::Torn) {
    out.push_back(f + ": entry at offset " + std::to_string(end_offset_) +
                  " is cut short (a torn tail: " + std::to_string(rest) + " bytes to the end)");
  } else if (end_ == FramedEnd::Unreadable) {
    out.push_back(f + ": entry at offset " + std::to_string(end_offset_) +
                  " is damaged too, after the one before it: the last " + std::to_string(rest) +
                  " bytes are not read");
  }
  return out;
}

}  // namespace bgpscribe::exporters
