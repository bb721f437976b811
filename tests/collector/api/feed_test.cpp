// The live API's feed (collector/api/feed.hpp) without gRPC: records become events in order for
// every live subscription; a subscription that asks for the tables joins at the RibSnapshot
// record, so nothing before it comes again and nothing after it is missed; a full queue cuts
// that subscription off with the count of what it lost while the others go on; stop() ends
// every stream; nobody subscribed means the collector hands in nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "collector/api/feed.hpp"
#include "exporters/events/filter.hpp"
#include "tests/support/bgp_bytes.hpp"
#include "tests/support/records.hpp"
#include "tests/support/test_snapshot.hpp"

namespace bgpscribe::collector::api {
namespace {

namespace v1 = bgpscribe::v1;
using exporters::events::Filter;

// An UPDATE announcing 10.<i % 256>.0.0/16 at time 1.7e15 + i with ORIGIN IGP, AS_PATH [64500],
// NEXT_HOP 192.0.2.9.
exporters::Record announce(int i) {
  const tests::ByteVector attrs = {0x40, 1, 1, 0,                         // ORIGIN IGP
                                   0x40, 2, 6, 2,   1, 0, 0, 0xFB, 0xF4,  // AS_PATH 64500
                                   0x40, 3, 4, 192, 0, 2, 9};             // NEXT_HOP
  const tests::ByteVector nlri = {16, 10, static_cast<std::uint8_t>(i % 256)};
  return tests::message_record(1'700'000'000'000'000 + i, tests::make_peer("192.0.2.9", 64500),
                               tests::update_message({}, attrs, nlri));
}

Filter no_filter() {
  return Filter::from(v1::SubscribeRequest());
}

// The prefixes of the route events taken, in order; markers as "BEGIN n" / "END n".
std::vector<std::string> drain(Subscription& s, std::uint64_t* dropped = nullptr,
                               bool* closed = nullptr) {
  std::vector<std::string> out;
  for (int round = 0; round < 3; ++round) {
    auto t = s.take(10);
    if (t.snapshot) {
      out.push_back("SNAPSHOT " + std::to_string(t.snapshot->route_count()));
    }
    for (const auto& b : t.blocks) {
      for (std::size_t i = 0; i < b->size(); ++i) {
        v1::Event e;
        b->parse(i, false, e);
        out.push_back(e.has_route() ? e.route().prefix() : "other");
      }
    }
    if (dropped != nullptr) {
      *dropped = std::max(*dropped, t.dropped);
    }
    if (closed != nullptr) {
      *closed = *closed || t.closed;
    }
  }
  return out;
}

TEST(Feed, LiveSubscriptionsGetEveryRouteInOrderFromNowOn) {
  Feed feed("rrc99", 4, 1000);
  EXPECT_FALSE(feed.active()->load()) << "nobody listens: the collector hands in nothing";
  auto a = feed.subscribe(no_filter(), false, false);
  auto b = feed.subscribe(no_filter(), false, false);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(feed.active()->load());
  for (int i = 0; i < 3; ++i) {
    feed.accept(announce(i));
  }
  feed.flush(0);
  const std::vector<std::string> want = {"10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"};
  EXPECT_EQ(drain(*a), want);
  EXPECT_EQ(drain(*b), want);
  feed.unsubscribe(a);
  feed.unsubscribe(b);
  EXPECT_FALSE(feed.active()->load());
}

TEST(Feed, ASnapshotSubscriptionJoinsAtTheSnapshotRecord) {
  Feed feed("rrc99", 4, 1000);
  auto live = feed.subscribe(no_filter(), false, false);
  auto snap = feed.subscribe(no_filter(), true, false);
  EXPECT_TRUE(feed.take_snapshot_request()) << "it asked the collector for a snapshot";
  feed.accept(announce(1));  // before the snapshot: in it, not in the stream
  auto table = std::make_shared<tests::TestSnapshot>(5);
  const auto peer = table->add_peer(tests::make_peer("192.0.2.9", 64500));
  table->add_route(codec::bgp::kIpv4Unicast, "10.1.0.0/16", peer, 0,
                   tests::rib_attributes(64500, false));
  exporters::Record r;
  r.type = exporters::RecordType::RibSnapshot;
  r.snapshot = table;
  feed.accept(r);
  feed.accept(announce(2));  // after it: in the stream
  feed.flush(0);
  EXPECT_EQ(drain(*live), (std::vector<std::string>{"10.1.0.0/16", "10.2.0.0/16"}));
  EXPECT_EQ(drain(*snap), (std::vector<std::string>{"SNAPSHOT 1", "10.2.0.0/16"}));
}

TEST(Feed, StaysActiveUntilTheSnapshotItAskedForComes) {
  // A snapshot subscriber that leaves before its snapshot: the next one joins at that snapshot,
  // so the records after it must still reach the feed.
  Feed feed("rrc99", 4, 1000);
  auto first = feed.subscribe(no_filter(), true, false);
  feed.unsubscribe(first);
  EXPECT_TRUE(feed.active()->load()) << "a snapshot is on its way";
  auto second = feed.subscribe(no_filter(), true, false);
  exporters::Record r;
  r.type = exporters::RecordType::RibSnapshot;
  r.snapshot = std::make_shared<tests::TestSnapshot>(5);
  feed.accept(r);
  feed.unsubscribe(second);
  EXPECT_FALSE(feed.active()->load());
}

TEST(Feed, AFullQueueCutsThatSubscriptionOffAndCountsWhatItLost) {
  Feed feed("rrc99", 4, 1024);  // the smallest queue the config allows
  auto slow = feed.subscribe(no_filter(), false, false);
  auto fast = feed.subscribe(no_filter(), false, false);
  std::size_t fast_got = 0;
  constexpr int kRecords = 3000;
  for (int i = 0; i < kRecords; ++i) {
    feed.accept(announce(i % 256));
    if (i % 100 == 99) {
      feed.flush(0);
      fast_got += drain(*fast).size();  // the fast one keeps up
    }
  }
  feed.flush(0);
  fast_got += drain(*fast).size();
  EXPECT_EQ(fast_got, static_cast<std::size_t>(kRecords)) << "the other stream lost nothing";
  std::uint64_t dropped = 0;
  const auto got = drain(*slow, &dropped);
  EXPECT_GT(dropped, 0U);
  EXPECT_LE(got.size(), 1024U);
  EXPECT_EQ(got.size() + dropped, static_cast<std::size_t>(kRecords))
      << "what it got and what it lost are every event";
  EXPECT_EQ(feed.stats().cut_off.load(), 1U);
}

TEST(Feed, StopEndsEveryStreamAndTooManySubscribersAreRefused) {
  Feed feed("rrc99", 2, 1024);
  auto a = feed.subscribe(no_filter(), false, false);
  auto b = feed.subscribe(no_filter(), true, false);
  EXPECT_EQ(feed.subscribe(no_filter(), false, false), nullptr);
  EXPECT_EQ(feed.stats().refused.load(), 1U) << "counted (and logged)";
  feed.stop();
  bool closed_a = false;
  bool closed_b = false;
  drain(*a, nullptr, &closed_a);
  drain(*b, nullptr, &closed_b);
  EXPECT_TRUE(closed_a);
  EXPECT_TRUE(closed_b) << "also one still waiting for its snapshot";
}

// The threads of a running collector at once (run under TSan in scripts/test): the worker
// feeding records and snapshots, streams taking blocks on their own threads, others subscribing
// and leaving (with and without a snapshot, with attribute filters that change how blocks are
// made), and the status writer reading the metrics. Every stream that stays gets every event in
// order; a snapshot stream gets its table and then exactly the records after it.
TEST(Feed, StreamsOnTheirOwnThreadsGetEveryEventInOrderWhileOthersComeAndGo) {
  Feed feed("rrc99", 16, 1'000'000);
  constexpr int kRecords = 20'000;
  constexpr int kSnapshotEvery = 2'500;
  constexpr int kReaders = 3;
  struct Reader {
    SubscriptionPtr sub;
    std::vector<std::int64_t> times;  // its thread's until joined
    std::size_t snapshots = 0;
    std::atomic<std::size_t> got{0};
  };
  std::vector<Reader> readers(kReaders);
  for (int k = 0; k < kReaders; ++k) {
    v1::SubscribeRequest request;
    if (k == 2) {
      request.add_origin_asns(64500);  // every route passes; its attributes are read
    }
    readers[k].sub = feed.subscribe(Filter::from(request), k == 1, false);
  }
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (auto& reader : readers) {
    threads.emplace_back([&reader] {
      v1::Event e;
      for (int round = 0; round < 100'000; ++round) {
        auto t = reader.sub->take(20);
        reader.snapshots += t.snapshot ? 1 : 0;
        for (const auto& b : t.blocks) {
          for (std::size_t i = 0; i < b->size(); ++i) {
            const auto view = b->view(i);
            if (view.kind == exporters::events::EventView::Kind::Route &&
                reader.sub->filter().matches(view)) {
              b->parse(i, false, e);
              reader.times.push_back(e.route().time_us());
            }
          }
        }
        reader.got = reader.times.size();
        if (t.closed) {
          return;
        }
      }
    });
  }
  threads.emplace_back([&] {  // subscribers coming and going
    for (int i = 0; !done.load(); ++i) {
      v1::SubscribeRequest request;
      if (i % 2 == 0) {
        request.set_as_path_regex("64500$");
      }
      auto s = feed.subscribe(Filter::from(request), i % 3 == 0, i % 4 == 0);
      if (s) {
        s->take(1);
        feed.unsubscribe(s);
      }
    }
  });
  threads.emplace_back([&] {  // the status writer
    std::vector<exporters::Metric> metrics;
    while (!done.load()) {
      metrics.clear();
      feed.metrics(metrics);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });

  // The worker: records, a flush now and then (the queue ran empty), snapshots when asked.
  // Reader 1 asked for a snapshot before the first record: it comes first.
  for (int i = 0; i < kRecords; ++i) {
    if (i % kSnapshotEvery == 0 && feed.take_snapshot_request()) {
      exporters::Record r;
      r.type = exporters::RecordType::RibSnapshot;
      r.snapshot = std::make_shared<tests::TestSnapshot>(i);
      feed.accept(r);
    }
    feed.accept(announce(i));
    if (i % 97 == 0) {
      feed.flush(0);
    }
  }
  feed.flush(0);
  // Let the streams take the last blocks, then stop.
  for (int wait = 0; wait < 500; ++wait) {
    if (std::ranges::all_of(readers, [](const Reader& r) {
          return r.got.load() >= static_cast<std::size_t>(kRecords);
        })) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  done = true;
  feed.stop();
  for (auto& t : threads) {
    t.join();
  }
  for (int k = 0; k < kReaders; ++k) {
    const auto& times = readers[k].times;
    EXPECT_TRUE(std::ranges::is_sorted(times)) << "reader " << k;
    EXPECT_TRUE(std::adjacent_find(times.begin(), times.end()) == times.end())
        << "reader " << k << ": an event twice";
    EXPECT_EQ(times.size(), static_cast<std::size_t>(kRecords)) << "reader " << k;
    EXPECT_EQ(readers[k].snapshots, k == 1 ? 1U : 0U) << "reader " << k;
    if (!times.empty()) {
      EXPECT_EQ(times.front(), announce(0).time_us) << "reader " << k;
    }
  }
}

}  // namespace
}  // namespace bgpscribe::collector::api
