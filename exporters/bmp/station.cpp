#include "exporters/bmp/station.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <cerrno>
#include <span>
#include <vector>

#include "exporters/api/log.hpp"

namespace bgpscribe::exporters::bmp {

namespace {

constexpr int kPollSliceMs = 200;
constexpr int kConnectTimeoutMs = 10000;
// What one send() carries at most when live messages are gathered (see serve()).
constexpr std::size_t kBatchBytes = std::size_t{256} << 10;

// A blocked send wakes up every second to see stop() and a drop.
void set_send_timeout(int fd) {
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

Station::Station(StationAddress address, Options options, std::vector<std::uint8_t> initiation,
                 std::function<void()> want_table)
    : address_(std::move(address)),
      options_(std::move(options)),
      initiation_(std::move(initiation)),
      want_table_(std::move(want_table)) {}

Station::Station(int fd, StationAddress from, Options options, std::vector<std::uint8_t> initiation,
                 std::function<void()> want_table)
    : Station(std::move(from), std::move(options), std::move(initiation), std::move(want_table)) {
  accepted_fd_ = fd;
}

Station::~Station() {
  if (thread_.joinable()) {
    request_stop(nullptr, std::chrono::milliseconds(0));
    join();
  }
}

void Station::start() {
  thread_ = std::thread([this] { run(); });
}

void Station::request_stop(const SharedMessage& termination, std::chrono::milliseconds drain) {
  {
    std::lock_guard lock(mutex_);
    if (termination && state_ != State::Disconnected) {
      queue_.push_back({termination, 1, false});
    }
    drain_until_ = std::chrono::steady_clock::now() + drain;
    stopping_.store(true);
  }
  wake_.notify_all();
}

void Station::join() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Station::push_live(const SharedMessage& batch, std::uint64_t messages) {
  std::lock_guard lock(mutex_);
  if (state_ != State::Live) {
    return;
  }
  if (queued_live_ > 0 && queued_live_ + messages > options_.queue) {
    // Too slow for the feed: drop it; it gets the whole table again after reconnecting.
    queue_.clear();
    queued_live_ = 0;
    counters_.queued = 0;
    ++counters_.overflows;
    state_ = State::Disconnected;
    drop_ = true;
    if (fd_ >= 0) {
      ::shutdown(fd_, SHUT_RDWR);  // a send blocked on the station returns
    }
    wake_.notify_all();
    return;
  }
  const bool was_empty = queue_.empty();
  queue_.push_back({batch, messages, true});
  queued_live_ += messages;
  counters_.queued = queued_live_;
  if (was_empty) {
    wake_.notify_all();  // a thread with work queued is not waiting
  }
}

std::uint64_t Station::waiting_table() const {
  std::lock_guard lock(mutex_);
  return state_ == State::WaitingTable ? connection_ : 0;
}

bool Station::push_table(std::uint64_t connection, const SharedMessage& chunk,
                         std::uint64_t messages, bool last) {
  std::lock_guard lock(mutex_);
  if (state_ != State::WaitingTable || connection != connection_) {
    return false;  // dropped meanwhile: a new connection asks for a table of its own
  }
  queue_.push_back({chunk, messages, false});
  if (last) {
    ++counters_.tables_sent;
    state_ = State::Live;
  }
  wake_.notify_all();
  return true;
}

Station::Counters Station::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

void Station::run() {
  if (accepted_fd_ >= 0) {
    set_send_timeout(accepted_fd_);
    serve(accepted_fd_);
    finished_.store(true);
    return;
  }
  auto backoff = options_.backoff_initial;
  while (!stopping_.load()) {
    const int fd = connect_once();
    if (fd >= 0) {
      backoff = options_.backoff_initial;
      serve(fd);
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, backoff, [&] { return stopping_.load(); });
    if (fd < 0) {
      backoff = std::min(backoff * 2, options_.backoff_max);
    }
  }
}

int Station::connect_once() {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (::getaddrinfo(address_.host.c_str(), address_.port.c_str(), &hints, &found) != 0) {
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = found; ai != nullptr && fd < 0 && !stopping_.load(); ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      continue;
    }
    bool ok = ::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
    if (!ok && errno == EINPROGRESS) {
      // Wait in slices so that stop() is not held up by a station that does not answer.
      for (int waited = 0; waited < kConnectTimeoutMs && !stopping_.load();
           waited += kPollSliceMs) {
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, kPollSliceMs) > 0) {
          int err = 0;
          socklen_t len = sizeof err;
          ok = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
          break;
        }
      }
    }
    if (!ok) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd >= 0) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    set_send_timeout(fd);
  }
  return fd;
}

void Station::serve(int fd) {
  {
    std::lock_guard lock(mutex_);
    fd_ = fd;
    drop_ = false;
    ++connection_;
    queue_.clear();
    queued_live_ = 0;
    queue_.push_back({std::make_shared<const std::vector<std::uint8_t>>(initiation_), 1, false});
    counters_.queued = 0;
    counters_.connected = true;
    ++counters_.connects;
    state_ = State::WaitingTable;
  }
  logf(LogLevel::Info, "bmp", "station %s connected", address_.text().c_str());
  want_table_();
  // The exporter queues live messages in batches and a table in chunks; small items (a batch
  // cut short by a flush, a Peer Up) go out gathered into one send of up to kBatchBytes, so
  // that a slow feed too costs one syscall and one lock round trip per batch. A big item goes
  // out alone, without a copy.
  std::vector<std::uint8_t> batch;
  batch.reserve(kBatchBytes);
  for (;;) {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] { return !queue_.empty() || stopping_.load() || drop_; });
    if (drop_ || queue_.empty()) {
      break;  // overflow, or stopping with nothing left to send
    }
    Item big;
    std::uint64_t messages = 0;
    batch.clear();
    while (!queue_.empty()) {
      Item& next = queue_.front();
      if (next.bytes->size() >= kBatchBytes / 2) {
        if (batch.empty()) {
          big = std::move(next);
          messages = big.messages;
          queued_live_ -= big.live ? big.messages : 0;
          queue_.pop_front();
        }
        break;
      }
      if (batch.size() + next.bytes->size() > kBatchBytes) {
        break;
      }
      batch.insert(batch.end(), next.bytes->begin(), next.bytes->end());
      messages += next.messages;
      queued_live_ -= next.live ? next.messages : 0;
      queue_.pop_front();
    }
    counters_.queued = queued_live_;
    lock.unlock();
    const std::span<const std::uint8_t> out = big.bytes ? std::span<const std::uint8_t>(*big.bytes)
                                                        : std::span<const std::uint8_t>(batch);
    if (!send_all(fd, out)) {
      break;
    }
    lock.lock();
    counters_.messages_sent += messages;
    counters_.bytes_sent += out.size();
  }
  std::lock_guard lock(mutex_);
  ::close(fd);
  fd_ = -1;
  queue_.clear();
  queued_live_ = 0;
  counters_.queued = 0;
  counters_.connected = false;
  ++counters_.disconnects;
  state_ = State::Disconnected;
  if (!stopping_.load()) {
    logf(accepted_fd_ >= 0 && !drop_ ? LogLevel::Info : LogLevel::Warning, "bmp",
         "station %s disconnected%s", address_.text().c_str(), drop_ ? " (queue full)" : "");
  }
}

bool Station::send_all(int fd, std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes = bytes.subspan(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      // Send timeout: go on unless stopping past the drain deadline, or dropped.
      std::lock_guard lock(mutex_);
      if (drop_ || (stopping_.load() && std::chrono::steady_clock::now() >= drain_until_)) {
        return false;
      }
      continue;
    }
    return false;
  }
  return true;
}

}  // namespace bgpscribe::exporters::bmp
