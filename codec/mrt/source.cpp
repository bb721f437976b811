// Sequential decoders (plain, gzip, bzip2) and the direct and threaded chunk sources.
#include "codec/mrt/source.hpp"

#include <bzlib.h>
#include <zlib.h>

#include <array>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace bgpscribe::codec::mrt::detail {
namespace {

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

}  // namespace

std::unique_ptr<Decoder> make_plain_decoder(Input& in) {
  return std::make_unique<PlainDecoder>(in);
}
std::unique_ptr<Decoder> make_gzip_decoder(Input& in) {
  return std::make_unique<GzipDecoder>(in);
}
std::unique_ptr<Decoder> make_bzip2_decoder(Input& in) {
  return std::make_unique<Bzip2Decoder>(in);
}
std::unique_ptr<Decoder> make_skipping_decoder(std::unique_ptr<Decoder> inner, std::uint64_t skip) {
  return std::make_unique<SkippingDecoder>(std::move(inner), skip);
}
std::unique_ptr<ChunkSource> make_direct_chunks(std::unique_ptr<Decoder> decoder,
                                                std::size_t chunk_size) {
  return std::make_unique<DirectChunks>(std::move(decoder), chunk_size);
}
std::unique_ptr<ChunkSource> make_threaded_chunks(std::unique_ptr<Decoder> decoder,
                                                  std::size_t chunk_size) {
  return std::make_unique<ThreadedChunks>(std::move(decoder), chunk_size);
}

}  // namespace bgpscribe::codec::mrt::detail
