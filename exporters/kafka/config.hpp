// Options of the Kafka exporter (`type: kafka`), read from its config entry with file:line
// errors.
//
// Only reads and checks options (the librdkafka properties too, against a configuration object
// that is thrown away): no connections, no threads, so the factory also validates reloads.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "exporters/api/exporter.hpp"

namespace bgpscribe::exporters::kafka {

enum class Encoding : std::uint8_t { Protobuf, Json };

struct Options {
  std::string collector_name;        // Peer.collector of every event
  std::vector<std::string> brokers;  // "host:port" each: bootstrap.servers
  std::string routes_topic = "bgpscribe.routes";
  std::string peers_topic = "bgpscribe.peers";
  // The collector's records themselves (exporters/api/record_codec.hpp), for `bgpscribe
  // archive`; empty: not produced.
  std::string records_topic;
  Encoding encoding = Encoding::Protobuf;
  std::string client_id = "bgpscribe";
  // librdkafka's queue.buffering.max.messages: past this accept() waits, and the collector
  // spools the records behind it to disk.
  std::int64_t queue_messages = 100000;
  // librdkafka's message.timeout.ms; zero: never give up on a message (the default).
  std::chrono::milliseconds delivery_timeout{0};
  // How long stop() waits for the messages still queued to be delivered.
  std::chrono::milliseconds stop_timeout{10000};
  // Where the number of the last record whose every message was acknowledged is kept
  // (`<state_directory>/kafka-<name>.position`), so that the journal gives the later ones again
  // after a crash or a stop that could not deliver everything; empty: none kept.
  std::string position_file;
  // Further librdkafka properties (TLS, SASL, compression...), set after ours.
  std::map<std::string, std::string> properties;
};

// Reads `brokers` (required), `topics` (`routes`, `peers`, `records`), `encoding` (protobuf, json),
// `client_id`, `queue_messages`, `delivery_timeout`, `stop_timeout` and `properties`. Throws
// ConfigError naming the key. The position file goes into the context's state directory.
Options parse_options(const ExporterContext& context, const YAML::Node& node);

}  // namespace bgpscribe::exporters::kafka
