#include "core/snippet_depths.h"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace depthd {
namespace {

SnippetDepths TwoSnippets(int height, int width) {
  SnippetPlanOptions options;
  options.dilations = {1};
  auto plan = PlanSnippets(4, options);  // snippets {0,1,2} and {1,2,3}
  EXPECT_TRUE(plan.ok()) << plan.status();
  return SnippetDepths(*plan, height, width);
}

TEST(SnippetDepthsTest, WriteCopiesRowsFromAPaddedBuffer) {
  SnippetDepths depths = TwoSnippets(2, 3);
  // A 2 x 3 prediction inside rows of 5 (the model's padded width).
  const std::vector<float> padded = {1, 2, 3, -9, -9,  //
                                     4, 5, 6, -9, -9};
  depths.Write(0, 1, 2, padded.data(), 5);
  const float* slot = depths.Slot(0, 1, 2);
  EXPECT_EQ(std::vector<float>(slot, slot + 6), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(SnippetDepthsTest, RangeIsRecordedByWriteAndComputedOtherwise) {
  SnippetDepths depths = TwoSnippets(4, 8);
  std::vector<float> prediction(32);
  for (int p = 0; p < 32; ++p) prediction[p] = 10.0f - p * 0.25f;  // min 2.25 at the end
  depths.Write(0, 0, 1, prediction.data(), 8);
  const int64_t slot = depths.SlotIndex(0, 0, 1);
  EXPECT_FLOAT_EQ(depths.Range(slot).min, 2.25f);
  EXPECT_TRUE(depths.Range(slot).finite);
  // Never-written slots hold zeros; their range is read from the data.
  EXPECT_FLOAT_EQ(depths.Range(depths.SlotIndex(0, 1, 0)).min, 0.0f);

  // A value changed through Slot() after Write must show: the recorded range is forgotten.
  depths.Slot(0, 0, 1)[3] = -1.0f;
  EXPECT_FLOAT_EQ(depths.Range(slot).min, -1.0f);
  depths.Slot(0, 0, 1)[4] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(depths.Range(slot).finite);
}

TEST(SnippetDepthsTest, WriteRecordsNanAndInf) {
  SnippetDepths depths = TwoSnippets(3, 7);  // 21 values: the SIMD lanes and the tail
  for (int bad : {0, 15, 20}) {
    std::vector<float> prediction(21, 1.0f);
    prediction[bad] = bad == 15 ? std::numeric_limits<float>::infinity()
                                : std::numeric_limits<float>::quiet_NaN();
    depths.Write(0, 0, 0, prediction.data(), 7);
    EXPECT_FALSE(depths.Range(depths.SlotIndex(0, 0, 0)).finite) << "bad value at " << bad;
  }
}

TEST(SnippetDepthsTest, RangeOfMatchesAPlainLoop) {
  std::vector<float> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = std::sin(0.37 * i) * 5.0f;
  float low = std::numeric_limits<float>::infinity();
  for (float x : data) low = std::min(low, x);
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{17}, int64_t{1000}}) {
    float expected = std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < n; ++i) expected = std::min(expected, data[i]);
    EXPECT_EQ(RangeOf(data.data(), n).min, expected) << n;
  }
  EXPECT_EQ(RangeOf(data.data(), 1000).min, low);
}

}  // namespace
}  // namespace depthd
