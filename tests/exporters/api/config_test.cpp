// The config helpers' number parsers: whole decimal integers, durations and sizes.
#include "exporters/api/config.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>

namespace bgpscribe::exporters {
namespace {

TEST(ConfigNumbers, IntegerTakesTheWholeTextOnly) {
  EXPECT_EQ(parse_integer("300"), 300);
  EXPECT_EQ(parse_integer("-12"), -12);
  EXPECT_EQ(parse_integer("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_integer(""), std::nullopt);
  EXPECT_EQ(parse_integer("1x"), std::nullopt);
  EXPECT_EQ(parse_integer("+1"), std::nullopt);
  EXPECT_EQ(parse_integer(" 1"), std::nullopt);
  EXPECT_EQ(parse_integer("9223372036854775808"), std::nullopt);
}

TEST(ConfigNumbers, UnsignedRefusesSigns) {
  EXPECT_EQ(parse_unsigned("179"), 179U);
  EXPECT_EQ(parse_unsigned("0"), 0U);
  EXPECT_EQ(parse_unsigned("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(parse_unsigned("-1"), std::nullopt);
  EXPECT_EQ(parse_unsigned("-0"), std::nullopt);
  EXPECT_EQ(parse_unsigned("+1"), std::nullopt);
  EXPECT_EQ(parse_unsigned("1.5"), std::nullopt);
  EXPECT_EQ(parse_unsigned("18446744073709551616"), std::nullopt);
}

TEST(ConfigNumbers, SecondsAndBytesTakeTheirUnits) {
  EXPECT_EQ(parse_seconds("90"), 90);
  EXPECT_EQ(parse_seconds("5m"), 300);
  EXPECT_EQ(parse_seconds("500ms"), 1);
  EXPECT_EQ(parse_seconds("1d"), 86400);
  EXPECT_EQ(parse_seconds("-5s"), std::nullopt);
  EXPECT_EQ(parse_seconds("5 s"), std::nullopt);
  EXPECT_EQ(parse_bytes("64k"), 64U << 10);
  EXPECT_EQ(parse_bytes("2G"), std::uint64_t{2} << 30);
  EXPECT_EQ(parse_bytes("1024"), 1024U);
  EXPECT_EQ(parse_bytes("1T"), std::nullopt);
}

}  // namespace
}  // namespace bgpscribe::exporters
