#include "client/estimate_call.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace depthd::client {
namespace {

namespace fs = std::filesystem;
constexpr size_t kChunkBytes = 1 << 20;

bool IsImage(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".webp" ||
         ext == ".tif" || ext == ".tiff";
}

}  // namespace

grpc::Status RunEstimate(v1::DepthService::Stub& stub, grpc::ClientContext& context,
                         const v1::JobSpec& spec, const std::string& path,
                         const EstimateCallbacks& callbacks) {
  std::error_code error;
  const bool folder = fs::is_directory(path, error);
  std::vector<fs::path> images;
  int64_t total = 0;
  if (folder) {
    for (const auto& entry : fs::directory_iterator(path)) {
      if (entry.is_regular_file() && IsImage(entry.path())) images.push_back(entry.path());
    }
    std::sort(images.begin(), images.end());
    for (const auto& image : images) total += fs::file_size(image, error);
  } else {
    total = static_cast<int64_t>(fs::file_size(path, error));
    if (error) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "cannot read " + path + ": " + error.message());
  }

  auto stream = stub.Estimate(&context);
  // The upload runs beside the reader so that Accepted and queue updates show during it.
  std::thread writer([&] {
    v1::EstimateRequest request;
    *request.mutable_spec() = spec;
    if (!stream->Write(request)) return;
    int64_t sent = 0;
    std::string buffer(kChunkBytes, '\0');
    if (folder) {
      for (const auto& image : images) {
        std::ifstream in(image, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        v1::EstimateRequest frame;
        frame.mutable_frame()->set_encoded(std::move(bytes));
        sent += frame.frame().encoded().size();
        if (!stream->Write(frame)) return;
        if (callbacks.uploaded) callbacks.uploaded(sent, total);
      }
    } else {
      std::ifstream in(path, std::ios::binary);
      while (in) {
        in.read(buffer.data(), buffer.size());
        const std::streamsize n = in.gcount();
        if (n <= 0) break;
        v1::EstimateRequest chunk;
        chunk.mutable_chunk()->set_data(buffer.data(), n);
        if (!stream->Write(chunk)) return;
        sent += n;
        if (callbacks.uploaded) callbacks.uploaded(sent, total);
      }
    }
    stream->WritesDone();
  });
  v1::EstimateResponse response;
  bool cancelled = false;
  while (stream->Read(&response)) {
    if (callbacks.response && !callbacks.response(response) && !cancelled) {
      cancelled = true;
      context.TryCancel();
    }
  }
  writer.join();
  return stream->Finish();
}

}  // namespace depthd::client
