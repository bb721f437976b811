// Reading an exporter's options from its YAML node with errors that say where and what.
//
// Every message names the config file, the line and column of the offending value, and what
// would be accepted, so an operator fixes a config without reading our code. The collector's
// own config loader (collector/config) uses the same helpers.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bgpscribe::exporters {

// A config problem: "file:line:column: message". Line and column are 1-based (0 = unknown).
class ConfigError : public std::runtime_error {
 public:
  ConfigError(const std::string& file, int line, int column, const std::string& message);
  ConfigError(const std::string& file, const YAML::Node& where, const std::string& message);
  [[nodiscard]] int line() const { return line_; }
  [[nodiscard]] int column() const { return column_; }

 private:
  int line_ = 0;
  int column_ = 0;
};

// A mapping in a config file, read key by key. Keys that were never asked for are errors
// (check_unknown), so a misspelt option is refused instead of silently ignored.
class ConfigMap {
 public:
  // `what` names the mapping in messages ("exporter 'mrt'", "peer 192.0.2.1").
  ConfigMap(std::string file, const YAML::Node& node, std::string what);

  [[nodiscard]] bool has(std::string_view key) const;
  [[nodiscard]] YAML::Node node(std::string_view key) const;  // undefined node when absent
  [[nodiscard]] const YAML::Node& self() const { return node_; }
  [[nodiscard]] const std::string& file() const { return file_; }

  [[nodiscard]] std::string string(std::string_view key, std::optional<std::string> fallback = {});
  [[nodiscard]] bool boolean(std::string_view key, std::optional<bool> fallback = {});
  // An integer within [min, max].
  [[nodiscard]] std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max,
                                     std::optional<std::int64_t> fallback = {});
  // One of `choices`.
  [[nodiscard]] std::string choice(std::string_view key,
                                   std::initializer_list<std::string_view> choices,
                                   std::optional<std::string> fallback = {});
  // A duration: a number of seconds, or a number with a unit (ms, s, m, h, d): "5m", "8h".
  [[nodiscard]] std::int64_t seconds(std::string_view key,
                                     std::optional<std::int64_t> fallback = {});
  // A byte size: a number, or with a unit (k, M, G: powers of 1024): "64M".
  [[nodiscard]] std::uint64_t bytes(std::string_view key,
                                    std::optional<std::uint64_t> fallback = {});
  // A list of strings (a single scalar counts as a list of one).
  [[nodiscard]] std::vector<std::string> strings(std::string_view key);

  // Throws for the first key that no accessor asked for.
  void check_unknown() const;
  [[noreturn]] void fail(std::string_view key, const std::string& message) const;
  [[noreturn]] void fail_at(const YAML::Node& where, const std::string& message) const;

 private:
  YAML::Node required(std::string_view key) const;
  std::string file_;
  YAML::Node node_;
  std::string what_;
  std::vector<std::string> seen_;
};

// Parses a whole decimal integer ("300", "-12"); nullopt for anything else ("", "1x", "+1",
// overflow). The one place of the config code that hands text to std::from_chars.
std::optional<std::int64_t> parse_integer(std::string_view text);
// Parses a whole unsigned decimal integer ("179"); nullopt for anything else ("", "-1", "+1",
// "1x", overflow).
std::optional<std::uint64_t> parse_unsigned(std::string_view text);
// Parses "90", "90s", "500ms", "5m", "8h", "1d" into seconds (ms rounds up); nullopt if not.
std::optional<std::int64_t> parse_seconds(std::string_view text);
// Parses "1024", "64k", "64M", "2G" into bytes; nullopt if not.
std::optional<std::uint64_t> parse_bytes(std::string_view text);

}  // namespace bgpscribe::exporters
