// depthctl's flags, shared by its subcommands. Unset job options (-1 or "") leave the server's
// preset in charge.
#ifndef DEPTHD_CLIENT_FLAGS_H_
#define DEPTHD_CLIENT_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"
#include "absl/time/time.h"

ABSL_DECLARE_FLAG(std::string, server);
ABSL_DECLARE_FLAG(absl::Duration, timeout);
ABSL_DECLARE_FLAG(absl::Duration, retry_for);
ABSL_DECLARE_FLAG(bool, tls);
ABSL_DECLARE_FLAG(std::string, tls_ca);
ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
ABSL_DECLARE_FLAG(std::string, tls_server_name);
ABSL_DECLARE_FLAG(std::string, token_file);
ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(std::string, name);
ABSL_DECLARE_FLAG(std::string, input);
ABSL_DECLARE_FLAG(std::string, preset);
ABSL_DECLARE_FLAG(int, res);
ABSL_DECLARE_FLAG(std::string, dilations);
ABSL_DECLARE_FLAG(std::string, cap_dilation);
ABSL_DECLARE_FLAG(std::string, snippet_lengths);
ABSL_DECLARE_FLAG(int, refine_step);
ABSL_DECLARE_FLAG(std::string, dtype);
ABSL_DECLARE_FLAG(int, start_frame);
ABSL_DECLARE_FLAG(int, frame_count);
ABSL_DECLARE_FLAG(std::string, resample);
ABSL_DECLARE_FLAG(bool, restore_res);
ABSL_DECLARE_FLAG(int64_t, seed);
ABSL_DECLARE_FLAG(std::string, solver);
ABSL_DECLARE_FLAG(int, max_iterations);
ABSL_DECLARE_FLAG(double, tolerance);
ABSL_DECLARE_FLAG(int, patience);
ABSL_DECLARE_FLAG(std::string, scope);
ABSL_DECLARE_FLAG(int, window);
ABSL_DECLARE_FLAG(int, solve_every);
ABSL_DECLARE_FLAG(std::string, normalization);
ABSL_DECLARE_FLAG(std::string, encoding);
ABSL_DECLARE_FLAG(bool, save_png16);
ABSL_DECLARE_FLAG(bool, rgbd);
ABSL_DECLARE_FLAG(bool, colorize);
ABSL_DECLARE_FLAG(bool, quiet);
ABSL_DECLARE_FLAG(std::string, json);
ABSL_DECLARE_FLAG(int, max_latency_frames);
ABSL_DECLARE_FLAG(bool, skip_frames);
ABSL_DECLARE_FLAG(bool, pace);
ABSL_DECLARE_FLAG(double, fps);
ABSL_DECLARE_FLAG(bool, show);
ABSL_DECLARE_FLAG(std::string, live_encoding);
ABSL_DECLARE_FLAG(int, page_size);

#endif  // DEPTHD_CLIENT_FLAGS_H_
