// Fuzz target for the BMP station input's per-router state machine (collector/bmp/router.hpp):
// the input is a short stream of BMP messages, framed with bmp::frame, each copied into an
// exactly sized buffer and handed to one Router, as the station does; every UPDATE it reports
// is decoded with the context it comes with, as the collector does. A problem ends the stream
// (the station would close the connection), then close(). Invariants: every source has an id
// and names the router; a source goes down only after it came up, and once; routes come only
// from sources that are up; after close() nothing is up.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <span>
#include <string>

#include "codec/bgp/update.hpp"
#include "codec/bmp/message.hpp"
#include "collector/bmp/router.hpp"

namespace {

using namespace bgpscribe;
namespace cbmp = bgpscribe::collector::bmp;

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "bmp_router_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

constexpr int kMaxMessages = 32;

class Checker : public cbmp::RouterEvents {
 public:
  std::uint32_t source_id(const exporters::PeerInfo& info) override {
    require(!info.router.empty(), "a source names its router");
    return ++next_id_;
  }
  void source_up(const cbmp::Source& s, std::int64_t /*time_us*/) override {
    require(s.info != nullptr && s.info->id != 0, "a source has an id");
    require(up_.insert({s.info->id, true}).second, "a source comes up once");
  }
  void route_monitoring(const cbmp::Source& s, std::span<const std::uint8_t> update,
                        const codec::bgp::ParseContext& context,
                        std::int64_t /*time_us*/) override {
    require(up_.contains(s.info->id), "routes come from sources that are up");
    (void)codec::bgp::parse_update_into(update, context, update_);
  }
  void source_down(const cbmp::Source& s, std::int64_t /*time_us*/, const std::string& reason,
                   std::span<const std::uint8_t> /*notification*/, bool /*local*/) override {
    require(up_.erase(s.info->id) == 1, "a source goes down once, after it came up");
    require(!reason.empty(), "a source goes down for a reason");
  }
  [[nodiscard]] std::size_t up() const { return up_.size(); }

 private:
  std::uint32_t next_id_ = 0;
  std::map<std::uint32_t, bool> up_;
  codec::bgp::Update update_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> rest(data, size);
  Checker checker;
  cbmp::Router router("r1", *codec::bgp::IpAddress::parse("192.0.2.1"), checker);
  for (int i = 0; i < kMaxMessages && !rest.empty(); ++i) {
    const codec::bmp::Frame f = codec::bmp::frame(rest);
    if (f.status != codec::bgp::FrameStatus::Message) {
      break;
    }
    const std::unique_ptr<std::uint8_t[]> copy = std::make_unique<std::uint8_t[]>(f.size);
    std::copy_n(rest.begin(), f.size, copy.get());
    const auto problem = router.handle({copy.get(), f.size}, 1'000'000 + i);
    if (problem) {
      require(!problem->empty(), "a problem says what");
      break;
    }
    if (router.terminated()) {
      break;
    }
    rest = rest.subspan(f.size);
  }
  router.close(2'000'000, "end of input");
  require(router.peers_up() == 0 && checker.up() == 0, "nothing is up after close()");
  return 0;
}
