#include "client/progress_line.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_format.h"

namespace depthd::client {

ProgressLine::ProgressLine(bool quiet) : tty_(isatty(STDERR_FILENO)), quiet_(quiet) {}

void ProgressLine::Upload(int64_t sent, int64_t total) {
  upload_ = absl::StrFormat("upload %.1f/%.1f MB", sent / 1e6, total / 1e6);
  Draw();
}

void ProgressLine::Queued(int position) {
  state_ = absl::StrFormat("queued, %d ahead", position);
  Draw(true);
}

void ProgressLine::Stage(const std::string& stage, int64_t done, int64_t total) {
  if (total > 0) {
    const int width = 20;
    const int filled = static_cast<int>(width * done / total);
    state_ = absl::StrFormat("%-9s [%s%s] %d/%d", stage, std::string(filled, '#'),
                             std::string(width - filled, '.'), done, total);
  } else {
    state_ = stage;
  }
  Draw();
}

void ProgressLine::Frames(int received) {
  frames_ = received;
  Draw();
}

void ProgressLine::Note(const std::string& text) {
  if (quiet_) return;
  std::fprintf(stderr, "%s%s\n", tty_ ? "\r\033[K" : "", text.c_str());
  last_.clear();
  Draw(true);
}

void ProgressLine::Done() {
  if (quiet_) return;
  if (tty_ && !last_.empty()) std::fprintf(stderr, "\n");
}

void ProgressLine::Draw(bool force) {
  if (quiet_) return;
  const std::string line = absl::StrFormat("%s%s | %s | frames %d", job_.empty() ? "" : "job " + job_ + "… | ",
                                           upload_, state_, frames_);
  if (line == last_) return;
  last_ = line;
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (force || now - last_plain_ > std::chrono::seconds(2)) {
    last_plain_ = now;
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

}  // namespace depthd::client
