// The status file (status.json), written by a thread of its own.
//
// The collector makes the status text on the io thread once a second; writing it (a temporary
// file, then a rename) is disk I/O, and on a slow or stalled disk that would hold up every BGP
// session (DESIGN.md rule 2). post() only hands the text over; the thread writes the newest
// text it has, skipping those that a newer one replaced before it got to them.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace bgpscribe::collector {

class StatusFile {
 public:
  explicit StatusFile(std::filesystem::path path);
  ~StatusFile();
  StatusFile(const StatusFile&) = delete;
  StatusFile& operator=(const StatusFile&) = delete;

  // Never waits for the disk.
  void post(std::string text);
  // Waits until the last text posted is written (or failed to be): at shutdown, so that the
  // final status is on disk when the process ends.
  void flush();

 private:
  void run();

  std::filesystem::path path_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<std::string> pending_;
  bool writing_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace bgpscribe::collector
