// SNAP (LAMMPS pair_style snap, ML-SNAP): bispectrum descriptors of each atom's neighbour
// density on the 3-sphere, linear or quadratic energy per atom, explicit multi-element
// (chemflag). Energies eV, lengths Å (metal units). Built by [potential] style = "snap"
// (snap_config.cpp) from LAMMPS .snapcoeff/.snapparam files (snap_io.cpp).
#pragma once

#include <string>
#include <vector>

#include <memory>

#include "engine/potential.hpp"
#include "kernels/many_body.hpp"
#include "models/snap/descriptor_model.hpp"

namespace md {

// Largest twojmax the input reader accepts (a sanity bound on the input; the kernels size
// their team scratch and work arrays from the model's twojmax at run time).
constexpr int kSnapMaxTwoJ = 16;

// Host description of a SNAP model, as read from the LAMMPS files. Element order is the
// order of first appearance in the `elements` list (LAMMPS' pair_coeff), which fixes the
// chemflag component order.
struct SnapModel {
  // .snapparam (LAMMPS defaults)
  double rcutfac = 0;
  int twojmax = -1;
  double rfac0 = 0.99363, rmin0 = 0.0;
  int switchflag = 1, bzeroflag = 1, quadraticflag = 0, chemflag = 0, bnormflag = 0;
  int wselfallflag = 0, switchinnerflag = 0;
  // one per element
  std::vector<std::string> elements;
  std::vector<double> radius, weight, sinner, dinner;
  int ncoeffall = 0;            // coefficients per element in the file
  std::vector<double> coeff;    // [n_elements * ncoeffall]
  std::vector<int> type_element;  // system type -> element index, -1 = not handled by SNAP
  std::string coeff_file, param_file;
};

// Index tables, built on the host once (Clebsch-Gordan, Wigner-U layout, Z/B/Y index lists).
struct SnapZIndex {
  int j1, j2, j;
  int ma1min, ma2max, na, mb1min, mb2max, nb;
  int cg;      // offset of the (j1, j2, j) Clebsch-Gordan block
  int jjuh;    // half-storage index of the Y element this Z feeds
  int jjb;     // bispectrum component that carries beta for this Z
  int perm;    // which element triple indexes that beta: 0 (e1,e2,e3), 1 (e3,e2,e1), 2 (e2,e3,e1)
  double mult;     // multiplicity of this Z in dB/dU: 1, 2 or 3
  double rescale;  // (j1+1)/(j+1) without bnormflag when j1 > j, else 1
};

struct SnapTablesHost {
  int twojmax = 0, idxu_max = 0, idxu_half_max = 0, idxz_max = 0, idxb_max = 0, idxcg_max = 0;
  std::vector<double> rootpq;       // [(twojmax+1)^2], sqrt(p/q)
  std::vector<double> cg;           // [idxcg_max]
  std::vector<int> idxu_block;      // [twojmax+1] offset of layer j in full storage
  std::vector<int> idxu_half_block; // [twojmax+1] offset of layer j in half storage (2 mb <= j)
  std::vector<int> idxb;            // [3 * idxb_max] (j1, j2, j)
  std::vector<int> idxz_block;      // [(twojmax+1)^3] first Z index of (j1, j2, j)
  std::vector<SnapZIndex> idxz;     // [idxz_max]
  std::vector<int> y_offset;        // [idxu_half_max + 1] CSR: Z indices feeding each Y element
  std::vector<int> y_jjz;
  std::vector<double> bzero;        // [twojmax+1]
};
SnapTablesHost snap_build_tables(const SnapModel& m);

// Number of bispectrum components per element triple for twojmax (j2 <= j1 <= j).
int snap_ncomponents(int twojmax);

// Device-side view of the tables and parameters (POD, raw device pointers).
struct SnapView {
  int twojmax, idxu_max, idxu_half_max, idxz_max, idxb_max;
  int nchem;      // density channels: n_elements with chemflag, else 1
  int ncoeff;     // idxb_max * nchem^3
  int ncoeffall;  // per element in coeff
  int chemflag, bnormflag, quadratic, bzeroflag, wselfall, switchflag, switchinner;
  double rcutfac, rfac0, rmin0, wself;
  const double* rootpq;
  const double* cg;
  const int* idxu_block;
  const int* idxu_half_block;
  const int* idxb;
  const int* idxz_block;
  const SnapZIndex* idxz;
  const int* y_offset;
  const int* y_jjz;
  const double* bzero;
  const int* type_element;  // [n_types]
  const double* radius;     // [n_elements]
  const double* weight;
  const double* sinner;
  const double* dinner;
  const double* coeff;      // [n_elements * ncoeffall]
};

// Per-atom work arrays the kernels share (device pointers, sized for n local atoms), laid
// out by atom_minor (descriptor_model.hpp): blocks of `blk` atoms, within a block
// [component][atom] -- atom-minor on CUDA (blk 32), atom-major on the CPU (blk 1); complex
// entries as (re, im) components. Components per atom:
struct SnapWork {
  Index n;           // n_local
  double* utot;      // [nchem][idxu_max][2]
  double* zlist;     // [nchem^2][idxz_max][2], filled on steps that need B
  double* ylist;     // [nchem][idxu_half_max][2]
  double* blist;     // [ncoeff]
  double* beta;      // [ncoeff] (quadratic only)
  int zstored;       // zlist holds this step's Z (the Y pass reads it instead of recomputing)
  int blk;           // atom block of the layout (atom_minor): 32 on CUDA, 1 on the CPU
};

// Wall time per pass, filled only when profiling is switched on (synchronises after each pass).
struct SnapProfile {
  double ui = 0, bi = 0, energy_beta = 0, yi = 0, deidrj = 0, force = 0;
  long calls = 0;
};

class SnapPotential : public Potential {
 public:
  SnapPotential(Context& ctx, SnapModel model);
  std::string style() const override { return "snap"; }
  double cutoff() const override { return cutoff_; }
  void compute(Context& ctx, const SystemView& sys, const NeighborView& nl, const ForceOut& out,
               ForceRequest req) override;
  const SnapModel& model() const { return model_; }
  int ncoeff() const { return ncoeff_; }
  // Per-atom bispectrum of the last compute() (device array, atom-minor with ncoeff()
  // components: atom_minor(i, ncoeff()) + k * kAtomBlock; filled when energies were
  // requested or the model is quadratic).
  const DeviceArray<double>& bispectrum() const { return blist_; }
  void set_profiling(bool on) { profiling_ = on; }
  const SnapProfile& profile() const { return profile_; }
  // Device bytes per local atom of the per-atom and per-pair work arrays at the last
  // compute() (U, Z, Y, B, beta, and the many-body layer's pair partials and reverse map).
  double work_bytes_per_atom() const;
  // Atom block of the work-array layout (atom_minor): by default 32 on CUDA, 1 on the CPU;
  // tests set 32 on the CPU to run the GPU layout.
  void set_atom_block(int blk) { atom_block_ = blk; n_alloc_ = nz_alloc_ = -1; }
  int atom_block() const { return atom_block_; }
  // Device view of the tables and parameters (the pass launchers' input; tests).
  SnapView view() const;

 private:
  void ensure_capacity(Index n_local, bool need_z);

  SnapModel model_;
  SnapTablesHost tables_;
  int nchem_ = 1, ncoeff_ = 0;
  double cutoff_ = 0;
  bool profiling_ = false;
  SnapProfile profile_;
  // tables and parameters on the device
  DeviceArray<double> rootpq_, cg_, bzero_, radius_, weight_, sinner_, dinner_, coeff_;
  DeviceArray<int> idxu_block_, idxu_half_block_, idxb_, idxz_block_, y_offset_, y_jjz_;
  DeviceArray<int> type_element_;
  DeviceArray<SnapZIndex> idxz_;
  // per-atom and per-pair work
  DeviceArray<double> utot_, zlist_, ylist_, blist_, beta_;
  ManyBodyForces forces_;  // dE_i/dr_ij per slot, reverse-slot map, force/virial gather
  std::unique_ptr<DescriptorModel> energy_model_;  // linear/quadratic model over B
  Index n_alloc_ = -1, nz_alloc_ = -1, pairs_ = 0;
  int atom_block_ = 1;
};

// Pass launchers (one heavy kernel per translation unit: snap_ui.cpp, snap_bi.cpp, ...).
void snap_launch_ui(Context& ctx, const SnapView& s, const SystemView& sys,
                    const NeighborView& nl, const SnapWork& w);
void snap_launch_zi(Context& ctx, const SnapView& s, const SystemView& sys, const SnapWork& w);
void snap_launch_bi(Context& ctx, const SnapView& s, const SystemView& sys, const SnapWork& w);
void snap_launch_yi(Context& ctx, const SnapView& s, const SystemView& sys, const SnapWork& w);
void snap_launch_deidrj(Context& ctx, const SnapView& s, const SystemView& sys,
                        const NeighborView& nl, const SnapWork& w, const PairPartialsView& g);

// Host-side reading (snap_io.cpp). Element names map system types to SNAP elements ("NULL"
// leaves a type out, as in LAMMPS' pair_coeff). Errors are md::InputError naming file and line.
SnapModel read_snap_model(const std::string& coeff_path, const std::string& param_path,
                          const std::vector<std::string>& type_elements);

// A LAMMPS `.snap` include file: variables, `pair_style snap` or
// `pair_style hybrid/overlay zbl inner outer snap`, and the pair_coeff lines.
struct SnapIncludeZbl {
  bool present = false;
  double inner = 0, outer = 0;
  struct Pair { int t1, t2; double z1, z2; };  // 1-based LAMMPS types
  std::vector<Pair> pairs;
};
struct SnapInclude {
  std::string coeff_file, param_file;     // as written (relative to the include's folder)
  std::vector<std::string> elements;      // pair_coeff * * [snap] coeff param E1 E2 ...
  SnapIncludeZbl zbl;
};
SnapInclude read_snap_include(const std::string& path);

}  // namespace md
