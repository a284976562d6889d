// IEEE 754 half precision <-> float, for the float16 depth encoding and .npy "<f2" arrays.
#ifndef DEPTHD_CORE_MEDIA_HALF_FLOAT_H_
#define DEPTHD_CORE_MEDIA_HALF_FLOAT_H_

#include <cstdint>
#include <cstring>

namespace depthd {

inline uint16_t FloatToHalf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  const uint32_t sign = (bits >> 16) & 0x8000u;
  const int32_t exponent = static_cast<int32_t>((bits >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = bits & 0x7fffffu;
  if (((bits >> 23) & 0xff) == 0xff) return sign | 0x7c00u | (mantissa ? 0x200u : 0);
  if (exponent >= 31) return sign | 0x7c00u;
  if (exponent <= 0) {
    if (exponent < -10) return sign;
    mantissa |= 0x800000u;
    const int shift = 14 - exponent;
    uint32_t half = mantissa >> shift;
    if ((mantissa >> (shift - 1)) & 1u) ++half;  // round half up
    return sign | half;
  }
  uint32_t half = sign | (exponent << 10) | (mantissa >> 13);
  if (mantissa & 0x1000u) ++half;  // round to nearest
  return static_cast<uint16_t>(half);
}

inline float HalfToFloat(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {
      exponent = 127 - 15 + 1;
      while ((mantissa & 0x400u) == 0) {
        mantissa <<= 1;
        --exponent;
      }
      bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
    }
  } else if (exponent == 31) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float out;
  std::memcpy(&out, &bits, sizeof(out));
  return out;
}

}  // namespace depthd

#endif  // DEPTHD_CORE_MEDIA_HALF_FLOAT_H_
