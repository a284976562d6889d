#include "client/output_writer.h"

#include <algorithm>
#include <filesystem>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/media/depth_image.h"
#include "core/media/video_io.h"
#include "core/media/video_writer.h"
#include "core/status_macros.h"

namespace depthd::client {

namespace fs = std::filesystem;

absl::StatusOr<cv::Mat> DecodeDepthFrame(const v1::DepthFrame& frame) {
  switch (frame.encoding()) {
    case v1::DEPTH_ENCODING_FLOAT16:
      return Float16BytesToDepth(frame.data(), frame.width(), frame.height());
    case v1::DEPTH_ENCODING_PNG16: {
      DEPTHD_ASSIGN_OR_RETURN(cv::Mat depth, DecodePng16(frame.data()));
      if (depth.cols != frame.width() || depth.rows != frame.height()) {
        return absl::DataLossError("PNG16 frame size differs from the announced size");
      }
      return depth;
    }
    case v1::DEPTH_ENCODING_FLOAT32:
    case v1::DEPTH_ENCODING_UNSPECIFIED:
      return Float32BytesToDepth(frame.data(), frame.width(), frame.height());
    default:
      return absl::InvalidArgumentError(absl::StrCat("unknown depth encoding ", frame.encoding()));
  }
}

std::string OutputWriter::Path(const std::string& suffix) const {
  return (fs::path(options_.dir) / (options_.name + suffix)).string();
}

absl::StatusOr<int> OutputWriter::Resume() {
  std::error_code error;
  if (!fs::exists(Path("_pred.npy"), error)) return 0;
  DEPTHD_ASSIGN_OR_RETURN(NpyFrameWriter npy, NpyFrameWriter::OpenAppend(Path("_pred.npy")));
  frames_ = static_cast<int>(npy.frames_written());
  npy_.emplace(std::move(npy));
  DEPTHD_ASSIGN_OR_RETURN(NpyFrameFile file, NpyFrameFile::Open(Path("_pred.npy")));
  size_ = cv::Size(file.width(), file.height());
  return frames_;
}

absl::Status OutputWriter::Add(const v1::DepthFrame& frame) {
  if (frame.index() != frames_) {
    return absl::DataLossError(absl::StrCat("depth frame ", frame.index(), " arrived, expected ", frames_));
  }
  DEPTHD_ASSIGN_OR_RETURN(cv::Mat depth, DecodeDepthFrame(frame));
  if (!npy_) {
    std::error_code error;
    fs::create_directories(options_.dir, error);
    if (error) {
      return absl::PermissionDeniedError(absl::StrCat("cannot create ", options_.dir, ": ", error.message()));
    }
    size_ = depth.size();
    DEPTHD_ASSIGN_OR_RETURN(NpyFrameWriter npy, NpyFrameWriter::Open(Path("_pred.npy"), depth.rows, depth.cols));
    npy_.emplace(std::move(npy));
  }
  if (depth.size() != size_) return absl::DataLossError("depth frames changed size mid-stream");
  DEPTHD_RETURN_IF_ERROR(npy_->Append(depth.ptr<float>()));
  ++frames_;
  return absl::OkStatus();
}

absl::Status OutputWriter::Finish(const v1::Summary& summary, const std::string& input,
                                  int start_frame, int frame_count) {
  if (!npy_) return absl::DataLossError("no depth frame arrived");
  DEPTHD_RETURN_IF_ERROR(npy_->Close());
  paths_.push_back(Path("_pred.npy"));
  DEPTHD_ASSIGN_OR_RETURN(NpyFrameFile npy, NpyFrameFile::Open(Path("_pred.npy")));
  cv::Mat depth(size_, CV_32FC1);
  if (summary.normalization() == v1::NORMALIZATION_ALIGNED) {
    for (int64_t f = 0; f < npy.frames(); ++f) {
      DEPTHD_RETURN_IF_ERROR(npy.Read(f, depth.ptr<float>()));
      NormalizeDepth(summary.depth_min(), summary.depth_max(), &depth);
      DEPTHD_RETURN_IF_ERROR(npy.Write(f, depth.ptr<float>()));
    }
  }
  // The videos' colour range: robust percentiles over the whole video (every 7th frame).
  std::vector<float> samples;
  for (int64_t f = 0; f < npy.frames(); f += std::max<int64_t>(1, npy.frames() / 64)) {
    DEPTHD_RETURN_IF_ERROR(npy.Read(f, depth.ptr<float>()));
    const float* p = depth.ptr<float>();
    for (size_t i = 0; i < depth.total(); i += 7) samples.push_back(p[i]);
  }
  double lo = 0.0, hi = 1.0;
  if (!samples.empty()) {
    const size_t a = samples.size() / 100, b = samples.size() - 1 - samples.size() / 100;
    std::nth_element(samples.begin(), samples.begin() + a, samples.end());
    lo = samples[a];
    std::nth_element(samples.begin(), samples.begin() + b, samples.end());
    hi = samples[b];
  }
  const double fps = summary.fps() > 0 ? summary.fps() : 24.0;

  std::unique_ptr<Mp4Writer> colour;
  if (options_.colorize) {
    DEPTHD_ASSIGN_OR_RETURN(colour, Mp4Writer::Open(Path("_Spectral_r.mp4"), size_, fps));
    paths_.push_back(Path("_Spectral_r.mp4"));
  }
  if (options_.png16) {
    std::error_code error;
    fs::create_directories(Path("_png16"), error);
    paths_.push_back(Path("_png16") + "/");
  }
  for (int64_t f = 0; f < npy.frames() && (colour || options_.png16); ++f) {
    DEPTHD_RETURN_IF_ERROR(npy.Read(f, depth.ptr<float>()));
    if (colour) DEPTHD_RETURN_IF_ERROR(colour->Write(ColorizeRange(depth, lo, hi)));
    if (options_.png16) {
      DEPTHD_RETURN_IF_ERROR(WritePng16(absl::StrFormat("%s/%05d.png", Path("_png16"), f), depth));
    }
  }
  if (colour) DEPTHD_RETURN_IF_ERROR(colour->Close());
  if (!options_.rgbd || input.empty() || npy.frames() == 0) return absl::OkStatus();

  VideoReadOptions read;
  read.start_frame = start_frame;
  read.frame_count = frame_count > 0 ? frame_count : static_cast<int>(npy.frames());
  read.processing_res = std::max(size_.width, size_.height);
  read.max_frames = npy.frames() + 1;
  std::unique_ptr<Mp4Writer> writer;
  DEPTHD_RETURN_IF_ERROR(ForEachFrame(input, read, [&](int f, const cv::Mat& rgb) -> absl::Status {
                           if (f >= npy.frames()) return absl::OkStatus();
                           DEPTHD_RETURN_IF_ERROR(npy.Read(f, depth.ptr<float>()));
                           const cv::Mat pair = SideBySide(ResizeTo(rgb, size_, Resample::kBilinear),
                                                           depth, lo, hi);
                           if (!writer) {
                             DEPTHD_ASSIGN_OR_RETURN(writer, Mp4Writer::Open(Path("_rgbd.mp4"), pair.size(), fps));
                             paths_.push_back(Path("_rgbd.mp4"));
                           }
                           return writer->Write(pair);
                         }).status());
  if (writer) DEPTHD_RETURN_IF_ERROR(writer->Close());
  return absl::OkStatus();
}

}  // namespace depthd::client
