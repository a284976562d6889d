// depthctl: the command-line client of depthd.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "client/commands.h"
#include "client/flags.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "depthd address");
ABSL_FLAG(absl::Duration, timeout, absl::ZeroDuration(), "deadline for each call; 0 (the default) = none");
ABSL_FLAG(absl::Duration, retry_for, absl::Seconds(60),
          "run/fetch: how long to keep retrying a transient failure (UNAVAILABLE) by resuming the "
          "upload or re-attaching to the job; 0 = no retries");
ABSL_FLAG(bool, tls, false, "TLS with the system's CA certificates (implied by --tls_ca)");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA bundle that signed the server's certificate (turns TLS on)");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate, for a server that requires one (mutual TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_server_name, "", "the name the server's certificate carries, if not --server's host");
ABSL_FLAG(std::string, token_file, "",
          "file holding the bearer token (default: $DEPTHD_TOKEN); sent as authorization: Bearer");
ABSL_FLAG(std::string, out, "out", "run/fetch/live: output folder (also -o)");
ABSL_FLAG(std::string, name, "", "run/fetch/live: output file prefix; default: the input's name (fetch: the job id)");
ABSL_FLAG(std::string, input, "", "fetch: the input video, for <name>_rgbd.mp4");
ABSL_FLAG(std::string, preset, "", "fast | fast1024 | full | paper | none (server default: fast)");
ABSL_FLAG(int, res, -1, "processing resolution (longer side); 0 keeps the input size");
ABSL_FLAG(std::string, dilations, "", "e.g. 1,25");
ABSL_FLAG(std::string, cap_dilation, "", "true | false");
ABSL_FLAG(std::string, snippet_lengths, "", "e.g. 3");
ABSL_FLAG(int, refine_step, -1, "refinement steps (needs a model that can refine)");
ABSL_FLAG(std::string, dtype, "", "fp32 | fp16 | bf16 (must match the server's)");
ABSL_FLAG(int, start_frame, -1, "first frame to process");
ABSL_FLAG(int, frame_count, -1, "frames to process; 0 = all");
ABSL_FLAG(std::string, resample, "", "bilinear | nearest | bicubic");
ABSL_FLAG(bool, restore_res, false, "depth at the input resolution");
ABSL_FLAG(int64_t, seed, -1, "seed (the embedded model is deterministic and ignores it)");
ABSL_FLAG(std::string, solver, "", "co-alignment solver fast | early_stop | reference");
ABSL_FLAG(int, max_iterations, -1, "co-alignment iteration cap");
ABSL_FLAG(double, tolerance, -1, "co-alignment tolerance");
ABSL_FLAG(int, patience, -1, "early_stop patience");
ABSL_FLAG(std::string, scope, "", "co-alignment scope windowed | global (server default: windowed)");
ABSL_FLAG(int, window, -1, "windowed scope: frames a snippet stays free");
ABSL_FLAG(int, solve_every, -1, "windowed scope: frames between solves");
ABSL_FLAG(std::string, normalization, "",
          "global | aligned | running; run and submit ask for aligned (frames stream early, the "
          "files are the same) unless --encoding png16; live asks for running");
ABSL_FLAG(std::string, encoding, "float32", "depth on the wire: float32 | float16 (half the bytes) | png16");
ABSL_FLAG(bool, save_png16, false, "also write <name>_png16/%05d.png");
ABSL_FLAG(bool, rgbd, true, "write <name>_rgbd.mp4 (input | depth)");
ABSL_FLAG(bool, colorize, true, "write <name>_Spectral_r.mp4");
ABSL_FLAG(bool, quiet, false, "no progress line");
ABSL_FLAG(std::string, json, "", "compare: the figures as JSON; live: the latency figures as JSON");
ABSL_FLAG(int, max_latency_frames, 0, "live: the most frames a depth frame may lag (0: the server's default)");
ABSL_FLAG(bool, skip_frames, false, "live: skip frames (reported) when the server falls behind, instead of slowing down");
ABSL_FLAG(bool, pace, true, "live: send a file's frames at its frame rate (false: as fast as the server takes them)");
ABSL_FLAG(double, fps, 0, "live: the source's frame rate (default: what it says, else 30)");
ABSL_FLAG(bool, show, false, "live: show the depth in a window (needs a display)");
ABSL_FLAG(std::string, live_encoding, "jpeg", "live: how frames go up: jpeg | png | raw");
ABSL_FLAG(int, page_size, 50, "jobs: jobs per page");

namespace {

constexpr char kUsage[] =
    "depthctl talks to depthd.\n\n"
    "  depthctl run VIDEO [-o DIR] [--preset fast] [--res 384] [options]\n"
    "      stream VIDEO (a file, or a folder of images) to depthd and write DIR/<name>_pred.npy,\n"
    "      <name>_Spectral_r.mp4 and <name>_rgbd.mp4 (and <name>_png16/ with --save_png16);\n"
    "      survives a restart of depthd or a dropped network (--retry_for)\n"
    "  depthctl live SOURCE [-o DIR] [--max_latency_frames 15] [--show]\n"
    "      live depth of a camera (/dev/video0) or a file sent at its frame rate\n"
    "  depthctl submit VIDEO [options]   upload and go; prints the job id\n"
    "  depthctl watch JOB_ID             the job's status until it ends\n"
    "  depthctl fetch JOB_ID -o DIR      write a job's outputs (continues an interrupted fetch)\n"
    "  depthctl jobs                     your jobs, newest first\n"
    "  depthctl job JOB_ID               a job's status\n"
    "  depthctl cancel JOB_ID            cancel a job that has not ended\n"
    "  depthctl delete JOB_ID            cancel if needed, then remove the job and its results\n"
    "  depthctl info                     server version, model, device, presets, limits\n"
    "  depthctl health                   exit 0 when depthd is SERVING\n"
    "  depthctl compare A.npy B.npy [--json F]\n"
    "      MAE, RMSE, P90, temporal-consistency ratio and error by region of A against B\n\n"
    "Global: --server ADDR (default 127.0.0.1:50051), --timeout 60s (default none),\n"
    "  --tls_ca CA.pem [--tls_cert C.pem --tls_key K.pem], --token_file F (or DEPTHD_TOKEN)";

}  // namespace

int main(int argc, char** argv) {
  // "-o DIR" is the conventional short form of --out.
  std::vector<char*> args(argv, argv + argc);
  std::string out_flag = "--out";
  for (char*& arg : args) {
    if (std::strcmp(arg, "-o") == 0) arg = out_flag.data();
  }
  // --help lists the flags defined in this file (Abseil matches the binary's name otherwise).
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) { return absl::EndsWith(file, "client/main.cc"); };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> positional = absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  if (positional.size() < 2) {
    std::cerr << kUsage << "\n";
    return 2;
  }
  const std::string command = positional[1];
  const std::vector<std::string> rest(positional.begin() + 2, positional.end());
  using namespace depthd::client;
  if (command == "run") return RunCommand(rest);
  if (command == "live") return LiveCommand(rest);
  if (command == "submit") return SubmitCommand(rest);
  if (command == "watch") return WatchCommand(rest);
  if (command == "fetch") return FetchCommand(rest);
  if (command == "jobs") return JobsCommand(rest);
  if (command == "delete") return DeleteCommand(rest);
  if (command == "info") return InfoCommand();
  if (command == "health") return HealthCommand();
  if (command == "job") return JobCommand(rest);
  if (command == "cancel") return CancelCommand(rest);
  if (command == "compare") return CompareCommand(rest);
  std::cerr << "depthctl: unknown command '" << command << "'\n\n" << kUsage << "\n";
  return 2;
}
