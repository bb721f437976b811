// The one way the collector core and its exporters write a log line. spdlog does the writing
// (time stamps, one locked write per line, stderr or a file); this header keeps the call sites
// free of it. Lines below the configured level cost one atomic load. Not for per-message use:
// STYLE.md §5 says count those.
#pragma once

#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

namespace bgpscribe::exporters {

enum class LogLevel { Debug, Info, Warning, Error };

enum class LogFormat { Text, Json };

// A structured field: a JSON member in JSON lines, absent from text lines (whose text already
// says it). `number` writes the value unquoted.
struct LogField {
  std::string_view key;
  std::string_view value;
  bool number = false;
};

// Who a session line is about: `peer NAME ASn: ` before the text in text lines; "peer",
// "peer_as" and "address" fields in JSON lines.
struct PeerContext {
  std::string_view name;
  std::uint32_t peer_as = 0;
  std::string_view address;  // empty when unknown
};

struct LogOptions {
  LogLevel level = LogLevel::Info;
  LogFormat format = LogFormat::Text;
  std::string file;  // appended to; empty: stderr
  friend bool operator==(const LogOptions&, const LogOptions&) = default;
};

// Replaces the running log (level, format, destination); throws std::runtime_error when the file
// cannot be opened, keeping the previous one. Safe while other threads log.
void configure_log(const LogOptions& options);
// Reopens the log file (after logrotate moved it); nothing for stderr.
void reopen_log();
[[nodiscard]] bool log_enabled(LogLevel level);

// For tests: lines at or above the level go here instead, unformatted. Empty: back to the log.
using LogSink = std::function<void(LogLevel level, std::string_view source, std::string_view text)>;
void set_log_sink(LogSink sink);

void log(LogLevel level, std::string_view source, std::string_view text,
         std::span<const LogField> fields = {});
// printf-style.
void logf(LogLevel level, std::string_view source, const char* format, ...)
    __attribute__((format(printf, 3, 4)));

// A line about a peer; the source is "peer NAME ASn" (text) or "peer" with fields (JSON).
void log_peer(LogLevel level, const PeerContext& peer, std::string_view text,
              std::span<const LogField> fields = {});
void logf_peer(LogLevel level, const PeerContext& peer, const char* format, ...)
    __attribute__((format(printf, 3, 4)));

// At most `burst` lines per key and `window`, so a connection storm cannot flood the log. The
// lines held back are counted; the next line allowed for that key is preceded by a summary,
// "N more <what> (key) since <time>". Thread-safe.
class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  LogLimiter(std::string what, int burst, std::chrono::seconds window);

  // True when the caller should write its line now; may first write the summary line.
  [[nodiscard]] bool allow(std::string_view source, std::string_view key,
                           Clock::time_point now = Clock::now());

 private:
  static constexpr std::size_t kMaxKeys = 64;
  struct Key {
    Clock::time_point window_start{};
    std::chrono::system_clock::time_point first_held{};
    int lines = 0;
    std::uint64_t held = 0;
  };
  std::string what_;
  int burst_;
  std::chrono::seconds window_;
  std::mutex mutex_;
  std::map<std::string, Key, std::less<>> keys_;
};

}  // namespace bgpscribe::exporters
