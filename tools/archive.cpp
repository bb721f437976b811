#include "tools/archive.hpp"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <numeric>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

#include "collector/core/exporter_worker.hpp"
#include "collector/core/journal.hpp"
#include "exporters/api/config.hpp"
#include "exporters/api/directory_lock.hpp"
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

// How long a revoke waits for the exporters to make durable what was read from the partitions
// it takes away (a postgres batch is sealed within its batch_interval_ms). After that the rest is
// committed as far as it is durable and the next owner reads it again (at least once).
constexpr auto kRevokeWait = std::chrono::seconds(30);

// Segments of an archiver's journals: Kafka messages are small, and every collector has one.
constexpr std::uint64_t kJournalSegmentBytes = std::uint64_t{4} << 20;

// The consumption log (<state_directory>/consumed.log): which Kafka messages the collectors'
// journals hold. One line per record, written before the record goes into its collector's
// journal: "<collector> <seq> <partition> <offset> <topic>". A partition's offsets are read in
// order, so what matters of it is the highest offset journaled (its mark: messages up to it are
// in a journal, and a new start must not number them again), and of a collector the number of
// its last line. The log is cut to those lines at every offset commit (a new file renamed over
// it), so it stays as small as the number of partitions and collectors.
//
// A kill between the line and the journal entry leaves a last line of a collector whose number
// is above its journal's last: that record was never journaled nor handed on, and is dropped
// from the marks (check_journal).
class ConsumptionLog {
 public:
  struct Line {
    std::string collector;
    std::uint64_t seq = 0;
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
  };
  using Where = std::pair<std::string, std::int32_t>;

  explicit ConsumptionLog(fs::path file) : file_(std::move(file)) {
    std::ifstream in(file_);
    std::string text;
    while (std::getline(in, text)) {
      if (in.eof()) {
        break;  // no newline: a line cut short by a kill, never followed by its journal entry
      }
      std::istringstream fields(text);
      Line line;
      if (fields >> line.collector >> line.seq >> line.partition >> line.offset >> line.topic) {
        read_.push_back(std::move(line));
      }
    }
  }
  ~ConsumptionLog() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  ConsumptionLog(const ConsumptionLog&) = delete;
  ConsumptionLog& operator=(const ConsumptionLog&) = delete;

  // The collectors an earlier run journaled records of.
  [[nodiscard]] std::vector<std::string> collectors() const {
    std::vector<std::string> out;
    for (const auto& l : read_) {
      if (std::find(out.begin(), out.end(), l.collector) == out.end()) {
        out.push_back(l.collector);
      }
    }
    return out;
  }
  // The number of the collector's last journaled record (0: none), once its journal, whose last
  // number is `journal_last`, is open: a last line above it was never journaled.
  std::uint64_t check_journal(const std::string& collector, std::uint64_t journal_last) {
    std::uint64_t last = 0;
    for (auto& l : read_) {
      if (l.collector == collector && l.seq > journal_last) {
        l.seq = 0;  // dropped below
      } else if (l.collector == collector) {
        last = std::max(last, l.seq);
      }
    }
    return last;
  }
  // After every collector of collectors() was checked: the marks, and a new file of them.
  void open() {
    for (const auto& l : read_) {
      if (l.seq != 0) {
        note(l);
      }
    }
    read_.clear();
    cut();
  }
  // Whether the message is in a journal already (read by an earlier run, or before a rebalance).
  [[nodiscard]] bool journaled(const Where& where, std::int64_t offset) const {
    const auto it = marks_.find(where);
    return it != marks_.end() && offset <= it->second.offset;
  }
  // Before the record goes into the journal. False when the line could not be written.
  bool append(const Line& line) {
    text_.clear();
    text_ += line.collector;
    text_ += ' ';
    text_ += std::to_string(line.seq);
    text_ += ' ';
    text_ += std::to_string(line.partition);
    text_ += ' ';
    text_ += std::to_string(line.offset);
    text_ += ' ';
    text_ += line.topic;
    text_ += '\n';
    if (fd_ < 0 || ::write(fd_, text_.data(), text_.size()) != static_cast<ssize_t>(text_.size())) {
      return false;
    }
    note(line);
    return true;
  }
  // After a line whose record did not reach the journal: the marks now include it, so the
  // file is no longer cut (its lines as written let check_journal drop that one alone).
  void freeze() { frozen_ = true; }
  // Rewrites the log as the marks alone (a kill midway leaves the old file, or the new one).
  void cut() {
    if (frozen_) {
      return;
    }
    std::vector<const Line*> keep;
    for (const auto& [where, line] : marks_) {
      keep.push_back(&line);
    }
    for (const auto& [collector, line] : last_) {
      keep.push_back(&line);
    }
    const fs::path tmp = file_.string() + ".new";
    {
      std::ofstream out(tmp, std::ios::trunc);
      for (const auto* l : keep) {
        out << l->collector << ' ' << l->seq << ' ' << l->partition << ' ' << l->offset << ' '
            << l->topic << '\n';
      }
      if (!out.flush()) {
        exporters::logf(LogLevel::Warning, kSource, "cannot write %s", tmp.c_str());
        return;
      }
    }
    std::error_code ec;
    fs::rename(tmp, file_, ec);
    if (ec) {
      exporters::logf(LogLevel::Warning, kSource, "cannot rename %s: %s", tmp.c_str(),
                      ec.message().c_str());
      return;
    }
    if (fd_ >= 0) {
      ::close(fd_);
    }
    // Called from the rebalance callback too: no exception; append() then fails and stops the
    // archiver.
    fd_ = ::open(file_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd_ < 0) {
      exporters::logf(LogLevel::Error, kSource, "cannot open %s: %s", file_.c_str(),
                      std::strerror(errno));
    }
  }

 private:
  void note(const Line& line) {
    auto& mark = marks_[{line.topic, line.partition}];
    if (line.offset >= mark.offset || mark.collector.empty()) {
      mark = line;
    }
    auto& last = last_[line.collector];
    if (line.seq >= last.seq) {
      last = line;
    }
  }

  fs::path file_;
  std::vector<Line> read_;            // an earlier run's lines, until open()
  std::map<Where, Line> marks_;       // per partition, its line of the highest offset
  std::map<std::string, Line> last_;  // per collector, its line of the highest number
  int fd_ = -1;
  bool frozen_ = false;
  std::string text_;
};

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
  // One collector's exporters, made on its first record (or at the start, when the consumption
  // log names it). Records get numbers of their own (Record::seq) from the collector's journal,
  // in the order the archiver hands them over; an exporter's durable_seq says how far it has
  // them.
  struct Lane {
    std::string collector;
    std::vector<std::unique_ptr<collector::ExporterWorker>> workers;
    std::unique_ptr<collector::Journal> journal;
    bool appended = false;  // this run journaled a record (see release())
    [[nodiscard]] std::uint64_t last_seq() const { return journal->last_seq(); }
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
    fs::create_directories(config.state_directory);
    // Two archivers on one state directory would number records into the same journals.
    lock = exporters::DirectoryLock(config.state_directory, "archive state directory");
    log = std::make_unique<ConsumptionLog>(fs::path(config.state_directory) / "consumed.log");
    // Every collector an earlier run journaled: its exporters get what they had not made durable
    // (and their spooled batches go on) before any message is read again.
    for (const auto& c : log->collectors()) {
      (void)lane_for(c);
    }
    log->open();

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
      self.counts.assigned = static_cast<std::uint64_t>(parts->cnt);
      return;
    }
    // Revoked: what was read from them is made durable and committed while they are still ours,
    // so that their next owner reads none of it again.
    self.drain();
    self.commit();
    for (int i = 0; i < parts->cnt; ++i) {
      const auto& p = std::span(parts->elems,
                                static_cast<std::size_t>(parts->cnt))[static_cast<std::size_t>(i)];
      self.partitions.erase({p.topic, p.partition});
    }
    (void)rd_kafka_assign(rk, nullptr);
    self.counts.assigned = 0;
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
    collector::JournalOptions journal_options;
    journal_options.directory = (dir / "journal").string();
    journal_options.segment_bytes = kJournalSegmentBytes;
    // No BGP session waits for the archiver: it may wait for a segment rather than go on
    // without journaling.
    journal_options.spare_wait = std::chrono::seconds(10);
    lane->journal = std::make_unique<collector::Journal>(std::move(journal_options));
    const exporters::ExporterContext base{"", collector_name, config.file, dir.string()};
    for (const auto& e : config.exporters) {
      // Kafka keeps what a spool of an earlier run held: it is read again from the last commit.
      const auto spool = dir / "spool" / e.name;
      fs::remove_all(spool);
      auto worker = std::make_unique<collector::ExporterWorker>(
          collector::build_exporter(base, for_collector(e, collector_name), table), config.queue,
          spool.string());
      worker->start();
      // Positions beyond the journal (removed by hand): new numbers must not look old.
      lane->journal->number_after(worker->resume_after().value_or(0));
      lane->workers.push_back(std::move(worker));
    }
    replay(*lane);
    exporters::logf(LogLevel::Info, kSource, "collector %s: %zu exporters started",
                    collector_name.c_str(), lane->workers.size());
    ++counts.collectors;
    slot = std::move(lane);
    return *slot;
  }

  // What an earlier run journaled and an exporter had not made durable goes to that exporter
  // again, in the same order and under the same numbers: its position (resume_after) then says
  // exactly which records it has. Messages read again from Kafka are not numbered anew (their
  // offsets are at most the consumption log's marks, handle()).
  void replay(Lane& lane) {
    const std::uint64_t upto = log->check_journal(lane.collector, lane.journal->last_seq());
    // An exporter without a position gets all the journal still holds (at least once).
    std::vector<std::uint64_t> after;
    std::uint64_t from = upto;
    for (const auto& w : lane.workers) {
      after.push_back(w->resume_after().value_or(0));
      from = std::min(from, after.back());
    }
    std::vector<std::uint64_t> replayed(lane.workers.size(), 0);
    const auto bad = lane.journal->replay(from, [&](std::uint64_t seq, exporters::Record&& r) {
      if (seq > upto) {
        // Beyond the log's last line of the collector (the log removed by hand): Kafka gives
        // it again from the last commit, as a new record.
        return;
      }
      r.seq = seq;
      for (std::size_t i = 0; i < lane.workers.size(); ++i) {
        if (seq > after[i]) {
          lost = !lane.workers[i]->push(r) || lost;
          ++replayed[i];
        }
      }
    });
    for (std::size_t i = 0; i < lane.workers.size(); ++i) {
      if (replayed[i] > 0) {
        exporters::logf(LogLevel::Info, kSource,
                        "collector %s: %llu journaled records after number %llu replayed into "
                        "exporter %s",
                        lane.collector.c_str(), static_cast<unsigned long long>(replayed[i]),
                        static_cast<unsigned long long>(after[i]), lane.workers[i]->name().c_str());
      }
    }
    if (bad > 0) {
      exporters::logf(LogLevel::Warning, kSource, "collector %s: %zu damaged journal entries",
                      lane.collector.c_str(), bad);
    }
    counts.replayed += std::accumulate(replayed.begin(), replayed.end(), std::uint64_t{0});
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
    } else if (const ConsumptionLog::Where where{rd_kafka_topic_name(m.rkt), m.partition};
               log->journaled(where, m.offset)) {
      // Journaled by an earlier run (replay() gave it to the exporters that lacked it) or
      // before this partition was revoked and assigned again: committed once everything
      // numbered so far is durable.
      auto& lane = lane_for(collector_name);
      pending.lane = &lane;
      pending.seq = lane.last_seq();
      ++counts.skipped;
    } else {
      auto& lane = lane_for(collector_name);
      // The line first: a kill before the journal entry leaves a line check_journal() drops;
      // the other way round, a journaled record whose offset the log lacks would be numbered
      // again when Kafka gives it again.
      const std::uint64_t seq = lane.last_seq() + 1;
      const auto missed = lane.journal->stats().not_journaled;
      if (!log->append({collector_name, seq, where.first, where.second, m.offset}) ||
          lane.journal->append(*record) != seq || lane.journal->stats().not_journaled != missed) {
        exporters::logf(LogLevel::Error, kSource,
                        "%s [%d] offset %lld: cannot write the consumption log or the journal "
                        "(%s): stopping",
                        where.first.c_str(), static_cast<int>(where.second),
                        static_cast<long long>(m.offset), lane.journal->directory().c_str());
        lost = true;  // not handed on: the next run reads it again
        log->freeze();
        partitions[where].pending.push_back(pending);
        return;
      }
      lane.appended = true;
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

  // Waits (at most kRevokeWait) until the exporters have made durable every record read so far.
  void drain() const {
    const auto until = std::chrono::steady_clock::now() + kRevokeWait;
    const auto done = [this] {
      return std::all_of(lanes.begin(), lanes.end(),
                         [](const auto& l) { return l.second->durable() >= l.second->last_seq(); });
    };
    while (!done()) {
      if (std::chrono::steady_clock::now() >= until) {
        exporters::log(LogLevel::Warning, kSource,
                       "revoke: the exporters did not make everything read durable in time; the "
                       "partitions' next owner reads the rest again (at least once)");
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // Commits, partition by partition, up to the first record an exporter has not made durable;
  // releases the journals up to what every exporter has and cuts the consumption log.
  void commit() {
    for (auto& [name, lane] : lanes) {
      // Not before this run journaled something: the entry with the highest number must stay
      // (check_journal compares with it).
      if (lane->appended) {
        lane->journal->release(lane->durable());
      }
    }
    log->cut();
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
  exporters::DirectoryLock lock;  // first: outlives everything that writes the state directory
  std::unique_ptr<ConsumptionLog> log;
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
