// Attribute values (bool, int64, double, string and homogeneous arrays of
// those, as OpenTelemetry defines them) and the per-span attribute list.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "detail/c_string.hpp"
#include "detail/copy_chars.hpp"
#include "detail/slot_list.hpp"
#include "detail/utf8.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

/// The order matches attribute_value's variant index.
enum class attribute_type : std::uint8_t {
  boolean,
  int64,
  float64,
  string,
  bool_array,
  int64_array,
  float64_array,
  string_array,
};

namespace detail {
// Character types count as integers ('c' is 99), as in the light API and
// OpenTelemetry's other SDKs; left out, they converted to bool (`true`).
// (__int128, an integer in GNU modes, is not: it would be cut to 64 bits.)
template <class T>
inline constexpr bool is_int_like_v =
    std::is_integral_v<T> && !std::is_same_v<std::remove_cv_t<T>, bool> && sizeof(T) <= 8;
template <class T>
inline constexpr bool is_stringish_v = std::is_convertible_v<const T&, std::string_view>;
// An element of an array value: bool, an integer that fits int64 (an
// unsigned 64-bit one may not), a floating-point number or a string.
template <class T>
inline constexpr bool is_array_item_v = std::is_same_v<T, bool> ||
                                        (is_int_like_v<T> && (std::is_signed_v<T> || sizeof(T) < 8)) ||
                                        std::is_floating_point_v<T> || is_stringish_v<T>;
template <class T>
struct is_array_of_items : std::false_type {};
template <class T, class A>
struct is_array_of_items<std::vector<T, A>> : std::bool_constant<is_array_item_v<T>> {};
}  // namespace detail

/// One typed attribute value. Construct it from any of the supported types:
/// integers become int64 (an unsigned value above INT64_MAX, which OTLP
/// cannot carry as an integer, is kept exactly as its decimal string),
/// floating point becomes double, anything convertible to std::string_view
/// becomes a string.
class attribute_value {
 public:
  using storage_type = std::variant<bool, std::int64_t, double, std::string, std::vector<bool>,
                                    std::vector<std::int64_t>, std::vector<double>, std::vector<std::string>>;

  attribute_value() noexcept : v_(false) {}
  // Copies build the new value in place. libstdc++ 12's own copy of this
  // variant, when the copy of a string or array throws (out of memory),
  // leaves the half-made variant's index unset and its destructor visits
  // garbage (a crash found by the out-of-memory test; plain std::variant
  // with five such alternatives does it too).
  attribute_value(const attribute_value& other) : v_(copy_of(other.v_)) {}
  attribute_value& operator=(const attribute_value& other) {
    if (this == &other) return *this;
    if (v_.index() == other.v_.index())
      v_ = other.v_;  // the same alternative, assigned in place: its buffer is reused
    else
      v_ = copy_of(other.v_);
    return *this;
  }
  attribute_value(attribute_value&&) noexcept = default;
  attribute_value& operator=(attribute_value&&) noexcept = default;
  ~attribute_value() = default;
  // Exactly bool: an enum, a std::atomic<int> or anything else that merely
  // converts to bool would be stored as `true`.
  template <class B, std::enable_if_t<std::is_same_v<B, bool>, int> = 0>
  attribute_value(B b) noexcept : v_(b) {}
  // The bool proxies a caller may hold: a std::vector<bool> element, a
  // std::atomic<bool> (templates, so that nothing converts to them).
  template <class R, std::enable_if_t<std::is_same_v<R, std::vector<bool>::reference>, int> = 0>
  attribute_value(const R& b) noexcept : v_(static_cast<bool>(b)) {}
  template <class A, std::enable_if_t<std::is_same_v<A, std::atomic<bool>>, int> = 0>
  attribute_value(const A& b) noexcept : v_(b.load(std::memory_order_relaxed)) {}
  template <class T, std::enable_if_t<detail::is_int_like_v<T>, int> = 0>
  attribute_value(T i) : v_(std::int64_t{0}) {
    set_integer(i);
  }
  template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  attribute_value(T d) noexcept : v_(static_cast<double>(d)) {}
  attribute_value(const char* s) : v_(std::string(s ? s : "")) {}
  // Any other pointer would convert to bool and be stored as `true`.
  template <class T, std::enable_if_t<!detail::is_stringish_v<T*>, int> = 0>
  attribute_value(T*) = delete;
  attribute_value(std::string_view s) : v_(std::string(s)) {}
  attribute_value(std::string s) noexcept : v_(std::move(s)) {}

  attribute_value(std::vector<bool> v) noexcept : v_(std::move(v)) {}
  attribute_value(std::vector<std::int64_t> v) noexcept : v_(std::move(v)) {}
  attribute_value(std::vector<double> v) noexcept : v_(std::move(v)) {}
  attribute_value(std::vector<std::string> v) noexcept : v_(std::move(v)) {}
  template <class T, std::enable_if_t<detail::is_int_like_v<T> && !std::is_same_v<T, std::int64_t> &&
                                          (std::is_signed_v<T> || sizeof(T) < 8),
                                      int> = 0>
  attribute_value(const std::vector<T>& v) : v_(std::vector<std::int64_t>(v.begin(), v.end())) {}
  template <class T, std::enable_if_t<std::is_floating_point_v<T> && !std::is_same_v<T, double>, int> = 0>
  attribute_value(const std::vector<T>& v) : v_(std::vector<double>(v.begin(), v.end())) {}
  template <class T, std::enable_if_t<detail::is_stringish_v<T> && !std::is_same_v<T, std::string>, int> = 0>
  attribute_value(const std::vector<T>& v) : v_(std::vector<std::string>{}) {
    auto& out = std::get<std::vector<std::string>>(v_);
    out.reserve(v.size());
    for (const auto& s : v) out.emplace_back(as_view(s));
  }
  template <class T>
  attribute_value(std::initializer_list<T> list) : attribute_value(std::vector<T>(list)) {}

  attribute_type type() const noexcept { return static_cast<attribute_type>(v_.index()); }
  const storage_type& storage() const noexcept { return v_; }
  storage_type& storage() noexcept { return v_; }

  template <class T>
  const T* get_if() const noexcept {
    return std::get_if<T>(&v_);
  }

  /// Assigns a string, reusing this value's string buffer when it already holds one.
  /// `s` may view this value's own string, not the items of an array it holds.
  void assign_string(std::string_view s) {
    if (auto* str = std::get_if<std::string>(&v_))
      detail::assign_chars(*str, s);
    else
      v_.emplace<std::string>(s);
  }

  /// Assigns the array [first, last), converted as the constructors do,
  /// reusing this value's array (and its strings' buffers) when it already
  /// holds one of that type: a recycled span slot then does not allocate.
  /// As for std::vector::assign, the items must not refer into this value
  /// (views of its own strings would dangle when the array grows).
  template <class It>
  void assign_array(It first, It last) {
    using item = typename std::iterator_traits<It>::value_type;
    static_assert(detail::is_array_item_v<item>, "an array attribute holds bools, integers, floats or strings");
    if constexpr (std::is_same_v<item, bool>) {
      reuse<std::vector<bool>>().assign(first, last);
    } else if constexpr (detail::is_int_like_v<item>) {
      reuse<std::vector<std::int64_t>>().assign(first, last);
    } else if constexpr (std::is_floating_point_v<item>) {
      reuse<std::vector<double>>().assign(first, last);
    } else {
      auto& out = reuse<std::vector<std::string>>();
      std::size_t n = 0;
      for (; first != last; ++first, ++n) {
        const std::string_view s = as_view(*first);
        if (n < out.size())
          detail::assign_chars(out[n], s);
        else
          out.emplace_back(s);
      }
      out.resize(n);
    }
  }

  friend bool operator==(const attribute_value& a, const attribute_value& b) { return a.v_ == b.v_; }
  friend bool operator!=(const attribute_value& a, const attribute_value& b) { return !(a == b); }

 private:
  template <class V>
  V& reuse() {
    if (V* held = std::get_if<V>(&v_)) return *held;
    return v_.template emplace<V>();
  }
  template <class T>
  static std::string_view as_view(const T& s) noexcept {
    if constexpr (std::is_pointer_v<T>)
      return s != nullptr ? std::string_view(s) : std::string_view();  // null: "", as for a single value
    else
      return std::string_view(s);
  }

  static storage_type copy_of(const storage_type& from) {
    if (from.valueless_by_exception()) return storage_type(false);  // not made by this class; never visited
    return std::visit([](const auto& x) { return storage_type(std::in_place_type<std::decay_t<decltype(x)>>, x); },
                      from);
  }

  template <class T>
  void set_integer(T i) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
      if (i > static_cast<T>(std::numeric_limits<std::int64_t>::max())) {
        v_ = std::to_string(i);
        return;
      }
    }
    v_ = static_cast<std::int64_t>(i);
  }

  storage_type v_;
};

/// A key and its value.
struct attribute {
  std::string key;
  attribute_value value;
};

/// One value of an attribute_init list. A string the caller keeps alive (a
/// literal, a std::string lvalue, a string_view) is only viewed, and copied
/// once, into the span's reused storage; so a list costs no allocation of its
/// own, however long its strings. Arrays likewise: a vector lvalue is viewed,
/// and a short braced list of plain items ({1, 2, 3}, {"a", "b"}; up to 32
/// bytes of them) is copied into the argument itself. Anything else (a
/// temporary string or vector, a longer list) is held as an attribute_value.
class attribute_arg {
  template <class T>
  static constexpr bool is_vector_lvalue_v =
      std::is_lvalue_reference_v<T> && detail::is_array_of_items<std::remove_cv_t<std::remove_reference_t<T>>>::value;

 public:
  attribute_arg(std::string_view s) noexcept : view_(s), is_view_(true) {}
  attribute_arg(const char* s) noexcept : view_(detail::view_or_empty(s)), is_view_(true) {}
  attribute_arg(const std::string& s) noexcept : view_(s), is_view_(true) {}
  attribute_arg(std::string&& s) noexcept : value_(std::move(s)) {}  // a temporary: owned, not viewed
  // (An attribute_value lvalue is taken by the forwarding constructor below,
  // a template: its copy is compiled only where one is passed.)
  attribute_arg(attribute_value&& v) noexcept : value_(std::move(v)) {}
  template <class T, class A, std::enable_if_t<detail::is_array_item_v<T>, int> = 0>
  attribute_arg(const std::vector<T, A>& items) noexcept : items_(&items), assign_items_(&assign_vector<std::vector<T, A>>) {}
  template <class T, std::enable_if_t<!detail::is_stringish_v<T> && !is_vector_lvalue_v<T&&> &&
                                          std::is_constructible_v<attribute_value, T&&>,
                                      int> = 0>
  attribute_arg(T&& v) : value_(std::forward<T>(v)) {}
  template <class T>
  attribute_arg(std::initializer_list<T> list) {
    if constexpr (std::is_trivially_copyable_v<T> && detail::is_array_item_v<T> && alignof(T) <= alignof(double)) {
      if (list.size() <= sizeof(inline_) / sizeof(T)) {
        if (list.size() != 0) std::memcpy(inline_, list.begin(), list.size() * sizeof(T));
        inline_count_ = list.size();
        assign_items_ = &assign_inline<T>;
        return;
      }
    }
    value_ = attribute_value(list);
  }

  /// Stores the value into dst, reusing dst's string or array storage.
  template <int = 0>  // compiled where used: it copies a whole value
  void assign_to(attribute_value& dst) const {
    if (is_view_)
      dst.assign_string(view_);
    else if (assign_items_ != nullptr)
      assign_items_(*this, dst);
    else
      dst = value_;
  }

 private:
  using assign_items_fn = void (*)(const attribute_arg&, attribute_value&);

  template <class V>
  static void assign_vector(const attribute_arg& a, attribute_value& dst) {
    const V& items = *static_cast<const V*>(a.items_);
    dst.assign_array(items.begin(), items.end());
  }
  template <class T>
  static void assign_inline(const attribute_arg& a, attribute_value& dst) {
    T items[sizeof(inline_) / sizeof(T)] = {};
    if (a.inline_count_ != 0) std::memcpy(items, a.inline_, a.inline_count_ * sizeof(T));
    dst.assign_array(items, items + a.inline_count_);
  }

  std::string_view view_;
  bool is_view_ = false;
  attribute_value value_;
  const void* items_ = nullptr;  // the vector viewed
  alignas(double) unsigned char inline_[32];  // a short braced list's items, copied
  std::size_t inline_count_ = 0;
  assign_items_fn assign_items_ = nullptr;  // set for a viewed or copied array
};

/// {{"key", value}, ...} — what set_attributes() and add_event() take.
/// Like the keys, viewed strings must outlive the call (they do, in a call's
/// own braced list).
using attribute_init = std::initializer_list<std::pair<std::string_view, attribute_arg>>;

namespace detail {

// Truncates to at most max_chars Unicode characters without splitting a
// UTF-8 sequence (the OpenTelemetry limit counts characters, not bytes).
// Characters as the encoders write them: a well-formed sequence, or the
// maximal subpart of an ill-formed one, which becomes one U+FFFD (counting an
// ill-formed lead byte and its continuation bytes as one once let 4 times the
// limit through). Out of line and cold: only a configured length limit calls
// it, and inlined it cost every attribute set 4 instructions (callgrind, bench case 2).
STREAMBUS_TRACING_COLD inline void truncate_utf8(std::string& s, std::size_t max_chars) {
  if (s.size() <= max_chars) return;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t i = 0;
  for (std::size_t chars = 0; chars < max_chars && i < s.size(); ++chars) {
    std::size_t bad = 0;
    const std::size_t length = utf8_sequence(p + i, s.size() - i, &bad);
    i += length != 0 ? length : bad;
  }
  if (i < s.size()) s.resize(i);
}

STREAMBUS_TRACING_COLD inline void apply_configured_length_limit(attribute_value& v, std::size_t max_chars) {
  if (auto* s = std::get_if<std::string>(&v.storage())) {
    truncate_utf8(*s, max_chars);
  } else if (auto* arr = std::get_if<std::vector<std::string>>(&v.storage())) {
    for (auto& item : *arr) truncate_utf8(item, max_chars);
  }
}

// Inline, the usual case (no limit configured) is one test and no call.
inline void apply_length_limit(attribute_value& v, std::size_t max_chars) {
  if (max_chars != std::numeric_limits<std::size_t>::max()) apply_configured_length_limit(v, max_chars);
}

// What set_attribute takes, checked with one message, also where tracing is
// compiled out (so that code compiled out still compiles in).
template <class T>
inline constexpr bool is_attribute_input_v = std::is_same_v<T, attribute_arg> || is_array_of_items<T>::value ||
                                             std::is_constructible_v<attribute_value, const T&>;
template <class T>
constexpr void check_attribute_input() noexcept {
  static_assert(is_attribute_input_v<T>,
                "an attribute value is a bool, an integer of up to 64 bits, a floating-point number, a string or an "
                "array of them; not a pointer, nor an enum (cast it to its integer)");
}

// Stores `value` into `dst`, reusing dst's string or array buffers so that a
// recycled slot does not allocate.
template <class T>
void assign_value(attribute_value& dst, const T& value) {
  check_attribute_input<T>();
  if constexpr (std::is_same_v<T, attribute_arg>) {
    value.assign_to(dst);
  } else if constexpr (std::is_same_v<T, attribute_value>) {
    dst = value;
  } else if constexpr (is_array_of_items<T>::value) {
    dst.assign_array(value.begin(), value.end());
  } else if constexpr (detail::is_stringish_v<T> && std::is_pointer_v<T>) {
    dst.assign_string(view_or_empty(value));  // null: "", as attribute_value
  } else if constexpr (detail::is_stringish_v<T> && !std::is_same_v<T, std::nullptr_t>) {
    dst.assign_string(std::string_view(value));
  } else if constexpr (std::is_same_v<T, bool>) {
    dst.storage() = value;  // a scalar straight into the variant: no temporary value to move
  } else if constexpr (std::is_floating_point_v<T>) {
    dst.storage() = static_cast<double>(value);
  } else if constexpr (is_int_like_v<T> && (std::is_signed_v<T> || sizeof(T) < sizeof(std::int64_t))) {
    dst.storage() = static_cast<std::int64_t>(value);
  } else {
    dst = attribute_value(value);  // an unsigned 64-bit value may become its decimal string
  }
}

}  // namespace detail

/// The attributes of a span, event, link or resource: unique keys, insertion
/// order, last write wins, a count limit beyond which new keys are dropped and
/// counted.
class attribute_list {
 public:
  /// Sets key to value. Returns false when the key was dropped (empty key, or
  /// a new key past count_limit). Existing keys are always updated.
  template <class T>
  bool set(std::string_view key, const T& value, std::size_t count_limit = 128,
           std::size_t length_limit = std::numeric_limits<std::size_t>::max()) {
    if (key.empty()) {
      ++dropped_;
      return false;
    }
    for (auto& a : slots_) {
      if (a.key == key) {
        detail::assign_value(a.value, value);
        detail::apply_length_limit(a.value, length_limit);
        return true;
      }
    }
    if (slots_.size() >= count_limit) {
      ++dropped_;
      return false;
    }
    attribute& slot = slots_.next_slot();
    detail::assign_chars(slot.key, key);
    keys_repaired_ = false;
    detail::assign_value(slot.value, value);
    detail::apply_length_limit(slot.value, length_limit);
    return true;
  }

  /// The value stored under key, or nullptr.
  const attribute_value* find(std::string_view key) const noexcept {
    for (const auto& a : slots_)
      if (a.key == key) return &a.value;
    return nullptr;
  }

  std::size_t size() const noexcept { return slots_.size(); }
  bool empty() const noexcept { return slots_.empty(); }
  /// How many attributes were dropped because of the count limit.
  std::uint32_t dropped() const noexcept { return dropped_; }
  void add_dropped(std::uint32_t n) noexcept { dropped_ += n; }
  const attribute* begin() const noexcept { return slots_.begin(); }
  const attribute* end() const noexcept { return slots_.end(); }
  const attribute& operator[](std::size_t i) const noexcept { return slots_[i]; }

  /// Empties the list, keeping storage for reuse.
  void clear() noexcept {
    slots_.clear();
    dropped_ = 0;
    keys_repaired_ = false;
  }

  /// Keys are compared as given, so two keys that are ill-formed UTF-8 in
  /// different ways (`user\xff`, `user\x80`) are two attributes, which the
  /// encoders' U+FFFD repair would write under one key (OTLP: keys MUST be
  /// unique). This repairs such keys and merges what then shares a key: the
  /// later value, at the earlier place. The pipeline runs it before exporters
  /// see a record (detail::settle_for_export), off the traced thread. Throws
  /// only std::bad_alloc (the keys are then left as they were).
  void repair_keys() {
    if (keys_repaired_) return;
    for (attribute& a : slots_) {  // ASCII keys, the usual ones, need nothing more
      if (!detail::is_ascii(reinterpret_cast<const unsigned char*>(a.key.data()), a.key.size())) {
        repair_keys_from(&a);
        break;
      }
    }
    keys_repaired_ = true;
  }

  /// True when every key is well-formed UTF-8 because repair_keys ran after
  /// the last new key: encoders then write keys without checking them again.
  bool keys_repaired() const noexcept { return keys_repaired_; }

 private:
  // repair_keys past its fast path: `from` is the first key that is not ASCII.
  STREAMBUS_TRACING_COLD void repair_keys_from(attribute* from) {
    bool repaired = false;
    for (attribute* a = from; a != slots_.end(); ++a) {
      if (detail::utf8_valid(a->key)) continue;
      std::string fixed = detail::utf8_repaired(a->key);
      a->key.swap(fixed);
      repaired = true;
    }
    if (!repaired) return;
    attribute* const first = slots_.begin();
    std::size_t kept = 0;
    for (attribute* a = first; a != slots_.end(); ++a) {
      attribute* same = first;
      while (same != first + kept && same->key != a->key) ++same;
      if (same != first + kept) {
        std::swap(same->value, a->value);  // a later set() of the "same" key wins
        continue;
      }
      if (a != first + kept) std::swap(first[kept], *a);
      ++kept;
    }
    while (slots_.size() > kept) slots_.pop_back();
  }

 public:

 private:
  detail::slot_list<attribute> slots_;
  std::uint32_t dropped_ = 0;
  bool keys_repaired_ = false;  // see keys_repaired()
};

STREAMBUS_TRACING_END_NAMESPACE
