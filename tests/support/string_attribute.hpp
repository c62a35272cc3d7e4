// The string value of an attribute, for doctest checks; nullopt when absent,
// a failed REQUIRE when the value is not a string. Include after doctest and
// <streambus/tracing.hpp>.
#pragma once

#include <optional>
#include <string>
#include <string_view>

inline std::optional<std::string> str_attr(const streambus::tracing::attribute_list& attrs, std::string_view key) {
  const auto* v = attrs.find(key);
  if (v == nullptr) return std::nullopt;
  const auto* s = v->get_if<std::string>();
  REQUIRE_MESSAGE(s != nullptr, "attribute " << std::string(key) << " is not a string");
  return *s;
}
