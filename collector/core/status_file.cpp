#include "collector/core/status_file.hpp"

#include <system_error>
#include <utility>

#include "exporters/api/files.hpp"

namespace bgpscribe::collector {

StatusFile::StatusFile(std::filesystem::path path)
    : path_(std::move(path)), thread_([this] { run(); }) {}

StatusFile::~StatusFile() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void StatusFile::post(std::string text) {
  {
    std::lock_guard lock(mutex_);
    pending_ = std::move(text);
  }
  cv_.notify_all();
}

void StatusFile::flush() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [this] { return !pending_ && !writing_; });
}

void StatusFile::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || pending_; });
    if (!pending_) {
      return;  // stopping, and everything posted is written
    }
    std::string text = std::move(*pending_);
    pending_.reset();
    writing_ = true;
    lock.unlock();
    try {
      // Atomic, not durable: readers never see half a file, and after a crash the next start
      // writes it again.
      exporters::replace_file(path_, text, exporters::Durability::Atomic);
    } catch (const std::system_error&) {
      // for readers only: the next post writes it again
    }
    lock.lock();
    writing_ = false;
    cv_.notify_all();
  }
}

}  // namespace bgpscribe::collector
