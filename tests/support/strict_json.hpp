// A strict RFC 8259 JSON reader for tests that check our JSON encoders, plus
// small doctest helpers (only where doctest is included). Included inside a test file's anonymous namespace, after
// doctest and the standard headers it needs (<string>, <vector>,
// <string_view>, <cstdint>, <cmath>, <initializer_list>).
#pragma once

struct json_value {
  enum kind_t { null_value, boolean, number, string, array, object } kind = null_value;
  bool b = false;
  std::string text;  // a number's literal text, or a string's decoded UTF-8
  std::vector<json_value> items;
  std::vector<std::string> names;
  std::vector<json_value> members;

  bool has(std::string_view key) const {
    for (const auto& n : names)
      if (n == key) return true;
    return false;
  }
  const json_value& operator[](std::string_view key) const {
    static const json_value missing;
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == key) return members[i];
    return missing;
  }
  const json_value& operator[](std::size_t i) const {
    static const json_value missing;
    return i < items.size() ? items[i] : missing;
  }
  const std::vector<std::string>& keys() const { return names; }
};

// RFC 8259, strictly: no trailing commas, no leading zeros, no raw control
// characters or ill-formed UTF-8 in strings, no lone surrogate escapes, no
// duplicate keys, nothing after the value.
class json_parser {
 public:
  explicit json_parser(std::string_view text) : s_(text) {}
  bool parse(json_value& out) {
    skip_ws();
    if (!value(out, 0)) return false;
    skip_ws();
    return i_ == s_.size();
  }

 private:
  bool value(json_value& out, int depth) {
    if (depth > 64 || i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{') return object(out, depth);
    if (c == '[') return array(out, depth);
    if (c == '"') {
      out.kind = json_value::string;
      return string(out.text);
    }
    if (literal("true")) {
      out.kind = json_value::boolean;
      out.b = true;
      return true;
    }
    if (literal("false")) {
      out.kind = json_value::boolean;
      return true;
    }
    if (literal("null")) return true;
    return number(out);
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  bool object(json_value& out, int depth) {
    out.kind = json_value::object;
    ++i_;
    skip_ws();
    if (peek('}')) return ++i_, true;
    for (;;) {
      skip_ws();
      std::string key;
      if (!peek('"') || !string(key)) return false;
      if (out.has(key)) return false;
      skip_ws();
      if (!peek(':')) return false;
      ++i_;
      skip_ws();
      json_value v;
      if (!value(v, depth + 1)) return false;
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
  bool array(json_value& out, int depth) {
    out.kind = json_value::array;
    ++i_;
    skip_ws();
    if (peek(']')) return ++i_, true;
    for (;;) {
      skip_ws();
      json_value v;
      if (!value(v, depth + 1)) return false;
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
  bool number(json_value& out) {
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
    out.kind = json_value::number;
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
  bool hex4(std::uint32_t& v) {
    if (s_.size() - i_ < 4) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
      else return false;
    }
    return true;
  }
  bool utf8_char(std::string& out) {
    const auto b0 = static_cast<unsigned char>(s_[i_]);
    std::size_t len;
    std::uint32_t cp, min;
    if ((b0 & 0xE0) == 0xC0) len = 2, cp = b0 & 0x1Fu, min = 0x80;
    else if ((b0 & 0xF0) == 0xE0) len = 3, cp = b0 & 0x0Fu, min = 0x800;
    else if ((b0 & 0xF8) == 0xF0) len = 4, cp = b0 & 0x07u, min = 0x10000;
    else return false;
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
  bool string(std::string& out) {
    ++i_;
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
          std::uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t lo;
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
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool peek(char c) const { return i_ < s_.size() && s_[i_] == c; }
  bool digit() const { return i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9'; }

  std::string_view s_;
  std::size_t i_ = 0;
};

#ifdef DOCTEST_LIBRARY_INCLUDED  // the reader alone serves the fuzzer, which has no doctest
json_value parse_json(const std::string& text) {
  json_value v;
  json_parser p(text);
  const bool ok = p.parse(v);
  INFO("JSON: " << text.substr(0, 2000));
  REQUIRE(ok);
  return v;
}

[[maybe_unused]] void check_keys(const json_value& obj, std::initializer_list<std::string_view> keys) {
  REQUIRE(obj.kind == json_value::object);
  REQUIRE(obj.names.size() == keys.size());
  std::size_t i = 0;
  for (const auto k : keys) CHECK(obj.names[i++] == k);
}
#endif  // DOCTEST_LIBRARY_INCLUDED
