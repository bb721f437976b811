// Helpers of the BMP exporter tests: records, OPENs, a small RibSnapshot, a loopback BMP
// station that keeps what it reads per connection, and a reader of BMP streams (codec only).
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "codec/bgp/capability.hpp"
#include "codec/bgp/open.hpp"
#include "codec/bmp/message.hpp"
#include "exporters/api/rib_snapshot.hpp"
#include "exporters/bmp/exporter.hpp"
#include "tests/support/bgp_bytes.hpp"
#include "tests/support/records.hpp"
#include "tests/support/test_snapshot.hpp"
#include "tests/support/wait.hpp"

namespace bgpscribe::exporters::bmp::test {

namespace bgp = codec::bgp;
namespace cbmp = codec::bmp;
using tests::ByteVector;

// 2026-12-04 04:15:00 UTC in microseconds.
inline constexpr std::int64_t kT0 = 1796357700LL * 1'000'000;

// An OPEN from AS `as` (AS_TRANS in My AS above 65535) with capability 65 when `as4`,
// ADD-PATH send and receive for IPv4 unicast when `add_path`, and capability 1 for each of
// `families` (none: no capability 1, IPv4 unicast only).
inline ByteVector open_message(std::uint32_t as, std::uint32_t id, bool as4, bool add_path = false,
                               const std::vector<bgp::AfiSafi>& families = {}) {
  bgp::Open o;
  o.my_as = static_cast<std::uint16_t>(as > 0xFFFF ? 23456 : as);
  o.hold_time = 90;
  o.bgp_identifier = id;
  for (const auto f : families) {
    o.add_capability(bgp::Capability::of(bgp::MultiprotocolCapability{f}));
  }
  if (as4) {
    o.add_capability(bgp::Capability::of(bgp::FourOctetAsCapability{as}));
  }
  if (add_path) {
    o.add_capability(
        bgp::Capability::of(bgp::AddPathCapability{{{bgp::kIpv4Unicast, bgp::AddPathMode::Both}}}));
  }
  codec::wire::Writer w;
  EXPECT_TRUE(bgp::encode_open(o, w));
  return w.take();
}

// `families`: what both OPENs list in capability 1 (see open_message).
inline Record peer_up_record(std::int64_t time_us, PeerInfoPtr peer, bool as4,
                             bool add_path = false,
                             const std::vector<bgp::AfiSafi>& families = {}) {
  Record r;
  r.type = RecordType::PeerUp;
  r.time_us = time_us;
  r.message = SharedBytes(open_message(peer->peer_as, peer->peer_bgp_id, as4, add_path, families));
  r.sent_open =
      SharedBytes(open_message(peer->local_as, peer->local_bgp_id, as4, add_path, families));
  r.context.four_octet_as = as4;
  if (add_path) {
    r.context.set_add_path(bgp::kIpv4Unicast, true);
  }
  r.peer = std::move(peer);
  return r;
}

inline Record peer_down_record(std::int64_t time_us, PeerInfoPtr peer, const ByteVector& message,
                               bool local) {
  Record r;
  r.type = RecordType::PeerDown;
  r.time_us = time_us;
  r.peer = std::move(peer);
  if (!message.empty()) {
    r.message = SharedBytes(message);
  }
  r.local_notification = local;
  return r;
}

using bgpscribe::tests::rib_attributes;

// An UPDATE announcing IPv4 `prefix` from 4-octet `as` with `padding` octets of an unknown
// optional transitive attribute.
inline ByteVector ipv4_update(const std::string& prefix, std::uint32_t as = 64500,
                              std::size_t padding = 0) {
  auto attrs = rib_attributes(as, false);
  if (padding > 0) {
    attrs.insert(attrs.end(), {0xD0, 250, static_cast<std::uint8_t>(padding >> 8),
                               static_cast<std::uint8_t>(padding)});
    attrs.insert(attrs.end(), padding, 0x55);
  }
  codec::wire::Writer w;
  bgp::encode_nlri(w, tests::prefix(prefix), 0, false);
  return tests::update_message({}, attrs, {w.bytes().begin(), w.bytes().end()});
}

inline ByteVector notification_message(std::uint8_t code, std::uint8_t subcode) {
  return tests::bgp_message(3, {code, subcode});
}

using bgpscribe::tests::TestSnapshot;

inline Record snapshot_record(std::shared_ptr<const RibSnapshot> s) {
  Record r;
  r.type = RecordType::RibSnapshot;
  r.time_us = s->time_us();
  r.snapshot = std::move(s);
  return r;
}

// A BMP station on 127.0.0.1: accepts one connection at a time and keeps each one's bytes.
// While paused it reads nothing (the kernel buffers fill, then the exporter's queue).
class LoopbackStation {
 public:
  LoopbackStation() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
    EXPECT_EQ(::listen(listen_fd_, 4), 0);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);  // NOLINT
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~LoopbackStation() {
    stop_.store(true);
    thread_.join();
    ::close(listen_fd_);
  }
  LoopbackStation(const LoopbackStation&) = delete;
  LoopbackStation& operator=(const LoopbackStation&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  void pause(bool on) { paused_.store(on); }
  // Connections so far; `closed` counts those the exporter closed (EOF seen).
  [[nodiscard]] std::size_t connections() const {
    std::lock_guard lock(mutex_);
    return streams_.size();
  }
  [[nodiscard]] std::size_t closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  [[nodiscard]] ByteVector stream(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return i < streams_.size() ? streams_[i] : ByteVector{};
  }

 private:
  void run() {
    while (!stop_.load()) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) {
        continue;
      }
      {
        std::lock_guard lock(mutex_);
        streams_.emplace_back();
      }
      std::vector<std::uint8_t> buf(65536);
      while (!stop_.load()) {
        if (paused_.load()) {
          pollfd none{-1, 0, 0};
          ::poll(&none, 1, 10);
          continue;
        }
        pollfd q{fd, POLLIN, 0};
        if (::poll(&q, 1, 20) <= 0) {
          continue;
        }
        const auto n = ::read(fd, buf.data(), buf.size());
        if (n <= 0) {
          std::lock_guard lock(mutex_);
          ++closed_;
          break;
        }
        std::lock_guard lock(mutex_);
        streams_.back().insert(streams_.back().end(), buf.begin(), buf.begin() + n);
      }
      ::close(fd);
    }
  }
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> paused_{false};
  mutable std::mutex mutex_;
  std::vector<ByteVector> streams_;
  std::size_t closed_ = 0;
  std::thread thread_;
};

// A BMP station that connects to the exporter's listen address on 127.0.0.1 and keeps what it
// reads until the exporter closes the connection.
class ConnectingStation {
 public:
  explicit ConnectingStation(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;  // NOLINT
    thread_ = std::thread([this] { run(); });
  }
  ~ConnectingStation() {
    stop_.store(true);
    thread_.join();
    ::close(fd_);
  }
  ConnectingStation(const ConnectingStation&) = delete;
  ConnectingStation& operator=(const ConnectingStation&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }
  [[nodiscard]] bool closed() const { return closed_.load(); }
  [[nodiscard]] ByteVector stream() const {
    std::lock_guard lock(mutex_);
    return bytes_;
  }

 private:
  void run() {
    std::vector<std::uint8_t> buf(65536);
    while (connected_ && !stop_.load()) {
      pollfd q{fd_, POLLIN, 0};
      if (::poll(&q, 1, 20) <= 0) {
        continue;
      }
      const auto n = ::read(fd_, buf.data(), buf.size());
      if (n <= 0) {
        closed_.store(true);
        return;
      }
      std::lock_guard lock(mutex_);
      bytes_.insert(bytes_.end(), buf.begin(), buf.begin() + n);
    }
  }
  int fd_ = -1;
  bool connected_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<bool> closed_{false};
  mutable std::mutex mutex_;
  ByteVector bytes_;
  std::thread thread_;
};

// Every message of a BMP stream, framed and parsed (the bytes stay in `bytes`).
struct Stream {
  ByteVector bytes;
  std::vector<cbmp::Message> messages;
  bool clean = true;
};
inline std::unique_ptr<Stream> parse_stream(ByteVector bytes) {
  auto s = std::make_unique<Stream>();
  s->bytes = std::move(bytes);
  std::span<const std::uint8_t> rest = s->bytes;
  while (!rest.empty()) {
    const auto f = cbmp::frame(rest);
    if (f.status != bgp::FrameStatus::Message) {
      s->clean = false;
      break;
    }
    auto m = cbmp::parse_message(rest.first(f.size));
    if (!m) {
      s->clean = false;
      break;
    }
    s->messages.push_back(*m);
    rest = rest.subspan(f.size);
  }
  return s;
}

inline std::vector<cbmp::MessageType> types_of(const Stream& s) {
  std::vector<cbmp::MessageType> out;
  for (const auto& m : s.messages) {
    out.push_back(cbmp::type_of(m));
  }
  return out;
}

// An exporter with one station at `port`.
inline std::unique_ptr<BmpExporter> make_exporter(std::uint16_t port, std::size_t queue = 100000,
                                                  int stats_interval = 0) {
  ExporterContext ctx;
  ctx.instance_name = "bmp";
  ctx.collector_name = "rrc99";
  ctx.config_file = "test.yaml";
  auto o =
      parse_options(ctx, YAML::Load("type: bmp\nstations: [\"127.0.0.1:" + std::to_string(port) +
                                    "\"]\nstats_interval: " + std::to_string(stats_interval) +
                                    "\nqueue: " + std::to_string(queue) + "\n"));
  return std::make_unique<BmpExporter>("bmp", o);
}

}  // namespace bgpscribe::exporters::bmp::test
