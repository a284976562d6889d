// Runs LibTorch code and turns its exceptions (out of memory, bad shapes, missing kernels) into
// INTERNAL errors, so no exception leaves a module.
#ifndef DEPTHD_CORE_MODEL_TORCH_CALL_H_
#define DEPTHD_CORE_MODEL_TORCH_CALL_H_

#include <exception>
#include <new>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace depthd {

// LibTorch messages carry C++ backtraces; the first few hundred characters say what happened.
// A TorchScript interpreter error puts its traceback first and the cause on its last line.
inline std::string ShortTorchMessage(const std::exception& e) {
  std::string message = e.what();
  if (message.find("failed in the TorchScript interpreter") != std::string::npos) {
    const size_t end = message.find_last_not_of(" \n");
    const size_t start = message.rfind('\n', end);
    if (end != std::string::npos) {
      message = message.substr(start == std::string::npos ? 0 : start + 1, end - start);
    }
  }
  if (message.size() > 400) message = message.substr(0, 400) + "...";
  return message;
}

// An exception as a Status: allocation failures (host or device) are RESOURCE_EXHAUSTED, so a
// client learns that a smaller job can work; anything else is INTERNAL.
inline absl::Status TorchExceptionStatus(const std::string& what, const std::exception& e) {
  const std::string message = ShortTorchMessage(e);
  const std::string full = e.what();
  const bool memory = dynamic_cast<const std::bad_alloc*>(&e) != nullptr ||
                      full.find("out of memory") != std::string::npos ||
                      full.find("can't allocate memory") != std::string::npos;
  if (memory) {
    return absl::ResourceExhaustedError(absl::StrCat(what, " ran out of memory: ", message));
  }
  return absl::InternalError(absl::StrCat(what, " failed: ", message));
}

// body() -> T becomes StatusOr<T>; an exception becomes TorchExceptionStatus.
template <typename Body>
auto TorchCall(const std::string& what, Body body) -> absl::StatusOr<decltype(body())> {
  try {
    return body();
  } catch (const std::exception& e) {
    return TorchExceptionStatus(what, e);
  }
}

}  // namespace depthd

#endif  // DEPTHD_CORE_MODEL_TORCH_CALL_H_
