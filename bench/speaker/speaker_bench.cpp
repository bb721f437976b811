// speaker_bench: load tests of the speaker library (speaker/) over loopback, for the three
// targets of its issue. Each subcommand prints what it measured as one "RESULT key=value ..."
// line (the form bench/speaker-vs-bird parses) after human-readable progress lines.
//
//   send     an active speaker that sends a pre-encoded full table, then End-of-RIB
//   receive  a passive receiver with only a raw-message hook: prefixes/s, CPU, peak RSS
//   idle     N established idle sessions: CPU of the passive side (and ours) over a window
//   storm    N active peers started within one second: time until all are Established
//
// idle and storm fork their passive side (one Process with a dynamic range) unless --to names
// another listener (BIRD), whose CPU --measure-pid then samples. Every wait is bounded.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/speaker/probe.hpp"
#include "bench/speaker/table.hpp"
#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/route_refresh.hpp"  // encode_keepalive
#include "codec/bgp/update.hpp"
#include "codec/wire/reader.hpp"
#include "codec/wire/writer.hpp"
#include "examples/common/cli.hpp"
#include "speaker/process.hpp"

namespace {

namespace asio = boost::asio;
namespace bgp = bgpscribe::codec::bgp;
namespace wire = bgpscribe::codec::wire;
using bgpscribe::bench::epoch_text;
using bgpscribe::speaker::Direction;
using bgpscribe::speaker::DynamicPeers;
using bgpscribe::speaker::Peer;
using bgpscribe::speaker::PeerConfig;
using bgpscribe::speaker::Process;
using bgpscribe::speaker::RawMessage;
using bgpscribe::speaker::State;
using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

double seconds_between(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

void say(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

std::string fixed(double v, int decimals = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

struct Endpoint {
  bgp::IpAddress address;
  std::uint16_t port = 0;
};

// "ADDR:PORT" or "[V6]:PORT", parsed by the examples' shared helper.
Endpoint parse_endpoint(const std::string& text, const char* option) {
  const auto [address, port] = bgpscribe::examples::parse_endpoint(option, text);
  return {address, port};
}

bgp::IpAddress parse_address(const std::string& text, const char* option) {
  auto a = bgp::IpAddress::parse(text);
  if (!a) {
    throw CLI::ValidationError(option, "not an IP address: " + text);
  }
  return *a;
}

// A BGP identifier: the IPv4 address given, else 127.0.0.1.
std::uint32_t identifier(const bgp::IpAddress& a) {
  return a.is_v4() ? a.v4_host_order() : 0x7f000001U;
}

// Runs `f` on SIGINT or SIGTERM.
void on_signal(asio::signal_set& signals, std::function<void()> f) {
  signals.async_wait([f = std::move(f)](const boost::system::error_code& ec, int /*sig*/) {
    if (!ec) {
      f();
    }
  });
}

// ---- Counting prefixes in the raw-message hook ------------------------------------------------

// Entries of an NLRI field (RFC 4271 4.3, RFC 7911 3), walked without decoding them.
std::size_t count_nlri(wire::Reader r, bool add_path) {
  std::size_t n = 0;
  while (!r.empty()) {
    if (add_path && !r.skip(4)) {
      break;
    }
    const auto bits = r.u8();
    if (!bits || !r.skip((*bits + 7u) / 8u)) {
      break;
    }
    ++n;
  }
  return n;
}

struct Counts {
  std::size_t announced = 0;
  std::size_t withdrawn = 0;
};

// Announced and withdrawn prefixes of one UPDATE (header included): the classic fields and
// MP_REACH/MP_UNREACH (RFC 4760 3, 4), without the full parse the library already made. The
// library resets the session on a malformed UPDATE, so a short walk only undercounts.
Counts count_prefixes(std::span<const std::uint8_t> message, const bgp::ParseContext& ctx) {
  Counts c;
  wire::Reader r(message);
  if (!r.skip(19)) {
    return c;
  }
  const auto withdrawn_length = r.u16();
  if (!withdrawn_length) {
    return c;
  }
  auto withdrawn = r.sub(*withdrawn_length);
  if (!withdrawn) {
    return c;
  }
  c.withdrawn = count_nlri(*withdrawn, ctx.add_path(bgp::kIpv4Unicast));
  const auto attributes_length = r.u16();
  if (!attributes_length) {
    return c;
  }
  auto attributes = r.sub(*attributes_length);
  if (!attributes) {
    return c;
  }
  c.announced = count_nlri(r, ctx.add_path(bgp::kIpv4Unicast));
  while (!attributes->empty()) {
    const auto flags = attributes->u8();
    const auto type = attributes->u8();
    if (!flags || !type) {
      break;
    }
    std::size_t length = 0;
    if ((*flags & bgp::attr_flag::kExtendedLength) != 0) {
      const auto l = attributes->u16();
      if (!l) {
        break;
      }
      length = *l;
    } else {
      const auto l = attributes->u8();
      if (!l) {
        break;
      }
      length = *l;
    }
    auto value = attributes->sub(length);
    if (!value) {
      break;
    }
    const bool reach = *type == static_cast<std::uint8_t>(bgp::AttributeType::MpReachNlri);
    const bool unreach = *type == static_cast<std::uint8_t>(bgp::AttributeType::MpUnreachNlri);
    if (!reach && !unreach) {
      continue;
    }
    const auto afi = value->u16();
    const auto safi = value->u8();
    if (!afi || !safi) {
      continue;
    }
    const bgp::AfiSafi family{static_cast<bgp::Afi>(*afi), static_cast<bgp::Safi>(*safi)};
    if (reach) {
      const auto next_hop_length = value->u8();
      if (!next_hop_length || !value->skip(*next_hop_length + 1u)) {  // next hop, reserved
        continue;
      }
      c.announced += count_nlri(*value, ctx.add_path(family));
    } else {
      c.withdrawn += count_nlri(*value, ctx.add_path(family));
    }
  }
  return c;
}

// ---- send ---------------------------------------------------------------------------------------

struct SendOptions {
  std::string to = "127.0.0.1:1179";
  std::string local = "127.0.0.2";
  std::uint32_t as = 65001;
  std::uint32_t peer_as = 65000;
  bgpscribe::bench::TableOptions table;
  std::uint16_t hold = 90;
  double timeout = 300;
};

int run_send(SendOptions o) {
  const Endpoint to = parse_endpoint(o.to, "--to");
  const bgp::IpAddress local = parse_address(o.local, "--local");
  o.table.local_as = o.as;

  // What the session will negotiate with a receiver that has 4-octet AS and no ADD-PATH (our
  // receiver, BIRD and GoBGP here); checked again once Established.
  bgp::ParseContext ctx;
  ctx.four_octet_as = true;
  const auto t0 = SteadyClock::now();
  auto built = bgpscribe::bench::build_table(o.table, ctx, bgp::kMaxMessageSize);
  if (!built) {
    std::cerr << "speaker_bench send: cannot build the table: " << built.error().message << "\n";
    return 2;
  }
  const bgpscribe::bench::EncodedTable table = std::move(*built);
  say("send: table: " + bgpscribe::bench::describe(table) + "; encoded in " +
      fixed(seconds_between(t0, SteadyClock::now()), 2) + " s");

  Process process;
  PeerConfig c;
  c.local_as = o.as;
  c.local_id = identifier(local);
  c.peer_as = o.peer_as;
  c.peer_address = to.address;
  c.peer_port = to.port;
  c.local_address = local;
  c.hold_time = o.hold;
  c.connect_retry = std::chrono::seconds(1);
  // The whole table is queued at once (the library has no way to wait for room in the send
  // queue: a full queue resets the session), so the queue must hold it.
  c.max_send_queue = table.bytes.size() + (1 << 20);
  c.auto_end_of_rib = false;  // End-of-RIB follows the table
  Peer& peer = process.add_peer(c);

  bool sent = false;
  bool failed = false;
  std::string end = "timeout";
  SteadyClock::time_point sent_at{};
  double queue_seconds = 0;
  double cpu_start = 0;
  peer.on_established([&](Peer& p) {
    if (sent) {
      return;
    }
    if (!p.four_octet_as() || p.negotiated()->send_context().add_path(bgp::kIpv4Unicast) ||
        (table.ipv6_prefixes > 0 && !p.has_family(bgp::kIpv6Unicast))) {
      say("send: the session did not negotiate what the table was encoded for "
          "(4-octet AS, no ADD-PATH, IPv6 when sending IPv6)");
      failed = true;
      p.stop();
      process.stop();
      return;
    }
    sent = true;
    sent_at = SteadyClock::now();
    cpu_start = bgpscribe::bench::self_cpu_seconds();
    // Asio writes the first message of an empty queue at once, the rest only after this
    // callback returns: let that be a KEEPALIVE, so that the receiver's first UPDATE marks the
    // start of the stream, not the start of our queueing.
    wire::Writer w;
    bgp::encode_keepalive(w);
    (void)p.send_raw(w.bytes());
    for (std::size_t i = 0; i < table.messages(); ++i) {
      if (!p.send_raw(table.message(i))) {
        say("send: the send queue refused UPDATE " + std::to_string(i));
        failed = true;
        process.stop();
        return;
      }
    }
    for (const auto f : {bgp::kIpv4Unicast, bgp::kIpv6Unicast}) {
      if (p.has_family(f) && !p.send_end_of_rib(f)) {
        failed = true;
      }
    }
    // The table leaves once this callback returns: the stream starts now.
    queue_seconds = seconds_between(sent_at, SteadyClock::now());
    sent_at = SteadyClock::now();
    say("send: established; queued " + std::to_string(table.messages()) +
        " UPDATEs and End-of-RIB in " + fixed(queue_seconds) + " s");
    say("SEND start=" + epoch_text(SystemClock::now()));
  });
  peer.on_state_change([&](Peer&, State from, State /*to*/, std::string_view why) {
    if (from == State::Established) {
      end = "closed";
      say("send: session closed: " + std::string(why));
      process.stop();
    }
  });

  asio::signal_set signals(process.io(), SIGINT, SIGTERM);
  on_signal(signals, [&] {
    end = "signal";
    process.stop();
  });
  asio::steady_timer deadline(process.io(), std::chrono::duration_cast<SteadyClock::duration>(
                                                std::chrono::duration<double>(o.timeout)));
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) {
      say("send: no end after " + fixed(o.timeout, 0) + " s");
      process.stop();
    }
  });
  peer.start();
  process.run();
  const double active = sent ? seconds_between(sent_at, SteadyClock::now()) : 0;
  say("RESULT role=send end=" + end + " sent=" + (sent ? "1" : "0") + " updates=" +
      std::to_string(table.messages()) + " bytes=" + std::to_string(table.bytes.size()) +
      " prefixes=" + std::to_string(table.ipv4_prefixes + table.ipv6_prefixes) +
      " queue_s=" + fixed(queue_seconds) + " active_s=" + fixed(active) +
      " cpu_active_s=" + fixed(sent ? bgpscribe::bench::self_cpu_seconds() - cpu_start : 0) +
      " cpu_s=" + fixed(bgpscribe::bench::self_cpu_seconds()) +
      " rss_kib=" + std::to_string(bgpscribe::bench::self_peak_rss_kib()));
  if (peer.state() == State::Established) {
    peer.stop("benchmark over");
    process.run_for(std::chrono::milliseconds(100));
  }
  return failed || !sent ? 1 : 0;
}

// ---- receive ------------------------------------------------------------------------------------

struct ReceiveOptions {
  std::string listen = "127.0.0.1:1179";
  std::string peer = "127.0.0.2,65001";
  std::uint32_t as = 65000;
  std::string router_id = "127.0.0.1";
  std::string count = "walk";
  std::size_t expect = 0;
  double timeout = 300;
  std::size_t receive_buffer = 0;
};

int run_receive(const ReceiveOptions& o) {
  const Endpoint listen = parse_endpoint(o.listen, "--listen");
  const auto comma = o.peer.find(',');
  if (comma == std::string::npos) {
    throw CLI::ValidationError("--peer", "expected ADDRESS,AS, got " + o.peer);
  }
  const bool parse_mode = o.count == "parse";

  Process process;
  PeerConfig c;
  c.local_as = o.as;
  c.local_id = identifier(parse_address(o.router_id, "--router-id"));
  c.peer_address = parse_address(o.peer.substr(0, comma), "--peer");
  c.peer_as = static_cast<std::uint32_t>(std::stoul(o.peer.substr(comma + 1)));
  c.passive = true;
  if (o.receive_buffer > 0) {
    c.receive_buffer = o.receive_buffer;
  }
  Peer& peer = process.add_peer(c);
  process.listen(listen.address, listen.port);
  const double cpu_ready = bgpscribe::bench::self_cpu_seconds();
  say("receive: listening on " + o.listen + " (count: " + o.count + ")");

  std::uint64_t updates = 0;
  std::uint64_t bytes = 0;
  std::uint64_t announced = 0;
  std::uint64_t withdrawn = 0;
  std::optional<SystemClock::time_point> first;
  SteadyClock::time_point first_steady{};
  double cpu_first = 0;
  bgp::Update parsed;  // reused decode target of --count parse
  peer.on_raw([&](Peer&, const RawMessage& m) {
    if (m.direction != Direction::Received || m.type != bgp::MessageType::Update) {
      return;
    }
    if (!first) {
      first = m.time;
      first_steady = SteadyClock::now();
      cpu_first = bgpscribe::bench::self_cpu_seconds();
    }
    ++updates;
    bytes += m.bytes.size();
    if (parse_mode) {
      if (bgp::parse_update_into(m.bytes, *m.context, parsed)) {
        announced += parsed.nlri.count() + parsed.attributes.mp_reach.nlri.count();
        withdrawn += parsed.withdrawn.count() + parsed.attributes.mp_unreach.withdrawn.count();
      }
    } else {
      const Counts n = count_prefixes(m.bytes, *m.context);
      announced += n.announced;
      withdrawn += n.withdrawn;
    }
  });

  std::vector<bgp::AfiSafi> waiting;
  bool done = false;
  std::string status = "timeout";
  auto finish = [&](const std::string& why) {
    if (done) {
      return;
    }
    done = true;
    status = why;
    const auto now = SystemClock::now();
    const double wall = first ? seconds_between(first_steady, SteadyClock::now()) : 0;
    const double cpu = bgpscribe::bench::self_cpu_seconds();
    const double rate = wall > 0 ? static_cast<double>(announced) / wall : 0;
    if (why == "ok" && o.expect > 0 && announced != o.expect) {
      status = "short";
    }
    say("receive: " + std::to_string(announced) + " prefixes in " + std::to_string(updates) +
        " UPDATEs over " + fixed(wall) + " s: " + fixed(rate / 1e6, 3) + " M prefixes/s, CPU " +
        fixed(cpu - cpu_first) + " s, peak RSS " +
        std::to_string(bgpscribe::bench::self_peak_rss_kib() / 1024) + " MiB");
    say("RESULT role=receive status=" + status + " count=" + o.count +
        " prefixes=" + std::to_string(announced) + " withdrawn=" + std::to_string(withdrawn) +
        " updates=" + std::to_string(updates) + " bytes=" + std::to_string(bytes) +
        " first=" + (first ? epoch_text(*first) : "0") + " eor=" + epoch_text(now) +
        " wall_s=" + fixed(wall, 6) + " prefixes_per_s=" + fixed(rate, 0) +
        " cpu_stream_s=" + fixed(cpu - cpu_first) + " cpu_s=" + fixed(cpu - cpu_ready) +
        " rss_kib=" + std::to_string(bgpscribe::bench::self_peak_rss_kib()));
    if (peer.state() == State::Established) {
      peer.stop("benchmark done");
    }
    // Let the Cease go out, then end.
    auto t = std::make_shared<asio::steady_timer>(process.io(), std::chrono::milliseconds(200));
    t->async_wait([t, &process](const boost::system::error_code&) { process.stop(); });
  };
  peer.on_established([&](Peer& p) {
    waiting.clear();
    for (const auto f : {bgp::kIpv4Unicast, bgp::kIpv6Unicast}) {
      if (p.has_family(f)) {
        waiting.push_back(f);
      }
    }
    say("receive: established with " + p.config().peer_address.to_string());
  });
  peer.on_end_of_rib([&](Peer&, bgp::AfiSafi f) {
    std::erase(waiting, f);
    if (waiting.empty()) {
      finish("ok");
    }
  });
  peer.on_state_change([&](Peer&, State from, State /*to*/, std::string_view why) {
    if (from == State::Established && !done) {
      say("receive: session lost: " + std::string(why));
      finish("lost");
    }
  });

  asio::signal_set signals(process.io(), SIGINT, SIGTERM);
  on_signal(signals, [&] { finish("signal"); });
  asio::steady_timer deadline(process.io(), std::chrono::duration_cast<SteadyClock::duration>(
                                                std::chrono::duration<double>(o.timeout)));
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) {
      finish("timeout");
    }
  });
  peer.start();
  process.run();
  return status == "ok" ? 0 : 1;
}

// ---- idle and storm: many sessions
// ---------------------------------------------------------------

struct FleetOptions {
  std::size_t peers = 1000;
  std::string listen = "127.0.0.1:11790";  // the forked passive side
  std::string to;                          // an external passive side instead (BIRD)
  pid_t measure_pid = 0;                   // the external passive side's process
  std::string source_base = "127.1.0.1";
  std::uint32_t as = 65001;
  std::uint32_t peer_as = 65000;
  std::uint16_t hold = 9;
  double spread_ms = 1000;  // peers start evenly over this time
  double timeout = 60;      // for all peers to reach Established
  double settle = 2;        // idle: wait after the last Established before measuring
  double measure = 60;      // idle: the measurement window
  double connect_retry = 5;
  int passive_cpu = -1;
  int active_cpu = -1;
};

// Source addresses base, base+1, ... skipping .0 and .255.
std::vector<bgp::IpAddress> source_addresses(const bgp::IpAddress& base, std::size_t n) {
  std::vector<bgp::IpAddress> out;
  std::uint32_t host = base.v4_host_order();
  while (out.size() < n) {
    if ((host & 0xff) != 0 && (host & 0xff) != 0xff) {
      out.push_back(bgp::IpAddress::v4(host));
    }
    ++host;
  }
  return out;
}

// The forked passive side: one Process whose dynamic range accepts every source address.
// Writes a byte to `ready` once listening; prints its RESULT line on SIGTERM.
int run_passive_side(const FleetOptions& o, const Endpoint& listen,
                     const std::vector<bgp::IpAddress>& sources, int ready) {
  if (o.passive_cpu >= 0) {
    bgpscribe::bench::pin_to_cpu(o.passive_cpu);
  }
  Process process;
  std::size_t established = 0;
  std::size_t most = 0;  // the most sessions Established at once
  std::size_t dropped = 0;
  SteadyClock::time_point first_accept{};
  SteadyClock::time_point last_established{};
  DynamicPeers d;
  d.range = bgp::Prefix{bgp::IpAddress::v4(sources.front().v4_host_order() & 0xffff0000U), 16};
  if ((sources.back().v4_host_order() & 0xffff0000U) != d.range.address.v4_host_order()) {
    d.range = bgp::Prefix{bgp::IpAddress::v4(0x7f000000U), 8};
  }
  d.allowed_as = {o.as};
  d.peer_template.local_as = o.peer_as;
  d.peer_template.local_id = identifier(listen.address);
  d.peer_template.hold_time = o.hold;
  d.max_peers = o.peers + 16;
  d.max_pending = d.max_peers;  // every session connects at once: none may wait apart
  d.on_new_peer = [&](Peer& p) {
    if (process.stats().dynamic_peers_created == 1) {
      first_accept = SteadyClock::now();
    }
    p.on_established([&](Peer&) {
      ++established;
      if (established > most) {
        most = established;
        last_established = SteadyClock::now();
      }
    });
    p.on_state_change([&](Peer&, State from, State /*to*/, std::string_view) {
      if (from == State::Established) {
        ++dropped;
        --established;
      }
    });
  };
  process.add_dynamic_peers(std::move(d));
  process.listen(listen.address, listen.port);
  const char byte = 1;
  (void)!write(ready, &byte, 1);
  close(ready);

  asio::signal_set signals(process.io(), SIGINT, SIGTERM);
  on_signal(signals, [&] { process.stop(); });
  process.run();
  const auto& s = process.stats();
  // By now the active side has stopped its peers: `most` is what was reached.
  say("RESULT role=passive established_max=" + std::to_string(most) +
      " dropped=" + std::to_string(dropped) + " accepted=" + std::to_string(s.accepted) +
      " unmatched=" + std::to_string(s.unmatched_connections) +
      " refused=" + std::to_string(s.refused_connections) + " first_accept_to_last_established_s=" +
      fixed(most > 0 ? seconds_between(first_accept, last_established) : 0) +
      " cpu_s=" + fixed(bgpscribe::bench::self_cpu_seconds()) +
      " rss_kib=" + std::to_string(bgpscribe::bench::self_peak_rss_kib()));
  return 0;
}

// Ends a forked child: SIGTERM, then SIGKILL after `grace`.
void end_child(pid_t child, std::chrono::milliseconds grace) {
  if (child <= 0) {
    return;
  }
  kill(child, SIGTERM);
  const auto until = SteadyClock::now() + grace;
  while (SteadyClock::now() < until) {
    if (waitpid(child, nullptr, WNOHANG) == child) {
      return;
    }
    usleep(10000);
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
}

// Voluntary context switches of a process: how often it slept and woke up.
std::optional<long> context_switches(pid_t pid) {
  if (pid <= 0) {
    return std::nullopt;
  }
  return bgpscribe::bench::process_status_value(pid, "voluntary_ctxt_switches");
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

int run_fleet(const FleetOptions& o, bool idle) {
  const char* name = idle ? "idle" : "storm";
  const bool external = !o.to.empty();
  const Endpoint to = parse_endpoint(external ? o.to : o.listen, external ? "--to" : "--listen");
  const auto sources = source_addresses(parse_address(o.source_base, "--source-base"), o.peers);

  // The passive side first, in its own process, listening before any peer starts.
  pid_t child = 0;
  if (!external) {
    int fds[2];
    if (pipe(fds) != 0) {
      std::perror("pipe");
      return 2;
    }
    std::fflush(stdout);
    child = fork();
    if (child < 0) {
      std::perror("fork");
      return 2;
    }
    if (child == 0) {
      close(fds[0]);
      try {
        _exit(run_passive_side(o, to, sources, fds[1]));
      } catch (const std::exception& e) {
        std::cerr << "speaker_bench " << name << " (passive side): " << e.what() << "\n";
        _exit(2);
      }
    }
    close(fds[1]);
    char byte = 0;
    fd_set set;
    FD_ZERO(&set);
    FD_SET(fds[0], &set);
    timeval wait{10, 0};
    if (select(fds[0] + 1, &set, nullptr, nullptr, &wait) != 1 || read(fds[0], &byte, 1) != 1) {
      std::cerr << "speaker_bench " << name << ": the passive side did not start\n";
      close(fds[0]);
      end_child(child, std::chrono::milliseconds(1000));
      return 2;
    }
    close(fds[0]);
  }
  // Whatever happens below (an exception included), the forked side ends with us.
  struct ChildGuard {
    pid_t pid;
    ~ChildGuard() { end_child(pid, std::chrono::milliseconds(5000)); }
  } guard{child};
  const pid_t measured = external ? o.measure_pid : child;
  if (o.active_cpu >= 0) {
    bgpscribe::bench::pin_to_cpu(o.active_cpu);
  }

  // A Process holds one peer per remote address, so each active peer gets its own Process;
  // all of them share one io_context, run by this thread.
  asio::io_context io(1);
  auto run_for = [&io](std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  };
  std::vector<std::unique_ptr<Process>> processes;
  std::vector<Peer*> peers;
  std::vector<SteadyClock::time_point> started(o.peers);
  std::vector<double> setup;  // start to Established, per peer
  std::vector<std::size_t> attempts(o.peers, 0);
  std::size_t established = 0;
  std::size_t dropped = 0;
  SteadyClock::time_point first_start{};
  SteadyClock::time_point all_established{};
  bool all_up = false;
  for (std::size_t i = 0; i < o.peers; ++i) {
    PeerConfig c;
    c.local_as = o.as;
    c.local_id = sources[i].v4_host_order();
    c.peer_as = o.peer_as;
    c.peer_address = to.address;
    c.peer_port = to.port;
    c.local_address = sources[i];
    c.hold_time = o.hold;
    c.connect_retry = std::chrono::milliseconds(static_cast<long>(o.connect_retry * 1000));
    processes.push_back(std::make_unique<Process>(io));
    Peer& p = processes.back()->add_peer(c);
    p.on_state_change([&, i](Peer&, State from, State next, std::string_view) {
      if (next == State::Connect) {
        ++attempts[i];
      }
      if (from == State::Established) {
        ++dropped;
        --established;
      }
    });
    p.on_established([&, i](Peer&) {
      ++established;
      setup.push_back(seconds_between(started[i], SteadyClock::now()));
      if (established == o.peers && !all_up) {
        all_up = true;
        all_established = SteadyClock::now();
        io.stop();
      }
    });
    peers.push_back(&p);
  }

  // Start the peers evenly over spread_ms, one timer tick per peer.
  asio::steady_timer starter(io);
  std::size_t next = 0;
  std::function<void()> start_next = [&] {
    const auto now = SteadyClock::now();
    while (next < o.peers) {
      const auto due =
          first_start +
          std::chrono::duration_cast<SteadyClock::duration>(
              std::chrono::duration<double, std::milli>(o.spread_ms * static_cast<double>(next) /
                                                        static_cast<double>(o.peers)));
      if (due > now) {
        starter.expires_at(due);
        starter.async_wait([&](const boost::system::error_code& ec) {
          if (!ec) {
            start_next();
          }
        });
        return;
      }
      started[next] = now;
      peers[next]->start();
      ++next;
    }
  };
  bool interrupted = false;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  on_signal(signals, [&] {
    interrupted = true;
    io.stop();
  });
  asio::steady_timer deadline(io);
  const std::optional<double> cpu_before =
      measured > 0 ? bgpscribe::bench::process_cpu_seconds(measured) : std::nullopt;
  const double own_cpu_before = bgpscribe::bench::self_cpu_seconds();
  first_start = SteadyClock::now();
  deadline.expires_after(std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::duration<double>(o.timeout + o.spread_ms / 1000)));
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) {
      io.stop();
    }
  });
  start_next();
  io.run();
  deadline.cancel();
  const double up_s = seconds_between(first_start, all_up ? all_established : SteadyClock::now());
  const std::optional<double> cpu_after_up =
      measured > 0 ? bgpscribe::bench::process_cpu_seconds(measured) : std::nullopt;
  const double own_cpu_after_up = bgpscribe::bench::self_cpu_seconds();
  std::size_t retried = 0;
  for (auto a : attempts) {
    retried += a > 1 ? 1 : 0;
  }
  say(std::string(name) + ": " + std::to_string(established) + " of " + std::to_string(o.peers) +
      " established " + (all_up ? "after " : "by the deadline, ") + fixed(up_s) +
      " s (peers started over " + fixed(o.spread_ms, 0) + " ms; " + std::to_string(retried) +
      " needed more than one connection attempt)");

  std::string result = "RESULT role=" + std::string(name) + " peers=" + std::to_string(o.peers) +
                       " established=" + std::to_string(established) +
                       " all_established_s=" + (all_up ? fixed(up_s) : "-") +
                       " setup_p50_s=" + fixed(percentile(setup, 0.5)) +
                       " setup_p99_s=" + fixed(percentile(setup, 0.99)) +
                       " setup_max_s=" + fixed(percentile(setup, 1.0)) +
                       " retried=" + std::to_string(retried);
  if (!idle) {
    result += " active_cpu_s=" + fixed(own_cpu_after_up - own_cpu_before);
    if (cpu_before && cpu_after_up) {
      result += " passive_cpu_s=" + fixed(*cpu_after_up - *cpu_before, 2);
    }
  }
  int rc = all_up ? 0 : 1;
  if (idle && all_up && !interrupted) {
    // Settle, then sample both processes' CPU over the window while the sessions idle.
    run_for(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::duration<double>(o.settle)));
    const auto t0 = SteadyClock::now();
    const auto passive0 =
        measured > 0 ? bgpscribe::bench::process_cpu_seconds(measured) : std::nullopt;
    const double active0 = bgpscribe::bench::self_cpu_seconds();
    const auto switches0 = context_switches(measured);
    say("idle: measuring CPU for " + fixed(o.measure, 0) + " s (hold " + std::to_string(o.hold) +
        " s, keepalive every " + fixed(o.hold / 3.0, 1) + " s)");
    run_for(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::duration<double>(o.measure)));
    const double window = seconds_between(t0, SteadyClock::now());
    const auto passive1 =
        measured > 0 ? bgpscribe::bench::process_cpu_seconds(measured) : std::nullopt;
    const double active1 = bgpscribe::bench::self_cpu_seconds();
    const auto switches1 = context_switches(measured);
    const double active_pct = 100 * (active1 - active0) / window;
    result += " window_s=" + fixed(window, 1) + " hold_s=" + std::to_string(o.hold) +
              " established_at_end=" + std::to_string(established) +
              " dropped=" + std::to_string(dropped) + " active_cpu_pct=" + fixed(active_pct, 2) +
              " active_rss_kib=" + std::to_string(bgpscribe::bench::self_peak_rss_kib());
    if (passive0 && passive1) {
      const double passive_pct = 100 * (*passive1 - *passive0) / window;
      result += " passive_cpu_pct=" + fixed(passive_pct, 2);
      if (switches0 && switches1) {
        result += " passive_wakeups_per_s=" +
                  fixed(static_cast<double>(*switches1 - *switches0) / window, 0);
      }
      say("idle: passive side " + fixed(passive_pct, 2) + " % of one core, active side " +
          fixed(active_pct, 2) + " %");
    }
    if (measured > 0) {
      if (auto rss = bgpscribe::bench::process_status_value(measured, "VmRSS")) {
        result += " passive_rss_kib=" + std::to_string(*rss);
      }
    }
    rc = established == o.peers ? 0 : 1;
  }
  say(result);
  for (auto* p : peers) {
    p->stop();
  }
  run_for(std::chrono::milliseconds(300));
  return interrupted ? 1 : rc;
}

void fleet_options(CLI::App& cmd, FleetOptions& o, bool idle) {
  cmd.add_option("--peers", o.peers, "number of sessions")->capture_default_str();
  cmd.add_option("--listen", o.listen, "ADDR:PORT of the forked passive side")
      ->capture_default_str();
  cmd.add_option("--to", o.to, "ADDR:PORT of an external passive side (no fork)");
  cmd.add_option("--measure-pid", o.measure_pid, "the external passive side's PID (CPU)");
  cmd.add_option("--source-base", o.source_base, "first source address (127.x.y.z)")
      ->capture_default_str();
  cmd.add_option("--as", o.as, "AS of the active peers")->capture_default_str();
  cmd.add_option("--peer-as", o.peer_as, "AS of the passive side")->capture_default_str();
  cmd.add_option("--hold", o.hold, "hold time offered, seconds (keepalive: a third)")
      ->capture_default_str();
  cmd.add_option("--spread-ms", o.spread_ms, "start the peers evenly over this time")
      ->capture_default_str();
  cmd.add_option("--timeout", o.timeout, "seconds for all peers to reach Established")
      ->capture_default_str();
  cmd.add_option("--connect-retry", o.connect_retry, "connect-retry time, seconds")
      ->capture_default_str();
  cmd.add_option("--passive-cpu", o.passive_cpu, "pin the forked passive side to this CPU");
  cmd.add_option("--active-cpu", o.active_cpu, "pin the active side to this CPU");
  if (idle) {
    cmd.add_option("--settle", o.settle, "seconds between the last Established and the window")
        ->capture_default_str();
    cmd.add_option("--measure", o.measure, "measurement window, seconds")->capture_default_str();
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"speaker_bench: load tests of the bgpscribe speaker library over loopback"};
  app.require_subcommand(1);

  SendOptions send;
  auto* s = app.add_subcommand("send", "send a pre-encoded full table, then End-of-RIB");
  s->add_option("--to", send.to, "receiver ADDR:PORT")->capture_default_str();
  s->add_option("--local", send.local, "source address")->capture_default_str();
  s->add_option("--as", send.as, "our AS")->capture_default_str();
  s->add_option("--peer-as", send.peer_as, "the receiver's AS")->capture_default_str();
  s->add_option("--prefixes", send.table.ipv4, "IPv4 prefixes")->capture_default_str();
  s->add_option("--v6", send.table.ipv6, "IPv6 prefixes")->capture_default_str();
  s->add_option("--per-update", send.table.per_update,
                "prefixes per attribute set (0: groups of 1-20, 3.5 on average)")
      ->capture_default_str();
  s->add_option("--seed", send.table.seed, "generator seed")->capture_default_str();
  s->add_option("--hold", send.hold, "hold time offered, seconds")->capture_default_str();
  s->add_option("--timeout", send.timeout, "give up after this many seconds")
      ->capture_default_str();

  ReceiveOptions receive;
  auto* r = app.add_subcommand("receive", "receive a table with a raw-message hook; prefixes/s");
  r->add_option("--listen", receive.listen, "ADDR:PORT")->capture_default_str();
  r->add_option("--peer", receive.peer, "the sender: ADDR,AS")->capture_default_str();
  r->add_option("--as", receive.as, "our AS")->capture_default_str();
  r->add_option("--router-id", receive.router_id, "our BGP identifier")->capture_default_str();
  r->add_option("--count", receive.count,
                "walk: count NLRI in the hook; parse: parse_update_into in the hook")
      ->check(CLI::IsMember({"walk", "parse"}))
      ->capture_default_str();
  r->add_option("--expect", receive.expect, "prefixes expected (status=short otherwise)");
  r->add_option("--receive-buffer", receive.receive_buffer, "PeerConfig::receive_buffer, bytes");
  r->add_option("--timeout", receive.timeout, "give up after this many seconds")
      ->capture_default_str();

  FleetOptions idle;
  auto* i = app.add_subcommand("idle", "N established idle sessions: CPU over a window");
  fleet_options(*i, idle, true);
  FleetOptions storm;
  storm.peers = 500;
  storm.source_base = "127.2.0.1";
  storm.listen = "127.0.0.1:11791";
  storm.hold = 90;
  auto* st = app.add_subcommand("storm", "N peers connecting within one second");
  fleet_options(*st, storm, false);

  CLI11_PARSE(app, argc, argv);
  try {
    if (s->parsed()) {
      return run_send(send);
    }
    if (r->parsed()) {
      return run_receive(receive);
    }
    if (i->parsed()) {
      return run_fleet(idle, true);
    }
    return run_fleet(storm, false);
  } catch (const CLI::Error& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "speaker_bench: " << e.what() << "\n";
    return 2;
  }
}
