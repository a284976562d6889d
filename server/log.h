// Server logging: one structured line per job always; more with --v=1.
#ifndef DEPTHD_SERVER_LOG_H_
#define DEPTHD_SERVER_LOG_H_

#include <atomic>
#include <iostream>
#include <string>

namespace depthd::server {

inline std::atomic<int>& Verbosity() {
  static std::atomic<int> verbosity{0};
  return verbosity;
}

// A detail line, shown with --v=1 and up.
inline void LogDetail(const std::string& line) {
  if (Verbosity() >= 1) std::cerr << line << std::endl;
}

}  // namespace depthd::server

#endif  // DEPTHD_SERVER_LOG_H_
