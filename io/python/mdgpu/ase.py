"""ASE calculator over the mdgpu engine.

    from mdgpu.ase import Calculator
    atoms.calc = Calculator(potential={"style": "eam", "file": "Cu_u3.eam"})
    atoms.get_potential_energy(); atoms.get_forces(); atoms.get_stress()

Properties: energy (= free_energy), forces, stress (ASE convention: -virial / V in eV/A^3,
Voigt order xx yy zz yz xz xy; periodic cells only), energies (per atom), stresses (per
atom, -virial_i / V). The engine (device state, neighbour list) is built on the first call
and kept while the species, atom count and periodicity stay; later calls upload positions
(and the cell when it changed) and the list is rebuilt only when an atom moved more than
half the skin. Metal units (eV, A) as ASE uses them.
"""
import numpy as np
from ase.calculators.calculator import Calculator as _AseCalculator
from ase.calculators.calculator import all_changes

from . import _config, _mdgpu
from ._structure import Geometry, species

__all__ = ["Calculator"]


class Calculator(_AseCalculator):
    implemented_properties = ["energy", "free_energy", "forces", "stress", "energies",
                              "stresses"]
    nolabel = True

    def __init__(self, potential, neighbor=None, backend=None, units="metal", **kwargs):
        """``potential``: the [potential] section (dict or TOML string), e.g.
        ``{"style": "lj", "pairs": [{"types": ["Ar", "Ar"], "epsilon": 0.0104,
        "sigma": 3.4, "cutoff": 8.5}]}``; ``neighbor``: the [neighbor] section (skin);
        ``backend``: "auto", "cpu" or "cuda"."""
        super().__init__(**kwargs)
        self._cfg = _config(units, backend, potential=potential, neighbor=neighbor,
                            run={"steps": 0}, safety={"enabled": False})
        if "potential" not in self._cfg:
            raise _mdgpu.InputError("missing [potential] section")
        self._engine = None
        self._key = None
        self.engine_builds = 0  # how often device state was (re)built (tests, diagnostics)

    def _engine_for(self, atoms):
        key = (tuple(atoms.get_chemical_symbols()), tuple(bool(p) for p in atoms.pbc),
               tuple(atoms.get_masses()))
        geometry = Geometry(atoms)
        if self._engine is None or key != self._key:
            names, masses, types = species(atoms)
            self._engine = None
            self._engine = _mdgpu.Engine(self._cfg, names, masses, types,
                                         geometry.to_engine(atoms.get_positions()),
                                         geometry.box)
            self._key = key
            self.engine_builds += 1
        return self._engine, geometry

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        engine, g = self._engine_for(self.atoms)
        r = engine.compute(g.to_engine(self.atoms.get_positions()), g.box)
        e = float(r["energy"])
        self.results["energy"] = e
        self.results["free_energy"] = e
        self.results["forces"] = g.from_engine(r["forces"])
        self.results["energies"] = np.array(r["energies"])
        self.results["virial_engine"] = np.array(r["virial"])  # xx yy zz xy xz yz, engine frame
        if all(self.atoms.pbc):
            volume = r["volume"]
            s = -g.tensor_from_engine(r["virial"]) / volume
            self.results["stress"] = np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2],
                                               s[0, 1]])
            per = np.empty((len(self.atoms), 6))
            for i, w in enumerate(r["virials"]):
                m = -g.tensor_from_engine(w) / volume
                per[i] = [m[0, 0], m[1, 1], m[2, 2], m[1, 2], m[0, 2], m[0, 1]]
            self.results["stresses"] = per

    def counters(self):
        """Device counters (transfers, syncs, launches) of the current engine."""
        return None if self._engine is None else self._engine.counters()
