// The one way the collector core and its exporters write a log line: `source: text` on stderr
// by default. Issue 21's logging (levels, JSON lines, a file) replaces the sink in one place.
#pragma once

#include <cstdarg>
#include <functional>
#include <string>
#include <string_view>

namespace bgpscribe::exporters {

enum class LogLevel { Info, Warning, Error };

// Where lines go; set once at start, before any thread logs.
using LogSink = std::function<void(LogLevel level, std::string_view source, std::string_view text)>;
void set_log_sink(LogSink sink);

void log(LogLevel level, std::string_view source, std::string_view text);
// printf-style.
void logf(LogLevel level, std::string_view source, const char* format, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace bgpscribe::exporters
