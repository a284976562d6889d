#include "client/output_writer.h"

#include <filesystem>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/media/depth_image.h"
#include "core/status_macros.h"
#include "core/media/video_io.h"

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

absl::Status OutputWriter::Add(const v1::DepthFrame& frame) {
  if (frame.index() != frames_) {
    return absl::DataLossError(absl::StrCat("depth frame ", frame.index(), " arrived, expected ", frames_));
  }
  DEPTHD_ASSIGN_OR_RETURN(cv::Mat depth, DecodeDepthFrame(frame));
  if (frames_ == 0) {
    std::error_code error;
    fs::create_directories(options_.dir, error);
    if (error) return absl::PermissionDeniedError(absl::StrCat("cannot create ", options_.dir, ": ", error.message()));
    size_ = depth.size();
    DEPTHD_ASSIGN_OR_RETURN(NpyFrameWriter npy, NpyFrameWriter::Open(Path("_pred.npy"), depth.rows, depth.cols));
    npy_.emplace(std::move(npy));
    paths_.push_back(Path("_pred.npy"));
    if (options_.colorize) {
      DEPTHD_ASSIGN_OR_RETURN(colour_, Mp4Writer::Open(Path("_Spectral_r.mp4"), size_, options_.fps));
      paths_.push_back(Path("_Spectral_r.mp4"));
    }
    if (options_.png16) {
      fs::create_directories(Path("_png16"), error);
      paths_.push_back(Path("_png16") + "/");
    }
  }
  if (depth.size() != size_) return absl::DataLossError("depth frames changed size mid-stream");
  DEPTHD_RETURN_IF_ERROR(npy_->Append(depth.ptr<float>()));
  if (colour_) DEPTHD_RETURN_IF_ERROR(colour_->Write(DepthPreview(depth)));
  if (options_.png16) {
    DEPTHD_RETURN_IF_ERROR(WritePng16(absl::StrFormat("%s/%05d.png", Path("_png16"), frames_), depth));
  }
  ++frames_;
  return absl::OkStatus();
}

absl::Status OutputWriter::Finish(const std::string& input, int start_frame, int frame_count) {
  if (npy_) DEPTHD_RETURN_IF_ERROR(npy_->Close());
  if (colour_) DEPTHD_RETURN_IF_ERROR(colour_->Close());
  if (!options_.rgbd || frames_ == 0) return absl::OkStatus();

  VideoReadOptions read;
  read.start_frame = start_frame;
  read.frame_count = frame_count;
  read.processing_res = std::max(size_.width, size_.height);
  read.max_frames = frames_ + start_frame + 1;
  DEPTHD_ASSIGN_OR_RETURN(VideoFrames video, ReadVideo(input, read));
  // Depth frames are read back one at a time from the .npy just written.
  std::ifstream npy(Path("_pred.npy"), std::ios::binary);
  char preamble[10];
  npy.read(preamble, 10);
  const int header = static_cast<unsigned char>(preamble[8]) | (static_cast<unsigned char>(preamble[9]) << 8);
  npy.seekg(10 + header);
  cv::Mat depth(size_, CV_32FC1);
  std::unique_ptr<Mp4Writer> writer;
  const int frames = std::min(frames_, video.num_frames());
  for (int f = 0; f < frames; ++f) {
    npy.read(reinterpret_cast<char*>(depth.ptr<float>()), depth.total() * sizeof(float));
    if (!npy) return absl::DataLossError("cannot read back " + Path("_pred.npy"));
    const cv::Mat rgb = ResizeTo(video.frames[f], size_, Resample::kBilinear);
    const cv::Mat pair = SideBySide(rgb, depth);
    if (!writer) {
      DEPTHD_ASSIGN_OR_RETURN(writer, Mp4Writer::Open(Path("_rgbd.mp4"), pair.size(), options_.fps));
      paths_.push_back(Path("_rgbd.mp4"));
    }
    DEPTHD_RETURN_IF_ERROR(writer->Write(pair));
  }
  if (writer) DEPTHD_RETURN_IF_ERROR(writer->Close());
  return absl::OkStatus();
}

}  // namespace depthd::client
