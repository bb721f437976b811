// Test support: waiting for a condition with a deadline, never forever.
#pragma once

#include <chrono>
#include <thread>

namespace bgpscribe::tests {

// Checks `done` every `poll` until it holds or `timeout` has passed; returns its last value (so
// a condition that becomes true at the deadline still counts).
template <class Done>
bool wait_until(Done&& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll = std::chrono::milliseconds(10)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(poll);
  }
  return static_cast<bool>(done());
}

}  // namespace bgpscribe::tests
