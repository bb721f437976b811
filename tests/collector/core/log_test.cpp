// exporters/api/log.hpp: lines reach the sink set once at start, formatted printf-style; the
// spdlog-backed log writes text lines with a UTC time stamp and level, or JSON lines with fields,
// filters by level, appends to a file; LogLimiter holds back a storm and summarises it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
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
  logf_peer(LogLevel::Info, PeerContext{"r1", 64500, "192.0.2.1"}, "up");
  set_log_sink({});  // back to the log for the other tests
  EXPECT_EQ(lines, (std::vector<std::string>{"I exporter mrt: started",
                                             "W postgres: batch 7 failed (attempt 2): timeout",
                                             "I peer r1 AS64500: up"}));
}

// Each test writes to its own file and puts the default (stderr, info, text) back after.
class LogFile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("bgpscribe_log_test_" + std::to_string(::getpid()) + ".log");
    std::filesystem::remove(path_);
  }
  void TearDown() override {
    configure_log(LogOptions{});
    std::filesystem::remove(path_);
  }
  std::vector<std::string> lines() const {
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
      out.push_back(line);
    }
    return out;
  }
  std::filesystem::path path_;
};

TEST_F(LogFile, TextLinesHaveAUtcTimeStampLevelAndSource) {
  configure_log(LogOptions{LogLevel::Info, LogFormat::Text, path_.string()});
  log_peer(LogLevel::Info, PeerContext{"192.0.2.1", 64500, "192.0.2.1"}, "up");
  logf(LogLevel::Warning, "exporter kafka", "broker down: %s", "timeout");
  const auto got = lines();
  ASSERT_EQ(got.size(), 2U);
  const std::regex stamp(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z )");
  EXPECT_TRUE(std::regex_search(got[0], stamp)) << got[0];
  EXPECT_EQ(got[0].substr(25), "info  peer 192.0.2.1 AS64500: up");
  EXPECT_EQ(got[1].substr(25), "warn  exporter kafka: broker down: timeout");
}

TEST_F(LogFile, JsonLinesParseWithTheirFields) {
  configure_log(LogOptions{LogLevel::Info, LogFormat::Json, path_.string()});
  log_peer(LogLevel::Info, PeerContext{"r1", 64500, "192.0.2.1"}, "up");
  const LogField fields[] = {{"reason", "no peer"}, {"count", "3", true}};
  log(LogLevel::Error, "speaker", "refused \"x\"\n\tand a control \x01 byte", fields);
  const auto got = lines();
  ASSERT_EQ(got.size(), 2U);
  const auto up = nlohmann::json::parse(got[0]);
  EXPECT_TRUE(std::regex_match(up.at("time").get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  EXPECT_EQ(up.at("level"), "info");
  EXPECT_EQ(up.at("source"), "peer");
  EXPECT_EQ(up.at("msg"), "up");
  EXPECT_EQ(up.at("peer"), "r1");
  EXPECT_EQ(up.at("peer_as"), 64500);
  EXPECT_EQ(up.at("address"), "192.0.2.1");
  const auto refused = nlohmann::json::parse(got[1]);
  EXPECT_EQ(refused.at("level"), "error");
  EXPECT_EQ(refused.at("msg"), "refused \"x\"\n\tand a control \x01 byte");
  EXPECT_EQ(refused.at("reason"), "no peer");
  EXPECT_EQ(refused.at("count"), 3);
}

TEST_F(LogFile, LinesBelowTheLevelAreDropped) {
  configure_log(LogOptions{LogLevel::Warning, LogFormat::Text, path_.string()});
  EXPECT_FALSE(log_enabled(LogLevel::Info));
  log(LogLevel::Debug, "a", "debug");
  log(LogLevel::Info, "a", "info");
  log(LogLevel::Warning, "a", "warning");
  log(LogLevel::Error, "a", "error");
  const auto got = lines();
  ASSERT_EQ(got.size(), 2U);
  EXPECT_NE(got[0].find("warn  a: warning"), std::string::npos);
  EXPECT_NE(got[1].find("error a: error"), std::string::npos);

  configure_log(LogOptions{LogLevel::Debug, LogFormat::Text, path_.string()});
  log(LogLevel::Debug, "a", "now debug");
  EXPECT_NE(lines().back().find("debug a: now debug"), std::string::npos);
}

TEST_F(LogFile, FileIsAppendedToAndReopened) {
  { std::ofstream(path_) << "before\n"; }
  configure_log(LogOptions{LogLevel::Info, LogFormat::Text, path_.string()});
  log(LogLevel::Info, "a", "one");
  // logrotate moves the file away; the reopen starts a new one at the same path.
  const auto moved = path_.string() + ".1";
  std::filesystem::rename(path_, moved);
  reopen_log();
  log(LogLevel::Info, "a", "two");
  std::ifstream old(moved);
  std::string first;
  std::getline(old, first);
  EXPECT_EQ(first, "before");
  const auto got = lines();
  ASSERT_EQ(got.size(), 1U);
  EXPECT_NE(got[0].find("a: two"), std::string::npos);
  std::filesystem::remove(moved);
}

TEST_F(LogFile, AFileInAMissingDirectoryIsRefusedAndTheLogKept) {
  configure_log(LogOptions{LogLevel::Info, LogFormat::Text, path_.string()});
  // The parent is a regular file, so neither we nor spdlog can create it.
  EXPECT_THROW(configure_log(LogOptions{LogLevel::Info, LogFormat::Text,
                                        path_.string() + "/missing/bgpscribe.log"}),
               std::runtime_error);
  log(LogLevel::Info, "a", "still here");
  ASSERT_EQ(lines().size(), 1U);
}

TEST(LogLimiter, HoldsBackAStormAndSummarisesIt) {
  std::vector<std::string> lines;
  set_log_sink([&](LogLevel, std::string_view source, std::string_view text) {
    lines.push_back(std::string(source) + ": " + std::string(text));
  });
  LogLimiter limiter("refused", 2, std::chrono::seconds(60));
  const auto t0 = LogLimiter::Clock::time_point{} + std::chrono::hours(1);
  int allowed = 0;
  for (int i = 0; i < 10; ++i) {
    allowed += limiter.allow("speaker", "no peer", t0 + std::chrono::seconds(i)) ? 1 : 0;
  }
  // Another reason has its own budget.
  EXPECT_TRUE(limiter.allow("speaker", "range full", t0));
  EXPECT_EQ(allowed, 2);
  EXPECT_TRUE(lines.empty());
  EXPECT_TRUE(limiter.allow("speaker", "no peer", t0 + std::chrono::seconds(61)));
  set_log_sink({});
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(lines[0].rfind("speaker: 8 more refused (no peer) since ", 0), 0U) << lines[0];
}

TEST(LogLimiter, ManyReasonsShareOneBudgetPastTheLimit) {
  LogLimiter limiter("failed", 1, std::chrono::seconds(60));
  const auto t0 = LogLimiter::Clock::time_point{} + std::chrono::hours(1);
  int allowed = 0;
  for (int i = 0; i < 1000; ++i) {
    allowed += limiter.allow("peer", "bad peer AS " + std::to_string(i), t0) ? 1 : 0;
  }
  // 64 reasons get a line each; the others share "other reasons": one more.
  EXPECT_EQ(allowed, 65);
}

}  // namespace
}  // namespace bgpscribe::exporters
