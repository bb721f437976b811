// exporters/api/log.hpp: lines reach the sink set once at start, formatted printf-style.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "exporters/api/log.hpp"

namespace bgpscribe::exporters {
namespace {

TEST(Log, LinesReachTheSinkWithTheirSourceAndLevel) {
  std::vector<std::string> lines;
  set_log_sink([&](LogLevel level, std::string_view source, std::string_view text) {
    lines.push_back(std::string(level == LogLevel::Warning ? "W " : "I ") + std::string(source) +
                    ": " + std::string(text));
  });
  log(LogLevel::Info, "exporter mrt", "started");
  logf(LogLevel::Warning, "postgres", "batch %llu failed (attempt %d): %s", 7ULL, 2, "timeout");
  set_log_sink({});  // back to stderr for the other tests
  EXPECT_EQ(lines, (std::vector<std::string>{"I exporter mrt: started",
                                             "W postgres: batch 7 failed (attempt 2): timeout"}));
}

}  // namespace
}  // namespace bgpscribe::exporters
