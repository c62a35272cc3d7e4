// A cpp-httplib service traced by the middleware, and a client calling it.
//
// Two tracers stand for two programs: "user-service" (the server) and
// "web-frontend" (the client), each printing its side of the traces on the
// console. The server traces every request with http::instrument() (so a
// 404 for an unknown path gets a span too) and names the routes with
// http::traced(); the client sends each request in a CLIENT span with
// http::get() / http::post(), which inject traceparent and tracestate.
//
// The four requests: a user (200), a new order (201), an unknown path (404:
// the client's span is ERROR, the server's is not, since a 4xx is the
// caller's fault) and a user whose lookup throws (500: both are ERROR, the
// server span records the exception). The server side prints one tree per
// request (its spans have a remote parent); the client side prints one
// tree holding all four CLIENT spans. It runs on 127.0.0.1 and exits by itself.
#include <streambus/tracing.hpp>
#include <streambus/tracing/http.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

namespace tracing = streambus::tracing;
namespace sth = streambus::tracing::http;

namespace {

tracing::tracer make_tracer(const char* service) {
  tracing::config cfg;
  cfg.service_name = service;
  cfg.exporter = "console";
  return tracing::tracer::create(cfg);
}

void serve_user(tracing::tracer& tracer, const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  // Inside a traced handler the SERVER span is current: this span is its child.
  auto query = tracer.start("db.query users", tracing::span_kind::client);
  query.set_attributes({{"db.system.name", "sqlite"}, {"db.operation.name", "SELECT"}});
  if (id == "13") {
    query.record_error(std::runtime_error("database is locked"));
    throw std::runtime_error("cannot load user 13: database is locked");  // -> 500, recorded on the SERVER span
  }
  query.end();
  res.set_content(R"({"id":)" + id + R"(,"name":"Ada"})", "application/json");
}

}  // namespace

int main() {
  std::signal(SIGPIPE, SIG_IGN);
  tracing::tracer server_tracer, client_tracer;
  try {
    server_tracer = make_tracer("user-service");
    client_tracer = make_tracer("web-frontend");
  } catch (const tracing::config_error& e) {
    std::fprintf(stderr, "bad tracing config: %s\n", e.what());
    return 1;
  }

  // --- the server ---------------------------------------------------------------
  httplib::Server server;
  sth::instrument(server_tracer, server);  // every request, unknown paths included
  server.Get(R"(/users/(\d+))", sth::traced(server_tracer, "/users/{id}",
                                            [&](const httplib::Request& req, httplib::Response& res) {
                                              serve_user(server_tracer, req, res);
                                            }));
  server.Post("/orders", sth::traced(server_tracer, "/orders", [](const httplib::Request&, httplib::Response& res) {
                res.status = 201;
                res.set_content(R"({"order":"A-1"})", "application/json");
              }));
  server.set_keep_alive_timeout(1);
  const int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    std::fprintf(stderr, "cannot listen on 127.0.0.1\n");
    return 1;
  }
  std::thread listener([&] { server.listen_after_bind(); });
  for (int i = 0; i < 5000 && !server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  // --- the client ---------------------------------------------------------------
  int statuses[4] = {-1, -1, -1, -1};
  {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(2, 0);
    client.set_read_timeout(5, 0);
    auto page = client_tracer.start("render profile page");  // the CLIENT spans' parent
    const auto status = [](const httplib::Result& r) { return r ? r->status : -1; };
    statuses[0] = status(sth::get(client_tracer, client, "/users/42"));
    statuses[1] = status(sth::post(client_tracer, client, "/orders", R"({"item":"tea"})", "application/json"));
    statuses[2] = status(sth::get(client_tracer, client, "/no/such/page"));
    statuses[3] = status(sth::get(client_tracer, client, "/users/13"));
  }

  server.stop();
  listener.join();
  server_tracer.shutdown();
  client_tracer.shutdown();

  std::printf("http_service: answers %d %d %d %d (expected 200 201 404 500)\n", statuses[0], statuses[1], statuses[2],
              statuses[3]);
  const bool ok = statuses[0] == 200 && statuses[1] == 201 && statuses[2] == 404 && statuses[3] == 500;
  return ok ? 0 : 1;
}
