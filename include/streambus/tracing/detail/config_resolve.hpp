// From config + OTEL_* environment variables to a resolved_config: the
// precedence written at the top of config.hpp, made executable.
//
// Runs once per tracer, never on the hot path, so clarity beats speed here.
// Values set in code are checked strictly: every problem is collected and
// config_error names them all at once. Environment values are forgiving, as the
// OpenTelemetry environment-variable specification asks: a warning, then the
// default. Warnings end up in logs, so they never echo OTLP header values
// (they carry API keys) nor the credentials of a URL.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <unistd.h>  // readlink
#endif

#include "../config.hpp"
#include "../exporter_registry.hpp"
#include "float_class.hpp"
#include "../limits.hpp"
#include "../sampler.hpp"
#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {
namespace config_parse {
// The functions below are templates that are only ever used with their
// default argument (`template <int = 0>`): a translation unit that includes
// the library but never calls them then does not compile them (about a
// quarter of the full header's compile time; see bench/README.md).

// ---- text -------------------------------------------------------------------

template <int = 0>
inline bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

template <int = 0>
inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

template <int = 0>
inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

template <int = 0>
inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

template <int = 0>
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

/// A value as it may appear in a message: quoted, control characters escaped
/// (no log injection through a variable), long values cut.
template <int = 0>
inline std::string quote(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  static constexpr std::size_t max_shown = 200;
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == max_shown) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += s[i];
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += s[i];
    }
  }
  out += '"';
  return out;
}

/// quote() with the userinfo of a URL (user:password@) replaced by ***.
template <int = 0>
inline std::string quote_url(std::string_view url) {
  std::string t(url);
  const std::size_t sep = t.find("://");
  const std::size_t start = sep == std::string::npos ? 0 : sep + 3;
  std::size_t end = t.find_first_of("/?#", start);
  if (end == std::string::npos) end = t.size();
  if (end > start) {
    const std::size_t at = t.rfind('@', end - 1);
    if (at != std::string::npos && at >= start) t.replace(start, at - start, "***");
  }
  return quote(t);
}

template <int = 0>
inline std::string format_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

template <int = 0>
inline std::string join(const std::string_view* names, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ", ";
    out += names[i];
  }
  return out;
}

template <int = 0>
inline int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// RFC 3986 percent-decoding ('+' stays '+': this is not form encoding).
/// False on a '%' not followed by two hex digits.
template <int = 0>
inline bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

// ---- numbers and booleans -----------------------------------------------------

/// The OpenTelemetry specification asks SDKs to accept 0 .. 2^31-1 for integers.
inline constexpr std::uint64_t max_env_integer = 2147483647;

enum class integer_status { ok, invalid, too_large };

/// Plain non-negative decimal (surrounding blanks allowed): no sign, no
/// trailing junk, no hex. Values above `max` are too_large.
template <int = 0>
inline integer_status parse_uint(std::string_view text, std::uint64_t max, std::uint64_t& out) noexcept {
  text = trim(text);
  if (text.empty()) return integer_status::invalid;
  std::uint64_t v = 0;
  bool too_large = false;
  for (const char c : text) {
    if (!is_digit(c)) return integer_status::invalid;
    if (!too_large) {
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
      if (v > max) too_large = true;  // max <= 2^63, so v * 10 + 9 cannot wrap first
    }
  }
  if (too_large) return integer_status::too_large;
  out = v;
  return integer_status::ok;
}

/// Decimal number ("0.25", ".5", "1", "1e-3"), independent of the C locale
/// (strtod reads "0,5" under a German LC_NUMERIC and rejects "0.5"). No
/// sign, NaN, infinity or hex: a ratio never needs them. Up to 22 decimal
/// places and 15-16 significant digits the result is the correctly rounded
/// double, so every service derives the same sampling threshold from "0.1".
template <int = 0>
inline bool parse_decimal(std::string_view text, double& out) noexcept {
  text = trim(text);
  std::uint64_t mantissa = 0;
  int significant = 0;
  long exponent = 0;
  bool any_digit = false;
  std::size_t i = 0;
  const auto take = [&](char c, bool fraction) {
    any_digit = true;
    if (mantissa == 0 && c == '0') {
      if (fraction) --exponent;
      return;
    }
    if (significant < 19) {
      mantissa = mantissa * 10 + static_cast<std::uint64_t>(c - '0');
      ++significant;
      if (fraction) --exponent;
    } else if (!fraction) {
      ++exponent;  // digits beyond 19 are dropped; keep the magnitude
    }
  };
  while (i < text.size() && is_digit(text[i])) take(text[i++], false);
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && is_digit(text[i])) take(text[i++], true);
  }
  if (!any_digit) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    if (i == text.size() || !is_digit(text[i])) return false;
    long e = 0;
    for (; i < text.size() && is_digit(text[i]); ++i)
      if (e < 100000) e = e * 10 + (text[i] - '0');
    exponent += negative ? -e : e;
  }
  if (i != text.size()) return false;
  if (mantissa == 0) {
    out = 0.0;
    return true;
  }
  static constexpr double powers[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const double m = static_cast<double>(mantissa);
  if (mantissa <= (std::uint64_t{1} << 53) && exponent >= -22 && exponent <= 22) {
    // Both operands exact, so one IEEE operation rounds correctly.
    out = exponent < 0 ? m / powers[-exponent] : m * powers[exponent];
  } else {
    out = m * std::pow(10.0, static_cast<double>(exponent));
  }
  return is_finite_double(out);
}

/// The specification's boolean: "true" or "false", case-insensitive; nothing else.
template <int = 0>
inline std::optional<bool> parse_bool(std::string_view text) noexcept {
  if (iequals(text, "true")) return true;
  if (iequals(text, "false")) return false;
  return std::nullopt;
}

// ---- key=value lists (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS) ----

/// RFC 9110 token characters: what an HTTP header name may contain.
template <int = 0>
inline bool is_http_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

/// A header value that would split the request (CR, LF) or cut it (NUL).
template <int = 0>
inline bool breaks_header(std::string_view value) noexcept {
  return value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

/// "k1=v1,k2=v2" in the W3C Baggage style without metadata: entries trimmed,
/// keys and values percent-decoded, blank entries skipped, the last duplicate
/// wins (for headers, whatever the case of its name). False (with `why`) on
/// the first malformed entry: the caller discards the whole value, as the
/// specification asks for OTEL_RESOURCE_ATTRIBUTES.
/// For headers, `why` never quotes the entry (a value may be a secret).
template <int = 0>
inline bool parse_key_values(std::string_view text, bool headers, std::map<std::string, std::string>& out,
                             std::string& why) {
  std::size_t pos = 0;
  for (std::size_t index = 1;; ++index) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view entry = trim(text.substr(pos, comma - pos));
    if (!entry.empty()) {
      const std::string where = "entry " + std::to_string(index);
      const std::string shown = headers ? std::string() : " " + quote(entry);
      const std::size_t eq = entry.find('=');
      std::string key, value;
      if (eq == std::string_view::npos) {
        why = where + shown + " has no '='";
        return false;
      }
      if (!percent_decode(trim(entry.substr(0, eq)), key) || !percent_decode(trim(entry.substr(eq + 1)), value)) {
        why = where + shown + " has a malformed percent-escape (expected % and two hex digits)";
        return false;
      }
      if (key.empty()) {
        why = where + shown + " has an empty key";
        return false;
      }
      if (headers && !is_http_token(key)) {
        why = where + " has a header name that is not an HTTP token";
        return false;
      }
      if (headers && breaks_header(value)) {
        why = where + " (" + key + ") has a value with a line break or NUL";
        return false;
      }
      if (headers)  // header names are case-insensitive: "Api-Key" then "api-key" is one header, the last
        for (auto it = out.begin(); it != out.end();) it = iequals(it->first, key) ? out.erase(it) : std::next(it);
      out[key] = std::move(value);
    }
    if (comma == text.size()) break;
    pos = comma + 1;
  }
  return true;
}

// ---- URLs -----------------------------------------------------------------------

struct url_parts {
  std::string scheme;    // http or https, lower case
  std::string userinfo;  // "user:password@" or empty
  std::string host;      // an IPv6 literal keeps its brackets
  std::string port;      // digits, or empty for the scheme's default
  std::string path;      // empty or starting with '/'
  std::string tail;      // "?query#fragment" or empty

  std::string str() const {
    return scheme + "://" + userinfo + host + (port.empty() ? "" : ":" + port) + path + tail;
  }
};

/// Whether the text starts with an RFC 3986 scheme and "://".
template <int = 0>
inline bool has_scheme(std::string_view s) noexcept {
  const std::size_t sep = s.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  for (std::size_t i = 0; i < sep; ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!(alpha || (i > 0 && (is_digit(c) || c == '+' || c == '-' || c == '.')))) return false;
  }
  return true;
}

/// Splits an http(s) URL. False with `why` when it is not one.
template <int = 0>
inline bool parse_http_url(std::string_view s, url_parts& parts, std::string& why) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      why = "contains a space or a control character";
      return false;
    }
  }
  if (!has_scheme(s)) {
    why = "is not a URL (expected http://host:port/path or https://...)";
    return false;
  }
  const std::size_t sep = s.find("://");
  parts = url_parts{};
  parts.scheme = lower(s.substr(0, sep));
  if (parts.scheme != "http" && parts.scheme != "https") {
    why = "has the scheme " + quote(parts.scheme) + "; only http and https are supported";
    return false;
  }
  const std::string_view rest = s.substr(sep + 3);
  const std::size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view host_port = rest.substr(0, authority_end);
  const std::string_view after = rest.substr(authority_end);
  const std::size_t at = host_port.rfind('@');
  if (at != std::string_view::npos) {
    // Decoded by the exporter (basic authentication): checked here, so that a
    // bad escape in a variable is a warning, not an exception at startup.
    std::string decoded;
    if (!percent_decode(host_port.substr(0, at), decoded)) {
      why = "has a malformed percent-escape in its user information";
      return false;
    }
    parts.userinfo = std::string(host_port.substr(0, at + 1));
    host_port.remove_prefix(at + 1);
  }
  bool has_port = false;
  if (!host_port.empty() && host_port.front() == '[') {
    const std::size_t close = host_port.find(']');
    if (close == std::string_view::npos) {
      why = "has an unterminated IPv6 address";
      return false;
    }
    parts.host = std::string(host_port.substr(0, close + 1));
    const std::string_view rem = host_port.substr(close + 1);
    if (!rem.empty()) {
      if (rem.front() != ':') {
        why = "has junk after its IPv6 address";
        return false;
      }
      has_port = true;
      parts.port = std::string(rem.substr(1));
    }
  } else {
    const std::size_t colon = host_port.rfind(':');
    if (colon != std::string_view::npos) {
      has_port = true;
      parts.port = std::string(host_port.substr(colon + 1));
      host_port = host_port.substr(0, colon);
    }
    if (host_port.find(':') != std::string_view::npos) {
      why = "has a malformed host (an IPv6 address needs [brackets])";
      return false;
    }
    parts.host = std::string(host_port);
  }
  if (parts.host.empty() || parts.host == "[]") {
    why = "has no host";
    return false;
  }
  if (has_port) {
    std::uint64_t port = 0;
    if (parts.port.size() > 5 || parse_uint(parts.port, 65535, port) != integer_status::ok || port == 0 ||
        parts.port.find_first_not_of("0123456789") != std::string::npos) {
      why = "has the port " + quote(parts.port) + "; a port is a number from 1 to 65535";
      return false;
    }
  }
  const std::size_t query = std::min(after.find_first_of("?#"), after.size());
  parts.path = std::string(after.substr(0, query));
  parts.tail = std::string(after.substr(query));
  return true;
}

// ---- names ----------------------------------------------------------------------

inline constexpr std::string_view exporter_names[] = {"otlp", "jaeger", "zipkin", "console", "file", "memory", "none"};
inline constexpr std::string_view propagator_names[] = {"tracecontext", "baggage", "b3", "b3multi", "jaeger", "none"};
inline constexpr std::string_view sampler_names[] = {"always_on",
                                                     "always_off",
                                                     "traceidratio",
                                                     "parentbased_always_on",
                                                     "parentbased_always_off",
                                                     "parentbased_traceidratio"};
inline constexpr std::size_t exporter_count = sizeof exporter_names / sizeof exporter_names[0];
inline constexpr std::size_t propagator_count = sizeof propagator_names / sizeof propagator_names[0];
inline constexpr std::size_t sampler_count = sizeof sampler_names / sizeof sampler_names[0];

struct name_list {
  std::vector<std::string> names;    // known, lower case, first occurrence order, without "none"
  std::vector<std::string> unknown;  // as written (trimmed)
  bool none = false;
};

/// A comma list of names: trimmed, case-insensitive, deduplicated, blanks skipped.
template <int = 0>
inline name_list parse_names(std::string_view text, const std::string_view* allowed, std::size_t n) {
  name_list out;
  std::size_t pos = 0;
  for (;;) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view raw = trim(text.substr(pos, comma - pos));
    if (!raw.empty()) {
      const std::string name = lower(raw);
      bool known = false;
      for (std::size_t i = 0; i < n; ++i) known = known || allowed[i] == name;
      if (!known) {
        out.unknown.emplace_back(raw);
      } else if (name == "none") {
        out.none = true;
      } else {
        bool seen = false;
        for (const auto& s : out.names) seen = seen || s == name;
        if (!seen) out.names.push_back(name);
      }
    }
    if (comma == text.size()) break;
    pos = comma + 1;
  }
  return out;
}

template <int = 0>
inline std::optional<sampler_kind> sampler_kind_from(std::string_view text) {
  const std::string name = lower(trim(text));
  if (name == "always_on") return sampler_kind::always_on;
  if (name == "always_off") return sampler_kind::always_off;
  if (name == "traceidratio") return sampler_kind::trace_id_ratio;
  if (name == "parentbased_always_on") return sampler_kind::parent_based_always_on;
  if (name == "parentbased_always_off") return sampler_kind::parent_based_always_off;
  if (name == "parentbased_traceidratio") return sampler_kind::parent_based_trace_id_ratio;
  return std::nullopt;
}

template <int = 0>
inline bool takes_ratio(sampler_kind k) noexcept {
  return k == sampler_kind::trace_id_ratio || k == sampler_kind::parent_based_trace_id_ratio;
}

}  // namespace config_parse

/// One resolution: collects warnings (environment) and errors (code) as it goes.
/// A class template only so that its members are compiled where a tracer is
/// created (config_resolver is basic_config_resolver<>).
template <class = void>
class basic_config_resolver {
 public:
  /// `env` null: the environment is ignored.
  basic_config_resolver(const config& cfg, const env_reader* env) : cfg_(cfg), env_(env) {}

  resolved_config run() {
    resolve_enabled();
    resolve_resource();
    resolve_sampler();
    resolve_exporters();
    resolve_otlp();
    resolve_jaeger_and_zipkin();
    resolve_propagators();
    resolve_http_known_methods();
    resolve_limits();
    resolve_batch();
    if (!cfg_.file_path.empty()) out_.file_path = cfg_.file_path;
    note_overridden_variables();
    if (!errors_.empty()) throw config_error(error_message());
    return std::move(out_);
  }

 private:
  static constexpr const char* grpc_advice =
      "streambus exports OTLP over HTTP only (http/protobuf or http/json), not gRPC; point the endpoint "
      "at the collector's OTLP/HTTP port 4318 (e.g. http://localhost:4318) and use http/protobuf or leave the "
      "protocol unset";

  /// An OTEL_EXPORTER_OTLP_TRACES_* variable (traces) or its general twin.
  struct signal_var {
    const char* name;
    bool traces;
  };

  // ---- plumbing ----

  /// The variable's value; nullopt when unset or empty (the specification
  /// treats an empty value as unset) or when the environment is ignored.
  std::optional<std::string> env(const char* name) {
    if (env_ == nullptr || !*env_) return std::nullopt;
    std::optional<std::string> value;
    try {
      value = (*env_)(name);
    } catch (...) {
      warn(std::string("reading ") + name + " failed; treated as unset");
      return std::nullopt;
    }
    if (!value || value->empty()) return std::nullopt;
    return value;
  }

  void warn(std::string message) { out_.warnings.push_back(std::move(message)); }

  // Fields set in code win over their variables. An operator who sets one
  // of those variables should hear that it is ignored: one warning names
  // each such variable and the field that wins (not when both say the same).
  void note_overridden_variables() {
    using namespace config_parse;
    std::string list;
    // code_value: compared with the variable's value, trimmed (and in any
    // case for names); empty: always said.
    const auto check = [&](bool set_in_code, const char* field, std::initializer_list<const char*> vars,
                           std::string_view code_value = {}, bool is_name = false) {
      if (!set_in_code) return;
      const auto same = [&](std::string_view v) {
        return is_name ? lower(trim(v)) == lower(trim(code_value)) : trim(v) == trim(code_value);
      };
      for (const char* var : vars) {
        const auto v = env(var);
        if (!v || (!code_value.empty() && same(*v))) continue;
        list += (list.empty() ? "" : ", ") + std::string(var) + "=" + quote_url(*v) + " by " + field;
      }
    };
    check(!cfg_.service_name.empty(), "service_name", {"OTEL_SERVICE_NAME"}, cfg_.service_name);
    check(!cfg_.sampler.empty(), "sampler", {"OTEL_TRACES_SAMPLER"}, cfg_.sampler, true);
    check(cfg_.sampler.empty() && cfg_.sampling_rate.has_value(), "sampling_rate", {"OTEL_TRACES_SAMPLER"});
    check(cfg_.sampling_rate.has_value(), "sampling_rate", {"OTEL_TRACES_SAMPLER_ARG"});
    check(!cfg_.exporter.empty(), "exporter", {"OTEL_TRACES_EXPORTER"}, cfg_.exporter, true);
    check(!cfg_.propagators.empty(), "propagators", {"OTEL_PROPAGATORS"}, cfg_.propagators, true);
    check(!cfg_.otlp_endpoint.empty(), "otlp_endpoint",
          {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"});
    check(!cfg_.otlp_protocol.empty(), "otlp_protocol",
          {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"}, cfg_.otlp_protocol, true);
    check(cfg_.otlp_timeout.has_value(), "otlp_timeout",
          {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"});
    check(!cfg_.otlp_compression.empty(), "otlp_compression",
          {"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"}, cfg_.otlp_compression, true);
    check(!cfg_.otlp_certificate.empty(), "otlp_certificate",
          {"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE"}, cfg_.otlp_certificate);
    check(!cfg_.otlp_client_certificate.empty(), "otlp_client_certificate",
          {"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"},
          cfg_.otlp_client_certificate);
    check(!cfg_.otlp_client_key.empty(), "otlp_client_key",
          {"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_KEY"}, cfg_.otlp_client_key);
    check(!cfg_.jaeger_endpoint.empty(), "jaeger_endpoint", {"OTEL_EXPORTER_JAEGER_ENDPOINT"}, cfg_.jaeger_endpoint);
    check(!cfg_.zipkin_endpoint.empty(), "zipkin_endpoint", {"OTEL_EXPORTER_ZIPKIN_ENDPOINT"}, cfg_.zipkin_endpoint);
    check(!cfg_.http_known_methods.empty(), "http_known_methods", {"OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS"},
          cfg_.http_known_methods);
    check(cfg_.limits.has_value(), "limits",
          {"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT", "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
           "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_SPAN_EVENT_COUNT_LIMIT", "OTEL_SPAN_LINK_COUNT_LIMIT",
           "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT"});
    check(cfg_.batch.has_value(), "batch",
          {"OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT", "OTEL_BSP_MAX_QUEUE_SIZE",
           "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"});
    if (!list.empty())
      warn("set in code, so these variables are ignored (leave a field unset for its variable to apply): " + list);
  }
  void error(std::string message) { errors_.push_back(std::move(message)); }

  std::string error_message() const {
    std::string msg = "invalid streambus tracing configuration (" + std::to_string(errors_.size()) +
                      (errors_.size() == 1 ? " problem):" : " problems):");
    for (const auto& e : errors_) msg += "\n  - " + e;
    return msg;
  }

  static std::string var_value(const char* var, std::string_view value) {
    return std::string(var) + "=" + config_parse::quote(value);
  }

  /// An integer variable; nullopt (after a warning naming `fallback`) when
  /// it is unset, unparseable, too large or below `min`.
  std::optional<std::uint64_t> env_uint(const char* var, std::uint64_t min, const std::string& fallback) {
    using namespace config_parse;
    const auto v = env(var);
    if (!v) return std::nullopt;
    std::uint64_t n = 0;
    switch (parse_uint(*v, max_env_integer, n)) {
      case integer_status::invalid:
        warn(var_value(var, *v) + " is not a non-negative decimal integer; using " + fallback);
        return std::nullopt;
      case integer_status::too_large:
        warn(var_value(var, *v) + " exceeds " + std::to_string(max_env_integer) + "; using " + fallback);
        return std::nullopt;
      case integer_status::ok: break;
    }
    if (n < min) {
      warn(var_value(var, *v) + " must be at least " + std::to_string(min) + "; using " + fallback);
      return std::nullopt;
    }
    return n;
  }

  /// A boolean variable; nullopt (after a warning) unless "true" or "false".
  std::optional<bool> env_bool(const char* var, const std::string& fallback) {
    const auto v = env(var);
    if (!v) return std::nullopt;
    if (auto b = config_parse::parse_bool(*v)) return b;
    warn(var_value(var, *v) + " is neither true nor false; using " + fallback);
    return std::nullopt;
  }

  /// A URL from code: forgiving about the scheme (the seed writes
  /// "localhost:4317"), strict about the rest.
  std::optional<config_parse::url_parts> code_url(const char* field, const std::string& value) {
    using namespace config_parse;
    std::string url(trim(value));
    if (!has_scheme(url)) url = "http://" + url;
    url_parts parts;
    std::string why;
    if (!parse_http_url(url, parts, why)) {
      error(std::string(field) + " = " + quote_url(value) + " " + why);
      return std::nullopt;
    }
    return parts;
  }

  /// A URL from a variable; nullopt (after a warning) when it is not http(s).
  std::optional<config_parse::url_parts> env_url(const char* var, const std::string& fallback) {
    using namespace config_parse;
    const auto v = env(var);
    if (!v) return std::nullopt;
    std::string url(trim(*v));
    const bool add_scheme = !has_scheme(url);
    if (add_scheme) url = "http://" + url;
    url_parts parts;
    std::string why;
    if (!parse_http_url(url, parts, why)) {
      warn(std::string(var) + "=" + quote_url(*v) + " " + why + "; using " + fallback);
      return std::nullopt;
    }
    if (add_scheme)
      warn(std::string(var) + "=" + quote_url(*v) + " has no scheme; http:// assumed");
    return parts;
  }

  // ---- the fields ----

  void resolve_enabled() {
    const auto disabled = env_bool("OTEL_SDK_DISABLED", "false (tracing stays enabled)");
    out_.enabled = cfg_.enabled && !disabled.value_or(false);
    // Ours, read by the span clock itself (clock.hpp), which has no way to say
    // that it ignored a value: said here.
    if (const auto clock = env("STREAMBUS_TRACING_CLOCK"); clock && *clock != "steady")
      warn(var_value("STREAMBUS_TRACING_CLOCK", *clock) +
           " is not understood (the only value is \"steady\", exactly); spans are timed with the default clock");
  }

  void resolve_resource() {
    using namespace config_parse;
    std::map<std::string, std::string> from_env;
    if (const auto v = env("OTEL_RESOURCE_ATTRIBUTES")) {
      std::string why;
      if (!parse_key_values(*v, false, from_env, why)) {
        from_env.clear();
        warn(var_value("OTEL_RESOURCE_ATTRIBUTES", *v) + ": " + why +
             "; the whole variable is ignored, as the OpenTelemetry specification requires");
      }
    }
    if (cfg_.attributes.count(std::string()))
      error("attributes has an empty key; resource attribute keys must be non-empty");

    const auto find = [](const std::map<std::string, std::string>& m, const char* key) -> const std::string* {
      const auto it = m.find(key);
      return it != m.end() && !it->second.empty() ? &it->second : nullptr;
    };
    // Field from code > (OTEL_SERVICE_NAME) > OTEL_RESOURCE_ATTRIBUTES > attributes[key] > default.
    const auto pick = [&](const std::string& field, std::optional<std::string> variable, const char* key,
                          std::string& target) {
      if (!field.empty()) target = field;
      else if (variable) target = std::move(*variable);
      else if (const auto* e = find(from_env, key)) target = *e;
      else if (const auto* c = find(cfg_.attributes, key)) target = *c;
    };
    out_.service_name.clear();
    std::optional<std::string> service_var = env("OTEL_SERVICE_NAME");
    if (service_var && trim(*service_var).empty()) {
      warn(var_value("OTEL_SERVICE_NAME", *service_var) + " is blank; treated as unset");
      service_var.reset();
    }
    pick(cfg_.service_name, std::move(service_var), "service.name", out_.service_name);
    if (out_.service_name.empty()) out_.service_name = default_service_name();
    pick(cfg_.service_version, std::nullopt, "service.version", out_.service_version);
    pick(cfg_.environment, std::nullopt, "deployment.environment.name", out_.environment);

    out_.resource_attributes = std::move(from_env);
    for (const auto& [key, value] : cfg_.attributes)
      if (!key.empty()) out_.resource_attributes[key] = value;
    for (const char* key : {"service.name", "service.version", "deployment.environment.name"})
      out_.resource_attributes.erase(key);
  }

  // The semantic conventions' fallback: "unknown_service:" and the
  // executable's name (process.executable.name), where it can be read.
  static std::string default_service_name() {
    std::string name = "unknown_service";
#if defined(__linux__)
    char path[4096];
    const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (n > 0) {
      const std::string_view exe(path, static_cast<std::size_t>(n));
      const std::size_t slash = exe.rfind('/');
      const std::string_view base = slash == std::string_view::npos ? exe : exe.substr(slash + 1);
      if (!base.empty()) name.append(":").append(base.data(), base.size());
    }
#endif
    return name;
  }

  void resolve_sampler() {
    using namespace config_parse;
    const std::string allowed = join(sampler_names, sampler_count);
    std::optional<sampler_kind> kind;
    if (!cfg_.sampler.empty()) {
      kind = sampler_kind_from(cfg_.sampler);
      if (!kind) error("sampler = " + quote(cfg_.sampler) + " is not a sampler (allowed: " + allowed + ")");
    }
    bool rate_valid = false;
    if (cfg_.sampling_rate) {
      const double r = *cfg_.sampling_rate;
      if (is_nan_double(r) || r < 0.0 || r > 1.0)
        error("sampling_rate = " + format_number(r) +
              " is outside [0, 1] (1.0 samples every trace, 0.1 one trace in ten)");
      else
        rate_valid = true;
      if (kind && !takes_ratio(*kind))
        error("sampling_rate = " + format_number(r) + " has no effect with sampler = " + quote(cfg_.sampler) +
              "; use traceidratio or parentbased_traceidratio, or leave sampling_rate unset");
    }
    // The seed's SamplingRate alone: a parent-based ratio sampler.
    if (!kind && cfg_.sampling_rate) kind = sampler_kind::parent_based_trace_id_ratio;
    if (!kind && cfg_.sampler.empty()) {
      if (const auto v = env("OTEL_TRACES_SAMPLER")) {
        kind = sampler_kind_from(*v);
        if (!kind)
          warn(var_value("OTEL_TRACES_SAMPLER", *v) + " is not a sampler (allowed: " + allowed +
               "); using the default parentbased_always_on");
      }
    }
    if (!kind) kind = sampler_kind::parent_based_always_on;

    double ratio = 1.0;
    if (takes_ratio(*kind)) {
      if (rate_valid) {
        ratio = *cfg_.sampling_rate;
      } else if (const auto arg = env("OTEL_TRACES_SAMPLER_ARG")) {
        double r = 0.0;
        if (parse_decimal(*arg, r) && r >= 0.0 && r <= 1.0)
          ratio = r;
        else
          warn(var_value("OTEL_TRACES_SAMPLER_ARG", *arg) +
               " is not a ratio in [0, 1]; using the default 1.0 (sample every trace)");
      }
    }
    out_.sampler = sampler(*kind, ratio);
  }

  // Names made known by register_exporter() count as exporters too.
  static config_parse::name_list with_registered(config_parse::name_list l) {
    std::vector<std::string> still_unknown;
    for (auto& u : l.unknown) {
      if (find_exporter_factory(u)) {
        if (std::find(l.names.begin(), l.names.end(), u) == l.names.end()) l.names.push_back(u);
      } else {
        still_unknown.push_back(std::move(u));
      }
    }
    l.unknown = std::move(still_unknown);
    return l;
  }

  void resolve_exporters() {
    using namespace config_parse;
    const std::string allowed = join(exporter_names, exporter_count);
    if (!cfg_.exporter.empty()) {
      const name_list l = with_registered(parse_names(cfg_.exporter, exporter_names, exporter_count));
      for (const auto& u : l.unknown)
        error("exporter " + quote(u) + " is not an exporter (allowed: " + allowed + "; a comma list for several)");
      if (l.none && !l.names.empty())
        error("exporter = " + quote(cfg_.exporter) + " combines \"none\" with other exporters");
      if (!l.none && l.names.empty() && l.unknown.empty())
        error("exporter = " + quote(cfg_.exporter) + " names no exporter (use \"none\" to export nothing)");
      out_.exporters = l.names;
      return;
    }
    out_.exporters = {"otlp"};
    out_.exporters_defaulted = true;
    const auto v = env("OTEL_TRACES_EXPORTER");
    if (!v) return;
    const name_list l = with_registered(parse_names(*v, exporter_names, exporter_count));
    for (const auto& u : l.unknown)
      warn(var_value("OTEL_TRACES_EXPORTER", *v) + ": unknown exporter " + quote(u) + " ignored (allowed: " +
           allowed + ")");
    if (l.none && !l.names.empty())
      warn(var_value("OTEL_TRACES_EXPORTER", *v) + " combines \"none\" with other exporters; \"none\" ignored");
    if (l.none || !l.names.empty()) {
      out_.exporters = l.names;
      out_.exporters_defaulted = false;
      out_.exporters_from_environment = true;
    } else
      warn(var_value("OTEL_TRACES_EXPORTER", *v) + " names no known exporter; using the default otlp");
  }

  void resolve_otlp() {
    using namespace config_parse;
    otlp_options& o = out_.otlp;
    // In use: named (by default too) and compiled in. A program without the
    // HTTP transport discards spans with a warning whatever the protocol.
    bool otlp_used = false;
    for (const auto& e : out_.exporters) otlp_used = otlp_used || e == "otlp";
    otlp_used = otlp_used && find_exporter_factory("otlp") != nullptr;

    // Protocol. grpc from a variable is an error, not a warning: the default
    // would send HTTP to a gRPC port and lose every span without a word.
    // Deviation from the specification's "warn and use the default", on purpose.
    if (!cfg_.otlp_protocol.empty()) {
      const std::string p = lower(trim(cfg_.otlp_protocol));
      if (p == "http/protobuf" || p == "http/json")
        o.protocol = p;
      else if (p == "grpc")
        error(std::string("otlp_protocol = \"grpc\": ") + grpc_advice);
      else
        error("otlp_protocol = " + quote(cfg_.otlp_protocol) +
              " is not a protocol (allowed: http/protobuf, http/json)");
    } else {
      for (const signal_var& sv : {signal_var{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", true},
                                   signal_var{"OTEL_EXPORTER_OTLP_PROTOCOL", false}}) {
        const char* var = sv.name;
        const auto v = env(var);
        if (!v) continue;
        const std::string p = lower(trim(*v));
        if (p == "http/protobuf" || p == "http/json") {
          o.protocol = p;
          break;
        }
        if (p == "grpc") {
          const std::string msg = var_value(var, *v) + ": " + grpc_advice;
          if (out_.enabled && otlp_used)
            error(msg);
          else
            warn(msg + " (only a warning: the otlp exporter is not in use, or not compiled in)");
          break;
        }
        warn(var_value(var, *v) + " is not a protocol (allowed: http/protobuf, http/json); using " +
             (sv.traces ? "OTEL_EXPORTER_OTLP_PROTOCOL if set, else " : "") + "the default http/protobuf");
      }
    }

    // Endpoint.
    if (!cfg_.otlp_endpoint.empty()) {
      if (auto parts = code_url("otlp_endpoint", cfg_.otlp_endpoint)) {
        const bool grpc_port = parts->port == "4317";
        if (grpc_port) parts->port = "4318";
        if (parts->path.empty() || parts->path == "/") parts->path = "/v1/traces";
        o.endpoint = parts->str();
        if (grpc_port)
          warn("otlp_endpoint = " + quote_url(cfg_.otlp_endpoint) +
               ": port 4317 is OTLP/gRPC and streambus speaks OTLP/HTTP, so spans go to port 4318 instead: " +
               quote_url(o.endpoint));
      }
    } else {
      std::optional<url_parts> parts =
          env_url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT if set, else the default");
      const char* var = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
      if (!parts) {
        var = "OTEL_EXPORTER_OTLP_ENDPOINT";
        parts = env_url(var, "the default http://localhost:4318/v1/traces");
        // The base URL of every signal: append the traces path.
        if (parts) {
          const bool already_traces = parts->path.size() >= 10 &&
                                      parts->path.compare(parts->path.size() - 10, 10, "/v1/traces") == 0;
          parts->path += parts->path.empty() || parts->path.back() != '/' ? "/v1/traces" : "v1/traces";
          // As the specification says, but rarely what was meant.
          if (already_traces)
            warn(std::string(var) + " is a base URL and gets /v1/traces appended, so spans go to " +
                 quote_url(parts->str()) + "; for the full URL set OTEL_EXPORTER_OTLP_TRACES_ENDPOINT instead");
        }
      }
      if (parts) {
        o.endpoint = parts->str();
        // Used as is (the specification); without a path a collector answers 404.
        if (var == std::string_view("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") && (parts->path.empty() || parts->path == "/"))
          warn(std::string(var) + " = " + quote_url(o.endpoint) + " has no path: spans are POSTed to '/', where an "
               "OpenTelemetry Collector answers 404; it takes them at /v1/traces (OTEL_EXPORTER_OTLP_ENDPOINT gets "
               "that path appended, this variable is used as is)");
        if (parts->port == "4317")
          warn(std::string(var) + " uses port 4317, the OTLP/gRPC port; streambus speaks OTLP/HTTP and sends " +
               "there as configured, but an OpenTelemetry Collector listens for OTLP/HTTP on 4318");
      }
    }

    // Headers: the traces variable replaces the general one (the
    // specification's signal-specific override); code wins per header name.
    for (const signal_var& sv : {signal_var{"OTEL_EXPORTER_OTLP_TRACES_HEADERS", true},
                                 signal_var{"OTEL_EXPORTER_OTLP_HEADERS", false}}) {
      const char* var = sv.name;
      const auto v = env(var);
      if (!v) continue;
      std::map<std::string, std::string> parsed;
      std::string why;
      if (parse_key_values(*v, true, parsed, why)) {
        o.headers = std::move(parsed);
        break;
      }
      warn(std::string(var) + ": " + why + " (value not shown: it may hold credentials); the whole variable is " +
           "ignored" + (sv.traces ? ", using OTEL_EXPORTER_OTLP_HEADERS if set" : ""));
    }
    for (const auto& [name, value] : cfg_.otlp_headers) {
      if (!is_http_token(name)) {
        error("otlp_headers: header name " + quote(name) + " is not an HTTP token (letters, digits, !#$%&'*+-.^_`|~)");
        continue;
      }
      if (breaks_header(value)) {
        error("otlp_headers: the value of " + quote(name) + " contains a line break or NUL");
        continue;
      }
      // HTTP header names are case-insensitive: the code's spelling replaces the variable's.
      for (auto it = o.headers.begin(); it != o.headers.end();)
        it = iequals(it->first, name) ? o.headers.erase(it) : std::next(it);
      o.headers[name] = value;
    }

    // Timeout.
    if (cfg_.otlp_timeout) {
      if (cfg_.otlp_timeout->count() <= 0)
        error("otlp_timeout = " + std::to_string(cfg_.otlp_timeout->count()) + " ms must be positive");
      else
        o.timeout = *cfg_.otlp_timeout;
    } else if (const auto t = env_uint("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", 1,
                                       "OTEL_EXPORTER_OTLP_TIMEOUT if set, else the default 10000 ms")) {
      o.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(*t));
    } else if (const auto g = env_uint("OTEL_EXPORTER_OTLP_TIMEOUT", 1, "the default 10000 ms")) {
      o.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(*g));
    }

    // Compression.
    if (!cfg_.otlp_compression.empty()) {
      const std::string c = lower(trim(cfg_.otlp_compression));
      if (c == "none" || c == "gzip")
        o.compression = c;
      else
        error("otlp_compression = " + quote(cfg_.otlp_compression) + " is not supported (allowed: none, gzip)");
    } else {
      for (const signal_var& sv : {signal_var{"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", true},
                                   signal_var{"OTEL_EXPORTER_OTLP_COMPRESSION", false}}) {
        const char* var = sv.name;
        const auto v = env(var);
        if (!v) continue;
        const std::string c = lower(trim(*v));
        if (c == "none" || c == "gzip") {
          o.compression = c;
          break;
        }
        warn(var_value(var, *v) + " is not supported (allowed: none, gzip); using " +
             (sv.traces ? "OTEL_EXPORTER_OTLP_COMPRESSION if set, else " : "") + "the default none");
      }
    }

    // TLS: each file from code, else the traces variable, else the general one.
    const auto tls_file = [this](const std::string& code, const char* traces_var, const char* general_var) {
      if (!code.empty()) return code;
      if (auto v = env(traces_var)) return std::move(*v);
      if (auto v = env(general_var)) return std::move(*v);
      return std::string();
    };
    o.certificate = tls_file(cfg_.otlp_certificate, "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
                             "OTEL_EXPORTER_OTLP_CERTIFICATE");
    o.client_certificate = tls_file(cfg_.otlp_client_certificate, "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
                                    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE");
    o.client_key = tls_file(cfg_.otlp_client_key, "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
                            "OTEL_EXPORTER_OTLP_CLIENT_KEY");
    // Skipping verification is for code only. The specification's
    // OTEL_EXPORTER_OTLP_[TRACES_]INSECURE applies to OTLP/gRPC endpoints
    // without a scheme; over OTLP/HTTP the scheme decides. Deployments often
    // set it for their gRPC exporters, so reading it here would turn off
    // certificate checks for an https endpoint without anyone asking.
    if (cfg_.otlp_insecure) o.insecure = *cfg_.otlp_insecure;
    for (const char* var : {"OTEL_EXPORTER_OTLP_TRACES_INSECURE", "OTEL_EXPORTER_OTLP_INSECURE"}) {
      const auto v = env(var);
      if (v && lower(trim(*v)) != "false")
        warn(var_value(var, *v) + " is ignored: it applies to OTLP/gRPC only, and over OTLP/HTTP the endpoint's "
             "scheme decides (https verifies the collector's certificate); to skip verification, set "
             "config::otlp_insecure in code");
    }
    // Said now, not as an anonymous TLS error (SSLLoadingCerts) at every export;
    // not when verification is off, which never reads the file.
    const auto readable = [](const std::string& path) {
      std::FILE* f = std::fopen(path.c_str(), "rb");
      if (f != nullptr) std::fclose(f);
      return f != nullptr;
    };
    if (!o.certificate.empty() && !o.insecure && !readable(o.certificate)) {
      warn("the OTLP CA certificate file " + quote(o.certificate) +
           " cannot be read: every TLS export will fail to verify the collector");
    }
    // A client certificate (mutual TLS) goes with its key: one alone would be
    // dropped by the TLS library without a word, so it is said and dropped here.
    if (o.client_certificate.empty() != o.client_key.empty()) {
      warn(o.client_key.empty()
               ? "the OTLP client certificate " + quote(o.client_certificate) +
                     " has no client key (otlp_client_key, OTEL_EXPORTER_OTLP_CLIENT_KEY): no client certificate is sent"
               : "the OTLP client key " + quote(o.client_key) +
                     " has no client certificate (otlp_client_certificate, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE): "
                     "no client certificate is sent");
      o.client_certificate.clear();
      o.client_key.clear();
    }
    if (!o.client_certificate.empty() && !readable(o.client_certificate))
      warn("the OTLP client certificate file " + quote(o.client_certificate) + " cannot be read: every TLS export will fail");
    if (!o.client_key.empty() && !readable(o.client_key))
      warn("the OTLP client key file " + quote(o.client_key) + " cannot be read: every TLS export will fail");
  }

  void resolve_jaeger_and_zipkin() {
    using namespace config_parse;
    // Used as given (the Zipkin variable is a full URL by the specification);
    // one without a path is most likely a mistake, so it is said.
    const auto check_path = [this](const url_parts& p, const char* setting, const char* usual) {
      if (p.path.empty() || p.path == "/")
        warn(std::string(setting) + " = " + quote_url(p.str()) + " has no path: spans are POSTed to '/'; the "
             "collector usually takes them at " + usual);
    };
    if (!cfg_.jaeger_endpoint.empty()) {
      if (const auto p = code_url("jaeger_endpoint", cfg_.jaeger_endpoint)) {
        out_.jaeger_endpoint = p->str();
        check_path(*p, "jaeger_endpoint", "/api/traces");
      }
    } else if (const auto e = env_url("OTEL_EXPORTER_JAEGER_ENDPOINT", "the default " + out_.jaeger_endpoint)) {
      out_.jaeger_endpoint = e->str();
      check_path(*e, "OTEL_EXPORTER_JAEGER_ENDPOINT", "/api/traces");
    }
    if (!cfg_.zipkin_endpoint.empty()) {
      if (const auto p = code_url("zipkin_endpoint", cfg_.zipkin_endpoint)) {
        out_.zipkin_endpoint = p->str();
        check_path(*p, "zipkin_endpoint", "/api/v2/spans");
      }
    } else if (const auto e = env_url("OTEL_EXPORTER_ZIPKIN_ENDPOINT", "the default " + out_.zipkin_endpoint)) {
      out_.zipkin_endpoint = e->str();
      check_path(*e, "OTEL_EXPORTER_ZIPKIN_ENDPOINT", "/api/v2/spans");
    }
  }

  void resolve_propagators() {
    using namespace config_parse;
    const std::string allowed = join(propagator_names, propagator_count);
    if (!cfg_.propagators.empty()) {
      const name_list l = parse_names(cfg_.propagators, propagator_names, propagator_count);
      for (const auto& u : l.unknown) error("propagator " + quote(u) + " is not a propagator (allowed: " + allowed + ")");
      if (l.none && !l.names.empty())
        error("propagators = " + quote(cfg_.propagators) + " combines \"none\" with other propagators");
      if (!l.none && l.names.empty() && l.unknown.empty())
        error("propagators = " + quote(cfg_.propagators) + " names no propagator (use \"none\" for none)");
      out_.propagators = l.names;
      return;
    }
    const auto v = env("OTEL_PROPAGATORS");
    if (!v) return;
    const name_list l = parse_names(*v, propagator_names, propagator_count);
    for (const auto& u : l.unknown)
      warn(var_value("OTEL_PROPAGATORS", *v) + ": unknown propagator " + quote(u) + " ignored (allowed: " +
           allowed + ")");
    if (l.none && !l.names.empty())
      warn(var_value("OTEL_PROPAGATORS", *v) + " combines \"none\" with other propagators; \"none\" ignored");
    if (l.none || !l.names.empty())
      out_.propagators = l.names;
    else
      warn(var_value("OTEL_PROPAGATORS", *v) + " names no known propagator; using the default tracecontext,baggage");
  }

  // A comma list of HTTP method tokens (RFC 9110: letters, digits and
  // !#$%&'*+-.^_`|~), blanks around them ignored. Calls bad(method) for each
  // one that is not a token; empty when none is left.
  template <class Bad>
  static std::vector<std::string> parse_methods(std::string_view list, Bad&& bad) {
    std::vector<std::string> out;
    while (true) {
      const std::size_t comma = list.find(',');
      const std::string_view item = config_parse::trim(list.substr(0, comma));
      bool token = !item.empty();
      for (char c : item)
        token = token && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                          std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos);
      if (token)
        out.emplace_back(item);
      else if (!item.empty())
        bad(item);
      if (comma == std::string_view::npos) return out;
      list.remove_prefix(comma + 1);
    }
  }

  void resolve_http_known_methods() {
    using namespace config_parse;
    if (!cfg_.http_known_methods.empty()) {
      std::vector<std::string> methods = parse_methods(
          cfg_.http_known_methods, [&](std::string_view m) { error("http_known_methods: " + quote(m) + " is not an HTTP method token"); });
      if (methods.empty())
        error("http_known_methods = " + quote(cfg_.http_known_methods) + " names no HTTP method");
      out_.http_known_methods = std::move(methods);
      return;
    }
    const auto v = env("OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS");
    if (!v) return;
    std::vector<std::string> methods = parse_methods(*v, [&](std::string_view m) {
      warn(var_value("OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS", *v) + ": " + quote(m) +
           " is not an HTTP method token; ignored");
    });
    if (methods.empty())
      warn(var_value("OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS", *v) +
           " names no HTTP method; using the default list");
    else
      out_.http_known_methods = std::move(methods);
  }

  void resolve_limits() {
    if (cfg_.limits) {
      out_.limits = *cfg_.limits;
      return;
    }
    span_limits& l = out_.limits;
    // The span-specific variable first, then the general one, then the default.
    const auto limit = [&](const char* var, const char* general, std::size_t& target) {
      const std::string def =
          target == span_limits::unlimited ? "the default (no limit)" : "the default " + std::to_string(target);
      const std::string fallback = general ? std::string(general) + " if set, else " + def : def;
      if (const auto v = env_uint(var, 0, fallback)) {
        target = static_cast<std::size_t>(*v);
      } else if (general) {
        if (const auto g = env_uint(general, 0, def)) target = static_cast<std::size_t>(*g);
      }
    };
    limit("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT", l.attribute_count);
    limit("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", l.attribute_value_length);
    limit("OTEL_SPAN_EVENT_COUNT_LIMIT", nullptr, l.event_count);
    limit("OTEL_SPAN_LINK_COUNT_LIMIT", nullptr, l.link_count);
    limit("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", nullptr, l.attributes_per_event);
    limit("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", nullptr, l.attributes_per_link);
  }

  void resolve_batch() {
    batch_options& b = out_.batch;
    if (cfg_.batch) {
      const batch_options& c = *cfg_.batch;
      const std::size_t before = errors_.size();
      if (c.schedule_delay.count() < 0)
        error("batch.schedule_delay = " + std::to_string(c.schedule_delay.count()) + " ms must not be negative");
      if (c.export_timeout.count() <= 0)
        error("batch.export_timeout = " + std::to_string(c.export_timeout.count()) + " ms must be positive");
      if (c.max_queue_size == 0) error("batch.max_queue_size = 0: the queue must hold at least one span");
      if (c.max_queue_size > batch_options::max_queue_size_limit)
        error("batch.max_queue_size = " + std::to_string(c.max_queue_size) + " exceeds the limit of " +
              std::to_string(batch_options::max_queue_size_limit) + " spans per thread");
      if (c.max_export_batch_size == 0) error("batch.max_export_batch_size = 0: a batch must hold at least one span");
      if (c.max_export_batch_size > c.max_queue_size)
        error("batch.max_export_batch_size = " + std::to_string(c.max_export_batch_size) +
              " exceeds batch.max_queue_size = " + std::to_string(c.max_queue_size) + "; it must be <= the queue size");
      if (errors_.size() == before) b = c;
      return;
    }
    if (const auto v = env_uint("OTEL_BSP_SCHEDULE_DELAY", 0, "the default 5000 ms"))
      b.schedule_delay = std::chrono::milliseconds(static_cast<std::int64_t>(*v));
    if (const auto v = env_uint("OTEL_BSP_EXPORT_TIMEOUT", 1, "the default 30000 ms"))
      b.export_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(*v));
    if (const auto v = env_uint("OTEL_BSP_MAX_QUEUE_SIZE", 1, "the default 2048")) {
      if (*v > batch_options::max_queue_size_limit)
        warn("OTEL_BSP_MAX_QUEUE_SIZE=" + std::to_string(*v) + " exceeds the limit of " +
             std::to_string(batch_options::max_queue_size_limit) + " spans per thread; using the default 2048");
      else
        b.max_queue_size = static_cast<std::size_t>(*v);
    }
    const auto batch = env_uint("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 1, "the default 512");
    if (batch) b.max_export_batch_size = static_cast<std::size_t>(*batch);
    if (b.max_export_batch_size > b.max_queue_size) {
      // Only the user's own number deserves a warning; a default batch size
      // above a small queue is simply clamped.
      if (batch)
        warn("OTEL_BSP_MAX_EXPORT_BATCH_SIZE=" + std::to_string(b.max_export_batch_size) +
             " exceeds the queue size " + std::to_string(b.max_queue_size) + "; clamped to " +
             std::to_string(b.max_queue_size));
      b.max_export_batch_size = b.max_queue_size;
    }
  }

  const config& cfg_;
  const env_reader* env_;
  resolved_config out_;
  std::vector<std::string> errors_;
};
using config_resolver = basic_config_resolver<>;

}  // namespace detail

/// Reads the process environment (std::getenv). Call resolution before
/// starting threads that call setenv: getenv is not synchronised with it.
template <int = 0>
env_reader process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const std::string key(name);  // getenv needs a terminated string
    const char* value = std::getenv(key.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

/// Applies the precedence of config.hpp: `cfg`, then `env` (ignored when
/// cfg.read_environment is false), then the OpenTelemetry defaults.
/// Throws config_error naming every invalid value set in code (and an OTLP
/// protocol of grpc from the environment); problems in the environment
/// become resolved_config::warnings instead.
template <int = 0>
resolved_config resolve_config(const config& cfg, const env_reader& env) {
  detail::config_resolver resolver(cfg, cfg.read_environment ? &env : nullptr);
  return resolver.run();
}

/// resolve_config() over the process environment.
template <int = 0>
resolved_config resolve_config(const config& cfg) {
  if (!cfg.read_environment) return resolve_config(cfg, env_reader{});
  return resolve_config(cfg, process_environment());
}

STREAMBUS_TRACING_END_NAMESPACE
