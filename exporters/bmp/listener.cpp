#include "exporters/bmp/listener.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include "exporters/api/log.hpp"

namespace bgpscribe::exporters::bmp {

namespace {

constexpr int kPollSliceMs = 200;
constexpr int kFailurePauseMs = 100;
constexpr std::int64_t kFailureLogIntervalS = 60;
constexpr int kBacklog = 16;

// A socket address of either family, as the socket calls take it.
union SocketAddress {
  sockaddr any;
  sockaddr_in v4;
  sockaddr_in6 v6;
  sockaddr_storage storage;
};

// The numeric address and port of a socket address, as "host:port" parts.
StationAddress address_of(const SocketAddress& sa) {
  StationAddress a;
  char host[INET6_ADDRSTRLEN] = {};
  std::uint16_t port = 0;
  if (sa.any.sa_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &sa.v6.sin6_addr, host, sizeof host);
    port = ntohs(sa.v6.sin6_port);
  } else {
    ::inet_ntop(AF_INET, &sa.v4.sin_addr, host, sizeof host);
    port = ntohs(sa.v4.sin_port);
  }
  a.host = host;
  a.port = std::to_string(port);
  return a;
}

int bind_one(const StationAddress& a, std::uint16_t& port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(a.host.c_str(), a.port.c_str(), &hints, &found); rc != 0) {
    throw std::runtime_error("bmp: cannot listen on " + a.text() + ": " + ::gai_strerror(rc));
  }
  const int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0) {
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, kBacklog) != 0) {
      err = errno;
    }
  }
  ::freeaddrinfo(found);
  if (err != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    const std::string port_note =
        err == EACCES ? " (ports below 1024 need CAP_NET_BIND_SERVICE)" : "";
    throw std::runtime_error("bmp: cannot listen on " + a.text() + ": " + std::strerror(err) +
                             port_note);
  }
  SocketAddress bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, &bound.any, &len);
  port = static_cast<std::uint16_t>(std::stoul(address_of(bound).port));
  return fd;
}

}  // namespace

StationListener::StationListener(const std::vector<StationAddress>& addresses) {
  try {
    for (const auto& a : addresses) {
      std::uint16_t port = 0;
      fds_.push_back(bind_one(a, port));
      ports_.push_back(port);
      StationAddress bound = a;
      bound.port = std::to_string(port);
      names_.push_back(bound.text());
    }
  } catch (...) {
    for (const int fd : fds_) {
      ::close(fd);
    }
    throw;
  }
}

StationListener::~StationListener() {
  stop();
  for (const int fd : fds_) {
    ::close(fd);
  }
}

void StationListener::start(OnConnection on_connection) {
  on_connection_ = std::move(on_connection);
  for (const auto& n : names_) {
    logf(LogLevel::Info, "bmp", "listening for stations on %s", n.c_str());
  }
  thread_ = std::thread([this] { run(); });
}

void StationListener::stop() {
  stopping_.store(true);
  if (thread_.joinable()) {
    thread_.join();
  }
}

void StationListener::accept_failed(int error) {
  // The connection stays in the backlog and poll() reports it again at once: a pause keeps
  // the thread from spinning until a descriptor is free; the log says so once a minute.
  const auto n = ++accept_failures_;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  if (n == 1 || now - last_failure_log_s_ >= kFailureLogIntervalS) {
    last_failure_log_s_ = now;
    logf(LogLevel::Warning, "bmp", "cannot accept a station's connection: %s (%llu so far)",
         std::strerror(error), static_cast<unsigned long long>(n));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(kFailurePauseMs));
}

void StationListener::run() {
  std::vector<pollfd> polls;
  for (const int fd : fds_) {
    polls.push_back({fd, POLLIN, 0});
  }
  while (!stopping_.load()) {
    if (::poll(polls.data(), polls.size(), kPollSliceMs) <= 0) {
      continue;
    }
    for (auto& p : polls) {
      if ((p.revents & POLLIN) == 0) {
        continue;
      }
      SocketAddress from{};
      socklen_t len = sizeof from;
      const int fd = ::accept4(p.fd, &from.any, &len, SOCK_CLOEXEC);
      if (fd >= 0) {
        on_connection_(fd, address_of(from));
      } else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        accept_failed(errno);
      }
    }
  }
}

}  // namespace bgpscribe::exporters::bmp
