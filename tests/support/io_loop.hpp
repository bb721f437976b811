// Test support: an io_context on a thread of its own, for tests of the speaker and of what
// runs on it. Test code calls into the loop (call) and waits on it (wait), every wait bounded.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <thread>

#include "tests/support/wait.hpp"

namespace bgpscribe::tests {

// Runs an io_context on its own thread from construction until stop() or destruction.
class IoLoop {
 public:
  IoLoop() : guard_(boost::asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~IoLoop() { stop(); }
  IoLoop(const IoLoop&) = delete;
  IoLoop& operator=(const IoLoop&) = delete;
  IoLoop(IoLoop&&) = delete;
  IoLoop& operator=(IoLoop&&) = delete;

  // Stops the thread; what runs handlers on the loop must not be destroyed while it runs.
  void stop() {
    if (thread_.joinable()) {
      guard_.reset();
      io_.stop();
      thread_.join();
    }
  }
  boost::asio::io_context& io() { return io_; }

  // Runs `f` on the io thread and waits for its result.
  template <class F>
  auto call(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto fut = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return fut.get();
  }

  // Checks `pred` on the io thread every 10 ms until it holds or `timeout` passes.
  bool wait(const std::function<bool()>& pred,
            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return wait_until([&] { return call(pred); }, timeout);
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

// Declared after the objects of a test that run on the loop, so that it is destroyed first and
// stops the loop before they go.
struct StopLoopFirst {
  IoLoop& loop;
  ~StopLoopFirst() { loop.stop(); }
};

}  // namespace bgpscribe::tests
