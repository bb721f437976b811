// `bgpscribe run`: load the config, build the exporters through the caller's table (at start,
// and those a reload changes or adds), run the collector until a signal ends it. tools/main.cpp
// owns the table (the only place that names concrete exporters).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "exporters/api/exporter.hpp"

namespace bgpscribe::collector {

using ExporterTable = std::map<std::string, exporters::ExporterFactory>;

class Collector;
namespace config {
struct CollectorConfig;
struct ExporterConfig;
}  // namespace config

// Builds one exporter entry through the table (`base` with the entry's name as instance_name);
// throws ConfigError for an unknown type or (the factory's) a bad option.
exporters::ExporterPtr build_exporter(const exporters::ExporterContext& base,
                                      const config::ExporterConfig& e, const ExporterTable& table);

// Something that runs beside the collector (the live API, collector/api/): started once the
// collector is built, before it starts; kept until it has stopped. Throws to refuse to run.
using Attachment = std::function<std::shared_ptr<void>(Collector&, const config::CollectorConfig&)>;

struct RunOptions {
  std::string config_file;
  bool check_only = false;  // validate the config (and build the exporters), then exit
  Attachment attach;        // optional
};

// Returns the process exit status: 0 after a clean shutdown, 2 for a refused config, 1 for
// a failure to start (port in use, exporter refusing to start).
int run_collector(const RunOptions& options, const ExporterTable& table);

}  // namespace bgpscribe::collector
