#include "tools/train/real_clips.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

#include "absl/strings/str_split.h"
#include "core/media/video_io.h"
#include "tools/synth/texture_bank.h"

namespace depthd::train {
namespace {

double Median(std::vector<double> values) {
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  return values[values.size() / 2];
}

// The motion from b to a, given the one from a to b.
PairMotion Inverse(const PairMotion& m) {
  PairMotion inverse;
  inverse.R = m.R.t();
  inverse.t = -(m.R.t() * m.t);
  inverse.points_a = m.points_b;
  inverse.points_b = m.points_a;
  inverse.depth_a = m.depth_b;
  inverse.depth_b = m.depth_a;
  inverse.parallax = m.parallax;
  return inverse;
}

}  // namespace

absl::StatusOr<std::vector<RealClip>> LoadRealClips(const std::string& where,
                                                    const RealClipOptions& options) {
  absl::StatusOr<std::vector<std::string>> videos;
  if (std::filesystem::is_directory(where)) {
    videos = synth::ListVideos(where);
  } else {
    videos = absl::StrSplit(where, ',', absl::SkipEmpty());
  }
  if (!videos.ok()) return videos.status();
  std::vector<RealClip> clips;
  VideoReadOptions read;
  read.processing_res = 0;  // the decoded size: scaled here to cover the training size
  for (const std::string& path : *videos) {
    auto video = ReadVideo(path, read);
    if (!video.ok()) return video.status();
    const int w = video->width(), h = video->height();
    const double scale =
        std::max(static_cast<double>(options.width) / w, static_cast<double>(options.height) / h);
    const int sw = std::max(options.width, static_cast<int>(std::lround(w * scale)));
    const int sh = std::max(options.height, static_cast<int>(std::lround(h * scale)));
    const int x0 = (sw - options.width) / 2, y0 = (sh - options.height) / 2;
    RealClip clip;
    clip.name = std::filesystem::path(path).stem().string();
    const int64_t N = video->num_frames();
    clip.rgb = torch::empty({N, 3, options.height, options.width}, torch::kUInt8);
    for (int64_t f = 0; f < N; ++f) {
      cv::Mat resized;
      cv::resize(video->frames[f], resized, cv::Size(sw, sh), 0, 0, cv::INTER_AREA);
      cv::Mat crop = resized(cv::Rect(x0, y0, options.width, options.height)).clone();
      clip.rgb[f] = torch::from_blob(crop.data, {options.height, options.width, 3}, torch::kUInt8)
                        .permute({2, 0, 1})
                        .clone();
    }
    const double focal =
        0.5 * std::max(w, h) / std::tan(0.5 * options.assumed_fov_degrees * M_PI / 180.0) * scale;
    clip.K = cv::Matx33d(focal, 0, (w * scale - 1) / 2 - x0, 0, focal, (h * scale - 1) / 2 - y0, 0,
                         0, 1);
    clips.push_back(std::move(clip));
  }
  return clips;
}

std::optional<PairMotion> EstimateMotion(const cv::Mat& grey_a, const cv::Mat& grey_b,
                                         const cv::Matx33d& K, const PoseOptions& options) {
  std::vector<cv::Point2f> corners;
  cv::goodFeaturesToTrack(grey_a, corners, options.max_corners, 0.01, 7);
  if (static_cast<int>(corners.size()) < 2 * options.min_points) return std::nullopt;
  std::vector<cv::Point2f> tracked, back;
  std::vector<uchar> ok, ok_back;
  std::vector<float> error;
  cv::calcOpticalFlowPyrLK(grey_a, grey_b, corners, tracked, ok, error, cv::Size(21, 21), 3);
  cv::calcOpticalFlowPyrLK(grey_b, grey_a, tracked, back, ok_back, error, cv::Size(21, 21), 3);
  std::vector<cv::Point2f> pa, pb;
  for (size_t i = 0; i < corners.size(); ++i) {
    if (ok[i] && ok_back[i] && cv::norm(back[i] - corners[i]) < 0.5) {
      pa.push_back(corners[i]);
      pb.push_back(tracked[i]);
    }
  }
  if (static_cast<int>(pa.size()) < 2 * options.min_points) return std::nullopt;
  cv::Mat inlier;
  cv::Mat E = cv::findEssentialMat(pa, pb, cv::Mat(K), cv::RANSAC, 0.999, 0.75, inlier);
  if (E.rows < 3 || E.cols != 3) return std::nullopt;
  E = E.rowRange(0, 3).clone();
  cv::Mat R, t;
  const int inliers = cv::recoverPose(E, pa, pb, cv::Mat(K), R, t, inlier);
  if (inliers < options.min_inlier_share * static_cast<double>(pa.size())) return std::nullopt;
  PairMotion motion;
  motion.R = cv::Matx33d(R);
  motion.t = cv::Vec3d(t);
  // What the rotation alone explains: x_b ~ K R K^-1 x_a. The rest is parallax, from depth.
  const cv::Matx33d H = K * motion.R * K.inv();
  std::vector<double> parallax;
  std::vector<cv::Point2f> ia, ib;
  for (size_t i = 0; i < pa.size(); ++i) {
    if (!inlier.at<uchar>(static_cast<int>(i))) continue;
    const cv::Vec3d q = H * cv::Vec3d(pa[i].x, pa[i].y, 1.0);
    parallax.push_back(std::hypot(pb[i].x - q[0] / q[2], pb[i].y - q[1] / q[2]));
    ia.push_back(pa[i]);
    ib.push_back(pb[i]);
  }
  if (static_cast<int>(ia.size()) < options.min_points) return std::nullopt;
  motion.parallax = Median(parallax);
  if (motion.parallax < options.min_parallax) return std::nullopt;
  cv::Matx34d Pa(K(0, 0), K(0, 1), K(0, 2), 0, K(1, 0), K(1, 1), K(1, 2), 0, 0, 0, 1, 0);
  cv::Matx34d Rt(motion.R(0, 0), motion.R(0, 1), motion.R(0, 2), motion.t[0], motion.R(1, 0),
                 motion.R(1, 1), motion.R(1, 2), motion.t[1], motion.R(2, 0), motion.R(2, 1),
                 motion.R(2, 2), motion.t[2]);
  const cv::Matx34d Pb = K * Rt;
  cv::Mat X;
  cv::triangulatePoints(cv::Mat(Pa), cv::Mat(Pb), ia, ib, X);
  X.convertTo(X, CV_64F);
  for (int i = 0; i < X.cols; ++i) {
    const double w = X.at<double>(3, i);
    if (std::fabs(w) < 1e-12) continue;
    const cv::Vec3d xa(X.at<double>(0, i) / w, X.at<double>(1, i) / w, X.at<double>(2, i) / w);
    const cv::Vec3d xb = motion.R * xa + motion.t;
    if (xa[2] <= 0 || xb[2] <= 0) continue;
    const cv::Vec3d ua = K * xa, ub = K * xb;
    const double ea = std::hypot(ua[0] / ua[2] - ia[i].x, ua[1] / ua[2] - ia[i].y);
    const double eb = std::hypot(ub[0] / ub[2] - ib[i].x, ub[1] / ub[2] - ib[i].y);
    if (ea > 1.0 || eb > 1.0) continue;
    motion.points_a.push_back(ia[i]);
    motion.points_b.push_back(ib[i]);
    motion.depth_a.push_back(static_cast<float>(xa[2]));
    motion.depth_b.push_back(static_cast<float>(xb[2]));
  }
  if (static_cast<int>(motion.points_a.size()) < options.min_points) return std::nullopt;
  // Corners on one moving thing (a person before a static camera and a plain wall) also agree
  // on "a motion": ask for corners spread over the frame, as a static scene's are.
  int counts[9] = {0}, cells = 0;
  for (const cv::Point2f& p : motion.points_a) {
    const int cx = std::clamp(static_cast<int>(3 * p.x / grey_a.cols), 0, 2);
    const int cy = std::clamp(static_cast<int>(3 * p.y / grey_a.rows), 0, 2);
    if (++counts[3 * cy + cx] == 2) ++cells;
  }
  if (cells < options.min_cells) return std::nullopt;
  return motion;
}

std::vector<RealSnippet> FindRealSnippets(const std::vector<RealClip>& clips,
                                          const std::vector<int>& dilations,
                                          const PoseOptions& options, std::vector<int>* per_clip) {
  std::vector<RealSnippet> snippets;
  per_clip->assign(clips.size(), 0);
  for (size_t c = 0; c < clips.size(); ++c) {
    const RealClip& clip = clips[c];
    const int N = static_cast<int>(clip.rgb.size(0));
    std::vector<cv::Mat> grey(N);
    for (int f = 0; f < N; ++f) {
      const torch::Tensor hwc = clip.rgb[f].permute({1, 2, 0}).contiguous();
      const cv::Mat rgb(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC3,
                        hwc.data_ptr());
      cv::cvtColor(rgb, grey[f], cv::COLOR_RGB2GRAY);
    }
    for (int d : dilations) {
      // Motions from every even frame a to a + d, then snippets whose centre has both.
      std::map<int, std::optional<PairMotion>> forward;
      for (int a = 0; a + d < N; a += 2)
        forward[a] = EstimateMotion(grey[a], grey[a + d], clip.K, options);
      for (int centre = d; centre + d < N; centre += 2) {
        const auto prev = forward.find(centre - d), next = forward.find(centre);
        if (prev == forward.end() || next == forward.end() || !prev->second || !next->second)
          continue;
        snippets.push_back({static_cast<int>(c), centre, d, Inverse(*prev->second), *next->second});
        ++(*per_clip)[c];
      }
    }
  }
  return snippets;
}

}  // namespace depthd::train
