// A job's upload on the server's disk, in depthd's own folder (`<state_dir>/uploads/`, files
// named after the job): the bytes of a container, or Frame messages as length-prefixed records.
// The upload's reactor appends and syncs (an acknowledgement is only ever sent for synced
// bytes); the job's runner reads, blocking until the bytes it wants have arrived, so decoding
// can start while the upload is still coming.
#ifndef DEPTHD_SERVER_UPLOAD_SPOOL_H_
#define DEPTHD_SERVER_UPLOAD_SPOOL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/media/byte_source.h"
#include "depthd/v1/depthd.pb.h"

namespace depthd::server {

class UploadSpool : public std::enable_shared_from_this<UploadSpool> {
 public:
  struct Durable {
    int64_t bytes = 0;
    int frames = 0;
  };

  // A new, empty upload file for `job_id` in `dir`. `frames`: Frame records, else container bytes.
  // `sync` false skips fsync (benchmarks of what durability costs).
  static absl::StatusOr<std::shared_ptr<UploadSpool>> Create(const std::string& dir,
                                                             const std::string& job_id,
                                                             bool frames, bool sync = true);
  // A complete upload from an earlier run of depthd, for reading.
  static absl::StatusOr<std::shared_ptr<UploadSpool>> OpenComplete(const std::string& dir,
                                                                   const std::string& job_id,
                                                                   bool frames, int64_t bytes,
                                                                   int frames_count);
  static std::string FileName(const std::string& job_id, bool frames);
  ~UploadSpool();

  // Writer. RESOURCE_EXHAUSTED when the disk is full.
  absl::Status AppendBytes(std::string_view data);
  absl::Status AppendFrame(const v1::Frame& frame);
  // Makes everything appended durable (fsync) and returns how much that is.
  absl::StatusOr<Durable> Sync();
  // Sync, then the upload is whole: readers see its end.
  absl::StatusOr<Durable> Complete();
  // The upload will not be completed: blocked and later reads fail with `why`.
  void Abandon(const absl::Status& why);
  // Wakes blocked readers so they can see a cancellation.
  void Wake();
  // Deletes the file (the job ended or was deleted).
  void Remove();

  int64_t bytes() const;
  int frames() const;
  bool complete() const;
  bool is_frames() const { return frames_mode_; }

  // Reader: the container bytes as a ByteSource that blocks for bytes still to come; reads fail
  // with CANCELLED once `cancelled` is true (after Wake).
  std::unique_ptr<ByteSource> Reader(const std::atomic<bool>* cancelled);
  // Reader: Frame record `index`, blocking until it exists; nullopt after the last one.
  absl::StatusOr<std::optional<v1::Frame>> ReadFrame(int index, const std::atomic<bool>* cancelled);

 private:
  friend class SpoolReader;
  UploadSpool(std::string path, int fd, bool frames, bool sync);
  // Blocks until `offset + n` bytes exist, the upload is complete or abandoned, or cancelled.
  absl::Status WaitFor(int64_t end, const std::atomic<bool>* cancelled);
  absl::Status WaitForRecord(int index, const std::atomic<bool>* cancelled);
  absl::Status Write(const char* data, size_t n);
  // Why a read found no bytes where some were written: the cancellation, the abandonment, or a
  // removal without either.
  absl::Status WhyRemoved(const std::atomic<bool>* cancelled) const;

  const std::string path_;
  const int fd_;
  const bool frames_mode_;
  const bool sync_;
  mutable absl::Mutex mu_;
  int64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  int frames_written_ ABSL_GUARDED_BY(mu_) = 0;
  bool complete_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status abandoned_ ABSL_GUARDED_BY(mu_);
  int wakes_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<int64_t> record_offsets_ ABSL_GUARDED_BY(mu_);  // frames mode
};

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_UPLOAD_SPOOL_H_
