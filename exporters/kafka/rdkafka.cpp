#include "exporters/kafka/rdkafka.hpp"

#include <yaml-cpp/yaml.h>

#include <array>
#include <stdexcept>

namespace bgpscribe::exporters::kafka {

void set_property(rd_kafka_conf_t& conf, const std::string& key, const std::string& value,
                  std::string_view source) {
  std::array<char, 512> error{};
  if (rd_kafka_conf_set(&conf, key.c_str(), value.c_str(), error.data(), error.size()) !=
      RD_KAFKA_CONF_OK) {
    throw std::runtime_error(std::string(source) + ": librdkafka refuses " + key + "=" + value +
                             ": " + std::string(error.data()));
  }
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    out += out.empty() ? "" : ",";
    out += p;
  }
  return out;
}

std::map<std::string, std::string> read_properties(const ConfigMap& map,
                                                   std::span<const OwnedProperty> owned,
                                                   std::string_view who) {
  std::map<std::string, std::string> out;
  const auto props = map.node("properties");
  if (!props) {
    return out;
  }
  if (!props.IsMap()) {
    map.fail("properties", "'properties' must be a mapping of librdkafka properties");
  }
  // Each checked by librdkafka itself, on a configuration object made for nothing else.
  const ConfPtr conf(rd_kafka_conf_new());
  std::array<char, 512> error{};
  for (const auto& entry : props) {
    const auto key = entry.first.as<std::string>();
    if (!entry.second.IsScalar()) {
      map.fail_at(entry.second, "properties." + key + " must be a single value");
    }
    const auto value = entry.second.Scalar();
    for (const auto& o : owned) {
      if (key == o.property) {
        map.fail_at(entry.first, "properties." + key + ": the " + std::string(who) + " sets it " +
                                     std::string(o.how));
      }
    }
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), error.data(), error.size()) !=
        RD_KAFKA_CONF_OK) {
      map.fail_at(entry.second, "properties." + key + ": " + std::string(error.data()));
    }
    out[key] = value;
  }
  return out;
}

}  // namespace bgpscribe::exporters::kafka
