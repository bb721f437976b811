// Fuzz target for streaming MRT files (codec/mrt/file.hpp): ChunkReader and FileReader over
// plain, gzip and bzip2 files, threaded or not, with parallel bzip2 on and off.
//
// The input is the uncompressed stream. A hash of it picks how it is stored (plain; gzip or
// bzip2, whole, cut short, with a flipped byte, or as two concatenated members), the reader
// options and a record length limit. The file is a memfd opened through /proc/self/fd. The
// reader must never crash or hang, must deliver records in order with consecutive indices and
// offsets, and, where the stored bytes are intact, must deliver exactly the records, errors
// and skips that framing the input with mrt::frame predicts (a cut stream: a prefix of them,
// ending in an error). After every skippable error the target calls skip() and goes on.
#include <sys/mman.h>
#include <unistd.h>

#include <bzlib.h>
#include <zlib.h>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "codec/mrt/file.hpp"
#include "codec/mrt/record.hpp"

namespace {

using namespace bgpscribe::codec;

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "mrt_file_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

using Bytes = std::vector<std::uint8_t>;

std::uint64_t fnv1a(std::span<const std::uint8_t> data) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const std::uint8_t b : data) {
    h = (h ^ b) * 0x100000001b3ULL;
  }
  return h;
}

Bytes gzip(std::span<const std::uint8_t> in) {
  z_stream z{};
  require(deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2");
  Bytes out(deflateBound(&z, static_cast<uLong>(in.size())) + 32);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  require(deflate(&z, Z_FINISH) == Z_STREAM_END, "deflate finishes");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

Bytes bzip2(std::span<const std::uint8_t> in) {
  unsigned int size = static_cast<unsigned int>(in.size() + in.size() / 100 + 600);
  Bytes out(size);
  require(BZ2_bzBuffToBuffCompress(reinterpret_cast<char*>(out.data()), &size,
                                   const_cast<char*>(reinterpret_cast<const char*>(in.data())),
                                   static_cast<unsigned int>(in.size()), 1, 0, 0) == BZ_OK,
          "BZ2_bzBuffToBuffCompress");
  out.resize(size);
  return out;
}

enum class Damage { None, Cut, Flip, TwoMembers };

// What a reader must report, in order.
struct Event {
  enum Kind { Record, Error, End } kind = End;
  std::uint64_t offset = 0;
  std::uint64_t index = 0;
  Bytes bytes{};           // Record: a copy (the reader's spans die at its next call)
  bool skippable = false;  // Error
  friend bool operator==(const Event& a, const Event& b) {
    return a.kind == b.kind && a.offset == b.offset && a.index == b.index &&
           a.skippable == b.skippable && a.bytes == b.bytes;
  }
};

// The events mrt::frame predicts for the uncompressed stream, skipping every skippable error.
std::vector<Event> expected_events(std::span<const std::uint8_t> data, std::uint32_t max_length) {
  std::vector<Event> out;
  std::uint64_t pos = 0;
  std::uint64_t index = 0;
  for (;;) {
    if (pos == data.size()) {
      out.push_back({Event::End, pos, index});
      return out;
    }
    const auto rest = data.subspan(static_cast<std::size_t>(pos));
    const mrt::Frame f = mrt::frame(rest, max_length);
    switch (f.status) {
      case mrt::FrameStatus::Complete: {
        const auto record = rest.first(static_cast<std::size_t>(f.size));
        out.push_back({Event::Record, pos, index, {record.begin(), record.end()}});
        pos += f.size;
        ++index;
        break;
      }
      case mrt::FrameStatus::Broken:
        out.push_back({Event::Error, pos, index, {}, true});
        if (f.size > rest.size()) {
          out.push_back({Event::Error, pos, index, {}, false});  // skip() runs out of stream
          return out;
        }
        pos += f.size;
        ++index;
        break;
      case mrt::FrameStatus::NeedMore:
        out.push_back({Event::Error, pos, index, {}, false});
        return out;
    }
  }
}

// Reads the file through FileReader, skipping after skippable errors.
std::vector<Event> read_events(const std::string& path, const mrt::ReaderOptions& options) {
  std::vector<Event> out;
  mrt::FileReader reader;
  if (!reader.open(path, options)) {
    out.push_back({Event::Error, 0, 0, {}, false});
    return out;
  }
  mrt::FileRecord rec;
  std::uint64_t index = 0;
  std::uint64_t offset = 0;
  bool offset_known = true;  // not right after a skip
  std::uint64_t skipped_at = 0;
  for (std::size_t steps = 0; steps < 1'000'000; ++steps) {
    if (reader.next(rec)) {
      require(rec.index == index, "records come with consecutive indices");
      if (offset_known) {
        require(rec.offset == offset, "records come at consecutive offsets");
      } else {
        require(rec.offset >= skipped_at + mrt::kHeaderSize, "a skip moves past a header");
      }
      require(rec.record.bytes.size() == rec.record.header.record_size(), "whole records");
      require(rec.record.header.length <= options.max_record_length, "records within the limit");
      out.push_back({Event::Record,
                     rec.offset,
                     rec.index,
                     {rec.record.bytes.begin(), rec.record.bytes.end()}});
      offset = rec.offset + rec.record.bytes.size();
      offset_known = true;
      ++index;
      continue;
    }
    const mrt::StreamError* e = reader.error();
    if (e == nullptr) {
      out.push_back({Event::End, offset_known ? offset : 0, index});
      require(!reader.next(rec) && reader.error() == nullptr, "the end stays the end");
      return out;
    }
    require(e->message != nullptr && e->detail != nullptr, "errors have messages");
    require(e->record_index == index, "errors name the record they stop at");
    if (offset_known) {
      require(e->offset == offset, "errors are where the stream stopped");
    }
    out.push_back({Event::Error, e->offset, e->record_index, {}, e->skippable});
    if (!e->skippable) {
      require(!reader.skip(), "only skippable errors skip");
      require(!reader.next(rec) && reader.error() != nullptr, "a failed reader stays failed");
      return out;
    }
    skipped_at = e->offset;
    if (!reader.skip()) {
      const mrt::StreamError* after = reader.error();
      require(after != nullptr && !after->skippable, "a failed skip leaves an error");
      out.push_back({Event::Error, after->offset, after->record_index, {}, false});
      return out;
    }
    require(reader.error() == nullptr, "a skip clears the error");
    ++index;
    offset_known = false;
  }
  require(false, "the reader does not stop");
  return out;
}

// Compares the first n events; the offset of the end is not visible after a trailing skip.
bool same_events(const std::vector<Event>& a, const std::vector<Event>& b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    Event x = a[i];
    if (x.kind == Event::End) {
      x.offset = b[i].offset;
    }
    if (!(x == b[i])) {
      return false;
    }
  }
  return true;
}

class MemFile {
 public:
  explicit MemFile(std::span<const std::uint8_t> bytes) {
    fd_ = memfd_create("mrt_file_fuzz", MFD_CLOEXEC);
    require(fd_ >= 0, "memfd_create");
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      require(n > 0, "write to the memfd");
      done += static_cast<std::size_t>(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const std::uint64_t h = fnv1a(input);
  const unsigned container = h & 3U;  // 0, 3: plain; 1: gzip; 2: bzip2
  const auto damage = static_cast<Damage>((h >> 4) & 3U);
  mrt::ReaderOptions options;
  options.threaded = ((h >> 2) & 1U) != 0;
  options.parallel_bzip2 = ((h >> 3) & 1U) != 0;
  options.threads = 2;
  options.chunk_size = 4096;  // the smallest the reader takes: records straddle chunks
  switch ((h >> 6) & 3U) {
    case 2:
      options.max_record_length = 64;
      break;
    case 3:
      options.max_record_length = 1024;
      break;
    default:
      break;
  }

  Bytes stored;
  bool exact = true;    // the reader must reproduce expected_events exactly
  bool prefix = false;  // ... or a prefix of them ending in an error
  if (container == 1 || container == 2) {
    auto compress = [container](std::span<const std::uint8_t> b) {
      return container == 1 ? gzip(b) : bzip2(b);
    };
    switch (damage) {
      case Damage::None:
        stored = compress(input);
        break;
      case Damage::Cut: {
        stored = compress(input);
        const std::size_t keep =
            stored.size() / 2 + static_cast<std::size_t>((h >> 8) % (stored.size() / 2));
        stored.resize(std::max<std::size_t>(keep, 10));
        exact = false;
        prefix = true;
        break;
      }
      case Damage::Flip: {
        stored = compress(input);
        const std::size_t at = 10 + static_cast<std::size_t>((h >> 8) % (stored.size() - 10));
        stored[at] = static_cast<std::uint8_t>(stored[at] ^ (1U << ((h >> 40) & 7U)));
        exact = false;
        break;
      }
      case Damage::TwoMembers: {
        const std::size_t split = input.empty() ? 0 : static_cast<std::size_t>(h % input.size());
        stored = compress(input.first(split));
        const Bytes second = compress(input.subspan(split));
        stored.insert(stored.end(), second.begin(), second.end());
        break;
      }
    }
  } else {
    stored.assign(input.begin(), input.end());
    // Input that looks compressed is read as such: only the general invariants apply.
    exact = mrt::detect_compression(input) == mrt::Compression::None;
  }

  const MemFile file(stored);
  const std::vector<Event> got = read_events(file.path(), options);
  require(!got.empty(), "the reader reports something");
  if (exact || prefix) {
    const std::vector<Event> want = expected_events(input, options.max_record_length);
    if (std::getenv("MRT_FILE_FUZZ_DEBUG") != nullptr) {
      std::fprintf(stderr, "container %u damage %d threaded %d parallel %d max %u\n", container,
                   static_cast<int>(damage), options.threaded, options.parallel_bzip2,
                   options.max_record_length);
      for (const auto* list : {&got, &want}) {
        for (const Event& e : *list) {
          std::fprintf(stderr, "  kind %d offset %llu index %llu size %zu skippable %d\n",
                       static_cast<int>(e.kind), static_cast<unsigned long long>(e.offset),
                       static_cast<unsigned long long>(e.index), e.bytes.size(), e.skippable);
        }
        std::fprintf(stderr, "--\n");
      }
    }
    if (exact) {
      require(got.size() == want.size() && same_events(got, want, got.size()),
              "intact files deliver exactly the framed records and errors");
    } else {
      require(got.size() <= want.size() && same_events(got, want, got.size() - 1),
              "a cut file delivers a prefix of the records");
      require(got.back().kind == Event::Error && !got.back().skippable,
              "a cut file ends in an error");
    }
  }

  // The chunks alone: intact files decompress to the input.
  if (exact && ((h >> 42) & 1U) != 0) {
    mrt::ChunkReader chunks;
    if (chunks.open(file.path(), options)) {
      Bytes all;
      mrt::Bytes chunk;
      while (chunks.next(chunk)) {
        all.insert(all.end(), chunk.begin(), chunk.end());
      }
      require(chunks.error() == nullptr, "intact files decompress without error");
      require(all.size() == input.size() && std::equal(all.begin(), all.end(), input.begin()),
              "chunks concatenate to the input");
    }
  }
  return 0;
}
