// Streaming MRT files: input and decompression (plain, gzip, bzip2 sequential and parallel),
// record framing over chunks, and the compressing writer.
#include "codec/mrt/file.hpp"

#include <bzlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <span>
#include <thread>

namespace bgpscribe::codec::mrt {
namespace {

constexpr std::uint64_t kBlockMagic = 0x314159265359ULL;  // bzip2 block header (pi)
constexpr std::uint64_t kEndMagic = 0x177245385090ULL;    // bzip2 end of stream (sqrt pi)
constexpr std::size_t kInputBufferSize = std::size_t{1} << 20;

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

// --- sequential decoders --------------------------------------------------------------------

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

class PlainDecoder final : public Decoder {
 public:
  explicit PlainDecoder(Input& in) : in_(in) {}
  std::size_t read(std::span<std::uint8_t> out) override {
    const std::ptrdiff_t got = in_.read_full(out);
    if (got < 0) {
      set_error(ErrorKind::Truncated, "read failed", in_.error());
      return 0;
    }
    return static_cast<std::size_t>(got);
  }

 private:
  Input& in_;
};

// RFC 1952, members concatenated as gzip(1) allows; trailing garbage is ignored like gzip does.
class GzipDecoder final : public Decoder {
 public:
  explicit GzipDecoder(Input& in) : in_(in), buf_(kInputBufferSize) {
    // 15 + 16: gzip wrapper only.
    ok_ = inflateInit2(&z_, 15 + 16) == Z_OK;
    if (!ok_) {
      set_error(ErrorKind::Unsupported, "zlib initialisation failed");
    }
  }
  ~GzipDecoder() override {
    if (ok_) {
      inflateEnd(&z_);
    }
  }
  GzipDecoder(const GzipDecoder&) = delete;
  GzipDecoder& operator=(const GzipDecoder&) = delete;

  std::size_t read(std::span<std::uint8_t> out) override {
    if (!ok_ || done_ || error_.failed) {
      return 0;
    }
    z_.next_out = out.data();
    z_.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size(), 1U << 30));
    const uInt want = z_.avail_out;
    while (z_.avail_out > 0) {
      if (z_.avail_in == 0 && !eof_) {
        const std::ptrdiff_t got = in_.read(buf_);
        if (got < 0) {
          set_error(ErrorKind::Truncated, "read failed", in_.error());
          break;
        }
        eof_ = got == 0;
        z_.next_in = buf_.data();
        z_.avail_in = static_cast<uInt>(got);
      }
      if (member_end_) {
        if (z_.avail_in == 0) {
          done_ = true;  // eof_ is set here
          break;
        }
        if (*z_.next_in != 0x1f) {
          done_ = true;  // trailing garbage, ignored as gzip(1) does
          break;
        }
        inflateReset(&z_);
        member_end_ = false;
      }
      if (z_.avail_in == 0 && eof_) {
        set_error(ErrorKind::Truncated, "gzip stream truncated");
        break;
      }
      const int ret = inflate(&z_, Z_NO_FLUSH);
      if (ret == Z_STREAM_END) {
        member_end_ = true;
      } else if (ret == Z_BUF_ERROR && z_.avail_in == 0) {
        continue;
      } else if (ret != Z_OK) {
        set_error(ErrorKind::BadValue, "gzip data corrupt");
        break;
      }
    }
    return want - z_.avail_out;
  }

 private:
  Input& in_;
  std::vector<std::uint8_t> buf_;
  z_stream z_{};
  bool ok_ = false;
  bool eof_ = false;
  bool member_end_ = false;
  bool done_ = false;
};

// bzip2 with several concatenated streams (pbzip2, lbzip2 and `cat a.bz2 b.bz2` write them).
class Bzip2Decoder final : public Decoder {
 public:
  explicit Bzip2Decoder(Input& in) : in_(in), buf_(kInputBufferSize) { init(); }
  ~Bzip2Decoder() override {
    if (active_) {
      BZ2_bzDecompressEnd(&s_);
    }
  }
  Bzip2Decoder(const Bzip2Decoder&) = delete;
  Bzip2Decoder& operator=(const Bzip2Decoder&) = delete;

  std::size_t read(std::span<std::uint8_t> out) override {
    if (done_ || error_.failed) {
      return 0;
    }
    // libbz2's API takes char*; these are the same bytes.
    s_.next_out = static_cast<char*>(static_cast<void*>(out.data()));
    s_.avail_out = static_cast<unsigned>(std::min<std::size_t>(out.size(), 1U << 30));
    const unsigned want = s_.avail_out;
    while (s_.avail_out > 0) {
      if (s_.avail_in == 0 && !eof_) {
        const std::ptrdiff_t got = in_.read(buf_);
        if (got < 0) {
          set_error(ErrorKind::Truncated, "read failed", in_.error());
          break;
        }
        eof_ = got == 0;
        s_.next_in = static_cast<char*>(static_cast<void*>(buf_.data()));
        s_.avail_in = static_cast<unsigned>(got);
      }
      if (!active_) {
        if (s_.avail_in == 0) {
          done_ = true;
          break;
        }
        if (*s_.next_in != 'B') {
          done_ = true;  // trailing garbage, ignored as bzip2(1) does
          break;
        }
        if (!init()) {
          break;
        }
      }
      if (s_.avail_in == 0 && eof_) {
        set_error(ErrorKind::Truncated, "bzip2 stream truncated");
        break;
      }
      const int ret = BZ2_bzDecompress(&s_);
      if (ret == BZ_STREAM_END) {
        // Keep the unread input: it may hold the next stream.
        char* next_in = s_.next_in;
        unsigned avail_in = s_.avail_in;
        BZ2_bzDecompressEnd(&s_);
        active_ = false;
        s_.next_in = next_in;
        s_.avail_in = avail_in;
      } else if (ret != BZ_OK) {
        set_error(ErrorKind::BadValue, "bzip2 data corrupt");
        break;
      }
    }
    return want - s_.avail_out;
  }

 private:
  bool init() {
    char* next_in = s_.next_in;
    unsigned avail_in = s_.avail_in;
    char* next_out = s_.next_out;
    unsigned avail_out = s_.avail_out;
    s_ = bz_stream{};
    if (BZ2_bzDecompressInit(&s_, 0, 0) != BZ_OK) {
      set_error(ErrorKind::Unsupported, "libbz2 initialisation failed");
      return false;
    }
    s_.next_in = next_in;
    s_.avail_in = avail_in;
    s_.next_out = next_out;
    s_.avail_out = avail_out;
    active_ = true;
    return true;
  }

  Input& in_;
  std::vector<std::uint8_t> buf_;
  bz_stream s_{};
  bool active_ = false;
  bool eof_ = false;
  bool done_ = false;
};

// Drops the first `skip` bytes of another decoder: the sequential fallback of the parallel
// bzip2 reader resumes where the parallel one stopped.
class SkippingDecoder final : public Decoder {
 public:
  SkippingDecoder(std::unique_ptr<Decoder> inner, std::uint64_t skip)
      : inner_(std::move(inner)), skip_(skip) {}
  std::size_t read(std::span<std::uint8_t> out) override {
    while (skip_ > 0) {
      const std::size_t got = inner_->read(
          out.first(static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), skip_))));
      if (got == 0) {
        error_ = inner_->error();
        return 0;
      }
      skip_ -= got;
    }
    const std::size_t got = inner_->read(out);
    if (got == 0) {
      error_ = inner_->error();
    }
    return got;
  }

 private:
  std::unique_ptr<Decoder> inner_;
  std::uint64_t skip_;
};

// --- chunk sources --------------------------------------------------------------------------

class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  // The next chunk; the previous one is released. False at the end or on failure.
  virtual bool next(Bytes& chunk) = 0;
  [[nodiscard]] virtual SourceError error() const = 0;
  [[nodiscard]] virtual bool parallel() const { return false; }
};

// Decodes on the caller's thread into one reused buffer.
class DirectChunks final : public ChunkSource {
 public:
  DirectChunks(std::unique_ptr<Decoder> decoder, std::size_t chunk_size)
      : decoder_(std::move(decoder)), buf_(chunk_size) {}
  bool next(Bytes& chunk) override {
    const std::size_t n = decoder_->read(buf_);
    if (n == 0) {
      return false;
    }
    chunk = Bytes(buf_.data(), n);
    return true;
  }
  [[nodiscard]] SourceError error() const override { return decoder_->error(); }

 private:
  std::unique_ptr<Decoder> decoder_;
  std::vector<std::uint8_t> buf_;
};

// Decodes on a producer thread into a ring of chunks while the caller parses the previous ones.
class ThreadedChunks final : public ChunkSource {
 public:
  static constexpr std::size_t kChunks = 4;

  ThreadedChunks(std::unique_ptr<Decoder> decoder, std::size_t chunk_size)
      : decoder_(std::move(decoder)) {
    for (auto& b : buffers_) {
      b.data.resize(chunk_size);
      free_.push_back(&b);
    }
    thread_ = std::thread([this] { produce(); });
  }
  ~ThreadedChunks() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  ThreadedChunks(const ThreadedChunks&) = delete;
  ThreadedChunks& operator=(const ThreadedChunks&) = delete;

  bool next(Bytes& chunk) override {
    std::unique_lock<std::mutex> lock(mutex_);
    if (held_ != nullptr) {
      free_.push_back(held_);
      held_ = nullptr;
      cv_.notify_all();
    }
    cv_.wait(lock, [this] { return !ready_.empty() || finished_; });
    if (ready_.empty()) {
      return false;
    }
    held_ = ready_.front();
    ready_.pop_front();
    chunk = Bytes(held_->data.data(), held_->size);
    return true;
  }
  [[nodiscard]] SourceError error() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return finished_ ? error_ : SourceError{};
  }

 private:
  struct Buffer {
    std::vector<std::uint8_t> data;
    std::size_t size = 0;
  };

  void produce() {
    for (;;) {
      Buffer* b = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [this] { return !free_.empty() || stop_; });
        if (stop_) {
          return;
        }
        b = free_.front();
        free_.pop_front();
      }
      b->size = decoder_->read(b->data);
      std::lock_guard<std::mutex> lock(mutex_);
      if (b->size == 0) {
        error_ = decoder_->error();
        finished_ = true;
        free_.push_back(b);
        cv_.notify_all();
        return;
      }
      ready_.push_back(b);
      cv_.notify_all();
    }
  }

  std::unique_ptr<Decoder> decoder_;
  std::array<Buffer, kChunks> buffers_;
  std::deque<Buffer*> free_;
  std::deque<Buffer*> ready_;
  Buffer* held_ = nullptr;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool finished_ = false;
  SourceError error_;
  std::thread thread_;
};

// --- parallel bzip2 -------------------------------------------------------------------------

// Appends bits to a byte vector, most significant bit first (bzip2's bit order).
class BitWriter {
 public:
  explicit BitWriter(std::vector<std::uint8_t>& out) : out_(out) {}
  void bits(std::uint64_t value, unsigned count) {
    for (unsigned i = count; i-- > 0;) {
      bit(static_cast<unsigned>((value >> i) & 1U));
    }
  }
  void bit(unsigned b) {
    if (fill_ == 0) {
      out_.push_back(0);
    }
    if (b != 0) {
      out_.back() = static_cast<std::uint8_t>(out_.back() | (0x80U >> fill_));
    }
    fill_ = (fill_ + 1) & 7U;
  }
  // Copies `count` bits starting at bit `from` of `src` (the writer must be byte aligned).
  void copy(const std::vector<std::uint8_t>& src, std::uint64_t from, std::uint64_t count) {
    const std::size_t shift = static_cast<std::size_t>(from & 7U);
    std::size_t at = static_cast<std::size_t>(from >> 3);
    std::uint64_t whole = count / 8;
    out_.reserve(out_.size() + static_cast<std::size_t>(whole) + 16);
    for (std::uint64_t i = 0; i < whole; ++i, ++at) {
      unsigned v = static_cast<unsigned>(src[at]) << shift;
      if (shift != 0) {
        v |= static_cast<unsigned>(src[at + 1]) >> (8 - shift);
      }
      out_.push_back(static_cast<std::uint8_t>(v));
    }
    const std::uint64_t rest = count % 8;
    const std::uint64_t bit_at = from + whole * 8;
    for (std::uint64_t i = 0; i < rest; ++i) {
      const std::uint64_t p = bit_at + i;
      bit(static_cast<unsigned>(
          (std::uint64_t{src[static_cast<std::size_t>(p >> 3)]} >> (7 - (p & 7U))) & 1U));
    }
  }

 private:
  std::vector<std::uint8_t>& out_;
  unsigned fill_ = 0;
};

std::uint64_t read_bits(const std::vector<std::uint8_t>& src, std::uint64_t from, unsigned n) {
  std::uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i) {
    const std::uint64_t p = from + i;
    v = (v << 1) | ((std::uint64_t{src[static_cast<std::size_t>(p >> 3)]} >> (7 - (p & 7U))) & 1U);
  }
  return v;
}

bool is_bzip2_header(Bytes p) {
  return p.size() >= 4 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9';
}

// Splits bzip2 streams at block magics, has each block decoded as a one-block stream by a worker
// thread, and returns the outputs in order. Any surprise (a magic inside compressed data, a CRC
// mismatch) makes it reopen the file and continue with sequential libbz2 after the bytes it has
// already delivered, so the output is always what libbz2 alone would give.
class ParallelBzip2Chunks final : public ChunkSource {
 public:
  ParallelBzip2Chunks(Input& in, unsigned threads, std::size_t chunk_size)
      : in_(in), chunk_size_(chunk_size), max_inflight_(2 * std::size_t{threads} + 2) {
    for (unsigned i = 0; i < threads; ++i) {
      workers_.emplace_back([this] { work(); });
    }
  }
  ~ParallelBzip2Chunks() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_work_.notify_all();
    for (auto& t : workers_) {
      t.join();
    }
  }
  ParallelBzip2Chunks(const ParallelBzip2Chunks&) = delete;
  ParallelBzip2Chunks& operator=(const ParallelBzip2Chunks&) = delete;

  bool next(Bytes& chunk) override {
    if (fallback_) {
      return fallback_->next(chunk);
    }
    if (held_) {
      recycle(std::move(held_));
    }
    fill_pipeline();
    if (inflight_.empty()) {
      return scan_failed_ ? start_fallback(chunk) : false;
    }
    Job* job = inflight_.front().get();
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_done_.wait(lock, [job] { return job->done; });
    }
    if (job->last_unterminated) {
      // The file ends inside this block: deliver what libbz2 makes of the bits that are there
      // (nothing, unless the block itself is whole), then the truncation error.
      if (!job->ok) {
        return start_fallback(chunk);
      }
      if (job->output.empty()) {
        inflight_.clear();
        return false;
      }
    } else if (!job->ok || !check_crc(*job)) {
      return start_fallback(chunk);
    }
    held_ = std::move(inflight_.front());
    inflight_.pop_front();
    delivered_ += held_->output.size();
    chunk = Bytes(held_->output.data(), held_->output.size());
    return true;
  }
  [[nodiscard]] SourceError error() const override {
    return fallback_ ? fallback_->error() : error_;
  }
  [[nodiscard]] bool parallel() const override { return !fallback_; }

 private:
  struct Job {
    std::vector<std::uint8_t> input;  // a one-block bzip2 stream
    std::vector<std::uint8_t> output;
    std::uint32_t block_crc = 0;
    // Set on the block that closes a stream: the stream's stored combined CRC.
    bool ends_stream = false;
    std::uint32_t stream_crc = 0;
    bool last_unterminated = false;
    bool taken = false;  // a worker picked it up
    bool done = false;
    bool ok = false;
  };

  void work() {
    for (;;) {
      Job* job = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_work_.wait(lock, [this] { return stop_ || !todo_.empty(); });
        if (stop_) {
          return;
        }
        job = todo_.front();
        todo_.pop_front();
        job->taken = true;
      }
      const bool ok = decode(*job);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        job->ok = ok;
        job->done = true;
      }
      cv_done_.notify_all();
    }
  }

  static bool decode(Job& job) {
    bz_stream s{};
    if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK) {
      return false;
    }
    s.next_in = static_cast<char*>(static_cast<void*>(job.input.data()));
    s.avail_in = static_cast<unsigned>(job.input.size());
    job.output.resize(std::max<std::size_t>(job.output.capacity(), 1U << 20));
    std::size_t have = 0;
    int ret = BZ_OK;
    for (;;) {
      if (have == job.output.size()) {
        job.output.resize(job.output.size() * 2);
      }
      s.next_out =
          static_cast<char*>(static_cast<void*>(std::span(job.output).subspan(have).data()));
      s.avail_out = static_cast<unsigned>(job.output.size() - have);
      const unsigned before = s.avail_out;
      ret = BZ2_bzDecompress(&s);
      have += before - s.avail_out;
      if (ret != BZ_OK) {
        break;
      }
      if (s.avail_in == 0 && before == s.avail_out) {
        break;  // no progress and no input: the block never ended
      }
    }
    BZ2_bzDecompressEnd(&s);
    job.output.resize(have);
    // A cut-off last block has no end-of-stream magic: running out of input is expected there.
    return job.last_unterminated ? (ret == BZ_OK || ret == BZ_STREAM_END) : ret == BZ_STREAM_END;
  }

  // The combined CRC of a stream folds in every block CRC (bzip2's compress.c).
  bool check_crc(const Job& job) {
    combined_crc_ = ((combined_crc_ << 1) | (combined_crc_ >> 31)) ^ job.block_crc;
    if (!job.ends_stream) {
      return true;
    }
    const bool ok = combined_crc_ == job.stream_crc;
    combined_crc_ = 0;
    return ok;
  }

  void recycle(std::unique_ptr<Job> job) {
    job->input.clear();
    job->output.clear();
    job->taken = false;
    job->done = false;
    job->ok = false;
    job->ends_stream = false;
    job->last_unterminated = false;
    spare_.push_back(std::move(job));
  }

  // Positions below are absolute bit offsets in the compressed file; buf_ holds the bytes from
  // base_ (a byte offset) on, about one block's worth.
  [[nodiscard]] std::uint64_t buffered_end_bit() const {
    return (base_ + std::uint64_t{buf_.size()}) * 8;
  }
  [[nodiscard]] std::uint64_t rel(std::uint64_t bit) const { return bit - base_ * 8; }

  // Reads more compressed input, dropping bytes before the current block; false at the end.
  bool refill() {
    if (eof_) {
      return false;
    }
    const std::uint64_t keep_from = std::min(block_start_, scan_bit_) / 8;
    if (keep_from > base_) {
      const auto drop = static_cast<std::size_t>(keep_from - base_);
      buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(drop));
      base_ = keep_from;
    }
    const std::size_t old = buf_.size();
    buf_.resize(old + kInputBufferSize);
    const std::ptrdiff_t got = in_.read(std::span(buf_).subspan(old));
    if (got <= 0) {
      buf_.resize(old);
      eof_ = true;
      read_failed_ = got < 0;
      return false;
    }
    buf_.resize(old + static_cast<std::size_t>(got));
    return true;
  }

  // Makes sure every bit before `end_bit` is buffered.
  bool ensure(std::uint64_t end_bit) {
    while (buffered_end_bit() < end_bit) {
      if (!refill()) {
        return false;
      }
    }
    return true;
  }

  // Finds the next block or end-of-stream magic at or after scan_bit_; sets found_ and is_end_.
  // A rolling 64-bit window checks the 8 bit offsets of each byte with masks, so the scan costs
  // a few operations per compressed byte.
  bool find_magic() {
    for (;;) {
      const std::uint64_t from = rel(scan_bit_);
      const std::size_t size = buf_.size();
      auto i = static_cast<std::size_t>(from >> 3);
      if (i + 8 <= size) {
        std::uint64_t word = 0;
        for (std::size_t k = 0; k < 8; ++k) {
          word = (word << 8) | buf_[i + k];
        }
        for (;;) {
          for (unsigned s = 0; s < 8; ++s) {
            const std::uint64_t v = (word >> (16 - s)) & 0xFFFFFFFFFFFFULL;
            if ((v == kBlockMagic || v == kEndMagic) && std::uint64_t{i} * 8 + s >= from) {
              found_ = base_ * 8 + std::uint64_t{i} * 8 + s;
              is_end_ = v == kEndMagic;
              return true;
            }
          }
          if (i + 8 >= size) {
            break;
          }
          word = (word << 8) | buf_[i + 8];
          ++i;
        }
        ++i;
      }
      // Positions in the last 7 bytes need more input, or at the end a zero-padded check.
      const std::uint64_t next = base_ * 8 + std::uint64_t{std::min(i, size)} * 8;
      scan_bit_ = std::max(scan_bit_, next);
      if (refill()) {
        continue;
      }
      const std::uint64_t nbits = std::uint64_t{buf_.size()} * 8;
      for (std::uint64_t pos = rel(scan_bit_); pos + 48 <= nbits; ++pos) {
        const std::uint64_t v = read_bits(buf_, pos, 48);
        if (v == kBlockMagic || v == kEndMagic) {
          found_ = base_ * 8 + pos;
          is_end_ = v == kEndMagic;
          return true;
        }
      }
      return false;
    }
  }

  [[nodiscard]] std::uint64_t bits_at(std::uint64_t bit, unsigned n) const {
    return read_bits(buf_, rel(bit), n);
  }

  // Starts a stream at byte-aligned bit `at`: "BZh" + level. False at the end or on garbage.
  bool start_stream(std::uint64_t at) {
    block_start_ = at;
    scan_bit_ = at;
    if (!ensure(at + 80)) {
      return false;
    }
    const Bytes p = Bytes(buf_).subspan(static_cast<std::size_t>(rel(at) / 8));
    if (!is_bzip2_header(p)) {
      return false;  // trailing garbage, ignored as bzip2(1) does
    }
    level_ = p[3];
    block_start_ = at + 32;
    scan_bit_ = block_start_;
    in_stream_ = true;
    return true;
  }

  std::unique_ptr<Job> fail_scan() {
    scan_done_ = true;
    scan_failed_ = true;
    return nullptr;
  }

  void set_truncated() {
    error_ = read_failed_ ? SourceError{true, ErrorKind::Truncated, "read failed", in_.error()}
                          : SourceError{true, ErrorKind::Truncated, "bzip2 stream truncated"};
  }

  // Cuts the next block into a job; null when there is none (end, trouble, or truncation).
  std::unique_ptr<Job> next_block() {
    for (;;) {
      if (scan_done_) {
        return nullptr;
      }
      if (!in_stream_) {
        const std::uint64_t at = block_start_;
        const bool first = first_stream_;
        first_stream_ = false;
        if (!start_stream(at)) {
          scan_done_ = true;
          if (read_failed_) {
            set_truncated();
          } else if (first) {
            return fail_scan();  // not even one stream: let libbz2 say why
          }
          return nullptr;
        }
        // The stream's first magic sits right after the header.
        const std::uint64_t magic = bits_at(block_start_, 48);
        if (magic == kEndMagic) {
          // An empty stream: magic, CRC, padding; then maybe another stream.
          if (!ensure(block_start_ + 80)) {
            return fail_scan();
          }
          end_stream(block_start_);
          continue;
        }
        if (magic != kBlockMagic) {
          return fail_scan();
        }
      }
      // block_start_ is at a block magic; the block ends at the next magic.
      scan_bit_ = block_start_ + 48;
      if (!find_magic()) {
        // The file ends inside this block (or inside the end-of-stream magic after it).
        auto job = make_job(block_start_, buffered_end_bit() - block_start_, false);
        job->last_unterminated = true;
        scan_done_ = true;
        set_truncated();
        return job;
      }
      const std::uint64_t end = found_;
      const bool closes = is_end_;
      auto job = make_job(block_start_, end - block_start_, true);
      if (closes && !ensure(end + 80)) {
        // The block is whole but the stream CRC is cut: libbz2 delivers the block, then fails.
        scan_done_ = true;
        set_truncated();
        return job;
      }
      if (closes) {
        job->ends_stream = true;
        job->stream_crc = static_cast<std::uint32_t>(bits_at(end + 48, 32));
        end_stream(end);
      } else {
        block_start_ = end;
      }
      return job;
    }
  }

  // After the end-of-stream magic at `at`: skip the CRC and padding; another stream may follow.
  void end_stream(std::uint64_t at) {
    block_start_ = (at + 48 + 32 + 7) & ~std::uint64_t{7};
    scan_bit_ = block_start_;
    in_stream_ = false;
  }

  // `terminate`: close the block with an end-of-stream magic and CRC; a cut-off last block gets
  // none, so that libbz2 treats it exactly as it would at the end of the real file.
  std::unique_ptr<Job> make_job(std::uint64_t from, std::uint64_t bits, bool terminate) {
    std::unique_ptr<Job> job;
    if (!spare_.empty()) {
      job = std::move(spare_.back());
      spare_.pop_back();
    } else {
      job = std::make_unique<Job>();
    }
    job->block_crc = bits >= 80 ? static_cast<std::uint32_t>(bits_at(from + 48, 32)) : 0;
    job->input.reserve(static_cast<std::size_t>(bits / 8) + 16);
    job->input.push_back('B');
    job->input.push_back('Z');
    job->input.push_back('h');
    job->input.push_back(level_);
    BitWriter bw(job->input);
    bw.copy(buf_, rel(from), bits);
    if (terminate) {
      // A one-block stream's combined CRC is that block's CRC.
      bw.bits(kEndMagic, 48);
      bw.bits(job->block_crc, 32);
    }
    return job;
  }

  void fill_pipeline() {
    while (inflight_.size() < max_inflight_ && !scan_done_) {
      auto job = next_block();
      if (!job) {
        break;
      }
      Job* raw = job.get();
      inflight_.push_back(std::move(job));
      {
        std::lock_guard<std::mutex> lock(mutex_);
        todo_.push_back(raw);
      }
      cv_work_.notify_one();
    }
  }

  bool start_fallback(Bytes& chunk) {
    // Wait for queued jobs to finish before dropping them (workers hold raw pointers).
    {
      std::unique_lock<std::mutex> lock(mutex_);
      todo_.clear();
      cv_done_.wait(lock, [this] {
        return std::all_of(inflight_.begin(), inflight_.end(),
                           [](const auto& j) { return j->done || !j->taken; });
      });
    }
    inflight_.clear();
    auto input = std::make_unique<Input>();
    if (!input->open(in_.path())) {
      error_ = SourceError{true, ErrorKind::Truncated, "reopen for sequential bzip2 failed", errno};
      return false;
    }
    fallback_input_ = std::move(input);
    auto seq = std::make_unique<Bzip2Decoder>(*fallback_input_);
    fallback_ = std::make_unique<DirectChunks>(
        std::make_unique<SkippingDecoder>(std::move(seq), delivered_), chunk_size_);
    return fallback_->next(chunk);
  }

  Input& in_;
  std::size_t chunk_size_;
  std::size_t max_inflight_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable cv_work_;
  std::condition_variable cv_done_;
  std::deque<Job*> todo_;
  bool stop_ = false;

  std::deque<std::unique_ptr<Job>> inflight_;
  std::vector<std::unique_ptr<Job>> spare_;
  std::unique_ptr<Job> held_;
  std::vector<std::uint8_t> buf_;  // compressed window
  std::uint64_t base_ = 0;         // file offset of buf_[0]
  std::uint64_t block_start_ = 0;  // absolute bit position
  std::uint64_t scan_bit_ = 0;
  std::uint64_t found_ = 0;
  bool is_end_ = false;
  std::uint8_t level_ = '9';
  bool in_stream_ = false;
  bool first_stream_ = true;
  bool eof_ = false;
  bool read_failed_ = false;
  bool scan_done_ = false;
  bool scan_failed_ = false;
  std::uint32_t combined_crc_ = 0;
  std::uint64_t delivered_ = 0;
  SourceError error_;
  std::unique_ptr<Input> fallback_input_;
  std::unique_ptr<ChunkSource> fallback_;
};

}  // namespace

// --- ChunkReader ------------------------------------------------------------------------------

const char* to_string(Compression compression) {
  switch (compression) {
    case Compression::None:
      return "none";
    case Compression::Gzip:
      return "gzip";
    case Compression::Bzip2:
      return "bzip2";
  }
  return "unknown";
}

Compression detect_compression(Bytes head) {
  if (head.size() >= 3 && head[0] == 0x1f && head[1] == 0x8b && head[2] == 0x08) {
    return Compression::Gzip;
  }
  // "BZh1".."BZh9" alone could be an MRT timestamp of April 2005; the block or end magic after
  // it could not be an MRT type.
  if (head.size() >= 10 && is_bzip2_header(head)) {
    std::uint64_t magic = 0;
    for (std::size_t i = 4; i < 10; ++i) {
      magic = (magic << 8) | head[i];
    }
    if (magic == kBlockMagic || magic == kEndMagic) {
      return Compression::Bzip2;
    }
  }
  return Compression::None;
}

struct ChunkReader::Impl {
  Input input;
  Compression compression = Compression::None;
  std::unique_ptr<ChunkSource> source;
  std::uint64_t delivered = 0;
  bool finished = false;
  StreamError error;
  bool failed = false;
};

ChunkReader::ChunkReader() = default;
ChunkReader::~ChunkReader() = default;

Status ChunkReader::open(const std::string& path, const ReaderOptions& options) {
  impl_ = std::make_unique<Impl>();
  if (!impl_->input.open(path)) {
    impl_->failed = true;
    impl_->error.kind = ErrorKind::Unsupported;
    impl_->error.message = "cannot open file";
    impl_->error.system_error = errno;
    return fail(ErrorKind::Unsupported, 0, "cannot open file");
  }
  if (!impl_->input.peek_head(10)) {
    impl_->failed = true;
    impl_->error.message = "read failed";
    impl_->error.system_error = impl_->input.error();
    return fail(ErrorKind::Truncated, 0, "read failed");
  }
  impl_->compression = detect_compression(impl_->input.head());
  const std::size_t chunk = std::max<std::size_t>(options.chunk_size, 4096);
  std::unique_ptr<Decoder> decoder;
  switch (impl_->compression) {
    case Compression::None:
      decoder = std::make_unique<PlainDecoder>(impl_->input);
      break;
    case Compression::Gzip:
      decoder = std::make_unique<GzipDecoder>(impl_->input);
      break;
    case Compression::Bzip2:
      // Only named regular files: the fallback to sequential libbz2 reopens the path.
      if (options.parallel_bzip2 && impl_->input.regular() && path != "-") {
        unsigned threads = options.threads;
        if (threads == 0) {
          threads = std::max(2U, std::thread::hardware_concurrency());
        }
        impl_->source = std::make_unique<ParallelBzip2Chunks>(impl_->input, threads, chunk);
        return {};
      }
      decoder = std::make_unique<Bzip2Decoder>(impl_->input);
      break;
  }
  if (options.threaded) {
    impl_->source = std::make_unique<ThreadedChunks>(std::move(decoder), chunk);
  } else {
    impl_->source = std::make_unique<DirectChunks>(std::move(decoder), chunk);
  }
  return {};
}

bool ChunkReader::next(Bytes& chunk) {
  if (!impl_ || impl_->finished || !impl_->source) {
    return false;
  }
  if (impl_->source->next(chunk)) {
    impl_->delivered += chunk.size();
    return true;
  }
  impl_->finished = true;
  const SourceError e = impl_->source->error();
  if (e.failed) {
    impl_->failed = true;
    impl_->error.kind = e.kind;
    impl_->error.message = e.message;
    impl_->error.detail = e.message;
    impl_->error.system_error = e.system_error;
    impl_->error.offset = impl_->delivered;
  }
  return false;
}

const StreamError* ChunkReader::error() const {
  return impl_ && impl_->failed ? &impl_->error : nullptr;
}
Compression ChunkReader::compression() const {
  return impl_ ? impl_->compression : Compression::None;
}
bool ChunkReader::parallel() const {
  return impl_ && impl_->source && impl_->source->parallel();
}
void ChunkReader::close() {
  impl_.reset();
}

// --- FileReader -----------------------------------------------------------------------------

FileReader::FileReader() = default;
FileReader::~FileReader() = default;

Status FileReader::open(const std::string& path, const ReaderOptions& options) {
  options_ = options;
  chunk_ = {};
  pos_ = 0;
  source_done_ = false;
  offset_ = 0;
  index_ = 0;
  skip_left_ = 0;
  failed_ = false;
  error_ = {};
  auto st = chunks_.open(path, options);
  if (!st) {
    failed_ = true;
    error_ = *chunks_.error();
  }
  return st;
}

bool FileReader::fetch() {
  if (source_done_) {
    return false;
  }
  pos_ = 0;
  if (!chunks_.next(chunk_)) {
    chunk_ = {};
    source_done_ = true;
    return false;
  }
  return true;
}

bool FileReader::fail_at(ErrorKind kind, const char* message, bool skippable) {
  failed_ = true;
  error_ = StreamError{};
  error_.kind = kind;
  error_.message = message;
  error_.offset = offset_;
  error_.record_index = index_;
  error_.skippable = skippable;
  if (const StreamError* e = chunks_.error()) {
    error_.detail = e->message;
    error_.system_error = e->system_error;
  }
  return false;
}

// RFC 6396 section 2: frame each record by its header; hand it out in place when it lies in one
// chunk, else assemble it in the reused record buffer.
bool FileReader::next(FileRecord& out) {
  if (failed_) {
    return false;
  }
  Bytes bytes;
  const Bytes avail = chunk_.subspan(pos_);
  const Frame f = frame(avail, options_.max_record_length);
  if (f.status == FrameStatus::Complete) {
    bytes = avail.first(static_cast<std::size_t>(f.size));
    pos_ += bytes.size();
  } else if (f.status == FrameStatus::Broken) {
    skip_left_ = f.size;
    skip_size_ = f.size;
    return fail_at(f.error.kind, f.error.message, true);
  } else {
    record_buf_.assign(avail.begin(), avail.end());
    pos_ = chunk_.size();
    // NeedMore says how much: the header, or the whole record once the header is there.
    std::uint64_t need = f.size;
    bool framed = avail.size() >= kHeaderSize;
    while (record_buf_.size() < need) {
      if (pos_ == chunk_.size() && !fetch()) {
        if (record_buf_.empty()) {
          if (const StreamError* e = chunks_.error()) {
            return fail_at(e->kind, e->message, false);
          }
          return false;  // clean end
        }
        return fail_at(ErrorKind::Truncated,
                       chunks_.error() != nullptr ? "stream ends inside an MRT record"
                                                  : "MRT record truncated at end of file",
                       false);
      }
      const std::size_t take = static_cast<std::size_t>(
          std::min<std::uint64_t>(need - record_buf_.size(), chunk_.size() - pos_));
      record_buf_.insert(record_buf_.end(), chunk_.begin() + static_cast<std::ptrdiff_t>(pos_),
                         chunk_.begin() + static_cast<std::ptrdiff_t>(pos_ + take));
      pos_ += take;
      if (!framed && record_buf_.size() >= kHeaderSize) {
        const Frame g = frame(record_buf_, options_.max_record_length);
        if (g.status == FrameStatus::Broken) {
          skip_left_ = g.size - record_buf_.size();
          skip_size_ = g.size;
          return fail_at(g.error.kind, g.error.message, true);
        }
        framed = true;
        need = g.size;
      }
    }
    bytes = record_buf_;
  }
  auto rec = parse_record(bytes);
  if (!rec) {
    return fail_at(rec.error().kind, rec.error().message, false);  // unreachable after framing
  }
  out.record = *rec;
  out.index = index_++;
  out.offset = offset_;
  offset_ += bytes.size();
  return true;
}

bool FileReader::skip() {
  if (!failed_ || !error_.skippable) {
    return false;
  }
  failed_ = false;
  while (skip_left_ > 0) {
    if (pos_ == chunk_.size() && !fetch()) {
      return fail_at(ErrorKind::Truncated, "stream ends inside a skipped MRT record", false);
    }
    const std::size_t take =
        static_cast<std::size_t>(std::min<std::uint64_t>(skip_left_, chunk_.size() - pos_));
    pos_ += take;
    skip_left_ -= take;
  }
  offset_ += skip_size_;
  ++index_;
  error_ = {};
  return true;
}

const StreamError* FileReader::error() const {
  return failed_ ? &error_ : nullptr;
}
Compression FileReader::compression() const {
  return chunks_.compression();
}
const ChunkReader& FileReader::chunks() const {
  return chunks_;
}
void FileReader::close() {
  chunks_.close();
  chunk_ = {};
  pos_ = 0;
}

// --- FileWriter -----------------------------------------------------------------------------

struct FileWriter::Impl {
  int fd = -1;
  bool owned = false;
  Compression compression = Compression::None;
  std::vector<std::uint8_t> out;
  z_stream z{};
  bz_stream bz{};
  bool z_active = false;
  bool bz_active = false;

  ~Impl() {
    if (z_active) {
      deflateEnd(&z);
    }
    if (bz_active) {
      BZ2_bzCompressEnd(&bz);
    }
    if (owned && fd >= 0) {
      ::close(fd);
    }
  }

  // Writes every byte of `bytes` to the file.
  bool write_all(Bytes bytes, int& err) const {
    while (!bytes.empty()) {
      const ssize_t put = ::write(fd, bytes.data(), bytes.size());
      if (put < 0) {
        if (errno == EINTR) {
          continue;
        }
        err = errno;
        return false;
      }
      bytes = bytes.subspan(static_cast<std::size_t>(put));
    }
    return true;
  }

  // Output bytes waiting in `out` (the compressors write straight into it).
  std::size_t used = 0;

  bool drain(int& err) {
    const bool ok = write_all(Bytes(out).first(used), err);
    used = 0;
    return ok;
  }

  enum class Step : std::uint8_t { Run, Flush, Finish };

  // Runs the compressor over `in`; writes `out` to the file only when it is full (one write per
  // buffer) or when `step` asks for the bytes to leave.
  bool compress(Bytes in, Step step, int& err) {
    const bool push = step != Step::Run;
    if (compression == Compression::Gzip) {
      const int mode = step == Step::Run     ? Z_NO_FLUSH
                       : step == Step::Flush ? Z_SYNC_FLUSH
                                             : Z_FINISH;
      z.next_in = const_cast<Bytef*>(in.data());  // zlib's API is not const-correct
      z.avail_in = static_cast<uInt>(in.size());
      for (;;) {
        if (used == out.size() && !drain(err)) {
          return false;
        }
        z.next_out = std::span(out).subspan(used).data();
        z.avail_out = static_cast<uInt>(out.size() - used);
        const int ret = deflate(&z, mode);
        used = out.size() - z.avail_out;
        if (ret == Z_STREAM_ERROR) {
          return false;
        }
        const bool finished =
            mode == Z_FINISH ? ret == Z_STREAM_END : (z.avail_in == 0 && z.avail_out != 0);
        if (finished) {
          return !push || drain(err);
        }
      }
    }
    const int mode = step == Step::Run ? BZ_RUN : step == Step::Flush ? BZ_FLUSH : BZ_FINISH;
    bz.next_in = const_cast<char*>(static_cast<const char*>(static_cast<const void*>(in.data())));
    bz.avail_in = static_cast<unsigned>(in.size());
    for (;;) {
      if (used == out.size() && !drain(err)) {
        return false;
      }
      bz.next_out = static_cast<char*>(static_cast<void*>(std::span(out).subspan(used).data()));
      bz.avail_out = static_cast<unsigned>(out.size() - used);
      const int ret = BZ2_bzCompress(&bz, mode);
      used = out.size() - bz.avail_out;
      if (ret < 0) {
        return false;
      }
      const bool finished =
          mode == BZ_RUN ? bz.avail_in == 0 : (ret == BZ_RUN_OK || ret == BZ_STREAM_END);
      if (finished) {
        return !push || drain(err);
      }
    }
  }
};

FileWriter::FileWriter() = default;
FileWriter::~FileWriter() {
  if (impl_) {
    (void)close();
  }
}

Status FileWriter::open(const std::string& path, const WriterOptions& options) {
  if (impl_) {
    BGPSCRIBE_TRY(close());
  }
  auto impl = std::make_unique<Impl>();
  if (path == "-") {
    impl->fd = STDOUT_FILENO;
  } else {
    impl->fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    impl->owned = true;
    if (impl->fd < 0) {
      errno_ = errno;
      return fail(ErrorKind::Unsupported, 0, "cannot create file");
    }
  }
  impl->compression = options.compression;
  impl->out.resize(std::max<std::size_t>(options.buffer_size, 4096));
  const int level = std::clamp(options.level, 1, 9);
  if (options.compression == Compression::Gzip) {
    if (deflateInit2(&impl->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return fail(ErrorKind::Unsupported, 0, "zlib initialisation failed");
    }
    impl->z_active = true;
  } else if (options.compression == Compression::Bzip2) {
    // bzip2's level is its block size; its own default (and every archive's) is 9.
    const int block = options.level == 6 ? 9 : level;
    if (BZ2_bzCompressInit(&impl->bz, block, 0, 0) != BZ_OK) {
      return fail(ErrorKind::Unsupported, 0, "libbz2 initialisation failed");
    }
    impl->bz_active = true;
  }
  impl->out.clear();
  if (options.compression != Compression::None) {
    impl->out.resize(std::max<std::size_t>(options.buffer_size, 4096));
  } else {
    impl->out.reserve(std::max<std::size_t>(options.buffer_size, 4096));
  }
  impl_ = std::move(impl);
  bytes_in_ = 0;
  return {};
}

Status FileWriter::write(Bytes bytes) {
  if (!impl_) {
    return fail(ErrorKind::Unsupported, 0, "writer is not open");
  }
  bytes_in_ += bytes.size();
  Impl& m = *impl_;
  if (m.compression == Compression::None) {
    if (m.out.size() + bytes.size() > m.out.capacity()) {
      if (!m.write_all(m.out, errno_)) {
        return fail(ErrorKind::Truncated, 0, "write failed");
      }
      m.out.clear();
      if (bytes.size() >= m.out.capacity()) {
        if (!m.write_all(bytes, errno_)) {
          return fail(ErrorKind::Truncated, 0, "write failed");
        }
        return {};
      }
    }
    m.out.insert(m.out.end(), bytes.begin(), bytes.end());
    return {};
  }
  if (!m.compress(bytes, Impl::Step::Run, errno_)) {
    return fail(ErrorKind::Truncated, 0, "compressed write failed");
  }
  return {};
}

Status FileWriter::flush() {
  if (!impl_) {
    return fail(ErrorKind::Unsupported, 0, "writer is not open");
  }
  Impl& m = *impl_;
  if (m.compression == Compression::None) {
    if (!m.write_all(m.out, errno_)) {
      return fail(ErrorKind::Truncated, 0, "write failed");
    }
    m.out.clear();
    return {};
  }
  if (!m.compress({}, Impl::Step::Flush, errno_)) {
    return fail(ErrorKind::Truncated, 0, "compressed flush failed");
  }
  return {};
}

Status FileWriter::close() {
  if (!impl_) {
    return {};
  }
  std::unique_ptr<Impl> m = std::move(impl_);
  bool ok = true;
  if (m->compression == Compression::None) {
    ok = m->write_all(m->out, errno_);
  } else {
    ok = m->compress({}, Impl::Step::Finish, errno_);
  }
  if (m->owned && m->fd >= 0) {
    if (::close(m->fd) != 0 && ok) {
      errno_ = errno;
      ok = false;
    }
    m->fd = -1;
  }
  if (!ok) {
    return fail(ErrorKind::Truncated, 0, "write failed on close");
  }
  return {};
}

}  // namespace bgpscribe::codec::mrt
