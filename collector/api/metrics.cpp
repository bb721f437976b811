#include "collector/api/metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <vector>

#include "codec/bgp/text.hpp"
#include "collector/api/listen.hpp"
#include "collector/api/on_io.hpp"
#include "collector/core/exporter_worker.hpp"

namespace bgpscribe::collector::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::array<exporters::SessionState, 6> kStates{
    exporters::SessionState::Idle,        exporters::SessionState::Connect,
    exporters::SessionState::Active,      exporters::SessionState::OpenSent,
    exporters::SessionState::OpenConfirm, exporters::SessionState::Established};

// A client gets this long to send its request and read the answer.
constexpr auto kClientTimeout = std::chrono::seconds(10);
constexpr std::size_t kMaxRequestBytes = 8192;

// The exposition text, one family at a time: HELP and TYPE once, then its samples.
class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // `labels` is already rendered ("" or `{a="b"}`).
  void sample(std::string_view name, std::string_view labels, double value) {
    out_ += name;
    out_ += labels;
    out_ += ' ';
    number(value);
    out_ += '\n';
  }
  void sample(std::string_view name, std::string_view labels, std::uint64_t value) {
    out_ += name;
    out_ += labels;
    out_ += ' ';
    out_ += std::to_string(value);
    out_ += '\n';
  }
  // A family of one sample without labels.
  template <class T>
  void single(std::string_view name, std::string_view type, std::string_view help, T value) {
    family(name, type, help);
    sample(name, "", value);
  }
  std::string take() { return std::move(out_); }

 private:
  // The shortest text that reads back as `v` (1.131528, not 1.1315280000000001); NaN and the
  // infinities as the format spells them.
  void number(double v) {
    if (std::isnan(v)) {
      out_ += "NaN";
      return;
    }
    if (std::isinf(v)) {
      out_ += v > 0 ? "+Inf" : "-Inf";
      return;
    }
    std::array<char, 32> buf{};
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    out_.append(buf.data(), r.ptr);
  }
  std::string out_;
};

// Label values escaped as the format asks: backslash, double quote and line feed.
void escaped(std::string& out, std::string_view v) {
  for (const char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// `{a="x",b="y"}` from name/value pairs.
std::string labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : pairs) {
    if (!first) {
      out += ',';
    }
    first = false;
    out += k;
    out += "=\"";
    escaped(out, v);
    out += '"';
  }
  out += '}';
  return out;
}

// A peer's labels, and its labels with one more appended.
std::string peer_labels(const PeerView& p) {
  const auto& i = *p.info;
  const std::string as = std::to_string(i.peer_as);
  const std::string address = i.peer_address.to_string();
  if (i.from_bmp()) {
    return labels({{"peer", i.name}, {"address", address}, {"peer_as", as}, {"router", i.router}});
  }
  return labels({{"peer", i.name}, {"address", address}, {"peer_as", as}});
}
std::string with(const std::string& base, std::string_view key, std::string_view value) {
  std::string out = base.substr(0, base.size() - 1);
  out += ',';
  out += key;
  out += "=\"";
  escaped(out, value);
  out += "\"}";
  return out;
}

double seconds(std::int64_t us) {
  return static_cast<double>(us) / 1e6;
}

void collector_metrics(Writer& w, const StatusView& v, std::string_view version) {
  w.family("bgpscribe_build_info", "gauge", "The collector's version and name (always 1).");
  w.sample("bgpscribe_build_info", labels({{"version", version}, {"collector", v.name}}),
           std::uint64_t{1});
  w.single("bgpscribe_start_time_seconds", "gauge", "When the collector started, Unix seconds.",
           seconds(v.started_us));
  w.single("bgpscribe_messages_total", "counter", "BGP messages received and recorded.",
           v.messages);
  w.single("bgpscribe_state_changes_total", "counter", "Session state changes recorded.",
           v.state_changes);
  w.single("bgpscribe_routes", "gauge", "Routes held in the Adj-RIB-In of every peer.", v.routes);
  w.single("bgpscribe_attribute_sets", "gauge", "Distinct attribute sets held.", v.attribute_sets);
  w.single("bgpscribe_rib_bytes", "gauge", "Approximate bytes the Adj-RIB-In holds.", v.rib_bytes);
  w.family("bgpscribe_refused_total", "counter",
           "Connections and sessions refused or reset before or instead of being recorded, by "
           "reason.");
  const auto& r = v.refused;
  const std::pair<std::string_view, std::uint64_t> reasons[] = {
      {"unknown_source", r.unmatched},  {"range_full", r.range_full},
      {"pending_full", r.pending_full}, {"no_open", r.no_open},
      {"open_refused", r.open_refused}, {"malformed_message", r.malformed}};
  for (const auto& [reason, n] : reasons) {
    w.sample("bgpscribe_refused_total", labels({{"reason", reason}}), n);
  }
  w.single("bgpscribe_attributes_discarded_total", "counter",
           "UPDATEs with an attribute discarded (RFC 7606 attribute discard).",
           v.attributes_discarded);
  w.family("bgpscribe_reloads_total", "counter", "Config reloads (SIGHUP), by result.");
  w.sample("bgpscribe_reloads_total", labels({{"result", "applied"}}), v.reloads);
  w.sample("bgpscribe_reloads_total", labels({{"result", "refused"}}), v.reloads_refused);
  w.single("bgpscribe_snapshots_total", "counter", "RIB snapshots handed to the exporters.",
           v.snapshots);
}

void peer_metrics(Writer& w, const StatusView& v) {
  std::vector<std::string> base;
  base.reserve(v.peers.size());
  for (const auto& p : v.peers) {
    base.push_back(peer_labels(p));
  }
  // A family with one sample per peer: `value(peer)`.
  const auto each = [&](std::string_view name, std::string_view type, std::string_view help,
                        const auto& value) {
    w.family(name, type, help);
    for (std::size_t i = 0; i < v.peers.size(); ++i) {
      w.sample(name, base[i], value(v.peers[i]));
    }
  };
  // A family with one sample per peer and family: `value(family counters)`.
  const auto each_family = [&](std::string_view name, std::string_view type, std::string_view help,
                               const auto& value) {
    w.family(name, type, help);
    for (std::size_t i = 0; i < v.peers.size(); ++i) {
      for (const auto& f : v.peers[i].counters.families) {
        w.sample(name, with(base[i], "family", codec::bgp::family_text(f.family)), value(f));
      }
    }
  };
  const auto up = [](const PeerView& p) { return p.state == exporters::SessionState::Established; };
  using Family = rib::PeerFamilyCounters;

  w.family("bgpscribe_peer_state", "gauge",
           "1 for the session's state (RFC 4271 names), 0 for the others.");
  for (std::size_t i = 0; i < v.peers.size(); ++i) {
    for (const auto s : kStates) {
      w.sample("bgpscribe_peer_state", with(base[i], "state", exporters::to_string(s)),
               std::uint64_t{v.peers[i].state == s ? 1U : 0U});
    }
  }
  each("bgpscribe_peer_up", "gauge", "1 while the session is Established.",
       [&](const PeerView& p) { return std::uint64_t{up(p) ? 1U : 0U}; });
  each("bgpscribe_peer_uptime_seconds", "gauge",
       "How long the session has been Established (0 when it is not).", [&](const PeerView& p) {
         return up(p) && p.state_since_us > 0 ? seconds(v.now_us - p.state_since_us) : 0.0;
       });
  each("bgpscribe_peer_messages_received_total", "counter",
       "BGP messages received from the peer (Route Monitoring messages for BMP sources).",
       [](const PeerView& p) { return p.messages; });
  each("bgpscribe_peer_last_update_timestamp_seconds", "gauge",
       "When the peer's last UPDATE came, Unix seconds (0: none this run).",
       [](const PeerView& p) { return seconds(p.last_update_us); });
  each("bgpscribe_peer_session_resets_total", "counter",
       "Times the peer's session left Established this run.",
       [](const PeerView& p) { return p.sessions_ended; });
  each_family("bgpscribe_peer_routes", "gauge",
              "Routes held for the peer (stale ones of graceful restart included), per family.",
              [](const Family& f) { return std::uint64_t{f.routes}; });
  each_family("bgpscribe_peer_prefixes_announced_total", "counter",
              "Prefixes the peer announced, per address family.",
              [](const Family& f) { return f.announced; });
  each_family("bgpscribe_peer_prefixes_withdrawn_total", "counter",
              "Prefixes the peer withdrew, per address family (treat-as-withdraw not included).",
              [](const Family& f) { return f.withdrawn; });
  each("bgpscribe_peer_withdrawals_unknown_total", "counter",
       "Withdrawals of routes the peer had not announced.",
       [](const PeerView& p) { return p.counters.withdrawn_unknown; });
  each("bgpscribe_peer_treat_as_withdraw_updates_total", "counter",
       "Malformed UPDATEs applied as withdrawals (RFC 7606 treat-as-withdraw).",
       [](const PeerView& p) { return p.counters.treat_as_withdraw_updates; });
  each("bgpscribe_peer_treat_as_withdraw_prefixes_total", "counter",
       "Prefixes of those UPDATEs, withdrawn.",
       [](const PeerView& p) { return p.counters.treat_as_withdraw_prefixes; });
}

void exporter_metrics(Writer& w, const StatusView& v) {
  std::vector<std::string> base;
  base.reserve(v.exporters.size());
  for (const auto& e : v.exporters) {
    base.push_back(labels({{"exporter", e.name}, {"type", e.type}}));
  }
  struct Counter {
    const char* name;
    const char* type;
    const char* help;
    std::uint64_t ExporterView::*field;
  };
  static constexpr std::array<Counter, 6> kCounters{{
      {"bgpscribe_exporter_pushed_total", "counter", "Records handed to the exporter's worker.",
       &ExporterView::pushed},
      {"bgpscribe_exporter_delivered_total", "counter", "Records the exporter accepted.",
       &ExporterView::delivered},
      {"bgpscribe_exporter_spooled_total", "counter",
       "Records that went through the worker's disk spool.", &ExporterView::spooled},
      {"bgpscribe_exporter_failed_total", "counter", "Records the exporter refused.",
       &ExporterView::failed},
      {"bgpscribe_exporter_dropped_total", "counter",
       "Records lost: the spool full, its buffer full or the disk failing.",
       &ExporterView::dropped},
      {"bgpscribe_exporter_queued", "gauge", "Records in the worker's memory queue now.",
       &ExporterView::queued},
  }};
  for (const auto& c : kCounters) {
    w.family(c.name, c.type, c.help);
    for (std::size_t i = 0; i < v.exporters.size(); ++i) {
      w.sample(c.name, base[i], v.exporters[i].*c.field);
    }
  }
  w.family("bgpscribe_exporter_lag_seconds", "gauge",
           "Age of the oldest record waiting for the exporter, about (0: none waiting).");
  for (std::size_t i = 0; i < v.exporters.size(); ++i) {
    w.sample("bgpscribe_exporter_lag_seconds", base[i], seconds(v.exporters[i].lag_us));
  }
  w.family("bgpscribe_exporter_alarm", "gauge", "1 for each alarm the exporter raises now.");
  for (std::size_t i = 0; i < v.exporters.size(); ++i) {
    for (const auto& a : v.exporters[i].alarms) {
      w.sample("bgpscribe_exporter_alarm", with(base[i], "alarm", a), std::uint64_t{1});
    }
  }
  const std::string_view lag = "bgpscribe_exporter_delivery_lag_seconds";
  w.family(lag, "histogram",
           "Time from the collector's receipt of a record to the exporter's accepting it.");
  const auto& bounds = WorkerStats::kLagBoundsUs;
  for (std::size_t i = 0; i < v.exporters.size(); ++i) {
    const auto& e = v.exporters[i];
    if (e.lag_buckets.size() != bounds.size() + 1) {
      continue;
    }
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < bounds.size(); ++b) {
      cumulative += e.lag_buckets[b];
      char le[32];
      std::snprintf(le, sizeof le, "%g", seconds(bounds[b]));
      w.sample(std::string(lag) + "_bucket", with(base[i], "le", le), cumulative);
    }
    cumulative += e.lag_buckets.back();
    w.sample(std::string(lag) + "_bucket", with(base[i], "le", "+Inf"), cumulative);
    w.sample(std::string(lag) + "_sum", base[i], seconds(static_cast<std::int64_t>(e.lag_sum_us)));
    w.sample(std::string(lag) + "_count", base[i], cumulative);
  }
  // Each exporter's own figures (the MRT exporter's files, the postgres exporter's batches,
  // ...), under one family per kind so that names from exporters never clash with ours.
  w.family("bgpscribe_exporter_detail", "gauge",
           "An exporter's own figure (its name in the label `name`; status.json shows the same).");
  for (std::size_t i = 0; i < v.exporters.size(); ++i) {
    for (const auto& m : v.exporters[i].details) {
      w.sample("bgpscribe_exporter_detail", with(base[i], "name", m.name), m.value);
    }
  }
}

void process_metrics(Writer& w, const ProcessSample& p) {
  w.single("process_cpu_seconds_total", "counter", "User and system CPU time spent, seconds.",
           p.cpu_seconds);
  w.single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
           p.resident_bytes);
  w.single("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
           p.virtual_bytes);
  w.single("process_open_fds", "gauge", "Open file descriptors.", p.open_fds);
  w.single("process_max_fds", "gauge", "The limit of open file descriptors.", p.max_fds);
  w.single("process_start_time_seconds", "gauge", "When the process started, Unix seconds.",
           p.start_time_seconds);
  w.single("process_threads", "gauge", "Threads of the process.", p.threads);
}

}  // namespace

std::optional<ProcessSample> sample_process() {
  // /proc/self/stat: the fields after the command name (which may hold spaces, so the text
  // is cut at its closing parenthesis); proc(5) numbers them from 1, the state being 3.
  std::ifstream stat("/proc/self/stat");
  const std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) {
    return std::nullopt;
  }
  std::istringstream in(text.substr(close + 2));
  std::vector<std::string> f;
  for (std::string field; in >> field;) {
    f.push_back(std::move(field));
  }
  constexpr std::size_t kFirst = 3;  // f[0] is field 3
  auto field = [&](std::size_t n) -> double {
    return n - kFirst < f.size() ? std::stod(f[n - kFirst]) : 0.0;
  };
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  ProcessSample p;
  p.cpu_seconds = (field(14) + field(15)) / ticks;
  p.threads = static_cast<std::uint64_t>(field(20));
  p.virtual_bytes = static_cast<std::uint64_t>(field(23));
  p.resident_bytes = static_cast<std::uint64_t>(field(24) * page);
  // The start is counted in ticks since boot: btime in /proc/stat is the boot in Unix seconds.
  std::ifstream boot("/proc/stat");
  for (std::string line; std::getline(boot, line);) {
    if (line.rfind("btime ", 0) == 0) {
      p.start_time_seconds = std::stod(line.substr(6)) + field(22) / ticks;
      break;
    }
  }
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++p.open_fds;
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    p.max_fds = limit.rlim_cur;
  }
  return p;
}

std::string render_metrics(const StatusView& view, const std::optional<ProcessSample>& process,
                           std::string_view version) {
  Writer w;
  collector_metrics(w, view, version);
  peer_metrics(w, view);
  exporter_metrics(w, view);
  if (process) {
    process_metrics(w, *process);
  }
  return w.take();
}

// One HTTP client: requests read and answered in turn (keep-alive, as Prometheus scrapes),
// each within kClientTimeout.
class MetricsClient : public std::enable_shared_from_this<MetricsClient> {
 public:
  MetricsClient(tcp::socket socket, Collector& collector)
      : stream_(std::move(socket)), collector_(collector) {}

  void start() { read(); }

 private:
  void read() {
    request_ = {};
    parser_.emplace();
    parser_->header_limit(kMaxRequestBytes);
    parser_->body_limit(kMaxRequestBytes);
    stream_.expires_after(kClientTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, std::size_t /*n*/) {
                       if (ec) {
                         self->close();
                         return;
                       }
                       self->request_ = self->parser_->release();
                       self->answer();
                     });
  }

  void answer() {
    auto response = std::make_shared<http::response<http::string_body>>();
    response->version(request_.version());
    response->keep_alive(request_.keep_alive());
    response->set(http::field::server, "bgpscribe");
    const auto target = request_.target();
    const bool get = request_.method() == http::verb::get || request_.method() == http::verb::head;
    if (!get) {
      response->result(http::status::method_not_allowed);
      response->set(http::field::allow, "GET, HEAD");
      response->body() = "only GET and HEAD\n";
    } else if (target == "/metrics" || target.starts_with("/metrics?")) {
      auto& c = collector_;
      if (auto view = on_io(c, [&c] { return c.status_view(); })) {
        response->result(http::status::ok);
        response->set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        response->body() = render_metrics(*view, sample_process(), BGPSCRIBE_VERSION);
      } else {
        response->result(http::status::service_unavailable);
        response->body() = "the collector did not answer (stopping?)\n";
      }
    } else if (target == "/") {
      response->result(http::status::ok);
      response->set(http::field::content_type, "text/html; charset=utf-8");
      response->body() =
          "<html><body><h1>bgpscribe</h1><p><a href=\"/metrics\">metrics</a></p></body></html>\n";
    } else {
      response->result(http::status::not_found);
      response->body() = "not found: the metrics are at /metrics\n";
    }
    if (response->result() != http::status::ok ||
        response->find(http::field::content_type) == response->end()) {
      response->set(http::field::content_type, "text/plain; charset=utf-8");
    }
    response->prepare_payload();
    if (request_.method() == http::verb::head) {
      response->body().clear();  // Content-Length stays that of the GET
    }
    stream_.expires_after(kClientTimeout);
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response](error_code ec, std::size_t /*n*/) {
                        if (ec || !response->keep_alive()) {
                          self->close();
                          return;
                        }
                        self->read();
                      });
  }

  void close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  Collector& collector_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
};

struct MetricsServer::Impl {
  std::optional<ServerThread> server;
  std::string url;
};

MetricsServer::MetricsServer(Collector& collector, const config::ListenAddress& address)
    : impl_(std::make_unique<Impl>()) {
  impl_->server.emplace(address, "metrics", [&collector](tcp::socket socket) {
    std::make_shared<MetricsClient>(std::move(socket), collector)->start();
  });
  impl_->url = "http://" + shown_address(address, impl_->server->port()) + "/metrics";
}

// Clients in the middle of a request are dropped with the io_context.
MetricsServer::~MetricsServer() = default;

std::uint16_t MetricsServer::port() const {
  return impl_->server->port();
}

std::string MetricsServer::url() const {
  return impl_->url;
}

}  // namespace bgpscribe::collector::api
