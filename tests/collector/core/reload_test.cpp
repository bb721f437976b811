// Reloading an exporter's settings: the worker switches instances between two records, so every
// record reaches exactly one of them, in order, and the journal position carries over; an
// instance that cannot start gives way to the previous settings; the collector refuses an entry
// its factory refuses (file:line:column), a change of type, and applies changes, additions and
// removals of exporters on SIGHUP's reload.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "collector/config/config.hpp"
#include "collector/core/collector.hpp"
#include "collector/core/exporter_worker.hpp"
#include "collector/core/spool.hpp"
#include "exporters/api/config.hpp"
#include "exporters/null/null_exporter.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace bgpscribe::collector {
namespace {

using exporters::Record;
using exporters::RecordType;
using namespace std::chrono_literals;

Record numbered(std::uint64_t seq) {
  Record r;
  r.type = RecordType::Message;
  r.time_us = static_cast<std::int64_t>(seq);
  r.seq = seq;
  auto p = std::make_shared<exporters::PeerInfo>();
  p->name = "r1";
  r.peer = p;
  r.message = exporters::SharedBytes(std::vector<std::uint8_t>(19, 0xff));
  return r;
}

// What the instances of one exporter did, in the order they did it.
struct Log {
  std::mutex m;
  std::vector<std::pair<int, std::uint64_t>> accepted;  // instance, record number
  std::vector<std::string> events;                      // "1 start", "1 stop", ...

  void event(int instance, const char* what) {
    std::lock_guard l(m);
    events.push_back(std::to_string(instance) + " " + what);
  }
};

// Keeps records "durably" like the MRT exporter: durable_seq() is the last record accepted, and
// a new instance starts from a position it read back (`resume`), which may be behind.
class Counting final : public exporters::Exporter {
 public:
  Counting(Log& log, int instance, std::chrono::microseconds delay, std::uint64_t resume = 0)
      : log_(log), instance_(instance), delay_(delay), durable_(resume) {}
  std::string_view name() const override { return "counting"; }
  void start() override { log_.event(instance_, "start"); }
  void accept(const Record& r) override {
    if (delay_.count() > 0) {
      std::this_thread::sleep_for(delay_);
    }
    durable_ = r.seq;
    std::lock_guard l(log_.m);
    log_.accepted.emplace_back(instance_, r.seq);
  }
  void flush(std::int64_t) override {}
  void stop() override { log_.event(instance_, "stop"); }
  std::optional<std::uint64_t> resume_after() const override { return durable_; }
  std::optional<std::uint64_t> durable_seq() const override { return durable_; }

 private:
  Log& log_;
  int instance_;
  std::chrono::microseconds delay_;
  std::uint64_t durable_;
};

class CannotStart final : public exporters::Exporter {
 public:
  std::string_view name() const override { return "counting"; }
  void start() override { throw std::runtime_error("directory in use"); }
  void accept(const Record&) override { ADD_FAILURE() << "an instance that did not start"; }
  void flush(std::int64_t) override {}
  void stop() override {}
};

void expect_once_in_order(Log& log, std::uint64_t n) {
  std::lock_guard l(log.m);
  ASSERT_EQ(log.accepted.size(), n) << "every record once";
  for (std::uint64_t i = 0; i < n; ++i) {
    ASSERT_EQ(log.accepted[i].second, i + 1) << "in order, at " << i;
  }
}

TEST(ExporterReload, ASwitchMidStreamDeliversEveryRecordOnceInOrder) {
  tests::TempDir dir("bgpscribe-reload");
  Log log;
  QueueLimits limits;
  limits.max_records = 200;  // the switch also comes while records go through the spool
  ExporterWorker w(std::make_unique<Counting>(log, 1, 50us), limits, (dir / "spool").string());
  w.start();
  constexpr std::uint64_t kRecords = 6000;
  for (std::uint64_t seq = 1; seq <= kRecords / 2; ++seq) {
    ASSERT_TRUE(w.push(numbered(seq)));
  }
  // The new instance read back an old position (0): what the first one made durable stays so.
  ASSERT_TRUE(tests::wait_until([&] { return w.stats().delivered.load() >= 100; }, 10s));
  w.replace(std::make_unique<Counting>(log, 2, 0us, 0), nullptr);
  for (std::uint64_t seq = kRecords / 2 + 1; seq <= kRecords; ++seq) {
    ASSERT_TRUE(w.push(numbered(seq)));
  }
  ASSERT_TRUE(tests::wait_until(
      [&] { return w.take_switch_state() == ExporterWorker::SwitchState::Switched; }, 10s));
  std::uint64_t floor = 0;
  {
    std::lock_guard l(log.m);
    for (const auto& [instance, seq] : log.accepted) {
      floor = instance == 1 ? seq : floor;
    }
  }
  EXPECT_GE(w.stats().durable_seq.load(), floor) << "the journal position never goes back";
  w.stop();
  expect_once_in_order(log, kRecords);
  std::lock_guard l(log.m);
  // Instance 1 got a first part, instance 2 all the rest; 1 stopped before 2 started.
  std::size_t first = 0;
  while (first < log.accepted.size() && log.accepted[first].first == 1) {
    ++first;
  }
  EXPECT_GE(first, 100U);
  EXPECT_LT(first, kRecords) << "the switch came before the last record";
  for (std::size_t i = first; i < log.accepted.size(); ++i) {
    ASSERT_EQ(log.accepted[i].first, 2) << "no record back to the first instance, at " << i;
  }
  EXPECT_EQ(log.events, (std::vector<std::string>{"1 start", "1 stop", "2 start", "2 stop"}));
  EXPECT_EQ(w.stats().delivered.load(), kRecords);
  EXPECT_EQ(w.stats().durable_seq.load(), kRecords);
  EXPECT_EQ(w.stats().dropped.load(), 0U);
}

TEST(ExporterReload, AnIdleWorkerSwitchesToo) {
  tests::TempDir dir("bgpscribe-reload");
  Log log;
  ExporterWorker w(std::make_unique<Counting>(log, 1, 0us), QueueLimits{},
                   (dir / "spool").string());
  w.start();
  ASSERT_TRUE(w.push(numbered(1)));
  ASSERT_TRUE(tests::wait_until([&] { return w.stats().delivered.load() == 1; }, 10s));
  w.replace(std::make_unique<Counting>(log, 2, 0us), nullptr);
  // No record comes: the worker still switches (the operator sees it in the log at once).
  ASSERT_TRUE(tests::wait_until(
      [&] { return w.take_switch_state() == ExporterWorker::SwitchState::Switched; }, 10s));
  ASSERT_TRUE(w.push(numbered(2)));
  w.stop();
  expect_once_in_order(log, 2);
  std::lock_guard l(log.m);
  EXPECT_EQ(log.accepted[0].first, 1);
  EXPECT_EQ(log.accepted[1].first, 2);
}

TEST(ExporterReload, ANewInstanceThatCannotStartGivesWayToThePreviousSettings) {
  tests::TempDir dir("bgpscribe-reload");
  Log log;
  ExporterWorker w(std::make_unique<Counting>(log, 1, 20us), QueueLimits{},
                   (dir / "spool").string());
  w.start();
  constexpr std::uint64_t kRecords = 3000;
  for (std::uint64_t seq = 1; seq <= kRecords / 2; ++seq) {
    ASSERT_TRUE(w.push(numbered(seq)));
  }
  int rebuilt = 0;
  w.replace(std::make_unique<CannotStart>(), [&] {
    ++rebuilt;
    return std::make_unique<Counting>(log, 3, 0us);
  });
  for (std::uint64_t seq = kRecords / 2 + 1; seq <= kRecords; ++seq) {
    ASSERT_TRUE(w.push(numbered(seq)));
  }
  ASSERT_TRUE(tests::wait_until(
      [&] { return w.take_switch_state() == ExporterWorker::SwitchState::Reverted; }, 10s));
  w.stop();
  EXPECT_EQ(rebuilt, 1);
  expect_once_in_order(log, kRecords);
  std::lock_guard l(log.m);
  EXPECT_EQ(log.events, (std::vector<std::string>{"1 start", "1 stop", "3 start", "3 stop"}));
  EXPECT_EQ(w.stats().dropped.load(), 0U);
}

TEST(ExporterReload, WhenNothingStartsRecordsWaitAndStopLeavesThemForTheNextRun) {
  tests::TempDir dir("bgpscribe-reload");
  const auto spool = (dir / "spool").string();
  Log log;
  QueueLimits limits;
  limits.max_records = 50;
  auto w =
      std::make_unique<ExporterWorker>(std::make_unique<Counting>(log, 1, 200us), limits, spool);
  w->start();
  constexpr std::uint64_t kRecords = 1000;
  for (std::uint64_t seq = 1; seq <= kRecords / 2; ++seq) {
    ASSERT_TRUE(w->push(numbered(seq)));
  }
  w->replace(std::make_unique<CannotStart>(), [] { return std::make_unique<CannotStart>(); });
  for (std::uint64_t seq = kRecords / 2 + 1; seq <= kRecords; ++seq) {
    ASSERT_TRUE(w->push(numbered(seq)));
  }
  const auto not_running = [&] {
    const auto a = w->alarms();
    return !a.empty() && a[0].starts_with("not_running: cannot start (directory in use)");
  };
  ASSERT_TRUE(tests::wait_until(not_running, 10s));
  const auto t0 = std::chrono::steady_clock::now();
  w->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "stop() does not wait for a retry";
  const auto delivered = w->stats().delivered.load();
  const auto dropped = w->stats().dropped.load();
  w.reset();  // its spool's last segment is complete on disk now
  // Delivered to the first instance, lost from memory (counted), or in the spool for the next
  // run: every record once.
  Spool left(spool, 1 << 30);
  std::vector<Record> spooled;
  while (auto segment = left.take_segment()) {
    (void)left.read_segment(*segment, spooled);
  }
  EXPECT_EQ(delivered + dropped + spooled.size(), kRecords);
  EXPECT_GT(spooled.size(), 0U);
  for (std::size_t i = 1; i < spooled.size(); ++i) {
    ASSERT_LT(spooled[i - 1].seq, spooled[i].seq);
  }
  std::lock_guard l(log.m);
  EXPECT_EQ(log.accepted.size(), delivered);
}

// The collector with no listener and no peer, driven from the test's thread (which is its io
// thread: io() never runs). Records come from snapshot_now(): one RibSnapshot to each exporter
// that takes them (the null exporter does), counted in its summary file at stop.
class CollectorReload : public ::testing::Test {
 protected:
  tests::TempDir dir{"bgpscribe-reload"};

  std::string file() const { return (dir / "c.yaml").string(); }

  // A config whose exporters are `exporters` (YAML list items, indented by two).
  config::CollectorConfig config(const std::string& exporters) const {
    const std::string text =
        "collector:\n  name: t\n  local_as: 65000\n  bgp_id: 192.0.2.1\n"
        "  state_directory: " +
        (dir / "state").string() + "\n  journal: false\n  status_interval: 0\nexporters:\n" +
        exporters;
    std::ofstream(file()) << text;
    auto c = config::parse(text, file());
    c.listen.clear();
    return c;
  }

  std::string summary(const std::string& name) const {
    return "    summary_file: " + (dir / name).string() + "\n";
  }

  // The "rib-snapshot N" line of a null exporter's summary file (-1: no file yet).
  long snapshots(const std::string& name) const {
    std::ifstream in(dir / name);
    std::string key;
    long n = 0;
    while (in >> key >> n) {
      if (key == "rib-snapshot") {
        return n;
      }
    }
    return -1;
  }

  static std::unique_ptr<Collector> make(const config::CollectorConfig& c) {
    std::vector<exporters::ExporterPtr> built;
    const auto build = builder(c);
    for (const auto& e : c.exporters) {
      built.push_back(build(e));
    }
    auto collector = std::make_unique<Collector>(c, std::move(built));
    collector->set_exporter_builder(build);
    return collector;
  }

  static Collector::ExporterBuilder builder(const config::CollectorConfig& c) {
    exporters::ExporterContext base;
    base.collector_name = c.name;
    base.config_file = c.file;
    base.state_directory = c.state_directory;
    return [base](const config::ExporterConfig& e) {
      if (e.type != "null") {
        throw exporters::ConfigError(base.config_file, e.options["type"],
                                     "unknown exporter type '" + e.type + "'");
      }
      auto ctx = base;
      ctx.instance_name = e.name;
      return exporters::null::make(ctx, e.options);
    };
  }

  // n snapshots, then waits until exporter `name` has delivered `delivered` records.
  static void snapshots_to(Collector& c, int n, const std::string& name, std::uint64_t delivered) {
    for (int i = 0; i < n; ++i) {
      c.snapshot_now();
    }
    ASSERT_NE(c.worker(name), nullptr);
    ASSERT_TRUE(tests::wait_until(
        [&] { return c.worker(name)->stats().delivered.load() == delivered; }, 10s))
        << c.worker(name)->stats().delivered.load() << " of " << delivered;
  }

  // Reloads `next` and returns what the collector logged meanwhile.
  static std::string reload(Collector& c, const config::CollectorConfig& next) {
    testing::internal::CaptureStderr();
    c.reload(next);
    return testing::internal::GetCapturedStderr();
  }
};

TEST_F(CollectorReload, AChangedExporterIsReplacedAndAnInvalidEntryRefused) {
  const auto first = config("  - type: \"null\"\n" + summary("first"));
  auto c = make(first);
  c->start();  // a Start record: 1
  snapshots_to(*c, 3, "null", 4);

  // Delay and summary file change: the worker switches; the old instance writes its summary at
  // its stop, before the new one starts.
  const auto second = config("  - type: \"null\"\n    delay: 1us\n" + summary("second"));
  const auto said = reload(*c, second);
  EXPECT_NE(said.find("reload: exporter 'null': delay, summary_file changed"), std::string::npos)
      << said;
  ASSERT_TRUE(tests::wait_until([&] { return snapshots("first") == 3; }, 10s));
  snapshots_to(*c, 2, "null", 6);

  // An entry the factory refuses: the whole reload is refused, with file:line:column, and the
  // running instance goes on.
  const auto bad = config("  - type: \"null\"\n    delay: fast\n" + summary("third"));
  const auto refused = reload(*c, bad);
  EXPECT_NE(refused.find("reload refused: " + file() + ":10:12: exporter 'null': 'delay'"),
            std::string::npos)
      << refused;
  EXPECT_NE(refused.find("nothing was applied"), std::string::npos) << refused;
  EXPECT_EQ(c->stats().reloads_refused, 1U);
  snapshots_to(*c, 1, "null", 7);

  // The same settings again: nothing to do.
  const auto again = reload(*c, config("  - type: \"null\"\n    delay: 1us\n" + summary("second")));
  EXPECT_EQ(again.find("exporter 'null'"), std::string::npos) << again;
  c.reset();  // stops the exporters
  EXPECT_EQ(snapshots("first"), 3);
  EXPECT_EQ(snapshots("second"), 3) << "the refused entry left the second instance running";
  EXPECT_EQ(snapshots("third"), -1);
}

TEST_F(CollectorReload, ExportersAreAddedRemovedAndMayNotChangeType) {
  auto c = make(config("  - type: \"null\"\n" + summary("kept")));
  c->start();
  snapshots_to(*c, 1, "null", 2);

  // A type change under the same name is refused, naming the exporter.
  const auto refused = reload(*c, config("  - type: mrt\n    name: \"null\"\n"));
  EXPECT_NE(refused.find("reload refused: exporter 'null' changes its type from null to mrt"),
            std::string::npos)
      << refused;

  // Added: started without the io thread waiting, it gets the records from then on.
  const auto both = config("  - type: \"null\"\n" + summary("kept") +
                           "  - type: \"null\"\n    name: extra\n" + summary("extra"));
  const auto added = reload(*c, both);
  EXPECT_NE(added.find("reload: exporter 'extra' (type null) added"), std::string::npos) << added;
  EXPECT_EQ(c->exporter_names(), (std::vector<std::string>{"null", "extra"}));
  ASSERT_TRUE(tests::wait_until([&] { return c->worker("extra")->wants_snapshots(); }, 10s));
  snapshots_to(*c, 2, "extra", 2);
  snapshots_to(*c, 0, "null", 4);

  // Removed: it delivers what it holds, then stops (its summary is written at its stop).
  const auto removed = reload(*c, config("  - type: \"null\"\n" + summary("kept")));
  EXPECT_NE(removed.find("reload: exporter 'extra' removed"), std::string::npos) << removed;
  EXPECT_EQ(c->exporter_names(), (std::vector<std::string>{"null"}));
  ASSERT_TRUE(tests::wait_until([&] { return snapshots("extra") == 2; }, 10s));
  snapshots_to(*c, 1, "null", 5);
  c.reset();
  EXPECT_EQ(snapshots("kept"), 4);
  EXPECT_EQ(snapshots("extra"), 2);
}

}  // namespace
}  // namespace bgpscribe::collector
