// Feed: the live API's Subscribe streams, fed by the collector as an internal exporter
// (Collector::add_internal): it turns records into serialized Protobuf events (exporters/events
// EventBlock) on its own worker thread and hands each block to every subscription's bounded
// queue; each stream's gRPC thread takes them out, filters and writes them at its client's pace.
// A block is made once whatever the number of streams; a stream that takes every event sends
// its bytes as they are.
//
// Why this shape: the exporter contract already gives a thread that never makes a BGP session
// wait, records in the collector's order, and RibSnapshot records that are points of that order.
// A subscriber that asks for the tables is joined at such a point: its snapshot holds every
// record before it and its queue starts with the first record after, so nothing is missing or
// doubled. A subscriber whose queue is full is cut off (Lagging) instead of slowing anything;
// while nobody subscribes, the collector hands the feed no records at all.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "exporters/api/exporter.hpp"
#include "exporters/events/convert.hpp"
#include "exporters/events/filter.hpp"

namespace bgpscribe::collector::api {

// The events of consecutive records, shared by every subscription that takes them.
using EventBlockPtr = std::shared_ptr<const exporters::events::EventBlock>;

// One Subscribe stream's queue. The feed thread puts in; the stream thread takes out.
class Subscription {
 public:
  Subscription(exporters::events::Filter filter, bool snapshot, bool raw_update, std::size_t limit)
      : filter_(std::move(filter)),
        wants_snapshot_(snapshot),
        raw_update_(raw_update),
        limit_(limit) {}

  // What the stream thread got from take().
  struct Taken {
    std::vector<EventBlockPtr> blocks;
    std::shared_ptr<const exporters::RibSnapshot> snapshot;  // once, first, if asked for
    std::uint64_t dropped = 0;  // > 0: lagging; the stream sends Lagging and ends
    bool closed = false;        // the collector is stopping
  };
  // Waits up to `timeout_ms` for something to do; returns what there is (maybe nothing).
  Taken take(int timeout_ms);

  [[nodiscard]] const exporters::events::Filter& filter() const { return filter_; }
  [[nodiscard]] bool raw_update() const { return raw_update_; }

 private:
  friend class Feed;
  // Feed side, each under mutex_. deliver() is true when this block cut the stream off.
  bool deliver(const EventBlockPtr& block);
  void join(std::shared_ptr<const exporters::RibSnapshot> snapshot);
  void close();

  const exporters::events::Filter filter_;
  const bool wants_snapshot_;
  const bool raw_update_;
  const std::size_t limit_;  // events queued at most
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<EventBlockPtr> queue_;
  std::size_t queued_events_ = 0;
  std::shared_ptr<const exporters::RibSnapshot> snapshot_;
  bool live_ = false;  // gets blocks (from the start, or from its snapshot on)
  std::uint64_t dropped_ = 0;
  bool closed_ = false;
};
using SubscriptionPtr = std::shared_ptr<Subscription>;

struct FeedStats {
  std::atomic<std::uint64_t> subscribers{0};
  std::atomic<std::uint64_t> subscriptions{0};  // ever
  std::atomic<std::uint64_t> events{0};         // made from records
  std::atomic<std::uint64_t> cut_off{0};        // subscribers cut off for lagging
  std::atomic<std::uint64_t> refused{0};        // subscriptions refused: max_subscribers
};

class Feed final : public exporters::Exporter {
 public:
  // `collector` fills Peer.collector; `max_subscribers` and `queue_events` bound each stream.
  Feed(std::string collector, std::size_t max_subscribers, std::size_t queue_events);

  // From a stream thread. nullptr when max_subscribers are already there. `queue_limit` below
  // the feed's own bounds this one's queue more (0: the feed's).
  SubscriptionPtr subscribe(exporters::events::Filter filter, bool snapshot, bool raw_update,
                            std::size_t queue_limit = 0);
  void unsubscribe(const SubscriptionPtr& s);
  // Whether the collector should hand records in (read on its io thread).
  [[nodiscard]] const std::atomic<bool>* active() const { return &active_; }
  [[nodiscard]] const FeedStats& stats() const { return stats_; }

  // exporters::Exporter, on the worker thread.
  [[nodiscard]] std::string_view name() const override { return "_api"; }
  void start() override {}
  void accept(const exporters::Record& record) override;
  void flush(std::int64_t now_us) override;
  void stop() override;
  [[nodiscard]] bool wants_snapshots() const override { return true; }
  void metrics(std::vector<exporters::Metric>& out) const override;

 private:
  // Hands the block being built to every live subscription.
  void publish();

  const std::size_t max_subscribers_;
  const std::size_t queue_events_;
  std::atomic<bool> active_{false};
  std::mutex mutex_;  // subscriptions_ (the worker thread and the stream threads)
  std::vector<SubscriptionPtr> subscriptions_;
  // A snapshot was asked for and has not come: the feed stays active until it does, even with
  // nobody left, so that a subscription joining at it later finds every record after it.
  bool snapshot_pending_ = false;
  bool stopped_ = false;
  // Worker thread only.
  std::shared_ptr<exporters::events::EventBlock> building_;
  exporters::events::EventEncoder encoder_;  // raw_update: some subscription wants it
  FeedStats stats_;
};

}  // namespace bgpscribe::collector::api
