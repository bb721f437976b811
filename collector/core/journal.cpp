#include "collector/core/journal.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "codec/wire/reader.hpp"
#include "collector/core/spool.hpp"

namespace bgpscribe::collector {

namespace fs = std::filesystem;
using exporters::Record;

namespace {

// Each segment starts with this; an entry is u32 length (of what follows), u64 seq, body.
constexpr std::uint8_t kMagic[8] = {'B', 'G', 'P', 'S', 'J', 'R', 'N', '1'};
constexpr std::size_t kEntryHeader = 4 + 8;

std::string segment_name(std::uint64_t first_seq) {
  char name[40];
  std::snprintf(name, sizeof name, "%020llu.journal", static_cast<unsigned long long>(first_seq));
  return name;
}

// Reads a whole file; empty when it cannot be read.
std::vector<std::uint8_t> read_file(const std::string& path) {
  std::vector<std::uint8_t> data;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return data;
  }
  std::uint8_t buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
      break;
    }
    data.insert(data.end(), buf, buf + n);
  }
  ::close(fd);
  return data;
}

// Walks the entries of a segment's bytes: f(seq, body) for each; stops at the first length 0
// (the end of what was written) or at an entry that does not fit (a damaged tail). Returns
// whether it ended cleanly.
template <typename F>
bool walk(std::span<const std::uint8_t> data, F&& f) {
  if (data.size() < sizeof kMagic ||
      !std::equal(std::begin(kMagic), std::end(kMagic), data.begin())) {
    return data.empty();
  }
  std::size_t pos = sizeof kMagic;
  while (data.size() - pos >= 4) {
    const std::uint32_t n = codec::wire::load_u32(data, pos);
    if (n == 0) {
      return true;
    }
    if (n < 8 || data.size() - pos - 4 < n) {
      return false;
    }
    const std::uint64_t seq = (std::uint64_t{codec::wire::load_u32(data, pos + 4)} << 32) |
                              codec::wire::load_u32(data, pos + 8);
    f(seq, data.subspan(pos + kEntryHeader, n - 8));
    pos += 4 + n;
  }
  return true;
}

}  // namespace

Journal::Journal(JournalOptions options) : options_(std::move(options)) {
  std::error_code ec;
  fs::create_directories(options_.directory, ec);
  if (ec || !fs::is_directory(options_.directory)) {
    throw std::runtime_error("journal: cannot create directory '" + options_.directory +
                             "': " + ec.message());
  }
  for (const auto& e : fs::directory_iterator(options_.directory)) {
    const auto name = e.path().filename().string();
    if (!e.is_regular_file() || !name.ends_with(".journal") || name.size() != 28) {
      continue;
    }
    Segment s;
    s.path = e.path().string();
    s.first_seq = std::strtoull(name.c_str(), nullptr, 10);
    s.bytes = e.file_size();
    segments_.push_back(std::move(s));
  }
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) { return a.first_seq < b.first_seq; });
  // Each segment's last number (read once here; replay reads them again).
  for (auto& s : segments_) {
    const auto data = read_file(s.path);
    // The largest number, not the last one: a damaged entry may carry any number.
    (void)walk(data, [&](std::uint64_t seq, std::span<const std::uint8_t>) {
      s.last_seq = std::max(s.last_seq, seq);
    });
    last_seq_ = std::max({last_seq_, s.last_seq, s.first_seq > 0 ? s.first_seq - 1 : 0});
    stats_.bytes += s.bytes;
  }
  stats_.segments = segments_.size();
  scratch_.reserve(4096);
  if (options_.sync_interval.count() > 0) {
    sync_thread_ = std::thread([this] { sync_loop(); });
  }
}

Journal::~Journal() {
  {
    std::lock_guard lock(sync_mutex_);
    stopping_ = true;
  }
  sync_cv_.notify_all();
  if (sync_thread_.joinable()) {
    sync_thread_.join();
  }
  close_segment();
}

bool Journal::open_segment() {
  if (stats_.bytes + options_.segment_bytes > options_.max_bytes) {
    return false;
  }
  Segment s;
  s.first_seq = last_seq_ + 1;
  s.path = (fs::path(options_.directory) / segment_name(s.first_seq)).string();
  const int fd = ::open(s.path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return false;
  }
  // Allocated up front: a page fault on a hole of the mapping would allocate blocks on the
  // io thread, and a full disk would then end the process with SIGBUS.
  if (::posix_fallocate(fd, 0, static_cast<off_t>(options_.segment_bytes)) != 0) {
    ::close(fd);
    ::unlink(s.path.c_str());
    return false;
  }
  void* p = ::mmap(nullptr, options_.segment_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    ::close(fd);
    ::unlink(s.path.c_str());
    return false;
  }
  {
    std::lock_guard lock(sync_mutex_);
    mapped_ = static_cast<std::uint8_t*>(p);
    mapped_size_ = options_.segment_bytes;
    fd_ = fd;
  }
  std::memcpy(mapped_, kMagic, sizeof kMagic);
  used_ = sizeof kMagic;
  s.bytes = options_.segment_bytes;
  stats_.bytes += s.bytes;
  segments_.push_back(std::move(s));
  stats_.segments = segments_.size();
  return true;
}

void Journal::close_segment() {
  std::lock_guard lock(sync_mutex_);
  if (mapped_ == nullptr) {
    return;
  }
  if (options_.sync_interval.count() > 0) {
    (void)::fdatasync(fd_);
  }
  ::munmap(mapped_, mapped_size_);
  ::close(fd_);
  mapped_ = nullptr;
  fd_ = -1;
}

std::uint64_t Journal::append(Record& record) {
  if (record.type == exporters::RecordType::RibSnapshot) {
    record.seq = last_seq_;  // not replayable: takes the number of the record before it
    return record.seq;
  }
  const std::uint64_t seq = last_seq_ + 1;
  record.seq = seq;
  scratch_.clear();
  const auto at = scratch_.placeholder_u32();
  scratch_.u64(seq);
  Spool::encode_body(record, 0, scratch_);
  const std::size_t n = scratch_.size();
  if (mapped_ != nullptr && mapped_size_ - used_ < n + 4) {
    close_segment();
  }
  if (mapped_ == nullptr && !open_segment()) {
    ++stats_.not_journaled;
    last_seq_ = seq;  // numbered all the same: positions stay in step with the exporters
    return seq;
  }
  // The body first, the length word last: an entry is there once its length is.
  const auto bytes = scratch_.bytes();
  std::memcpy(mapped_ + used_ + 4, bytes.data() + 4, n - 4);
  std::atomic_thread_fence(std::memory_order_release);
  const auto length = static_cast<std::uint32_t>(n - 4);
  scratch_.patch_u32(at, length);
  std::memcpy(mapped_ + used_, scratch_.bytes().data(), 4);
  used_ += n;
  segments_.back().last_seq = seq;
  last_seq_ = seq;
  ++stats_.appended;
  return seq;
}

std::size_t Journal::replay(std::uint64_t after,
                            const std::function<void(std::uint64_t, Record&&)>& f) const {
  std::size_t bad = 0;
  std::uint64_t previous = after;  // numbers only increase: a damaged entry's is skipped
  for (const auto& s : segments_) {
    if (s.last_seq != 0 && s.last_seq <= after) {
      continue;
    }
    const auto data = read_file(s.path);
    const bool clean = walk(data, [&](std::uint64_t seq, std::span<const std::uint8_t> body) {
      if (seq <= previous) {
        return;
      }
      std::uint64_t snapshot_id = 0;
      auto r = Spool::decode(body, snapshot_id);
      if (!r) {
        ++bad;
        return;
      }
      previous = seq;
      f(seq, std::move(*r));
    });
    bad += clean ? 0 : 1;
  }
  return bad;
}

void Journal::release(std::uint64_t upto) {
  // The segment being written (mapped) always stays; an older one goes once every record in
  // it is durable everywhere.
  const std::size_t keep_from = mapped_ != nullptr ? segments_.size() - 1 : segments_.size();
  std::size_t n = 0;
  while (n < keep_from && segments_[n].last_seq <= upto) {
    ++n;
  }
  for (std::size_t i = 0; i < n; ++i) {
    ::unlink(segments_[i].path.c_str());
    stats_.bytes -= std::min(stats_.bytes, segments_[i].bytes);
    ++stats_.released;
  }
  segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(n));
  stats_.segments = segments_.size();
}

void Journal::sync_loop() {
  std::unique_lock lock(sync_mutex_);
  while (!stopping_) {
    sync_cv_.wait_for(lock, options_.sync_interval, [this] { return stopping_; });
    if (fd_ >= 0) {
      (void)::fdatasync(fd_);  // the pages written through the mapping included
    }
  }
}

}  // namespace bgpscribe::collector
