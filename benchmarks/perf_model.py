#!/usr/bin/env python3
"""Performance model of mdgpu's CUDA executor on an H200: PREDICTIONS, not measurements.

  python3 benchmarks/perf_model.py            # Markdown tables (benchmarks/PERF_MODEL.md)
  python3 benchmarks/perf_model.py --json     # the same numbers as JSON

For LJ, EAM, SNAP (2J = 8) and DeePMD (se_e2_a), per kernel of a steady-state step (NVE, no
thermo output, no neighbour rebuild except the amortised term): floating-point operations
and device-memory bytes per atom-step, counted from the code (kernels/, models/,
engine/neighbor*, integrators/nve.cpp; see PERF_MODEL.md for each count's source). Then the
floor time per step on an H200 = sum over kernels of max(flops / FP64 rate, bytes / copy
bandwidth) + launch overhead x launches per step, and the predicted atom-steps/s of each
benchmark case (an upper bound on what the code as written can reach).

Conventions: add, mul = 1 flop, FMA = 2; divide, sqrt = 1 (nominal; they cost several
instructions on the GPU, so the compute floor is optimistic); tan/sin/cos/exp/tanh/softplus =
20 flops. Bytes = compulsory device-memory traffic: each per-atom array read or written once
per kernel; the gathers of neighbour positions (and of per-atom values of neighbours) are
assumed to hit L1/L2 (atoms are stored in lattice order, which is spatially local; mdgpu does
not re-sort atoms, so a long liquid run loses this locality: then neighbour gathers cost up to
3 x 32 B sectors per neighbour, shown as the "gather-miss" column).
"""

import argparse
import json
import math

# H200 ceilings (issue 11; copy bandwidth measured on this workplace's H200, KINDS.md)
FP64 = 34e12        # FLOP/s (FMA counted 2)
FP32 = 67e12
BW = 4.3e12         # B/s, device-to-device copy, bytes read + written
LAUNCH = 3.0e-6     # s per kernel launch back to back on one stream (assumption; measure)
GATED_PER_THREAD = 2e-13  # s per thread of a gated no-op kernel (block scheduling; assumption)
SPECIAL = 20        # flops charged for tan/sin/cos/exp/tanh/softplus/pow
GATED = 17          # kernels gated on the neighbour-rebuild flag (engine/neighbor.cpp)

# ------------------------------------------------------------------ common per-step parts


def sphere(r, rho):
    return 4.0 / 3.0 * math.pi * r ** 3 * rho


def ghost_ratio(atoms, rho, r_list):
    """Ghost atoms per local atom: a shell of width r_list around a cubic box."""
    L = (atoms / rho) ** (1.0 / 3.0)
    return ((L + 2 * r_list) ** 3 - L ** 3) / L ** 3


def common_kernels(c):
    """NVE (integrators/nve.cpp), neighbour check and ghost refresh (engine/neighbor.cpp),
    safety displacement tracker (engine/safety.cpp), amortised rebuild."""
    g = ghost_ratio(c["atoms"], c["rho"], c["r_list"])
    nl = c["n_list"]
    k = []
    # step_one: v += f dt/2m, x += v dt: reads x,v,f (72 B) + type (4), writes x,v (48 B)
    k.append(("NVE step_one", 15, 124, 1))
    # step_two: v += f dt/2m: reads v,f (48) + type (4), writes v (24)
    k.append(("NVE step_two", 6, 76, 1))
    # Displacement2 max-reduce: reads x,y,z,x0,y0,z0 (48 B); CUB TransformReduce
    k.append(("neighbour check (Displacement2 reduce)", 9, 48, 1))
    # RefreshGhosts: per ghost owner index + image (8 B), owner x,y,z (24), write x,y,z (24)
    k.append(("RefreshGhosts (per ghost)", 3 * g, 56 * g, 1))
    # Rebuild amortised over `rebuild_every` steps: cell binning (read x,y,z, write cell:
    # 28 B + counting sort ~24 B), BuildVerlet: 27 cells x rho r_list^3 candidates
    # (= 6.45 n_list) x 9 flops, writes the list (4 B x n_list + 4 B count).
    cand = 27.0 / (4.0 / 3.0 * math.pi) * nl
    rb = c["rebuild_every"]
    k.append(("rebuild, amortised (1 in {})".format(rb), (cand * 9 + 20) / rb,
              (52 + 4 * nl + 4 + 48) * (1 + g) / rb, 0))
    # 1-thread kernels DecideRebuild, ComputeGrid (engine/neighbor.cpp) and TrackDisplacement
    # (engine/safety.cpp), and 17 kernels gated on the rebuild flag, no-ops on steady steps:
    # WrapAtoms, CountGhosts, WriteGhosts, CommitGhostCount, 2 GatedFill, BinAtoms,
    # PlaceAtoms, SortCells, BuildVerlet, FinishBuild and 2 gated scans of 3 launches.
    k.append(("1-thread and gated kernels (no work on steady steps)", 0, 0, GATED + 3))
    return k


# ------------------------------------------------------------------ models


def lj_kernels(c):
    nl, nc = c["n_list"], c["n_cut"]
    # PairForceKernel<LJEval> (kernels/pair_driver.hpp, models/lj/lj.hpp): per atom x,y,z,
    # type, num_neigh (32 B), indices (4 B x n_list), f write (24 B). Per list neighbour:
    # dx,dy,dz, r2 (8 flops) + cutoff test; inside: r2inv (1), r6inv (2), forcelj (3),
    # fpair (1), sums.add (3 FMA = 6): 13.
    return [("PairForceKernel<LJ>", nl * 9 + nc * 13 + 6, 32 + 4 * nl + 24, 1)]


def eam_kernels(c):
    nl, nc = c["n_list"], c["n_cut"]
    # EAMEmbedKernel (models/eam/eam.cpp): per list neighbour 9 flops; inside: sqrt, knot
    # index (5), rho spline value (6), sum (1) = 13; per atom F'(rho) and F spline (14).
    # Reads x,y,z,type,num_neigh (32 B), indices (4 B x n_list); writes fp (8 B).
    emb = ("EAMEmbedKernel", nl * 9 + nc * 13 + 14, 32 + 4 * nl + 8, 1)
    # EAMForceKernel: per list neighbour 9; inside: sqrt, knot (5), two rho' splines (8),
    # z2' and z2 splines (4 + 6), 1/r, phi, phi' (5), psip (4), sums.add (7) = 40.
    # Reads as above + fp (8 B), writes f (24 B); fp of neighbours gathered (cache).
    frc = ("EAMForceKernel", nl * 9 + nc * 40 + 6, 32 + 4 * nl + 8 + 24, 1)
    return [emb, frc]


def snap_counts(twojmax):
    """Flops of the SNAP index loops for one element, counted loop by loop as written in
    models/snap/snap_kernels.hpp (u_layer, du_layer, z_element, YiKernel, DeidrjKernel)."""
    # u_layer, per left-half element (mb <= j/2, ma < j): two complex recursions
    # cr += rq (a_r pr + a_i pi) etc.: 4 x (1 mul + 1 FMA) + 2 x (1 mul + 1 add) + negations
    u_per = 18
    # du_layer per element and component k: dcr, dci each 4 products summed (7) x rq (1)
    # + accumulate (1) = 9 -> 18; the b terms 2 x 8 = 16: 34 per k, 102 per element
    du_per = 102
    u = du = acc = contr = 0
    idxu = 0
    idxu_half = 0
    for j in range(1, twojmax + 1):
        left = (j // 2 + 1) * j
        u += left * u_per
        du += left * du_per
        acc += (j + 1) ** 2 * 4          # UiKernel: dst += sfac * u (2 FMA per element)
        full = ((j + 1) // 2) * (j + 1) + ((j // 2 + 1) if j % 2 == 0 else 0)
        contr += full * 3 * 14           # DeidrjKernel contraction, per element and c
    for j in range(0, twojmax + 1):
        idxu += (j + 1) ** 2
        idxu_half += (j // 2 + 1) * (j + 1)
    # Z/Y: LAMMPS' idxz list (j1 >= j2, j = |j1-j2|..min(twojmax, j1+j2) step 2, mb <= j/2,
    # ma 0..j) with the na x nb Clebsch-Gordan double sum of z_element: per inner term a
    # complex product (4 mul, 2 add) x cg (2 mul) + 2 adds = 10; per ib 4; per entry ~8 for
    # the beta weighting in YiKernel.
    zflops = 0
    nz = 0
    for j1 in range(twojmax + 1):
        for j2 in range(j1 + 1):
            for j in range(j1 - j2, min(twojmax, j1 + j2) + 1, 2):
                for mb in range(j // 2 + 1):
                    for ma in range(j + 1):
                        ma1min = max(0, (2 * ma - j - j2 + j1) // 2)
                        na = min(j1, (2 * ma - j + j2 + j1) // 2) - ma1min + 1
                        mb1min = max(0, (2 * mb - j - j2 + j1) // 2)
                        nb = min(j1, (2 * mb - j + j2 + j1) // 2) - mb1min + 1
                        zflops += nb * (na * 10 + 4) + 8
                        nz += 1
    return {"u": u, "du": du, "acc": acc, "contr": contr, "z": zflops, "nz": nz,
            "idxu": idxu, "idxu_half": idxu_half}


def snap_kernels(c):
    nl, nc = c["n_list"], c["n_cut"]
    s = snap_counts(8)
    # UiKernel: per atom initialise utot (write idxu x 16 B); per neighbour in the cutoff:
    # r, theta0, tan, r0inv, a/b (~12 + 2 SPECIAL), switching (~SPECIAL), U recursion and
    # accumulation. utot accumulation is read-modify-write per neighbour (L2, not counted).
    ui = ("UiKernel", nl * 9 + nc * (12 + 3 * SPECIAL + s["u"] + s["acc"]),
          32 + 4 * nl + 16 * s["idxu"], 1)
    # YiKernel: one thread per (atom, half-U element): all Z entries; reads utot once
    # (16 B x idxu), writes ylist (16 B x idxu_half).
    yi = ("YiKernel", s["z"], 16 * s["idxu"] + 16 * s["idxu_half"], 1)
    # DeidrjKernel: one thread per list slot: 9 flops + inside the cutoff: cos, sin, pow,
    # sqrt, switching (4 SPECIAL + ~60), U and dU recursions, contraction with Y; writes
    # dE/dr (24 B per slot), reads its index (4 B) and ylist (cache).
    de = ("DeidrjKernel", nl * 9 + nc * (60 + 4 * SPECIAL + s["u"] + s["du"] + s["contr"]),
          4 * nl + 24 * nl + 16 * s["idxu_half"], 1)
    # ForceKernel: own slots' dE/dr (24 B x n_list) and the mirror slots' (24 B x n_list,
    # found through the owner's list: + 4 B index), sums (~12 flops per slot), writes f.
    fo = ("ForceKernel", nl * 12, 32 + 4 * nl + 48 * nl + 4 * nl + 24, 1)
    return [ui, yi, de, fo], s


def mlp_flops(widths, act_flops):
    """Forward flops of a dense net with these layer widths (input first)."""
    f = 0
    for a, b in zip(widths[:-1], widths[1:]):
        f += 2 * a * b + b + b * act_flops
    return f


def deepmd_kernels(c):
    m = c["dpmodel"]
    nl, nc, nnei = c["n_list"], c["n_cut"], sum(m["sel"])
    emb = [1] + m["embedding"]
    m1, m2 = m["embedding"][-1], m["axis"]
    fit = [m1 * m2] + m["fitting"] + [1]
    e_fwd = mlp_flops(emb, SPECIAL)
    f_fwd = mlp_flops(fit, SPECIAL)
    # DescriptorKernel<double> (models/deepmd/deepmd_kernel.hpp): per list neighbour
    # distance (9) + selection/sort (~10); environment row (~15 per slot); forward embedding
    # for every slot (padded too: nnei); gr += G (x) R (8 m1 per slot); D (2 m1 m2 4);
    # fitting forward and backward (~3x forward); dE/dgr (4 m1 m2 4); per real neighbour the
    # embedding re-evaluated and back-propagated (~3x forward) and dR (16 m1 + ~40).
    fl = (nl * 19 + nnei * (15 + e_fwd + 8 * m1) + 8 * m1 * m2 + 3 * f_fwd + 16 * m1 * m2
          + nc * (3 * e_fwd + 16 * m1 + 40))
    # Bytes: x,y,z,type,num_neigh (32), indices (4 n_list), partial forces g (24 B per slot)
    # written; the per-atom workspace (ws_d, ws_t: slot lists and net activations) is
    # assumed to stay in L1/L2.
    desc = ("DescriptorKernel<double>", fl, 32 + 4 * nl + 24 * nnei, 1)
    # GatherKernel: own slots (24 B x nnei) + mirror slots through the Verlet list
    # (24 B x n_cut + indices 4 B x n_list), ~10 flops per slot, writes f.
    gath = ("GatherKernel", 10 * (nnei + nc), 32 + 24 * nnei + 24 * nc + 4 * nl + 24, 1)
    return [desc, gath]


# ------------------------------------------------------------------ benchmark cases

FCC_LJ = 0.8442                     # atoms / sigma^3
CU = 4 / 3.615 ** 3                 # fcc Cu, atoms / A^3
W = 2 / 3.1803 ** 3                 # bcc W
WATER = 8 / 4.31 ** 3               # diamond O/H at liquid-water atom density

DP_WATER = {"name": "water_softplus.dp", "sel": [14, 28], "embedding": [6, 12], "axis": 2,
            "fitting": [12, 12], "rcut": 3.8}
# Production size (DeePMD-kit's water example: se_e2_a sel [46, 92], rcut 6, embedding
# [25, 50, 100], axis 16, fitting [240, 240, 240]): not a benchmark case (no such model in
# the repository); predicted only, to set beside the published DeePMD-kit anchor.
DP_WATER_PROD = {"name": "water se_e2_a production size", "sel": [46, 92],
                 "embedding": [25, 50, 100], "axis": 16, "fitting": [240, 240, 240], "rcut": 6.0}
DP_CU = {"name": "cu_tanh.dp", "sel": [28], "embedding": [8, 16, 32], "axis": 4,
         "fitting": [32, 32, 32], "rcut": 4.0}


def case(name, model, atoms, rho, rc, skin, rebuild_every, anchor=None, **kw):
    c = {"case": name, "model": model, "atoms": atoms, "rho": rho, "rc": rc, "skin": skin,
         "r_list": rc + skin, "n_cut": sphere(rc, rho), "n_list": sphere(rc + skin, rho),
         "rebuild_every": rebuild_every, "anchor": anchor}
    c.update(kw)
    return c


ANCHORS = {
    "lj": ("HOOMD-blue LJ, A100", 2.8e8),
    "eam": ("GPUMD EAM, A100", 3.6e7),
    "snap": ("LAMMPS KOKKOS SNAP 2J = 8, A100", 2.86e6),
    "deepmd": ("DeePMD-kit DP, A100", 1.3e5),
}

CASES = []
for n, name in ((32000, "lj-32k"), (256000, "lj-256k"), (2048000, "lj-2m"), (4000000, "lj-4m")):
    CASES.append(case(name, "lj", n, FCC_LJ, 2.5, 0.3, 8))  # 24 rebuilds in 200 steps, counted
for n, name in ((32000, "eam-cu-32k"), (256000, "eam-cu-256k"), (2048000, "eam-cu-2m"),
                (4000000, "eam-cu-4m")):
    CASES.append(case(name, "eam", n, CU, 4.95, 1.0, 20))
for n, name in ((2000, "snap-w2940-2k"), (54000, "snap-w2940-54k"),
                (250000, "snap-w2940-250k")):
    # bcc shells at 300 K: 26 neighbours within rcut 4.73 A, 58 within 5.73 A
    CASES.append(case(name, "snap", n, W, 4.734, 1.0, 50, n_cut=26, n_list=58))
for n, name in ((64000, "deepmd-water-64k"), (512000, "deepmd-water-512k")):
    CASES.append(case(name, "deepmd", n, WATER, 3.8, 1.0, 50, dpmodel=DP_WATER))
for n, name in ((62500, "deepmd-cu-62k"), (500000, "deepmd-cu-500k")):
    CASES.append(case(name, "deepmd", n, CU, 4.0, 1.0, 50, dpmodel=DP_CU))
CASES.append(case("(dp-water-production-size-64k)", "deepmd", 64000, WATER, 6.0, 1.0, 50,
                  dpmodel=DP_WATER_PROD))


def kernels_of(c):
    if c["model"] == "lj":
        k = lj_kernels(c)
    elif c["model"] == "eam":
        k = eam_kernels(c)
    elif c["model"] == "snap":
        k, _ = snap_kernels(c)
    else:
        k = deepmd_kernels(c)
    return k + common_kernels(c)


def predict(c):
    ks = kernels_of(c)
    n = c["atoms"]
    rows, t_compute, t_mem, t_floor, launches = [], 0.0, 0.0, 0.0, 0
    gather_miss = 3 * 32 * c["n_list"] * (2 if c["model"] == "eam" else 1)
    for name, fl, by, nlaunch in ks:
        tc, tm = n * fl / FP64, n * by / BW
        rows.append({"kernel": name, "flops": fl, "bytes": by, "launches": nlaunch,
                     "t_compute": tc, "t_mem": tm})
        t_compute += tc
        t_mem += tm
        t_floor += max(tc, tm)
        launches += nlaunch
    # gated kernels over n (or n + ghosts, or cells) threads each: block scheduling
    t_gated = GATED * n * GATED_PER_THREAD
    t_launch = launches * LAUNCH
    t_step = t_floor + t_launch + t_gated
    total_f = sum(r["flops"] for r in rows)
    total_b = sum(r["bytes"] for r in rows)
    t_miss = t_floor + t_launch + t_gated + n * gather_miss / BW
    return {"case": c["case"], "model": c["model"], "atoms": n, "n_list": c["n_list"],
            "n_cut": c["n_cut"], "flops_per_atom_step": total_f, "bytes_per_atom_step": total_b,
            "t_compute": t_compute, "t_mem": t_mem, "t_floor_kernels": t_floor,
            "t_launch": t_launch + t_gated, "launches": launches, "t_step": t_step,
            "atom_steps_per_s": n / t_step, "atom_steps_per_s_gather_miss": n / t_miss,
            "bound": "compute" if t_compute > t_mem else "memory",
            "kernels": rows}


def fmt(x):
    return "{:.3g}".format(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    preds = [predict(c) for c in CASES]
    if args.json:
        print(json.dumps(preds, indent=1))
        return 0
    s = snap_counts(8)
    print("SNAP 2J = 8 index counts: idxu_max {}, idxu_half {}, idxz entries {}; flops per "
          "pair: U {} (+{} accumulate), dU {}, contraction {}; Z/Y per atom {}".format(
              s["idxu"], s["idxu_half"], s["nz"], s["u"], s["acc"], s["du"], s["contr"],
              s["z"]))
    print()
    print("| case | atoms | list / cutoff neighbours | FLOP/atom-step | B/atom-step | bound "
          "| kernel floor per step | launches x {:.0f} us + gated | predicted atom-steps/s "
          "| with gather misses | published anchor (A100) |".format(LAUNCH * 1e6))
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|")
    for p, c in zip(preds, CASES):
        a = ANCHORS[p["model"]]
        print("| {} | {} | {:.0f} / {:.0f} | {} | {} | {} | {} s | {} x {:.0f} us + {} s | **{}** "
              "| {} | {} {} |".format(
                  p["case"], p["atoms"], p["n_list"], p["n_cut"], fmt(p["flops_per_atom_step"]),
                  fmt(p["bytes_per_atom_step"]), p["bound"], fmt(p["t_floor_kernels"]),
                  p["launches"], LAUNCH * 1e6, fmt(p["t_launch"] - p["launches"] * LAUNCH),
                  fmt(p["atom_steps_per_s"]), fmt(p["atom_steps_per_s_gather_miss"]), a[0],
                  fmt(a[1])))
    print()
    seen = set()
    for p in preds:
        key = p["model"] + (p["case"].split("-")[1] if p["model"] == "deepmd" else "")
        if key in seen:
            continue
        seen.add(key)
        print("Per kernel, {} (per atom-step; time at {} atoms):".format(p["case"], p["atoms"]))
        print()
        print("| kernel | launches | FLOP | bytes | compute time | memory time |")
        print("|---|---:|---:|---:|---:|---:|")
        for r in p["kernels"]:
            print("| {} | {} | {} | {} | {} s | {} s |".format(
                r["kernel"], r["launches"], fmt(r["flops"]), fmt(r["bytes"]),
                fmt(r["t_compute"]), fmt(r["t_mem"])))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
