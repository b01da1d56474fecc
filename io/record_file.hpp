// Append-only output file written in whole records: each record (a thermo line, a frame) is
// formatted in memory and handed to the kernel with write(2) calls, so an exit (or a second
// signal) never leaves a partial record. Resumable: opening at a byte offset truncates what
// a killed run wrote after its last checkpoint. Used by trajectory writers and checkpoints.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace md {

class RecordFile {
 public:
  RecordFile() = default;
  // Truncates (resume_at < 0) or keeps the first resume_at bytes and appends after them.
  // Throws Error when the file cannot be opened or is shorter than resume_at.
  RecordFile(const std::string& path, long long resume_at = -1);
  ~RecordFile();
  RecordFile(const RecordFile&) = delete;
  RecordFile& operator=(const RecordFile&) = delete;

  bool is_open() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }
  void write(std::string_view record);
  // Bytes written so far (the offset a checkpoint records).
  long long size() const { return size_; }
  // fsync (checkpoint time).
  void sync();
  void close();

 private:
  std::string path_;
  int fd_ = -1;
  long long size_ = 0;
};

// Writes `data` to `path` atomically: path.tmp, fsync, then `path` is replaced by rename(2)
// after its previous version was hard-linked (or copied) to path.prev. At every instant
// `path` is either the complete old or the complete new file. Throws Error on failure.
void write_file_atomically(const std::string& path, std::string_view data, bool keep_previous);

}  // namespace md
