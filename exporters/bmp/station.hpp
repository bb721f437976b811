// One BMP station: its thread, its TCP connection and its bounded queue of encoded BMP
// messages. Either one the exporter connects to (and reconnects to), or one that connected to
// the exporter's listen address (listener.hpp): that one serves its connection and ends.
//
// The exporter's thread only pushes shared, already encoded bytes (batches of live messages,
// chunks of a table) and never waits for the network. The station's thread connects (backoff
// 1 s doubling to 30 s), sends the Initiation, asks for a table (want_table) and then sends
// what the exporter queues. A station whose queue overflows is disconnected and, once
// connected again, gets the whole table again.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "exporters/bmp/config.hpp"

namespace bgpscribe::exporters::bmp {

using SharedMessage = std::shared_ptr<const std::vector<std::uint8_t>>;

class Station {
 public:
  enum class State : std::uint8_t {
    Disconnected,
    WaitingTable,  // connected, Initiation queued; live messages are not for it until the table
    Live,
  };
  struct Counters {
    bool connected = false;
    std::uint64_t messages_sent = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t connects = 0;
    std::uint64_t disconnects = 0;
    std::uint64_t overflows = 0;  // disconnected because the queue was full
    std::uint64_t tables_sent = 0;
    std::uint64_t queued = 0;  // live messages waiting now
  };

  Station(StationAddress address, Options options, std::vector<std::uint8_t> initiation,
          std::function<void()> want_table);
  // A station that connected in on `fd` (now the station's) from `from`.
  Station(int fd, StationAddress from, Options options, std::vector<std::uint8_t> initiation,
          std::function<void()> want_table);
  ~Station();
  Station(const Station&) = delete;
  Station& operator=(const Station&) = delete;

  void start();
  // Queues `termination` if connected and tells the thread to send what is queued (at most
  // `drain` long) and close; join() waits for it. Stations of one exporter drain side by side.
  void request_stop(const SharedMessage& termination, std::chrono::milliseconds drain);
  void join();

  // Exporter thread. `messages` live BMP messages in one buffer, for a Live station. When
  // more than `queue` messages would wait (and some already do), the station is dropped.
  void push_live(const SharedMessage& batch, std::uint64_t messages = 1);
  // The connection waiting for a table (its number, counted from 1), or 0 when none waits.
  [[nodiscard]] std::uint64_t waiting_table() const;
  // Queues one chunk of a table (`messages` BMP messages) if `connection` still waits for it;
  // the last chunk makes the station Live. Returns whether it was queued. A table need not fit
  // in one buffer: the station sends its first chunks while the rest is built.
  bool push_table(std::uint64_t connection, const SharedMessage& chunk, std::uint64_t messages,
                  bool last);

  [[nodiscard]] Counters counters() const;
  [[nodiscard]] const StationAddress& address() const { return address_; }
  // A station that connected in: its connection is over and its thread has ended.
  [[nodiscard]] bool finished() const { return finished_.load(); }

 private:
  struct Item {
    SharedMessage bytes;
    std::uint64_t messages = 1;
    bool live = true;  // counts against options_.queue
  };
  void run();
  int connect_once();  // a connected socket, or -1
  void serve(int fd);
  bool send_all(int fd, std::span<const std::uint8_t> bytes);

  StationAddress address_;
  Options options_;
  std::vector<std::uint8_t> initiation_;
  std::function<void()> want_table_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  State state_ = State::Disconnected;
  bool drop_ = false;              // overflow: close the connection
  std::uint64_t connection_ = 0;   // connections made so far (the current one's number)
  std::uint64_t queued_live_ = 0;  // live messages in queue_
  int fd_ = -1;
  Counters counters_;
  std::atomic<bool> stopping_{false};
  int accepted_fd_ = -1;  // a station that connected in: its connection, served once
  std::atomic<bool> finished_{false};
  std::chrono::steady_clock::time_point drain_until_{};
  std::thread thread_;
};

}  // namespace bgpscribe::exporters::bmp
