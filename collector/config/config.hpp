// The collector's configuration: schema, loader and validation in one place.
//
// A YAML file (yaml-cpp) read whole into an immutable CollectorConfig, or refused whole with a
// ConfigError that names the file, line and column and says what to fix. Exporter options are
// kept as YAML nodes: each exporter's factory reads its own (exporters/api/config.hpp), and
// tools/main.cpp checks each `type` against its table of factories. docs/collector.md documents
// every key; collector.example.yaml at the top of the repository is a working example.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "codec/bgp/ip.hpp"
#include "collector/config/queue_limits.hpp"
#include "collector/speaker.hpp"
#include "exporters/api/config.hpp"
#include "exporters/api/log.hpp"

namespace bgpscribe::collector::config {

using exporters::ConfigError;

struct ListenAddress {
  codec::bgp::IpAddress address{};
  std::uint16_t port = 179;
  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

struct DynamicRange {
  codec::bgp::Prefix range{};
  std::vector<std::uint32_t> allowed_as;  // empty: any AS
  std::size_t max_peers = 4096;
  std::size_t max_pending = 64;  // connections waiting for their OPEN (at most max_peers)
  std::chrono::milliseconds open_timeout{5000};  // how long a connection may go without an OPEN
  PeerConfig peer_template;
  int line = 0;
};

// Routers allowed to connect to the BMP station input (RFC 7854), by address.
struct BmpRouter {
  codec::bgp::Prefix prefix{};
  // The router's name in the archive. Empty: its address. For a prefix wider than one address,
  // each router is named "<name>[<address>]".
  std::string name;
  int line = 0;
  friend bool operator==(const BmpRouter& a, const BmpRouter& b) {
    return a.prefix == b.prefix && a.name == b.name;
  }
};

// The live API (collector/api/, docs/api.md): gRPC, read-only. The unix socket is on unless
// `enabled: false`; TCP only when `listen` is given, the RIS Live WebSocket only when
// `ris_live` is (neither has authentication, so loopback or a trusted network only).
struct ApiConfig {
  bool enabled = true;
  std::string socket;                // unix socket path; default <state_directory>/api.sock
  std::string listen;                // "127.0.0.1:50051" as given; "" for no TCP listener
  std::optional<ListenAddress> tcp;  // `listen` parsed
  // Events a Subscribe stream may have waiting before the subscriber is cut off (Lagging).
  std::size_t subscriber_queue = 262144;
  std::size_t max_subscribers = 16;
  // The RIS Live compatible WebSocket stream (collector/api/ris_live.hpp): "127.0.0.1:8765" as
  // given, "" when off (the default). Its clients count against max_subscribers.
  std::string ris_live;
  std::optional<ListenAddress> ris_live_tcp;  // `ris_live` parsed
  friend bool operator==(const ApiConfig&, const ApiConfig&) = default;
};

struct ExporterConfig {
  std::string name;  // unique; defaults to the type
  std::string type;
  YAML::Node options;  // the exporter's whole mapping
};

struct CollectorConfig {
  std::string file;
  std::string name;  // collector name: in file names and rows
  std::uint32_t local_as = 0;
  std::uint32_t bgp_id = 0;  // host order
  std::vector<ListenAddress> listen;
  std::string state_directory;  // spools and status file
  QueueLimits queue;
  std::chrono::seconds status_interval{60};
  // The write-ahead journal (collector/core/journal.hpp), by default in
  // <state_directory>/journal. The io thread writes it (a memcpy into a mapping), so it belongs
  // on a disk that keeps up with the feed; the spools may be on a slower one.
  bool journal = true;
  std::string journal_directory;
  std::chrono::milliseconds journal_sync{0};  // msync interval (0: kill -9 safe only)
  std::uint64_t journal_max_bytes = std::uint64_t{10} << 30;
  std::vector<PeerConfig> peers;
  std::vector<int> peer_lines;  // line of each peer's entry, for later messages
  std::vector<DynamicRange> dynamic_peers;
  // The BMP station input: where routers connect in, and which may (collector/bmp/).
  std::vector<ListenAddress> bmp_listen;
  std::vector<BmpRouter> bmp_routers;
  ApiConfig api;
  // The Prometheus metrics endpoint (collector/api/metrics.hpp, docs/metrics.md): off unless
  // the config has a `metrics:` section; its `listen` defaults to 127.0.0.1:9479.
  std::optional<ListenAddress> metrics;
  // The `log:` section (docs/collector.md, Logging): level, text or JSON lines, stderr or a file.
  exporters::LogOptions log;
  std::vector<ExporterConfig> exporters;
};

// The `exporters:` list of a config (the collector's, the archiver's): each entry's type and
// unique name, its options left to its factory. Throws ConfigError.
std::vector<ExporterConfig> parse_exporters(const std::string& file, const YAML::Node& list);

// Reads and validates `path`. Throws ConfigError.
CollectorConfig load(const std::string& path);
// The same from text (tests); `file` names it in messages.
CollectorConfig parse(const std::string& text, const std::string& file);

}  // namespace bgpscribe::collector::config
