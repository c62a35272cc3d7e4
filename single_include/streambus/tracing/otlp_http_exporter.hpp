// streambus tracing: copied by tools/amalgamate.py from include/streambus/tracing/otlp_http_exporter.hpp
// -- do not edit; edit the original and rerun the script.
// OTLP/HTTP exporter: spans to any OpenTelemetry collector over HTTP(S), as
// binary protobuf (application/x-protobuf) or OTLP/JSON (application/json).
//
// Opt-in, because it needs cpp-httplib (and through it OpenSSL and zlib):
//
//   #include <streambus/tracing/otlp_http_exporter.hpp>  // in one source file
//   // CMake: target_link_libraries(app PRIVATE streambus::tracing_http)
//
// Including this header in any translation unit registers the exporter names
// "otlp" (config.exporter / OTEL_TRACES_EXPORTER; also the OpenTelemetry
// default), "jaeger" (Thrift to a Jaeger collector's /api/traces) and
// "zipkin" (Zipkin v2 JSON), all on this one transport. It includes
// <streambus/tracing.hpp> itself.
//
// Behaviour, following the OTLP specification's OTLP/HTTP section:
//   - One keep-alive connection to the endpoint's scheme://host:port; each
//     request is a POST to the endpoint's path (usually /v1/traces).
//   - Retried, with exponential backoff and jitter, honouring Retry-After
//     (delay-seconds or HTTP-date): HTTP 429, 502, 503, 504 and connection
//     failures (refused, reset, timed out). Every other status is final.
//     One export_spans() call, retries and waits included, takes at most
//     otlp.timeout (OTEL_EXPORTER_OTLP_TIMEOUT, the specification's "for
//     each batch export") or the pipeline's export timeout
//     (OTEL_BSP_EXPORT_TIMEOUT), whichever is shorter; no retry starts past
//     it. cpp-httplib bounds each network step only, so a watchdog thread,
//     started with the first request, cuts off a request that a trickled
//     answer keeps alive past that deadline.
//   - A 2xx carrying partial_success is not retried; its rejected span count
//     and message go to the diagnostics. An unreadable 2xx body counts as
//     delivered (the collector said 2xx) and is reported.
//   - Request bodies stay under max_request_bytes (20 MiB, the Collector's
//     default limit), measured before compression: a larger batch is halved
//     until its parts fit; a single span larger than that is dropped and
//     reported. An empty batch sends nothing.
//   - TLS verifies the server's certificate and host name unless
//     otlp.insecure is set; otlp.certificate names a PEM CA file;
//     otlp.client_certificate and otlp.client_key, a client certificate
//     for collectors that require mutual TLS (PEM; the key unencrypted; only
//     the certificate file's first certificate is read: intermediates go in
//     otlp.certificate, from which OpenSSL completes the chain it sends).
//   - shutdown() aborts a request in flight and makes later exports fail at
//     once. cpp-httplib cannot interrupt a TCP connect or TLS handshake that
//     is under way; those end by themselves within the connection timeout.
//   - Diagnostics name the endpoint without credentials or query string and
//     never print header values (they usually carry API keys).
//
// With STREAMBUS_TRACING_DISABLED this header declares nothing and includes
// no cpp-httplib: nothing is exported, so there is nothing to transport.
#pragma once

#include "../tracing.hpp"  // also brings exporter_registry.hpp (through tracer.hpp)

#if !defined(STREAMBUS_TRACING_DISABLED)

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

STREAMBUS_TRACING_BEGIN_NAMESPACE

/// What goes over the wire. The OTLP formats follow otlp.protocol; the
/// others are the same transport (retries, timeouts, TLS) for other backends.
enum class http_wire_format : std::uint8_t {
  otlp_protobuf,  // application/x-protobuf, POST /v1/traces
  otlp_json,      // application/json (OTLP/JSON)
  jaeger_thrift,  // a Jaeger collector's /api/traces: Thrift binary Batch
  zipkin_json,    // Zipkin's /api/v2/spans: Zipkin v2 JSON
};

/// Everything the OTLP/HTTP exporter needs; the tracer fills it from its
/// resolved configuration (see otlp_http_exporter(const exporter_environment&)).
struct otlp_http_options {
  /// Endpoint (full URL), protocol, headers, per-request timeout, compression, TLS.
  otlp_options otlp;
  /// Bound of one export_spans() call, retries and backoff included (otlp.timeout too: the shorter wins).
  std::chrono::milliseconds export_timeout{30000};
  /// First retry waits about this long (0.5x..1.5x, random); each later one twice as long.
  std::chrono::milliseconds initial_backoff{1000};
  /// Ceiling of one computed backoff wait (a server's Retry-After may ask for more).
  std::chrono::milliseconds max_backoff{30000};
  /// Largest request body, before compression (the Collector's default limit).
  std::size_t max_request_bytes = std::size_t{20} * 1024 * 1024;
  /// Receives warnings and errors. Empty: a rate-limited line on stderr.
  std::function<void(std::string_view)> diagnostic;
  /// Incremented once per retried request, if set; must outlive the exporter.
  std::atomic<std::uint64_t>* retries = nullptr;
  /// Set for the non-OTLP formats; unset: from otlp.protocol.
  std::optional<http_wire_format> format;
  /// The exporter's name in diagnostics and span_exporter::name().
  std::string name = "otlp";
};

namespace detail {
namespace otlp_http {

// ---- small text helpers -------------------------------------------------------

inline bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
  return config_parse::iequals(a, b);
}

inline bool icontains(std::string_view haystack, std::string_view needle) noexcept {
  if (needle.size() > haystack.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i)
    if (ascii_iequals(haystack.substr(i, needle.size()), needle)) return true;
  return false;
}

/// Whether a PEM file holds an encrypted private key (PKCS#8 "ENCRYPTED
/// PRIVATE KEY", or a traditional key with "Proc-Type: 4,ENCRYPTED"). Reads
/// the first 64 KiB; false when the file cannot be read.
inline bool pem_key_is_encrypted(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  std::string text(64 * 1024, '\0');
  text.resize(std::fread(&text[0], 1, text.size(), f));
  std::fclose(f);
  return text.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string::npos ||
         text.find("Proc-Type: 4,ENCRYPTED") != std::string::npos;
}

/// At most `max` bytes of a response body, printable ASCII kept, the rest
/// as \\xNN: a log line must stay one line and readable whatever arrived.
inline std::string excerpt(std::string_view body, std::size_t max = 200) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  const std::size_t n = std::min(body.size(), max);
  out.reserve(n + 8);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(body[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  if (body.size() > max) out += "...";
  return out;
}

inline std::string ms_text(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

// ---- Retry-After ----------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil algorithm), so no timegm()/_mkgmtime() portability issue.
inline std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// The (proleptic Gregorian) year of a time in seconds since the epoch.
inline std::int64_t year_of_unix_seconds(std::int64_t seconds) noexcept {
  std::int64_t days = seconds / 86400;
  if (seconds % 86400 < 0) --days;  // floor, without overflow at the minimum
  std::int64_t y = 1970 + days * 400 / 146097;  // 146097 days per 400 years: within a year of it
  while (days_from_civil(y, 1, 1) > days) --y;  // the estimate may be a year off either way
  while (days_from_civil(y + 1, 1, 1) <= days) ++y;
  return y;
}

/// An RFC 9110 HTTP-date as seconds since the epoch: IMF-fixdate
/// ("Sun, 06 Nov 1994 08:49:37 GMT") and the two obsolete forms recipients
/// must accept, RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime
/// ("Sun Nov  6 08:49:37 1994"). Empty when it is none of them. RFC 850's
/// two-digit year is placed relative to `now_unix_seconds` (below).
inline std::optional<std::int64_t> parse_http_date(std::string_view text, std::int64_t now_unix_seconds) noexcept {
  static constexpr std::string_view months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                "jul", "aug", "sep", "oct", "nov", "dec"};
  // Tokens split at blanks, commas and (for RFC 850) dashes.
  std::string_view tokens[8];
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',' || text[i] == '-' || text[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < text.size() && !(text[i] == ' ' || text[i] == ',' || text[i] == '-' || text[i] == '\t')) ++i;
    if (i > start) {
      if (count == 8) return std::nullopt;
      tokens[count++] = text.substr(start, i - start);
    }
  }
  const auto number = [](std::string_view t, std::size_t min_digits, std::size_t max_digits, int& out) {
    if (t.size() < min_digits || t.size() > max_digits) return false;
    int v = 0;
    for (const char c : t) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    out = v;
    return true;
  };
  const auto month = [&](std::string_view t, int& out) {
    if (t.size() != 3) return false;
    for (int m = 0; m < 12; ++m)
      if (ascii_iequals(t, months[m])) {
        out = m + 1;
        return true;
      }
    return false;
  };
  const auto clock = [&](std::string_view t, int& h, int& mi, int& s) {
    return t.size() == 8 && t[2] == ':' && t[5] == ':' && number(t.substr(0, 2), 2, 2, h) &&
           number(t.substr(3, 2), 2, 2, mi) && number(t.substr(6, 2), 2, 2, s);
  };
  int day = 0, mon = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (count == 6 && ascii_iequals(tokens[5], "GMT")) {
    // IMF-fixdate or RFC 850: weekday day month year time GMT
    if (!number(tokens[1], 1, 2, day) || !month(tokens[2], mon) || !clock(tokens[4], hour, minute, second))
      return std::nullopt;
    if (number(tokens[3], 4, 4, year)) {
    } else if (number(tokens[3], 2, 2, year)) {
      // RFC 9110: the year in this century, unless that is more than 50
      // years ahead: then the latest past year with these two digits.
      const std::int64_t now_year = year_of_unix_seconds(now_unix_seconds);
      std::int64_t full = now_year - now_year % 100 + year;
      if (full - now_year > 50) full -= 100;
      year = static_cast<int>(full);
    } else {
      return std::nullopt;
    }
  } else if (count == 5) {
    // asctime: weekday month day time year
    if (!month(tokens[1], mon) || !number(tokens[2], 1, 2, day) || !clock(tokens[3], hour, minute, second) ||
        !number(tokens[4], 4, 4, year))
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  return days_from_civil(year, static_cast<unsigned>(mon), static_cast<unsigned>(day)) * 86400 + hour * 3600 +
         minute * 60 + second;
}

/// How long a Retry-After value asks to wait, from `now_unix_seconds`: a
/// delay in seconds or an HTTP-date (a date in the past means now). Empty
/// when the value is neither.
inline std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                                  std::int64_t now_unix_seconds) noexcept {
  value = config_parse::trim(value);
  if (value.empty()) return std::nullopt;
  // Far beyond any export timeout; the cap only keeps the arithmetic finite.
  constexpr std::uint64_t cap_seconds = 10'000'000;
  std::uint64_t seconds = 0;
  switch (config_parse::parse_uint(value, cap_seconds, seconds)) {
    case config_parse::integer_status::ok:
      return std::chrono::milliseconds(static_cast<std::int64_t>(seconds) * 1000);
    case config_parse::integer_status::too_large:
      return std::chrono::milliseconds(static_cast<std::int64_t>(cap_seconds) * 1000);
    case config_parse::integer_status::invalid:
      break;
  }
  const auto date = parse_http_date(value, now_unix_seconds);
  if (!date) return std::nullopt;
  const std::int64_t wait = std::clamp<std::int64_t>(*date - now_unix_seconds, 0, cap_seconds);
  return std::chrono::milliseconds(wait * 1000);
}

// ---- response bodies ----------------------------------------------------------------

/// Reads protobuf wire format without trusting it: every length is checked.
class pb_cursor {
 public:
  explicit pb_cursor(std::string_view bytes) noexcept
      : p_(reinterpret_cast<const unsigned char*>(bytes.data())), end_(p_ + bytes.size()) {}

  bool done() const noexcept { return p_ == end_; }

  bool varint(std::uint64_t& v) noexcept {
    v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const unsigned char b = *p_++;
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;  // more than ten bytes
  }

  bool key(std::uint64_t& field, unsigned& wire) noexcept {
    std::uint64_t k = 0;
    if (!varint(k)) return false;
    field = k >> 3;
    wire = static_cast<unsigned>(k & 7);
    return field != 0 && field <= 0x1FFFFFFF;
  }

  bool bytes(std::string_view& out) noexcept {
    std::uint64_t n = 0;
    if (!varint(n) || n > static_cast<std::uint64_t>(end_ - p_)) return false;
    out = std::string_view(reinterpret_cast<const char*>(p_), static_cast<std::size_t>(n));
    p_ += n;
    return true;
  }

  bool skip(unsigned wire) noexcept {
    std::uint64_t v = 0;
    std::string_view s;
    switch (wire) {
      case 0: return varint(v);
      case 1: return advance(8);
      case 2: return bytes(s);
      case 5: return advance(4);
      default: return false;  // groups (3, 4) are not used by OTLP; 6, 7 do not exist
    }
  }

 private:
  bool advance(std::size_t n) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }
  const unsigned char* p_;
  const unsigned char* end_;
};

struct partial_success {
  std::int64_t rejected_spans = 0;
  std::string error_message;
  bool any() const noexcept { return rejected_spans != 0 || !error_message.empty(); }
};

/// ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
/// ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }
/// False when the bytes are not a well-formed message.
inline bool parse_protobuf_response(std::string_view body, partial_success& out) {
  pb_cursor top(body);
  while (!top.done()) {
    std::uint64_t field = 0;
    unsigned wire = 0;
    if (!top.key(field, wire)) return false;
    if (field != 1 || wire != 2) {
      if (!top.skip(wire)) return false;
      continue;
    }
    std::string_view sub;
    if (!top.bytes(sub)) return false;
    pb_cursor ps(sub);
    while (!ps.done()) {
      if (!ps.key(field, wire)) return false;
      if (field == 1 && wire == 0) {
        std::uint64_t v = 0;
        if (!ps.varint(v)) return false;
        out.rejected_spans = static_cast<std::int64_t>(v);  // int64: two's complement on the wire
      } else if (field == 2 && wire == 2) {
        std::string_view s;
        if (!ps.bytes(s)) return false;
        out.error_message.assign(s.data(), s.size());
      } else if (!ps.skip(wire)) {
        return false;
      }
    }
  }
  return true;
}

/// google.rpc.Status { int32 code = 1; string message = 2; ... }: the body of
/// a failed OTLP/HTTP protobuf response. Empty when there is no message.
inline std::string protobuf_status_message(std::string_view body) {
  pb_cursor c(body);
  std::string message;
  while (!c.done()) {
    std::uint64_t field = 0;
    unsigned wire = 0;
    if (!c.key(field, wire)) return {};
    if (field == 2 && wire == 2) {
      std::string_view s;
      if (!c.bytes(s)) return {};
      message.assign(s.data(), s.size());
    } else if (!c.skip(wire)) {
      return {};
    }
  }
  return message;
}

/// A strict, bounded RFC 8259 reader: enough to find partialSuccess in an
/// OTLP/JSON response and to reject anything that is not JSON.
class json_cursor {
 public:
  explicit json_cursor(std::string_view s) noexcept : s_(s) {}

  bool at_end() noexcept {
    blanks();
    return i_ == s_.size();
  }
  bool take(char c) noexcept {
    blanks();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  char peek() noexcept {
    blanks();
    return i_ < s_.size() ? s_[i_] : '\0';
  }

  /// A string; its decoded value (UTF-8) into *out when out is set.
  bool string(std::string* out) {
    if (!take('"')) return false;
    if (out) out->clear();
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        if (out) *out += c;
        continue;
      }
      if (i_ >= s_.size()) return false;
      const char e = s_[i_++];
      char plain = 0;
      switch (e) {
        case '"': plain = '"'; break;
        case '\\': plain = '\\'; break;
        case '/': plain = '/'; break;
        case 'b': plain = '\b'; break;
        case 'f': plain = '\f'; break;
        case 'n': plain = '\n'; break;
        case 'r': plain = '\r'; break;
        case 't': plain = '\t'; break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF && i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
            const std::size_t save = i_;
            i_ += 2;
            std::uint32_t low = 0;
            if (!hex4(low)) return false;
            if (low >= 0xDC00 && low <= 0xDFFF)
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            else
              i_ = save;  // a lone high surrogate; the next escape stands alone
          }
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // lone surrogates are not UTF-8
          if (out) append_utf8(*out, cp);
          continue;
        }
        default: return false;
      }
      if (out) *out += plain;
    }
    return false;  // unterminated
  }

  /// A number; its text into *out when set.
  bool number(std::string* out) {
    blanks();
    const std::size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    if (i_ >= s_.size()) return false;
    if (s_[i_] == '0') {
      ++i_;
    } else if (s_[i_] >= '1' && s_[i_] <= '9') {
      digits();
    } else {
      return false;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (digits() == 0) return false;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (digits() == 0) return false;
    }
    if (out) out->assign(s_.data() + start, i_ - start);
    return true;
  }

  bool literal(std::string_view word) noexcept {
    blanks();
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  bool skip_value(int depth = 0) {
    if (depth > max_depth) return false;
    switch (peek()) {
      case '"': return string(nullptr);
      case '{': {
        take('{');
        if (take('}')) return true;
        do {
          if (!string(nullptr) || !take(':') || !skip_value(depth + 1)) return false;
        } while (take(','));
        return take('}');
      }
      case '[': {
        take('[');
        if (take(']')) return true;
        do {
          if (!skip_value(depth + 1)) return false;
        } while (take(','));
        return take(']');
      }
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number(nullptr);
    }
  }

 private:
  static constexpr int max_depth = 64;

  void blanks() noexcept {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  std::size_t digits() noexcept {
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ - start;
  }
  bool hex4(std::uint32_t& out) noexcept {
    if (s_.size() - i_ < 4) return false;
    out = 0;
    for (int k = 0; k < 4; ++k) {
      const int d = config_parse::hex_digit(s_[i_++]);
      if (d < 0) return false;
      out = out * 16 + static_cast<std::uint32_t>(d);
    }
    return true;
  }
  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

/// A JSON int64: a number (OTLP/JSON allows it) or a decimal string (the
/// proto3 JSON mapping of int64). False for fractions and out-of-range values.
inline bool json_int64(std::string_view text, std::int64_t& out) noexcept {
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  std::uint64_t v = 0;
  if (config_parse::parse_uint(text, negative ? 9223372036854775808ULL : 9223372036854775807ULL, v) !=
          config_parse::integer_status::ok ||
      config_parse::trim(text).size() != text.size())
    return false;
  out = negative ? static_cast<std::int64_t>(0 - v) : static_cast<std::int64_t>(v);
  return true;
}

/// {"partialSuccess":{"rejectedSpans":"2","errorMessage":"..."}}; proto field
/// names (partial_success, rejected_spans, error_message) are accepted too, as
/// proto3 JSON parsers must. False when the body is not such a JSON object.
inline bool parse_json_response(std::string_view body, partial_success& out) {
  json_cursor r(body);
  if (!r.take('{')) return false;
  if (!r.take('}')) {
    do {
      std::string key;
      if (!r.string(&key) || !r.take(':')) return false;
      if (key != "partialSuccess" && key != "partial_success") {
        if (!r.skip_value()) return false;
        continue;
      }
      if (r.literal("null")) continue;
      if (!r.take('{')) return false;
      if (r.take('}')) continue;
      do {
        std::string inner;
        if (!r.string(&inner) || !r.take(':')) return false;
        if (inner == "rejectedSpans" || inner == "rejected_spans") {
          std::string text;
          if (r.peek() == '"') {
            if (!r.string(&text)) return false;
          } else if (!r.literal("null") && !r.number(&text)) {
            return false;
          }
          if (!text.empty() && !json_int64(text, out.rejected_spans)) return false;
        } else if (inner == "errorMessage" || inner == "error_message") {
          if (!r.literal("null") && !r.string(&out.error_message)) return false;
        } else if (!r.skip_value()) {
          return false;
        }
      } while (r.take(','));
      if (!r.take('}')) return false;
    } while (r.take(','));
    if (!r.take('}')) return false;
  }
  return r.at_end();
}

// ---- endpoint -------------------------------------------------------------------

struct endpoint {
  std::string base;     // scheme://host[:port], what httplib::Client takes
  std::string path;     // path and query, "/" at least
  std::string display;  // for messages: no credentials, no query string
  std::string user, password;
  bool https = false;
};

inline endpoint split_endpoint(const std::string& url) {
  config_parse::url_parts parts;
  std::string why;
  if (!config_parse::parse_http_url(url, parts, why))
    throw config_error("otlp endpoint " + config_parse::quote_url(url) + " " + why);
  endpoint e;
  e.https = parts.scheme == "https";
  e.base = parts.scheme + "://" + parts.host + (parts.port.empty() ? "" : ":" + parts.port);
  const std::size_t hash = parts.tail.find('#');  // a fragment never goes on the wire
  e.path = (parts.path.empty() ? std::string("/") : parts.path) + parts.tail.substr(0, hash);
  e.display = e.base + (parts.path.empty() ? std::string("/") : parts.path);
  if (!parts.userinfo.empty()) {
    const std::string info = parts.userinfo.substr(0, parts.userinfo.size() - 1);  // without '@'
    const std::size_t colon = info.find(':');
    if (!config_parse::percent_decode(info.substr(0, colon), e.user) ||
        (colon != std::string::npos && !config_parse::percent_decode(info.substr(colon + 1), e.password)))
      throw config_error("otlp endpoint " + config_parse::quote_url(url) +
                         " has a malformed percent-escape in its user information");
  }
  return e;
}

}  // namespace otlp_http
}  // namespace detail

/// Sends span batches to an OpenTelemetry collector over OTLP/HTTP (see the
/// top of this file). export_spans() runs on one thread at a time;
/// force_flush() and shutdown() may be called from any thread.
class otlp_http_exporter final : public span_exporter {
 public:
  /// Throws config_error for an endpoint that is not an http(s) URL, an
  /// unknown protocol or compression, a client certificate without its key (or
  /// the reverse), or https without TLS support in cpp-httplib.
  explicit otlp_http_exporter(otlp_http_options options)
      : options_(std::move(options)), endpoint_(detail::otlp_http::split_endpoint(options_.otlp.endpoint)) {
    namespace cp = detail::config_parse;
    if (!options_.diagnostic) {
      auto fallback = std::make_shared<detail::diagnostics>();
      options_.diagnostic = [fallback](std::string_view m) { fallback->report(m); };
    }
    const std::string protocol = cp::lower(cp::trim(options_.otlp.protocol));
    if (options_.format) {
      format_ = *options_.format;
    } else if (protocol == "http/protobuf" || protocol.empty()) {
      format_ = http_wire_format::otlp_protobuf;
    } else if (protocol == "http/json") {
      format_ = http_wire_format::otlp_json;
    } else {
      throw config_error("otlp protocol " + cp::quote(options_.otlp.protocol) +
                         " is not supported by the OTLP/HTTP exporter (use http/protobuf or http/json)");
    }
    const std::string compression = cp::lower(cp::trim(options_.otlp.compression));
    if (compression != "none" && compression != "gzip" && !compression.empty())
      throw config_error("otlp compression " + cp::quote(options_.otlp.compression) +
                         " is not supported (use none or gzip)");
    if (options_.otlp.timeout.count() <= 0) options_.otlp.timeout = std::chrono::milliseconds(10000);
    if (options_.export_timeout.count() <= 0) options_.export_timeout = std::chrono::milliseconds(30000);
    if (options_.max_request_bytes == 0) options_.max_request_bytes = std::size_t{20} * 1024 * 1024;
#if !defined(CPPHTTPLIB_OPENSSL_SUPPORT)
    if (endpoint_.https)
      throw config_error("otlp endpoint " + endpoint_.display +
                         " needs TLS, but cpp-httplib was compiled without CPPHTTPLIB_OPENSSL_SUPPORT");
#endif

    const std::string& client_cert = options_.otlp.client_certificate;
    const std::string& client_key = options_.otlp.client_key;
    if (client_cert.empty() != client_key.empty())
      throw config_error("otlp client certificate and client key go together: " +
                         std::string(client_cert.empty() ? "client_certificate" : "client_key") + " is empty");
    // cpp-httplib loads the key without a passphrase callback, so OpenSSL
    // would ask for one on the terminal and block tracer::create: refused.
    const bool use_client_cert = endpoint_.https && !client_cert.empty();
    if (use_client_cert && detail::otlp_http::pem_key_is_encrypted(client_key))
      tls_setup_error_ = "the client key " + cp::quote(client_key) +
                         " is encrypted (passphrase-protected), which is not supported: give an unencrypted PEM key";
    client_ = use_client_cert && tls_setup_error_.empty()
                  ? std::make_unique<httplib::Client>(endpoint_.base, client_cert, client_key)
                  : std::make_unique<httplib::Client>(endpoint_.base);
    // cpp-httplib keeps a client whose certificate or key did not load, and
    // fails each request as "Success": the reason is kept and given instead.
    if (tls_setup_error_.empty() && !client_->is_valid())
      tls_setup_error_ = "the TLS client could not be set up with client certificate " + cp::quote(client_cert) +
                         " and key " + cp::quote(client_key) +
                         " (expected: PEM files, an unencrypted key that matches the certificate)";
    if (!tls_setup_error_.empty()) report(tls_setup_error_ + ": every export will fail");
    client_->set_keep_alive(true);
    // Headers and body go out in separate writes: with Nagle's algorithm the
    // body waits for the server's delayed ACK, some 40 ms per request.
    client_->set_tcp_nodelay(true);
    client_->set_follow_location(false);  // a redirect is a misconfiguration: report it
    client_->set_compress(compression == "gzip");
    // The answer is read whole (cpp-httplib 0.11's client has no size limit),
    // so it must not be inflated: a small gzip body can expand to gigabytes,
    // past memory and the export's deadline. "Accept-Encoding: identity"
    // below asks for it plain; one compressed anyway is not read.
    client_->set_decompress(false);
    if (!endpoint_.user.empty() || !endpoint_.password.empty())
      client_->set_basic_auth(endpoint_.user, endpoint_.password);
#if defined(CPPHTTPLIB_OPENSSL_SUPPORT)
    if (endpoint_.https) {
      client_->enable_server_certificate_verification(!options_.otlp.insecure);
      if (!options_.otlp.certificate.empty()) client_->set_ca_cert_path(options_.otlp.certificate);
    }
#endif

    bool user_agent = false;
    for (const auto& [header, value] : options_.otlp.headers) {
      static constexpr std::string_view owned[] = {"content-type", "content-length", "content-encoding",
                                                   "transfer-encoding", "host", "connection", "accept-encoding"};
      bool skip = false;
      for (const auto name : owned) skip = skip || cp::iequals(header, name);
      if (skip) {
        report("header " + cp::quote(header) + " is set by the exporter itself; the configured value is ignored");
        continue;
      }
      user_agent = user_agent || cp::iequals(header, "user-agent");
      headers_.emplace(header, value);
    }
    headers_.emplace("Accept-Encoding", "identity");
    if (!user_agent)  // OTLP asks exporters to name themselves; a configured one wins
      headers_.emplace("User-Agent", std::string(sdk_name) + "/" + version_string +
                                         " (OTLP/HTTP exporter; C++; cpp-httplib/" CPPHTTPLIB_VERSION ")");
  }

  /// What the tracer's factory calls: endpoint and transport settings from
  /// the resolved configuration, the export timeout from its batch settings.
  explicit otlp_http_exporter(const exporter_environment& env)
      : otlp_http_exporter(options_from(env)) {}

  ~otlp_http_exporter() override {
    stopped_.store(true);
    if (watch_->thread.joinable() && watch_->fork_generation != detail::fork_generation().load()) {
      // A copy inherited through fork(): the watchdog is the parent's thread,
      // absent here (joining it would wait forever, detaching it touches a
      // thread this process does not have), and its mutexes and condition
      // variables may have been in use at the fork: all left alone, leaked.
      static_cast<void>(watch_.release());
      return;
    }
    // No export_spans() or shutdown() runs any more, so no request is in flight.
    {
      std::lock_guard<std::mutex> lock(watch_->mutex);
      watch_->exiting = true;
    }
    watch_->cv.notify_all();
    if (watch_->thread.joinable()) watch_->thread.join();
  }

  otlp_http_exporter(const otlp_http_exporter&) = delete;
  otlp_http_exporter& operator=(const otlp_http_exporter&) = delete;

  export_result export_spans(const span_batch& batch) noexcept override {
    if (batch.empty()) return export_result::success;  // never an empty request
    if (stopped_.load()) return export_result::failure;
    if (!tls_setup_error_.empty()) {  // said at construction; each failure names it again
      report(export_of(batch.size()) + " failed: " + tls_setup_error_);
      return export_result::failure;
    }
    try {
      // The batch being exported, for count_rejected() (one export at a time).
      batch_ = &batch;
      struct forget_batch {
        const span_batch*& slot;
        ~forget_batch() { slot = nullptr; }
      } forget{batch_};
      // The OTLP timeout is the "maximum time the exporter will wait for each
      // batch export" (the specification), retries included; the pipeline's
      // export timeout may be shorter.
      const auto deadline = std::chrono::steady_clock::now() + export_bound();
      encode(batch, body_);
      if (body_.size() <= options_.max_request_bytes)
        return send_part(body_, batch.size(), deadline) ? export_result::success : export_result::failure;

      // Too large for one request: halve until the parts fit.
      std::vector<const span_data*> spans;
      spans.reserve(batch.size());
      for (std::size_t i = 0; i < batch.size(); ++i) spans.push_back(&batch[i]);
      const bool ok = send_halves(batch, spans.data(), spans.size(), deadline);
      body_.clear();
      body_.shrink_to_fit();  // do not keep a 20 MiB buffer for every later batch
      return ok ? export_result::success : export_result::failure;
    } catch (const std::exception& e) {
      report(std::string("export failed: ") + detail::what_of(e));
    } catch (...) {
      report("export failed: unknown exception");
    }
    return export_result::failure;
  }

  /// Nothing is buffered here: every export_spans() call completes its requests.
  bool force_flush(std::chrono::milliseconds /*timeout*/) noexcept override { return true; }

  /// Aborts a request in flight (waiting at most `timeout` for it to end) and
  /// makes every later export fail at once. Idempotent.
  void shutdown(std::chrono::milliseconds timeout) noexcept override {
    const auto deadline = clock::now() + detail::bounded_timeout(timeout);
    // send() tests stopped_ under watch_->mutex before it marks a request in
    // flight: either that request is not sent, or this sees it and cuts it off.
    std::unique_lock<std::mutex> lock(watch_->mutex);
    stopped_.store(true);
    watch_->cv.notify_all();  // ends a backoff wait, and wakes the watchdog
    if (!watch_->in_request) return;
    if (!watch_->thread.joinable()) {  // it could not be started: stop() from here (it may block while connecting)
      lock.unlock();
      client_->stop();
      return;
    }
    watch_->cv.wait_until(lock, deadline, [this] { return !watch_->in_request; });
  }

  std::string_view name() const noexcept override { return options_.name; }

  /// The endpoint as shown in diagnostics (no credentials, no query string).
  const std::string& endpoint() const noexcept { return endpoint_.display; }

 private:
  using clock = std::chrono::steady_clock;

  static otlp_http_options options_from(const exporter_environment& env) {
    otlp_http_options o;
    o.otlp = env.settings.otlp;
    o.export_timeout = env.settings.batch.export_timeout;
    o.diagnostic = env.diagnostic;
    o.retries = env.retries;
    return o;
  }

  static std::string_view content_type_of(http_wire_format f) noexcept {
    switch (f) {
      case http_wire_format::otlp_protobuf: return otlp::protobuf_content_type;
      case http_wire_format::otlp_json: return otlp::json_content_type;
      case http_wire_format::jaeger_thrift: return jaeger::thrift_content_type;
      case http_wire_format::zipkin_json: return zipkin::json_content_type;
    }
    return otlp::protobuf_content_type;
  }
  // What one export_spans() call may take (see the header comment).
  std::chrono::milliseconds export_bound() const noexcept { return std::min(options_.export_timeout, options_.otlp.timeout); }

  bool is_otlp() const noexcept {
    return format_ == http_wire_format::otlp_protobuf || format_ == http_wire_format::otlp_json;
  }

  void report(const std::string& message) noexcept {
    try {
      options_.diagnostic(options_.name + " exporter (" + endpoint_.display + "): " + message);
    } catch (...) {
      // Diagnostics must never turn into a failed export.
    }
  }

  void encode(const span_batch& batch, std::string& out) const {
    switch (format_) {
      case http_wire_format::otlp_protobuf: otlp::encode_protobuf(batch, out); break;
      case http_wire_format::otlp_json: otlp::encode_json(batch, out); break;
      case http_wire_format::jaeger_thrift: jaeger::encode_thrift_batch(batch, out); break;
      case http_wire_format::zipkin_json: zipkin::encode_json_v2(batch, out); break;
    }
  }

  // Sends spans[0, count) in as many requests as the size limit needs.
  bool send_split(const span_batch& whole, const span_data* const* spans, std::size_t count, clock::time_point deadline) {
    encode(span_batch(whole.resource(), whole.scope(), spans, count), body_);
    if (body_.size() <= options_.max_request_bytes) return send_part(body_, count, deadline);
    return send_halves(whole, spans, count, deadline);
  }

  // send(), and if the request finally failed, its spans count as rejected:
  // the batch's other requests may still deliver theirs.
  bool send_part(const std::string& body, std::size_t span_count, clock::time_point deadline) {
    const bool delivered = send(body, span_count, deadline);
    if (!delivered) count_rejected(span_count);
    return delivered;
  }
  void count_rejected(std::size_t n) noexcept {
    if (batch_ != nullptr) batch_->count_rejected(n);
  }

  // spans[0, count) encode to body_, which is over the limit.
  bool send_halves(const span_batch& whole, const span_data* const* spans, std::size_t count,
                   clock::time_point deadline) {
    if (count == 1) {
      report("dropped span '" + detail::otlp_http::excerpt(spans[0]->name, 100) + "': encoded alone it takes " +
             std::to_string(body_.size()) + " bytes, more than the request limit of " +
             std::to_string(options_.max_request_bytes));
      count_rejected(1);
      return false;
    }
    const std::size_t half = count / 2;
    const bool first = send_split(whole, spans, half, deadline);
    const bool second = send_split(whole, spans + half, count - half, deadline);
    return first && second;
  }

  enum class outcome { delivered, retry, fail };

  // "export of N span(s)": how every failure report begins.
  static std::string export_of(std::size_t span_count) {
    return "export of " + std::to_string(span_count) + (span_count == 1 ? " span" : " spans");
  }

  // One request body, retried as the specification allows, until `deadline`.
  bool send(const std::string& body, std::size_t span_count, clock::time_point deadline) {
    namespace oh = detail::otlp_http;
    const std::string what = export_of(span_count);
    const std::string content_type(content_type_of(format_));
    std::string last_problem;  // of the previous attempt, for the timeout message
    for (unsigned attempt = 0;; ++attempt) {
      if (stopped_.load()) {  // woken from a backoff wait, or stopped before the first attempt
        report(what + " abandoned: the exporter is shutting down" +
               (last_problem.empty() ? std::string() : "; last attempt: " + last_problem));
        return false;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      if (left.count() <= 0) {
        // Reached when a backoff wait ends late, past the deadline.
        report(what + " failed: the export timeout of " + oh::ms_text(export_bound()) + " passed" +
               (last_problem.empty() ? std::string() : "; last attempt: " + last_problem));
        return false;
      }
      const auto request_timeout = std::min(options_.otlp.timeout, left);
      client_->set_connection_timeout(request_timeout);
      client_->set_read_timeout(request_timeout);
      client_->set_write_timeout(request_timeout);

      if (!begin_request(clock::now() + request_timeout)) continue;  // shutting down: reported at the top
      // Counted here, when sent: a wait may end past the deadline or in shutdown.
      if (attempt > 0 && options_.retries) options_.retries->fetch_add(1, std::memory_order_relaxed);
      httplib::Result result = client_->Post(endpoint_.path, headers_, body.data(), body.size(), content_type);
      const bool cut_off = end_request();

      std::string problem;
      std::optional<std::chrono::milliseconds> retry_after;
      outcome o;
      if (cut_off && !result) {
        problem = "no complete answer in time (cut off after " + oh::ms_text(request_timeout) + ")";
        o = outcome::retry;  // a timeout is transient
      } else {
        o = judge(result, span_count, problem, retry_after);
      }
      if (o == outcome::delivered) return true;
      const std::string attempts =
          attempt == 0 ? std::string() : " (after " + std::to_string(attempt + 1) + " attempts)";
      if (stopped_.load()) {
        report(what + " abandoned: the exporter is shutting down; last attempt: " + problem);
        return false;
      }
      if (o == outcome::fail) {
        report(what + " failed" + attempts + ": " + problem);
        return false;
      }

      // Retry-After is a floor: "0", or a date already past (a server that
      // repeats a fixed maintenance date), must not turn the retries into a
      // storm of back-to-back requests.
      std::chrono::milliseconds wait = std::max(retry_after.value_or(std::chrono::milliseconds(0)), backoff(attempt));
      const auto now = clock::now();
      if (now + wait >= deadline) {
        // A last attempt cut off in the little time left says less than the
        // one before it (a refusal, an HTTP status): both are given.
        const std::string before =
            cut_off && !last_problem.empty() && last_problem != problem ? "; the attempt before: " + last_problem : "";
        report(what + " failed" + attempts + ": " + problem + before + "; not retried: the next attempt (in " +
               oh::ms_text(wait) + ") would pass the export timeout of " + oh::ms_text(export_bound()));
        return false;
      }
      last_problem = std::move(problem);
      std::unique_lock<std::mutex> lock(watch_->mutex);
      watch_->cv.wait_for(lock, wait, [this] { return stopped_.load(); });
    }
  }

  // Marks a request in flight, due to end by `deadline`, for the watchdog;
  // false when shutting down (then nothing may be sent).
  bool begin_request(clock::time_point deadline) {
    {
      std::lock_guard<std::mutex> lock(watch_->mutex);
      if (stopped_.load()) return false;
      start_watchdog();
      watch_->in_request = true;
      ++watch_->number;
      watch_->deadline = deadline;
      watch_->cut_off = false;
    }
    watch_->cv.notify_all();
    return true;
  }

  // The request ended; true if the watchdog cut it off at its deadline.
  bool end_request() {
    bool cut_off;
    {
      std::lock_guard<std::mutex> lock(watch_->mutex);
      watch_->in_request = false;
      cut_off = watch_->cut_off;
    }
    watch_->cv.notify_all();  // the watchdog, and a shutdown() waiting for the request to end
    return cut_off;
  }

  // Under watch_->mutex, before the first request.
  void start_watchdog() noexcept {
    if (watch_->thread.joinable() || watch_->failed) return;
    try {
      detail::register_fork_handler();  // counts forks, for the destructor
      watch_->fork_generation = detail::fork_generation().load();
      watch_->thread = detail::start_background_thread([this] { watch(); });
    } catch (...) {
      watch_->failed = true;
      report("could not start the request watchdog thread: a request is bounded per network step only, "
             "not as a whole");
    }
  }

  // The watchdog thread: cuts off the request in flight when its deadline
  // passes or shutdown() asks. Client::stop() closes the socket under the
  // request; it blocks while cpp-httplib connects, and one landing just
  // before the request opens its socket is lost, so it repeats until the
  // request has ended.
  void watch() noexcept {
    std::unique_lock<std::mutex> lock(watch_->mutex);
    for (;;) {
      watch_->cv.wait(lock, [this] { return watch_->exiting || watch_->in_request; });
      if (watch_->exiting) return;
      const std::uint64_t number = watch_->number;
      const auto same_request = [&] { return watch_->in_request && watch_->number == number; };
      const bool woken = watch_->cv.wait_until(lock, watch_->deadline,
                                              [&] { return watch_->exiting || stopped_.load() || !same_request(); });
      if (watch_->exiting) return;
      if (!same_request()) continue;
      if (!woken) watch_->cut_off = true;  // its deadline passed (otherwise: shutdown)
      while (same_request() && !watch_->exiting) {
        lock.unlock();
        client_->stop();
        lock.lock();
        watch_->cv.wait_for(lock, std::chrono::milliseconds(5), [&] { return watch_->exiting || !same_request(); });
      }
    }
  }

  // Classifies one attempt; `problem` describes a failure for the diagnostics.
  outcome judge(const httplib::Result& result, std::size_t span_count, std::string& problem,
                std::optional<std::chrono::milliseconds>& retry_after) {
    namespace oh = detail::otlp_http;
    if (!result) {
      const httplib::Error e = result.error();
      problem = "no response (" + httplib::to_string(e) + ")";
      // A collector refusing the client certificate: under TLS 1.2 a failed
      // handshake; under TLS 1.3 the client's handshake usually ends before the
      // server checks it, so the refusal arrives as a failed write or read.
      if (e == httplib::Error::SSLConnection && endpoint_.https)
        problem += "; is the collector serving TLS at this port? (a plain-HTTP endpoint is http://)";
      if ((e == httplib::Error::Read || e == httplib::Error::Write || e == httplib::Error::SSLConnection) &&
          endpoint_.https) {
        if (options_.otlp.client_certificate.empty())
          problem += "; a collector that requires a client certificate (mutual TLS) also refuses this way: "
                     "see otlp_client_certificate / OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE";
        else
          problem += "; a collector that does not trust the client certificate " +
                     detail::config_parse::quote(options_.otlp.client_certificate) +
                     " also refuses this way (only the file's first certificate is read: put intermediates in "
                     "otlp_certificate)";
      }
      switch (e) {
        case httplib::Error::Connection:
        case httplib::Error::ConnectionTimeout:
        case httplib::Error::Read:
        case httplib::Error::Write:
        case httplib::Error::Unknown:
          return outcome::retry;  // transient: refused, reset, timed out
        default:
          return outcome::fail;  // TLS setup or verification, compression, cancellation: retrying cannot help
      }
    }
    const httplib::Response& res = *result;
    if (res.status >= 200 && res.status < 300) {
      check_success_body(res, span_count);
      return outcome::delivered;
    }
    problem = "HTTP " + std::to_string(res.status);
    if (res.status >= 300 && res.status < 400 && res.has_header("Location")) {
      // As the endpoint is shown: no credentials, no query string (tokens).
      std::string location = res.get_header_value("Location");
      location.erase(std::min(location.find_first_of("?#"), location.size()));
      problem += " (redirected to " + detail::config_parse::quote_url(location) +
                 ": set the endpoint to the final URL; redirects are not followed)";
    }
    if (const std::string encoding = compressed_with(res); !encoding.empty()) {
      problem += " (a body compressed with " + oh::excerpt(encoding, 40) + ", not read)";
    } else if (!res.body.empty()) {
      std::string message;
      if (oh::icontains(res.get_header_value("Content-Type"), "protobuf"))
        message = oh::protobuf_status_message(res.body);
      problem += ": " + (message.empty() ? oh::excerpt(res.body) : oh::excerpt(message));
    }
    switch (res.status) {
      case 429:
      case 502:
      case 503:
      case 504:
        if (res.has_header("Retry-After")) {
          const std::string value = res.get_header_value("Retry-After");
          const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
          retry_after = oh::parse_retry_after(value, static_cast<std::int64_t>(now_s));
          if (!retry_after) problem += " (unreadable Retry-After \"" + oh::excerpt(value, 60) + "\" ignored)";
        }
        return outcome::retry;
      default:
        return outcome::fail;
    }
  }

  void check_success_body(const httplib::Response& res, std::size_t span_count) {
    namespace oh = detail::otlp_http;
    // Only OTLP answers with partial_success; Jaeger and Zipkin bodies carry nothing to act on.
    if (res.body.empty() || !is_otlp()) return;
    if (const std::string encoding = compressed_with(res); !encoding.empty()) {
      report("HTTP " + std::to_string(res.status) + " with a body compressed with " + oh::excerpt(encoding, 40) +
             ", which was not asked for and is not read (a partial success in it goes unseen); the " +
             std::to_string(span_count) + " spans count as delivered");
      return;
    }
    const std::string type = res.get_header_value("Content-Type");
    const bool json = oh::icontains(type, "json") || (!oh::icontains(type, "protobuf") && format_ == http_wire_format::otlp_json);
    oh::partial_success ps;
    const bool ok = json ? oh::parse_json_response(res.body, ps) : oh::parse_protobuf_response(res.body, ps);
    if (!ok) {
      report("HTTP " + std::to_string(res.status) + " with an unreadable " + (json ? "JSON" : "protobuf") +
             " body (" + std::to_string(res.body.size()) + " bytes: " + oh::excerpt(res.body, 80) + "); the " +
             std::to_string(span_count) + " spans count as delivered");
      return;
    }
    if (!ps.any()) return;
    if (ps.rejected_spans < 0) {
      report("the collector accepted the request and sent an invalid rejected_spans count (" +
             std::to_string(ps.rejected_spans) + "); the " + std::to_string(span_count) + " spans count as delivered" +
             (ps.error_message.empty() ? std::string() : ": " + oh::excerpt(ps.error_message)));
      return;
    }
    if (ps.rejected_spans > 0)
      count_rejected(static_cast<std::uint64_t>(ps.rejected_spans) < span_count ? static_cast<std::size_t>(ps.rejected_spans)
                                                                                : span_count);
    report("the collector accepted the request but rejected " + std::to_string(ps.rejected_spans) + " of " +
           std::to_string(span_count) + " spans" +
           (ps.error_message.empty() ? std::string() : ": " + oh::excerpt(ps.error_message)));
  }

  // The answer's Content-Encoding when it is not plain ("identity"), else "".
  static std::string compressed_with(const httplib::Response& res) {
    std::string encoding = res.get_header_value("Content-Encoding");
    const std::string_view trimmed = detail::config_parse::trim(encoding);
    if (trimmed.empty() || detail::config_parse::iequals(trimmed, "identity")) return {};
    return encoding;
  }

  // Exponential, with jitter so that many exporters do not retry in step.
  std::chrono::milliseconds backoff(unsigned attempt) const noexcept {
    const std::int64_t cap = std::max<std::int64_t>(options_.max_backoff.count(), 1);
    std::int64_t base = std::max<std::int64_t>(options_.initial_backoff.count(), 1);
    for (unsigned i = 0; i < attempt && base < cap; ++i) base *= 2;
    base = std::min(base, cap);
    const auto r = static_cast<std::int64_t>(detail::thread_rng().next() % static_cast<std::uint64_t>(base));
    return std::chrono::milliseconds(std::min(base / 2 + r, cap));  // 0.5x .. 1.5x
  }

  otlp_http_options options_;
  detail::otlp_http::endpoint endpoint_;
  http_wire_format format_ = http_wire_format::otlp_protobuf;
  std::unique_ptr<httplib::Client> client_;
  std::string tls_setup_error_;  // a client certificate or key that cannot be used: every export fails
  const span_batch* batch_ = nullptr;  // during export_spans()
  httplib::Headers headers_;
  std::string body_;  // reused between batches

  std::atomic<bool> stopped_{false};

  // Waits and the request in flight, with its watchdog (watch()). On the
  // heap, so that a copy inherited through fork() can be left untouched (see
  // the destructor): the parent's threads may have been waiting on these.
  struct request_watch {
    std::mutex mutex;  // also what shutdown() sets stopped_ under
    std::condition_variable cv;  // backoff waits, the watchdog, shutdown() waiting for the request
    std::thread thread;  // the watchdog
    bool failed = false;                // it could not be started
    std::uint32_t fork_generation = 0;  // detail::fork_generation() when it was
    bool in_request = false;
    std::uint64_t number = 0;  // of the request in flight
    clock::time_point deadline;
    bool cut_off = false;  // the watchdog cut the request off at its deadline
    bool exiting = false;  // the destructor: the watchdog ends
  };
  std::unique_ptr<request_watch> watch_ = std::make_unique<request_watch>();
};

namespace detail {
// Including this header makes "otlp" a known exporter name (see exporter_registry.hpp).
STREAMBUS_TRACING_PROCESS_WIDE inline const bool otlp_http_exporter_registered = register_exporter(
    "otlp", [](const exporter_environment& env) -> std::shared_ptr<span_exporter> {
      return std::make_shared<otlp_http_exporter>(env);
    });

// The same transport for the other backends' HTTP endpoints. They share the
// OTLP timeouts and TLS settings, but not its headers or compression (which
// belong to the OTLP collector).
inline otlp_http_options non_otlp_options(const exporter_environment& env, std::string endpoint,
                                          http_wire_format format, std::string name) {
  otlp_http_options o;
  o.otlp.endpoint = std::move(endpoint);
  o.otlp.timeout = env.settings.otlp.timeout;
  o.otlp.certificate = env.settings.otlp.certificate;
  o.otlp.client_certificate = env.settings.otlp.client_certificate;
  o.otlp.client_key = env.settings.otlp.client_key;
  o.otlp.insecure = env.settings.otlp.insecure;
  o.export_timeout = env.settings.batch.export_timeout;
  o.diagnostic = env.diagnostic;
  o.retries = env.retries;
  o.format = format;
  o.name = std::move(name);
  return o;
}

// "jaeger": Thrift over HTTP to a collector's /api/traces (port 14268), what
// the seed's JaegerEndpoint points at. Jaeger >= 1.35 also accepts OTLP.
STREAMBUS_TRACING_PROCESS_WIDE inline const bool jaeger_http_exporter_registered = register_exporter(
    "jaeger", [](const exporter_environment& env) -> std::shared_ptr<span_exporter> {
      return std::make_shared<otlp_http_exporter>(
          non_otlp_options(env, env.settings.jaeger_endpoint, http_wire_format::jaeger_thrift, "jaeger"));
    });

// "zipkin": Zipkin v2 JSON to /api/v2/spans (Zipkin, Jaeger's Zipkin port, ...).
STREAMBUS_TRACING_PROCESS_WIDE inline const bool zipkin_http_exporter_registered = register_exporter(
    "zipkin", [](const exporter_environment& env) -> std::shared_ptr<span_exporter> {
      return std::make_shared<otlp_http_exporter>(
          non_otlp_options(env, env.settings.zipkin_endpoint, http_wire_format::zipkin_json, "zipkin"));
    });
}  // namespace detail

STREAMBUS_TRACING_END_NAMESPACE

#endif  // !STREAMBUS_TRACING_DISABLED
