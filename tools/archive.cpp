#include "tools/archive.hpp"

#include <librdkafka/rdkafka.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

#include "collector/core/exporter_worker.hpp"
#include "exporters/api/config.hpp"
#include "exporters/api/log.hpp"
#include "exporters/api/record_codec.hpp"
#include "exporters/kafka/exporter.hpp"
#include "exporters/kafka/rdkafka.hpp"

namespace bgpscribe::tools {

namespace {

namespace fs = std::filesystem;
using exporters::ConfigError;
using exporters::ConfigMap;
using exporters::LogLevel;
using exporters::kafka::ConfPtr;
using exporters::kafka::join;
using exporters::kafka::set_property;

constexpr std::string_view kSource = "archive";

// librdkafka properties the archiver sets itself, and from what.
constexpr std::array kOwned{
    exporters::kafka::OwnedProperty{"bootstrap.servers", "from 'brokers'"},
    exporters::kafka::OwnedProperty{"metadata.broker.list", "from 'brokers'"},
    exporters::kafka::OwnedProperty{"group.id", "from 'group_id'"},
    exporters::kafka::OwnedProperty{"client.id", "from 'name'"},
    exporters::kafka::OwnedProperty{"enable.auto.commit",
                                    "always to false (offsets follow the exporters)"},
    exporters::kafka::OwnedProperty{"enable.auto.offset.store",
                                    "always to false (offsets follow the exporters)"},
};

// Messages that are no record, logged one by one before only every 10,000th is.
constexpr std::uint64_t kLoggedRefusals = 10;

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;

bool is_topic_name(std::string_view t) {
  return !t.empty() && t.size() <= 249 &&
         t.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
             std::string_view::npos;
}

// A collector name as a folder name: what the collector's config allows in file names.
bool is_collector_name(std::string_view s) {
  return !s.empty() && s.size() <= 255 && s != "." && s != ".." &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
             std::string_view::npos;
}

std::string header(const rd_kafka_message_t& m, const char* name) {
  rd_kafka_headers_t* headers = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  if (rd_kafka_message_headers(&m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      value == nullptr) {
    return {};
  }
  return {static_cast<const char*>(value), size};
}

// An exporter entry for one collector: `{collector}` in its options' values becomes the name.
collector::config::ExporterConfig for_collector(const collector::config::ExporterConfig& e,
                                                const std::string& collector_name) {
  // A new node: assigning to a copy of e.options would write through into e's (yaml-cpp nodes
  // are references).
  collector::config::ExporterConfig out{e.name, e.type, YAML::Clone(e.options)};
  for (auto entry : out.options) {
    if (!entry.second.IsScalar()) {
      continue;
    }
    std::string value = entry.second.Scalar();
    for (std::size_t at = 0; (at = value.find("{collector}", at)) != std::string::npos;
         at += collector_name.size()) {
      value.replace(at, std::string_view("{collector}").size(), collector_name);
    }
    if (value != entry.second.Scalar()) {
      entry.second = value;
    }
  }
  return out;
}

std::atomic<bool>* g_stop = nullptr;  // the running archiver's flag, for the signal handler

void on_signal(int /*signal*/) {
  if (g_stop != nullptr) {
    g_stop->store(true);
  }
}

}  // namespace

ArchiveConfig parse_archive_config(const std::string& text, const std::string& file) {
  const YAML::Node root = YAML::Load(text);
  if (!root.IsMap()) {
    throw ConfigError(file, root, "an archive config is a mapping (kafka:, exporters:, ...)");
  }
  ConfigMap top(file, root, "archive config");
  ArchiveConfig cfg;
  cfg.file = file;
  cfg.name = top.string("name", cfg.name);
  if (!top.has("state_directory")) {
    top.fail_at(root, "'state_directory' is required: where each collector's exporters keep state");
  }
  cfg.state_directory = top.string("state_directory");

  if (!top.has("kafka")) {
    top.fail_at(root, "'kafka' is required: brokers, group_id, topics");
  }
  const auto kafka_node = top.node("kafka");
  if (!kafka_node.IsMap()) {
    top.fail("kafka", "'kafka' must be a mapping: brokers, group_id, topics, properties");
  }
  ConfigMap kafka(file, kafka_node, "kafka");
  if (!kafka.has("brokers")) {
    kafka.fail_at(kafka_node, "'brokers' is required: a list of \"host:port\" Kafka brokers");
  }
  cfg.brokers = kafka.strings("brokers");
  if (cfg.brokers.empty()) {
    kafka.fail("brokers", "'brokers' must name at least one \"host:port\"");
  }
  for (const auto& b : cfg.brokers) {
    if (b.empty() || b.find_first_of(", \t") != std::string::npos) {
      kafka.fail("brokers", "'brokers' entries are \"host:port\" each, not '" + b + "'");
    }
  }
  cfg.group_id = kafka.string("group_id", cfg.group_id);
  if (cfg.group_id.empty()) {
    kafka.fail("group_id", "'group_id' must not be empty");
  }
  if (kafka.has("topics")) {
    cfg.topics = kafka.strings("topics");
    if (cfg.topics.empty()) {
      kafka.fail("topics", "'topics' must name at least one records topic");
    }
    for (const auto& t : cfg.topics) {
      if (!is_topic_name(t)) {
        kafka.fail("topics", "'" + t + "' is not a Kafka topic name (1 to 249 of [a-zA-Z0-9._-])");
      }
    }
  }
  cfg.commit_interval = std::chrono::seconds(kafka.seconds("commit_interval", 1));
  if (cfg.commit_interval.count() <= 0) {
    kafka.fail("commit_interval", "'commit_interval' must be at least 1s");
  }
  cfg.properties = exporters::kafka::read_properties(kafka, kOwned, "archiver");
  kafka.check_unknown();

  if (const auto queue_node = top.node("queue")) {
    ConfigMap q(file, queue_node, "queue");
    cfg.queue.max_records = static_cast<std::size_t>(
        q.integer("max_records", 1, 100'000'000, static_cast<std::int64_t>(cfg.queue.max_records)));
    cfg.queue.max_bytes = q.bytes("max_bytes", cfg.queue.max_bytes);
    cfg.queue.spool_max_bytes = q.bytes("spool_max_bytes", cfg.queue.spool_max_bytes);
    cfg.queue.stop_timeout = std::chrono::seconds(
        q.seconds("stop_timeout", static_cast<std::int64_t>(cfg.queue.stop_timeout.count())));
    q.check_unknown();
  }

  if (!top.has("exporters")) {
    top.fail_at(root, "'exporters' is required: the exporters to archive into (- type: mrt ...)");
  }
  cfg.exporters = collector::config::parse_exporters(file, top.node("exporters"));
  if (cfg.exporters.empty()) {
    top.fail("exporters", "no exporters: add at least one (e.g. '- type: mrt')");
  }
  for (const auto& e : cfg.exporters) {
    // Each collector gets its own instance, and two instances may not share a directory.
    if (const auto d = e.options["directory"];
        d && d.IsScalar() && d.Scalar().find("{collector}") == std::string::npos) {
      throw ConfigError(file, d,
                        "exporter '" + e.name +
                            "': 'directory' must contain {collector}: each collector gets its "
                            "own instance of the exporter, and each instance its own directory");
    }
  }
  top.check_unknown();
  return cfg;
}

ArchiveConfig load_archive_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw ConfigError(path, 0, 0, "cannot read the config file");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_archive_config(ss.str(), path);
}

// The consumer and the exporters of one run (Archiver::run).
struct Archiver::Impl {
  // One collector's exporters, made on its first record. Records get numbers of their own
  // (Record::seq, continuing after the highest position the exporters kept), in the order the
  // archiver hands them over; an exporter's durable_seq says how far it has them.
  struct Lane {
    std::string collector;
    std::vector<std::unique_ptr<collector::ExporterWorker>> workers;
    std::uint64_t last_seq = 0;
    [[nodiscard]] std::uint64_t durable() const {
      std::uint64_t low = std::numeric_limits<std::uint64_t>::max();
      for (const auto& w : workers) {
        low = std::min(low, w->stats().durable_seq.load());
      }
      return low;
    }
    [[nodiscard]] bool behind(const collector::QueueLimits& limits) const {
      return std::any_of(workers.begin(), workers.end(), [&limits](const auto& w) {
        return w->spooling() || w->stats().queued.load() > limits.max_records / 2;
      });
    }
  };
  // A message read and not yet committed: its offset, and the record it gave (none: nothing
  // to wait for).
  struct Pending {
    std::int64_t offset = 0;
    const Lane* lane = nullptr;
    std::uint64_t seq = 0;
  };
  struct Partition {
    std::deque<Pending> pending;
    std::int64_t committable = -1;  // the offset to commit (the next one to read)
    std::int64_t committed = -1;
  };

  Impl(const ArchiveConfig& c, const collector::ExporterTable& t, ArchiveCounts& n)
      : config(c), table(t), counts(n) {}

  void start() {
    ConfPtr conf(rd_kafka_conf_new());
    set_property(*conf, "bootstrap.servers", join(config.brokers), kSource);
    set_property(*conf, "group.id", config.group_id, kSource);
    set_property(*conf, "client.id", config.name, kSource);
    set_property(*conf, "enable.auto.commit", "false", kSource);
    set_property(*conf, "enable.auto.offset.store", "false", kSource);
    set_property(*conf, "auto.offset.reset", "earliest", kSource);
    for (const auto& [key, value] : config.properties) {
      set_property(*conf, key, value, kSource);
    }
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_rebalance_cb(conf.get(), &Impl::on_rebalance);
    std::array<char, 512> error{};
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error.data(), error.size());
    if (rk == nullptr) {
      throw std::runtime_error("cannot create the consumer: " + std::string(error.data()));
    }
    (void)conf.release();
    consumer.reset(rk);
    (void)rd_kafka_poll_set_consumer(rk);
    const PartitionList topics(
        rd_kafka_topic_partition_list_new(static_cast<int>(config.topics.size())));
    for (const auto& t : config.topics) {
      (void)rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    }
    if (const auto err = rd_kafka_subscribe(rk, topics.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("cannot subscribe to " + join(config.topics) + ": " +
                               rd_kafka_err2str(err));
    }
    exporters::logf(LogLevel::Info, kSource, "consuming %s from %s as group %s",
                    join(config.topics).c_str(), join(config.brokers).c_str(),
                    config.group_id.c_str());
  }

  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto& self = *static_cast<Impl*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      (void)rd_kafka_assign(rk, parts);
      return;
    }
    // Revoked: what is durable is committed while the partitions are still ours; the rest is
    // read again by their next owner (at least once).
    self.commit();
    for (int i = 0; i < parts->cnt; ++i) {
      const auto& p = std::span(parts->elems,
                                static_cast<std::size_t>(parts->cnt))[static_cast<std::size_t>(i)];
      self.partitions.erase({p.topic, p.partition});
    }
    (void)rd_kafka_assign(rk, nullptr);
  }

  Lane& lane_for(const std::string& collector_name) {
    auto& slot = lanes[collector_name];
    if (slot) {
      return *slot;
    }
    auto lane = std::make_unique<Lane>();
    lane->collector = collector_name;
    const fs::path dir = fs::path(config.state_directory) / "collectors" / collector_name;
    fs::create_directories(dir);
    const exporters::ExporterContext base{"", collector_name, config.file, dir.string()};
    for (const auto& e : config.exporters) {
      // Kafka keeps what a spool of an earlier run held: it is read again from the last commit.
      const auto spool = dir / "spool" / e.name;
      fs::remove_all(spool);
      auto worker = std::make_unique<collector::ExporterWorker>(
          collector::build_exporter(base, for_collector(e, collector_name), table), config.queue,
          spool.string());
      worker->start();
      lane->last_seq = std::max(lane->last_seq, worker->resume_after().value_or(0));
      lane->workers.push_back(std::move(worker));
    }
    exporters::logf(LogLevel::Info, kSource, "collector %s: %zu exporters started",
                    collector_name.c_str(), lane->workers.size());
    ++counts.collectors;
    slot = std::move(lane);
    return *slot;
  }

  void refuse(const rd_kafka_message_t& m, const std::string& why) {
    const auto n = ++counts.refused;
    if (n <= kLoggedRefusals || n % 10000 == 0) {
      exporters::logf(LogLevel::Warning, kSource, "%s [%d] offset %lld skipped: %s (%llu so far)",
                      rd_kafka_topic_name(m.rkt), static_cast<int>(m.partition),
                      static_cast<long long>(m.offset), why.c_str(),
                      static_cast<unsigned long long>(n));
    }
  }

  void handle(const rd_kafka_message_t& m) {
    ++counts.consumed;
    Pending pending{m.offset, nullptr, 0};
    const std::string format = header(m, "format");
    const std::string collector_name = header(m, "collector");
    std::uint64_t snapshot_id = 0;
    const std::span<const std::uint8_t> payload(static_cast<const std::uint8_t*>(m.payload), m.len);
    if (format != exporters::kafka::kRecordFormat) {
      refuse(m, "format '" + format + "', not " + std::string(exporters::kafka::kRecordFormat));
    } else if (!is_collector_name(collector_name)) {
      refuse(m, "collector header '" + collector_name + "' is no collector name");
    } else if (auto record = exporters::decode_record(payload, snapshot_id); !record) {
      refuse(m, "not a record");
    } else if (record->type == exporters::RecordType::RibSnapshot) {
      refuse(m, "a RIB snapshot");
    } else {
      auto& lane = lane_for(collector_name);
      record->seq = ++lane.last_seq;
      pending.lane = &lane;
      pending.seq = record->seq;
      for (std::size_t i = 0; i < lane.workers.size(); ++i) {
        const bool kept = i + 1 < lane.workers.size() ? lane.workers[i]->push(*record)
                                                      : lane.workers[i]->push(std::move(*record));
        if (!kept) {
          lost = true;  // never committed past: the next run reads it again
        }
      }
      ++counts.archived;
    }
    partitions[{rd_kafka_topic_name(m.rkt), m.partition}].pending.push_back(pending);
  }

  // Commits, partition by partition, up to the first record an exporter has not made durable.
  void commit() {
    const PartitionList list(rd_kafka_topic_partition_list_new(0));
    for (auto& [where, p] : partitions) {
      while (!p.pending.empty()) {
        const auto& front = p.pending.front();
        if (lost || (front.lane != nullptr && front.lane->durable() < front.seq)) {
          break;
        }
        p.committable = front.offset + 1;
        p.pending.pop_front();
      }
      if (p.committable > p.committed) {
        rd_kafka_topic_partition_list_add(list.get(), where.first.c_str(), where.second)->offset =
            p.committable;
      }
    }
    if (list->cnt == 0) {
      return;
    }
    const auto err = rd_kafka_commit(consumer.get(), list.get(), 0);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      exporters::logf(LogLevel::Warning, kSource, "offset commit failed: %s (tried again)",
                      rd_kafka_err2str(err));
      return;
    }
    for (int i = 0; i < list->cnt; ++i) {
      const auto& e =
          std::span(list->elems, static_cast<std::size_t>(list->cnt))[static_cast<std::size_t>(i)];
      if (e.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        partitions[{e.topic, e.partition}].committed = e.offset;
      }
    }
    ++counts.commits;
  }

  [[nodiscard]] bool behind() const {
    return std::any_of(lanes.begin(), lanes.end(),
                       [this](const auto& l) { return l.second->behind(config.queue); });
  }

  void run(const std::atomic<bool>& stop) {
    auto next_commit = std::chrono::steady_clock::now() + config.commit_interval;
    while (!stop.load() && !lost) {
      if (behind()) {
        // Kafka holds what the exporters have no room for yet: no need to spool it.
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      } else if (rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), 100);
                 m != nullptr) {
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          handle(*m);
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          exporters::logf(LogLevel::Warning, kSource, "consumer: %s", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
      }
      if (std::chrono::steady_clock::now() >= next_commit) {
        commit();
        next_commit = std::chrono::steady_clock::now() + config.commit_interval;
      }
    }
    if (lost) {
      exporters::log(LogLevel::Error, kSource,
                     "records lost on the way to an exporter (its spool full): stopping without "
                     "committing past them, the next run reads them again");
    }
    for (auto& [name, lane] : lanes) {
      for (auto& w : lane->workers) {
        w->stop();
      }
    }
    commit();
    (void)rd_kafka_consumer_close(consumer.get());
    exporters::logf(LogLevel::Info, kSource,
                    "stopped: %llu messages read, %llu records archived, %llu skipped",
                    static_cast<unsigned long long>(counts.consumed.load()),
                    static_cast<unsigned long long>(counts.archived.load()),
                    static_cast<unsigned long long>(counts.refused.load()));
  }

  const ArchiveConfig& config;
  const collector::ExporterTable& table;
  ArchiveCounts& counts;
  std::unique_ptr<rd_kafka_t, HandleDeleter> consumer;
  std::map<std::string, std::unique_ptr<Lane>> lanes;
  std::map<std::pair<std::string, std::int32_t>, Partition> partitions;
  bool lost = false;
};

Archiver::Archiver(ArchiveConfig config, collector::ExporterTable table)
    : config_(std::move(config)), table_(std::move(table)) {
  // Every exporter entry through its factory once, so that a bad option refuses the config at
  // the start rather than at the first record of a collector.
  const exporters::ExporterContext check{"", "check", config_.file, config_.state_directory};
  for (const auto& e : config_.exporters) {
    (void)collector::build_exporter(check, for_collector(e, "check"), table_);
  }
}

Archiver::~Archiver() = default;

bool Archiver::run() {
  Impl impl(config_, table_, counts_);
  impl.start();
  impl.run(stop_);
  return !impl.lost;
}

int run_archive(const ArchiveOptions& options, const collector::ExporterTable& table) {
  std::unique_ptr<Archiver> archiver;
  try {
    archiver = std::make_unique<Archiver>(load_archive_config(options.config_file), table);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "bgpscribe archive: config refused: %s\n", e.what());
    return 2;
  } catch (const YAML::Exception& e) {
    std::fprintf(stderr, "bgpscribe archive: config refused: %s:%d:%d: %s\n",
                 options.config_file.c_str(), e.mark.line + 1, e.mark.column + 1, e.msg.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bgpscribe archive: config refused: %s: %s\n", options.config_file.c_str(),
                 e.what());
    return 2;
  }
  if (options.check_only) {
    std::printf("%s: OK\n", options.config_file.c_str());
    return 0;
  }
  // A stop flag the handler may set: an atomic<bool> is lock-free here.
  static std::atomic<bool> stop{false};
  g_stop = &stop;
  (void)std::signal(SIGINT, on_signal);
  (void)std::signal(SIGTERM, on_signal);
  std::thread watcher([&archiver] {
    while (!stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    archiver->stop();
  });
  int status = 0;
  try {
    status = archiver->run() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bgpscribe archive: %s\n", e.what());
    status = 1;
  }
  stop.store(true);
  watcher.join();
  return status;
}

}  // namespace bgpscribe::tools
