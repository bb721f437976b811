// Test support: a temporary directory that lives as long as the test needs it.
//
// Each TempDir is a fresh directory (mkdtemp) under the system's temporary directory, removed
// with all it holds when the object goes, so tests neither share files nor leave them behind.
// Set BGPSCRIBE_KEEP_TEST_FILES to keep them for a look (the path is printed on stderr).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace bgpscribe::tests {

class TempDir {
 public:
  // `prefix` names the directory ("bgpscribe-mrt" -> /tmp/bgpscribe-mrt-Ab12Cd); throws
  // std::system_error when it cannot be made.
  explicit TempDir(std::string_view prefix = "bgpscribe-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::string str() const { return path_.string(); }
  // path() / name.
  [[nodiscard]] std::filesystem::path operator/(const std::filesystem::path& name) const {
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace bgpscribe::tests
