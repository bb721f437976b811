#include "exporters/api/directory_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace bgpscribe::exporters {

namespace {

// The pid holding an flock on the file of `fd`, from /proc/locks ("1: FLOCK  ADVISORY  WRITE
// 1234 08:01:5678 0 EOF"); 0 when it cannot be told.
long lock_holder(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return 0;
  }
  std::ifstream locks("/proc/locks");
  std::string line;
  while (std::getline(locks, line)) {
    std::istringstream in(line);
    std::string id, kind, mode, access, pid, where;
    in >> id >> kind;
    if (kind == "->") {  // a waiter, not a holder
      continue;
    }
    in >> mode >> access >> pid >> where;
    if (kind != "FLOCK") {
      continue;
    }
    unsigned long major = 0, minor = 0, inode = 0;
    if (std::sscanf(where.c_str(), "%lx:%lx:%lu", &major, &minor, &inode) == 3 &&
        inode == st.st_ino && major == ::major(st.st_dev) && minor == ::minor(st.st_dev)) {
      return std::strtol(pid.c_str(), nullptr, 10);
    }
  }
  return 0;
}

// "process 1234 (bgpscribe run -c collector.yaml)", or "another process" when unknown.
std::string describe(long pid) {
  if (pid <= 0) {
    return "another process";
  }
  std::string command;
  std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::getline(cmdline, command, '\n');
  for (auto& c : command) {
    c = c == '\0' ? ' ' : c;
  }
  while (!command.empty() && command.back() == ' ') {
    command.pop_back();
  }
  if (command.size() > 200) {
    command.resize(200);
  }
  return "process " + std::to_string(pid) +
         (command.empty() ? std::string() : " (" + command + ")");
}

}  // namespace

DirectoryLock::DirectoryLock(const std::string& directory, std::string_view what) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  fd_ = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) {
    throw std::runtime_error(std::string(what) + " '" + directory +
                             "': cannot open: " + std::strerror(errno));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const long holder = err == EWOULDBLOCK ? lock_holder(fd_) : 0;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw std::runtime_error(std::string(what) + " '" + directory + "' is in use by " +
                               describe(holder) +
                               ": two instances on one directory would lose each other's "
                               "records; give each its own");
    }
    throw std::runtime_error(std::string(what) + " '" + directory +
                             "': cannot lock: " + std::strerror(err));
  }
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) {
    ::close(fd_);  // releases the flock
  }
}

DirectoryLock::DirectoryLock(DirectoryLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

DirectoryLock& DirectoryLock::operator=(DirectoryLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

}  // namespace bgpscribe::exporters
