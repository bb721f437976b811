// One TCP connection of a BGP session: a bounded receive buffer that frames messages, and a
// bounded double-buffered send queue (STYLE.md section 3 and 5).
//
// The reader reads as much as the socket has, frames every complete message in place and hands
// each one (a span into the receive buffer, valid only during the call) to the handler; it
// never copies a message. The writer drains everything queued since the last write in one
// write. Both are completion-handler loops rather than coroutines: Boost 1.74's coroutines do
// not build with clang 14 (the fuzz preset), and the loops are short. Neither knows BGP beyond
// framing: the session layer decides what a message means. Memory per connection is bounded: the
// receive buffer is fixed, the send queue refuses data past its limit (the caller then resets the
// session).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>
#include <vector>

#include "codec/bgp/message.hpp"

namespace bgpscribe::speaker::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SystemTime = std::chrono::system_clock::time_point;

class Connection;

// The session side of a connection. Calls arrive on the connection's executor; a handler may
// detach (Connection::detach) inside any call, after which no further call is made.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // A complete message; `received` is the time its last bytes were read.
  virtual void on_message(Connection& c, std::span<const std::uint8_t> message,
                          const codec::bgp::MessageHeader& header, SystemTime received) = 0;
  // The stream cannot be framed (RFC 4271 section 6.1); the frame carries the NOTIFICATION.
  // `bytes` are the unframeable bytes received so far (for the error callback and archives).
  virtual void on_frame_error(Connection& c, const codec::bgp::Frame& frame,
                              std::span<const std::uint8_t> bytes) = 0;
  // The peer closed, or a read or write failed.
  virtual void on_closed(Connection& c, boost::system::error_code ec) = 0;
  // An outbound connect finished (successfully when `ec` is empty).
  virtual void on_connected(Connection& c, boost::system::error_code ec) = 0;
};

struct ConnectionLimits {
  std::size_t receive_buffer =
      std::size_t{256} * 1024;                   // must hold at least one 65535-byte message
  std::size_t max_send_queue = 16 << 20;         // bytes queued and not yet written
  std::chrono::milliseconds close_linger{3000};  // how long a graceful close may flush
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, const ConnectionLimits& limits);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void attach(ConnectionHandler* handler) { handler_ = handler; }
  void detach() { handler_ = nullptr; }

  // Starts reading (for accepted sockets, and after connect succeeds).
  void start_reading();
  // Opens an outbound connection; on_connected reports the outcome. The socket must already be
  // open and bound if a local address was wanted.
  void connect(const tcp::endpoint& remote);

  // Queues bytes for sending; false (nothing queued) when the queue limit would be exceeded or
  // the connection is closing.
  bool send(std::span<const std::uint8_t> bytes);
  // Closes after flushing what is queued (bounded by close_linger); no handler calls follow.
  void close_gracefully();
  // Closes now.
  void close();

  // RFC 8654: the largest message the framer accepts.
  void set_max_message_size(std::size_t size) { max_message_size_ = size; }

  [[nodiscard]] tcp::socket& socket() { return socket_; }
  [[nodiscard]] bool is_open() const { return socket_.is_open() && !closing_; }
  [[nodiscard]] std::size_t queued_bytes() const { return pending_.size() + writing_.size(); }
  [[nodiscard]] std::uint64_t bytes_received() const { return bytes_received_; }
  [[nodiscard]] std::uint64_t bytes_sent() const { return bytes_sent_; }

 private:
  void read_some();
  void on_read(boost::system::error_code ec, std::size_t n);
  void write_pending();
  void fail(boost::system::error_code ec);

  tcp::socket socket_;
  ConnectionLimits limits_;
  ConnectionHandler* handler_ = nullptr;
  // Not value-initialised on purpose: the kernel maps the pages only when a read first fills
  // them, so an idle session costs a few KiB of its 256 KiB buffer, not all of it.
  std::unique_ptr<std::uint8_t[]> rx_;
  std::size_t rx_size_ = 0;
  std::size_t rx_begin_ = 0;
  std::size_t rx_end_ = 0;
  std::vector<std::uint8_t> pending_;  // appended by send()
  std::vector<std::uint8_t> writing_;  // being written
  bool writer_running_ = false;
  bool closing_ = false;
  std::size_t max_message_size_ = codec::bgp::kMaxMessageSize;
  asio::steady_timer linger_;
  std::uint64_t bytes_received_ = 0;
  std::uint64_t bytes_sent_ = 0;
};

}  // namespace bgpscribe::speaker::net
