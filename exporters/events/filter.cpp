#include "exporters/events/filter.hpp"

#include <regex.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "codec/bgp/text.hpp"

namespace bgpscribe::exporters::events {

namespace bgp = codec::bgp;
namespace v1 = bgpscribe::v1;

namespace {

// A value from the client in an error message: quoted, escaped and cut short.
std::string quoted(std::string_view value) {
  constexpr std::size_t kShown = 100;
  std::string out = "\"";
  for (std::size_t i = 0; i < value.size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      static constexpr std::string_view kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0x0fU];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += value.size() > kShown ? "...\"" : "\"";
  return out;
}

// `field "value": `, the start of an error message.
std::string field_text(std::string_view field, std::string_view value) {
  return std::string(field) + " " + quoted(value) + ": ";
}

// "a:b[:c]" as decimal numbers of up to 10 digits each (no sign, no spaces) into `out`; returns
// how many, 0 when the text is not that or has more parts than `out` holds.
std::size_t parse_numbers(std::string_view text, std::span<std::uint64_t> out) {
  std::size_t n = 0;
  while (true) {
    const auto colon = text.find(':');
    const auto part = text.substr(0, colon);
    if (n == out.size() || part.empty() || part.size() > 10) {
      return 0;
    }
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), out[n]);
    if (ec != std::errc() || end != part.data() + part.size()) {
      return 0;
    }
    ++n;
    if (colon == std::string_view::npos) {
      return n;
    }
    text.remove_prefix(colon + 1);
  }
}

// An event's community: "65000:1" as the 32-bit value, nullopt when it is not one.
std::optional<std::uint32_t> community_value(std::string_view text) {
  std::array<std::uint64_t, 2> v{};
  if (parse_numbers(text, v) != 2 || v[0] > 0xffff || v[1] > 0xffff) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>((v[0] << 16) | v[1]);
}

std::optional<std::array<std::uint32_t, 3>> large_community_value(std::string_view text) {
  std::array<std::uint64_t, 3> v{};
  if (parse_numbers(text, v) != 3 ||
      std::ranges::any_of(v, [](std::uint64_t x) { return x > 0xffffffff; })) {
    return std::nullopt;
  }
  return std::array{static_cast<std::uint32_t>(v[0]), static_cast<std::uint32_t>(v[1]),
                    static_cast<std::uint32_t>(v[2])};
}

// IpAddress::parse hands its text to inet_pton as a C string, which ends at a NUL: "10.0.0.1"
// followed by a NUL and anything would pass for 10.0.0.1. A client's text is checked whole.
std::optional<bgp::IpAddress> parse_address(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  return bgp::IpAddress::parse(text);
}

bgp::Prefix parse_prefix(const std::string& text) {
  const std::string_view view(text);
  const auto slash = view.find('/');
  const auto address_text = view.substr(0, slash);
  const auto address = parse_address(address_text);
  if (!address) {
    throw FilterError(field_text("prefix", text) + quoted(address_text) + " is not an IP address");
  }
  const unsigned longest = address->is_v4() ? 32 : 128;
  unsigned length = longest;  // an address alone is a host prefix
  if (slash != std::string_view::npos) {
    const auto digits = view.substr(slash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (digits.empty() || digits.size() > 3 || ec != std::errc() ||
        end != digits.data() + digits.size()) {
      throw FilterError(field_text("prefix", text) + "prefix length " + quoted(digits) +
                        " is not a number");
    }
    if (length > longest) {
      throw FilterError(field_text("prefix", text) + "prefix length " + std::to_string(length) +
                        " > " + std::to_string(longest));
    }
  }
  // The codec's parser clears the host bits, as it does for the events' prefixes.
  const auto prefix = bgp::Prefix::parse(std::string(address_text) + "/" + std::to_string(length));
  if (!prefix) {
    throw FilterError(field_text("prefix", text) + "not a prefix");
  }
  return *prefix;
}

// glibc's regcomp copies what a repetition repeats ("x+" becomes "xx*", "x{2,5}" five x), so
// repetitions multiply: "6" followed by 40 '+' exhausts memory, "a{1,32767}" compiles for 15 s.
// A path regex needs few copies: the atoms of the pattern with its repetitions expanded are kept
// to 2,000 ("a{1,2000}" compiles in 18 ms), and the pattern to 1,024 characters. Back-references
// (not POSIX ERE, a glibc extension) make matching exponential and are refused too.
constexpr std::size_t kRegexMaxLength = 1024;
constexpr std::uint64_t kRegexMaxAtoms = 2000;

// The end of the bracket expression that starts at `at` ('['): ']' first is a member, and so is
// the ']' of "[:alpha:]", "[.x.]" and "[=x=]".
std::size_t bracket_end(std::string_view p, std::size_t at) {
  std::size_t j = at + 1;
  j += static_cast<std::size_t>(j < p.size() && p[j] == '^');
  j += static_cast<std::size_t>(j < p.size() && p[j] == ']');
  while (j < p.size() && p[j] != ']') {
    if (p[j] == '[' && j + 1 < p.size() &&
        (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
      const std::array<char, 2> term{p[j + 1], ']'};
      const auto close = p.find(std::string_view(term.data(), term.size()), j + 2);
      j = close == std::string_view::npos ? p.size() : close + 2;
    } else {
      ++j;
    }
  }
  return j;
}

// The copies an interval "{m}", "{m,}" or "{m,n}" at `at` makes (max(m, n), at least 1, at most
// kRegexMaxAtoms + 1) and where it ends; nullopt when no interval starts there.
std::optional<std::pair<std::uint64_t, std::size_t>> interval(std::string_view p, std::size_t at) {
  std::uint64_t most = 1;
  std::uint64_t count = 0;
  bool digits = false;
  for (std::size_t j = at + 1; j < p.size(); ++j) {
    if (p[j] >= '0' && p[j] <= '9') {
      count = std::min(count * 10 + static_cast<std::uint64_t>(p[j] - '0'), kRegexMaxAtoms + 1);
      digits = true;
    } else if (p[j] == ',') {
      most = std::max(most, count);
      count = 0;
    } else if (p[j] == '}' && digits) {
      return std::pair{std::max(most, count), j};
    } else {
      break;
    }
  }
  return std::nullopt;
}

std::optional<std::string> regex_too_costly(std::string_view p) {
  if (p.size() > kRegexMaxLength) {
    return "longer than " + std::to_string(kRegexMaxLength) + " characters";
  }
  // Per open group: its atoms so far, and those of its last element (which a repetition copies).
  struct Group {
    std::uint64_t atoms = 0;
    std::uint64_t last = 0;
  };
  std::vector<Group> groups(1);
  const auto add = [&](std::uint64_t atoms) {
    groups.back().atoms += atoms;
    groups.back().last = atoms;
  };
  for (std::size_t i = 0; i < p.size(); ++i) {
    std::uint64_t copies = 1;
    if (p[i] == '\\') {
      if (i + 1 < p.size() && p[i + 1] >= '1' && p[i + 1] <= '9') {
        return std::string("back-references are not supported");
      }
      ++i;
      add(1);
    } else if (p[i] == '[') {
      i = bracket_end(p, i);
      add(1);
    } else if (p[i] == '(') {
      groups.emplace_back();
    } else if (p[i] == ')' && groups.size() > 1) {
      const std::uint64_t atoms = groups.back().atoms;
      groups.pop_back();
      add(atoms);
    } else if (p[i] == '|') {
      groups.back().last = 0;
    } else if (p[i] == '+') {
      copies = 2;
    } else if (const auto rep = p[i] == '{' ? interval(p, i) : std::nullopt) {
      copies = rep->first;
      i = rep->second;
    } else if (p[i] != '*' && p[i] != '?') {
      add(1);
    }
    auto& g = groups.back();
    g.atoms += g.last * (copies - 1);  // both at most kRegexMaxAtoms + 1 here: no overflow
    g.last *= copies;
    if (g.atoms > kRegexMaxAtoms) {
      return "more than " + std::to_string(kRegexMaxAtoms) + " atoms with its repetitions expanded";
    }
  }
  return std::nullopt;
}

// The AS path as `bgpscribe dump` writes it (codec/bgp/text.hpp): "1 2 {3,4} (5 6) [7,8]".
// Into a buffer each thread keeps, so that a path regex does not allocate per event.
const std::string& as_path_text(const v1::Attributes& attributes) {
  thread_local std::string text;
  text.clear();
  for (const auto& segment : attributes.as_path()) {
    auto type = bgp::AsSegmentType::AsSequence;
    switch (segment.type()) {
      case v1::AsPathSegment::AS_SET:
        type = bgp::AsSegmentType::AsSet;
        break;
      case v1::AsPathSegment::AS_CONFED_SEQUENCE:
        type = bgp::AsSegmentType::AsConfedSequence;
        break;
      case v1::AsPathSegment::AS_CONFED_SET:
        type = bgp::AsSegmentType::AsConfedSet;
        break;
      default:
        break;
    }
    const auto marks = bgp::as_segment_marks(type);
    if (!text.empty()) {
      text += ' ';
    }
    if (marks.open != '\0') {
      text += marks.open;
    }
    std::array<char, 24> number{};
    for (int i = 0; i < segment.asns_size(); ++i) {
      if (i != 0) {
        text += marks.separator;
      }
      text.append(number.data(), bgp::format_u64(segment.asns(i), number));
    }
    if (marks.close != '\0') {
      text += marks.close;
    }
  }
  return text;
}

std::vector<std::uint32_t> sorted(const google::protobuf::RepeatedField<std::uint32_t>& list) {
  std::vector<std::uint32_t> out(list.begin(), list.end());
  std::ranges::sort(out);
  return out;
}

bool in(const std::vector<std::uint32_t>& sorted_list, std::uint32_t value) {
  return std::ranges::binary_search(sorted_list, value);
}

}  // namespace

class Filter::Regex {
 public:
  explicit Regex(const std::string& pattern) {
    if (pattern.find('\0') != std::string::npos) {
      // regcomp reads a C string: it would compile only the part before the NUL.
      throw FilterError(field_text("as_path_regex", pattern) + "contains a NUL character");
    }
    if (auto problem = regex_too_costly(pattern)) {
      throw FilterError(field_text("as_path_regex", pattern) + *problem);
    }
    const int rc = regcomp(&regex_, pattern.c_str(), REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
      // A failed regcomp leaves nothing to free.
      std::array<char, 256> text{};
      regerror(rc, &regex_, text.data(), text.size());
      throw FilterError(field_text("as_path_regex", pattern) + text.data());
    }
  }
  ~Regex() { regfree(&regex_); }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  Regex(Regex&&) = delete;
  Regex& operator=(Regex&&) = delete;

  // regexec does not change the compiled pattern: one Regex serves every thread.
  [[nodiscard]] bool search(const std::string& text) const {
    return regexec(&regex_, text.c_str(), 0, nullptr, 0) == 0;
  }

 private:
  regex_t regex_{};
};

Filter Filter::from(const v1::SubscribeRequest& request) {
  Filter f;
  f.peer_ids_ = sorted(request.peer_ids());
  f.peer_asns_ = sorted(request.peer_asns());
  f.origin_asns_ = sorted(request.origin_asns());
  for (const auto& text : request.peer_addresses()) {
    const auto address = parse_address(text);
    if (!address) {
      throw FilterError(field_text("peer_addresses", text) + "not an IP address");
    }
    f.peer_addresses_.push_back(*address);
  }
  if (!request.prefix().empty()) {
    f.prefix_ = parse_prefix(request.prefix());
    f.more_specific_ = request.more_specific();
    f.less_specific_ = request.less_specific();
  } else if (request.more_specific() || request.less_specific()) {
    // Refused rather than ignored: the client meant a prefix it did not send.
    throw FilterError(std::string(request.more_specific() ? "more_specific" : "less_specific") +
                      ": set without a prefix");
  }
  if (!request.as_path_regex().empty()) {
    f.as_path_regex_ = std::make_shared<const Regex>(request.as_path_regex());
  }
  if (const auto& text = request.community(); !text.empty()) {
    std::array<std::uint64_t, 3> v{};
    const std::size_t n = parse_numbers(text, v);
    if (n == 2) {
      f.community_ = community_value(text);
      if (!f.community_) {
        throw FilterError(field_text("community", text) + std::to_string(std::max(v[0], v[1])) +
                          " > 65535");
      }
    } else if (n == 3) {
      f.large_community_ = large_community_value(text);
      if (!f.large_community_) {
        throw FilterError(field_text("community", text) + std::to_string(std::ranges::max(v)) +
                          " > 4294967295");
      }
    } else {
      throw FilterError(field_text("community", text) +
                        "expected ASN:VALUE, or GLOBAL:DATA1:DATA2 for a large community");
    }
  }
  f.routes_only_ = request.routes_only();
  return f;
}

bool Filter::passes_everything() const {
  return passes_every_route() && !routes_only_;
}

bool Filter::passes_every_route() const {
  return peer_ids_.empty() && peer_addresses_.empty() && peer_asns_.empty() && !prefix_ &&
         origin_asns_.empty() && !as_path_regex_ && !community_ && !large_community_;
}

bool Filter::reads_attributes() const {
  return !origin_asns_.empty() || as_path_regex_ || community_ || large_community_;
}

bool Filter::matches(const EventView& event) const {
  switch (event.kind) {
    case EventView::Kind::Route:
      if (!matches_peer(*event.peer) || (prefix_ && !matches_prefix(event.prefix))) {
        return false;
      }
      // A withdrawal has no attributes to hold it to: it passes, so that the subscriber sees
      // the end of every route it may have seen.
      return event.withdraw ||
             matches_attributes(event.attributes != nullptr
                                    ? *event.attributes
                                    : bgpscribe::v1::Attributes::default_instance());
    case EventView::Kind::Peer:
      return !routes_only_ && matches_peer(*event.peer);
    case EventView::Kind::Other:
      break;
  }
  return true;
}

bool Filter::matches(const v1::Event& event) const {
  EventView view;
  std::optional<bgp::Prefix> prefix;
  switch (event.kind_case()) {
    case v1::Event::kRoute: {
      const auto& route = event.route();
      view.kind = EventView::Kind::Route;
      view.peer = &route.peer();
      if (prefix_) {
        prefix = bgp::Prefix::parse(route.prefix());
        view.prefix = prefix ? &*prefix : nullptr;
      }
      view.withdraw = route.action() == v1::RouteEvent::WITHDRAW;
      view.attributes = &route.attributes();
      break;
    }
    case v1::Event::kPeer:
      view.kind = EventView::Kind::Peer;
      view.peer = &event.peer().peer();
      break;
    case v1::Event::kSnapshot:
    case v1::Event::kLagging:
    case v1::Event::KIND_NOT_SET:
      break;
  }
  return matches(view);
}

bool Filter::matches_peer(const v1::Peer& peer) const {
  if (!peer_ids_.empty() && !in(peer_ids_, peer.id())) {
    return false;
  }
  if (!peer_asns_.empty() && !in(peer_asns_, peer.asn())) {
    return false;
  }
  if (!peer_addresses_.empty()) {
    const auto address = bgp::IpAddress::parse(peer.address());
    return address && std::ranges::find(peer_addresses_, *address) != peer_addresses_.end();
  }
  return true;
}

bool Filter::matches_prefix(const bgp::Prefix* p) const {
  if (p == nullptr || p->family() != prefix_->family()) {
    return false;
  }
  if (*p == *prefix_) {
    return true;
  }
  return (more_specific_ && prefix_->covers(*p)) || (less_specific_ && p->covers(*prefix_));
}

bool Filter::matches_attributes(const v1::Attributes& attributes) const {
  if (!origin_asns_.empty() &&
      (!attributes.has_origin_asn() || !in(origin_asns_, attributes.origin_asn()))) {
    return false;
  }
  if (community_ && std::ranges::none_of(attributes.communities(), [&](const std::string& c) {
        return community_value(c) == community_;
      })) {
    return false;
  }
  if (large_community_ &&
      std::ranges::none_of(attributes.large_communities(), [&](const std::string& c) {
        return large_community_value(c) == large_community_;
      })) {
    return false;
  }
  return !as_path_regex_ || as_path_regex_->search(as_path_text(attributes));
}

}  // namespace bgpscribe::exporters::events
