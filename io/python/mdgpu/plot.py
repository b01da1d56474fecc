"""Thermo plots: `python3 -m mdgpu plot THERMO.csv [-o PNG]` (or `mdgpu plot`) writes a PNG
of the energies, temperature, pressure and volume against time from the thermo CSV that
`mdgpu run` and mdgpu.Simulation write ([output] thermo file). matplotlib, headless (Agg)."""
import csv
import os


def read_csv(path):
    """Columns of a thermo CSV as lists of floats (header names as written: Step, Time, Temp,
    PotEng, KinEng, TotEng, Press, Volume, ..., Econserve)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"{path}: empty thermo file")
    head = [h.strip() for h in rows[0]]
    cols = {h: [] for h in head}
    for k, r in enumerate(rows[1:], start=2):
        if not r:
            continue
        if len(r) != len(head):
            raise ValueError(f"{path}:{k}: {len(r)} columns, the header has {len(head)}")
        for h, v in zip(head, r):
            cols[h].append(float(v))
    for need in ("Time", "PotEng"):
        if need not in cols:
            raise ValueError(f"{path}: no {need} column: not an mdgpu thermo CSV")
    return cols


def figure(cols, title=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = cols["Time"]
    fig, ax = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    for name in ("PotEng", "KinEng", "TotEng", "Econserve"):
        if name in cols:
            ax[0][0].plot(t, cols[name], label=name)
    ax[0][0].set_ylabel("energy")
    ax[0][0].legend(fontsize="small")
    for a, name, label in ((ax[0][1], "Temp", "temperature"), (ax[1][0], "Press", "pressure"),
                           (ax[1][1], "Volume", "volume")):
        if name in cols:
            a.plot(t, cols[name], color="C3" if name == "Temp" else "C0")
        a.set_ylabel(label)
    for a in ax[1]:
        a.set_xlabel("time")
    for a in ax.flat:
        a.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot(csv_path, png_path=None, title=None):
    """Writes the PNG (default: THERMO.png next to the CSV) and returns its path."""
    cols = read_csv(csv_path)
    if png_path is None:
        png_path = os.path.splitext(csv_path)[0] + ".png"
    fig = figure(cols, title or os.path.basename(csv_path))
    fig.savefig(png_path, dpi=100)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return png_path
