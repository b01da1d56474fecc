// Output-file safety for a run: every input and output resolved to a file identity (canonical
// path, st_dev/st_ino, symlinks followed) before anything is opened, refusing an output that
// is an input, equals another output or is not a regular file; the exclusive lock on a run's
// output set; and the prefix signatures that tie outputs to the run that wrote a checkpoint.
// Called by load_job/run_job/check_job (io/app.cpp). Host only, POSIX (flock, stat).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace md {

struct FileIdentity {
  std::string path;       // as given (resolved against the input folder)
  std::string canonical;  // symlinks of the existing part resolved
  bool exists = false;    // stat() succeeded (symlinks followed)
  bool dangling_link = false;
  bool regular = false, directory = false, char_device = false;
  std::uint64_t dev = 0, ino = 0;
  bool same_file(const FileIdentity& o) const;
};

FileIdentity identify_file(const std::string& path);

// The files of one run. Outputs of kind Stream (thermo, trajectories) may be character
// devices such as /dev/null ("sinks": written, never replaced, truncated or checkpointed);
// outputs of kind Replaced (checkpoint, data, last good state, their .tmp/.prev) must be
// regular files or not exist yet.
class RunFiles {
 public:
  enum class Kind { Input, Stream, Replaced };
  void add(const std::string& path, const std::string& role, Kind kind);
  // The restart checkpoint is an input that the checkpoint output may replace.
  void add_restart(const std::string& path, const std::string& checkpoint_output);
  // Throws InputError(input_file, 0, ...) naming both roles for the first conflict.
  void verify(const std::string& input_file) const;
  // The same files identified again (outputs created since are then seen as existing files;
  // the Python package checks a report path against them, io/python/bindings.cpp).
  RunFiles refreshed() const;
  // True when `path` was registered as a Stream output that is a character device.
  bool is_sink(const std::string& path) const;

 private:
  struct Entry {
    std::string role;
    Kind kind;
    FileIdentity id;
    std::string may_equal;  // canonical path of an output this input may share (restart)
  };
  std::vector<Entry> files_;
};

// Exclusive advisory lock (flock) on a run's output set, held while the object lives: the
// lock file LOCK (next to the checkpoint) records pid, host, start time and input; each
// regular Stream output is flocked too. A second run on any of these files throws Error
// naming the other run.
class OutputLock {
 public:
  OutputLock(const std::string& lock_file, const std::string& input_file,
             const std::vector<std::string>& stream_outputs);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  std::vector<int> fds_;
};

// Signature of the first `bytes` bytes of a file (size plus FNV-1a of its first and last
// 4 KiB before that offset); 0 when the file is shorter. Stored in checkpoints with each
// output's offset, checked before a restart appends to the output.
std::uint64_t prefix_signature(const std::string& path, long long bytes);

// A fresh random run identifier (hex), written into checkpoints.
std::string new_run_id();

}  // namespace md
