#include "exporters/kafka/config.hpp"

#include <librdkafka/rdkafka.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <filesystem>
#include <memory>
#include <string_view>

#include "exporters/api/config.hpp"
#include "exporters/kafka/rdkafka.hpp"

namespace bgpscribe::exporters::kafka {

namespace {

// librdkafka properties the exporter sets itself, and how.
constexpr std::array kOwned{
    OwnedProperty{"bootstrap.servers", "from 'brokers'"},
    OwnedProperty{"metadata.broker.list", "from 'brokers'"},
    OwnedProperty{"client.id", "from 'client_id'"},
    OwnedProperty{"enable.idempotence", "always to true"},
    OwnedProperty{"acks", "always to all"},
    OwnedProperty{"request.required.acks", "always to all"},
    OwnedProperty{"queue.buffering.max.messages", "from 'queue_messages'"},
    OwnedProperty{"message.timeout.ms", "from 'delivery_timeout'"},
    OwnedProperty{"delivery.timeout.ms", "from 'delivery_timeout'"},
};

}  // namespace

Options parse_options(const ExporterContext& context, const YAML::Node& node) {
  const std::string what = "exporter '" + context.instance_name + "'";
  ConfigMap map(context.config_file, node, what);
  (void)map.string("type");
  (void)map.string("name", context.instance_name);
  Options o;
  o.collector_name = context.collector_name;

  if (!map.node("brokers")) {
    map.fail("brokers", "'brokers' is required: a list of \"host:port\" Kafka brokers");
  }
  o.brokers = map.strings("brokers");
  if (o.brokers.empty()) {
    map.fail("brokers", "'brokers' must name at least one \"host:port\"");
  }
  for (const auto& b : o.brokers) {
    if (b.empty() || b.find_first_of(", \t") != std::string::npos) {
      map.fail("brokers", "'brokers' entries are \"host:port\" each, not '" + b + "'");
    }
  }

  if (const auto topics_node = map.node("topics")) {
    if (!topics_node.IsMap()) {
      map.fail("topics",
               "'topics' must be a mapping: routes: <topic>, peers: <topic>, records: <topic>");
    }
    ConfigMap topics(context.config_file, topics_node, what + " topics");
    o.routes_topic = topics.string("routes", o.routes_topic);
    o.peers_topic = topics.string("peers", o.peers_topic);
    o.records_topic = topics.string("records", o.records_topic);
    topics.check_unknown();
    for (const auto* t : {&o.routes_topic, &o.peers_topic, &o.records_topic}) {
      if (t == &o.records_topic && !topics.node("records")) {
        continue;  // not produced
      }
      if (t->empty() || t->size() > 249 ||
          t->find_first_not_of(
              "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
              std::string::npos) {
        const std::string key = t == &o.routes_topic  ? "routes"
                                : t == &o.peers_topic ? "peers"
                                                      : "records";
        topics.fail(key, "'" + key +
                             "' must be a Kafka topic name, 1 to 249 of [a-zA-Z0-9._-], not '" +
                             *t + "'");
      }
    }
  }

  o.encoding = map.choice("encoding", {"protobuf", "json"}, "protobuf") == "json"
                   ? Encoding::Json
                   : Encoding::Protobuf;
  o.client_id = map.string("client_id", o.client_id);
  o.queue_messages = map.integer("queue_messages", 1, 10'000'000, o.queue_messages);
  o.delivery_timeout = std::chrono::seconds(map.seconds("delivery_timeout", 0));
  o.stop_timeout = std::chrono::seconds(map.seconds("stop_timeout", 10));

  o.properties = read_properties(map, kOwned, "exporter");
  map.check_unknown();
  if (!context.state_directory.empty()) {
    o.position_file = (std::filesystem::path(context.state_directory) /
                       ("kafka-" + context.instance_name + ".position"))
                          .string();
  }
  return o;
}

}  // namespace bgpscribe::exporters::kafka
