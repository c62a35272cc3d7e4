// A small strict JSON reader and writer for the examples (RFC 8259).
//
// The library writes JSON but never needs to read it; the examples do: the
// trace context service reads the W3C harness's instructions, and the
// multi-service demo's collector reads OTLP/JSON and merges Jaeger JSON.
// Numbers keep their literal text, so a document read and written again
// keeps every digit (64-bit ids and nanosecond times included).
//
// Bad input never crashes or throws: parse() returns false.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace example_json {

struct value {
  enum kind_t { null_value, boolean, number, string, array, object } kind = null_value;
  bool b = false;
  std::string text;                 // a number's literal text, or a string's UTF-8
  std::vector<value> items;         // an array's elements
  std::vector<std::string> names;   // an object's keys, in order...
  std::vector<value> members;       // ...and their values

  static value make_string(std::string s) {
    value v;
    v.kind = string;
    v.text = std::move(s);
    return v;
  }
  static value make_number(long long n) {
    value v;
    v.kind = number;
    v.text = std::to_string(n);
    return v;
  }
  static value make_object() {
    value v;
    v.kind = object;
    return v;
  }
  static value make_array() {
    value v;
    v.kind = array;
    return v;
  }

  bool is_object() const noexcept { return kind == object; }
  bool is_array() const noexcept { return kind == array; }
  bool is_string() const noexcept { return kind == string; }

  /// The member named key, or null.
  const value* find(std::string_view key) const noexcept {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == key) return &members[i];
    return nullptr;
  }
  value* find(std::string_view key) noexcept {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == key) return &members[i];
    return nullptr;
  }
  /// The member named key, or a null value: chains like doc["a"]["b"] never fail.
  const value& operator[](std::string_view key) const noexcept {
    static const value missing;
    const value* v = find(key);
    return v != nullptr ? *v : missing;
  }
  const value& operator[](std::size_t i) const noexcept {
    static const value missing;
    return i < items.size() ? items[i] : missing;
  }
  /// The text of a string or number; empty for anything else.
  std::string_view str() const noexcept {
    return kind == string || kind == number ? std::string_view(text) : std::string_view();
  }

  void set(std::string key, value v) {
    if (value* existing = find(key)) {
      *existing = std::move(v);
      return;
    }
    names.push_back(std::move(key));
    members.push_back(std::move(v));
  }
};

/// Parses a whole document: no trailing commas, no duplicate keys, valid
/// UTF-8, nothing after the value, nesting at most 64 deep.
inline bool parse(std::string_view text, value& out);

/// `s` as a JSON string literal, quotes included.
inline void write_string(std::string& out, std::string_view s);

/// Compact JSON for v.
inline void write(std::string& out, const value& v);
inline std::string to_string(const value& v) {
  std::string out;
  write(out, v);
  return out;
}

namespace detail {

class parser {
 public:
  explicit parser(std::string_view text) noexcept : s_(text) {}

  bool parse(value& out) {
    skip_ws();
    if (!parse_value(out, 0)) return false;
    skip_ws();
    return i_ == s_.size();
  }

 private:
  bool parse_value(value& out, int depth) {
    if (depth > 64 || i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{') return parse_object(out, depth);
    if (c == '[') return parse_array(out, depth);
    if (c == '"') {
      out.kind = value::string;
      return parse_string(out.text);
    }
    if (literal("true")) {
      out.kind = value::boolean;
      out.b = true;
      return true;
    }
    if (literal("false")) {
      out.kind = value::boolean;
      return true;
    }
    if (literal("null")) return true;
    return parse_number(out);
  }

  bool literal(std::string_view word) noexcept {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  bool parse_object(value& out, int depth) {
    out.kind = value::object;
    ++i_;
    skip_ws();
    if (peek('}')) return ++i_, true;
    for (;;) {
      skip_ws();
      std::string key;
      if (!peek('"') || !parse_string(key)) return false;
      if (out.find(key) != nullptr) return false;
      skip_ws();
      if (!peek(':')) return false;
      ++i_;
      skip_ws();
      value v;
      if (!parse_value(v, depth + 1)) return false;
      out.names.push_back(std::move(key));
      out.members.push_back(std::move(v));
      skip_ws();
      if (peek(',')) {
        ++i_;
        continue;
      }
      if (peek('}')) return ++i_, true;
      return false;
    }
  }

  bool parse_array(value& out, int depth) {
    out.kind = value::array;
    ++i_;
    skip_ws();
    if (peek(']')) return ++i_, true;
    for (;;) {
      skip_ws();
      value v;
      if (!parse_value(v, depth + 1)) return false;
      out.items.push_back(std::move(v));
      skip_ws();
      if (peek(',')) {
        ++i_;
        continue;
      }
      if (peek(']')) return ++i_, true;
      return false;
    }
  }

  bool parse_number(value& out) {
    const std::size_t start = i_;
    if (peek('-')) ++i_;
    if (peek('0')) {
      ++i_;
    } else if (digit()) {
      while (digit()) ++i_;
    } else {
      return false;
    }
    if (peek('.')) {
      ++i_;
      if (!digit()) return false;
      while (digit()) ++i_;
    }
    if (peek('e') || peek('E')) {
      ++i_;
      if (peek('+') || peek('-')) ++i_;
      if (!digit()) return false;
      while (digit()) ++i_;
    }
    out.kind = value::number;
    out.text = std::string(s_.substr(start, i_ - start));
    return true;
  }

  static void append_code_point(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool hex4(std::uint32_t& v) noexcept {
    if (s_.size() - i_ < 4) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<std::uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  }

  // One UTF-8 character, rejecting overlong forms, surrogates and values past U+10FFFF.
  bool utf8_char(std::string& out) {
    const auto b0 = static_cast<unsigned char>(s_[i_]);
    std::size_t len = 0;
    std::uint32_t cp = 0, min = 0;
    if ((b0 & 0xE0) == 0xC0) {
      len = 2, cp = b0 & 0x1Fu, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, cp = b0 & 0x0Fu, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, cp = b0 & 0x07u, min = 0x10000;
    } else {
      return false;
    }
    if (s_.size() - i_ < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s_[i_ + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    out.append(s_.data() + i_, len);
    i_ += len;
    return true;
  }

  bool parse_string(std::string& out) {
    ++i_;  // the opening quote
    while (i_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') return ++i_, true;
      if (c < 0x20) return false;
      if (c >= 0x80) {
        if (!utf8_char(out)) return false;
        continue;
      }
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        ++i_;
        continue;
      }
      if (++i_ >= s_.size()) return false;
      const char e = s_[i_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t lo = 0;
            if (!literal("\\u") || !hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          append_code_point(out, cp);
          break;
        }
        default: return false;
      }
    }
    return false;
  }

  void skip_ws() noexcept {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool peek(char c) const noexcept { return i_ < s_.size() && s_[i_] == c; }
  bool digit() const noexcept { return i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9'; }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace detail

inline bool parse(std::string_view text, value& out) {
  out = value();
  try {
    detail::parser p(text);
    if (p.parse(out)) return true;
  } catch (...) {  // out of memory: treat as unreadable
  }
  out = value();
  return false;
}

inline void write_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 0xF]);
        } else {
          out.push_back(ch);  // input strings are UTF-8 already
        }
    }
  }
  out.push_back('"');
}

inline void write(std::string& out, const value& v) {
  switch (v.kind) {
    case value::null_value: out += "null"; break;
    case value::boolean: out += v.b ? "true" : "false"; break;
    case value::number: out += v.text; break;
    case value::string: write_string(out, v.text); break;
    case value::array:
      out.push_back('[');
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        if (i != 0) out.push_back(',');
        write(out, v.items[i]);
      }
      out.push_back(']');
      break;
    case value::object:
      out.push_back('{');
      for (std::size_t i = 0; i < v.names.size(); ++i) {
        if (i != 0) out.push_back(',');
        write_string(out, v.names[i]);
        out.push_back(':');
        write(out, v.members[i]);
      }
      out.push_back('}');
      break;
  }
}

}  // namespace example_json
