// `bgpscribe run`: load the config, build the exporters through the caller's table (at start,
// and those a reload changes or adds), run the collector until a signal ends it. tools/main.cpp
// owns the table (the only place that names concrete exporters).
#pragma once

#include <map>
#include <string>

#include "exporters/api/exporter.hpp"

namespace bgpscribe::collector {

using ExporterTable = std::map<std::string, exporters::ExporterFactory>;

struct RunOptions {
  std::string config_file;
  bool check_only = false;  // validate the config (and build the exporters), then exit
};

// Returns the process exit status: 0 after a clean shutdown, 2 for a refused config, 1 for
// a failure to start (port in use, exporter refusing to start).
int run_collector(const RunOptions& options, const ExporterTable& table);

}  // namespace bgpscribe::collector
