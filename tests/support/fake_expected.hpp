// The smallest expected-like type (has_value() and error(), as C++23
// std::expected), for tests of what instrumented_operation counts as failed.
#pragma once

#include <optional>
#include <utility>

template <class T, class E>
class fake_expected {
 public:
  fake_expected(T v) : value_(std::move(v)) {}  // NOLINT(google-explicit-constructor)
  static fake_expected failure(E e) {
    fake_expected r;
    r.error_ = std::move(e);
    return r;
  }
  bool has_value() const { return value_.has_value(); }
  const E& error() const { return *error_; }
  const T& value() const { return *value_; }

 private:
  fake_expected() = default;
  std::optional<T> value_;
  std::optional<E> error_;
};
