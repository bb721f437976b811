#include "codec/wire/reader.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

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

TEST(Load, ReadsBigEndianAtAnIndex) {
  const std::array<std::uint8_t, 6> data{0x01, 0x02, 0x03, 0x04, 0x05, 0x06};
  EXPECT_EQ(load_u16(data, 0), 0x0102);
  EXPECT_EQ(load_u16(data, 4), 0x0506);
  EXPECT_EQ(load_u32(data, 0), 0x01020304U);
  EXPECT_EQ(load_u32(data, 2), 0x03040506U);
}

// A load past the end is a broken invariant of the caller, not bad input: it aborts and says
// where, in every build type.
TEST(LoadDeathTest, PastTheEndAborts) {
  const std::array<std::uint8_t, 6> data{};
  const Bytes bytes(data);
  EXPECT_DEATH((void)load_u16(bytes, 5), "load of 2 bytes at offset 5 of a 6-byte span");
  EXPECT_DEATH((void)load_u32(bytes, 3), "load of 4 bytes at offset 3 of a 6-byte span");
  EXPECT_DEATH((void)load_u32(bytes.first(2), 0), "load of 4 bytes at offset 0 of a 2-byte span");
  EXPECT_DEATH((void)load_u16(Bytes{}, 0), "load of 2 bytes at offset 0 of a 0-byte span");
  EXPECT_DEATH((void)load_u32(bytes, static_cast<std::size_t>(-1)), "out of bounds");
}

TEST(BigEndianArray, ReadsWholeValuesOnly) {
  const std::array<std::uint8_t, 7> data{0x00, 0x01, 0x00, 0x02, 0xFF, 0xFF, 0x09};
  const BigEndianArray shorts(data, 2);
  ASSERT_EQ(shorts.size(), 3U);  // the odd last octet is no value
  EXPECT_EQ(shorts[0], 1U);
  EXPECT_EQ(shorts[2], 0xFFFFU);
  const BigEndianArray longs(data, 4);
  ASSERT_EQ(longs.size(), 1U);
  EXPECT_EQ(longs[0], 0x00010002U);
  std::vector<std::uint32_t> seen;
  for (const std::uint32_t v : shorts) {
    seen.push_back(v);
  }
  EXPECT_EQ(seen, (std::vector<std::uint32_t>{1, 2, 0xFFFF}));
  EXPECT_TRUE(BigEndianArray(Bytes{}, 4).empty());
}

TEST(FixedSpan, HoldsTheBytesAtTheOffset) {
  const std::array<std::uint8_t, 6> data{1, 2, 3, 4, 5, 6};
  const auto fixed = fixed_span<4>(data, 2);
  EXPECT_EQ(load_u32(fixed, 0), 0x03040506U);
}

TEST(LoadDeathTest, IndexPastTheEndAborts) {
  const std::array<std::uint8_t, 6> data{};
  EXPECT_DEATH((void)BigEndianArray(data, 4)[1], "load of 4 bytes at offset 4 of a 6-byte span");
  EXPECT_DEATH((void)fixed_span<4>(data, 3), "load of 4 bytes at offset 3 of a 6-byte span");
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
