// What counts as a failed operation, and how it is described: the rules of
// instrumented_operation and trace_with_retry (instrumentation.hpp) and of the
// light API's instrumented_operation (light.hpp), written once. They need only
// small standard headers, so the light header can use them too: types are
// recognised by what they offer, and a description goes to a sink that each
// API supplies, with these calls:
//
//   sink.error_code(category, value, message)   error.type "<category>:<value>"
//   sink.other(message)                         error.type "_OTHER"
//   sink.error_type(op_type_of<E>(), message)   error.type: E's type name
//   sink.exception(exception_ptr)               as the exception would be
//
// The rules:
//   - an error code (category(), value(), message() and a bool test, e.g.
//     std::error_code) fails when non-zero;
//   - an error code enum (make_error_code found for it, e.g. std::errc)
//     fails when non-zero, and is described as its error code;
//   - bool fails when false ("returned false");
//   - an expected-like result (has_value() and error(), e.g. C++23
//     std::expected) fails without a value, and is described by its error:
//     an error code, an error code enum (make_error_code found for it, e.g.
//     std::errc), a std::exception_ptr, a string, or else its type name;
//   - anything else (including void) is a success.
#pragma once

#include <exception>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

template <class T>
using op_remove_cvref_t = std::remove_cv_t<std::remove_reference_t<T>>;

// A type, for its name in error.type: typeid's where there is RTTI, else the
// name the compiler writes into __PRETTY_FUNCTION__ (-fno-rtti; "_OTHER" on
// other compilers).
struct op_type {
  const std::type_info* info = nullptr;  // with RTTI
  std::string_view name;                 // without
};

template <class T>
constexpr std::string_view op_static_type_name() noexcept {
#if defined(__GNUC__) || defined(__clang__)
  // g++: "... op_static_type_name() [with T = ns::error; std::string_view = ...]"
  // clang++: "... op_static_type_name() [T = ns::error]"
  constexpr std::string_view f = __PRETTY_FUNCTION__;
  constexpr std::size_t key = f.find("T = ");
  if (key == std::string_view::npos) return "_OTHER";
  constexpr std::size_t start = key + 4;
  std::size_t end = f.find("; ", start);
  if (end == std::string_view::npos) end = f.rfind(']');
  if (end == std::string_view::npos || end <= start) return "_OTHER";
  return f.substr(start, end - start);
#else
  return "_OTHER";
#endif
}

template <class T>
op_type op_type_of() noexcept {
#if STREAMBUS_TRACING_HAS_RTTI
  return {&typeid(T), {}};
#else
  return {nullptr, op_static_type_name<T>()};
#endif
}

// e.what(), or "" where a broken exception class returns null (which
// std::string_view and std::string would read through).
inline const char* what_of(const std::exception& e) noexcept {
  const char* what = e.what();
  return what != nullptr ? what : "";
}

// category().name(), value(), message() and a bool test: std::error_code,
// std::error_condition and their look-alikes.
template <class T, class = void>
struct op_is_error_code_like : std::false_type {};
template <class T>
struct op_is_error_code_like<T, std::void_t<decltype(std::string_view(std::declval<const T&>().category().name())),
                                            decltype(static_cast<int>(std::declval<const T&>().value())),
                                            decltype(std::string_view(std::declval<const T&>().message())),
                                            decltype(static_cast<bool>(std::declval<const T&>()))>>
    : std::true_type {};

// What span::record_error(ec) takes as an error code, on every span type:
// std::error_code and its look-alikes (std::error_condition,
// boost::system::error_code), not exceptions, which have their own overload.
template <class E>
inline constexpr bool is_error_code_v = op_is_error_code_like<E>::value && !std::is_base_of_v<std::exception, E>;

// An enum for which make_error_code (found by argument-dependent lookup)
// gives an error code: std::errc and application error enums.
template <class T, class = void>
struct op_is_error_code_enum : std::false_type {};
template <class T>
struct op_is_error_code_enum<T, std::void_t<decltype(make_error_code(std::declval<const T&>()))>>
    : std::bool_constant<std::is_enum_v<T> &&
                         op_is_error_code_like<op_remove_cvref_t<decltype(make_error_code(std::declval<const T&>()))>>::value> {};

// has_value() and error(): std::expected and the many look-alikes.
template <class T, class = void>
struct op_is_expected_like : std::false_type {};
template <class T>
struct op_is_expected_like<T, std::void_t<decltype(static_cast<bool>(std::declval<const T&>().has_value())),
                                          decltype(std::declval<const T&>().error())>> : std::true_type {};

/// Whether a result says that the operation failed.
template <class R>
bool op_failed(const R& r) noexcept {
  using D = op_remove_cvref_t<R>;
  if constexpr (std::is_same_v<D, bool>) {
    return !r;
  } else if constexpr (op_is_error_code_like<D>::value) {
    return static_cast<bool>(r);
  } else if constexpr (op_is_error_code_enum<D>::value) {
    // Zero is success, as for the error code it stands for (whose value() is
    // the enumerator's by convention); no call to user code in a noexcept test.
    return static_cast<std::underlying_type_t<D>>(r) != 0;
  } else if constexpr (op_is_expected_like<D>::value) {
    return !r.has_value();
  } else {
    return false;
  }
}

template <class E, class Sink>
void op_describe_error(const E& e, Sink& sink) {
  using D = op_remove_cvref_t<E>;
  if constexpr (op_is_error_code_like<D>::value) {
    sink.error_code(std::string_view(e.category().name()), static_cast<int>(e.value()), e.message());
  } else if constexpr (op_is_error_code_enum<D>::value) {
    op_describe_error(make_error_code(e), sink);
  } else if constexpr (std::is_same_v<D, std::exception_ptr>) {
    sink.exception(e);
  } else if constexpr (std::is_convertible_v<const D&, std::string_view>) {
    sink.other(std::string_view(e));
  } else {
    sink.error_type(op_type_of<D>(), "operation returned an error");
  }
}

/// Describes a result for which op_failed is true. May throw (out of memory
/// in message()); the failure stands all the same.
template <class R, class Sink>
void op_describe(const R& r, Sink& sink) {
  using D = op_remove_cvref_t<R>;
  if constexpr (std::is_same_v<D, bool>) {
    sink.other("returned false");
  } else if constexpr (op_is_error_code_like<D>::value || op_is_error_code_enum<D>::value) {
    op_describe_error(r, sink);
  } else if constexpr (op_is_expected_like<D>::value) {
    op_describe_error(r.error(), sink);
  }
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
