#!/usr/bin/env python3
"""Draw loop.sh learning curves as one SVG.

    scripts/curve_svg.py OUT.svg NAME=CURVE.jsonl [NAME=CURVE.jsonl ...]

Each CURVE.jsonl is what `CURVE=... scripts/loop.sh DATASET` wrote: one
JSON object a batch with prompts, cost_share and quality/static_quality.
The SVG has two panels a dataset: held-out cost as a share of the static
table's, and held-out quality minus the static table's, against prompts
replayed; promotions are marked.
"""
import json
import sys

W, H, PAD = 360, 170, 44


def panel(x0, y0, title, pts, ymin, ymax, fmt, ref=None, color="#1f6feb"):
    out = [f'<g transform="translate({x0},{y0})">',
           f'<text x="{W/2}" y="14" text-anchor="middle" font-size="12">{title}</text>']
    pw, ph = W - PAD - 10, H - PAD - 10
    xmax = max(p[0] for p in pts) if pts else 1

    def X(v):
        return PAD + pw * v / xmax

    def Y(v):
        return 24 + ph * (1 - (v - ymin) / (ymax - ymin))
    out.append(f'<rect x="{PAD}" y="24" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
    for i in range(5):
        v = ymin + (ymax - ymin) * i / 4
        out.append(f'<text x="{PAD-4}" y="{Y(v)+4:.1f}" text-anchor="end" font-size="10">{fmt(v)}</text>')
        out.append(f'<line x1="{PAD}" x2="{PAD+pw}" y1="{Y(v):.1f}" y2="{Y(v):.1f}" stroke="#eee"/>')
    for i in range(5):
        v = xmax * i / 4
        out.append(f'<text x="{X(v):.1f}" y="{24+ph+14}" text-anchor="middle" font-size="10">{int(v)}</text>')
    out.append(f'<text x="{PAD+pw/2}" y="{24+ph+28}" text-anchor="middle" font-size="10">prompts replayed</text>')
    if ref is not None:
        out.append(f'<line x1="{PAD}" x2="{PAD+pw}" y1="{Y(ref):.1f}" y2="{Y(ref):.1f}" stroke="#d73a49" stroke-dasharray="4 3"/>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{X(p[0]):.1f},{Y(p[1]):.1f}" for i, p in enumerate(pts))
    out.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
    for p in pts:
        fill = color if p[2] == "promoted" else "white"
        out.append(f'<circle cx="{X(p[0]):.1f}" cy="{Y(p[1]):.1f}" r="3.5" fill="{fill}" stroke="{color}"/>')
    out.append("</g>")
    return out


def main():
    out_path, specs = sys.argv[1], sys.argv[2:]
    rows = []
    for spec in specs:
        name, path = spec.split("=", 1)
        with open(path) as f:
            rows.append((name, [json.loads(l) for l in f if l.strip()]))
    width, height = 2 * W + 20, len(rows) * (H + 10) + 30
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">',
           f'<text x="10" y="16" font-size="11">Held-out split, active version against the static table (dashed: the target; filled: a promotion)</text>']
    for i, (name, pts) in enumerate(rows):
        y = 24 + i * (H + 10)
        cost = [(0, 1.0, "")] + [(p["prompts"], p["cost_share"], p["status"]) for p in pts]
        dq = [(0, 0.0, "")] + [(p["prompts"], p["quality"] - p["static_quality"], p["status"]) for p in pts]
        lo = min(-0.03, min(q for _, q, _ in dq) - 0.005)
        hi = max(0.02, max(q for _, q, _ in dq) + 0.005)
        svg += panel(0, y, f"{name}: cost share of static", cost, 0, 1.2, lambda v: f"{100*v:.0f}%", ref=0.6)
        svg += panel(W + 20, y, f"{name}: quality minus static", dq, lo, hi, lambda v: f"{v:+.3f}", ref=-0.01, color="#2da44e")
    svg.append("</svg>")
    with open(out_path, "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
