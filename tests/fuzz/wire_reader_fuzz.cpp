// Fuzz target for codec/wire/reader.hpp: random programs of reads over random bytes.
//
// Input layout: byte 0 is the length L of the program, bytes 1..L are the program (one op
// byte, then its argument bytes), and the rest is the payload the top-level Reader walks. The
// payload ends the input, so any read past it leaves the exactly sized buffer and trips ASan.
// After every op the target checks the Reader's invariants: remaining() never increases,
// offsets map back to the same bytes of the top-level buffer, child readers stay inside their
// parent, a failed read moves nothing and reports a Truncated error at the cursor.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "codec/wire/reader.hpp"
#include "codec/wire/result.hpp"

namespace {

using bgpscribe::codec::ErrorKind;
using bgpscribe::codec::wire::Bytes;
using bgpscribe::codec::wire::Reader;

// Not assert(): fuzz builds define NDEBUG, and a broken invariant must crash there too.
void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "wire_reader_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

class Program {
 public:
  explicit Program(Bytes ops) : ops_(ops) {}
  [[nodiscard]] bool done() const { return pos_ >= ops_.size(); }
  std::uint8_t next() { return done() ? 0 : ops_[pos_++]; }

 private:
  Bytes ops_;
  std::size_t pos_ = 0;
};

// Every Reader, top-level or child, views a window of the top-level buffer.
void check_reader(const Reader& r, Bytes top) {
  require(r.position() <= r.whole().size(), "position within the reader");
  require(r.remaining() == r.whole().size() - r.position(), "remaining = size - position");
  require(r.rest().size() == r.remaining(), "rest() has remaining() bytes");
  require(r.empty() == (r.remaining() == 0), "empty() iff nothing remains");
  require(r.offset() == r.base_offset() + r.position(), "offset = base + position");
  require(r.base_offset() <= top.size(), "base offset inside the buffer");
  require(r.whole().size() <= top.size() - r.base_offset(), "reader ends inside the buffer");
  require(r.whole().data() == top.subspan(r.base_offset()).data(), "base offset maps to data");
  require(r.rest().data() == r.whole().subspan(r.position()).data(), "rest() starts at cursor");
}

// The value a big-endian read of `width` bytes at absolute offset `at` must return.
std::uint64_t expected_value(Bytes top, std::uint32_t at, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) {
    v = (v << 8) | top[at + i];
  }
  return v;
}

// A read of `width` bytes that either consumed exactly them or failed without moving.
template <class R>
void check_read(const R& result, const Reader& r, std::size_t before, std::uint32_t offset,
                std::size_t width) {
  if (before >= width) {
    require(result.has_value(), "read with enough bytes succeeds");
    require(r.remaining() == before - width, "read consumes exactly its width");
  } else {
    require(!result.has_value(), "read past the end fails");
    require(result.error().kind == ErrorKind::Truncated, "short read is Truncated");
    require(result.error().offset == offset, "short read reports the cursor offset");
    require(r.remaining() == before && r.offset() == offset, "failed read moves nothing");
  }
}

std::size_t length_arg(Program& program, const Reader& r) {
  switch (program.next() % 4) {
    case 0:
      return program.next();
    case 1:
      return (std::size_t{program.next()} << 8) | program.next();
    case 2:
      return r.remaining();
    default:
      return r.remaining() + 1 + (program.next() % 4);
  }
}

void run(Program& program, Bytes top) {
  constexpr std::size_t kMaxDepth = 16;
  std::array<Reader, kMaxDepth> stack{};
  std::size_t depth = 1;
  stack[0] = Reader(top);

  while (!program.done()) {
    Reader& r = stack[depth - 1];
    const std::size_t before = r.remaining();
    const std::uint32_t offset = r.offset();
    switch (program.next() % 14) {
      case 0: {
        auto v = r.u8();
        check_read(v, r, before, offset, 1);
        if (v) {
          require(*v == expected_value(top, offset, 1), "u8 value");
        }
        break;
      }
      case 1: {
        auto v = r.u16();
        check_read(v, r, before, offset, 2);
        if (v) {
          require(*v == expected_value(top, offset, 2), "u16 value");
        }
        break;
      }
      case 2: {
        auto v = r.u24();
        check_read(v, r, before, offset, 3);
        if (v) {
          require(*v == expected_value(top, offset, 3), "u24 value");
          require(*v < (1U << 24), "u24 fits 24 bits");
        }
        break;
      }
      case 3: {
        auto v = r.u32();
        check_read(v, r, before, offset, 4);
        if (v) {
          require(*v == expected_value(top, offset, 4), "u32 value");
        }
        break;
      }
      case 4: {
        auto v = r.u64();
        check_read(v, r, before, offset, 8);
        if (v) {
          require(*v == expected_value(top, offset, 8), "u64 value");
        }
        break;
      }
      case 5: {
        const std::size_t n = length_arg(program, r);
        const Bytes expected_start = r.rest();
        auto b = r.bytes(n);
        check_read(b, r, before, offset, n);
        if (b) {
          require(b->size() == n, "bytes(n) has n bytes");
          require(b->data() == expected_start.data(), "bytes(n) starts at the cursor");
        }
        break;
      }
      case 6: {
        const std::size_t n = length_arg(program, r);
        auto child = r.sub(n);
        check_read(child, r, before, offset, n);
        if (child) {
          require(child->base_offset() == offset, "child starts at the parent's cursor");
          require(child->whole().size() == n && child->position() == 0, "child holds n bytes");
          check_reader(*child, top);
          if (depth < kMaxDepth) {
            stack[depth++] = *child;
          }
        }
        break;
      }
      case 7: {
        const std::size_t n = length_arg(program, r);
        auto s = r.skip(n);
        check_read(s, r, before, offset, n);
        break;
      }
      case 8: {
        auto s = r.expect_end();
        require(s.has_value() == r.empty(), "expect_end() succeeds iff empty");
        if (!s) {
          require(s.error().kind == ErrorKind::BadLength, "trailing bytes are BadLength");
          require(s.error().offset == offset, "expect_end() reports the cursor offset");
        }
        require(r.remaining() == before, "expect_end() consumes nothing");
        break;
      }
      case 9: {
        // Leave the child: the parent already moved past all of it when sub() succeeded.
        if (depth > 1) {
          const Reader& parent = stack[depth - 2];
          require(parent.offset() >= r.offset(), "parent cursor is past the child's");
          --depth;
        }
        break;
      }
      case 10: {
        const std::size_t ahead = program.next() % 8;
        if (ahead < r.remaining()) {
          require(r.peek_u8(ahead) == top[offset + ahead], "peek_u8 value");
          require(r.remaining() == before, "peek consumes nothing");
        }
        break;
      }
      case 11: {
        if (r.remaining() >= 4) {
          require(bgpscribe::codec::wire::load_u32(r.rest(), 0) == expected_value(top, offset, 4),
                  "load_u32 value");
          require(
              bgpscribe::codec::wire::load_u16(r.rest(), 2) == expected_value(top, offset + 2, 2),
              "load_u16 value");
        }
        break;
      }
      case 12: {
        // Readers are values: reading a copy leaves the original untouched.
        Reader copy = r;
        while (copy.u8()) {
        }
        require(copy.empty(), "draining a copy empties it");
        require(r.remaining() == before && r.offset() == offset, "copy is independent");
        break;
      }
      default: {
        auto t = r.truncated("fuzz");
        require(t.error.kind == ErrorKind::Truncated && t.error.offset == offset,
                "truncated() reports the cursor");
        break;
      }
    }
    require(r.remaining() <= before, "remaining() never increases");
    for (std::size_t i = 0; i < depth; ++i) {
      check_reader(stack[i], top);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(data, size);
  if (input.empty()) {
    Reader empty;
    require(empty.empty() && !empty.u8() && empty.expect_end(), "default Reader is empty");
    return 0;
  }
  const std::size_t program_size = std::min<std::size_t>(input[0], input.size() - 1);
  Program program(input.subspan(1, program_size));
  run(program, input.subspan(1 + program_size));
  return 0;
}
