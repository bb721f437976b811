// Parallel bzip2: blocks found by their 48-bit magic at any bit offset, each decoded by libbz2
// as a one-block stream on a worker thread, delivered in order.
#include <bzlib.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "codec/mrt/source.hpp"

namespace bgpscribe::codec::mrt::detail {
namespace {

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
    fallback_ = make_direct_chunks(
        make_skipping_decoder(make_bzip2_decoder(*fallback_input_), delivered_), chunk_size_);
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

std::unique_ptr<ChunkSource> make_parallel_bzip2_chunks(Input& in, unsigned threads,
                                                        std::size_t chunk_size) {
  return std::make_unique<ParallelBzip2Chunks>(in, threads, chunk_size);
}

}  // namespace bgpscribe::codec::mrt::detail
