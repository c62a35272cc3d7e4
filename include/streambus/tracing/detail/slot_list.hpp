// A list that keeps its elements' storage when cleared.
//
// Span records are recycled; clearing a std::vector would destroy the
// strings inside its elements and give their memory back, so the next span
// would allocate again. slot_list keeps the elements (and their capacity) and
// tracks how many are live, so a steady workload stops allocating.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

template <class T>
class slot_list {
 public:
  slot_list() = default;
  slot_list(const slot_list& other) : slots_(other.begin(), other.end()), size_(other.size_) {}
  slot_list& operator=(const slot_list& other) {
    if (this != &other) {
      clear();
      for (const T& item : other) next_slot() = item;
    }
    return *this;
  }
  // A moved-from list is empty: its count goes with the elements (a
  // defaulted move left it counting elements it no longer had).
  slot_list(slot_list&& other) noexcept : slots_(std::move(other.slots_)), size_(other.size_) { other.size_ = 0; }
  slot_list& operator=(slot_list&& other) noexcept {
    if (this != &other) {
      slots_ = std::move(other.slots_);
      size_ = other.size_;
      other.slots_.clear();
      other.size_ = 0;
    }
    return *this;
  }

  /// The next live element: a recycled one (holding old contents the caller
  /// overwrites) or a new default-constructed one.
  STREAMBUS_TRACING_ALWAYS_INLINE T& next_slot() {
    // A recycled slot is the steady state: one pointer compare in line, the
    // growth out of line (inlined together, GCC kept all of it out of line and
    // divided by sizeof(T) for size()).
    T* const next = slots_.data() + size_;
    if (next == slots_.data() + slots_.size()) return new_slot();
    ++size_;
    return *next;
  }
  /// Gives back the slot just taken by next_slot() (e.g. when filling it failed).
  void pop_back() noexcept {
    if (size_ > 0) --size_;
  }
  void clear() noexcept { size_ = 0; }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T& operator[](std::size_t i) noexcept { return slots_[i]; }
  const T& operator[](std::size_t i) const noexcept { return slots_[i]; }
  T* begin() noexcept { return slots_.data(); }
  T* end() noexcept { return slots_.data() + size_; }
  const T* begin() const noexcept { return slots_.data(); }
  const T* end() const noexcept { return slots_.data() + size_; }

 private:
  STREAMBUS_TRACING_NOINLINE T& new_slot() {
    slots_.emplace_back();
    return slots_[size_++];
  }

  std::vector<T> slots_;
  std::size_t size_ = 0;
};

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
