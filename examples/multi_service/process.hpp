// A child process for the demo launcher: posix_spawn with a chosen
// environment, a pipe on which the child reports its port, SIGTERM to stop
// it and a bounded wait (SIGKILL after).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace demo {

/// The descriptor a child reports its port on (DEMO_READY_FD).
inline constexpr int ready_fd = 3;

class child_process {
 public:
  explicit child_process(std::string name) : name_(std::move(name)) {}
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      reap(std::chrono::seconds(5));
    }
    if (ready_read_ >= 0) ::close(ready_read_);
  }

  const std::string& name() const noexcept { return name_; }
  pid_t pid() const noexcept { return pid_; }
  bool running() const noexcept { return pid_ > 0 && !reaped_; }

  /// Starts `path` with `args` (argv[1...]) and exactly `env` as its
  /// environment; stdin from /dev/null, stdout and stderr shared with us.
  bool spawn(const std::string& path, const std::vector<std::string>& args, const std::vector<std::string>& env,
             std::string& error) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      error = std::string("pipe: ") + std::strerror(errno);
      return false;
    }
    ready_read_ = fds[0];
    int write_end = fds[1];
    if (write_end == ready_fd) {  // dup2 onto itself would keep O_CLOEXEC
      write_end = ::fcntl(fds[1], F_DUPFD_CLOEXEC, 10);
      ::close(fds[1]);
    }

    std::vector<std::string> argv_storage{path};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv, envp;
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_storage = env;
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, write_end, ready_fd);
    // Signals: the default dispositions and no blocked signals, whatever ours are.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGTERM, SIGINT, SIGPIPE, SIGCHLD}) sigaddset(&defaults, sig);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    const int rc = ::posix_spawn(&pid_, path.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(write_end);  // the child holds the only write end now: EOF means it is gone
    if (rc != 0) {
      pid_ = -1;
      error = "cannot start " + path + ": " + std::strerror(rc);
      return false;
    }
    return true;
  }

  /// The line the child writes when ready, as a number; -1 if it exits or
  /// stays silent for `timeout`.
  int wait_ready(std::chrono::milliseconds timeout) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (line.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return -1;
      pollfd p{ready_read_, POLLIN, 0};
      const int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return -1;
      char buf[64];
      const ssize_t got = ::read(ready_read_, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return -1;  // EOF: it exited (or closed the pipe) without a port
      line.append(buf, static_cast<std::size_t>(got));
    }
    return std::atoi(line.c_str());
  }

  void terminate() noexcept {
    if (running()) ::kill(pid_, SIGTERM);
  }

  /// Waits for the child to exit; after `timeout`, SIGKILL (then false).
  bool stop(std::chrono::milliseconds timeout) {
    if (!running()) return true;
    if (reap(timeout)) return true;
    ::kill(pid_, SIGKILL);
    killed_ = true;
    reap(std::chrono::seconds(5));
    return false;
  }

  /// Exited by itself with status 0.
  bool clean_exit() const noexcept { return reaped_ && !killed_ && WIFEXITED(status_) && WEXITSTATUS(status_) == 0; }

  std::string describe_exit() const {
    if (!reaped_) return "still running";
    if (killed_) return "killed after the stop timeout";
    if (WIFEXITED(status_)) return "exit status " + std::to_string(WEXITSTATUS(status_));
    if (WIFSIGNALED(status_)) return std::string("killed by ") + strsignal(WTERMSIG(status_));
    return "ended";
  }

 private:
  bool reap(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
      if (r == pid_ || (r < 0 && errno == ECHILD)) {
        reaped_ = true;
        return true;
      }
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  std::string name_;
  pid_t pid_ = -1;
  int ready_read_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  bool killed_ = false;
};

}  // namespace demo
