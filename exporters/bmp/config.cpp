#include "exporters/bmp/config.hpp"

#include <yaml-cpp/yaml.h>

#include "exporters/api/config.hpp"

namespace bgpscribe::exporters::bmp {

std::string StationAddress::text() const {
  if (host.find(':') != std::string::npos) {
    return "[" + host + "]:" + port;
  }
  return host + ":" + port;
}

namespace {

// "host:port" or "[v6]:port"; nullopt-like empty host on error.
bool split_station(const std::string& s, StationAddress& out) {
  std::string host;
  std::string port;
  if (s.starts_with("[")) {
    const auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return false;
    }
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos || s.find(':') != colon) {
      return false;
    }
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  const auto n = parse_unsigned(port);
  if (host.empty() || !n || *n == 0 || *n > 65535) {
    return false;
  }
  out.host = host;
  out.port = std::to_string(*n);
  return true;
}

}  // namespace

Options parse_options(const ExporterContext& context, const YAML::Node& node) {
  ConfigMap map(context.config_file, node, "exporter '" + context.instance_name + "'");
  (void)map.string("type");
  (void)map.string("name", context.instance_name);
  Options o;
  o.collector_name = context.collector_name;
  // "host:port" lists: `stations` we connect to, `listen` addresses stations connect to.
  const auto addresses = [&](const char* key, std::vector<StationAddress>& out) {
    const auto list = map.node(key);
    if (!list) {
      return;
    }
    const auto texts = map.strings(key);
    for (std::size_t i = 0; i < texts.size(); ++i) {
      StationAddress a;
      if (!split_station(texts[i], a)) {
        map.fail_at(list.IsSequence() ? list[i] : list,
                    "'" + texts[i] + "' is not an address: write \"host:port\" or \"[v6]:port\"");
      }
      out.push_back(std::move(a));
    }
  };
  addresses("stations", o.stations);
  addresses("listen", o.listen);
  if (o.stations.empty() && o.listen.empty()) {
    map.fail("stations",
             "'stations' (\"host:port\" BMP stations to connect to) or 'listen' (addresses "
             "stations connect to) must name at least one address");
  }
  o.max_incoming = static_cast<std::size_t>(map.integer("max_incoming", 1, 1000, 8));
  o.stats_interval = std::chrono::seconds(map.seconds("stats_interval", 60));
  o.queue = static_cast<std::size_t>(map.integer("queue", 16, 100'000'000, 100000));
  map.check_unknown();
  return o;
}

}  // namespace bgpscribe::exporters::bmp
