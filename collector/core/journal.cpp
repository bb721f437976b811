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
    const auto got = std::span(buf).first(static_cast<std::size_t>(n));
    data.insert(data.end(), got.begin(), got.end());
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
  std::uint64_t last_name = 0;
  std::vector<Segment> found;
  for (const auto& e : fs::directory_iterator(options_.directory)) {
    const auto name = e.path().filename().string();
    if (!e.is_regular_file() || !name.ends_with(".journal") || name.size() != 28) {
      continue;
    }
    last_name = std::max<std::uint64_t>(last_name, std::strtoull(name.c_str(), nullptr, 10));
    Segment s;
    s.path = e.path().string();
    s.bytes = e.file_size();
    found.push_back(std::move(s));
  }
  // Each segment's first and last numbers (read once here; replay reads them again). The
  // largest number, not the last one: a damaged entry may carry any number.
  for (auto& s : found) {
    const auto data = read_file(s.path);
    (void)walk(data, [&](std::uint64_t seq, std::span<const std::uint8_t>) {
      s.first_seq = s.first_seq == 0 ? seq : s.first_seq;
      s.last_seq = std::max(s.last_seq, seq);
    });
    if (s.last_seq == 0) {
      ::unlink(s.path.c_str());  // a spare never written to, or a segment that took nothing
      continue;
    }
    last_seq_ = std::max(last_seq_, s.last_seq);
    stats_.bytes += s.bytes;
    segments_.push_back(std::move(s));
  }
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) { return a.first_seq < b.first_seq; });
  stats_.segments = segments_.size();
  next_name_ = std::max(last_name, last_seq_) + 1;
  scratch_.reserve(4096);
  // The disk thread makes the spares, the first one too: on a disk slow enough that it takes
  // longer than the first sessions take to come up, the start does not wait for it.
  disk_thread_ = std::thread([this] { disk_loop(); });
}

Journal::~Journal() {
  {
    std::lock_guard lock(disk_mutex_);
    stopping_ = true;
  }
  disk_cv_.notify_all();
  disk_thread_.join();
  if (mapped_ != nullptr) {
    unmap(Mapping{std::string(), mapped_, mapped_size_, fd_}, options_.sync_interval.count() > 0);
    mapped_ = nullptr;
  }
}

std::optional<Journal::Mapping> Journal::create_spare() {
  Mapping m;
  m.path = (fs::path(options_.directory) / segment_name(next_name_++)).string();
  m.fd = ::open(m.path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (m.fd < 0) {
    return std::nullopt;
  }
  // Allocated up front: a page fault on a hole of the mapping would allocate blocks on the
  // io thread, and a full disk would then end the process with SIGBUS.
  void* p = MAP_FAILED;
  if (::posix_fallocate(m.fd, 0, static_cast<off_t>(options_.segment_bytes)) == 0) {
    p = ::mmap(nullptr, options_.segment_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, m.fd, 0);
  }
  if (p == MAP_FAILED) {
    ::close(m.fd);
    ::unlink(m.path.c_str());
    return std::nullopt;
  }
  m.data = static_cast<std::uint8_t*>(p);
  m.size = options_.segment_bytes;
  std::memcpy(m.data, kMagic, sizeof kMagic);
  return m;
}

void Journal::unmap(const Mapping& m, bool sync) {
  if (sync) {
    (void)::fdatasync(m.fd);  // the pages written through the mapping included
  }
  ::munmap(m.data, m.size);
  ::close(m.fd);
}

bool Journal::open_segment() {
  if (stats_.bytes + options_.segment_bytes > options_.max_bytes) {
    return false;
  }
  Mapping m;
  {
    std::unique_lock lock(disk_mutex_);
    if (spares_.empty() && !disk_failed_ && !spare_missed_) {
      // The disk thread is behind: wait a little, once, never for the disk itself. Until a
      // spare comes, records go unjournaled without waiting again.
      spare_cv_.wait_for(lock, options_.spare_wait,
                         [this] { return !spares_.empty() || disk_failed_; });
    }
    if (spares_.empty()) {
      spare_missed_ = true;
      return false;
    }
    spare_missed_ = false;
    m = std::move(spares_.front());
    spares_.pop_front();
    current_fd_ = m.fd;
  }
  disk_cv_.notify_one();  // the next spare
  mapped_ = m.data;
  mapped_size_ = m.size;
  fd_ = m.fd;
  used_ = sizeof kMagic;
  Segment s;
  s.path = std::move(m.path);
  s.bytes = m.size;
  stats_.bytes += s.bytes;
  segments_.push_back(std::move(s));
  stats_.segments = segments_.size();
  return true;
}

void Journal::close_segment() {
  if (mapped_ == nullptr) {
    return;
  }
  {
    std::lock_guard lock(disk_mutex_);
    to_close_.push_back(Mapping{std::string(), mapped_, mapped_size_, fd_});
    current_fd_ = -1;
  }
  disk_cv_.notify_one();
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
  const std::span<std::uint8_t> segment(mapped_, mapped_size_);
  std::memcpy(segment.subspan(used_ + 4).data(), bytes.subspan(4).data(), n - 4);
  std::atomic_thread_fence(std::memory_order_release);
  const auto length = static_cast<std::uint32_t>(n - 4);
  scratch_.patch_u32(at, length);
  std::memcpy(segment.subspan(used_).data(), scratch_.bytes().data(), 4);
  used_ += n;
  if (segments_.back().first_seq == 0) {
    segments_.back().first_seq = seq;
  }
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
  {
    std::lock_guard lock(disk_mutex_);
    for (std::size_t i = 0; i < n; ++i) {
      to_delete_.push_back(segments_[i].path);
      stats_.bytes -= std::min(stats_.bytes, segments_[i].bytes);
      ++stats_.released;
    }
  }
  if (n > 0) {
    disk_cv_.notify_one();
  }
  segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(n));
  stats_.segments = segments_.size();
}

void Journal::disk_loop() {
  using Clock = std::chrono::steady_clock;
  const bool sync = options_.sync_interval.count() > 0;
  auto next_sync = Clock::now() + options_.sync_interval;
  auto retry_at = Clock::time_point{};
  std::unique_lock lock(disk_mutex_);
  while (true) {
    const auto now = Clock::now();
    std::vector<Mapping> closes;
    closes.swap(to_close_);
    std::vector<std::string> deletes;
    deletes.swap(to_delete_);
    const bool make_spare =
        !stopping_ && spares_.size() < options_.spares && (!disk_failed_ || now >= retry_at);
    const int sync_fd = sync && now >= next_sync ? current_fd_ : -1;
    if (closes.empty() && deletes.empty() && !make_spare && sync_fd < 0) {
      if (stopping_) {
        break;
      }
      auto until = now + std::chrono::hours(1);
      if (sync) {
        until = std::min(until, next_sync);
      }
      if (disk_failed_) {
        until = std::min(until, retry_at);
      }
      disk_cv_.wait_until(lock, until);
      continue;
    }
    lock.unlock();
    // Only this thread closes descriptors, so the one being synced stays open meanwhile.
    for (const auto& m : closes) {
      unmap(m, sync);
    }
    for (const auto& path : deletes) {
      ::unlink(path.c_str());
    }
    if (sync_fd >= 0) {
      (void)::fdatasync(sync_fd);  // the pages written through the mapping included
    }
    std::optional<Mapping> spare;
    if (make_spare) {
      spare = create_spare();
    }
    lock.lock();
    if (sync_fd >= 0 || (sync && now >= next_sync)) {
      next_sync = now + options_.sync_interval;
    }
    if (make_spare) {
      disk_failed_ = !spare;
      if (spare) {
        spares_.push_back(*spare);
      } else {
        retry_at = now + std::chrono::seconds(1);
      }
      spare_cv_.notify_all();
    }
  }
  std::deque<Mapping> spares;
  spares.swap(spares_);
  lock.unlock();
  for (const auto& m : spares) {
    unmap(m, false);
    ::unlink(m.path.c_str());
  }
}

}  // namespace bgpscribe::collector
