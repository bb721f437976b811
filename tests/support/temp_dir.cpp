#include "tests/support/temp_dir.hpp"

#include <stdlib.h>  // mkdtemp

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <system_error>

namespace bgpscribe::tests {

TempDir::TempDir(std::string_view prefix) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  if (std::getenv("BGPSCRIBE_KEEP_TEST_FILES") != nullptr) {
    std::cerr << "kept " << path_.string() << " (BGPSCRIBE_KEEP_TEST_FILES)\n";
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace bgpscribe::tests
