// Head sampling, decided once when a span starts.
//
// The ratio rule (OpenTelemetry consistent probability sampling, the
// TraceIdRatioBased algorithm of the current specification):
//   R = the trace id's low 56 bits (random per W3C Level 2),
//   T = round((1 - ratio) * 2^56),
//   sampled  <=>  R >= T.
// Every service with the same ratio takes the same decision for a trace, and a
// higher ratio samples a superset of what a lower one samples.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "context.hpp"
#include "detail/float_class.hpp"
#include "ids.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

enum class sampler_kind : std::uint8_t {
  always_on,
  always_off,
  trace_id_ratio,
  parent_based_always_on,   // the OpenTelemetry default
  parent_based_always_off,
  parent_based_trace_id_ratio,
};

/// A sampler is a value: a kind and, for the ratio kinds, a probability.
class sampler {
 public:
  static constexpr std::uint64_t max_threshold = std::uint64_t{1} << 56;

  constexpr sampler() noexcept = default;
  /// ratio is clamped to [0, 1]; NaN counts as 0.
  sampler(sampler_kind kind, double ratio = 1.0) noexcept : kind_(kind) {
    set_ratio(ratio);
    follows_parent_ = kind == sampler_kind::parent_based_always_on || kind == sampler_kind::parent_based_always_off ||
                      kind == sampler_kind::parent_based_trace_id_ratio;
    if (kind == sampler_kind::always_on || kind == sampler_kind::parent_based_always_on)
      root_threshold_ = 0;
    else if (kind == sampler_kind::always_off || kind == sampler_kind::parent_based_always_off)
      root_threshold_ = max_threshold;
    else
      root_threshold_ = threshold_;
  }

  static sampler always_on() noexcept { return sampler(sampler_kind::always_on); }
  static sampler always_off() noexcept { return sampler(sampler_kind::always_off); }
  static sampler trace_id_ratio(double ratio) noexcept { return sampler(sampler_kind::trace_id_ratio, ratio); }
  static sampler parent_based(double root_ratio = 1.0) noexcept {
    return sampler(sampler_kind::parent_based_trace_id_ratio, root_ratio);
  }

  sampler_kind kind() const noexcept { return kind_; }
  double ratio() const noexcept { return ratio_; }
  std::uint64_t threshold() const noexcept { return threshold_; }

  /// Decision for a new span. `parent` may be invalid (a root span).
  bool should_sample(const span_context& parent, const trace_id& trace) const noexcept {
    // Every kind is "the parent's decision, if it follows parents and there is
    // one; else the ratio rule", with threshold 0 for always-on and 2^56 for
    // always-off (set_ratio): one comparison instead of a switch per span.
    if (follows_parent_ && parent.valid()) return parent.sampled();
    return samples_root(trace.randomness());
  }

  // should_sample in two pieces, for the tracer's hot path, which has the
  // randomness of a new trace id in a register.
  /// True if a span with a parent takes the parent's decision.
  bool follows_parent() const noexcept { return follows_parent_; }
  /// The decision where the parent's is not taken; `randomness` is the trace
  /// id's 56 rightmost bits (trace_id::randomness).
  bool samples_root(std::uint64_t randomness) const noexcept { return randomness >= root_threshold_; }

  /// The ratio rule alone (see the file comment).
  bool ratio_decision(const trace_id& trace) const noexcept { return trace.randomness() >= threshold_; }

  /// The OTEL_TRACES_SAMPLER spelling of this sampler.
  std::string_view name() const noexcept {
    switch (kind_) {
      case sampler_kind::always_on: return "always_on";
      case sampler_kind::always_off: return "always_off";
      case sampler_kind::trace_id_ratio: return "traceidratio";
      case sampler_kind::parent_based_always_on: return "parentbased_always_on";
      case sampler_kind::parent_based_always_off: return "parentbased_always_off";
      case sampler_kind::parent_based_trace_id_ratio: return "parentbased_traceidratio";
    }
    return "unknown";
  }

  /// The OpenTelemetry Sampler's GetDescription: "AlwaysOnSampler",
  /// "AlwaysOffSampler", "TraceIdRatioBased{RATIO}" (RATIO the shortest
  /// decimal that reads back as the ratio, as the specification asks), and
  /// for the parent-based kinds "ParentBased{root:<root's>}".
  std::string description() const {
    switch (kind_) {
      case sampler_kind::always_on: return "AlwaysOnSampler";
      case sampler_kind::always_off: return "AlwaysOffSampler";
      case sampler_kind::trace_id_ratio: return ratio_description();
      case sampler_kind::parent_based_always_on: return "ParentBased{root:AlwaysOnSampler}";
      case sampler_kind::parent_based_always_off: return "ParentBased{root:AlwaysOffSampler}";
      case sampler_kind::parent_based_trace_id_ratio: return "ParentBased{root:" + ratio_description() + "}";
    }
    return "unknown";
  }

 private:
  std::string ratio_description() const {
    char buf[32];
    return "TraceIdRatioBased{" + std::string(buf, detail::write_double_text(ratio_, buf)) + "}";
  }

  void set_ratio(double ratio) noexcept {
    if (detail::is_nan_double(ratio) || !(ratio > 0.0)) ratio = 0.0;  // bits, not a comparison, for NaN: -ffast-math
    if (ratio > 1.0) ratio = 1.0;
    ratio_ = ratio;
    threshold_ = static_cast<std::uint64_t>(std::llround((1.0 - ratio) * static_cast<double>(max_threshold)));
  }

  sampler_kind kind_ = sampler_kind::parent_based_always_on;
  double ratio_ = 1.0;
  std::uint64_t threshold_ = 0;       // the ratio's
  std::uint64_t root_threshold_ = 0;  // the one applied without a parent to follow
  bool follows_parent_ = true;
};

STREAMBUS_TRACING_END_NAMESPACE
