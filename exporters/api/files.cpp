#include "exporters/api/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace bgpscribe::exporters {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

// Both public forms, as bytes (std::as_bytes: no cast).
void replace_with(const fs::path& path, std::span<const std::byte> bytes, Durability durability) {
  const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    fail(errno, "cannot create " + tmp.string());
  }
  std::size_t at = 0;
  while (at < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.subspan(at).data(), bytes.size() - at);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int e = errno;
      ::close(fd);
      fail(e, "cannot write " + tmp.string());
    }
    at += static_cast<std::size_t>(n);
  }
  if (durability == Durability::Durable && ::fdatasync(fd) != 0) {
    const int e = errno;
    ::close(fd);
    fail(e, "cannot sync " + tmp.string());
  }
  if (::close(fd) != 0) {
    fail(errno, "cannot write " + tmp.string());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    fail(errno, "cannot rename " + tmp.string() + " to " + path.string());
  }
  if (durability == Durability::Durable && !sync_parent(path)) {
    fail(errno, "cannot sync the folder of " + path.string());
  }
}

}  // namespace

void replace_file(const fs::path& path, std::span<const std::uint8_t> bytes,
                  Durability durability) {
  replace_with(path, std::as_bytes(bytes), durability);
}

void replace_file(const fs::path& path, std::string_view text, Durability durability) {
  replace_with(path, std::as_bytes(std::span(text)), durability);
}

bool sync_path(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return rc == 0;
}

bool sync_parent(const fs::path& path) {
  return sync_path(path.parent_path().empty() ? fs::path(".") : path.parent_path());
}

}  // namespace bgpscribe::exporters
