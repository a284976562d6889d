// Runs LibTorch code and turns its exceptions (out of memory, bad shapes, missing kernels) into
// INTERNAL errors, so no exception leaves a module.
#ifndef DEPTHD_CORE_TORCH_CALL_H_
#define DEPTHD_CORE_TORCH_CALL_H_

#include <exception>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace depthd {

// LibTorch messages carry C++ backtraces; the first few hundred characters say what happened.
inline std::string ShortTorchMessage(const std::exception& e) {
  std::string message = e.what();
  if (message.size() > 400) message = message.substr(0, 400) + "...";
  return message;
}

// body() -> T becomes StatusOr<T>; on an exception, INTERNAL "<what> failed: <message>".
template <typename Body>
auto TorchCall(const std::string& what, Body body) -> absl::StatusOr<decltype(body())> {
  try {
    return body();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(what, " failed: ", ShortTorchMessage(e)));
  }
}

}  // namespace depthd

#endif  // DEPTHD_CORE_TORCH_CALL_H_
