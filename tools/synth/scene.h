// Scene description and ray casting for the synthetic renderer.
#ifndef DEPTHD_TOOLS_SYNTH_SCENE_H_
#define DEPTHD_TOOLS_SYNTH_SCENE_H_

#include <cmath>
#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

namespace depthd::synth {

struct Vec3 {
  double x = 0, y = 0, z = 0;
  Vec3 operator+(const Vec3& o) const { return {x + o.x, y + o.y, z + o.z}; }
  Vec3 operator-(const Vec3& o) const { return {x - o.x, y - o.y, z - o.z}; }
  Vec3 operator*(double s) const { return {x * s, y * s, z * s}; }
  double Dot(const Vec3& o) const { return x * o.x + y * o.y + z * o.z; }
  Vec3 Cross(const Vec3& o) const { return {y * o.z - z * o.y, z * o.x - x * o.z, x * o.y - y * o.x}; }
  double Norm() const { return std::sqrt(Dot(*this)); }
  Vec3 Normalized() const { const double n = Norm(); return n > 0 ? *this * (1.0 / n) : *this; }
};

// Deterministic across platforms (unlike std::*_distribution).
class Rng {
 public:
  // The seed is mixed first so that neighbouring seeds give unrelated sequences.
  explicit Rng(uint64_t seed) : state_(seed) { state_ = Next() ^ 0x5DEECE66Dull; }
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double Uniform(double lo = 0.0, double hi = 1.0) {
    return lo + (hi - lo) * static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0);
  }
  int Int(int lo, int hi) { return lo + static_cast<int>(Next() % static_cast<uint64_t>(hi - lo + 1)); }

  // The whole state, to save and restore a stream exactly (a resumed training run).
  uint64_t state() const { return state_; }
  static Rng FromState(uint64_t state) {
    Rng rng(0);
    rng.state_ = state;
    return rng;
  }

 private:
  uint64_t state_;
};

// kImage: a photograph (Material::image) tiled over the surface, mirrored at every repeat so
// that tiles meet without a seam.
enum class Texture { kPlain, kChecker, kStripes, kNoise, kBricks, kRings, kImage };

struct Material {
  Vec3 colour{0.7, 0.7, 0.7};
  Vec3 colour2{0.3, 0.3, 0.3};
  Texture texture = Texture::kPlain;
  double scale = 1.0;  // texture period in metres (kImage: the size of one tile)
  uint32_t noise_seed = 0;
  const cv::Mat* image = nullptr;  // kImage: CV_8UC3 RGB, not owned; colour multiplies it
};

enum class Shape { kPlane, kSphere, kBox, kCylinder };

struct Primitive {
  Shape shape = Shape::kSphere;
  Vec3 center;        // plane: a point on it; cylinder: centre of the base
  Vec3 normal{0, 1, 0};  // plane only
  Vec3 half{1, 1, 1};    // box half extents (in its own frame); sphere: half.x = radius;
                         // cylinder: half.x = radius, half.y = height
  double yaw = 0;        // box rotation about the vertical axis
  Material material;
  Vec3 velocity;         // metres per second; moving objects bounce inside `bounds`
  double bounds = 0;     // |x| and |z| travel limit around the start (0: static)
  int object = 0;        // parts of one object (a table's top and legs) share a number > 0;
                         // 0: scenery that bounds the scene (floor, walls)
};

struct Hit {
  double t = 1e30;
  Vec3 normal;
  const Primitive* primitive = nullptr;
};

struct Scene {
  std::vector<Primitive> primitives;
  bool has_sky = false;
  Vec3 light_dir{0.3, 0.9, 0.2};  // towards the light
  double ambient = 0.3;
  Vec3 sky_top{0.35, 0.55, 0.9}, sky_horizon{0.8, 0.85, 0.95};
  // The defaults below render as the renderer always has; SceneOptions::variety varies them.
  Vec3 light_colour{1, 1, 1};  // multiplies the directional light
  double exposure = 1.0;       // multiplies the final colour, sky included
  // Aerial perspective: colour fades to fog_colour as 1 - exp(-distance / fog_distance); 0: off.
  // Outdoors by default towards the sky's horizon colour at 120 m.
  double fog_distance = 0;
  bool fog_to_horizon = true;  // fog_colour is sky_horizon (outdoors); false: fog_colour
  Vec3 fog_colour{0, 0, 0};
  // A light at the camera (a torch, a flash): adds camera_light / (1 + distance^2) of the
  // albedo, so near surfaces come out brighter; 0: off.
  double camera_light = 0;
  // Clouds: value noise over the sky, cloud_cover of it (0: a clear sky) in cloud_colour.
  double cloud_cover = 0;
  Vec3 cloud_colour{0.95, 0.95, 0.95};
  uint32_t cloud_seed = 0;
};

// Nearest intersection along origin + t dir, t > t_min. dir must be unit length.
bool Intersect(const Scene& scene, const Vec3& origin, const Vec3& dir, double t_min, Hit* hit);
// Albedo of the primitive's material at point p, where the surface normal is `normal` (image
// textures are projected along its main axis).
Vec3 Albedo(const Primitive& primitive, const Vec3& p, const Vec3& normal);
// Fractal value noise in [0, 1] (four octaves).
double Fbm(const Vec3& p, uint32_t seed);
// The scene with moving objects advanced to time `seconds`.
Scene AtTime(const Scene& scene, double seconds);

}  // namespace depthd::synth

#endif  // DEPTHD_TOOLS_SYNTH_SCENE_H_
