#include "exporters/api/log.hpp"

#include <cstdio>

namespace bgpscribe::exporters {

namespace {

LogSink& sink() {
  static LogSink s;
  return s;
}

}  // namespace

void set_log_sink(LogSink s) {
  sink() = std::move(s);
}

void log(LogLevel level, std::string_view source, std::string_view text) {
  if (const auto& s = sink()) {
    s(level, source, text);
    return;
  }
  // One write per line, so that lines of several threads do not interleave.
  std::string line;
  line.reserve(source.size() + text.size() + 3);
  line.append(source).append(": ").append(text).push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
}

void logf(LogLevel level, std::string_view source, const char* format, ...) {
  std::va_list args;
  va_start(args, format);
  std::va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string text(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
  if (n > 0) {
    std::vsnprintf(text.data(), text.size() + 1, format, args);
  }
  va_end(args);
  log(level, source, text);
}

}  // namespace bgpscribe::exporters
