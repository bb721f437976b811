// The Prometheus metrics endpoint of `bgpscribe run` (`metrics:` in the config; docs/metrics.md):
// an HTTP listener that answers GET /metrics with the text exposition format (version 0.0.4).
//
// A scrape takes the collector's StatusView on its io thread (as the gRPC Status does: posted,
// answered within a deadline, so no lock guards the sessions or the RIB) and renders it on the
// endpoint's own thread, with the process's CPU, memory and open files read from /proc. The
// renderer is pure, so that tests check its text without a socket.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "collector/config/config.hpp"
#include "collector/core/status_view.hpp"

namespace bgpscribe::collector {
class Collector;
}

namespace bgpscribe::collector::api {

// The process as Prometheus' standard process_* metrics show it.
struct ProcessSample {
  double cpu_seconds = 0;
  double start_time_seconds = 0;  // Unix seconds
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  std::uint64_t open_fds = 0;
  std::uint64_t max_fds = 0;
  std::uint64_t threads = 0;
};
// This process now, from /proc/self; nullopt when /proc cannot be read.
std::optional<ProcessSample> sample_process();

// The exposition text of `view` (and `process`, when known). Every family has its HELP and
// TYPE lines, label values are escaped, counters end in _total.
std::string render_metrics(const StatusView& view, const std::optional<ProcessSample>& process,
                           std::string_view version);

class MetricsServer {
 public:
  // Listens at once on `address` (a port of 0 picks one); throws std::runtime_error naming
  // the address when it cannot.
  MetricsServer(Collector& collector, const config::ListenAddress& address);
  // Stops listening, closes the connections and joins the thread.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  [[nodiscard]] std::uint16_t port() const;
  // "http://127.0.0.1:9479/metrics"
  [[nodiscard]] std::string url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bgpscribe::collector::api
