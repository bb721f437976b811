#include "exporters/mrt/config.hpp"

#include <yaml-cpp/yaml.h>

#include "codec/bgp/ip.hpp"
#include "exporters/api/config.hpp"
#include "exporters/api/exporter.hpp"

namespace bgpscribe::exporters::mrt {

namespace {

using codec::mrt::Compression;

struct Preset {
  const char* updates_file;
  std::int64_t updates_interval;
  const char* rib_file;
  std::int64_t rib_interval;
};

// RIPE RIS: rrcNN/YYYY.MM/updates.YYYYMMDD.HHMM.gz every 5 minutes, bview every 8 hours.
constexpr Preset kRis{"{collector}/%Y.%m/updates.%Y%m%d.%H%M.gz", 300,
                      "{collector}/%Y.%m/bview.%Y%m%d.%H%M.gz", std::int64_t{8} * 3600};
// RouteViews (archive.routeviews.org): <collector>/bgpdata/YYYY.MM/UPDATES/
// updates.YYYYMMDD.HHMM.bz2 every 15 minutes, RIBS/ every 2 hours.
constexpr Preset kRouteViews{"{collector}/bgpdata/%Y.%m/UPDATES/updates.%Y%m%d.%H%M.bz2", 900,
                             "{collector}/bgpdata/%Y.%m/RIBS/rib.%Y%m%d.%H%M.bz2",
                             std::int64_t{2} * 3600};

const char* extension_of(Compression c) {
  switch (c) {
    case Compression::Gzip:
      return ".gz";
    case Compression::Bzip2:
      return ".bz2";
    case Compression::None:
      return "";
  }
  return "";
}

std::string strip_compression_extension(const std::string& name) {
  if (name.ends_with(".gz")) {
    return name.substr(0, name.size() - 3);
  }
  if (name.ends_with(".bz2")) {
    return name.substr(0, name.size() - 4);
  }
  return name;
}

// A template must stay inside `directory` and name a file.
void check_template(ConfigMap& map, const char* key, const std::string& value) {
  if (value.empty()) {
    return;
  }
  if (value.front() == '/') {
    map.fail(key,
             std::string("'") + key + "' must be relative to 'directory', not '" + value + "'");
  }
  if (value.back() == '/') {
    map.fail(key, std::string("'") + key + "' must name a file, not a directory");
  }
  for (std::size_t at = 0; (at = value.find("..", at)) != std::string::npos; at += 2) {
    const bool starts = at == 0 || value[at - 1] == '/';
    const bool ends = at + 2 == value.size() || value[at + 2] == '/';
    if (starts && ends) {
      map.fail(key, std::string("'") + key + "' must not contain '..'");
    }
  }
}

std::chrono::milliseconds parse_flush_interval(ConfigMap& map) {
  auto n = map.node("flush_interval");
  if (!n) {
    return std::chrono::milliseconds(1000);
  }
  std::int64_t ms = -1;
  const std::string s = n.IsScalar() ? n.Scalar() : std::string();
  if (s.size() > 2 && s.ends_with("ms")) {
    ms = parse_integer(std::string_view(s).substr(0, s.size() - 2)).value_or(-1);
  } else if (auto secs = parse_seconds(s)) {
    ms = *secs * 1000;
  }
  if (ms <= 0 || ms > 3'600'000) {
    map.fail_at(n, "'flush_interval' must be a duration from 1ms to 1h such as 500ms or 1s, not '" +
                       s + "'");
  }
  return std::chrono::milliseconds(ms);
}

}  // namespace

Compression compression_for_name(const std::string& name) {
  if (name.ends_with(".gz")) {
    return Compression::Gzip;
  }
  if (name.ends_with(".bz2")) {
    return Compression::Bzip2;
  }
  return Compression::None;
}

Options parse_options(const ExporterContext& context, const YAML::Node& node) {
  ConfigMap map(context.config_file, node, "exporter '" + context.instance_name + "'");
  (void)map.string("type");
  (void)map.string("name", context.instance_name);

  Options o;
  o.collector_name = context.collector_name;
  o.directory = map.string("directory");
  if (o.directory.empty()) {
    map.fail("directory", "'directory' must not be empty");
  }

  const std::string preset = map.choice("preset", {"ris", "routeviews", "none"}, "ris");
  const Preset* p = preset == "ris" ? &kRis : preset == "routeviews" ? &kRouteViews : nullptr;

  const bool updates_given = map.has("updates_file");
  const bool rib_given = map.has("rib_file");
  if (p == nullptr && !updates_given) {
    map.fail("preset", "'preset: none' needs 'updates_file'");
  }
  o.updates_file = map.string("updates_file", p != nullptr ? p->updates_file : "");
  if (o.updates_file.empty()) {
    map.fail("updates_file", "'updates_file' must not be empty");
  }
  o.rib_file = map.string("rib_file", p != nullptr ? p->rib_file : "");
  check_template(map, "updates_file", o.updates_file);
  check_template(map, "rib_file", o.rib_file);

  constexpr std::int64_t kWeek = std::int64_t{7} * 86400;
  o.updates_interval = map.seconds("updates_interval", p != nullptr ? p->updates_interval : 0);
  if (o.updates_interval > kWeek) {
    map.fail("updates_interval", "'updates_interval' must be at most 7d");
  }
  o.rib_interval = map.seconds("rib_interval", p != nullptr ? p->rib_interval : 0);
  if (o.rib_interval > kWeek) {
    map.fail("rib_interval", "'rib_interval' must be at most 7d");
  }
  if (o.updates_interval > 0 && o.updates_interval < 60 &&
      o.updates_file.find("%S") == std::string::npos) {
    map.fail("updates_interval",
             "'updates_interval' below 1m needs %S in 'updates_file' (names would repeat)");
  }

  // Compression: explicit, else from each file name. An explicit choice renames the preset's
  // templates (ris + bzip2 gives .bz2 names) but must agree with a template the user wrote.
  if (map.has("compression")) {
    const std::string c = map.choice("compression", {"gzip", "bzip2", "none"});
    const Compression chosen = c == "gzip"    ? Compression::Gzip
                               : c == "bzip2" ? Compression::Bzip2
                                              : Compression::None;
    auto apply = [&](std::string& file, bool given, const char* key) {
      if (file.empty()) {
        return;
      }
      if (!given) {
        file = strip_compression_extension(file) + extension_of(chosen);
      } else if (compression_for_name(file) != Compression::None &&
                 compression_for_name(file) != chosen) {
        map.fail(key, std::string("'") + key + "' ends in " +
                          extension_of(compression_for_name(file)) + " but 'compression' is " + c);
      }
    };
    apply(o.updates_file, updates_given, "updates_file");
    apply(o.rib_file, rib_given, "rib_file");
    o.updates_compression = chosen;
    o.rib_compression = chosen;
  } else {
    o.updates_compression = compression_for_name(o.updates_file);
    o.rib_compression = compression_for_name(o.rib_file);
  }
  o.gzip_level = static_cast<int>(map.integer("gzip_level", 1, 9, kDefaultGzipLevel));
  o.bzip2_block = static_cast<int>(map.integer("bzip2_block_size", 1, 9, 9));

  o.format = map.choice("format", {"bgp4mp_et", "bgp4mp"}, "bgp4mp_et") == "bgp4mp"
                 ? Format::Bgp4mp
                 : Format::Bgp4mpEt;
  o.flush_interval = parse_flush_interval(map);
  o.max_buffer = map.bytes("max_buffer", o.max_buffer);
  if (o.max_buffer < std::uint64_t{64} * 1024) {
    map.fail("max_buffer", "'max_buffer' must be at least 64k");
  }
  o.state_changes = map.boolean("state_changes", true);
  if (map.has("collector_bgp_id")) {
    auto n = map.node("collector_bgp_id");
    auto ip = n.IsScalar() ? codec::bgp::IpAddress::parse(n.Scalar()) : std::nullopt;
    if (!ip || !ip->is_v4()) {
      map.fail_at(n, "'collector_bgp_id' must be a dotted-quad IPv4 address such as 192.0.2.1");
    }
    o.collector_bgp_id = ip->v4_host_order();
  } else {
    (void)map.node("collector_bgp_id");
  }
  map.check_unknown();
  return o;
}

}  // namespace bgpscribe::exporters::mrt
