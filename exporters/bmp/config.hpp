// Options of the BMP exporter (`type: bmp`), read from its config entry with file:line errors.
//
// Only reads and checks options: no sockets, no threads (the factory also validates reloads).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "exporters/api/exporter.hpp"

namespace bgpscribe::exporters::bmp {

// A BMP station bgpscribe connects to.
struct StationAddress {
  std::string host;  // a name or an address (IPv6 given as "[2001:db8::1]:5000")
  std::string port;  // decimal, 1-65535
  [[nodiscard]] std::string text() const;  // "host:port" as configured
};

struct Options {
  std::string collector_name;  // sysName of the Initiation message
  std::vector<StationAddress> stations;
  // Addresses stations connect to (port 0 in tests only: any free port), and how many such
  // stations are served at once; one more is refused (closed, logged, counted).
  std::vector<StationAddress> listen;
  std::size_t max_incoming = 8;
  std::chrono::seconds stats_interval{60};  // 0: no Statistics Reports
  std::size_t queue = 100000;               // messages waiting per station before it is dropped
  // Reconnection backoff: first wait, doubled after each failure up to the maximum.
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{30000};
};

// Reads `stations` and `listen` (lists of "host:port"; at least one of them), `max_incoming`,
// `stats_interval`, `queue`. Throws ConfigError.
Options parse_options(const ExporterContext& context, const YAML::Node& node);

}  // namespace bgpscribe::exporters::bmp
