// Decompressed byte sources behind FileReader: raw input, sequential decoders (plain, gzip,
// bzip2) and chunk sources (on the caller's thread, on a producer thread, parallel bzip2).
//
// Internal to codec/mrt (file.cpp, source.cpp, bzip2_parallel.cpp); not a public API. This is
// the codec's only I/O; it never throws on input and reports failures as SourceError values.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "codec/wire/reader.hpp"
#include "codec/wire/result.hpp"

namespace bgpscribe::codec::mrt::detail {

using Bytes = wire::Bytes;

inline constexpr std::uint64_t kBlockMagic = 0x314159265359ULL;  // bzip2 block header (pi)
inline constexpr std::uint64_t kEndMagic = 0x177245385090ULL;    // bzip2 end of stream (sqrt pi)
inline constexpr std::size_t kInputBufferSize = std::size_t{1} << 20;

// What went wrong below the record layer.
struct SourceError {
  bool failed = false;
  ErrorKind kind = ErrorKind::Truncated;
  const char* message = "";
  int system_error = 0;
};

// --- raw input ------------------------------------------------------------------------------

// A file descriptor with a small push-back area for the detection bytes.
class Input {
 public:
  Input() = default;
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;
  ~Input() { close(); }

  bool open(const std::string& path) {
    if (path == "-") {
      fd_ = STDIN_FILENO;
      owned_ = false;
    } else {
      fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      owned_ = true;
      if (fd_ < 0) {
        return false;
      }
      struct stat st {};
      regular_ = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
#ifdef POSIX_FADV_SEQUENTIAL
      ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    path_ = path;
    return true;
  }
  void close() {
    if (owned_ && fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = -1;
  }
  [[nodiscard]] bool regular() const {
    return regular_;
  }
  [[nodiscard]] const std::string& path() const {
    return path_;
  }

  // Reads up to out.size() bytes; 0 at the end; -1 on failure (errno in error()).
  std::ptrdiff_t read(std::span<std::uint8_t> out) {
    if (pushback_pos_ < pushback_.size()) {
      const std::size_t take = std::min(out.size(), pushback_.size() - pushback_pos_);
      std::copy_n(pushback_.begin() + static_cast<std::ptrdiff_t>(pushback_pos_), take,
                  out.begin());
      pushback_pos_ += take;
      return static_cast<std::ptrdiff_t>(take);
    }
    for (;;) {
      const ssize_t got = ::read(fd_, out.data(), out.size());
      if (got >= 0) {
        return got;
      }
      if (errno != EINTR) {
        errno_ = errno;
        return -1;
      }
    }
  }
  // Reads until out is full or the input ends; returns the count, -1 on failure.
  std::ptrdiff_t read_full(std::span<std::uint8_t> out) {
    std::size_t have = 0;
    while (have < out.size()) {
      const std::ptrdiff_t got = read(out.subspan(have));
      if (got < 0) {
        return -1;
      }
      if (got == 0) {
        break;
      }
      have += static_cast<std::size_t>(got);
    }
    return static_cast<std::ptrdiff_t>(have);
  }
  // Reads the first bytes for detection and keeps them for the decoder.
  bool peek_head(std::size_t n) {
    std::vector<std::uint8_t> head(n);
    pushback_.clear();
    pushback_pos_ = 0;
    const std::ptrdiff_t got = read_full(head);
    if (got < 0) {
      return false;
    }
    head.resize(static_cast<std::size_t>(got));
    pushback_ = std::move(head);
    return true;
  }
  [[nodiscard]] Bytes head() const {
    return pushback_;
  }
  [[nodiscard]] int error() const {
    return errno_;
  }

 private:
  int fd_ = -1;
  bool owned_ = false;
  bool regular_ = false;
  std::string path_;
  std::vector<std::uint8_t> pushback_;
  std::size_t pushback_pos_ = 0;
  int errno_ = 0;
};

// Fills caller buffers with uncompressed bytes; read() returns 0 at the end or on failure.
class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual std::size_t read(std::span<std::uint8_t> out) = 0;
  [[nodiscard]] const SourceError& error() const { return error_; }

 protected:
  void set_error(ErrorKind kind, const char* message, int sys = 0) {
    if (!error_.failed) {
      error_ = SourceError{true, kind, message, sys};
    }
  }
  SourceError error_;
};

class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  // The next chunk; the previous one is released. False at the end or on failure.
  virtual bool next(Bytes& chunk) = 0;
  [[nodiscard]] virtual SourceError error() const = 0;
  [[nodiscard]] virtual bool parallel() const { return false; }
};

inline bool is_bzip2_header(Bytes p) {
  return p.size() >= 4 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9';
}

// Sequential decoders reading from `in` (which must outlive them).
std::unique_ptr<Decoder> make_plain_decoder(Input& in);
std::unique_ptr<Decoder> make_gzip_decoder(Input& in);
std::unique_ptr<Decoder> make_bzip2_decoder(Input& in);
// Drops the first `skip` bytes of `inner`.
std::unique_ptr<Decoder> make_skipping_decoder(std::unique_ptr<Decoder> inner, std::uint64_t skip);

// Chunk sources over a decoder: on the caller's thread, or on a producer thread.
std::unique_ptr<ChunkSource> make_direct_chunks(std::unique_ptr<Decoder> decoder,
                                                std::size_t chunk_size);
std::unique_ptr<ChunkSource> make_threaded_chunks(std::unique_ptr<Decoder> decoder,
                                                  std::size_t chunk_size);
// bzip2 blocks decoded by `threads` workers, in order, falling back to sequential libbz2 by
// reopening in.path() (so `in` must be a named regular file).
std::unique_ptr<ChunkSource> make_parallel_bzip2_chunks(Input& in, unsigned threads,
                                                        std::size_t chunk_size);

}  // namespace bgpscribe::codec::mrt::detail
