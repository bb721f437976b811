// ApiServer: the live API of `bgpscribe run` (schema/proto/bgpscribe/v1/api.proto, docs/api.md)
// over gRPC, read-only: Status, Rib and Subscribe.
//
// gRPC's own threads serve the calls. Status and Rib read the collector's state on its io thread
// (posted there, answered within a deadline), so no lock guards the sessions or the RIB; what
// they copy out is converted to Protobuf back on the gRPC thread. Subscribe streams come from
// the Feed (feed.hpp), an internal exporter of the collector.
#pragma once

#include <memory>
#include <string>

#include "collector/config/config.hpp"

namespace bgpscribe::collector {
class Collector;
}

namespace bgpscribe::collector::api {

class ApiServer {
 public:
  // Adds the feed to `collector` (so: before collector.start()) and starts listening on the
  // unix socket (a socket file left by an earlier run is replaced) and the TCP address, if any.
  // Throws std::runtime_error that names the address that failed.
  ApiServer(Collector& collector, const config::CollectorConfig& config);
  // Stops listening; open streams end (the collector's stop already closed them).
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // The TCP port bound (api.listen with port 0 picks one); 0 without TCP.
  [[nodiscard]] int tcp_port() const;

 private:
  // The gRPC server and the RIS Live one listen; throws on the first that cannot.
  void listen(const config::CollectorConfig& config);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bgpscribe::collector::api
