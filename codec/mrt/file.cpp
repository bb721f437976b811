// Streaming MRT files: record framing over decompressed chunks, and the compressing writer.
#include "codec/mrt/file.hpp"

#include <bzlib.h>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <span>
#include <thread>

#include "codec/mrt/source.hpp"

namespace bgpscribe::codec::mrt {

using detail::Input;
using detail::kBlockMagic;
using detail::kEndMagic;
using detail::SourceError;

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
  if (head.size() >= 10 && detail::is_bzip2_header(head)) {
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
  std::unique_ptr<detail::ChunkSource> source;
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
  std::unique_ptr<detail::Decoder> decoder;
  switch (impl_->compression) {
    case Compression::None:
      decoder = detail::make_plain_decoder(impl_->input);
      break;
    case Compression::Gzip:
      decoder = detail::make_gzip_decoder(impl_->input);
      break;
    case Compression::Bzip2:
      // Only named regular files: the fallback to sequential libbz2 reopens the path.
      if (options.parallel_bzip2 && impl_->input.regular() && path != "-") {
        unsigned threads = options.threads;
        if (threads == 0) {
          threads = std::max(2U, std::thread::hardware_concurrency());
        }
        impl_->source = detail::make_parallel_bzip2_chunks(impl_->input, threads, chunk);
        return {};
      }
      decoder = detail::make_bzip2_decoder(impl_->input);
      break;
  }
  if (options.threaded) {
    impl_->source = detail::make_threaded_chunks(std::move(decoder), chunk);
  } else {
    impl_->source = detail::make_direct_chunks(std::move(decoder), chunk);
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
    return fail_broken(f.error);
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
          return fail_broken(g.error);
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

// A damaged compressed block can decompress into bytes that are not MRT before the decompressor
// notices (bzip2 checks a block's CRC at its end, gzip the whole stream's at the end). Before
// calling a compressed stream's framing broken, read on through the record it claims: when the
// decompressor fails inside it, that failure is the cause and is reported instead.
bool FileReader::fail_broken(const Error& framing) {
  if (chunks_.compression() != Compression::None && !discard_skipped()) {
    if (const StreamError* e = chunks_.error()) {
      return fail_at(e->kind, e->message, false);
    }
  }
  return fail_at(framing.kind, framing.message, true);
}

bool FileReader::discard_skipped() {
  while (skip_left_ > 0) {
    if (pos_ == chunk_.size() && !fetch()) {
      return false;
    }
    const std::size_t take =
        static_cast<std::size_t>(std::min<std::uint64_t>(skip_left_, chunk_.size() - pos_));
    pos_ += take;
    skip_left_ -= take;
  }
  return true;
}

bool FileReader::skip() {
  if (!failed_ || !error_.skippable) {
    return false;
  }
  failed_ = false;
  if (!discard_skipped()) {
    return fail_at(ErrorKind::Truncated, "stream ends inside a skipped MRT record", false);
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
  // gzip level 1 (the MRT exporter's default) goes through ISA-L's igzip level 1 instead of
  // zlib: the same single gzip member with the same sync-flush points, about 5 times faster on
  // real updates for files 0 to 14% larger, and compression is what bounds the exporter
  // (docs/mrt-exporter.md, Throughput). Its state and level buffer take about 360 KiB, allocated
  // only for those files.
  std::unique_ptr<isal_zstream> igz;
  std::vector<std::uint8_t> igz_level_buf;
  // igzip costs about 0.4 us per call whatever the size, twice its cost of compressing a
  // 150-byte record: records wait here and go in 64 KiB at a time.
  std::vector<std::uint8_t> igz_in;
  static constexpr std::size_t kIgzipInput = std::size_t{64} << 10;
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

  // igzip's side of write(): stages `in`, compressing when the stage is full.
  bool stage(Bytes in, int& err) {
    if (igz_in.size() + in.size() > kIgzipInput) {
      if (!compress(igz_in, Step::Run, err)) {
        return false;
      }
      igz_in.clear();
      if (in.size() >= kIgzipInput) {
        return compress(in, Step::Run, err);
      }
    }
    igz_in.insert(igz_in.end(), in.begin(), in.end());
    return true;
  }

  // A flush or the stream's end, after igzip's staged input (none with the other compressors).
  bool push_staged(Step step, int& err) {
    const bool ok = compress(igz_in, step, err);
    igz_in.clear();
    return ok;
  }

  // Runs the compressor over `in`; writes `out` to the file only when it is full (one write per
  // buffer) or when `step` asks for the bytes to leave.
  bool compress(Bytes in, Step step, int& err) {
    const bool push = step != Step::Run;
    if (igz) {
      isal_zstream& s = *igz;
      s.next_in = const_cast<std::uint8_t*>(in.data());  // ISA-L's API is not const-correct
      s.avail_in = static_cast<std::uint32_t>(in.size());
      // SYNC_FLUSH byte-aligns and ends with an empty stored block, as zlib's Z_SYNC_FLUSH: a
      // reader decodes everything up to it, which the exporter's partial files rely on.
      s.flush = step == Step::Flush ? SYNC_FLUSH : NO_FLUSH;
      s.end_of_stream = step == Step::Finish ? 1 : 0;
      for (;;) {
        if (used == out.size() && !drain(err)) {
          return false;
        }
        s.next_out = std::span(out).subspan(used).data();
        s.avail_out = static_cast<std::uint32_t>(out.size() - used);
        const int ret = isal_deflate(&s);
        used = out.size() - s.avail_out;
        if (ret != COMP_OK) {
          return false;
        }
        // igzip returns when the input is used up or the output is full; room left in the
        // output means that it has written all it owes for this step (its documented test).
        const bool finished = step == Step::Finish ? s.internal_state.state == ZSTATE_END
                                                   : (s.avail_in == 0 && s.avail_out != 0);
        if (finished) {
          return !push || drain(err);
        }
      }
    }
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
  if (options.compression == Compression::Gzip && level == 1) {
    // Only level 1: igzip's levels 2 and 3 compress real updates no better than its level 1 on
    // CPUs without AVX-512, so levels 2-9 stay zlib's, for smaller files at zlib's speed.
    impl->igz = std::make_unique<isal_zstream>();
    isal_zstream& s = *impl->igz;
    isal_deflate_init(&s);
    s.gzip_flag = IGZIP_GZIP;
    s.level = 1;
    impl->igz_level_buf.resize(ISAL_DEF_LVL1_DEFAULT);
    s.level_buf = impl->igz_level_buf.data();
    s.level_buf_size = static_cast<std::uint32_t>(impl->igz_level_buf.size());
    impl->igz_in.reserve(Impl::kIgzipInput);
  } else if (options.compression == Compression::Gzip) {
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
  if (!(m.igz ? m.stage(bytes, errno_) : m.compress(bytes, Impl::Step::Run, errno_))) {
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
  if (!m.push_staged(Impl::Step::Flush, errno_)) {
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
    ok = m->push_staged(Impl::Step::Finish, errno_);
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
