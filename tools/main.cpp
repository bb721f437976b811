// bgpscribe: the command-line entry point. Subcommands map to tools and to the collector
// daemon; this is the only file that names concrete exporters (the table in run's block).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "collector/api/metrics.hpp"
#include "collector/api/server.hpp"
#include "collector/config/config.hpp"
#include "collector/core/run.hpp"
#include "exporters/api/log.hpp"
#include "exporters/bmp/exporter.hpp"
#include "exporters/kafka/exporter.hpp"
#include "exporters/mrt/exporter.hpp"
#include "exporters/null/null_exporter.hpp"
#include "exporters/postgres/exporter.hpp"
#include "tools/api_client.hpp"
#include "tools/archive.hpp"
#include "tools/db.hpp"
#include "tools/dump.hpp"
#include "tools/replay.hpp"

namespace {

using bgpscribe::tools::DumpFormat;
using bgpscribe::tools::DumpOptions;

void add_dump(CLI::App& app, DumpOptions& opt, bool& human, bool& machine, bool& json,
              std::string& time_type, std::string& format) {
  auto* dump = app.add_subcommand(
      "dump",
      "Print MRT files or BMP streams (plain, .gz, .bz2 or - for stdin) as bgpdump -m/-M "
      "lines or JSON");
  dump->add_flag("-m", machine, "one line per route or event, Unix time (bgpdump -m)");
  dump->add_flag("-M", human, "one line per route or event, MM/DD/YY HH:MM:SS (bgpdump -M)");
  dump->add_flag("--json", json, "one JSON object per line (docs/dump.md)");
  dump->add_option("--format", format, "bgpdump, json or ris-live (RIS Live ris_message lines)")
      ->check(CLI::IsMember({"bgpdump", "json", "ris-live"}));
  dump->add_option("-t", time_type, "RIB times: dump (default) or change (route's originated time)")
      ->check(CLI::IsMember({"dump", "change"}));
  dump->add_flag("-p", opt.bgpdump.packet_index, "show the record index in the second column");
  dump->add_flag("-l", opt.bgpdump.large_communities, "add a large communities column");
  dump->add_flag("-u", opt.bgpdump.unknown_attributes, "add a column of unassigned attributes");
  dump->add_flag("--strict-bgpdump", opt.bgpdump.strict,
                 "reproduce bgpdump's omissions too (8192-prefix cap, no RIB_GENERIC/multicast)");
  dump->add_option("-O,--output", opt.output, "write to FILE instead of stdout");
  dump->add_flag("-q,--quiet", opt.quiet, "do not report each malformed record");
  dump->add_flag("--summary", opt.summary, "always print the record/error summary on stderr");
  dump->add_flag(
      "--no-progress", [&opt](std::int64_t) { opt.progress = false; },
      "no progress line on a terminal");
  dump->add_option_function<std::string>(
          "--input",
          [&opt](const std::string& v) { bgpscribe::tools::parse_dump_input(v, opt.input); },
          "mrt or bmp (a raw BMP stream); default: by the file's first bytes")
      ->check(CLI::IsMember({"mrt", "bmp"}));
  dump->add_option("FILE", opt.files, "MRT files or BMP streams")->required();
}

void add_replay(CLI::App& app, bgpscribe::tools::ReplayOptions& opt) {
  auto* replay = app.add_subcommand(
      "replay", "Replay MRT RIB dumps and update files into BGP sessions (docs/replay.md)");
  replay->add_option("--to", opt.to, "collector address")->capture_default_str();
  replay->add_option("--port", opt.port, "collector port")->capture_default_str();
  replay
      ->add_option("--source-base", opt.source_base,
                   "source address of the first session, incremented per session")
      ->capture_default_str();
  replay->add_option("--peers", opt.peers, "replay only the N MRT peers with the most routes");
  replay->add_option("--clone", opt.clone, "sessions per chosen MRT peer")
      ->check(CLI::PositiveNumber);
  replay->add_flag("--diversify", opt.diversify,
                   "every session its own AS (prepended), next hop and 1 % of prefixes left out, "
                   "as real peers differ (docs/replay.md)");
  replay->add_option("--scale", opt.scale, "each prefix becomes N distinct prefixes")
      ->check(CLI::PositiveNumber);
  replay
      ->add_option("--ipv6-from-ipv4", opt.ipv6_from_ipv4,
                   "also send P percent of the IPv4 RIB routes as derived IPv6 routes")
      ->check(CLI::Range(0, 100));
  replay->add_option("--speed", opt.speed, "0: as fast as possible; F: update files at pace x F")
      ->check(CLI::NonNegativeNumber);
  replay->add_flag("--add-path", opt.add_path, "negotiate ADD-PATH send and keep the path ids");
  replay->add_option("--families", opt.families, "families to replay (ipv4, ipv6)")
      ->delimiter(',')
      ->check(CLI::IsMember({"ipv4", "ipv6"}))
      ->capture_default_str();
  replay
      ->add_option("--hold", opt.hold,
                   "seconds to keep the sessions after the end (0: close when sent, -1: until "
                   "killed)")
      ->capture_default_str();
  replay->add_option("--record", opt.record, "write what was sent as MRT BGP4MP records");
  replay->add_flag("--stats", opt.stats, "print per-session and total counts and rates");
  replay
      ->add_option("--connect-timeout", opt.connect_timeout, "seconds for every session to come up")
      ->capture_default_str();
  replay->add_option("--remote-as", opt.remote_as, "the collector's AS (default: any)");
  replay->add_flag("-q,--quiet", opt.quiet, "do not report each malformed record");
  replay->add_option("FILE", opt.files, "MRT files (plain, .gz, .bz2)")->required();
}

// Every exporter the collector can run, by config `type`.
bgpscribe::collector::ExporterTable exporter_table() {
  return {
      {"bmp", bgpscribe::exporters::bmp::make},
      {"kafka", bgpscribe::exporters::kafka::make},
      {"mrt", bgpscribe::exporters::mrt::make},
      {"null", bgpscribe::exporters::null::make},
      {"postgres", bgpscribe::exporters::postgres::make},
  };
}

void add_run(CLI::App& app, bgpscribe::collector::RunOptions& opt) {
  auto* run = app.add_subcommand(
      "run", "Run the collector: BGP sessions in, MRT and other exporters out (docs/collector.md)");
  run->add_option("-c,--config", opt.config_file, "collector config (YAML)")->required();
  run->add_flag("--check", opt.check_only, "validate the config and exit");
}

void add_archive(CLI::App& app, bgpscribe::tools::ArchiveOptions& opt) {
  auto* archive = app.add_subcommand("archive",
                                     "Archive collectors' records from Kafka through MRT and "
                                     "postgres exporters (docs/archive.md)");
  archive->add_option("-c,--config", opt.config_file, "archive config (YAML)")->required();
  archive->add_flag("--check", opt.check_only, "validate the config and exit");
}

// Where `status`, `rib` and `tail` find the collector (tools/api_client.hpp).
void add_api_target(CLI::App& command, bgpscribe::tools::ApiTarget& target) {
  command.add_option("-c,--config", target.config, "the collector's config: its api.socket");
  command.add_option("--socket", target.socket, "the API's unix socket");
  command.add_option("--connect", target.connect, "the API's TCP listener (HOST:PORT)");
}

void add_status(CLI::App& app, bgpscribe::tools::StatusOptions& opt) {
  auto* status = app.add_subcommand(
      "status", "Show a running collector's peers and exporters (the live API, docs/api.md)");
  add_api_target(*status, opt.target);
  status->add_flag("--json", opt.json, "the Status reply as JSON");
}

void add_rib(CLI::App& app, bgpscribe::tools::RibOptions& opt) {
  auto* rib = app.add_subcommand("rib", "Show the routes a running collector holds for a prefix");
  add_api_target(*rib, opt.target);
  rib->add_option("PREFIX", opt.prefix, "192.0.2.0/24, or an address with --longest");
  rib->add_option("--peer", opt.peers, "only this peer (id, address or name); repeatable");
  rib->add_flag("--longest", opt.longest, "the longest prefix held that covers PREFIX");
  rib->add_flag("--longer", opt.longer, "PREFIX and every prefix inside it");
  rib->add_flag("--json", opt.json, "one JSON object per route (docs/api.md)");
}

void add_tail(CLI::App& app, bgpscribe::tools::TailOptions& opt) {
  auto* tail = app.add_subcommand(
      "tail", "Print a running collector's route and peer events as they happen");
  add_api_target(*tail, opt.target);
  tail->add_option("--peer", opt.peers, "only this peer (id, address or name); repeatable");
  tail->add_option("--peer-as", opt.peer_asns, "only peers of this AS; repeatable");
  tail->add_option("--prefix", opt.prefix, "only this prefix");
  tail->add_flag("--more-specific", opt.more_specific, "--prefix and the prefixes inside it");
  tail->add_flag("--less-specific", opt.less_specific, "--prefix and the prefixes covering it");
  tail->add_option("--origin", opt.origin_asns, "only routes originated by this AS; repeatable");
  tail->add_option("--path", opt.path_regex, "only AS paths matching this POSIX extended regex");
  tail->add_option("--community", opt.community, "only routes with this community (65000:1)");
  tail->add_flag("--snapshot", opt.snapshot, "first the routes held now, then live events");
  tail->add_flag("--routes-only", opt.routes_only, "no peer state events");
  tail->add_flag("--json", opt.json, "one JSON object per event, as dump --json (docs/api.md)");
  tail->add_option("--count", opt.count, "stop after N events");
}

// A usage error exits 2 in every subcommand, as other command-line tools do (CLI11's own codes
// are 104 to 114), and says what was wrong: an unknown command or option by name.
int usage_error(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  std::string where = "bgpscribe";
  for (const auto* sub : app.get_subcommands()) {
    where += " " + sub->get_name();
  }
  std::string commands;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    commands += (commands.empty() ? "" : ", ") + sub->get_name();
  }
  if (app.get_subcommands().empty() && argc > 1) {
    const std::string first = std::span<char*>(argv, static_cast<std::size_t>(argc))[1];
    if (first.starts_with("-")) {
      std::fprintf(stderr, "bgpscribe: unknown option '%s'; the commands are %s\n", first.c_str(),
                   commands.c_str());
    } else {
      std::fprintf(stderr, "bgpscribe: '%s' is not a command; the commands are %s\n", first.c_str(),
                   commands.c_str());
    }
    std::fprintf(stderr, "run `bgpscribe --help` or `bgpscribe COMMAND --help`\n");
    return 2;
  }
  std::fprintf(stderr, "%s: %s\nrun `%s --help`\n", where.c_str(), e.what(), where.c_str());
  return 2;
}

int run_main(int argc, char** argv) {
  CLI::App app{"bgpscribe: BGP route collector and MRT tools"};
  app.require_subcommand(1);
  app.set_version_flag("--version", BGPSCRIBE_VERSION);
  DumpOptions dump_options;
  bool human = false;
  bool machine = false;
  bool json = false;
  std::string time_type = "dump";
  std::string format;
  add_dump(app, dump_options, human, machine, json, time_type, format);
  bgpscribe::tools::ReplayOptions replay_options;
  add_replay(app, replay_options);
  bgpscribe::collector::RunOptions run_options;
  add_run(app, run_options);
  bgpscribe::tools::DbArgs db_args;
  bgpscribe::tools::add_db(app, db_args);
  bgpscribe::tools::StatusOptions status_options;
  add_status(app, status_options);
  bgpscribe::tools::RibOptions rib_options;
  add_rib(app, rib_options);
  bgpscribe::tools::TailOptions tail_options;
  add_tail(app, tail_options);
  bgpscribe::tools::ArchiveOptions archive_options;
  add_archive(app, archive_options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(app, e, argc, argv);
  }

  if (app.got_subcommand("run")) {
    // The live API beside the collector, unless the config turns it off (docs/api.md), and
    // the metrics endpoint when the config asks for it (docs/metrics.md).
    run_options.attach = [](bgpscribe::collector::Collector& collector,
                            const bgpscribe::collector::config::CollectorConfig& config) {
      namespace api = bgpscribe::collector::api;
      struct Servers {
        std::unique_ptr<api::ApiServer> api;
        std::unique_ptr<api::MetricsServer> metrics;
      };
      auto servers = std::make_shared<Servers>();
      if (config.api.enabled) {
        servers->api = std::make_unique<api::ApiServer>(collector, config);
      }
      if (config.metrics) {
        servers->metrics = std::make_unique<api::MetricsServer>(collector, *config.metrics);
        bgpscribe::exporters::logf(bgpscribe::exporters::LogLevel::Info, "metrics",
                                   "listening on %s", servers->metrics->url().c_str());
      }
      return std::shared_ptr<void>(std::move(servers));
    };
    return bgpscribe::collector::run_collector(run_options, exporter_table());
  }

  if (app.got_subcommand("archive")) {
    return bgpscribe::tools::run_archive(archive_options, exporter_table());
  }
  if (app.got_subcommand("dump")) {
    if (static_cast<int>(human) + static_cast<int>(machine) + static_cast<int>(json) +
            static_cast<int>(!format.empty()) >
        1) {
      std::fprintf(stderr, "bgpscribe dump: choose one of -m, -M, --json and --format\n");
      return 2;
    }
    dump_options.format = json ? DumpFormat::Json : DumpFormat::Bgpdump;
    if (!format.empty()) {
      bgpscribe::tools::parse_dump_format(format, dump_options.format);
    }
    dump_options.bgpdump.human_time = human;
    dump_options.bgpdump.change_time = time_type == "change";
    return bgpscribe::tools::run_dump(dump_options);
  }
  if (app.got_subcommand("replay")) {
    return bgpscribe::tools::run_replay(replay_options);
  }
  if (app.got_subcommand("db")) {
    return bgpscribe::tools::run_db(db_args);
  }
  if (app.got_subcommand("status")) {
    return bgpscribe::tools::run_status(status_options);
  }
  if (app.got_subcommand("rib")) {
    if (rib_options.prefix.empty()) {
      std::fprintf(stderr, "bgpscribe rib: which prefix? (bgpscribe rib 192.0.2.0/24)\n");
      return 2;
    }
    return bgpscribe::tools::run_rib(rib_options);
  }
  if (app.got_subcommand("tail")) {
    return bgpscribe::tools::run_tail(tail_options);
  }
  return 2;
}

}  // namespace

// An exception that escapes a command (out of memory, a file system error the command does not
// handle itself) ends the program with its message and status 1, instead of std::terminate.
int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bgpscribe: %s\n", e.what());
    return 1;
  }
}
