#include "engine/system.hpp"

#include <cmath>

#include "engine/error.hpp"
#include "engine/structure.hpp"

namespace md {

System::System(Context& ctx, const Structure& s, const Units& units)
    : x(ctx, 0), y(ctx, 0), z(ctx, 0), vx(ctx, 0), vy(ctx, 0), vz(ctx, 0), fx(ctx, 0),
      fy(ctx, 0), fz(ctx, 0), type(ctx, 0), id(ctx, 0), ix(ctx, 0), iy(ctx, 0), iz(ctx, 0),
      image_key(ctx, 0), mass_of_type(ctx, 0), ctx_(&ctx), n_local_(static_cast<Index>(s.size())),
      type_names_(s.type_names), type_masses_(s.type_masses), units_(units), box_(s.box),
      box_dev_(ctx, 1) {
  if (n_local_ == 0) throw Error("the system has no atoms");
  if (type_masses_.size() != type_names_.size())
    throw Error("internal: type_masses and type_names differ in size");
  for (std::size_t t = 0; t < type_masses_.size(); ++t)
    if (!(type_masses_[t] > 0.0) || !std::isfinite(type_masses_[t]))
      throw Error("type \"" + type_names_[t] + "\" has no valid mass; give it in [system] masses");
  for (int d = 0; d < 3; ++d)
    if (!(box_.l[d] > 0.0)) throw Error("the box has a non-positive length");
  for (int t : s.type)
    if (t < 0 || t >= n_types()) throw Error("an atom has a type outside the declared types");

  const std::size_t n = s.size();
  std::vector<double> zeros(n, 0.0);
  std::vector<int> izero(n, 0);
  ctx.to_device(s.x, x);
  ctx.to_device(s.y, y);
  ctx.to_device(s.z, z);
  ctx.to_device(s.has_velocities ? s.vx : zeros, vx);
  ctx.to_device(s.has_velocities ? s.vy : zeros, vy);
  ctx.to_device(s.has_velocities ? s.vz : zeros, vz);
  ctx.to_device(zeros, fx);
  ctx.to_device(zeros, fy);
  ctx.to_device(zeros, fz);
  ctx.to_device(s.type, type);
  ctx.to_device(s.id, id);
  ctx.to_device(s.ix.size() == n ? s.ix : izero, ix);
  ctx.to_device(s.iy.size() == n ? s.iy : izero, iy);
  ctx.to_device(s.iz.size() == n ? s.iz : izero, iz);
  ctx.to_device(izero, image_key);
  ctx.to_device(type_masses_, mass_of_type);
  set_box(box_);
}

void System::set_box(const Box& b) {
  box_ = b;
  ctx_->to_device(std::vector<Box>{b}, box_dev_);
}

const Box& System::pull_box() {
  box_ = ctx_->to_host(box_dev_, 1)[0];
  return box_;
}

void System::reserve_ghosts(Index capacity) {
  if (capacity <= ghost_capacity_) return;
  const std::size_t total = static_cast<std::size_t>(n_local_ + capacity);
  auto grow = [&](auto& arr) {
    using A = std::decay_t<decltype(arr)>;
    A bigger(*ctx_, total);
    copy_device(*ctx_, arr, bigger, static_cast<std::size_t>(n_local_));
    arr = std::move(bigger);
  };
  grow(x);
  grow(y);
  grow(z);
  grow(type);
  ghost_capacity_ = capacity;
}

SystemView System::view() const {
  return SystemView{n_local_,    n_types(),           x.data(),         y.data(), z.data(),
                    type.data(), mass_of_type.data(), box_dev_.data(), n_owned()};
}

Structure System::download() const {
  Structure s;
  s.box = box_;
  s.type_names = type_names_;
  s.type_masses = type_masses_;
  const std::size_t n = static_cast<std::size_t>(n_local_);
  std::vector<HostCopy> batch;  // one transfer for the whole frame (Context::copy_d2h_batch)
  add_host_copy(batch, s.x, x, n);
  add_host_copy(batch, s.y, y, n);
  add_host_copy(batch, s.z, z, n);
  add_host_copy(batch, s.vx, vx, n);
  add_host_copy(batch, s.vy, vy, n);
  add_host_copy(batch, s.vz, vz, n);
  add_host_copy(batch, s.type, type, n);
  add_host_copy(batch, s.id, id, n);
  add_host_copy(batch, s.ix, ix, n);
  add_host_copy(batch, s.iy, iy, n);
  add_host_copy(batch, s.iz, iz, n);
  ctx_->copy_d2h_batch(batch);
  s.has_velocities = true;
  return s;
}

}  // namespace md
