// File identities, the output-set check, the output lock and prefix signatures (see
// output_files.hpp).
#include "io/output_files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "engine/error.hpp"
#include "io/report.hpp"

namespace md {

namespace fs = std::filesystem;

bool FileIdentity::same_file(const FileIdentity& o) const {
  if (exists && o.exists) return dev == o.dev && ino == o.ino;
  if (exists != o.exists) return false;
  return canonical == o.canonical;
}

FileIdentity identify_file(const std::string& path) {
  FileIdentity id;
  id.path = path;
  std::error_code ec;
  const fs::path p = path.empty() ? fs::path(".") : fs::path(path);
  fs::path c = fs::weakly_canonical(fs::absolute(p, ec), ec);
  id.canonical = ec ? fs::absolute(p, ec).lexically_normal().string() : c.string();
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    id.exists = true;
    id.dev = static_cast<std::uint64_t>(st.st_dev);
    id.ino = static_cast<std::uint64_t>(st.st_ino);
    id.regular = S_ISREG(st.st_mode);
    id.directory = S_ISDIR(st.st_mode);
    id.char_device = S_ISCHR(st.st_mode);
  } else {
    struct stat lst {};
    id.dangling_link = ::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode);
  }
  return id;
}

void RunFiles::add(const std::string& path, const std::string& role, Kind kind) {
  if (path.empty()) return;
  files_.push_back({role, kind, identify_file(path), {}});
}

void RunFiles::add_restart(const std::string& path, const std::string& checkpoint_output) {
  if (path.empty()) return;
  files_.push_back({"--restart checkpoint", Kind::Input, identify_file(path),
                    checkpoint_output.empty() ? std::string() : identify_file(checkpoint_output).canonical});
}

void RunFiles::verify(const std::string& input_file) const {
  auto fail = [&](const std::string& msg) { throw InputError(input_file, 0, msg); };
  auto q = [](const FileIdentity& id) { return "\"" + id.path + "\""; };
  for (const Entry& e : files_) {
    if (e.kind == Kind::Input) continue;
    const FileIdentity& id = e.id;
    if (id.dangling_link)
      fail(e.role + " " + q(id) + " is a symbolic link to a file that does not exist; "
                                  "give the real path");
    if (!id.exists) continue;
    if (id.directory) fail(e.role + " " + q(id) + " is a folder, not a file");
    if (id.regular) continue;
    if (e.kind == Kind::Stream && id.char_device) continue;  // /dev/null-like sink
    fail(e.role + " " + q(id) +
         (e.kind == Kind::Stream
              ? " is not a regular file (only a character device such as /dev/null is "
                "accepted as a sink for thermo and trajectory output)"
              : " is not a regular file; checkpoints, data files and the last good state "
                "must be regular files (a device or pipe would be replaced or lose the state)"));
  }
  for (std::size_t a = 0; a < files_.size(); ++a)
    for (std::size_t b = 0; b < a; ++b) {
      const Entry &x = files_[a], &y = files_[b];
      if (x.kind == Kind::Input && y.kind == Kind::Input) continue;
      if (!x.id.same_file(y.id)) continue;
      // Several sinks may share one device (/dev/null twice is fine).
      if (x.kind == Kind::Stream && y.kind == Kind::Stream && x.id.char_device) continue;
      // FILE and FILE.prev as two names of one file: the state write_file_atomically leaves
      // when a run is killed between linking the old version to .prev and renaming the new
      // one into place (io/record_file.cpp). The next write separates them again.
      if (x.kind != Kind::Input && y.kind != Kind::Input &&
          (x.id.canonical == y.id.canonical + ".prev" ||
           y.id.canonical == x.id.canonical + ".prev"))
        continue;
      const Entry& in = x.kind == Kind::Input ? x : y;
      const Entry& out = x.kind == Kind::Input ? y : x;
      if (in.kind == Kind::Input && !in.may_equal.empty() && in.may_equal == out.id.canonical)
        continue;
      if (in.kind == Kind::Input && !in.may_equal.empty() &&
          out.id.canonical == in.may_equal + ".prev")
        continue;
      if (in.kind == Kind::Input)
        fail(out.role + " " + q(out.id) + " is the same file as the " + in.role + " " +
             q(in.id) + " (" + in.id.canonical +
             "): an output may never overwrite an input; choose another output file");
      fail(x.role + " " + q(x.id) + " and " + y.role + " " + q(y.id) + " are the same file (" +
           x.id.canonical + "); give each output its own file");
    }
}

RunFiles RunFiles::refreshed() const {
  RunFiles r = *this;
  for (Entry& e : r.files_) e.id = identify_file(e.id.path);
  return r;
}

bool RunFiles::is_sink(const std::string& path) const {
  for (const Entry& e : files_)
    if (e.kind == Kind::Stream && e.id.path == path && e.id.exists && e.id.char_device) return true;
  return false;
}

namespace {

std::string read_small(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s, '\0');
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  for (char& ch : s)
    if (ch == '\n' || ch == '\0') ch = ' ';
  return s;
}

// The process holding a flock on (dev, ino), from /proc/locks (Linux); 0 when unknown.
long flock_holder(const struct stat& st) {
  std::ifstream in("/proc/locks");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string num, kind, adv, mode, dev;
    long pid = 0;
    if (!(ls >> num >> kind)) continue;
    if (kind == "->") ls >> kind;  // a waiter
    if (!(ls >> adv >> mode >> pid >> dev)) continue;
    unsigned maj = 0, min = 0;
    unsigned long long ino = 0;
    if (std::sscanf(dev.c_str(), "%x:%x:%llu", &maj, &min, &ino) != 3) continue;
    if (ino == static_cast<unsigned long long>(st.st_ino) && maj == major(st.st_dev) &&
        min == minor(st.st_dev) && pid > 0 && pid != static_cast<long>(::getpid()))
      return pid;
  }
  return 0;
}

std::string describe_pid(long pid) {
  if (pid <= 0) return "another process";
  const std::string cmd = read_small("/proc/" + std::to_string(pid) + "/cmdline");
  return fmt::format("pid {}{}", pid, cmd.empty() ? std::string() : " (" + cmd + ")");
}

}  // namespace

OutputLock::OutputLock(const std::string& lock_file, const std::string& input_file,
                       const std::vector<std::string>& stream_outputs) {
  const int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM)) {
    // A read-only folder (an input run in place): the outputs' own locks still apply.
    run_warning("cannot create the lock file " + lock_file + " (" + std::strerror(errno) +
                "); a second run on the same checkpoint would not be detected");
  } else if (fd < 0) {
    throw Error("cannot open the lock file \"" + lock_file + "\": " + std::strerror(errno));
  }
  if (fd >= 0) fds_.push_back(fd);
  if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const std::string who = read_small(lock_file);
    for (int f : fds_) ::close(f);
    fds_.clear();
    throw Error("another mdgpu run is writing the same outputs (" +
                (who.empty() ? std::string("holder unknown") : who) + "; lock file \"" +
                lock_file + "\"): wait for it to finish or stop it, or give this run other "
                            "output files");
  }
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  const std::time_t now = std::time(nullptr);
  char when[64] = {0};
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  const std::string info =
      fmt::format("pid {} on host {}, started {}, input {}\n", ::getpid(), host, when, input_file);
  if (fd >= 0 && ::ftruncate(fd, 0) == 0) {
    const ssize_t k = ::pwrite(fd, info.data(), info.size(), 0);
    (void)k;
  }
  for (const std::string& p : stream_outputs) {
    const int f = ::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) continue;  // the writer reports the error when it opens the file
    fds_.push_back(f);
    if (::flock(f, LOCK_EX | LOCK_NB) != 0) {
      struct stat st {};
      ::fstat(f, &st);
      const std::string who = describe_pid(flock_holder(st));
      for (int g : fds_) ::close(g);
      fds_.clear();
      throw Error("output file \"" + p + "\" is being written by another mdgpu run (" + who +
                  "); wait for it to finish or stop it, or give this run another file");
    }
  }
}

OutputLock::~OutputLock() {
  for (int f : fds_) ::close(f);
}

std::uint64_t prefix_signature(const std::string& path, long long bytes) {
  if (bytes <= 0) return 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) return 0;
  const long long window = 4096;
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      h ^= static_cast<unsigned char>(p[i]);
      h *= 1099511628211ull;
    }
  };
  mix(reinterpret_cast<const char*>(&bytes), sizeof bytes);
  std::string buf(static_cast<std::size_t>(std::min(window, bytes)), '\0');
  in.read(&buf[0], static_cast<std::streamsize>(buf.size()));
  if (in.gcount() != static_cast<std::streamsize>(buf.size())) return 0;
  mix(buf.data(), buf.size());
  if (bytes > window) {
    const long long start = std::max(window, bytes - window);
    buf.assign(static_cast<std::size_t>(bytes - start), '\0');
    in.seekg(start);
    in.read(&buf[0], static_cast<std::streamsize>(buf.size()));
    if (in.gcount() != static_cast<std::streamsize>(buf.size())) return 0;
    mix(buf.data(), buf.size());
  }
  return h == 0 ? 1 : h;
}

std::string new_run_id() {
  std::random_device rd;
  const std::uint64_t t = static_cast<std::uint64_t>(
      std::chrono::system_clock::now().time_since_epoch().count());
  const std::uint64_t r = (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^ t ^
                          (static_cast<std::uint64_t>(::getpid()) << 16);
  return fmt::format("{:016x}", r);
}

}  // namespace md
