// synth: renders synthetic videos with exact depth. See docs/synth.md.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "core/media/npy.h"
#include "core/media/video_writer.h"
#include "tools/synth/synth.h"
#include "tools/synth/texture_bank.h"

ABSL_FLAG(uint64_t, seed, 0, "seed of the first video");
ABSL_FLAG(int, count, 1, "number of videos (seeds seed .. seed + count - 1)");
ABSL_FLAG(int, frames, 60, "frames per video");
ABSL_FLAG(int, width, 384, "width in pixels");
ABSL_FLAG(int, height, 216, "height in pixels");
ABSL_FLAG(double, fps, 24.0, "frames per second");
ABSL_FLAG(std::string, out, "synth_out", "output folder; one sub-folder per video");
ABSL_FLAG(std::string, format, "mp4", "RGB output: mp4 | png");
ABSL_FLAG(std::string, kind, "any", "scene: any | room | outdoor | tabletop");
ABSL_FLAG(bool, variety, false,
          "the renderer's variety (photograph textures with --textures, lighting and colour "
          "independent of depth, varied skies, thin structures, people-like figures)");
ABSL_FLAG(std::string, textures, "", "with --variety: a folder of videos to cut texture patches from");
ABSL_FLAG(uint64_t, texture_seed, 1, "which frames and crops --textures cuts");
ABSL_FLAG(bool, depth_png16, false, "also write depth_png16/%05d.png in millimetres");
ABSL_FLAG(std::string, video_only, "", "write only this MP4 file (for samples), no depth");

namespace fs = std::filesystem;
using depthd::synth::SceneKind;

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Renders procedural videos with exact per-frame depth (metres along the optical axis,\n"
      "0 = sky). Per video: rgb.mp4 (or rgb/%05d.png), depth.npy [N,H,W] float32,\n"
      "intrinsics.json.\n  synth --seed 100000 --count 8 --frames 60 --out eval_videos");
  absl::ParseCommandLine(argc, argv);
  const std::string kind_name = absl::GetFlag(FLAGS_kind);
  SceneKind kind = SceneKind::kAny;
  if (kind_name == "room") kind = SceneKind::kRoom;
  else if (kind_name == "outdoor") kind = SceneKind::kOutdoor;
  else if (kind_name == "tabletop") kind = SceneKind::kTabletop;
  else if (kind_name != "any") {
    std::cerr << "synth: --kind must be any, room, outdoor or tabletop\n";
    return 2;
  }
  std::vector<cv::Mat> textures;
  if (!absl::GetFlag(FLAGS_textures).empty()) {
    if (!absl::GetFlag(FLAGS_variety)) {
      std::cerr << "synth: --textures needs --variety\n";
      return 2;
    }
    auto videos = depthd::synth::ListVideos(absl::GetFlag(FLAGS_textures));
    depthd::synth::TextureBankOptions bank;
    bank.seed = absl::GetFlag(FLAGS_texture_seed);
    auto cut = videos.ok() ? depthd::synth::CutTextures(*videos, bank)
                           : absl::StatusOr<std::vector<cv::Mat>>(videos.status());
    if (!cut.ok()) {
      std::cerr << "synth: " << cut.status() << "\n";
      return 1;
    }
    textures = *std::move(cut);
  }
  const auto start = std::chrono::steady_clock::now();
  int64_t frames_rendered = 0;
  for (int i = 0; i < absl::GetFlag(FLAGS_count); ++i) {
    depthd::synth::SceneOptions options;
    options.seed = absl::GetFlag(FLAGS_seed) + i;
    options.width = absl::GetFlag(FLAGS_width);
    options.height = absl::GetFlag(FLAGS_height);
    options.num_frames = absl::GetFlag(FLAGS_frames);
    options.fps = absl::GetFlag(FLAGS_fps);
    options.kind = kind;
    options.variety = absl::GetFlag(FLAGS_variety);
    options.image_textures = &textures;
    auto video = depthd::synth::RenderVideo(options);
    if (!video.ok()) {
      std::cerr << "synth: " << video.status() << "\n";
      return 1;
    }
    frames_rendered += options.num_frames;
    auto write_mp4 = [&](const std::string& path) {
      auto writer = depthd::Mp4Writer::Open(path, video->rgb.front().size(), options.fps);
      if (!writer.ok()) return writer.status();
      for (const cv::Mat& frame : video->rgb) {
        if (absl::Status s = (*writer)->Write(frame); !s.ok()) return s;
      }
      return (*writer)->Close();
    };
    if (!absl::GetFlag(FLAGS_video_only).empty()) {
      if (absl::Status s = write_mp4(absl::GetFlag(FLAGS_video_only)); !s.ok()) {
        std::cerr << "synth: " << s << "\n";
        return 1;
      }
      break;
    }
    const fs::path dir = fs::path(absl::GetFlag(FLAGS_out)) / absl::StrFormat("seed_%06d", options.seed);
    fs::create_directories(dir);
    absl::Status status;
    if (absl::GetFlag(FLAGS_format) == "png") {
      fs::create_directories(dir / "rgb");
      for (size_t f = 0; f < video->rgb.size(); ++f) {
        cv::Mat bgr;
        cv::cvtColor(video->rgb[f], bgr, cv::COLOR_RGB2BGR);
        cv::imwrite((dir / "rgb" / absl::StrFormat("%05d.png", f)).string(), bgr);
      }
    } else {
      status = write_mp4((dir / "rgb.mp4").string());
    }
    if (status.ok()) {
      auto npy = depthd::NpyFrameWriter::Open((dir / "depth.npy").string(), options.height, options.width);
      status = npy.status();
      if (npy.ok()) {
        for (const cv::Mat& d : video->depth) {
          if (status = npy->Append(d.ptr<float>()); !status.ok()) break;
        }
        if (status.ok()) status = npy->Close();
      }
    }
    if (status.ok() && absl::GetFlag(FLAGS_depth_png16)) {
      fs::create_directories(dir / "depth_png16");
      for (size_t f = 0; f < video->depth.size(); ++f) {
        cv::Mat mm;
        video->depth[f].convertTo(mm, CV_16UC1, 1000.0);
        cv::imwrite((dir / "depth_png16" / absl::StrFormat("%05d.png", f)).string(), mm);
      }
    }
    if (!status.ok()) {
      std::cerr << "synth: " << status << "\n";
      return 1;
    }
    nlohmann::json intrinsics = {
        {"fx", video->intrinsics.fx}, {"fy", video->intrinsics.fy}, {"cx", video->intrinsics.cx},
        {"cy", video->intrinsics.cy}, {"width", options.width},     {"height", options.height},
        {"fps", options.fps},         {"frames", options.num_frames}, {"seed", options.seed},
        {"depth_units", "metres along the optical axis; 0 = sky (infinitely far)"}};
    std::ofstream(dir / "intrinsics.json") << intrinsics.dump(2) << "\n";
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << absl::StrFormat("synth: %d frames in %.1f s (%.1f frames/s)\n", frames_rendered,
                               seconds, frames_rendered / seconds);
  return 0;
}
