#include "exporters/api/config.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace bgpscribe::exporters {

namespace {

std::string where(const std::string& file, int line, int column) {
  std::string s = file.empty() ? std::string("config") : file;
  if (line > 0) {
    s += ":" + std::to_string(line);
    if (column > 0) {
      s += ":" + std::to_string(column);
    }
  }
  return s;
}

// yaml-cpp marks are 0-based and -1 when unknown.
int line_of(const YAML::Node& n) {
  return n.IsDefined() && n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
}
int column_of(const YAML::Node& n) {
  return n.IsDefined() && n.Mark().column >= 0 ? n.Mark().column + 1 : 0;
}

std::string join(std::initializer_list<std::string_view> choices) {
  std::string s;
  for (auto c : choices) {
    if (!s.empty()) {
      s += ", ";
    }
    s += c;
  }
  return s;
}

// The whole of `text` as a decimal T, or nullopt.
template <class T>
std::optional<T> parse_whole(std::string_view text) {
  T v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc{} || p != end) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

std::optional<std::int64_t> parse_integer(std::string_view text) {
  return parse_whole<std::int64_t>(text);
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  return parse_whole<std::uint64_t>(text);
}

ConfigError::ConfigError(const std::string& file, int line, int column, const std::string& message)
    : std::runtime_error(where(file, line, column) + ": " + message),
      line_(line),
      column_(column) {}

ConfigError::ConfigError(const std::string& file, const YAML::Node& node,
                         const std::string& message)
    : ConfigError(file, line_of(node), column_of(node), message) {}

std::optional<std::int64_t> parse_seconds(std::string_view text) {
  struct Unit {
    std::string_view suffix;
    std::int64_t ms;
  };
  static constexpr Unit kUnits[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
  for (const auto& u : kUnits) {
    if (text.size() > u.suffix.size() && text.ends_with(u.suffix)) {
      auto n = parse_integer(text.substr(0, text.size() - u.suffix.size()));
      if (!n || *n < 0 || *n > std::numeric_limits<std::int64_t>::max() / u.ms) {
        return std::nullopt;
      }
      return (*n * u.ms + 999) / 1000;
    }
  }
  auto n = parse_integer(text);
  if (!n || *n < 0) {
    return std::nullopt;
  }
  return n;
}

std::optional<std::uint64_t> parse_bytes(std::string_view text) {
  std::uint64_t scale = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'k':
      case 'K':
        scale = 1ULL << 10;
        break;
      case 'M':
        scale = 1ULL << 20;
        break;
      case 'G':
        scale = 1ULL << 30;
        break;
      default:
        break;
    }
    if (scale != 1) {
      text.remove_suffix(1);
    }
  }
  auto n = parse_integer(text);
  if (!n || *n < 0 ||
      static_cast<std::uint64_t>(*n) > std::numeric_limits<std::uint64_t>::max() / scale) {
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(*n) * scale;
}

ConfigMap::ConfigMap(std::string file, const YAML::Node& node, std::string what)
    : file_(std::move(file)), node_(node), what_(std::move(what)) {
  if (!node_.IsMap()) {
    throw ConfigError(file_, node_, what_ + " must be a mapping of options");
  }
}

bool ConfigMap::has(std::string_view key) const {
  return static_cast<bool>(node_[std::string(key)]);
}

YAML::Node ConfigMap::node(std::string_view key) const {
  const_cast<ConfigMap*>(this)->seen_.emplace_back(key);
  return node_[std::string(key)];
}

YAML::Node ConfigMap::required(std::string_view key) const {
  auto n = node(key);
  if (!n) {
    throw ConfigError(file_, node_, what_ + ": missing '" + std::string(key) + "'");
  }
  if (!n.IsScalar()) {
    fail_at(n, "'" + std::string(key) + "' must be a single value");
  }
  return n;
}

void ConfigMap::fail(std::string_view key, const std::string& message) const {
  auto n = node_[std::string(key)];
  fail_at(n ? n : node_, message);
}

void ConfigMap::fail_at(const YAML::Node& n, const std::string& message) const {
  throw ConfigError(file_, n, what_ + ": " + message);
}

std::string ConfigMap::string(std::string_view key, std::optional<std::string> fallback) {
  if (fallback && !has(key)) {
    seen_.emplace_back(key);
    return *fallback;
  }
  return required(key).Scalar();
}

bool ConfigMap::boolean(std::string_view key, std::optional<bool> fallback) {
  if (fallback && !has(key)) {
    seen_.emplace_back(key);
    return *fallback;
  }
  auto n = required(key);
  const auto& s = n.Scalar();
  if (s == "true" || s == "yes" || s == "on") {
    return true;
  }
  if (s == "false" || s == "no" || s == "off") {
    return false;
  }
  fail_at(n, "'" + std::string(key) + "' must be true or false, not '" + s + "'");
}

std::int64_t ConfigMap::integer(std::string_view key, std::int64_t min, std::int64_t max,
                                std::optional<std::int64_t> fallback) {
  if (fallback && !has(key)) {
    seen_.emplace_back(key);
    return *fallback;
  }
  auto n = required(key);
  auto v = parse_integer(n.Scalar());
  if (!v || *v < min || *v > max) {
    fail_at(n, "'" + std::string(key) + "' must be an integer from " + std::to_string(min) +
                   " to " + std::to_string(max) + ", not '" + n.Scalar() + "'");
  }
  return *v;
}

std::string ConfigMap::choice(std::string_view key, std::initializer_list<std::string_view> choices,
                              std::optional<std::string> fallback) {
  if (fallback && !has(key)) {
    seen_.emplace_back(key);
    return *fallback;
  }
  auto n = required(key);
  const auto& s = n.Scalar();
  if (std::find(choices.begin(), choices.end(), s) == choices.end()) {
    fail_at(n, "'" + std::string(key) + "' must be one of " + join(choices) + ", not '" + s + "'");
  }
  return s;
}

std::int64_t ConfigMap::seconds(std::string_view key, std::optional<std::int64_t> fallback) {
  if (fallback && !has(key)) {
    seen_.emplace_back(key);
    return *fallback;
  }
  auto n = required(key);
  auto v = parse_seconds(n.Scalar());
  if (!v) {
    fail_at(n, "'" + std::string(key) + "' must be a duration such as 90, 90s, 5m or 8h, not '" +
                   n.Scalar() + "'");
  }
  return *v;
}

std::uint64_t ConfigMap::bytes(std::string_view key, std::optional<std::uint64_t> fallback) {
  if (fallback && !has(key)) {
    seen_.emplace_back(key);
    return *fallback;
  }
  auto n = required(key);
  auto v = parse_bytes(n.Scalar());
  if (!v) {
    fail_at(n, "'" + std::string(key) + "' must be a size such as 1048576, 64M or 2G, not '" +
                   n.Scalar() + "'");
  }
  return *v;
}

std::vector<std::string> ConfigMap::strings(std::string_view key) {
  auto n = node(key);
  std::vector<std::string> out;
  if (!n) {
    return out;
  }
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
    return out;
  }
  if (!n.IsSequence()) {
    fail_at(n, "'" + std::string(key) + "' must be a value or a list of values");
  }
  for (const auto& item : n) {
    if (!item.IsScalar()) {
      fail_at(item, "each entry of '" + std::string(key) + "' must be a single value");
    }
    out.push_back(item.Scalar());
  }
  return out;
}

void ConfigMap::check_unknown() const {
  for (const auto& kv : node_) {
    const auto& key = kv.first.Scalar();
    if (std::find(seen_.begin(), seen_.end(), key) == seen_.end()) {
      throw ConfigError(file_, kv.first, what_ + ": unknown option '" + key + "'");
    }
  }
}

}  // namespace bgpscribe::exporters
