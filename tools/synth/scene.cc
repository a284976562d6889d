#include "tools/synth/scene.h"

#include <algorithm>
#include <cmath>

namespace depthd::synth {
namespace {

double Hash(int64_t x, int64_t y, int64_t z, uint32_t seed) {
  uint64_t h = static_cast<uint64_t>(x) * 0x8da6b343ull ^ static_cast<uint64_t>(y) * 0xd8163841ull ^
               static_cast<uint64_t>(z) * 0xcb1ab31full ^ (static_cast<uint64_t>(seed) << 32);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return static_cast<double>(h & 0xffffff) / 16777215.0;
}

double Smooth(double t) { return t * t * (3 - 2 * t); }

// Trilinear value noise.
double ValueNoise(const Vec3& p, uint32_t seed) {
  const double fx = std::floor(p.x), fy = std::floor(p.y), fz = std::floor(p.z);
  const int64_t ix = static_cast<int64_t>(fx), iy = static_cast<int64_t>(fy),
                iz = static_cast<int64_t>(fz);
  const double tx = Smooth(p.x - fx), ty = Smooth(p.y - fy), tz = Smooth(p.z - fz);
  double v = 0;
  for (int dz = 0; dz < 2; ++dz) {
    for (int dy = 0; dy < 2; ++dy) {
      for (int dx = 0; dx < 2; ++dx) {
        const double w = (dx ? tx : 1 - tx) * (dy ? ty : 1 - ty) * (dz ? tz : 1 - tz);
        v += w * Hash(ix + dx, iy + dy, iz + dz, seed);
      }
    }
  }
  return v;
}

}  // namespace

double Fbm(const Vec3& p, uint32_t seed) {
  double v = 0, amplitude = 0.5, frequency = 1;
  for (int octave = 0; octave < 4; ++octave) {
    v += amplitude * ValueNoise(p * frequency, seed + octave);
    amplitude *= 0.5;
    frequency *= 2.03;
  }
  return v;
}

namespace {

// Bilinear sample of an RGB image tiled with mirroring (u, v in tiles; one tile = the image).
Vec3 SampleMirrored(const cv::Mat& image, double u, double v) {
  auto mirror = [](double t) {
    const double period = t - 2.0 * std::floor(t / 2.0);  // [0, 2)
    return period < 1.0 ? period : 2.0 - period;           // [0, 1]
  };
  const double x = mirror(u) * (image.cols - 1), y = mirror(v) * (image.rows - 1);
  const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
  const int x1 = std::min(x0 + 1, image.cols - 1), y1 = std::min(y0 + 1, image.rows - 1);
  const double tx = x - x0, ty = y - y0;
  Vec3 out;
  const int corners[4][2] = {{x0, y0}, {x1, y0}, {x0, y1}, {x1, y1}};
  const double weights[4] = {(1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty};
  for (int i = 0; i < 4; ++i) {
    const cv::Vec3b& c = image.at<cv::Vec3b>(corners[i][1], corners[i][0]);
    out = out + Vec3{c[0] / 255.0, c[1] / 255.0, c[2] / 255.0} * weights[i];
  }
  return out;
}

bool HitPlane(const Primitive& pr, const Vec3& o, const Vec3& d, double t_min, Hit* hit) {
  const double denom = pr.normal.Dot(d);
  if (std::fabs(denom) < 1e-12) return false;
  const double t = (pr.center - o).Dot(pr.normal) / denom;
  if (t <= t_min || t >= hit->t) return false;
  hit->t = t;
  hit->normal = denom < 0 ? pr.normal : pr.normal * -1.0;
  hit->primitive = &pr;
  return true;
}

bool HitSphere(const Primitive& pr, const Vec3& o, const Vec3& d, double t_min, Hit* hit) {
  const Vec3 oc = o - pr.center;
  const double b = oc.Dot(d);
  const double c = oc.Dot(oc) - pr.half.x * pr.half.x;
  const double disc = b * b - c;
  if (disc < 0) return false;
  const double root = std::sqrt(disc);
  double t = -b - root;
  if (t <= t_min) t = -b + root;
  if (t <= t_min || t >= hit->t) return false;
  hit->t = t;
  hit->normal = (o + d * t - pr.center).Normalized();
  hit->primitive = &pr;
  return true;
}

// Box rotated by yaw about the vertical axis: intersect in its own frame (slabs).
bool HitBox(const Primitive& pr, const Vec3& o, const Vec3& d, double t_min, Hit* hit) {
  const double c = std::cos(pr.yaw), s = std::sin(pr.yaw);
  auto to_local = [&](const Vec3& v) { return Vec3{c * v.x + s * v.z, v.y, -s * v.x + c * v.z}; };
  const Vec3 lo = to_local(o - pr.center), ld = to_local(d);
  double t0 = -1e30, t1 = 1e30;
  int axis0 = 0;
  double sign0 = 1;
  const double oo[3] = {lo.x, lo.y, lo.z}, dd[3] = {ld.x, ld.y, ld.z},
               hh[3] = {pr.half.x, pr.half.y, pr.half.z};
  for (int a = 0; a < 3; ++a) {
    if (std::fabs(dd[a]) < 1e-12) {
      if (oo[a] < -hh[a] || oo[a] > hh[a]) return false;
      continue;
    }
    double ta = (-hh[a] - oo[a]) / dd[a], tb = (hh[a] - oo[a]) / dd[a];
    double sa = -1;
    if (ta > tb) {
      std::swap(ta, tb);
      sa = 1;
    }
    if (ta > t0) {
      t0 = ta;
      axis0 = a;
      sign0 = sa;
    }
    t1 = std::min(t1, tb);
    if (t0 > t1) return false;
  }
  if (t0 <= t_min || t0 >= hit->t) return false;  // camera never starts inside a box
  Vec3 local_normal{axis0 == 0 ? sign0 : 0, axis0 == 1 ? sign0 : 0, axis0 == 2 ? sign0 : 0};
  hit->t = t0;
  hit->normal = {c * local_normal.x - s * local_normal.z, local_normal.y,
                 s * local_normal.x + c * local_normal.z};
  hit->primitive = &pr;
  return true;
}

// Vertical capped cylinder.
bool HitCylinder(const Primitive& pr, const Vec3& o, const Vec3& d, double t_min, Hit* hit) {
  const double r = pr.half.x, h = pr.half.y;
  const Vec3 oc = o - pr.center;
  bool found = false;
  const double a = d.x * d.x + d.z * d.z;
  if (a > 1e-12) {
    const double b = oc.x * d.x + oc.z * d.z;
    const double c = oc.x * oc.x + oc.z * oc.z - r * r;
    const double disc = b * b - a * c;
    if (disc >= 0) {
      const double t = (-b - std::sqrt(disc)) / a;
      const double y = oc.y + t * d.y;
      if (t > t_min && t < hit->t && y >= 0 && y <= h) {
        hit->t = t;
        hit->normal = Vec3{oc.x + t * d.x, 0, oc.z + t * d.z}.Normalized();
        hit->primitive = &pr;
        found = true;
      }
    }
  }
  if (std::fabs(d.y) > 1e-12) {
    for (double cap : {0.0, h}) {
      const double t = (cap - oc.y) / d.y;
      const double x = oc.x + t * d.x, z = oc.z + t * d.z;
      if (t > t_min && t < hit->t && x * x + z * z <= r * r) {
        hit->t = t;
        hit->normal = {0, cap > 0 ? 1.0 : -1.0, 0};
        hit->primitive = &pr;
        found = true;
      }
    }
  }
  return found;
}

// False when the ray cannot meet a sphere of `radius` about `center` before hit->t: a
// conservative test (the radius is inflated) that skips the exact test of a box or a cylinder
// the ray passes far from, so it changes no image, only the time.
bool MayHitBound(const Vec3& center, double radius, const Vec3& o, const Vec3& d, const Hit& hit) {
  const Vec3 oc = o - center;
  const double r = radius * (1.0 + 1e-6) + 1e-9;
  const double b = oc.Dot(d), c = oc.Dot(oc) - r * r;
  if (c <= 0) return true;  // the ray starts inside the bound
  if (b > 0) return false;  // outside and moving away
  const double disc = b * b - c;
  return disc >= 0 && -b - std::sqrt(disc) < hit.t;
}

}  // namespace

bool Intersect(const Scene& scene, const Vec3& origin, const Vec3& dir, double t_min, Hit* hit) {
  bool found = false;
  for (const Primitive& pr : scene.primitives) {
    if (pr.shape == Shape::kBox && !MayHitBound(pr.center, pr.half.Norm(), origin, dir, *hit)) continue;
    if (pr.shape == Shape::kCylinder &&
        !MayHitBound(pr.center + Vec3{0, pr.half.y / 2, 0}, std::hypot(pr.half.x, pr.half.y / 2), origin, dir, *hit)) {
      continue;
    }
    switch (pr.shape) {
      case Shape::kPlane: found |= HitPlane(pr, origin, dir, t_min, hit); break;
      case Shape::kSphere: found |= HitSphere(pr, origin, dir, t_min, hit); break;
      case Shape::kBox: found |= HitBox(pr, origin, dir, t_min, hit); break;
      case Shape::kCylinder: found |= HitCylinder(pr, origin, dir, t_min, hit); break;
    }
  }
  return found;
}

Vec3 Albedo(const Primitive& primitive, const Vec3& p, const Vec3& normal) {
  const Material& m = primitive.material;
  const Vec3 q = (p - primitive.center) * (1.0 / m.scale);
  double mix = 0;
  switch (m.texture) {
    case Texture::kImage: {
      if (m.image == nullptr || m.image->empty()) break;
      // Projected along the normal's main axis; image rows run downwards.
      const double ax = std::fabs(normal.x), ay = std::fabs(normal.y), az = std::fabs(normal.z);
      const double u = ay >= ax && ay >= az ? q.x : (ax >= az ? q.z : q.x);
      const double v = ay >= ax && ay >= az ? q.z : -q.y;
      const Vec3 c = SampleMirrored(*m.image, u, v);
      return {c.x * m.colour.x, c.y * m.colour.y, c.z * m.colour.z};
    }
    case Texture::kPlain:
      mix = 0.15 * Fbm(q * 4.0, m.noise_seed);
      break;
    case Texture::kChecker:
      mix = (static_cast<int64_t>(std::floor(q.x) + std::floor(q.y + 1e-4) + std::floor(q.z)) & 1)
                ? 1.0 : 0.0;
      break;
    case Texture::kStripes:
      mix = 0.5 + 0.5 * std::sin((q.x + q.z) * 6.2831853);
      break;
    case Texture::kNoise:
      mix = Fbm(q * 2.0, m.noise_seed);
      break;
    case Texture::kBricks: {
      const double row = std::floor(q.y * 2.0);
      const double u = (q.x + q.z) + (static_cast<int64_t>(row) & 1) * 0.5;
      const bool mortar = std::fabs(q.y * 2.0 - row) < 0.08 || std::fabs(u - std::floor(u)) < 0.04;
      mix = mortar ? 1.0 : 0.2 * ValueNoise(Vec3{std::floor(u), row, 0}, m.noise_seed);
      break;
    }
    case Texture::kRings: {
      const double radius = std::sqrt(q.x * q.x + q.z * q.z) + 0.3 * Fbm(q, m.noise_seed);
      mix = 0.5 + 0.5 * std::sin(radius * 18.0);
      break;
    }
  }
  return m.colour * (1.0 - mix) + m.colour2 * mix;
}

Scene AtTime(const Scene& scene, double seconds) {
  Scene moved = scene;
  for (Primitive& pr : moved.primitives) {
    if (pr.bounds <= 0) continue;
    // Triangle-wave travel: back and forth within +-bounds, smooth enough for video.
    auto bounce = [&](double start_offset, double velocity) {
      if (velocity == 0) return 0.0;
      const double period = 4.0 * pr.bounds / std::fabs(velocity);
      double phase = std::fmod(seconds + start_offset, period) / period;  // [0, 1)
      const double tri = phase < 0.5 ? 4 * phase - 1 : 3 - 4 * phase;      // -1..1
      return tri * pr.bounds * (velocity > 0 ? 1 : -1);
    };
    pr.center.x += bounce(0.0, pr.velocity.x);
    pr.center.z += bounce(0.3, pr.velocity.z);
    pr.center.y += pr.velocity.y != 0 ? std::fabs(std::sin(seconds * pr.velocity.y)) * pr.bounds : 0;
  }
  return moved;
}

}  // namespace depthd::synth
