#include "collector/core/run.hpp"

#include <cstdio>
#include <exception>

#include "collector/config/config.hpp"
#include "collector/core/collector.hpp"
#include "collector/core/service.hpp"
#include "exporters/api/log.hpp"

namespace bgpscribe::collector {

namespace {

std::string known_types(const ExporterTable& table) {
  std::string s;
  for (const auto& [name, factory] : table) {
    (void)factory;
    s += (s.empty() ? "" : ", ") + name;
  }
  return s;
}

exporters::ExporterContext context_of(const config::CollectorConfig& cfg) {
  exporters::ExporterContext ctx;
  ctx.collector_name = cfg.name;
  ctx.config_file = cfg.file;
  ctx.state_directory = cfg.state_directory;
  return ctx;
}

// Builds every exporter of the config, or throws ConfigError for the first bad one.
std::vector<exporters::ExporterPtr> build_exporters(const config::CollectorConfig& cfg,
                                                    const ExporterTable& table) {
  std::vector<exporters::ExporterPtr> out;
  for (const auto& e : cfg.exporters) {
    out.push_back(build_exporter(context_of(cfg), e, table));
  }
  return out;
}

}  // namespace

exporters::ExporterPtr build_exporter(const exporters::ExporterContext& base,
                                      const config::ExporterConfig& e, const ExporterTable& table) {
  auto it = table.find(e.type);
  if (it == table.end()) {
    throw exporters::ConfigError(
        base.config_file, e.options["type"],
        "unknown exporter type '" + e.type + "' (known: " + known_types(table) + ")");
  }
  exporters::ExporterContext ctx = base;
  ctx.instance_name = e.name;
  return it->second(ctx, e.options);
}

int run_collector(const RunOptions& options, const ExporterTable& table) {
  config::CollectorConfig cfg;
  std::vector<exporters::ExporterPtr> exporters;
  try {
    cfg = config::load(options.config_file);
    // Before anything logs (the exporters' factories may); a check opens no log file.
    if (!options.check_only) {
      exporters::configure_log(cfg.log);
    }
    exporters = build_exporters(cfg, table);
  } catch (const exporters::ConfigError& e) {
    std::fprintf(stderr, "bgpscribe run: config refused: %s\n", e.what());
    return 2;
  } catch (const YAML::Exception& e) {
    std::fprintf(stderr, "bgpscribe run: config refused: %s:%d:%d: %s\n",
                 options.config_file.c_str(), e.mark.line + 1, e.mark.column + 1, e.msg.c_str());
    return 2;
  } catch (const std::exception& e) {
    // Anything else an exporter's factory throws (it should be a ConfigError): still a
    // refusal, never a crash.
    std::fprintf(stderr, "bgpscribe run: config refused: %s: %s\n", options.config_file.c_str(),
                 e.what());
    return 2;
  }
  if (options.check_only) {
    std::printf("%s: OK (%zu peers, %zu dynamic ranges, %zu exporters)\n",
                options.config_file.c_str(), cfg.peers.size(), cfg.dynamic_peers.size(),
                cfg.exporters.size());
    return 0;
  }
  try {
    Collector collector(cfg, std::move(exporters));
    // The collector builds the exporters a reload changes or adds, and refuses the reload when
    // a factory does. Collector name, file and state directory stay (a reload changing the
    // first or the last is refused).
    collector.set_exporter_builder(
        [&table, base = context_of(cfg)](const config::ExporterConfig& e) {
          return build_exporter(base, e, table);
        });
    collector.set_config_source([&]() -> std::optional<config::CollectorConfig> {
      try {
        return config::load(options.config_file);
      } catch (const std::exception& e) {
        exporters::logf(exporters::LogLevel::Error, "reload",
                        "config refused, keeping the running one: %s", e.what());
        return std::nullopt;
      }
    });
    std::shared_ptr<void> attached;
    if (options.attach) {
      attached = options.attach(collector, cfg);
    }
    // Under systemd (Type=notify): ready once everything listens, the watchdog fed from the
    // io thread, reloads and the shutdown told.
    ServiceNotifier service;
    const auto summary = [&collector] {
      const auto& c = collector.stats();
      return "running: " + std::to_string(collector.process().peers().size()) + " peers, " +
             std::to_string(c.messages) + " messages recorded";
    };
    collector.set_lifecycle({[&service] { service.reloading(); },
                             [&service, summary] { service.ready(summary()); },
                             [&service] { service.stopping(); }});
    collector.start();
    service.ready(summary());
    service.start_watchdog(collector.io());
    collector.run();
    attached.reset();
  } catch (const exporters::ConfigError& e) {
    exporters::logf(exporters::LogLevel::Error, "bgpscribe run", "config refused: %s", e.what());
    if (!cfg.log.file.empty()) {
      std::fprintf(stderr, "bgpscribe run: config refused: %s\n", e.what());
    }
    return 2;
  } catch (const std::exception& e) {
    exporters::log(exporters::LogLevel::Error, "bgpscribe run", e.what());
    // Whoever started it (a terminal, systemd's journal) sees why it did not run, too.
    if (!cfg.log.file.empty()) {
      std::fprintf(stderr, "bgpscribe run: %s\n", e.what());
    }
    return 1;
  }
  return 0;
}

}  // namespace bgpscribe::collector
