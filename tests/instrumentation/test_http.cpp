// The cpp-httplib middleware and client helpers against a real server and
// client on 127.0.0.1: the client side and the server side use separate
// tracers (two "services"), and every test checks the span tree they build.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>
#include <streambus/tracing/http.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../support/string_attribute.hpp"
#include "../support/tls_files.hpp"

namespace st = streambus::tracing;
namespace sth = streambus::tracing::http;
using namespace std::chrono_literals;

namespace {

struct service {
  std::shared_ptr<st::in_memory_exporter> memory = std::make_shared<st::in_memory_exporter>();
  st::tracer tracer;

  explicit service(const char* name) {
    st::config cfg;
    cfg.read_environment = false;
    cfg.exporter = "none";
    cfg.service_name = name;
    cfg.exporters.push_back(memory);
    tracer = st::tracer::create(cfg);
  }

  std::vector<st::span_data> spans() const { return memory->spans(); }

  std::vector<st::span_data> all_named(std::string_view name) const {
    std::vector<st::span_data> found;
    for (auto& s : spans())
      if (s.name == name) found.push_back(s);
    return found;
  }

  st::span_data named(std::string_view name) const {
    auto found = all_named(name);
    REQUIRE_MESSAGE(found.size() == 1, "spans named '" << std::string(name) << "': " << found.size());
    return found.front();
  }

  st::span_data only() const {
    auto all = spans();
    REQUIRE(all.size() == 1);
    return all.front();
  }
};

// A real cpp-httplib server on 127.0.0.1 (any free port), always stopped.
class test_server {
 public:
  explicit test_server(const std::function<void(httplib::Server&)>& setup) {
    server_.set_read_timeout(5, 0);
    server_.set_write_timeout(5, 0);
    server_.set_keep_alive_timeout(1);
    setup(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    const auto start = std::chrono::steady_clock::now();
    while (!server_.is_running() && std::chrono::steady_clock::now() - start < 5s) std::this_thread::sleep_for(1ms);
    REQUIRE(server_.is_running());
  }
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;
  ~test_server() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }
  std::unique_ptr<httplib::Client> client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_connection_timeout(2, 0);
    c->set_read_timeout(5, 0);
    c->set_write_timeout(5, 0);
    return c;
  }

 private:
  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
};

std::optional<std::int64_t> int_attr(const st::attribute_list& attrs, std::string_view key) {
  const auto* v = attrs.find(key);
  if (v == nullptr) return std::nullopt;
  const auto* i = v->get_if<std::int64_t>();
  REQUIRE_MESSAGE(i != nullptr, "attribute " << std::string(key) << " is not an int64");
  return *i;
}

bool has_attr(const st::attribute_list& attrs, std::string_view key) { return attrs.find(key) != nullptr; }

const st::span_event* find_event(const st::span_data& s, std::string_view name) {
  for (const auto& e : s.events)
    if (e.name == name) return &e;
  return nullptr;
}

// The client span's identity must be the server span's remote parent.
void check_parent_child(const st::span_data& client, const st::span_data& server) {
  CHECK(client.kind == st::span_kind::client);
  CHECK(server.kind == st::span_kind::server);
  CHECK(server.context.trace_id() == client.context.trace_id());
  CHECK(server.parent_span_id == client.context.span_id());
  CHECK(server.parent_is_remote);
}

}  // namespace

TEST_CASE("traced handler: the SERVER span is the CLIENT span's child, with the HTTP conventions on both") {
  service front("front"), back("back");
  st::span_context inner_parent;
  test_server srv([&](httplib::Server& s) {
    s.Get(R"(/users/(\d+))", sth::traced(back.tracer, "/users/{id}",
                                         [&](const httplib::Request& req, httplib::Response& res) {
                                           inner_parent = back.tracer.current_context();
                                           auto work = back.tracer.start("load-user");
                                           res.set_content("user " + req.matches[1].str(), "text/plain");
                                         }));
  });
  auto client = srv.client();
  st::span_context root_ctx;
  {
    auto root = front.tracer.start("checkout");
    root_ctx = root.context();
    const auto result = sth::get(front.tracer, *client, "/users/7?verbose=1");
    REQUIRE(result);
    CHECK(result->status == 200);
    CHECK(result->body == "user 7");
  }

  const auto c = front.named("GET");
  const auto s = back.named("GET /users/{id}");
  check_parent_child(c, s);
  CHECK(back.named("load-user").parent_span_id == s.context.span_id());
  CHECK(c.parent_span_id == root_ctx.span_id());
  CHECK(c.context.trace_id() == root_ctx.trace_id());

  CHECK(s.name == "GET /users/{id}");
  CHECK(str_attr(s.attributes, "http.request.method") == "GET");
  CHECK(str_attr(s.attributes, "url.path") == "/users/7");
  CHECK(str_attr(s.attributes, "url.query") == "verbose=1");
  CHECK(str_attr(s.attributes, "url.scheme") == "http");
  CHECK(str_attr(s.attributes, "http.route") == "/users/{id}");
  CHECK(str_attr(s.attributes, "server.address") == "127.0.0.1");
  CHECK(int_attr(s.attributes, "server.port") == srv.port());
  CHECK(str_attr(s.attributes, "client.address") == "127.0.0.1");
  CHECK(str_attr(s.attributes, "network.peer.address") == "127.0.0.1");
  CHECK(int_attr(s.attributes, "network.peer.port").value_or(0) > 0);
  CHECK(str_attr(s.attributes, "user_agent.original").value_or("").rfind("cpp-httplib/", 0) == 0);
  CHECK(str_attr(s.attributes, "network.protocol.version") == "1.1");
  CHECK(int_attr(s.attributes, "http.response.status_code") == 200);
  CHECK(s.status == st::status_code::unset);
  CHECK_FALSE(has_attr(s.attributes, "error.type"));
  CHECK(inner_parent.span_id() == s.context.span_id());  // the server span was current in the handler

  CHECK(str_attr(c.attributes, "http.request.method") == "GET");
  CHECK(str_attr(c.attributes, "server.address") == "127.0.0.1");
  CHECK(int_attr(c.attributes, "server.port") == srv.port());
  CHECK(str_attr(c.attributes, "url.full") ==
        "http://127.0.0.1:" + std::to_string(srv.port()) + "/users/7?verbose=1");
  CHECK(int_attr(c.attributes, "http.response.status_code") == 200);
  CHECK(str_attr(c.attributes, "network.protocol.version") == "1.1");
  CHECK(c.status == st::status_code::unset);
  CHECK_FALSE(has_attr(c.attributes, "error.type"));
}

// The URL conventions: values of AWSAccessKeyId, Signature, sig and
// X-Goog-Signature "SHOULD be redacted by default and replaced by the value
// REDACTED" in url.query and url.full.
TEST_CASE("signed-URL credentials in the query are redacted on both sides, other parameters kept") {
  service front("front");
  service back("back");
  test_server srv([&](httplib::Server& s) {
    s.Get("/blob", sth::traced(back.tracer, "/blob", [](const httplib::Request& req, httplib::Response& res) {
            res.set_content(req.get_param_value("sig"), "text/plain");  // the handler still sees the value
          }));
  });
  auto client = srv.client();
  const auto result = sth::get(front.tracer, *client, "/blob?sv=2020&sig=s3cr3t&AWSAccessKeyId=AKIA&x=1&Signature=");
  REQUIRE(result);
  CHECK(result->body == "s3cr3t");
  const auto s = back.named("GET /blob");
  CHECK(str_attr(s.attributes, "url.query") == "sv=2020&sig=REDACTED&AWSAccessKeyId=REDACTED&x=1&Signature=REDACTED");
  CHECK(str_attr(front.named("GET").attributes, "url.full") ==
        "http://127.0.0.1:" + std::to_string(srv.port()) +
            "/blob?sv=2020&sig=REDACTED&AWSAccessKeyId=REDACTED&x=1&Signature=REDACTED");
}

TEST_CASE("query redaction: only the listed keys, exactly; empty parameters and fragments survive") {
  using sth::detail::path_with_redacted_query;
  using sth::detail::redacted_query;
  CHECK(redacted_query("X-Goog-Signature=abc") == "X-Goog-Signature=REDACTED");
  CHECK(redacted_query("signature=abc&SIG=1&sigx=2&xsig=3") == "signature=abc&SIG=1&sigx=2&xsig=3");  // case and whole key
  CHECK(redacted_query("&&sig=a&") == "&&sig=REDACTED&");
  CHECK(redacted_query("sig") == "sig");  // no value to hide
  CHECK(redacted_query("") == "");
  CHECK_FALSE(sth::detail::has_sensitive_query_value("sig&x=1"));
  CHECK(sth::detail::has_sensitive_query_value("x=1&sig=="));
  CHECK(path_with_redacted_query("/a?sig=1#frag?sig=2") == "/a?sig=REDACTED#frag?sig=2");
  CHECK(path_with_redacted_query("/a") == "/a");
  CHECK(path_with_redacted_query("/a?") == "/a?");
  CHECK(path_with_redacted_query("/a?x=1#f") == "/a?x=1#f");  // a fragment after a kept query, once
  CHECK(path_with_redacted_query("/a?x=1&sig=2#f") == "/a?x=1&sig=REDACTED#f");
}

TEST_CASE("traced handler: tracestate crosses the hop; a request without traceparent starts a new trace") {
  service back("back");
  test_server srv([&](httplib::Server& s) {
    s.Get("/ping", sth::traced(back.tracer, "/ping", [](const httplib::Request&, httplib::Response& res) {
            res.set_content("pong", "text/plain");
          }));
  });
  auto client = srv.client();
  httplib::Headers headers{{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
                           {"tracestate", "rojo=00f067aa0ba902b7"}};
  REQUIRE(client->Get("/ping", headers));
  REQUIRE(client->Get("/ping"));
  const auto spans = back.all_named("GET /ping");
  REQUIRE(spans.size() == 2);
  CHECK(spans[0].context.trace_id().to_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(spans[0].parent_span_id.to_hex() == "00f067aa0ba902b7");
  CHECK(spans[0].context.trace_state().header() == "rojo=00f067aa0ba902b7");
  CHECK_FALSE(spans[1].parent_span_id.valid());
  CHECK(spans[1].context.trace_id() != spans[0].context.trace_id());
}

// OTEL_SDK_DISABLED "has no effect on propagators": a service in the middle
// with tracing off keeps the trace whole (front -> middle (off) -> back).
TEST_CASE("traced handler: a service with tracing off in the middle passes the trace on unchanged") {
  service front("front");
  service back("back");
  st::config off_cfg;
  off_cfg.enabled = false;
  off_cfg.read_environment = false;
  st::tracer middle = st::tracer::create(off_cfg);
  REQUIRE_FALSE(middle.is_enabled());
  test_server back_srv([&](httplib::Server& s) {
    s.Get("/stock", sth::traced(back.tracer, "/stock", [](const httplib::Request&, httplib::Response& res) {
            res.set_content("7", "text/plain");
          }));
  });
  test_server middle_srv([&](httplib::Server& s) {
    s.Get("/order", sth::traced(middle, "/order", [&](const httplib::Request&, httplib::Response& res) {
            auto downstream = back_srv.client();
            const auto r = sth::get(middle, *downstream, "/stock");
            res.status = r && r->status == 200 ? 200 : 502;
          }));
  });
  auto client = middle_srv.client();
  {
    auto root = front.tracer.start("place order");
    const auto r = sth::get(front.tracer, *client, "/order");
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  REQUIRE(front.tracer.force_flush());
  REQUIRE(back.tracer.force_flush());
  const auto front_client = front.named("GET");
  const auto back_server = back.named("GET /stock");
  CHECK(back_server.context.trace_id() == front_client.context.trace_id());
  CHECK(back_server.parent_span_id == front_client.context.span_id());  // the middle adds no hop
  CHECK(back_server.parent_is_remote);
  CHECK(middle.stats().spans_started == 0);
}

TEST_CASE("traced handler: 5xx is ERROR on both sides, 4xx only on the client side") {
  service front("front"), back("back");
  test_server srv([&](httplib::Server& s) {
    s.Get("/broken", sth::traced(back.tracer, "/broken",
                                 [](const httplib::Request&, httplib::Response& res) { res.status = 503; }));
    s.Get("/missing-item", sth::traced(back.tracer, "/missing-item",
                                       [](const httplib::Request&, httplib::Response& res) { res.status = 404; }));
  });
  auto client = srv.client();
  const auto r1 = sth::get(front.tracer, *client, "/broken");
  REQUIRE(r1);
  CHECK(r1->status == 503);
  const auto r2 = sth::get(front.tracer, *client, "/missing-item");
  REQUIRE(r2);
  CHECK(r2->status == 404);

  const auto s503 = back.named("GET /broken");
  CHECK(s503.status == st::status_code::error);
  CHECK(s503.status_message.empty());  // the status code says it all
  CHECK(int_attr(s503.attributes, "http.response.status_code") == 503);
  CHECK(str_attr(s503.attributes, "error.type") == "503");

  const auto s404 = back.named("GET /missing-item");
  CHECK(s404.status == st::status_code::unset);
  CHECK(int_attr(s404.attributes, "http.response.status_code") == 404);
  CHECK_FALSE(has_attr(s404.attributes, "error.type"));

  const auto clients = front.all_named("GET");
  REQUIRE(clients.size() == 2);
  CHECK(clients[0].status == st::status_code::error);
  CHECK(str_attr(clients[0].attributes, "error.type") == "503");
  CHECK(clients[1].status == st::status_code::error);
  CHECK(str_attr(clients[1].attributes, "error.type") == "404");
  CHECK(int_attr(clients[1].attributes, "http.response.status_code") == 404);
  check_parent_child(clients[0], s503);
  check_parent_child(clients[1], s404);
}

TEST_CASE("traced handler: an unmatched path (404) reaches no handler and makes no server span") {
  service front("front"), back("back");
  test_server srv([&](httplib::Server& s) {
    s.Get("/known", sth::traced(back.tracer, "/known", [](const httplib::Request&, httplib::Response&) {}));
  });
  auto client = srv.client();
  const auto r = sth::get(front.tracer, *client, "/unknown");
  REQUIRE(r);
  CHECK(r->status == 404);
  CHECK(back.spans().empty());
  const auto c = front.only();
  CHECK(c.status == st::status_code::error);
  CHECK(int_attr(c.attributes, "http.response.status_code") == 404);
}

TEST_CASE("traced handler: an exception is recorded, rethrown to httplib, and answered with 500") {
  service front("front"), back("back");
  test_server srv([&](httplib::Server& s) {
    s.Get("/explode", sth::traced(back.tracer, "/explode", [](const httplib::Request&, httplib::Response&) {
            throw std::logic_error("invariant broken");
          }));
  });
  auto client = srv.client();
  const auto r = sth::get(front.tracer, *client, "/explode");
  REQUIRE(r);
  CHECK(r->status == 500);
  // httplib's own handling ran, so the exception did reach it.
  CHECK(r->get_header_value("EXCEPTION_WHAT") == "invariant broken");

  const auto s = back.only();
  CHECK(s.name == "GET /explode");
  CHECK(s.status == st::status_code::error);
  CHECK(s.status_message == "invariant broken");
  CHECK(int_attr(s.attributes, "http.response.status_code") == 500);
  CHECK(str_attr(s.attributes, "error.type") == "std::logic_error");
  const auto* ev = find_event(s, "exception");
  REQUIRE(ev != nullptr);
  CHECK(str_attr(ev->attributes, "exception.type") == "std::logic_error");
  CHECK(str_attr(ev->attributes, "exception.message") == "invariant broken");
  check_parent_child(front.only(), s);
}

TEST_CASE("traced handler: a user exception handler still receives the very exception") {
  service back("back");
  std::atomic<bool> handler_saw_it{false};
  test_server srv([&](httplib::Server& s) {
    s.set_exception_handler([&](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      try {
        std::rethrow_exception(ep);
      } catch (const std::out_of_range& e) {
        handler_saw_it = std::string(e.what()) == "no such shard";
      } catch (...) {
      }
      res.status = 500;
      res.set_content("sorry", "text/plain");
    });
    s.Get("/shard", sth::traced(back.tracer, "/shard", [](const httplib::Request&, httplib::Response&) {
            throw std::out_of_range("no such shard");
          }));
  });
  auto client = srv.client();
  const auto r = client->Get("/shard");
  REQUIRE(r);
  CHECK(r->status == 500);
  CHECK(r->body == "sorry");
  CHECK(handler_saw_it);
  CHECK(str_attr(back.only().attributes, "error.type") == "std::out_of_range");
}

TEST_CASE("instrument: every request gets a SERVER span, named by the route only when one is known") {
  service front("front"), back("back");
  std::atomic<int> pre_calls{0}, post_calls{0};
  std::atomic<bool> pre_saw_span{false};
  st::span_context inner_parent;
  test_server srv([&](httplib::Server& s) {
    sth::instrument(
        back.tracer, s,
        [&](const httplib::Request&, httplib::Response&) {
          ++pre_calls;
          pre_saw_span = back.tracer.current_context().valid();  // the user's hook runs inside the span
          return httplib::Server::HandlerResponse::Unhandled;
        },
        [&](const httplib::Request&, httplib::Response& res) {
          ++post_calls;
          res.set_header("X-Post", "1");
        });
    s.Get("/plain", [&](const httplib::Request&, httplib::Response& res) {
      inner_parent = back.tracer.current_context();
      auto work = back.tracer.start("plain-work");
      res.set_content("ok", "text/plain");
    });
    s.Post("/orders", sth::traced(back.tracer, "/orders", [](const httplib::Request& req, httplib::Response& res) {
             res.status = 201;
             res.set_content(req.body, "application/json");
           }));
  });
  auto client = srv.client();
  const auto r1 = sth::get(front.tracer, *client, "/plain");
  REQUIRE(r1);
  CHECK(r1->get_header_value("X-Post") == "1");
  const auto r2 = sth::post(front.tracer, *client, "/orders", "{\"id\":1}", "application/json");
  REQUIRE(r2);
  CHECK(r2->status == 201);
  CHECK(r2->body == "{\"id\":1}");
  const auto r3 = sth::get(front.tracer, *client, "/nowhere");
  REQUIRE(r3);
  CHECK(r3->status == 404);
  CHECK(pre_calls == 3);
  CHECK(post_calls == 3);
  CHECK(pre_saw_span);

  // /plain: named by the method alone (no route known), url.path tells the path
  const auto server_spans = back.all_named("GET");
  REQUIRE(server_spans.size() == 2);
  const auto& plain = server_spans[0];
  CHECK(plain.kind == st::span_kind::server);
  CHECK(str_attr(plain.attributes, "url.path") == "/plain");
  CHECK_FALSE(has_attr(plain.attributes, "http.route"));
  CHECK(int_attr(plain.attributes, "http.response.status_code") == 200);
  CHECK(inner_parent.span_id() == plain.context.span_id());
  CHECK(back.named("plain-work").parent_span_id == plain.context.span_id());

  // /orders: one span (not two), named after traced()'s route
  const auto orders = back.named("POST /orders");
  CHECK(str_attr(orders.attributes, "http.route") == "/orders");
  CHECK(int_attr(orders.attributes, "http.response.status_code") == 201);
  CHECK(orders.status == st::status_code::unset);

  // /nowhere: 404 from routing, not an error on the server
  const auto& nowhere = server_spans[1];
  CHECK(str_attr(nowhere.attributes, "url.path") == "/nowhere");
  CHECK(int_attr(nowhere.attributes, "http.response.status_code") == 404);
  CHECK(nowhere.status == st::status_code::unset);
  CHECK(back.spans().size() == 4);  // three requests + plain-work

  const auto client_gets = front.all_named("GET");
  REQUIRE(client_gets.size() == 2);
  check_parent_child(client_gets[0], plain);
  check_parent_child(client_gets[1], nowhere);
  check_parent_child(front.named("POST"), orders);
  CHECK(client_gets[1].status == st::status_code::error);
}

TEST_CASE("instrument: url.path is the path as sent (percent-encoded); an absolute-form target names the server") {
  service back("back");
  test_server srv([&](httplib::Server& s) {
    sth::instrument(back.tracer, s);
    s.Get(R"(/p.*)", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  });
  auto client = srv.client();
  client->set_url_encode(false);  // the targets below go on the wire exactly as written
  const auto encoded = client->Get("/p%61th%20x/a?q=1");
  REQUIRE(encoded);
  CHECK(encoded->status == 200);
  const auto absolute = client->Get("http://shop.example:8443/orders/5?id=7");  // as a proxy receives it
  REQUIRE(absolute);
  const auto absolute_default_port = client->Get("http://shop.example");
  REQUIRE(absolute_default_port);
  const auto upper_case_scheme = client->Get("HTTPS://shop.example/x");  // schemes are case-insensitive
  REQUIRE(upper_case_scheme);
  const auto not_a_scheme = client->Get("/a/b://spoofed/");  // origin-form: "/a/b:" is no scheme
  REQUIRE(not_a_scheme);
  const auto credentials = client->Get("http://u:p@ss@shop.example/c");  // '@' in the password too
  REQUIRE(credentials);
  const auto spans = back.spans();
  REQUIRE(spans.size() == 6);
  // RFC 3986 path, not httplib's decoded "/path x/a"; the query stays in url.query.
  CHECK(str_attr(spans[0].attributes, "url.path") == "/p%61th%20x/a");
  CHECK(str_attr(spans[0].attributes, "url.query") == "q=1");
  CHECK(str_attr(spans[0].attributes, "server.address") == "127.0.0.1");
  CHECK(int_attr(spans[0].attributes, "server.port") == srv.port());
  // Absolute-form: the target's host and path, not the Host header's and not the whole URL.
  CHECK(str_attr(spans[1].attributes, "url.path") == "/orders/5");
  CHECK(str_attr(spans[1].attributes, "url.query") == "id=7");
  CHECK(str_attr(spans[1].attributes, "server.address") == "shop.example");
  CHECK(int_attr(spans[1].attributes, "server.port") == 8443);
  CHECK(str_attr(spans[2].attributes, "url.path") == "/");
  CHECK(str_attr(spans[2].attributes, "server.address") == "shop.example");
  CHECK(int_attr(spans[2].attributes, "server.port") == 80);
  CHECK(str_attr(spans[3].attributes, "url.path") == "/x");
  CHECK(int_attr(spans[3].attributes, "server.port") == 443);
  CHECK(str_attr(spans[4].attributes, "url.path") == "/a/b://spoofed/");
  CHECK(str_attr(spans[4].attributes, "server.address") == "127.0.0.1");
  // The userinfo ends at the last '@' of the authority: no part of it is reported.
  CHECK(str_attr(spans[5].attributes, "server.address") == "shop.example");
  CHECK(str_attr(spans[5].attributes, "url.path") == "/c");
}

TEST_CASE("instrument: exceptions show as 500 + ERROR, with the message httplib passes on") {
  service back("back");
  test_server srv([&](httplib::Server& s) {
    sth::instrument(back.tracer, s);
    s.Get("/raw", [](const httplib::Request&, httplib::Response&) { throw std::runtime_error("raw failure"); });
    s.Get("/wrapped", sth::traced(back.tracer, "/wrapped", [](const httplib::Request&, httplib::Response&) {
            throw std::invalid_argument("wrapped failure");
          }));
  });
  auto client = srv.client();
  REQUIRE(client->Get("/raw"));
  REQUIRE(client->Get("/wrapped"));

  const auto raw = back.named("GET");
  CHECK(raw.status == st::status_code::error);
  CHECK(raw.status_message == "raw failure");
  CHECK(int_attr(raw.attributes, "http.response.status_code") == 500);
  CHECK(str_attr(raw.attributes, "error.type") == "500");
  const auto* raw_ev = find_event(raw, "exception");
  REQUIRE(raw_ev != nullptr);
  CHECK(str_attr(raw_ev->attributes, "exception.message") == "raw failure");

  const auto wrapped = back.named("GET /wrapped");
  CHECK(wrapped.status == st::status_code::error);
  CHECK(wrapped.status_message == "wrapped failure");
  CHECK(int_attr(wrapped.attributes, "http.response.status_code") == 500);
  CHECK(str_attr(wrapped.attributes, "error.type") == "std::invalid_argument");  // not overwritten by "500"
  std::size_t exception_events = 0;
  for (const auto& e : wrapped.events) exception_events += e.name == "exception";
  CHECK(exception_events == 1);  // recorded once, not again from EXCEPTION_WHAT
}

TEST_CASE("instrument: the final status chosen by an exception handler is what the span says") {
  service back("back");
  test_server srv([&](httplib::Server& s) {
    sth::instrument(back.tracer, s);
    s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      res.status = 503;
    });
    s.Get("/busy", sth::traced(back.tracer, "/busy", [](const httplib::Request&, httplib::Response&) {
            throw std::runtime_error("overloaded");
          }));
  });
  auto client = srv.client();
  const auto r = client->Get("/busy");
  REQUIRE(r);
  CHECK(r->status == 503);
  const auto s = back.named("GET /busy");
  CHECK(int_attr(s.attributes, "http.response.status_code") == 503);
  CHECK(str_attr(s.attributes, "error.type") == "std::runtime_error");
  CHECK(s.status == st::status_code::error);
}

TEST_CASE("instrument: a request rejected before routing (unknown method) still gets a span") {
  service back("back");
  test_server srv([&](httplib::Server& s) {
    sth::instrument(back.tracer, s);
    s.Get("/", [](const httplib::Request&, httplib::Response&) {});
  });
  auto client = srv.client();
  httplib::Request req;
  req.method = "BREW";
  req.path = "/";
  const auto r = client->send(req);
  REQUIRE(r);
  CHECK(r->status == 400);
  const auto s = back.only();
  CHECK(s.name == "HTTP");
  CHECK(s.kind == st::span_kind::server);
  CHECK(str_attr(s.attributes, "http.request.method") == "_OTHER");
  CHECK(str_attr(s.attributes, "http.request.method_original") == "BREW");
  CHECK(int_attr(s.attributes, "http.response.status_code") == 400);
  CHECK(s.status == st::status_code::unset);
}

TEST_CASE("http_known_methods replaces the list of methods reported as they are, server and client side") {
  auto memory = std::make_shared<st::in_memory_exporter>();
  st::config cfg;
  cfg.read_environment = false;
  cfg.exporter = "none";
  cfg.exporters.push_back(memory);
  cfg.http_known_methods = "GET,PURGE";  // a full override: POST is no longer known
  st::tracer tracer = st::tracer::create(cfg);
  {
    test_server srv([&](httplib::Server& s) {
      sth::instrument(tracer, s);
      s.Get("/", [](const httplib::Request&, httplib::Response&) {});
    });
    auto client = srv.client();
    httplib::Request req;
    req.method = "PURGE";  // cpp-httplib 0.11 answers 400 to methods it does not route
    req.path = "/";
    REQUIRE(client->send(req));
  }
  for (const char* method : {"PURGE", "POST"}) {
    httplib::Headers headers;
    sth::client_span cs(tracer, method, "/x", headers, sth::endpoint::parse("http://example.com"));
    cs.finish(httplib::Result(nullptr, httplib::Error::Read));
  }
  const auto spans = memory->spans();
  REQUIRE(spans.size() == 3);
  CHECK(spans[0].kind == st::span_kind::server);
  CHECK(spans[0].name == "PURGE");
  CHECK(str_attr(spans[0].attributes, "http.request.method") == "PURGE");
  CHECK_FALSE(has_attr(spans[0].attributes, "http.request.method_original"));
  CHECK(spans[1].name == "PURGE");
  CHECK(str_attr(spans[1].attributes, "http.request.method") == "PURGE");
  CHECK(spans[2].name == "HTTP");
  CHECK(str_attr(spans[2].attributes, "http.request.method") == "_OTHER");
  CHECK(str_attr(spans[2].attributes, "http.request.method_original") == "POST");
}

TEST_CASE("client helpers: a connection failure is an ERROR CLIENT span named after httplib's error") {
  service front("front");
  int dead_port = 0;
  {
    // A port that was free a moment ago: nothing listens there any more.
    test_server probe([](httplib::Server&) {});
    dead_port = probe.port();
  }
  httplib::Client client("127.0.0.1", dead_port);
  client.set_connection_timeout(2, 0);
  const auto to = sth::endpoint::parse("http://127.0.0.1:" + std::to_string(dead_port));
  const auto r = sth::get(front.tracer, client, "/x", {}, to);
  CHECK_FALSE(r);
  CHECK(r.error() == httplib::Error::Connection);
  const auto c = front.only();
  CHECK(c.name == "GET");
  CHECK(c.kind == st::span_kind::client);
  CHECK(c.status == st::status_code::error);
  CHECK(c.status_message == "Connection");
  CHECK(str_attr(c.attributes, "error.type") == "Connection");
  CHECK_FALSE(has_attr(c.attributes, "http.response.status_code"));
  CHECK(str_attr(c.attributes, "server.address") == "127.0.0.1");
  CHECK(int_attr(c.attributes, "server.port") == dead_port);
  CHECK(str_attr(c.attributes, "url.full") == "http://127.0.0.1:" + std::to_string(dead_port) + "/x");
}

TEST_CASE("client_span: headers carry the span's context, extra headers survive, finish() ends it once") {
  service front("front");
  httplib::Headers headers{{"Accept", "text/plain"}, {"baggage", "tenant=acme"}};
  st::span_context ctx;
  {
    auto root = front.tracer.start("root");
    sth::client_span cs(front.tracer, "DELETE", "/items/3", headers, sth::endpoint::parse("https://example.com"));
    ctx = cs.context();
    CHECK(front.tracer.current_context().span_id() == root.context().span_id());  // not made current
    httplib::Result no_response(nullptr, httplib::Error::Read);
    cs.finish(no_response);
    cs.finish(no_response);
  }
  CHECK(headers.find("traceparent")->second == st::format_traceparent(ctx));
  CHECK(headers.find("Accept")->second == "text/plain");
  REQUIRE(headers.find("baggage") != headers.end());  // the caller's baggage goes out too
  CHECK(headers.find("baggage")->second == "tenant=acme");
  const auto c = front.named("DELETE");
  CHECK(c.parent_span_id == front.named("root").context.span_id());
  CHECK(str_attr(c.attributes, "url.full") == "https://example.com/items/3");
  CHECK(int_attr(c.attributes, "server.port") == 443);
  CHECK(str_attr(c.attributes, "error.type") == "Read");
  CHECK(front.spans().size() == 2);
}

TEST_CASE("endpoint::parse reads what httplib::Client takes") {
  const auto a = sth::endpoint::parse("http://localhost:8080");
  CHECK(a.scheme == "http");
  CHECK(a.host == "localhost");
  CHECK(a.port == 8080);
  const auto b = sth::endpoint::parse("example.org");
  CHECK(b.scheme == "http");
  CHECK(b.host == "example.org");
  CHECK(b.port == 0);
  const auto c = sth::endpoint::parse("https://[::1]:8443");
  CHECK(c.scheme == "https");
  CHECK(c.host == "::1");
  CHECK(c.port == 8443);
  const auto v6 = sth::endpoint::parse("[::1]");
  CHECK(v6.host == "::1");
  CHECK(v6.port == 0);
  CHECK(sth::endpoint::parse("HTTPS://api.example.com").scheme == "https");  // schemes are case-insensitive
  // The userinfo ends at the authority's last '@' (one in the password is not the host's).
  const auto creds = sth::endpoint::parse("http://u:p@ss@example.com:8080/x");
  CHECK(creds.host == "example.com");
  CHECK(creds.port == 8080);
  CHECK_THROWS_AS(sth::endpoint::parse("ftp://files.example.com"), std::invalid_argument);
}

TEST_CASE("client helpers over HTTPS: url.full and server.port say https, the client tells the scheme") {
  tls_files tls;
  REQUIRE(tls.ok);
  httplib::SSLServer server(tls.cert.c_str(), tls.key.c_str());
  REQUIRE(server.is_valid());
  server.Get("/secure", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  const int port = server.bind_to_any_port("127.0.0.1");
  REQUIRE(port > 0);
  std::thread listener([&] { server.listen_after_bind(); });
  for (int i = 0; i < 5000 && !server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  service front("front");
  httplib::Client client("https://127.0.0.1:" + std::to_string(port));
  client.enable_server_certificate_verification(false);  // self-signed
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(5, 0);
  const auto result = sth::get(front.tracer, client, "/secure?x=1");
  server.stop();
  listener.join();
  REQUIRE(result);
  CHECK(result->status == 200);
  const auto c = front.only();
  // Before: "http://127.0.0.1:<port>/secure?x=1", read back from the Host header.
  CHECK(str_attr(c.attributes, "url.full") == "https://127.0.0.1:" + std::to_string(port) + "/secure?x=1");
  CHECK(int_attr(c.attributes, "server.port") == port);
}

TEST_CASE("endpoint::parse leaves credentials and paths out of the span, and rejects bad ports") {
  // The URL conventions: url.full MUST NOT contain credentials.
  const auto e = sth::endpoint::parse("http://user:secret@api.example.com:8080/base?sig=abc");
  CHECK(e.scheme == "http");
  CHECK(e.host == "api.example.com");
  CHECK(e.port == 8080);
  service front("front");
  httplib::Headers headers;
  {
    sth::client_span cs(front.tracer, "GET", "/v1/items", headers, e);
    httplib::Result no_response(nullptr, httplib::Error::Connection);
    cs.finish(no_response);
  }
  const auto s = front.only();
  CHECK(str_attr(s.attributes, "server.address") == "api.example.com");
  CHECK(int_attr(s.attributes, "server.port") == 8080);
  CHECK(str_attr(s.attributes, "url.full") == "http://api.example.com:8080/v1/items");
  for (const char* bad : {"http://api.example.com:99999", "http://api.example.com:", "host:abc", "http://", "::1",
                          "http://[::1", "user@:80"})
    CHECK_THROWS_AS(sth::endpoint::parse(bad), std::invalid_argument);
}

TEST_CASE("concurrent requests from several threads make independent, correctly parented spans") {
  service front("front"), back("back");
  test_server srv([&](httplib::Server& s) {
    sth::instrument(back.tracer, s);
    auto work = [&](const httplib::Request& req, httplib::Response& res) {
      auto step = back.tracer.start("step");
      step.set_attribute("n", req.matches[1].str());
      std::this_thread::sleep_for(2ms);
      res.set_content(req.matches[1].str(), "text/plain");
    };
    s.Get(R"(/work/(\d+))", sth::traced(back.tracer, "/work/{n}", work));
  });
  constexpr int threads = 4;
  constexpr int per_thread = 5;
  std::atomic<int> ok{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto client = srv.client();
      for (int i = 0; i < per_thread; ++i) {
        const std::string n = std::to_string(t * 100 + i);
        auto root = front.tracer.start("job " + n);
        const auto r = sth::get(front.tracer, *client, "/work/" + n);
        if (r && r->status == 200 && r->body == n) ++ok;
      }
    });
  }
  for (auto& w : workers) w.join();
  CHECK(ok == threads * per_thread);

  const auto clients = front.all_named("GET");
  const auto servers = back.all_named("GET /work/{n}");
  const auto steps = back.all_named("step");
  REQUIRE(clients.size() == threads * per_thread);
  REQUIRE(servers.size() == threads * per_thread);
  REQUIRE(steps.size() == threads * per_thread);

  std::set<std::string> traces;
  for (const auto& s : servers) {
    // exactly one client span is its parent, with the same trace id
    int parents = 0;
    for (const auto& c : clients)
      if (c.context.span_id() == s.parent_span_id && c.context.trace_id() == s.context.trace_id()) ++parents;
    CHECK(parents == 1);
    // its step is its child, and the step's n matches the path
    int children = 0;
    for (const auto& step : steps)
      if (step.parent_span_id == s.context.span_id()) {
        ++children;
        CHECK("/work/" + *str_attr(step.attributes, "n") == *str_attr(s.attributes, "url.path"));
      }
    CHECK(children == 1);
    traces.insert(s.context.trace_id().to_hex());
  }
  CHECK(traces.size() == static_cast<std::size_t>(threads * per_thread));  // one trace per job
  // each client span is the child of its own job's root
  const auto roots = front.spans();
  for (const auto& c : clients) {
    int parents = 0;
    for (const auto& r : roots)
      if (r.context.span_id() == c.parent_span_id && r.name.view().substr(0, 4) == "job ") ++parents;
    CHECK(parents == 1);
  }
}
