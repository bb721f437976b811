// Runs work on the collector's io thread from another thread (the gRPC API's, the metrics
// endpoint's) and waits for its result: the io thread owns the sessions and the RIB, so reading
// them there needs no lock.
#pragma once

#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>

#include "collector/core/collector.hpp"

namespace bgpscribe::collector::api {

// How long a caller waits for the io thread: it runs short handlers only, so a busy collector
// still answers in milliseconds; a stopping one does not answer at all.
constexpr auto kIoDeadline = std::chrono::seconds(3);

// Runs `f` on the collector's io thread and returns its result; nullopt when the io thread did
// not get to it within the deadline (the collector is stopping). `f` owns what it uses.
template <class F>
auto on_io(Collector& collector, F f) -> std::optional<decltype(f())> {
  using R = decltype(f());
  auto task = std::make_shared<std::packaged_task<R()>>(std::move(f));
  auto result = task->get_future();
  boost::asio::post(collector.io(), [task] { (*task)(); });
  if (result.wait_for(kIoDeadline) != std::future_status::ready) {
    return std::nullopt;
  }
  return result.get();
}

}  // namespace bgpscribe::collector::api
