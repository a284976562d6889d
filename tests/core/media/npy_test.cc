#include "core/media/npy.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace depthd {
namespace {

TEST(NpyTest, WriteReadRoundTripAndHeader) {
  const std::string path = std::filesystem::temp_directory_path() / "npy_test_a.npy";
  std::vector<float> data(2 * 3 * 4);
  for (size_t i = 0; i < data.size(); ++i) data[i] = 0.5f * i;
  ASSERT_TRUE(WriteNpyFloat32(path, data.data(), {2, 3, 4}).ok());
  std::ifstream in(path, std::ios::binary);
  std::string head(128, '\0');
  in.read(head.data(), 128);
  EXPECT_EQ(head.substr(0, 6), "\x93NUMPY");
  const int header_len = static_cast<unsigned char>(head[8]) | (static_cast<unsigned char>(head[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0);
  EXPECT_NE(head.find("'shape': (2, 3, 4)"), std::string::npos);
  auto array = ReadNpy(path);
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_EQ(array->dtype, "<f4");
  EXPECT_EQ(array->shape, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(*array->AsFloat(), data);
  std::filesystem::remove(path);
}

TEST(NpyTest, FrameWriterPatchesTheCount) {
  const std::string path = std::filesystem::temp_directory_path() / "npy_test_b.npy";
  {
    auto writer = NpyFrameWriter::Open(path, 2, 3);
    ASSERT_TRUE(writer.ok());
    std::vector<float> frame(6, 1.0f);
    for (int i = 0; i < 1234; ++i) {
      frame[0] = i;
      ASSERT_TRUE(writer->Append(frame.data()).ok());
    }
    ASSERT_TRUE(writer->Close().ok());
  }
  auto array = ReadNpy(path);
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_EQ(array->shape, (std::vector<int64_t>{1234, 2, 3}));
  EXPECT_EQ((*array->AsFloat())[1233 * 6], 1233.0f);
  // NumPy itself reads it, when it is installed.
  if (std::filesystem::exists("/usr/bin/python3") &&
      std::system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") == 0) {
    const std::string command = "/usr/bin/python3 -c \"import numpy as np; a = np.load('" + path +
                                "'); assert a.shape == (1234, 2, 3) and a.dtype == np.float32 and a[1233,0,0] == 1233\"";
    EXPECT_EQ(std::system(command.c_str()), 0);
  }
  std::filesystem::remove(path);
}

TEST(NpyTest, BadFilesAreErrors) {
  const std::string path = std::filesystem::temp_directory_path() / "npy_test_c.npy";
  std::ofstream(path) << "hello";
  EXPECT_EQ(ReadNpy(path).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadNpy("/nonexistent/x.npy").status().code(), absl::StatusCode::kNotFound);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace depthd
