// Result and Error: how every codec parser reports success or failure.
//
// The codec never throws or aborts on input. A parser returns Result<T>, shaped like
// std::expected (which g++ 12 lacks in C++20 mode). Error is a small value that never
// allocates: what went wrong (a static message), where (byte offset from the start of the
// buffer handed to the top-level parser), and what a BGP speaker must do about it
// (NOTIFICATION code/subcode and the RFC 7606 reaction).
#pragma once

#include <cassert>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

namespace bgpscribe::codec {

// RFC 7606 section 2 approaches, weakest first, so that std::max picks the strongest.
enum class Reaction : std::uint8_t {
  None = 0,
  AttributeDiscard = 1,
  TreatAsWithdraw = 2,
  AfiSafiDisable = 3,
  SessionReset = 4,
};

const char* to_string(Reaction reaction);

// Broad class of an error, for callers that branch on it without parsing text.
enum class ErrorKind : std::uint8_t {
  Truncated,    // input ended before the structure did
  BadLength,    // a length field disagrees with the data or its limits
  BadValue,     // a field holds a value the specification forbids
  Unsupported,  // well-formed, but a variant we do not decode
  TooLarge,     // would exceed a protocol limit (encoding)
};

struct Error {
  ErrorKind kind = ErrorKind::BadValue;
  std::uint8_t code = 0;     // NOTIFICATION error code, 0 when none applies
  std::uint8_t subcode = 0;  // NOTIFICATION error subcode
  Reaction reaction = Reaction::SessionReset;
  std::uint32_t offset = 0;  // byte offset of the offending field in the top-level buffer
  const char* message = "";  // static string, never owned

  [[nodiscard]] Error with_reaction(Reaction r) const {
    Error e = *this;
    e.reaction = r;
    return e;
  }
  [[nodiscard]] Error with_notification(std::uint8_t c, std::uint8_t s) const {
    Error e = *this;
    e.code = c;
    e.subcode = s;
    return e;
  }
};

// Tag type so that `return fail(error)` converts into any Result<T>.
struct Failure {
  Error error;
};
[[nodiscard]] inline Failure fail(const Error& e) {
  return Failure{e};
}
[[nodiscard]] inline Failure fail(ErrorKind kind, std::uint32_t offset, const char* message,
                                  std::uint8_t code = 0, std::uint8_t subcode = 0,
                                  Reaction reaction = Reaction::SessionReset) {
  return Failure{Error{kind, code, subcode, reaction, offset, message}};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : ok_(true) { new (&value_) T(value); }        // NOLINT
  Result(T&& value) : ok_(true) { new (&value_) T(std::move(value)); }  // NOLINT
  Result(Failure f) : ok_(false) { new (&error_) Error(f.error); }      // NOLINT
  Result(const Result& other) : ok_(other.ok_) {
    if (ok_) {
      new (&value_) T(other.value_);
    } else {
      new (&error_) Error(other.error_);
    }
  }
  Result(Result&& other) noexcept(std::is_nothrow_move_constructible_v<T>) : ok_(other.ok_) {
    if (ok_) {
      new (&value_) T(std::move(other.value_));
    } else {
      new (&error_) Error(other.error_);
    }
  }
  Result& operator=(const Result& other) {
    if (this != &other) {
      destroy();
      ok_ = other.ok_;
      if (ok_) {
        new (&value_) T(other.value_);
      } else {
        new (&error_) Error(other.error_);
      }
    }
    return *this;
  }
  Result& operator=(Result&& other) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &other) {
      destroy();
      ok_ = other.ok_;
      if (ok_) {
        new (&value_) T(std::move(other.value_));
      } else {
        new (&error_) Error(other.error_);
      }
    }
    return *this;
  }
  ~Result() { destroy(); }

  [[nodiscard]] bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }

  T& value() & {
    assert(ok_);
    return value_;
  }
  const T& value() const& {
    assert(ok_);
    return value_;
  }
  T&& value() && {
    assert(ok_);
    return std::move(value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  [[nodiscard]] const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  void destroy() {
    if (ok_) {
      value_.~T();
    }
  }
  bool ok_;
  union {
    T value_;
    Error error_;
  };
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Failure f) : ok_(false), error_(f.error) {}  // NOLINT
  [[nodiscard]] bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  [[nodiscard]] const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  bool ok_ = true;
  Error error_{};
};

using Status = Result<void>;

}  // namespace bgpscribe::codec

// Propagates a failed Result out of the calling function; the only macro of the codec.
#define BGPSCRIBE_TRY(expr)                                     \
  do {                                                          \
    if (auto&& bgpscribe_try_r = (expr); !bgpscribe_try_r) {    \
      return ::bgpscribe::codec::fail(bgpscribe_try_r.error()); \
    }                                                           \
  } while (false)
