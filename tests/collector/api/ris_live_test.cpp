// The RIS Live stream's pure parts (collector/api/ris_live.hpp) without sockets: client messages
// parsed or refused with a message that names the problem; each RIS Live filter; the events of
// one UPDATE made into the very line `bgpscribe dump --format ris-live` writes for it; peer
// states, raw bytes and filters across subscriptions. Then the server on loopback with a Beast
// client and a Feed driven by hand: a lagging client gets what was queued, ris_error and a
// close; so does every client when the collector stops; one client too many is refused.
// ris_live_e2e in ../run runs it inside `bgpscribe run` against a Python client.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "codec/mrt/bgp4mp.hpp"
#include "codec/wire/writer.hpp"
#include "collector/api/feed.hpp"
#include "collector/api/ris_live.hpp"
#include "exporters/events/convert.hpp"
#include "tests/support/bgp_bytes.hpp"
#include "tests/support/records.hpp"
#include "tools/json_format.hpp"

namespace bgpscribe::collector::api {
namespace {

namespace bgp = codec::bgp;
namespace mrt = codec::mrt;
namespace v1 = bgpscribe::v1;

RisRequest request(std::string_view text) {
  auto p = parse_ris_request(text);
  EXPECT_TRUE(p.request) << text << ": " << p.error;
  return p.request ? *p.request : RisRequest{};
}

std::string error_of(std::string_view text) {
  auto p = parse_ris_request(text);
  EXPECT_FALSE(p.request) << text;
  return p.error;
}

TEST(RisLiveRequest, ParsesEveryMessageType) {
  EXPECT_EQ(request(R"({"type":"ping"})").type, RisRequestType::Ping);
  EXPECT_EQ(request(R"({"type":"request_rrc_list"})").type, RisRequestType::RrcList);
  const auto all = request(R"({"type":"ris_subscribe"})");
  EXPECT_EQ(all.type, RisRequestType::Subscribe);
  EXPECT_EQ(all.subscription, "{}");
  EXPECT_EQ(all.socket_options, "{}");

  const auto r = request(R"({"type": "ris_subscribe", "data": {
      "type": "UPDATE", "host": "rrc-test", "require": "withdrawals", "peer": "2001:DB8::1",
      "path": "^3356,174$", "prefix": ["192.0.2.0/24", "2001:db8::/32"], "moreSpecific": false,
      "lessSpecific": true, "socketOptions": {"includeRaw": true, "acknowledge": true},
      "unused": null}})");
  EXPECT_EQ(r.type, RisRequestType::Subscribe);
  const auto& f = r.filter;
  EXPECT_EQ(f.type, "UPDATE");
  EXPECT_EQ(f.host, "rrc-test");
  EXPECT_EQ(f.require, RisFilter::Require::Withdrawals);
  ASSERT_TRUE(f.peer);
  EXPECT_EQ(f.peer->to_string(), "2001:db8::1");
  ASSERT_TRUE(f.path);
  EXPECT_EQ(f.path->asns, (std::vector<std::uint32_t>{3356, 174}));
  EXPECT_TRUE(f.path->at_start);
  EXPECT_TRUE(f.path->at_end);
  ASSERT_EQ(f.prefixes.size(), 2U);
  EXPECT_EQ(f.prefixes[1].to_string(), "2001:db8::/32");
  EXPECT_FALSE(f.more_specific);
  EXPECT_TRUE(f.less_specific);
  EXPECT_TRUE(f.include_raw);
  EXPECT_TRUE(f.acknowledge);
  // Keys sorted, nulls and socketOptions left out: the name ris_unsubscribe finds it by.
  EXPECT_EQ(r.subscription,
            R"({"host":"rrc-test","lessSpecific":true,"moreSpecific":false,"path":"^3356,174$",)"
            R"("peer":"2001:DB8::1","prefix":["192.0.2.0/24","2001:db8::/32"],)"
            R"("require":"withdrawals","type":"UPDATE"})");
  EXPECT_EQ(r.socket_options, R"({"acknowledge":true,"includeRaw":true})");

  const auto u = request(R"({"type":"ris_unsubscribe","data":{"type":"UPDATE","host":"rrc-test",)"
                         R"("require":"withdrawals","peer":"2001:DB8::1","path":"^3356,174$",)"
                         R"("prefix":["192.0.2.0/24","2001:db8::/32"],"moreSpecific":false,)"
                         R"("lessSpecific":true}})");
  EXPECT_EQ(u.type, RisRequestType::Unsubscribe);
  EXPECT_EQ(u.subscription, r.subscription);
}

TEST(RisLiveRequest, DefaultsAndShortForms) {
  const auto r = request(R"({"type":"ris_subscribe","data":{"prefix":"10.1.2.3","path":174}})");
  EXPECT_TRUE(r.filter.more_specific);  // RIS Live's defaults
  EXPECT_FALSE(r.filter.less_specific);
  ASSERT_EQ(r.filter.prefixes.size(), 1U);
  EXPECT_EQ(r.filter.prefixes[0].to_string(), "10.1.2.3/32");
  ASSERT_TRUE(r.filter.path);
  EXPECT_EQ(r.filter.path->asns, std::vector<std::uint32_t>{174});
  EXPECT_FALSE(r.filter.path->at_start || r.filter.path->at_end);
  // Host bits past the length are ignored, as everywhere.
  EXPECT_EQ(request(R"({"type":"ris_subscribe","data":{"prefix":"10.1.2.3/8"}})")
                .filter.prefixes[0]
                .to_string(),
            "10.0.0.0/8");
}

TEST(RisLiveRequest, RefusesWhatItCannotRead) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "not JSON"},
      {"{\"type\":", "not JSON"},
      {"[1]", "a \"type\""},
      {R"({"data":{}})", "a \"type\""},
      {R"({"type":7})", "a \"type\""},
      {R"({"type":"ris_subscrbe"})", "unknown message type \"ris_subscrbe\""},
      {R"({"type":"ris_subscribe","data":[]})", "\"data\" must be an object"},
      {R"({"type":"ris_subscribe","data":{"prefx":"10.0.0.0/8"}})",
       "ris_subscribe: prefx: unknown filter"},
      {R"({"type":"ris_subscribe","data":{"prefix":"10.0.0.0/33"}})",
       "prefix \"10.0.0.0/33\": not a prefix"},
      {R"({"type":"ris_subscribe","data":{"prefix":[]}})", "a list of 1 to 1024 prefixes"},
      {R"({"type":"ris_subscribe","data":{"prefix":["10.0.0.0/8", 5]}})", "prefix 5: not a"},
      {R"({"type":"ris_subscribe","data":{"peer":"192.0.2.300"}})",
       "peer \"192.0.2.300\": not an IP address"},
      {R"({"type":"ris_subscribe","data":{"path":"3356 174"}})", "path \"3356 174\": expected"},
      {R"({"type":"ris_subscribe","data":{"path":"^"}})", "path \"^\": expected"},
      {R"({"type":"ris_subscribe","data":{"path":"1,,2"}})", "expected ASNs"},
      {R"({"type":"ris_subscribe","data":{"path":"4294967296"}})", "expected ASNs"},
      {R"({"type":"ris_subscribe","data":{"path":-1}})", "expected ASNs"},
      {R"({"type":"ris_subscribe","data":{"type":"update"}})", "type \"update\": must be UPDATE"},
      {R"({"type":"ris_subscribe","data":{"require":"both"}})", "require \"both\": must be"},
      {R"({"type":"ris_subscribe","data":{"host":1}})", "host 1: must be a string"},
      {R"({"type":"ris_subscribe","data":{"moreSpecific":"yes"}})",
       "moreSpecific \"yes\": must be true or false"},
      {R"({"type":"ris_subscribe","data":{"socketOptions":{"includeRaw":1}}})",
       "socketOptions.includeRaw 1: must be true or false"},
      {R"({"type":"ris_subscribe","data":{"socketOptions":{"raw":true}}})",
       "socketOptions.raw: unknown option"},
      {R"({"type":"ris_subscribe","data":{"socketOptions":true}})", "must be an object"},
      {std::string(20, '[') + std::string(20, ']'), "nested deeper than 8"},
      {"{\"type\":\"ping\",\"x\":\"" + std::string(70'000, 'a') + "\"}", "at most 65536"},
  };
  for (const auto& [text, want] : cases) {
    const auto e = error_of(text);
    EXPECT_NE(e.find(want), std::string::npos)
        << text.substr(0, 80) << "\n want: " << want << "\n  got: " << e;
  }
}

// A message as the filters see it.
struct Message {
  std::string host = "rrc-test";
  std::string type = "UPDATE";
  std::string peer = "192.0.2.9";
  tools::RisUpdate update;

  [[nodiscard]] tools::RisHead head() const {
    tools::RisHead h;
    h.host = host;
    h.type = type;
    h.peer = *bgp::IpAddress::parse(peer);
    return h;
  }
};

Message update_of(const std::vector<std::vector<std::uint32_t>>& segments,
                  const std::vector<std::string>& announced,
                  const std::vector<std::string>& withdrawn = {},
                  const std::vector<bool>& sets = {}) {
  Message m;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    m.update.path.push_back(
        {i < sets.size() && sets[i], static_cast<std::uint32_t>(segments[i].size())});
    m.update.path_asns.insert(m.update.path_asns.end(), segments[i].begin(), segments[i].end());
  }
  for (const auto& p : announced) {
    m.update.announced.push_back(*bgp::Prefix::parse(p));
  }
  if (!announced.empty()) {
    m.update.announcements.push_back({*bgp::IpAddress::parse("192.0.2.9"), std::nullopt,
                                      static_cast<std::uint32_t>(announced.size())});
  }
  for (const auto& p : withdrawn) {
    m.update.withdrawn.push_back(*bgp::Prefix::parse(p));
  }
  return m;
}

bool passes(std::string_view data, const Message& m, bool is_update = true) {
  const auto r =
      request(std::string(R"({"type":"ris_subscribe","data":)") + std::string(data) + "}");
  return r.filter.matches(m.head(), is_update ? &m.update : nullptr);
}

TEST(RisLiveFilter, HostTypePeerRequire) {
  const auto m = update_of({{64500, 3356, 174}}, {"203.0.113.0/24"});
  EXPECT_TRUE(passes("{}", m));
  EXPECT_TRUE(passes(R"({"host":"rrc-test"})", m));
  EXPECT_FALSE(passes(R"({"host":"rrc00"})", m));
  auto dotted = m;
  dotted.host = "rrc00.example.net";
  EXPECT_TRUE(passes(R"({"host":"rrc00"})", dotted));  // RIS Live clients write the short name
  EXPECT_TRUE(passes(R"({"host":"rrc00.example.net"})", dotted));
  EXPECT_TRUE(passes(R"({"type":"UPDATE"})", m));
  EXPECT_FALSE(passes(R"({"type":"RIS_PEER_STATE"})", m));
  EXPECT_FALSE(passes(R"({"type":"KEEPALIVE"})", m));
  EXPECT_TRUE(passes(R"({"peer":"192.0.2.9"})", m));
  EXPECT_FALSE(passes(R"({"peer":"192.0.2.10"})", m));
  EXPECT_FALSE(passes(R"({"peer":"::ffff:192.0.2.9"})", m));
  EXPECT_TRUE(passes(R"({"require":"announcements"})", m));
  EXPECT_FALSE(passes(R"({"require":"withdrawals"})", m));
  const auto w = update_of({}, {}, {"203.0.113.0/24"});
  EXPECT_TRUE(passes(R"({"require":"withdrawals"})", w));
  EXPECT_FALSE(passes(R"({"require":"announcements"})", w));

  Message state;
  state.type = "RIS_PEER_STATE";
  EXPECT_TRUE(passes(R"({"type":"RIS_PEER_STATE","peer":"192.0.2.9"})", state, false));
  // What only an UPDATE has keeps every other message out.
  EXPECT_FALSE(passes(R"({"require":"announcements"})", state, false));
  EXPECT_FALSE(passes(R"({"path":"174"})", state, false));
  EXPECT_FALSE(passes(R"({"prefix":"0.0.0.0/0"})", state, false));
}

TEST(RisLiveFilter, PathIsASequenceOfAsns) {
  const auto m = update_of({{64500, 3356, 174}}, {"203.0.113.0/24"});
  EXPECT_TRUE(passes(R"({"path":"3356"})", m));
  EXPECT_TRUE(passes(R"({"path":3356})", m));
  EXPECT_TRUE(passes(R"({"path":"3356,174"})", m));
  EXPECT_FALSE(passes(R"({"path":"174,3356"})", m));
  EXPECT_FALSE(passes(R"({"path":"64500,174"})", m));  // consecutive only
  EXPECT_TRUE(passes(R"({"path":"^64500,3356"})", m));
  EXPECT_FALSE(passes(R"({"path":"^3356"})", m));
  EXPECT_TRUE(passes(R"({"path":"174$"})", m));
  EXPECT_FALSE(passes(R"({"path":"3356$"})", m));
  EXPECT_TRUE(passes(R"({"path":"^64500,3356,174$"})", m));
  EXPECT_FALSE(passes(R"({"path":"^64500,3356$"})", m));
  EXPECT_FALSE(passes(R"({"path":"^64500,3356,174,1$"})", m));
  EXPECT_FALSE(passes(R"({"path":"31"})", m));  // numbers, not text: 3356 holds no "31"
  // A set ends the sequence: its members match nothing, and a path ending in one has no origin.
  const auto set = update_of({{64500, 3356}, {174, 175}}, {"203.0.113.0/24"}, {}, {false, true});
  EXPECT_TRUE(passes(R"({"path":"64500,3356"})", set));
  EXPECT_FALSE(passes(R"({"path":"174"})", set));
  EXPECT_FALSE(passes(R"({"path":"3356$"})", set));
  // Several sequences are one path (AS4_PATH merged, confederations flattened).
  const auto two = update_of({{64500}, {3356, 174}}, {"203.0.113.0/24"});
  EXPECT_TRUE(passes(R"({"path":"^64500,3356,174$"})", two));
  // A withdrawal has no path.
  EXPECT_FALSE(passes(R"({"path":"174"})", update_of({}, {}, {"203.0.113.0/24"})));
}

TEST(RisLiveFilter, PrefixesMoreAndLessSpecific) {
  const auto m = update_of({{64500}}, {"10.1.0.0/16"}, {"2001:db8:1::/48"});
  EXPECT_TRUE(passes(R"({"prefix":"10.1.0.0/16"})", m));
  EXPECT_TRUE(passes(R"({"prefix":"10.0.0.0/8"})", m));  // moreSpecific is on by default
  EXPECT_FALSE(passes(R"({"prefix":"10.0.0.0/8","moreSpecific":false})", m));
  EXPECT_TRUE(passes(R"({"prefix":"10.1.0.0/16","moreSpecific":false})", m));
  EXPECT_FALSE(passes(R"({"prefix":"10.1.2.0/24"})", m));
  EXPECT_TRUE(passes(R"({"prefix":"10.1.2.0/24","lessSpecific":true})", m));
  EXPECT_FALSE(passes(R"({"prefix":"11.0.0.0/8"})", m));
  EXPECT_FALSE(passes(R"({"prefix":"0.0.0.0/0","moreSpecific":false})", m));
  EXPECT_TRUE(passes(R"({"prefix":"0.0.0.0/0"})", m));
  EXPECT_FALSE(passes(R"({"prefix":"::/0","moreSpecific":false})", m));
  // Withdrawals count too, and any prefix of a list.
  EXPECT_TRUE(passes(R"({"prefix":"2001:db8::/32"})", m));
  EXPECT_TRUE(passes(R"({"prefix":["192.0.2.0/24","2001:db8:1::/48"]})", m));
  EXPECT_FALSE(passes(R"({"prefix":["192.0.2.0/24","2001:db8:2::/48"]})", m));
}

// ---- Messages from events --------------------------------------------------------------------

constexpr std::int64_t kTime = 1'700'000'000'123'456;

// ORIGIN IGP, AS_PATH 64500 64496 {64511} (4-octet), NEXT_HOP 192.0.2.9, MED 5,
// COMMUNITIES 65000:1 65000:2, AGGREGATOR 64496 198.51.100.1.
const tests::ByteVector kAttributes = {
    0x40, 1, 1,  0,                                             // ORIGIN IGP
    0x40, 2, 16,                                                // AS_PATH
    2,    2, 0,  0,    0xFB, 0xF4, 0,    0,    0xFB, 0xF0,      //   sequence 64500 64496
    1,    1, 0,  0,    0xFB, 0xFF,                              //   set {64511}
    0x40, 3, 4,  192,  0,    2,    9,                           // NEXT_HOP
    0x80, 4, 4,  0,    0,    0,    5,                           // MED 5
    0xC0, 8, 8,  0xFD, 0xE8, 0,    1,    0xFD, 0xE8, 0,    2,   // COMMUNITIES
    0xC0, 7, 8,  0,    0,    0xFB, 0xF0, 198,  51,   100,  1};  // AGGREGATOR
const tests::ByteVector kUpdate =
    tests::update_message({24, 198, 51, 100}, kAttributes, {24, 203, 0, 113, 16, 10, 1});

google::protobuf::RepeatedPtrField<v1::Event> events_of(const exporters::Record& r) {
  google::protobuf::RepeatedPtrField<v1::Event> out;
  exporters::events::Options o;
  o.collector = "rrc-test";
  o.raw_update = true;
  exporters::events::append_events(r, o, out);
  return out;
}

std::vector<std::string> built(const google::protobuf::RepeatedPtrField<v1::Event>& events,
                               const std::vector<RisFilter>& filters) {
  RisMessageBuilder b("rrc-test");
  std::vector<std::string> out;
  for (const auto& e : events) {
    b.add(e, filters, out);
  }
  b.flush(filters, out);
  return out;
}

TEST(RisLiveMessages, AnUpdateIsTheLineDumpWrites) {
  const auto peer = tests::make_peer("192.0.2.9", 64500);
  const auto events = events_of(tests::message_record(kTime, peer, kUpdate));
  ASSERT_EQ(events.size(), 3);  // one withdrawal, two announcements
  const auto lines = built(events, {RisFilter{}});
  ASSERT_EQ(lines.size(), 1U);

  // `dump --format ris-live` of a BGP4MP_ET record holding the same UPDATE.
  mrt::Bgp4mpMessage m;
  m.peer.peer_as = 64500;
  m.peer.local_as = 64496;
  m.peer.peer_ip = *bgp::IpAddress::parse("192.0.2.9");
  m.peer.local_ip = *bgp::IpAddress::parse("192.0.2.1");
  m.message = kUpdate;
  codec::wire::Writer w;
  ASSERT_TRUE(mrt::encode(m, mrt::Timestamp{1'700'000'000, 123'456, true}, w));
  const auto bytes = w.take();
  auto record = mrt::parse_record(bytes);
  ASSERT_TRUE(record);
  tools::RisLiveFormatter dump;
  dump.set_record(1, "rrc-test");  // the builder's first id without a journal number
  std::string want;
  ASSERT_TRUE(dump.format(*record, want));
  ASSERT_EQ(want.back(), '\n');
  want.pop_back();
  EXPECT_EQ(lines[0], want);
  EXPECT_EQ(lines[0],
            R"({"type":"ris_message","data":{"timestamp":1700000000.123456,"peer":"192.0.2.9",)"
            R"("peer_asn":"64500","id":"1","host":"rrc-test","type":"UPDATE",)"
            R"("path":[64500,64496,[64511]],"community":[[65000,1],[65000,2]],"origin":"igp",)"
            R"("med":5,"aggregator":"64496:198.51.100.1","announcements":[{"next_hop":)"
            R"("192.0.2.9","prefixes":["203.0.113.0/24","10.1.0.0/16"]}],)"
            R"("withdrawals":["198.51.100.0/24"]}})");
}

TEST(RisLiveMessages, RawBytesAndFiltersAcrossSubscriptions) {
  const auto peer = tests::make_peer("192.0.2.9", 64500);
  auto events = events_of(tests::message_record(kTime, peer, kUpdate));
  // A second UPDATE with the same bytes a microsecond later is a message of its own.
  events.MergeFrom(events_of(tests::message_record(kTime + 1, peer, kUpdate)));
  RisFilter plain;
  RisFilter raw;
  raw.include_raw = true;
  raw.type = "RIS_PEER_STATE";
  auto lines = built(events, {plain});
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(lines[0].find("\"raw\""), std::string::npos);
  EXPECT_NE(lines[1].find("\"id\":\"2\""), std::string::npos);
  // includeRaw of a subscription that does not take the message adds nothing.
  lines = built(events, {plain, raw});
  EXPECT_EQ(lines[0].find("\"raw\""), std::string::npos);
  raw.type.clear();
  lines = built(events, {plain, raw});
  ASSERT_EQ(lines.size(), 2U);  // once, though both take it
  std::string hex;
  for (const auto b : kUpdate) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02X", b);
    hex += buf;
  }
  EXPECT_NE(lines[0].find(",\"raw\":\"" + hex + "\"}}"), std::string::npos) << lines[0];
  RisFilter none;
  none.prefixes.push_back(*bgp::Prefix::parse("192.0.2.0/24"));
  EXPECT_TRUE(built(events, {none}).empty());
  EXPECT_TRUE(built(events, {}).empty());
}

TEST(RisLiveMessages, PeerStatesAreConnectedAndDown) {
  const auto peer = tests::make_peer("2001:db8::2", 64501);
  google::protobuf::RepeatedPtrField<v1::Event> events;
  const auto add_state = [&](v1::PeerEvent::State from, v1::PeerEvent::State to) {
    auto& p = *events.Add()->mutable_peer();
    p.set_time_us(kTime);
    exporters::events::fill_peer(*peer, "rrc-test", *p.mutable_peer());
    p.set_old_state(from);
    p.set_new_state(to);
  };
  add_state(v1::PeerEvent::IDLE, v1::PeerEvent::CONNECT);  // no line: not up or down
  add_state(v1::PeerEvent::OPEN_CONFIRM, v1::PeerEvent::ESTABLISHED);
  add_state(v1::PeerEvent::ESTABLISHED, v1::PeerEvent::IDLE);
  const auto lines = built(events, {RisFilter{}});
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(lines[0],
            R"({"type":"ris_message","data":{"timestamp":1700000000.123456,"peer":"2001:db8::2",)"
            R"("peer_asn":"64501","id":"1","host":"rrc-test","type":"RIS_PEER_STATE",)"
            R"("state":"connected"}})");
  EXPECT_NE(lines[1].find(R"("state":"down")"), std::string::npos);
}

// ---- The server ------------------------------------------------------------------------------

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;

// A WebSocket client of the server, every read bounded by a deadline.
class Client {
 public:
  explicit Client(std::uint16_t port) : ws_(io_) {
    auto& stream = beast::get_lowest_layer(ws_);
    stream.expires_after(std::chrono::seconds(5));
    stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    ws_.handshake("127.0.0.1", "/v1/ws/");
  }
  void send(const std::string& text) { ws_.write(boost::asio::buffer(text)); }
  // The next message; "" when the server closed the connection (close_code() says how).
  std::string read() {
    beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(5));
    beast::flat_buffer buffer;
    beast::error_code ec;
    ws_.read(buffer, ec);
    if (ec == websocket::error::closed) {
      return {};
    }
    EXPECT_FALSE(ec) << ec.message();
    return beast::buffers_to_string(buffer.data());
  }
  [[nodiscard]] websocket::close_code close_code() const {
    return static_cast<websocket::close_code>(ws_.reason().code);
  }

 private:
  boost::asio::io_context io_;
  websocket::stream<beast::tcp_stream> ws_;
};

constexpr const char* kSubscribe =
    R"({"type":"ris_subscribe","data":{"socketOptions":{"acknowledge":true}}})";

// An UPDATE of `peer` announcing 10.<i % 256>.0.0/16, one event.
exporters::Record announce(int i) {
  const tests::ByteVector attrs = {0x40, 1, 1, 0,                         // ORIGIN IGP
                                   0x40, 2, 6, 2,   1, 0, 0, 0xFB, 0xF4,  // AS_PATH 64500
                                   0x40, 3, 4, 192, 0, 2, 9};             // NEXT_HOP
  const tests::ByteVector nlri = {16, 10, static_cast<std::uint8_t>(i)};
  return tests::message_record(kTime + i, tests::make_peer("192.0.2.9", 64500),
                               tests::update_message({}, attrs, nlri));
}

config::ListenAddress loopback() {
  return {*bgp::IpAddress::parse("127.0.0.1"), 0};  // port 0: the kernel picks one
}

TEST(RisLiveServer, ALaggingClientGetsWhatWasQueuedThenRisErrorAndIsClosed) {
  Feed feed("rrc-test", 4, 16);  // 16 events at most wait for a client
  RisLiveServer server(feed, "rrc-test", loopback());
  EXPECT_EQ(server.url(), "ws://127.0.0.1:" + std::to_string(server.port()) + "/v1/ws/");
  Client c(server.port());
  c.send(kSubscribe);
  EXPECT_NE(c.read().find("\"type\":\"ris_subscribe_ok\""), std::string::npos);
  c.send(R"({"type":"ping"})");
  EXPECT_EQ(c.read(), R"({"type":"pong","data":null})");
  for (int i = 0; i < 5; ++i) {
    feed.accept(announce(i));
  }
  feed.flush(0);
  for (int i = 0; i < 5; ++i) {
    EXPECT_NE(c.read().find("\"prefixes\":[\"10." + std::to_string(i) + ".0.0/16\"]"),
              std::string::npos);
  }
  // A batch of 600 events is more than the 16 the client may have waiting: it is cut off.
  for (int i = 0; i < 600; ++i) {
    feed.accept(announce(i));
  }
  feed.flush(0);
  // The count is what was dropped when the server looked: the first batch of 512 at least.
  const auto error = c.read();
  const std::string head = R"({"type":"ris_error","data":{"message":"lagging: )";
  ASSERT_EQ(error.find(head), 0U) << error;
  const int dropped = std::stoi(error.substr(head.size()));
  EXPECT_TRUE(dropped == 512 || dropped == 600) << error;
  EXPECT_NE(error.find(" events dropped"), std::string::npos) << error;
  EXPECT_EQ(c.read(), "");
  EXPECT_EQ(c.close_code(), websocket::close_code::try_again_later);
}

TEST(RisLiveServer, ClientsHearWhenTheCollectorStopsAndOneTooManyIsRefused) {
  Feed feed("rrc-test", 1, 1000);
  RisLiveServer server(feed, "rrc-test", loopback());
  Client first(server.port());
  first.send(kSubscribe);
  EXPECT_NE(first.read().find("ris_subscribe_ok"), std::string::npos);
  Client second(server.port());
  second.send(R"({"type":"ris_subscribe"})");
  EXPECT_EQ(
      second.read(),
      R"j({"type":"ris_error","data":{"message":"too many subscribers (api.max_subscribers)"}})j");
  EXPECT_EQ(second.read(), "");
  // A bad message on the first client changes nothing for it.
  first.send(R"({"type":"ris_subscribe","data":{"peer":"x"}})");
  EXPECT_NE(first.read().find("not an IP address"), std::string::npos);
  feed.stop();
  EXPECT_EQ(first.read(), R"({"type":"ris_error","data":{"message":"the collector is stopping"}})");
  EXPECT_EQ(first.read(), "");
  EXPECT_EQ(first.close_code(), websocket::close_code::going_away);
}

TEST(RisLiveServer, RefusesAnAddressInUse) {
  Feed feed("rrc-test", 1, 1000);
  RisLiveServer first(feed, "rrc-test", loopback());
  config::ListenAddress same = loopback();
  same.port = first.port();
  try {
    RisLiveServer second(feed, "rrc-test", same);
    FAIL() << "a second server on port " << same.port;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen for RIS Live on 127.0.0.1:" +
                                         std::to_string(same.port)),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace bgpscribe::collector::api
