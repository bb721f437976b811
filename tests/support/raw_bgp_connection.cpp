#include "tests/support/raw_bgp_connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "codec/bgp/message.hpp"
#include "codec/bgp/route_refresh.hpp"
#include "codec/wire/writer.hpp"

namespace bgpscribe::tests {

namespace {

constexpr std::size_t kHeaderSize = 19;

// The length field of a BGP header (RFC 4271 section 4.1).
std::size_t header_length(std::span<const std::uint8_t> header) {
  return (std::size_t{header[16]} << 8) | header[17];
}

}  // namespace

RawBgpConnection::RawBgpConnection(const std::string& local, std::uint16_t port, int rcvbuf) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (rcvbuf > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  sockaddr_in l{};
  l.sin_family = AF_INET;
  ::inet_pton(AF_INET, local.c_str(), &l.sin_addr);
  const int one = 1;
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::bind(fd_, reinterpret_cast<sockaddr*>(&l), sizeof l);
  sockaddr_in r{};
  r.sin_family = AF_INET;
  r.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &r.sin_addr);
  connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&r), sizeof r) == 0;
}

RawBgpConnection::~RawBgpConnection() {
  close();
}

void RawBgpConnection::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void RawBgpConnection::shutdown() {
  ::shutdown(fd_, SHUT_RDWR);
}

bool RawBgpConnection::send(std::span<const std::uint8_t> b) {
  return ::send(fd_, b.data(), b.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(b.size());
}

std::optional<std::vector<std::uint8_t>> RawBgpConnection::read(std::chrono::milliseconds timeout) {
  std::vector<std::uint8_t> msg(kHeaderSize);
  if (!read_exact(msg, timeout)) {
    return std::nullopt;
  }
  const std::size_t len = header_length(msg);
  if (len < kHeaderSize) {
    return std::nullopt;
  }
  msg.resize(len);
  if (!read_exact(std::span(msg).subspan(kHeaderSize), timeout)) {
    return std::nullopt;
  }
  return msg;
}

std::optional<codec::bgp::Notification> RawBgpConnection::read_notification(
    std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    auto m = read(std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now()));
    if (!m) {
      return std::nullopt;
    }
    if ((*m)[18] == 3) {
      auto n = codec::bgp::parse_notification(*m);
      if (n) {
        return *n;
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

bool RawBgpConnection::closed_without_data(std::chrono::milliseconds timeout) {
  set_timeout(timeout);
  std::uint8_t b = 0;
  return ::recv(fd_, &b, 1, 0) == 0;
}

bool RawBgpConnection::handshake(const codec::bgp::Open& open) {
  codec::wire::Writer w;
  if (!codec::bgp::encode_open(open, w)) {
    return false;
  }
  codec::bgp::encode_keepalive(w);
  if (!send(w.bytes())) {
    return false;
  }
  auto o = read();
  auto k = read();
  return o && k && (*o)[18] == 1 && (*k)[18] == 4;
}

RawBgpConnection::Ending RawBgpConnection::read_to_end(std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  Ending e;
  std::vector<std::uint8_t> buf;
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(until - Clock::now()));
    std::array<std::uint8_t, 4096> chunk{};
    const ssize_t got = ::recv(fd_, chunk.data(), chunk.size(), 0);
    if (got <= 0) {
      e.closed = got == 0 || errno == ECONNRESET;
      break;
    }
    buf.insert(buf.end(), chunk.begin(), chunk.begin() + got);
    while (buf.size() >= kHeaderSize) {
      const std::size_t len = header_length(buf);
      if (len < kHeaderSize || buf.size() < len) {
        break;
      }
      e.types.push_back(buf[18]);
      if (buf[18] == 3 && len >= 21) {
        e.notification = std::pair<int, int>{buf[19], buf[20]};
      }
      buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(len));
    }
  }
  return e;
}

void RawBgpConnection::set_timeout(std::chrono::microseconds t) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count() / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(t.count() % 1000000);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

bool RawBgpConnection::read_exact(std::span<std::uint8_t> out, std::chrono::milliseconds timeout) {
  set_timeout(timeout);
  while (!out.empty()) {
    const ssize_t got = ::recv(fd_, out.data(), out.size(), 0);
    if (got <= 0) {
      return false;
    }
    out = out.subspan(static_cast<std::size_t>(got));
  }
  return true;
}

}  // namespace bgpscribe::tests
