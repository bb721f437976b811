// DirectoryLock: a second holder of a directory is refused with the first one named, and the
// lock goes with its holder (a process killed by a signal included).
#include "exporters/api/directory_lock.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace bgpscribe::exporters {
namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/bgpscribe-lock-XXXXXX";
  return mkdtemp(tmpl);
}

std::string refusal(const std::string& dir) {
  try {
    DirectoryLock second(dir, "state directory");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return {};
}

TEST(DirectoryLock, ASecondHolderIsRefusedNamingTheFirst) {
  const std::string dir = temp_dir();
  {
    DirectoryLock first(dir, "state directory");
    EXPECT_TRUE(first.held());
    const std::string why = refusal(dir);
    EXPECT_NE(why.find("state directory '" + dir + "' is in use by process " +
                       std::to_string(::getpid())),
              std::string::npos)
        << why;
    EXPECT_NE(why.find("collector_core_test"), std::string::npos) << why;  // its command line
  }
  EXPECT_EQ(refusal(dir), "");  // released with its holder
  std::filesystem::remove_all(dir);
}

TEST(DirectoryLock, AKilledHolderLeavesNoStaleLock) {
  const std::string dir = temp_dir();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    DirectoryLock held(dir, "state directory");
    (void)!::write(ready[1], "x", 1);
    ::pause();
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  EXPECT_NE(refusal(dir).find("in use by process " + std::to_string(child)), std::string::npos);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_EQ(refusal(dir), "");
  ::close(ready[0]);
  ::close(ready[1]);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bgpscribe::exporters
