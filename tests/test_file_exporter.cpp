// file_exporter: OTLP JSON lines, one ExportTraceServiceRequest (TracesData)
// object per exported batch, appended and flushed, never throwing.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/child_process.hpp"

namespace st = streambus::tracing;

namespace {

// A fresh path in the temporary directory, removed when the object dies.
struct temp_path {
  std::string path;
  explicit temp_path(const char* tag) {
    static int counter = 0;
    path = (std::filesystem::temp_directory_path() /
            ("streambus_file_exporter_" + std::string(tag) + "_" + std::to_string(++counter) + ".jsonl"))
               .string();
    std::remove(path.c_str());
  }
  ~temp_path() { std::remove(path.c_str()); }
  temp_path(const temp_path&) = delete;
  temp_path& operator=(const temp_path&) = delete;
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      out.push_back(text.substr(pos));  // an unterminated last line: a bug the tests catch
      break;
    }
    out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

struct fixture {
  st::resource res;
  st::instrumentation_scope scope;
  std::vector<std::unique_ptr<st::span_data>> spans;
  std::vector<const st::span_data*> pointers;

  fixture() { res.attributes.set("service.name", "files"); }

  st::span_data& add(std::uint64_t id, std::string name) {
    spans.push_back(std::make_unique<st::span_data>());
    st::span_data& s = *spans.back();
    s.context = st::span_context(st::trace_id::from_u64(0x0102030405060708ULL, id), st::span_id::from_u64(id),
                                 st::trace_flags(0x01), false, st::trace_state());
    s.name = std::move(name);
    s.start_time_unix_nano = 1700000000000000000ULL + id;
    s.end_time_unix_nano = s.start_time_unix_nano + 1000;
    s.attributes.set("line.break", "a\nb");  // must stay escaped: one batch = one line
    pointers.push_back(&s);
    return s;
  }
  st::span_batch batch(std::size_t first, std::size_t count) const {
    return st::span_batch(res, scope, pointers.data() + first, count);
  }
  std::string json(std::size_t first, std::size_t count) const {
    std::string out;
    st::otlp::encode_json(batch(first, count), out);
    return out;
  }
};

}  // namespace

TEST_CASE("file_exporter writes one OTLP JSON line per batch, exactly the encoder's request") {
  temp_path tmp("lines");
  fixture f;
  f.add(1, "first");
  f.add(2, "second");
  f.add(3, "third");

  st::file_exporter exporter(tmp.path);
  CHECK(exporter.name() == "file");
  CHECK(exporter.path() == tmp.path);
  CHECK(exporter.export_spans(f.batch(0, 2)) == st::export_result::success);
  // Flushed per batch: readable before any flush or shutdown.
  CHECK(lines_of(read_all(tmp.path)).size() == 1);
  CHECK(exporter.export_spans(f.batch(2, 1)) == st::export_result::success);

  const std::string text = read_all(tmp.path);
  REQUIRE(!text.empty());
  CHECK(text.back() == '\n');
  const auto lines = lines_of(text);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == f.json(0, 2));
  CHECK(lines[1] == f.json(2, 1));
  // The otlpjsonfile receiver's format: a TracesData object per line.
  CHECK(lines[0].rfind("{\"resourceSpans\":[", 0) == 0);
  CHECK(lines[0].find("\"name\":\"second\"") != std::string::npos);
  CHECK(lines[1].find("\"spanId\":\"0000000000000003\"") != std::string::npos);
  CHECK(exporter.last_error().empty());
}

TEST_CASE("file_exporter appends to an existing file and writes nothing for an empty batch") {
  temp_path tmp("append");
  fixture f;
  f.add(7, "appended");

  SUBCASE("an empty batch creates no file") {
    st::file_exporter exporter(tmp.path);
    CHECK(exporter.export_spans(f.batch(0, 0)) == st::export_result::success);
    CHECK(!std::filesystem::exists(tmp.path));
  }
  SUBCASE("earlier content is kept") {
    {
      std::ofstream out(tmp.path, std::ios::binary);
      out << "{\"resourceSpans\":[]}\n";
    }
    {
      st::file_exporter exporter(tmp.path);
      CHECK(exporter.export_spans(f.batch(0, 0)) == st::export_result::success);
      CHECK(exporter.export_spans(f.batch(0, 1)) == st::export_result::success);
    }
    {
      st::file_exporter again(tmp.path);  // a second run of the program
      CHECK(again.export_spans(f.batch(0, 1)) == st::export_result::success);
    }
    const auto lines = lines_of(read_all(tmp.path));
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "{\"resourceSpans\":[]}");
    CHECK(lines[1] == f.json(0, 1));
    CHECK(lines[2] == f.json(0, 1));
  }
}

TEST_CASE("file_exporter reports an unopenable path as failure, without throwing, and recovers") {
  const auto dir = std::filesystem::temp_directory_path() / "streambus_file_exporter_missing_dir";
  std::filesystem::remove_all(dir);
  const std::string path = (dir / "spans.jsonl").string();
  fixture f;
  f.add(1, "lost");

  st::file_exporter exporter(path);
  CHECK(exporter.export_spans(f.batch(0, 1)) == st::export_result::failure);
  CHECK(exporter.last_error().find(path) != std::string::npos);
  CHECK(exporter.force_flush(std::chrono::milliseconds(100)));  // nothing open, nothing to flush

  // The directory appears later: the next batch opens the file.
  std::filesystem::create_directories(dir);
  CHECK(exporter.export_spans(f.batch(0, 1)) == st::export_result::success);
  exporter.shutdown(std::chrono::milliseconds(100));
  CHECK(lines_of(read_all(path)) == std::vector<std::string>{f.json(0, 1)});
  std::filesystem::remove_all(dir);
}

TEST_CASE("file_exporter reports a full device as failure") {
  if (!std::filesystem::exists("/dev/full")) return;  // Linux only
  fixture f;
  f.add(1, "no space");
  st::file_exporter exporter("/dev/full");
  CHECK(exporter.export_spans(f.batch(0, 1)) == st::export_result::failure);
  CHECK(exporter.last_error().find("/dev/full") != std::string::npos);
  CHECK(exporter.export_spans(f.batch(0, 1)) == st::export_result::failure);  // still no crash, still false
}

TEST_CASE("file_exporter starts a line of its own after a line cut short") {
  temp_path tmp("cut");
  fixture f;
  f.add(1, "after the cut");
  f.add(2, "big");
  f.spans.back()->attributes.set("payload", std::string(4000, 'p'));

  SUBCASE("a file another writer left mid-line") {
    {
      std::ofstream out(tmp.path, std::ios::binary);
      out << "{\"resourceSpans\":[{\"resou";  // a writer that crashed
    }
    st::file_exporter exporter(tmp.path);
    CHECK(exporter.export_spans(f.batch(0, 1)) == st::export_result::success);
    const auto lines = lines_of(read_all(tmp.path));
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "{\"resourceSpans\":[{\"resou");
    CHECK(lines[1] == f.json(0, 1));
  }
  SUBCASE("a write of its own that a file-size limit cut short (the disk-full case)") {
    // In a child process: RLIMIT_FSIZE is per process.
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of death
      rlimit limit{};
      ::getrlimit(RLIMIT_FSIZE, &limit);
      rlimit small = limit;
      small.rlim_cur = 1000;
      ::setrlimit(RLIMIT_FSIZE, &small);
      st::file_exporter exporter(tmp.path);
      const bool cut = exporter.export_spans(f.batch(1, 1)) == st::export_result::failure;
      ::setrlimit(RLIMIT_FSIZE, &limit);  // the disk has room again
      const bool next = exporter.export_spans(f.batch(0, 1)) == st::export_result::success;
      ::_exit(cut && next ? 0 : 1);
    }
    const int status = wait_or_kill(pid, std::chrono::seconds(30));
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    const auto lines = lines_of(read_all(tmp.path));
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].size() == 1000);  // the part the limit let through, on a line of its own
    CHECK(lines[1] == f.json(0, 1));
  }
}

TEST_CASE("file_exporter fails every export after shutdown and leaves the file alone") {
  temp_path tmp("shutdown");
  fixture f;
  f.add(1, "before");
  st::file_exporter exporter(tmp.path);
  CHECK(exporter.export_spans(f.batch(0, 1)) == st::export_result::success);
  exporter.shutdown(std::chrono::milliseconds(100));
  exporter.shutdown(std::chrono::milliseconds(100));  // idempotent
  CHECK(exporter.export_spans(f.batch(0, 1)) == st::export_result::failure);
  CHECK(lines_of(read_all(tmp.path)).size() == 1);
}

TEST_CASE("exporter \"file\" writes the tracer's spans to config.file_path") {
  temp_path tmp("tracer");
  st::config cfg;
  cfg.read_environment = false;
  cfg.service_name = "file-test";
  cfg.exporter = "file";
  cfg.file_path = tmp.path;
  {
    auto tracer = st::tracer::create(cfg);
    { auto span = tracer.start("to.file"); }
    { auto span = tracer.start("also.to.file"); }
    CHECK(tracer.force_flush(std::chrono::seconds(10)));
  }
  const std::string text = read_all(tmp.path);
  const auto lines = lines_of(text);
  REQUIRE(!lines.empty());
  for (const auto& line : lines) CHECK(line.rfind("{\"resourceSpans\":[", 0) == 0);
  CHECK(text.find("\"name\":\"to.file\"") != std::string::npos);
  CHECK(text.find("\"name\":\"also.to.file\"") != std::string::npos);
  CHECK(text.find("\"stringValue\":\"file-test\"") != std::string::npos);
}

// A write that blocks for good (here: opening a FIFO nobody reads, which
// blocks in open(2)) must not take shutdown's deadline with it.
TEST_CASE("exporter \"file\": shutdown keeps its deadline while a write is stuck, and the write finishes later") {
  temp_path fifo("fifo");
  REQUIRE(::mkfifo(fifo.path.c_str(), 0600) == 0);
  st::config cfg;
  cfg.read_environment = false;
  cfg.exporter = "file";
  cfg.file_path = fifo.path;
  cfg.on_diagnostic = [](std::string_view) {};
  auto tracer = st::tracer::create(cfg);
  { auto span = tracer.start("into.the.fifo"); }
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(tracer.shutdown(std::chrono::milliseconds(500)));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));  // was: until a reader came
  // A reader now: the stuck open returns, the line is written, the file closed (EOF here).
  const int fd = ::open(fifo.path.c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(fd >= 0);
  std::string got;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool writer_seen = false;
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      got.append(buf, static_cast<std::size_t>(n));
      writer_seen = true;
    } else if (n == 0 && writer_seen) {
      break;  // the exporter closed its end
    }
  }
  ::close(fd);
  CHECK(got.find("\"name\":\"into.the.fifo\"") != std::string::npos);
}

// milliseconds::max() means "wait as long as it takes": it overflowed when
// converted to nanoseconds or added to now() (UBSan: signed overflow).
TEST_CASE("flush and shutdown accept milliseconds::max() as a timeout") {
  temp_path tmp("forever");
  st::config cfg;
  cfg.read_environment = false;
  cfg.exporter = "file";
  cfg.file_path = tmp.path;
  auto tracer = st::tracer::create(cfg);
  { auto span = tracer.start("waited.for"); }
  CHECK(tracer.force_flush(std::chrono::milliseconds::max()));
  CHECK(tracer.shutdown(std::chrono::milliseconds::max()));
  CHECK(read_all(tmp.path).find("\"name\":\"waited.for\"") != std::string::npos);
  st::file_exporter direct(tmp.path);
  CHECK(direct.force_flush(std::chrono::milliseconds::max()));
  direct.shutdown(std::chrono::milliseconds::max());
}
