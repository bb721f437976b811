// `bgpscribe status`, `rib` and `tail`: the command-line clients of the live API
// (bgpscribe.v1.Collector, docs/api.md "Command line"). They find the collector, call it, and
// render its replies; rendering takes plain messages and writes strings, so tests feed it
// hand-built ones. Read-only, like the API: nothing here changes the collector.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bgpscribe/v1/api.pb.h"
#include "bgpscribe/v1/events.pb.h"

namespace bgpscribe::tools {

// Where the collector answers. The first given wins: `socket`, `connect`, the config's
// api.socket, ./collector.yaml's, then state/api.sock.
struct ApiTarget {
  std::string socket;   // --socket PATH
  std::string connect;  // --connect HOST:PORT
  std::string config;   // -c CONFIG
};

struct StatusOptions {
  ApiTarget target;
  bool json = false;
};

struct RibOptions {
  ApiTarget target;
  std::string prefix;
  std::vector<std::string> peers;  // ids, addresses or names
  bool longest = false;
  bool longer = false;
  bool json = false;
};

struct TailOptions {
  ApiTarget target;
  std::vector<std::string> peers;  // ids, addresses or names
  std::vector<std::uint32_t> peer_asns;
  std::string prefix;
  bool more_specific = false;
  bool less_specific = false;
  std::vector<std::uint32_t> origin_asns;
  std::string path_regex;
  std::string community;
  bool snapshot = false;
  bool routes_only = false;
  bool json = false;
  std::uint64_t count = 0;  // 0: until interrupted
};

// Exit status 0 done, 1 the collector did not answer or refused, 2 a usage or config error.
int run_status(const StatusOptions& options);
int run_rib(const RibOptions& options);
int run_tail(const TailOptions& options);

// --- Rendering --------------------------------------------------------------------------------

// A duration for a table: "01:02:03" under a day, "3d04h" from one; "-" when negative.
std::string human_duration(std::int64_t microseconds);
// The `status` table: collector header line, peers, exporters.
std::string status_table(const v1::StatusReply& reply);
// The reply as proto3 JSON (field names as in api.proto), one object and a newline.
std::string status_json(const v1::StatusReply& reply);

// One `rib` line (text or JSON, newline included). `now_us` is the JSON line's timestamp.
void append_route_text(std::string& out, const v1::Route& route);
void append_route_json(std::string& out, const v1::Route& route, std::int64_t now_us);

// One `tail` line. JSON lines use `bgpscribe dump --json`'s members and spellings; `now_us`
// stamps the events that carry no time of their own (Lagging).
void append_event_text(std::string& out, const v1::Event& event, std::int64_t now_us);
void append_event_json(std::string& out, const v1::Event& event, std::int64_t now_us);

}  // namespace bgpscribe::tools
