#include "codec/wire/reader.hpp"

#include <gtest/gtest.h>

#include <array>

#include "codec/wire/writer.hpp"

namespace bgpscribe::codec::wire {
namespace {

TEST(Reader, ReadsBigEndianIntegers) {
  const std::array<std::uint8_t, 15> data{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                          0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
  Reader r(data);
  EXPECT_EQ(*r.u8(), 0x01);
  EXPECT_EQ(*r.u16(), 0x0203);
  EXPECT_EQ(*r.u32(), 0x04050607U);
  EXPECT_EQ(*r.u64(), 0x08090a0b0c0d0e0fULL);
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(r.expect_end());
}

TEST(Reader, FailedReadLeavesCursorAndReportsAbsoluteOffset) {
  const std::array<std::uint8_t, 5> data{1, 2, 3, 4, 5};
  Reader outer(data, 100);
  ASSERT_TRUE(outer.skip(2));
  auto child = outer.sub(3);
  ASSERT_TRUE(child);
  EXPECT_EQ(child->offset(), 102U);
  ASSERT_TRUE(child->u8());
  auto bad = child->u32();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::Truncated);
  EXPECT_EQ(bad.error().offset, 103U);
  EXPECT_EQ(child->remaining(), 2U);
  EXPECT_EQ(*child->u16(), 0x0405);
}

TEST(Reader, SubBeyondEndFails) {
  const std::array<std::uint8_t, 3> data{1, 2, 3};
  Reader r(data);
  EXPECT_FALSE(r.sub(4));
  EXPECT_EQ(r.remaining(), 3U);
  EXPECT_FALSE(r.expect_end());
}

TEST(Writer, WritesAndPatches) {
  Writer w;
  auto at = w.placeholder_u16();
  w.u8(7);
  w.u24(0x010203);
  w.patch_u16(at, static_cast<std::uint16_t>(w.since(at + 2)));
  const std::vector<std::uint8_t> expect{0x00, 0x04, 0x07, 0x01, 0x02, 0x03};
  EXPECT_EQ(w.buffer(), expect);
  w.clear();
  EXPECT_EQ(w.size(), 0U);
}

}  // namespace
}  // namespace bgpscribe::codec::wire
