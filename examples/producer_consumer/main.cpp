// Message tracing across threads: a StreamBus-like topic in memory, a
// producer thread and a consumer thread, one trace per message.
//
// The producer starts each message's trace ("create order"), sends the
// message in a PRODUCER span (trace_produce_message writes its context into
// the message headers) and goes on with the next one. The consumer, on its
// own thread and later, reads the headers back: trace_consume_message
// starts a CONSUMER span that continues that trace (and links to the
// producer's span), and the processing nests under it. One order is
// invalid: its "handle order" span records the exception.
//
// The console exporter prints each side's tree when it ends (the consumer's
// spans have a remote parent, so they come as a tree of their own, with the
// same trace id). At the end the program checks, with an in-memory copy of
// the spans, that every message's consumer continued its producer's trace.
#include <streambus/tracing.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tracing = streambus::tracing;

namespace {

struct message {
  std::int64_t offset = 0;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;  // traceparent, tracestate travel here
};

// One partition of a topic: an in-memory queue with offsets.
class topic {
 public:
  explicit topic(std::string name) : name_(std::move(name)) {}
  const std::string& name() const noexcept { return name_; }

  std::int64_t publish(message m) {
    std::lock_guard<std::mutex> lock(mutex_);
    m.offset = next_offset_++;
    queue_.push_back(std::move(m));
    changed_.notify_one();
    return queue_.back().offset;
  }

  /// No more messages will come.
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }

  /// The next message; empty once the topic is closed and drained, or after `timeout`.
  std::optional<message> poll(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_; }) || queue_.empty())
      return std::nullopt;
    message m = std::move(queue_.front());
    queue_.pop_front();
    return m;
  }

 private:
  std::string name_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<message> queue_;
  std::int64_t next_offset_ = 0;
  bool closed_ = false;
};

void produce(tracing::tracer& tracer, topic& orders, const std::vector<std::pair<std::string, int>>& items) {
  for (const auto& [id, quantity] : items) {
    auto root = tracer.start("create order");  // a new trace per message
    root.set_attribute("order.id", id);
    message m;
    m.key = id;
    m.value = R"({"id":")" + id + R"(","quantity":)" + std::to_string(quantity) + "}";
    auto send = tracer.trace_produce_message(orders.name(), 0, m.key, m.value, m.headers);
    const std::int64_t offset = orders.publish(std::move(m));
    send.set_attribute("messaging.streambus.message.offset", offset);
  }
  orders.close();
}

void consume(tracing::tracer& tracer, topic& orders) {
  while (auto m = orders.poll(std::chrono::seconds(5))) {
    auto span = tracer.trace_consume_message(orders.name(), 0, m->offset, m->headers);
    try {
      tracer.instrumented_operation("handle order", [&](tracing::span& s) {
        s.set_attribute("order.id", m->key);
        if (m->value.find(R"("quantity":0)") != std::string::npos)
          throw std::invalid_argument("order " + m->key + ": quantity must be positive");
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the actual work
      });
    } catch (const std::invalid_argument&) {
      // Recorded on "handle order"; a real consumer would dead-letter the message.
    }
  }
}

}  // namespace

int main() {
  // What the console prints, plus a copy to check the traces at the end.
  auto memory = std::make_shared<tracing::in_memory_exporter>();
  tracing::tracer producer_tracer, consumer_tracer;
  try {
    tracing::config cfg;
    cfg.exporter = "console";
    cfg.exporters.push_back(memory);
    cfg.service_name = "order-producer";
    producer_tracer = tracing::tracer::create(cfg);
    cfg.service_name = "order-consumer";
    consumer_tracer = tracing::tracer::create(cfg);
  } catch (const tracing::config_error& e) {
    std::fprintf(stderr, "bad tracing config: %s\n", e.what());
    return 1;
  }

  topic orders("orders");
  const std::vector<std::pair<std::string, int>> items{{"A-1", 2}, {"A-2", 0}, {"A-3", 1}};
  std::thread consumer([&] { consume(consumer_tracer, orders); });
  std::thread producer([&] { produce(producer_tracer, orders, items); });
  producer.join();
  consumer.join();
  producer_tracer.shutdown();
  consumer_tracer.shutdown();

  // Every message: its CONSUMER span is the child of its PRODUCER span, in the
  // same trace, and every message has a trace of its own.
  std::map<std::int64_t, tracing::span_data> sent, processed;
  for (const auto& s : memory->spans()) {
    const auto* offset = s.attributes.find("messaging.streambus.message.offset");
    if (offset == nullptr || offset->get_if<std::int64_t>() == nullptr) continue;
    (s.kind == tracing::span_kind::producer ? sent : processed)[*offset->get_if<std::int64_t>()] = s;
  }
  bool ok = sent.size() == items.size() && processed.size() == items.size();
  std::map<tracing::trace_id, int> traces;
  for (const auto& [offset, p] : sent) {
    const auto it = processed.find(offset);
    const bool continued = it != processed.end() && it->second.context.trace_id() == p.context.trace_id() &&
                           it->second.parent_span_id == p.context.span_id();
    std::printf("message %lld: trace %s %s\n", static_cast<long long>(offset), p.context.trace_id().to_hex().c_str(),
                continued ? "continued by the consumer" : "NOT continued by the consumer");
    ok = ok && continued;
    ++traces[p.context.trace_id()];
  }
  ok = ok && traces.size() == items.size();
  std::printf("producer_consumer: %zu messages, %zu traces: %s\n", sent.size(), traces.size(), ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}
