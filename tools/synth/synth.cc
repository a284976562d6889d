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

Scene MakeRoom(Rng& rng, Vec3* look_center, double* extent) {
  Scene scene;
  const double half_w = rng.Uniform(2.5, 5.0), half_d = rng.Uniform(3.0, 7.0),
               height = rng.Uniform(2.4, 3.5);
  scene.primitives.push_back(Plane({0, 0, 0}, {0, 1, 0}, RandomMaterial(rng)));        // floor
  scene.primitives.push_back(Plane({0, height, 0}, {0, -1, 0}, RandomMaterial(rng)));  // ceiling
  const Material wall = RandomMaterial(rng);
  scene.primitives.push_back(Plane({-half_w, 0, 0}, {1, 0, 0}, wall));
  scene.primitives.push_back(Plane({half_w, 0, 0}, {-1, 0, 0}, rng.Uniform() < 0.5 ? wall : RandomMaterial(rng)));
  scene.primitives.push_back(Plane({0, 0, half_d}, {0, 0, -1}, RandomMaterial(rng)));
  scene.primitives.push_back(Plane({0, 0, -half_d}, {0, 0, 1}, wall));
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
  *look_center = {0, 1.2, 0};
  *extent = 2.5;
  return scene;
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
          const Vec3 albedo = Albedo(*hit.primitive, p);
          double diffuse = std::max(0.0, hit.normal.Dot(light));
          if (diffuse > 0) {
            Hit shadow;
            if (Intersect(scene, p + hit.normal * 1e-4, light, 1e-6, &shadow)) diffuse *= 0.15;
          }
          // Cheap ambient occlusion: darker near the floor for vertical faces.
          const double occlusion = 1.0 - 0.25 * std::exp(-3.0 * std::max(0.0, p.y)) * (1.0 - std::fabs(hit.normal.y));
          const double shade = (scene.ambient + (1.0 - scene.ambient) * diffuse) * occlusion;
          colour = albedo * shade;
          // Aerial perspective outdoors: far things fade towards the horizon colour.
          if (scene.has_sky) {
            const double fog = 1.0 - std::exp(-hit.t / 120.0);
            colour = colour * (1.0 - fog) + scene.sky_horizon * fog;
          }
        } else {
          depth_row[x] = 0.0f;  // sky: infinitely far
          const double h = std::clamp(dir.y * 2.0, 0.0, 1.0);
          colour = scene.sky_horizon * (1.0 - h) + scene.sky_top * h;
        }
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
  double extent;
  Scene scene = kind == SceneKind::kRoom ? MakeRoom(rng, &look_center, &extent)
                                         : MakeOutdoor(rng, &look_center, &extent);
  if (options.moving_objects) {
    const int movers = rng.Int(1, 2);
    for (int i = 0; i < movers; ++i) {
      const double r = rng.Uniform(0.2, 0.5);
      Primitive ball = Sphere({rng.Uniform(-1, 1), r, rng.Uniform(1.5, 3.5)}, r, RandomMaterial(rng));
      ball.velocity = {rng.Uniform(-1.5, 1.5), rng.Uniform(0, 3), rng.Uniform(-0.5, 0.5)};
      ball.bounds = rng.Uniform(0.5, 1.5);
      scene.primitives.push_back(ball);
      NumberObject(scene.primitives.size() - 1, &scene.primitives);
    }
  }

  Trajectory trajectory = options.trajectory;
  if (trajectory == Trajectory::kAny) trajectory = static_cast<Trajectory>(rng.Int(1, 3));
  const double hfov = rng.Uniform(50.0, 80.0);
  const double eye_height = kind == SceneKind::kRoom ? rng.Uniform(1.2, 1.8) : rng.Uniform(1.0, 2.5);
  const double heading = rng.Uniform(0, 2 * kPi);
  const double pitch = rng.Uniform(-0.25, 0.05);
  const double speed = rng.Uniform(0.3, 1.2);  // m/s or rad/s scale
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
    double yaw = heading, cam_x = 0, cam_z = 0;
    Vec3 target;
    switch (trajectory) {
      case Trajectory::kWalk: {
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
  KeepClearOfCamera(poses, options.fps, kCameraClearance, &scene);

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
