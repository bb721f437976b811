#include "collector/api/server.hpp"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <future>
#include <optional>
#include <stdexcept>

#include "bgpscribe/v1/api.grpc.pb.h"
#include "codec/bgp/ip.hpp"
#include "codec/bgp/text.hpp"
#include "collector/api/feed.hpp"
#include "collector/api/on_io.hpp"
#include "collector/api/ris_live.hpp"
#include "collector/core/collector.hpp"
#include "exporters/api/log.hpp"
#include "exporters/events/convert.hpp"
#include "exporters/events/filter.hpp"

namespace bgpscribe::collector::api {

namespace bgp = codec::bgp;
namespace v1 = bgpscribe::v1;

namespace {

constexpr std::uint32_t kDefaultPage = 1000;
constexpr std::uint32_t kMaxPage = 100'000;
// How often a stream waiting for events looks whether its client is still there.
constexpr int kStreamPollMs = 200;

grpc::Status client_gone() {
  return {grpc::StatusCode::CANCELLED, "the client went away"};
}

grpc::Status unavailable() {
  return {grpc::StatusCode::UNAVAILABLE, "the collector did not answer (stopping?)"};
}

v1::PeerEvent::State state_of(exporters::SessionState s) {
  return static_cast<v1::PeerEvent::State>(static_cast<int>(s));
}

void fill_status(const StatusView& v, const std::string& version, v1::StatusReply& out) {
  auto& c = *out.mutable_collector();
  c.set_name(v.name);
  c.set_version(version);
  c.set_local_asn(v.local_as);
  c.set_bgp_id(bgp::IpAddress::v4(v.bgp_id).to_string());
  c.set_started_us(v.started_us);
  c.set_now_us(v.now_us);
  for (const auto& l : v.listeners) {
    auto& o = *c.add_listeners();
    o.set_address(l.address.to_string());
    o.set_port(l.port);
    o.set_kind(l.kind);
  }
  c.set_messages(v.messages);
  c.set_state_changes(v.state_changes);
  c.set_routes(v.routes);
  c.set_attribute_sets(v.attribute_sets);
  c.set_rib_bytes(v.rib_bytes);
  for (const auto& p : v.peers) {
    auto& o = *out.add_peers();
    exporters::events::fill_peer(*p.info, v.name, *o.mutable_peer());
    o.set_state(state_of(p.state));
    o.set_state_since_us(p.state_since_us);
    o.set_last_error(p.last_error);
    for (const auto& f : p.families) {
      o.add_families(bgp::family_text(f));
    }
    for (const auto& cap : p.capabilities) {
      o.add_capabilities(cap);
    }
    for (const auto& [f, n] : p.prefixes) {
      auto& fc = *o.add_prefixes();
      fc.set_afi(static_cast<std::uint32_t>(f.afi));
      fc.set_safi(static_cast<std::uint32_t>(f.safi));
      fc.set_prefixes(n);
    }
    o.set_messages(p.messages);
    o.set_last_update_us(p.last_update_us);
  }
  for (const auto& e : v.exporters) {
    auto& o = *out.add_exporters();
    o.set_name(e.name);
    o.set_type(e.type);
    o.set_pushed(e.pushed);
    o.set_delivered(e.delivered);
    o.set_queued(e.queued);
    o.set_spooled(e.spooled);
    o.set_failed(e.failed);
    o.set_dropped(e.dropped);
    o.set_lag_us(e.lag_us);
    for (const auto& a : e.alarms) {
      o.add_alarms(a);
    }
  }
}

// A Rib page token: the number of routes the earlier pages held ("" for the first page).
std::optional<std::uint64_t> page_offset(const std::string& token) {
  std::uint64_t v = 0;
  for (const char ch : token) {
    if (ch < '0' || ch > '9' || v > (UINT64_MAX - 9) / 10) {
      return std::nullopt;
    }
    v = v * 10 + static_cast<std::uint64_t>(ch - '0');
  }
  return v;
}

// A route a Rib query found, copied off the io thread.
struct RouteCopy {
  exporters::PeerInfoPtr peer;
  bgp::AfiSafi family{};
  bgp::Prefix prefix{};
  std::uint32_t path_id = 0;
  std::uint32_t originated = 0;
  bool stale = false;
  std::vector<std::uint8_t> attributes;
};

struct RibPage {
  std::vector<RouteCopy> routes;
  bool more = false;
};

// The announcement a snapshot's route stands for.
class Service final : public v1::Collector::Service {
 public:
  Service(Collector& collector, Feed& feed, std::string name)
      : collector_(collector), feed_(feed), name_(std::move(name)) {
    // The two streams send the feed's serialized events as they are (exporters/events
    // EventBlock), so they take and give bytes, not messages: gRPC's "split streaming" handler,
    // the one the generated WithSplitStreamingMethod_ uses, with ByteBuffer for both. The
    // indices are the methods' order in api.proto.
    constexpr int kSubscribe = 2;
    constexpr int kSubscribeBatches = 3;
    MarkMethodStreamed(kSubscribe, new RawHandler([this](grpc::ServerContext* c, RawStream* s) {
                         return stream(c, *s, false);
                       }));
    MarkMethodStreamed(kSubscribeBatches,
                       new RawHandler([this](grpc::ServerContext* c, RawStream* s) {
                         return stream(c, *s, true);
                       }));
  }

  grpc::Status Status(grpc::ServerContext* /*context*/, const v1::StatusRequest* /*request*/,
                      v1::StatusReply* reply) override {
    auto& c = collector_;
    auto view = on_io(c, [&c] { return c.status_view(); });
    if (!view) {
      return unavailable();
    }
    fill_status(*view, BGPSCRIBE_VERSION, *reply);
    return grpc::Status::OK;
  }

  grpc::Status Rib(grpc::ServerContext* /*context*/, const v1::RibRequest* request,
                   v1::RibReply* reply) override {
    auto prefix = bgp::Prefix::parse(request->prefix());
    if (!prefix) {
      if (auto a = bgp::IpAddress::parse(request->prefix())) {
        prefix = bgp::Prefix::host(*a);
      }
    }
    if (!prefix) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "prefix \"" + request->prefix() + "\": not a prefix (192.0.2.0/24) or an address"};
    }
    const auto& token = request->page_token();
    const auto start = page_offset(token);
    if (!start) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "page_token \"" + token + "\": not ours"};
    }
    const std::uint64_t offset = *start;
    const std::uint32_t page =
        request->page_size() == 0 ? kDefaultPage : std::min(request->page_size(), kMaxPage);
    rib::Match match = rib::Match::Exact;
    if (request->match() == v1::RibRequest::LONGEST) {
      match = rib::Match::Longest;
    } else if (request->match() == v1::RibRequest::MORE_SPECIFIC) {
      match = rib::Match::MoreSpecific;
    }
    std::vector<std::uint32_t> peers(request->peer_ids().begin(), request->peer_ids().end());
    auto& c = collector_;
    auto found = on_io(c, [&c, p = *prefix, match, peers, offset, page] {
      // Paging by position: a page after a change of the table may skip or repeat a route
      // (documented in docs/api.md); a whole answer needs no token.
      RibPage out;
      std::uint64_t seen = 0;
      c.rib().query(p, match, peers, [&](const rib::FoundRoute& r) {
        if (seen++ < offset) {
          return true;
        }
        if (out.routes.size() == page) {
          out.more = true;
          return false;
        }
        out.routes.push_back(RouteCopy{r.peer,
                                       r.family,
                                       r.prefix,
                                       r.path_id,
                                       r.originated,
                                       r.stale,
                                       {r.attributes.begin(), r.attributes.end()}});
        return true;
      });
      return out;
    });
    if (!found) {
      return unavailable();
    }
    for (const auto& r : found->routes) {
      auto& o = *reply->add_routes();
      exporters::events::fill_peer(*r.peer, name_, *o.mutable_peer());
      o.set_prefix(r.prefix.to_string());
      o.set_path_id(r.path_id);
      exporters::events::fill_rib_attributes(r.attributes, r.family, *o.mutable_attributes());
      o.set_received_us(std::int64_t{r.originated} * 1'000'000);
      o.set_stale(r.stale);
      o.set_afi(static_cast<std::uint32_t>(r.family.afi));
      o.set_safi(static_cast<std::uint32_t>(r.family.safi));
    }
    if (found->more) {
      reply->set_next_page_token(std::to_string(offset + found->routes.size()));
    }
    return grpc::Status::OK;
  }

 private:
  using RawStream = grpc::ServerSplitStreamer<grpc::ByteBuffer, grpc::ByteBuffer>;
  using RawHandler =
      grpc::internal::SplitServerStreamingHandler<grpc::ByteBuffer, grpc::ByteBuffer>;

  // Where a stream's events go: a gRPC message each (Subscribe) or in batches
  // (SubscribeBatches). gRPC's sync API has no write buffering of its own (a buffer hint hangs
  // the stream), so batching has to be in the messages: a block that goes out whole is one.
  class Sink {
   public:
    Sink(RawStream& out, bool batches, bool raw) : out_(out), batches_(batches), raw_(raw) {}

    // The events of `block` that pass `filter` (counted into `passed`). False when the
    // client went away.
    bool put(const EventBlockPtr& shared, const exporters::events::Filter& filter,
             std::uint64_t* passed = nullptr) {
      const auto& block = *shared;
      const bool all =
          filter.passes_everything() || (filter.passes_every_route() && block.routes_only());
      if (all && passed != nullptr) {
        *passed += block.size();
      }
      if (batches_ && all && held_.empty() && !(raw_ && block.has_raw())) {
        return write_whole(shared);
      }
      for (std::size_t i = 0; i < block.size(); ++i) {
        if (!all && !passes(block, i, filter)) {
          continue;
        }
        if (!all && passed != nullptr) {
          ++*passed;
        }
        if (!batches_) {
          one_.clear();
          block.append_event(i, raw_, one_);
          if (!write(one_)) {
            return false;
          }
          continue;
        }
        block.append_field(i, raw_, held_);
        if (++held_events_ >= kBatchEvents && !flush()) {
          return false;
        }
      }
      return true;
    }
    bool put(const v1::Event& e) {
      if (!batches_) {
        return write(e.SerializeAsString());
      }
      exporters::events::append_batch_field(e, held_);
      return ++held_events_ < kBatchEvents || flush();
    }
    // Whatever is held goes out (the end of what take() gave, of a snapshot, of the stream).
    bool flush() {
      if (held_.empty()) {
        return true;
      }
      const bool ok = write(held_);
      held_.clear();
      held_events_ = 0;
      return ok;
    }

   private:
    static constexpr std::size_t kBatchEvents = 512;

    // A block made before this stream's filter asked for attributes has none kept: the event
    // is parsed back for it.
    bool passes(const exporters::events::EventBlock& block, std::size_t i,
                const exporters::events::Filter& filter) {
      const auto view = block.view(i);
      if (view.kind == exporters::events::EventView::Kind::Route && !view.withdraw &&
          view.attributes == nullptr && filter.reads_attributes()) {
        block.parse(i, false, parsed_);
        return filter.matches(parsed_);
      }
      return filter.matches(view);
    }

    bool write(std::string_view bytes) {
      grpc::Slice slice(bytes.data(), bytes.size());  // a copy: gRPC may send it after we return
      grpc::ByteBuffer buffer(&slice, 1);
      return out_.Write(buffer);
    }
    // A block as one message, sent from the block itself: the slice holds a reference to it
    // until gRPC is done with the bytes (it never writes to them).
    bool write_whole(const EventBlockPtr& block) {
      const auto bytes = block->bytes();
      auto* hold = new EventBlockPtr(block);
      grpc::Slice slice(
          const_cast<char*>(bytes.data()), bytes.size(),
          [](void* held) { delete static_cast<EventBlockPtr*>(held); }, hold);
      grpc::ByteBuffer buffer(&slice, 1);
      return out_.Write(buffer);
    }

    RawStream& out_;
    const bool batches_;
    const bool raw_;
    std::string held_;  // SubscribeBatches: an EventBatch being filled
    std::size_t held_events_ = 0;
    std::string one_;   // Subscribe: one event
    v1::Event parsed_;  // scratch of passes()
  };

  // A Subscribe stream (either form): see api.proto and docs/api.md.
  grpc::Status stream(grpc::ServerContext* context, RawStream& out, bool batches) {
    grpc::ByteBuffer in;
    v1::SubscribeRequest request;
    if (!out.Read(&in) ||
        !grpc::SerializationTraits<v1::SubscribeRequest>::Deserialize(&in, &request).ok()) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "the request is not a SubscribeRequest"};
    }
    std::optional<exporters::events::Filter> filter;
    try {
      filter = exporters::events::Filter::from(request);
    } catch (const exporters::events::FilterError& e) {
      return {grpc::StatusCode::INVALID_ARGUMENT, e.what()};
    }
    auto sub =
        feed_.subscribe(*filter, request.snapshot(), request.raw_update(), request.queue_limit());
    if (!sub) {
      return {grpc::StatusCode::RESOURCE_EXHAUSTED, "too many subscribers (api.max_subscribers)"};
    }
    struct Leave {
      Feed& feed;
      SubscriptionPtr sub;
      ~Leave() { feed.unsubscribe(sub); }
    } leave{feed_, sub};
    const auto& f = sub->filter();
    Sink sink(out, batches, sub->raw_update());
    while (!context->IsCancelled()) {
      auto taken = sub->take(kStreamPollMs);
      if (taken.snapshot && !send_snapshot(*taken.snapshot, f, sink)) {
        return client_gone();
      }
      for (const auto& block : taken.blocks) {
        if (!sink.put(block, f)) {
          return client_gone();
        }
      }
      if (!sink.flush()) {
        return client_gone();
      }
      if (taken.dropped > 0) {
        v1::Event lag;
        lag.mutable_lagging()->set_dropped(taken.dropped);
        lag.mutable_lagging()->set_reason(
            "lagging: the subscriber's queue (api.subscriber_queue) is full; " +
            std::to_string(taken.dropped) + " events dropped, the stream ends");
        sink.put(lag);
        sink.flush();
        return {grpc::StatusCode::RESOURCE_EXHAUSTED, lag.lagging().reason()};
      }
      if (taken.closed) {
        return {grpc::StatusCode::UNAVAILABLE, "the collector is stopping"};
      }
    }
    return client_gone();
  }

  // BEGIN, every route of the snapshot that passes the filter, END: the routes written into
  // blocks as the live events are, and sent the same way.
  bool send_snapshot(const exporters::RibSnapshot& snap, const exporters::events::Filter& filter,
                     Sink& sink) {
    constexpr std::size_t kBlockRoutes = 512;
    v1::Event marker;
    marker.mutable_snapshot()->set_kind(v1::SnapshotMarker::BEGIN);
    marker.mutable_snapshot()->set_time_us(snap.time_us());
    if (!sink.put(marker)) {
      return false;
    }
    exporters::events::EventEncoder encoder(
        exporters::events::Options{name_, false, filter.reads_attributes()});
    auto block = std::make_shared<exporters::events::EventBlock>(kBlockRoutes);
    bool ok = true;
    std::uint64_t sent = 0;
    const auto& peers = snap.peers();
    for (const auto family : snap.families()) {
      snap.for_each_prefix(
          family, [&](const bgp::Prefix& prefix, std::span<const exporters::RibRoute> routes) {
            for (const auto& r : routes) {
              if (!ok) {
                return;
              }
              encoder.append_route(peers[r.peer_index].info, family, prefix, r, *block);
              if (block->size() >= kBlockRoutes) {
                ok = sink.put(block, filter, &sent);
                block = std::make_shared<exporters::events::EventBlock>(kBlockRoutes);
              }
            }
          });
    }
    ok = ok && sink.put(block, filter, &sent);
    marker.mutable_snapshot()->set_kind(v1::SnapshotMarker::END);
    marker.mutable_snapshot()->set_routes(sent);
    return ok && sink.put(marker) && sink.flush();
  }

  Collector& collector_;
  Feed& feed_;
  std::string name_;
};

// A socket file left by a run that ended without removing it (kill -9) would make the bind
// fail; the state directory's lock already keeps a second collector out.
void remove_stale_socket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    ::unlink(path.c_str());
  }
}

}  // namespace

struct ApiServer::Impl {
  std::string socket;
  Feed* feed = nullptr;  // owned by the collector's worker
  std::unique_ptr<Service> service;
  std::unique_ptr<grpc::Server> server;
  int tcp_port = 0;
  std::unique_ptr<RisLiveServer> ris_live;  // api.ris_live
};

ApiServer::ApiServer(Collector& collector, const config::CollectorConfig& config)
    : impl_(std::make_unique<Impl>()) {
  const auto& api = config.api;
  auto feed = std::make_unique<Feed>(config.name, api.max_subscribers, api.subscriber_queue);
  impl_->feed = feed.get();
  const auto* active = feed->active();
  collector.add_internal(std::move(feed), active);
  impl_->service = std::make_unique<Service>(collector, *impl_->feed, config.name);

  impl_->socket = api.socket;
  remove_stale_socket(api.socket);
  try {
    listen(config);
  } catch (...) {
    // The destructor does not run for a constructor that throws: what listens stops here, and
    // the socket file goes (else it would stay until the next start replaces it).
    if (impl_->server) {
      impl_->server->Shutdown();
    }
    impl_->ris_live.reset();
    ::unlink(api.socket.c_str());
    throw;
  }
}

void ApiServer::listen(const config::CollectorConfig& config) {
  const auto& api = config.api;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + api.socket, grpc::InsecureServerCredentials());
  std::string tcp;
  if (api.tcp) {
    tcp = api.tcp->address.is_v4() ? api.tcp->address.to_string()
                                   : "[" + api.tcp->address.to_string() + "]";
    tcp += ":" + std::to_string(api.tcp->port);
    builder.AddListeningPort(tcp, grpc::InsecureServerCredentials(), &impl_->tcp_port);
  }
  builder.RegisterService(impl_->service.get());
  impl_->server = builder.BuildAndStart();
  if (!impl_->server) {
    throw std::runtime_error("api: cannot listen on unix:" + api.socket +
                             (tcp.empty() ? "" : " and " + tcp) +
                             " (is the directory there and writable? is the port free?)");
  }
  if (api.tcp && impl_->tcp_port == 0) {
    throw std::runtime_error("api: cannot listen on " + tcp + " (in use?)");
  }
  const std::string also = tcp.empty() ? std::string() : " and " + tcp;
  exporters::logf(exporters::LogLevel::Info, "api", "listening on unix:%s%s", api.socket.c_str(),
                  also.c_str());
  if (api.ris_live_tcp) {
    impl_->ris_live = std::make_unique<RisLiveServer>(*impl_->feed, config.name, *api.ris_live_tcp);
    exporters::logf(exporters::LogLevel::Info, "api", "RIS Live on %s",
                    impl_->ris_live->url().c_str());
  }
}

ApiServer::~ApiServer() {
  impl_->ris_live.reset();  // its clients leave the feed before the gRPC streams end
  if (impl_->server) {
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    impl_->server->Wait();
  }
  ::unlink(impl_->socket.c_str());
}

int ApiServer::tcp_port() const {
  return impl_->tcp_port;
}

}  // namespace bgpscribe::collector::api
