#include "collector/net/connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

namespace bgpscribe::collector::net {

namespace bgp = codec::bgp;

Connection::Connection(tcp::socket socket, const ConnectionLimits& limits)
    : socket_(std::move(socket)),
      limits_(limits),
      rx_(std::max<std::size_t>(limits.receive_buffer, 2 * bgp::kMaxExtendedMessageSize)),
      linger_(socket_.get_executor()) {}

Connection::~Connection() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void Connection::start_reading() {
  asio::co_spawn(socket_.get_executor(), read_loop(shared_from_this()), asio::detached);
}

void Connection::connect(const tcp::endpoint& remote) {
  auto self = shared_from_this();
  socket_.async_connect(remote, [self](const boost::system::error_code& ec) {
    if (self->handler_ != nullptr) {
      self->handler_->on_connected(*self, ec);
    }
  });
}

asio::awaitable<void> Connection::read_loop(std::shared_ptr<Connection> self) {
  (void)self;  // keeps the connection alive while the coroutine runs
  for (;;) {
    // Keep room for the largest message: move the unframed tail to the front when the free
    // space at the end could not complete it.
    if (rx_.size() - rx_end_ < bgp::kMaxExtendedMessageSize && rx_begin_ > 0) {
      std::memmove(rx_.data(), rx_.data() + rx_begin_, rx_end_ - rx_begin_);
      rx_end_ -= rx_begin_;
      rx_begin_ = 0;
    }
    boost::system::error_code ec;
    const std::size_t n =
        co_await socket_.async_read_some(asio::buffer(rx_.data() + rx_end_, rx_.size() - rx_end_),
                                         asio::redirect_error(asio::use_awaitable, ec));
    if (handler_ == nullptr || closing_) {
      co_return;
    }
    if (ec) {
      fail(ec);
      co_return;
    }
    rx_end_ += n;
    bytes_received_ += n;
    const SystemTime now = std::chrono::system_clock::now();
    while (rx_end_ > rx_begin_) {
      const std::span<const std::uint8_t> input(rx_.data() + rx_begin_, rx_end_ - rx_begin_);
      const bgp::Frame f = bgp::frame(input, max_message_size_);
      if (f.status == bgp::FrameStatus::NeedMore) {
        break;
      }
      if (f.status == bgp::FrameStatus::Broken) {
        ConnectionHandler* h = handler_;
        h->on_frame_error(*this, f, input);
        co_return;
      }
      rx_begin_ += f.size;
      handler_->on_message(*this, input.first(f.size), f.header, now);
      if (handler_ == nullptr || closing_) {
        co_return;
      }
    }
    if (rx_begin_ == rx_end_) {
      rx_begin_ = 0;
      rx_end_ = 0;
    }
  }
}

bool Connection::send(std::span<const std::uint8_t> bytes) {
  if (closing_ || !socket_.is_open()) {
    return false;
  }
  if (queued_bytes() + bytes.size() > limits_.max_send_queue) {
    return false;
  }
  pending_.insert(pending_.end(), bytes.begin(), bytes.end());
  if (!writer_running_) {
    writer_running_ = true;
    asio::co_spawn(socket_.get_executor(), write_loop(shared_from_this()), asio::detached);
  }
  return true;
}

asio::awaitable<void> Connection::write_loop(std::shared_ptr<Connection> self) {
  (void)self;  // keeps the connection alive while the coroutine runs
  while (!pending_.empty()) {
    writing_.swap(pending_);
    boost::system::error_code ec;
    const std::size_t n = co_await asio::async_write(socket_, asio::buffer(writing_),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    bytes_sent_ += n;
    writing_.clear();
    if (ec) {
      writer_running_ = false;
      pending_.clear();
      if (!closing_) {
        fail(ec);
      }
      co_return;
    }
  }
  writer_running_ = false;
  if (closing_) {
    close();
  }
}

void Connection::close_gracefully() {
  if (closing_) {
    return;
  }
  closing_ = true;
  handler_ = nullptr;
  if (!writer_running_) {
    close();
    return;
  }
  // A peer that stops reading must not keep the socket open: give the flush a bounded time.
  linger_.expires_after(limits_.close_linger);
  linger_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) {
      self->close();
    }
  });
}

void Connection::close() {
  closing_ = true;
  handler_ = nullptr;
  linger_.cancel();
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void Connection::fail(boost::system::error_code ec) {
  ConnectionHandler* h = handler_;
  handler_ = nullptr;
  boost::system::error_code ignored;
  socket_.close(ignored);
  if (h != nullptr) {
    h->on_closed(*this, ec);
  }
}

}  // namespace bgpscribe::collector::net
