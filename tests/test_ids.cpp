// Trace and span ids: generation, hex in and out, validity.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <cstring>
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
TEST_CASE("the eight-characters-at-a-time hex decoder agrees with the per-character rule for every byte in every position") {
  // hex8_to_bytes reads eight characters as one little-endian word; the
  // library calls it only on such hosts (hex_to_bytes), so a big-endian host
  // (s390x, checked under qemu) has nothing to test here.
  if (!st::detail::host_is_little_endian()) return;
  // Reference: lowercase hex digits only (W3C forbids uppercase in traceparent).
  const auto reference = [](const char* in, std::uint8_t* out) {
    for (int i = 0; i < 8; ++i) {
      const int v = st::detail::hex_value(in[i]);
      if (v < 0) return false;
      if (i % 2 == 0)
        out[i / 2] = static_cast<std::uint8_t>(v << 4);
      else
        out[i / 2] = static_cast<std::uint8_t>(out[i / 2] | v);
    }
    return true;
  };
  const char base[] = "0123a5f9";
  std::size_t mismatches = 0;
  for (int pos = 0; pos < 8; ++pos) {
    for (int c = 0; c < 256; ++c) {
      char in[8];
      std::memcpy(in, base, 8);
      in[pos] = static_cast<char>(c);
      std::uint8_t want[4] = {}, got[4] = {};
      const bool ok_want = reference(in, want);
      const bool ok_got = st::detail::hex8_to_bytes(in, got);
      if (ok_want != ok_got || (ok_want && std::memcmp(want, got, 4) != 0)) ++mismatches;
    }
  }
  CHECK(mismatches == 0);
  // Every valid pair of characters in every byte position decodes to its value.
  std::size_t wrong_values = 0;
  for (int v = 0; v < 256; ++v) {
    for (int pos = 0; pos < 4; ++pos) {
      char in[8];
      std::memcpy(in, "00000000", 8);
      in[2 * pos] = st::detail::hex_digits[v >> 4];
      in[2 * pos + 1] = st::detail::hex_digits[v & 0x0f];
      std::uint8_t got[4] = {};
      REQUIRE(st::detail::hex8_to_bytes(in, got));
      for (int b = 0; b < 4; ++b) wrong_values += got[b] != (b == pos ? v : 0) ? 1 : 0;
    }
  }
  CHECK(wrong_values == 0);
  // Through the id types: uppercase, a high byte and a NUL in the middle are rejected.
  CHECK(st::trace_id::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").valid());
  CHECK_FALSE(st::trace_id::from_hex("4bf92f3577b34da6a3ce929d0e0e473A").valid());
  std::string high = "00f067aaba902b70";
  high[8] = static_cast<char>(0xff);
  CHECK_FALSE(st::span_id::from_hex(high).valid());
  std::string nul = "00f067aaba902b70";
  nul[9] = '\0';
  CHECK_FALSE(st::span_id::from_hex(nul).valid());
}

#if defined(__SSE2__)
TEST_CASE("the sixteen-characters-at-a-time hex decoder and encoder agree with the per-character rule") {
  // Decoder: every byte value in every position of a valid span id.
  const char base[] = "0123a5f9bcde4768";
  std::size_t mismatches = 0;
  for (int pos = 0; pos < 16; ++pos) {
    for (int c = 0; c < 256; ++c) {
      char in[16];
      std::memcpy(in, base, 16);
      in[pos] = static_cast<char>(c);
      std::uint8_t want[8] = {}, got[8] = {};
      bool ok_want = true;
      for (int i = 0; i < 16; ++i) {
        const int v = st::detail::hex_value(in[i]);
        if (v < 0) ok_want = false;
        else want[i / 2] = static_cast<std::uint8_t>(i % 2 == 0 ? v << 4 : want[i / 2] | v);
      }
      const bool ok_got = st::detail::hex16_to_bytes(in, got);
      if (ok_want != ok_got || (ok_want && std::memcmp(want, got, 8) != 0)) ++mismatches;
    }
  }
  CHECK(mismatches == 0);
  // Encoder, and back: every byte value in every position.
  std::size_t wrong = 0;
  for (int v = 0; v < 256; ++v) {
    for (int pos = 0; pos < 8; ++pos) {
      std::uint8_t bytes[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
      bytes[pos] = static_cast<std::uint8_t>(v);
      char hex[16];
      st::detail::bytes8_to_hex(bytes, hex);
      for (int i = 0; i < 8; ++i)
        wrong += (hex[2 * i] != st::detail::hex_digits[bytes[i] >> 4] ||
                  hex[2 * i + 1] != st::detail::hex_digits[bytes[i] & 0x0f]) ? 1 : 0;
      std::uint8_t back[8] = {};
      REQUIRE(st::detail::hex16_to_bytes(hex, back));
      wrong += std::memcmp(back, bytes, 8) != 0 ? 1 : 0;
    }
  }
  CHECK(wrong == 0);
}
#endif

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

TEST_CASE("peeked draws are the draws that follow, and skip() moves past them") {
  // start(name) peeks an unsampled root span's three ids and advances the generator once.
  st::detail::id_generator a, b;
  a.reseed();
  b = a;
  for (int round = 0; round < 1000; ++round) {
    const unsigned n = 1 + static_cast<unsigned>(round % 3);
    std::uint64_t peeked[3] = {};
    for (unsigned k = 1; k <= n; ++k) peeked[k - 1] = a.peek(k);
    a.skip(n);
    for (unsigned k = 1; k <= n; ++k) REQUIRE(b.next_unchecked() == peeked[k - 1]);
  }
  CHECK(a.next_unchecked() == b.next_unchecked());  // both at the same point
  CHECK(a.peek(1) != a.peek(2));
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
