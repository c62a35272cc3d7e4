// C strings handed to calls that take std::string_view: a null pointer is ""
// (std::string_view would read through it). Shared by the full and the light
// header, so standard headers only.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

constexpr std::string_view view_or_empty(const char* s) noexcept {
  return s != nullptr ? std::string_view(s) : std::string_view();
}

// A char pointer (or a nullptr literal): what the record_error(C message)
// overloads take beside std::string_view. A type that converts to both is a
// std::string_view.
template <class C>
inline constexpr bool is_c_string_v =
    std::is_same_v<C, const char*> || std::is_same_v<C, char*> || std::is_same_v<C, std::nullptr_t>;

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
