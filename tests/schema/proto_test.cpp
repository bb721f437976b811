// The Protobuf schema compiles and round-trips: an Event with every kind of field survives
// encoding, and an unknown field (from a newer v1) is kept, not an error.
#include <gtest/gtest.h>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/message_differencer.h>

#include "bgpscribe/v1/api.grpc.pb.h"
#include "tests/schema/sample_event.hpp"

namespace bgpscribe::tests {
namespace {

TEST(ProtoSchema, AnEventRoundTrips) {
  const auto e = sample_event();
  const auto bytes = e.SerializeAsString();
  bgpscribe::v1::Event back;
  ASSERT_TRUE(back.ParseFromString(bytes));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(e, back));
  EXPECT_TRUE(back.route().attributes().has_med());
  EXPECT_FALSE(back.route().attributes().has_local_pref());
  EXPECT_EQ(back.route().attributes().as_path(1).type(), bgpscribe::v1::AsPathSegment::AS_SET);
}

TEST(ProtoSchema, FieldsOfANewerVersionAreIgnoredNotRefused) {
  auto bytes = sample_event().SerializeAsString();
  // Field 99 of Event, a varint: what a later v1 might add.
  bytes += std::string("\x98\x06\x2a", 3);
  bgpscribe::v1::Event back;
  ASSERT_TRUE(back.ParseFromString(bytes));
  EXPECT_EQ(back.route().prefix(), "203.0.113.0/24");
}

TEST(ProtoSchema, TheApiServiceHasItsFourMethods) {
  const auto* service =
      bgpscribe::v1::StatusRequest::descriptor()->file()->FindServiceByName("Collector");
  ASSERT_NE(service, nullptr);
  ASSERT_EQ(service->method_count(), 4);
  EXPECT_EQ(service->method(0)->name(), "Status");
  EXPECT_EQ(service->method(1)->name(), "Rib");
  EXPECT_EQ(service->method(2)->name(), "Subscribe");
  EXPECT_TRUE(service->method(2)->server_streaming());
  EXPECT_EQ(service->method(3)->name(), "SubscribeBatches");
  EXPECT_TRUE(service->method(3)->server_streaming());
  EXPECT_EQ(service->method(3)->output_type()->name(), "EventBatch");
}

}  // namespace
}  // namespace bgpscribe::tests
