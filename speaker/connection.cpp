#include "speaker/connection.hpp"

#include <boost/asio/write.hpp>
#include <cstring>

namespace bgpscribe::speaker::net {

namespace bgp = codec::bgp;

Connection::Connection(tcp::socket socket, const ConnectionLimits& limits)
    : socket_(std::move(socket)),
      limits_(limits),
      rx_size_(std::max<std::size_t>(limits.receive_buffer, 2 * bgp::kMaxExtendedMessageSize)),
      linger_(socket_.get_executor()) {
  rx_ = std::make_unique_for_overwrite<std::uint8_t[]>(rx_size_);  // see the header
}

Connection::~Connection() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void Connection::start_reading() {
  read_some();
}

void Connection::connect(const tcp::endpoint& remote) {
  auto self = shared_from_this();
  socket_.async_connect(remote, [self](const boost::system::error_code& ec) {
    if (self->handler_ != nullptr) {
      self->handler_->on_connected(*self, ec);
    }
  });
}

void Connection::read_some() {
  // Keep room for the largest message: move the unframed tail to the front when the free
  // space at the end could not complete it.
  if (rx_size_ - rx_end_ < bgp::kMaxExtendedMessageSize && rx_begin_ > 0) {
    std::memmove(rx_.get(), rx_.get() + rx_begin_, rx_end_ - rx_begin_);
    rx_end_ -= rx_begin_;
    rx_begin_ = 0;
  }
  socket_.async_read_some(asio::buffer(rx_.get() + rx_end_, rx_size_ - rx_end_),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      std::size_t n) { self->on_read(ec, n); });
}

void Connection::on_read(boost::system::error_code ec, std::size_t n) {
  if (handler_ == nullptr || closing_) {
    return;
  }
  if (ec) {
    fail(ec);
    return;
  }
  rx_end_ += n;
  bytes_received_ += n;
  const SystemTime now = std::chrono::system_clock::now();
  while (rx_end_ > rx_begin_) {
    const std::span<const std::uint8_t> input(rx_.get() + rx_begin_, rx_end_ - rx_begin_);
    const bgp::Frame f = bgp::frame(input, max_message_size_);
    if (f.status == bgp::FrameStatus::NeedMore) {
      break;
    }
    if (f.status == bgp::FrameStatus::Broken) {
      handler_->on_frame_error(*this, f, input);
      return;
    }
    rx_begin_ += f.size;
    handler_->on_message(*this, input.first(f.size), f.header, now);
    if (handler_ == nullptr || closing_) {
      return;
    }
  }
  if (rx_begin_ == rx_end_) {
    rx_begin_ = 0;
    rx_end_ = 0;
  }
  read_some();
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
    write_pending();
  }
  return true;
}

void Connection::write_pending() {
  writing_.swap(pending_);
  asio::async_write(
      socket_, asio::buffer(writing_),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
        self->bytes_sent_ += n;
        self->writing_.clear();
        if (ec) {
          self->writer_running_ = false;
          self->pending_.clear();
          if (!self->closing_) {
            self->fail(ec);
          }
          return;
        }
        if (!self->pending_.empty()) {
          self->write_pending();
          return;
        }
        self->writer_running_ = false;
        if (self->closing_) {
          self->close();
        }
      });
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

}  // namespace bgpscribe::speaker::net
