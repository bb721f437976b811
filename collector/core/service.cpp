#include "collector/core/service.hpp"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <cstdlib>

namespace bgpscribe::collector {

ServiceNotifier::ServiceNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  active_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID, if set, is this process.
  if (active_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_ = std::chrono::microseconds(usec);
  }
}

void ServiceNotifier::notify(const std::string& state) {
  if (active_) {
    sd_notify(0, state.c_str());  // a lost datagram only loses a state line: no retry
  }
}

void ServiceNotifier::ready(const std::string& status) {
  notify("READY=1\nSTATUS=" + status);
}

void ServiceNotifier::reloading() {
  notify("RELOADING=1\nSTATUS=reloading the config");
}

void ServiceNotifier::stopping() {
  notify("STOPPING=1\nSTATUS=stopping: closing sessions, draining the exporters");
}

void ServiceNotifier::status(const std::string& status) {
  notify("STATUS=" + status);
}

void ServiceNotifier::start_watchdog(boost::asio::io_context& io) {
  if (!watchdog_) {
    return;
  }
  timer_.emplace(io);
  ping();
}

void ServiceNotifier::ping() {
  notify("WATCHDOG=1");
  // Half the interval, as sd_watchdog_enabled(3) advises: one late ping is no restart.
  timer_->expires_after(*watchdog_ / 2);
  timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      ping();
    }
  });
}

}  // namespace bgpscribe::collector
