// Command-line helpers shared by the example programs: strict numbers, "ADDRESS:PORT"
// endpoints, and "ADDRESS,AS[,options]" peer specifications parsed into a PeerConfig. Protocol
// values in their output are spelled by codec/bgp/text.hpp ("ipv4/unicast", "65000:1", ...).
//
// Header-only so that each example stays one translation unit. Errors are CLI11 validation
// errors naming the option, so that a program reports them like any other bad option; nothing
// here touches sockets.
#pragma once

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <exception>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/ip.hpp"
#include "speaker/peer_config.hpp"

namespace bgpscribe::examples {

// A whole decimal number that fits T; nullopt for anything else ("", "+1", "1x", overflow).
template <class T>
std::optional<T> parse_number(std::string_view text) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end || v > std::numeric_limits<T>::max()) {
    return std::nullopt;
  }
  return static_cast<T>(v);
}

// Splits on `sep`, keeping empty fields.
inline std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto at = text.find(sep, start);
    out.emplace_back(text.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) {
      return out;
    }
    start = at + 1;
  }
}

// "ADDRESS:PORT" or "[V6]:PORT".
inline std::pair<codec::bgp::IpAddress, std::uint16_t> parse_endpoint(const std::string& option,
                                                                      const std::string& text) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      throw CLI::ValidationError(option, "expected [ADDRESS]:PORT, got " + text);
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
      throw CLI::ValidationError(option, "expected ADDRESS:PORT, got " + text);
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  const auto address = codec::bgp::IpAddress::parse(host);
  if (!address) {
    throw CLI::ValidationError(option, "not an IP address: " + host);
  }
  const auto number = parse_number<std::uint16_t>(port);
  if (!number) {
    throw CLI::ValidationError(option, "not a port number: " + port);
  }
  return {*address, *number};
}

// A program's own peer options: returns false when it does not know `key`.
using PeerOptionHook = std::function<bool(const std::string& key, const std::string& value,
                                          speaker::PeerConfig& config)>;

// "ADDRESS,AS[,active|passive][,port=N][,local=ADDRESS][,md5=KEY]", plus the keys `extra`
// knows. Peers are passive unless "active" is given.
inline speaker::PeerConfig parse_peer(const std::string& option, const std::string& spec,
                                      const speaker::PeerConfig& base,
                                      const PeerOptionHook& extra = {}) {
  const auto parts = split(spec, ',');
  if (parts.size() < 2) {
    throw CLI::ValidationError(option, "expected ADDRESS,AS[,options], got " + spec);
  }
  speaker::PeerConfig c = base;
  const auto address = codec::bgp::IpAddress::parse(parts[0]);
  if (!address) {
    throw CLI::ValidationError(option, "not an IP address: " + parts[0]);
  }
  c.peer_address = *address;
  const auto as = parse_number<std::uint32_t>(parts[1]);
  if (!as || *as == 0) {
    throw CLI::ValidationError(option, "not an AS number: " + parts[1]);
  }
  c.peer_as = *as;
  c.passive = true;
  for (std::size_t i = 2; i < parts.size(); ++i) {
    const auto eq = parts[i].find('=');
    const std::string key = parts[i].substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : parts[i].substr(eq + 1);
    if (key == "passive" || key == "active") {
      c.passive = key == "passive";
    } else if (key == "port") {
      const auto port = parse_number<std::uint16_t>(value);
      if (!port || *port == 0) {
        throw CLI::ValidationError(option, "bad port in " + spec);
      }
      c.peer_port = *port;
    } else if (key == "local") {
      c.local_address = codec::bgp::IpAddress::parse(value);
      if (!c.local_address) {
        throw CLI::ValidationError(option, "bad local address in " + spec);
      }
    } else if (key == "md5") {
      c.md5_password = value;
    } else if (!extra || !extra(key, value, c)) {
      std::string message = "unknown option '" + key;
      message += "' in ";
      message += spec;
      throw CLI::ValidationError(option, message);
    }
  }
  return c;
}

// The BGP Identifier, host order, from dotted-quad text.
inline std::uint32_t parse_router_id(const std::string& text) {
  const auto id = codec::bgp::IpAddress::parse(text);
  if (!id || !id->is_v4() || id->v4_host_order() == 0) {
    throw CLI::ValidationError("--router-id", "must be a non-zero IPv4 address, got " + text);
  }
  return id->v4_host_order();
}

// Runs `program` as the body of main: an exception that escapes it (out of memory, an I/O
// error of the io_context) is reported on stderr as "NAME: what" and ends the program with
// status 1, instead of std::terminate.
template <class Program>
int guarded_main(const char* name, Program&& program) {
  try {
    return program();
  } catch (const std::exception& e) {
    std::cerr << name << ": " << e.what() << '\n';
    return 1;
  }
}

}  // namespace bgpscribe::examples
