// The BMP exporter's listen addresses (`listen:`): stations that connect to the collector
// instead of the collector connecting to them (RFC 7854 section 3.2 lets either side open the
// session).
//
// Binding happens in the constructor, so that a taken port stops the start with its address
// named. The listener's thread accepts connections and hands each to `on_connection` (on that
// thread); the exporter turns it into a Station (station.hpp) that serves it until it closes.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "exporters/bmp/config.hpp"

namespace bgpscribe::exporters::bmp {

class StationListener {
 public:
  // Binds every address (port 0: any free port). Throws std::runtime_error naming the address.
  explicit StationListener(const std::vector<StationAddress>& addresses);
  ~StationListener();
  StationListener(const StationListener&) = delete;
  StationListener& operator=(const StationListener&) = delete;

  // `fd`: the accepted, blocking socket, now the callee's; `from`: the station's address.
  using OnConnection = std::function<void(int fd, const StationAddress& from)>;
  void start(OnConnection on_connection);
  void stop();  // the thread ends within a poll slice; the sockets close

  // The ports bound, in the order of the addresses (the real ones for port 0).
  [[nodiscard]] const std::vector<std::uint16_t>& ports() const { return ports_; }
  // Connections that could not be accepted (EMFILE, ENFILE, ENOMEM, ...). Any thread.
  [[nodiscard]] std::uint64_t accept_failures() const { return accept_failures_.load(); }

 private:
  void run();
  void accept_failed(int error);  // counts, logs (rate-limited), pauses

  std::vector<int> fds_;
  std::vector<std::uint16_t> ports_;
  std::vector<std::string> names_;  // "host:port" bound, for the log
  OnConnection on_connection_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> accept_failures_{0};
  std::int64_t last_failure_log_s_ = 0;  // the thread's
  std::thread thread_;
};

}  // namespace bgpscribe::exporters::bmp
