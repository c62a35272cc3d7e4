// Header-name comparison: HTTP and message header names match in any case.
// Its own header because the light header (tracing_light.hpp) needs it too.
#pragma once

#include <cstddef>
#include <string_view>

#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

/// ASCII case-insensitive equality, for header names.
constexpr bool header_name_equals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    // Equal bytes are the common case; otherwise they may differ only in the
    // ASCII case bit (0x20), and only if they are letters.
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;
    const auto lower = static_cast<unsigned char>(x | 0x20);
    if ((x ^ y) != 0x20 || lower < 'a' || lower > 'z') return false;
  }
  return true;
}

STREAMBUS_TRACING_END_NAMESPACE
