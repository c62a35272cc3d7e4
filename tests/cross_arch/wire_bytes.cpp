// Prints every wire encoding of one rich batch (tests/support/rich_batch.hpp)
// as hex, and W3C ids as text, so that two hosts' outputs can be compared
// byte for byte: tools/check_big_endian.sh runs it on x86-64 and, under qemu,
// on s390x (big-endian). Protobuf fixed64/fixed32 and doubles are
// little-endian on the wire, Thrift is big-endian, hex ids are big-endian by
// definition: none may follow the host's byte order.
#include <streambus/tracing.hpp>
#include <streambus/tracing/jaeger_encoder.hpp>
#include <streambus/tracing/otlp_encoder.hpp>
#include <streambus/tracing/zipkin_encoder.hpp>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace st = streambus::tracing;

namespace {

#include "../support/rich_batch.hpp"

void print_hex(const char* what, const std::string& bytes) {
  std::printf("%s %zu bytes\n", what, bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i)
    std::printf("%02x%s", static_cast<unsigned char>(bytes[i]), (i % 32 == 31 || i + 1 == bytes.size()) ? "\n" : "");
}

}  // namespace

int main() {
  batch_fixture f;
  fill_resource(f);
  fill_rich_span(f.add());
  st::span_data& second = f.add();
  fill_rich_span(second);
  second.context = make_context(1, 2, 3, 0x01);  // a second span, other ids: repeated fields
  std::string out;
  st::otlp::encode_protobuf(f.batch(), out);
  print_hex("otlp-protobuf", out);
  out.clear();
  st::otlp::encode_json(f.batch(), out);
  print_hex("otlp-json", out);
  out.clear();
  st::jaeger::encode_thrift_batch(f.batch(), out);
  print_hex("jaeger-thrift", out);
  out.clear();
  st::jaeger::encode_ui_json(f.batch(), out);
  print_hex("jaeger-ui-json", out);
  out.clear();
  st::zipkin::encode_json_v2(f.batch(), out);
  print_hex("zipkin-json", out);

  const st::trace_id t = st::trace_id::from_hex("4bf92f3577b34da6a3ce929d0e0e4736");
  std::printf("trace_id %s high %016llx low %016llx randomness %016llx\n", t.to_hex().c_str(),
              static_cast<unsigned long long>(t.high()), static_cast<unsigned long long>(t.low()),
              static_cast<unsigned long long>(t.randomness()));
  const st::span_id s = st::span_id::from_hex("00f067aa0ba902b7");
  std::printf("span_id %s value %016llx from_u64 %s\n", s.to_hex().c_str(), static_cast<unsigned long long>(s.value()),
              st::span_id::from_u64(0xb7ad6b7169203331ULL).to_hex().c_str());
  st::span_context parsed;
  const bool ok = st::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", parsed);
  std::printf("traceparent parsed %d formatted %s\n", ok ? 1 : 0, st::format_traceparent(parsed).c_str());
  return 0;
}
