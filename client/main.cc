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
ABSL_FLAG(absl::Duration, timeout, absl::ZeroDuration(), "deadline for the call; 0 = none");
ABSL_FLAG(std::string, out, "out", "run: output folder (also -o)");
ABSL_FLAG(std::string, name, "", "run: output file prefix; default: the input's name");
ABSL_FLAG(std::string, preset, "", "run: fast | fast1024 | full | paper | none (server default: fast)");
ABSL_FLAG(int, res, -1, "run: processing resolution (longer side); 0 keeps the input size");
ABSL_FLAG(std::string, dilations, "", "run: e.g. 1,25");
ABSL_FLAG(std::string, cap_dilation, "", "run: true | false");
ABSL_FLAG(std::string, snippet_lengths, "", "run: e.g. 3");
ABSL_FLAG(int, refine_step, -1, "run: refinement steps (needs a model that can refine)");
ABSL_FLAG(std::string, dtype, "", "run: fp32 | fp16 | bf16 (must match the server's)");
ABSL_FLAG(int, start_frame, -1, "run: first frame to process");
ABSL_FLAG(int, frame_count, -1, "run: frames to process; 0 = all");
ABSL_FLAG(std::string, resample, "", "run: bilinear | nearest | bicubic");
ABSL_FLAG(bool, restore_res, false, "run: depth at the input resolution");
ABSL_FLAG(int64_t, seed, -1, "run: seed (recorded; the embedded model is deterministic)");
ABSL_FLAG(std::string, solver, "", "run: co-alignment solver fast | early_stop | reference");
ABSL_FLAG(int, max_iterations, -1, "run: co-alignment iteration cap");
ABSL_FLAG(double, tolerance, -1, "run: co-alignment tolerance");
ABSL_FLAG(int, patience, -1, "run: early_stop patience");
ABSL_FLAG(std::string, encoding, "float32", "run: depth on the wire: float32 | float16 (half the bytes) | png16");
ABSL_FLAG(bool, save_png16, false, "run: also write <name>_png16/%05d.png");
ABSL_FLAG(bool, rgbd, true, "run: write <name>_rgbd.mp4 (input | depth)");
ABSL_FLAG(bool, colorize, true, "run: write <name>_Spectral_r.mp4");
ABSL_FLAG(bool, quiet, false, "no progress line");
ABSL_FLAG(std::string, json, "", "compare: also write the figures as JSON here");

namespace {

constexpr char kUsage[] =
    "depthctl talks to depthd.\n\n"
    "  depthctl run VIDEO [-o DIR] [--preset fast] [--res 384] [options]\n"
    "      stream VIDEO (a file, or a folder of images) to depthd; writes DIR/<name>_pred.npy,\n"
    "      <name>_Spectral_r.mp4 and <name>_rgbd.mp4 (and <name>_png16/ with --save_png16)\n"
    "  depthctl info                 server version, model, device, presets, limits\n"
    "  depthctl health               exit 0 when depthd is SERVING\n"
    "  depthctl job JOB_ID           a job's state\n"
    "  depthctl cancel JOB_ID        cancel a queued or running job\n"
    "  depthctl compare A.npy B.npy [--json F]\n"
    "      MAE, RMSE, P90, temporal-consistency ratio and error by region of A against B\n\n"
    "Global: --server ADDR (default 127.0.0.1:50051), --timeout 60s";

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
  if (command == "info") return InfoCommand();
  if (command == "health") return HealthCommand();
  if (command == "job") return JobCommand(rest);
  if (command == "cancel") return CancelCommand(rest);
  if (command == "compare") return CompareCommand(rest);
  std::cerr << "depthctl: unknown command '" << command << "'\n\n" << kUsage << "\n";
  return 2;
}
