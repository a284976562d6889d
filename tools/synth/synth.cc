#include "tools/synth/synth.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tools/synth/scene.h"

namespace depthd::synth {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kFarLimit = 150.0;  // metres
constexpr double kCameraClearance = 0.5;  // metres between the camera and any object
constexpr double kTabletopClearance = 0.3;  // the same in tabletop scenes

Vec3 RandomColour(Rng& rng) {
  // Muted, varied hues: random RGB biased away from saturated extremes.
  return {rng.Uniform(0.15, 0.9), rng.Uniform(0.15, 0.9), rng.Uniform(0.15, 0.9)};
}

Material RandomMaterial(Rng& rng) {
  Material m;
  m.colour = RandomColour(rng);
  m.colour2 = RandomColour(rng) * rng.Uniform(0.4, 1.0);
  m.texture = static_cast<Texture>(rng.Int(0, 5));
  m.scale = rng.Uniform(0.2, 1.5);
  m.noise_seed = static_cast<uint32_t>(rng.Next());
  return m;
}

Primitive Plane(Vec3 point, Vec3 normal, Material m) {
  Primitive p;
  p.shape = Shape::kPlane;
  p.center = point;
  p.normal = normal.Normalized();
  p.material = m;
  return p;
}

Primitive Box(Vec3 center, Vec3 half, double yaw, Material m) {
  Primitive p;
  p.shape = Shape::kBox;
  p.center = center;
  p.half = half;
  p.yaw = yaw;
  p.material = m;
  return p;
}

Primitive Sphere(Vec3 center, double radius, Material m) {
  Primitive p;
  p.shape = Shape::kSphere;
  p.center = center;
  p.half = {radius, radius, radius};
  p.material = m;
  return p;
}

Primitive Cylinder(Vec3 base, double radius, double height, Material m) {
  Primitive p;
  p.shape = Shape::kCylinder;
  p.center = base;
  p.half = {radius, height, radius};
  p.material = m;
  return p;
}

// A table: top and four legs, or a shelf: a box with boards.
void AddFurniture(Rng& rng, Vec3 at, double yaw, std::vector<Primitive>* out) {
  const Material m = RandomMaterial(rng);
  if (rng.Uniform() < 0.5) {
    const double w = rng.Uniform(0.5, 1.0), d = rng.Uniform(0.4, 0.8), h = rng.Uniform(0.6, 0.9);
    out->push_back(Box(at + Vec3{0, h, 0}, {w, 0.03, d}, yaw, m));
    const double c = std::cos(yaw), s = std::sin(yaw);
    for (int i = 0; i < 4; ++i) {
      const double lx = (i & 1 ? 1 : -1) * (w - 0.06), lz = (i & 2 ? 1 : -1) * (d - 0.06);
      out->push_back(Box(at + Vec3{c * lx - s * lz, h / 2, s * lx + c * lz}, {0.03, h / 2, 0.03},
                         yaw, m));
    }
  } else {
    const double w = rng.Uniform(0.4, 0.9), d = rng.Uniform(0.2, 0.35), h = rng.Uniform(1.0, 2.0);
    out->push_back(Box(at + Vec3{0, h / 2, 0}, {w, h / 2, d}, yaw, m));
  }
}

// Gives the primitives added since `first` the next object number.
void NumberObject(size_t first, std::vector<Primitive>* primitives) {
  int last = 0;
  for (const Primitive& p : *primitives) last = std::max(last, p.object);
  for (size_t i = first; i < primitives->size(); ++i) (*primitives)[i].object = last + 1;
}

// Floor, ceiling and four walls of a room `half_w` x `half_d` x `height` around the origin.
void AddRoomShell(Rng& rng, double half_w, double half_d, double height, std::vector<Primitive>* out) {
  out->push_back(Plane({0, 0, 0}, {0, 1, 0}, RandomMaterial(rng)));
  out->push_back(Plane({0, height, 0}, {0, -1, 0}, RandomMaterial(rng)));
  const Material wall = RandomMaterial(rng);
  out->push_back(Plane({-half_w, 0, 0}, {1, 0, 0}, wall));
  out->push_back(Plane({half_w, 0, 0}, {-1, 0, 0}, rng.Uniform() < 0.5 ? wall : RandomMaterial(rng)));
  out->push_back(Plane({0, 0, half_d}, {0, 0, -1}, RandomMaterial(rng)));
  out->push_back(Plane({0, 0, -half_d}, {0, 0, 1}, wall));
}

Scene MakeRoom(Rng& rng, Vec3* look_center, double* extent) {
  Scene scene;
  const double half_w = rng.Uniform(2.5, 5.0), half_d = rng.Uniform(3.0, 7.0),
               height = rng.Uniform(2.4, 3.5);
  AddRoomShell(rng, half_w, half_d, height, &scene.primitives);
  const int objects = rng.Int(4, 10);
  for (int i = 0; i < objects; ++i) {
    const Vec3 at{rng.Uniform(-half_w + 0.8, half_w - 0.8), 0, rng.Uniform(-half_d + 0.8, half_d - 0.8)};
    const size_t first = scene.primitives.size();
    const double kind = rng.Uniform();
    if (kind < 0.35) {
      AddFurniture(rng, at, rng.Uniform(0, kPi), &scene.primitives);
    } else if (kind < 0.6) {
      const Vec3 half{rng.Uniform(0.15, 0.6), rng.Uniform(0.15, 0.6), rng.Uniform(0.15, 0.6)};
      scene.primitives.push_back(Box(at + Vec3{0, half.y, 0}, half, rng.Uniform(0, kPi), RandomMaterial(rng)));
    } else if (kind < 0.8) {
      const double r = rng.Uniform(0.15, 0.5);
      scene.primitives.push_back(Sphere(at + Vec3{0, r + rng.Uniform(0, 0.8), 0}, r, RandomMaterial(rng)));
    } else {
      scene.primitives.push_back(Cylinder(at, rng.Uniform(0.1, 0.4), rng.Uniform(0.3, 2.0), RandomMaterial(rng)));
    }
    NumberObject(first, &scene.primitives);
  }
  scene.light_dir = Vec3{rng.Uniform(-1.0, 1.0), 1.0, rng.Uniform(-1.0, 1.0)}.Normalized();
  scene.ambient = rng.Uniform(0.45, 0.65);
  *look_center = {0, 1.0, 0};
  *extent = std::min(half_w, half_d) - 0.6;
  return scene;
}

Scene MakeOutdoor(Rng& rng, Vec3* look_center, double* extent) {
  Scene scene;
  scene.has_sky = true;
  Material ground = RandomMaterial(rng);
  ground.texture = rng.Uniform() < 0.5 ? Texture::kNoise : Texture::kChecker;
  ground.scale = rng.Uniform(0.5, 3.0);
  scene.primitives.push_back(Plane({0, 0, 0}, {0, 1, 0}, ground));
  const int objects = rng.Int(8, 22);
  for (int i = 0; i < objects; ++i) {
    const double distance = rng.Uniform(3.0, 45.0), angle = rng.Uniform(0, 2 * kPi);
    const Vec3 at{distance * std::cos(angle), 0, distance * std::sin(angle)};
    const size_t first = scene.primitives.size();
    const double kind = rng.Uniform();
    if (kind < 0.35) {
      const Vec3 half{rng.Uniform(0.5, 4.0), rng.Uniform(0.5, 6.0), rng.Uniform(0.5, 4.0)};
      scene.primitives.push_back(Box(at + Vec3{0, half.y, 0}, half, rng.Uniform(0, kPi), RandomMaterial(rng)));
    } else if (kind < 0.6) {
      const double r = rng.Uniform(0.3, 2.5);
      scene.primitives.push_back(Sphere(at + Vec3{0, r, 0}, r, RandomMaterial(rng)));
    } else if (kind < 0.85) {  // tree-like: trunk and crown
      const double h = rng.Uniform(1.5, 4.0);
      Material trunk = RandomMaterial(rng);
      trunk.colour = {0.35, 0.25, 0.15};
      scene.primitives.push_back(Cylinder(at, rng.Uniform(0.1, 0.35), h, trunk));
      Material crown = RandomMaterial(rng);
      crown.colour = {rng.Uniform(0.1, 0.35), rng.Uniform(0.35, 0.7), rng.Uniform(0.1, 0.3)};
      crown.texture = Texture::kNoise;
      scene.primitives.push_back(Sphere(at + Vec3{0, h + 0.8, 0}, rng.Uniform(0.8, 1.8), crown));
    } else {
      scene.primitives.push_back(Cylinder(at, rng.Uniform(0.3, 1.5), rng.Uniform(0.5, 8.0), RandomMaterial(rng)));
    }
    NumberObject(first, &scene.primitives);
  }
  scene.light_dir = Vec3{rng.Uniform(-1, 1), rng.Uniform(0.4, 1.2), rng.Uniform(-1, 1)}.Normalized();
  scene.ambient = rng.Uniform(0.3, 0.5);
  scene.sky_top = {rng.Uniform(0.2, 0.45), rng.Uniform(0.4, 0.6), rng.Uniform(0.75, 0.95)};
  scene.fog_distance = 120.0;  // aerial perspective: far things fade towards the horizon colour
  *look_center = {0, 1.2, 0};
  *extent = 2.5;
  return scene;
}

// Parts added since `first` become scenery (object 0): never removed for the camera's sake.
void MakeScenery(size_t first, std::vector<Primitive>* primitives) {
  for (size_t i = first; i < primitives->size(); ++i) (*primitives)[i].object = 0;
}

// A table with things on it (books, boxes, cups, bottles, fruit, a keyboard, a screen on a
// stand) in a room with furniture around it, as a desk or a kitchen table is filmed. The table
// is scenery; the things on it are objects. *table_height is the height of its top.
Scene MakeTabletop(Rng& rng, Vec3* look_center, double* extent, double* table_height) {
  Scene scene;
  const double half_w = rng.Uniform(2.0, 4.0), half_d = rng.Uniform(2.0, 4.0), height = rng.Uniform(2.4, 3.2);
  AddRoomShell(rng, half_w, half_d, height, &scene.primitives);
  const double tw = rng.Uniform(0.5, 1.0), td = rng.Uniform(0.4, 0.8), th = rng.Uniform(0.68, 0.8);
  const Material wood = RandomMaterial(rng);
  size_t first = scene.primitives.size();
  scene.primitives.push_back(Box({0, th - 0.02, 0}, {tw, 0.02, td}, 0, wood));
  for (int i = 0; i < 4; ++i) {
    const double lx = (i & 1 ? 1 : -1) * (tw - 0.05), lz = (i & 2 ? 1 : -1) * (td - 0.05);
    scene.primitives.push_back(Box({lx, (th - 0.04) / 2, lz}, {0.025, (th - 0.04) / 2, 0.025}, 0, wood));
  }
  MakeScenery(first, &scene.primitives);
  const int things = rng.Int(5, 14);
  for (int i = 0; i < things; ++i) {
    const Vec3 at{rng.Uniform(-tw + 0.08, tw - 0.08), th, rng.Uniform(-td + 0.08, td - 0.08)};
    const double yaw = rng.Uniform(0, kPi), kind = rng.Uniform();
    first = scene.primitives.size();
    if (kind < 0.2) {  // a book or a stack of them
      const int stack = rng.Int(1, 3);
      double y = 0;
      for (int b = 0; b < stack; ++b) {
        const Vec3 half{rng.Uniform(0.07, 0.15), rng.Uniform(0.008, 0.025), rng.Uniform(0.05, 0.11)};
        scene.primitives.push_back(Box(at + Vec3{0, y + half.y, 0}, half, yaw + rng.Uniform(-0.3, 0.3), RandomMaterial(rng)));
        y += 2 * half.y;
      }
    } else if (kind < 0.4) {
      const Vec3 half{rng.Uniform(0.03, 0.12), rng.Uniform(0.03, 0.12), rng.Uniform(0.03, 0.12)};
      scene.primitives.push_back(Box(at + Vec3{0, half.y, 0}, half, yaw, RandomMaterial(rng)));
    } else if (kind < 0.6) {  // a cup
      scene.primitives.push_back(Cylinder(at, rng.Uniform(0.03, 0.06), rng.Uniform(0.07, 0.15), RandomMaterial(rng)));
    } else if (kind < 0.7) {  // a bottle
      const double r = rng.Uniform(0.025, 0.045), h = rng.Uniform(0.15, 0.3);
      const Material glass = RandomMaterial(rng);
      scene.primitives.push_back(Cylinder(at, r, h, glass));
      scene.primitives.push_back(Cylinder(at + Vec3{0, h, 0}, r * 0.4, h * 0.3, glass));
    } else if (kind < 0.8) {  // fruit, a ball
      const double r = rng.Uniform(0.03, 0.08);
      scene.primitives.push_back(Sphere(at + Vec3{0, r, 0}, r, RandomMaterial(rng)));
    } else if (kind < 0.9) {  // a keyboard, a tray
      scene.primitives.push_back(Box(at + Vec3{0, 0.012, 0}, {rng.Uniform(0.15, 0.23), 0.012, rng.Uniform(0.05, 0.09)}, yaw, RandomMaterial(rng)));
    } else {  // a screen on a stand
      const Material m = RandomMaterial(rng);
      const double stand = rng.Uniform(0.06, 0.15);
      const Vec3 half{rng.Uniform(0.18, 0.3), rng.Uniform(0.12, 0.2), 0.015};
      scene.primitives.push_back(Box(at + Vec3{0, 0.005, 0}, {0.1, 0.005, 0.08}, yaw, m));
      scene.primitives.push_back(Cylinder(at, 0.02, stand, m));
      scene.primitives.push_back(Box(at + Vec3{0, stand + half.y, 0}, half, yaw, m));
    }
    NumberObject(first, &scene.primitives);
  }
  // Furniture and boxes around the room, clear of the table.
  const int around = rng.Int(2, 6);
  for (int i = 0; i < around; ++i) {
    Vec3 at{rng.Uniform(-half_w + 0.6, half_w - 0.6), 0, rng.Uniform(-half_d + 0.6, half_d - 0.6)};
    if (std::fabs(at.x) < tw + 0.7 && std::fabs(at.z) < td + 0.7) at.x = (at.x < 0 ? -1 : 1) * (tw + 0.7);
    first = scene.primitives.size();
    if (rng.Uniform() < 0.5) {
      AddFurniture(rng, at, rng.Uniform(0, kPi), &scene.primitives);
    } else {
      const Vec3 half{rng.Uniform(0.2, 0.6), rng.Uniform(0.2, 0.9), rng.Uniform(0.2, 0.6)};
      scene.primitives.push_back(Box(at + Vec3{0, half.y, 0}, half, rng.Uniform(0, kPi), RandomMaterial(rng)));
    }
    NumberObject(first, &scene.primitives);
  }
  scene.light_dir = Vec3{rng.Uniform(-1.0, 1.0), 1.0, rng.Uniform(-1.0, 1.0)}.Normalized();
  scene.ambient = rng.Uniform(0.45, 0.65);
  *look_center = {0, th, 0};
  *extent = std::max(tw, td);
  *table_height = th;
  return scene;
}

// A people-like figure `scale` (1: an adult) tall-ish, standing at `at`: two legs, a torso, two
// hanging arms (vertical cylinders) and a head.
void AddFigure(Rng& rng, Vec3 at, double scale, std::vector<Primitive>* out) {
  const double s = scale, yaw = rng.Uniform(0, 2 * kPi);
  const Vec3 side{std::cos(yaw), 0, std::sin(yaw)};
  const Material clothes = RandomMaterial(rng), trousers = RandomMaterial(rng);
  Material skin;
  skin.colour = Vec3{rng.Uniform(0.35, 0.95), rng.Uniform(0.25, 0.75), rng.Uniform(0.2, 0.6)};
  skin.noise_seed = static_cast<uint32_t>(rng.Next());
  const double leg = rng.Uniform(0.75, 0.9) * s, torso = rng.Uniform(0.55, 0.65) * s;
  for (double sign : {-1.0, 1.0}) {
    out->push_back(Cylinder(at + side * (sign * 0.09 * s), 0.07 * s, leg, trousers));
    out->push_back(Cylinder(at + side * (sign * 0.25 * s) + Vec3{0, leg + 0.02 * s, 0}, 0.045 * s, 0.55 * s, clothes));
  }
  out->push_back(Cylinder(at + Vec3{0, leg, 0}, 0.18 * s, torso, clothes));
  out->push_back(Sphere(at + Vec3{0, leg + torso + 0.14 * s, 0}, 0.12 * s, skin));
}

// Thin structures: a pole, two poles with wires between them, or a fence of posts and rails.
void AddThinStructure(Rng& rng, Vec3 at, std::vector<Primitive>* out) {
  const double kind = rng.Uniform();
  const Material m = RandomMaterial(rng);
  if (kind < 0.35) {
    out->push_back(Cylinder(at, rng.Uniform(0.03, 0.12), rng.Uniform(2.5, 9.0), m));
  } else if (kind < 0.65) {
    const double h = rng.Uniform(4.0, 9.0), yaw = rng.Uniform(0, kPi), span = rng.Uniform(6.0, 20.0);
    const Vec3 dir{std::cos(yaw), 0, std::sin(yaw)};
    const Vec3 b = at + dir * span;
    out->push_back(Cylinder(at, 0.1, h, m));
    out->push_back(Cylinder(b, 0.1, h, m));
    const int wires = rng.Int(1, 3);
    for (int w = 0; w < wires; ++w) {
      const Vec3 mid = (at + b) * 0.5 + Vec3{0, h - 0.3 - 0.4 * w, 0};
      out->push_back(Box(mid, {span / 2, 0.02, 0.02}, yaw, m));
    }
  } else {
    const double yaw = rng.Uniform(0, kPi), length = rng.Uniform(4.0, 16.0), h = rng.Uniform(0.8, 1.4);
    const double gap = rng.Uniform(0.15, 2.0);
    const Vec3 dir{std::cos(yaw), 0, std::sin(yaw)};
    for (double d = 0; d <= length; d += gap) {
      out->push_back(Box(at + dir * d + Vec3{0, h / 2, 0}, {0.03, h / 2, 0.03}, yaw, m));
    }
    for (double y : {h * 0.45, h - 0.05}) {
      out->push_back(Box(at + dir * (length / 2) + Vec3{0, y, 0}, {length / 2, 0.03, 0.02}, yaw, m));
    }
  }
}

// SceneOptions::variety, drawn from `rng` (a stream of its own): extra objects first, then
// materials, light and sky over the whole scene.
void AddVariety(Rng& rng, SceneKind kind, const Vec3& look_center, double extent,
                const std::vector<cv::Mat>* images, Scene* scene) {
  auto& prims = scene->primitives;
  const bool open = kind == SceneKind::kOutdoor;
  // People-like figures and thin structures.
  const int figures = open ? rng.Int(0, 6) : rng.Int(0, 2);
  for (int i = 0; i < figures; ++i) {
    Vec3 at;
    if (open) {
      const double distance = rng.Uniform(2.0, 25.0), angle = rng.Uniform(0, 2 * kPi);
      at = {distance * std::cos(angle), 0, distance * std::sin(angle)};
    } else {
      at = {look_center.x + rng.Uniform(-1.0, 1.0) * (extent + 1.0), 0,
            look_center.z + rng.Uniform(-1.0, 1.0) * (extent + 1.0)};
    }
    const size_t first = prims.size();
    AddFigure(rng, at, rng.Uniform() < 0.25 ? rng.Uniform(0.55, 0.8) : rng.Uniform(0.9, 1.1), &prims);
    NumberObject(first, &prims);
  }
  const int thin = open ? rng.Int(0, 4) : 0;
  for (int i = 0; i < thin; ++i) {
    const double distance = rng.Uniform(2.0, 30.0), angle = rng.Uniform(0, 2 * kPi);
    const size_t first = prims.size();
    AddThinStructure(rng, {distance * std::cos(angle), 0, distance * std::sin(angle)}, &prims);
    NumberObject(first, &prims);
  }
  // Photographs as textures on a share of the surfaces, tinted.
  const bool photos = images != nullptr && !images->empty();
  const double photo_share = photos ? rng.Uniform(0.3, 0.9) : 0.0;
  for (Primitive& p : prims) {
    if (photos && rng.Uniform() < photo_share) {
      p.material.texture = Texture::kImage;
      p.material.image = &(*images)[rng.Int(0, static_cast<int>(images->size()) - 1)];
      p.material.scale = p.object == 0 ? rng.Uniform(0.5, 4.0) : rng.Uniform(0.15, 1.5);
      const double gain = rng.Uniform(0.6, 1.25);
      p.material.colour = Vec3{rng.Uniform(0.85, 1.15), rng.Uniform(0.85, 1.15), rng.Uniform(0.85, 1.15)} * gain;
    }
  }
  // Light: how much is ambient, its colour, the exposure.
  scene->ambient = rng.Uniform(0.15, 0.75);
  const double warm = rng.Uniform(-0.25, 0.25);
  scene->light_colour = {1.0 + warm, 1.0, 1.0 - warm};
  scene->exposure = rng.Uniform(0.55, 1.5);
  // Skies: clear, overcast, hazy, sunset or night, with or without clouds.
  if (open) {
    const double style = rng.Uniform();
    if (style < 0.3) {  // clear, any blue
      scene->sky_top = {rng.Uniform(0.1, 0.5), rng.Uniform(0.3, 0.65), rng.Uniform(0.6, 1.0)};
      scene->sky_horizon = {rng.Uniform(0.6, 0.9), rng.Uniform(0.7, 0.92), rng.Uniform(0.8, 1.0)};
    } else if (style < 0.55) {  // overcast
      const double g = rng.Uniform(0.45, 0.9);
      scene->sky_top = {g, g, g * rng.Uniform(1.0, 1.08)};
      scene->sky_horizon = scene->sky_top * rng.Uniform(0.95, 1.1);
    } else if (style < 0.75) {  // sunset
      scene->sky_top = {rng.Uniform(0.2, 0.5), rng.Uniform(0.2, 0.4), rng.Uniform(0.4, 0.7)};
      scene->sky_horizon = {rng.Uniform(0.8, 1.0), rng.Uniform(0.4, 0.7), rng.Uniform(0.2, 0.45)};
    } else if (style < 0.9) {  // dusk, night
      scene->sky_top = {rng.Uniform(0.0, 0.06), rng.Uniform(0.0, 0.08), rng.Uniform(0.03, 0.18)};
      scene->sky_horizon = {rng.Uniform(0.05, 0.3), rng.Uniform(0.05, 0.25), rng.Uniform(0.08, 0.3)};
      scene->ambient = rng.Uniform(0.1, 0.3);
    } else {  // hazy white
      scene->sky_top = {rng.Uniform(0.8, 1.0), rng.Uniform(0.8, 1.0), rng.Uniform(0.85, 1.0)};
      scene->sky_horizon = scene->sky_top;
    }
    if (rng.Uniform() < 0.6) {
      scene->cloud_cover = rng.Uniform(0.15, 0.85);
      const double c = rng.Uniform(0.55, 1.0);
      scene->cloud_colour = Vec3{c, c, c} * (style >= 0.75 && style < 0.9 ? 0.3 : 1.0);
      scene->cloud_seed = static_cast<uint32_t>(rng.Next());
    }
    scene->fog_distance = std::exp(rng.Uniform(std::log(25.0), std::log(800.0)));
    scene->camera_light = rng.Uniform() < 0.1 ? rng.Uniform(0.3, 1.5) : 0.0;
  } else {
    // Indoors: sometimes a fog that darkens or lightens the far end, sometimes a light at the
    // camera that brightens the near end, so that neither way round is a rule.
    if (rng.Uniform() < 0.25) {
      scene->fog_distance = rng.Uniform(3.0, 15.0);
      scene->fog_to_horizon = false;
      const double g = rng.Uniform() < 0.5 ? rng.Uniform(0.0, 0.15) : rng.Uniform(0.6, 0.9);
      scene->fog_colour = {g, g, g};
    }
    scene->camera_light = rng.Uniform() < 0.3 ? rng.Uniform(0.2, 1.5) : 0.0;
  }
}

// Smooth handheld shake: a few incommensurate sines per axis.
struct Shake {
  double amplitude = 0, phase[6] = {0};
  double frequency[6] = {0};
  Vec3 At(double t, double scale) const {
    auto axis = [&](int a) {
      return amplitude * scale *
             (std::sin(frequency[a] * t + phase[a]) + 0.5 * std::sin(frequency[a + 3] * t + phase[a + 3]));
    };
    return {axis(0), axis(1), axis(2)};
  }
};

// Distance from a camera at `eye` to a primitive: exact for spheres, for boxes and cylinders
// the distance to their vertical bounding cylinder.
double Gap(const Primitive& p, const Vec3& eye) {
  if (p.shape == Shape::kSphere) return (eye - p.center).Norm() - p.half.x;
  double radius = p.half.x, low = p.center.y, high = p.center.y + p.half.y;
  if (p.shape == Shape::kBox) {
    radius = std::hypot(p.half.x, p.half.z);
    low = p.center.y - p.half.y;
  }
  const double horizontal = std::max(0.0, std::hypot(eye.x - p.center.x, eye.z - p.center.z) - radius);
  const double vertical = std::max({0.0, low - eye.y, eye.y - high});
  return std::hypot(horizontal, vertical);
}

// Removes every object that comes within `clearance` of the camera at any frame: a camera
// path through a box or a ball flying into the lens gives frames of a surface centimetres away,
// which no real video has and which make relative depth errors meaningless.
void KeepClearOfCamera(const std::vector<CameraPose>& poses, double fps, double clearance,
                       Scene* scene) {
  std::vector<int> intruders;
  for (size_t f = 0; f < poses.size(); ++f) {
    const Vec3 eye{poses[f].position[0], poses[f].position[1], poses[f].position[2]};
    const Scene moved = AtTime(*scene, f / fps);
    for (const Primitive& p : moved.primitives) {
      if (p.object > 0 && Gap(p, eye) < clearance) intruders.push_back(p.object);
    }
  }
  std::erase_if(scene->primitives, [&](const Primitive& p) {
    return std::find(intruders.begin(), intruders.end(), p.object) != intruders.end();
  });
}

}  // namespace

void RenderView(const Scene& scene, const CameraPose& camera, int width, int height, cv::Mat* rgb,
                cv::Mat* depth, Intrinsics* intrinsics) {
  const Vec3 origin{camera.position[0], camera.position[1], camera.position[2]};
  const Vec3 forward = Vec3{camera.forward[0], camera.forward[1], camera.forward[2]}.Normalized();
  const Vec3 right = forward.Cross(Vec3{camera.up[0], camera.up[1], camera.up[2]}).Normalized() * -1.0;
  const Vec3 up = right.Cross(forward) * -1.0;
  const double fx = 0.5 * width / std::tan(0.5 * camera.hfov_degrees * kPi / 180.0);
  const double cx = 0.5 * width, cy = 0.5 * height;
  *intrinsics = {fx, fx, cx, cy};
  rgb->create(height, width, CV_8UC3);
  depth->create(height, width, CV_32FC1);
  const Vec3 light = scene.light_dir.Normalized();

  auto render_rows = [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      cv::Vec3b* rgb_row = rgb->ptr<cv::Vec3b>(y);
      float* depth_row = depth->ptr<float>(y);
      for (int x = 0; x < width; ++x) {
        // Pixel centres; image y grows downwards.
        const Vec3 dir = (forward + right * ((x + 0.5 - cx) / fx) + up * (-(y + 0.5 - cy) / fx)).Normalized();
        Hit hit;
        Vec3 colour;
        // Beyond kFarLimit the ground plane meets the horizon: rendered and labelled as sky.
        if (Intersect(scene, origin, dir, 1e-6, &hit) && hit.t * dir.Dot(forward) < kFarLimit) {
          const Vec3 p = origin + dir * hit.t;
          depth_row[x] = static_cast<float>(hit.t * dir.Dot(forward));
          const Vec3 albedo = Albedo(*hit.primitive, p, hit.normal);
          double diffuse = std::max(0.0, hit.normal.Dot(light));
          if (diffuse > 0) {
            Hit shadow;
            if (Intersect(scene, p + hit.normal * 1e-4, light, 1e-6, &shadow)) diffuse *= 0.15;
          }
          // Cheap ambient occlusion: darker near the floor for vertical faces.
          const double occlusion = 1.0 - 0.25 * std::exp(-3.0 * std::max(0.0, p.y)) * (1.0 - std::fabs(hit.normal.y));
          const Vec3& tint = scene.light_colour;
          colour = {albedo.x * ((scene.ambient + (1.0 - scene.ambient) * diffuse * tint.x) * occlusion),
                    albedo.y * ((scene.ambient + (1.0 - scene.ambient) * diffuse * tint.y) * occlusion),
                    albedo.z * ((scene.ambient + (1.0 - scene.ambient) * diffuse * tint.z) * occlusion)};
          if (scene.camera_light > 0) colour = colour + albedo * (scene.camera_light / (1.0 + hit.t * hit.t));
          // Aerial perspective: far things fade towards the fog (outdoors: the horizon) colour.
          if (scene.fog_distance > 0) {
            const double fog = 1.0 - std::exp(-hit.t / scene.fog_distance);
            colour = colour * (1.0 - fog) + (scene.fog_to_horizon ? scene.sky_horizon : scene.fog_colour) * fog;
          }
        } else {
          depth_row[x] = 0.0f;  // sky: infinitely far
          const double h = std::clamp(dir.y * 2.0, 0.0, 1.0);
          colour = scene.sky_horizon * (1.0 - h) + scene.sky_top * h;
          if (scene.cloud_cover > 0 && dir.y > 0.02) {
            // A cloud layer: noise over the plane the ray meets, thinning towards the horizon.
            const Vec3 q{dir.x / dir.y * 0.6, dir.z / dir.y * 0.6, 0.0};
            const double n = Fbm(q, scene.cloud_seed);
            const double edge = 0.62 - 0.3 * scene.cloud_cover;
            const double c = std::clamp((n - edge) / 0.12, 0.0, 1.0) * std::min(1.0, dir.y * 4.0);
            colour = colour * (1.0 - c) + scene.cloud_colour * c;
          }
        }
        if (scene.exposure != 1.0) colour = colour * scene.exposure;
        rgb_row[x] = cv::Vec3b(static_cast<uchar>(std::clamp(colour.x, 0.0, 1.0) * 255.0 + 0.5),
                               static_cast<uchar>(std::clamp(colour.y, 0.0, 1.0) * 255.0 + 0.5),
                               static_cast<uchar>(std::clamp(colour.z, 0.0, 1.0) * 255.0 + 0.5));
      }
    }
  };
  // Rows are independent, so any split gives the same image.
  const int threads = std::max(1, std::min(8, static_cast<int>(std::thread::hardware_concurrency())));
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back(render_rows, height * i / threads, height * (i + 1) / threads);
  }
  for (std::thread& t : pool) t.join();
}

absl::StatusOr<RenderedVideo> RenderVideo(const SceneOptions& options) {
  if (options.width < 8 || options.height < 8 || options.width > 8192 || options.height > 8192) {
    return absl::InvalidArgumentError(absl::StrCat("size ", options.width, "x", options.height,
                                                   " is outside 8..8192"));
  }
  if (options.num_frames < 1) return absl::InvalidArgumentError("num_frames must be >= 1");
  if (!(options.fps > 0)) return absl::InvalidArgumentError("fps must be > 0");
  Rng rng(options.seed);
  SceneKind kind = options.kind;
  if (kind == SceneKind::kAny) kind = rng.Uniform() < 0.5 ? SceneKind::kRoom : SceneKind::kOutdoor;
  Vec3 look_center;
  double extent, table_height = 0;
  const bool tabletop = kind == SceneKind::kTabletop;
  Scene scene = kind == SceneKind::kRoom ? MakeRoom(rng, &look_center, &extent)
                : tabletop               ? MakeTabletop(rng, &look_center, &extent, &table_height)
                                         : MakeOutdoor(rng, &look_center, &extent);
  if (options.moving_objects) {
    const int movers = rng.Int(1, 2);
    for (int i = 0; i < movers; ++i) {
      if (tabletop) {  // small things moving over the table, as hands and toys do
        const double r = rng.Uniform(0.03, 0.08);
        Primitive ball = Sphere({rng.Uniform(-0.6, 0.6) * extent, table_height + r + rng.Uniform(0.0, 0.1),
                                 rng.Uniform(-0.6, 0.6) * extent}, r, RandomMaterial(rng));
        ball.velocity = {rng.Uniform(-0.4, 0.4), rng.Uniform(0, 2), rng.Uniform(-0.4, 0.4)};
        ball.bounds = rng.Uniform(0.05, 0.2);
        scene.primitives.push_back(ball);
        NumberObject(scene.primitives.size() - 1, &scene.primitives);
        continue;
      }
      const double r = rng.Uniform(0.2, 0.5);
      Primitive ball = Sphere({rng.Uniform(-1, 1), r, rng.Uniform(1.5, 3.5)}, r, RandomMaterial(rng));
      ball.velocity = {rng.Uniform(-1.5, 1.5), rng.Uniform(0, 3), rng.Uniform(-0.5, 0.5)};
      ball.bounds = rng.Uniform(0.5, 1.5);
      scene.primitives.push_back(ball);
      NumberObject(scene.primitives.size() - 1, &scene.primitives);
    }
  }
  if (options.variety) {
    Rng variety(options.seed ^ 0x7661726965747921ull);
    AddVariety(variety, kind, look_center, extent, options.image_textures, &scene);
  }

  Trajectory trajectory = options.trajectory;
  if (trajectory == Trajectory::kAny) trajectory = static_cast<Trajectory>(rng.Int(1, 3));
  const double hfov = rng.Uniform(50.0, 80.0);
  double eye_height = kind == SceneKind::kRoom ? rng.Uniform(1.2, 1.8) : rng.Uniform(1.0, 2.5);
  const double heading = rng.Uniform(0, 2 * kPi);
  double pitch = rng.Uniform(-0.25, 0.05);
  double speed = rng.Uniform(0.3, 1.2);  // m/s or rad/s scale
  // Tabletop: the camera stands back from the table's edge and looks down on it.
  double base_x = 0, base_z = 0;
  if (tabletop) {
    eye_height = table_height + rng.Uniform(0.25, 0.75);
    pitch = -rng.Uniform(0.35, 1.15);
    const double back = extent + rng.Uniform(0.0, 0.5);
    base_x = look_center.x - std::cos(heading) * back;
    base_z = look_center.z - std::sin(heading) * back;
    extent = back;  // the orbit's radius
    speed *= 0.5;
  }
  Shake shake;
  shake.amplitude = options.shake ? rng.Uniform(0.005, 0.03) : 0.0;
  for (int i = 0; i < 6; ++i) {
    shake.phase[i] = rng.Uniform(0, 2 * kPi);
    shake.frequency[i] = rng.Uniform(1.0, 6.0);
  }
  const double duration = options.num_frames / options.fps;
  // Walks start behind the centre so they stay inside rooms.
  const double walk_start = -std::min(extent, speed * duration * 0.5);

  std::vector<CameraPose> poses;
  for (int f = 0; f < options.num_frames; ++f) {
    const double t = f / options.fps;
    double yaw = heading, cam_x = base_x, cam_z = base_z;
    switch (trajectory) {
      case Trajectory::kWalk: {
        if (tabletop) {  // a sideways slide along the table's edge
          const double along = speed * (t - 0.5 * duration) * 0.8;
          cam_x = base_x - std::sin(heading) * along;
          cam_z = base_z + std::cos(heading) * along;
          yaw = heading + 0.1 * std::sin(0.7 * t);
          break;
        }
        const double along = walk_start + speed * t * 0.8;
        cam_x = std::cos(heading) * along;
        cam_z = std::sin(heading) * along;
        yaw = heading + 0.1 * std::sin(0.7 * t);
        break;
      }
      case Trajectory::kPan:
        yaw = heading + 0.35 * speed * t;
        break;
      case Trajectory::kOrbit: {
        const double radius = std::max(0.5, extent * 0.8);
        const double angle = heading + 0.25 * speed * t;
        cam_x = look_center.x + radius * std::cos(angle);
        cam_z = look_center.z + radius * std::sin(angle);
        yaw = std::atan2(look_center.z - cam_z, look_center.x - cam_x);
        break;
      }
      case Trajectory::kStatic:
      case Trajectory::kAny:
        break;
    }
    const Vec3 jitter = shake.At(t, 1.0);
    CameraPose pose;
    pose.position[0] = cam_x + jitter.x;
    pose.position[1] = eye_height + jitter.y;
    pose.position[2] = cam_z + jitter.z;
    const double p = pitch + 2.0 * jitter.y;
    pose.forward[0] = std::cos(yaw + 2.0 * jitter.x) * std::cos(p);
    pose.forward[1] = std::sin(p);
    pose.forward[2] = std::sin(yaw + 2.0 * jitter.x) * std::cos(p);
    pose.hfov_degrees = hfov;
    poses.push_back(pose);
  }
  // A table's things are filmed from nearer than a room's furniture.
  KeepClearOfCamera(poses, options.fps, tabletop ? kTabletopClearance : kCameraClearance, &scene);

  RenderedVideo video;
  video.fps = options.fps;
  for (int f = 0; f < options.num_frames; ++f) {
    cv::Mat rgb, depth;
    RenderView(AtTime(scene, f / options.fps), poses[f], options.width, options.height, &rgb,
               &depth, &video.intrinsics);
    video.rgb.push_back(rgb);
    video.depth.push_back(depth);
  }
  return video;
}

}  // namespace depthd::synth
