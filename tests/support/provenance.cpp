#include "tests/support/provenance.hpp"

#include <fstream>
#include <string_view>

namespace bgpscribe::tests {

namespace {

// Parses "UPDATE ×45, OPEN ×1, KEEPALIVE ×1" (× is U+00D7) into `out`.
void parse_counts(std::string_view list, std::map<std::string, std::size_t>& out) {
  constexpr std::string_view kTimes = "\xC3\x97";
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    const std::size_t times = item.find(kTimes);
    if (times == std::string_view::npos) {
      continue;
    }
    std::string_view name = item.substr(0, times);
    while (!name.empty() && name.front() == ' ') {
      name.remove_prefix(1);
    }
    while (!name.empty() && name.back() == ' ') {
      name.remove_suffix(1);
    }
    std::size_t count = 0;
    for (char c : item.substr(times + kTimes.size())) {
      if (c < '0' || c > '9') {
        break;
      }
      count = count * 10 + static_cast<std::size_t>(c - '0');
    }
    out[std::string(name)] = count;
  }
}

// The text after `label` up to the first ';' (later parts list AFI/SAFIs), or npos.
bool field(std::string_view line, std::string_view label, std::string_view& value) {
  const std::size_t at = line.find(label);
  if (at == std::string_view::npos) {
    return false;
  }
  value = line.substr(at + label.size());
  value = value.substr(0, value.find(';'));
  return true;
}

}  // namespace

std::map<std::string, ProvenanceCounts> read_provenance(const std::filesystem::path& file) {
  std::map<std::string, ProvenanceCounts> out;
  std::ifstream in(file);
  std::string line;
  std::string current;
  while (std::getline(in, line)) {
    const std::string_view l = line;
    if (l.starts_with("### `")) {
      const std::size_t end = l.find('`', 5);
      current = end == std::string_view::npos ? "" : std::string(l.substr(5, end - 5));
      continue;
    }
    if (current.empty()) {
      continue;
    }
    std::string_view value;
    if (field(l, "BGP PDUs inside BMP:", value)) {
      parse_counts(value, out[current].inner_bgp);
    } else if (field(l, "BGP messages:", value) || field(l, "BMP messages:", value)) {
      parse_counts(value, out[current].messages);
    }
  }
  return out;
}

}  // namespace bgpscribe::tests
