// Samplers: the ratio rule on the trace id's low 56 bits, and parent-based decisions.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

namespace st = streambus::tracing;

namespace {
// A tiny independent generator so the test does not depend on the library's PRNG.
std::uint64_t next_random(std::uint64_t& s) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}
std::vector<st::trace_id> random_trace_ids(std::size_t n) {
  std::uint64_t s = 0x9e3779b97f4a7c15ULL;
  std::vector<st::trace_id> ids;
  for (std::size_t i = 0; i < n; ++i) {
    const auto hi = next_random(s);
    ids.push_back(st::trace_id::from_u64(hi, next_random(s)));
  }
  return ids;
}
st::span_context parent(bool sampled, bool remote) {
  return st::span_context(st::trace_id::from_u64(1, 2), st::span_id::from_u64(3),
                          st::trace_flags(sampled ? st::trace_flags::sampled_bit : 0), remote);
}
}  // namespace

TEST_CASE("ratio threshold is (1 - ratio) * 2^56") {
  CHECK(st::sampler::trace_id_ratio(1.0).threshold() == 0);
  CHECK(st::sampler::trace_id_ratio(0.0).threshold() == (std::uint64_t{1} << 56));
  CHECK(st::sampler::trace_id_ratio(0.5).threshold() == (std::uint64_t{1} << 55));
  CHECK(st::sampler::trace_id_ratio(0.25).threshold() == 3 * (std::uint64_t{1} << 54));
  CHECK(st::sampler::trace_id_ratio(-3).ratio() == 0.0);
  CHECK(st::sampler::trace_id_ratio(7).ratio() == 1.0);
  // Just above 1 too: a threshold below 0 would wrap and sample nothing.
  CHECK(st::sampler::trace_id_ratio(1.5).ratio() == 1.0);
  CHECK(st::sampler::trace_id_ratio(1.5).threshold() == 0);
  CHECK(st::sampler::trace_id_ratio(1.0000001).should_sample({}, st::trace_id::from_u64(1, 0)));
}

TEST_CASE("description() is OpenTelemetry's GetDescription: TraceIdRatioBased{RATIO} and the others") {
  using st::sampler;
  using st::sampler_kind;
  CHECK(sampler::always_on().description() == "AlwaysOnSampler");
  CHECK(sampler::always_off().description() == "AlwaysOffSampler");
  CHECK(sampler::trace_id_ratio(0.25).description() == "TraceIdRatioBased{0.25}");
  CHECK(sampler::trace_id_ratio(0.1).description() == "TraceIdRatioBased{0.1}");  // shortest, not 0.1000000000000000055
  CHECK(sampler::trace_id_ratio(1).description() == "TraceIdRatioBased{1}");
  CHECK(sampler::trace_id_ratio(0).description() == "TraceIdRatioBased{0}");
  CHECK(sampler::parent_based(0.5).description() == "ParentBased{root:TraceIdRatioBased{0.5}}");
  CHECK(sampler(sampler_kind::parent_based_always_on).description() == "ParentBased{root:AlwaysOnSampler}");
  CHECK(sampler(sampler_kind::parent_based_always_off).description() == "ParentBased{root:AlwaysOffSampler}");
}

TEST_CASE("ratio decision compares the low 56 bits with the threshold") {
  const auto half = st::sampler::trace_id_ratio(0.5);
  const st::span_context none;
  // R = 2^55 exactly: sampled (R >= T); R = 2^55 - 1: not sampled.
  CHECK(half.should_sample(none, st::trace_id::from_u64(0, std::uint64_t{1} << 55)));
  CHECK_FALSE(half.should_sample(none, st::trace_id::from_u64(0, (std::uint64_t{1} << 55) - 1)));
  // The high 72 bits never matter.
  CHECK_FALSE(half.should_sample(none, st::trace_id::from_u64(~0ULL, 0xff00000000000000ULL)));
  CHECK(half.should_sample(none, st::trace_id::from_u64(0, 0x00ffffffffffffffULL)));
}

TEST_CASE("ratio sampling is deterministic and every service agrees") {
  const auto a = st::sampler::trace_id_ratio(0.3);
  const auto b = st::sampler::trace_id_ratio(0.3);
  for (const auto& id : random_trace_ids(10000)) {
    CHECK(a.should_sample({}, id) == b.should_sample({}, id));
    CHECK(a.should_sample({}, id) == a.should_sample({}, id));
  }
}

TEST_CASE("observed sampling rate over 100k trace ids matches the ratio") {
  const auto ids = random_trace_ids(100000);
  for (double ratio : {0.01, 0.1, 0.5, 0.9}) {
    const auto s = st::sampler::trace_id_ratio(ratio);
    std::size_t sampled = 0;
    for (const auto& id : ids) sampled += s.should_sample({}, id) ? 1 : 0;
    const double observed = static_cast<double>(sampled) / static_cast<double>(ids.size());
    CAPTURE(ratio);
    CHECK(std::abs(observed - ratio) < 0.006);  // > 5 standard deviations for n = 100k
  }
  std::size_t never = 0, always = 0;
  for (const auto& id : ids) {
    never += st::sampler::trace_id_ratio(0).should_sample({}, id) ? 1 : 0;
    always += st::sampler::trace_id_ratio(1).should_sample({}, id) ? 1 : 0;
  }
  CHECK(never == 0);
  CHECK(always == ids.size());
}

TEST_CASE("a higher ratio samples a superset of a lower ratio") {
  const auto low = st::sampler::trace_id_ratio(0.1);
  const auto high = st::sampler::trace_id_ratio(0.5);
  std::size_t low_count = 0;
  for (const auto& id : random_trace_ids(50000)) {
    if (low.should_sample({}, id)) {
      ++low_count;
      CHECK(high.should_sample({}, id));
    }
  }
  CHECK(low_count > 0);
}

TEST_CASE("parent-based samplers follow the parent, the root sampler otherwise") {
  const auto id = st::trace_id::from_u64(1, 0);  // randomness 0: only ratio 1 samples it
  for (bool remote : {false, true}) {
    CHECK(st::sampler::parent_based(0.0).should_sample(parent(true, remote), id));
    CHECK_FALSE(st::sampler::parent_based(1.0).should_sample(parent(false, remote), id));
    CHECK_FALSE(st::sampler(st::sampler_kind::parent_based_always_on).should_sample(parent(false, remote), id));
    CHECK(st::sampler(st::sampler_kind::parent_based_always_off).should_sample(parent(true, remote), id));
  }
  CHECK(st::sampler(st::sampler_kind::parent_based_always_on).should_sample({}, id));
  CHECK_FALSE(st::sampler(st::sampler_kind::parent_based_always_off).should_sample({}, id));
  CHECK_FALSE(st::sampler::parent_based(0.5).should_sample({}, id));
  CHECK(st::sampler::parent_based(1.0).should_sample({}, id));
  // Non-parent-based samplers ignore the parent.
  CHECK(st::sampler::always_on().should_sample(parent(false, true), id));
  CHECK_FALSE(st::sampler::always_off().should_sample(parent(true, true), id));
  CHECK_FALSE(st::sampler::trace_id_ratio(0.5).should_sample(parent(true, false), id));
}

// The decision table of the OpenTelemetry SDK specification, written out
// kind by kind, against the sampler's one-comparison form.
TEST_CASE("every sampler kind decides as the specification's table says") {
  using kind = st::sampler_kind;
  const auto reference = [](kind k, double ratio, const st::span_context& p, const st::trace_id& id) {
    const auto threshold = static_cast<std::uint64_t>(std::llround((1.0 - ratio) * 72057594037927936.0));
    const bool by_ratio = (id.low() & 0x00ffffffffffffffULL) >= threshold;
    switch (k) {
      case kind::always_on: return true;
      case kind::always_off: return false;
      case kind::trace_id_ratio: return by_ratio;
      case kind::parent_based_always_on: return p.valid() ? p.sampled() : true;
      case kind::parent_based_always_off: return p.valid() ? p.sampled() : false;
      case kind::parent_based_trace_id_ratio: return p.valid() ? p.sampled() : by_ratio;
    }
    return false;
  };
  const std::uint64_t half = std::uint64_t{1} << 55, top = (std::uint64_t{1} << 56) - 1;
  const std::vector<st::trace_id> ids{st::trace_id::from_u64(1, 0), st::trace_id::from_u64(1, 1),
                                      st::trace_id::from_u64(1, half - 1), st::trace_id::from_u64(1, half),
                                      st::trace_id::from_u64(1, top), st::trace_id::from_u64(~0ULL, ~0ULL)};
  const std::vector<st::span_context> parents{st::span_context{}, parent(true, false), parent(true, true),
                                              parent(false, false), parent(false, true)};
  int checked = 0;
  for (kind k : {kind::always_on, kind::always_off, kind::trace_id_ratio, kind::parent_based_always_on,
                 kind::parent_based_always_off, kind::parent_based_trace_id_ratio}) {
    for (double ratio : {0.0, 0.5, 1.0}) {
      const st::sampler s(k, ratio);
      for (const auto& p : parents)
        for (const auto& id : ids) {
          CHECK(s.should_sample(p, id) == reference(k, ratio, p, id));
          ++checked;
        }
    }
  }
  CHECK(checked == 6 * 3 * 5 * 6);
}

TEST_CASE("sampler names are the OTEL_TRACES_SAMPLER spellings") {
  CHECK(st::sampler::always_on().name() == "always_on");
  CHECK(st::sampler::always_off().name() == "always_off");
  CHECK(st::sampler::trace_id_ratio(0.1).name() == "traceidratio");
  CHECK(st::sampler::parent_based(0.1).name() == "parentbased_traceidratio");
  CHECK(st::sampler().name() == "parentbased_always_on");
  CHECK(st::sampler(st::sampler_kind::parent_based_always_off).name() == "parentbased_always_off");
}
