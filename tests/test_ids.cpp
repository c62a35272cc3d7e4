// Trace and span ids: generation, hex in and out, validity.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#if !defined(STREAMBUS_TRACING_DISABLED)
#include <sys/wait.h>
#include <unistd.h>
#endif

namespace st = streambus::tracing;

TEST_CASE("trace_id hex round trip uses lowercase and exact length") {
  const auto id = st::trace_id::from_hex("4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(id.valid());
  CHECK(id.to_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(id.high() == 0x4bf92f3577b34da6ULL);
  CHECK(id.low() == 0xa3ce929d0e0e4736ULL);
  CHECK(id.randomness() == 0xce929d0e0e4736ULL);
  CHECK(st::trace_id::from_u64(id.high(), id.low()) == id);

  const auto sid = st::span_id::from_hex("00f067aa0ba902b7");
  CHECK(sid.valid());
  CHECK(sid.value() == 0x00f067aa0ba902b7ULL);
  CHECK(sid.to_hex() == "00f067aa0ba902b7");
}

TEST_CASE("malformed hex ids are rejected, all-zero ids are invalid") {
  st::trace_id out = st::trace_id::from_hex("4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK_FALSE(st::trace_id::from_hex("4BF92F3577B34DA6A3CE929D0E0E4736", out));  // uppercase
  CHECK_FALSE(st::trace_id::from_hex("4bf92f3577b34da6a3ce929d0e0e473", out));   // short
  CHECK_FALSE(st::trace_id::from_hex("4bf92f3577b34da6a3ce929d0e0e47360", out)); // long
  CHECK_FALSE(st::trace_id::from_hex("4bf92f3577b34da6a3ce929d0e0e473g", out));  // not hex
  CHECK(out.to_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");                     // untouched
  CHECK_FALSE(st::trace_id::from_hex("00000000000000000000000000000000").valid());
  CHECK_FALSE(st::span_id::from_hex("0000000000000000").valid());
  CHECK_FALSE(st::span_id{}.valid());
  CHECK_FALSE(st::trace_id::from_hex("").valid());
}

#if !defined(STREAMBUS_TRACING_DISABLED)
TEST_CASE("generated ids are non-zero and unique over one million draws") {
  std::unordered_set<std::uint64_t> seen;
  seen.reserve(1'000'000);
  for (int i = 0; i < 1'000'000; ++i) {
    const std::uint64_t v = st::detail::random_nonzero_u64();
    REQUIRE(v != 0);
    seen.insert(v);
  }
  CHECK(seen.size() == 1'000'000);
}

TEST_CASE("threads draw different id sequences") {
  std::vector<std::uint64_t> a, b;
  std::thread t1([&] { for (int i = 0; i < 1000; ++i) a.push_back(st::detail::random_nonzero_u64()); });
  std::thread t2([&] { for (int i = 0; i < 1000; ++i) b.push_back(st::detail::random_nonzero_u64()); });
  t1.join();
  t2.join();
  std::set<std::uint64_t> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  CHECK(all.size() == 2000);
}

TEST_CASE("a forked child does not repeat its parent's ids") {
  st::detail::random_nonzero_u64();  // make sure this thread's generator exists
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const std::uint64_t v = st::detail::random_nonzero_u64();
    (void)!::write(fds[1], &v, sizeof v);
    ::_exit(0);
  }
  const std::uint64_t parent_next = st::detail::random_nonzero_u64();
  std::uint64_t child_next = 0;
  REQUIRE(::read(fds[0], &child_next, sizeof child_next) == static_cast<ssize_t>(sizeof child_next));
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(fds[0]);
  ::close(fds[1]);
  CHECK(child_next != 0);
  CHECK(child_next != parent_next);
}
#endif
