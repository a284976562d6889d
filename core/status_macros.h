// Status propagation helpers (Abseil 20220623 ships no public ASSIGN_OR_RETURN).
#ifndef DEPTHD_CORE_STATUS_MACROS_H_
#define DEPTHD_CORE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define DEPTHD_RETURN_IF_ERROR(expr)                  \
  do {                                                \
    ::absl::Status _depthd_status = (expr);           \
    if (!_depthd_status.ok()) return _depthd_status;  \
  } while (0)

#define DEPTHD_CONCAT_INNER_(a, b) a##b
#define DEPTHD_CONCAT_(a, b) DEPTHD_CONCAT_INNER_(a, b)

#define DEPTHD_ASSIGN_OR_RETURN(lhs, expr) \
  DEPTHD_ASSIGN_OR_RETURN_IMPL_(DEPTHD_CONCAT_(_depthd_statusor_, __LINE__), lhs, expr)

#define DEPTHD_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // DEPTHD_CORE_STATUS_MACROS_H_
