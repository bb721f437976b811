#include "collector/api/feed.hpp"

#include "exporters/api/log.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>

namespace bgpscribe::collector::api {

namespace {

// Records' events are handed on in blocks of about this many (and at every flush, which comes
// whenever the feed's queue runs empty): one lock and wake-up per block, not per event, and a
// block is one gRPC message of SubscribeBatches.
constexpr std::size_t kBlockEvents = 512;

}  // namespace

// ---- Subscription ------------------------------------------------------------------------------

Subscription::Taken Subscription::take(int timeout_ms) {
  Taken out;
  std::unique_lock lock(mutex_);
  const auto has_work = [&] { return !queue_.empty() || snapshot_ || dropped_ > 0 || closed_; };
  if (!has_work()) {
    ready_.wait_for(lock, std::chrono::milliseconds(timeout_ms), has_work);
  }
  out.snapshot = std::move(snapshot_);
  snapshot_.reset();
  out.blocks.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
  queue_.clear();
  queued_events_ = 0;
  out.dropped = dropped_;
  out.closed = closed_;
  return out;
}

bool Subscription::deliver(const EventBlockPtr& block) {
  bool cut = false;
  {
    std::lock_guard lock(mutex_);
    if (!live_ || closed_) {
      return false;
    }
    if (dropped_ > 0 || queued_events_ + block->size() > limit_) {
      // Cut off: what is queued still goes out, then Lagging with everything after it.
      cut = dropped_ == 0;
      dropped_ += block->size();
    } else {
      queue_.push_back(block);
      queued_events_ += block->size();
    }
  }
  ready_.notify_one();
  return cut;
}

void Subscription::join(std::shared_ptr<const exporters::RibSnapshot> snapshot) {
  {
    std::lock_guard lock(mutex_);
    if (live_) {
      return;
    }
    live_ = true;
    snapshot_ = std::move(snapshot);
  }
  ready_.notify_one();
}

void Subscription::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  ready_.notify_one();
}

// ---- Feed --------------------------------------------------------------------------------------

Feed::Feed(std::string collector, std::size_t max_subscribers, std::size_t queue_events)
    : max_subscribers_(max_subscribers),
      queue_events_(queue_events),
      building_(std::make_shared<exporters::events::EventBlock>(kBlockEvents)),
      encoder_(exporters::events::Options{std::move(collector), false}) {}

SubscriptionPtr Feed::subscribe(exporters::events::Filter filter, bool snapshot, bool raw_update,
                                std::size_t queue_limit) {
  const std::size_t limit = queue_limit == 0 ? queue_events_ : std::min(queue_limit, queue_events_);
  auto s = std::make_shared<Subscription>(std::move(filter), snapshot, raw_update, limit);
  {
    std::lock_guard lock(mutex_);
    if (subscriptions_.size() >= max_subscribers_) {
      const auto n = ++stats_.refused;
      exporters::logf(exporters::LogLevel::Warning, "api",
                      "a subscription refused: %zu streams already (api.max_subscribers); "
                      "%llu refused so far",
                      subscriptions_.size(), static_cast<unsigned long long>(n));
      return nullptr;
    }
    if (stopped_) {
      s->close();
    } else if (!snapshot) {
      s->live_ = true;  // from the next record the collector hands in
    }
    subscriptions_.push_back(s);
    snapshot_pending_ = snapshot_pending_ || snapshot;
    active_.store(true);
  }
  ++stats_.subscribers;
  ++stats_.subscriptions;
  if (snapshot) {
    request_snapshot();  // joins it at the RibSnapshot record (accept)
  }
  return s;
}

void Feed::unsubscribe(const SubscriptionPtr& s) {
  std::lock_guard lock(mutex_);
  auto it = std::find(subscriptions_.begin(), subscriptions_.end(), s);
  if (it != subscriptions_.end()) {
    subscriptions_.erase(it);
    --stats_.subscribers;
  }
  active_.store(!subscriptions_.empty() || snapshot_pending_);
}

void Feed::accept(const exporters::Record& record) {
  if (record.type == exporters::RecordType::RibSnapshot) {
    // The join point: live subscriptions get what came before it first.
    publish();
    std::lock_guard lock(mutex_);
    for (const auto& s : subscriptions_) {
      if (s->wants_snapshot_) {
        s->join(record.snapshot);
      }
    }
    snapshot_pending_ = false;
    active_.store(!subscriptions_.empty());
    return;
  }
  stats_.events += encoder_.append(record, *building_);
  if (building_->size() >= kBlockEvents) {
    publish();
  }
}

void Feed::publish() {
  std::lock_guard lock(mutex_);
  bool raw = false;
  bool attributes = false;
  for (const auto& s : subscriptions_) {
    raw = raw || s->raw_update();
    attributes = attributes || s->filter().reads_attributes();
  }
  // For the records after this block (a stream reads the block before with the slower ways).
  encoder_.set_raw_update(raw);
  encoder_.set_keep_attributes(attributes);
  if (building_->empty()) {
    return;
  }
  const EventBlockPtr shared =
      std::exchange(building_, std::make_shared<exporters::events::EventBlock>());
  for (const auto& s : subscriptions_) {
    if (s->deliver(shared)) {
      const auto n = ++stats_.cut_off;
      exporters::logf(exporters::LogLevel::Warning, "api",
                      "a subscriber fell %zu events behind (its queue): cut off as lagging; "
                      "%llu cut off so far",
                      s->limit_, static_cast<unsigned long long>(n));
    }
  }
}

void Feed::flush(std::int64_t /*now_us*/) {
  publish();
}

void Feed::stop() {
  publish();
  std::lock_guard lock(mutex_);
  stopped_ = true;
  for (const auto& s : subscriptions_) {
    s->close();
  }
}

void Feed::metrics(std::vector<exporters::Metric>& out) const {
  out.push_back({"subscribers", static_cast<double>(stats_.subscribers.load()), false,
                 "Subscribe streams open"});
  out.push_back({"subscriptions", static_cast<double>(stats_.subscriptions.load()), true,
                 "Subscribe streams opened"});
  out.push_back({"events", static_cast<double>(stats_.events.load()), true,
                 "events made from records for the streams"});
  out.push_back(
      {"cut_off", static_cast<double>(stats_.cut_off.load()), true, "streams cut off for lagging"});
}

}  // namespace bgpscribe::collector::api
