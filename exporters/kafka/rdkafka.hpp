// librdkafka helpers shared by the Kafka exporter and `bgpscribe archive` (its consumer): the
// configuration object, a property set or refused with its name and value, the broker list,
// and the `properties:` pass-through of their configs.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "exporters/api/config.hpp"

namespace bgpscribe::exporters::kafka {

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

// Sets `key` to `value`; throws std::runtime_error "<source>: librdkafka refuses key=value: why".
void set_property(rd_kafka_conf_t& conf, const std::string& key, const std::string& value,
                  std::string_view source);

// "host1:9092,host2:9092", as bootstrap.servers takes them.
std::string join(const std::vector<std::string>& parts);

// A librdkafka property the program sets itself, and from what (for the refusal).
struct OwnedProperty {
  std::string_view property;
  std::string_view how;  // "from 'brokers'", "always to true"
};

// The `properties` mapping of `map` (none: empty): each a single value that librdkafka itself
// accepts, none of `owned` ("properties.acks: the <who> sets it always to all"). Fails through
// `map` naming the key and line.
std::map<std::string, std::string> read_properties(const ConfigMap& map,
                                                   std::span<const OwnedProperty> owned,
                                                   std::string_view who);

}  // namespace bgpscribe::exporters::kafka
