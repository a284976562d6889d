// The live progress line on stderr: one line redrawn in place on a terminal, periodic plain
// lines otherwise (logs, CI).
#ifndef DEPTHD_CLIENT_PROGRESS_LINE_H_
#define DEPTHD_CLIENT_PROGRESS_LINE_H_

#include <chrono>
#include <string>

namespace depthd::client {

class ProgressLine {
 public:
  explicit ProgressLine(bool quiet = false);
  void Upload(int64_t sent, int64_t total);
  void Queued(int position);
  void Stage(const std::string& stage, int64_t done, int64_t total);
  void Frames(int received);
  void Job(const std::string& id) { job_ = id.substr(0, 8); }
  // A line of its own (a retry, a re-attach), kept above the progress line.
  void Note(const std::string& text);
  void Done();

 private:
  void Draw(bool force = false);

  bool tty_;
  bool quiet_;
  std::string upload_, state_, job_;
  int frames_ = 0;
  std::string last_;
  std::chrono::steady_clock::time_point last_plain_;
};

}  // namespace depthd::client

#endif  // DEPTHD_CLIENT_PROGRESS_LINE_H_
