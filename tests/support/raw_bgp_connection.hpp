// Test support: a plain POSIX TCP connection to a speaker on 127.0.0.1 that sends exactly the
// bytes a test gives it (hostile, broken or well-formed) and reads BGP messages back, every read
// bounded by a timeout. Built on no part of the speaker, so it can test it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "codec/bgp/notification.hpp"
#include "codec/bgp/open.hpp"

namespace bgpscribe::tests {

class RawBgpConnection {
 public:
  // Connects from `local` (an IPv4 address, bound first) to 127.0.0.1:`port`. `rcvbuf` > 0
  // shrinks the receive buffer (and so the window) before connecting.
  RawBgpConnection(const std::string& local, std::uint16_t port, int rcvbuf = 0);
  ~RawBgpConnection();
  RawBgpConnection(const RawBgpConnection&) = delete;
  RawBgpConnection& operator=(const RawBgpConnection&) = delete;
  RawBgpConnection(RawBgpConnection&&) = delete;
  RawBgpConnection& operator=(RawBgpConnection&&) = delete;

  void close();
  // Unblocks a send or recv in progress on another thread (unlike close, no race on the socket).
  void shutdown();
  [[nodiscard]] bool connected() const { return connected_; }
  bool send(std::span<const std::uint8_t> b);

  // One whole message, or nullopt on EOF, error or timeout.
  std::optional<std::vector<std::uint8_t>> read(
      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads until a NOTIFICATION arrives; returns it.
  std::optional<codec::bgp::Notification> read_notification(
      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // True when the peer closes the connection (EOF) within `timeout` without sending data.
  bool closed_without_data(std::chrono::milliseconds timeout);
  // Sends our OPEN and KEEPALIVE and reads the peer's OPEN and KEEPALIVE.
  bool handshake(const codec::bgp::Open& open);

  // Reads until EOF (or error) within `timeout`: the message types received, in order, and
  // whether the connection was closed. A NOTIFICATION's code and subcode land in `notification`.
  struct Ending {
    std::vector<int> types;
    bool closed = false;
    std::optional<std::pair<int, int>> notification;
  };
  Ending read_to_end(std::chrono::milliseconds timeout);

 private:
  void set_timeout(std::chrono::microseconds t);
  bool read_exact(std::span<std::uint8_t> out, std::chrono::milliseconds timeout);

  int fd_ = -1;
  bool connected_ = false;
};

}  // namespace bgpscribe::tests
