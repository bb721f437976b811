// DirectoryLock: one process at a time in a state or archive directory.
//
// Two collectors on one state directory (or two MRT exporters on one archive directory) take
// each other's spool segments and "recover" each other's live `.partial` files: records are
// lost without a word. The lock is an flock(2) on the directory itself: no file is added to an
// archive that researchers mirror, and the kernel drops the lock when its process ends, however
// it ends (kill -9 included), so nothing stale ever keeps the next start out. The holder named
// in the refusal is read from /proc/locks.
#pragma once

#include <string>
#include <string_view>

namespace bgpscribe::exporters {

class DirectoryLock {
 public:
  DirectoryLock() = default;
  // Creates `directory` if needed and locks it. Throws std::runtime_error when another process
  // (or another part of this one) holds it, naming that process: "<what> '<directory>' is in
  // use by process 1234 (bgpscribe run -c collector.yaml)".
  DirectoryLock(const std::string& directory, std::string_view what);
  ~DirectoryLock();
  DirectoryLock(DirectoryLock&& other) noexcept;
  DirectoryLock& operator=(DirectoryLock&& other) noexcept;
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

  [[nodiscard]] bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace bgpscribe::exporters
