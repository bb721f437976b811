// subscribe_client: a fast C++ client of the live API (docs/api.md) for bench/api. Each
// subcommand prints one "RESULT key=value ..." line (the form bench/api/run parses); progress
// goes to stderr.
//
//   subscribe  one Subscribe stream: counts events by kind and stops after --count route events,
//              at --deadline, or --idle seconds after the last event; events/s over the span
//              from the first route event to the last
//   rib        --samples Rib calls for one prefix (LONGEST by default) on one channel: the
//              latency of each call, median, p99 and max, and the routes of the answer
//   status     --samples Status calls: median, p99 and max latency
//
// Every wait is bounded (the deadline, the idle limit, a per-call deadline).
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bgpscribe/v1/api.grpc.pb.h"

namespace {

namespace v1 = bgpscribe::v1;
using SteadyClock = std::chrono::steady_clock;

double seconds_between(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::unique_ptr<v1::Collector::Stub> connect(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  return v1::Collector::NewStub(
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
}

struct SubscribeOptions {
  std::string target;
  std::uint64_t count = 0;  // route events; 0: no limit
  double deadline = 600;    // seconds from the start
  double idle = 0;          // seconds without an event, once one came; 0: off
  bool snapshot = false;
  bool routes_only = false;
  std::uint32_t queue_limit = 0;
  bool batches = false;  // SubscribeBatches: many events per gRPC message
};

int subscribe(const SubscribeOptions& o) {
  auto stub = connect(o.target);
  grpc::ClientContext context;
  const auto start = SteadyClock::now();
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(static_cast<std::int64_t>(o.deadline * 1000)));
  v1::SubscribeRequest request;
  request.set_snapshot(o.snapshot);
  request.set_routes_only(o.routes_only);
  request.set_queue_limit(o.queue_limit);

  // The reader thread stamps each read; this watcher cancels the call when it goes idle.
  std::atomic<std::int64_t> last_ns{0};
  std::atomic<bool> done{false};
  std::atomic<bool> idle_cut{false};
  std::thread watcher([&] {
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const auto last = last_ns.load();
      if (o.idle > 0 && last > 0 &&
          SteadyClock::now().time_since_epoch().count() - last >
              static_cast<std::int64_t>(o.idle * 1e9)) {
        idle_cut = true;
        context.TryCancel();
        return;
      }
    }
  });

  std::unique_ptr<grpc::ClientReader<v1::Event>> reader;
  std::unique_ptr<grpc::ClientReader<v1::EventBatch>> batch_reader;
  if (o.batches) {
    batch_reader = stub->SubscribeBatches(&context, request);
  } else {
    reader = stub->Subscribe(&context, request);
  }
  // One event at a time from either form.
  v1::EventBatch batch;
  int next = 0;
  const auto read = [&](v1::Event& out) {
    if (!o.batches) {
      return reader->Read(&out);
    }
    while (next >= batch.events_size()) {
      if (!batch_reader->Read(&batch)) {
        return false;
      }
      next = 0;
    }
    out.Swap(batch.mutable_events(next++));
    return true;
  };
  std::fprintf(stderr, "subscribe_client: subscribed to %s\n", o.target.c_str());
  std::fflush(stderr);
  std::uint64_t announce = 0;
  std::uint64_t withdraw = 0;
  std::uint64_t peer = 0;
  std::uint64_t snapshot = 0;
  std::uint64_t dropped = 0;
  std::uint64_t routes = 0;
  SteadyClock::time_point first{};
  SteadyClock::time_point last{};
  v1::Event e;
  bool counted_out = false;
  while (read(e)) {
    const auto now = SteadyClock::now();
    last_ns.store(now.time_since_epoch().count(), std::memory_order_relaxed);
    switch (e.kind_case()) {
      case v1::Event::kRoute:
        if (routes++ == 0) {
          first = now;
        }
        last = now;
        if (e.route().action() == v1::RouteEvent::WITHDRAW) {
          ++withdraw;
        } else {
          ++announce;
        }
        break;
      case v1::Event::kPeer:
        ++peer;
        break;
      case v1::Event::kSnapshot:
        ++snapshot;
        break;
      case v1::Event::kLagging:
        dropped = e.lagging().dropped();
        break;
      default:
        break;
    }
    if (o.count > 0 && routes >= o.count) {
      counted_out = true;
      context.TryCancel();
      break;
    }
  }
  const auto status = o.batches ? batch_reader->Finish() : reader->Finish();
  done = true;
  watcher.join();
  const double span = routes > 1 ? seconds_between(first, last) : 0.0;
  const char* why = counted_out ? "count" : idle_cut ? "idle" : dropped ? "lagging" : nullptr;
  std::string end = why != nullptr ? why : (status.ok() ? "ended" : "");
  if (end.empty()) {
    end = status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ? "deadline" : "error";
    std::fprintf(stderr, "subscribe_client: stream ended: %d %s\n",
                 static_cast<int>(status.error_code()), status.error_message().c_str());
  }
  std::printf(
      "RESULT events=%llu announce=%llu withdraw=%llu peer=%llu snapshot=%llu dropped=%llu "
      "seconds=%.3f events_per_s=%.0f first_after_s=%.3f total_s=%.3f cpu_s=%.2f end=%s\n",
      static_cast<unsigned long long>(routes), static_cast<unsigned long long>(announce),
      static_cast<unsigned long long>(withdraw), static_cast<unsigned long long>(peer),
      static_cast<unsigned long long>(snapshot), static_cast<unsigned long long>(dropped), span,
      span > 0 ? static_cast<double>(routes) / span : 0.0,
      routes > 0 ? seconds_between(start, first) : 0.0, seconds_between(start, SteadyClock::now()),
      cpu_seconds(), end.c_str());
  return (end == "error" || end == "lagging") ? 1 : 0;
}

// Median, p99 and max of latencies in milliseconds.
std::string summary(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  const auto at = [&](double q) {
    return ms[std::min(ms.size() - 1,
                       static_cast<std::size_t>(q * static_cast<double>(ms.size())))];
  };
  char buf[160];
  std::snprintf(buf, sizeof buf, "samples=%zu median_ms=%.3f p99_ms=%.3f max_ms=%.3f min_ms=%.3f",
                ms.size(), at(0.5), at(0.99), ms.back(), ms.front());
  return buf;
}

template <class Call>
int sample(const std::string& what, int samples, Call call) {
  std::vector<double> ms;
  ms.reserve(static_cast<std::size_t>(samples));
  std::size_t answer = 0;
  for (int i = 0; i < samples; ++i) {
    const auto t0 = SteadyClock::now();
    const auto n = call();
    const auto t1 = SteadyClock::now();
    if (n < 0) {
      return 1;
    }
    answer = static_cast<std::size_t>(n);
    ms.push_back(seconds_between(t0, t1) * 1e3);
  }
  std::printf("RESULT call=%s %s answer=%zu\n", what.c_str(), summary(ms).c_str(), answer);
  return 0;
}

grpc::Status call_with_deadline(const std::function<grpc::Status(grpc::ClientContext&)>& f) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return f(context);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"subscribe_client: the live API's bench client (bench/api)"};
  app.require_subcommand(1);
  std::string target = "unix:state/api.sock";
  app.add_option("--target", target, "gRPC target (unix:PATH or HOST:PORT)");

  SubscribeOptions so;
  auto* sub = app.add_subcommand("subscribe", "one Subscribe stream, counted");
  sub->add_option("--count", so.count, "stop after this many route events (0: no limit)");
  sub->add_option("--deadline", so.deadline, "stop after this many seconds");
  sub->add_option("--idle", so.idle, "stop this many seconds after the last event (0: off)");
  sub->add_flag("--snapshot", so.snapshot, "ask for the tables first");
  sub->add_flag("--routes-only", so.routes_only, "no peer events");
  sub->add_option("--queue-limit", so.queue_limit, "the stream's queue (0: the collector's)");
  sub->add_flag("--batches", so.batches, "SubscribeBatches instead of Subscribe");

  int samples = 1000;
  int warmup = 20;
  std::string prefix;
  std::string match = "longest";
  auto* rib = app.add_subcommand("rib", "Rib calls for one prefix, timed");
  rib->add_option("prefix", prefix, "prefix or address")->required();
  rib->add_option("--match", match, "exact, longest or more")
      ->check(CLI::IsMember({"exact", "longest", "more"}));
  rib->add_option("--samples", samples, "calls timed");
  rib->add_option("--warmup", warmup, "calls first, not timed");
  auto* status = app.add_subcommand("status", "Status calls, timed");
  status->add_option("--samples", samples, "calls timed");
  status->add_option("--warmup", warmup, "calls first, not timed");
  CLI11_PARSE(app, argc, argv);

  if (sub->parsed()) {
    so.target = target;
    return subscribe(so);
  }
  auto stub = connect(target);
  if (rib->parsed()) {
    v1::RibRequest request;
    request.set_prefix(prefix);
    request.set_match(match == "exact"     ? v1::RibRequest::EXACT
                      : match == "longest" ? v1::RibRequest::LONGEST
                                           : v1::RibRequest::MORE_SPECIFIC);
    request.set_page_size(100'000);
    const auto one = [&]() -> long {
      v1::RibReply reply;
      const auto s = call_with_deadline(
          [&](grpc::ClientContext& c) { return stub->Rib(&c, request, &reply); });
      if (!s.ok()) {
        std::fprintf(stderr, "subscribe_client: Rib: %s\n", s.error_message().c_str());
        return -1;
      }
      return reply.routes_size();
    };
    for (int i = 0; i < warmup; ++i) {
      if (one() < 0) {
        return 1;
      }
    }
    return sample("rib", samples, one);
  }
  const v1::StatusRequest request;
  const auto one = [&]() -> long {
    v1::StatusReply reply;
    const auto s = call_with_deadline(
        [&](grpc::ClientContext& c) { return stub->Status(&c, request, &reply); });
    if (!s.ok()) {
      std::fprintf(stderr, "subscribe_client: Status: %s\n", s.error_message().c_str());
      return -1;
    }
    return reply.peers_size();
  };
  for (int i = 0; i < warmup; ++i) {
    if (one() < 0) {
      return 1;
    }
  }
  return sample("status", samples, one);
}
