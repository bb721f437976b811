// The exporter worker and its spool: a slow exporter gets every record in order, through the
// spool, while push() never waits; what a run leaves in the spool comes first at the next.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "collector/core/exporter_worker.hpp"
#include "collector/core/spool.hpp"

namespace bgpscribe::collector {
namespace {

using exporters::Record;
using exporters::RecordType;

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/bgpscribe-worker-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

Record message(std::int64_t n) {
  Record r;
  r.type = RecordType::Message;
  r.time_us = n;
  auto p = std::make_shared<exporters::PeerInfo>();
  p->id = 3;
  p->name = "r1";
  p->peer_address = *codec::bgp::IpAddress::parse("2001:db8::3");
  p->peer_as = 4200000000U;
  r.peer = p;
  std::vector<std::uint8_t> bytes(19 + static_cast<std::size_t>(n % 50), 0xff);
  r.message = exporters::SharedBytes(bytes);
  r.context.set_add_path(codec::bgp::kIpv6Unicast, true);
  r.reason = "because " + std::to_string(n);
  return r;
}

// Records what it gets; optionally slow.
class Recorder final : public exporters::Exporter {
 public:
  struct Shared {
    std::mutex m;
    std::vector<std::int64_t> times;
    bool started = false;
    bool stopped = false;
    int flushes = 0;
  };
  Recorder(Shared& s, std::chrono::microseconds delay) : s_(s), delay_(delay) {}
  std::string_view name() const override { return "recorder"; }
  void start() override {
    std::lock_guard l(s_.m);
    s_.started = true;
  }
  void accept(const Record& r) override {
    // A record of time -1 raises an alarm, of time -2 clears it.
    if (r.time_us == -1 || r.time_us == -2) {
      set_alarm("test", r.time_us == -1 ? "raised by a record" : "");
    }
    if (delay_.count() > 0) {
      std::this_thread::sleep_for(delay_);
    }
    std::lock_guard l(s_.m);
    s_.times.push_back(r.time_us);
  }
  void flush(std::int64_t) override {
    std::lock_guard l(s_.m);
    ++s_.flushes;
  }
  void stop() override {
    std::lock_guard l(s_.m);
    s_.stopped = true;
  }

 private:
  Shared& s_;
  std::chrono::microseconds delay_;
};

TEST(Spool, RecordsRoundTrip) {
  Record r = message(1234567);
  r.type = RecordType::PeerUp;
  r.sent_open = exporters::SharedBytes(std::vector<std::uint8_t>{1, 2, 3});
  r.old_state = exporters::SessionState::OpenConfirm;
  r.new_state = exporters::SessionState::Established;
  r.local_notification = true;
  r.context.four_octet_as = false;
  r.context.first_as = 4200000003;
  r.seq = 0x0102030405060708ULL;
  codec::wire::Writer w;
  Spool::encode_body(r, 9, w);
  const auto bytes = w.take();
  std::uint64_t snap = 0;
  auto back = Spool::decode(bytes, snap);
  ASSERT_TRUE(back);
  EXPECT_EQ(snap, 9U);
  EXPECT_EQ(back->type, RecordType::PeerUp);
  EXPECT_EQ(back->time_us, 1234567);
  EXPECT_EQ(back->peer->name, "r1");
  EXPECT_EQ(back->peer->peer_address, r.peer->peer_address);
  EXPECT_EQ(back->peer->peer_as, 4200000000U);
  EXPECT_TRUE(std::ranges::equal(back->message.span(), r.message.span()));
  EXPECT_TRUE(std::ranges::equal(back->sent_open.span(), r.sent_open.span()));
  EXPECT_EQ(back->reason, r.reason);
  EXPECT_EQ(back->new_state, exporters::SessionState::Established);
  EXPECT_TRUE(back->local_notification);
  EXPECT_FALSE(back->context.four_octet_as);
  EXPECT_EQ(back->context.first_as, 4200000003U);
  EXPECT_TRUE(back->context.add_path(codec::bgp::kIpv6Unicast));
  EXPECT_FALSE(back->context.add_path(codec::bgp::kIpv4Unicast));
  EXPECT_EQ(back->seq, r.seq);
  // Any cut is refused, never misread (but the cut of the journal number at the end, which
  // reads as a record spooled by a bgpscribe before the journal: number 0).
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    if (n + 8 == bytes.size()) {
      EXPECT_EQ(Spool::decode(std::span(bytes).first(n), snap)->seq, 0U);
      continue;
    }
    EXPECT_FALSE(Spool::decode(std::span(bytes).first(n), snap)) << n;
  }
}

TEST(Spool, GracefulRestartFieldsRoundTripAndOlderPeerDownsReadAsKeepingNothing) {
  for (const auto type : {RecordType::PeerDown, RecordType::StaleEnd}) {
    Record r = message(42);
    r.type = type;
    r.stale_families = exporters::family_bit(codec::bgp::kIpv6Unicast);
    r.stale_since_us = 1'700'000'000'000'000;
    r.seq = 9;
    codec::wire::Writer w;
    Spool::encode_body(r, 0, w);
    const auto bytes = w.take();
    std::uint64_t snap = 0;
    auto back = Spool::decode(bytes, snap);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->type, type);
    EXPECT_EQ(back->stale_families, 4U);
    EXPECT_EQ(back->stale_since_us, r.stale_since_us);
    EXPECT_EQ(back->seq, 9U);
    // A PeerDown spooled by a bgpscribe before these fields: nothing kept.
    auto older = Spool::decode(std::span(bytes).first(bytes.size() - 9), snap);
    ASSERT_TRUE(older);
    EXPECT_EQ(older->stale_families, 0U);
    EXPECT_EQ(older->seq, 9U);
  }
}

TEST(Spool, RecordsReadBackShareOnePeerInfoPerPeer) {
  TempDir dir;
  Spool s(dir.path.string(), 1 << 30);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(s.append(message(i)));  // a PeerInfo object per record
  }
  Record other = message(100);
  auto changed = std::make_shared<exporters::PeerInfo>(*other.peer);
  changed->peer_bgp_id = 7;  // the same peer after its OPEN: a new PeerInfo
  other.peer = changed;
  ASSERT_TRUE(s.append(other));
  std::vector<Record> out;
  while (auto seg = s.take_segment()) {
    EXPECT_EQ(s.read_segment(*seg, out), 0U);
  }
  ASSERT_EQ(out.size(), 101U);
  for (int i = 1; i < 100; ++i) {
    EXPECT_EQ(out[i].peer.get(), out[0].peer.get()) << i;
  }
  EXPECT_NE(out[100].peer.get(), out[0].peer.get());
  EXPECT_EQ(out[100].peer->peer_bgp_id, 7U);
}

TEST(Spool, SegmentsSurviveARestartAndKeepTheirOrder) {
  TempDir dir;
  {
    Spool s(dir.path.string(), 1 << 30, 4096);
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(s.append(message(i)));
    }
  }
  Spool s(dir.path.string(), 1 << 30, 4096);
  EXPECT_FALSE(s.empty());
  std::vector<Record> out;
  while (auto seg = s.take_segment()) {
    EXPECT_EQ(s.read_segment(*seg, out), 0U);
  }
  ASSERT_EQ(out.size(), 200U);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(out[static_cast<std::size_t>(i)].time_us, i);
  }
  EXPECT_TRUE(s.empty());
}

TEST(Spool, FullSpoolRefuses) {
  TempDir dir;
  Spool s(dir.path.string(), 1000);
  int accepted = 0;
  for (int i = 0; i < 100; ++i) {
    accepted += s.append(message(i)) ? 1 : 0;
  }
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, 100);
}

TEST(ExporterWorker, SlowExporterGetsEverythingInOrderThroughTheSpool) {
  TempDir dir;
  Recorder::Shared shared;
  QueueLimits limits;
  limits.max_records = 50;  // tiny: forces the spool
  ExporterWorker w(std::make_unique<Recorder>(shared, std::chrono::microseconds(500)), limits,
                   (dir.path / "spool").string());
  w.start();
  EXPECT_TRUE(shared.started);
  constexpr int kRecords = 3000;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_TRUE(w.push(message(i)));
  }
  const auto push_time = std::chrono::steady_clock::now() - t0;
  // The exporter needs 3000 x 500 µs = 1.5 s at least; pushing must not wait for it. (The
  // bound leaves room for TSan on a loaded machine: 319 ms were seen there with 200 µs.)
  EXPECT_LT(push_time, std::chrono::milliseconds(1000));
  w.stop();
  EXPECT_GT(w.stats().spooled.load(), 0U);
  std::lock_guard l(shared.m);
  ASSERT_EQ(shared.times.size(), static_cast<std::size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_EQ(shared.times[static_cast<std::size_t>(i)], i) << "out of order at " << i;
  }
  EXPECT_TRUE(shared.stopped);
  EXPECT_EQ(w.stats().dropped.load(), 0U);
  EXPECT_EQ(w.stats().delivered.load(), static_cast<std::uint64_t>(kRecords));
}

TEST(ExporterWorker, StagedRecordsAreHandedOverInBatches) {
  TempDir dir;
  Recorder::Shared shared;
  QueueLimits limits;
  limits.max_records = 100;  // the second batch overflows into the spool, in order
  ExporterWorker w(std::make_unique<Recorder>(shared, std::chrono::microseconds(0)), limits,
                   (dir.path / "spool").string());
  w.start();
  for (int i = 0; i < 10; ++i) {
    w.stage(message(i));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(w.stats().delivered.load(), 0U) << "staged records wait for publish()";
  EXPECT_EQ(w.stats().pushed.load(), 10U);
  EXPECT_EQ(w.publish(), 0U);
  const int total = 10 + static_cast<int>(ExporterWorker::kStageRecords);
  for (int i = 10; i < total; ++i) {
    w.stage(message(i));  // the last one hands the batch over by itself
  }
  for (int i = 0; i < 500 && w.stats().delivered.load() < static_cast<std::uint64_t>(total); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(w.stats().delivered.load(), static_cast<std::uint64_t>(total));
  w.stop();
  std::lock_guard l(shared.m);
  ASSERT_EQ(shared.times.size(), static_cast<std::size_t>(total));
  for (int i = 0; i < total; ++i) {
    ASSERT_EQ(shared.times[static_cast<std::size_t>(i)], i);
  }
}

TEST(ExporterWorker, AlarmsOfTheExporterAndOfLostRecordsAreReported) {
  TempDir dir;
  Recorder::Shared shared;
  QueueLimits limits;
  limits.max_records = 1;
  limits.spool_max_bytes = 1;  // nothing fits: every record past the queue is lost
  // Slow enough that the queue of one is full when the next record comes (an exporter that
  // kept up with every push made this test fail about once in 20 runs).
  ExporterWorker w(std::make_unique<Recorder>(shared, std::chrono::microseconds(500)), limits,
                   (dir.path / "spool").string());
  w.start();
  EXPECT_TRUE(w.alarms().empty());
  const auto wait_for = [&](const auto& done) {
    for (int i = 0; i < 500 && !done(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  const auto at = [](std::int64_t t) {
    Record r = message(0);
    r.time_us = t;
    return r;
  };
  ASSERT_TRUE(w.push(at(-1)));
  wait_for([&] { return w.stats().delivered.load() == 1; });
  ASSERT_EQ(w.alarms(), std::vector<std::string>{"test: raised by a record"});
  ASSERT_TRUE(w.push(at(-2)));
  wait_for([&] { return w.stats().delivered.load() == 2; });
  EXPECT_TRUE(w.alarms().empty());
  // Records lost to a full spool are an alarm too (the spool thread finds it full).
  for (int i = 0; i < 200 && w.stats().dropped.load() == 0; ++i) {
    (void)w.push(message(i));
  }
  wait_for([&] { return w.stats().dropped.load() > 0; });
  ASSERT_GT(w.stats().dropped.load(), 0U);
  const auto alarms = w.alarms();
  ASSERT_EQ(alarms.size(), 1U);
  EXPECT_TRUE(alarms[0].starts_with("records_lost: ")) << alarms[0];
  w.stop();
}

TEST(ExporterWorker, PushNeverWritesTheSpoolItself) {
  // An exporter that takes nothing until told: every record past the memory queue goes to the
  // spool thread. A spool buffer of 4 KB holds about 30 records: pushing 5,000 at once must
  // return quickly whatever the disk does, losing (and counting) what the buffer cannot hold.
  TempDir dir;
  Recorder::Shared shared;
  QueueLimits limits;
  limits.max_records = 10;
  limits.spool_buffer_bytes = 4096;
  ExporterWorker w(std::make_unique<Recorder>(shared, std::chrono::milliseconds(1)), limits,
                   (dir.path / "spool").string());
  w.start();
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t lost = 0;
  for (int i = 0; i < 5'000; ++i) {
    w.stage(message(i));
  }
  lost += w.publish();
  const auto push_time = std::chrono::steady_clock::now() - t0;
  // The exporter needs 5,000 x 1 ms = 5 s at least; handing the records over must not wait
  // for it, nor for the disk (2 s: room for ThreadSanitizer's slowness on a busy machine).
  EXPECT_LT(push_time, std::chrono::milliseconds(2000));
  w.stop();
  const auto& s = w.stats();
  EXPECT_GT(lost, 0U);
  EXPECT_EQ(s.delivered.load() + s.dropped.load(), 5'000U) << "every record delivered or counted";
  EXPECT_GT(s.spooled.load(), 0U);
  // Delivered in order, with gaps only where records were lost.
  std::lock_guard l(shared.m);
  for (std::size_t i = 1; i < shared.times.size(); ++i) {
    ASSERT_LT(shared.times[i - 1], shared.times[i]);
  }
}

// Asks for a snapshot when it gets a record of time -3; reports how many records it accepted.
class Asker final : public exporters::Exporter {
 public:
  std::string_view name() const override { return "asker"; }
  void start() override {}
  void accept(const Record& r) override {
    ++accepted_;
    if (r.time_us == -3) {
      request_snapshot();
    }
  }
  void flush(std::int64_t) override {}
  void stop() override {}
  void metrics(std::vector<exporters::Metric>& out) const override {
    out.push_back({"accepted", static_cast<double>(accepted_), true, "records accepted"});
  }

 private:
  std::uint64_t accepted_ = 0;  // exporter thread only: metrics() is called there too
};

TEST(ExporterWorker, AnExportersSnapshotRequestAndMetricsReachTheCollector) {
  TempDir dir;
  ExporterWorker w(std::make_unique<Asker>(), QueueLimits{}, (dir.path / "spool").string());
  w.start();
  EXPECT_FALSE(w.take_snapshot_request());
  Record r = message(0);
  r.time_us = -3;
  ASSERT_TRUE(w.push(r));
  ASSERT_TRUE(w.push(message(1)));
  bool asked = false;
  for (int i = 0; i < 500 && !asked; ++i) {
    asked = w.take_snapshot_request();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(asked);
  EXPECT_FALSE(w.take_snapshot_request()) << "one request, one snapshot";
  w.stop();  // the last flush reports the final metrics
  const auto m = w.metrics();
  ASSERT_EQ(m.size(), 1U);
  EXPECT_EQ(m[0].name, "accepted");
  EXPECT_EQ(m[0].value, 2.0);
}

TEST(ExporterWorker, ALongBatchStillGetsItsFlushes) {
  // 10,000 records at 200 us each: a batch of about 2 s. The exporter's time-driven work (the
  // bound of what a crash can lose) must come every ~100 ms meanwhile, not once at the end.
  TempDir dir;
  Recorder::Shared shared;
  ExporterWorker w(std::make_unique<Recorder>(shared, std::chrono::microseconds(200)),
                   QueueLimits{}, (dir.path / "spool").string());
  w.start();
  for (int i = 0; i < 10'000; ++i) {
    ASSERT_TRUE(w.push(message(i)));
  }
  for (int i = 0; i < 1000 && w.stats().delivered.load() < 10'000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  int flushes = 0;
  {
    std::lock_guard l(shared.m);
    flushes = shared.flushes;
  }
  w.stop();
  EXPECT_EQ(w.stats().delivered.load(), 10'000U);
  EXPECT_GE(flushes, 10) << "flushes while about 2 s of records were delivered";
}

TEST(ExporterWorker, OutOfTimeAtStopLeavesTheRestForTheNextRun) {
  TempDir dir;
  const auto spool = (dir.path / "spool").string();
  QueueLimits limits;
  limits.max_records = 10;
  limits.stop_timeout = std::chrono::seconds(0);
  std::size_t first_run = 0;
  {
    Recorder::Shared shared;
    ExporterWorker w(std::make_unique<Recorder>(shared, std::chrono::milliseconds(2)), limits,
                     spool);
    w.start();
    for (int i = 0; i < 500; ++i) {
      ASSERT_TRUE(w.push(message(i)));
    }
    w.stop();
    std::lock_guard l(shared.m);
    first_run = shared.times.size();
    for (std::size_t i = 0; i < first_run; ++i) {
      ASSERT_EQ(shared.times[i], static_cast<std::int64_t>(i));
    }
  }
  ASSERT_LT(first_run, 500U);
  Recorder::Shared shared;
  limits.stop_timeout = std::chrono::seconds(60);
  ExporterWorker w(std::make_unique<Recorder>(shared, std::chrono::microseconds(0)), limits, spool);
  w.start();
  ASSERT_TRUE(w.push(message(100000)));
  w.stop();
  std::lock_guard l(shared.m);
  ASSERT_EQ(first_run + shared.times.size(), 501U);
  for (std::size_t i = 0; i + 1 < shared.times.size(); ++i) {
    ASSERT_EQ(shared.times[i], static_cast<std::int64_t>(first_run + i));
  }
  EXPECT_EQ(shared.times.back(), 100000);
}

class Failing final : public exporters::Exporter {
 public:
  std::string_view name() const override { return "failing"; }
  void start() override { throw std::runtime_error("cannot open /nonexistent"); }
  void accept(const Record&) override {}
  void flush(std::int64_t) override {}
  void stop() override {}
};

TEST(ExporterWorker, StartErrorsReachTheCaller) {
  TempDir dir;
  ExporterWorker w(std::make_unique<Failing>(), QueueLimits{}, (dir.path / "s").string());
  EXPECT_THROW(w.start(), std::runtime_error);
}

}  // namespace
}  // namespace bgpscribe::collector
