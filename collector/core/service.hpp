// The collector as a systemd service (Type=notify, packaging/systemd/bgpscribe.service):
// READY=1 once the listeners and exporters are up, RELOADING=1 and READY=1 around a SIGHUP
// reload, STOPPING=1 when the shutdown begins, a STATUS= line, and WATCHDOG=1 pings from the
// collector's io thread, so that a loop that hangs stops them and systemd restarts the service.
//
// Outside systemd (no NOTIFY_SOCKET) every call does nothing. libsystemd's sd_notify speaks the
// protocol; nothing here blocks.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>
#include <string>

namespace bgpscribe::collector {

class ServiceNotifier {
 public:
  ServiceNotifier();

  // Whether systemd (or anything that set NOTIFY_SOCKET) listens.
  [[nodiscard]] bool active() const { return active_; }
  // WATCHDOG_USEC when the service has a watchdog for this process.
  [[nodiscard]] std::optional<std::chrono::microseconds> watchdog() const { return watchdog_; }

  void ready(const std::string& status);
  void reloading();
  void stopping();
  void status(const std::string& status);
  // Pings the watchdog from `io` at half its interval until `io` stops; nothing without one.
  void start_watchdog(boost::asio::io_context& io);

 private:
  void notify(const std::string& state);
  void ping();

  bool active_ = false;
  std::optional<std::chrono::microseconds> watchdog_;
  std::optional<boost::asio::steady_timer> timer_;
};

}  // namespace bgpscribe::collector
