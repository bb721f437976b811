#include "tools/db.hpp"

#include <time.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <pqxx/pqxx>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "codec/bgp/ip.hpp"
#include "schema/migrations.hpp"

namespace bgpscribe::tools {

namespace {

using codec::bgp::IpAddress;
using codec::bgp::Prefix;

// A bad argument: exit 2, message printed after "bgpscribe db query ".
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string squote(std::string_view s) {
  return "'" + std::string(s) + "'";
}

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

// ---- Arguments: each parser returns the text handed to PostgreSQL, normalised ----------------

std::optional<std::uint64_t> number(std::string_view s, std::uint64_t max) {
  std::uint64_t v = 0;
  if (s.empty() || s.size() > 20) {
    return std::nullopt;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > max) {
    return std::nullopt;
  }
  return v;
}

std::string parse_prefix(std::string_view query, std::string_view arg) {
  const auto slash = arg.find('/');
  if (slash == std::string_view::npos) {
    if (IpAddress::parse(arg)) {
      throw UsageError(std::string(query) + ": " + squote(arg) +
                       " is not a prefix: give its length, e.g. " + std::string(arg) +
                       (arg.find(':') != std::string_view::npos ? "/128" : "/32"));
    }
    throw UsageError(std::string(query) + ": " + squote(arg) + " is not a prefix");
  }
  const auto prefix = Prefix::parse(arg);
  if (!prefix) {
    throw UsageError(std::string(query) + ": " + squote(arg) + " is not a prefix");
  }
  // PostgreSQL's cidr refuses bits set right of the length; say which prefix was meant.
  if (prefix->address != *IpAddress::parse(arg.substr(0, slash))) {
    throw UsageError(std::string(query) + ": " + squote(arg) +
                     " has bits set right of its length (did you mean " + prefix->to_string() +
                     "?)");
  }
  return prefix->to_string();
}

// An address, or a network whose covering prefixes are wanted (lookup).
std::string parse_address(std::string_view query, std::string_view arg) {
  if (arg.find('/') == std::string_view::npos) {
    if (const auto a = IpAddress::parse(arg)) {
      return a->to_string();
    }
  } else if (const auto p = Prefix::parse(arg)) {
    return p->to_string();
  }
  throw UsageError(std::string(query) + ": " + squote(arg) + " is not an IP address");
}

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// "now", Unix seconds, or ISO 8601 / PostgreSQL style: 2024-05-14, 2024-05-14 10:00,
// 2024-05-14T10:00:00.5Z, 2024-05-14 10:00+02. Without a zone: UTC (the session's zone).
std::string parse_time(std::string_view query, std::string_view arg, std::string_view what) {
  const auto bad = [&](const std::string& why) {
    return UsageError(std::string(query) + ": " + squote(arg) + " is not a " + std::string(what) +
                      why);
  };
  if (arg == "now") {
    return "now";
  }
  if (!arg.empty() && arg.size() <= 11 &&
      std::all_of(arg.begin(), arg.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const auto seconds = number(arg, 253402300799ULL);  // to 9999-12-31
    if (!seconds) {
      throw bad(" (Unix seconds past year 9999)");
    }
    const auto t = static_cast<time_t>(*seconds);
    struct tm tm {};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S+00", &tm);
    return buf;
  }
  static const std::regex kIso(
      R"(^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?)"
      R"((?:Z|[+-]\d{2}(?::?\d{2})?)?)?$)");
  std::cmatch m;
  if (!std::regex_match(arg.data(), arg.data() + arg.size(), m, kIso)) {
    throw bad(" (e.g. 2024-05-14, '2024-05-14 10:00', 2024-05-14T10:00:00Z, Unix seconds, now)");
  }
  const auto field = [&m](int i) { return m[i].matched ? std::stoi(m[i].str()) : 0; };
  const int year = field(1);
  const int month = field(2);
  const int day = field(3);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
      field(4) > 23 || field(5) > 59 || field(6) > 59) {
    throw bad(" (no such date or time of day)");
  }
  return std::string(arg);
}

std::string parse_asn(std::string_view query, std::string_view arg) {
  std::string_view digits = arg;
  if (digits.size() > 2 && (digits.substr(0, 2) == "AS" || digits.substr(0, 2) == "as")) {
    digits.remove_prefix(2);
  }
  const auto asn = number(digits, 4294967295ULL);
  if (!asn) {
    throw UsageError(std::string(query) + ": " + squote(arg) +
                     " is not an AS number (0 to 4294967295, e.g. 15169 or AS15169)");
  }
  return std::to_string(*asn);
}

// 65000:100 (RFC 1997), 65000:1:2 (large, RFC 8092), or an extended community as the archive
// spells it (rt:65000:100, soo:..., starting with a letter).
std::string parse_community(std::string_view query, std::string_view arg) {
  const auto bad = [&] {
    return UsageError(std::string(query) + ": " + squote(arg) +
                      " is not a community (65000:100, large 65000:1:2, or extended "
                      "rt:65000:100)");
  };
  if (!arg.empty() && ((arg[0] >= 'a' && arg[0] <= 'z') || (arg[0] >= 'A' && arg[0] <= 'Z'))) {
    if (arg.find(':') == std::string_view::npos) {
      throw bad();
    }
    return std::string(arg);
  }
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= arg.size(); ++i) {
    if (i == arg.size() || arg[i] == ':') {
      parts.push_back(arg.substr(start, i - start));
      start = i + 1;
    }
  }
  if (parts.size() != 2 && parts.size() != 3) {
    throw bad();
  }
  const std::uint64_t max = parts.size() == 2 ? 65535 : 4294967295ULL;
  std::string out;
  for (auto part : parts) {
    const auto v = number(part, max);
    if (!v) {
      throw bad();
    }
    out += (out.empty() ? "" : ":") + std::to_string(*v);
  }
  return out;
}

// Buckets of update counts: N and a unit of seconds to weeks (date_bin takes no months).
std::string parse_interval(std::string_view query, std::string_view arg) {
  static const std::regex kInterval(
      R"(^(\d{1,9})\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?|w|weeks?)$)");
  std::cmatch m;
  if (!std::regex_match(arg.data(), arg.data() + arg.size(), m, kInterval) ||
      std::stol(m[1].str()) == 0) {
    throw UsageError(std::string(query) + ": " + squote(arg) +
                     " is not a bucket width (a positive number and a unit from seconds to "
                     "weeks: 30s, 15min, 1h, '6 hours', 1d, 1w)");
  }
  const std::string unit = m[2].str();
  const char* name = unit[0] == 's'   ? "seconds"
                     : unit[0] == 'h' ? "hours"
                     : unit[0] == 'd' ? "days"
                     : unit[0] == 'w' ? "weeks"
                                      : "minutes";
  return m[1].str() + " " + name;
}

// PEER: a peer id, an address, or ROUTER/ADDRESS[/pre|/post] for a peer a BMP router reports
// (an empty ROUTER, /ADDRESS, names the collector's own sessions). Router names are split off at
// the last '/' before the address, so a name may hold a '/' itself.
struct PeerArg {
  std::string id;                     // a peer id, or
  std::string address;                // an address to resolve in bgp.peers,
  std::optional<std::string> router;  // of this router only ("": the collector's own sessions)
  std::optional<bool> post_policy;    // of this Adj-RIB-In only (/pre, /post)
};

PeerArg parse_peer(std::string_view query, std::string_view arg) {
  if (const auto id = number(arg, 2147483647ULL)) {
    return {std::to_string(*id), "", std::nullopt, std::nullopt};
  }
  PeerArg peer;
  std::string_view rest = arg;
  if (rest.ends_with("/pre") || rest.ends_with("/post")) {
    peer.post_policy = rest.ends_with("/post");
    rest.remove_suffix(*peer.post_policy ? 5 : 4);
  }
  const auto slash = rest.rfind('/');
  if (slash != std::string_view::npos) {
    peer.router = std::string(rest.substr(0, slash));
    rest.remove_prefix(slash + 1);
  }
  const auto a = IpAddress::parse(rest);
  if (!a || (peer.post_policy && !peer.router)) {
    throw UsageError(std::string(query) + ": " + squote(arg) +
                     " is not a peer (a peer id of bgp.peers, the peer's address, or "
                     "ROUTER/ADDRESS[/pre|/post] for a peer a BMP router reports)");
  }
  peer.address = a->to_string();
  return peer;
}

// ---- Queries ---------------------------------------------------------------------------------

struct QueryOptions {
  std::string name;
  std::vector<std::string> args;
  bool more_specifics = false;
  bool less_specifics = false;
};

struct Sql {
  std::string text;
  std::vector<std::string> params;
  std::optional<PeerArg> peer;  // resolved into params[peer_param] before running
  std::size_t peer_param = 0;

  std::string add(std::string value, std::string_view type) {
    params.push_back(std::move(value));
    return "$" + std::to_string(params.size()) + "::" + std::string(type);
  }
};

struct QuerySpec {
  std::string_view name;
  std::string_view arguments;
  std::string_view summary;
  std::size_t min_args;
  std::size_t max_args;
};

constexpr QuerySpec kQueries[] = {
    {"rib-at", "TIME [PEER]", "the RIB of every peer (or one) at TIME: bgp.rib_at", 1, 2},
    {"route", "PREFIX [TIME]", "every peer's routes for exactly PREFIX (default now): route_at", 1,
     2},
    {"history", "PREFIX [FROM [TO]]",
     "the log rows of PREFIX in [FROM, TO) (default all), --more-specifics, --less-specifics: "
     "prefix_history",
     1, 3},
    {"lookup", "ADDRESS [TIME]", "longest-prefix match per peer: lookup", 1, 2},
    {"origin", "ASN [TIME]", "routes originated by ASN (default the current RIB): originated_by", 1,
     2},
    {"through", "ASN [TIME]", "routes whose AS path contains ASN: paths_through", 1, 2},
    {"community", "COMMUNITY [TIME]", "routes carrying COMMUNITY: with_community", 1, 2},
    {"counts", "FROM TO BUCKET [PEER]",
     "announcements and withdrawals per peer per BUCKET (e.g. 1h): update_counts", 3, 4},
};

// The readable columns of a route row `r` of one of the route-returning functions.
// A peer is shown with its router and policy beside its address: the peers BMP routers report
// share addresses with each other and with the collector's own sessions ('' and f).
constexpr std::string_view kRouteSelect =
    "SELECT r.peer_id, p.address AS peer, p.asn AS peer_as, p.router, p.post_policy, r.prefix, "
    "r.path_id, r.since, "
    "a.as_path_text AS as_path, a.next_hop, "
    "array_to_string(a.communities || a.large_communities, ' ') AS communities FROM ";
constexpr std::string_view kRouteJoins =
    " r LEFT JOIN bgp.peers p ON p.peer_id = r.peer_id "
    "LEFT JOIN bgp.attr_sets a ON a.attr_id = r.attr_id "
    "ORDER BY r.prefix, r.peer_id, r.path_id";

Sql build_query(const QueryOptions& q) {
  const QuerySpec* spec = nullptr;
  for (const auto& s : kQueries) {
    if (s.name == q.name) {
      spec = &s;
    }
  }
  if (spec == nullptr) {
    std::string names;
    for (const auto& s : kQueries) {
      names += (names.empty() ? "" : ", ") + std::string(s.name);
    }
    throw UsageError(squote(q.name) + " is not a query; the queries are " + names);
  }
  const std::string& n = q.name;
  if (q.args.size() < spec->min_args || q.args.size() > spec->max_args) {
    throw UsageError(n + ": takes " + std::string(spec->arguments) + ", got " +
                     std::to_string(q.args.size()) + " argument" + (q.args.size() == 1 ? "" : "s"));
  }
  if ((q.more_specifics || q.less_specifics) && n != "history") {
    throw UsageError(n + ": --more-specifics and --less-specifics are options of history only");
  }
  const auto& a = q.args;
  Sql sql;
  const auto opt_time = [&](std::size_t i) {
    return a.size() > i ? ", " + sql.add(parse_time(n, a[i], "time"), "timestamptz")
                        : std::string();
  };
  const auto route_call = [&](const std::string& call) {
    sql.text = std::string(kRouteSelect) + call + std::string(kRouteJoins);
  };
  if (n == "rib-at") {
    std::string call = "bgp.rib_at(" + sql.add(parse_time(n, a[0], "time"), "timestamptz");
    if (a.size() > 1) {
      sql.peer = parse_peer(n, a[1]);
      call += ", " + sql.add(sql.peer->id, "integer");
      sql.peer_param = sql.params.size() - 1;
    }
    route_call(call + ")");
  } else if (n == "route") {
    const std::string p = sql.add(parse_prefix(n, a[0]), "cidr");
    route_call("bgp.route_at(" + p + opt_time(1) + ")");
  } else if (n == "lookup") {
    const std::string p = sql.add(parse_address(n, a[0]), "inet");
    route_call("bgp.lookup(" + p + opt_time(1) + ")");
  } else if (n == "origin" || n == "through") {
    const std::string asn = sql.add(parse_asn(n, a[0]), "bigint");
    route_call(std::string(n == "origin" ? "bgp.originated_by(" : "bgp.paths_through(") + asn +
               opt_time(1) + ")");
  } else if (n == "community") {
    const std::string c = sql.add(parse_community(n, a[0]), "text");
    route_call("bgp.with_community(" + c + opt_time(1) + ")");
  } else if (n == "history") {
    const std::string p = sql.add(parse_prefix(n, a[0]), "cidr");
    const std::string from =
        sql.add(a.size() > 1 ? parse_time(n, a[1], "time") : "-infinity", "timestamptz");
    const std::string to =
        sql.add(a.size() > 2 ? parse_time(n, a[2], "time") : "infinity", "timestamptz");
    sql.text =
        "SELECT h.time, h.peer_id, p.address AS peer, p.asn AS peer_as, p.router, p.post_policy, "
        "h.prefix, h.path_id, "
        "h.action, h.cause, h.as_path, h.next_hop, "
        "array_to_string(h.communities || h.large_communities, ' ') AS communities "
        "FROM bgp.prefix_history(" +
        p + ", " + from + ", " + to + ", " + (q.more_specifics ? "true" : "false") + ", " +
        (q.less_specifics ? "true" : "false") +
        ") h LEFT JOIN bgp.peers p ON p.peer_id = h.peer_id "
        "ORDER BY h.time, h.ord, h.peer_id, h.prefix, h.path_id";
  } else {  // counts
    const std::string from = sql.add(parse_time(n, a[0], "time"), "timestamptz");
    const std::string to = sql.add(parse_time(n, a[1], "time"), "timestamptz");
    const std::string bucket = sql.add(parse_interval(n, a[2]), "interval");
    std::string peer;
    if (a.size() > 3) {
      sql.peer = parse_peer(n, a[3]);
      peer = ", " + sql.add(sql.peer->id, "integer");
      sql.peer_param = sql.params.size() - 1;
    }
    sql.text =
        "SELECT c.bucket_start AS bucket, c.peer_id, p.address AS peer, p.router, "
        "p.post_policy, c.announcements, "
        "c.withdrawals, c.implicit_withdrawals FROM bgp.update_counts(" +
        from + ", " + to + ", " + bucket + peer +
        ") c LEFT JOIN bgp.peers p ON p.peer_id = c.peer_id ORDER BY 1, 2";
  }
  return sql;
}

// ---- Output ----------------------------------------------------------------------------------

bool numeric_type(pqxx::oid type) {
  // int8, int2, int4, oid, float4, float8, numeric (pg_type.h)
  return type == 20 || type == 21 || type == 23 || type == 26 || type == 700 || type == 701 ||
         type == 1700;
}

void write(std::FILE* out, std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), out);
}

// libpqxx 6.4's field has no view(); NULL reads as the empty string, as in psql.
std::string_view text(const pqxx::field& f) {
  return {f.c_str(), f.size()};
}

// psql's aligned format: centred headers, numbers right-aligned, "(N rows)" footer.
void print_table(const pqxx::result& r, std::FILE* out) {
  const auto columns = static_cast<std::size_t>(r.columns());
  std::vector<std::size_t> width(columns);
  std::vector<bool> right(columns);
  for (std::size_t c = 0; c < columns; ++c) {
    const auto col = static_cast<pqxx::row::size_type>(c);
    width[c] = std::string_view(r.column_name(col)).size();
    right[c] = numeric_type(r.column_type(col));
    for (const auto& row : r) {
      width[c] = std::max(width[c], text(row[col]).size());
    }
  }
  std::string line;
  const auto finish = [&] {
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    line += '\n';
    write(out, line);
    line.clear();
  };
  for (std::size_t c = 0; c < columns; ++c) {
    const std::string_view name = r.column_name(static_cast<pqxx::row::size_type>(c));
    const std::size_t pad = width[c] - name.size();
    line += (c == 0 ? " " : " | ");
    line.append(pad / 2, ' ');
    line += name;
    line.append(pad - pad / 2, ' ');
  }
  finish();
  for (std::size_t c = 0; c < columns; ++c) {
    line += (c == 0 ? "" : "+");
    line.append(width[c] + 2, '-');
  }
  write(out, line + "\n");
  line.clear();
  for (const auto& row : r) {
    for (std::size_t c = 0; c < columns; ++c) {
      const std::string_view v = text(row[static_cast<pqxx::row::size_type>(c)]);
      line += (c == 0 ? " " : " | ");
      if (right[c]) {
        line.append(width[c] - v.size(), ' ');
        line += v;
      } else {
        line += v;
        line.append(width[c] - v.size(), ' ');
      }
    }
    finish();
  }
  write(out, "(" + std::to_string(r.size()) + (r.size() == 1 ? " row)\n" : " rows)\n"));
}

// RFC 4180: a header line; fields with a comma, quote, line break or edge space are quoted.
void print_csv(const pqxx::result& r, std::FILE* out) {
  const auto field = [](std::string_view v) {
    const bool quote = v.find_first_of(",\"\r\n") != std::string_view::npos ||
                       (!v.empty() && (v.front() == ' ' || v.back() == ' '));
    if (!quote) {
      return std::string(v);
    }
    std::string s = "\"";
    for (char c : v) {
      s += c == '"' ? "\"\"" : std::string(1, c);
    }
    return s + "\"";
  };
  std::string line;
  for (pqxx::row::size_type c = 0; c < r.columns(); ++c) {
    line += (c == 0 ? "" : ",") + field(r.column_name(c));
  }
  write(out, line + "\n");
  for (const auto& row : r) {
    line.clear();
    for (pqxx::row::size_type c = 0; c < r.columns(); ++c) {
      line += (c == 0 ? "" : ",") + (row[c].is_null() ? std::string() : field(text(row[c])));
    }
    write(out, line + "\n");
  }
}

// ---- Commands --------------------------------------------------------------------------------

// Session settings of every command: no NOTICE chatter through libpqxx; times in UTC, the
// collector's convention, unless PGTZ asks for another zone (libpq applies it at connect).
void configure_session(pqxx::connection_base& c) {
  pqxx::nontransaction tx(c);
  tx.exec0("SET client_min_messages = warning");
  if (std::getenv("PGTZ") == nullptr) {
    tx.exec0("SET TimeZone = 'UTC'");
  }
}

int run_migrate(const std::string& dsn, std::FILE* out) {
  const schema::MigrateResult r = schema::migrate(dsn);
  if (r.applied.empty()) {
    std::fprintf(out, "schema version %d: up to date, nothing applied\n", r.to);
    return 0;
  }
  std::fprintf(out, "schema version %d -> %d; applied:\n", r.from, r.to);
  for (int v : r.applied) {
    std::fprintf(
        out, "  %d  %.*s\n", v,
        static_cast<int>(schema::migrations()[static_cast<std::size_t>(v) - 1].name.size()),
        schema::migrations()[static_cast<std::size_t>(v) - 1].name.data());
  }
  return 0;
}

int run_status(const std::string& dsn, std::FILE* out) {
  pqxx::connection c(dsn);
  configure_session(c);
  const int version = schema::database_version(c);
  pqxx::read_transaction tx(c);
  const pqxx::row where = tx.exec1(
      "SELECT current_database(), coalesce(inet_server_addr()::text, "
      "current_setting('unix_socket_directories')), current_setting('server_version')");
  std::fprintf(out, "database:        %s on %s (PostgreSQL %s)\n", where[0].c_str(),
               where[1].c_str(), where[2].c_str());
  std::fprintf(out, "schema version:  %d (this bgpscribe: %d)", version, schema::latest_version());
  if (version == 0) {
    std::fprintf(out, " - no archive here: run `bgpscribe db migrate`\n");
    return 0;
  }
  if (version < schema::latest_version()) {
    std::fprintf(out, " - run `bgpscribe db migrate` to upgrade\n");
  } else if (version > schema::latest_version()) {
    std::fprintf(out, " - written by a newer bgpscribe\n");
  } else {
    std::fprintf(out, "\n");
  }
  const pqxx::row settings = tx.exec1(
      // Retention is stored in seconds (the exporter's "90d" is 7776000 s, which PostgreSQL
      // prints as 2160:00:00): shown in days, as it is configured.
      "SELECT partition_interval::text, CASE WHEN retention IS NULL THEN 'none (keep everything)' "
      "ELSE trim_scale(round(extract(epoch FROM retention) / 86400, 2))::text || ' days' END "
      "FROM bgp.settings");
  std::fprintf(out, "partitions:      %s each; retention: %s\n", settings[0].c_str(),
               settings[1].c_str());
  write(out, "\n");
  // Partition bounds are only stored as text (pg_get_expr); row counts are the planner's
  // estimates (or the statistics' live rows before the first ANALYZE): exact counts of a
  // large archive would scan it whole.
  print_table(tx.exec(R"(
WITH tables AS (
  SELECT x.t, x.n, ('bgp.' || x.t)::regclass AS rel,
         EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = ('bgp.' || x.t)::regclass)
           AS partitioned
  FROM unnest(ARRAY['collectors', 'peers', 'peer_events', 'attr_sets', 'updates', 'rib',
                    'checkpoints', 'checkpoint_routes']) WITH ORDINALITY AS x(t, n)
), leaves AS (  -- what holds rows: the partitions, or the table itself
  SELECT t.t, pt.relid FROM tables t, pg_partition_tree(t.rel) pt WHERE t.partitioned AND pt.isleaf
  UNION ALL
  SELECT t.t, t.rel FROM tables t WHERE NOT t.partitioned
), bounds AS (
  SELECT t.t,
         (regexp_match(pg_get_expr(k.relpartbound, k.oid), $r$FROM \('([^']+)'\)$r$))[1]::timestamptz AS lo,
         (regexp_match(pg_get_expr(k.relpartbound, k.oid), $r$TO \('([^']+)'\)$r$))[1]::timestamptz AS hi
  FROM tables t JOIN pg_inherits i ON i.inhparent = t.rel JOIN pg_class k ON k.oid = i.inhrelid
)
SELECT t.t AS "table",
       CASE WHEN t.partitioned THEN (SELECT count(*) FROM bounds b WHERE b.t = t.t) END
         AS partitions,
       (SELECT min(lo) FROM bounds b WHERE b.t = t.t) AS "from",
       (SELECT max(hi) FROM bounds b WHERE b.t = t.t) AS "to",
       (SELECT coalesce(sum(CASE WHEN k.reltuples >= 0 THEN k.reltuples
                                 ELSE coalesce(s.n_live_tup, 0) END), 0)::bigint
        FROM leaves l JOIN pg_class k ON k.oid = l.relid
        LEFT JOIN pg_stat_user_tables s ON s.relid = l.relid WHERE l.t = t.t) AS rows_estimate,
       (SELECT pg_size_pretty(coalesce(sum(pg_total_relation_size(l.relid)), 0))
        FROM leaves l WHERE l.t = t.t) AS size
FROM tables t ORDER BY t.n)"),
              out);
  write(out, "\n");
  print_table(tx.exec(R"(
SELECT c.name AS collector, count(k.time) AS checkpoints, max(k.time) AS latest,
       (SELECT routes FROM bgp.checkpoints l WHERE l.collector_id = c.collector_id
        ORDER BY l.time DESC LIMIT 1) AS latest_routes,
       (SELECT count(*) FROM bgp.peers p WHERE p.collector_id = c.collector_id) AS peers
FROM bgp.collectors c LEFT JOIN bgp.checkpoints k ON k.collector_id = c.collector_id
GROUP BY c.collector_id, c.name ORDER BY c.name)"),
              out);
  return 0;
}

// A peer given by address (and router, and policy): its id, or why there is not exactly one.
struct ResolvedPeer {
  std::string id;
  std::string error;
  explicit operator bool() const { return !id.empty(); }
};

ResolvedPeer resolve_peer(pqxx::transaction_base& tx, const PeerArg& peer) {
  std::vector<std::string> params{peer.address};
  std::string where = "address = $1::inet";
  // Which peers are meant, in words: "peer", "pre-policy peer of router r1", "own session".
  std::string policy;
  std::string noun = "peer";
  std::string of;
  if (peer.router) {
    params.push_back(*peer.router);
    where += " AND router = $2::text";
    if (peer.router->empty()) {
      noun = "own session";
      of = " of the collector";
    } else {
      of = " of router " + *peer.router;
    }
  }
  if (peer.post_policy) {
    params.emplace_back(*peer.post_policy ? "true" : "false");
    where += " AND post_policy = $" + std::to_string(params.size()) + "::boolean";
    policy = *peer.post_policy ? "post-policy " : "pre-policy ";
  }
  const pqxx::result peers = tx.exec_params(
      "SELECT peer_id, asn, router, post_policy, distinguisher FROM bgp.peers WHERE " + where +
          " ORDER BY 1",
      pqxx::prepare::make_dynamic_params(params));
  if (peers.size() == 1) {
    return {peers[0][0].c_str(), ""};
  }
  if (peers.empty()) {
    return {"", "no " + policy + noun + of + " has the address " + peer.address};
  }
  // Each id with what tells it apart: AS, router and policy (distinguisher when there is one).
  std::string ids;
  for (const auto& row : peers) {
    std::string what = "AS" + std::string(row[1].c_str());
    const std::string router = row[2].c_str();
    if (router.empty()) {
      what += ", own session";
    } else {
      what += ", router " + router + (row[3].as<bool>() ? ", post-policy" : ", pre-policy");
      if (std::string_view(row[4].c_str()) != "0") {
        what += ", distinguisher " + std::string(row[4].c_str());
      }
    }
    ids += (ids.empty() ? "" : ", ") + std::string(row[0].c_str()) + " (" + what + ")";
  }
  return {"", "several " + policy + noun + "s" + of + " have the address " + peer.address +
                  " (peer ids " + ids +
                  "): give one id, or ROUTER/ADDRESS[/pre|/post] (/ADDRESS: the collector's "
                  "own session)"};
}

int run_query(const std::string& dsn, const QueryOptions& q, bool csv, std::FILE* out,
              std::FILE* err) {
  Sql sql = build_query(q);  // usage errors before any connection
  pqxx::connection c(dsn);
  configure_session(c);
  const int version = schema::database_version(c);
  if (version < schema::latest_version()) {
    std::fprintf(err,
                 "bgpscribe db query: the database is at schema version %d and the queries "
                 "need version %d: run `bgpscribe db migrate`\n",
                 version, schema::latest_version());
    return 1;
  }
  pqxx::read_transaction tx(c);
  if (sql.peer && !sql.peer->address.empty()) {
    const auto id = resolve_peer(tx, *sql.peer);
    if (!id) {
      std::fprintf(err, "bgpscribe db query %s: %s\n", q.name.c_str(), id.error.c_str());
      return 1;
    }
    sql.params[sql.peer_param] = id.id;
  }
  const pqxx::result r = tx.exec_params(sql.text, pqxx::prepare::make_dynamic_params(sql.params));
  if (csv) {
    print_csv(r, out);
  } else {
    print_table(r, out);
  }
  return 0;
}

std::string queries_help() {
  std::string s = "queries:\n";
  for (const auto& q : kQueries) {
    std::string head = "  " + std::string(q.name) + " " + std::string(q.arguments);
    head.append(head.size() < 34 ? 34 - head.size() : 1, ' ');
    s += head + std::string(q.summary) + "\n";
  }
  s += "PEER: a peer id, the peer's address, or ROUTER/ADDRESS[/pre|/post] for a peer that a "
       "BMP router\nreports (/ADDRESS: the collector's own session).\n";
  s += "TIME: 2024-05-14, '2024-05-14 10:00', 2024-05-14T10:00:00Z, +02 offsets, Unix "
       "seconds or now;\nUTC unless it names a zone (or PGTZ is set). docs/sql.md has examples.";
  return s;
}

}  // namespace

void add_db(CLI::App& app, DbArgs& args) {
  auto* db = app.add_subcommand(
      "db", "The PostgreSQL archive: migrate, status, query (bgpscribe db --help; docs/sql.md)");
  // run_db parses the rest itself (its own --help, exit 2 on usage errors).
  db->prefix_command();
  db->set_help_flag();
  db->callback([db, &args] { args.args = db->remaining(); });
}

int run_db(const DbArgs& args, std::FILE* out, std::FILE* err) {
  CLI::App app{"bgpscribe db: the PostgreSQL archive (docs/sql.md)", "bgpscribe db"};
  app.require_subcommand(1);
  std::string dsn;
  const std::string dsn_help =
      "libpq connection string or URI (default: libpq's defaults and PG* variables)";
  auto* migrate = app.add_subcommand(
      "migrate", "Bring the database to this bgpscribe's schema version (idempotent)");
  migrate->add_option("--dsn", dsn, dsn_help);
  auto* status = app.add_subcommand(
      "status", "Schema version, partitions, row estimates and checkpoints of the archive");
  status->add_option("--dsn", dsn, dsn_help);
  auto* query = app.add_subcommand("query", "Run a common query by NAME")->footer(queries_help());
  QueryOptions q;
  std::string format = "table";
  query->add_option("--dsn", dsn, dsn_help);
  query->add_option("NAME", q.name, "the query")->required();
  query->add_option("ARGS", q.args, "its arguments");
  query->add_option("--format", format, "table (aligned, like psql) or csv")
      ->check(CLI::IsMember({"table", "csv"}));
  query->add_flag("--more-specifics", q.more_specifics, "history: also the more-specifics");
  query->add_flag("--less-specifics", q.less_specifics, "history: also the less-specifics");

  // CLI11 would say "A subcommand is required" for a misspelt one.
  if (!args.args.empty() && !args.args[0].starts_with("-") && args.args[0] != "migrate" &&
      args.args[0] != "status" && args.args[0] != "query") {
    std::fprintf(err,
                 "bgpscribe db: %s is not a command; the commands are migrate, status and "
                 "query (bgpscribe db --help)\n",
                 squote(args.args[0]).c_str());
    return 2;
  }
  std::vector<std::string> reversed(args.args.rbegin(), args.args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    write(out, app.help());  // the chosen subcommand's, named "bgpscribe db query"
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(err, "bgpscribe db: %s\n%s\n", e.what(),
                 "run `bgpscribe db --help` or `bgpscribe db query --help`");
    return 2;
  }
  const char* command = migrate->parsed() ? "migrate" : status->parsed() ? "status" : "query";
  try {
    if (migrate->parsed()) {
      return run_migrate(dsn, out);
    }
    if (status->parsed()) {
      return run_status(dsn, out);
    }
    return run_query(dsn, q, format == "csv", out, err);
  } catch (const UsageError& e) {
    std::fprintf(err, "bgpscribe db query %s\n", e.what());
    return 2;
  } catch (const schema::SchemaError& e) {
    std::fprintf(err, "bgpscribe db %s: %s\n", command, e.what());
    return 1;
  } catch (const pqxx::broken_connection& e) {
    std::fprintf(err, "bgpscribe db %s: cannot connect to PostgreSQL: %s\n", command,
                 trim(e.what()).c_str());
    return 1;
  } catch (const pqxx::sql_error& e) {
    std::fprintf(err, "bgpscribe db %s: PostgreSQL: %s\n", command, trim(e.what()).c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(err, "bgpscribe db %s: %s\n", command, e.what());
    return 1;
  }
}

}  // namespace bgpscribe::tools
