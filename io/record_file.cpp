#include "io/record_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "engine/error.hpp"

namespace md {

namespace {

std::string sys_error() { return std::strerror(errno); }

void write_all(int fd, const char* data, std::size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t k = ::write(fd, data, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      throw Error("write to \"" + path + "\" failed: " + sys_error());
    }
    data += k;
    n -= static_cast<std::size_t>(k);
  }
}

void fsync_dir_of(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

RecordFile::RecordFile(const std::string& path, long long resume_at) : path_(path) {
  if (resume_at < 0) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error("cannot open \"" + path + "\" for writing: " + sys_error());
    return;
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error("cannot open \"" + path + "\" for appending: " + sys_error());
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || st.st_size < resume_at) {
    ::close(fd_);
    fd_ = -1;
    throw Error("output file \"" + path + "\" is shorter (" + std::to_string(st.st_size) +
                " bytes) than when the checkpoint was written (" + std::to_string(resume_at) +
                " bytes); move it away to start a new one");
  }
  if (::ftruncate(fd_, resume_at) != 0 || ::lseek(fd_, resume_at, SEEK_SET) < 0) {
    ::close(fd_);
    fd_ = -1;
    throw Error("cannot truncate \"" + path + "\": " + sys_error());
  }
  size_ = resume_at;
}

RecordFile::~RecordFile() { close(); }

void RecordFile::write(std::string_view record) {
  if (fd_ < 0) throw Error("internal: write to a closed output file");
  write_all(fd_, record.data(), record.size(), path_);
  size_ += static_cast<long long>(record.size());
}

void RecordFile::sync() {
  if (fd_ >= 0) ::fsync(fd_);
}

void RecordFile::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void write_file_atomically(const std::string& path, std::string_view data, bool keep_previous) {
  const std::string tmp = path + ".tmp", prev = path + ".prev";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error("cannot open \"" + tmp + "\" for writing: " + sys_error());
  try {
    write_all(fd, data.data(), data.size(), tmp);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw Error("cannot flush \"" + tmp + "\" to disk: " + sys_error());
  }
  if (keep_previous && ::access(path.c_str(), F_OK) == 0) {
    // `path` stays in place (old version) while prev becomes a second name for it.
    ::unlink(prev.c_str());
    if (::link(path.c_str(), prev.c_str()) != 0) {
      std::error_code ec;
      std::filesystem::copy_file(path, prev, std::filesystem::copy_options::overwrite_existing,
                                 ec);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = sys_error();
    ::unlink(tmp.c_str());
    throw Error("cannot rename \"" + tmp + "\" to \"" + path + "\": " + why);
  }
  fsync_dir_of(path);
}

}  // namespace md
