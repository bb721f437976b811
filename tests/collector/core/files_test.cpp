// replace_file (exporters/api/files.hpp): the new content whole, no temporary left behind, a
// clear error naming the file when it cannot be written.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "exporters/api/files.hpp"

namespace bgpscribe::exporters {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ReplaceFile, ReplacesWholeAndLeavesNoTemporary) {
  const fs::path dir = fs::temp_directory_path() / ("files_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path f = dir / "status.json";
  replace_file(f, std::string_view("first, a longer content\n"), Durability::Atomic);
  replace_file(f, std::string_view("second\n"), Durability::Durable);
  EXPECT_EQ(slurp(f), "second\n");
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) {
    ++entries;
  }
  EXPECT_EQ(entries, 1U) << "a temporary file stayed";
  EXPECT_TRUE(sync_path(f));
  EXPECT_TRUE(sync_parent(f));
  fs::remove_all(dir);
}

TEST(ReplaceFile, AnUnwritableFolderIsAnErrorNamingTheFile) {
  try {
    replace_file("/nonexistent-folder/x.json", std::string_view("x"), Durability::Durable);
    FAIL() << "no error";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-folder/.x.json.tmp"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace bgpscribe::exporters
