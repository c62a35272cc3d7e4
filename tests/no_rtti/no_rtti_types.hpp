// Types whose names error.type must carry without RTTI.
#pragma once

#include <stdexcept>

namespace no_rtti_test {
struct bad_thing {};
struct my_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace no_rtti_test
