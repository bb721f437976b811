#include "exporters/api/log.hpp"

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <utility>

#include "codec/bgp/text.hpp"

namespace bgpscribe::exporters {

namespace {

// spdlog writes the time stamp (UTC, milliseconds) and the line's frame; the rest of the line is
// ours, so that the level names and JSON escaping do not depend on spdlog's build options.
constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%eZ %v";
constexpr const char* kJsonPattern = R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ",%v})";

struct State {
  std::mutex mutex;
  LogOptions options;
  std::shared_ptr<spdlog::logger> logger;
  LogSink sink;
};

State& state() {
  static State s;
  return s;
}

std::atomic<int> g_level{static_cast<int>(LogLevel::Info)};
std::atomic<bool> g_json{false};

std::shared_ptr<spdlog::logger> make_logger(const LogOptions& options) {
  spdlog::sink_ptr sink;
  if (options.file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    // spdlog would create missing directories; a typo in the path should be refused instead.
    const auto dir = std::filesystem::path(options.file).parent_path();
    if (!dir.empty() && !std::filesystem::is_directory(dir)) {
      throw std::runtime_error("log file " + options.file + ": " + dir.string() +
                               " is not a directory");
    }
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file, false);
    } catch (const spdlog::spdlog_ex& e) {
      throw std::runtime_error("log file " + options.file + ": " + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>("bgpscribe", std::move(sink));
  logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      options.format == LogFormat::Json ? kJsonPattern : kTextPattern,
      spdlog::pattern_time_type::utc, "\n"));
  // Filtering happens before formatting, in log(); a line that gets here is written and flushed
  // at once, so that `tail -f` and a crash lose nothing.
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

std::shared_ptr<spdlog::logger> current_logger() {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  if (!s.logger) {
    s.logger = make_logger(s.options);
  }
  return s.logger;
}

spdlog::level::level_enum spdlog_level(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return spdlog::level::debug;
    case LogLevel::Info:
      return spdlog::level::info;
    case LogLevel::Warning:
      return spdlog::level::warn;
    case LogLevel::Error:
      return spdlog::level::err;
  }
  return spdlog::level::err;
}

// Text lines pad to five so that sources line up; JSON uses the words of the config's `level:`.
std::string_view text_level(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info ";
    case LogLevel::Warning:
      return "warn ";
    case LogLevel::Error:
      return "error";
  }
  return "error";
}

std::string_view json_level(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warning:
      return "warning";
    case LogLevel::Error:
      return "error";
  }
  return "error";
}

void append_json_member(std::string& out, std::string_view key, std::string_view value,
                        bool number) {
  out.push_back(',');
  codec::bgp::append_json_string(out, key);
  out.push_back(':');
  if (number) {
    out.append(value);
  } else {
    codec::bgp::append_json_string(out, value);
  }
}

std::string vformat(const char* format, std::va_list args) {
  std::va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string text(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
  if (n > 0) {
    std::vsnprintf(text.data(), text.size() + 1, format, args);
  }
  return text;
}

// One line: `text_source` is what text lines show before the colon, `json_source` the JSON
// "source"; they differ only for peer lines.
void write(LogLevel level, std::string_view text_source, std::string_view json_source,
           std::string_view text, const PeerContext* peer, std::span<const LogField> fields) {
  if (!log_enabled(level)) {
    return;
  }
  {
    State& s = state();
    std::unique_lock lock(s.mutex);
    if (s.sink) {
      const LogSink sink = s.sink;  // a copy: the sink may log or be replaced meanwhile
      lock.unlock();
      sink(level, text_source, text);
      return;
    }
  }
  std::string line;
  if (g_json.load(std::memory_order_relaxed)) {
    line.reserve(64 + json_source.size() + text.size());
    line.append(R"("level":)");
    codec::bgp::append_json_string(line, json_level(level));
    append_json_member(line, "source", json_source, false);
    append_json_member(line, "msg", text, false);
    if (peer != nullptr) {
      append_json_member(line, "peer", peer->name, false);
      append_json_member(line, "peer_as", std::to_string(peer->peer_as), true);
      if (!peer->address.empty()) {
        append_json_member(line, "address", peer->address, false);
      }
    }
    for (const LogField& f : fields) {
      append_json_member(line, f.key, f.value, f.number);
    }
  } else {
    line.reserve(8 + text_source.size() + text.size());
    line.append(text_level(level)).push_back(' ');
    line.append(text_source).append(": ").append(text);
  }
  current_logger()->log(spdlog_level(level), spdlog::string_view_t(line.data(), line.size()));
}

std::string peer_source(const PeerContext& peer) {
  return "peer " + std::string(peer.name) + " AS" + std::to_string(peer.peer_as);
}

}  // namespace

void configure_log(const LogOptions& options) {
  auto logger = make_logger(options);  // throws before anything changes
  State& s = state();
  const std::lock_guard lock(s.mutex);
  s.options = options;
  s.logger = std::move(logger);
  g_level.store(static_cast<int>(options.level), std::memory_order_relaxed);
  g_json.store(options.format == LogFormat::Json, std::memory_order_relaxed);
}

void reopen_log() {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  if (s.options.file.empty()) {
    return;
  }
  try {
    s.logger = make_logger(s.options);
  } catch (const std::exception&) {
    // Keep writing to the open file (perhaps unlinked) rather than losing lines.
  }
}

bool log_enabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void set_log_sink(LogSink sink) {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  s.sink = std::move(sink);
}

void log(LogLevel level, std::string_view source, std::string_view text,
         std::span<const LogField> fields) {
  write(level, source, source, text, nullptr, fields);
}

void logf(LogLevel level, std::string_view source, const char* format, ...) {
  if (!log_enabled(level)) {
    return;
  }
  std::va_list args;
  va_start(args, format);
  const std::string text = vformat(format, args);
  va_end(args);
  log(level, source, text);
}

void log_peer(LogLevel level, const PeerContext& peer, std::string_view text,
              std::span<const LogField> fields) {
  if (!log_enabled(level)) {
    return;
  }
  write(level, peer_source(peer), "peer", text, &peer, fields);
}

void logf_peer(LogLevel level, const PeerContext& peer, const char* format, ...) {
  if (!log_enabled(level)) {
    return;
  }
  std::va_list args;
  va_start(args, format);
  const std::string text = vformat(format, args);
  va_end(args);
  log_peer(level, peer, text);
}

LogLimiter::LogLimiter(std::string what, int burst, std::chrono::seconds window)
    : what_(std::move(what)), burst_(burst), window_(window) {}

bool LogLimiter::allow(std::string_view source, std::string_view key, Clock::time_point now) {
  std::uint64_t held = 0;
  std::chrono::system_clock::time_point since;
  {
    const std::lock_guard lock(mutex_);
    auto it = keys_.find(key);
    // Keys come from reasons that may carry details; past kMaxKeys the new ones share one, so
    // that the map stays small whatever a hostile peer makes us write.
    if (it == keys_.end() && keys_.size() >= kMaxKeys) {
      key = "other reasons";
      it = keys_.find(key);
    }
    if (it == keys_.end()) {
      it = keys_.emplace(std::string(key), Key{}).first;
      it->second.window_start = now;
    }
    Key& k = it->second;
    if (now - k.window_start >= window_) {
      held = std::exchange(k.held, 0);
      since = k.first_held;
      k.window_start = now;
      k.lines = 0;
    }
    if (k.lines >= burst_) {
      if (k.held++ == 0) {
        k.first_held = std::chrono::system_clock::now();
      }
      return false;
    }
    ++k.lines;
  }
  if (held > 0) {
    const std::time_t t = std::chrono::system_clock::to_time_t(since);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const std::string count = std::to_string(held);
    const std::string text = count + " more " + what_ + " (" + std::string(key) + ") since " + when;
    const LogField fields[] = {{"held", count, true}, {"reason", key}};
    log(LogLevel::Warning, source, text, fields);
  }
  return true;
}

}  // namespace bgpscribe::exporters
