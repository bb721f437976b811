// The sample Event of the schema tests: a route announcement with every kind of field filled
// (nested messages, repeated, optional, enums, bytes), so that a reader that gets it right
// gets the encoding right.
#pragma once

#include "bgpscribe/v1/events.pb.h"

namespace bgpscribe::tests {

inline bgpscribe::v1::Event sample_event() {
  bgpscribe::v1::Event e;
  auto* r = e.mutable_route();
  r->set_time_us(1'700'000'000'123'456);
  auto* p = r->mutable_peer();
  p->set_id(7);
  p->set_name("edge1 198.51.100.7");
  p->set_address("198.51.100.7");
  p->set_asn(4'200'000'001);
  p->set_bgp_id("198.51.100.7");
  p->set_router("edge1");
  p->set_post_policy(true);
  p->set_collector("rrc99");
  r->set_action(bgpscribe::v1::RouteEvent::ANNOUNCE);
  r->set_prefix("203.0.113.0/24");
  r->set_path_id(3);
  r->set_afi(1);
  r->set_safi(1);
  auto* a = r->mutable_attributes();
  a->set_origin(bgpscribe::v1::Attributes::IGP);
  auto* seg = a->add_as_path();
  seg->set_type(bgpscribe::v1::AsPathSegment::AS_SEQUENCE);
  seg->add_asns(4'200'000'001);
  seg->add_asns(64496);
  auto* set = a->add_as_path();
  set->set_type(bgpscribe::v1::AsPathSegment::AS_SET);
  set->add_asns(64497);
  set->add_asns(64498);
  a->set_origin_asn(64496);
  a->set_next_hop("198.51.100.7");
  a->set_med(0);  // present although zero: proto3 `optional`
  a->add_communities("65000:1");
  a->add_large_communities("4200000000:1:2");
  a->add_extended_communities("rt:64496:22");
  auto* other = a->add_other_attributes();
  other->set_type(250);
  other->set_flags(0xc0);
  other->set_value(std::string("\x01\x02\x00", 3));
  r->set_decision(bgpscribe::v1::TREAT_AS_WITHDRAW);
  r->set_error("AS_PATH segment length exceeds the attribute");
  r->set_update_seq(123456789012ULL);
  r->set_raw_update(std::string(19, '\xff'));
  return e;
}

}  // namespace bgpscribe::tests
